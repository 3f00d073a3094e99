#!/usr/bin/env bash
# An IPv6-only cluster end to end, as upstream runs a single-stack IPv6 one: `berth server` (API
# server, controllers, scheduler, agent with its proxy, DNS and network policy) in a network
# namespace this test creates whose node has only an IPv6 address, with
# --service-cluster-ip-range fd00:10:96::/108, --cluster-cidr fd00:10:244::/56 and the API server
# on (and advertising) the node's IPv6 address; an IPv4 advertise address is refused at start.
# The node gets an IPv6 podCIDR only; the `kubernetes` Service is IPv6 with an IPv6 EndpointSlice
# and answers through its ClusterIP; kube-dns is fd00:10:96::a; a Service asking for IPv4 gets
# upstream's Invalid error, PreferDualStack stays IPv6. Pods get one IPv6 address, resolv.conf
# names kube-dns's IPv6 address, the node DNS answers on the IPv6 bridge gateway (AAAA), a pod
# reaches another through the ClusterIP, by name and the node through a NodePort; the proxy
# programs the ip6 table only; a default-deny NetworkPolicy blocks pod-to-pod traffic.
# Everything happens in a namespace made here (ULA addresses, DAD off, forwarding on there).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # make_node_netns, netns_server_up, pod helpers

need_netns_tools test_ipv6_only

echo "== flags that do not fit"
expect_server_refuses "an IPv4 bind address in an IPv6-only cluster is refused" \
  'and --bind-address 127.0.0.1 do not fit: service IP family "fd00:10:96::/108" must match public address family "127.0.0.1"' \
  --bind-address 127.0.0.1 --service-cluster-ip-range fd00:10:96::/108
expect_server_refuses "so is an IPv4 --advertise-address" \
  'and --advertise-address 192.0.2.1 do not fit' \
  --bind-address ::1 --advertise-address 192.0.2.1 --service-cluster-ip-range fd00:10:96::/108
expect_server_refuses "a too wide IPv6 range is refused by its flag" \
  "--service-cluster-ip-range: fd00:10:96::/64 is not an IPv6 CIDR from /108 to /126" \
  --bind-address ::1 --service-cluster-ip-range fd00:10:96::/64

NS=berth-v6only-test-$RANDOM$RANDOM
DATA=$WORK/data
AGENT=$DATA/agent
trap 'netns_agent_cleanup "$AGENT" "$NS"' EXIT
make_node_netns "$NS" fd00:77::1/64 || { fail "namespace" ""; finish; exit 1; }
netns_server_up "$NS" --bind-address fd00:77::1 --node-name v6only-node --node-ip fd00:77::1 \
  --cluster-cidr fd00:10:244::/56 --service-cluster-ip-range fd00:10:96::/108 ||
  { fail "server start" ""; finish; exit 1; }

echo "== the node and the Services (t=$SECONDS)"
node_field() { k get node v6only-node -o "jsonpath={$1}"; }
wait_for 15 bash -c "[ -n \"\$(ip netns exec $NS $KUBECTL get node v6only-node -o jsonpath={.spec.podCIDR})\" ]"
expect_eq "the node gets an IPv6 podCIDR only" '["fd00:10:244::/64"]' "$(node_field .spec.podCIDRs)"
expect_eq "and an IPv6 InternalIP only" "fd00:77::1" \
  "$(node_field '.status.addresses[?(@.type=="InternalIP")].address')"
expect_kubernetes_service "$NS" fd00:77::1 fd00:10:96::1 IPv6
svc_fields() { k get svc "$@" -o 'jsonpath={.spec.clusterIP} {.spec.ipFamilies} {.spec.ipFamilyPolicy}'; }
expect_eq "kube-dns is at the range's 10th address" 'fd00:10:96::a ["IPv6"] SingleStack' \
  "$(svc_fields -n kube-system kube-dns)"
k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
expect_out "PreferDualStack gets the one family there is" \
  '^fd00:10:96::[0-9a-f:]+ \["IPv6"\] PreferDualStack$' svc_fields web
