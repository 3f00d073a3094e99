#!/usr/bin/env bash
# Logs, exec, attach and port-forward end to end: kubectl → API server (pods/log, exec, attach,
# portforward) → the kubelet's streaming server (`berth streaming-harness`, over containers it
# runs with runc from busybox-static in network namespaces of its own) with every client
# protocol: kubectl 1.32 (WebSocket v5 and SPDY-over-WebSocket port-forward), kubectl 1.29
# (SPDY/3.1), Debian's kubectl 1.20 (SPDY/3.1) and the Python client (WebSocket v4).
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
  fail "needs root, runc and busybox-static to run containers"
  finish
  exit 1
fi

HARNESS_PID=""
stop_harness() {
  if [ -n "$HARNESS_PID" ] && kill -0 "$HARNESS_PID" 2>/dev/null; then
    kill -TERM "$HARNESS_PID"
    wait "$HARNESS_PID" 2>/dev/null  # it deletes its containers, namespaces and cgroups
  fi
}
trap 'stop_harness; cleanup' EXIT

start_server
"$BERTH" streaming-harness --kubeconfig "$KUBECONFIG" --client-ca "$WORK/data/tls/ca.crt" \
  --work-dir "$WORK/harness" --node-name node-1 \
  --container 'default/myapp/app=echo hello; echo oops >&2; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.5; done' \
  --container 'default/web/web=httpd -f -p 8080 -h /www' \
  --container 'default/restarter/c=if [ -f /ran ]; then echo second run; sleep 1000; else touch /ran; echo first run; exit 1; fi' \
  --restart-once default/restarter/c \
  --container 'default/two/a=sleep 1000' --container 'default/two/b=sleep 1000' \
  --container 'default/att/c=while read l; do echo got $l; done' \
  >"$WORK/harness.log" 2>&1 &
HARNESS_PID=$!
for _ in $(seq 1 100); do grep -q '^ready' "$WORK/harness.log" && break; sleep 0.1; done
if ! grep -q '^ready' "$WORK/harness.log"; then
  fail "streaming harness started" "$(cat "$WORK/harness.log")"
  finish
  exit 1
fi
pass "streaming harness registered node-1 and its pods"
sleep 1.5  # let myapp print for a while: --since below must leave its first lines out

# A pod bound to the node whose container has not started yet.
k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: pending}
spec:
  nodeName: node-1
  containers: [{name: c, image: busybox}]
YAML

free_local_port() { free_port; }

K120=$(debian_kubectl) || K120=""
[ -x "$K120" ] || fail "Debian's kubectl 1.20 is available"
for K in /usr/lib/google-cloud-sdk/bin/kubectl.1.32 /usr/lib/google-cloud-sdk/bin/kubectl.1.29 $K120; do
  v=$(basename "$K"); [ "$v" = kubectl ] && v=kubectl.1.20
  expect_out "$v logs shows stdout and stderr" '^hello$' "$K" logs myapp
  grep -q '^oops$' <<<"$LAST_OUT" && pass "$v logs includes stderr" || fail "$v logs includes stderr" "$LAST_OUT"
  out=$("$K" logs myapp --tail=2 2>&1)
  [ "$(grep -c '^tick' <<<"$out")" -eq 2 ] && [ "$(wc -l <<<"$out")" -eq 2 ] \
    && pass "$v logs --tail=2" || fail "$v logs --tail=2" "$out"
  out=$("$K" logs myapp --since=1s 2>&1)
  grep -q '^tick' <<<"$out" && ! grep -q '^hello' <<<"$out" \
    && pass "$v logs --since=1s leaves old lines out" || fail "$v logs --since=1s" "$out"
  expect_out "$v logs --timestamps" '^20[0-9-]+T[0-9:.]+Z tick [0-9]+$' "$K" logs myapp --timestamps --tail=1
  out=$(timeout 3 "$K" logs -f --tail=1 myapp 2>&1)
  [ "$(grep -c '^tick' <<<"$out")" -ge 3 ] && pass "$v logs -f follows new lines" \
    || fail "$v logs -f follows new lines" "$out"
  expect_out "$v logs --previous" '^first run$' "$K" logs restarter --previous
  expect_out "$v logs of the current run" '^second run$' "$K" logs restarter

  expect_out "$v exec runs in the container" '^/ hello-from-exec$' "$K" exec myapp -- sh -c 'echo $PWD hello-from-exec'
  out=$("$K" exec myapp -- sh -c 'echo to-stderr >&2; exit 3' 2>&1); rc=$?
  [ $rc -eq 3 ] && grep -q to-stderr <<<"$out" && pass "$v exec exits with the command's code (3)" \
    || fail "$v exec exit code" "rc=$rc $out"
  out=$(printf 'line1\nline2\n' | "$K" exec -i myapp -- sh -c 'cat; echo done' 2>&1)
  [ "$out" = $'line1\nline2\ndone' ] && pass "$v exec -i passes stdin and its end" \
    || fail "$v exec -i" "$out"
  out=$(timeout 20 script -qec "stty cols 91 rows 33; $K exec -it myapp -- sh -c 'tty; sleep 0.5; stty size'" /dev/null </dev/null 2>&1)
  grep -q '/dev/pts/' <<<"$out" && grep -q '33 91' <<<"$out" \
    && pass "$v exec -it has a terminal that follows the client's size" || fail "$v exec -it" "$out"

  lp=$(free_local_port)
  "$K" port-forward pod/web "$lp:8080" >"$WORK/pf.log" 2>&1 &
  pf=$!
  for _ in $(seq 1 50); do grep -q Forwarding "$WORK/pf.log" && break; sleep 0.1; done
  a=$(curl -s -m 5 "http://127.0.0.1:$lp/index.html"); b=$(curl -s -m 5 "http://127.0.0.1:$lp/index.html")
  kill $pf 2>/dev/null; wait $pf 2>/dev/null
  [ "$a" = "hello from the pod" ] && [ "$b" = "$a" ] \
    && pass "$v port-forward reaches a port inside the pod's network namespace (twice)" \
    || fail "$v port-forward" "a=$a b=$b $(cat "$WORK/pf.log")"

  expect_out "$v: a container not in the pod is a 400" 'container nope is not valid for pod myapp' \
    bash -c "! '$K' exec myapp -c nope -- true 2>&1"
  expect_out "$v: an unknown pod is a 404" 'NotFound.*pods "ghost" not found' bash -c "! '$K' logs ghost 2>&1"
  expect_out "$v: a pod not started yet is a 400" 'is waiting to start: ContainerCreating' \
    bash -c "! '$K' logs pending 2>&1"
