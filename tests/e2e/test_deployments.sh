#!/usr/bin/env bash
# Deployments, ReplicaSets and ReplicationControllers through the real kubectl: create, scale,
# set image, rollout status/history/undo/restart, a rollout that misses its progress deadline,
# pod replacement, adoption of a matching orphan pod, release of a relabeled pod, and deleting
# a Deployment. The scheduler binds pods to three simulated nodes (`berth simulate`), whose
# kubelets report them Running and Ready.
source "$(dirname "$0")/lib.sh"
start_server || exit 1
"$BERTH" simulate --kubeconfig "$KUBECONFIG" --nodes 3 --name-prefix node- --stats-interval 0 \
  >"$WORK/simulate.log" 2>&1 &

D=deploy/kubernetes-bootcamp
V1=gcr.io/google-samples/kubernetes-bootcamp:v1
V2=jocatalin/kubernetes-bootcamp:v2

# live_pods SELECTOR: names of the pods matching it that are not being deleted.
live_pods() {
  k get pods -l "$1" -o custom-columns=N:.metadata.name,D:.metadata.deletionTimestamp \
    --no-headers 2>/dev/null | awk '$2 == "<none>" { print $1 }'
}
count_is() { [ "$(live_pods "$1" | wc -l)" -eq "$2" ]; }
images_are() {  # images_are SELECTOR IMAGE: every live pod runs IMAGE, and there is one
  local got
  got=$(k get pods -l "$1" -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)
  [ "$got" == "$2" ]
}
rs_count() { k get rs -l app=kubernetes-bootcamp -o name | wc -l; }

three_ready() {
  [ "$(k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{end}' | grep -o True | wc -l)" -eq 3 ]
}
expect_within "3 simulated nodes are Ready" 20 three_ready

echo "--- create, scale ($SECONDS s)"
expect_ok "create deployment" k create deployment kubernetes-bootcamp --image=$V1 --replicas=3
expect_out "rollout status finishes" "successfully rolled out" k rollout status $D --timeout=30s
expect_within "3 pods" 20 count_is app=kubernetes-bootcamp 3
expect_out "ReplicaSet named with its pod-template-hash" "^kubernetes-bootcamp-[bcdfghjklmnpqrstvwxz2456789]+ .*pod-template-hash:" \
  k get rs -l app=kubernetes-bootcamp -o custom-columns=N:.metadata.name,S:.spec.selector.matchLabels --no-headers
expect_eq "deployment revision 1" 1 "$(k get $D -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')"
expect_ok "scale to 5" k scale $D --replicas=5
expect_within "5 pods after scale" 20 count_is app=kubernetes-bootcamp 5
expect_out "rollout status after scale" "successfully rolled out" k rollout status $D --timeout=30s
expect_out "get deployment shows 5/5" "kubernetes-bootcamp +5/5 +5 +5" k get $D
expect_eq "every pod is bound to a node and Running" "5 Running" \
  "$(k get pods -l app=kubernetes-bootcamp -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c node-) $(k get pods -l app=kubernetes-bootcamp -o jsonpath='{.items[*].status.phase}' | tr ' ' '\n' | sort -u)"

echo "--- set image, history ($SECONDS s)"
expect_ok "set image v2" k set image $D kubernetes-bootcamp=$V2
expect_ok "record change-cause" k annotate $D kubernetes.io/change-cause="image v2" --overwrite
expect_out "rollout status v2" "successfully rolled out" k rollout status $D --timeout=60s
expect_within "pods run v2" 20 images_are app=kubernetes-bootcamp $V2
expect_eq "two ReplicaSets" 2 "$(rs_count)"
expect_within "new ReplicaSet carries the change-cause" 20 \
  bash -c "$KUBECTL rollout history $D | grep -Eq '^2 +image v2'"
expect_out "rollout history lists revisions 1 and 2" "^1 +<none>" k rollout history $D
expect_out "history of revision 2 shows its image" "$V2" k rollout history $D --revision=2

echo "--- undo, restart ($SECONDS s)"
expect_out "rollout undo" "rolled back" k rollout undo $D
expect_out "rollout status after undo" "successfully rolled out" k rollout status $D --timeout=60s
expect_within "pods back on v1" 20 images_are app=kubernetes-bootcamp $V1
expect_eq "deployment template back on v1" $V1 "$(k get $D -o jsonpath='{.spec.template.spec.containers[0].image}')"
expect_eq "undo reuses the old ReplicaSet" 2 "$(rs_count)"
expect_out "history: revision 1 became 3" "^3 " k rollout history $D
expect_eq "old ReplicaSet remembers revision 1" 1 \
  "$(k get rs -l app=kubernetes-bootcamp -o jsonpath='{range .items[?(@.spec.replicas>0)]}{.metadata.annotations.deployment\.kubernetes\.io/revision-history}{end}')"
expect_out "rollout restart" "restarted" k rollout restart $D
expect_out "rollout status after restart" "successfully rolled out" k rollout status $D --timeout=60s
expect_eq "restart made a third ReplicaSet" 3 "$(rs_count)"
expect_out "new pods carry restartedAt" "restartedAt" \
  k get pods -l app=kubernetes-bootcamp -o jsonpath='{.items[0].metadata.annotations}'

