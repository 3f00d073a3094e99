#!/usr/bin/env bash
# The service proxy against the real nft: a `berth server` (no agent) and `berth proxy` run in a
# network namespace this test creates (the "node"); three "pods" are namespaces plugged into a
# bridge on it, each serving its name with busybox httpd; an "outside" namespace is a client on
# the node's uplink. Services and EndpointSlices are created with the real kubectl.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null || ! command -v busybox >/dev/null; then
  echo "test_proxy_nft: needs root, nft and busybox" >&2
  exit 1
fi

TAG=$RANDOM$RANDOM
NODE=berth-proxy-test-$TAG
OUT=berth-proxy-test-$TAG-out
PODS=()
PROXY_PID=""
nx() { ip netns exec "$NODE" "$@"; }

proxy_cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  stop_server
  [ "$FAILED" -gt 0 ] && { echo "--- proxy log ---"; tail -40 "$WORK/proxy.log"; }
  for ns in "${PODS[@]}" "$OUT" "$NODE"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  cleanup
}
trap proxy_cleanup EXIT

ip netns add "$NODE"
nx ip link set lo up
nx ip link add br0 type bridge
nx ip addr add 10.244.0.1/24 dev br0
nx ip link set br0 up
# The uplink: the node is 192.168.77.1, the outside client 192.168.77.2.
ip netns add "$OUT"
ip link add "pxu$TAG" type veth peer name uplink netns "$NODE"
ip link set "pxu$TAG" netns "$OUT"
ip netns exec "$OUT" sh -c "ip link set lo up; ip link set pxu$TAG name eth0; ip addr add 192.168.77.2/24 dev eth0; ip link set eth0 up"
nx ip addr add 192.168.77.1/24 dev uplink
nx ip link set uplink up
nx sysctl -qw net.ipv4.ip_forward=1

# add_pod NAME IP: a namespace on the bridge serving "NAME" on port 8080 (and 9090).
add_pod() {
  local ns=berth-proxy-test-$TAG-$1
  PODS+=("$ns")
  ip netns add "$ns"
  ip link add "pxp$TAG$1" type veth peer name "v$1" netns "$NODE"
  ip link set "pxp$TAG$1" netns "$ns"
  nx ip link set "v$1" master br0
  nx ip link set "v$1" type bridge_slave hairpin on
  nx ip link set "v$1" up
  ip netns exec "$ns" sh -c "ip link set lo up; ip link set pxp$TAG$1 name eth0; ip addr add $2/24 dev eth0; ip link set eth0 up; ip route add default via 10.244.0.1"
  mkdir -p "$WORK/www/$1"
  echo "$1" >"$WORK/www/$1/index.html"
  ip netns exec "$ns" busybox httpd -p 8080 -h "$WORK/www/$1"
}
add_pod p1 10.244.0.11
add_pod p2 10.244.0.12
add_pod p3 10.244.0.13

PORT=$(free_port)
export KUBECONFIG=$WORK/data/admin.kubeconfig
nx "$BERTH" server --data-dir "$WORK/data" --bind-address 127.0.0.1 --secure-port "$PORT" \
  --disable-agent >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
k() { nx "$KUBECTL" "$@"; }
for _ in $(seq 1 100); do
  [ -f "$KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1 && break
  sleep 0.1
done

start_proxy() {
  : >"$WORK/proxy.log"
  nx "$BERTH" proxy --kubeconfig "$KUBECONFIG" --node-name node-a ${PROXY_ARGS:-} >>"$WORK/proxy.log" 2>&1 &
  PROXY_PID=$!
  for _ in $(seq 1 100); do
    grep -q "programmed" "$WORK/proxy.log" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

get() { timeout 3 busybox wget -qO- "http://$1/" 2>&1; }
# hits NS URL N: the answers of N requests from namespace NS, sorted and counted.
hits() {
  for _ in $(seq 1 "$3"); do ip netns exec "$1" timeout 3 busybox wget -qO- "http://$2/" 2>&1; done |
    sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' '
}

# service NAME IP [extra spec lines]; slice NAME SERVICE IP...
service() {
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: default}
spec:
  clusterIP: $2
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP${4:-}}]
${3:-}
YAML
}
slice() {
  local name=$1 svc=$2; shift 2
  local eps=""
  for ip in "$@"; do eps+="  - {addresses: [\"$ip\"], nodeName: node-a, conditions: {ready: true}}
"; done
  k apply -f - >/dev/null <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $name
  namespace: default
  labels: {kubernetes.io/service-name: $svc}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
${eps:-  []}
YAML
}

echo "== rules programmed (t=$SECONDS)"
service web 10.96.100.10 "  type: NodePort" ", nodePort: 30080"
slice web-1 web 10.244.0.11 10.244.0.12 10.244.0.13
service empty 10.96.100.20
if start_proxy; then pass "berth proxy starts in the node's namespace"; else fail "proxy start" "$(cat "$WORK/proxy.log")"; fi
expect_out "its table exists with the base chains" "chain nat-output" nx nft list table ip berth-proxy
expect_out "the node got a route to the service range" "10.96.0.0/12 dev lo" nx ip route
expect_out "the root namespace has no berth table" "^$" sh -c "nft list tables | grep berth-proxy || true"

echo "== ClusterIP (t=$SECONDS)"
if wait_for 5 sh -c "ip netns exec $NODE timeout 3 busybox wget -qO- http://10.96.100.10/ | grep -q p"; then
  pass "the ClusterIP answers from the node"
