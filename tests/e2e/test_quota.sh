#!/usr/bin/env bash
# ResourceQuota end to end with the real kubectl: the admission plugin rejects what exceeds a
# quota with upstream's message, the resource quota controller fills status and gives quota
# back on delete, racing creates never exceed the quota, pods need the quota'd values set.
source "$(dirname "$0")/lib.sh"
start_server || exit 1

used_is() { [ "$(k get quota "$1" -n "$2" -o jsonpath="{.status.used.$3}")" == "$4" ]; }

echo "== object counts"
k create namespace qa >/dev/null
k create quota q -n qa --hard=configmaps=2 >/dev/null
# kube-root-ca.crt may be published into the namespace by another controller: count from there.
expect_within "controller fills status.used" 10 bash -c \
  "[ -n \"\$($KUBECTL get quota q -n qa -o jsonpath='{.status.used.configmaps}')\" ]"
base=$(k get configmaps -n qa --no-headers 2>/dev/null | wc -l)
for i in $(seq $((base + 1)) 2); do k create configmap "c$i" -n qa >/dev/null; done
n=$(k get configmaps -n qa --no-headers | wc -l)
expect_eq "two configmaps exist" 2 "$n"
expect_err "third configmap is forbidden with upstream's message" \
  '^error: failed to create configmap: configmaps "c3" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=2, limited: configmaps=2$' \
  k create configmap c3 -n qa
expect_out "describe shows used and hard" 'configmaps +2 +2' k describe quota q -n qa
victim=$(k get configmaps -n qa -o jsonpath='{.items[0].metadata.name}')
k delete configmap "$victim" -n qa >/dev/null
expect_within "deleting one gives quota back" 10 used_is q qa configmaps 1
expect_ok "then another fits" k create configmap c4 -n qa

echo "== racing creates"
k create namespace race >/dev/null
k create quota q -n race --hard=count/configmaps=5,configmaps=100 >/dev/null
expect_within "race quota observed" 10 used_is q race count/configmaps "$(k get cm -n race --no-headers 2>/dev/null | wc -l)"
base=$(k get configmaps -n race --no-headers 2>/dev/null | wc -l)
seq 1 12 | xargs -P 12 -I{} "$KUBECTL" create configmap "r{}" -n race >"$WORK/race.out" 2>&1
n=$(k get configmaps -n race --no-headers | wc -l)
expect_eq "12 parallel creates leave exactly the quota's 5" 5 "$n"
expect_eq "the rest were refused by quota" $((12 - 5 + base)) \
  "$(grep -c 'exceeded quota: q, requested: count/configmaps=1, used: count/configmaps=5, limited: count/configmaps=5' "$WORK/race.out")"
expect_eq "status.used matches" 5 "$(k get quota q -n race -o jsonpath='{.status.used.count/configmaps}')"

echo "== compute resources and scopes"
k create namespace qc >/dev/null
k create quota compute -n qc --hard=requests.cpu=1,limits.cpu=2,pods=3 >/dev/null
expect_within "compute quota observed" 10 used_is compute qc pods 0
pod() {  # pod NAME REQUEST_CPU [LIMIT_CPU]
  local lim=""
  [ -n "${3:-}" ] && lim=",\"limits\":{\"cpu\":\"$3\"}"
  echo "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$1\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":{\"requests\":{\"cpu\":\"$2\"}$lim}}]}}"
}
expect_err "a pod without limits.cpu must specify it" \
  'pods "p0" is forbidden: failed quota: compute: must specify limits.cpu for: c$' \
  bash -c "$(declare -f pod); pod p0 500m | $KUBECTL create -n qc -f -"
expect_ok "a pod within quota" bash -c "$(declare -f pod); pod p1 600m 1 | $KUBECTL create -n qc -f -"
expect_err "requests.cpu beyond the quota" \
  'exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1$' \
  bash -c "$(declare -f pod); pod p2 600m 1 | $KUBECTL create -n qc -f -"
expect_out "used adds up" '^600m 1 1$' bash -c \
  "$KUBECTL get quota compute -n qc -o jsonpath='{.status.used.requests\.cpu} {.status.used.limits\.cpu} {.status.used.pods}'"
k create quota besteffort -n qc --hard=pods=1 --scopes=BestEffort >/dev/null
expect_within "scoped quota observed" 10 used_is besteffort qc pods 0
k delete quota compute -n qc >/dev/null
be() { echo "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$1\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"; }
expect_ok "one best-effort pod" bash -c "$(declare -f be); be b1 | $KUBECTL create -n qc -f -"
expect_err "a second best-effort pod exceeds the scoped quota" 'exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1' \
  bash -c "$(declare -f be); be b2 | $KUBECTL create -n qc -f -"
expect_ok "a burstable pod is outside the BestEffort scope" bash -c "$(declare -f pod); pod p3 100m | $KUBECTL create -n qc -f -"

echo "== services and count/<resource>.<group>"
k create namespace qs >/dev/null
k create quota svc -n qs --hard=services.nodeports=1,count/deployments.apps=1 >/dev/null
expect_within "service quota observed" 10 used_is svc qs count/deployments\\.apps 0
expect_ok "a NodePort service takes the one node port" k create service nodeport np1 -n qs --tcp=80:80
expect_err "a second one exceeds services.nodeports" \
  'exceeded quota: svc, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1' \
  k create service nodeport np2 -n qs --tcp=80:80
expect_ok "a ClusterIP service takes none" k create service clusterip c1 -n qs --tcp=80:80
expect_ok "one deployment" k create deployment d1 -n qs --image=busybox
expect_err "a second deployment exceeds count/deployments.apps" \
  'exceeded quota: svc, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1' \
  k create deployment d2 -n qs --image=busybox

echo "== dry run does not charge"
k delete configmap c4 -n qa >/dev/null
expect_within "quota given back again" 10 used_is q qa configmaps 1
expect_ok "a server dry-run create" k create configmap d1 -n qa --dry-run=server
expect_ok "a second one" k create configmap d2 -n qa --dry-run=server
expect_ok "the last unit is still free" k create configmap c5 -n qa
expect_err "and then quota is full" 'exceeded quota' k create configmap c6 -n qa
finish
