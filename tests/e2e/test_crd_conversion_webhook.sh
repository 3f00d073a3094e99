#!/usr/bin/env bash
# CRD webhook conversion end to end with the real kubectl and an HTTPS conversion webhook this
# test runs on 127.0.0.1 (a CA it makes, the `url` form): Widgets are v1 {spec.hostPort: "h:p"}
# and v2 {spec.host, spec.port}. Upstream's spec.conversion validation; create in v2 while v1
# stores; get, list (one review for the whole list) and watch in both versions; merge patch,
# status patch, server-side apply and replace through v2; objects kept in an older storage version
# converted on read; and a stopped webhook answering upstream's 500 "conversion webhook for ...
# failed".
source "$(dirname "$0")/lib.sh"

make_webhook_tls conversion-test-ca 127.0.0.1 IP:127.0.0.1
start_webhook_fixture conversion_webhook_server.py
start_server || exit 1

crd() {  # STORAGE-VERSION URL [REVIEW-VERSIONS]
  local v1=false v2=false
  [ "$1" = v1 ] && v1=true
  [ "$1" = v2 ] && v2=true
  cat <<JSON
{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
 "metadata":{"name":"widgets.conv.example.com"},
 "spec":{"group":"conv.example.com","scope":"Namespaced",
  "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
  "conversion":{"strategy":"Webhook","webhook":{"conversionReviewVersions":${3:-[\"v1\"]},
    "clientConfig":{"url":"$2","caBundle":"$CA"}}},
  "versions":[
   {"name":"v1","served":true,"storage":$v1,"subresources":{"status":{}},
    "schema":{"openAPIV3Schema":{"type":"object","properties":{
     "spec":{"type":"object","properties":{"hostPort":{"type":"string"}}},
     "status":{"type":"object","properties":{"ready":{"type":"boolean"}}}}}}},
   {"name":"v2","served":true,"storage":$v2,"subresources":{"status":{}},
    "schema":{"openAPIV3Schema":{"type":"object","properties":{
     "spec":{"type":"object","properties":{"host":{"type":"string"},"port":{"type":"integer"}}},
     "status":{"type":"object","properties":{"ready":{"type":"boolean"}}}}}}}]}}
JSON
}
URL="https://127.0.0.1:$HOOK_PORT/convert"
V1=widgets.v1.conv.example.com
V2=widgets.v2.conv.example.com
reviews() { wc -l <"$WORK/hook.log" 2>/dev/null || echo 0; }

echo "== validation"
expect_err "an http url is refused with upstream's message" \
  "spec.conversion.webhookClientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host\[/path\]" \
  bash -c "$(declare -f crd); CA=$CA crd v1 http://127.0.0.1:1/convert | $KUBECTL create -f -"
expect_err "review versions must include one the server speaks" \
  'spec.conversion.conversionReviewVersions: Invalid value: \[\]string\{"v9"\}: must include at least one of v1, v1beta1' \
  bash -c "$(declare -f crd); CA=$CA crd v1 $URL '[\"v9\"]' | $KUBECTL create -f -"

echo "== create in v2 while v1 stores"
crd v1 "$URL" | k create -f - >/dev/null
k wait --for condition=established crd/widgets.conv.example.com --timeout=10s >/dev/null
k create -f - >/dev/null <<'JSON' || fail "create w1 in v2"
{"apiVersion":"conv.example.com/v2","kind":"Widget","metadata":{"name":"w1","namespace":"default"},
 "spec":{"host":"a","port":80}}
JSON
expect_eq "v1 shows the stored shape" "conv.example.com/v1 a:80" \
  "$(k get $V1 w1 -o jsonpath='{.apiVersion} {.spec.hostPort}')"
expect_eq "v2 shows the converted shape" "conv.example.com/v2 a:80 <none>" \
  "$(k get $V2 w1 -o jsonpath='{.apiVersion} {.spec.host}:{.spec.port} {.spec.hostPort}' | sed 's/ $/ <none>/')"
expect_out "the webhook was asked for v1 on create, in a v1 ConversionReview" \
  '"review": "apiextensions.k8s.io/v1", "desired": "conv.example.com/v1", "from": \["conv.example.com/v2"\], "names": \["w1"\]' \
  cat "$WORK/hook.log"

echo "== conversion calls per write"
# Upstream holds a custom object in the request's version through the write: one review encodes
# it for storage and one decodes the stored object for the answer; an update decodes the old
# object too. Validation in the request's version costs nothing more.
W=/apis/conv.example.com/v2/namespaces/default/widgets
before=$(reviews)
k create --raw $W -f - >/dev/null <<'JSON' || fail "create wc in v2"
{"apiVersion":"conv.example.com/v2","kind":"Widget","metadata":{"name":"wc","namespace":"default"},
 "spec":{"host":"x","port":1}}
JSON
expect_eq "a create in v2 costs two reviews" 2 "$(( $(reviews) - before ))"
rv=$(k get $V1 wc -o jsonpath='{.metadata.resourceVersion}')
before=$(reviews)
k replace --raw $W/wc -f - >/dev/null <<JSON || fail "replace wc in v2"
{"apiVersion":"conv.example.com/v2","kind":"Widget",
 "metadata":{"name":"wc","namespace":"default","resourceVersion":"$rv"},"spec":{"host":"y","port":2}}
JSON
expect_eq "a replace in v2 costs three (the old object too)" 3 "$(( $(reviews) - before ))"
before=$(reviews)
expect_ok "merge patch of wc in v2" k patch $V2 wc --type=merge -p '{"spec":{"port":3}}'
# kubectl patch GETs the object first (one review of its own), then PATCHes.
expect_eq "a patch in v2 costs three (and kubectl's GET one)" 4 "$(( $(reviews) - before ))"
expect_eq "the writes arrived" "y:3" "$(k get $V1 wc -o jsonpath='{.spec.hostPort}')"
answer=$(k create --raw $W -f - <<'JSON'
{"apiVersion":"conv.example.com/v2","kind":"Widget","metadata":{"name":"wd","namespace":"default",
 "labels":{"a":"b"}},"spec":{"host":"z","port":4}}
JSON
)
expect_eq "a create answers in the request's version, with what the server set" \
  "conv.example.com/v2 z:4 {'a': 'b'} rv=True uid=True" \
  "$(python3 -c 'import json,sys; o=json.loads(sys.argv[1]); m=o["metadata"]
print(o["apiVersion"], "%s:%s" % (o["spec"]["host"], o["spec"]["port"]), m.get("labels"),
      "rv=%s" % bool(m.get("resourceVersion")), "uid=%s" % bool(m.get("uid")))' "$answer")"
expect_ok "delete wc" k delete $V1 wc wd

echo "== list and watch in both versions"
k create -f - >/dev/null <<'JSON' || fail "create w2 in v1"
{"apiVersion":"conv.example.com/v1","kind":"Widget","metadata":{"name":"w2","namespace":"default"},
 "spec":{"hostPort":"b:81"}}
JSON
before=$(reviews)
expect_eq "a v2 list converts every item" "w1=a:80 w2=b:81 " \
  "$(k get $V2 -o jsonpath='{range .items[*]}{.metadata.name}={.spec.host}:{.spec.port} {end}')"
expect_eq "in one review for the list" "1 [\"w1\", \"w2\"]" \
  "$(( $(reviews) - before )) $(tail -1 "$WORK/hook.log" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["names"]))')"
expect_eq "a v1 list needs no conversion" "w1=a:80 w2=b:81 " \
  "$(k get $V1 -o jsonpath='{range .items[*]}{.metadata.name}={.spec.hostPort} {end}')"
expect_out "a v2 table list shows the converted objects" 'w2 ' k get $V2
timeout 20 "$KUBECTL" get $V2 -w --output-watch-events \
  -o jsonpath='{.type} {.object.metadata.name}={.object.spec.host}:{.object.spec.port}{"\n"}' \
  >"$WORK/watch2.out" 2>&1 &
W2=$!
timeout 20 "$KUBECTL" get $V1 -w --output-watch-events \
  -o jsonpath='{.type} {.object.metadata.name}={.object.spec.hostPort}{"\n"}' >"$WORK/watch1.out" 2>&1 &
W1=$!
sleep 1

echo "== patch, status, apply through v2"
expect_ok "merge patch in v2" k patch $V2 w2 --type=merge -p '{"spec":{"port":82}}'
expect_eq "stored in v1 after the webhook" "b:82" "$(k get $V1 w2 -o jsonpath='{.spec.hostPort}')"
expect_ok "status patch in v2" k patch $V2 w2 --subresource=status --type=merge -p '{"status":{"ready":true}}'
expect_eq "status kept, spec untouched" "true b:82" \
  "$(k get $V1 w2 -o jsonpath='{.status.ready} {.spec.hostPort}')"
cat >"$WORK/w3.yaml" <<'YAML'
apiVersion: conv.example.com/v2
kind: Widget
metadata: {name: w3, namespace: default}
spec: {host: c, port: 83}
YAML
expect_ok "server-side apply creates in v2" k apply --server-side -f "$WORK/w3.yaml"
sed -i 's/port: 83/port: 84/' "$WORK/w3.yaml"
expect_ok "and applies a change" k apply --server-side -f "$WORK/w3.yaml"
expect_eq "applied through the webhook" "c:84" "$(k get $V1 w3 -o jsonpath='{.spec.hostPort}')"
expect_ok "replace (PUT) in v2" bash -c "$KUBECTL get $V2 w3 -o json | sed 's/\"host\": \"c\"/\"host\": \"cc\"/' | $KUBECTL replace -f -"
expect_eq "replaced through the webhook" "cc:84" "$(k get $V1 w3 -o jsonpath='{.spec.hostPort}')"
sleep 0.5
kill $W1 $W2 2>/dev/null
wait $W1 $W2 2>/dev/null
expect_out "a v2 watch sees the patch in v2's shape" '^MODIFIED w2=b:82$' cat "$WORK/watch2.out"
expect_out "and the applied object" '^ADDED w3=c:83$' cat "$WORK/watch2.out"
expect_out "a v1 watch in v1's shape" '^MODIFIED w2=b:82$' cat "$WORK/watch1.out"

echo "== objects kept in an older storage version"
crd v2 "$URL" | k replace -f - >/dev/null
sleep 0.5
k create -f - >/dev/null <<'JSON' || fail "create w4 in v2"
{"apiVersion":"conv.example.com/v2","kind":"Widget","metadata":{"name":"w4","namespace":"default"},
 "spec":{"host":"d","port":85}}
JSON
expect_eq "objects stored in v1 read in v2" "w1=a:80 w2=b:82 w3=cc:84 w4=d:85 " \
  "$(k get $V2 -o jsonpath='{range .items[*]}{.metadata.name}={.spec.host}:{.spec.port} {end}')"
expect_eq "and in v1" "w1=a:80 w2=b:82 w3=cc:84 w4=d:85 " \
  "$(k get $V1 -o jsonpath='{range .items[*]}{.metadata.name}={.spec.hostPort} {end}')"
expect_ok "an object stored in v1 takes a patch in v2" k patch $V2 w1 --type=merge -p '{"spec":{"port":90}}'
expect_eq "and reads back" "a:90" "$(k get $V1 w1 -o jsonpath='{.spec.hostPort}')"

echo "== a failing webhook"
kill "$HOOK_PID" && wait "$HOOK_PID" 2>/dev/null
expect_eq "the storage version still reads without the webhook" "d" \
  "$(k get $V2 w4 -o jsonpath='{.spec.host}')"
expect_err "a get needing conversion fails with upstream's message" \
  "^Error from server: conversion webhook for conv.example.com/v2, Kind=Widget failed: Post \"https://127.0.0.1:$HOOK_PORT/convert\": " \
  k get $V1 w4
expect_err "as a 500" 'GET https://.*/widgets/w4 500 Internal Server Error' k get $V1 w4 -v=6
expect_err "a list fails too" "conversion webhook for conv.example.com/v1, Kind=WidgetList failed: " k get $V1
expect_err "and a create in another version" "conversion webhook for conv.example.com/v1, Kind=Widget failed: " \
  k create -f - <<'JSON'
{"apiVersion":"conv.example.com/v1","kind":"Widget","metadata":{"name":"w5","namespace":"default"},
 "spec":{"hostPort":"e:86"}}
JSON
finish
