#include "client/kubeconfig_writer.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/base64.h"

namespace berth::client {

std::string kubeconfigYaml(const KubeconfigEntry& entry) {
  std::string user;
  if (!entry.bearerToken.empty()) user += "    token: " + entry.bearerToken + "\n";
  if (!entry.clientCertPem.empty())
    user += "    client-certificate-data: " + core::base64Encode(entry.clientCertPem) + "\n";
  if (!entry.clientKeyPem.empty())
    user += "    client-key-data: " + core::base64Encode(entry.clientKeyPem) + "\n";
  std::string ns;
  if (!entry.defaultNamespace.empty()) ns = "    namespace: " + entry.defaultNamespace + "\n";
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: berth\n"
         "  cluster:\n"
         "    server: " + entry.server + "\n"
         "    certificate-authority-data: " + core::base64Encode(entry.caPem) + "\n"
         "users:\n"
         "- name: " + entry.userName + "\n"
         "  user:\n" + user +
         "contexts:\n"
         "- name: berth\n"
         "  context:\n"
         "    cluster: berth\n"
         "    user: " + entry.userName + "\n" + ns +
         "current-context: berth\n";
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
