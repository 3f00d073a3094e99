#!/usr/bin/env bash
# The lecture's commands with every kubectl we can find, each binary run directly (not through
# the /usr/bin/kubectl dispatcher, which would pick the version matching the server's):
#  - Debian 12's own kubectl 1.20 (package kubernetes-client), downloaded with apt and extracted
#    beside the installed one; it conflicts with /usr/bin/kubectl, so it is never installed.
#    If it cannot be downloaded the test fails: it is the version most likely to break.
#  - every /usr/lib/google-cloud-sdk/bin/kubectl.1.NN present.
# kubectl 1.20–1.28 read /openapi/v2 in gnostic protobuf for apply, explain and validation;
# each version gets its own namespace and cache dir, so each downloads the documents itself.
source "$(dirname "$0")/lib.sh"
cd "$FIXTURES"

kubectls=()
if deb=$(debian_kubectl) && [ -x "$deb" ]; then
  kubectls+=("$deb")
  pass "Debian's kubectl (kubernetes-client) is available at $deb"
else
  fail "apt-get download kubernetes-client (Debian's kubectl 1.20) failed; the oldest supported kubectl cannot be tested"
fi
for k in /usr/lib/google-cloud-sdk/bin/kubectl.1.*; do
  [ -x "$k" ] && kubectls+=("$k")
done
[ "${#kubectls[@]}" -ge 2 ] && pass "found ${#kubectls[@]} kubectl versions" \
  || fail "found only ${#kubectls[@]} kubectl versions" "${kubectls[*]:-none}"

# Without the workload controllers: each round ends by checking that deleting what it created
# leaves nothing, and their ReplicaSets and pods would outlive the Deployments until collected.
start_server --controllers '*,-deployment,-replicaset' || exit 1
TOKEN=$(awk '/token:/ {print $2}' "$KUBECONFIG")
API=https://127.0.0.1:$PORT

echo "-- /openapi/v2 on the wire"
proto=application/com.github.proto-openapi.spec.v2@v1.0+protobuf
# As kubectl asks: Go's transport adds "Accept-Encoding: gzip".
hdrs=$(curl -sk -o "$WORK/v2.pb.gz" -D - -H "Authorization: Bearer $TOKEN" -H "Accept: $proto" \
  -H "Accept-Encoding: gzip" "$API/openapi/v2")
grep -qi '^content-type: application/com.github.proto-openapi.spec.v2.v1.0+protobuf' <<<"$hdrs" \
  && pass "protobuf Accept gets the protobuf form" || fail "protobuf Accept gets the protobuf form" "$hdrs"
grep -qi '^content-encoding: gzip' <<<"$hdrs" && gzip -dc "$WORK/v2.pb.gz" >"$WORK/v2.pb" \
  && pass "gzip-compressed for a client that takes gzip" || fail "gzip-compressed for a client that takes gzip" "$hdrs"
# Document.swagger (field 1) = "2.0": the body starts 0a 03 "2.0".
[ "$(head -c 5 "$WORK/v2.pb" | od -An -tx1 | tr -d ' \n')" == "0a03322e30" ] \
  && pass "body is a gnostic Document" || fail "body is a gnostic Document" "$(head -c 32 "$WORK/v2.pb" | od -An -tx1)"
etag=$(tr -d '\r' <<<"$hdrs" | awk -F': ' 'tolower($1)=="etag" {print $2}')
code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "Accept: $proto" \
  -H "If-None-Match: $etag" "$API/openapi/v2")
expect_eq "If-None-Match with the ETag answers 304" 304 "$code"
code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "Accept: text/html" "$API/openapi/v2")
expect_eq "an unservable Accept answers 406" 406 "$code"

# minor_of KUBECTL: "27" for kubectl.1.27; Debian's binary is plain "kubectl", 1.20.
minor_of() {
  local m
  m=$(basename "$1" | sed -n 's/^kubectl\.1\.\([0-9]*\)$/\1/p')
  echo "${m:-20}"
}

