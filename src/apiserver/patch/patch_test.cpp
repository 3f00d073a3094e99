#include "apiserver/patch/patch.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

#include "apiserver/patch/list_types.h"

namespace berth::apiserver::patch {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) { return json::parse(text); }

json::value mustJsonPatch(std::string_view doc, std::string_view patch) {
  auto r = applyJsonPatch(J(doc), J(patch));
  EXPECT_TRUE(r.ok()) << patch << ": " << r.status().message();
  return r.ok() ? r.value() : json::value();
}

TEST(JsonPatchTest, Operations) {
  EXPECT_EQ(mustJsonPatch(R"({"a":1})", R"([{"op":"add","path":"/b","value":[1]}])"),
            J(R"({"a":1,"b":[1]})"));
  EXPECT_EQ(mustJsonPatch(R"({"a":[1,2]})", R"([{"op":"add","path":"/a/-","value":3}])"),
            J(R"({"a":[1,2,3]})"));
  EXPECT_EQ(mustJsonPatch(R"({"a":[1,2]})", R"([{"op":"add","path":"/a/0","value":0}])"),
            J(R"({"a":[0,1,2]})"));
  EXPECT_EQ(mustJsonPatch(R"({"a":[1,2]})", R"([{"op":"add","path":"/a/2","value":3}])"),
            J(R"({"a":[1,2,3]})"));
  EXPECT_EQ(mustJsonPatch(R"({"a":[1,2],"b":1})",
                          R"([{"op":"remove","path":"/a/0"},{"op":"remove","path":"/b"}])"),
            J(R"({"a":[2]})"));
  EXPECT_EQ(mustJsonPatch(R"({"spec":{"replicas":1}})",
                          R"([{"op":"replace","path":"/spec/replicas","value":3}])"),
            J(R"({"spec":{"replicas":3}})"));
  EXPECT_EQ(mustJsonPatch(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a/b","path":"/c"}])"),
            J(R"({"a":{},"c":1})"));
  EXPECT_EQ(mustJsonPatch(R"({"a":{"b":1}})", R"([{"op":"copy","from":"/a","path":"/c"}])"),
            J(R"({"a":{"b":1},"c":{"b":1}})"));
  EXPECT_EQ(mustJsonPatch(R"({"a":1})", R"([{"op":"test","path":"/a","value":1.0},
                                            {"op":"replace","path":"","value":[]}])"),
            J("[]"));
}

TEST(JsonPatchTest, EscapedPaths) {
  // kubectl annotates with keys like "kubectl.kubernetes.io/restartedAt".
  EXPECT_EQ(
      mustJsonPatch(R"({"metadata":{"annotations":{}}})",
                    R"([{"op":"add","path":"/metadata/annotations/a.io~1b~0c","value":"x"}])"),
      J(R"({"metadata":{"annotations":{"a.io/b~c":"x"}}})"));
  auto bad = applyJsonPatch(J("{}"), J(R"([{"op":"add","path":"/a~2","value":1}])"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), 422);
}

TEST(JsonPatchTest, Failures) {
  auto test = applyJsonPatch(J(R"({"a":1})"), J(R"([{"op":"test","path":"/a","value":2}])"));
  ASSERT_FALSE(test.ok());
  EXPECT_EQ(test.status().code(), 422);
  EXPECT_EQ(test.status().reason(), "Invalid");
  EXPECT_NE(test.status().message().find("testing value /a failed"), std::string::npos);

  for (const char* patch :
       {R"([{"op":"remove","path":"/missing"}])",
        R"([{"op":"replace","path":"/missing","value":1}])",
        R"([{"op":"add","path":"/x/y","value":1}])", R"([{"op":"add","path":"/a/5","value":1}])",
        R"([{"op":"add","path":"/a/01","value":1}])",
        R"([{"op":"move","from":"/a","path":"/a/0"}])", R"([{"op":"bogus","path":"/a"}])",
        R"([{"op":"add","path":"/b"}])"}) {
    auto r = applyJsonPatch(J(R"({"a":[1]})"), J(patch));
    ASSERT_FALSE(r.ok()) << patch;
    EXPECT_EQ(r.status().code(), 422) << patch;
  }
  auto notList = applyJsonPatch(J("{}"), J(R"({"op":"add"})"));
  ASSERT_FALSE(notList.ok());
  EXPECT_EQ(notList.status().code(), 400);
}

// RFC 7386 appendix A.
TEST(MergePatchTest, RfcExamples) {
  struct Case {
    const char* doc;
    const char* patch;
    const char* want;
  } cases[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", "null", "null"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& c : cases) {
    auto r = applyMergePatch(J(c.doc), J(c.patch));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), J(c.want)) << c.doc << " + " << c.patch;
  }
}

