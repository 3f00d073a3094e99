#pragma once
// How a pod's container spec becomes a process, as the kubelet computes it: command/args against
// the image's entrypoint/cmd, $(VAR) expansion, the environment with its valueFrom sources
// (configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef, envFrom), quantities as cgroup
// settings, and the pod's QoS class.
//
// Thread-safety: pure functions; ObjectSource implementations say their own.
#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "kubelet/images/image_service.h"
#include "kubelet/runtime/oci_spec.h"

namespace berth::kubelet {

// ConfigMaps and Secrets as the pod worker reads them (from the API or a test's map).
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  // NotFound when missing; the object (data/binaryData) otherwise.
  virtual core::Result<boost::json::object> configMap(const std::string& ns,
                                                      const std::string& name) = 0;
  virtual core::Result<boost::json::object> secret(const std::string& ns,
                                                   const std::string& name) = 0;
  // The claim and the volume a persistentVolumeClaim volume mounts (the node authorizer lets a
  // node read those of its pods). Sources without them answer NotFound.
  virtual core::Result<boost::json::object> persistentVolumeClaim(const std::string& ns,
                                                                  const std::string& name) {
    (void)ns;
    return core::Status::notFound("persistentvolumeclaims", name);
  }
  virtual core::Result<boost::json::object> persistentVolume(const std::string& name) {
    return core::Status::notFound("persistentvolumes", name);
  }
};

// The values fieldRef/resourceFieldRef read besides the pod object.
struct PodRuntimeFacts {
  std::string podIP, hostIP, nodeName;
  long long nodeMilliCpu = 0, nodeMemoryBytes = 0;  // defaults of unset limits
  std::vector<std::string> podIPs;  // dual-stack: every pod IP, podIP first; empty = podIP alone
};

// A Kubernetes quantity ("100m", "1.5Gi", "2e3") in base units; nullopt when malformed.
std::optional<long double> parseQuantity(const std::string& s);

// Kubernetes' $(VAR) expansion: $(NAME) from `env` when defined, $$ escapes a $, anything else
// stays as written.
std::string expandVars(const std::string& in, const std::map<std::string, std::string>& env);

// The process args: command replaces the entrypoint (and drops the image's cmd); args replace
// the cmd; both expanded against the container's environment.
std::vector<std::string> containerArgs(const boost::json::object& container,
                                       const images::ImageConfig& image,
                                       const std::map<std::string, std::string>& env);

// The container's environment in order (image env, envFrom, env; later names win), without the
// image part. Errors are what the kubelet reports as CreateContainerConfigError.
core::Result<std::vector<std::pair<std::string, std::string>>> resolveEnv(
    const boost::json::object& pod, const boost::json::object& container, ObjectSource& source,
    const PodRuntimeFacts& facts);

// Image env ("K=V") merged with the resolved env; the result as K=V in first-seen order.
std::vector<std::string> mergeEnv(const std::vector<std::string>& imageEnv,
                                  const std::vector<std::pair<std::string, std::string>>& env);

// requests/limits as cgroup settings (cpu shares, CFS quota, memory limit).
runtime::ContainerResources containerResources(const boost::json::object& container);

// "Guaranteed", "Burstable" or "BestEffort", as upstream's GetPodQOS.
std::string podQosClass(const boost::json::object& pod);

// The named string field (empty when missing or not a string), and friends for pod JSON.
std::string str(const boost::json::object& o, std::string_view key);
const boost::json::object* obj(const boost::json::object& o, std::string_view key);
const boost::json::array* arr(const boost::json::object& o, std::string_view key);
long long intField(const boost::json::object& o, std::string_view key, long long fallback);
bool boolField(const boost::json::object& o, std::string_view key, bool fallback);

}  // namespace berth::kubelet
