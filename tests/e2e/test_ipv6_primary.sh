#!/usr/bin/env bash
# An IPv6-primary cluster end to end: `berth server` (API server, controllers, scheduler, agent
# with its proxy, DNS and network policy) in a network namespace this test creates, with
# --service-cluster-ip-range fd00:10:96::/108,10.96.0.0/12 and --cluster-cidr
# fd00:10:244::/56,10.244.0.0/16 (IPv6 first). The `kubernetes` Service holds fd00:10:96::1,
# kube-dns fd00:10:96::a; a Service that names no family is SingleStack IPv6, PreferDualStack
# lists IPv6 first; pods get podIPs IPv6 first and an /etc/hosts line per IP; a pod reaches
# another through the IPv6 ClusterIP and by name (AAAA from the node DNS on its IPv6 bridge
# gateway). NetworkPolicy polices IPv6: default deny blocks a pod-to-pod request over IPv6 that
# worked before, a policy allowing app=client lets exactly that pod through, and an IPv6 ipBlock
# egress rule allows only its CIDR.
# Everything happens in a namespace made here (ULA addresses, DAD off, forwarding on there).
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /usr/lib/cni/bridge ] ||
   ! command -v nft >/dev/null; then
  echo "test_ipv6_primary: needs root, runc, nft and /usr/lib/cni" >&2
  exit 1
fi

wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

echo "== flags that do not fit"
if "$BERTH" server --data-dir "$WORK/bad" --bind-address 127.0.0.1 --secure-port "$(free_port)" \
     --disable-agent --service-cluster-ip-range fd00:10:96::/108,fd00:10:97::/108 \
     >"$WORK/bad.log" 2>&1; then
  fail "two IPv6 Service ranges are refused" "the server started"
else
  expect_out "two IPv6 Service ranges are refused" "--service-cluster-ip-range: " cat "$WORK/bad.log"
fi

