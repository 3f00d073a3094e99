// The floor of bench/dns_qps.sh: a UDP server on 127.0.0.1 that does no DNS work at all. It
// returns each datagram with the QR bit set, batched with recvmmsg/sendmmsg exactly as
// `berth dns` batches, so dnsperf counts the echoes as answers. Its queries/s and CPU per query
// are what the machine's UDP path alone costs.
//
//   build/bench/udp_echo PORT
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: udp_echo PORT\n");
    return 2;
  }
  constexpr int kBatch = 64;
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("bind");
    return 1;
  }
  static char buf[kBatch][4096];
  sockaddr_in from[kBatch];
  iovec iov[kBatch];
  mmsghdr msgs[kBatch];
  while (true) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {buf[i], sizeof buf[i]};
      std::memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = ::recvmmsg(fd, msgs, kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (msgs[i].msg_len > 2) buf[i][2] = static_cast<char>(buf[i][2] | 0x80);
      iov[i].iov_len = msgs[i].msg_len;
    }
    ::sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
  }
}
