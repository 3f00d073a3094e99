#pragma once
// Helpers shared by the kinds tests: catalogue lookups, the API server's create/update
// pipelines, and cause matching.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

#include "core/kinds/strategy.h"
#include "core/resources.h"

namespace berth::core::kinds::testing {

namespace json = boost::json;

inline const ResourceType& resource(const char* group, const char* version, const char* plural) {
  const ResourceType* rt = findResource(group, version, plural);
  if (rt == nullptr) {
    ADD_FAILURE() << "no resource " << group << "/" << version << "/" << plural;
    static const ResourceType kNone;
    return kNone;
  }
  return *rt;
}

inline json::object parse(const char* text) { return json::parse(text).as_object(); }

// convertToStorage → prepareForCreate → applyDefaults → validateCreate, as the server does.
inline FieldErrors create(const ResourceType& rt, json::object& obj) {
  convertToStorage(rt, obj);
  prepareForCreate(rt, obj);
  applyDefaults(rt, obj);
  return validateCreate(rt, obj);
}

inline FieldErrors update(const ResourceType& rt, json::object& obj, const json::object& old,
                          bool statusUpdate = false) {
  convertToStorage(rt, obj);
  prepareForUpdate(rt, obj, old, statusUpdate);
  applyDefaults(rt, obj);
  setGenerationAfterUpdate(rt, obj, old, statusUpdate);
  return validateUpdate(rt, obj, old);
}

inline std::string describe(const FieldErrors& errs) {
  std::string s;
  for (const auto& e : errs) s += "  " + e.field + " [" + e.reason + "] " + e.message + "\n";
  return s;
}

inline bool hasCause(const FieldErrors& errs, std::string_view field, std::string_view reason,
                     std::string_view message = "") {
  for (const auto& e : errs) {
    if (e.field == field && e.reason == reason && (message.empty() || e.message == message)) {
      return true;
    }
  }
  return false;
}

// A value at a dotted path ("spec.template.spec.restartPolicy"); null when absent.
inline json::value at(const json::object& obj, std::string_view path) {
  const json::value* cur = nullptr;
  const json::object* o = &obj;
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string_view head = path.substr(0, dot);
    if (o == nullptr) return nullptr;
    cur = o->if_contains(head);
    if (cur == nullptr) return nullptr;
    o = cur->if_object();
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return cur != nullptr ? *cur : json::value(nullptr);
}

}  // namespace berth::core::kinds::testing

#define EXPECT_VALID(errs)                                                        \
  do {                                                                            \
    const auto& errs_ = (errs);                                                   \
    EXPECT_TRUE(errs_.empty()) << ::berth::core::kinds::testing::describe(errs_); \
  } while (0)
#define EXPECT_CAUSE(errs, field, reason, message)                                      \
  do {                                                                                  \
    const auto& errs_ = (errs);                                                         \
    EXPECT_TRUE(::berth::core::kinds::testing::hasCause(errs_, field, reason, message)) \
        << "missing " << field << " [" << reason << "] " << message << "\nin:\n"        \
        << ::berth::core::kinds::testing::describe(errs_);                              \
  } while (0)
