#!/usr/bin/env bash
# Dual-stack pods end to end: `berth server` (API server, controllers, scheduler, agent with its
# proxy) in a network namespace this test creates, with --cluster-cidr 10.244.0.0/16,
# fd00:10:244::/56, an IPv4,IPv6 Service range and a dual-stack --node-ip. The node gets a
# podCIDR of each family and an InternalIP of each; a pod gets an address from each podCIDR
# (status.podIPs, IPv4 first); the IPv6 EndpointSlice carries the pod's real IPv6 address;
# another pod reaches it through the IPv6 ClusterIP (ip6 DNAT) and an "outside" namespace
# through the NodePort on the node's IPv6 address. --nodeport-addresses fd00:79::/64: an IPv6
# address added to the node afterwards answers NodePorts within seconds (re-resolved). Bad
# --cluster-cidr and mask flags stop the server with upstream's messages; an IPv6-first
# --cluster-cidr gives nodes their IPv6 podCIDR first.
# Everything happens in namespaces made here (ULA addresses, DAD off and forwarding on there).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # wait_for, netns_agent_cleanup, expect_server_refuses

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /usr/lib/cni/bridge ] ||
   ! command -v nft >/dev/null; then
  echo "test_dual_stack_pods: needs root, runc, nft and /usr/lib/cni" >&2
  exit 1
fi

echo "== flags that do not fit"
bad() { expect_server_refuses "$1" "$2" --bind-address 127.0.0.1 "${@:3}"; }
bad "two IPv4 cluster CIDRs are refused" \
  "--cluster-cidr: len of ClusterCIDRs==2 and they are not configured as dual stack" \
  --cluster-cidr 10.244.0.0/16,10.245.0.0/16
bad "--node-cidr-mask-size with a dual-stack cluster CIDR is refused" \
  "usage of --node-cidr-mask-size is not allowed with a dual-stack cluster CIDR" \
  --cluster-cidr 10.244.0.0/16,fd00:10:244::/56 --node-cidr-mask-size 24
bad "a bad --node-ip pair is refused" "must contain either a single IP or a dual-stack pair" \
  --node-ip 10.0.0.1,10.0.0.2

echo "== an IPv6-primary cluster CIDR (no agent)"
start_server --cluster-cidr fd00:10:244::/56,10.244.0.0/16 || { finish; exit 1; }
printf 'apiVersion: v1\nkind: Node\nmetadata: {name: six}\n' | k apply -f - >/dev/null
six_cidrs() { k get node six -o 'jsonpath={.spec.podCIDRs}'; }
six_has() { [ -n "$(six_cidrs)" ]; }
wait_for 10 six_has
expect_eq "podCIDRs follow --cluster-cidr's order, IPv6 first" \
  '["fd00:10:244::/64","10.244.0.0/24"]' "$(six_cidrs)"
expect_eq "and spec.podCIDR is the IPv6 one" "fd00:10:244::/64" \
  "$(k get node six -o 'jsonpath={.spec.podCIDR}')"
stop_server
rm -rf "$WORK/data"
PORT=""

TAG=$RANDOM$RANDOM
NS=berth-ds-test-$TAG
OUT=berth-ds-test-$TAG-out
DATA=$WORK/data
AGENT=$DATA/agent
trap 'netns_agent_cleanup "$AGENT" "$NS" "$OUT"' EXIT

# The node and an outside namespace, joined by a veth made inside them (nothing in the root
# namespace). DAD off and forwarding on in these namespaces only.
ip netns add "$NS"
ip netns add "$OUT"
ip -n "$NS" link set lo up
ip -n "$OUT" link set lo up
ip -n "$NS" link add uplink type veth peer name eth0 netns "$OUT"
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
  net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip netns exec "$OUT" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip -n "$NS" addr add 192.168.79.1/24 dev uplink
ip -n "$NS" addr add fd00:79::1/64 dev uplink nodad
ip -n "$NS" link set uplink up
ip -n "$OUT" addr add 192.168.79.2/24 dev eth0
ip -n "$OUT" addr add fd00:79::2/64 dev eth0 nodad
ip -n "$OUT" link set eth0 up

bash "$E2E_DIR/../../scripts/build-test-images.sh" "$WORK/images" >/dev/null
"$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
  { echo "cannot import the test images" >&2; exit 1; }

