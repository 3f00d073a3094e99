#!/usr/bin/env bash
# Installs the Debian 12 packages Berth needs to build, test and run, when any is missing.
set -euo pipefail
pkgs=(build-essential cmake ninja-build ccache pkg-config
      libboost1.81-dev libboost-json1.81-dev libssl-dev libsqlite3-dev libyaml-cpp-dev libre2-dev
      libspdlog-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
      python3-kubernetes python3-yaml curl openssl procps iproute2)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ! -x /usr/bin/kubectl ]; then
  echo "note: /usr/bin/kubectl is missing; the e2e tests need the real kubectl 1.32" >&2
fi
