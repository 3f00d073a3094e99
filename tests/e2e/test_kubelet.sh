#!/usr/bin/env bash
# The node agent end to end: a `berth server` (API server + in-process agent) runs inside a
# network namespace this test creates, so the pod bridge, veths and IP allocations stay inside
# it; the real kubectl drives it. Pods become runc containers: Running with an IP on the
# podCIDR, restarted when killed or when a liveness probe fails, OOMKilled over their memory
# limit, reachable from each other, and leave nothing behind when deleted.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # cleanup_agents (wait_for comes from lib.sh)

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /usr/lib/cni/bridge ]; then
  echo "test_kubelet: needs root, runc and /usr/lib/cni" >&2
  exit 1
fi

NS=berth-kt-$RANDOM$RANDOM
DATA=$WORK/data
AGENT=$DATA/agent
# BERTH_CONTAINER_RUNTIME=crun runs the whole test under crun (the agent reads the variable).
if [ "${BERTH_CONTAINER_RUNTIME:-runc}" == crun ]; then
  RUNC=("$(dirname "$BERTH")/berth-crun" --root "$AGENT/crun")
else
  RUNC=(runc --root "$AGENT/runc")
fi
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

kubelet_cleanup() {
  stop_server
  cleanup_agents "$AGENT"
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap kubelet_cleanup EXIT

# Test images (built from busybox-static, no network) in the node's image store.
bash "$E2E_DIR/../../scripts/build-test-images.sh" "$WORK/images" >/dev/null
"$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
  { echo "cannot import the test images" >&2; exit 1; }

# The server (and with it the agent) in the test's network namespace.
PORT=$(free_port)
export KUBECONFIG=$DATA/admin.kubeconfig
k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
start_node_server() {
  ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
    --secure-port "$PORT" --node-name kt-node "$@" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    [ -f "$KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
start_node_server

jp() { k get pod "$1" -o jsonpath="$2" 2>/dev/null; }
phase_is() { [ "$(jp "$1" '{.status.phase}')" == "$2" ]; }
restarts_at_least() { [ "$(jp "$1" '{.status.containerStatuses[0].restartCount}')" -ge "$2" ] 2>/dev/null; }
container_id() { jp "$1" '{.status.containerStatuses[0].containerID}' | sed 's|berth://||'; }

echo "== node (t=$SECONDS)"
expect_out "the node registers and is Ready" "kt-node +Ready" k get nodes
expect_out "its lease is renewed in kube-node-lease" "kt-node" \
  k get lease -n kube-node-lease kt-node -o jsonpath='{.spec.holderIdentity}'
LEASE_RENEWED=$(k get lease -n kube-node-lease kt-node -o jsonpath='{.spec.renewTime}')
expect_out "capacity from the host (pods 110, cpu, memory)" '^110 [0-9]+ [0-9]+Ki$' \
  k get node kt-node -o jsonpath='{.status.capacity.pods} {.status.capacity.cpu} {.status.capacity.memory}'
expect_out "allocatable (less the hard eviction thresholds) includes ephemeral-storage" '^110 [0-9]+ [0-9]+Ki [0-9]+$' \
  k get node kt-node -o jsonpath='{.status.allocatable.pods} {.status.allocatable.cpu} {.status.allocatable.memory} {.status.allocatable.ephemeral-storage}'
expect_out "conditions: no pressure, Ready" "^MemoryPressure=False DiskPressure=False PIDPressure=False Ready=True $" \
  k get node kt-node -o jsonpath='{range .status.conditions[*]}{.type}={.status} {end}'
expect_out "addresses and nodeInfo" '^InternalIP=[0-9.]+ Hostname=kt-node ; linux amd64 v1\.[0-9]+\.[0-9]+\S* [a-z]+://' \
  k get node kt-node -o jsonpath='{range .status.addresses[*]}{.type}={.address} {end}; {.status.nodeInfo.operatingSystem} {.status.nodeInfo.architecture} {.status.nodeInfo.kubeletVersion} {.status.nodeInfo.containerRuntimeVersion}'

echo "== the lecture's pod (t=$SECONDS)"
cat >"$WORK/pod.yml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  labels:
    app: myapp
  name: myapp
spec:
  nodeName: kt-node
  terminationGracePeriodSeconds: 2
  containers:
    - name: myapp
      image: berth-test/web:1.0  # the lecture's trxuk/clus-1999-app1 is not available offline
      command: ["sh", "-c", "echo serving on \$(hostname); exec httpd -f -p 5000 -h /etc"]
YAML
expect_ok "kubectl create -f pod.yml" k create -f "$WORK/pod.yml"
start=$SECONDS
if wait_for 10 phase_is myapp Running; then pass "Running within $((SECONDS - start)) s"; else fail "Running" "$(k describe pod myapp)"; fi
IP=$(jp myapp '{.status.podIP}')
if [[ "$IP" =~ ^10\.244\.0\.[0-9]+$ ]]; then pass "pod IP $IP on the podCIDR"; else fail "pod IP" "$IP"; fi
expect_out "kubectl get shows 1/1 Running on the node" "myapp +1/1 +Running +0 .*kt-node" k get pod myapp -o wide
out=$(k describe pod myapp)
for re in "Node: +kt-node/" "^IP: +$IP" "Started +[0-9a-z]+ +kubelet +Started container myapp" "Status: +Running"; do
  if grep -Eq -- "$re" <<<"$out"; then pass "describe: /$re/"; else fail "describe: /$re/" "$out"; fi
done
expect_out "conditions as upstream" "PodReadyToStartContainers=True Initialized=True Ready=True ContainersReady=True PodScheduled=True" \
  k get pod myapp -o jsonpath='{range .status.conditions[*]}{.type}={.status} {end}'
expect_out "status: hostIP, podIPs, startTime, image, imageID, containerID, ready, started" \
  "^[0-9.]+ $IP [0-9-]+T[0-9:]+Z docker.io/berth-test/web:1.0 \S*sha256:[0-9a-f]{64} berth://[0-9a-f]+ true true$" \
  k get pod myapp -o jsonpath='{.status.hostIP} {.status.podIPs[0].ip} {.status.startTime} {.status.containerStatuses[0].image} {.status.containerStatuses[0].imageID} {.status.containerStatuses[0].containerID} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].started}'
expect_out "events Pulled (already present), Created, Started" "^Pulled Created Started $" \
  k get events --field-selector involvedObject.name=myapp --sort-by=.metadata.creationTimestamp \
  -o jsonpath='{range .items[*]}{.reason} {end}'
CID=$(container_id myapp)
LOG=$(ls "$AGENT"/logs/default_myapp_*/myapp/0.log 2>/dev/null)
expect_out "the container's output is in a CRI log" '^[0-9T:.-]+Z stdout F serving on myapp$' cat "$LOG"
expect_out "the app answers on its pod IP from the node" "^myapp$" \
  ip netns exec "$NS" timeout 5 busybox wget -qO- "http://$IP:5000/hostname"
expect_out "resolv.conf points at the cluster DNS" \
  "search default.svc.cluster.local svc.cluster.local cluster.local.*nameserver 10.96.0.10.*options ndots:5" \
  bash -c "${RUNC[*]} exec $CID cat /etc/resolv.conf | tr '\n' ' '"
expect_out "/etc/hosts names the pod" "$IP\s+myapp" "${RUNC[@]}" exec "$CID" cat /etc/hosts
expect_out "the UTS namespace's hostname is the pod's name" "^myapp$" "${RUNC[@]}" exec "$CID" hostname
# lo comes up with the pod's network namespace (no loopback CNI plugin): the pod reaches itself.
expect_out "the pod reaches its own 127.0.0.1" "^myapp$" \
  "${RUNC[@]}" exec "$CID" busybox timeout 5 wget -qO- http://127.0.0.1:5000/hostname

SA_DIR=/var/run/secrets/kubernetes.io/serviceaccount
expect_out "the kube-api-access volume gives the pod its namespace" "^default$" \
  "${RUNC[@]}" exec "$CID" cat $SA_DIR/namespace
expect_out "and the cluster CA" "^-----BEGIN CERTIFICATE-----" "${RUNC[@]}" exec "$CID" cat $SA_DIR/ca.crt
# The token file exists exactly when the server issues tokens (TokenRequest); without it the pod
# still runs, as it does here.
if k create token default >/dev/null 2>&1; then
  expect_out "and a service account token" "^ey" "${RUNC[@]}" exec "$CID" cat $SA_DIR/token
else
  expect_err "no token file without TokenRequest" "No such file" "${RUNC[@]}" exec "$CID" cat $SA_DIR/token
fi

echo "== kubelet API through the API server (t=$SECONDS)"
expect_out "kubectl logs shows what the app printed" "^serving on myapp$" k logs myapp
expect_out "kubectl exec runs in the container" "^myapp$" k exec myapp -- cat /etc/hostname
k exec myapp -- sh -c 'exit 3' >/dev/null 2>&1
expect_eq "kubectl exec passes the exit code on" 3 "$?"
FWD=$(free_port)
ip netns exec "$NS" "$KUBECTL" port-forward pod/myapp "$FWD:5000" >"$WORK/pf.log" 2>&1 &
PF_PID=$!
fwd_answers() { [ "$(ip netns exec "$NS" timeout 5 busybox wget -qO- "http://127.0.0.1:$FWD/hostname")" == myapp ]; }
if wait_for 10 fwd_answers; then pass "kubectl port-forward reaches the pod's port"; else fail "port-forward" "$(cat "$WORK/pf.log")"; fi
kill "$PF_PID" 2>/dev/null; wait "$PF_PID" 2>/dev/null
k run ticker --image=berth-test/busybox:1.0 --restart=Never --overrides='{"spec":{"nodeName":"kt-node","terminationGracePeriodSeconds":1}}' \
  --command -- sh -c 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done' >/dev/null
wait_for 10 phase_is ticker Running
expect_out "kubectl attach streams the running container's output" "^tick [0-9]+$" \
  bash -c "timeout 3 ip netns exec $NS $KUBECTL attach ticker 2>/dev/null | head -2"
expect_out "the Python client's exec (kubernetes.stream)" "^myapp$" ip netns exec "$NS" /usr/bin/python3 -c '
import kubernetes.config, kubernetes.client, kubernetes.stream
kubernetes.config.load_kube_config()
api = kubernetes.client.CoreV1Api()
print(kubernetes.stream.stream(api.connect_get_namespaced_pod_exec, "myapp", "default",
      command=["cat", "/etc/hostname"], stdout=True, stderr=True, stdin=False, tty=False).strip())'

echo "== restarts (t=$SECONDS)"
PID=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pid'])" "$AGENT/containers/$CID/started")
kill -9 "$PID"
if wait_for 10 restarts_at_least myapp 1; then pass "killing the container's process restarts it"; else fail "restart after kill" "$(k describe pod myapp)"; fi
wait_for 10 phase_is myapp Running
expect_out "lastState records the kill (137)" "^137 Error$" \
  k get pod myapp -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.reason}'

cat >"$WORK/liveness.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: liveness}
spec:
  nodeName: kt-node
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600"]
      livenessProbe:
        exec: {command: ["cat", "/tmp/healthy"]}
        periodSeconds: 1
        failureThreshold: 2
YAML
k create -f "$WORK/liveness.yml" >/dev/null
if wait_for 20 restarts_at_least liveness 1; then pass "a failing liveness probe restarts the container"; else fail "liveness restart" "$(k describe pod liveness)"; fi
expect_out "the Unhealthy and Killing events say why" "Liveness probe failed.*|failed liveness probe, will be restarted" \
  k get events --field-selector involvedObject.name=liveness -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'

cat >"$WORK/oom.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  nodeName: kt-node
  restartPolicy: Never
  containers:
    - name: hog
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "head -c 200m /dev/zero | tail"]
      resources: {limits: {memory: 32Mi}}
YAML
k create -f "$WORK/oom.yml" >/dev/null
if wait_for 20 phase_is oom Failed; then pass "a container over its memory limit fails"; else fail "oom phase" "$(k describe pod oom)"; fi
expect_out "and is reported OOMKilled (137)" "^OOMKilled 137$" \
  k get pod oom -o jsonpath='{.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}'

cat >"$WORK/crash.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  nodeName: kt-node
  terminationGracePeriodSeconds: 1
  containers:
    - {name: app, image: berth-test/busybox:1.0, command: ["sh", "-c", "exit 3"]}
YAML
k create -f "$WORK/crash.yml" >/dev/null
crashlooping() { [ "$(jp crash '{.status.containerStatuses[0].state.waiting.reason}')" == CrashLoopBackOff ]; }
if wait_for 20 crashlooping; then pass "a container that keeps exiting ends in CrashLoopBackOff"; else fail "CrashLoopBackOff" "$(k describe pod crash)"; fi
expect_out "with its exit code in lastState and the back-off in the waiting message" \
  '^3 Error back-off [0-9]+s restarting failed container=app pod=crash_default\(' \
  k get pod crash -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.reason} {.status.containerStatuses[0].state.waiting.message}'
expect_out "and a BackOff event" "Back-off restarting failed container app in pod crash_default" \
  k get events --field-selector involvedObject.name=crash,reason=BackOff -o jsonpath='{.items[*].message}'

# restartPolicy OnFailure: the failed first run is restarted, the successful second one is not.
cat >"$WORK/onfailure.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: onfailure}
spec:
  nodeName: kt-node
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "[ -f /d/ran ] && exit 0; touch /d/ran; exit 1"]
      volumeMounts: [{name: d, mountPath: /d}]
  volumes: [{name: d, emptyDir: {}}]
YAML
k create -f "$WORK/onfailure.yml" >/dev/null
if wait_for 20 phase_is onfailure Succeeded; then pass "restartPolicy OnFailure: restarted after exit 1, Succeeded after exit 0"; else fail "OnFailure" "$(k describe pod onfailure)"; fi
expect_out "with one restart and the failed run in lastState" "^1 1 0$" \
  k get pod onfailure -o jsonpath='{.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].state.terminated.exitCode}'

echo "== probes, workingDir, runAsUser (t=$SECONDS)"
cat >"$WORK/probes.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: probes}
spec:
  nodeName: kt-node
  terminationGracePeriodSeconds: 1
  containers:
    - name: a-web
      image: berth-test/web:1.0
      command: ["sh", "-c", "exec httpd -f -p 5000 -h /etc"]
      ports: [{containerPort: 5000, hostPort: 18080}]
      startupProbe:
        exec: {command: ["cat", "/etc/hostname"]}
        periodSeconds: 1
      readinessProbe:
        tcpSocket: {port: 5000}
        periodSeconds: 1
      livenessProbe:
        httpGet: {path: /hostname, port: 5000}
        periodSeconds: 1
    - name: b-user
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "echo \$(id -u) \$(pwd); exec sleep 3600"]
      workingDir: /tmp
      securityContext: {runAsUser: 1000}
      readinessProbe:
        tcpSocket: {port: 5001}
        periodSeconds: 1
