#!/usr/bin/env bash
# DNS queries per second of `berth dns` on one core against a reference resolver (dnsmasq, also
# single-threaded) answering the same local zone, with the same dnsperf load, in the same run.
# Target (issue 10): >= 50,000 queries/s on one core; CoreDNS does about 17k per core.
#
#   BERTH=build/berth bash bench/dns_qps.sh [services=1000] [seconds=10]
#
# Everything stays on 127.0.0.1: a `berth server` (no agent) with N Services, `berth dns` pinned
# to one core (taskset), dnsmasq pinned to the same core with the same names as a hosts file, and
# dnsperf on the other core sending A queries for all the Service names plus a few NXDOMAINs.
#
# A/B: BERTH_BASE=/tmp/berth-old (a copy of the binary from before a change) runs that one too;
# ROUNDS=n alternates the servers n times. When build/bench/udp_echo is built (ninja udp_echo), a
# UDP echo server runs as one more "server": the cost of the UDP path alone, without DNS work.
# dnsperf's single client core can cap queries/s when the server is fast, so the server's CPU
# time during each run is read too: "q/s per server CPU-second" (answers / server CPU-seconds)
# is what one core of the server can do.
set -uo pipefail
BERTH=${BERTH:?set BERTH to the berth binary}
N=${1:-1000}
SECONDS_PER_RUN=${2:-10}
SERVER_CORE=${SERVER_CORE:-1}
CLIENT_CORE=${CLIENT_CORE:-0}
BERTH_BASE=${BERTH_BASE:-}
ROUNDS=${ROUNDS:-1}
# UDP worker threads of `berth dns`, each with its own SO_REUSEPORT socket, all pinned to the one
# server core. 2 is the default of `berth dns` and of the node agent's DNS server.
UDP_WORKERS=${UDP_WORKERS:-2}

if ! command -v dnsperf >/dev/null || ! command -v dnsmasq >/dev/null; then
  apt-get install -y -qq dnsperf dnsmasq-base >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq dnsperf dnsmasq-base >/dev/null; } ||
    { echo "dns_qps: cannot install dnsperf and dnsmasq-base" >&2; exit 1; }
fi

