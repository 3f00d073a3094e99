#!/usr/bin/env bash
# The health check nodePort from outside, on a two-node cluster (cluster_lib.sh): a LoadBalancer
# Service with externalTrafficPolicy Local and its pod on node-a. Asked from the control
# namespace (where an external load balancer would be), node-a's proxy answers 200 with
# localEndpoints 1 and node-b's 503 with 0; a pod on node-b, then moving the pod away from
# node-a, flips them. Also the proxy's flags: --nodeport-addresses (the node's eth0 range only:
# the health port does not answer on loopback) and --healthz-bind-address (/healthz on 10256).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"

CLUSTER_AGENT_FLAGS=(--nodeport-addresses "$CL_NET.0/24" --healthz-bind-address "0.0.0.0:10256")
cluster_up || { fail "cluster_up"; finish; exit 1; }

web_on() {  # node name
  pod_on "$1" "$2" berth-test/web:1.0 --labels app=web -- \
    sh -c 'mkdir -p /tmp/w && hostname > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w'
}
web_on node-a web-a
kc apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
YAML
if wait_running web-a; then pass "web-a Running on node-a"; else fail "web-a Running" "$(kc get pods -o wide)"; fi
HC=$(kc get svc web -o jsonpath='{.spec.healthCheckNodePort}')
expect_ok "the Service has a healthCheckNodePort ($HC)" test -n "$HC"

# probe IP: "CODE localEndpoints namespace/name", from the control namespace (outside the nodes).
probe() {
  ip netns exec "$CL_CONTROL" curl -s -m 3 -w '\n%{http_code}' "http://$1:$HC/" | /usr/bin/python3 -c '
import json, sys
lines = sys.stdin.read().rsplit("\n", 1)
body = json.loads(lines[0])
print(lines[1], body["localEndpoints"], body["service"]["namespace"] + "/" + body["service"]["name"])'
}
is() { [ "$(probe "$1")" == "$2" ]; }

if wait_for 15 is "$NODE_A_IP" "200 1 default/web"; then pass "node-a: 200, localEndpoints 1"; else
  fail "node-a health check" "got '$(probe "$NODE_A_IP")'"; fi
if wait_for 5 is "$NODE_B_IP" "503 0 default/web"; then pass "node-b: 503, localEndpoints 0"; else
  fail "node-b health check" "got '$(probe "$NODE_B_IP")'"; fi
RAW=$(ip netns exec "$CL_CONTROL" curl -s -m 3 -D - "http://$NODE_A_IP:$HC/")
expect_out "with upstream's weight header" "X-Load-Balancing-Endpoint-Weight: 1" echo "$RAW"
expect_out "and serviceProxyHealthy" '"serviceProxyHealthy": true' echo "$RAW"

echo "== a pod on node-b too, then none on node-a (t=$SECONDS)"
web_on node-b web-b
wait_running web-b || fail "web-b Running" "$(kc get pods -o wide)"
if wait_for 15 is "$NODE_B_IP" "200 1 default/web"; then pass "node-b: 200 once it has a pod"; else
  fail "node-b after web-b" "got '$(probe "$NODE_B_IP")'"; fi
kc delete pod web-a --wait=false >/dev/null
if wait_for 15 is "$NODE_A_IP" "503 0 default/web"; then pass "node-a: 503 once its pod is gone"; else
  fail "node-a after deleting web-a" "got '$(probe "$NODE_A_IP")'"; fi
expect_eq "node-b still 200" "200 1 default/web" "$(probe "$NODE_B_IP")"

echo "== the proxy's flags (t=$SECONDS)"
# --nodeport-addresses $CL_NET.0/24: the health port listens on eth0's address only.
if ! in_node node-b curl -s -m 2 "http://127.0.0.1:$HC/" >/dev/null; then
  pass "the health check port does not answer on node-b's loopback"
else fail "health check port on loopback" "it answered"; fi
NP=$(kc get svc web -o jsonpath='{.spec.ports[0].nodePort}')
expect_out "nodeport-ips holds only the node's eth0 address" "elements = \{ $NODE_B_IP \}" \
  in_node node-b nft list set ip berth-proxy nodeport-ips
expect_out "the NodePort answers on node-b's address ($NP)" "^web-b$" \
  ip netns exec "$CL_CONTROL" curl -s -m 3 "http://$NODE_B_IP:$NP/"
HZ=$(ip netns exec "$CL_CONTROL" curl -s -m 3 -w ' %{http_code}' "http://$NODE_A_IP:10256/healthz")
expect_out "node-a's proxy /healthz on 10256 answers 200" \
  '^\{"lastUpdated": "[0-9-]+ [0-9:.]+ \+0000 UTC","currentTime": "[^"]+", "nodeEligible": true\} 200$' \
  echo "$HZ"

finish
