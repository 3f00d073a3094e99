#!/usr/bin/env bash
# The lecture's kubectl session, and more, against a real berth server with the real kubectl.
source "$(dirname "$0")/lib.sh"
start_server || exit 1
cd "$FIXTURES"

echo "-- namespaces and discovery"
expect_out "version reports the server" 'Server Version: v1\.32\.' k version
expect_out "get namespace lists the built-in namespaces" 'default +Active' k get namespace
for ns in kube-system kube-public kube-node-lease; do
  grep -Eq "^$ns +Active" <<<"$LAST_OUT" && pass "namespace $ns exists" || fail "namespace $ns exists" "$LAST_OUT"
done
expect_out "api-resources lists pods with short name" '^pods +po +v1 +true +Pod' k api-resources
n=$(k api-resources --cache-dir "$WORK/fresh-cache" -v=6 2>&1 | grep -c 'GET https')
expect_eq "aggregated discovery: a cold api-resources makes two requests" 2 "$n"

grep -Eq '^deployments +deploy +apps/v1 +true +Deployment' <<<"$LAST_OUT" \
  && pass "api-resources lists deployments" || fail "api-resources lists deployments" "$LAST_OUT"
expect_out "cluster-info names the control plane" "Kubernetes control plane.* is running at .*https://127.0.0.1:$PORT" k cluster-info
expect_out "explain pod.spec shows fields" 'containers' k explain pod.spec
grep -q "KIND: *Pod" <<<"$LAST_OUT" && pass "explain names the kind" || fail "explain names the kind" "$LAST_OUT"

expect_out "auth can-i (SelfSubjectAccessReview)" '^yes$' k auth can-i create pods
expect_out "auth whoami (SelfSubjectReview)" 'system:admin' k auth whoami

echo "-- the lecture's pod and service"
expect_out "create -f pod.yml" '^pod/myapp created$' k create -f pod.yml
expect_out "get pod shows the pod" '^myapp +0/1 +Pending +0 +[0-9]+s$' k get pod
head -1 <<<"$LAST_OUT" | grep -Eq '^NAME +READY +STATUS +RESTARTS +AGE$' && pass "get pod header" || fail "get pod header" "$LAST_OUT"
expect_out "create -f service.yaml" '^service/myapp-service created$' k create -f service.yaml
expect_out "get services shows kubernetes" '^kubernetes +ClusterIP +10\.96\.0\.1 +<none> +443/TCP' k get services
grep -Eq '^myapp-service +NodePort +10\.[0-9.]+ +<none> +5000:3[0-9]{4}/TCP' <<<"$LAST_OUT" \
  && pass "get services shows the NodePort service" || fail "get services shows the NodePort service" "$LAST_OUT"
expect_out "describe pod myapp" '^Name: +myapp$' k describe pod myapp
for re in '^Namespace: +default$' '^Labels: +app=myapp$' '^Status: +Pending$' 'trxuk/clus-1999-app1:latest'; do
  grep -Eq "$re" <<<"$LAST_OUT" && pass "describe shows /$re/" || fail "describe shows /$re/" "$LAST_OUT"
done
expect_out "get pods -l app=myapp" '^myapp ' k get pods -l app=myapp
expect_out "get pods -l app!=myapp finds nothing" 'No resources found in default namespace' k get pods -l 'app!=myapp'
expect_out "get pods -l 'app in (myapp,x)'" '^myapp ' k get pods -l 'app in (myapp,x)'
expect_out "--field-selector status.phase=Pending" '^myapp ' k get pods --field-selector status.phase=Pending
expect_out "--field-selector metadata.name=other" 'No resources found' k get pods --field-selector metadata.name=other
expect_err "unsupported field selector is a BadRequest" 'field label not supported: spec.bogus' k get pods --field-selector spec.bogus=1
expect_out "get -o yaml has defaults" 'restartPolicy: Always' k get pod myapp -o yaml
for re in 'uid: ' 'resourceVersion: ' 'dnsPolicy: ClusterFirst' 'imagePullPolicy: Always' 'terminationMessagePath: /dev/termination-log'; do
  grep -q "$re" <<<"$LAST_OUT" && pass "yaml has $re" || fail "yaml has $re" "$LAST_OUT"
done
expect_out "get -o json parses" '"kind": "Pod"' k get pod myapp -o json
name=$(k get pod myapp -o jsonpath='{.metadata.name}/{.spec.containers[0].name}')
expect_eq "jsonpath output" "myapp/myapp" "$name"
expect_out "get -o wide has IP and NODE" '^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES' k get pods -o wide
expect_out "get -o name" '^pod/myapp$' k get pods -o name
expect_out "get all" 'service/kubernetes' k get all

