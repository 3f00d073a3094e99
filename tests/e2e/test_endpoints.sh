#!/usr/bin/env bash
# Services and their endpoints through the real kubectl on simulated nodes (scheduler +
# `berth simulate`): `kubectl expose deployment/pod`, EndpointSlices and Endpoints that follow a
# scale up and down (the time is measured and printed), a terminating pod shown terminating while
# it lingers, multi-port and headless Services, a LoadBalancer Service that gets an address from
# --service-lb-pool, a requested taken ClusterIP refused with upstream's message, and the
# --service-cluster-ip-range / --service-node-port-range flags.
source "$(dirname "$0")/lib.sh"
start_server --service-lb-pool 192.0.2.8/29 || exit 1
"$BERTH" simulate --kubeconfig "$KUBECONFIG" --nodes 2 --name-prefix node- --stats-interval 0 \
  >"$WORK/simulate.log" 2>&1 &

TOKEN=$(awk '/token:/ { print $2; exit }' "$KUBECONFIG")
# api PATH: GET from the API server directly (polling without kubectl's start-up cost).
api() { curl -sk -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$PORT$1"; }

# ready_count SVC: ready endpoints over the Service's managed EndpointSlices.
ready_count() {
  api "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name=$1,endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for s in d["items"] for e in s.get("endpoints") or [] if e["conditions"].get("ready")))'
}
ready_is() { [ "$(ready_count "$1")" -eq "$2" ]; }
endpoints_count() {  # addresses in the Service's v1 Endpoints
  k get endpoints "$1" -o jsonpath='{range .subsets[*].addresses[*]}{.ip}{"\n"}{end}' | grep -c .
}

nodes_ready() {
  [ "$(k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}' | grep -o True | wc -l)" -eq 2 ]
}
expect_within "2 simulated nodes are Ready" 20 nodes_ready

echo "--- kubectl expose ($SECONDS s)"
expect_ok "create deployment" k create deployment web --image=berth-test/web:1.0 --replicas=2 --port=8080
expect_ok "expose deployment" k expose deployment web --port=80 --target-port=8080
expect_eq "Service selector is the Deployment's" '{"app":"web"}' "$(k get svc web -o jsonpath='{.spec.selector}')"
expect_within "EndpointSlice has 2 ready endpoints" 20 ready_is web 2
endpoints_is() { [ "$(endpoints_count "$1")" -eq "$2" ]; }
expect_within "Endpoints has 2 addresses" 20 endpoints_is web 2
expect_out "slice is IPv4, owned by the Service, labelled" "IPv4 Service web endpointslice-controller.k8s.io" \
  k get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[0].addressType} {.items[0].metadata.ownerReferences[0].kind} {.items[0].metadata.ownerReferences[0].name} {.items[0].metadata.labels.endpointslice\.kubernetes\.io/managed-by}'
expect_out "slice port is the target port" '^8080 TCP$' \
  k get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[0].ports[0].port} {.items[0].ports[0].protocol}'
expect_out "endpoints carry nodeName and targetRef" '^node-[0-9] Pod web-' \
  k get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[0].endpoints[0].nodeName} {.items[0].endpoints[0].targetRef.kind} {.items[0].endpoints[0].targetRef.name}'
expect_out "kubectl describe svc lists the endpoints" 'Endpoints: +10\.244\.[0-9.]+:8080,10\.244\.' k describe svc web

expect_ok "run a pod" k run solo --image=berth-test/web:1.0 --port=8080 --labels=run=solo
expect_ok "expose pod" k expose pod solo --port=90 --target-port=8080 --name=solo
expect_eq "exposed pod's Service selects it" '{"run":"solo"}' "$(k get svc solo -o jsonpath='{.spec.selector}')"
expect_within "solo Service gets the pod as endpoint" 20 ready_is solo 1

echo "--- scale up and down ($SECONDS s)"
# scale_and_time N: scales web to N through the API and prints when the pods were Ready and when
# the slices showed N ready endpoints (ms after the request).
scale_and_time() {
  local out
  if ! out=$(/usr/bin/python3 "$E2E_DIR/endpoints_scale_timing.py" web web "$1" 2>&1); then
    fail "slices show $1 ready endpoints" "$out"; return
  fi
  read -r pods_ms slices_ms <<<"$out"
  echo "  measured: scale to $1: pods Ready after ${pods_ms} ms, EndpointSlices show them after ${slices_ms} ms"
  pass "slices follow a scale to $1 (${slices_ms} ms; timings are benchmarks, not assertions)"
}
scale_and_time 5
expect_within "Endpoints has 5 addresses" 20 endpoints_is web 5
scale_and_time 1
expect_within "Endpoints has 1 address" 20 endpoints_is web 1