done

out=$( (echo one; sleep 0.5; echo two) | timeout 20 "$KUBECTL" attach -i att 2>/dev/null); rc=$?
[ "$out" = $'got one\ngot two' ] && [ $rc -eq 0 ] && pass "kubectl attach -i talks to the container's own stdin/stdout" \
  || fail "kubectl attach -i" "rc=$rc $out"
expect_out "a pod with two containers needs -c for exec" 'a container name must be specified for pod two, choose one of: \[a b\]' \
  curl -sk -H "Authorization: Bearer $(cat "$WORK/data/admin.token")" -X POST \
  "https://127.0.0.1:$PORT/api/v1/namespaces/default/pods/two/exec?command=true&stdout=true"

# The kubelet port answers only the API server's client certificate.
kport=$(sed -n 's/^ready port=//p' "$WORK/harness.log")
expect_out "the kubelet refuses callers without the API server's certificate" '"code":401' \
  curl -sk "https://127.0.0.1:$kport/containerLogs/default/myapp/app"

out=$(/usr/bin/python3 - <<'PY' 2>&1
from kubernetes import client, config
from kubernetes.stream import stream, portforward
config.load_kube_config()
v1 = client.CoreV1Api()
r = stream(v1.connect_get_namespaced_pod_exec, "myapp", "default", command=["sh", "-c", "echo py-out; exit 5"],
           stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
r.run_forever(timeout=10)
print("exec:", r.read_stdout().strip(), r.returncode)
r = stream(v1.connect_get_namespaced_pod_exec, "myapp", "default", command=["cat"],
           stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
r.write_stdin("py-in\n")
got = ""
while "py-in" not in got and r.is_open():
    r.update(timeout=5)
    got += r.read_stdout()
print("stdin:", got.strip())
r.close()
pf = portforward(v1.connect_get_namespaced_pod_portforward, "web", "default", ports="8080")
s = pf.socket(8080)
s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print("portforward:", data.split(b"\r\n\r\n", 1)[-1].decode().strip())
print("logs:", v1.read_namespaced_pod_log("restarter", "default", previous=True).strip())
PY
)
grep -q '^exec: py-out 5$' <<<"$out" && pass "python exec (v4 WebSocket) returns output and exit code 5" || fail "python exec" "$out"
grep -q '^stdin: py-in$' <<<"$out" && pass "python exec with stdin" || fail "python exec stdin" "$out"
grep -q '^portforward: hello from the pod$' <<<"$out" && pass "python port-forward (v4 WebSocket channels)" || fail "python port-forward" "$out"
grep -q '^logs: first run$' <<<"$out" && pass "python read_namespaced_pod_log previous" || fail "python logs" "$out"

finish
