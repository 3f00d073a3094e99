// ServiceAddresses::initIpFamilies: spec.ipFamilyPolicy and spec.ipFamilies against the
// cluster's Service ranges, as upstream's service REST storage does before allocating
// (pkg/registry/core/service/storage/alloc.go, initIPFamilyFields). The kind's defaults
// (core/kinds/service.cpp) already filled what needs no cluster knowledge.
#include <boost/json.hpp>

#include "apiserver/service/addresses.h"
#include "core/json_access.h"

namespace berth::apiserver::service {

namespace json = boost::json;

Status ServiceAddresses::initIpFamilies(json::object& spec, const json::object* oldSpec,
                                        const std::string& name) {
  std::string policy = core::stringField(spec, "ipFamilyPolicy");
  std::vector<std::string> families;
  if (const auto* f = spec.if_contains("ipFamilies"); f && f->is_array())
    for (const auto& v : f->as_array())
      families.push_back(v.is_string() ? std::string(v.as_string()) : "");
  json::array ips;
  if (const auto* a = spec.if_contains("clusterIPs"); a && a->is_array()) ips = a->as_array();
  bool headless = core::stringField(spec, "clusterIP") == "None";
  // No static default: a Service never moves between single- and dual-stack by a default.
  if (policy.empty())
    policy =
        families.size() == 2 || (!headless && ips.size() == 2) ? "RequireDualStack" : "SingleStack";
  if (families.empty()) {
    for (const auto& ip : ips)
      if (ip.is_string() && ip.as_string() != "None")
        families.push_back(ipFamilyOf(std::string_view(ip.as_string())));
    if (families.empty()) families.push_back(ranges_.primaryFamily());
  }
  // An update to SingleStack drops the secondary ClusterIP and family (freed on commit).
  if (policy == "SingleStack" && oldSpec != nullptr) {
    if (families.size() > 1) families.resize(1);
    if (ips.size() > 1) ips.resize(1);
  }
  std::vector<core::StatusCause> causes;
  if (policy == "RequireDualStack" && !ranges_.dualStack()) {
    causes.push_back({"FieldValueInvalid",
                      "Invalid value: \"RequireDualStack\": this cluster is not configured for "
                      "dual-stack services",
                      "spec.ipFamilyPolicy"});
  }
  for (size_t i = 0; i < families.size(); ++i) {
    if (ranges_.hasFamily(families[i])) continue;
    causes.push_back({"FieldValueInvalid",
                      "Invalid value: \"" + families[i] + "\": not configured on this cluster",
                      "spec.ipFamilies[" + std::to_string(i) + "]"});
  }
  if (!causes.empty()) return Status::invalid("", "Service", name, std::move(causes));
  // A dual-stack request with one family gets the other one too, when the cluster has it.
  if (policy != "SingleStack" && families.size() == 1 && ranges_.dualStack())
    families.push_back(families[0] == "IPv4" ? "IPv6" : "IPv4");
  spec["ipFamilyPolicy"] = policy;
  json::array out;
  for (const auto& f : families) out.push_back(json::string(f));
  spec["ipFamilies"] = std::move(out);
  if (!ips.empty()) spec["clusterIPs"] = std::move(ips);
  return {};
}

}  // namespace berth::apiserver::service