YAML
k create -f "$WORK/probes.yml" >/dev/null
a_ready() { [ "$(jp probes '{.status.containerStatuses[0].ready}')" == true ]; }
if wait_for 20 a_ready; then pass "startup (exec), readiness (tcpSocket) and liveness (httpGet) probes pass"; else fail "probes ready" "$(k describe pod probes)"; fi
expect_out "a failing tcpSocket readiness probe keeps its container and the pod unready" \
  "^a-web=true b-user=false ; ContainersReady=False Ready=False 0 $" \
  k get pod probes -o jsonpath='{range .status.containerStatuses[*]}{.name}={.ready} {end}; {range .status.conditions[?(@.type=="ContainersReady")]}ContainersReady={.status}{end} {range .status.conditions[?(@.type=="Ready")]}Ready={.status}{end} {.status.containerStatuses[0].restartCount} '
PIP=$(jp probes '{.status.podIP}')
expect_out "with an Unhealthy event in Go's words" "Readiness probe failed: dial tcp $PIP:5001: connect: connection refused" \
  k get events --field-selector involvedObject.name=probes,reason=Unhealthy -o jsonpath='{.items[*].message}'
expect_out "a hostPort reaches the container through the node (portmap)" "^probes$" \
  ip netns exec "$NS" timeout 5 busybox wget -qO- "http://10.244.0.1:18080/hostname"
