// The bootstrap roles of the pvc-protection and pv-protection controllers (upstream
// controller_policy.go), checked through the RBAC authorizer as their ServiceAccounts.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/authz/bootstrap_policy.h"
#include "apiserver/authz/rbac_authorizer.h"
#include "apiserver/authz/request_info.h"

namespace berth::apiserver::authz {
namespace {

using Kind = PolicySource::Kind;

class StorageProtectionRolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& policy = bootstrapPolicy();
    for (const auto& o : policy.clusterRoles)
      source.add(Kind::kClusterRole, boost::json::serialize(o));
    for (const auto& o : policy.clusterRoleBindings)
      source.add(Kind::kClusterRoleBinding, boost::json::serialize(o));
  }
  bool allowed(const std::string& sa, std::string_view method, std::string_view path) {
    Attributes a = requestAttributes(method, path, {});
    a.user.name = "system:serviceaccount:kube-system:" + sa;
    a.user.groups = {"system:serviceaccounts", "system:authenticated"};
    return rbac.authorize(a).allowed();
  }
  StaticPolicySource source;
  RbacAuthorizer rbac{source};
};

TEST_F(StorageProtectionRolesTest, PvcProtectionController) {
  const std::string sa = "pvc-protection-controller";
  EXPECT_TRUE(allowed(sa, "GET", "/api/v1/persistentvolumeclaims"));
  EXPECT_TRUE(allowed(sa, "PUT", "/api/v1/namespaces/d/persistentvolumeclaims/c"));
  EXPECT_TRUE(allowed(sa, "GET", "/api/v1/namespaces/d/pods"));
  EXPECT_TRUE(allowed(sa, "POST", "/api/v1/namespaces/d/events"));
  EXPECT_FALSE(allowed(sa, "DELETE", "/api/v1/namespaces/d/persistentvolumeclaims/c"));
  EXPECT_FALSE(allowed(sa, "PUT", "/api/v1/namespaces/d/pods/p"));
  EXPECT_FALSE(allowed(sa, "PUT", "/api/v1/persistentvolumes/v"));
}

TEST_F(StorageProtectionRolesTest, PvProtectionController) {
  const std::string sa = "pv-protection-controller";
  EXPECT_TRUE(allowed(sa, "GET", "/api/v1/persistentvolumes"));
  EXPECT_TRUE(allowed(sa, "PUT", "/api/v1/persistentvolumes/v"));
  EXPECT_FALSE(allowed(sa, "DELETE", "/api/v1/persistentvolumes/v"));
  EXPECT_FALSE(allowed(sa, "GET", "/api/v1/namespaces/d/persistentvolumeclaims"));
}

}  // namespace
}  // namespace berth::apiserver::authz
