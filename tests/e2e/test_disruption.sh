#!/usr/bin/env bash
# PodDisruptionBudgets: the disruption controller's status from the pods (and their
# controller's scale), and the eviction subresource spending one allowed disruption at a time:
# a second eviction in a row gets 429, Pending pods are evicted regardless.
source "$(dirname "$0")/lib.sh"
# The ReplicaSet below is a scale source only: its pods are made by hand, so no controller may
# add or remove any.
start_server --controllers '*,-replicaset' || exit 1

# running_pod NAME [OWNER_UID]: a pod bound to a node, Running and Ready (no kubelet here).
running_pod() {
  local owner=""
  [ -n "${2:-}" ] && owner="ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-rs, uid: \"$2\", controller: true}]"
  k create -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {app: ${3:-web}}, $owner}
spec: {nodeName: node-a, containers: [{name: c, image: busybox}]}
YAML
  k patch pod "$1" --subresource=status --type=merge \
    -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null
}

# wait_status PDB JSONPATH WANT: polls until the jsonpath output equals WANT (5 s).
wait_status() {
  local got=""
  for _ in $(seq 1 50); do
    got=$(k get pdb "$1" -o jsonpath="$2")
    [ "$got" = "$3" ] && break
    sleep 0.1
  done
  expect_eq "$4" "$3" "$got"
}

evict() {
  k create --raw "/api/v1/namespaces/default/pods/$1/eviction" -f - <<JSON
{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"$1","namespace":"default"}}
JSON
}

STATUS='{.status.currentHealthy}/{.status.desiredHealthy}/{.status.expectedPods}/{.status.disruptionsAllowed}'

echo "-- minAvailable"
for i in 1 2 3; do running_pod web-$i; done
k create pdb web --selector=app=web --min-available=2 >/dev/null
wait_status web "$STATUS" "3/2/3/1" "status: 3 healthy, 2 desired, 3 expected, 1 allowed"
expect_out "observedGeneration follows the generation" '^1 True SufficientPods$' \
  k get pdb web -o jsonpath='{.status.observedGeneration} {.status.conditions[?(@.type=="DisruptionAllowed")].status} {.status.conditions[?(@.type=="DisruptionAllowed")].reason}'
expect_ok "the first eviction succeeds" evict web-1
expect_out "the evicted pod is terminating" '.+' k get pod web-1 -o jsonpath='{.metadata.deletionTimestamp}'
expect_err "a second eviction in a row is refused" \
  "Cannot evict pod as it would violate the pod's disruption budget" evict web-2
grep -q "TooManyRequests\|429" <<<"$LAST_OUT" && pass "... with 429 TooManyRequests" ||
  fail "... with 429 TooManyRequests" "$LAST_OUT"
expect_ok "the refused pod is still there" k get pod web-2 -o name
wait_status web "$STATUS" "2/2/3/0" "the controller counts the evicted pod out"
expect_out "DisruptionAllowed is False: InsufficientPods" '^False InsufficientPods$' \
  k get pdb web -o jsonpath='{.status.conditions[?(@.type=="DisruptionAllowed")].status} {.status.conditions[?(@.type=="DisruptionAllowed")].reason}'

echo "-- Pending pods are evicted regardless"
k create -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web-pending, labels: {app: web}}
spec: {containers: [{name: c, image: busybox}]}
YAML
expect_ok "evicting a Pending pod ignores the budget" evict web-pending
expect_err "the Pending pod is gone" 'NotFound' k get pod web-pending

echo "-- maxUnavailable as a percentage of the controller's scale"
k create -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-rs}
spec:
  replicas: 4
  selector: {matchLabels: {app: rs}}
  template:
    metadata: {labels: {app: rs}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
uid=$(k get rs web-rs -o jsonpath='{.metadata.uid}')
for i in 1 2 3; do running_pod rs-$i "$uid" rs; done
k create pdb rs --selector=app=rs --max-unavailable=50% >/dev/null
wait_status rs "$STATUS" "3/2/4/1" "expected pods come from the ReplicaSet's replicas"
k scale rs web-rs --replicas=2 >/dev/null
wait_status rs "$STATUS" "3/1/2/2" "a new scale is followed"

finish
