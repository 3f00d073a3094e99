#include "kubelet/runtime/shim_args.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <string_view>

namespace berth::kubelet::runtime {

namespace {

bool parseInt(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::vector<std::string> shimArguments(const ShimOptions& o) {
  std::vector<std::string> args = {"--id",
                                   o.id,
                                   "--root",
                                   o.runcRoot,
                                   "--runc",
                                   o.runcBinary,
                                   "--bundle",
                                   o.bundle,
                                   "--log",
                                   o.logPath,
                                   "--cgroup",
                                   o.cgroup,
                                   "--log-max-size",
                                   std::to_string(o.logMaxSize),
                                   "--log-max-files",
                                   std::to_string(o.logMaxFiles)};
  if (o.stdinOpen) args.push_back("--stdin");
  if (o.stdinOnce) args.push_back("--stdin-once");
  if (o.tty) args.push_back("--tty");
  return args;
}

core::Result<ShimOptions> parseShimArguments(const std::vector<std::string>& args) {
  ShimOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view name = arg, value;
    bool inlineValue = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inlineValue = true;
    }
    bool* flag = name == "--stdin"        ? &o.stdinOpen
                 : name == "--stdin-once" ? &o.stdinOnce
                 : name == "--tty"        ? &o.tty
                                          : nullptr;
    if (flag) {
      if (inlineValue && value != "true" && value != "false")
        return core::Status::badRequest("flag " + std::string(name) + " takes no value");
      *flag = !inlineValue || value == "true";
      continue;
    }
    std::string* text = name == "--id"       ? &o.id
                        : name == "--root"   ? &o.runcRoot
                        : name == "--runc"   ? &o.runcBinary
                        : name == "--bundle" ? &o.bundle
                        : name == "--log"    ? &o.logPath
                        : name == "--cgroup" ? &o.cgroup
                                             : nullptr;
    bool number = name == "--log-max-size" || name == "--log-max-files";
    if (!text && !number) return core::Status::badRequest("unknown flag " + std::string(arg));
    if (!inlineValue) {
      if (i + 1 == args.size())
        return core::Status::badRequest("flag " + std::string(name) + " needs a value");
      value = args[++i];
    }
    if (text) {
      *text = std::string(value);
      continue;
    }
    int64_t n = 0;
    if (!parseInt(value, n) || n < 0 || (name == "--log-max-files" && n > 1000))
      return core::Status::badRequest("invalid " + std::string(name) + " \"" + std::string(value) +
                                      "\"");
    if (name == "--log-max-size")
      o.logMaxSize = n;
    else
      o.logMaxFiles = static_cast<int>(n);
  }
  for (auto [flag, v] : {std::pair{"--id", &o.id},
                         {"--root", &o.runcRoot},
                         {"--bundle", &o.bundle},
                         {"--log", &o.logPath}})
    if (v->empty()) return core::Status::badRequest(std::string("flag ") + flag + " is required");
  if (o.runcBinary.empty()) return core::Status::badRequest("flag --runc is empty");
  return o;
}

namespace {

constexpr const char* kUsage =
    " --id ID --root DIR --bundle DIR --log FILE [--runc BINARY]\n"
    "   [--cgroup PATH] [--log-max-size BYTES] [--log-max-files N] [--stdin] [--stdin-once] "
    "[--tty]\n"
    "Started by the berth node agent: runs one container with the OCI runtime (--runc), holds\n"
    "its stdio, writes its CRI log and records how it ended (kubelet/runtime/shim.h).\n";

}  // namespace

int shimMain(const std::vector<std::string>& args, const char* program) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::printf("usage: %s%s", program, kUsage);
    return 0;
  }
  auto options = parseShimArguments(args);
  if (!options.ok()) {
    std::fprintf(stderr, "%s: %s\nusage: %s%s", program, options.status().message().c_str(),
                 program, kUsage);
    return 2;
  }
  return runShim(*options);
}

std::vector<std::string> shimCommand(const std::string& berthBinary) {
  auto slash = berthBinary.rfind('/');
  if (slash != std::string::npos) {
    std::string shim = berthBinary.substr(0, slash + 1) + "berth-shim";
    if (::access(shim.c_str(), X_OK) == 0) return {shim};
  }
  return {berthBinary, "shim"};
}

}  // namespace berth::kubelet::runtime
