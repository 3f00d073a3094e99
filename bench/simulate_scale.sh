#!/usr/bin/env bash
# bench/simulate_scale.sh: what N simulated nodes (`berth simulate`, default 5,000) cost the API
# server, against a reference measured in the same run: a fresh server holding the same number
# of bare idle watch connections (bench/simulate/idle_watches.py). Each simulated node is a
# real kubelet's load: one pod watch connection, a Lease renewal every 10 s, a Node status check
# every 10 s and a heartbeat every minute. Prints a Markdown table.
#
# Then, with PODS > 0, that many pods are created (the in-process scheduler binds them, the
# simulated kubelets run them) and the server's RSS is measured again once all are Running.
#
# Settings (environment): NODES (5000), STEADY (seconds of steady state measured, 30), PODS (0),
# DATASTORE (sqlite), BUILD (./build). Loopback only; stops only the processes it started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
BERTH=$BUILD/berth
NODES=${NODES:-5000}
STEADY=${STEADY:-30}
PODS=${PODS:-0}
DATASTORE=${DATASTORE:-sqlite}
WORK=$(mktemp -d /tmp/berth-simscale.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

source "$ROOT/bench/simulate/lib.sh"

# Reference: bare idle watches.
start_server reference
REF_IDLE=$(rss_mb "$SPID")
python3 "$ROOT/bench/simulate/idle_watches.py" "$URL" "$TOKEN" "$NODES" >"$WORK/watches.out" 2>&1 &
WPID=$!
PIDS+=("$WPID")
for _ in $(seq 1200); do grep -q ready "$WORK/watches.out" && break; sleep 0.5; done
grep -q "ready $NODES" "$WORK/watches.out" || { echo "idle watches did not open:"; cat "$WORK/watches.out"; exit 1; }
sleep 5
REF_RSS=$(rss_mb "$SPID")
REF_FDS=$(conns "$SPID")
kill "$WPID" "$SPID"

# Berth with N simulated nodes.
start_server simulated
SIM_IDLE=$(rss_mb "$SPID")
T0=$(date +%s.%N)
start_simulate "$NODES" --stats-interval 10
T1=$(date +%s.%N)
REGISTER_S=$(echo "$T1 - $T0" | bc)
sleep 10  # first renewals and status checks of every node
S0=$(cpu_ticks "$SPID"); M0=$(cpu_ticks "$SIMPID"); W0=$(date +%s.%N)
sleep "$STEADY"
S1=$(cpu_ticks "$SPID"); M1=$(cpu_ticks "$SIMPID"); W1=$(date +%s.%N)
TICK=$(getconf CLK_TCK)
WALL=$(echo "$W1 - $W0" | bc)
SERVER_CPU=$(echo "scale=1; 100 * ($S1 - $S0) / $TICK / $WALL" | bc)
SIM_CPU=$(echo "scale=1; 100 * ($M1 - $M0) / $TICK / $WALL" | bc)
SIM_RSS=$(rss_mb "$SPID")
SIM_FDS=$(conns "$SPID")
CLIENT_RSS=$(rss_mb "$SIMPID")
CLIENT_THREADS=$(threads "$SIMPID")
READY=$(KUBECONFIG=$KCFG HOME=$WORK kubectl get nodes --no-headers 2>/dev/null | grep -c ' Ready ' || true)
PODS_LINE=""
if [ "$PODS" -gt 0 ]; then
  P0=$(date +%s.%N)
  CREATED=$(python3 "$ROOT/bench/simulate/pods.py" create "$URL" "$TOKEN" "$PODS")
  RUNNING=0
  for _ in $(seq 120); do
    RUNNING=$(python3 "$ROOT/bench/simulate/pods.py" running "$URL" "$TOKEN")
    [ "$RUNNING" -ge "$PODS" ] && break
    sleep 5
  done
  P1=$(date +%s.%N)
  PODS_RSS=$(rss_mb "$SPID")
  PODS_LINE="With $PODS pods ($CREATED): $RUNNING Running $(echo "$P1 - $P0" | bc | cut -d. -f1) s after the first create; server RSS **$PODS_RSS MB** ($(echo "scale=1; 1024 * ($PODS_RSS - $SIM_RSS) / $PODS" | bc) KB per pod beyond the nodes), simulator RSS $(rss_mb "$SIMPID") MB."
fi
kill -TERM "$SIMPID"; wait "$SIMPID" 2>/dev/null || true
STATS=$(tail -1 "$WORK/sim.log")

per() { echo "scale=1; 1024 * ($1 - $2) / $NODES" | bc; }
cat <<REPORT
### berth simulate: $NODES nodes ($(date -u +'%Y-%m-%d %H:%M'), load average $(cut -d' ' -f1 /proc/loadavg), datastore $DATASTORE)

| | reference: $NODES bare idle watches | $NODES simulated nodes |
|---|---|---|
| server RSS fresh | $REF_IDLE MB | $SIM_IDLE MB |
| server RSS loaded | $REF_RSS MB | $SIM_RSS MB |
| per watch / per node | $(per "$REF_RSS" "$REF_IDLE") KB | $(per "$SIM_RSS" "$SIM_IDLE") KB ($(echo "scale=2; ($SIM_RSS - $SIM_IDLE) / ($REF_RSS - $REF_IDLE)" | bc)x the reference) |
| server descriptors | $REF_FDS | $SIM_FDS |
| server CPU, steady state | – | $SERVER_CPU% of one core |

Simulator: registered and watching after ${REGISTER_S%.*} s; $READY nodes Ready in kubectl;
RSS $CLIENT_RSS MB with $CLIENT_THREADS threads; CPU $SIM_CPU% of one core in the steady state.
Its summary: \`${STATS#berth simulate: }\`
$PODS_LINE
REPORT
