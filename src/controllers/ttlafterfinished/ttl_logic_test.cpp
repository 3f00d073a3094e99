// Unit tests of the TTL-after-finished arithmetic.
#include "controllers/ttlafterfinished/ttl_logic.h"

#include <gtest/gtest.h>

namespace berth::controllers::ttlafterfinished {
namespace {

namespace json = boost::json;

json::value job(const std::string& spec, const std::string& conditions) {
  return json::parse(R"({"metadata":{"name":"j"},"spec":)" + spec + R"(,"status":{"conditions":)" +
                     conditions + "}}");
}

TEST(TtlLogicTest, TimeLeftFromFinishTransition) {
  auto now = *parseTime("2024-01-01T00:01:00Z");
  const std::string done =
      R"([{"type":"SuccessCriteriaMet","status":"True","lastTransitionTime":"2024-01-01T00:00:00Z"},
          {"type":"Complete","status":"True","lastTransitionTime":"2024-01-01T00:00:30Z"}])";
  EXPECT_EQ(timeLeft(job(R"({"ttlSecondsAfterFinished":100})", done), now),
            std::chrono::seconds(70));
  EXPECT_EQ(timeLeft(job(R"({"ttlSecondsAfterFinished":0})", done), now),
            std::chrono::seconds(-30));
  const std::string failed =
      R"([{"type":"Failed","status":"True","lastTransitionTime":"2024-01-01T00:00:50Z"}])";
  EXPECT_EQ(timeLeft(job(R"({"ttlSecondsAfterFinished":5})", failed), now),
            std::chrono::seconds(-5));
  // No TTL, not finished, or a False condition: nothing to do.
  EXPECT_FALSE(timeLeft(job("{}", done), now));
  EXPECT_FALSE(timeLeft(job(R"({"ttlSecondsAfterFinished":5})", "[]"), now));
  EXPECT_FALSE(timeLeft(
      job(R"({"ttlSecondsAfterFinished":5})", R"([{"type":"Complete","status":"False"}])"), now));
  EXPECT_TRUE(needsCleanup(job(R"({"ttlSecondsAfterFinished":5})", failed)));
}

}  // namespace
}  // namespace berth::controllers::ttlafterfinished