NS=berth-v6-test-$RANDOM$RANDOM
DATA=$WORK/data
AGENT=$DATA/agent
RUNC=(runc --root "$AGENT/runc")
v6_cleanup() {
  stop_server
  for id in $("${RUNC[@]}" list -q 2>/dev/null); do
    "${RUNC[@]}" kill -a "$id" KILL 2>/dev/null
    "${RUNC[@]}" delete -f "$id" 2>/dev/null
  done
  for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  sleep 0.2
  for d in "$AGENT"/pods/*/; do
    uid=$(basename "$d")
    for c in /sys/fs/cgroup/*/berth/pod"$uid"; do
      [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  grep -o " $WORK[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  [ "$FAILED" -gt 0 ] && { echo "--- server log (tail) ---"; tail -20 "$WORK/server.log"; }
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap v6_cleanup EXIT

# The node's addresses sit on a veth pair whose both ends stay inside the namespace.
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
  net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip -n "$NS" link add uplink type veth peer name uplink-peer
ip -n "$NS" addr add 192.168.78.1/24 dev uplink
ip -n "$NS" addr add fd00:78::1/64 dev uplink nodad
ip -n "$NS" link set uplink up
ip -n "$NS" link set uplink-peer up

bash "$E2E_DIR/../../scripts/build-test-images.sh" "$WORK/images" >/dev/null
"$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
  { echo "cannot import the test images" >&2; exit 1; }

PORT=$(free_port)
export KUBECONFIG=$DATA/admin.kubeconfig
k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
  --secure-port "$PORT" --node-name v6-node --node-ip 192.168.78.1,fd00:78::1 \
  --cluster-cidr fd00:10:244::/56,10.244.0.0/16 \
  --service-cluster-ip-range fd00:10:96::/108,10.96.0.0/12 >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for 20 bash -c "[ -f $KUBECONFIG ] && ip netns exec $NS $KUBECTL get --raw /readyz" ||
  { fail "server start" "$(tail -20 "$WORK/server.log")"; finish; exit 1; }

echo "== Services (t=$SECONDS)"
svc_fields() { k get svc "$@" -o 'jsonpath={.spec.clusterIP} {.spec.ipFamilies} {.spec.ipFamilyPolicy}'; }
expect_eq "the kubernetes Service holds the primary (IPv6) range's first address" \
  'fd00:10:96::1 ["IPv6"] SingleStack' "$(svc_fields kubernetes)"
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
pod() {  # name labels command...
  local name=$1 labels=$2; shift 2
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, labels: %s}\nspec:\n  hostname: %s\n  subdomain: web\n  terminationGracePeriodSeconds: 1\n  containers:\n  - {name: c, image: "berth-test/web:1.0", command: %s}\n' \
    "$name" "$labels" "$name" "$1"
}
{
  pod web '{app: web}' '["sh", "-c", "mkdir -p /tmp/w && hostname > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"]'
  echo ---
  pod client '{app: client}' '["sleep", "3600"]'
  echo ---
  pod intruder '{app: intruder}' '["sleep", "3600"]'
} | k apply -f - >/dev/null
running() {
  [ "$(k get pods web client intruder -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c Running)" == 3 ]
}
if wait_for 40 running; then pass "the pods run"; else fail "pods Running" "$(k get pods -o wide; k describe pod web | tail -8)"; fi
IPS=$(k get pod web -o 'jsonpath={.status.podIPs[*].ip}')
V6POD=${IPS%% *}
V4POD=${IPS#* }
expect_out "podIPs list the IPv6 address first" '^fd00:10:244::[0-9a-f]+ 10\.244\.0\.[0-9]+$' echo "$IPS"
HOSTS=$(k exec web -- cat /etc/hosts | tail -2)
expect_eq "/etc/hosts has a line per pod IP (IPv6 first) with the subdomain FQDN" \
  "$V6POD	web.web.default.svc.cluster.local	web
$V4POD	web.web.default.svc.cluster.local	web" "$HOSTS"

WEB6=$(k get svc web -o 'jsonpath={.spec.clusterIP}')
get() {  # from-pod url: prints the answer
  k exec "$1" -- busybox timeout 3 wget -qO- "$2" 2>/dev/null
}
answers() { [ "$(get "$1" "$2")" == web ]; }
if wait_for 15 answers client "http://[$WEB6]/"; then pass "a pod reaches the IPv6 ClusterIP [$WEB6]"; else
  fail "IPv6 ClusterIP" "$(get client "http://[$WEB6]/"; ip netns exec "$NS" nft list table ip6 berth-proxy | head -40)"; fi
expect_out "the pod's nameserver is kube-dns's IPv6 address" "^nameserver fd00:10:96::a$" \
  k exec client -- cat /etc/resolv.conf
resolves() { k exec client -- busybox nslookup web.default.svc.cluster.local 2>/dev/null | grep -q "$WEB6"; }
if wait_for 15 resolves; then pass "web.default.svc.cluster.local resolves (AAAA) through [fd00:10:96::a]"; else
  fail "DNS over IPv6" "$(k exec client -- busybox nslookup web.default.svc.cluster.local 2>&1;
    k -n kube-system get endpointslices -o wide)"; fi

echo "== NetworkPolicy over IPv6 (t=$SECONDS)"
POD6="http://[$V6POD]:8080/"
if answers client "$POD6" && answers intruder "$POD6"; then pass "without policies both pods reach web over IPv6"; else
  fail "pod to pod over IPv6" "$(get client "$POD6")"; fi
k apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec:
  podSelector: {}
  policyTypes: [Ingress]
YAML
blocked() { ! answers "$1" "$2"; }
if wait_for 10 blocked client "$POD6"; then pass "default deny blocks the IPv6 request that worked a moment before"; else
  fail "IPv6 blocked" "$(ip netns exec "$NS" nft list table inet berth-netpol)"; fi
if blocked client "http://$V4POD:8080/"; then pass "and over IPv4"; else fail "IPv4 blocked" ""; fi
k apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-client}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}], ports: [{port: 8080}]}]
YAML
if wait_for 10 answers client "$POD6"; then pass "allowing app=client lets client through over IPv6"; else
  fail "client allowed" "$(ip netns exec "$NS" nft list table inet berth-netpol)"; fi
if answers client "http://[$WEB6]/"; then pass "also through the IPv6 ClusterIP"; else fail "client via ClusterIP" ""; fi
if blocked intruder "$POD6"; then pass "intruder is still blocked over IPv6"; else fail "intruder blocked" "it answered"; fi
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
if wait_for 10 blocked intruder "http://$V4POD:8080/"; then pass "an IPv6 ipBlock allows no IPv4 traffic"; else
  fail "IPv4 blocked by an IPv6-only egress rule" "$(ip netns exec "$NS" nft list table inet berth-netpol)"; fi
if answers intruder "$POD6"; then pass "and allows its IPv6 CIDR"; else
  fail "IPv6 ipBlock allowed" "$(ip netns exec "$NS" nft list chain inet berth-netpol egress)"; fi

finish
