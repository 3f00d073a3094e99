// Health endpoints with named checks (see health.h).
#include "apiserver/health/health.h"

#include <iostream>
#include <map>
#include <set>

namespace berth::apiserver::health {
namespace {

constexpr std::string_view kText = "text/plain; charset=utf-8";

// Go's http.Error: the message plus a newline, plain text, no sniffing.
void sendError(http::ResponseWriter& writer, int code, const std::string& message) {
  writer.addHeader("X-Content-Type-Options", "nosniff");
  writer.send(code, kText, message + "\n");
}

std::string quotedList(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "\"" : ",\"") + name + "\"";
  return out;
}

}  // namespace

void Checks::add(std::string name, CheckFn check,
                 std::initializer_list<std::string_view> endpoints) {
  for (std::string_view endpointName : endpoints) {
    Endpoint* endpoint = nullptr;
    for (auto& e : endpoints_) {
      if (e.name == endpointName) endpoint = &e;
    }
    if (endpoint == nullptr)
      endpoint = &endpoints_.emplace_back(Endpoint{std::string(endpointName), {}});
    endpoint->checks.push_back(Check{name, check});
  }
}

bool Checks::serve(const http::Request& request, http::ResponseWriter& writer) const {
  std::string_view path = request.path;
  if (path.empty() || path[0] != '/') return false;
  path.remove_prefix(1);
  size_t slash = path.find('/');
  std::string_view endpointName = path.substr(0, slash);
  for (const auto& endpoint : endpoints_) {
    if (endpoint.name != endpointName) continue;
    if (slash == std::string_view::npos) {
      serveRoot(endpoint, request, writer);
      return true;
    }
    std::string_view checkName = path.substr(slash + 1);
    for (const auto& check : endpoint.checks) {
      if (check.name != checkName) continue;
      core::Status status = check.run();
      if (status.ok()) {
        writer.send(200, kText, "ok");
      } else {
        sendError(writer, 500, "internal server error: " + status.message());
      }
      return true;
    }
    writer.send(
        404, "application/json",
        core::Status::generic(404, "NotFound", "the server could not find the requested resource")
            .toJsonString());
    return true;
  }
  return false;
}

void Checks::serveRoot(const Endpoint& endpoint, const http::Request& request,
                       http::ResponseWriter& writer) const {
  std::set<std::string> excluded;
  for (auto [it, end] = request.query.equal_range("exclude"); it != end; ++it) {
    excluded.insert(it->second);
  }
  std::string output;  // one line per check, as the verbose answer and the failure show them
  std::string failures;
  for (const auto& check : endpoint.checks) {
    if (excluded.erase(check.name) > 0) {
      output += "[+]" + check.name + " excluded: ok\n";
      continue;
    }
    core::Status status = check.run();
    if (status.ok()) {
      output += "[+]" + check.name + " ok\n";
    } else {
      // The endpoint is public: the reason goes to the log, not to the caller.
      output += "[-]" + check.name + " failed: reason withheld\n";
      failures += "[-]" + check.name + " failed: " + status.message() + "\n";
    }
  }
  if (!excluded.empty()) {
    output += "warn: some health checks cannot be excluded: no matches for " +
              quotedList(excluded) + "\n";
  }
  if (!failures.empty()) {
    std::cerr << "berth: " << endpoint.name << " check failed:\n" << failures << std::flush;
    sendError(writer, 500, output + endpoint.name + " check failed");
    return;
  }
  writer.addHeader("X-Content-Type-Options", "nosniff");
  if (!request.hasQueryParam("verbose")) {
    writer.send(200, kText, "ok");
    return;
  }
  writer.send(200, kText, output + endpoint.name + " check passed\n");
}

}  // namespace berth::apiserver::health
