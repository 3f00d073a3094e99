#!/usr/bin/env bash
# bench/get_ab.sh OLD_BERTH NEW_BERTH [ROUNDS]: GETs of one Pod from two berth builds, alternating
# fresh servers (wrk: 2 threads, 32 connections, 8 s, TLS), one line per run. Used to tell a
# regression of the GET path from run-to-run noise of the full `make bench` (same machine, same
# minute). Loopback only; stops only the servers it started.
set -euo pipefail
OLD=${1:?usage: get_ab.sh OLD_BERTH NEW_BERTH [ROUNDS]}
NEW=${2:?usage: get_ab.sh OLD_BERTH NEW_BERTH [ROUNDS]}
ROUNDS=${3:-5}
LUA="$(cd "$(dirname "$0")" && pwd)/api/load.lua"

one() {
  local bin=$1 label=$2 dir port tok pid rps
  dir=$(mktemp -d /tmp/berth-getab.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" server --data-dir "$dir/data" --bind-address 127.0.0.1 --secure-port "$port" \
    >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    [ -f "$dir/data/admin.token" ] && curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  tok=$(cat "$dir/data/admin.token")
  curl -sk -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -o /dev/null \
    "https://127.0.0.1:$port/api/v1/namespaces/default/pods" \
    -d '{"metadata":{"name":"p1"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
  rps=$(BENCH_TOKEN=$tok wrk -t2 -c32 -d8s -s "$LUA" \
    "https://127.0.0.1:$port/api/v1/namespaces/default/pods/p1" | awk '/Requests\/sec/ {print $2}')
  echo "$label $rps"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

for _ in $(seq "$ROUNDS"); do
  one "$OLD" old
  one "$NEW" new
done
