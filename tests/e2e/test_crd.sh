#!/usr/bin/env bash
# CustomResourceDefinitions through the real kubectl: a CRD with a schema, printer columns, the
# status and scale subresources and two versions; its objects through every verb; restart; and
# deletion of the CRD taking its resources and objects with it.
source "$(dirname "$0")/lib.sh"
start_server || exit 1
cd "$FIXTURES"
CRD=crontabs.stable.example.com

echo "-- the CRD"
expect_out "apply the CRD" "customresourcedefinition.apiextensions.k8s.io/$CRD created" \
  k apply -f crontab-crd.yaml
expect_out "it is established" "condition met" \
  k wait --for condition=established --timeout=10s crd/$CRD
expect_out "get crd prints name and creation time" "^$CRD +20[0-9-]+T[0-9:]+Z$" k get crd
expect_out "short name crds" "^customresourcedefinition.apiextensions.k8s.io/$CRD$" k get crds -o name
expect_out "names accepted" '^True v1$' \
  k get crd $CRD -o jsonpath='{.status.conditions[?(@.type=="NamesAccepted")].status} {.status.storedVersions[0]}'
expect_out "api-resources lists crontabs" '^crontabs +ct +stable.example.com/v1 +true +CronTab$' \
  k api-resources --api-group=stable.example.com
expect_out "explain crontab.spec shows the schema" 'cronSpec.*<string> -required-' k explain crontab.spec
grep -q "A cron schedule." <<<"$LAST_OUT" && pass "explain shows descriptions" || fail "explain shows descriptions" "$LAST_OUT"
expect_err "a CRD named wrongly is rejected" \
  'metadata.name: Invalid value: "wrong.stable.example.com": must be spec.names.plural\+"."\+spec.group' \
  bash -c "sed 's/name: $CRD/name: wrong.stable.example.com/' crontab-crd.yaml | $KUBECTL apply -f -"
expect_err "two storage versions are rejected" \
  'spec.versions: Invalid value: .*must have exactly one version marked as storage version' \
  bash -c "sed 's/storage: false/storage: true/' crontab-crd.yaml | $KUBECTL apply -f -"

echo "-- custom objects"
expect_out "create with validation" '^crontab.stable.example.com/my-cron created$' k create -f crontab.yaml
expect_out "get prints the printer columns" '^my-cron +\* \* \* \* \*/5 +1 +[0-9]+s$' k get ct
head -1 <<<"$LAST_OUT" | grep -Eq '^NAME +SPEC +REPLICAS +AGE$' && pass "get header" || fail "get header" "$LAST_OUT"
expect_out "-o wide adds priority columns" '^my-cron +\* \* \* \* \*/5 +1 +my-image +[0-9]+s$' k get ct -o wide
expect_out "defaults filled" '^1 Slow$' k get ct my-cron -o jsonpath='{.spec.replicas} {.spec.mode}'
expect_out "list with a label selector" '^crontab.stable.example.com/my-cron$' k get ct -l app=cron -o name
expect_out "no match for another selector" 'No resources found' k get ct -l app=other
expect_out "field selector on a selectableField" '^crontab.stable.example.com/my-cron$' \
  k get ct --field-selector spec.mode=Slow -o name
expect_out "field selector excludes" 'No resources found' k get ct --field-selector spec.mode=Fast
expect_err "unknown field label is 400" 'field label not supported: spec.image' \
  k get ct --field-selector spec.image=x
expect_out "get through the other version" '^stable.example.com/v1beta1 my-cron$' \
  k get crontabs.v1beta1.stable.example.com my-cron -o jsonpath='{.apiVersion} {.metadata.name}'
expect_out "categories: get all includes it" 'crontab.stable.example.com/my-cron' k get all -o name

