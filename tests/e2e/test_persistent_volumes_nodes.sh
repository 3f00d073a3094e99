#!/usr/bin/env bash
# A pod follows its data across nodes (cluster_lib.sh: a control plane and two node agents in
# network namespaces this test creates). A local-path claim is provisioned on the node its
# first pod was scheduled to (node-b); once that pod is gone, a new pod using the claim goes to
# node-b even though it prefers node-a, and finds the file; a pod forced onto node-a stays
# Pending with the scheduler's "volume node affinity conflict".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"

cluster_up || { fail "cluster_up"; finish; exit 1; }
jp() { kc get "$1" "$2" -o jsonpath="$3" 2>/dev/null; }
is() { [ "$(jp "$1" "$2" "$3")" == "$4" ]; }

pod_yaml() {  # name, extra spec lines (indented 2), command
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  terminationGracePeriodSeconds: 0
$2
  containers:
    - name: c
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "$3"]
      volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
YAML
}

echo "== the claim is provisioned where its first pod goes (t=$SECONDS)"
cat >"$WORK/claim.yml" <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
YAML
expect_ok "create a claim of the default class" kc apply -f "$WORK/claim.yml"
pod_yaml first "  nodeSelector: {kubernetes.io/hostname: node-b}" \
  "hostname > /data/who; exec sleep 100000" >"$WORK/first.yml"
expect_ok "and a pod for node-b using it" kc apply -f "$WORK/first.yml"
if wait_for 30 is pod first '{.status.phase}' Running; then pass "it runs"; else fail "first Running" "$(kc describe pod first | tail -20)"; fi
PV=$(jp pvc data '{.spec.volumeName}')
expect_out "the claim was provisioned on node-b" "^node-b Bound node-b$" \
  bash -c "ip netns exec $CL_CONTROL $KUBECTL get pvc data -o jsonpath='{.metadata.annotations.volume\.kubernetes\.io/selected-node} {.status.phase} ' && ip netns exec $CL_CONTROL $KUBECTL get pv $PV -o jsonpath='{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}'"
expect_out "and node-b's agent made its directory" "^first$" \
  cat "$CL_DIR/control/storage/${PV}_default_data/who"
expect_ok "delete the first pod" kc delete pod first --wait=true --timeout=20s

echo "== the next pod follows the data (t=$SECONDS)"
pod_yaml second "  affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 100, preference: {matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [node-a]}]}}]}}" \
  "exec sleep 100000" >"$WORK/second.yml"
expect_ok "a pod preferring node-a uses the claim" kc apply -f "$WORK/second.yml"
if wait_for 30 is pod second '{.status.phase}' Running; then pass "it runs"; else fail "second Running" "$(kc describe pod second | tail -20)"; fi
expect_out "on node-b, where the volume is" "^node-b$" kc get pod second -o jsonpath='{.spec.nodeName}'
expect_out "and reads what the first pod wrote" "^first$" kc exec second -- cat /data/who
pod_yaml pinned "  nodeSelector: {kubernetes.io/hostname: node-a}" "exec sleep 100000" >"$WORK/pinned.yml"
expect_ok "a pod forced onto node-a uses the claim" kc apply -f "$WORK/pinned.yml"
cond() { jp pod pinned '{.status.conditions[?(@.type=="PodScheduled")].message}'; }
wait_for 10 bash -c "ip netns exec $CL_CONTROL $KUBECTL get pod pinned -o jsonpath='{.status.conditions}' | grep -q conflict"
expect_out "it stays Pending: volume node affinity conflict" \
  "^0/2 nodes are available: .*1 node\(s\) had volume node affinity conflict" cond
expect_eq "and is not bound to a node" "" "$(jp pod pinned '{.spec.nodeName}')"

kc delete pod second pinned --grace-period=0 --force --wait=false >/dev/null 2>&1
finish
