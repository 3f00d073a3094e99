#!/usr/bin/env bash
# bench/memory_scale.sh: the whole `berth server`'s memory (API server, watch cache, in-process
# controller-manager and scheduler) with NODES simulated nodes (`berth simulate`, 1,000) and PODS
# pods Running on them (20,000). Issue 7's target: < 2 GB at 5,000 nodes and 150,000 pods.
#
# Pods are created already bound (bench/simulate/pods.py with NODES, 8 connections) so the figure
# does not wait on the scheduler's binding rate; the in-process scheduler still caches every
# pod, and the simulated kubelets patch each to Running, so every component holds the pods as
# in a real cluster. With BOUND=0 they are created unbound and the scheduler binds them.
#
# Reported: server RSS fresh, with the nodes, with the pods Running, and glibc's own count of
# bytes in use (malloc_stats through gdb, when gdb is installed) so allocator slack shows.
# SERVER_FLAGS adds flags to `berth server` (e.g. "--disable-scheduler", "--controllers
# -garbagecollector") to attribute memory to a component. Without controllers the nodes get no
# podCIDR and no pod ever runs: the API server alone is "--disable-scheduler --controllers
# nodeipam,serviceaccount".
#
# Settings (environment): NODES (1000), PODS (20000), BOUND (1), SERVER_FLAGS, DATASTORE
# (sqlite), BUILD (./build), TIMEOUT (seconds to wait for Running, 900), HEAPTRACK (a file: run
# the server under heaptrack's preload and, once the pods are measured, SIGKILL it so the file's
# "leaked" allocations are exactly what the server held; `heaptrack_print -f FILE` or
# bench/heap_attribution.py FILE reads it). Loopback only; stops only the processes it started.
# Prints a Markdown section.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
BERTH=${BERTH:-$BUILD/berth}
NODES=${NODES:-1000}
PODS=${PODS:-20000}
BOUND=${BOUND:-1}
DATASTORE=${DATASTORE:-sqlite}
TIMEOUT=${TIMEOUT:-900}
read -r -a EXTRA <<<"${SERVER_FLAGS:-}"
WORK=$(mktemp -d /tmp/berth-memscale.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
source "$ROOT/bench/simulate/lib.sh"

# glibc's own counts of a process (malloc_stats through gdb): "IN_USE SYSTEM ARENAS", the bytes
# in use and the bytes malloc holds from the system (all arenas and mmapped chunks, in MB), and
# how many arenas; "? ? ?" without gdb. SYSTEM - IN_USE is memory freed but kept by malloc.
malloc_counts() {
  command -v gdb >/dev/null || { echo "? ? ?"; return; }
  local before
  before=$(wc -l <"$WORK/server.log")
  gdb -p "$1" -batch -ex 'call (void)malloc_stats()' >/dev/null 2>&1 || { echo "? ? ?"; return; }
  sleep 0.5
  tail -n +"$((before + 1))" "$WORK/server.log" | awk '
    /^Arena [0-9]+:/ {arenas++}
    /^system bytes/ {sys=$NF}
    /^in use bytes/ {use=$NF}
    END {printf "%.1f %.1f %d", use/1048576, sys/1048576, arenas}'
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -n "${HEAPTRACK:-}" ]; then
  # Only the server runs preloaded (the wrapper execs, so SPID stays the server's pid).
  mkfifo "$WORK/heaptrack.pipe"
  /usr/lib/heaptrack/libexec/heaptrack_interpret <"$WORK/heaptrack.pipe" | gzip >"$HEAPTRACK" &
  HEAPTRACK_PID=$!
  REAL_BERTH=$(readlink -f "$BERTH")
  printf '#!/bin/sh\nLD_PRELOAD=/usr/lib/heaptrack/libheaptrack_preload.so DUMP_HEAPTRACK_OUTPUT=%s exec %s "$@"\n' \
    "$WORK/heaptrack.pipe" "$REAL_BERTH" >"$WORK/berth-heaptrack"
  chmod +x "$WORK/berth-heaptrack"
  BERTH=$WORK/berth-heaptrack start_server server "${EXTRA[@]}"
else
  start_server server "${EXTRA[@]}"
fi
FRESH=$(rss_mb "$SPID")
T0=$(date +%s)
start_simulate "$NODES" --stats-interval 30
sleep 10
NODES_RSS=$(rss_mb "$SPID")
P0=$(date +%s)
if [ "$BOUND" = 1 ]; then
  CREATED=$(python3 "$ROOT/bench/simulate/pods.py" create "$URL" "$TOKEN" "$PODS" "$NODES")
else
  CREATED=$(python3 "$ROOT/bench/simulate/pods.py" create "$URL" "$TOKEN" "$PODS")
fi
P1=$(date +%s)
RUNNING=0
while [ $(($(date +%s) - P1)) -lt "$TIMEOUT" ]; do
  RUNNING=$(python3 "$ROOT/bench/simulate/pods.py" running "$URL" "$TOKEN")
  [ "$RUNNING" -ge "$PODS" ] && break
  sleep 5
done
P2=$(date +%s)
sleep 15  # watch history and work queues settle
PODS_RSS=$(rss_mb "$SPID")
PEAK=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$SPID/status")
read -r IN_USE MALLOC_SYSTEM ARENAS <<<"$(malloc_counts "$SPID")"
# RSS by kind: anonymous (heap, stacks) vs file-backed (the binary, libraries, mapped files).
ANON=$(awk '/^Anonymous:/ {printf "%.1f", $2/1024}' "/proc/$SPID/smaps_rollup")
THREADS=$(threads "$SPID")
if [ -n "${HEAPTRACK:-}" ]; then
  kill -9 "$SPID" 2>/dev/null || true
  wait "$HEAPTRACK_PID" 2>/dev/null || true
fi
per_pod() { echo "scale=1; 1024 * ($1 - $2) / $PODS" | bc; }

cat <<REPORT
### Server memory: $NODES simulated nodes, $PODS pods ($(date -u +'%Y-%m-%d %H:%M'), load average $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after, datastore $DATASTORE${SERVER_FLAGS:+, flags \`$SERVER_FLAGS\`})

| | |
|---|---|
| server RSS fresh | $FRESH MB |
| with $NODES nodes | $NODES_RSS MB ($(( $(date +%s) - T0 )) s to register) |
| pods created ($([ "$BOUND" = 1 ] && echo "pre-bound" || echo "bound by the scheduler")) | $CREATED in $((P1 - P0)) s |
| Running | $RUNNING after $((P2 - P0)) s |
| server RSS with the pods Running | **$PODS_RSS MB** (peak $PEAK MB) |
| per pod beyond the nodes | $(per_pod "$PODS_RSS" "$NODES_RSS") KB |
| of it anonymous memory | $ANON MB ($THREADS threads) |
| malloc in use / held from the system (glibc malloc_stats) | $IN_USE MB / $MALLOC_SYSTEM MB in $ARENAS arenas |
REPORT
