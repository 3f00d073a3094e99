#pragma once
// The shim's command line, shared by the launcher (launchShim) and both ways to run a shim: the
// small `berth-shim` executable beside `berth` (what the agent starts, see shimCommand) and the
// `berth shim` subcommand (kept for installs without `berth-shim`). The shim parses its own
// arguments without CLI11 so its executable stays small and starts fast.
//
// Thread-safety: pure functions, except shimCommand (reads the file system).
#include <string>
#include <vector>

#include "core/result.h"
#include "kubelet/runtime/shim.h"

namespace berth::kubelet::runtime {

// The shim's arguments for `options` (after the program name).
std::vector<std::string> shimArguments(const ShimOptions& options);
// Parses what shimArguments writes ("--flag value" or "--flag=value"); BadRequest for an unknown
// flag, a missing value or a missing required flag (--id, --root, --bundle, --log).
core::Result<ShimOptions> parseShimArguments(const std::vector<std::string>& args);
// The shim's entry point for both frontends (`program` names it in messages): --help prints the
// usage; bad arguments exit 2; else runShim.
int shimMain(const std::vector<std::string>& args, const char* program);

// The command that starts a shim for the `berth` binary at `berthBinary`: `berth-shim` in the
// same directory when it is there and executable, else `berthBinary shim`.
std::vector<std::string> shimCommand(const std::string& berthBinary);

}  // namespace berth::kubelet::runtime