TOKEN=$(cat "$WORK/data/admin.token")
api() { curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$@"; }
URL=https://127.0.0.1:$PORT/apis/stable.example.com/v1/namespaces/default/crontabs
expect_eq "protobuf request bodies are 415" 415 \
  "$(api -X POST -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary 'k8s' "$URL")"
expect_eq "protobuf-only Accept is 406" 406 \
  "$(api -H 'Accept: application/vnd.kubernetes.protobuf' "$URL/my-cron")"
expect_eq "JSON is served" 200 \
  "$(api -H 'Accept: application/vnd.kubernetes.protobuf, application/json' "$URL/my-cron")"

echo "-- validation, pruning"
expect_err "schema violations are 422 with upstream messages" 'The CronTab "bad-cron" is invalid' \
  k create -f crontab-invalid.yaml
for want in 'spec.cronSpec: Invalid value: "every minute": spec.cronSpec in body should match' \
  'spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10' \
  'spec.mode: Unsupported value: "Turbo": supported values: "Fast", "Slow"'; do
  grep -qF "$want" <<<"$LAST_OUT" && pass "message: ${want%%:*}" || fail "message: $want" "$LAST_OUT"
done
expect_err "unknown fields fail strict validation" 'strict decoding error: unknown field "spec.bogus"' \
  k create -f crontab-unknown.yaml
expect_out "unknown fields are pruned without strict validation" 'created' \
  k create -f crontab-unknown.yaml --validate=false
expect_out "pruned, preserved, defaulted" '^\{"cronSpec":"\*/5 \* \* \* \*","extra":\{"kept":\{"deep":1\}\},"mode":"Slow","replicas":1\}$' \
  k get ct pruned-cron -o jsonpath='{.spec}'

echo "-- watch"
k get ct -w --output-watch-events >"$WORK/watch.out" 2>&1 &
WATCH_PID=$!
sleep 1
expect_out "label (merge patch)" 'labeled' k label ct my-cron tier=gold
for _ in $(seq 1 30); do grep -q MODIFIED "$WORK/watch.out" && break; sleep 0.1; done
kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null
grep -Eq '^ADDED +my-cron' "$WORK/watch.out" && pass "watch: ADDED" || fail "watch: ADDED" "$(cat "$WORK/watch.out")"
grep -Eq '^MODIFIED +my-cron' "$WORK/watch.out" && pass "watch: MODIFIED" || fail "watch: MODIFIED" "$(cat "$WORK/watch.out")"

echo "-- apply and patch"
expect_out "client-side apply configures" 'configured' \
  bash -c "sed 's/image: my-image/image: new-image/' crontab.yaml | $KUBECTL apply -f -"
expect_out "image changed, generation bumped" '^new-image 2$' \
  k get ct my-cron -o jsonpath='{.spec.image} {.metadata.generation}'
expect_out "server-side apply" 'serverside-applied' \
  bash -c "sed 's/name: my-cron/name: ssa-cron/' crontab.yaml | $KUBECTL apply --server-side --field-manager=e2e -f -"
expect_out "managedFields record the applier" '^e2e Apply$' \
  k get ct ssa-cron -o jsonpath='{.metadata.managedFields[0].manager} {.metadata.managedFields[0].operation}' --show-managed-fields
expect_out "patch --type merge" 'patched' k patch ct my-cron --type merge -p '{"spec":{"replicas":3}}'
expect_out "patch --type json" 'patched' k patch ct my-cron --type json -p '[{"op":"replace","path":"/spec/replicas","value":4}]'
expect_out "patches applied" '^4$' k get ct my-cron -o jsonpath='{.spec.replicas}'
expect_err "strategic merge patch is 415" 'unknown format - accepted media types include: application/json-patch\+json' \
  k patch ct my-cron -p '{"spec":{"replicas":5}}'
expect_err "a patch must still validate" 'spec.replicas in body should be less than or equal to 10' \
  k patch ct my-cron --type merge -p '{"spec":{"replicas":11}}'

echo "-- status and scale subresources"
expect_out "status patch" 'patched' k patch ct my-cron --subresource=status --type merge \
  -p '{"status":{"replicas":2,"selector":"app=cron"},"spec":{"replicas":9}}'
expect_out "status subresource ignores spec" '^4 2$' k get ct my-cron -o jsonpath='{.spec.replicas} {.status.replicas}'
expect_out "main resource ignores status" 'patched' k patch ct my-cron --type merge -p '{"spec":{"replicas":5},"status":{"replicas":8}}'
expect_out "status unchanged by the main resource" '^5 2$' k get ct my-cron -o jsonpath='{.spec.replicas} {.status.replicas}'
expect_out "kubectl scale" 'scaled' k scale ct my-cron --replicas=7
expect_out "scale wrote the spec path" '^7$' k get ct my-cron -o jsonpath='{.spec.replicas}'
expect_out "GET scale reads the CRD's paths" '"spec":\{"replicas":7\},"status":\{"replicas":2,"selector":"app=cron"\}' \
  k get --raw /apis/stable.example.com/v1/namespaces/default/crontabs/my-cron/scale

echo "-- changing the CRD"
expect_out "add a defaulted field to the schema" 'patched' k patch crd $CRD --type json -p \
  '[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/tier","value":{"type":"string","default":"gold"}}]'
ok=""
for _ in $(seq 1 30); do
  [ "$(k get ct my-cron -o jsonpath='{.spec.tier}' 2>/dev/null)" = gold ] && ok=1 && break
  sleep 0.1
done
[ -n "$ok" ] && pass "existing objects read with the new default" || fail "existing objects read with the new default" "$(k get ct my-cron -o yaml)"
expect_out "generation of the CRD bumped" '^2$' k get crd $CRD -o jsonpath='{.metadata.generation}'

echo "-- restart"
stop_server
start_server || exit 1
expect_out "objects and their resource survive a restart" '^my-cron +\* \* \* \* \*/5 +7 +[0-9]+s$' k get ct my-cron

echo "-- delete the CRD"
expect_out "delete crd" "customresourcedefinition.apiextensions.k8s.io \"$CRD\" deleted" k delete crd $CRD --timeout=20s
expect_err "resource gone" "(doesn.t have a resource type \"crontabs\"|the server could not find the requested resource)" k get crontabs
expect_err "a fresh kubectl does not know it" "doesn't have a resource type \"crontabs\"" \
  k get crontabs --cache-dir "$WORK/fresh-cache"
n=$(k api-resources 2>/dev/null | grep -c crontabs)
expect_eq "api-resources no longer lists it" 0 "$n"
expect_err "group gone" 'NotFound' k get --raw /apis/stable.example.com/v1
expect_out "recreate the CRD" 'created' k apply -f crontab-crd.yaml
expect_out "its old objects were deleted with it" 'No resources found' k get ct -A
finish
