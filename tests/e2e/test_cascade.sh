#!/usr/bin/env bash
# kubectl delete --cascade=background|foreground|orphan against the garbage collector: an owner
# ConfigMap with hand-made dependents carrying ownerReferences (no workload controller needed).
source "$(dirname "$0")/lib.sh"
start_server || exit 1

# make_family NAME: an owner ConfigMap NAME and dependents NAME-a (blockOwnerDeletion) and
# NAME-b, plus a grandchild NAME-a-x owned by NAME-a.
make_family() {
  local owner=$1 uid
  k create configmap "$owner" --from-literal=k=v >/dev/null
  uid=$(k get configmap "$owner" -o jsonpath='{.metadata.uid}')
  for dep in a b; do
    local block=false
    [ "$dep" = a ] && block=true
    k create -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: $owner-$dep
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: $owner, uid: "$uid", controller: true, blockOwnerDeletion: $block}
data: {k: v}
YAML
  done
  local auid
  auid=$(k get configmap "$owner-a" -o jsonpath='{.metadata.uid}')
  k create -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: $owner-a-x
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: $owner-a, uid: "$auid"}
YAML
}

# gone_within SECONDS NAME...: every named ConfigMap is gone in time.
gone_within() {
  local secs=$1; shift
  for _ in $(seq 1 $((secs * 10))); do
    local left=0
    for n in "$@"; do k get configmap "$n" >/dev/null 2>&1 && left=1; done
    [ $left -eq 0 ] && return 0
    sleep 0.1
  done
  return 1
}

echo "-- background"
make_family bg
expect_out "delete --cascade=background" 'configmap "bg" deleted' \
  k delete configmap bg --cascade=background --timeout=10s
gone_within 10 bg-a bg-b bg-a-x && pass "dependents and grandchild are collected" ||
  fail "dependents and grandchild are collected" "$(k get configmaps 2>&1)"

echo "-- foreground"
make_family fg
expect_out "delete --cascade=foreground waits and succeeds" 'configmap "fg" deleted' \
  k delete configmap fg --cascade=foreground --timeout=20s
gone_within 10 fg fg-a fg-b fg-a-x && pass "owner and dependents are gone" ||
  fail "owner and dependents are gone" "$(k get configmaps 2>&1)"

# A dependent held by a finalizer blocks its foreground owner until it goes.
make_family held
k patch configmap held-a --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
k delete configmap held --cascade=foreground --wait=false >/dev/null
sleep 1.5
expect_out "owner waits with the foregroundDeletion finalizer" 'foregroundDeletion' \
  k get configmap held -o jsonpath='{.metadata.finalizers}'
expect_out "blocking dependent is terminating" '.+' \
  k get configmap held-a -o jsonpath='{.metadata.deletionTimestamp}'
k patch configmap held-a --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
gone_within 10 held held-a held-b held-a-x && pass "owner goes once the blocking dependent is gone" ||
  fail "owner goes once the blocking dependent is gone" "$(k get configmaps -o yaml 2>&1 | head -40)"

echo "-- orphan"
make_family or
expect_out "delete --cascade=orphan returns" 'configmap "or" deleted' \
  k delete configmap or --cascade=orphan --timeout=10s
gone_within 10 or && pass "orphaned owner is gone" || fail "orphaned owner is gone"
expect_out "dependents stay" 'or-a' k get configmap or-a or-b -o name
expect_eq "dependents lost their ownerReference" "" \
  "$(k get configmap or-a or-b -o jsonpath='{.items[*].metadata.ownerReferences}')"
expect_out "the grandchild keeps its owner" 'or-a' \
  k get configmap or-a-x -o jsonpath='{.metadata.ownerReferences[0].name}'

echo "-- dangling owner"
k create -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: stray
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: never, uid: "00000000-0000-0000-0000-000000000000"}
YAML
gone_within 10 stray && pass "an object whose owner never existed is collected" ||
  fail "an object whose owner never existed is collected"
# An owner that exists but is created after its dependent (not yet in the graph) is kept.
k create configmap later >/dev/null
uid=$(k get configmap later -o jsonpath='{.metadata.uid}')
k create -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: kept
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: later, uid: "$uid"}
YAML
sleep 1.5
expect_ok "a dependent of an existing owner stays" k get configmap kept

finish
