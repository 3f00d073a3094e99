#!/usr/bin/env bash
# `berth simulate` with the real kubectl: simulated nodes register Ready with a podCIDR from the
# node IPAM controller, keep their Leases, run bound pods (Running, Ready, an IP of the node's
# podCIDR) and delete pods marked for deletion; a node whose heartbeat stops goes NotReady with
# the unreachable taints and its pods are evicted after their toleration, and it recovers; a
# SIGTERM stops the simulator cleanly. Short monitor periods keep it to seconds.
source "$(dirname "$0")/lib.sh"
start_server --node-monitor-grace-period 3s --node-monitor-period 500ms || exit 1

SIM_LOG=$WORK/simulate.log
PAUSE=$WORK/paused-nodes
: >"$PAUSE"
"$BERTH" simulate --kubeconfig "$KUBECONFIG" --nodes 3 --name-prefix e2e-node- \
  --cpu 8 --memory 32Gi --pods 50 --stats-interval 0 --pause-heartbeat-file "$PAUSE" \
  --lease-renew-interval 1 --node-status-update-frequency 1 >"$SIM_LOG" 2>&1 &
SIM_PID=$!

ready_nodes() { k get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'; }
three_ready() { [ "$(ready_nodes | grep -o '=True' | wc -l)" -eq 3 ]; }
three_cidrs() { [ "$(k get nodes -o jsonpath='{.items[*].spec.podCIDR}' | wc -w)" -eq 3 ]; }

if wait_for 20 three_ready && wait_for 10 three_cidrs; then pass "3 simulated nodes are Ready"; else
  fail "3 simulated nodes are Ready" "$(ready_nodes; cat "$SIM_LOG")"; fi
expect_out "nodes list as Ready in kubectl" 'e2e-node-0 +Ready .*v1\.32\.0' k get nodes
expect_out "capacity, labels and InternalIP as flags asked" \
  '^8 32Gi 50 e2e-node-1 linux 10\.[0-9.]+$' \
  k get node e2e-node-1 -o jsonpath='{.status.capacity.cpu} {.status.allocatable.memory} {.status.capacity.pods} {.metadata.labels.kubernetes\.io/hostname} {.metadata.labels.kubernetes\.io/os} {.status.addresses[?(@.type=="InternalIP")].address}'
CIDRS=$(k get nodes -o jsonpath='{range .items[*]}{.spec.podCIDR}{"\n"}{end}' | sort)
expect_eq "each node has its own /24 of 10.244.0.0/16" "3 3" \
  "$(grep -Ec '^10\.244\.[0-9]+\.0/24$' <<<"$CIDRS") $(sort -u <<<"$CIDRS" | wc -l)"
expect_out "each node renews its Lease in kube-node-lease" \
  'e2e-node-2 40 Node/e2e-node-2 20[0-9-]+T[0-9:]+\.[0-9]{6}Z' \
  k -n kube-node-lease get lease e2e-node-2 -o jsonpath='{.spec.holderIdentity} {.spec.leaseDurationSeconds} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.spec.renewTime}'

# A pod bound by spec.nodeName goes Running and Ready with an IP of the node's podCIDR.
cat >"$WORK/pod.yml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: bound, labels: {app: bound}}
spec:
  nodeName: e2e-node-1
  initContainers: [{name: setup, image: busybox}]
  containers: [{name: web, image: nginx:1.25}]
YAML
expect_ok "create a bound pod" k apply -f "$WORK/pod.yml"
expect_ok "the pod becomes Ready" k wait --for=condition=Ready pod/bound --timeout=20s
NODE_CIDR=$(k get node e2e-node-1 -o jsonpath='{.spec.podCIDR}')
POD_IP=$(k get pod bound -o jsonpath='{.status.podIP}')
expect_eq "pod IP is inside the node's podCIDR" "${NODE_CIDR%.0/24}" "${POD_IP%.*}"
expect_out "status as a kubelet writes it" \
  '^Running 10\.[0-9.]+ true true containerd://[0-9a-f]{64} docker\.io/library/nginx@sha256:[0-9a-f]{64} Completed$' \
  k get pod bound -o jsonpath='{.status.phase} {.status.hostIP} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].started} {.status.containerStatuses[0].containerID} {.status.containerStatuses[0].imageID} {.status.initContainerStatuses[0].state.terminated.reason}'
expect_out "kubectl shows it Running with its IP and node" \
  "bound +1/1 +Running +0 +[0-9a-z]+ +$POD_IP +e2e-node-1" k get pod bound -o wide

# Deleting it terminates it: the simulated kubelet deletes it with grace period 0.
expect_ok "graceful delete completes" k delete pod bound --timeout=20s
expect_err "the pod is gone" 'NotFound' k get pod bound

# A second pod on the same node reuses the freed address space without collisions.
for i in 1 2 3; do
  k run "p$i" --image=busybox --overrides='{"spec":{"nodeName":"e2e-node-0"}}' >/dev/null
done
expect_ok "three pods become Ready" k wait --for=condition=Ready pod/p1 pod/p2 pod/p3 --timeout=20s
expect_eq "their IPs are distinct" 3 \
  "$(k get pods -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort -u | grep -c .)"
expect_ok "delete them" k delete pod p1 p2 p3 --timeout=20s

# Killing one node's heartbeat: NotReady, unreachable taints, pods not ready; the pod that
# tolerates the taint for 2 s is evicted (and, its kubelet still deleting, gone); the pod with
# the default 300 s toleration stays.
k run short --image=busybox --overrides='{"spec":{"nodeName":"e2e-node-2","tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":2}]}}' >/dev/null
k run long --image=busybox --overrides='{"spec":{"nodeName":"e2e-node-2"}}' >/dev/null
expect_ok "pods on e2e-node-2 run" k wait --for=condition=Ready pod/short pod/long --timeout=20s
# A Deployment spread over the three nodes (preferred anti-affinity), tolerating the
# unreachable taint for 2 s: its pod on the dead node is replaced on the others.
cat >"$WORK/deploy.yml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 3
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector: {matchLabels: {app: spread}}
      containers: [{name: web, image: nginx}]
YAML
expect_ok "create a Deployment" k apply -f "$WORK/deploy.yml"
expect_ok "it becomes available" k rollout status deployment/spread --timeout=30s
spread_nodes() { k get pods -l app=spread -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort; }
expect_eq "one replica per node" "e2e-node-0 e2e-node-1 e2e-node-2" "$(spread_nodes | tr '\n' ' ' | sed 's/ $//')"
DEAD_POD=$(k get pods -l app=spread --field-selector spec.nodeName=e2e-node-2 -o jsonpath='{.items[0].metadata.name}')

echo e2e-node-2 >"$PAUSE"
node_unknown() { [ "$(k get node e2e-node-2 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = Unknown ]; }
if wait_for 15 node_unknown; then pass "silent node goes Ready=Unknown"; else
  fail "silent node goes Ready=Unknown" "$(k get node e2e-node-2 -o yaml)"; fi
expect_out "kubectl shows it NotReady" 'e2e-node-2 +NotReady' k get nodes
expect_out "condition says why" '^NodeStatusUnknown Kubelet stopped posting node status\.$' \
  k get node e2e-node-2 -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Ready")].message}'
has_taints() { k get node e2e-node-2 -o jsonpath='{range .spec.taints[*]}{.key}:{.effect} {end}' | grep -q 'unreachable:NoExecute.*unreachable:NoSchedule\|unreachable:NoSchedule.*unreachable:NoExecute'; }
if wait_for 5 has_taints; then pass "unreachable taints NoExecute and NoSchedule"; else
  fail "unreachable taints NoExecute and NoSchedule" "$(k get node e2e-node-2 -o jsonpath='{.spec.taints}')"; fi
long_not_ready() { [ "$(k get pod long -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = False ]; }
if wait_for 5 long_not_ready; then pass "its pods are marked not ready"; else fail "its pods are marked not ready"; fi
short_gone() { ! k get pod short >/dev/null 2>&1; }
if wait_for 10 short_gone; then pass "the pod tolerating 2 s is evicted and deleted"; else
  fail "the pod tolerating 2 s is evicted and deleted" "$(k get pod short -o yaml)"; fi
expect_out "the pod with the default 300 s toleration stays" '^long +' k get pod long --no-headers
replaced() {
  [ "$(k get deployment spread -o jsonpath='{.status.availableReplicas}')" = 3 ] &&
    ! k get pod "$DEAD_POD" >/dev/null 2>&1 && ! spread_nodes | grep -q e2e-node-2
}
if wait_for 30 replaced; then pass "the Deployment's pod on the dead node is replaced elsewhere"; else
  fail "the Deployment's pod on the dead node is replaced elsewhere" "$(k get pods -o wide)"; fi
# The scheduler keeps new pods off the tainted node.
for i in 1 2 3 4; do k run "sched$i" --image=busybox >/dev/null; done
expect_ok "scheduled pods run" k wait --for=condition=Ready pod/sched1 pod/sched2 pod/sched3 pod/sched4 --timeout=20s
expect_eq "none lands on the unreachable node" "" \
  "$(k get pods sched1 sched2 sched3 sched4 -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep e2e-node-2)"
expect_ok "delete them" k delete pod sched1 sched2 sched3 sched4 --timeout=20s
expect_out "other nodes stay Ready and untainted" '^True\|$' \
  k get node e2e-node-0 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}|{.spec.taints}'

: >"$PAUSE"
node_back() { [ "$(k get node e2e-node-2 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}|{.spec.taints}')" = "True|" ]; }
if wait_for 15 node_back; then pass "heartbeat back: Ready again, taints removed"; else
  fail "heartbeat back: Ready again, taints removed" "$(k get node e2e-node-2 -o yaml)"; fi
expect_ok "its pod is Ready again" k wait --for=condition=Ready pod/long --timeout=15s
expect_ok "delete it" k delete pod long --timeout=20s
expect_ok "delete the Deployment" k delete deployment spread --timeout=20s

# Scheduled (no nodeName): the scheduler binds it to a simulated node, which runs it with an IP
# of that node's podCIDR.
k run scheduled --image=nginx >/dev/null
expect_ok "a pod the scheduler binds becomes Ready" k wait --for=condition=Ready pod/scheduled --timeout=20s
SNODE=$(k get pod scheduled -o jsonpath='{.spec.nodeName}')
SCIDR=$(k get node "$SNODE" -o jsonpath='{.spec.podCIDR}')
SIP=$(k get pod scheduled -o jsonpath='{.status.podIP}')
expect_eq "on a simulated node, IP in its podCIDR" "e2e-node ${SCIDR%.0/24}" "${SNODE%-*} ${SIP%.*}"
expect_ok "delete it" k delete pod scheduled --timeout=20s

# SIGTERM: the process ends promptly with a summary line.
kill -TERM "$SIM_PID"
for _ in $(seq 1 50); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SIM_PID" 2>/dev/null; then fail "SIGTERM stops berth simulate" "$(tail "$SIM_LOG")"; else
  pass "SIGTERM stops berth simulate"; fi
expect_out "its summary counts the work" 'nodes 3/3 registered.* ([1-9][0-9]) pods started, ([1-9][0-9]) pods deleted, 0 errors' \
  tail -1 "$SIM_LOG"

finish
