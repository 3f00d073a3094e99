#pragma once
// For controller integration tests only (included by *_test.cpp): the test plays the kubelet and
// the node agent, as there is none on a bare server: it creates Node objects and moves pods
// through their phases by writing pod status through the status subresource.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "client/rest_client.h"
#include "core/clock.h"

namespace berth::controllers::testing {

inline const client::Resource kTestPods{"", "v1", "pods", true};
inline const client::Resource kTestNodes{"", "v1", "nodes", false};

inline void createNode(client::RestClient& c, const std::string& name,
                       boost::json::object labels = {}, boost::json::array taints = {}) {
  boost::json::object node{{"apiVersion", "v1"},
                           {"kind", "Node"},
                           {"metadata", {{"name", name}, {"labels", std::move(labels)}}}};
  if (!taints.empty()) node["spec"] = boost::json::object{{"taints", std::move(taints)}};
  auto r = c.create(kTestNodes, "", node);
  ASSERT_TRUE(r.ok()) << r.status().message();
}

// Pods of a namespace matching a label selector ("" = all).
inline std::vector<boost::json::value> listPods(client::RestClient& c, const std::string& ns,
                                                const std::string& selector = "") {
  client::ListOptions o;
  o.labelSelector = selector;
  auto r = c.list(kTestPods, ns, o);
  std::vector<boost::json::value> out;
  if (!r.ok()) return out;
  for (auto& p : r->at("items").as_array()) out.push_back(p);
  return out;
}

// Replaces a pod's whole status (phase, conditions, containerStatuses ...). Returns success.
inline bool setPodStatusObject(client::RestClient& c, boost::json::value pod,
                               boost::json::object status) {
  auto& obj = pod.as_object();
  obj["status"] = std::move(status);
  std::string ns(obj["metadata"].as_object()["namespace"].as_string());
  std::string name(obj["metadata"].as_object()["name"].as_string());
  // A controller may write the pod between the caller's read and this write (a 409 Conflict):
  // like a kubelet, read it again and retry.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (c.updateStatus(kTestPods, ns, pod).ok()) return true;
    auto fresh = c.get(kTestPods, ns, name);
    if (!fresh.ok()) return false;
    boost::json::value status = pod.as_object()["status"];
    pod = *fresh;
    pod.as_object()["status"] = std::move(status);
  }
  return false;
}

// Writes a pod's status: phase and the Ready condition (as a kubelet would). Returns success.
inline bool setPodStatus(client::RestClient& c, boost::json::value pod, const std::string& phase,
                         bool ready) {
  std::string now = core::nowRfc3339();
  boost::json::object status{{"phase", phase}, {"startTime", now}};
  status["conditions"] = boost::json::array{
      {{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"lastTransitionTime", now}}};
  return setPodStatusObject(c, std::move(pod), std::move(status));
}

// Events about the object named `name` in `ns`, each as "Type Reason: message".
inline std::vector<std::string> eventsAbout(client::RestClient& c, const std::string& ns,
                                            const std::string& name) {
  std::vector<std::string> out;
  auto r = c.list(client::Resource{"", "v1", "events", true}, ns);
  if (!r.ok()) return out;
  auto str = [](const boost::json::object& o, const char* k) {
    const boost::json::value* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  for (auto& e : r->at("items").as_array()) {
    const auto& ev = e.as_object();
    const boost::json::value* inv = ev.if_contains("involvedObject");
    if (!inv || !inv->is_object() || str(inv->get_object(), "name") != name) continue;
    out.push_back(str(ev, "type") + " " + str(ev, "reason") + ": " + str(ev, "message"));
  }
  return out;
}

// Whether some event about `name` starts with `prefix` ("Warning OwnerRefInvalidNamespace: ...").
inline bool hasEvent(client::RestClient& c, const std::string& ns, const std::string& name,
                     const std::string& prefix) {
  for (const auto& e : eventsAbout(c, ns, name)) {
    if (e.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace berth::controllers::testing
