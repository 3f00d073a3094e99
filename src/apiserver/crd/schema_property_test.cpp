// Property test of the structural-schema validator, defaulter and pruner on random schemas and
// random documents (seeded, deterministic): documents generated to conform validate cleanly and
// survive pruning unchanged; a conforming document with one leaf given the wrong type is
// rejected at exactly that leaf's path; arbitrary documents never crash any function, and
// pruning and defaulting are idempotent.
#include <gtest/gtest.h>

#include <random>

#include "apiserver/crd/schema.h"

namespace berth::apiserver::crd {
namespace {
namespace json = boost::json;

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool coin(int percent) { return pick(100) < percent; }

  std::string name() {
    static const char* kNames[] = {"a", "b", "spec", "items", "x-y", "replicas", "name", "z9"};
    return kNames[pick(8)];
  }

  // A random structural schema (as raw JSON) up to `depth`.
  json::object schema(int depth) {
    int kind = depth <= 0 ? 2 + pick(4) : pick(6);
    json::object s;
    switch (kind) {
      case 0: {
        s["type"] = "object";
        json::object props;
        int n = 1 + pick(3);
        for (int i = 0; i < n; ++i) props[name()] = schema(depth - 1);
        s["properties"] = std::move(props);
        if (coin(30)) s["x-kubernetes-preserve-unknown-fields"] = true;
        break;
      }
      case 1:
        s["type"] = "array";
        s["items"] = schema(depth - 1);
        if (coin(30)) s["maxItems"] = 3;
        break;
      case 2:
        s["type"] = "string";
        if (coin(30)) s["maxLength"] = 8;
        if (coin(20)) s["enum"] = json::array{"p", "q"};
        if (coin(20)) s["pattern"] = "^[a-z]*$";
        break;
      case 3:
        s["type"] = "integer";
        if (coin(40)) {
          s["minimum"] = 0;
          s["maximum"] = 100;
        }
        if (coin(30)) s["default"] = 5;
        break;
      case 4:
        s["type"] = coin(50) ? "boolean" : "number";
        break;
      default:
        s["x-kubernetes-int-or-string"] = true;
        break;
    }
    if (coin(15)) s["nullable"] = true;
    return s;
  }

  // A document conforming to `s` (raw schema).
  json::value conforming(const json::object& s) {
    if (s.contains("x-kubernetes-int-or-string"))
      return coin(50) ? json::value(pick(50)) : json::value("port");
    std::string_view type = s.at("type").as_string();
    if (type == "object") {
      json::object o;
      for (const auto& [k, sub] : s.at("properties").as_object())
        if (coin(70)) o[k] = conforming(sub.as_object());
      return o;
    }
    if (type == "array") {
      json::array a;
      int n = pick(3);
      for (int i = 0; i < n; ++i) a.push_back(conforming(s.at("items").as_object()));
      return a;
    }
    if (type == "string") {
      if (s.contains("enum")) return s.at("enum").as_array()[pick(2)];
      std::string v;
      int n = pick(6);
      for (int i = 0; i < n; ++i) v += static_cast<char>('a' + pick(26));
      return json::value(v);
    }
    if (type == "integer") return json::value(pick(100));
    if (type == "boolean") return json::value(coin(50));
    return json::value(pick(1000) / 7.0);
  }

  // Anything at all, for robustness.
  json::value junk(int depth) {
    switch (depth <= 0 ? 2 + pick(5) : pick(7)) {
      case 0: {
        json::object o;
        int n = pick(4);
        for (int i = 0; i < n; ++i) o[name()] = junk(depth - 1);
        return o;
      }
      case 1: {
        json::array a;
        int n = pick(4);
        for (int i = 0; i < n; ++i) a.push_back(junk(depth - 1));
        return a;
      }
      case 2:
        return json::value("s");
      case 3:
        return json::value(pick(200) - 100);
      case 4:
        return json::value(1.5);
      case 5:
        return json::value(nullptr);
      default:
        return json::value(coin(50));
    }
  }

 private:
  std::mt19937_64 rng_;
};

json::object rootOf(json::object spec) {
  return {{"type", "object"}, {"properties", {{"spec", std::move(spec)}}}};
}

// Paths of the scalar leaves of `v` under `path`, with pointers to them.
void leaves(json::value& v, const std::string& path,
            std::vector<std::pair<std::string, json::value*>>& out) {
  if (v.is_object()) {
    for (auto& [k, c] : v.get_object()) leaves(c, path + "." + std::string(k), out);
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.get_array().size(); ++i)
      leaves(v.get_array()[i], path + "[" + std::to_string(i) + "]", out);
  } else {
    out.emplace_back(path, &v);
  }
}

TEST(CrdSchemaProperty, ConformingDocumentsValidateAndSurvivePruning) {
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    Gen g(seed);
    json::object raw = rootOf(g.schema(4));
    FieldErrors cerrs;
    auto schema = compileSchema(raw, "s", cerrs);
    ASSERT_TRUE(schema) << "seed " << seed << ": " << (cerrs.empty() ? "" : cerrs[0].message);
    json::value doc =
        json::object{{"spec", g.conforming(raw["properties"].as_object()["spec"].as_object())}};
    auto errs = validateObject(*schema, doc);
    ASSERT_TRUE(errs.empty()) << "seed " << seed << ": " << errs[0].field << ": " << errs[0].message
                              << "\n"
                              << json::serialize(doc);
    json::value pruned = doc;
    prune(*schema, pruned);
    EXPECT_EQ(pruned, doc) << "seed " << seed;

    // One wrong-typed leaf (a scalar swapped for an object) is reported at its own path.
    std::vector<std::pair<std::string, json::value*>> ls;
    leaves(doc, "", ls);
    if (ls.empty()) continue;
    auto& [path, leaf] = ls[g.pick(static_cast<int>(ls.size()))];
    *leaf = json::object{{"wrong", 1}};
    auto bad = validateObject(*schema, doc);
    bool atLeaf = false;
    for (const auto& e : bad) atLeaf = atLeaf || e.field == path.substr(1);
    EXPECT_TRUE(atLeaf) << "seed " << seed << " path " << path << "\n" << json::serialize(doc);
  }
}

TEST(CrdSchemaProperty, ArbitraryDocumentsNeverCrashAndNormalizeIdempotently) {
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    Gen g(seed * 7919);
    json::object raw = rootOf(g.schema(4));
    FieldErrors cerrs;
    auto schema = compileSchema(raw, "s", cerrs);
    ASSERT_TRUE(schema);
    json::value doc = json::object{{"spec", g.junk(5)}, {"metadata", g.junk(2)}, {"w", g.junk(2)}};
    (void)validateObject(*schema, doc);
    json::value once = doc;
    prune(*schema, once);
    applyDefaults(*schema, once);
    EXPECT_TRUE(unknownFields(*schema, once).empty()) << "seed " << seed;
    json::value twice = once;
    prune(*schema, twice);
    applyDefaults(*schema, twice);
    EXPECT_EQ(twice, once) << "seed " << seed;
    EXPECT_EQ(once.as_object().at("metadata"), doc.as_object().at("metadata"));  // kept as is
  }
}

}  // namespace
}  // namespace berth::apiserver::crd
