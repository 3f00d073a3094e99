#!/usr/bin/env bash
# An IPv6-primary cluster end to end: `berth server` (API server, controllers, scheduler, agent
# with its proxy, DNS and network policy) in a network namespace this test creates, with
# --service-cluster-ip-range fd00:10:96::/108,10.96.0.0/12 and --cluster-cidr
# fd00:10:244::/56,10.244.0.0/16 (IPv6 first), advertising its IPv6 address (an IPv4 one is
# refused, as upstream refuses it). The `kubernetes` Service holds fd00:10:96::1,
# kube-dns fd00:10:96::a; a Service that names no family is SingleStack IPv6, PreferDualStack
# lists IPv6 first; pods get podIPs IPv6 first and an /etc/hosts line per IP; a pod reaches
# another through the IPv6 ClusterIP and by name (AAAA from the node DNS on its IPv6 bridge
# gateway). NetworkPolicy polices IPv6: default deny blocks a pod-to-pod request over IPv6 that
# worked before, a policy allowing app=client lets exactly that pod through, and an IPv6 ipBlock
# egress rule allows only its CIDR.
# Everything happens in a namespace made here (ULA addresses, DAD off, forwarding on there).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # wait_for, make_node_netns, netns_server_up

need_netns_tools test_ipv6_primary

echo "== flags that do not fit"
expect_server_refuses "two IPv6 Service ranges are refused" "--service-cluster-ip-range: " \
  --bind-address 127.0.0.1 --service-cluster-ip-range fd00:10:96::/108,fd00:10:97::/108
# Upstream's validatePublicIPServiceClusterIPRangeIPFamilies: the `kubernetes` ClusterIP (IPv6)
# would have an IPv4 endpoint no client could use.
expect_server_refuses "an IPv4 advertise address in an IPv6-primary cluster is refused" \
  'and --bind-address 127.0.0.1 do not fit: service IP family "fd00:10:96::/108" must match public address family "127.0.0.1"' \
  --bind-address 127.0.0.1 --service-cluster-ip-range fd00:10:96::/108,10.96.0.0/12

NS=berth-v6-test-$RANDOM$RANDOM
DATA=$WORK/data
AGENT=$DATA/agent
trap 'netns_agent_cleanup "$AGENT" "$NS"' EXIT
make_node_netns "$NS" 192.168.78.1/24 fd00:78::1/64 || { fail "namespace" ""; finish; exit 1; }
# The API server advertises (and listens on) the node's IPv6 address: the `kubernetes` Service
# is IPv6.
netns_server_up "$NS" --bind-address fd00:78::1 --node-name v6-node \
  --node-ip 192.168.78.1,fd00:78::1 --cluster-cidr fd00:10:244::/56,10.244.0.0/16 \
  --service-cluster-ip-range fd00:10:96::/108,10.96.0.0/12 ||
  { fail "server start" ""; finish; exit 1; }

echo "== Services (t=$SECONDS)"
svc_fields() { k get svc "$@" -o 'jsonpath={.spec.clusterIP} {.spec.ipFamilies} {.spec.ipFamilyPolicy}'; }
# The primary (IPv6) range's first address, with the IPv6 advertise address behind it.
expect_kubernetes_service "$NS" fd00:78::1 fd00:10:96::1 IPv6
expect_eq "kube-dns is at the primary range's 10th address" \
  'fd00:10:96::a ["IPv6"] SingleStack' "$(svc_fields -n kube-system kube-dns)"
k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: both}
spec:
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: four}
spec:
  ipFamilies: [IPv4]
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
expect_out "a Service naming no family is SingleStack IPv6" \
  '^fd00:10:96::[0-9a-f:]+ \["IPv6"\] SingleStack$' svc_fields web
expect_out "PreferDualStack lists IPv6 first" '^fd00:10:96::[0-9a-f:]+ \["IPv6","IPv4"\]' \
  svc_fields both
expect_out "and its clusterIPs follow" '^fd00:10:96::[0-9a-f:]+ 10\.[0-9.]+$' \
  k get svc both -o 'jsonpath={.spec.clusterIPs[0]} {.spec.clusterIPs[1]}'
expect_out "IPv4 is there when asked for" '^10\.[0-9.]+ \["IPv4"\]' svc_fields four

