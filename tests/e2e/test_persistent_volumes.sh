#!/usr/bin/env bash
# PersistentVolumeClaims end to end, as k3s ships them: a `berth server` (API server, controllers,
# scheduler and the node agent) in a network namespace this test creates, real runc containers.
#  - the default StorageClass local-path (rancher.io/local-path, WaitForFirstConsumer, Delete);
#  - a StatefulSet of 2 with a volumeClaimTemplate: each replica's claim is provisioned on the
#    node the scheduler picked (PV with node affinity, directory under <data-dir>/storage), the
#    replica writes its hostname there, is deleted, comes back on the same claim and reads it;
#  - deleting a claim (reclaim Delete) removes its PV and its directory;
#  - an Immediate claim binds to a pre-created hostPath PV; a pod using it waits in
#    ContainerCreating until then, and pods write through it;
#  - a WaitForFirstConsumer claim of a no-provisioner class gets the local PV the scheduler
#    binds for its first pod;
#  - a pod whose claim does not exist stays Pending and says why.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # node_netns_up, node_server_start

node_netns_up test_persistent_volumes pv
node_server_start pv-node ||
  { echo "the server did not start: $(tail -5 "$WORK/server.log")" >&2; exit 1; }

jp() { k get "$1" "$2" -o jsonpath="$3" 2>/dev/null; }
is() { [ "$(jp "$1" "$2" "$3")" == "$4" ]; }
# A file as the running pod sees it.
read_file() { k exec "$1" -- cat "$2" 2>/dev/null; }

echo "== the default StorageClass (t=$SECONDS)"
wait_for 10 is storageclass local-path '{.provisioner}' rancher.io/local-path
expect_out "kubectl get storageclass shows local-path as the default" \
  "^local-path \(default\) +rancher.io/local-path +Delete +WaitForFirstConsumer +false" \
  k get storageclass

echo "== a StatefulSet with a volumeClaimTemplate (t=$SECONDS)"
cat >"$WORK/sts.yml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: app
          image: berth-test/busybox:1.0
          command: ["sh", "-c", "[ -f /data/host ] || hostname > /data/host; echo boot >> /data/boots; exec sleep 100000"]
          volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 64Mi}}
YAML
expect_ok "kubectl apply the StatefulSet" k apply -f "$WORK/sts.yml"
start=$SECONDS
if wait_for 30 is pod web-0 '{.status.phase}' Running && wait_for 10 is pod web-1 '{.status.phase}' Running; then
  pass "both replicas Running within $((SECONDS - start)) s"
else
  fail "replicas Running" "$(k describe pod web-0 web-1 | tail -40)"
fi
for i in 0 1; do
  expect_out "claim data-web-$i is Bound with class local-path" "^Bound local-path pvc-" \
    k get pvc "data-web-$i" -o jsonpath='{.status.phase} {.spec.storageClassName} {.spec.volumeName}'
  expect_out "and says which node the scheduler picked" "^pv-node$" \
    k get pvc "data-web-$i" -o jsonpath='{.metadata.annotations.volume\.kubernetes\.io/selected-node}'
  PV=$(jp pvc "data-web-$i" '{.spec.volumeName}')
  expect_out "its PV has node affinity to pv-node, reclaim Delete" \
    "^kubernetes.io/hostname In pv-node Delete Bound$" \
    k get pv "$PV" -o jsonpath='{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].key} {.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].operator} {.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]} {.spec.persistentVolumeReclaimPolicy} {.status.phase}'
  CUID=$(jp pvc "data-web-$i" '{.metadata.uid}')
  expect_out "the replica's hostname is in its directory on the node" "^web-$i$" \
    cat "$DATA/storage/pvc-${CUID}_default_data-web-$i/host"
done
expect_out "web-0 reads its own file" "^web-0$" read_file web-0 /data/host

