#!/usr/bin/env bash
# The node agent at scale and its failure and static-pod paths, end to end: a `berth server`
# (API server + in-process agent) in a network namespace this test creates, real runc (or crun,
# with BERTH_CONTAINER_RUNTIME), images from scripts/build-test-images.sh and a local
# docker-registry (inside the same namespace, on its 127.0.0.1) behind a registries.yaml mirror
# for docker.io.
#   - a Deployment of 30 replicas of the web image comes up on the one node; every pod answers
#     on its pod IP and a ClusterIP Service spreads requests over them;
#   - a pod whose image the registry does not have ends in ErrImagePull, then ImagePullBackOff,
#     with the registry's reason in `kubectl describe` (events Failed, BackOff);
#   - static pods from <data-dir>/agent/pod-manifests run, are mirrored into the API (owned by the
#     Node), survive their mirror's deletion, restart when the manifest changes and stop when the
#     file is removed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # cleanup_agents (wait_for comes from lib.sh)
ROOT=$(cd "$E2E_DIR/../.." && pwd)

if [ "$(id -u)" != 0 ] || ! agent_runtime_available || [ ! -x /usr/lib/cni/bridge ] ||
  ! command -v docker-registry >/dev/null; then
  echo "test_kubelet_scale: needs root, ${BERTH_CONTAINER_RUNTIME:-runc}, /usr/lib/cni and docker-registry" >&2
  exit 1
fi

NS=berth-ks-$RANDOM$RANDOM
DATA=$WORK/data
AGENT=$DATA/agent
MANIFESTS=$AGENT/pod-manifests
NODE=ks-node
RUNC=(oci_runtime "$AGENT")  # runc or crun, whichever the agent runs
REG_PID=""
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

