#!/usr/bin/env bash
# The ingress controller on the two-node cluster (cluster_lib.sh), with the real kubectl and
# Debian's nginx: the controller runs in `berth server` on the control node (docs/decisions.md),
# the backends are real pods on node-a and node-b, and an Ingress with two hosts routes each host
# to its Service's pod on the other machine, by pod IP across the host-gw routes.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"

command -v nginx >/dev/null || { echo "test_ingress_cluster: needs nginx" >&2; exit 1; }
HTTP=18080
CLUSTER_SERVER_FLAGS=(--ingress on --ingress-http-port "$HTTP" --ingress-https-port 18443)
ingress_down() {
  # nginx runs in a process group of its own: take the whole group, then the cluster.
  local pid=$CL_DIR/control/ingress/nginx.pid
  [ -s "$pid" ] && kill -9 -- "-$(cat "$pid")" 2>/dev/null
  cluster_down
}
cluster_up || { fail "cluster_up"; finish; exit 1; }
trap ingress_down EXIT

# The control node runs no pods; like any machine whose ingress talks to pods directly, it needs
# routes to the nodes' podCIDRs (inside this test's own namespace).
for node in node-a node-b; do
  cidr=$(kc get node "$node" -o jsonpath='{.spec.podCIDR}')
  ip netns exec "$CL_CONTROL" ip route add "$cidr" via "$(node_ip "$node")"
done

echo "== two Services with their pods on node-a and node-b (t=$SECONDS)"
for pair in alpha:node-a beta:node-b; do
  svc=${pair%%:*} node=${pair#*:}
  pod_on "$node" "$svc" berth-test/web:1.0 --labels="app=$svc" -- \
    sh -c "mkdir -p /tmp/w && echo $svc on $node > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"
  kc create service clusterip "$svc" --tcp=80:8080 >/dev/null
done
if wait_running alpha beta; then pass "alpha Running on node-a, beta on node-b"; else
  fail "backend pods Running" "$(kc get pods -o wide)"; fi

kc apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: two-hosts}
spec:
  rules:
  - host: alpha.example
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: alpha, port: {number: 80}}}}]
  - host: beta.example
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: beta, port: {number: 80}}}}]
YAML
# From node-b, through the control node's ingress address.
get() { in_node node-b timeout 3 busybox wget -qO- --header "Host: $1" "http://$CONTROL_IP:$HTTP/"; }
routes_to() { [ "$(get "$1")" == "$2" ]; }
if wait_for 20 routes_to alpha.example "alpha on node-a"; then
  pass "alpha.example reaches the pod on node-a"
else
  fail "alpha.example -> node-a" "$(get alpha.example 2>&1; tail -5 "$CL_DIR/control/ingress/error.log" 2>/dev/null)"
fi
if wait_for 10 routes_to beta.example "beta on node-b"; then
  pass "beta.example reaches the pod on node-b"
else
  fail "beta.example -> node-b" "$(get beta.example 2>&1; tail -5 "$CL_DIR/control/ingress/error.log" 2>/dev/null)"
fi
expect_out "an unknown host gets nginx's 404" "404 Not Found" \
  in_node node-b sh -c "timeout 3 busybox wget -qO- --header 'Host: nope.example' http://$CONTROL_IP:$HTTP/ 2>&1; true"
expect_out "Ingress status has the control node's address" "$CONTROL_IP" \
  kc get ingress two-hosts -o jsonpath='{.status.loadBalancer.ingress[0].ip}'

echo "== the backend moves to the other node (t=$SECONDS)"
kc delete pod alpha --wait=false >/dev/null
pod_on node-b alpha2 berth-test/web:1.0 --labels="app=alpha" -- \
  sh -c "mkdir -p /tmp/w && echo alpha on node-b > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"
if wait_for 30 routes_to alpha.example "alpha on node-b"; then
  pass "alpha.example follows its Service to the new pod on node-b"
else
  fail "alpha.example follows the endpoints" "$(get alpha.example 2>&1; kc get endpointslices -o wide)"
fi

finish
