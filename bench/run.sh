#!/usr/bin/env bash
# bench/run.sh — API server benchmarks against references measured in the same run (`make bench`).
#
# berth (SQLite store) vs etcd 3.4 (writes, lists, watches through its JSON gateway) and nginx
# (reads of a static file), all on 127.0.0.1 with TLS, load from wrk. Installs its tools from
# Debian when missing, uses its own temporary directory, stops only the processes it started.
# Takes about 8 minutes (under 10). The report goes to stdout and to $BENCH_OUT.
#
# Environment knobs (defaults in brackets):
#   BUILD [build]            build directory holding the berth binary
#   BENCH_DURATION [10]      seconds per wrk run
#   BENCH_THREADS [2]        wrk threads       BENCH_CONNS [32]   wrk connections
#   BENCH_RATE [1000]        offered writes/s for the fixed-rate latency run
#   BENCH_WATCHERS [10]      concurrent watch streams
#   BENCH_LIST_PODS [10000]  pods in the listed namespace
#   BENCH_RSS_PODS [100000]  pods to hold for the memory measurement
#   BENCH_RSS_SECONDS [150]  time cap for creating them (the report extrapolates, marked so)
#   BENCH_ROUNDS [3]         alternating rounds for creates, gets, fixed-rate writes (medians)
#   BENCH_MEMORY_STORE [1]   also measure creates with --datastore memory (diagnostic)
#   BENCH_OUT [$BUILD/bench-results.md]
#   BENCH_POD_START [0]      1: first run bench/pod_start.sh (pod start latency vs raw runc and
#                            the node agent's memory, needs root/runc/CNI; report in
#                            $BUILD/pod-start-results.md); only: run it alone and stop
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BERTH="${BERTH:-$BUILD/berth}"

if [[ ! -x "$BERTH" ]]; then
  echo "bench: $BERTH not found; build first (make build, or ninja -C $BUILD berth)" >&2
  exit 1
fi

# Tools: wrk (load), etcd (write/list/watch reference), nginx (read reference), curl (watch
# clients), openssl (reference certificates), python3 (driver).
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # policy-rc.d in containers keeps etcd/nginx from being started as system services; where
  # they are started anyway, they listen on their default ports, which this script never uses.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

case "${BENCH_POD_START:-0}" in
  1) BUILD="$BUILD" BERTH="$BERTH" bash "$ROOT/bench/pod_start.sh" ;;
  only) exec env BUILD="$BUILD" BERTH="$BERTH" bash "$ROOT/bench/pod_start.sh" ;;
esac

OUT="${BENCH_OUT:-$BUILD/bench-results.md}"
mkdir -p "$(dirname "$OUT")"
mem=()
if [[ "${BENCH_MEMORY_STORE:-1}" == 1 ]]; then mem=(--memory-store); fi

exec python3 "$ROOT/bench/api/bench.py" \
  --berth "$BERTH" --out "$OUT" \
  --duration "${BENCH_DURATION:-10}" \
  --threads "${BENCH_THREADS:-2}" --conns "${BENCH_CONNS:-32}" \
  --rate "${BENCH_RATE:-1000}" --rounds "${BENCH_ROUNDS:-3}" \
  --watchers "${BENCH_WATCHERS:-10}" --list-pods "${BENCH_LIST_PODS:-10000}" \
  --rss-pods "${BENCH_RSS_PODS:-100000}" --rss-seconds "${BENCH_RSS_SECONDS:-150}" \
  "${mem[@]}"
