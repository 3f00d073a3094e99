#!/usr/bin/env bash
# bench/pod_start.sh — pod start latency and node agent memory (issue 8), against a raw
# `runc run` of the same bundle measured in the same run.
#
# Topology: one network namespace this script creates; inside it `berth server --disable-agent`
# (the control plane) and `berth agent` (the node, a process of its own so its RSS is the
# agent's alone), both on 127.0.0.1. The test images (scripts/build-test-images.sh) are imported
# first, so no pull is timed. bench/pod_start.py drives it: N pods created at a fixed rate,
# create -> Ready seen by a watch on the client; the agent's RSS with no pods and with N pods;
# then ~20 `runc run -d` of a bundle the agent generated (same rootfs, config, namespaces).
# Everything it started is removed on exit, also on failure: pods, runc containers, shims,
# mounts, cgroups and the namespace.
#
#   bash bench/pod_start.sh            BUILD [build], PODS [100], RATE [5 pods/s], RUNC_RUNS [20],
#                                      BENCH_OUT [$BUILD/pod-start-results.md],
#                                      BENCH_AGENT_LOG [none]: keep the agent's log there
#                                      BERTH_CONTAINER_RUNTIME [runc]: the agent's runtime (crun)
#                                      BERTH_POD_START_TRACE [unset]: set = the agent logs each
#                                        pod start's steps (kubelet/start_trace.h; keep the log
#                                        with BENCH_AGENT_LOG), BENCH_PER_POD [none]: each pod's
#                                        POST time and latency as JSON there, to line them up
# The agent runs `berth-shim` from beside $BERTH; a `berth` alone in a directory runs
# `berth shim` instead (the comparison in BENCHMARKS.md).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BERTH="${BERTH:-$BUILD/berth}"
[ -x "$BERTH" ] || { echo "pod_start: $BERTH not found; build first" >&2; exit 1; }
if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /usr/lib/cni/bridge ]; then
  echo "pod_start: needs root, runc and /usr/lib/cni" >&2
  exit 1
fi
WORK=$(mktemp -d /tmp/berth-podstart.XXXXXX)
NS=berth-ps-$RANDOM$RANDOM
DATA=$WORK/server
AGENT=$WORK/agent
PIDS=()

cleanup() {
  local p id f d c
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for root in "$AGENT/runc" "$WORK/raw/runc"; do
    for id in $(runc --root "$root" list -q 2>/dev/null); do
      runc --root "$root" kill -a "$id" KILL 2>/dev/null
      runc --root "$root" delete -f "$id" 2>/dev/null
    done
  done
  # BERTH_CONTAINER_RUNTIME=crun (read by the agent): crun's containers, through its wrapper.
  for id in $(crun --root "$AGENT/crun" list -q 2>/dev/null); do
    "$(dirname "$BERTH")/berth-crun" --root "$AGENT/crun" kill -a "$id" KILL 2>/dev/null
    "$(dirname "$BERTH")/berth-crun" --root "$AGENT/crun" delete -f "$id" 2>/dev/null
  done
  # Shims and anything else still running from this run's directory (by PID, [/]tmp does not
  # match grep's own command line).
  for f in $(grep -l -- "[${WORK:0:1}]${WORK:1}" /proc/[0-9]*/cmdline 2>/dev/null); do
    f=${f#/proc/}
    kill -9 "${f%/cmdline}" 2>/dev/null
  done
  sleep 0.2
  for d in "$AGENT"/pods/*/; do
    [ -d "$d" ] || continue
    for c in /sys/fs/cgroup/*/berth/pod"$(basename "$d")"; do
      [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  for c in /sys/fs/cgroup/*/berth-bench-"$NS"; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  grep -o " $WORK[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  ip netns del "$NS" 2>/dev/null
  if [ -n "${BENCH_AGENT_LOG:-}" ]; then cp "$WORK/agent.log" "$BENCH_AGENT_LOG"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" && ip netns exec "$NS" ip link set lo up || exit 1
bash "$ROOT/scripts/build-test-images.sh" "$WORK/images" >/dev/null || exit 1
"$BERTH" images --data-dir "$WORK" import "$WORK/images/docker-save.tar" >/dev/null || exit 1

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
export KUBECONFIG=$DATA/admin.kubeconfig
ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
  --secure-port "$PORT" --disable-agent >"$WORK/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 200); do
  [ -f "$KUBECONFIG" ] && ip netns exec "$NS" kubectl get --raw /readyz >/dev/null 2>&1 && break
  sleep 0.1
done
ip netns exec "$NS" "$BERTH" agent --kubeconfig "$KUBECONFIG" --node-name bench-node \
  --data-dir "$AGENT" --kubelet-port 0 >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=($AGENT_PID)

OUT="${BENCH_OUT:-$BUILD/pod-start-results.md}"
mkdir -p "$(dirname "$OUT")"
ip netns exec "$NS" /usr/bin/python3 "$ROOT/bench/pod_start.py" \
  --agent-pid "$AGENT_PID" --agent-dir "$AGENT" --work "$WORK" --cgroup-prefix "berth-bench-$NS" \
  --pods "${PODS:-100}" --rate "${RATE:-5}" --runc-runs "${RUNC_RUNS:-20}" --out "$OUT" \
  ${BENCH_PER_POD:+--per-pod "$BENCH_PER_POD"}
rc=$?
if [ $rc -ne 0 ]; then
  echo "--- agent log (tail) ---" >&2
  tail -20 "$WORK/agent.log" >&2
  ip netns exec "$NS" kubectl describe pods 2>&1 | tail -40 >&2
fi
exit $rc