echo "--- terminating pods ($SECONDS s)"
# A finalizer keeps the deleted pod (with its deletionTimestamp) around, as a pod in its grace
# period: the simulated kubelet finishes pods at once.
cat >"$WORK/held.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: held
  labels: {app: web}
  finalizers: [example.com/hold]
spec:
  containers: [{name: web, image: berth-test/web:1.0, ports: [{containerPort: 8080}]}]
EOF
expect_ok "create a pod behind web with a finalizer" k apply -f "$WORK/held.yaml"
expect_within "web has 2 ready endpoints" 20 ready_is web 2
expect_ok "delete it (it lingers)" k delete pod held --wait=false
held_conditions() {
  k get endpointslices -l kubernetes.io/service-name=web \
    -o jsonpath='{range .items[*].endpoints[?(@.targetRef.name=="held")]}{.conditions.ready} {.conditions.serving} {.conditions.terminating}{end}'
}
held_is_terminating() { [ "$(held_conditions)" == "false true true" ]; }
expect_within "terminating pod: ready=false serving=true terminating=true" 20 held_is_terminating
expect_eq "terminating pod left out of v1 Endpoints" 1 "$(endpoints_count web)"
expect_ok "remove the finalizer" k patch pod held --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
held_gone() { [ -z "$(held_conditions)" ]; }
expect_within "finished pod gone from the slices" 20 held_gone

echo "--- multi-port, headless, named targetPort ($SECONDS s)"
cat >"$WORK/multi.yaml" <<EOF
apiVersion: v1
kind: Service
metadata: {name: multi}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}, {port: 443, targetPort: 8443}]
EOF
expect_err "multi-port Service without names refused" 'spec.ports\[0\].name: Required value' k apply -f "$WORK/multi.yaml"
sed -i 's/{port: 80,/{name: http, port: 80,/; s/{port: 443,/{name: https, port: 443,/' "$WORK/multi.yaml"
expect_ok "multi-port Service with names" k apply -f "$WORK/multi.yaml"
slice_ports() {
  k get endpointslices -l kubernetes.io/service-name="$1" -o jsonpath='{range .items[*].ports[*]}{.name}={.port} {end}'
}
multi_ports() { [[ "$(slice_ports multi)" == *"http=8080"* && "$(slice_ports multi)" == *"https=8443"* ]]; }
expect_within "multi's slice has both ports" 20 multi_ports
cat >"$WORK/named.yaml" <<EOF
apiVersion: v1
kind: Service
metadata: {name: named}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: web, port: 80, targetPort: http-alt}]
---
apiVersion: v1
kind: Pod
metadata: {name: alt, labels: {app: web}}
spec:
  containers: [{name: web, image: berth-test/web:1.0, ports: [{name: http-alt, containerPort: 9090}]}]
EOF
expect_ok "headless Service with a named targetPort" k apply -f "$WORK/named.yaml"
named_resolved() {
  k get endpointslices -l kubernetes.io/service-name=named \
    -o jsonpath='{range .items[*]}{.ports[0].port}:{.endpoints[*].targetRef.name} {end}' | grep -q '9090:alt'
}
expect_within "named targetPort resolves on the pod that has it" 20 named_resolved
expect_out "headless slices are labelled" 'service.kubernetes.io/headless' \
  k get endpointslices -l kubernetes.io/service-name=named -o jsonpath='{.items[0].metadata.labels}'
expect_eq "headless Service has no ClusterIP" None "$(k get svc named -o jsonpath='{.spec.clusterIP}')"

echo "--- session affinity, externalIPs ($SECONDS s)"
cat >"$WORK/aff.yaml" <<EOF
apiVersion: v1
kind: Service
metadata: {name: aff}
spec:
  selector: {app: web}
  sessionAffinity: ClientIP
  externalIPs: [198.51.100.20]
  ports: [{port: 80, targetPort: 8080}]