expect_out "workingDir and securityContext.runAsUser apply" "stdout F 1000 /tmp$" \
  cat "$AGENT"/logs/default_probes_*/b-user/0.log

echo "== pod to pod (t=$SECONDS)"
cat >"$WORK/client.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: kt-node
  restartPolicy: Never
  hostAliases:
    - {ip: "$IP", hostnames: [myapp.alias.test, myapp-too]}
    - {ip: "10.99.0.1", hostnames: [nowhere.test]}
  containers:
    - name: get
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "timeout 5 wget -qO- http://\$(SERVER_IP):5000/hostname &&
                             timeout 5 wget -qO- http://myapp.alias.test:5000/hostname"]
      env:
        - {name: SERVER_IP, value: "$IP"}
YAML
k create -f "$WORK/client.yml" >/dev/null
CLIENT_UID=$(jp client '{.metadata.uid}')
if wait_for 15 phase_is client Succeeded; then pass "a pod reaches another by pod IP"; else fail "pod to pod" "$(k describe pod client)"; fi
expect_out "and got its answer" "stdout F myapp$" head -1 "$AGENT"/logs/default_client_*/get/0.log
# spec.hostAliases: the pod's /etc/hosts names the aliased IP, so the alias reaches myapp.
expect_out "and by a hostAliases name (its /etc/hosts)" "stdout F myapp$" \
  sed -n 2p "$AGENT"/logs/default_client_*/get/0.log