// Members a merge patch changes keep their places; new ones follow the existing ones, in the
// patch's order (what a client reading the object back sees).
TEST(MergePatchTest, KeepsMemberOrder) {
  auto r = applyMergePatch(J(R"({"a":1,"b":{"x":1,"y":2},"c":3})"),
                           J(R"({"d":4,"b":{"z":1,"x":5},"c":null})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(json::serialize(*r), R"({"a":1,"b":{"x":5,"y":2,"z":1},"d":4})");
}

// ---- property tests ----

class RandomJson {
 public:
  explicit RandomJson(uint32_t seed) : rng_(seed) {}

  // Objects never hold nulls when `mergeable` (a merge patch cannot produce them).
  json::value value(int depth, bool mergeable) {
    int kind = static_cast<int>(rng_() % (depth <= 0 ? 4 : 7));
    switch (kind) {
      case 0:
        return static_cast<int64_t>(rng_() % 5);
      case 1:
        return json::string(key());
      case 2:
        return rng_() % 2 == 0;
      case 3:
        return mergeable ? json::value(1.5) : json::value(nullptr);
      case 4:
      case 5:
        return object(depth - 1, mergeable);
      default: {
        json::array arr;
        int n = static_cast<int>(rng_() % 4);
        for (int i = 0; i < n; ++i) arr.push_back(value(depth - 1, false));
        return arr;
      }
    }
  }

  json::object object(int depth, bool mergeable) {
    json::object obj;
    int n = static_cast<int>(rng_() % 5);
    for (int i = 0; i < n; ++i) obj[key()] = value(depth, mergeable);
    return obj;
  }

  std::string key() {
    static const char* kKeys[] = {"a", "b", "c", "name", "x/y", "m~n", "", "spec"};
    return kKeys[rng_() % 8];
  }

  std::string pointer(const json::value& doc) {
    std::string p;
    const json::value* cur = &doc;
    while (rng_() % 3 != 0) {
      if (cur->is_object() && !cur->get_object().empty()) {
        auto it = cur->get_object().begin() +
                  static_cast<std::ptrdiff_t>(rng_() % cur->get_object().size());
        std::string k(it->key());
        std::string escaped;
        for (char c : k) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
        p += "/" + escaped;
        cur = &it->value();
      } else if (cur->is_array() && !cur->get_array().empty()) {
        size_t i = rng_() % cur->get_array().size();
        p += "/" + std::to_string(i);
        cur = &cur->get_array()[i];
      } else {
        break;
      }
    }
    switch (rng_() % 6) {
      case 0:
        p += "/-";
        break;
      case 1:
        p += "/" + key();
        break;
      case 2:
        p += "/~";
        break;
      case 3:
        p += "/99";
        break;
      default:
        break;
    }
    return p;
  }

  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
};

TEST(JsonPatchPropertyTest, RandomPatchesNeverCrash) {
  RandomJson gen(4242);
  static const char* kOps[] = {"add", "remove", "replace", "move", "copy", "test", "nope"};
  int applied = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    json::value doc = gen.object(3, false);
    json::array patch;
    int n = static_cast<int>(gen.rng()() % 4) + 1;
    for (int i = 0; i < n; ++i) {
      json::object op;
      op["op"] = kOps[gen.rng()() % 7];
      if (gen.rng()() % 10) op["path"] = gen.pointer(doc);
      if (gen.rng()() % 2) op["from"] = gen.pointer(doc);
      if (gen.rng()() % 5) op["value"] = gen.value(2, false);
      patch.push_back(std::move(op));
    }
    auto r = applyJsonPatch(doc, patch);
    if (r.ok()) {
      ++applied;
    } else {
      EXPECT_TRUE(r.status().code() == 422 || r.status().code() == 400);
    }
  }
  EXPECT_GT(applied, 100);  // the generator exercises the success paths too
}

// A merge patch that turns `from` into `to` (`to` must hold no nulls inside objects).
json::value mergeDiff(const json::value& from, const json::value& to) {
  if (!to.is_object() || !from.is_object()) return to;
  json::object patch;
  for (const auto& [k, v] : from.get_object()) {
    if (!to.get_object().contains(k)) patch[k] = nullptr;
  }
  for (const auto& [k, v] : to.get_object()) {
    auto it = from.get_object().find(k);
    if (it != from.get_object().end() && internal::jsonEqual(it->value(), v)) continue;
    if (it != from.get_object().end() && v.is_object() && it->value().is_object()) {
      patch[k] = mergeDiff(it->value(), v);
    } else {
      patch[k] = v;
    }
  }
  return patch;
}

TEST(MergePatchPropertyTest, DiffRoundTrips) {
  RandomJson gen(2024);
  for (int iter = 0; iter < 3000; ++iter) {
    json::value doc = gen.value(4, false);
    json::value target = gen.value(4, true);
    json::value diff = mergeDiff(doc, target);
    auto r = applyMergePatch(doc, diff);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(internal::jsonEqual(r.value(), target))
        << json::serialize(doc) << " + " << json::serialize(diff) << " = "
        << json::serialize(r.value()) << " want " << json::serialize(target);
    // Applying the same patch again changes nothing (merge patches are idempotent).
    auto again = applyMergePatch(r.value(), diff);
    EXPECT_TRUE(internal::jsonEqual(again.value(), target));
  }
}

TEST(MergePatchPropertyTest, RandomPatchesNeverCrash) {
  RandomJson gen(7);
  for (int iter = 0; iter < 2000; ++iter) {
    auto r = applyMergePatch(gen.value(4, false), gen.value(4, false));
    EXPECT_TRUE(r.ok());
  }
}

}  // namespace
}  // namespace berth::apiserver::patch
