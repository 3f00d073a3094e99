#!/usr/bin/env bash
# The summary API's per-pod network, volume and ephemeral-storage figures end to end (upstream's
# stats/v1alpha1 shapes): a `berth server` with its agent in a network namespace this test
# creates, real runc (or crun) containers. A web pod, and beside it a writer with an emptyDir
# and a local-path claim:
#   - network: eth0's rxBytes/txBytes (inline and in interfaces[]) grow after requests to it;
#   - volume: the emptyDir's usedBytes grows by a written file; the claim's entry has pvcRef;
#     capacityBytes/availableBytes/inodes come from the file system;
#   - ephemeral-storage counts the emptyDir (and not the claim); containers have rootfs and logs.
# Figures come from the agent's housekeeping (a sample every second, directories walked every
# 2 s here): changes are waited for in a later sample, never expected at once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # node_netns_up, node_server_start

node_netns_up test_stats_volumes_network sv
node_server_start sv-node --disable-dns --disable-network-policy \
  --housekeeping-interval 1s --volume-stats-agg-period 2s ||
  { echo "server did not start: $(tail -5 "$WORK/server.log")" >&2; exit 1; }
wait_for 20 bash -c "ip netns exec $NS $KUBECTL get storageclass local-path"

k create -f - >/dev/null <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 0
  volumes:
    - {name: scratch, emptyDir: {}}
    - {name: claim, persistentVolumeClaim: {claimName: data}}
  containers:
    - name: web
      image: berth-test/web:1.0
      command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    - name: writer
      image: berth-test/busybox:1.0
      command: ["sleep", "3600"]
      volumeMounts: [{name: scratch, mountPath: /scratch}, {name: claim, mountPath: /claim}]
YAML
wait_for 40 bash -c "[ \"\$(ip netns exec $NS $KUBECTL get pod web -o jsonpath='{.status.phase}')\" == Running ]" ||
  { fail "the web pod runs" "$(k get pods,pvc -o wide 2>&1; k describe pod web | tail -10)"; finish; }
IP=$(k get pod web -o jsonpath='{.status.podIP}')

summary() { k get --raw /api/v1/nodes/sv-node/proxy/stats/summary; }
field() {  # field PYTHON-EXPR over the web pod's summary entry as `p`
  summary | /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin); p=[p for p in s['pods'] if p['podRef']['name']=='web'][0]; print($1)"
}
vol() { echo "[v for v in p.get('volume',[]) if v['name']=='$1'][0]"; }

echo "== network (t=$SECONDS)"
listed() { field "p['network']['name']"; }  # in a housekeeping sample, with its network
wait_for 20 listed
expect_out "network: eth0 inline and in interfaces, no lo" "^eth0 \['eth0'\] True$" field \
  "p['network']['name'], [i['name'] for i in p['network']['interfaces']], p['network']['time'].endswith('Z')"
RX0=$(field "p['network']['rxBytes']")
TX0=$(field "p['network']['txBytes']")
for _ in $(seq 1 20); do
  ip netns exec "$NS" curl -s -o /dev/null "http://$IP:8080/index.html?padding=$(head -c 300 /dev/zero | tr '\0' x)"
done
grown() { [ "$(field "p['network']['rxBytes'] >= $RX0 + 6000 and p['network']['txBytes'] > $TX0 + 2000")" == True ]; }
if wait_for 20 grown; then
  pass "20 requests raised eth0's rxBytes ($RX0 -> $(field "p['network']['rxBytes']")) and txBytes"
else
  fail "20 requests raise eth0's rxBytes and txBytes" "before $RX0/$TX0, now $(field "p['network']")"
fi
expect_out "rxErrors and txErrors are counted (0)" "^0 0$" field \
  "p['network']['rxErrors'], p['network']['txErrors']"

echo "== volumes (t=$SECONDS)"
expect_out "every non-hostPath volume has an entry (the claim with its pvcRef)" \
  "^\['claim', 'kube-api-access-[a-z0-9]+', 'scratch'\] \{'name': 'data', 'namespace': 'default'\} False$" \
  field "sorted(v['name'] for v in p['volume']), $(vol claim)['pvcRef'], 'pvcRef' in $(vol scratch)"
expect_out "a volume's figures: capacity >= available > 0, inodes >= inodesFree, used > 0" \
  "^True True True$" field \
  "$(vol scratch)['capacityBytes'] >= $(vol scratch)['availableBytes'] > 0, $(vol scratch)['inodes'] >= $(vol scratch)['inodesFree'], $(vol scratch)['usedBytes'] > 0 and $(vol scratch)['inodesUsed'] >= 1"
USED0=$(field "$(vol scratch)['usedBytes']")
EPH0=$(field "p['ephemeral-storage']['usedBytes']")
CLAIM0=$(field "$(vol claim)['usedBytes']")
expect_ok "write 512 KiB into the emptyDir" k exec web -c writer -- sh -c "dd if=/dev/zero of=/scratch/blob bs=1024 count=512 2>/dev/null"
written() { [ "$(field "$(vol scratch)['usedBytes'] >= $USED0 + 524288")" == True ]; }
if wait_for 20 written; then
  pass "the emptyDir's usedBytes grew by the file ($USED0 -> $(field "$(vol scratch)['usedBytes']"))"
else
  fail "the emptyDir's usedBytes grows by the file" "before $USED0, now $(field "$(vol scratch)")"
fi
expect_out "... and so did ephemeral-storage's" "^True$" field \
  "p['ephemeral-storage']['usedBytes'] >= $EPH0 + 524288"
EPH1=$(field "p['ephemeral-storage']['usedBytes']")
expect_ok "write 256 KiB into the claim" k exec web -c writer -- sh -c "dd if=/dev/zero of=/claim/blob bs=1024 count=256 2>/dev/null"
claim_written() { [ "$(field "$(vol claim)['usedBytes'] >= $CLAIM0 + 262144")" == True ]; }
wait_for 20 claim_written
expect_out "the claim's usedBytes grew by it, ephemeral-storage's did not (claims are not in it)" \
  "^True True$" field \
  "$(vol claim)['usedBytes'] >= $CLAIM0 + 262144, p['ephemeral-storage']['usedBytes'] < $EPH1 + 262144"
expect_out "ephemeral-storage has the node file system's capacity and inodes" "^True True$" field \
  "p['ephemeral-storage']['capacityBytes'] == s['node']['fs']['capacityBytes'], p['ephemeral-storage']['inodes'] > 0"
expect_out "the container has rootfs (writable layer) and logs figures" "^True True$" field \
  "p['containers'][0]['rootfs']['usedBytes'] >= 0 and p['containers'][0]['rootfs']['capacityBytes'] > 0, 'usedBytes' in p['containers'][0]['logs']"

k delete pod web --grace-period=0 --force --wait=false >/dev/null 2>&1
finish
