#include "apiserver/partial_metadata.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::apiserver {
namespace {

namespace json = boost::json;

OutputMedia asked(PartialMetadata p, std::string version = "v1") {
  OutputMedia m;
  m.partial = p;
  m.metaVersion = std::move(version);
  return m;
}

const char* kPod =
    R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"d","uid":"u1",)"
    R"("labels":{"a":"b"},"finalizers":["f"],"ownerReferences":[{"apiVersion":"apps/v1",)"
    R"("kind":"ReplicaSet","name":"rs","uid":"u0","controller":true}]},)"
    R"("spec":{"containers":[{"name":"c","image":"i"}]},"status":{"phase":"Running"}})";

TEST(PartialMetadata, AnObjectKeepsItsWholeMetadataOnly) {
  auto out = toPartialMetadata(asked(PartialMetadata::kObject), kPod);
  ASSERT_TRUE(out.ok());
  auto v = json::parse(*out).as_object();
  EXPECT_EQ(v.at("kind"), "PartialObjectMetadata");
  EXPECT_EQ(v.at("apiVersion"), "meta.k8s.io/v1");
  EXPECT_EQ(v.at("metadata"), json::parse(kPod).at("metadata"));
  EXPECT_EQ(v.size(), 3u) << *out;
  auto beta = toPartialMetadata(asked(PartialMetadata::kObject, "v1beta1"), kPod);
  ASSERT_TRUE(beta.ok());
  EXPECT_EQ(json::parse(*beta).at("apiVersion"), "meta.k8s.io/v1beta1");
}

TEST(PartialMetadata, AListKeepsItsListMetaForPaging) {
  std::string list =
      std::string(R"({"kind":"PodList","apiVersion":"v1","metadata":{)") +
      R"("resourceVersion":"42","continue":"tok","remainingItemCount":3},"items":[)" + kPod + "," +
      kPod + "]}";
  auto out = toPartialMetadata(asked(PartialMetadata::kList), list);
  ASSERT_TRUE(out.ok());
  auto v = json::parse(*out).as_object();
  EXPECT_EQ(v.at("kind"), "PartialObjectMetadataList");
  EXPECT_EQ(v.at("apiVersion"), "meta.k8s.io/v1");
  EXPECT_EQ(v.at("metadata"), json::parse(R"({"resourceVersion":"42","continue":"tok",)"
                                          R"("remainingItemCount":3})"));
  ASSERT_EQ(v.at("items").as_array().size(), 2u);
  const auto& item = v.at("items").as_array()[0].as_object();
  EXPECT_EQ(item.at("kind"), "PartialObjectMetadata");
  EXPECT_EQ(item.at("apiVersion"), "meta.k8s.io/v1");
  EXPECT_EQ(item.at("metadata").at("ownerReferences").at(0).at("uid"), "u0");
  EXPECT_FALSE(item.contains("spec"));
  // No items is `items: []`, never null or missing.
  auto empty = toPartialMetadata(asked(PartialMetadata::kList),
                                 R"({"kind":"PodList","apiVersion":"v1","metadata":{)"
                                 R"("resourceVersion":"7"},"items":[]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(json::parse(*empty).at("items").as_array().empty());
}

TEST(PartialMetadata, AppendedItemByItem) {
  std::string out = "[";
  ASSERT_TRUE(appendPartialObjectMetadata(kPod, "v1", out));
  EXPECT_FALSE(appendPartialObjectMetadata("not json", "v1", out));
  EXPECT_FALSE(appendPartialObjectMetadata("[1]", "v1", out));
  out += "]";
  auto items = json::parse(out).as_array();
  ASSERT_EQ(items.size(), 1u) << out;
  EXPECT_EQ(items[0], json::value(partialObjectMetadata(json::parse(kPod).as_object())));
}

TEST(PartialMetadata, TheWrongFormIs406AndStatusPassesThrough) {
  auto listAsObject = toPartialMetadata(asked(PartialMetadata::kObject),
                                        R"({"kind":"PodList","apiVersion":"v1","items":[]})");
  ASSERT_FALSE(listAsObject.ok());
  EXPECT_EQ(listAsObject.status().code(), 406);
  EXPECT_EQ(listAsObject.status().reason(), "NotAcceptable");
  EXPECT_NE(listAsObject.status().message().find("is a list (PodList)"), std::string::npos);
  auto objectAsList = toPartialMetadata(asked(PartialMetadata::kList), kPod);
  ASSERT_FALSE(objectAsList.ok());
  EXPECT_EQ(objectAsList.status().code(), 406);
  EXPECT_NE(objectAsList.status().message().find("is not a list (Pod)"), std::string::npos);
  std::string status = R"({"kind":"Status","apiVersion":"v1","status":"Success"})";
  EXPECT_EQ(*toPartialMetadata(asked(PartialMetadata::kObject), status), status);
  EXPECT_EQ(*toPartialMetadata(asked(PartialMetadata::kList), status), status);
  EXPECT_EQ(*toPartialMetadata(OutputMedia{}, kPod), kPod);
}

}  // namespace
}  // namespace berth::apiserver
