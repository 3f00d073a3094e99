# bench/simulate/lib.sh: shared by bench/simulate_scale.sh and bench/rollout_scale.sh. Expects
# BERTH, WORK, DATASTORE and the PIDS array; loopback only.

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
threads() { awk '/Threads/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
conns() { ls "/proc/$1/fd" | wc -l; }

# start_server NAME [FLAGS...]: a fresh server (controllers and scheduler in-process, no node
# agent); sets SPID, URL, TOKEN, KCFG. Its cluster CIDR is a /10 (16,384 node podCIDRs of /24):
# the default /16 has only 256, and pods on the 257th node would wait for an address forever.
start_server() {
  local name=$1 dir=$WORK/$1 port
  shift
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$BERTH" server --data-dir "$dir" --datastore "$DATASTORE" --bind-address 127.0.0.1 \
    --secure-port "$port" --disable-agent --cluster-cidr "${CLUSTER_CIDR:-10.0.0.0/10}" "$@" >"$WORK/$name.log" 2>&1 &
  SPID=$!
  PIDS+=("$SPID")
  URL=https://127.0.0.1:$port
  # Up to 2 minutes: on a loaded machine a fresh server has taken more than 20 s to get ready,
  # and `berth simulate` started before its admin.kubeconfig exists fails at once.
  for _ in $(seq 1200); do
    [ -f "$dir/admin.kubeconfig" ] && curl -sk "$URL/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  TOKEN=$(cat "$dir/admin.token")
  KCFG=$dir/admin.kubeconfig
  sleep 3  # controllers start, leader election settles
}

# start_simulate NODES [FLAGS...]: `berth simulate` against the server of KCFG; sets SIMPID and
# returns once every node registered and opened its watch (fails after 20 minutes).
start_simulate() {
  local nodes=$1
  shift
  "$BERTH" simulate --kubeconfig "$KCFG" --nodes "$nodes" "$@" >"$WORK/sim.log" 2>&1 &
  SIMPID=$!
  PIDS+=("$SIMPID")
  for _ in $(seq 2400); do
    grep -q "all $nodes nodes registered" "$WORK/sim.log" && break
    kill -0 "$SIMPID" 2>/dev/null || break  # it exited (the log says why)
    sleep 0.5
  done
  grep -q "all $nodes nodes registered" "$WORK/sim.log" || { echo "nodes did not register:"; tail "$WORK/sim.log"; return 1; }
}
