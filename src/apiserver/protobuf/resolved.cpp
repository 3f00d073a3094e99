#include "apiserver/protobuf/resolved.h"

#include <cassert>
#include <vector>

namespace berth::apiserver::protobuf::internal {
namespace {

using Table = std::vector<std::vector<ResolvedType>>;

Table build() {
  auto all = allMessages();
  Table table(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (const FieldSchema& f : all[i].fields) {
      ResolvedType r;
      if (!f.messageType.empty()) {
        r.special = specialOf(f.messageType);
        r.message = findMessage(f.messageType);
      }
      table[i].push_back(r);
    }
  }
  return table;
}

}  // namespace

Special specialOf(std::string_view name) {
  constexpr std::string_view kMeta = "k8s.io.apimachinery.pkg.apis.meta.v1.";
  if (name.starts_with(kMeta)) {
    std::string_view local = name.substr(kMeta.size());
    if (local == "Time") return Special::kTime;
    if (local == "MicroTime") return Special::kMicroTime;
    if (local == "Duration") return Special::kDuration;
    if (local == "FieldsV1") return Special::kRawExtension;
    return Special::kNone;
  }
  if (name == "k8s.io.apimachinery.pkg.api.resource.Quantity" ||
      name == "k8s.io.apimachinery.pkg.api.resource.QuantityValue") {
    return Special::kQuantity;
  }
  if (name == "k8s.io.apimachinery.pkg.util.intstr.IntOrString") return Special::kIntOrString;
  if (name == "k8s.io.apimachinery.pkg.runtime.RawExtension") return Special::kRawExtension;
  return Special::kNone;
}

const ResolvedType& resolveField(const MessageSchema& owner, const FieldSchema& field) {
  static const Table table = build();
  auto all = allMessages();
  const auto messageIndex = static_cast<std::size_t>(&owner - all.data());
  const auto fieldIndex = static_cast<std::size_t>(&field - owner.fields.data());
  assert(messageIndex < table.size() && fieldIndex < table[messageIndex].size());
  return table[messageIndex][fieldIndex];
}

}  // namespace berth::apiserver::protobuf::internal
