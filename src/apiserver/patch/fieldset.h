#pragma once
// Internal to server-side apply: a set of field paths in upstream's FieldsV1 form
// (sigs.k8s.io/structured-merge-diff). A path is a sequence of encoded elements: "f:<name>" for
// a map field, "k:<json object of merge key>" for an associative-list item, "v:<json>" for a
// set-list member. A node is a member of the set itself ("." in FieldsV1, or an empty object for
// a leaf) and/or the parent of member paths.
//
// Thread-safety: a plain value type.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/resources.h"

namespace berth::apiserver::patch::internal {

using FieldPath = std::vector<std::string>;

class FieldSet {
 public:
  // Every leaf, list item and set member of `obj` (lists typed by listTypeOf for rt).
  static FieldSet fromObject(const boost::json::object& obj, const core::ResourceType& rt);
  // Decodes FieldsV1; malformed input yields what could be read.
  static FieldSet fromFieldsV1(const boost::json::value& fields);
  boost::json::object toFieldsV1() const;

  bool empty() const { return !member_ && children_.empty(); }
  bool contains(const FieldPath& path) const;
  // A member with nothing below it: a scalar, null, empty map or atomic list.
  bool isLeaf(const FieldPath& path) const;
  // True when `path` or anything below it is a member.
  bool containsAnyUnder(const FieldPath& path) const;
  void insert(const FieldPath& path);
  // Adds every member of `other`.
  void merge(const FieldSet& other);
  void erase(const FieldPath& path);
  // Erases `path` and everything below it.
  void eraseSubtree(const FieldPath& path);
  void forEach(const std::function<void(const FieldPath&)>& fn) const;
  std::vector<FieldPath> paths() const;

  // Keep only the subtree at `element` (e.g. "f:status"), or drop it.
  void keepOnlyChild(const std::string& element);
  void dropChild(const std::string& element);
  FieldSet* child(const std::string& element);

 private:
  static void collect(const boost::json::value& value, FieldSet& node,
                      std::vector<std::string>& names, const core::ResourceType& rt);
  const FieldSet* find(const FieldPath& path) const;
  void forEachImpl(FieldPath& prefix, const std::function<void(const FieldPath&)>& fn) const;

  bool member_ = false;
  std::map<std::string, FieldSet> children_;
};

// The value at `path` in `obj`, or nullptr.
const boost::json::value* valueAt(const boost::json::object& obj, const FieldPath& path);
// Removes the value at `path` from `obj` (no-op when absent). A merge-key field of a list item
// is never removed alone.
void removeAt(boost::json::object& obj, const FieldPath& path);
// `.spec.containers[name="c"].image`, as upstream prints a path.
std::string pathString(const FieldPath& path);

}  // namespace berth::apiserver::patch::internal
