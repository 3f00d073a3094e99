#pragma once
// Test helpers for the admission plugins: an in-memory ObjectReader and request attributes.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <tuple>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/object_reader.h"
#include "core/json_access.h"

namespace berth::apiserver::admission::testing {

namespace json = boost::json;

inline json::object parse(const char* text) { return json::parse(text).as_object(); }

inline const core::ResourceType& type(const char* group, const char* plural) {
  const auto* rt = core::findResource(group, "v1", plural);
  EXPECT_NE(rt, nullptr) << plural;
  return *rt;
}

class FakeReader : public ObjectReader {
 public:
  void add(const char* plural, const json::object& obj, const char* group = "") {
    const auto* meta = core::objectField(obj, "metadata");
    objects_[{std::string(group) + "/" + plural, core::stringField(*meta, "namespace"),
              core::stringField(*meta, "name")}] = std::make_shared<const json::object>(obj);
  }
  ObjectRef get(const core::ResourceType& rt, const std::string& ns,
                const std::string& name) const override {
    auto it = objects_.find({rt.group + "/" + rt.plural, ns, name});
    if (it == objects_.end()) return nullptr;
    return it->second;
  }
  std::vector<ObjectRef> list(const core::ResourceType& rt,
                              const std::string& ns) const override {
    std::vector<ObjectRef> out;
    for (const auto& [k, v] : objects_) {
      if (std::get<0>(k) == rt.group + "/" + rt.plural && (ns.empty() || std::get<1>(k) == ns))
        out.push_back(v);
    }
    return out;
  }

 private:
  std::map<std::tuple<std::string, std::string, std::string>, ObjectRef> objects_;
};

// A create (or update, with `old`) of `obj` in `ns`.
struct Request {
  Attributes a;
  json::object obj;
  json::object old;
  std::vector<std::string> warnings;
  std::map<std::string, std::string> annotations;  // audit annotations
  Request(const core::ResourceType& rt, const std::string& ns, json::object o,
          const json::object* oldObj = nullptr, std::string subresource = "") {
    obj = std::move(o);
    a.operation = oldObj ? Operation::kUpdate : Operation::kCreate;
    a.resource = &rt;
    a.ns = ns;
    if (const auto* meta = core::objectField(obj, "metadata"))
      a.name = core::stringField(*meta, "name");
    a.subresource = std::move(subresource);
    a.object = &obj;
    if (oldObj) {
      old = *oldObj;
      a.oldObject = &old;
    }
    a.warnings = &warnings;
    a.auditAnnotations = &annotations;
  }
  Request(const Request&) = delete;
};

}  // namespace berth::apiserver::admission::testing
