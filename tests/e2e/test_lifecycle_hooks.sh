#!/usr/bin/env bash
# Container lifecycle hooks end to end on a real node (a `berth server` with its agent inside a
# network namespace this test creates, runc containers): postStart exec runs before the
# container counts as started and the main process sees its file; postStart httpGet reaches the
# pod's IP by named port; a failing postStart gives FailedPostStartHook and a restart; a hanging
# postStart has no timeout of its own but ends when the pod is deleted (as upstream cancels the
# pod's sync); HTTPS postStart hooks and readiness probes reach a TLS server with a self-signed
# certificate (openssl s_server in the test's namespace), and an HTTPS probe of a plain HTTP
# port fails with Go's message; preStop exec runs before SIGTERM on deletion; preStop sleep
# delays the stop.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # node_netns_up, node_server_start

node_netns_up test_lifecycle_hooks lh  # its EXIT trap also ends the s_server below
node_server_start lh-node || { echo "the server did not start" >&2; exit 1; }
wait_for 20 bash -c "ip netns exec $NS $KUBECTL get node lh-node"

# A TLS server with a self-signed certificate on the namespace's loopback, where the agent's
# hooks and probes reach it through their httpGet host.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=pod \
  -days 1 -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
TLSPORT=$(free_port)
ip netns exec "$NS" openssl s_server -accept "127.0.0.1:$TLSPORT" -cert "$WORK/tls.crt" \
  -key "$WORK/tls.key" -www </dev/null >"$WORK/s_server.log" 2>&1 &
wait_for 20 bash -c "ip netns exec $NS curl -sk https://127.0.0.1:$TLSPORT/ >/dev/null" ||
  fail "openssl s_server answers" "$(cat "$WORK/s_server.log")"

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
metadata: {name: hanging}
spec:
  nodeName: lh-node
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: berth-test/busybox:1.0
      command: ["sleep", "3600"]
      lifecycle:
        postStart:
          exec: {command: ["sleep", "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: tls}
spec:
  nodeName: lh-node
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: berth-test/busybox:1.0
      command: ["sleep", "3600"]
      readinessProbe:
        httpGet: {scheme: HTTPS, host: 127.0.0.1, port: $TLSPORT, path: /ready}
        periodSeconds: 1
      lifecycle:
        postStart:
          httpGet: {scheme: HTTPS, host: 127.0.0.1, port: $TLSPORT, path: /started}
---
apiVersion: v1
kind: Pod
metadata: {name: tlsplain}
spec:
  nodeName: lh-node
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: berth-test/web:1.0
      command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
      readinessProbe:
        httpGet: {scheme: HTTPS, port: 8080, path: /}
        periodSeconds: 1
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

echo "== hanging postStart (t=$SECONDS)"
sleep 4
expect_out "a postStart that does not return keeps the container from Running" "^Pending ?(false)?$" \
  jp hanging '{.status.phase} {.status.containerStatuses[0].ready}'
t0=$(date +%s%N)
expect_ok "deleting the pod ends the hook" k delete pod hanging --timeout=30s
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "the deletion took seconds, not the hook's hour (${ms} ms)" 1 "$((ms < 15000))"
expect_out "the cancelled hook is reported as upstream's (context canceled)" \
  "Warning +FailedPostStartHook +pod/hanging +Exec lifecycle hook \(\[sleep 3600\]\) .* failed - error: context canceled" \
  k get events --field-selector involvedObject.name=hanging

echo "== HTTPS hooks and probes (t=$SECONDS)"
ready() { [ "$(jp "$1" '{.status.containerStatuses[0].ready}')" == true ]; }
if wait_for 30 ready tls; then pass "an HTTPS readiness probe to a self-signed server: Ready"; else
  fail "HTTPS readiness probe: Ready" "$(k describe pod tls | tail -8)"; fi
expect_out "the HTTPS postStart hook succeeded: no restart, no FailedPostStartHook" "^0 $" bash -c \
  "echo \"\$(ip netns exec $NS $KUBECTL get pod tls -o jsonpath='{.status.containerStatuses[0].restartCount}') \$(ip netns exec $NS $KUBECTL get events --field-selector involvedObject.name=tls | grep FailedPostStart)\""
wait_for 30 running tlsplain
unhealthy() { k get events --field-selector involvedObject.name=tlsplain | grep -q 'server gave HTTP'; }
wait_for 15 unhealthy
expect_out "an HTTPS probe of a plain HTTP port fails with Go's message" \
  "Warning +Unhealthy +pod/tlsplain +Readiness probe failed: Get \"https://[0-9.]+:8080/\": http: server gave HTTP response to HTTPS client" \
  k get events --field-selector involvedObject.name=tlsplain
expect_eq "so it is not Ready" false "$(jp tlsplain '{.status.containerStatuses[0].ready}')"

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

k delete pod poststart httphook failing liveness tls tlsplain --grace-period=0 --force --wait=false >/dev/null 2>&1
wait_for 10 bash -c "[ -z \"\$(ls $AGENT/pods)\" ]"
finish