want=$(printf '# Entries added by HostAliases.\n%s\tmyapp.alias.test\tmyapp-too\n10.99.0.1\tnowhere.test' "$IP")
expect_eq "/etc/hosts ends with upstream's HostAliases section" "$want" \
  "$(sed -n '/^# Entries added by HostAliases/,$p' "$AGENT/pods/$CLIENT_UID/hosts")"
# A hostNetwork pod gets the node's own /etc/hosts under upstream's "(host network)" header,
# then the aliases.
cat >"$WORK/hostnet.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  nodeName: kt-node
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  hostAliases: [{ip: "10.99.0.2", hostnames: [hostnet.alias.test]}]
  containers:
    - {name: app, image: berth-test/busybox:1.0, command: ["sleep", "3600"]}
YAML
k create -f "$WORK/hostnet.yml" >/dev/null
if wait_for 15 phase_is hostnet Running; then pass "a hostNetwork pod runs"; else fail "hostnet Running" "$(k describe pod hostnet)"; fi
HUID=$(jp hostnet '{.metadata.uid}')
want=$(printf '# Kubernetes-managed hosts file (host network).\n%s\n\n# Entries added by HostAliases.\n10.99.0.2\thostnet.alias.test' "$(cat /etc/hosts)")
expect_eq "its /etc/hosts is the node's plus the HostAliases section" "$want" "$(cat "$AGENT/pods/$HUID/hosts")"
expect_err "an invalid hostAliases IP is refused as upstream" \
  'spec.hostAliases\[0\].ip: Invalid value: "10.0.0.300": must be a valid IP address' \
  k run bad-alias --image=berth-test/busybox:1.0 --restart=Never \
  --overrides='{"spec":{"hostAliases":[{"ip":"10.0.0.300","hostnames":["x"]}]}}'

