#!/usr/bin/env bash
# Workload controllers end to end with the real kubectl, the in-process scheduler and
# `berth simulate` nodes (which run bound pods Running/Ready): a DaemonSet puts one pod on each
# node and follows a node that joins; a StatefulSet comes up in order with its claims; a Job from
# `kubectl create job` runs and completes once its pod succeeds (the test writes the pod's
# status as a kubelet would when the container exits), then its TTL removes it; a CronJob from
# `kubectl create cronjob` starts a job for a due tick. `kubectl get` shows the status columns.
# A ReplicaSet adopts an orphan pod with its labels (one pod created, not two); a Job whose pod
# exits with a code its podFailurePolicy names fails at once with reason PodFailurePolicy.
source "$(dirname "$0")/lib.sh"
start_server || exit 1

SIM_LOG=$WORK/simulate.log
"$BERTH" simulate --kubeconfig "$KUBECONFIG" --nodes 2 --name-prefix wl-node- \
  --stats-interval 0 >"$SIM_LOG" 2>&1 &
SIM_PID=$!

ready_count() { k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True; }
nodes_ready() { [ "$(ready_count)" -eq "$1" ]; }
if wait_for 20 nodes_ready 2; then pass "2 simulated nodes are Ready"; else
  fail "2 simulated nodes are Ready" "$(k get nodes; cat "$SIM_LOG")"; fi

# --- DaemonSet: one pod per node, bound by the scheduler, following a joining node ----------
cat >"$WORK/ds.yml" <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox}]
YAML
expect_ok "apply a DaemonSet" k apply -f "$WORK/ds.yml"
ds_ready() { [ "$(k get ds agent -o jsonpath='{.status.numberReady}/{.status.desiredNumberScheduled}')" = "$1/$1" ]; }
if wait_for 20 ds_ready 2; then pass "DaemonSet has 2/2 ready"; else
  fail "DaemonSet has 2/2 ready" "$(k get ds,pods -o wide)"; fi
pod_nodes() { k get pods -l app=agent -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort; }
expect_eq "one daemon pod bound to each node" "wl-node-0 wl-node-1" "$(pod_nodes | xargs)"
expect_out "the pod is pinned by matchFields metadata.name" '^metadata.name In wl-node-[01]$' \
  k get pods -l app=agent -o jsonpath='{.items[0].spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key} {.items[0].spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].operator} {.items[0].spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}'
expect_out "kubectl get ds shows the counts" '^agent +2 +2 +2 +2 +2 +<none>' k get ds agent

"$BERTH" simulate --kubeconfig "$KUBECONFIG" --nodes 1 --name-prefix wl-extra- \
  --stats-interval 0 >>"$SIM_LOG" 2>&1 &
SIM2_PID=$!
if wait_for 20 ds_ready 3; then pass "a joining node gets its daemon pod"; else
  fail "a joining node gets its daemon pod" "$(k get ds,pods,nodes -o wide)"; fi
expect_eq "pods on all three nodes" "wl-extra-0 wl-node-0 wl-node-1" "$(pod_nodes | xargs)"
expect_out "a ControllerRevision records the template" '^agent-[a-z0-9]+ +daemonset.apps/agent +1 ' \
  k get controllerrevisions

# --- StatefulSet: ordered pods with claims ---------------------------------------------------
cat >"$WORK/sts.yml" <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
YAML
expect_ok "apply a StatefulSet" k apply -f "$WORK/sts.yml"
sts_ready() { [ "$(k get sts web -o jsonpath='{.status.readyReplicas}')" = 2 ]; }
if wait_for 30 sts_ready; then pass "StatefulSet has 2 ready replicas"; else
  fail "StatefulSet has 2 ready replicas" "$(k get sts,pods,pvc -o wide)"; fi
expect_out "kubectl get sts shows READY 2/2" '^web +2/2 ' k get sts web
expect_eq "pods web-0 and web-1" "web-0 web-1" \
  "$(k get pods -l app=web -o jsonpath='{.items[*].metadata.name}' | tr ' ' '\n' | sort | xargs)"
expect_eq "claims data-web-0 and data-web-1" "data-web-0 data-web-1" \
  "$(k get pvc -o jsonpath='{.items[*].metadata.name}' | tr ' ' '\n' | sort | xargs)"
expect_out "web-0 was created before web-1" '^SuccessfulCreate create Pod web-0' \
  bash -c "$KUBECTL get events --field-selector involvedObject.name=web --sort-by=.metadata.creationTimestamp -o jsonpath='{range .items[*]}{.reason} {.message}{\"\\n\"}{end}' | grep 'create Pod'"

# --- Job: runs, completes, TTL removes it ----------------------------------------------------
expect_ok "kubectl create job" k create job once --image=busybox -- true
job_pod_running() { [ "$(k get pods -l job-name=once -o jsonpath='{.items[0].status.phase}')" = Running ]; }
if wait_for 20 job_pod_running; then pass "the job's pod runs on a node"; else
  fail "the job's pod runs on a node" "$(k get job,pods -o wide)"; fi
expect_out "kubectl get job shows it Running" '^once +Running +0/1 ' k get job once
expect_out "the pod carries the tracking finalizer and both job-name labels" \
  '^batch.kubernetes.io/job-tracking once once$' \
  k get pods -l job-name=once -o jsonpath='{.items[0].metadata.finalizers[0]} {.items[0].metadata.labels.job-name} {.items[0].metadata.labels.batch\.kubernetes\.io/job-name}'
