#pragma once
// Test helper: the authorization attributes of a request made by node `node`.
#include <map>
#include <string>
#include <string_view>

#include "apiserver/authz/request_info.h"

namespace berth::apiserver::authz {

inline Attributes nodeReq(const std::string& node, std::string_view method, std::string_view path,
                          std::multimap<std::string, std::string> q = {}) {
  Attributes a = requestAttributes(method, path, q);
  a.user.name = "system:node:" + node;
  a.user.groups = {"system:nodes", "system:authenticated"};
  return a;
}

}  // namespace berth::apiserver::authz