echo "== a replica comes back on the same claim (t=$SECONDS)"
OLD_UID=$(jp pod web-0 '{.metadata.uid}')
expect_ok "kubectl delete pod web-0" k delete pod web-0 --wait=false
back() { local u; u=$(jp pod web-0 '{.metadata.uid}'); [ -n "$u" ] && [ "$u" != "$OLD_UID" ] && is pod web-0 '{.status.phase}' Running; }
start=$SECONDS
if wait_for 30 back; then pass "web-0 is back within $((SECONDS - start)) s"; else fail "web-0 back" "$(k describe pod web-0 | tail -20)"; fi
expect_out "it reads the file its first life wrote" "^web-0$" read_file web-0 /data/host
expect_out "and sees both boots on the volume" "^2$" k exec web-0 -- sh -c 'wc -l < /data/boots'

echo "== reclaim Delete (t=$SECONDS)"
PV1=$(jp pvc data-web-1 '{.spec.volumeName}')
DIR1=$DATA/storage/${PV1}_default_data-web-1
expect_ok "the directory exists before" test -d "$DIR1"
expect_ok "kubectl delete statefulset web" k delete statefulset web --wait=false
wait_for 20 bash -c "! ip netns exec $NS $KUBECTL get pod web-1 >/dev/null 2>&1"
expect_ok "kubectl delete pvc data-web-1" k delete pvc data-web-1 --timeout=20s
if wait_for 10 bash -c "! ip netns exec $NS $KUBECTL get pv $PV1 >/dev/null 2>&1"; then pass "its PV is deleted"; else fail "PV deleted" "$(k get pv)"; fi
if wait_for 5 bash -c "[ ! -e $DIR1 ]"; then pass "and its directory is gone"; else fail "directory gone" "$(ls -la "$DIR1")"; fi
expect_out "the other claim keeps its volume" "^Bound$" k get pvc data-web-0 -o jsonpath='{.status.phase}'

echo "== an Immediate claim binds to a pre-created PV (t=$SECONDS)"
mkdir -p "$WORK/manual"
# The claim and a pod already on the node (nodeName: no scheduler) come first: the kubelet waits.
cat >"$WORK/claim.yml" <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: manual-claim}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  selector: {matchLabels: {kind: manual}}
  resources: {requests: {storage: 100Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: waiter}
spec:
  nodeName: pv-node
  terminationGracePeriodSeconds: 0
  restartPolicy: Never
  containers:
    - name: w
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "echo written-by-waiter > /vol/waiter"]
      volumeMounts: [{name: v, mountPath: /vol}]
  volumes: [{name: v, persistentVolumeClaim: {claimName: manual-claim}}]
YAML
expect_ok "create the claim and a pod on the node using it" k apply -f "$WORK/claim.yml"
waiting() { is pod waiter '{.status.containerStatuses[0].state.waiting.reason}' ContainerCreating; }
if wait_for 10 waiting; then pass "the pod waits in ContainerCreating"; else fail "waiter ContainerCreating" "$(k describe pod waiter | tail -20)"; fi
expect_out "FailedMount says the claim is not bound"   'FailedMount.*PersistentVolumeClaim "manual-claim" is not bound' k describe pod waiter
expect_out "the claim is Pending with no PV to bind" "^Pending$"   k get pvc manual-claim -o jsonpath='{.status.phase}'
cat >"$WORK/manual.yml" <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: manual-pv, labels: {kind: manual}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  hostPath: {path: $WORK/manual}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  terminationGracePeriodSeconds: 0
  restartPolicy: Never
  containers:
    - name: w
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "echo written-by-writer > /vol/out"]
      volumeMounts: [{name: v, mountPath: /vol}]
  volumes: [{name: v, persistentVolumeClaim: {claimName: manual-claim}}]
YAML
expect_ok "create the PV (and a scheduled pod using the claim)" k apply -f "$WORK/manual.yml"
if wait_for 10 is pvc manual-claim '{.status.phase}' Bound; then pass "the claim binds"; else fail "claim binds" "$(k describe pvc manual-claim)"; fi
expect_out "to the pre-created PV, which is Bound to it" "^manual-pv Bound default/manual-claim$" \
  bash -c "ip netns exec $NS $KUBECTL get pvc manual-claim -o jsonpath='{.spec.volumeName}' && echo -n ' ' && ip netns exec $NS $KUBECTL get pv manual-pv -o jsonpath='{.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name}'"
