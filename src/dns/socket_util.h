#pragma once
// Small POSIX socket helpers shared by the DNS server and forwarder: binding, and
// deadline-bounded TCP I/O of the two-octet length framing DNS uses over TCP
// (RFC 1035 §4.2.2). Addresses and descriptors are src/sys's.
//
// Thread-safety: plain values and free functions.
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <string>

#include "sys/socket_address.h"

namespace berth::dns {

using sys::SocketAddress;
using sys::UniqueFd;

// A bound socket: UDP (SOCK_DGRAM) or a listening TCP one. reusePort lets several sockets share
// the address (one per UDP worker); freeBind allows an address not (yet) on any interface, as
// the pod bridge's gateway before the first pod.
std::optional<UniqueFd> bindSocket(const SocketAddress& a, int sockType, bool reusePort,
                                   bool freeBind, std::string* error);

bool connectWithin(int fd, const SocketAddress& to, std::chrono::milliseconds timeout);
bool writeAll(int fd, std::string_view data, std::chrono::steady_clock::time_point deadline);
bool readExact(int fd, char* out, size_t n, std::chrono::steady_clock::time_point deadline);
// One length-prefixed DNS message; nullopt on EOF, error or deadline.
std::optional<std::string> readFramed(int fd, std::chrono::steady_clock::time_point deadline);

}  // namespace berth::dns
