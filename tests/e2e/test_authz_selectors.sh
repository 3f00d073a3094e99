#!/usr/bin/env bash
# Field and label selectors in authorization (upstream 1.31+ AuthorizeWithSelectors), through the
# real server and kubectl: the Node authorizer lets a node list/watch pods only with a
# spec.nodeName=<itself> field selector (or one pod of its own by metadata.name), and
# SelfSubjectAccessReview / SubjectAccessReview carry spec.resourceAttributes.fieldSelector and
# labelSelector (rawSelector or requirements): malformed ones are a 422, ones that do not parse
# are ignored and reported in status.evaluationError.
source "$(dirname "$0")/lib.sh"

start_server || exit 1
CA=$WORK/data/tls

# A client certificate for system:node:n1 in group system:nodes.
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/n1.key" -out "$WORK/n1.csr" \
  -subj "/CN=system:node:n1/O=system:nodes" >/dev/null 2>&1
openssl x509 -req -in "$WORK/n1.csr" -CA "$CA/ca.crt" -CAkey "$CA/ca.key" -CAcreateserial \
  -out "$WORK/n1.crt" -days 1 >/dev/null 2>&1
N1=(k --client-certificate="$WORK/n1.crt" --client-key="$WORK/n1.key")

for pair in "p1 n1" "p2 n2"; do
  set -- $pair
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $2
  containers: [{name: c, image: busybox}]
YAML
done
echo "== the Node authorizer and list/watch selectors"
# NetworkPolicy enforcement lists every pod under its own identity (system:berth:network-policy,
# test_netpol_identity.sh), so no RBAC grant widens a node's pod reads: the Node authorizer decides.
expect_err "a node may not list all pods" \
  'pods is forbidden: User "system:node:n1" cannot list resource "pods" in API group "" at the cluster scope: can only list/watch pods with spec.nodeName field selector' \
  "${N1[@]}" get pods -A
expect_out "with spec.nodeName=<itself> it lists its pods" '^pod/p1$' \
  "${N1[@]}" get pods -A --field-selector spec.nodeName=n1 -o name
expect_out "the selector may hold more terms" '^pod/p1$' \
  "${N1[@]}" get pods --field-selector 'status.phase!=Failed,spec.nodeName==n1' -o name
expect_err "another node's name is no good" 'can only list/watch pods with spec.nodeName field selector' \
  "${N1[@]}" get pods -A --field-selector spec.nodeName=n2
expect_err "nor a label selector of that shape" 'can only list/watch pods with spec.nodeName field selector' \
  "${N1[@]}" get pods -A -l spec.nodeName=n1
expect_out "one pod of its own by metadata.name" '^pod/p1$' \
  "${N1[@]}" get pods --field-selector metadata.name=p1 -o name
expect_err "but not another node's" 'no relationship found between node .n1. and this object' \
  "${N1[@]}" get pods --field-selector metadata.name=p2
expect_out "a watch with the selector is allowed" '"type":"ADDED".*"name":"p1"' \
  "${N1[@]}" get --raw '/api/v1/pods?watch=1&timeoutSeconds=1&fieldSelector=spec.nodeName%3Dn1'
expect_err "a watch without it is not" 'Forbidden' \
  "${N1[@]}" get --raw '/api/v1/pods?watch=1&timeoutSeconds=1'

echo "== SelfSubjectAccessReview with selectors"
# ssar FIELDSELECTOR-JSON: the node asks whether it may list pods so narrowed.
ssar() {
  "${N1[@]}" create -o json -f - <<JSON
{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
 "spec":{"resourceAttributes":{"verb":"list","resource":"pods","namespace":"default"$1}}}
JSON
}
status() { python3 -c 'import json,sys; s=json.load(sys.stdin)["status"]; print(s.get("allowed"), s.get("evaluationError",""))'; }
expect_eq "rawSelector spec.nodeName=n1 → allowed" "True " \
  "$(ssar ',"fieldSelector":{"rawSelector":"spec.nodeName=n1"}' | status)"
expect_eq "no selector → not allowed" "False " "$(ssar '' | status)"
expect_eq "requirements In [n1] → allowed" "True " \
  "$(ssar ',"fieldSelector":{"requirements":[{"key":"spec.nodeName","operator":"In","values":["n1"]}]}' | status)"
expect_eq "requirements NotIn [n1] → not allowed" "False " \
  "$(ssar ',"fieldSelector":{"requirements":[{"key":"spec.nodeName","operator":"NotIn","values":["n1"]}]}' | status)"
expect_eq "a requirement the authorizers cannot use is dropped, said in evaluationError" \
  "True spec.resourceAttributes.fieldSelector partially ignored due to parse error" \
  "$(ssar ',"fieldSelector":{"requirements":[{"key":"spec.nodeName","operator":"In","values":["n1"]},{"key":"x","operator":"Exists"}]}' | status)"
expect_eq "a rawSelector that does not parse is ignored" \
  "False spec.resourceAttributes.fieldSelector ignored due to parse error; spec.resourceAttributes.labelSelector ignored due to parse error" \
  "$(ssar ',"fieldSelector":{"rawSelector":"spec.nodeName=n1,junk"},"labelSelector":{"rawSelector":"a in (b"}' | status)"
expect_err "rawSelector and requirements together are invalid (422)" \
  'SelfSubjectAccessReview "" is invalid: spec.resourceAttributes.fieldSelector.rawSelector: Invalid value: "spec.nodeName=n1": may not specified at the same time as requirements' \
  ssar ',"fieldSelector":{"rawSelector":"spec.nodeName=n1","requirements":[{"key":"a","operator":"In","values":["b"]}]}'
expect_err "a label requirement with a bad key is invalid" \
  'spec.resourceAttributes.labelSelector.requirements\[0\].key: Invalid value: "\(\)foo"' \
  ssar ',"labelSelector":{"requirements":[{"key":"()foo","operator":"Exists"}]}'
expect_err "In without values is invalid" \
  "spec.resourceAttributes.fieldSelector.requirements\[0\].values: Required value: must be specified when .operator. is 'In' or 'NotIn'" \
  ssar ',"fieldSelector":{"requirements":[{"key":"spec.nodeName","operator":"In"}]}'

echo "== SubjectAccessReview (admin asks about the node)"
expect_out "the node's list narrowed to itself, asked by the admin" '"allowed": true' \
  k create -o json -f - <<JSON
{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",
 "spec":{"user":"system:node:n1","groups":["system:nodes"],
   "resourceAttributes":{"verb":"watch","resource":"pods",
     "fieldSelector":{"requirements":[{"key":"spec.nodeName","operator":"In","values":["n1"]}]},
     "labelSelector":{"rawSelector":"app=web"}}}}
JSON
expect_eq "kubectl auth can-i without a selector says why not" \
  "no - can only list/watch pods with spec.nodeName field selector" \
  "$("${N1[@]}" auth can-i list pods 2>&1)"

finish
