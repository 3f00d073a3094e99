#include "kubelet/runtime/oci_spec.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>

namespace json = boost::json;

namespace berth::kubelet::runtime {
namespace {

bool has(const json::array& a, const std::string& s) {
  return std::any_of(a.begin(), a.end(), [&](const json::value& v) { return v == s.c_str(); });
}

ContainerConfig basic() {
  ContainerConfig c;
  c.args = {"sh", "-c", "true"};
  c.env = {"A=1"};
  c.rootfs = "/r";
  c.cgroupsPath = "/berth/podu/c1";
  c.netns = "/p/ns/net";
  c.ipcns = "/p/ns/ipc";
  c.utsns = "/p/ns/uts";
  return c;
}

TEST(OciSpec, ProcessNamespacesAndCgroups) {
  auto c = basic();
  c.uid = 1000;
  c.gid = 2000;
  c.resources.cpuShares = 512;
  c.resources.cpuQuotaMicros = 50000;
  c.resources.memoryLimitBytes = 64 << 20;
  c.mounts.push_back({"/data", "/host/data", "bind", true, {}});
  auto spec = buildOciSpec(c);
  const auto& p = spec.at("process").as_object();
  EXPECT_EQ(p.at("terminal"), false);
  EXPECT_EQ(p.at("args").as_array().size(), 3u);
  EXPECT_EQ(p.at("user").at("uid"), 1000);
  EXPECT_EQ(p.at("user").at("gid"), 2000);
  const auto& lx = spec.at("linux").as_object();
  EXPECT_EQ(lx.at("cgroupsPath"), "/berth/podu/c1");
  EXPECT_EQ(lx.at("resources").at("cpu").at("shares"), 512);
  EXPECT_EQ(lx.at("resources").at("cpu").at("quota"), 50000);
  EXPECT_EQ(lx.at("resources").at("memory").at("limit"), 64 << 20);
  std::map<std::string, std::string> ns;
  for (const auto& n : lx.at("namespaces").as_array())
    ns[std::string(n.at("type").as_string())] =
        n.as_object().contains("path") ? std::string(n.at("path").as_string()) : "";
  EXPECT_EQ(ns["network"], "/p/ns/net");
  EXPECT_EQ(ns["ipc"], "/p/ns/ipc");
  EXPECT_EQ(ns["uts"], "/p/ns/uts");
  EXPECT_EQ(ns["pid"], "");
  EXPECT_EQ(ns["mount"], "");
  EXPECT_FALSE(spec.contains("hostname"));  // the joined UTS namespace has it
  bool found = false;
  for (const auto& m : spec.at("mounts").as_array())
    if (m.at("destination") == "/data") {
      found = true;
      EXPECT_TRUE(has(m.at("options").as_array(), "ro"));
      EXPECT_TRUE(has(m.at("options").as_array(), "rbind"));
    }
  EXPECT_TRUE(found);
}

TEST(OciSpec, CapabilitiesAddDropAndPrivileged) {
  auto c = basic();
  c.capAdd = {"NET_ADMIN"};
  c.capDrop = {"KILL", "CAP_CHOWN"};
  auto caps = effectiveCapabilities(c);
  EXPECT_NE(std::find(caps.begin(), caps.end(), "CAP_NET_ADMIN"), caps.end());
  EXPECT_EQ(std::find(caps.begin(), caps.end(), "CAP_KILL"), caps.end());
  EXPECT_EQ(std::find(caps.begin(), caps.end(), "CAP_CHOWN"), caps.end());
  c.capAdd = {"NET_BIND_SERVICE"};
  c.capDrop = {"ALL"};
  EXPECT_EQ(effectiveCapabilities(c), std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  c.privileged = true;
  EXPECT_GT(effectiveCapabilities(c).size(), 35u);
  auto spec = buildOciSpec(c);
  EXPECT_FALSE(spec.at("linux").as_object().contains("maskedPaths"));
}

TEST(OciSpec, HostNetworkAndReadOnlyRoot) {
  auto c = basic();
  c.hostNetwork = true;
  c.readOnlyRootfs = true;
  c.allowPrivilegeEscalation = false;
  auto spec = buildOciSpec(c);
  for (const auto& n : spec.at("linux").at("namespaces").as_array()) {
    EXPECT_NE(n.at("type"), "network");
    EXPECT_NE(n.at("type"), "uts");
  }
  EXPECT_EQ(spec.at("root").at("readonly"), true);
  EXPECT_EQ(spec.at("process").at("noNewPrivileges"), true);
}

TEST(OciSpec, CpuConversionsAsTheKubelet) {
  EXPECT_EQ(milliCpuToShares(0), 2);
  EXPECT_EQ(milliCpuToShares(1), 2);
  EXPECT_EQ(milliCpuToShares(1000), 1024);
  EXPECT_EQ(milliCpuToQuota(0), 0);
  EXPECT_EQ(milliCpuToQuota(250), 25000);
  EXPECT_EQ(milliCpuToQuota(5), 1000);  // the kernel's minimum of 1 ms
}

}  // namespace
}  // namespace berth::kubelet::runtime
