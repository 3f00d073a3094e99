#!/usr/bin/env bash
# A pod follows its data across nodes (cluster_lib.sh: a control plane and two node agents in
# network namespaces this test creates). A local-path claim is provisioned on the node its
# first pod was scheduled to (node-b); once that pod is gone, a new pod using the claim goes to
# node-b even though it prefers node-a, and finds the file; a pod forced onto node-a stays
# Pending with the scheduler's "volume node affinity conflict". The directory lives in node-b's
# own data dir (the directory node-b announces), and once the claim is deleted node-b's agent
# removes it (core/local_path.h): not while that agent is down, at once when it is back. A
# released volume whose directory is outside its node's local-path directory is refused.
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
DIR=$(node_agent_dir node-b)/storage/${PV}_default_data
expect_out "and node-b's agent made its directory in node-b's data dir" "^first$" cat "$DIR/who"
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

echo "== the volume is reclaimed on the node that holds it (t=$SECONDS)"
mkdir -p "$WORK/outside/pvc-stray_default_ghost" && echo keep >"$WORK/outside/pvc-stray_default_ghost/keep"
cat >"$WORK/stray.yml" <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pvc-stray
  annotations: {pv.kubernetes.io/provisioned-by: rancher.io/local-path}
spec:
  capacity: {storage: 1Mi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: local-path
  hostPath: {path: $WORK/outside/pvc-stray_default_ghost}
  claimRef: {namespace: default, name: ghost, uid: 00000000-0000-0000-0000-00000000abcd}
  nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [node-a]}]}]}}
YAML
expect_ok "a released local-path volume on node-a whose directory is outside node-a's" kc apply -f "$WORK/stray.yml"
expect_ok "delete the pods using the claim" kc delete pod second pinned --wait=true --timeout=30s
AGENT_B=${CL_PIDS[2]}
kill "$AGENT_B" && wait "$AGENT_B"
expect_ok "stop node-b's agent, then delete the claim" kc delete pvc data --wait=false
deleting() { [ -n "$(jp pv "$1" '{.metadata.deletionTimestamp}')" ]; }
wait_for 30 deleting "$PV"
expect_out "the released volume is handed to node-b: labelled for it, held by the finalizer" \
  '^node-b .*"berth.dev/local-path-cleanup"' \
  jp pv "$PV" '{.metadata.labels.berth\.dev/local-path-cleanup-node} {.metadata.finalizers}'
expect_out "while node-b's agent is down the directory stays" "^first$" cat "$DIR/who"
cl_start_agent node-b
gone() { [ -z "$(kc get pv "$PV" --ignore-not-found -o name 2>/dev/null)" ] && ! [ -e "$DIR" ]; }
if wait_for 30 gone; then
  pass "node-b's agent, back, removed the directory from its data dir and the volume is gone"
else
  fail "node-b removes the directory and the volume goes" \
    "dir: $(ls -d "$DIR" 2>&1); pv: $(kc get pv "$PV" -o yaml 2>&1 | head -30); $(tail -5 "$CL_DIR/node-b.log")"
fi
refused() { kc get events -A --field-selector involvedObject.name=pvc-stray -o jsonpath='{.items[*].message}' | grep -q "is not in this node's local-path directory"; }
if wait_for 30 refused; then
  pass "node-a refuses the directory outside its local-path directory (VolumeFailedDelete)"
else
  fail "node-a refuses the stray directory" "$(kc get events -A | grep -i stray)"
fi
expect_out "the stray directory is kept, and so is the volume with its finalizer" \
  '^keep True berth.dev/local-path-cleanup$' bash -c "cat $WORK/outside/pvc-stray_default_ghost/keep | tr '\n' ' '; \
  ip netns exec $CL_CONTROL $KUBECTL get pv pvc-stray -o jsonpath='{.metadata.deletionTimestamp}' | grep -q . && echo -n 'True '; \
  ip netns exec $CL_CONTROL $KUBECTL get pv pvc-stray -o jsonpath='{.metadata.finalizers[*]}' | tr ' ' '\n' | grep local-path"
finish
