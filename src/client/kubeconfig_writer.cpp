#include "client/kubeconfig_writer.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/base64.h"

namespace berth::client {

std::string kubeconfigYaml(const KubeconfigEntry& entry) {
  std::string y = "apiVersion: v1\nkind: Config\n";
  y += "clusters:\n- name: berth\n  cluster:\n";
  y += "    server: " + entry.server + "\n";
  y += "    certificate-authority-data: " + core::base64Encode(entry.caPem) + "\n";
  y += "users:\n- name: " + entry.userName + "\n  user:\n";
  if (!entry.bearerToken.empty()) y += "    token: " + entry.bearerToken + "\n";
  if (!entry.clientCertPem.empty())
    y += "    client-certificate-data: " + core::base64Encode(entry.clientCertPem) + "\n";
  if (!entry.clientKeyPem.empty())
    y += "    client-key-data: " + core::base64Encode(entry.clientKeyPem) + "\n";
  y += "contexts:\n- name: berth\n  context:\n    cluster: berth\n";
  y += "    user: " + entry.userName + "\n";
  if (!entry.defaultNamespace.empty()) y += "    namespace: " + entry.defaultNamespace + "\n";
  y += "current-context: berth\n";
  return y;
}

core::Status writeKubeconfig(const std::string& path, const KubeconfigEntry& entry) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return core::Status::internal("cannot write " + tmp);
    ::chmod(tmp.c_str(), 0600);  // before the credential is in it
    out << kubeconfigYaml(entry);
    if (!out.flush()) return core::Status::internal("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return core::Status::internal("cannot write " + path + ": " + ec.message());
  return {};
}

}  // namespace berth::client