PORT=$(free_port)
export KUBECONFIG=$DATA/admin.kubeconfig
k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
  --secure-port "$PORT" --node-name ds-node --node-ip 192.168.79.1,fd00:79::1 \
  --cluster-cidr 10.244.0.0/16,fd00:10:244::/56 \
  --service-cluster-ip-range 10.96.0.0/12,fd00:10:96::/112 \
  --nodeport-addresses 192.168.79.0/24,fd00:79::/64 >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for 20 bash -c "[ -f $KUBECONFIG ] && ip netns exec $NS $KUBECTL get --raw /readyz" ||
  { fail "server start" "$(tail -20 "$WORK/server.log")"; finish; exit 1; }

echo "== the node (t=$SECONDS)"
cidrs() { k get node ds-node -o 'jsonpath={.spec.podCIDRs}'; }
has_cidrs() { [ -n "$(cidrs)" ]; }
wait_for 15 has_cidrs
expect_eq "the node gets a podCIDR of each family" '["10.244.0.0/24","fd00:10:244::/64"]' "$(cidrs)"
expect_eq "spec.podCIDR is the first" "10.244.0.0/24" \
  "$(k get node ds-node -o 'jsonpath={.spec.podCIDR}')"
expect_eq "an InternalIP of each family" "192.168.79.1 fd00:79::1" \
  "$(k get node ds-node -o 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}')"

echo "== pods (t=$SECONDS)"
k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: berth-test/web:1.0
    command: ["sh", "-c", "mkdir -p /tmp/w && hostname > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: berth-test/web:1.0
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  ipFamilyPolicy: RequireDualStack
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30089}]
YAML
running() {
  [ "$(k get pods web client -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c Running)" == 2 ]
}
if wait_for 40 running; then pass "both pods Running"; else fail "pods Running" "$(k get pods -o wide; k describe pod web | tail -8)"; fi
IPS=$(k get pod web -o 'jsonpath={.status.podIPs[*].ip}')
V6POD=${IPS#* }
expect_out "the pod has an IPv4 and an IPv6 address, IPv4 first" \
  '^10\.244\.0\.[0-9]+ fd00:10:244::[0-9a-f]+$' echo "$IPS"
expect_eq "status.podIP is the first of podIPs" "${IPS%% *}" "$(k get pod web -o 'jsonpath={.status.podIP}')"
expect_out "the address is on the pod's eth0" "inet6 $V6POD/64" \
  k exec web -- ip -6 addr show dev eth0
slice6() { k get endpointslices -l kubernetes.io/service-name=web -o 'jsonpath={range .items[?(@.addressType=="IPv6")]}{.endpoints[*].addresses[*]}{end}'; }
slice6_ready() { [ "$(slice6)" == "$V6POD" ]; }
wait_for 10 slice6_ready
expect_eq "the IPv6 EndpointSlice carries the pod's IPv6 address" "$V6POD" "$(slice6)"

echo "== through the Service over IPv6 (t=$SECONDS)"
V6=$(k get svc web -o 'jsonpath={.spec.clusterIPs[1]}')
expect_out "the Service has an IPv6 ClusterIP" '^fd00:10:96::' echo "$V6"
via_cluster_ip() { k exec client -- busybox timeout 3 wget -qO- "http://[$V6]/" 2>/dev/null | grep -qx web; }
if wait_for 15 via_cluster_ip; then pass "a pod reaches the other through the IPv6 ClusterIP [$V6]"; else
  fail "IPv6 ClusterIP from a pod" "$(k exec client -- busybox timeout 3 wget -qO- "http://[$V6]/" 2>&1; ip netns exec "$NS" nft list table ip6 berth-proxy | head -50)"; fi
direct() { k exec client -- busybox timeout 3 wget -qO- "http://[$V6POD]:8080/" 2>/dev/null | grep -qx web; }
if wait_for 5 direct; then pass "and the pod's IPv6 address directly"; else fail "pod to pod over IPv6" ""; fi
outside() { ip netns exec "$OUT" timeout 3 busybox wget -qO- "http://[$1]:30089/" 2>/dev/null | grep -qx web; }
if wait_for 10 outside fd00:79::1; then pass "the NodePort answers on the node's IPv6 address from outside"; else
  fail "IPv6 NodePort" "$(ip netns exec "$OUT" timeout 3 busybox wget -qO- "http://[fd00:79::1]:30089/" 2>&1)"; fi
if outside fd00:79::5; then fail "fd00:79::5 is not the node's yet" "it answered"; else
  pass "an address the node does not have does not answer"; fi
ip -n "$NS" addr add fd00:79::5/64 dev uplink nodad
if wait_for 10 outside fd00:79::5; then pass "an IPv6 address added to the node answers NodePorts (re-resolved)"; else
  fail "--nodeport-addresses re-resolved" "$(ip netns exec "$NS" nft list set ip6 berth-proxy nodeport-ips)"; fi

finish
