#!/usr/bin/env bash
# Container lifecycle hooks end to end on a real node (a `berth server` with its agent inside a
# network namespace this test creates, runc containers): postStart exec runs before the
# container counts as started and the main process sees its file; postStart httpGet reaches the
# pod's IP by named port; a failing postStart gives FailedPostStartHook and a restart; preStop
# exec runs before SIGTERM on deletion; preStop sleep delays the stop.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # cleanup_agents, wait_for

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /usr/lib/cni/bridge ]; then
  echo "test_lifecycle_hooks: needs root, runc and /usr/lib/cni" >&2
  exit 1
fi

NS=berth-lh-$RANDOM$RANDOM
DATA=$WORK/data
AGENT=$DATA/agent
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

hooks_cleanup() {
  stop_server
  cleanup_agents "$AGENT"
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap hooks_cleanup EXIT

bash "$E2E_DIR/../../scripts/build-test-images.sh" "$WORK/images" >/dev/null
"$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
  { echo "cannot import the test images" >&2; exit 1; }

PORT=$(free_port)
export KUBECONFIG=$DATA/admin.kubeconfig
k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
  --secure-port "$PORT" --node-name lh-node >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for 20 bash -c "[ -f $KUBECONFIG ] && ip netns exec $NS $KUBECTL get --raw /readyz" ||
  { echo "the server did not start" >&2; exit 1; }
wait_for 20 bash -c "ip netns exec $NS $KUBECTL get node lh-node"

jp() { k get pod "$1" -o jsonpath="$2" 2>/dev/null; }
running() { [ "$(jp "$1" '{.status.phase}')" == Running ]; }
restarts_at_least() { [ "$(jp "$1" '{.status.containerStatuses[0].restartCount}')" -ge "$2" ] 2>/dev/null; }

mkdir -p "$WORK/out"
cat >"$WORK/pods.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: poststart}
spec:
  nodeName: lh-node
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "i=0; while [ ! -f /tmp/hooked ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done; cat /tmp/hooked || echo no file; exec sleep 3600"]
      lifecycle:
        postStart:
          exec: {command: ["sh", "-c", "sleep 1; echo written by postStart > /tmp/hooked"]}
