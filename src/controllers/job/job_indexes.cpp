#include "controllers/job/job_indexes.h"

#include "controllers/framework/workload_util.h"
#include "controllers/job/job_logic.h"

namespace berth::controllers::job {

namespace json = boost::json;

bool isIndexed(const json::value& job) { return strAt(specOf(job), "completionMode") == "Indexed"; }

std::set<long long> parseIndexes(std::string_view text, long long completions) {
  std::set<long long> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string part(
        text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    size_t dash = part.find('-');
    char* end = nullptr;
    long long a = std::strtoll(part.c_str(), &end, 10);
    long long b = a;
    bool ok =
        end != part.c_str() && (dash == std::string::npos ? *end == 0 : end == part.c_str() + dash);
    if (ok && dash != std::string::npos) {
      const char* hi = part.c_str() + dash + 1;
      b = std::strtoll(hi, &end, 10);
      ok = end != hi && *end == 0;
    }
    if (ok && a >= 0) {
      for (long long i = a; i <= b && i < completions; ++i) out.insert(i);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string formatIndexes(const std::set<long long>& indexes) {
  std::string out;
  for (auto it = indexes.begin(); it != indexes.end();) {
    long long first = *it, last = *it;
    for (++it; it != indexes.end() && *it == last + 1; ++it) last = *it;
    if (!out.empty()) out += ',';
    out += std::to_string(first);
    if (last > first) out += "-" + std::to_string(last);
  }
  return out;
}

std::optional<long long> completionIndex(const json::value& pod) {
  std::string v = strAt(objAt(pod, "metadata", "annotations"), kCompletionIndexAnnotation);
  if (v.empty() || v.size() > 9 || (v.size() > 1 && v[0] == '0')) return std::nullopt;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stoll(v);
}

std::set<long long> succeededIndexes(const json::value& job,
                                     const std::vector<client::ObjectPtr>& pods) {
  long long completions = intAt(specOf(job), "completions").value_or(0);
  std::set<long long> out = parseIndexes(strAt(statusOf(job), "completedIndexes"), completions);
  for (const client::ObjectPtr& p : pods) {
    auto ix = completionIndex(*p);
    if (podPhase(*p) == "Succeeded" && ix && *ix < completions) out.insert(*ix);
  }
  return out;
}

std::vector<long long> pendingIndexes(long long completions, const std::set<long long>& succeeded,
                                      const std::vector<client::ObjectPtr>& active, long long n) {
  std::set<long long> taken = succeeded;
  for (const client::ObjectPtr& p : active) {
    if (auto ix = completionIndex(*p)) taken.insert(*ix);
  }
  std::vector<long long> out;
  for (long long i = 0; i < completions && static_cast<long long>(out.size()) < n; ++i) {
    if (!taken.count(i)) out.push_back(i);
  }
  return out;
}

json::object indexedPod(const json::object& tmpl, const json::value& job, long long index,
                        const json::object& controllerRef) {
  std::string name = strAt(metaOf(job), "name");
  std::string ix = std::to_string(index);
  json::object pod =
      podFromTemplate(tmpl, strAt(metaOf(job), "namespace"), name + "-" + ix + "-", controllerRef);
  json::object& meta = pod["metadata"].as_object();
  for (const char* field : {"annotations", "labels"}) {
    json::value& slot = meta[field];
    if (!slot.is_object()) slot = json::object();
    slot.as_object()[kCompletionIndexAnnotation] = ix;
  }
  json::value& specSlot = pod["spec"];
  if (!specSlot.is_object()) specSlot = json::object();
  json::object& spec = specSlot.as_object();
  spec["hostname"] = name + "-" + ix;
  json::object env{{"name", "JOB_COMPLETION_INDEX"},
                   {"valueFrom",
                    {{"fieldRef",
                      {{"fieldPath", std::string("metadata.annotations['") +
                                         kCompletionIndexAnnotation + "']"}}}}}};
  for (const char* list : {"initContainers", "containers"}) {
    json::value* cs = spec.if_contains(list);
    if (!cs || !cs->is_array()) continue;
    for (json::value& c : cs->as_array()) {
      if (!c.is_object()) continue;
      json::value& envs = c.as_object()["env"];
      if (!envs.is_array()) envs = json::array();
      bool present = false;
      for (const json::value& e : envs.as_array()) {
        present |= e.is_object() && strAt(e.get_object(), "name") == "JOB_COMPLETION_INDEX";
      }
      if (!present) envs.as_array().push_back(env);
    }
  }
  return pod;
}

}  // namespace berth::controllers::job
