#!/usr/bin/env bash
# Installs the Debian 12 packages Berth needs to build, test and run, when any is missing.
set -euo pipefail
pkgs=(build-essential cmake ninja-build ccache pkg-config
      libboost1.81-dev libboost-json1.81-dev libssl-dev libsqlite3-dev libyaml-cpp-dev zlib1g-dev
      libre2-dev libsodium-dev
      libnghttp2-dev python3-h2  # HTTP/2 probes (src/kubelet/probe_http2.*) and their test server
      libspdlog-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
      python3-kubernetes python3-yaml curl openssl procps iproute2
      libarchive-dev runc crun containernetworking-plugins docker-registry busybox-static
      nftables etcd-server etcd-client
      tzdata   # named time zones of CEL timestamp accessors (src/cel/tzif.*)
      nginx)   # the ingress controller's nginx, started and supervised by the node agent
# Debian's own kubectl (1.20) on a box with none, so the README's tour works with nothing else.
# Only then: kubernetes-client conflicts with a kubectl installed otherwise (e.g. Google's SDK).
[ -e /usr/bin/kubectl ] || pkgs+=(kubernetes-client)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # On a systemd host the package starts its own nginx on :80, which would hold the ports the
  # ingress controller's nginx needs: Berth runs nginx itself, so the packaged service goes.
  if [[ " ${missing[*]} " == *" nginx "* ]] && [ -d /run/systemd/system ] &&
     systemctl is-enabled --quiet nginx 2>/dev/null; then
    echo "install-deps: disabling the packaged nginx service (berth's ingress runs its own nginx)"
    systemctl disable --now nginx || true
  fi
fi
