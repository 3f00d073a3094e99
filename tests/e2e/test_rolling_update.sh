#!/usr/bin/env bash
# A rolling update loses no request: `berth server` (API server, controllers, scheduler and the
# agent with its proxy) in a network namespace this test creates, real runc containers from the
# test images, the real kubectl. A Deployment of 3 web pods (readinessProbe httpGet, maxSurge 1,
# maxUnavailable 0) sits behind a ClusterIP Service; a client loop in the node's namespace sends
# requests through the ClusterIP all the time while `kubectl set image` rolls it from web:1.0 to
# web:2.0 and `kubectl rollout status` waits. No request may fail, and the answers must switch
# from "web v1" to "web v2".
# What makes it hold: new pods count (for the Deployment and the EndpointSlice) only once their
# readiness probe passed; a deleted pod leaves the ready set at once (terminating) and the proxy
# uses ready endpoints only; the container keeps serving a few seconds after SIGTERM, as a
# preStop sleep does for real users, so the proxy has dropped it before it stops listening.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /usr/lib/cni/bridge ] ||
   ! command -v nft >/dev/null; then
  echo "test_rolling_update: needs root, runc, nft and /usr/lib/cni" >&2
  exit 1
fi

TAG=$RANDOM$RANDOM
NS=berth-roll-test-$TAG
DATA=$WORK/data
AGENT=$DATA/agent
RUNC=(runc --root "$AGENT/runc")
CLIENT_PID=
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
# The node's address sits on a veth pair inside the namespace (no dummy links on this machine).
ip netns exec "$NS" sh -c "ip link add uplink type veth peer name uplink-peer; ip link set uplink-peer up; ip addr add 192.168.79.1/24 dev uplink; ip link set uplink up; sysctl -qw net.ipv4.ip_forward=1"

roll_cleanup() {
  [ -n "$CLIENT_PID" ] && kill "$CLIENT_PID" 2>/dev/null
  stop_server
  for id in $("${RUNC[@]}" list -q 2>/dev/null); do
    "${RUNC[@]}" kill -a "$id" KILL 2>/dev/null
    "${RUNC[@]}" delete -f "$id" 2>/dev/null
  done
  for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  sleep 0.2
  for d in "$AGENT"/pods/*/; do
    uid=$(basename "$d")
    for c in /sys/fs/cgroup/*/berth/pod"$uid"; do
      [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  grep -o " $WORK[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap roll_cleanup EXIT

bash "$E2E_DIR/../../scripts/build-test-images.sh" "$WORK/images" >/dev/null
"$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
  { echo "cannot import the test images" >&2; exit 1; }

PORT=$(free_port)
export KUBECONFIG=$DATA/admin.kubeconfig
k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
  --secure-port "$PORT" --node-name roll-node --node-ip 192.168.79.1 >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  [ -f "$KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== a Deployment of 3 with a readiness probe behind a ClusterIP Service (t=$SECONDS)"
# The container listens only 2 s after it starts (a pod whose endpoint counted before its readiness
# probe passed would refuse connections), and it traps SIGTERM and serves 3 more seconds before it
# stops httpd: the preStop sleep real users put in front of a server that exits at once on SIGTERM.
k apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: web
        image: berth-test/web:1.0
        command: ["sh", "-c", "sleep 2; httpd -f -p 8080 -h /www & p=$!; trap 'sleep 3; kill $p; exit 0' TERM; wait"]
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 1
          initialDelaySeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
if k rollout status deployment/web --timeout=90s >/dev/null; then pass "3 pods Ready"; else
  fail "3 pods Ready" "$(k get pods -o wide)"; fi
CIP=$(k get svc web -o jsonpath='{.spec.clusterIP}')
answers() { ip netns exec "$NS" timeout 2 busybox wget -qO- "http://$CIP/" | grep -q "web v1"; }
if wait_for 15 answers; then pass "the ClusterIP $CIP answers from the node"; else
  fail "ClusterIP answers" "$(ip netns exec "$NS" nft list table ip berth-proxy | head -60)"; fi

echo "== requests all the time while the Deployment rolls to web:2.0 (t=$SECONDS)"
LOG=$WORK/client.log
ip netns exec "$NS" bash -c "while [ ! -e '$WORK/stop' ]; do
    if r=\$(timeout 3 busybox wget -qO- http://$CIP/ 2>&1); then echo \"\$r\"; else echo \"FAIL \$(date +%T.%N) \$r\"; fi
  done" >"$LOG" 2>&1 &
CLIENT_PID=$!
sleep 1
k set image deployment/web web=berth-test/web:2.0 >/dev/null
if k rollout status deployment/web --timeout=120s >"$WORK/rollout.log" 2>&1; then
  pass "kubectl rollout status: the rollout completes"
else
  fail "rollout completes" "$(cat "$WORK/rollout.log"; k get pods -o wide)"
fi
# The old pods drain for 3 s after their deletion; keep sending until they are gone.
gone() { [ -z "$(k get pods -l app=web -o jsonpath='{range .items[?(@.metadata.deletionTimestamp)]}{.metadata.name}{end}')" ]; }
wait_for 30 gone
sleep 1
touch "$WORK/stop"
wait "$CLIENT_PID"
CLIENT_PID=
total=$(grep -c . "$LOG")
failed=$(grep -c '^FAIL' "$LOG")
echo "   $total requests during the rollout"
if [ "$total" -gt 20 ] && [ "$failed" == 0 ]; then
  pass "no request failed during the rollout ($total sent)"
else
  fail "no request failed during the rollout" "$failed of $total failed: $(grep '^FAIL' "$LOG" | head -5)"
fi
first_v2=$(grep -n "web v2" "$LOG" | head -1 | cut -d: -f1)
last_v1=$(grep -n "web v1" "$LOG" | tail -1 | cut -d: -f1)
if grep -q "web v1" "$LOG" && [ -n "$first_v2" ] && [ "$(tail -1 "$LOG")" == "web v2" ]; then
  pass "the answers switch from web v1 to web v2 (first v2 at request $first_v2, last v1 at $last_v1)"
else
  fail "answers switch to v2" "$(sort "$LOG" | uniq -c)"
fi
expect_out "after the rollout only web v2 answers" "^web v2$" \
  ip netns exec "$NS" timeout 3 busybox wget -qO- "http://$CIP/"

finish