echo "== init containers, env and volumes (t=$SECONDS)"
cat >"$WORK/vols.yml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: hello}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
data: {password: czNjcmV0}
---
apiVersion: v1
kind: Pod
metadata: {name: vols, labels: {tier: web}}
spec:
  nodeName: kt-node
  terminationGracePeriodSeconds: 1
  initContainers:
    - name: init
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "echo init-ran > /work/init.txt"]
      volumeMounts: [{name: scratch, mountPath: /work}]
  containers:
    - name: app
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "echo GREETING=$GREETING POD=$POD_NAME; exec sleep 3600"]
      env:
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
      volumeMounts:
        - {name: scratch, mountPath: /work}
        - {name: cfg, mountPath: /etc/cfg}
        - {name: cfg, mountPath: /etc/hosts, subPath: greeting}
        - {name: sec, mountPath: /etc/sec}
        - {name: info, mountPath: /etc/info}
        - {name: mem, mountPath: /mem}
  volumes:
    - {name: scratch, emptyDir: {}}
    - {name: mem, emptyDir: {medium: Memory, sizeLimit: 8Mi}}
    - {name: cfg, configMap: {name: cfg}}
    - {name: sec, secret: {secretName: sec}}
    - name: info
      downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
YAML
k create -f "$WORK/vols.yml" >/dev/null
if wait_for 15 phase_is vols Running; then pass "a pod with an init container and volumes runs"; else fail "vols Running" "$(k describe pod vols)"; fi
expect_out "the init container completed first" "^Completed$" \
  k get pod vols -o jsonpath='{.status.initContainerStatuses[0].state.terminated.reason}'
