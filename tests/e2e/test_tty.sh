#!/usr/bin/env bash
# Terminals end to end: a `berth server` (API server + in-process agent) in a network namespace
# this test creates runs pods whose containers have a TTY (runc's console socket, held by the
# shim). Real kubectl on a pseudo-terminal (tests/e2e/tty_session.py) types into them:
# `kubectl run -it --rm`, `kubectl attach -it`, `kubectl exec -it` with resizes, over WebSocket
# v5 (kubectl 1.32) and SPDY/3.1 (kubectl 1.29, attach also Debian's 1.20), and the Python client's v4 tty=True streams;
# `kubectl run -i --rm` without a TTY ends when its piped stdin does (stdinOnce).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # cleanup_agents, wait_for

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /usr/lib/cni/bridge ]; then
  echo "test_tty: needs root, runc and /usr/lib/cni" >&2
  exit 1
fi

NS=berth-tty-$RANDOM$RANDOM
DATA=$WORK/data
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
tty_cleanup() {
  stop_server
  cleanup_agents "$DATA/agent"
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap tty_cleanup EXIT

bash "$E2E_DIR/../../scripts/build-test-images.sh" "$WORK/images" >/dev/null
"$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
  { echo "cannot import the test images" >&2; exit 1; }

PORT=$(free_port)
export KUBECONFIG=$DATA/admin.kubeconfig NODE=tty-node
K132=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
K129=/usr/lib/google-cloud-sdk/bin/kubectl.1.29
k() { ip netns exec "$NS" "$K132" "$@"; }
ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
  --secure-port "$PORT" --node-name "$NODE" >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for 20 eval '[ -f "$KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1' ||
  { fail "the server starts" "$(tail -20 "$WORK/server.log")"; finish; exit 1; }
wait_for 20 eval 'k get node $NODE 2>/dev/null | grep -q " Ready"' ||
  { fail "the node is Ready" "$(k get nodes 2>&1)"; finish; exit 1; }

# session SCENARIO ARGS...: runs tty_session.py in the node's namespace, counts its verdicts.
session() {
  local line
  while IFS= read -r line; do
    case "$line" in
      PASS\ *) pass "${line#PASS }" ;;
      FAIL\ *) fail "${line#FAIL }" ;;
      *) echo "       | $line" ;;
    esac
  done < <(ip netns exec "$NS" /usr/bin/python3 "$E2E_DIR/tty_session.py" "$@" 2>&1)
}

echo "== kubectl run -it --rm (t=$SECONDS)"
session run "$K132" kubectl-1.32 t132
session run "$K129" kubectl-1.29 t129

echo "== a TTY pod: attach -it, exec -it, Python (t=$SECONDS)"
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - {name: sh, image: berth-test/web:1.0, command: [sh], stdin: true, tty: true}
YAML
if wait_for 20 eval '[ "$(k get pod term -o jsonpath={.status.phase})" = Running ]'; then
  pass "a pod with stdin and tty runs"
  expect_out "its container's stdio is a terminal" '^/dev/pts/[0-9]+$' \
    k exec term -- sh -c 'readlink /proc/1/fd/0'
  session attach "$K132" kubectl-1.32 term 2
  session attach "$K129" kubectl-1.29 term
  if K120=$(debian_kubectl) && [ -x "$K120" ]; then
    session attach "$K120" kubectl-1.20 term
  else
    fail "Debian's kubectl 1.20 is available"
  fi
  session exec "$K132" kubectl-1.32 term
  session exec "$K129" kubectl-1.29 term
  session python term
  expect_out "the TTY's output reaches kubectl logs, lines without the terminal's CR" '^att1-42$' k logs term
else
  fail "a pod with stdin and tty runs" "$(k describe pod term 2>&1 | tail -15)"
fi

echo "== kubectl run -i --rm without a TTY (t=$SECONDS)"
out=$(printf 'in-1\nin-2\n' | timeout 40 ip netns exec "$NS" "$K132" run -i --rm piped \
  --image=berth-test/web:1.0 --restart=Never \
  --overrides="{\"spec\":{\"nodeName\":\"$NODE\",\"terminationGracePeriodSeconds\":1}}" \
  -- sh -c 'cat; echo end-of-input' 2>&1); rc=$?
grep -q '^in-2$' <<<"$out" && grep -q '^end-of-input$' <<<"$out" && [ $rc -eq 0 ] \
  && pass "kubectl run -i --rm: the piped input reaches cat and its end closes the container's stdin (stdinOnce)" \
  || fail "kubectl run -i --rm without a TTY" "rc=$rc $out"

echo "== stdin without stdinOnce stays open across attaches (t=$SECONDS)"
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: berth-test/web:1.0, stdin: true,
     command: [sh, -c, 'while read l; do echo got \$l; done; echo stdin-closed; sleep 1000']}
YAML
if wait_for 20 eval '[ "$(k get pod reader -o jsonpath={.status.phase})" = Running ]'; then
  a=$( (echo one; sleep 1) | timeout 3 ip netns exec "$NS" "$K132" attach -i reader 2>/dev/null)
  b=$( (echo two; sleep 1) | timeout 3 ip netns exec "$NS" "$K132" attach -i reader 2>/dev/null)
  [ "$a" = "got one" ] && [ "$b" = "got two" ] \
    && pass "a second attach -i still types into the container (its stdin outlived the first)" \
    || fail "stdin without stdinOnce across attaches" "a=$a b=$b"
else
  fail "the reader pod runs" "$(k describe pod reader 2>&1 | tail -15)"
fi

echo "(t=$SECONDS)"
finish
