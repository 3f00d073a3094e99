#!/usr/bin/env bash
# The service proxy inside the node agent, end to end: `berth server` (API server, controllers,
# scheduler and agent with its proxy) in a network namespace this test creates, real runc
# containers from the test images, the real kubectl. A Deployment of 3 httpd pods behind a
# Service answers through its ClusterIP from a pod (spread over the 3, hairpin included) and on a
# NodePort of the node's IP from an "outside" namespace.
# Pods also resolve the Service by name through the kube-dns Service (10.96.0.10): the proxy
# sends it to the DNS server the agent runs on the node.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # wait_for, netns_agent_cleanup

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /usr/lib/cni/bridge ] ||
   ! command -v nft >/dev/null; then
  echo "test_proxy_agent: needs root, runc, nft and /usr/lib/cni" >&2
  exit 1
fi

TAG=$RANDOM$RANDOM
NS=berth-proxy-test-$TAG
OUT=berth-proxy-test-$TAG-out
DATA=$WORK/data
AGENT=$DATA/agent
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns add "$OUT"
ip link add "pxu$TAG" type veth peer name uplink netns "$NS"
ip link set "pxu$TAG" netns "$OUT"
ip netns exec "$OUT" sh -c "ip link set lo up; ip link set pxu$TAG name eth0; ip addr add 192.168.78.2/24 dev eth0; ip link set eth0 up"
ip netns exec "$NS" sh -c "ip addr add 192.168.78.1/24 dev uplink; ip link set uplink up; sysctl -qw net.ipv4.ip_forward=1"

trap 'netns_agent_cleanup "$AGENT" "$NS" "$OUT"' EXIT

bash "$E2E_DIR/../../scripts/build-test-images.sh" "$WORK/images" >/dev/null
"$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
  { echo "cannot import the test images" >&2; exit 1; }

PORT=$(free_port)
export KUBECONFIG=$DATA/admin.kubeconfig
k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
  --secure-port "$PORT" --node-name px-node --node-ip 192.168.78.1 >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  [ -f "$KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== a Deployment of 3 behind a NodePort Service (t=$SECONDS)"
k apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: berth-test/web:1.0
        command: ["sh", "-c", "mkdir -p /tmp/w && hostname > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30088}]
YAML
running() { [ "$(k get pods -l app=web -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c Running)" == 3 ]; }
if wait_for 60 running; then pass "3 pods Running"; else fail "3 pods Running" "$(k get pods -o wide)"; fi
CIP=$(k get svc web -o jsonpath='{.spec.clusterIP}')
slices() { ip netns exec "$NS" "$KUBECTL" get endpointslices -l kubernetes.io/service-name=web -o name | grep -q .; }
if wait_for 10 slices; then pass "the EndpointSlice controller publishes the endpoints"; else
  fail "EndpointSlice" "$(k get endpointslices -o yaml)"; fi
PODS=($(k get pods -l app=web -o jsonpath='{.items[*].metadata.name}'))
CLIENT=${PODS[0]}
answers() { k exec "$CLIENT" -- wget -qO- "http://$CIP/" 2>/dev/null | grep -q web-; }
if wait_for 10 answers; then pass "the ClusterIP $CIP answers from a pod"; else
  fail "ClusterIP from a pod" "$(ip netns exec "$NS" nft list table ip berth-proxy | head -60)"; fi
seen=$(for _ in $(seq 1 24); do k exec "$CLIENT" -- wget -qO- "http://$CIP/" 2>&1; done | sort | uniq -c)
n=$(grep -c "web-" <<<"$seen")
if [ "$n" == 3 ]; then pass "24 requests spread over the 3 pods"; else fail "spread over 3 pods" "$seen"; fi
if grep -q " $CLIENT$" <<<"$seen"; then pass "hairpin: the pod reaches itself through its Service"; else
  fail "hairpin" "$seen"; fi
echo "== cluster DNS through the kube-dns Service (10.96.0.10, via the proxy, to the node's DNS)"
dns_answers() { k exec "$CLIENT" -- wget -qO- "http://web/" 2>/dev/null | grep -q web-; }
if wait_for 15 dns_answers; then pass "a pod reaches the Service by its short name (search list)"; else
  fail "Service by name from a pod" "$(k exec "$CLIENT" -- cat /etc/resolv.conf; k -n kube-system get endpointslices)"; fi
expect_out "the FQDN resolves to the ClusterIP from the pod" "Address:? *$CIP" \
  k exec "$CLIENT" -- nslookup web.default.svc.cluster.local
expect_out "the node's DNS endpoint is published for kube-dns" "kube-dns-px-node" \
  k -n kube-system get endpointslices -o name
expect_out "the NodePort answers on the node's IP from outside" "^web-" \
  ip netns exec "$OUT" timeout 5 busybox wget -qO- http://192.168.78.1:30088/
expect_out "and from the node itself" "^web-" \
  ip netns exec "$NS" timeout 5 busybox wget -qO- http://192.168.78.1:30088/
expect_out "the proxy's sync latency is on the server's /metrics" "kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]" \
  k get --raw /metrics

finish