# run_lecture KUBECTL: the lecture's session in a namespace of its own.
run_lecture() {
  local kc=$1 minor ns
  minor=$(minor_of "$kc")
  ns=v1-$minor
  local cache=$WORK/cache-$minor
  k() { "$kc" --cache-dir "$cache" -n "$ns" "$@"; }
  echo "-- kubectl 1.$minor ($kc)"
  expect_out "1.$minor: client version" "v1\\.$minor\\." k version --client
  expect_out "1.$minor: create namespace" "namespace/$ns created" k create namespace "$ns"
  expect_out "1.$minor: create -f pod.yml (validated)" '^pod/myapp created$' k create -f pod.yml
  expect_out "1.$minor: create -f service.yaml" '^service/myapp-service created$' k create -f service.yaml
  expect_out "1.$minor: get pod" '^myapp +0/1 +Pending +0 ' k get pod
  expect_out "1.$minor: get services" '^myapp-service +NodePort +10\.[0-9.]+ +<none> +5000:3[0-9]{4}/TCP' k get services
  expect_out "1.$minor: describe pod" '^Labels: +app=myapp$' k describe pod myapp
  expect_out "1.$minor: label" '^pod/myapp labeled$' k label pod myapp tier=frontend
  expect_out "1.$minor: get pods -l" '^myapp ' k get pods -l app=myapp,tier=frontend
  # Validation: 1.20 checks client-side against /openapi/v2, newer ones leave it to the server.
  sed 's/^spec:/spec:\n  bogusField: 1/; s/name: myapp$/name: bad/' pod.yml >"$WORK/bad-$minor.yml"
  expect_err "1.$minor: create -f with an unknown field is rejected" 'unknown field "(spec\.)?bogusField"' \
    k create -f "$WORK/bad-$minor.yml"
  expect_out "1.$minor: apply creates" '^deployment.apps/web created$' k apply -f deploy.yaml
  expect_out "1.$minor: apply unchanged" '^deployment.apps/web unchanged$' k apply -f deploy.yaml
  sed 's/value: blue/value: green/' deploy.yaml >"$WORK/deploy-$minor.yaml"
  expect_out "1.$minor: apply configured" '^deployment.apps/web configured$' k apply -f "$WORK/deploy-$minor.yaml"
  expect_out "1.$minor: apply merged the env by name" '^MODE=green$' \
    k get deploy web -o 'jsonpath={range .spec.template.spec.containers[0].env[*]}{.name}={.value}{end}'
  sed 's/name: web$/name: web-ssa/' deploy.yaml >"$WORK/ssa-$minor.yaml"
  expect_out "1.$minor: apply --server-side" '^deployment.apps/web-ssa serverside-applied$' \
    k apply --server-side -f "$WORK/ssa-$minor.yaml"
  expect_out "1.$minor: explain pod.spec" 'containers' k explain pod.spec
  grep -Eq 'KIND: +Pod' <<<"$LAST_OUT" && pass "1.$minor: explain names the kind" \
    || fail "1.$minor: explain names the kind" "$LAST_OUT"
  expect_out "1.$minor: scale" 'deployment.apps/web scaled' k scale deploy web --replicas=3
  expect_out "1.$minor: scale took effect" '^3$' k get deploy web -o 'jsonpath={.spec.replicas}'
  expect_out "1.$minor: api-resources" '^deployments +deploy +apps/v1 +true +Deployment' k api-resources
  expect_out "1.$minor: delete pod" '^pod "myapp" deleted' k delete pod myapp
  expect_out "1.$minor: delete -f service.yaml" 'service "myapp-service" deleted' k delete -f service.yaml
  expect_out "1.$minor: delete deployments" 'deployment.apps "web-ssa" deleted' k delete deploy web web-ssa
  expect_out "1.$minor: nothing left" 'No resources found' k get pods,services,deployments
}

# Sessions run KUBECTL_VERSIONS_JOBS at a time (default 2), each in a subshell with its own
# counters and output file; the outputs are printed in version order and their counts added up.
# A session that ends without its closing line counts as a failure.
jobs_max=${KUBECTL_VERSIONS_JOBS:-2}
pids=()
running() {
  local n=0 p
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done
  echo "$n"
}
for kc in "${kubectls[@]}"; do
  while [ "$(running)" -ge "$jobs_max" ]; do sleep 0.1; done
  (PASSED=0 FAILED=0; run_lecture "$kc"; echo "session-end $PASSED $FAILED") \
    >"$WORK/session-$(minor_of "$kc").out" 2>&1 &
  pids+=("$!")
done
for p in "${pids[@]}"; do wait "$p"; done
for kc in "${kubectls[@]}"; do
  out=$WORK/session-$(minor_of "$kc").out
  grep -v '^session-end ' "$out"
  counts=$(grep '^session-end ' "$out")
  if [ -n "$counts" ]; then
    read -r _ np nf <<<"$counts"
    PASSED=$((PASSED + np)) FAILED=$((FAILED + nf))
  else
    fail "1.$(minor_of "$kc"): the session did not complete"
  fi
done

# A client's second run revalidates its cached documents (If-None-Match → 304, or a v3 URL
# whose ?hash= marks it immutable) instead of downloading them again: the oldest kubectl reads
# /openapi/v2, the newest /openapi/v3.
[ "${#kubectls[@]}" -gt 0 ] && for kc in "${kubectls[0]}" "${kubectls[-1]}"; do
  minor=$(minor_of "$kc")
  "$kc" --cache-dir "$WORK/cache-$minor" explain pod -v=8 >"$WORK/explain2.log" 2>&1
  grep -v 'Response Body' "$WORK/explain2.log" | grep -A16 'GET.*https://.*/openapi/v[23]' \
    | grep -q 'X-From-Cache: 1' \
    && pass "1.$minor: a repeated explain takes the OpenAPI documents from its HTTP cache" \
    || fail "1.$minor: a repeated explain takes the OpenAPI documents from its HTTP cache" \
      "$(grep -i 'openapi' "$WORK/explain2.log" | head)"
done

finish
