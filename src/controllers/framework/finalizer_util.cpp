#include "controllers/framework/finalizer_util.h"

#include <boost/json.hpp>

#include "controllers/framework/object_util.h"

namespace berth::controllers {

namespace json = boost::json;

bool hasFinalizer(const json::value& obj, std::string_view finalizer) {
  const json::value* list = valueAt(obj, {"metadata", "finalizers"});
  if (!list || !list->is_array()) return false;
  for (const auto& f : list->get_array())
    if (f.is_string() && f.get_string() == finalizer) return true;
  return false;
}

bool needToAddFinalizer(const json::value& obj, std::string_view finalizer) {
  return !isBeingDeleted(obj) && !hasFinalizer(obj, finalizer);
}

bool isDeletionCandidate(const json::value& obj, std::string_view finalizer) {
  return isBeingDeleted(obj) && hasFinalizer(obj, finalizer);
}

namespace {

json::array& finalizersOf(json::value& copy) {
  auto& meta = copy.as_object()["metadata"];
  if (!meta.is_object()) meta = json::object{};
  auto& list = meta.as_object()["finalizers"];
  if (!list.is_array()) list = json::array{};
  return list.as_array();
}

}  // namespace

json::value withFinalizer(const json::value& obj, std::string_view finalizer) {
  json::value copy = obj;
  if (!copy.is_object() || hasFinalizer(copy, finalizer)) return copy;
  finalizersOf(copy).emplace_back(finalizer);
  return copy;
}

json::value withoutFinalizer(const json::value& obj, std::string_view finalizer) {
  json::value copy = obj;
  if (!copy.is_object() || !hasFinalizer(copy, finalizer)) return copy;
  json::array kept;
  for (auto& f : finalizersOf(copy))
    if (!(f.is_string() && f.get_string() == finalizer)) kept.push_back(f);
  finalizersOf(copy) = std::move(kept);
  return copy;
}

}  // namespace berth::controllers