WORK=$(mktemp -d /tmp/berth-dnsbench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

PORT=$(free_port)
"$BERTH" server --data-dir "$WORK/data" --bind-address 127.0.0.1 --secure-port "$PORT" \
  --disable-agent >"$WORK/server.log" 2>&1 &
PIDS+=($!)
export KUBECONFIG=$WORK/data/admin.kubeconfig
export HOME=$WORK
for _ in $(seq 1 100); do
  [ -f "$KUBECONFIG" ] && curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

# N Services in namespace bench (ClusterIPs allocated by the server), POSTed by 8 threads.
kubectl create namespace bench >/dev/null
echo "creating $N Services..." >&2
python3 - "$N" "$KUBECONFIG" <<'EOF' || { echo "cannot create Services" >&2; exit 1; }
import http.client, json, re, ssl, sys, threading
n, cfg = int(sys.argv[1]), open(sys.argv[2]).read()
server = re.search(r"server: https://([^\s]+)", cfg).group(1)
token = re.search(r"token: (\S+)", cfg).group(1)
ctx = ssl._create_unverified_context()
failed = []
def worker(k):
    c = http.client.HTTPSConnection(server, context=ctx)
    for i in range(k, n, 8):
        body = json.dumps({"apiVersion": "v1", "kind": "Service",
                           "metadata": {"name": "svc-%d" % i, "namespace": "bench"},
                           "spec": {"ports": [{"name": "http", "port": 80}]}})
        c.request("POST", "/api/v1/namespaces/bench/services", body,
                  {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 201: failed.append(r.status)
ts = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
sys.exit(1 if failed else 0)
EOF
kubectl get svc -n bench -o jsonpath='{range .items[*]}{.spec.clusterIP} {.metadata.name}.bench.svc.cluster.local{"\n"}{end}' \
  >"$WORK/hosts"
[ "$(wc -l <"$WORK/hosts")" -eq "$N" ] || { echo "expected $N Services" >&2; exit 1; }
# The query load: every Service name (A), then a few unknown names (NXDOMAIN).
{ awk '{print $2" A"}' "$WORK/hosts"; for i in $(seq 1 20); do echo "nope-$i.bench.svc.cluster.local A"; done; } \
  >"$WORK/queries.txt"

check_answers() {  # port: one known name must resolve before the run counts
  python3 - "$1" "$(head -1 "$WORK/hosts" | cut -d' ' -f2)" <<'EOF'
import socket, struct, sys
port, name = int(sys.argv[1]), sys.argv[2]
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0\0\1\0\1"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
for _ in range(50):
    try:
        s.sendto(q, ("127.0.0.1", port)); m = s.recv(4096)
        if m[3] & 0xF == 0 and struct.unpack(">H", m[6:8])[0] == 1: sys.exit(0)
    except socket.timeout: pass
sys.exit(1)
EOF
}
cpu_ticks() {  # utime + stime of a process, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}
run_dnsperf() {  # name pid port: one run; appends "name qps completed lost% cpu-seconds"
  local name=$1 pid=$2 port=$3 log="$WORK/dnsperf-$1-$RANDOM.log" t0 t1
  t0=$(cpu_ticks "$pid")
  local TIMEFORMAT='%U %S'
  { time taskset -c "$CLIENT_CORE" dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/queries.txt" \
    -l "$SECONDS_PER_RUN" -c 8 -q 200 >"$log" 2>&1; } 2>"$log.time"
  t1=$(cpu_ticks "$pid")
  echo "$name $(awk '/Queries per second/ {print int($4)}' "$log")" \
    "$(awk '/Queries completed/ {print $3}' "$log")" \
    "$(awk '/Queries lost/ {print $4}' "$log" | tr -d '()')" \
    "$(python3 -c "print(($t1 - $t0) / $(getconf CLK_TCK))")" \
    "$(awk '{print $1 + $2}' "$log.time")" >>"$WORK/results"
}
start_berth() {  # name binary: `berth dns` on one core
  local port
  port=$(free_port)
  taskset -c "$SERVER_CORE" "$2" dns --kubeconfig "$KUBECONFIG" --listen "127.0.0.1:$port" \
    --metrics "" --udp-workers "$UDP_WORKERS" --upstream 127.0.0.1:1 >"$WORK/dns-$1.log" 2>&1 &
  PIDS+=($!)
  SERVERS+=("$1 $! $port")
  check_answers "$port" || { echo "$1 does not answer"; cat "$WORK/dns-$1.log"; exit 1; }
}
SERVERS=()
[ -n "$BERTH_BASE" ] && start_berth berth-base "$BERTH_BASE"
start_berth berth "$BERTH"

# dnsmasq with the same names, on the same core, authoritative for nothing else.
REF_PORT=$(free_port)
taskset -c "$SERVER_CORE" dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-daemon \
  --addn-hosts="$WORK/hosts" --listen-address=127.0.0.1 --bind-interfaces --port="$REF_PORT" \
  --local=/cluster.local/ --cache-size=10000 --user=root --pid-file= >"$WORK/dnsmasq.log" 2>&1 &
PIDS+=($!)
SERVERS+=("dnsmasq $! $REF_PORT")
ECHO=${ECHO:-$(dirname "$BERTH")/bench/udp_echo}
if [ -x "$ECHO" ]; then  # the floor: the UDP path without DNS work
  ECHO_PORT=$(free_port)
  taskset -c "$SERVER_CORE" "$ECHO" "$ECHO_PORT" 2>/dev/null &
  PIDS+=($!)
  SERVERS+=("echo $! $ECHO_PORT")
fi
check_answers "$REF_PORT" || { echo "dnsmasq does not answer"; cat "$WORK/dnsmasq.log"; exit 1; }

# Alternate the servers so that the load of a shared machine hits them alike.
for _ in $(seq 1 "$ROUNDS"); do
  for s in "${SERVERS[@]}"; do
    # shellcheck disable=SC2086 # name pid port
    run_dnsperf $s
  done
done

echo "services: $N, load: $(wc -l <"$WORK/queries.txt") names, ${SECONDS_PER_RUN}s per run," \
  "$ROUNDS round(s), servers on core $SERVER_CORE, dnsperf on core $CLIENT_CORE," \
  "berth dns with $UDP_WORKERS UDP worker(s)"
python3 - "$WORK/results" "$SECONDS_PER_RUN" <<'EOF'
import sys
runs, seconds = {}, float(sys.argv[2])
for line in open(sys.argv[1]):
    name, qps, done, lost, cpu, client = line.split()
    runs.setdefault(name, []).append((int(qps), int(done), lost, float(cpu), float(client)))
def qps(n): return sum(r[0] for r in runs[n]) / len(runs[n])
def per_core(n):  # queries answered per second of the server's own CPU time
    cpu = sum(r[3] for r in runs[n])
    return sum(r[1] for r in runs[n]) / cpu if cpu else 0
for n in runs:
    busy = lambda k: 100 * sum(r[k] for r in runs[n]) / (len(runs[n]) * seconds)
    print("%-11s %7d queries/s (lost %s), CPU server %3.0f%% dnsperf %3.0f%%, "
          "%7d q/s per server CPU-second" % (n + ":", qps(n), " ".join(r[2] for r in runs[n]),
                                              busy(3), busy(4), per_core(n)))
for n in runs:
    if n != "dnsmasq":
        print("ratio %s/dnsmasq: %.2f queries/s, %.2f per CPU-second" % (
            n, qps(n) / max(1, qps("dnsmasq")), per_core(n) / max(1, per_core("dnsmasq"))))
if "berth-base" in runs:
    print("ratio berth/berth-base: %.2f queries/s, %.2f per CPU-second" % (
        qps("berth") / max(1, qps("berth-base")),
        per_core("berth") / max(1, per_core("berth-base"))))
EOF