echo "-- label, annotate, watch"
k get pods -w --output-watch-events >"$WORK/watch.out" 2>&1 &
watch_pid=$!
# Wait until the watch has printed the current state, so the changes below arrive as events.
for _ in $(seq 1 100); do grep -q '^ADDED' "$WORK/watch.out" 2>/dev/null && break; sleep 0.1; done
sleep 0.5
expect_out "label pod" '^pod/myapp labeled$' k label pod myapp tier=frontend
expect_out "show labels" 'app=myapp,tier=frontend' k get pods --show-labels
expect_out "-L column" '^myapp .* frontend$' k get pods -L tier
expect_out "annotate pod" '^pod/myapp annotated$' k annotate pod myapp note=hello
sleep 1.5
kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null
grep -Eq '^ADDED +myapp' "$WORK/watch.out" && pass "watch saw the pod" || fail "watch saw the pod" "$(cat "$WORK/watch.out")"
grep -Eq '^MODIFIED +myapp' "$WORK/watch.out" && pass "watch saw the update" || fail "watch saw the update" "$(cat "$WORK/watch.out")"
expect_out "label overwrite needs --overwrite" 'already has a value' bash -c "$KUBECTL label pod myapp tier=backend 2>&1; true"
expect_out "label removal" '^pod/myapp unlabeled$' k label pod myapp tier-

echo "-- apply (client-side and server-side), edit"
expect_out "apply creates" '^deployment.apps/web created$' k apply -f deploy.yaml
expect_out "apply again is unchanged" '^deployment.apps/web unchanged$' k apply -f deploy.yaml
sed 's/web:v1/web:v2/; s/value: blue/value: green/' deploy.yaml >"$WORK/deploy2.yaml"
expect_out "apply a change configures" '^deployment.apps/web configured$' k apply -f "$WORK/deploy2.yaml"
expect_out "the change is stored" 'registry.local/web:v2 green' k get deploy web -o jsonpath='{.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].value}'
expect_out "generation advanced" '^2$' k get deploy web -o jsonpath='{.metadata.generation}'
expect_out "get deploy columns" '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE' k get deploy
expect_out "scale deployment" 'deployment.apps/web scaled' k scale deploy web --replicas=5
expect_out "scale took effect" '^5$' k get deploy web -o jsonpath='{.spec.replicas}'
cat >"$WORK/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
data:
  color: blue
YAML
expect_out "server-side apply creates" '^configmap/ssa serverside-applied$' k apply --server-side -f "$WORK/cm.yaml"
expect_out "server-side apply again" '^configmap/ssa serverside-applied$' k apply --server-side -f "$WORK/cm.yaml"
expect_out "managedFields name the applier" 'kubectl' k get cm ssa -o jsonpath='{.metadata.managedFields[*].manager}'
k apply --server-side -f deploy.yaml >/dev/null 2>&1 || true
expect_out "patch by another manager" 'deployment.apps/web patched' \
  k patch deploy web --field-manager=other --type=merge -p '{"spec":{"replicas":7}}'
# The earlier client-side applies own image and env too, so several conflicts are reported.
expect_err "server-side apply reports conflicts" 'Apply failed with [0-9]+ conflicts?' \
  k apply --server-side -f deploy.yaml
grep -q 'with "other" using apps/v1' <<<"$LAST_OUT" && grep -q -- '\.spec\.replicas' <<<"$LAST_OUT" \
  && pass "the conflict names the other manager and field" \
  || fail "the conflict names the other manager and field" "$LAST_OUT"
expect_out "--force-conflicts takes ownership" 'serverside-applied' \
  k apply --server-side --force-conflicts -f deploy.yaml
expect_out "forced value applied" '^2$' k get deploy web -o jsonpath='{.spec.replicas}'
expect_out "set image" 'deployment.apps/web image updated' k set image deploy/web web=registry.local/web:v3
KUBE_EDITOR="sed -i s/color:\ blue/color:\ red/" expect_out "edit via KUBE_EDITOR" '^configmap/ssa edited$' k edit cm ssa
expect_out "edit took effect" '^red$' k get cm ssa -o jsonpath='{.data.color}'

echo "-- events: events.k8s.io/v1 and core/v1 are one stored object"
expect_out "create an events.k8s.io/v1 Event" 'event.events.k8s.io/ev1 created' k create -f event-v1.yaml
expect_out "core/v1 view of it" 'hello from events.k8s.io myapp berth/test' \
  k get events.v1. ev1 -o jsonpath='{.message} {.involvedObject.name} {.reportingComponent}'
expect_out "get events table" 'Normal +Tested +pod/myapp +hello from events.k8s.io' k get events
expect_out "field selector on involvedObject" 'ev1' \
  k get events.v1. --field-selector involvedObject.name=myapp -o name

echo "-- delete"
expect_out "delete pod" '^pod "myapp" deleted$' k delete pod myapp
expect_err "deleted pod is gone" 'NotFound.*pods "myapp" not found' k get pod myapp
expect_out "delete -f service" 'service "myapp-service" deleted' k delete -f service.yaml
expect_out "create namespace" 'namespace/team-a created' k create namespace team-a
expect_out "create in namespace" 'configmap/c1 created' k -n team-a create configmap c1 --from-literal=a=b
expect_out "delete namespace" 'namespace "team-a" deleted' k delete namespace team-a --timeout=30s
expect_err "namespace is gone" 'NotFound' k get namespace team-a
finish
