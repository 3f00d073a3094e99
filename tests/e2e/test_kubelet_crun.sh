#!/usr/bin/env bash
# Pods under crun (--container-runtime auto picks it when a probe container starts with it):
# `berth server` with its in-process agent in a network namespace this test creates. On this
# host's hybrid cgroup layout crun only runs through berth-crun (a private mount namespace
# without /sys/fs/cgroup/unified); the test checks the containers are crun's (its state root,
# not runc's), sit at their absolute cgroup in the v1 hierarchies with their limits, that exec,
# logs and the summary API work on them, that the host's cgroup2 mount is untouched, and that
# deleting the pod leaves no container or cgroup behind. The rest of the agent's behaviour under
# crun: BERTH_CONTAINER_RUNTIME=crun bash tests/e2e/test_kubelet.sh (and test_stats_logs, test_tty).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # cleanup_agents (wait_for comes from lib.sh)

CRUN_WRAPPER="$(dirname "$BERTH")/berth-crun"
if [ "$(id -u)" != 0 ] || ! command -v crun >/dev/null || [ ! -x /usr/lib/cni/bridge ] ||
  [ ! -x "$CRUN_WRAPPER" ]; then
  echo "test_kubelet_crun: needs root, crun, /usr/lib/cni and $CRUN_WRAPPER" >&2
  exit 1
fi

NS=berth-kc-$RANDOM$RANDOM
DATA=$WORK/data
AGENT=$DATA/agent
CRUN=("$CRUN_WRAPPER" --root "$AGENT/crun")
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
crun_cleanup() {
  stop_server
  cleanup_agents "$AGENT"
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap crun_cleanup EXIT

bash "$E2E_DIR/../../scripts/build-test-images.sh" "$WORK/images" >/dev/null
"$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
  { echo "cannot import the test images" >&2; exit 1; }
PORT=$(free_port)
export KUBECONFIG=$DATA/admin.kubeconfig
k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
ip netns exec "$NS" env -u BERTH_CONTAINER_RUNTIME "$BERTH" server --data-dir "$DATA" \
  --bind-address 127.0.0.1 --secure-port "$PORT" --node-name kc-node \
  --container-runtime auto --housekeeping-interval 1s >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
ready() { [ -f "$KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1; }
wait_for 15 ready ||
  { cat "$WORK/server.log"; exit 1; }

echo "== the agent chose crun (t=$SECONDS)"
chosen() { grep -q "container runtime" "$WORK/server.log"; }
wait_for 60 chosen
expect_out "auto takes crun after its probe container started" \
  "container runtime crun \(--container-runtime auto: a probe container started\)" cat "$WORK/server.log"
expect_eq "the probe left no cgroup behind" "" "$(ls -d /sys/fs/cgroup/*/berth-probe-* 2>/dev/null)"

echo "== a pod under crun (t=$SECONDS)"
cat >"$WORK/pod.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: kc-node
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: berth-test/web:1.0
      command: ["sh", "-c", "echo hello from crun; exec httpd -f -p 5000 -h /etc"]
      resources: {limits: {memory: 64Mi, cpu: 500m}}
YAML
expect_ok "kubectl create -f pod.yml" k create -f "$WORK/pod.yml"
jp() { k get pod web -o jsonpath="$1" 2>/dev/null; }
running() { [ "$(jp '{.status.phase}')" == Running ]; }
wait_for 30 running || fail "the pod runs" "$(k describe pod web | tail -15; tail -5 "$WORK/server.log")"
CID=$(jp '{.status.containerStatuses[0].containerID}' | sed 's|berth://||')
UID_=$(jp '{.metadata.uid}')
if "${CRUN[@]}" list -q | grep -qx "$CID"; then
  pass "crun has the container in its state root"
else
  fail "crun has the container in its state root" \
    "$(cat "$AGENT"/containers/*/exit "$AGENT"/containers/*/runc.log "$AGENT"/containers/*/shim.log 2>&1 | tail -20)"
fi
expect_eq "runc has no containers of this node" "" "$(runc --root "$AGENT/runc" list -q 2>/dev/null)"
CG=/berth/pod$UID_/$CID
expect_eq "its memory limit sits at the absolute cgroup in the v1 memory hierarchy" "67108864" \
  "$(cat /sys/fs/cgroup/memory$CG/memory.limit_in_bytes 2>&1)"
expect_eq "its CPU quota in the v1 cpu hierarchy" "50000" "$(cat /sys/fs/cgroup/cpu$CG/cpu.cfs_quota_us 2>&1)"
INIT=$(/usr/bin/python3 -c "import json; print(json.load(open('$AGENT/containers/$CID/started'))['pid'])")
expect_out "the container's init is in that memory cgroup" "memory:$CG\$" cat "/proc/$INIT/cgroup"
expect_out "the host still has its cgroup2 mount" " /sys/fs/cgroup/unified " cat /proc/self/mountinfo

echo "== exec, logs, stats (t=$SECONDS)"
expect_out "kubectl exec runs in the container (crun exec)" "^web$" k exec web -- hostname
expect_out "kubectl logs shows its output" "^hello from crun$" k logs web
stats() {
  k get --raw /api/v1/nodes/kc-node/proxy/stats/summary | /usr/bin/python3 -c "
import json,sys; s=json.load(sys.stdin)
c=[c for p in s['pods'] if p['podRef']['name']=='web' for c in p['containers']][0]
print(c['memory']['workingSetBytes'] > 0, c['cpu']['usageCoreNanoSeconds'] > 0)"
}
stats_read() { [ "$(stats 2>/dev/null)" == "True True" ]; }
# (the pod shows in a later housekeeping sample, every second here)
if wait_for 20 stats_read; then
  pass "the summary API reads the container's cgroups"
else
  fail "the summary API reads the container's cgroups" "$(stats 2>&1 | tail -3)"
fi

echo "== deletion (t=$SECONDS)"
expect_ok "kubectl delete pod" k delete pod web --wait=true --timeout=30s
expect_eq "no container left in crun's root" "" "$("${CRUN[@]}" list -q 2>/dev/null)"
expect_eq "its cgroup is gone" "no" "$([ -d /sys/fs/cgroup/memory$CG ] && echo yes || echo no)"
finish
