#!/usr/bin/env bash
# Storage object in-use protection end to end (StorageObjectInUseProtection admission plugin,
# pvc-protection and pv-protection controllers): a `berth server` with its node agent in a
# network namespace this test creates, real runc containers, real kubectl.
#  - new claims and volumes carry kubernetes.io/pvc-protection / kubernetes.io/pv-protection;
#  - `kubectl delete pvc` while a running pod uses the claim leaves it Terminating with the
#    finalizer, and the pod keeps writing to it;
#  - deleting the pod lets the claim go; reclaim Delete then removes the volume and its
#    local-path directory;
#  - `kubectl delete pv` of a Bound volume leaves it Terminating until its claim is gone;
#  - a claim no pod uses is deleted at once (kubectl's wait returns).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # node_netns_up, node_server_start

node_netns_up test_storage_protection sp
node_server_start sp-node ||
  { echo "the server did not start: $(tail -5 "$WORK/server.log")" >&2; exit 1; }

jp() { k get "$1" "$2" -o jsonpath="$3" 2>/dev/null; }
is() { [ "$(jp "$1" "$2" "$3")" == "$4" ]; }
absent() { ! k get "$1" "$2" >/dev/null 2>&1; }

echo "== a pod writing to a provisioned claim (t=$SECONDS)"
cat >"$WORK/app.yml" <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: user}
spec:
  terminationGracePeriodSeconds: 0
  containers:
    - name: app
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "while true; do date >> /data/log; sleep 0.2; done"]
      volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
YAML
expect_ok "kubectl apply a claim and a pod using it" k apply -f "$WORK/app.yml"
if wait_for 30 is pod user '{.status.phase}' Running; then pass "the pod runs"; else fail "pod Running" "$(k describe pod user | tail -20)"; fi
wait_for 10 is pvc data '{.status.phase}' Bound
PV=$(jp pvc data '{.spec.volumeName}')
DIR=$DATA/storage/${PV}_default_data
expect_out "the claim carries the pvc-protection finalizer" "^kubernetes.io/pvc-protection$" \
  k get pvc data -o jsonpath='{.metadata.finalizers[*]}'
expect_out "its volume carries the pv-protection finalizer" "^kubernetes.io/pv-protection$" \
  k get pv "$PV" -o jsonpath='{.metadata.finalizers[*]}'
expect_ok "the volume's directory exists on the node" test -s "$DIR/log"

echo "== deleting the claim while the pod uses it (t=$SECONDS)"
expect_ok "kubectl delete pvc data --wait=false" k delete pvc data --wait=false
sleep 2
expect_out "kubectl get pvc shows the claim Terminating" "^data +Terminating +$PV " k get pvc data
expect_out "with a deletionTimestamp and the finalizer still on" \
  "^20[0-9-]+T[0-9:]+Z kubernetes.io/pvc-protection$" \
  k get pvc data -o jsonpath='{.metadata.deletionTimestamp} {.metadata.finalizers[*]}'
expect_out "its volume stays Bound" "^Bound$" k get pv "$PV" -o jsonpath='{.status.phase}'
expect_out "the pod still runs" "^Running$" k get pod user -o jsonpath='{.status.phase}'
before=$(wc -l <"$DIR/log")
sleep 1
after=$(wc -l <"$DIR/log")
if [ "$after" -gt "$before" ]; then pass "and keeps writing to the volume ($before → $after lines)"; else fail "pod keeps writing" "$before → $after"; fi

echo "== the pod goes, the claim and volume follow (t=$SECONDS)"
start=$SECONDS
expect_ok "kubectl delete pod user" k delete pod user --timeout=30s
if wait_for 15 absent pvc data; then pass "the claim is gone $((SECONDS - start)) s after the pod's delete"; else fail "claim gone" "$(k get pvc data -o yaml)"; fi
if wait_for 15 absent pv "$PV"; then pass "reclaim Delete removes the volume"; else fail "PV gone" "$(k get pv "$PV" -o yaml)"; fi
if wait_for 5 test ! -e "$DIR"; then pass "and its local-path directory"; else fail "directory gone" "$(ls -la "$DIR")"; fi

echo "== deleting a Bound volume (t=$SECONDS)"
mkdir -p "$WORK/manual"
cat >"$WORK/manual.yml" <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: manual-pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  hostPath: {path: $WORK/manual}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: manual}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
YAML
expect_ok "create a volume and a claim that binds it" k apply -f "$WORK/manual.yml"
if wait_for 10 is pv manual-pv '{.status.phase}' Bound; then pass "the volume is Bound"; else fail "manual-pv Bound" "$(k describe pv manual-pv)"; fi
expect_ok "kubectl delete pv manual-pv --wait=false" k delete pv manual-pv --wait=false
sleep 1
expect_out "kubectl get pv shows it Terminating, still bound" \
  "^manual-pv .* Retain +Terminating +default/manual " k get pv manual-pv
expect_ok "kubectl delete pvc manual (nothing uses it)" k delete pvc manual --timeout=15s
if wait_for 10 absent pv manual-pv; then pass "the Released volume then goes"; else fail "manual-pv gone" "$(k get pv manual-pv -o yaml)"; fi

echo "== a claim no pod uses (t=$SECONDS)"
cat >"$WORK/idle.yml" <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: idle}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
YAML
expect_ok "create it" k apply -f "$WORK/idle.yml"
expect_ok "kubectl delete pvc idle waits and returns" k delete pvc idle --timeout=15s
expect_ok "it is gone" absent pvc idle

finish