scale_cleanup() {
  stop_server
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null
  cleanup_agents "$AGENT"
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap scale_cleanup EXIT

bash "$ROOT/scripts/build-test-images.sh" "$WORK/images" >/dev/null
"$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
  { echo "cannot import the test images" >&2; exit 1; }
# The registry holds only the busybox image: berth-test/absent is not there.
REG_PID=$(BERTH_PUSH_ONLY=berth-test/busybox:1.0 IMAGES=$WORK/images \
  ip netns exec "$NS" bash "$ROOT/scripts/local-registry.sh" "$WORK/registry")
REG=127.0.0.1:$(cat "$WORK/registry/port")
cat >"$DATA/registries.yaml" <<YAML
mirrors:
  docker.io:
    endpoint: ["http://$REG"]
YAML

# A static pod written before the server starts: the agent runs it from the file.
mkdir -p "$MANIFESTS"
static_manifest() {
  cat >"$MANIFESTS/static-web.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: static-web
  labels: {app: static-web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: berth-test/web:1.0
      command: ["sh", "-c", "echo $1 > /www/version; exec httpd -f -p 8080 -h /www"]
YAML
}
static_manifest v1

PORT=$(free_port)
export KUBECONFIG=$DATA/admin.kubeconfig
k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
  --secure-port "$PORT" --node-name "$NODE" >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for 20 bash -c "[ -f $KUBECONFIG ] && ip netns exec $NS $KUBECTL get --raw /readyz" ||
  { fail "the server starts" "$(tail -20 "$WORK/server.log")"; finish; exit 1; }
node_ready() { [ "$(k get node $NODE -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]; }
wait_for 20 node_ready || fail "the node is Ready" "$(k get nodes 2>&1)"
jp() { k get pod "$1" -o jsonpath="$2" 2>/dev/null; }
fetch() { ip netns exec "$NS" timeout 5 busybox wget -qO- "$1" 2>/dev/null; }

echo "== a Deployment of 30 replicas (t=$SECONDS)"
cat >"$WORK/web.yml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 30
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: web
          image: berth-test/web:1.0
          command: ["sh", "-c", "hostname > /www/host; exec httpd -f -p 8080 -h /www"]
          ports: [{containerPort: 8080}]
          readinessProbe:
            httpGet: {path: /host, port: 8080}
            periodSeconds: 1
YAML
start=$SECONDS
k create -f "$WORK/web.yml" >/dev/null
if k rollout status deployment/web --timeout=60s >"$WORK/rollout.log" 2>&1; then
  pass "30 replicas available in $((SECONDS - start)) s"
else
  fail "30 replicas available" "$(tail -3 "$WORK/rollout.log"; k get pods -o wide | grep -v Running | head)"
fi
expect_eq "all 30 Running on $NODE" 30 \
  "$(k get pods -l app=web -o jsonpath='{range .items[*]}{.status.phase} {.spec.nodeName}{"\n"}{end}' | grep -c "^Running $NODE$")"
answered=0
bad=""
for row in $(k get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name}={.status.podIP}{"\n"}{end}'); do
  name=${row%%=*} ip=${row#*=}
  if [ "$(fetch "http://$ip:8080/host")" == "$name" ]; then answered=$((answered + 1)); else bad+=" $name($ip)"; fi
done
if [ "$answered" == 30 ]; then pass "all 30 answer on their pod IPs"; else fail "all 30 answer on their pod IPs" "$answered answered; not:$bad"; fi
k expose deployment web --port 80 --target-port 8080 >/dev/null
CLUSTER_IP=$(k get service web -o jsonpath='{.spec.clusterIP}')
endpoints_30() { [ "$(k get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]}{"\n"}{end}' | wc -l)" == 30 ]; }
wait_for 15 endpoints_30 || fail "the Service has 30 endpoints"
service_answers() { [ -n "$(fetch "http://$CLUSTER_IP/host")" ]; }
wait_for 15 service_answers
for _ in $(seq 1 60); do fetch "http://$CLUSTER_IP/host"; done >"$WORK/spread.txt"
served=$(grep -c '^web-' "$WORK/spread.txt")
distinct=$(grep '^web-' "$WORK/spread.txt" | sort -u | wc -l)
if [ "$served" == 60 ] && [ "$distinct" -ge 10 ]; then
  pass "the ClusterIP Service spreads 60 requests over $distinct replicas"
else
  fail "the ClusterIP Service spreads requests" "$served of 60 answered, by $distinct replicas"
fi

echo "== a bad image name (t=$SECONDS)"
# Every status the pod goes through, from a watch started before it exists (ErrImagePull lasts
# only until the next sync, about 2 s).
k get pods -w --field-selector metadata.name=badimage \
  -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}{"\n"}' >"$WORK/reasons.txt" 2>&1 &
WATCH_PID=$!
sleep 0.5
k run badimage --image=berth-test/absent:1.0 --restart=Never \
  --overrides='{"spec":{"terminationGracePeriodSeconds":1}}' >/dev/null
backoff_seen() { grep -q ImagePullBackOff "$WORK/reasons.txt"; }
wait_for 30 backoff_seen
kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null
seen=$(grep -E . "$WORK/reasons.txt" | uniq | tr '\n' ' ')
if [[ "$seen" == *ErrImagePull*ImagePullBackOff* ]]; then
  pass "ErrImagePull, then ImagePullBackOff ($seen)"
else
  fail "ErrImagePull, then ImagePullBackOff" "waiting reasons seen: $seen"
fi
out=$(k describe pod badimage)
for re in "Warning +Failed .*Failed to pull image \"berth-test/absent:1.0\": .*manifest unknown" \
  "Warning +Failed .*Error: ErrImagePull" "Normal +BackOff .*Back-off pulling image \"berth-test/absent:1.0\"" \
  "Reason: +(ErrImagePull|ImagePullBackOff)"; do
  if grep -Eq -- "$re" <<<"$out"; then pass "describe: /$re/"; else fail "describe: /$re/" "$out"; fi
done
expect_out "the pod stays Pending" "^Pending$" jp badimage '{.status.phase}'

echo "== a pull from the registry (t=$SECONDS)"
# imagePullPolicy Always pulls through the docker.io mirror even though the image is present.
k run pulled --image=berth-test/busybox:1.0 --restart=Never --image-pull-policy=Always \
  --overrides='{"spec":{"terminationGracePeriodSeconds":1}}' -- sleep 3600 >/dev/null
pulled_running() { [ "$(jp pulled '{.status.phase}')" == Running ]; }
if wait_for 30 pulled_running; then pass "a pod with imagePullPolicy Always runs"; else fail "pulled Running" "$(k describe pod pulled)"; fi
out=$(k describe pod pulled)
for re in "Normal +Pulling .*Pulling image \"berth-test/busybox:1.0\"" \
  "Normal +Pulled .*Successfully pulled image \"berth-test/busybox:1.0\" in [0-9.]+m?s" \
  "Normal +Created .*Created container" "Normal +Started .*Started container"; do
  if grep -Eq -- "$re" <<<"$out"; then pass "describe: /$re/"; else fail "describe: /$re/" "$out"; fi
done

echo "== static pods (t=$SECONDS)"
MIRROR=static-web-$NODE
mirror_running() { [ "$(jp "$MIRROR" '{.status.phase}')" == Running ]; }
if wait_for 20 mirror_running; then pass "the static pod runs and its mirror pod shows it Running"; else fail "static pod Running" "$(k get pods -o wide; tail -5 "$WORK/server.log")"; fi
HASH=$(jp "$MIRROR" '{.metadata.annotations.kubernetes\.io/config\.hash}')
expect_out "the mirror's annotations: source file, hash = mirror" "^file [0-9a-f]{32} [0-9a-f]{32}$" \
  jp "$MIRROR" '{.metadata.annotations.kubernetes\.io/config\.source} {.metadata.annotations.kubernetes\.io/config\.hash} {.metadata.annotations.kubernetes\.io/config\.mirror}'
expect_eq "config.mirror is the manifest's hash" "$HASH" "$(jp "$MIRROR" '{.metadata.annotations.kubernetes\.io/config\.mirror}')"
expect_eq "the mirror is owned by the Node" "Node $NODE $(k get node $NODE -o jsonpath='{.metadata.uid}') true" \
  "$(jp "$MIRROR" '{.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].uid} {.metadata.ownerReferences[0].controller}')"
SIP=$(jp "$MIRROR" '{.status.podIP}')
expect_eq "it answers on its pod IP" "v1" "$(fetch "http://$SIP:8080/version")"
SCID=$(jp "$MIRROR" '{.status.containerStatuses[0].containerID}')
OLD_UID=$(jp "$MIRROR" '{.metadata.uid}')

k delete pod "$MIRROR" --wait=false >/dev/null
mirror_recreated() { u=$(jp "$MIRROR" '{.metadata.uid}'); [ -n "$u" ] && [ "$u" != "$OLD_UID" ] && mirror_running; }
if wait_for 15 mirror_recreated; then pass "a deleted mirror pod is recreated"; else fail "mirror recreated" "$(k get pods -o wide)"; fi
expect_eq "and the static pod kept running (same container)" "$SCID" "$(jp "$MIRROR" '{.status.containerStatuses[0].containerID}')"
expect_eq "still answering" "v1" "$(fetch "http://$SIP:8080/version")"

static_manifest v2
new_hash() { h=$(jp "$MIRROR" '{.metadata.annotations.kubernetes\.io/config\.mirror}'); [ -n "$h" ] && [ "$h" != "$HASH" ] && mirror_running; }
if wait_for 20 new_hash; then pass "a changed manifest replaces the mirror (new hash)"; else fail "changed manifest" "$(k get pods -o wide)"; fi
SIP2=$(jp "$MIRROR" '{.status.podIP}')
v2_answers() { [ "$(fetch "http://$SIP2:8080/version")" == v2 ]; }
if wait_for 10 v2_answers; then pass "and the pod was restarted from it (serves v2)"; else fail "restarted from the new manifest" "$(k describe pod "$MIRROR" | tail -15)"; fi
if [ "$(jp "$MIRROR" '{.status.containerStatuses[0].containerID}')" != "$SCID" ]; then pass "in a new container"; else fail "new container"; fi
expect_eq "the old container is gone" "" "$("${RUNC[@]}" list -q | grep -F "${SCID#berth://}")"

rm "$MANIFESTS/static-web.yaml"
mirror_gone() { ! k get pod "$MIRROR" >/dev/null 2>&1; }
if wait_for 15 mirror_gone; then pass "removing the file removes the mirror pod"; else fail "mirror removed" "$(k get pods -o wide)"; fi
no_static_containers() { [ -z "$(ls "$AGENT/logs" | grep static-web)" ] && [ -z "$("${RUNC[@]}" list -q | grep -F "${SCID#berth://}")" ]; }
if wait_for 10 no_static_containers; then pass "and stops the static pod (its containers and logs are gone)"; else fail "static pod stopped" "$(ls "$AGENT/logs")"; fi
static_ip_released() { ! ls "$AGENT/cni/networks/berth/" | grep -Fxq "$SIP2"; }
if wait_for 5 static_ip_released; then pass "its IP is released"; else fail "its IP is released"; fi

echo "== the rest goes (t=$SECONDS)"
k delete deployment web --wait=false >/dev/null
k delete pod badimage pulled --grace-period=0 --force >/dev/null 2>&1
all_gone() { [ -z "$(ls "$AGENT/pods")" ]; }
if wait_for 30 all_gone; then pass "every pod torn down"; else fail "every pod torn down" "$(ls "$AGENT/pods" | wc -l) left"; fi
finish
