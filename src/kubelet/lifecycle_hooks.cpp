#include "kubelet/lifecycle_hooks.h"

#include <boost/json.hpp>

#include <algorithm>
#include <thread>

#include "kubelet/container_config.h"
#include "kubelet/probe_http.h"
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

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ::tolower(static_cast<unsigned char>(x)) ==
                  ::tolower(static_cast<unsigned char>(y));
         });
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
                            const HookTarget& t, std::chrono::milliseconds timeout,
                            const std::function<bool()>& cancelled) {
  std::string where = " for Container \"" + t.containerName + "\" in Pod \"" + t.podDescription +
                      "\" failed - error: ";
  // No bound (postStart): a year stands for "until it returns or the pod is deleted". A
  // deadline already passed leaves the hook a millisecond.
  auto bound = timeout.count() == 0 ? std::chrono::milliseconds(std::chrono::hours(8760))
                                    : std::max(timeout, std::chrono::milliseconds(1));
  if (const auto* s = obj(handler, "sleep")) {
    // Upstream's sleep action ends early when the grace period runs out; so does this one.
    auto seconds = intField(*s, "seconds", 0);
    auto end = std::chrono::steady_clock::now() +
               std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), bound);
    while (std::chrono::steady_clock::now() < end) {
      if (cancelled && cancelled()) {
        HookResult r{false, "Sleep lifecycle hook (" + std::to_string(seconds) + ")" + where +
                                "container terminated before sleep hook finished"};
        r.cancelled = true;
        return r;
      }
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          end - std::chrono::steady_clock::now(), std::chrono::milliseconds(100)));
    }
    return {};
  }
  json::object resolved = resolveNamedPorts(handler, spec);
  if (const auto* e = obj(handler, "exec")) {
    std::vector<std::string> cmd;
    if (const auto* c = arr(*e, "command"))
      for (const auto& w : *c)
        if (w.is_string()) cmd.emplace_back(w.as_string());
    auto r = t.runc->exec(t.containerId, cmd, bound, cancelled);
    if (r.ok() && r->exitCode == 0) return {};
    std::string error, output;
    if (r.ok()) {
      output = r->out + r->err;
      error = "command '" + joined(*e) + "' exited with " + std::to_string(r->exitCode) + ": ";
    } else {
      error = r.status().code() == 499
                  ? "context canceled"
                  : "command timed out after " + std::to_string(bound.count() / 1000) + "s";
    }
    HookResult out{false, "Exec lifecycle hook ([" + joined(*e) + "])" + where + error +
                              ", message: " + quoted(output)};
    out.cancelled = !r.ok() && r.status().code() == 499;
    return out;
  }
  if (const auto* h = obj(resolved, "httpGet")) {
    HttpGetOptions o;
    o.purpose = "lifecycle";
    o.timeout = bound;
    o.cancelled = cancelled;
    auto r = httpGetAction(*h, t.podIP, o);
    HookResult out;
    if (r.httpResponseToHttps) {
      // Upstream's fallback: the same request in HTTP, without the Authorization header.
      json::object plain = *h;
      if (const auto* headers = arr(*h, "httpHeaders")) {
        json::array kept;
        for (const auto& v : *headers)
          if (!v.is_object() || !iequals(str(v.as_object(), "name"), "Authorization"))
            kept.push_back(v);
        plain["httpHeaders"] = std::move(kept);
      }
      o.schemeOverride = "http";
      auto retry = httpGetAction(plain, t.podIP, o);
      if (retry.error.empty()) {
        std::string host = retry.url.substr(7, retry.url.find('/', 7) - 7);
        out.warningReason = "LifecycleHTTPFallback";
        out.warningMessage = "request to HTTPS lifecycle hook " + host +
                             " got HTTP response, retry with HTTP succeeded";
        return out;
      }
    }
    // Any response counts: upstream fails an HTTP hook only when the request itself fails.
    if (r.error.empty()) return out;
    out = {false, "HTTP lifecycle hook (" + str(*h, "path") + ")" + where + r.error};
    out.cancelled = r.error.find("context canceled") != std::string::npos;
    return out;
  }
  return {false, "Cannot run handler: invalid handler"};
}

}  // namespace berth::kubelet
