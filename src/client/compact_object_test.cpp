// compactObject: the copy equals the original, copies of it are ordinary mutable values (also
// made on several threads at once), objects bigger than the measuring scratch work, member
// names are shared between objects, and objects whose names no longer fit the process's name
// arena keep their own.
#include "client/compact_object.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include <boost/json.hpp>

#include <string>
#include <thread>
#include <vector>

namespace berth::client {
namespace {

namespace json = boost::json;

json::value pod(const std::string& name) {
  return json::parse(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
      R"(","namespace":"default","labels":{"app":"bench","tier":"a-long-label-value-here"}},
      "spec":{"containers":[{"name":"c","image":"registry.example/busybox:1.36-with-a-long-tag",
      "resources":{"requests":{"cpu":"10m"}}}],"nodeName":"sim-node-17"},
      "status":{"phase":"Running","podIPs":[{"ip":"10.244.0.5"}],"startTime":"2026-11-29T23:30:14Z"}})");
}

TEST(CompactObject, EqualsTheOriginal) {
  json::value v = pod("bench-1");
  auto c = compactObject(v);
  EXPECT_EQ(*c, v);
  EXPECT_EQ(json::serialize(*c), json::serialize(v));
}

TEST(CompactObject, CopiesAreOrdinaryValuesOnAnyThread) {
  auto c = compactObject(pod("bench-2"));
  const std::string before = json::serialize(*c);
  std::vector<std::thread> threads;
  std::vector<std::string> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        json::value copy = *c;  // takes c's memory resource: must allocate from the heap now
        auto& meta = copy.as_object()["metadata"].as_object();
        meta["name"] = "a-name-long-enough-to-need-its-own-allocation-" + std::to_string(t);
        meta["labels"].as_object()["added"] = json::array{1, 2, 3, "four-five-six-seven-eight"};
        copy.as_object().erase("status");
        results[t] = json::serialize(copy);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(json::serialize(*c), before);  // the cached object is untouched
  for (int t = 0; t < 4; ++t) {
    EXPECT_NE(results[t].find("own-allocation-" + std::to_string(t)), std::string::npos);
    EXPECT_EQ(results[t].find("\"status\""), std::string::npos);
  }
}

TEST(CompactObject, OutlivesByCopies) {
  json::value copy;
  {
    auto c = compactObject(pod("bench-3"));
    copy = *c;  // assignment: copy's own (default) storage
  }
  EXPECT_EQ(copy.at("metadata").at("name"), "bench-3");
  json::value constructed = [] {
    auto c = compactObject(pod("bench-4"));
    return json::value(*c);  // copy-constructed: shares the block, which outlives c
  }();
  EXPECT_EQ(constructed.at("metadata").at("name"), "bench-4");
  constructed.as_object()["spec"].as_object()["nodeName"] =
      "moved-to-another-node-with-a-long-name";
  EXPECT_EQ(constructed.at("spec").at("nodeName"), "moved-to-another-node-with-a-long-name");
}

TEST(CompactObject, BigObjectsAndScalars) {
  json::array items;
  for (int i = 0; i < 2000; ++i) items.push_back(pod("p" + std::to_string(i)));  // ~1 MB
  json::value big = json::object{{"items", items}};
  EXPECT_EQ(*compactObject(big), big);
  EXPECT_EQ(*compactObject(big), big);  // after the scratch grew
  EXPECT_EQ(*compactObject(json::value(3)), json::value(3));
  EXPECT_EQ(*compactObject(json::object()), json::value(json::object()));
}

TEST(CompactObject, MemberNamesAreSharedBetweenObjects) {
  json::value original = pod("bench-5");
  auto a = compactObject(original);
  auto b = compactObject(pod("bench-6"));
  const auto& metaA = a->at("metadata").as_object();
  const auto& metaB = b->at("metadata").as_object();
  ASSERT_EQ(metaA.begin()->key(), "name");
  EXPECT_EQ(metaA.begin()->key().data(), metaB.begin()->key().data());  // one copy
  EXPECT_NE(metaA.begin()->key().data(), original.at("metadata").as_object().begin()->key().data());
  EXPECT_EQ(metaA.begin()->key().data()[4], '\0');  // still NUL-terminated
  a.reset();  // freeing one object leaves the shared names alone
  EXPECT_EQ(json::serialize(*b), json::serialize(pod("bench-6")));
  json::value copy = *b;  // a copy owns its names: it may rename and drop members
  copy.as_object().erase("metadata");
  copy.as_object()["renamed"] = 1;
  EXPECT_EQ(b->at("metadata").at("name"), "bench-6");
}

// Fills the process's name arena past its bound, then checks objects with names it could not
// take: each still equals its original, copies and frees cleanly. Exits 0 when all held.
void overflowTheNameArena() {
  json::object many;
  for (int i = 0; i < 250000; ++i) many["unique-member-name-" + std::to_string(i)] = i;
  json::value v = json::object{{"data", many}};
  auto c = compactObject(v);
  auto after = compactObject(json::object{{"a-name-never-seen-before", 1}});
  bool ok = *c == v && after->at("a-name-never-seen-before") == 1;
  json::value copy = *c;
  copy.as_object()["data"].as_object().erase("unique-member-name-7");
  ok = ok && copy.at("data").as_object().size() == 249999;
  c.reset();
  after.reset();
  std::exit(ok ? 0 : 1);
}

// In a child process: the arena is the process's, and the other tests want it unfilled.
TEST(CompactObject, NamesBeyondTheArenaStayInTheObject) {
  EXPECT_EXIT(overflowTheNameArena(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace berth::client