service_with() {  # spec fields (JSON)
  printf '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "other"},
           "spec": {"ports": [{"port": 80}], %s}}' "$1" | k create -f -
}
expect_err "a Service asking for IPv4 is Invalid" \
  'spec.ipFamilies\[0\]: Invalid value: "IPv4": not configured on this cluster' \
  service_with '"ipFamilies": ["IPv4"]'
expect_err "so is RequireDualStack" \
  'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services' \
  service_with '"ipFamilyPolicy": "RequireDualStack"'

echo "== pods (t=$SECONDS)"
{
  pod_manifest web '{app: web}' "$WEB_SERVER"
  echo ---
  pod_manifest client '{app: client}' '["sleep", "3600"]'
} | k apply -f - >/dev/null
if wait_running web client; then pass "the pods run"; else fail "pods Running" "$(k get pods -o wide; k describe pod web | tail -8)"; fi
IPS=$(k get pod web -o 'jsonpath={.status.podIPs[*].ip}')
expect_out "a pod has one address, from the IPv6 podCIDR" '^fd00:10:244::[0-9a-f]+$' echo "$IPS"
ADDRS=$(k exec web -- busybox ip -o addr show scope global)
if [[ $ADDRS == *"inet6 $IPS/64"* && $ADDRS != *"inet "* ]]; then
  pass "its interface has that IPv6 address and no global IPv4 one"; else fail "pod addresses" "$ADDRS"; fi
expect_out "its nameserver is kube-dns's IPv6 address" "^nameserver fd00:10:96::a$" \
  k exec client -- cat /etc/resolv.conf
WEB6=$(k get svc web -o 'jsonpath={.spec.clusterIP}')
if wait_for 15 pod_answers client "http://[$WEB6]/"; then pass "a pod reaches the ClusterIP [$WEB6]"; else
  fail "ClusterIP" "$(pod_get client "http://[$WEB6]/"; ip netns exec "$NS" nft list table ip6 berth-proxy | head -40)"; fi
resolves() { k exec client -- busybox nslookup web.default.svc.cluster.local 2>/dev/null | grep -q "$WEB6"; }
if wait_for 15 resolves; then pass "web.default.svc.cluster.local resolves (AAAA) through [fd00:10:96::a]"; else
  fail "DNS" "$(k exec client -- busybox nslookup web.default.svc.cluster.local 2>&1;
    k -n kube-system get endpointslices -o wide)"; fi
if pod_answers client "http://web/"; then pass "and by its short name"; else
  fail "by name" "$(pod_get client http://web/)"; fi
dns_slices() {
  k -n kube-system get endpointslice -l kubernetes.io/service-name=kube-dns \
    -o 'jsonpath={range .items[*]}{.addressType} {.endpoints[0].addresses[0]};{end}'
}
dns_on_gateway6() { [ "$(dns_slices)" == "IPv6 fd00:10:244::1;" ]; }
if wait_for 10 dns_on_gateway6; then pass "the node DNS publishes its IPv6 bridge gateway only"; else
  fail "kube-dns slices" "$(dns_slices)"; fi
NODEPORT=$(k get svc web -o 'jsonpath={.spec.ports[0].nodePort}')
if wait_for 10 bash -c "ip netns exec $NS curl -s --max-time 2 http://[fd00:77::1]:$NODEPORT/ | grep -qx web"; then
  pass "the NodePort answers on the node's IPv6 address"; else fail "NodePort $NODEPORT" ""; fi
TABLES=$(ip netns exec "$NS" nft list tables)
if grep -qx "table ip6 berth-proxy" <<<"$TABLES" && ! grep -qx "table ip berth-proxy" <<<"$TABLES"; then
  pass "the proxy programs the ip6 table only"; else fail "proxy tables" "$TABLES"; fi

echo "== NetworkPolicy (t=$SECONDS)"
POD6="http://[$IPS]:8080/"
if pod_answers client "$POD6"; then pass "without policies client reaches web"; else
  fail "pod to pod" "$(pod_get client "$POD6")"; fi
deny_ingress
if wait_for 10 pod_blocked client "$POD6"; then pass "default deny blocks the request that worked a moment before"; else
  fail "blocked" "$(ip netns exec "$NS" nft list table inet berth-netpol)"; fi

finish
