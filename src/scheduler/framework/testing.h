#pragma once
// For the scheduler's unit tests only: build pods and nodes in memory from compact JSON.
#include <boost/json.hpp>

#include <memory>
#include <string>

#include "scheduler/framework/snapshot.h"

namespace berth::scheduler::testing {

// A Pod from JSON text; metadata.namespace defaults to "default", uid to the name.
inline PodInfoPtr pod(const std::string& jsonText) {
  auto v = boost::json::parse(jsonText);
  auto& meta = v.as_object()["metadata"].as_object();
  if (!meta.contains("namespace")) meta["namespace"] = "default";
  if (!meta.contains("uid")) meta["uid"] = meta["name"];
  auto r = parsePod(std::make_shared<const boost::json::value>(std::move(v)));
  return r.ok() ? r.value() : nullptr;
}

// A pod named `name` with one container requesting `cpu` and `memory` (empty = none).
inline PodInfoPtr podWithRequests(const std::string& name, const std::string& cpu,
                                  const std::string& memory, const std::string& extraSpec = "") {
  std::string req;
  if (!cpu.empty()) req += "\"cpu\":\"" + cpu + "\"";
  if (!memory.empty()) req += std::string(req.empty() ? "" : ",") + "\"memory\":\"" + memory + "\"";
  return pod(R"({"metadata":{"name":")" + name + R"("},"spec":{)" + extraSpec +
             (extraSpec.empty() ? "" : ",") +
             R"("containers":[{"name":"c","resources":{"requests":{)" + req + "}}}]}}");
}

// A Node from JSON text.
inline NodeInfo node(const std::string& jsonText) {
  NodeInfo n;
  n.setNode(std::make_shared<const boost::json::value>(boost::json::parse(jsonText)));
  return n;
}

// A node with this allocatable and labels (a JSON object text, e.g. R"({"zone":"a"})").
inline NodeInfo simpleNode(const std::string& name, const std::string& cpu = "4",
                           const std::string& memory = "8Gi", const std::string& labels = "{}",
                           const std::string& pods = "110") {
  return node(R"({"metadata":{"name":")" + name + R"(","labels":)" + labels +
              R"(},"status":{"allocatable":{"cpu":")" + cpu + R"(","memory":")" + memory +
              R"(","pods":")" + pods + R"("}}})");
}

// The same pod placed on `nodeName` (what a bound pod looks like to the cache).
inline PodInfoPtr onNode(PodInfoPtr p, const std::string& nodeName) {
  auto copy = std::make_shared<PodInfo>(*p);
  copy->nodeName = nodeName;
  return copy;
}

}  // namespace berth::scheduler::testing
