#!/usr/bin/env bash
# Graceful node shutdown (the kubelet's --shutdown-grace-period and
# --shutdown-grace-period-critical-pods; in Berth the agent's SIGTERM is the shutdown): a
# `berth server` with its node agent in a network namespace this test creates, real runc (or crun)
# containers. Without the flag, SIGTERM stops the server and the containers keep running (as
# before); a server restarted with priority bands (--shutdown-grace-period-by-pod-priority, of
# which the two grace-period flags are the special case) adopts them, and SIGTERM to its PID
# shuts the node down; a third server on the same data dir with the agent off reads what it left:
#  - every pod is Failed, reason Terminated, message "Pod was terminated in response to imminent
#    node shutdown.", with a DisruptionTarget condition (TerminationByKubelet);
#  - the node reports Ready False, KubeletNotReady, "node is shutting down";
#  - the regular pod (which ignores SIGTERM) was SIGKILLed at its own 2 s grace period, the
#    priority-1000 pod (also ignoring it, 1 s) only after that band, and the critical pod
#    (system-node-critical) last;
#  - no container process is left.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # cleanup_agents, wait_for

if [ "$(id -u)" != 0 ] || ! agent_runtime_available || [ ! -x /usr/lib/cni/bridge ]; then
  echo "test_node_shutdown: needs root, ${BERTH_CONTAINER_RUNTIME:-runc} and /usr/lib/cni" >&2
  exit 1
fi

NS=berth-shutdown-$RANDOM$RANDOM
DATA=$WORK/data
AGENT=$DATA/agent
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

