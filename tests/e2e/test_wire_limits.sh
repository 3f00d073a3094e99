#!/usr/bin/env bash
# The wire as upstream draws it: size and nesting limits, bad query values, methods and
# server-side apply preconditions answer upstream's codes, reasons and messages; responses end
# with a newline and come in the media type asked for (JSON, YAML, protobuf, 406 otherwise).
source "$(dirname "$0")/lib.sh"
start_server || exit 1
TOKEN=$(cat "$WORK/data/admin.token")
BASE=https://127.0.0.1:$PORT

# api METHOD PATH [CONTENT-TYPE BODY-FILE] [ACCEPT]: sets CODE and BODY (saved in $WORK/body).
api() {
  local method=$1 path=$2 ct=${3:-} file=${4:-} accept=${5:-application/json}
  local args=(-sk -o "$WORK/body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $TOKEN"
    -H "Accept: $accept")
  [ -n "$ct" ] && args+=(-H "Content-Type: $ct" --data-binary "@$file")
  CODE=$(curl "${args[@]}" "$BASE$path")
  BODY=$(tr -d '\0' <"$WORK/body")
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/body" "$1"; }
# expect_status NAME CODE REASON MESSAGE-REGEX (after an api call)
expect_status() {
  local got_reason got_msg
  got_reason=$(field reason 2>/dev/null); got_msg=$(field message 2>/dev/null)
  if [ "$CODE" == "$2" ] && [ "$got_reason" == "$3" ] && grep -Eq -- "$4" <<<"$got_msg"; then
    pass "$1"
  else
    fail "$1" "want $2 $3 /$4/, got $CODE: $BODY"
  fi
}

# ---- sizes
python3 -c 'import json; print(json.dumps({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"x"*(3*1024*1024)}}))' >"$WORK/3m.json"
api POST /api/v1/namespaces/default/configmaps application/json "$WORK/3m.json"
expect_status "body over 3 MiB is 413" 413 RequestEntityTooLarge '^Request entity too large: limit is 3145728$'
# Endpoints have no size rule of their own: 100,000 addresses pass validation, not etcd's limit.
python3 -c 'import json; print(json.dumps({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"big"},"subsets":[{"addresses":[{"ip":"10.%d.%d.%d" % (i>>16, (i>>8)&255, i&255)} for i in range(100000)]}]}))' >"$WORK/1600k.json"
api POST /api/v1/namespaces/default/endpoints application/json "$WORK/1600k.json"
expect_status "stored object over 1.5 MiB is 413 as etcd's limit" 413 RequestEntityTooLarge '^etcdserver: request is too large$'
api POST "/api/v1/namespaces/default/endpoints?dryRun=All" application/json "$WORK/1600k.json"
expect_eq "a dry run never meets etcd's limit" 201 "$CODE"
api GET /api/v1/namespaces/default/endpoints/big
expect_eq "the oversize object was not stored" 404 "$CODE"

# ---- JSON nesting: Go's decoder stops at 10000 levels
python3 -c 'd=9990; print("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"deep\"},\"x\":" + "["*d + "]"*d + "}")' >"$WORK/deep-ok.json"
python3 -c 'd=10001; print("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"deeper\"},\"x\":" + "["*d + "]"*d + "}")' >"$WORK/deep-bad.json"
api POST /api/v1/namespaces/default/configmaps application/json "$WORK/deep-ok.json"
expect_eq "nesting below Go's limit is decoded (unknown field dropped)" 201 "$CODE"
api POST /api/v1/namespaces/default/configmaps application/json "$WORK/deep-bad.json"
expect_status "nesting past 10000 is 400" 400 BadRequest 'exceeded max depth'

# ---- generateName leaves room for the 5-character suffix
GEN=$(printf 'g%.0s' $(seq 1 70))
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"%s"}}' "$GEN" >"$WORK/gen.json"
api POST /api/v1/namespaces/default/configmaps application/json "$WORK/gen.json"
NAME=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["name"])' "$WORK/body")
expect_eq "generateName is cut to 58 characters plus the suffix" "201 63 ${GEN:0:58}" "$CODE ${#NAME} ${NAME:0:58}"

# ---- methods
api DELETE /api/v1/pods
expect_status "cluster-wide deletecollection of pods is 405" 405 MethodNotAllowed '^the server does not allow this method on the requested resource$'
api DELETE "/api/v1/namespaces?labelSelector=wire-test%3Dnone"
expect_eq "deletecollection of a cluster-scoped resource is routed" 200 "$CODE"

