#!/usr/bin/env bash
# kubectl 1.32's `create <kind>` generators, `autoscale` and `drain` send protobuf bodies. Each
# must succeed, and the stored object must equal the same object created from JSON
# (`--dry-run=client -o json` piped to `create -f`, which sends JSON).
source "$(dirname "$0")/lib.sh"
# Objects are compared as stored: without the workload controllers, which would add pods and a
# status of their own to the Deployments.
start_server --controllers '*,-deployment,-replicaset,-daemonset,-statefulset,-job,-cronjob' || exit 1
NORM="/usr/bin/python3 $E2E_DIR/normalize.py"
k create namespace pb >/dev/null && k create namespace js >/dev/null

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/tls.key" -out "$WORK/tls.crt" \
  -days 1 -subj "/CN=example.com" >/dev/null 2>&1

# check_create RESOURCE NAME ARGS...: namespaced generator into ns pb (protobuf) and js (JSON).
check_create() {
  local resource=$1 name=$2; shift 2
  local out
  if ! out=$(k -n pb create "$@" 2>&1); then fail "create $* (protobuf)" "$out"; return; fi
  if ! grep -q "created" <<<"$out"; then fail "create $* (protobuf)" "$out"; return; fi
  pass "create $* (protobuf)"
  k -n js create --dry-run=client -o json "$@" >"$WORK/obj.json" 2>&1
  if ! out=$(k -n js create -f "$WORK/obj.json" 2>&1); then fail "create $* (JSON twin)" "$out"; return; fi
  local a b
  a=$(k -n pb get "$resource" "$name" -o json | $NORM)
  b=$(k -n js get "$resource" "$name" -o json | $NORM)
  if [ "$a" == "$b" ]; then pass "$resource/$name: protobuf object equals its JSON twin"
  else fail "$resource/$name: protobuf object equals its JSON twin" "$(diff <(echo "$a") <(echo "$b"))"; fi
}

# check_cluster RESOURCE ARGS-with-NAME-placeholder: cluster-scoped, names pb-x and js-x.
check_cluster() {
  local resource=$1; shift
  local args_pb=("${@//NAME/pb-x}") args_js=("${@//NAME/js-x}")
  local out
  if ! out=$(k create "${args_pb[@]}" 2>&1) || ! grep -q created <<<"$out"; then
    fail "create ${args_pb[*]} (protobuf)" "$out"; return
  fi
  pass "create ${args_pb[*]} (protobuf)"
  k create --dry-run=client -o json "${args_js[@]}" >"$WORK/obj.json" 2>&1
  if ! out=$(k create -f "$WORK/obj.json" 2>&1); then fail "create ${args_js[*]} (JSON twin)" "$out"; return; fi
  local a b
  a=$(k get "$resource" pb-x -o json | $NORM)
  b=$(k get "$resource" js-x -o json | $NORM)
  if [ "$a" == "$b" ]; then pass "$resource: protobuf object equals its JSON twin"
  else fail "$resource: protobuf object equals its JSON twin" "$(diff <(echo "$a") <(echo "$b"))"; fi
}

check_cluster namespace namespace NAME
check_create configmap cm1 configmap cm1 --from-literal=a=b --from-literal=c=d
check_create secret s-generic secret generic s-generic --from-literal=user=admin
check_create secret s-tls secret tls s-tls --cert="$WORK/tls.crt" --key="$WORK/tls.key"
check_create secret s-docker secret docker-registry s-docker --docker-server=registry.local \
  --docker-username=u --docker-password=p
check_create service svc-ci service clusterip svc-ci --tcp=80:8080
check_create service svc-np service nodeport svc-np --tcp=80:8080
check_create service svc-lb service loadbalancer svc-lb --tcp=443:8443
check_create service svc-ext service externalname svc-ext --external-name=example.com
check_create deployment bootcamp deployment bootcamp --image=registry.local/kubernetes-bootcamp:v1 \
  --replicas=3 --port=8080
check_create deployment withcmd deployment withcmd --image=busybox -- sleep 3600
check_create job job1 job job1 --image=busybox -- echo hello
check_create cronjob cj1 cronjob cj1 --image=busybox --schedule="*/5 * * * *" -- echo hi
check_create ingress ing1 ingress ing1 --rule="foo.com/bar=svc1:8080" --class=nginx
check_create serviceaccount sa1 serviceaccount sa1
check_create resourcequota q1 quota q1 --hard=cpu=1,memory=1G,pods=10
check_create poddisruptionbudget pdb1 poddisruptionbudget pdb1 --selector=app=x --min-available=1
check_create role r1 role r1 --verb=get,list --resource=pods
check_create rolebinding rb1 rolebinding rb1 --role=r1 --user=alice
check_cluster priorityclass priorityclass NAME --value=1000 --description=important
check_cluster clusterrole clusterrole NAME --verb=get --resource=nodes
check_cluster clusterrolebinding clusterrolebinding NAME --clusterrole=view --user=bob

# autoscale sends an autoscaling/v1 HorizontalPodAutoscaler in protobuf.
expect_out "autoscale (protobuf)" 'horizontalpodautoscaler.autoscaling/bootcamp autoscaled' \
  k -n pb autoscale deployment bootcamp --min=2 --max=5 --cpu-percent=80
k -n js autoscale deployment bootcamp --min=2 --max=5 --cpu-percent=80 --dry-run=client -o json >"$WORK/hpa.json"
k -n js create -f "$WORK/hpa.json" >/dev/null 2>&1
a=$(k -n pb get hpa.v1.autoscaling bootcamp -o json | $NORM)
b=$(k -n js get hpa.v1.autoscaling bootcamp -o json | $NORM)
expect_eq "hpa: protobuf object equals its JSON twin" "$b" "$a"
expect_out "hpa v2 view has the CPU metric" '80' \
  k -n pb get hpa.v2.autoscaling bootcamp -o jsonpath='{.spec.metrics[0].resource.target.averageUtilization}'

# The quota q1 above would require cpu and memory on the pods below (ResourceQuota admission).
k -n pb delete resourcequota q1 >/dev/null
# drain: cordon, then evict (policy/v1 Eviction, protobuf) or delete (DeleteOptions, protobuf).
cat >"$WORK/node.json" <<'JSON'
{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1","labels":{"kubernetes.io/hostname":"node-1"}}}
JSON
k create -f "$WORK/node.json" >/dev/null
for p in a b; do
  cat >"$WORK/pod-$p.json" <<JSON
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"on-node-$p","namespace":"pb"},
 "spec":{"nodeName":"node-1","containers":[{"name":"c","image":"busybox"}]}}
JSON
  k create -f "$WORK/pod-$p.json" >/dev/null
done
expect_out "drain evicts the node's pods" 'node/node-1 drained' \
  k drain node-1 --force --grace-period=0 --timeout=30s
expect_out "drain cordoned the node" 'true' k get node node-1 -o jsonpath='{.spec.unschedulable}'
expect_out "evicted pods are gone" 'No resources found' k -n pb get pods
k uncordon node-1 >/dev/null
k create -f "$WORK/pod-a.json" >/dev/null
expect_out "drain --disable-eviction deletes with protobuf DeleteOptions" 'node/node-1 drained' \
  k drain node-1 --force --grace-period=0 --disable-eviction --timeout=30s
expect_out "deleted pod is gone" 'No resources found' k -n pb get pods
finish