echo "== pods (t=$SECONDS)"
{
  pod_manifest web '{app: web}' "$WEB_SERVER"
  echo ---
  pod_manifest client '{app: client}' '["sleep", "3600"]'
  echo ---
  pod_manifest intruder '{app: intruder}' '["sleep", "3600"]'
} | k apply -f - >/dev/null
if wait_running web client intruder; then pass "the pods run"; else fail "pods Running" "$(k get pods -o wide; k describe pod web | tail -8)"; fi
IPS=$(k get pod web -o 'jsonpath={.status.podIPs[*].ip}')
V6POD=${IPS%% *}
V4POD=${IPS#* }
expect_out "podIPs list the IPv6 address first" '^fd00:10:244::[0-9a-f]+ 10\.244\.0\.[0-9]+$' echo "$IPS"
HOSTS=$(k exec web -- cat /etc/hosts | tail -2)
expect_eq "/etc/hosts has a line per pod IP (IPv6 first) with the subdomain FQDN" \
  "$V6POD	web.web.default.svc.cluster.local	web
$V4POD	web.web.default.svc.cluster.local	web" "$HOSTS"

WEB6=$(k get svc web -o 'jsonpath={.spec.clusterIP}')
if wait_for 15 pod_answers client "http://[$WEB6]/"; then pass "a pod reaches the IPv6 ClusterIP [$WEB6]"; else
  fail "IPv6 ClusterIP" "$(pod_get client "http://[$WEB6]/"; ip netns exec "$NS" nft list table ip6 berth-proxy | head -40)"; fi
expect_out "the pod's nameserver is kube-dns's IPv6 address" "^nameserver fd00:10:96::a$" \
  k exec client -- cat /etc/resolv.conf
resolves() { k exec client -- busybox nslookup web.default.svc.cluster.local 2>/dev/null | grep -q "$WEB6"; }
if wait_for 15 resolves; then pass "web.default.svc.cluster.local resolves (AAAA) through [fd00:10:96::a]"; else
  fail "DNS over IPv6" "$(k exec client -- busybox nslookup web.default.svc.cluster.local 2>&1;
    k -n kube-system get endpointslices -o wide)"; fi

echo "== NetworkPolicy over IPv6 (t=$SECONDS)"
POD6="http://[$V6POD]:8080/"
if pod_answers client "$POD6" && pod_answers intruder "$POD6"; then pass "without policies both pods reach web over IPv6"; else
  fail "pod to pod over IPv6" "$(pod_get client "$POD6")"; fi
deny_ingress
if wait_for 10 pod_blocked client "$POD6"; then pass "default deny blocks the IPv6 request that worked a moment before"; else
  fail "IPv6 blocked" "$(ip netns exec "$NS" nft list table inet berth-netpol)"; fi
if pod_blocked client "http://$V4POD:8080/"; then pass "and over IPv4"; else fail "IPv4 blocked" ""; fi
k apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-client}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 8080}]}]
YAML
if wait_for 10 pod_answers client "$POD6"; then pass "allowing app=client lets client through over IPv6"; else
  fail "client allowed" "$(ip netns exec "$NS" nft list table inet berth-netpol)"; fi
if pod_answers client "http://[$WEB6]/"; then pass "also through the IPv6 ClusterIP"; else fail "client via ClusterIP" ""; fi
if pod_blocked intruder "$POD6"; then pass "intruder is still blocked over IPv6"; else fail "intruder blocked" "it answered"; fi
# Egress by IPv6 ipBlock: intruder may reach only fd00:10:244::/56 (pods), not web's IPv4.
k delete networkpolicy deny allow-client >/dev/null
k apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: v6-only}
spec:
  podSelector: {matchLabels: {app: intruder}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: "fd00:10:244::/56"}}]}]
YAML
if wait_for 10 pod_blocked intruder "http://$V4POD:8080/"; then pass "an IPv6 ipBlock allows no IPv4 traffic"; else
  fail "IPv4 blocked by an IPv6-only egress rule" "$(ip netns exec "$NS" nft list table inet berth-netpol)"; fi
if pod_answers intruder "$POD6"; then pass "and allows its IPv6 CIDR"; else
  fail "IPv6 ipBlock allowed" "$(ip netns exec "$NS" nft list chain inet berth-netpol egress)"; fi

finish
