#!/usr/bin/env bash
# Namespace deletion by the namespace controller: content of built-in and custom resources is
# deleted, held content keeps the namespace Terminating with upstream's conditions, the deletion
# resumes after a server restart, and PUT .../finalize is the documented way out.
source "$(dirname "$0")/lib.sh"
start_server || exit 1
cd "$FIXTURES"

# gone_within SECONDS ARGS...: `kubectl get ARGS` fails with NotFound in time.
gone_within() {
  local secs=$1; shift
  for _ in $(seq 1 $((secs * 10))); do
    local out
    out=$(k get "$@" 2>&1)
    grep -q NotFound <<<"$out" && return 0
    sleep 0.1
  done
  return 1
}

k apply -f crontab-crd.yaml >/dev/null
k wait --for condition=established --timeout=10s crd/crontabs.stable.example.com >/dev/null

echo "-- content is deleted"
k create namespace team >/dev/null
k -n team create configmap c1 --from-literal=a=b >/dev/null
k -n team create secret generic s1 --from-literal=a=b >/dev/null
k -n team create -f crontab.yaml >/dev/null
k -n team run p1 --image=busybox --restart=Never >/dev/null
expect_out "delete namespace with content" 'namespace "team" deleted' \
  k delete namespace team --timeout=30s
gone_within 10 namespace team && pass "namespace is gone" || fail "namespace is gone"
k create namespace team >/dev/null
# Empty but for the kube-root-ca.crt ConfigMap every namespace gets (as upstream).
expect_eq "a recreated namespace starts empty" "" \
  "$(k -n team get configmaps,secrets,crontabs,pods -o name | grep -v '^configmap/kube-root-ca.crt$')"
k delete namespace team --wait=false >/dev/null

echo "-- held content and conditions"
k create namespace held >/dev/null
k -n held create -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: pinned, finalizers: [example.com/hold]}
YAML
k -n held create configmap free >/dev/null
k delete namespace held --wait=false >/dev/null
ok=0
for _ in $(seq 1 50); do
  msg=$(k get namespace held -o jsonpath='{.status.conditions[?(@.type=="NamespaceContentRemaining")].message}')
  [ -n "$msg" ] && ok=1 && break
  sleep 0.1
done
expect_eq "NamespaceContentRemaining names what is left" \
  "Some resources are remaining: configmaps. has 1 resource instances" "$msg"
expect_out "NamespaceFinalizersRemaining names the finalizer" \
  '^True SomeFinalizerRemain Some finalizers are remaining: example.com/hold in 1 resource instances$' \
  k get namespace held -o jsonpath='{.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].status} {.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].reason} {.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].message}'
expect_out "NamespaceDeletionDiscoveryFailure is False" '^False ResourcesDiscovered$' \
  k get namespace held -o jsonpath='{.status.conditions[?(@.type=="NamespaceDeletionDiscoveryFailure")].status} {.status.conditions[?(@.type=="NamespaceDeletionDiscoveryFailure")].reason}'
expect_out "NamespaceDeletionContentFailure is False" '^False ContentDeleted$' \
  k get namespace held -o jsonpath='{.status.conditions[?(@.type=="NamespaceDeletionContentFailure")].status} {.status.conditions[?(@.type=="NamespaceDeletionContentFailure")].reason}'
expect_out "the phase is Terminating" '^Terminating$' k get namespace held -o jsonpath='{.status.phase}'
expect_err "the free content is gone" 'NotFound' k -n held get configmap free
expect_err "no new content in a terminating namespace" 'because it is being terminated' \
  k -n held create configmap late

echo "-- resumed after a restart"
stop_server -KILL
start_server || exit 1
k -n held patch configmap pinned --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
gone_within 10 namespace held && pass "the restarted server finishes the deletion" ||
  fail "the restarted server finishes the deletion" "$(k get namespace held -o yaml 2>&1)"

echo "-- finalize"
k create -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: stuck}
spec: {finalizers: [example.com/external]}
YAML
k delete namespace stuck --wait=false >/dev/null
for _ in $(seq 1 50); do
  f=$(k get namespace stuck -o jsonpath='{.spec.finalizers}')
  [ "$f" = '["example.com/external"]' ] && break
  sleep 0.1
done
expect_eq "the controller removed only its own finalizer" '["example.com/external"]' "$f"
k get namespace stuck -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); d["spec"]["finalizers"]=[]; print(json.dumps(d))' >"$WORK/stuck.json"
expect_ok "PUT finalize" k replace --raw /api/v1/namespaces/stuck/finalize -f "$WORK/stuck.json"
gone_within 5 namespace stuck && pass "finalize lets the namespace go" || fail "finalize lets the namespace go"

finish
