#include "kubelet/runtime/runc.h"

#include <boost/json.hpp>

namespace berth::kubelet::runtime {

namespace {

core::Status run(const std::vector<std::string>& argv, bool missingOk) {
  auto r = sys::runProcess(argv, {.timeout = std::chrono::seconds(30)});
  if (!r.ok()) return r.status();
  if (r->exitCode == 0) return {};
  if (missingOk && (r->err.find("does not exist") != std::string::npos ||
                    r->err.find("not found") != std::string::npos))
    return {};
  return core::Status::internal(sys::describeFailure(argv, *r));
}

}  // namespace

core::Status Runc::kill(const std::string& id, int signal, bool all) const {
  auto argv = base();
  argv.push_back("kill");
  if (all) argv.push_back("--all");
  argv.push_back(id);
  argv.push_back(std::to_string(signal));
  return run(argv, false);
}

core::Status Runc::remove(const std::string& id) const {
  auto argv = base();
  argv.insert(argv.end(), {"delete", "--force", id});
  return run(argv, true);
}

core::Result<sys::ProcessResult> Runc::exec(const std::string& id,
                                            const std::vector<std::string>& args,
                                            std::chrono::milliseconds timeout,
                                            std::function<bool()> cancelled) const {
  auto argv = base();
  argv.insert(argv.end(), {"exec", id});
  argv.insert(argv.end(), args.begin(), args.end());
  return sys::runProcess(argv, {.timeout = timeout, .cancelled = std::move(cancelled)});
}

std::vector<std::string> Runc::list() const {
  auto argv = base();
  argv.insert(argv.end(), {"list", "--format", "json"});
  std::vector<std::string> ids;
  auto r = sys::runProcess(argv);
  if (!r.ok() || r->exitCode != 0) return ids;
  boost::system::error_code ec;
  auto v = boost::json::parse(r->out, ec);
  if (ec || !v.is_array()) return ids;
  for (const auto& c : v.as_array()) {
    if (!c.is_object()) continue;
    if (auto* id = c.as_object().if_contains("id"); id && id->is_string())
      ids.emplace_back(id->as_string());
  }
  return ids;
}

}  // namespace berth::kubelet::runtime
