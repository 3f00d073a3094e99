#!/usr/bin/env bash
# Dual-stack Services through the real nft: a `berth server` with an IPv4,IPv6 Service range
# (no agent) and `berth proxy --service-cidr 10.96.0.0/12,fd00:10:96::/112` run in a network
# namespace this test creates (the "node"); a "pod" namespace on the node's bridge has an IPv4
# and an IPv6 address and serves its name with busybox httpd. A PreferDualStack Service with an
# IPv4 and an IPv6 EndpointSlice answers on both ClusterIPs from the node: the IPv6 one through
# the `ip6 berth-proxy` table. Removing the IPv6 endpoint makes the IPv6 ClusterIP refuse
# (reject) while the IPv4 one still answers. Also the proxy's /healthz on 10256.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null || ! command -v busybox >/dev/null; then
  echo "test_proxy_ip6: needs root, nft and busybox" >&2
  exit 1
fi

TAG=$RANDOM$RANDOM
NODE=berth-ip6-test-$TAG
POD=berth-ip6-test-$TAG-pod
PROXY_PID=""
nx() { ip netns exec "$NODE" "$@"; }
ip6_cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  stop_server
  [ "$FAILED" -gt 0 ] && { echo "--- proxy log ---"; tail -30 "$WORK/proxy.log"; }
  for ns in "$POD" "$NODE"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  cleanup
}
trap ip6_cleanup EXIT

ip netns add "$NODE"
nx ip link set lo up
nx ip link add br0 type bridge
nx ip addr add 10.244.0.1/24 dev br0
nx ip addr add fd00:10:244::1/64 dev br0 nodad
nx ip link set br0 up
nx sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip netns add "$POD"
ip link add "p6p$TAG" type veth peer name vpod netns "$NODE"
ip link set "p6p$TAG" netns "$POD"
nx ip link set vpod master br0
nx ip link set vpod up
ip netns exec "$POD" sh -c "ip link set lo up; ip link set p6p$TAG name eth0; ip addr add 10.244.0.11/24 dev eth0; ip addr add fd00:10:244::11/64 dev eth0 nodad; ip link set eth0 up; ip route add default via 10.244.0.1; ip -6 route add default via fd00:10:244::1"
mkdir -p "$WORK/www"
echo pod >"$WORK/www/index.html"
ip netns exec "$POD" busybox httpd -p 8080 -h "$WORK/www"

PORT=$(free_port)
export KUBECONFIG=$WORK/data/admin.kubeconfig
nx "$BERTH" server --data-dir "$WORK/data" --bind-address 127.0.0.1 --secure-port "$PORT" \
  --disable-agent --service-cluster-ip-range 10.96.0.0/12,fd00:10:96::/112 >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
k() { nx "$KUBECTL" "$@"; }
wait_for 20 k get --raw /readyz || { fail "server start" "$(tail -20 "$WORK/server.log")"; finish; exit 1; }

k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ipFamilyPolicy: PreferDualStack
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
YAML
slice() {  # name family address
  k apply -f - >/dev/null <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: $1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: $2
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: ["$3"], nodeName: node-a, conditions: {ready: true}}]
YAML
}
slice web-v4 IPv4 10.244.0.11
slice web-v6 IPv6 fd00:10:244::11
V4=$(k get svc web -o 'jsonpath={.spec.clusterIPs[0]}')
V6=$(k get svc web -o 'jsonpath={.spec.clusterIPs[1]}')
expect_out "the Service has an IPv6 ClusterIP ($V6)" "^fd00:10:96::" echo "$V6"

nx "$BERTH" proxy --kubeconfig "$KUBECONFIG" --node-name node-a \
  --service-cidr 10.96.0.0/12,fd00:10:96::/112 --cluster-cidr 10.244.0.0/16,fd00:10:244::/56 \
  >>"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
if wait_for 20 grep -q programmed "$WORK/proxy.log"; then pass "berth proxy starts dual-stack"; else
  fail "proxy start" "$(cat "$WORK/proxy.log")"; fi
expect_out "the ip6 table holds the IPv6 ClusterIP" "$V6 \. tcp \. 80" nx nft list map ip6 berth-proxy service-ips
expect_out "and the IPv6 endpoint" "fd00:10:244::11 \. 8080" nx nft list map ip6 berth-proxy service-endpoints
expect_out "the ip table the IPv4 ones only" "$V4 \. tcp \. 80" nx nft list map ip berth-proxy service-ips
expect_out "the node got a route to the IPv6 service range" "fd00:10:96::/112 dev lo" nx ip -6 route
get() { nx curl -s -m 3 -g "http://$1/"; }
if wait_for 10 test "$(get "[$V6]")" == pod; then pass "curl http://[$V6]/ from the node answers"; else
  fail "IPv6 ClusterIP" "got '$(get "[$V6]")'; $(nx nft list table ip6 berth-proxy | head -60)"; fi
expect_eq "curl http://$V4/ answers too" pod "$(get "$V4")"

k delete endpointslice web-v6 >/dev/null
refused() { ! get "[$V6]" >/dev/null && [ "$(get "$V4")" == pod ]; }
if wait_for 10 refused; then pass "without its IPv6 endpoint the IPv6 ClusterIP refuses, IPv4 still answers"; else
  fail "after deleting web-v6" "v6: '$(get "[$V6]")' v4: '$(get "$V4")'"; fi
expect_out "the proxy's /healthz on 10256" '"nodeEligible": true' nx curl -s -m 3 http://127.0.0.1:10256/healthz

finish