POD=$(k get pods -l job-name=once -o jsonpath='{.items[0].metadata.name}')
expect_ok "the container exits 0 (status written as the kubelet)" \
  k patch pod "$POD" --subresource=status --type=merge -p '{"status":{"phase":"Succeeded"}}'
expect_ok "the job completes" k wait --for=condition=Complete job/once --timeout=20s
expect_out "kubectl get job shows Complete 1/1" '^once +Complete +1/1 ' k get job once
FINALIZERS=$(k get pod "$POD" -o jsonpath='{.metadata.finalizers}')
if [[ "$FINALIZERS" != *job-tracking* ]]; then pass "the counted pod lost its finalizer"; else
  fail "the counted pod lost its finalizer" "$FINALIZERS"; fi
expect_ok "set a TTL on the finished job" \
  k patch job once --type=merge -p '{"spec":{"ttlSecondsAfterFinished":1}}'
job_gone() { ! k get job once >/dev/null 2>&1; }
if wait_for 10 job_gone; then pass "the TTL deletes the finished job"; else
  fail "the TTL deletes the finished job" "$(k get job once -o yaml)"; fi

# --- CronJob: a due tick starts a job ----------------------------------------------------------
expect_ok "kubectl create cronjob" k create cronjob tick --image=busybox --schedule='*/1 * * * *' -- true
expect_out "kubectl get cronjob shows the schedule" '^tick +\*/1 \* \* \* \* +<none> +False +0 ' k get cronjob tick
# Pretend the controller was down for a few minutes: the most recent tick is due at once.
PAST=$(date -u -d '-3 min' +%Y-%m-%dT%H:%M:%SZ)
expect_ok "rewind lastScheduleTime" \
  k patch cronjob tick --subresource=status --type=merge -p "{\"status\":{\"lastScheduleTime\":\"$PAST\"}}"
cron_job_made() { k get jobs -o jsonpath='{.items[*].metadata.name}' | grep -Eq 'tick-[0-9]+'; }
if wait_for 10 cron_job_made; then pass "the CronJob starts a job named <cronjob>-<minutes>"; else
  fail "the CronJob starts a job named <cronjob>-<minutes>" "$(k get cronjob tick -o yaml; k get jobs)"; fi
expect_out "kubectl get cronjob shows it active" '^tick +\*/1 \* \* \* \* +<none> +False +1 ' k get cronjob tick

# --- Adoption: an orphan pod with a ReplicaSet's labels becomes one of its replicas ------------
expect_ok "kubectl run an orphan pod labelled app=adopt" k run stray --image=busybox --labels=app=adopt
expect_ok "kubectl apply a ReplicaSet of 2 selecting app=adopt" k apply -f - <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: adopt}
spec:
  replicas: 2
  selector: {matchLabels: {app: adopt}}
  template:
    metadata: {labels: {app: adopt}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
adopted() { [ "$(k get pod stray -o jsonpath='{.metadata.ownerReferences[0].kind}')" = ReplicaSet ]; }
if wait_for 20 adopted; then pass "the orphan pod is adopted by the ReplicaSet"; else
  fail "the orphan pod is adopted by the ReplicaSet" "$(k get pod stray -o yaml)"; fi
rs_ready() { [ "$(k get rs adopt -o jsonpath='{.status.readyReplicas}')" = 2 ]; }
wait_for 20 rs_ready
expect_eq "only one pod was created beside it" 2 \
  "$(k get pods -l app=adopt -o name | wc -l | tr -d ' ')"
expect_out "kubectl get rs shows 2/2/2" '^adopt +2 +2 +2 ' k get rs adopt

# --- Job podFailurePolicy: exit code 42 fails the job at once -----------------------------------
expect_ok "kubectl apply a Job with a podFailurePolicy" k apply -f - <<'YAML'
apiVersion: batch/v1
kind: Job
metadata: {name: pfp}
spec:
  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {containerName: main, operator: In, values: [42]}
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
YAML
pfp_running() { [ "$(k get pods -l job-name=pfp -o jsonpath='{.items[0].status.phase}')" = Running ]; }
if wait_for 20 pfp_running; then pass "the job's pod runs"; else
  fail "the job's pod runs" "$(k get job,pods -o wide)"; fi
PFP_POD=$(k get pods -l job-name=pfp -o jsonpath='{.items[0].metadata.name}')
expect_ok "the container exits 42 (status written as the kubelet)" \
  k patch pod "$PFP_POD" --subresource=status --type=merge -p '{"status":{"phase":"Failed",
    "containerStatuses":[{"name":"main","image":"busybox","imageID":"","ready":false,
    "restartCount":0,"state":{"terminated":{"exitCode":42,"reason":"Error"}}}]}}'
expect_ok "the job fails" k wait --for=condition=Failed job/pfp --timeout=20s
expect_eq "its Failed condition says PodFailurePolicy" \
  "PodFailurePolicy: Container main for pod default/$PFP_POD failed with exit code 42 matching FailJob rule at index 0" \
  "$(k get job pfp -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}')"
expect_err "a Job with podFailurePolicy and restartPolicy OnFailure is refused (422)" \
  'The Job "pfp-bad" is invalid: spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified' \
  bash -c "$KUBECTL create -f - 2>&1 <<'YAML'
apiVersion: batch/v1
kind: Job
metadata: {name: pfp-bad}
spec:
  podFailurePolicy:
    rules: [{action: Ignore, onPodConditions: [{type: DisruptionTarget, status: 'True'}]}]
  template:
    spec:
      restartPolicy: OnFailure
      containers: [{name: main, image: busybox}]
YAML
"

kill "$SIM_PID" "$SIM2_PID" 2>/dev/null
wait "$SIM_PID" "$SIM2_PID" 2>/dev/null
finish
