#pragma once
// The two StdioTargets: a command run with `runc exec` in a running container (pipes, or a
// pseudo-terminal of ours that runc relays to the container's terminal), and attaching to the
// container's own stdio through its attach socket (framing in container_locator.h).
//
// Thread-safety: each target is used by the one session thread that made it.
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "kubelet/streaming/container_locator.h"
#include "kubelet/streaming/stdio_session.h"

namespace berth::kubelet::streaming {

// Starts `command` in the container with `runc exec`. `scratchDir` holds the
// pid file for the time of the command.
core::Result<std::unique_ptr<StdioTarget>> startRuncExec(const ContainerInfo& container,
                                                         const std::vector<std::string>& command,
                                                         const StdioOptions& options,
                                                         const std::string& runcBinary,
                                                         const std::string& scratchDir);

core::Result<std::unique_ptr<StdioTarget>> connectAttach(const ContainerInfo& container,
                                                         const StdioOptions& options);

// Attach socket frames: [stream id][4-byte big-endian length][payload].
std::string attachFrame(uint8_t stream, std::string_view payload);

}  // namespace berth::kubelet::streaming