echo "--- progress deadline ($SECONDS s)"
# New pods that no node can take stay Pending, so the rollout makes no progress.
expect_ok "short progress deadline, unschedulable template" k patch $D \
  -p '{"spec":{"progressDeadlineSeconds":3,"template":{"spec":{"nodeSelector":{"berth-test":"nowhere"}}}}}'
expect_err "rollout status reports the missed deadline" "exceeded its progress deadline" \
  k rollout status $D --timeout=30s
expect_out "Progressing is False with ProgressDeadlineExceeded" "False ProgressDeadlineExceeded" \
  k get $D -o jsonpath='{range .status.conditions[?(@.type=="Progressing")]}{.status} {.reason}{end}'
expect_out "undo the bad rollout" "rolled back" k rollout undo $D
expect_out "rollout status after undoing it" "successfully rolled out" k rollout status $D --timeout=60s
expect_within "unschedulable pods gone" 20 bash -c "[ -z \"\$($KUBECTL get pods -l app=kubernetes-bootcamp -o jsonpath='{.items[*].spec.nodeSelector}')\" ]"
expect_within "5 pods" 20 count_is app=kubernetes-bootcamp 5

echo "--- replacement ($SECONDS s)"
victim=$(live_pods app=kubernetes-bootcamp | head -1)
expect_ok "delete a pod" k delete pod "$victim" --wait=false
expect_within "the pod is replaced" 20 bash -c "[ \$($KUBECTL get pods -l app=kubernetes-bootcamp -o name | grep -vc '$victim') -eq 5 ] && ! $KUBECTL get pod $victim"

echo "--- adoption and release ($SECONDS s)"
expect_ok "an orphan pod first" k run early --image=busybox --labels=app=adoptme --restart=Always
cat >"$WORK/rs.yaml" <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: adoptme}
spec:
  replicas: 3
  selector: {matchLabels: {app: adoptme}}
  template:
    metadata: {labels: {app: adoptme}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
expect_ok "create the ReplicaSet" k apply -f "$WORK/rs.yaml"
expect_within "3 pods with the orphan adopted" 20 count_is app=adoptme 3
sleep 0.5
expect_eq "only two created" 3 "$(live_pods app=adoptme | wc -l)"
expect_eq "the orphan is owned by the ReplicaSet" "ReplicaSet/adoptme/true/true" \
  "$(k get pod early -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}/{.metadata.ownerReferences[0].blockOwnerDeletion}')"
expect_ok "relabel the adopted pod out of the selector" k label pod early app=debug --overwrite
expect_within "released: no owner" 20 bash -c "[ -z \"\$($KUBECTL get pod early -o jsonpath='{.metadata.ownerReferences[*].uid}')\" ]"
expect_within "a replacement keeps 3 matching" 20 count_is app=adoptme 3
expect_out "the relabeled pod stays" "early" k get pod early -o name
expect_out "ReplicaSet status" "adoptme +3 +3 +3" k get rs adoptme

echo "--- ReplicationController ($SECONDS s)"
cat >"$WORK/rc.yaml" <<'YAML'
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 2
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
expect_ok "create the RC" k create -f "$WORK/rc.yaml"
expect_within "RC makes 2 pods" 20 count_is app=legacy 2
expect_ok "scale the RC" k scale rc legacy --replicas=4
expect_within "RC makes 4 pods" 20 count_is app=legacy 4
expect_out "RC ready" "legacy +4 +4 +4" k get rc legacy

echo "--- metrics ($SECONDS s)"
for q in deployment replicaset replicationmanager; do
  expect_out "workqueue_adds_total for $q" "workqueue_adds_total\\{name=\"$q\"\\} [1-9]" k get --raw /metrics
done

echo "--- delete the Deployment ($SECONDS s)"
duid=$(k get $D -o jsonpath='{.metadata.uid}')
expect_ok "kubectl delete deployment" k delete $D
expect_err "the Deployment is gone" "NotFound" k get $D
if grep -q garbagecollector "$BERTH"; then
  expect_within "its ReplicaSets are collected" 20 bash -c "[ -z \"\$($KUBECTL get rs -l app=kubernetes-bootcamp -o name)\" ]"
  expect_within "its pods are collected" 20 count_is app=kubernetes-bootcamp 0
else
  echo "  (no garbage collector in this build: checking the ownerReferences it will follow)"
  expect_eq "every ReplicaSet points at the Deployment" "$duid" \
    "$(k get rs -l app=kubernetes-bootcamp -o jsonpath='{.items[*].metadata.ownerReferences[0].uid}' | tr ' ' '\n' | sort -u)"
  expect_eq "pods point at their ReplicaSets with blockOwnerDeletion" "true" \
    "$(k get pods -l app=kubernetes-bootcamp -o jsonpath='{.items[*].metadata.ownerReferences[0].blockOwnerDeletion}' | tr ' ' '\n' | sort -u)"
fi

finish
