#include "apiserver/admission/admission.h"

namespace berth::apiserver::admission {

std::string_view operationName(Operation op) {
  switch (op) {
    case Operation::kCreate:
      return "CREATE";
    case Operation::kUpdate:
      return "UPDATE";
    case Operation::kDelete:
      return "DELETE";
    case Operation::kConnect:
      return "CONNECT";
  }
  return "";
}

core::Status Chain::admit(Attributes& a) const {
  for (const auto& p : plugins_) {
    if (auto st = p->admit(a); !st.ok()) return st;
  }
  return {};
}

core::Status Chain::validate(const Attributes& a) const {
  for (const auto& p : plugins_) {
    if (auto st = p->validate(a); !st.ok()) return st;
  }
  return {};
}

}  // namespace berth::apiserver::admission