EOF
expect_ok "ClientIP affinity with externalIPs" k apply -f "$WORK/aff.yaml"
expect_eq "affinity timeout defaults to 10800 s" 10800 "$(k get svc aff -o jsonpath='{.spec.sessionAffinityConfig.clientIP.timeoutSeconds}')"
expect_out "EXTERNAL-IP column shows the externalIP" 'aff +ClusterIP +10\.[0-9.]+ +198\.51\.100\.20 ' k get svc aff

echo "--- LoadBalancer ($SECONDS s)"
expect_ok "expose as LoadBalancer" k expose deployment web --type=LoadBalancer --name=web-lb --port=8080
lb_ip_is() { [ "$(k get svc "$1" -o jsonpath='{.status.loadBalancer.ingress[*].ip}')" == "$2" ]; }
expect_within "LoadBalancer gets an address from the pool" 20 lb_ip_is web-lb 192.0.2.9
expect_out "kubectl get svc shows it" 'web-lb +LoadBalancer +10\.[0-9.]+ +192\.0\.2\.9 +8080:3[0-9]+/TCP' k get svc web-lb
expect_ok "LoadBalancer asking for a pool address" k create service loadbalancer lb2 --tcp=80:8080
expect_ok "..with loadBalancerIP 192.0.2.12" k patch svc lb2 -p '{"spec":{"loadBalancerIP":"192.0.2.12"}}'
expect_within "requested pool address honoured" 20 lb_ip_is lb2 192.0.2.12
expect_ok "web-lb becomes a ClusterIP Service" k patch svc web-lb -p '{"spec":{"type":"ClusterIP"}}'
expect_within "its address is released" 20 lb_ip_is web-lb ""

echo "--- requested ClusterIPs ($SECONDS s)"
expect_ok "a requested free ClusterIP" k create service clusterip fixed --clusterip=10.96.0.50 --tcp=80:80
expect_eq "is honoured" 10.96.0.50 "$(k get svc fixed -o jsonpath='{.spec.clusterIP}')"
expect_err "a requested taken ClusterIP is refused" \
  'Service "fixed2" is invalid: spec.clusterIPs: Invalid value: \["10.96.0.50"\]: failed to allocate IP 10.96.0.50: provided IP is already allocated' \
  k create service clusterip fixed2 --clusterip=10.96.0.50 --tcp=80:80
expect_err "an IP outside the range is refused" 'not in the valid range. The range of valid IPs is 10.96.0.0/12' \
  k create service clusterip far --clusterip=10.200.0.5 --tcp=80:80

echo "--- deleting a Service ($SECONDS s)"
expect_ok "delete Service web" k delete svc web
no_slices() { [ -z "$(k get endpointslices -l kubernetes.io/service-name=web -o name)" ]; }
expect_within "its slices go" 20 no_slices
no_endpoints() { ! k get endpoints web; }
expect_within "its Endpoints go" 20 no_endpoints

echo "--- range flags ($SECONDS s)"
stop_server
rm -rf "$WORK/data"
if "$BERTH" server --data-dir "$WORK/bad" --bind-address 127.0.0.1 --secure-port 0 --disable-agent \
    --service-cluster-ip-range 10.96.0.0/8 >"$WORK/bad.log" 2>&1; then
  fail "a too wide --service-cluster-ip-range is refused"
else
  expect_out "a too wide --service-cluster-ip-range is refused" 'service-cluster-ip-range' cat "$WORK/bad.log"
fi
start_server --service-cluster-ip-range 10.100.0.0/16 --service-node-port-range 31000-31009 || exit 1
expect_eq "kubernetes Service gets the range's first address" 10.100.0.1 "$(k get svc kubernetes -o jsonpath='{.spec.clusterIP}')"
expect_ok "a NodePort Service" k create service nodeport np --tcp=80:8080
expect_out "its ClusterIP and NodePort come from the ranges" '^10\.100\.[0-9.]+ 3100[0-9]$' \
  k get svc np -o jsonpath='{.spec.clusterIP} {.spec.ports[0].nodePort}'
expect_err "a NodePort outside the range is refused" 'provided port is not in the valid range. The range of valid ports is 31000-31009' \
  k create service nodeport np2 --tcp=80:8080 --node-port=30080

finish
