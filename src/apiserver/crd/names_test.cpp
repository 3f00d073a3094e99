#include "apiserver/crd/names.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace berth::apiserver::crd {
namespace {
namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

const UsedNames kUsed{{"widgets", "widget", "wd"}, {"Widget", "WidgetList"}};

TEST(CrdNames, FreeNamesAreAccepted) {
  auto d = decideNames(obj(R"({"plural":"gizmos","singular":"gizmo","kind":"Gizmo",
                               "listKind":"GizmoList","shortNames":["gz"]})"),
                       {}, kUsed);
  EXPECT_TRUE(d.accepted);
  EXPECT_EQ(json::serialize(d.acceptedNames["shortNames"]), R"(["gz"])");
  EXPECT_EQ(d.acceptedNames["plural"], "gizmos");
}

TEST(CrdNames, ConflictsAreRefusedWithUpstreamReasons) {
  auto d = decideNames(obj(R"({"plural":"widget","singular":"gizmo","kind":"Gizmo",
                               "listKind":"GizmoList"})"),
                       {}, kUsed);
  EXPECT_FALSE(d.accepted);
  EXPECT_EQ(d.reason, "PluralConflict");
  EXPECT_EQ(d.message, "\"widget\" is already in use");
  EXPECT_FALSE(d.acceptedNames.contains("plural"));
  EXPECT_EQ(d.acceptedNames["kind"], "Gizmo");  // the free names are still taken

  d = decideNames(obj(R"({"plural":"gizmos","kind":"Widget","listKind":"GizmoList"})"), {}, kUsed);
  EXPECT_EQ(d.reason, "KindConflict");
  d = decideNames(obj(R"({"plural":"gizmos","kind":"Gizmo","shortNames":["gz","wd"]})"), {}, kUsed);
  EXPECT_EQ(d.reason, "ShortNamesConflict");
  EXPECT_EQ(d.message, "\"wd\" is already in use");
  EXPECT_FALSE(d.acceptedNames.contains("shortNames"));
}

TEST(CrdNames, PreviouslyAcceptedNamesStay) {
  // A name the CRD holds is its own even if the pool (stale) lists it.
  auto d = decideNames(obj(R"({"plural":"widgets","kind":"Widget"})"),
                       obj(R"({"plural":"widgets","kind":"Widget"})"), kUsed);
  EXPECT_TRUE(d.accepted);
  // A refused rename keeps the old name.
  d = decideNames(obj(R"({"plural":"widgets","kind":"Gizmo"})"),
                  obj(R"({"plural":"gizmos","kind":"Gizmo"})"), kUsed);
  EXPECT_FALSE(d.accepted);
  EXPECT_EQ(d.acceptedNames["plural"], "gizmos");
}

}  // namespace
}  // namespace berth::apiserver::crd