VCID=$(container_id vols)
vexec() { "${RUNC[@]}" exec "$VCID" "$@"; }
expect_out "emptyDir is shared with the init container" "^init-ran$" vexec cat /work/init.txt
expect_out "env from a configMap key and a fieldRef" "stdout F GREETING=hello POD=vols$" \
  cat "$AGENT"/logs/default_vols_*/app/0.log
expect_out "configMap volume" "^hello$" vexec cat /etc/cfg/greeting
expect_out "a volume mounted at /etc/hosts replaces the pod's hosts file" "^hello$" vexec cat /etc/hosts
expect_out "secret volume (decoded)" "^s3cret$" vexec cat /etc/sec/password
expect_out "downwardAPI labels" '^tier="web"$' vexec cat /etc/info/labels
expect_out "emptyDir medium Memory is a tmpfs of sizeLimit" "tmpfs +8192 " vexec df -k /mem
k patch configmap cfg -p '{"data":{"greeting":"updated"}}' >/dev/null
cm_updated() { [ "$(vexec cat /etc/cfg/greeting)" == "updated" ]; }
start=$SECONDS
if wait_for 20 cm_updated; then pass "a configMap update reaches the running pod ($((SECONDS - start)) s)"; else fail "configMap update"; fi
k patch secret sec -p '{"data":{"password":"bjN3"}}' >/dev/null
secret_updated() { [ "$(vexec cat /etc/sec/password)" == "n3w" ]; }
if wait_for 20 secret_updated; then pass "and so does a Secret update"; else fail "secret update"; fi

echo "== scheduling (t=$SECONDS)"
cat >"$WORK/sched.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: sched}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - {name: app, image: berth-test/busybox:1.0, command: ["sleep", "3600"]}
YAML
k create -f "$WORK/sched.yml" >/dev/null
if wait_for 15 phase_is sched Running; then pass "a pod without nodeName is scheduled and runs"; else fail "scheduled pod" "$(k describe pod sched)"; fi
expect_out "on the agent's node" "^kt-node$" k get pod sched -o jsonpath='{.spec.nodeName}'

echo "== agent restart (t=$SECONDS)"
RCID=$(container_id myapp)
RCOUNT=$(jp myapp '{.status.containerStatuses[0].restartCount}')
stop_server
PORT=$(free_port)  # the old port may still be held for a moment
start_node_server || fail "the server restarts" "$(tail -5 "$WORK/server.log")"
sleep 2
expect_out "after an agent restart the pod keeps running, same IP, no restart" "^Running $IP $RCOUNT berth://$RCID$" \
  k get pod myapp -o jsonpath='{.status.phase} {.status.podIP} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].containerID}'
expect_out "and still answers" "^myapp$" ip netns exec "$NS" timeout 5 busybox wget -qO- "http://$IP:5000/hostname"

echo "== leftovers of a pod deleted while the agent was down (t=$SECONDS)"
LUID=$(jp sched '{.metadata.uid}')
LCID=$(container_id sched)
LIP=$(jp sched '{.status.podIP}')
stop_server
PORT=$(free_port)
start_node_server --disable-agent || fail "the server restarts without its agent" "$(tail -5 "$WORK/server.log")"
k delete pod sched --grace-period=0 --force >/dev/null 2>&1
stop_server
expect_eq "the agent's absence left the pod's container running" "running" \
  "$("${RUNC[@]}" state "$LCID" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null)"
PORT=$(free_port)
start_node_server || fail "the server restarts with its agent" "$(tail -5 "$WORK/server.log")"
leftover_gone() { [ ! -d "$AGENT/pods/$LUID" ]; }
if wait_for 20 leftover_gone; then pass "the restarted agent removes the deleted pod's leftovers"; else fail "leftover pod directory" "$(ls "$AGENT/pods")"; fi
expect_eq "no container of it under runc" "" "$("${RUNC[@]}" list -q | grep -Fx "$LCID")"
expect_eq "no pod cgroup" "" "$(ls -d /sys/fs/cgroup/*/berth/pod"$LUID" 2>/dev/null)"
expect_eq "its IP is released" "" "$(ls "$AGENT/cni/networks/berth/" | grep -Fx "$LIP")"

