#include "client/indexer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>

#include "client/informer.h"

namespace berth::client {
namespace {

namespace json = boost::json;

ObjectPtr pod(std::string ns, std::string name, std::string node, std::string app = "web") {
  return std::make_shared<const json::value>(
      json::object{{"kind", "Pod"},
                   {"metadata", {{"namespace", ns}, {"name", name}, {"labels", {{"app", app}}}}},
                   {"spec", {{"nodeName", node}}}});
}

std::vector<std::string> names(std::vector<ObjectPtr> objs) {
  std::vector<std::string> out;
  for (auto& o : objs) out.emplace_back(objectName(*o));
  std::sort(out.begin(), out.end());
  return out;
}

IndexFunc byNode() {
  return [](const json::value& v) {
    std::vector<std::string> out;
    const auto& spec = v.at("spec").as_object();
    if (auto it = spec.find("nodeName"); it != spec.end() && !it->value().as_string().empty())
      out.emplace_back(it->value().as_string());
    return out;
  };
}

TEST(Indexer, KeysAreNamespaceSlashName) {
  EXPECT_EQ(metaNamespaceKey(*pod("ns", "a", "n1")), "ns/a");
  json::value node = json::object{{"metadata", {{"name", "node-1"}}}};
  EXPECT_EQ(metaNamespaceKey(node), "node-1");
  EXPECT_EQ(metaNamespaceKey(json::object{}), "");
}

TEST(Indexer, NamespaceAndCustomIndexesFollowUpdatesAndDeletes) {
  Indexer idx;
  ASSERT_TRUE(idx.addIndexers({{"node", byNode()}}).ok());
  idx.upsert("a/p1", pod("a", "p1", "n1"));
  idx.upsert("a/p2", pod("a", "p2", "n2"));
  idx.upsert("b/p3", pod("b", "p3", "n1"));
  EXPECT_EQ(names(idx.listNamespace("a")), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(names(*idx.byIndex("node", "n1")), (std::vector<std::string>{"p1", "p3"}));

  // Moving p1 to n2 re-indexes it: the old index value no longer finds it.
  auto old = idx.upsert("a/p1", pod("a", "p1", "n2"));
  ASSERT_TRUE(old);
  EXPECT_EQ(old->at("spec").at("nodeName").as_string(), "n1");
  EXPECT_EQ(names(*idx.byIndex("node", "n1")), (std::vector<std::string>{"p3"}));
  EXPECT_EQ(names(*idx.byIndex("node", "n2")), (std::vector<std::string>{"p1", "p2"}));

  idx.remove("b/p3");
  EXPECT_TRUE(idx.byIndex("node", "n1")->empty());
  EXPECT_TRUE(idx.listNamespace("b").empty());
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_EQ(idx.byIndex("nosuch", "x").status().code(), 404);
}

TEST(Indexer, IndexAddedLaterCoversExistingObjectsAndNamesAreUnique) {
  Indexer idx;
  idx.upsert("a/p1", pod("a", "p1", "n1"));
  ASSERT_TRUE(idx.addIndexers({{"node", byNode()}}).ok());
  EXPECT_EQ(names(*idx.byIndex("node", "n1")), (std::vector<std::string>{"p1"}));
  EXPECT_EQ(idx.addIndexers({{"node", byNode()}}).code(), 409);
  EXPECT_EQ(idx.addIndexers({{std::string(kNamespaceIndex), byNode()}}).code(), 409);
}

TEST(Indexer, ReplaceSwapsContentAndReturnsTheOld) {
  Indexer idx;
  ASSERT_TRUE(idx.addIndexers({{"node", byNode()}}).ok());
  idx.upsert("a/p1", pod("a", "p1", "n1"));
  idx.upsert("a/p2", pod("a", "p2", "n1"));
  auto old = idx.replace({pod("a", "p2", "n3"), pod("c", "p9", "n3")});
  EXPECT_EQ(old.size(), 2u);
  EXPECT_TRUE(old.count("a/p1"));
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_FALSE(idx.get("a/p1"));
  EXPECT_TRUE(idx.byIndex("node", "n1")->empty());
  EXPECT_EQ(names(*idx.byIndex("node", "n3")), (std::vector<std::string>{"p2", "p9"}));
}

TEST(Indexer, ObjectsAreSharedNotCopied) {
  Indexer idx;
  auto p = pod("a", "p1", "n1");
  idx.upsert("a/p1", p);
  EXPECT_EQ(idx.get("a", "p1").get(), p.get());
  EXPECT_EQ(idx.list().front().get(), p.get());
}

TEST(Lister, FiltersByNamespaceAndLabelSelector) {
  Indexer idx;
  idx.upsert("a/p1", pod("a", "p1", "n1", "web"));
  idx.upsert("a/p2", pod("a", "p2", "n1", "db"));
  idx.upsert("b/p3", pod("b", "p3", "n1", "web"));
  Lister lister(idx);
  auto sel = core::LabelSelector::parse("app=web");
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(names(lister.list("a", &*sel)), (std::vector<std::string>{"p1"}));
  EXPECT_EQ(names(lister.list("", &*sel)), (std::vector<std::string>{"p1", "p3"}));
  EXPECT_EQ(names(lister.list("a")), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_TRUE(lister.get("b", "p3"));
  EXPECT_FALSE(lister.get("a", "p3"));
}

}  // namespace
}  // namespace berth::client