ns_cleanup() {
  stop_server
  cleanup_agents "$AGENT"
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap ns_cleanup EXIT

bash "$E2E_DIR/../../scripts/build-test-images.sh" "$WORK/images" >/dev/null
"$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
  { echo "cannot import the test images" >&2; exit 1; }

export KUBECONFIG=$DATA/admin.kubeconfig
k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
start_in_netns() {
  # A new port each time: containers that outlive a server also keep its listening sockets.
  PORT=$(free_port)
  ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
    --secure-port "$PORT" --node-name shutdown-node "$@" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    [ -f "$KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
jp() { k get "$@" 2>/dev/null; }

# The running containers of the agent's OCI runtime (runc or crun, lib.sh): "ID PID" lines.
running_containers() {
  oci_runtime "$AGENT" list -f json 2>/dev/null |
    python3 -c 'import json,sys; [print(c["id"], c["pid"]) for c in sorted(json.load(sys.stdin) or [], key=lambda c: c["id"]) if c["status"]=="running"]'
}
running_ids() { running_containers | cut -d" " -f1 | tr '\n' ' ' | sed 's/ $//'; }
stop_and_wait() {  # SIGTERM to the server; passes when it exits within $1 s
  local t0=$SECONDS
  kill -TERM "$SERVER_PID"
  for _ in $(seq 1 $(($1 * 10))); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "the server exits within $1 s" "$(tail -20 "$WORK/server.log")"
  else
    pass "the server exits after $((SECONDS - t0)) s"
  fi
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}

echo "== a node with a regular and a critical pod, no shutdown grace period (t=$SECONDS)"
start_in_netns || { fail "server starts" "$(tail -20 "$WORK/server.log")"; finish; }
cat >"$WORK/pods.yml" <<'YAML'
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: mid}
value: 1000
---
apiVersion: v1
kind: Pod
metadata: {name: mid, namespace: default}
spec:
  priorityClassName: mid
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "while true; do sleep 0.2; done"]
---
apiVersion: v1
kind: Pod
metadata: {name: regular, namespace: default}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: app
      image: berth-test/busybox:1.0
      # PID 1 without a TERM handler ignores SIGTERM: only the SIGKILL at the grace period ends it.
      command: ["sh", "-c", "while true; do sleep 0.2; done"]
---
apiVersion: v1
kind: Pod
metadata: {name: critical, namespace: kube-system}
spec:
  priorityClassName: system-node-critical
  terminationGracePeriodSeconds: 30
  containers:
    - name: app
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
YAML
expect_ok "kubectl apply the three pods" k apply -f "$WORK/pods.yml"
running() { [ "$(jp pod regular -o jsonpath='{.status.phase}')" == Running ] &&
  [ "$(jp pod mid -o jsonpath='{.status.phase}')" == Running ] &&
  [ "$(jp -n kube-system pod critical -o jsonpath='{.status.phase}')" == Running ]; }
if wait_for 30 running; then pass "the pods are Running"; else fail "pods Running" "$(k get pods -A -o wide)"; fi
expect_out "the critical pod has the system-node-critical priority" "^2000001000$" \
  k -n kube-system get pod critical -o jsonpath='{.spec.priority}'
IDS=$(running_ids)
expect_out "the runtime runs their containers" "^[^ ]+ [^ ]+ [^ ]+$" echo "$IDS"
stop_and_wait 15
expect_eq "without the flag the containers outlive the server (as before)" "$IDS" "$(running_ids)"

echo "== restarted with priority bands 0=10,1000=10,2000000000=4: the agent adopts them (t=$SECONDS)"
start_in_netns --shutdown-grace-period-by-pod-priority 0=10,1000=10,2000000000=4 ||
  { fail "server restarts" "$(tail -20 "$WORK/server.log")"; finish; }
sleep 2
if wait_for 20 running; then pass "the pods are still Running"; else fail "pods Running after restart" "$(k get pods -A -o wide)"; fi
expect_eq "on the same containers" "$IDS" "$(running_ids)"
PIDS=$(running_containers | cut -d" " -f2)

echo "== SIGTERM to the server (t=$SECONDS)"
stop_and_wait 30
DONE=$(grep -o "node shutdown done in [0-9]* ms" "$WORK/server.log")
if [ -n "$DONE" ]; then pass "its log says: $DONE"; else fail "log says node shutdown done" "$(tail -20 "$WORK/server.log")"; fi
left=""
for p in $PIDS; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
if [ -z "$left" ]; then pass "no container process is left"; else fail "container processes gone" "still running:$left"; fi
expect_eq "the runtime has no running container" "" "$(running_ids)"

echo "== what the first server left, read by a second one without agent (t=$SECONDS)"
start_in_netns --disable-agent || { fail "second server starts" "$(tail -20 "$WORK/server.log")"; finish; }
MSG="Pod was terminated in response to imminent node shutdown."
for ref in "default pod/regular" "default pod/mid" "kube-system pod/critical"; do
  set -- $ref
  expect_out "$2: phase Failed, reason Terminated, the shutdown message" "^Failed Terminated $MSG$" \
    k -n "$1" get "$2" -o jsonpath='{.status.phase} {.status.reason} {.status.message}'
  expect_out "$2: DisruptionTarget True, TerminationByKubelet" "^True TerminationByKubelet $MSG$" \
    k -n "$1" get "$2" -o jsonpath='{.status.conditions[?(@.type=="DisruptionTarget")].status} {.status.conditions[?(@.type=="DisruptionTarget")].reason} {.status.conditions[?(@.type=="DisruptionTarget")].message}'
done
expect_out "the regular pod ignored SIGTERM and was killed at its 2 s grace period" "^137$" \
  k get pod regular -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}'
expect_out "the critical pod stopped on SIGTERM" "^0$" \
  k -n kube-system get pod critical -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}'
REG_END=$(jp pod regular -o jsonpath='{.status.containerStatuses[0].state.terminated.finishedAt}')
MID_END=$(jp pod mid -o jsonpath='{.status.containerStatuses[0].state.terminated.finishedAt}')
CRIT_END=$(jp -n kube-system pod critical -o jsonpath='{.status.containerStatuses[0].state.terminated.finishedAt}')
expect_out "the priority-1000 pod was killed at its 1 s grace period" "^137$" \
  k get pod mid -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}'
# The mid band starts when the regular pod is dead (SIGKILL at 2 s) and takes 1 s more itself.
if [ -n "$REG_END" ] && [ -n "$MID_END" ] && [ -n "$CRIT_END" ] && [[ "$REG_END" < "$MID_END" ]] &&
  [[ ! "$CRIT_END" < "$MID_END" ]]; then
  pass "the bands stopped lowest priority first ($REG_END, $MID_END, then $CRIT_END)"
else
  fail "the bands stopped lowest priority first" "regular $REG_END, mid $MID_END, critical $CRIT_END"
fi
expect_out "the node reported Ready False: KubeletNotReady, node is shutting down" \
  "^False KubeletNotReady node is shutting down$" \
  k get node shutdown-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Ready")].message}'
expect_out "with a NodeShutdown event" "NodeShutdown.*Shutdown manager detected shutdown event" \
  k get events -A

finish
