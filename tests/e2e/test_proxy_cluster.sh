#!/usr/bin/env bash
# The service proxy on a two-node cluster (cluster_lib.sh), with the real kubectl: the lecture's
# NodePort Service (port 5000) in front of the lecture's pod on node-a answers on both nodes'
# addresses (node-b forwards to node-a's pod); a ClusterIP reaches a pod on the other node; a
# scaled-down Deployment stops getting traffic at its removed pods within about a second.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"

cluster_up || { fail "cluster_up"; finish; exit 1; }

echo "== the lecture's pod and service.yaml (t=$SECONDS)"
kc apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: myapp
  labels: {app: myapp}
spec:
  nodeName: node-a
  terminationGracePeriodSeconds: 1
  containers:
  - name: myapp
    image: berth-test/web:1.0
    command: ["sh", "-c", "mkdir -p /tmp/w && echo hello from myapp > /tmp/w/index.html && exec httpd -f -p 5000 -h /tmp/w"]
---
apiVersion: v1
kind: Service
metadata: {name: myapp}
spec:
  type: NodePort
  selector: {app: myapp}
  ports: [{name: http, port: 5000, targetPort: 5000}]
YAML
if wait_running myapp; then pass "myapp Running on node-a"; else fail "myapp Running" "$(kc get pods -o wide)"; fi
NODE_PORT=$(kc get svc myapp -o jsonpath='{.spec.ports[0].nodePort}')
CIP=$(kc get svc myapp -o jsonpath='{.spec.clusterIP}')
answers() { [ "$(ip netns exec "$CL_CONTROL" timeout 3 busybox wget -qO- "http://$1:$NODE_PORT/")" == "hello from myapp" ]; }
if wait_for 10 answers "$NODE_A_IP"; then pass "curl http://node-a:$NODE_PORT/ answers"; else
  fail "NodePort on node-a" "$(in_node node-a nft list table ip berth-proxy | head -40)"; fi
if wait_for 5 answers "$NODE_B_IP"; then pass "curl http://node-b:$NODE_PORT/ answers (the pod is on node-a)"; else
  fail "NodePort on node-b" "$(in_node node-b nft list table ip berth-proxy | head -40)"; fi

echo "== a ClusterIP from a pod on the other node (t=$SECONDS)"
pod_on node-b client berth-test/busybox:1.0 -- sleep 3600
if wait_running client; then pass "client Running on node-b"; else fail "client Running" "$(kc get pods -o wide)"; fi
expect_out "client on node-b -> $CIP:5000 -> myapp on node-a" "^hello from myapp$" \
  pod_exec client wget -qO- "http://$CIP:5000/"

echo "== scaling changes the endpoints (t=$SECONDS)"
kc create deployment web --image=berth-test/web:1.0 --replicas=3 --port=8080 -- \
  sh -c 'mkdir -p /tmp/w && hostname > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w' >/dev/null
kc expose deployment web --port=80 --target-port=8080 >/dev/null
WIP=$(kc get svc web -o jsonpath='{.spec.clusterIP}')
three() { [ "$(in_node node-b nft list map ip berth-proxy service-endpoints | grep -c "$WIP . tcp . 80 \.")" == 3 ]; }
if wait_for 60 three; then pass "3 replicas behind $WIP on node-b's rules"; else
  fail "3 endpoints" "$(kc get pods -o wide; kc get endpointslices)"; fi
# Each replica answers on its own address first (a container counts as started before its httpd
# has bound the port); then requests to the ClusterIP must reach all three.
for ip in $(kc get pods -l app=web -o jsonpath='{.items[*].status.podIP}'); do
  direct() { pod_exec client wget -qO- "http://$1:8080/" >/dev/null 2>&1; }
  wait_for 10 direct "$ip" || fail "replica $ip answers on its own address" "$(kc get pods -o wide)"
done
names=""
for _ in $(seq 1 60); do
  names+="$(pod_exec client wget -qO- "http://$WIP/" 2>&1)"$'\n'
  [ "$(sort -u <<<"$names" | grep -c "^web-")" == 3 ] && break
done
expect_eq "traffic from node-b spreads over the 3 replicas" 3 "$(sort -u <<<"$names" | grep -c "^web-")"
kc scale deployment web --replicas=1 >/dev/null
start=$(date +%s%N)
one() { [ "$(in_node node-b nft list map ip berth-proxy service-endpoints | grep -c "$WIP . tcp . 80 \.")" == 1 ]; }
if wait_for 10 one; then
  pass "scaled to 1: node-b's rules follow in $(( ($(date +%s%N) - start) / 1000000 )) ms"
else
  fail "scale-down reaches the rules" "$(kc get endpointslices -o wide)"
fi
left=$(kc get pods -l app=web --field-selector=status.phase=Running -o jsonpath='{.items[*].metadata.name}')
seen=$(for _ in $(seq 1 10); do pod_exec client wget -qO- "http://$WIP/" 2>&1; done | sort -u | tr '\n' ' ')
if [ "$(wc -w <<<"$seen")" == 1 ] && [[ " $left " == *" ${seen% } "* ]]; then
  pass "then only the remaining replica answers ($seen)"; else fail "one replica answers" "seen: $seen; running: $left"; fi

finish
