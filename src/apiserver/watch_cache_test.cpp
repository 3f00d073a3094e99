#include "apiserver/watch_cache.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/resources.h"

namespace berth::apiserver {
namespace {

namespace json = boost::json;

const core::ResourceType& podType() {
  const core::ResourceType* rt = core::findResource("", "v1", "pods");
  EXPECT_NE(rt, nullptr);
  return *rt;
}

store::Event podEvent(const std::string& name, const std::string& node, int64_t rev,
                      const std::string& prevNode = "-") {
  json::object spec;
  if (!node.empty()) spec["nodeName"] = node;
  json::object pod{{"apiVersion", "v1"},
                   {"kind", "Pod"},
                   {"metadata", {{"name", name}, {"namespace", "default"}}},
                   {"spec", spec}};
  store::Event e;
  e.kv = {"/registry/pods/default/" + name, json::serialize(pod), rev, rev};
  if (prevNode != "-") {
    json::object prevSpec;
    if (!prevNode.empty()) prevSpec["nodeName"] = prevNode;
    pod["spec"] = prevSpec;
    e.prevKv = {e.kv.key, json::serialize(pod), rev - 1, rev - 1};
  }
  return e;
}

// Names of the objects of the events queued for `w` (without waiting).
std::vector<std::string> drain(CacheWatcher& w) {
  bool closed = false;
  std::vector<std::string> out;
  for (const auto& e : w.next(std::chrono::milliseconds(0), &closed)) out.push_back(e.object->name);
  return out;
}

WatchFilter selecting(const core::FieldSelector& fields) {
  return [fields](const CachedObject& o) { return o.matches(fields); };
}

TEST(WatchCacheTest, NodeWatchersGetOnlyTheirPodsAndPodsThatLeave) {
  ResourceCache cache(podType());
  auto a = core::FieldSelector::parse("spec.nodeName=node-a").value();
  auto b = core::FieldSelector::parse("spec.nodeName=node-b").value();
  auto unbound = core::FieldSelector::parse("spec.nodeName=").value();
  auto wa = cache.watch(0, selecting(a), &a).value();
  auto wb = cache.watch(0, selecting(b), &b).value();
  auto wu = cache.watch(0, selecting(unbound), &unbound).value();
  auto all = cache.watch(0).value();

  cache.apply(podEvent("p1", "", 10));                  // created unbound
  cache.apply(podEvent("p1", "node-a", 11, ""));        // bound to a
  cache.apply(podEvent("p2", "node-b", 12));            // created on b
  cache.apply(podEvent("p1", "node-b", 13, "node-a"));  // moved (a leaves, b gains)

  EXPECT_EQ(drain(*wa), (std::vector<std::string>{"p1", "p1"}));
  EXPECT_EQ(drain(*wb), (std::vector<std::string>{"p2", "p1"}));
  EXPECT_EQ(drain(*wu), (std::vector<std::string>{"p1", "p1"}));  // created, then bound away
  EXPECT_EQ(drain(*all).size(), 4u);
}

TEST(WatchCacheTest, IndexedWatcherStillAppliesItsWholeFilterAndReplaysHistory) {
  ResourceCache cache(podType());
  cache.apply(podEvent("p1", "node-a", 10));
  cache.apply(podEvent("p2", "node-b", 11));
  auto a = core::FieldSelector::parse("spec.nodeName=node-a,metadata.name!=p3").value();
  // From revision 9: the history replays only node-a's pod.
  auto wa = cache.watch(9, selecting(a), &a).value();
  EXPECT_EQ(drain(*wa), (std::vector<std::string>{"p1"}));
  cache.apply(podEvent("p3", "node-a", 12));  // on node-a but excluded by the rest of the selector
  cache.apply(podEvent("p4", "node-a", 13));
  EXPECT_EQ(drain(*wa), (std::vector<std::string>{"p4"}));
  cache.unwatch(wa);
  cache.apply(podEvent("p5", "node-a", 14));
  EXPECT_TRUE(drain(*wa).empty());
}

TEST(WatchCacheTest, CloseWatchersClosesIndexedOnes) {
  ResourceCache cache(podType());
  auto a = core::FieldSelector::parse("spec.nodeName=node-a").value();
  auto wa = cache.watch(0, selecting(a), &a).value();
  cache.closeWatchers();
  bool closed = false;
  EXPECT_TRUE(wa->next(std::chrono::milliseconds(0), &closed).empty());
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace berth::apiserver