else
  fail "ClusterIP from the node" "$(nx nft list ruleset | head -80)"
fi
out=$(hits "$NODE" 10.96.100.10 30)
if [[ "$out" =~ p1=[0-9]+ ]] && [[ "$out" =~ p2=[0-9]+ ]] && [[ "$out" =~ p3=[0-9]+ ]]; then
  pass "30 requests spread over the 3 endpoints ($out)"
else
  fail "spread over 3 endpoints" "$out"
fi
out=$(hits "berth-proxy-test-$TAG-p1" 10.96.100.10 12)
if [[ "$out" =~ p2= || "$out" =~ p3= ]] && [[ ! "$out" =~ wget ]]; then
  pass "a pod reaches the ClusterIP ($out)"; else fail "pod to ClusterIP" "$out"; fi
if [[ "$out" =~ p1=[0-9]+ ]]; then
  pass "hairpin: the pod reaches itself through its Service"
else
  fail "hairpin" "$out"
fi

echo "== NodePort (t=$SECONDS)"
expect_out "the NodePort answers on the node's IP from outside" "^p[123]$" \
  ip netns exec "$OUT" timeout 3 busybox wget -qO- http://192.168.77.1:30080/
expect_out "and from the node itself" "^p[123]$" nx timeout 3 busybox wget -qO- http://192.168.77.1:30080/

echo "== no endpoints, unknown ports, the rest of the range (t=$SECONDS)"
start=$(date +%s%N)
out=$(nx timeout 3 busybox wget -qO- http://10.96.100.20/ 2>&1); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "refused" <<<"$out"; then
  pass "a Service without endpoints is refused at once (${ms} ms)"
else
  fail "no endpoints: refused" "rc=$rc ${ms}ms $out"
fi
expect_err "an unknown port of a ClusterIP is refused" "refused" nx timeout 3 busybox wget -qO- http://10.96.100.10:81/
out=$(nx timeout 2 busybox wget -qO- http://10.96.200.200/ 2>&1); rc=$?
if [ $rc -eq 124 ] || grep -q "unreachable\|timed out" <<<"$out"; then
  pass "an unused service address is dropped (rc=$rc)"; else fail "drop" "rc=$rc $out"; fi
expect_out "the drop rule is in place" "ip daddr 10.96.0.0/12 drop" nx nft list chain ip berth-proxy cluster-ips-check

echo "== incremental sync (t=$SECONDS)"
table_handle() { nx nft -a list table ip berth-proxy | head -1 | grep -o 'handle [0-9]*'; }
before=$(table_handle)
slice web-1 web 10.244.0.11 10.244.0.12
if wait_for 3 sh -c "! ip netns exec $NODE nft list map ip berth-proxy service-endpoints | grep -q 10.244.0.13"; then
  pass "the removed endpoint leaves the rules"; else fail "endpoint removal" "$(nx nft list map ip berth-proxy service-endpoints)"; fi
out=$(hits "$NODE" 10.96.100.10 20)
if [[ ! "$out" =~ p3 ]] && [[ "$out" =~ p1= ]] && [[ "$out" =~ p2= ]]; then
  pass "it gets no more traffic ($out)"; else fail "no traffic to the removed endpoint" "$out"; fi
expect_eq "the sync was partial (the table was not recreated)" "$before" "$(table_handle)"
slice empty-1 empty 10.244.0.13
if wait_for 3 sh -c "ip netns exec $NODE timeout 2 busybox wget -qO- http://10.96.100.20/ | grep -q p3"; then
  pass "a Service that gets an endpoint answers"; else fail "empty gets endpoint" "$(nx nft list table ip berth-proxy)"; fi

echo "== session affinity (t=$SECONDS)"
service sticky 10.96.100.30 "  sessionAffinity: ClientIP"
slice sticky-1 sticky 10.244.0.11 10.244.0.12 10.244.0.13
wait_for 3 sh -c "ip netns exec $NODE timeout 2 busybox wget -qO- http://10.96.100.30/ | grep -q p"
out=$(hits "$NODE" 10.96.100.30 10)
if [[ "$out" =~ ^p[123]=10\ $ ]]; then pass "ClientIP affinity keeps one client on one endpoint ($out)"; else fail "affinity" "$out"; fi

echo "== restart removes stale rules (t=$SECONDS)"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null; PROXY_PID=""
expect_out "the rules stay while the proxy is down" "^p[12]$" nx timeout 3 busybox wget -qO- http://10.96.100.10/
nx nft add chain ip berth-proxy stale-leftover
nx nft add element ip berth-proxy service-ips '{ 10.96.100.99 . tcp . 80 : goto reject-chain }'
k delete service empty >/dev/null
if start_proxy; then pass "the proxy restarts"; else fail "restart" "$(tail "$WORK/proxy.log")"; fi
table=$(nx nft list table ip berth-proxy)
if ! grep -q "stale-leftover\|10.96.100.99\|10.96.100.20" <<<"$table"; then
  pass "a leftover chain, element and the Service deleted meanwhile are gone"
else
  fail "stale rules" "$table"
fi
expect_out "Services still answer after the restart" "^p[12]$" nx timeout 3 busybox wget -qO- http://10.96.100.10/
k delete service web >/dev/null
if wait_for 3 sh -c "! ip netns exec $NODE nft list map ip berth-proxy service-ips | grep -q 10.96.100.10"; then
  pass "a deleted Service's rules go"; else fail "service delete" "$(nx nft list map ip berth-proxy service-ips)"; fi

finish
