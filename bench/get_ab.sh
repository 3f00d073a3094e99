#!/usr/bin/env bash
# bench/get_ab.sh OLD_BERTH NEW_BERTH [ROUNDS]: GETs of one Pod from two berth builds, alternating
# fresh servers (wrk: 2 threads, 32 connections, 8 s, TLS), one line per run. Used to tell a
# regression of the GET path from run-to-run noise of the full `make bench` (same machine, same
# minute); each line also gives the server's CPU time per request. Loopback only; no node agent;
# stops only the servers it started.
set -euo pipefail
OLD=${1:?usage: get_ab.sh OLD_BERTH NEW_BERTH [ROUNDS]}
NEW=${2:?usage: get_ab.sh OLD_BERTH NEW_BERTH [ROUNDS]}
ROUNDS=${3:-5}
LUA="$(cd "$(dirname "$0")" && pwd)/api/load.lua"

one() {
  local bin=$1 label=$2 dir port tok pid rps out requests cpu0 cpu1 us
  dir=$(mktemp -d /tmp/berth-getab.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # No node agent: it would set up pod networking (bridge, nftables) in this network namespace,
  # and a GET needs none of it.
  "$bin" server --data-dir "$dir/data" --bind-address 127.0.0.1 --secure-port "$port" \
    --disable-agent >"$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    [ -f "$dir/data/admin.token" ] && curl -sfk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  tok=$(cat "$dir/data/admin.token")
  # The Pod must exist (readyz can pass before the default namespace does): every GET a 200.
  for _ in $(seq 50); do
    curl -sfk -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -o /dev/null \
      "https://127.0.0.1:$port/api/v1/namespaces/default/pods" \
      -d '{"metadata":{"name":"p1"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}' &&
      break
    sleep 0.1
  done
  # Server CPU (user + system clock ticks from /proc) per request as well: on a shared
  # machine, requests/s follows whatever else runs; the CPU a request costs the server less so.
  cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(BENCH_TOKEN=$tok wrk -t2 -c32 -d8s -s "$LUA" \
    "https://127.0.0.1:$port/api/v1/namespaces/default/pods/p1")
  cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  us=$(awk -v t=$((cpu1 - cpu0)) -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.1f", (n > 0) ? t * 1e6 / hz / n : 0 }')
  if grep -q "Non-2xx" <<<"$out"; then rps="$rps (non-2xx answers: invalid)"; fi
  echo "$label $rps req/s, server CPU $us us/request"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

for _ in $(seq "$ROUNDS"); do
  one "$OLD" old
  one "$NEW" new
done
