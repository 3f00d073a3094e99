#include "cmd/component_identity.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>

#include "apiserver/http/pki.h"
#include "core/base64.h"

namespace berth::cmd {

core::Result<client::RestConfig> componentCredentials(const std::string& dataDir,
                                                      const client::RestConfig& admin,
                                                      const std::string& fileStem,
                                                      const std::string& user,
                                                      const std::vector<std::string>& groups) {
  std::string certPem, keyPem;
  if (auto st = apiserver::http::issueClientCert(dataDir + "/tls", user, groups, &certPem, &keyPem);
      !st.ok())
    return st;
  std::string kubeconfig =
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: berth\n"
      "  cluster:\n"
      "    server: " + admin.server + "\n"
      "    certificate-authority-data: " + core::base64Encode(admin.caPem) + "\n"
      "users:\n"
      "- name: " + fileStem + "\n"
      "  user:\n"
      "    client-certificate-data: " + core::base64Encode(certPem) + "\n"
      "    client-key-data: " + core::base64Encode(keyPem) + "\n"
      "contexts:\n"
      "- name: berth\n"
      "  context:\n"
      "    cluster: berth\n"
      "    user: " + fileStem + "\n"
      "current-context: berth\n";
  std::string path = dataDir + "/" + fileStem + ".kubeconfig";
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    ::chmod(tmp.c_str(), 0600);  // before the key is in it
    out << kubeconfig;
    if (!out.flush()) return core::Status::internal("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return core::Status::internal("cannot write " + path + ": " + ec.message());
  auto config = client::loadKubeconfig(path);
  if (!config.ok()) return config.status();
  // Everything else (rates, timeouts, user agent) as the admin client had it.
  client::RestConfig out = admin;
  out.bearerToken.clear();
  out.clientCertPem = config->clientCertPem;
  out.clientKeyPem = config->clientKeyPem;
  return out;
}

std::string nodeNameOrHost(std::string name) {
  if (name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    name = host;
  }
  for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return name;
}

}  // namespace berth::cmd
