#include "kubelet/lifecycle_hooks.h"

#include <boost/json.hpp>

#include <algorithm>
#include <thread>

#include "kubelet/container_config.h"
#include "kubelet/probes.h"

namespace json = boost::json;

namespace berth::kubelet {

namespace {

// The exec command's words joined by spaces (Go prints a []string with %v as "[a b c]").
std::string joined(const json::object& exec) {
  std::string out;
  if (const auto* c = arr(exec, "command"))
    for (const auto& s : *c)
      if (s.is_string()) {
        if (!out.empty()) out += ' ';
        out += std::string(s.as_string());
      }
  return out;
}

// Go's %q of a plain string (enough for command output: quotes, backslashes, newlines).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\')
      out += '\\', out += ch;
    else if (ch == '\n')
      out += "\\n";
    else if (ch == '\t')
      out += "\\t";
    else
      out += ch;
  }
  return out + "\"";
}

}  // namespace

const json::object* lifecycleHandler(const json::object& spec, const char* which) {
  const auto* lifecycle = obj(spec, "lifecycle");
  return lifecycle ? obj(*lifecycle, which) : nullptr;
}

const json::object* containerSpecOf(const json::object& pod, const std::string& name) {
  const auto* spec = obj(pod, "spec");
  if (!spec) return nullptr;
  for (const char* list : {"containers", "initContainers"})
    if (const auto* cs = arr(*spec, list))
      for (const auto& c : *cs)
        if (c.is_object() && str(c.as_object(), "name") == name) return &c.as_object();
  return nullptr;
}

HookResult runLifecycleHook(const json::object& handler, const json::object& spec,
                            const HookTarget& t, std::chrono::milliseconds timeout) {
  std::string where = " for Container \"" + t.containerName + "\" in Pod \"" + t.podDescription +
                      "\" failed - error: ";
  if (const auto* s = obj(handler, "sleep")) {
    // Upstream's sleep action ends early when the grace period runs out; so does this one.
    auto want = std::chrono::seconds(intField(*s, "seconds", 0));
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(want, timeout));
    return {};
  }
  // The prober takes its bound in whole seconds; round up so a short remainder still runs.
  json::object probe = resolveNamedPorts(handler, spec);
  probe["timeoutSeconds"] = std::max<long long>(1, (timeout.count() + 999) / 1000);
  if (const auto* e = obj(handler, "exec")) {
    auto r = runProbe(probe, *t.runc, t.containerId, t.podIP);
    if (r.success) return {};
    std::string error = r.exitCode >= 0 ? "command '" + joined(*e) + "' exited with " +
                                              std::to_string(r.exitCode) + ": "
                                        : r.message;
    return {false, "Exec lifecycle hook ([" + joined(*e) + "])" + where + error +
                       ", message: " + quoted(r.output)};
  }
  if (const auto* h = obj(handler, "httpGet")) {
    if (!str(*h, "scheme").empty() && str(*h, "scheme") != "HTTP")
      return {false, "HTTP lifecycle hook (" + str(*h, "path") + ")" + where + "scheme " +
                         str(*h, "scheme") + " is not supported by this node"};
    auto r = runProbe(probe, *t.runc, t.containerId, t.podIP);
    // Any response counts: upstream fails an HTTP hook only when the request itself fails.
    if (r.success || r.httpStatus > 0) return {};
    return {false, "HTTP lifecycle hook (" + str(*h, "path") + ")" + where + r.message};
  }
  return {false, "Cannot run handler: invalid handler"};
}

}  // namespace berth::kubelet
