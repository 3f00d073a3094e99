#!/usr/bin/env bash
# Admission webhooks end to end with the real kubectl and an HTTPS webhook server this test
# runs on 127.0.0.1 with a CA it makes: a mutating webhook adds a label (namespaceSelector
# respected), a validating one denies with its message and code, a webhook reached through a
# Service (EndpointSlice address, certificate for <svc>.<ns>.svc), the AdmissionReview fields,
# failurePolicy Ignore and Fail with the webhook down, dry run and sideEffects, matchConditions
# (CEL: a skip label, a bad expression refused with 422, an evaluation error under Fail and
# Ignore, the authorizer library for the requesting user), reinvocationPolicy IfNeeded and
# validating webhooks called in parallel.
source "$(dirname "$0")/lib.sh"

# The CA and a serving certificate for 127.0.0.1 and hook.webhooks.svc.
make_webhook_tls webhook-test-ca hook.webhooks.svc IP:127.0.0.1,DNS:hook.webhooks.svc
start_webhook_fixture admission_webhook_server.py
DEAD_PORT=$(free_port)  # nothing listens here
start_server || exit 1

webhook_config() {  # KIND NAME PATH-OR-CLIENTCONFIG RESOURCE FAILURE-POLICY [EXTRA]
  local cc=$3
  [[ $cc == /* ]] && cc="{\"url\":\"https://127.0.0.1:$HOOK_PORT$3\",\"caBundle\":\"$CA\"}"
  cat <<JSON
{"apiVersion":"admissionregistration.k8s.io/v1","kind":"$1","metadata":{"name":"$2"},
 "webhooks":[{"name":"$2","clientConfig":$cc,
   "rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["$4"]}],
   "failurePolicy":"$5","sideEffects":"None","admissionReviewVersions":["v1"],
   "timeoutSeconds":3${6:-}}]}
JSON
}

echo "== mutating"
k create namespace wh >/dev/null && k label namespace wh webhooks=on >/dev/null
k create namespace plain >/dev/null
webhook_config MutatingWebhookConfiguration label.example.com /mutate configmaps Fail \
  ',"namespaceSelector":{"matchLabels":{"webhooks":"on"}}' | k create -f - >/dev/null
sleep 0.3
expect_ok "create in a selected namespace" k create configmap m1 -n wh
expect_eq "the webhook's label is on the stored object" yes \
  "$(k get configmap m1 -n wh -o jsonpath='{.metadata.labels.mutated}')"
k create configmap m2 -n plain >/dev/null
expect_eq "a namespace outside namespaceSelector is not sent" "" \
  "$(k get configmap m2 -n plain -o jsonpath='{.metadata.labels.mutated}')"
last=$(grep '"/mutate' "$WORK/hook.log" | tail -1)
expect_out "AdmissionReview request fields" '^CREATE v1 ConfigMap configmaps wh m1 system:admin True False$' \
  python3 -c "import json,sys; r=json.loads(sys.argv[1])['request']; print(r['operation'], r['kind']['version'], r['kind']['kind'], r['resource']['resource'], r['namespace'], r['name'], r['userInfo']['username'], len(r['uid'])==36, r['dryRun'])" "$last"

echo "== validating"
webhook_config ValidatingWebhookConfiguration deny.example.com /validate configmaps Fail \
  | k create -f - >/dev/null
sleep 0.3
expect_err "a denied create carries the webhook's message" \
  'admission webhook "deny.example.com" denied the request: the name bad1 is not allowed$' \
  k create configmap bad1 -n plain
expect_err "and the webhook's code" 'POST https://.*/configmaps.* 403 Forbidden' \
  k create configmap bad1 -n plain -v=6
expect_ok "an allowed create passes both webhooks" k create configmap good1 -n wh
expect_err "kubectl apply is denied too" 'denied the request: the name bad2 is not allowed' \
  bash -c "$KUBECTL create configmap bad2 -n wh --dry-run=client -o yaml | $KUBECTL apply -f -"

echo "== by service"
k create namespace webhooks >/dev/null
k create -f - >/dev/null <<JSON
{"apiVersion":"v1","kind":"Service","metadata":{"name":"hook","namespace":"webhooks"},
 "spec":{"ports":[{"name":"https","port":443,"targetPort":$HOOK_PORT}]}}
JSON
k create -f - >/dev/null <<JSON
{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
 "metadata":{"name":"hook-1","namespace":"webhooks","labels":{"kubernetes.io/service-name":"hook"}},
 "addressType":"IPv4","endpoints":[{"addresses":["127.0.0.1"],"conditions":{"ready":true}}],
 "ports":[{"name":"https","port":$HOOK_PORT,"protocol":"TCP"}]}
JSON
webhook_config ValidatingWebhookConfiguration svc.example.com \
  "{\"service\":{\"namespace\":\"webhooks\",\"name\":\"hook\",\"path\":\"/validate2\"},\"caBundle\":\"$CA\"}" \
  secrets Fail | k create -f - >/dev/null
sleep 0.3
expect_err "a webhook reached through its Service denies" \
  'admission webhook "svc.example.com" denied the request: denied via service$' \
  k create secret generic s1 -n plain --from-literal=a=b
expect_err "with code 400 when the webhook gives none" 'POST https://.*/secrets.* 400 Bad Request' \
  k create secret generic s1 -n plain --from-literal=a=b -v=6
expect_out "its warning reaches kubectl" 'Warning: the service webhook was here' \
  bash -c "$KUBECTL create secret generic s1 -n plain --from-literal=a=b 2>&1; true"

echo "== failure policy"
webhook_config ValidatingWebhookConfiguration down.example.com "{\"url\":\"https://127.0.0.1:$DEAD_PORT/x\",\"caBundle\":\"$CA\"}" \
  serviceaccounts Ignore | k create -f - >/dev/null
sleep 0.3
expect_ok "Ignore lets requests through when the webhook is down" k create serviceaccount sa1 -n plain
k patch validatingwebhookconfiguration down.example.com --type=json \
  -p '[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Fail"}]' >/dev/null
sleep 0.3
expect_err "Fail rejects them" 'Internal error occurred: failed calling webhook "down.example.com"' \
  k create serviceaccount sa2 -n plain
webhook_config ValidatingWebhookConfiguration wrongca.example.com \
  "{\"url\":\"https://127.0.0.1:$HOOK_PORT/validate\"}" pods Fail | k create -f - >/dev/null
sleep 0.3
expect_err "a certificate the caBundle does not vouch for is a failed call" \
  'failed calling webhook "wrongca.example.com"' \
  k run p1 -n plain --image=busybox --restart=Never

echo "== dry run"
expect_out "a server dry run goes through the mutating webhook" '^yes$' \
  k create configmap d1 -n wh --dry-run=server -o 'jsonpath={.metadata.labels.mutated}'
last=$(grep '"/mutate' "$WORK/hook.log" | tail -1)
expect_out "and the review says dryRun" '^d1 True$' \
  python3 -c "import json,sys; r=json.loads(sys.argv[1])['request']; print(r['name'], r['dryRun'])" "$last"
expect_err "nothing was stored" 'NotFound' k get configmap d1 -n wh
echo "== matchConditions"
k create namespace cond >/dev/null && k label namespace cond cond=on >/dev/null
NOT_SKIPPED="!has(object.metadata.labels) || !('skip' in object.metadata.labels) || object.metadata.labels['skip'] != 'true'"
webhook_config ValidatingWebhookConfiguration cond.example.com /validate2 configmaps Fail \
  ",\"namespaceSelector\":{\"matchLabels\":{\"cond\":\"on\"}},\"matchConditions\":[{\"name\":\"not-skipped\",\"expression\":\"$NOT_SKIPPED\"}]" \
  | k create -f - >/dev/null
sleep 0.3
expect_err "a ConfigMap the condition selects is sent to the webhook and denied" \
  'admission webhook "cond.example.com" denied the request: denied via service$' \
  k create configmap c1 -n cond
expect_ok "one labelled skip=true is not sent" k create -f - <<'JSON'
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c2","namespace":"cond","labels":{"skip":"true"}}}
JSON
expect_eq "the webhook never saw it" 0 \
  "$(grep '"/validate2' "$WORK/hook.log" | grep -c '"name": "c2"')"
webhook_config ValidatingWebhookConfiguration badexpr.example.com /validate configmaps Fail \
  ',"matchConditions":[{"name":"x","expression":"object.metadata.name =="}]' >"$WORK/badexpr.json"
webhook_config ValidatingWebhookConfiguration badexpr.example.com /validate configmaps Fail \
  ',"matchConditions":[{"name":"x","expression":"object.metadata.name"}]' >"$WORK/notbool.json"
expect_err "a configuration with an expression that does not compile is refused" \
  'is invalid: webhooks\[0\]\.matchConditions\[0\]\.expression: Invalid value: "object.metadata.name ==": compilation failed: ERROR: <input>:1:24: Syntax error' \
  k create -f "$WORK/badexpr.json"
expect_err "with 422" 'POST https://.*/validatingwebhookconfigurations.* 422 Unprocessable Entity' \
  k create -f "$WORK/badexpr.json" -v=6
expect_err "and a non-bool expression is named as such" \
  'expression: Invalid value: "object.metadata.name": must evaluate to bool' \
  k create -f "$WORK/notbool.json"

k create namespace cond2 >/dev/null && k label namespace cond2 cond2=on >/dev/null
webhook_config ValidatingWebhookConfiguration err.example.com /validate configmaps Fail \
  ',"namespaceSelector":{"matchLabels":{"cond2":"on"}},"matchConditions":[{"name":"x","expression":"object.data.x == '"'y'"'"}]' \
  | k create -f - >/dev/null
sleep 0.3
expect_err "an expression that fails to evaluate rejects under failurePolicy Fail" \
  "configmaps \"e1\" is forbidden: expression 'object.data.x == 'y'' resulted in error: no such key: data" \
  k create configmap e1 -n cond2
expect_err "with 403" 'POST https://.*/configmaps.* 403 Forbidden' k create configmap e1 -n cond2 -v=6
expect_ok "a false condition skips the webhook" k create configmap e2 -n cond2 --from-literal=x=z
k patch validatingwebhookconfiguration err.example.com --type=json \
  -p '[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]' >/dev/null
sleep 0.3
expect_ok "and is skipped under Ignore" k create configmap e1 -n cond2

echo "== matchConditions: authorizer"
# Skip callers who may delete configmaps: the admin (system:masters) is not sent to the webhook,
# a user who may only create them is, and gets denied.
k create namespace authzc >/dev/null && k label namespace authzc authzc=on >/dev/null
k create role cm-creator -n authzc --verb=create --resource=configmaps >/dev/null
k create rolebinding cm-creator -n authzc --role=cm-creator --user=carol >/dev/null
webhook_config ValidatingWebhookConfiguration authz.example.com /validate2 configmaps Fail \
  ",\"namespaceSelector\":{\"matchLabels\":{\"authzc\":\"on\"}},\"matchConditions\":[{\"name\":\"not-deleter\",\"expression\":\"!authorizer.group('').resource('configmaps').check('delete').allowed()\"}]" \
  | k create -f - >/dev/null
sleep 0.3
expect_ok "the admin, who may delete configmaps, is not sent to the webhook" \
  k create configmap az1 -n authzc
expect_eq "the webhook never saw it" 0 \
  "$(grep '"/validate2' "$WORK/hook.log" | grep -c '"name": "az1"')"
expect_err "a user who may only create them is sent and denied" \
  'admission webhook "authz.example.com" denied the request: denied via service$' \
  k create configmap az2 -n authzc --as=carol
expect_eq "the webhook saw carol's request" 1 \
  "$(grep '"/validate2' "$WORK/hook.log" | grep '"name": "az2"' | grep -c '"username": "carol"')"
k delete validatingwebhookconfiguration authz.example.com >/dev/null

echo "== reinvocationPolicy"
webhook_config MutatingWebhookConfiguration a-reinvoke.example.com \
  "{\"url\":\"https://127.0.0.1:$HOOK_PORT/validate?hook=reinvoke\",\"caBundle\":\"$CA\"}" configmaps Fail \
  ',"reinvocationPolicy":"IfNeeded","namespaceSelector":{"matchLabels":{"webhooks":"on"}}' \
  | k create -f - >/dev/null
sleep 0.3
k create configmap r1 -n wh >/dev/null
seen() {  # NAME: the `mutated` label each call of the IfNeeded webhook saw for that object
  grep 'hook=reinvoke' "$WORK/hook.log" | python3 -c "import json,sys
for l in sys.stdin:
  r=json.loads(l)['request']
  if r['name']==sys.argv[1]: print((r['object']['metadata'].get('labels') or {}).get('mutated','-'))" "$1" | tr '\n' ' '
}
expect_eq "an IfNeeded webhook runs again after a later webhook changed the object" "- yes " "$(seen r1)"
k patch mutatingwebhookconfiguration a-reinvoke.example.com --type=json \
  -p '[{"op":"replace","path":"/webhooks/0/reinvocationPolicy","value":"Never"}]' >/dev/null
sleep 0.3
k create configmap r2 -n wh >/dev/null
expect_eq "with Never it runs once" "- " "$(seen r2)"
k delete mutatingwebhookconfiguration a-reinvoke.example.com >/dev/null
k delete validatingwebhookconfiguration cond.example.com err.example.com >/dev/null

echo "== validating webhooks are called in parallel"
# Five that each take 100 ms: all are called (latency: BENCHMARKS.md, not asserted here).
k create namespace par >/dev/null && k label namespace par par=on >/dev/null
for i in 1 2 3 4 5; do
  webhook_config ValidatingWebhookConfiguration "par$i.example.com" /sleep/100/allow configmaps Fail \
    ',"namespaceSelector":{"matchLabels":{"par":"on"}}' | k create -f - >/dev/null
done
sleep 0.3
expect_ok "an object all five allow is created" k create configmap x1 -n par
expect_eq "each of the five was called once" 5 \
  "$(grep '"/sleep/100/allow' "$WORK/hook.log" | grep -c '"name": "x1"')"
k delete validatingwebhookconfiguration par1.example.com par2.example.com par3.example.com \
  par4.example.com par5.example.com >/dev/null
# Two that deny: the first in webhook order answers after 1.5 s, the second at once. Called one
# after another, the first would decide; called together, the first rejection to arrive does
# (upstream returns the first error off its channel).
k create namespace par2 >/dev/null && k label namespace par2 par2=on >/dev/null
webhook_config ValidatingWebhookConfiguration a-slow.example.com /sleep/1500/deny configmaps Fail \
  ',"namespaceSelector":{"matchLabels":{"par2":"on"}}' | k create -f - >/dev/null
webhook_config ValidatingWebhookConfiguration z-fast.example.com /sleep/0/deny configmaps Fail \
  ',"namespaceSelector":{"matchLabels":{"par2":"on"}}' | k create -f - >/dev/null
sleep 0.3
expect_err "the first rejection to arrive is the answer" \
  'admission webhook "z-fast.example.com" denied the request: denied after 0 ms' \
  k create configmap y1 -n par2
expect_eq "and both were called" 2 "$(grep '"/sleep/' "$WORK/hook.log" | grep -c '"name": "y1"')"
k delete validatingwebhookconfiguration a-slow.example.com z-fast.example.com >/dev/null

k delete validatingwebhookconfiguration deny.example.com down.example.com wrongca.example.com svc.example.com >/dev/null
k delete mutatingwebhookconfiguration label.example.com >/dev/null
sleep 0.3
expect_ok "with the configurations gone, writes pass" k create configmap bad3 -n plain

kill "$HOOK_PID" 2>/dev/null
finish
