#include "controllers/framework/pod_control.h"

#include <algorithm>
#include <set>

#include "controllers/framework/queue_workers.h"
#include "controllers/framework/workload_util.h"

namespace berth::controllers {

namespace json = boost::json;

long long PodControl::create(const json::value& owner, const std::string& key,
                             const std::vector<json::object>& pods, core::Status& err) {
  if (pods.empty()) return 0;
  expectations_.expectCreations(key, static_cast<int>(pods.size()));
  std::string ns = strAt(metaOf(owner), "namespace");
  size_t next = 0;
  long long created = 0;
  bool batchFailed = false;
  for (size_t batch = 1; next < pods.size() && !batchFailed; batch *= 2) {
    size_t end = std::min(pods.size(), next + batch);
    for (; next < end; ++next) {
      auto r = client_.create(kPods, ns, pods[next]);
      if (r.ok()) {
        ++created;
        recorder_.record(owner, "Normal", "SuccessfulCreate",
                         "Created pod: " + strAt(metaOf(*r), "name"));
        continue;
      }
      expectations_.creationFailed(key);
      if (r.status().isAlreadyExists()) continue;  // a generated name collided: next sync retries
      batchFailed = true;
      recorder_.record(owner, "Warning", "FailedCreate", "Error creating: " + r.status().message());
      if (err.ok()) err = r.status();
    }
  }
  for (; next < pods.size(); ++next) expectations_.creationFailed(key);  // never tried
  return created;
}

long long PodControl::remove(const json::value& owner, const std::string& key,
                             const std::vector<client::ObjectPtr>& pods, core::Status& err,
                             const std::function<core::Status(const json::value&)>& beforeDelete) {
  if (pods.empty()) return 0;
  std::set<std::string> keys;
  for (const client::ObjectPtr& p : pods) keys.insert(keyOf(*p));
  expectations_.expectDeletions(key, keys);
  long long gone = 0;
  for (const client::ObjectPtr& p : pods) {
    std::string podName = strAt(metaOf(*p), "name");
    core::Status st = beforeDelete ? beforeDelete(*p) : core::Status();
    if (st.ok()) {
      auto r = client_.remove(kPods, strAt(metaOf(*p), "namespace"), podName);
      if (!r.ok() && !r.status().isNotFound()) st = r.status();
      if (!r.ok() && r.status().isNotFound()) expectations_.deletionObserved(key, keyOf(*p));
    }
    if (!st.ok()) {
      expectations_.deletionFailed(key, keyOf(*p));
      recorder_.record(owner, "Warning", "FailedDelete", "Error deleting: " + st.message());
      if (err.ok()) err = st;
      continue;
    }
    ++gone;
    recorder_.record(owner, "Normal", "SuccessfulDelete", "Deleted pod: " + podName);
  }
  return gone;
}

}  // namespace berth::controllers
