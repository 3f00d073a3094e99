#!/usr/bin/env bash
# Lifecycle controllers with running pods on a simulated node: a namespace whose pods terminate
# gracefully (the simulated kubelet deletes them) goes away, and a Running pod's owner deleted
# in foreground waits for it.
source "$(dirname "$0")/lib.sh"
start_server || exit 1
"$BERTH" simulate --kubeconfig "$KUBECONFIG" --nodes 1 --name-prefix sim- --stats-interval 0 \
  >"$WORK/simulate.log" 2>&1 &

running() { [ "$(k -n "$1" get pod "$2" -o jsonpath='{.status.phase}' 2>/dev/null)" = Running ]; }
k create namespace apps >/dev/null
k -n apps run web --image=busybox >/dev/null
wait_for 20 running apps web && pass "the pod runs on the simulated node" ||
  fail "the pod runs on the simulated node" "$(k -n apps get pod web -o yaml 2>&1 | tail -20)"
expect_out "deleting the namespace waits for its running pod" 'namespace "apps" deleted' \
  k delete namespace apps --timeout=30s
expect_err "the namespace is gone" 'NotFound' k get namespace apps

k create configmap owner >/dev/null
uid=$(k get configmap owner -o jsonpath='{.metadata.uid}')
k create -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: owned
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: "$uid", blockOwnerDeletion: true}]
spec: {containers: [{name: c, image: busybox}]}
YAML
wait_for 20 running default owned && pass "the owned pod runs" || fail "the owned pod runs"
expect_out "a foreground delete of the owner finishes once the pod is gone" \
  'configmap "owner" deleted' k delete configmap owner --cascade=foreground --timeout=30s
expect_err "the pod went first" 'NotFound' k get pod owned

finish
