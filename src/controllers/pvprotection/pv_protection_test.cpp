#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controllers/pvprotection/pv_protection_controller.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;

json::value volume(const char* phase, const char* claimRef) {
  json::object spec;
  if (*claimRef) spec["claimRef"] = json::object{{"name", claimRef}, {"namespace", "d"}};
  return json::object{{"metadata", json::object{{"name", "v"}}},
                      {"spec", spec},
                      {"status", json::object{{"phase", phase}}}};
}

TEST(PvProtection, OnlyABoundVolumeIsInUse) {
  EXPECT_TRUE(volumeInUse(volume("Bound", "c")));
  EXPECT_FALSE(volumeInUse(volume("Bound", "")));
  for (const char* phase : {"Pending", "Available", "Released", "Failed", ""})
    EXPECT_FALSE(volumeInUse(volume(phase, "c"))) << phase;
}

}  // namespace
}  // namespace berth::controllers
