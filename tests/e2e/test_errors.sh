#!/usr/bin/env bash
# Errors as kubectl prints them against upstream, and the server keeps serving afterwards.
source "$(dirname "$0")/lib.sh"
start_server || exit 1
cd "$FIXTURES"

k create -f pod.yml >/dev/null
expect_err "duplicate create is AlreadyExists" \
  'Error from server \(AlreadyExists\): error when creating "pod.yml": pods "myapp" already exists' \
  k create -f pod.yml
expect_err "missing object is NotFound" 'Error from server \(NotFound\): pods "nope" not found' \
  k get pod nope
expect_err "missing namespace is NotFound" 'namespaces "nowhere" not found' \
  k -n nowhere create configmap x --from-literal=a=b

sed '0,/name: myapp$/s//name: Bad_Name/' pod.yml >"$WORK/badname.yml"
expect_err "bad name is Invalid with the field" \
  'The Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain' \
  k create -f "$WORK/badname.yml"

sed 's/app: myapp/app: "bad value!"/' pod.yml | sed 's/name: myapp$/name: badlabel/' >"$WORK/badlabel.yml"
expect_err "bad label value is Invalid" \
  'is invalid: metadata.labels: Invalid value: "bad value!"' \
  k create -f "$WORK/badlabel.yml"

sed 's/image: /imagex: /' pod.yml | sed 's/name: myapp$/name: badfield/' >"$WORK/badfield.yml"
expect_err "unknown field with --validate=strict" \
  'unknown field "spec.containers\[0\].imagex"' \
  k create --validate=strict -f "$WORK/badfield.yml"

cat >"$WORK/noimage.yml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: noimage
spec:
  containers:
    - name: c
YAML
expect_err "missing required field is Invalid" \
  'spec.containers\[0\].image: Required value' k create -f "$WORK/noimage.yml"

# Stale update: replace with an object whose resourceVersion is no longer current.
k get pod myapp -o yaml >"$WORK/stale.yaml"
k label pod myapp bump=1 >/dev/null
expect_err "stale update is Conflict" \
  'Error from server \(Conflict\): error when replacing ".*stale.yaml": Operation cannot be fulfilled on pods "myapp": the object has been modified; please apply your changes to the latest version and try again' \
  k replace -f "$WORK/stale.yaml"

# Anonymous requests are system:anonymous (upstream's --anonymous-auth), which RBAC refuses.
expect_err "no credentials is system:anonymous, Forbidden" \
  '"message":"pods is forbidden: User \\"system:anonymous\\" cannot list resource \\"pods\\" in API group \\"\\" at the cluster scope","reason":"Forbidden"' \
  curl -sk --fail-with-body "https://127.0.0.1:$PORT/api/v1/pods"
expect_err "wrong token is Unauthorized" 'Unauthorized' \
  k --token=wrong get pods

# Malformed bodies.
TOKEN=$(cat "$WORK/data/admin.token")
api() { curl -sk -H "Authorization: Bearer $TOKEN" "$@"; }
out=$(api -X POST -H 'Content-Type: application/json' -d '{"kind":' "https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps")
grep -q '"code":400' <<<"$out" && pass "truncated JSON is 400" || fail "truncated JSON is 400" "$out"
out=$(api -X POST -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary 'k8s\x00garbage' "https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps")
grep -q '"code":400' <<<"$out" && pass "bad protobuf is 400" || fail "bad protobuf is 400" "$out"
out=$(api -X PATCH -H 'Content-Type: application/json-patch+json' -d '[{"op":"remove","path":"/nope/x"}]' "https://127.0.0.1:$PORT/api/v1/namespaces/default/pods/myapp")
grep -Eq '"code":(422|400)' <<<"$out" && pass "bad JSON patch is rejected" || fail "bad JSON patch is rejected" "$out"
out=$(api -X PATCH -H 'Content-Type: text/plain' -d 'x' "https://127.0.0.1:$PORT/api/v1/namespaces/default/pods/myapp")
grep -q '"code":415' <<<"$out" && pass "unknown patch type is 415" || fail "unknown patch type is 415" "$out"
out=$(api "https://127.0.0.1:$PORT/api/v1/namespaces/default/pods?labelSelector=a%20in%20(" )
grep -q '"code":400' <<<"$out" && pass "bad label selector is 400" || fail "bad label selector is 400" "$out"
out=$(api "https://127.0.0.1:$PORT/api/v1/namespaces/default/pods?watch=1&resourceVersion=1&timeoutSeconds=2")
grep -q '"type":"ADDED"' <<<"$out" && pass "watch from an old revision still in history replays it" || fail "watch from an old revision still in history replays it" "$out"

# After a restart the watch cache holds no history before its snapshot: too old → 410 Expired.
stop_server
start_server || exit 1
out=$(api "https://127.0.0.1:$PORT/api/v1/namespaces/default/pods?watch=1&resourceVersion=1&timeoutSeconds=2")
grep -q '"type":"ERROR"' <<<"$out" && grep -q '"code":410' <<<"$out" && grep -q '"reason":"Expired"' <<<"$out" \
  && pass "watch from a revision older than the history is 410 Expired" \
  || fail "watch from a revision older than the history is 410 Expired" "$out"

expect_out "server still serves" '^myapp ' k get pods
finish
