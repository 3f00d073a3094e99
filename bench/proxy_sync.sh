#!/usr/bin/env bash
# Proxy sync benchmark (bench/proxy_sync.cpp) in a scratch network namespace of its own.
#   bench/proxy_sync.sh [BUILD_DIR] [N...]     (default: build, 1000 10000)
set -euo pipefail
build=${1:-build}
shift || true
bin=$build/bench/proxy_sync
[ -x "$bin" ] || ninja -C "$build" proxy_sync
ns=berth-proxy-bench-$RANDOM$RANDOM
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip netns exec "$ns" "$bin" "$@"
