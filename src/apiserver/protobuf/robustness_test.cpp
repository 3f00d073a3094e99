// Property tests on hostile input: every malformed body is a BadRequest, never a crash or an
// out-of-bounds read (run under ASan to check the latter).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <random>
#include <string>
#include <vector>

#include "apiserver/protobuf/codec.h"

namespace berth::apiserver::protobuf {
namespace {

namespace json = boost::json;

std::vector<std::string> validBodies() {
  const char* objects[] = {
      R"({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web",
        "labels":{"app":"web"},"creationTimestamp":"2024-01-02T03:04:05Z"},
        "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
        "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c",
        "image":"nginx","ports":[{"containerPort":80}],"env":[{"name":"A","value":"B"}],
        "resources":{"limits":{"cpu":"1"}},"livenessProbe":{"httpGet":{"port":"http"}}}],
        "volumes":[{"name":"v","emptyDir":{}}]}},
        "strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":0}}}})",
      R"({"kind":"Secret","apiVersion":"v1","metadata":{"name":"s"},"data":{"k":"AAEC"}})",
      R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"l"},
        "spec":{"renewTime":"2024-01-02T03:04:05.123456Z","leaseDurationSeconds":40}})",
      R"({"kind":"ControllerRevision","apiVersion":"apps/v1","metadata":{"name":"r"},
        "data":{"a":[1,{"b":null}]},"revision":1})",
      R"({"kind":"PodDisruptionBudget","apiVersion":"policy/v1","metadata":{"name":"p"},
        "spec":{"minAvailable":1},"status":{"disruptedPods":{"x":"2024-01-02T03:04:05Z"}}})",
  };
  std::vector<std::string> out;
  for (const char* o : objects) {
    auto body = encodeEnvelope(json::parse(o).as_object());
    EXPECT_TRUE(body.ok()) << body.status().message();
    if (body.ok()) out.push_back(*body);
  }
  return out;
}

void expectOkOrBadRequest(std::string_view body) {
  auto got = decodeEnvelope(body);
  if (!got.ok()) {
    EXPECT_EQ(got.status().code(), 400) << got.status().message();
    EXPECT_FALSE(got.status().message().empty());
    return;
  }
  // Whatever decodes is a well-formed object of its kind and encodes again.
  auto again = encodeEnvelope(*got);
  EXPECT_TRUE(again.ok()) << again.status().message();
}

TEST(Robustness, EveryTruncation) {
  for (const std::string& body : validBodies()) {
    ASSERT_TRUE(decodeEnvelope(body).ok());
    int failures = 0;
    for (std::size_t n = 0; n < body.size(); ++n) {
      auto got = decodeEnvelope(std::string_view(body).substr(0, n));
      if (!got.ok()) {
        ++failures;
        EXPECT_EQ(got.status().code(), 400);
      }
    }
    // The envelope's raw field spans nearly the whole body: most prefixes must be refused.
    EXPECT_GT(failures, static_cast<int>(body.size()) / 2);
  }
}

TEST(Robustness, TruncatedInnerMessagesAreRejected) {
  // Cut the object (raw) short while keeping the envelope's own lengths consistent.
  auto msg = encodeMessage("k8s.io.api.core.v1.Secret",
                           json::parse(R"({"metadata":{"name":"abcdef"}})").as_object());
  ASSERT_TRUE(msg.ok());
  for (std::size_t n = 1; n < msg->size(); ++n) {
    auto got = decodeMessage("k8s.io.api.core.v1.Secret", msg->substr(0, n));
    ASSERT_FALSE(got.ok()) << n;
    EXPECT_EQ(got.status().code(), 400);
  }
}

TEST(Robustness, RandomByteFlips) {
  std::mt19937 rng(42);
  for (const std::string& body : validBodies()) {
    for (int i = 0; i < 3000; ++i) {
      std::string mutated = body;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        std::size_t at = 4 + rng() % (mutated.size() - 4);
        mutated[at] = static_cast<char>(rng());
      }
      expectOkOrBadRequest(mutated);
    }
  }
}

TEST(Robustness, RandomBytes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string body(kMagic);
    std::size_t n = rng() % 200;
    for (std::size_t k = 0; k < n; ++k) body += static_cast<char>(rng());
    expectOkOrBadRequest(body);
    expectOkOrBadRequest(body.substr(4));
  }
}

TEST(Robustness, HugeLengthsAndOverlongVarints) {
  const std::string magic(kMagic);
  // Field 2 (raw) claiming 2^64-1 bytes.
  auto huge =
      decodeEnvelope(magic + std::string("\x12\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), 400);
  // Length just past the end.
  auto past = decodeEnvelope(magic + std::string("\x12\x05\x00\x00", 4));
  EXPECT_FALSE(past.ok());
  // An 11-byte varint.
  auto overlong = decodeEnvelope(magic + std::string(11, '\xff'));
  EXPECT_FALSE(overlong.ok());
  // Inside an object: metadata claims 1 GiB.
  auto inner = decodeMessage("k8s.io.api.core.v1.Pod", std::string("\x0a\x80\x80\x80\x80\x04", 6));
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.status().code(), 400);
  // Groups (wire types 3/4) and field number 0.
  EXPECT_FALSE(decodeMessage("k8s.io.api.core.v1.Pod", std::string("\xfb\x07", 2)).ok());
  EXPECT_FALSE(decodeMessage("k8s.io.api.core.v1.Pod", std::string("\x00\x00", 2)).ok());
}

TEST(Robustness, NestingDeeperThan64IsRefused) {
  // RawExtension can embed an enveloped object, which can embed another...
  std::string body =
      *encodeEnvelope(json::parse(R"({"kind":"ConfigMap","apiVersion":"v1"})").as_object());
  auto wrap = [](const std::string& inner) {
    auto put = [](std::string& out, std::uint64_t v) {
      while (v >= 0x80) {
        out += static_cast<char>((v & 0x7f) | 0x80);
        v >>= 7;
      }
      out += static_cast<char>(v);
    };
    std::string raw("\x0a", 1);  // RawExtension.raw
    put(raw, inner.size());
    raw += inner;
    std::string rev("\x12", 1);  // ControllerRevision.data
    put(rev, raw.size());
    rev += raw;
    std::string meta("\x0a\x07\x61pps/v1\x12\x12\x43ontrollerRevision", 29);
    std::string env(kMagic);
    env += "\x0a";
    put(env, meta.size());
    env += meta;
    env += "\x12";
    put(env, rev.size());
    env += rev;
    return env;
  };
  for (int i = 0; i < 5; ++i) body = wrap(body);
  ASSERT_TRUE(decodeEnvelope(body).ok()) << decodeEnvelope(body).status().message();
  for (int i = 0; i < 100; ++i) body = wrap(body);
  auto got = decodeEnvelope(body);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("nesting"), std::string::npos) << got.status().message();
}

TEST(Robustness, RawExtensionWithInvalidJson) {
  // ControllerRevision.data.raw = "{not json"
  std::string msg("\x12\x0b\x0a\x09{not json", 13);
  auto got = decodeMessage("k8s.io.api.apps.v1.ControllerRevision", msg);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), 400);
}

}  // namespace
}  // namespace berth::apiserver::protobuf