---
apiVersion: v1
kind: Pod
metadata: {name: httphook}
spec:
  nodeName: lh-node
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: berth-test/web:1.0
      command: ["httpd", "-f", "-vv", "-p", "8080", "-h", "/www"]
      ports: [{name: http, containerPort: 8080}]
    - name: hooked
      image: berth-test/busybox:1.0
      command: ["sleep", "3600"]
      ports: [{name: web, containerPort: 8080}]
      lifecycle:
        postStart:
          httpGet: {path: /from-poststart, port: web, httpHeaders: [{name: X-Hook, value: "1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: failing}
spec:
  nodeName: lh-node
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: berth-test/busybox:1.0
      command: ["sleep", "3600"]
      lifecycle:
        postStart:
          exec: {command: ["sh", "-c", "echo nope; exit 3"]}
---
apiVersion: v1
kind: Pod
metadata: {name: prestop}
spec:
  nodeName: lh-node
  terminationGracePeriodSeconds: 10
  volumes: [{name: out, hostPath: {path: $WORK/out, type: Directory}}]
  containers:
    - name: main
      image: berth-test/busybox:1.0
      volumeMounts: [{name: out, mountPath: /out}]
      command: ["sh", "-c", "trap 'if [ -f /out/marker ]; then echo TERM after preStop; else echo TERM before preStop; fi > /out/result; exit 0' TERM; while true; do sleep 0.1; done"]
      lifecycle:
        preStop:
          exec: {command: ["sh", "-c", "echo preStop ran > /out/marker"]}
---
apiVersion: v1
kind: Pod
metadata: {name: sleeper}
spec:
  nodeName: lh-node
  terminationGracePeriodSeconds: 10
  containers:
    - name: main
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      lifecycle:
        preStop:
          sleep: {seconds: 2}
    - name: second  # stopped in parallel: its hook does not add to the first one's
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      lifecycle:
        preStop:
          sleep: {seconds: 2}
---
apiVersion: v1
kind: Pod
metadata: {name: badstop}
spec:
  nodeName: lh-node
  terminationGracePeriodSeconds: 5
  containers:
    - name: main
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
      lifecycle:
        preStop:
          exec: {command: ["sh", "-c", "exit 7"]}
---
apiVersion: v1
kind: Pod
metadata: {name: liveness}
spec:
  nodeName: lh-node
  terminationGracePeriodSeconds: 1
  volumes: [{name: out, hostPath: {path: $WORK/out, type: Directory}}]
  containers:
    - name: main
      image: berth-test/busybox:1.0
      volumeMounts: [{name: out, mountPath: /out}]
      command: ["sleep", "3600"]
      livenessProbe:
        exec: {command: ["false"]}
        periodSeconds: 1
        failureThreshold: 1
      lifecycle:
        preStop:
          exec: {command: ["sh", "-c", "echo stopped for liveness >> /out/liveness"]}
YAML
expect_ok "create the pods" k create -f "$WORK/pods.yml"

echo "== postStart (t=$SECONDS)"
wait_for 30 running poststart
expect_out "the main process reads the file postStart wrote" "written by postStart" k logs poststart
started=$(jp poststart '{.status.containerStatuses[0].state.running.startedAt}')
ready=$(jp poststart '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}')
# startedAt is the process start; the hook sleeps 1 s first, and Ready comes after the hook.
expect_eq "Ready only after the 1 s hook returned" 1 \
  "$(( $(date -d "$ready" +%s) - $(date -d "$started" +%s) >= 1 ))"
wait_for 20 running httphook
wait_for 10 bash -c "ip netns exec $NS $KUBECTL logs httphook -c web | grep -q from-poststart"
expect_out "postStart httpGet reached the pod IP by named port" "url:/from-poststart" \
  k logs httphook -c web

echo "== failing postStart (t=$SECONDS)"
wait_for 30 restarts_at_least failing 1
expect_out "a FailedPostStartHook Warning with upstream's message" \
  "Warning +FailedPostStartHook +pod/failing +Exec lifecycle hook \(\[sh -c echo nope; exit 3\]\) for Container \"main\" in Pod \"failing_default\([0-9a-f-]+\)\" failed - error: command 'sh -c echo nope; exit 3' exited with 3: , message: \"nope\\\\n\"" \
  k get events --field-selector involvedObject.name=failing
expect_out "the container was killed for it" "Normal +Killing +pod/failing +FailedPostStartHook" \
  k get events --field-selector involvedObject.name=failing
expect_eq "and restarted under restartPolicy Always" 0 "$(restarts_at_least failing 1; echo $?)"

echo "== preStop (t=$SECONDS)"
wait_for 30 restarts_at_least liveness 1
expect_out "a liveness restart runs preStop first" "stopped for liveness" cat "$WORK/out/liveness"
wait_for 30 running prestop
expect_ok "delete the preStop pod" k delete pod prestop --timeout=30s
expect_eq "preStop exec ran before SIGTERM" "TERM after preStop" "$(cat "$WORK/out/result" 2>&1)"
wait_for 30 running sleeper
t0=$(date +%s%N)
expect_ok "delete the preStop sleep pod" k delete pod sleeper --timeout=30s
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "  (deletion with preStop sleep 2 s took ${ms} ms)"
expect_eq "preStop sleep delays the stop by at least 2 s" 1 "$((ms >= 2000))"

wait_for 30 running badstop
expect_ok "a failing preStop does not stop the deletion" k delete pod badstop --timeout=30s
expect_out "it gives a FailedPreStopHook Warning" \
  "Warning +FailedPreStopHook +pod/badstop +Exec lifecycle hook \(\[sh -c exit 7\]\) for Container \"main\" in Pod \"badstop_default\([0-9a-f-]+\)\" failed - error: command 'sh -c exit 7' exited with 7: " \
  k get events --field-selector involvedObject.name=badstop

k delete pod poststart httphook failing liveness --grace-period=0 --force --wait=false >/dev/null 2>&1
wait_for 10 bash -c "[ -z \"\$(ls $AGENT/pods)\" ]"
finish
