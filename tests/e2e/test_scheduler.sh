#!/usr/bin/env bash
# The scheduler inside `berth server`, seen through the real kubectl: Node objects created via the
# API (no kubelet), pods spread by required anti-affinity, a pod too big for any node stays
# Pending with upstream's reason in `kubectl describe`, nodeSelector honoured, and a
# higher-priority pod preempting a lower-priority one.
source "$(dirname "$0")/lib.sh"
start_server || exit 1

node_of() { k get pod "$1" -o jsonpath='{.spec.nodeName}'; }
on_node() { [ "$(node_of "$1")" == "$2" ]; }
is_bound() { [ -n "$(node_of "$1")" ]; }

for n in 1 2 3; do
  disk=hdd; [ $n -eq 1 ] && disk=ssd
  cat <<YAML | k apply -f - >/dev/null
apiVersion: v1
kind: Node
metadata:
  name: node-$n
  labels: {kubernetes.io/hostname: node-$n, disk: $disk}
status:
  capacity: {cpu: "2", memory: 4Gi, pods: "110"}
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
YAML
done
expect_out "three nodes registered" "node-3" k get nodes

# --- anti-affinity spreads replicas over the nodes -------------------------------------------
spread_pod() {
  cat <<YAML | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {app: spread}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: spread}}
        topologyKey: kubernetes.io/hostname
  containers: [{name: c, image: busybox}]
YAML
}
for i in 1 2 3; do spread_pod spread-$i; done
expect_within "spread-1 bound" 15 is_bound spread-1
expect_within "spread-2 bound" 15 is_bound spread-2
expect_within "spread-3 bound" 15 is_bound spread-3
distinct=$(k get pods -l app=spread -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | wc -l)
expect_eq "anti-affinity put each replica on its own node" 3 "$distinct"
spread_pod spread-4
expect_within "a fourth replica has no node left" 15 bash -c \
  "$KUBECTL describe pod spread-4 | grep -q \"0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules\""
expect_eq "the fourth replica stays unbound" "" "$(node_of spread-4)"
k delete pod spread-4 --wait=false >/dev/null

# --- a pod too big for any node ---------------------------------------------------------------
k run too-big --image=busybox --overrides='{"spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"cpu":"16"}}}]}}' >/dev/null
want='0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.'
expect_within "too-big gets FailedScheduling with upstream's message" 15 bash -c \
  "$KUBECTL describe pod too-big | grep -F -q '$want'"
expect_out "describe shows FailedScheduling from default-scheduler" \
  "Warning +FailedScheduling .* default-scheduler +0/3 nodes are available" k describe pod too-big
expect_out "PodScheduled=False with reason Unschedulable" '^False Unschedulable$' \
  k get pod too-big -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status} {.status.conditions[?(@.type=="PodScheduled")].reason}'
expect_out "too-big is Pending" '^Pending$' k get pod too-big -o jsonpath='{.status.phase}'
k delete pod too-big --wait=false >/dev/null

# --- nodeSelector -----------------------------------------------------------------------------
k run ssd-only --image=busybox --overrides='{"spec":{"nodeSelector":{"disk":"ssd"}}}' >/dev/null
expect_within "nodeSelector disk=ssd lands on node-1" 15 on_node ssd-only node-1
expect_out "Scheduled event names the node" "Successfully assigned default/ssd-only to node-1" \
  k get events --field-selector involvedObject.name=ssd-only

# --- preemption -------------------------------------------------------------------------------
cat <<YAML | k apply -f - >/dev/null
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: low}
value: 10
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
YAML
prio_pod() {
  k run "$1" --image=busybox --overrides="{\"spec\":{\"priorityClassName\":\"$2\",\"nodeSelector\":{\"disk\":\"ssd\"},\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":{\"requests\":{\"cpu\":\"1500m\"}}}]}}" >/dev/null
}
prio_pod victim low
expect_within "the low-priority pod runs on node-1" 15 on_node victim node-1
prio_pod preemptor high
nominated() { [ "$(k get pod preemptor -o jsonpath='{.status.nominatedNodeName}')" == node-1 ]; }
expect_within "the preemptor is nominated to node-1" 15 nominated
victim_going() {
  ! k get pod victim >/dev/null 2>&1 || [ -n "$(k get pod victim -o jsonpath='{.metadata.deletionTimestamp}')" ]
}
expect_within "the victim is being deleted" 15 victim_going
# No kubelet here: finish the victim's graceful deletion as the kubelet would.
k delete pod victim --grace-period=0 --force >/dev/null 2>&1
expect_within "the preemptor is bound to node-1 once the victim is gone" 15 on_node preemptor node-1
expect_out "Preempted event on the victim" "Preempted by pod" \
  k get events --field-selector involvedObject.name=victim

# --- metrics ------------------------------------------------------------------------------------
metrics=$(k get --raw /metrics | grep '^scheduler_')
expect_out "scheduled attempts counted" 'scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} [1-9]' echo "$metrics"
expect_out "preemption attempts counted" 'scheduler_preemption_attempts_total [1-9]' echo "$metrics"
expect_out "pending pods gauge" 'scheduler_pending_pods\{queue="unschedulable"\}' echo "$metrics"

finish
