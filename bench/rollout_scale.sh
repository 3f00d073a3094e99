#!/usr/bin/env bash
# bench/rollout_scale.sh: time from creating a Deployment of REPLICAS (10,000) to all its pods
# Running on NODES (1,000) simulated nodes, against a fresh `berth server` (SQLite store;
# controllers and scheduler in-process, as a user runs it) and `berth simulate`. Reported per
# stage: pods created by the ReplicaSet controller, bound by the scheduler, Running from the
# simulated kubelets, and when the Deployment reports all replicas available.
#
# The reference, measured in the same run on a second fresh server with the same flags: the raw
# rate at which it accepts REPLICAS pod creates from one client with 16 concurrent requests (the
# ReplicaSet controller's own create concurrency), so the rollout figure can be read as a ratio.
#
# Settings (environment): NODES (1000), REPLICAS (10000), DATASTORE (sqlite), BUILD (./build),
# TIMEOUT (seconds for the rollout, 600), PERF (1: record the server with perf during the
# rollout, report in $PERF_OUT, default /tmp/rollout-perf.txt; PERF_ARGS, default -g, are perf
# record's options; PERF_DATA keeps perf.data at that path). Loopback only; stops only the
# processes it started. Prints a Markdown section.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
BERTH=${BERTH:-$BUILD/berth}
TOOL=$BUILD/bench/rollout_scale
NODES=${NODES:-1000}
REPLICAS=${REPLICAS:-10000}
DATASTORE=${DATASTORE:-sqlite}
TIMEOUT=${TIMEOUT:-600}
PERF=${PERF:-0}
PERF_OUT=${PERF_OUT:-/tmp/rollout-perf.txt}
PERF_ARGS=${PERF_ARGS:--g}
PERF_DATA=${PERF_DATA:-}
WORK=$(mktemp -d /tmp/berth-rollout.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
source "$ROOT/bench/simulate/lib.sh"
[ -x "$TOOL" ] || { echo "build it first: ninja -C $BUILD berth rollout_scale"; exit 1; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# Reference: raw pod creates on a fresh server.
start_server reference
REF_LINE=$("$TOOL" create-rate --kubeconfig "$KCFG" --count "$REPLICAS" --threads 16)
REF_RATE=$(echo "$REF_LINE" | sed -n 's/.*: \([0-9]*\)\/s.*/\1/p')
kill "$SPID"; wait "$SPID" 2>/dev/null || true

# The rollout.
start_server rollout
T0=$(date +%s.%N)
start_simulate "$NODES" --stats-interval 10
READY=0
for _ in $(seq 600); do
  READY=$(KUBECONFIG=$KCFG HOME=$WORK kubectl get nodes --no-headers 2>/dev/null | grep -c ' Ready ' || true)
  [ "$READY" -ge "$NODES" ] && break
  sleep 1
done
NODES_S=$(echo "$(date +%s.%N) - $T0" | bc)
sleep 5
RSS_BEFORE=$(rss_mb "$SPID")
S0=$(cpu_ticks "$SPID"); M0=$(cpu_ticks "$SIMPID"); W0=$(date +%s.%N)
if [ "$PERF" = 1 ]; then
  # shellcheck disable=SC2086
  perf record $PERF_ARGS -p "$SPID" -o "$WORK/perf.data" >/dev/null 2>&1 &
  PERFPID=$!
fi
set +e
"$TOOL" rollout --kubeconfig "$KCFG" --replicas "$REPLICAS" --timeout "$TIMEOUT" >"$WORK/rollout.out"
ROLLOUT_RC=$?
set -e
S1=$(cpu_ticks "$SPID"); M1=$(cpu_ticks "$SIMPID"); W1=$(date +%s.%N)
if [ "$PERF" = 1 ]; then
  kill -INT "$PERFPID"; wait "$PERFPID" 2>/dev/null || true
  perf report -i "$WORK/perf.data" --no-children --percent-limit 0.5 --stdio >"$PERF_OUT" 2>/dev/null || true
  [ -n "$PERF_DATA" ] && cp "$WORK/perf.data" "$PERF_DATA"
fi
RSS_AFTER=$(rss_mb "$SPID")
# What the server did for the rollout: writes by verb/resource, and the ReplicaSet and
# Deployment controllers' syncs (count, mean duration) from the in-process controller-manager.
curl -sk -H "Authorization: Bearer $TOKEN" "$URL/metrics" >"$WORK/metrics.txt" 2>/dev/null || true
REQUESTS=$(python3 - "$WORK/metrics.txt" <<'PY'
import re, sys, collections
counts = collections.Counter()
syncs = {}
for line in open(sys.argv[1]):
    m = re.match(r'apiserver_request_total\{(.*)\} ([0-9.e+]+)$', line)
    if m:
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if labels.get("verb") in ("POST", "PUT", "PATCH", "DELETE", "CREATE", "UPDATE") or \
           labels.get("verb", "").lower() in ("create", "update", "patch", "delete"):
            key = labels.get("verb", "").upper() + " " + labels.get("resource", "") + \
                  ("/" + labels["subresource"] if labels.get("subresource") else "")
            counts[key] += float(m.group(2))
    m = re.match(r'berth_controller_sync_duration_seconds_(sum|count)\{controller="(replicaset|deployment)"\} ([0-9.e+]+)$', line)
    if m:
        syncs.setdefault(m.group(2), {})[m.group(1)] = float(m.group(3))
parts = ["%s %d" % (k, v) for k, v in counts.most_common() if v >= 20]
for c, d in sorted(syncs.items()):
    n = d.get("count", 0)
    parts.append("%s syncs %d (mean %.1f ms)" % (c, n, 1000 * d.get("sum", 0) / n if n else 0))
print("; ".join(parts))
PY
)
TICK=$(getconf CLK_TCK)
WALL=$(echo "$W1 - $W0" | bc)
AVAIL=$(sed -n 's/.*available.*\*\*\([0-9.]*\) s\*\*.*/\1/p' "$WORK/rollout.out")
EVENTS=$(curl -sk -H "Authorization: Bearer $TOKEN" "$URL/api/v1/namespaces/rollout/events?limit=1" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["metadata"].get("remainingItemCount",0)+len(d["items"]))' 2>/dev/null || echo "?")

cat <<REPORT
### Rollout: $REPLICAS replicas on $NODES simulated nodes ($(date -u +'%Y-%m-%d %H:%M'), load average $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after, datastore $DATASTORE)

Nodes: $READY of $NODES Ready ${NODES_S%.*} s after \`berth simulate\` started.

$(cat "$WORK/rollout.out")

| | |
|---|---|
| reference: $REPLICAS raw pod creates, 16 concurrent, fresh server | $REF_LINE |
| rollout time to all available | ${AVAIL:-not reached} s; pods/s end to end $( [ -n "$AVAIL" ] && echo "scale=0; $REPLICAS / $AVAIL" | bc ) ($( [ -n "$AVAIL" ] && [ -n "$REF_RATE" ] && echo "scale=2; $REPLICAS / $AVAIL / $REF_RATE" | bc )x the reference) |
| server CPU during the rollout | $(echo "scale=0; 100 * ($S1 - $S0) / $TICK / $WALL" | bc)% of one core over $(printf %.1f "$WALL") s |
| simulator CPU during the rollout | $(echo "scale=0; 100 * ($M1 - $M0) / $TICK / $WALL" | bc)% of one core |
| server RSS before / after | $RSS_BEFORE MB / $RSS_AFTER MB |
| Events in the namespace | $EVENTS |
| writes served (apiserver_request_total, ≥ 20) and controller syncs | ${REQUESTS:-?} |
REPORT
exit $ROLLOUT_RC