if wait_for 20 is pod waiter '{.status.phase}' Succeeded; then pass "the waiting pod then runs"; else fail "waiter ran" "$(k describe pod waiter | tail -20)"; fi
if wait_for 20 is pod writer '{.status.phase}' Succeeded; then pass "so does the scheduled one"; else fail "writer ran" "$(k describe pod writer | tail -20)"; fi
expect_out "both wrote through the PV into the host directory" "^written-by-waiter written-by-writer$" \
  bash -c "echo \$(cat $WORK/manual/waiter $WORK/manual/out)"

echo "== WaitForFirstConsumer with a pre-created local volume (t=$SECONDS)"
mkdir -p "$WORK/local"
cat >"$WORK/local.yml" <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local-static}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: local-pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: local-static
  local: {path: $WORK/local}
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [pv-node]}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: local-claim}
spec:
  storageClassName: local-static
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
YAML
expect_ok "create a no-provisioner WaitForFirstConsumer class, a local PV and a claim" \
  k apply -f "$WORK/local.yml"
sleep 1
expect_out "the claim waits for its first consumer" "^Pending$" \
  k get pvc local-claim -o jsonpath='{.status.phase}'
expect_out "and says so" "WaitForFirstConsumer.*waiting for first consumer to be created before binding" \
  k describe pvc local-claim
cat >"$WORK/local-pod.yml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: local-user}
spec:
  terminationGracePeriodSeconds: 0
  restartPolicy: Never
  containers:
    - name: w
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "echo local > /vol/out"]
      volumeMounts: [{name: v, mountPath: /vol}]
  volumes: [{name: v, persistentVolumeClaim: {claimName: local-claim}}]
YAML
expect_ok "create its first consumer" k apply -f "$WORK/local-pod.yml"
if wait_for 20 is pod local-user '{.status.phase}' Succeeded; then pass "the pod runs"; else fail "local-user ran" "$(k describe pod local-user | tail -20)"; fi
expect_out "the scheduler bound the local PV to the claim" "^local-pv Bound yes$" \
  bash -c "ip netns exec $NS $KUBECTL get pvc local-claim -o jsonpath='{.spec.volumeName} {.status.phase} ' && ip netns exec $NS $KUBECTL get pv local-pv -o jsonpath='{.metadata.annotations.pv\.kubernetes\.io/bound-by-controller}'"
expect_out "and the pod wrote into the local directory" "^local$" cat "$WORK/local/out"

echo "== a claim that does not exist (t=$SECONDS)"
cat >"$WORK/orphan.yml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: orphan}
spec:
  containers: [{name: c, image: berth-test/busybox:1.0, command: ["sleep", "1000"]}]
  volumes: [{name: v, persistentVolumeClaim: {claimName: missing}}]
YAML
expect_ok "create a pod using claim 'missing'" k apply -f "$WORK/orphan.yml"
wait_for 10 bash -c "ip netns exec $NS $KUBECTL get pod orphan -o jsonpath='{.status.conditions}' | grep -q missing"
expect_out "it stays Pending, unschedulable because the claim is missing" \
  'Pending 0/1 nodes are available: persistentvolumeclaim "missing" not found' \
  bash -c "ip netns exec $NS $KUBECTL get pod orphan -o jsonpath='{.status.phase} {.status.conditions[?(@.type==\"PodScheduled\")].message}'"
expect_out "with a FailedScheduling event" 'FailedScheduling.*persistentvolumeclaim "missing" not found' \
  k describe pod orphan

k delete pod web-0 writer waiter local-user orphan --grace-period=0 --force --wait=false >/dev/null 2>&1
wait_for 10 bash -c "[ -z \"\$(ls $AGENT/pods 2>/dev/null)\" ]"
finish