expect_out "the node's lease was renewed during the test (every 10 s)" "^renewed$" \
  bash -c "[ \"\$(ip netns exec $NS $KUBECTL get lease -n kube-node-lease kt-node -o jsonpath='{.spec.renewTime}')\" != '$LEASE_RENEWED' ] && echo renewed"

echo "== graceful termination on delete (t=$SECONDS)"
# A container that handles SIGTERM writes it to a hostPath and exits; one that ignores SIGTERM is
# killed once its grace period has passed, and not before (upstream's kubelet: SIGTERM, wait
# terminationGracePeriodSeconds, SIGKILL).
mkdir -p "$WORK/grace"
for spec in "graceful 30 trap 'echo TERM > /out/graceful; exit 0' TERM" \
            "stubborn 3 trap 'echo TERM > /out/stubborn' TERM"; do
  read -r gname ggrace gtrap <<<"$spec"
  cat >"$WORK/$gname.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $gname}
spec:
  nodeName: kt-node
  terminationGracePeriodSeconds: $ggrace
  volumes: [{name: out, hostPath: {path: $WORK/grace}}]
  containers:
    - name: app
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "$gtrap; echo up > /out/$gname.up; while true; do sleep 0.2; done"]
      volumeMounts: [{name: out, mountPath: /out}]
YAML
  k create -f "$WORK/$gname.yml" >/dev/null
done
grace_up() { [ -s "$WORK/grace/graceful.up" ] && [ -s "$WORK/grace/stubborn.up" ]; }
wait_for 60 grace_up || fail "the two termination pods start" "$(k get pods graceful stubborn 2>&1)"
expect_ok "kubectl delete pod graceful returns once it has exited" k delete pod graceful --timeout=30s
expect_eq "the container got SIGTERM (its handler ran)" "TERM" "$(cat "$WORK/grace/graceful" 2>/dev/null)"
t0=$SECONDS
expect_ok "kubectl delete pod stubborn returns" k delete pod stubborn --timeout=30s
expect_eq "the stubborn container saw SIGTERM first" "TERM" "$(cat "$WORK/grace/stubborn" 2>/dev/null)"
if [ $((SECONDS - t0)) -ge 2 ]; then pass "it was not killed before its grace period (3 s)"
else fail "killed after $((SECONDS - t0)) s, before its 3 s grace period"; fi

echo "== deletion leaves nothing behind (t=$SECONDS)"
UID_=$(jp myapp '{.metadata.uid}')
CIDS=$(jp myapp '{.status.containerStatuses[0].containerID}')
expect_ok "kubectl delete pod myapp" k delete pod myapp --timeout=30s
expect_err "the pod is gone" "NotFound" k get pod myapp
sleep 0.5
expect_eq "no containers of it under runc" "" "$("${RUNC[@]}" list -q | grep -F "${CIDS#berth://}")"
expect_eq "no pod cgroup" "" "$(ls -d /sys/fs/cgroup/*/berth/pod"$UID_" 2>/dev/null)"
expect_eq "no pod directory (namespaces, volumes)" "" "$(ls -d "$AGENT/pods/$UID_" 2>/dev/null)"
expect_eq "no mounts of it in the node's mount namespace" "" \
  "$(grep -E "$UID_|${CIDS#berth://}" /proc/"$SERVER_PID"/mountinfo)"
expect_eq "its IP is released" "" "$(ls "$AGENT/cni/networks/berth/" | grep -Fx "$IP")"
CID0=${CIDS#berth://}
shims=$(grep -l -- "[${CID0:0:1}]${CID0:1}" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
expect_eq "no processes of it" 0 "$shims"
k delete pod liveness oom crash onfailure probes client hostnet vols ticker --grace-period=0 --force --wait=false >/dev/null 2>&1
wait_for 10 bash -c "[ -z \"\$(ls $AGENT/pods)\" ]"
expect_eq "every pod torn down" "" "$(ls "$AGENT/pods")"

finish
