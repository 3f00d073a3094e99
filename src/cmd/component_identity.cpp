#include "cmd/component_identity.h"

#include <unistd.h>

#include <cctype>

#include "apiserver/http/pki.h"
#include "client/kubeconfig_writer.h"

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
  client::KubeconfigEntry entry{.server = admin.server,
                                .caPem = admin.caPem,
                                .userName = fileStem,
                                .clientCertPem = certPem,
                                .clientKeyPem = keyPem};
  std::string path = dataDir + "/" + fileStem + ".kubeconfig";
  if (auto st = client::writeKubeconfig(path, entry); !st.ok()) return st;
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