# ---- bad query values
for q in "limit=10abc" "timeoutSeconds=abc"; do
  api GET "/api/v1/namespaces/default/configmaps?$q"
  expect_status "list ?$q is 400" 400 BadRequest "^strconv.ParseInt: parsing \"${q#*=}\": invalid syntax$"
done
api DELETE "/api/v1/namespaces/default/configmaps/nope?gracePeriodSeconds=x"
expect_status "delete ?gracePeriodSeconds=x is 400" 400 BadRequest '^strconv.ParseInt: parsing "x": invalid syntax$'
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry"}}' >"$WORK/dry.json"
api POST "/api/v1/namespaces/default/configmaps?dryRun=bogus" application/json "$WORK/dry.json"
expect_status "dryRun=bogus is Invalid as upstream validates CreateOptions" 422 Invalid \
  '^CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: \[\]string\{"bogus"\}: supported values: "All"$'
api POST "/api/v1/namespaces/default/configmaps?dryRun=All" application/json "$WORK/dry.json"
expect_eq "dryRun=All is accepted" 201 "$CODE"

# ---- server-side apply preconditions
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: b\n' >"$WORK/ssa.yaml"
api PATCH /api/v1/namespaces/default/configmaps/ssa application/apply-patch+yaml "$WORK/ssa.yaml"
expect_status "apply without fieldManager is Invalid" 422 Invalid \
  '^PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch$'
printf 'metadata:\n  name: ssa\ndata:\n  a: b\n' >"$WORK/ssa-bare.yaml"
api PATCH "/api/v1/namespaces/default/configmaps/ssa?fieldManager=t" application/apply-patch+yaml "$WORK/ssa-bare.yaml"
expect_status "apply without apiVersion is 400" 400 BadRequest \
  '^Incorrect version specified in apply patch. Specified patch version: , expected: v1$'
printf 'apiVersion: v1\nmetadata:\n  name: ssa\n' >"$WORK/ssa-nokind.yaml"
api PATCH "/api/v1/namespaces/default/configmaps/ssa?fieldManager=t" application/apply-patch+yaml "$WORK/ssa-nokind.yaml"
expect_status "apply without kind is 400" 400 BadRequest "^Object 'Kind' is missing in"
api PATCH "/api/v1/namespaces/default/configmaps/ssa?fieldManager=t" application/apply-patch+yaml "$WORK/ssa.yaml"
expect_out "apply with fieldManager, apiVersion and kind creates" '^20[01]$' echo "$CODE"

# ---- newline endings and negotiation
api GET /api/v1/namespaces/default/configmaps/ssa
expect_eq "a get ends with a newline" "0a" "$(tail -c1 "$WORK/body" | od -An -tx1 | tr -d ' ')"
api GET /api/v1/namespaces/default/configmaps
expect_eq "a list ends with a newline" "0a" "$(tail -c1 "$WORK/body" | od -An -tx1 | tr -d ' ')"
api GET /api/v1/namespaces/default/configmaps/nope
expect_eq "a Status ends with a newline" "404 0a" "$CODE $(tail -c1 "$WORK/body" | od -An -tx1 | tr -d ' ')"
api GET /apis
expect_eq "discovery ends with a newline" "0a" "$(tail -c1 "$WORK/body" | od -An -tx1 | tr -d ' ')"
api GET /apis "" "" "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
expect_eq "aggregated discovery ends with a newline" "0a" "$(tail -c1 "$WORK/body" | od -An -tx1 | tr -d ' ')"
api GET /api/v1/namespaces/default/configmaps/ssa "" "" application/yaml
expect_out "YAML when asked" '^  a: b$' cat "$WORK/body"
api GET /api/v1/namespaces/default/configmaps/ssa "" "" "text/html, application/yaml;q=0.5"
expect_out "q-values pick what the server can serve" '^kind: ConfigMap$' cat "$WORK/body"
api GET /api/v1/namespaces/default/configmaps/ssa "" "" "text/html"
expect_status "nothing acceptable is 406" 406 NotAcceptable '^only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf$'
api GET /api/v1/namespaces/default/configmaps/ssa "" "" "application/vnd.kubernetes.protobuf, application/json"
expect_eq "protobuf when asked (k8s envelope)" "6b387300" "$(head -c4 "$WORK/body" | od -An -tx1 | tr -d ' ')"
expect_ok "kubectl reads objects as before" k get configmap ssa -o yaml

finish
