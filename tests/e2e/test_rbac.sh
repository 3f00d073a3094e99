#!/usr/bin/env bash
# RBAC, the Node authorizer, escalation prevention and access reviews through the real server and
# kubectl, with users from client certificates signed by the server's CA (CN user, O groups).
source "$(dirname "$0")/lib.sh"

start_server
CA=$WORK/data/tls

# new_user NAME CN [O...]: a kubeconfig context NAME for a client certificate.
new_user() {
  local name=$1 cn=$2; shift 2
  local subj="/CN=$cn"
  for o in "$@"; do subj="$subj/O=$o"; done
  openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/$name.key" -out "$WORK/$name.csr" \
    -subj "$subj" >/dev/null 2>&1
  openssl x509 -req -in "$WORK/$name.csr" -CA "$CA/ca.crt" -CAkey "$CA/ca.key" -CAcreateserial \
    -out "$WORK/$name.crt" -days 1 >/dev/null 2>&1
  k config set-credentials "$name" --client-certificate="$WORK/$name.crt" \
    --client-key="$WORK/$name.key" --embed-certs >/dev/null
  k config set-context "$name" --cluster=berth --user="$name" --namespace=default >/dev/null
}
# eventually NAME REGEX CMD...: bindings take effect once the watch cache has them; retry briefly.
eventually() {
  local name=$1 re=$2; shift 2
  local out rc
  for _ in $(seq 1 30); do
    out=$("$@" 2>&1); rc=$?
    if [ $rc -eq 0 ] && grep -Eq -- "$re" <<<"$out"; then pass "$name"; return; fi
    sleep 0.1
  done
  fail "$name" "rc=$rc, want /$re/, got:
$out"
}

# can NAME WANT CMD...: kubectl auth can-i prints yes/no (and exits 1 on no).
can() {
  local name=$1 want=$2; shift 2
  local out
  out=$("$@" 2>&1)
  expect_eq "$name" "$want" "$out"
}

new_user jane jane devs
J=(k --context jane)

# ---- forbidden with upstream's messages, then view
expect_err "jane cannot list pods (exact message)" \
  '^Error from server \(Forbidden\): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"$' \
  "${J[@]}" get pods
expect_err "cluster-scope message" \
  'nodes is forbidden: User "jane" cannot list resource "nodes" in API group "" at the cluster scope' \
  "${J[@]}" get nodes
expect_err "named object message" \
  'configmaps "kube-root-ca.crt" is forbidden: User "jane" cannot get resource "configmaps" in API group "" in the namespace "default"|configmaps "x" is forbidden: User "jane" cannot get resource "configmaps"' \
  "${J[@]}" get configmap x
expect_err "non-resource message" \
  'forbidden: User "jane" cannot get path "/metrics"' "${J[@]}" get --raw /metrics
expect_out "discovery for every authenticated user" '"versions"' "${J[@]}" get --raw /api
can "can-i says no" no "${J[@]}" auth can-i list pods

k create rolebinding jane-view --clusterrole=view --user=jane -n default >/dev/null
k create configmap cm1 --from-literal=a=b >/dev/null
eventually "view lets jane list pods" 'No resources found|NAME' "${J[@]}" get pods
expect_out "and read configmaps" 'cm1' "${J[@]}" get configmap cm1
expect_err "but not write" 'configmaps is forbidden: User "jane" cannot create resource "configmaps"' \
  "${J[@]}" create configmap cm2
expect_err "nor read secrets" 'secrets is forbidden: User "jane" cannot list resource "secrets"' \
  "${J[@]}" get secrets
expect_err "nor elsewhere" 'in the namespace "kube-system"' "${J[@]}" get pods -n kube-system
expect_out "can-i list pods: yes" '^yes$' "${J[@]}" auth can-i list pods
can "can-i create pods: no" no "${J[@]}" auth can-i create pods
can "can-i -n kube-system: no" no "${J[@]}" auth can-i list pods -n kube-system
expect_out "can-i pods/log (subresource)" '^yes$' "${J[@]}" auth can-i get pods --subresource=log
LIST=$("${J[@]}" auth can-i --list 2>&1)
if grep -Eq '^pods +\[\] +\[\] +\[get list watch\]' <<<"$LIST" &&
  grep -Eq 'selfsubjectaccessreviews.authorization.k8s.io' <<<"$LIST" &&
  ! grep -Eq '^secrets ' <<<"$LIST"; then pass "can-i --list matches the grants"; else
  fail "can-i --list matches the grants" "$LIST"; fi

# ---- reviews for other users (SubjectAccessReview, LocalSubjectAccessReview)
cat >"$WORK/sar.json" <<'JSON'
{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",
 "spec":{"user":"jane","resourceAttributes":{"verb":"get","resource":"pods","namespace":"default"}}}
JSON
expect_out "SubjectAccessReview allowed with the binding named" \
  'true RBAC: allowed by RoleBinding "jane-view/default" of ClusterRole "view" to User "jane"' \
  k create -f "$WORK/sar.json" -o jsonpath='{.status.allowed} {.status.reason}'
sed 's/"get"/"delete"/' "$WORK/sar.json" >"$WORK/sar2.json"
expect_out "SubjectAccessReview denied" '^false$' \
  k create -f "$WORK/sar2.json" -o jsonpath='{.status.allowed}'
expect_err "jane may not ask about others" 'subjectaccessreviews.authorization.k8s.io is forbidden' \
  "${J[@]}" create -f "$WORK/sar.json"
cat >"$WORK/lsar.json" <<'JSON'
{"apiVersion":"authorization.k8s.io/v1","kind":"LocalSubjectAccessReview",
 "metadata":{"namespace":"kube-system"},
 "spec":{"groups":["devs"],"user":"x","resourceAttributes":{"verb":"list","resource":"pods"}}}
JSON
expect_out "LocalSubjectAccessReview in kube-system: no" '^false kube-system$' \
  k create -f "$WORK/lsar.json" -o jsonpath='{.status.allowed} {.spec.resourceAttributes.namespace}'

# ---- groups, and anonymous public info
k create clusterrolebinding devs-nodes --clusterrole=system:node-proxier --group=devs >/dev/null
eventually "a group binding applies to its members" 'NAME|No resources' "${J[@]}" get nodes
expect_out "anonymous /healthz" '^ok$' curl -sk "https://127.0.0.1:$PORT/healthz"
expect_out "anonymous /version" 'gitVersion' curl -sk "https://127.0.0.1:$PORT/version"
expect_out "anonymous /metrics refused" '"code":40[13]' curl -sk "https://127.0.0.1:$PORT/metrics"

# ---- escalation prevention
k create namespace team >/dev/null
k create rolebinding jane-admin --clusterrole=admin --user=jane -n team >/dev/null
eventually "namespace admin may create roles it holds" 'role.rbac.authorization.k8s.io/r1 created' \
  "${J[@]}" -n team create role r1 --verb=get --resource=pods
expect_err "but not grant what it lacks" \
  'roles.rbac.authorization.k8s.io "r2" is forbidden: user "jane" \(groups=\["devs" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:
\{APIGroups:\[""\], Resources:\["persistentvolumes"\], Verbs:\["get"\]\}' \
  "${J[@]}" -n team create role r2 --verb=get --resource=persistentvolumes
expect_err "nor bind cluster-admin" \
  'rolebindings.rbac.authorization.k8s.io "rb" is forbidden: user "jane" .* not currently held' \
  "${J[@]}" -n team create rolebinding rb --clusterrole=cluster-admin --user=bob
expect_ok "binding a role it holds is fine" "${J[@]}" -n team create rolebinding rb2 --clusterrole=view --user=bob
k create clusterrole binder --verb=bind --resource=clusterroles --resource-name=cluster-admin >/dev/null
k create rolebinding jane-binder --clusterrole=binder --user=jane -n team >/dev/null
eventually "with bind on the role it may" 'rolebinding.rbac.authorization.k8s.io/rb3 created' \
  "${J[@]}" -n team create rolebinding rb3 --clusterrole=cluster-admin --user=bob

# ---- aggregation: a role labelled aggregate-to-view extends view
k apply -f - >/dev/null <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- apiGroups: [example.com]
  resources: [widgets]
  verbs: [get, list]
YAML
eventually "view aggregates the labelled role" 'widgets' k get clusterrole view -o jsonpath='{.rules[*].resources}'
eventually "and so do edit and admin" 'widgets' k get clusterrole admin -o jsonpath='{.rules[*].resources}'

# ---- bootstrap policy is reconciled on restart: a removed rule comes back
k get clusterrole system:discovery -o json | /usr/bin/python3 -c '
import json, sys
o = json.load(sys.stdin); o["rules"][0]["nonResourceURLs"] = ["/api"]
print(json.dumps(o))' | k replace -f - >/dev/null
stop_server
start_server
expect_out "reconciled on start" '/apis/\*' k get clusterrole system:discovery -o jsonpath='{.rules[*].nonResourceURLs}'
k annotate clusterrole system:discovery rbac.authorization.k8s.io/autoupdate=false --overwrite >/dev/null

# ---- auth reconcile
cat >"$WORK/rbac.yaml" <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: recon}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: recon}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: recon}
subjects:
- {kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}
YAML
expect_out "kubectl auth reconcile" 'clusterrolebinding.rbac.authorization.k8s.io/recon reconciled' \
  k auth reconcile -f "$WORK/rbac.yaml"
sed 's/verbs: \[get\]/verbs: [get, list]/' "$WORK/rbac.yaml" >"$WORK/rbac2.yaml"
k auth reconcile -f "$WORK/rbac2.yaml" >/dev/null
expect_out "reconcile adds missing rules" 'get list|get.*list' \
  k get clusterrole recon -o jsonpath='{.rules[*].verbs}'

# ---- the Node authorizer: a node reads only what its pods use
new_user n1 system:node:n1 system:nodes
N1=(k --context n1)
k create secret generic s1 --from-literal=k=v >/dev/null
k create secret generic s2 --from-literal=k=v >/dev/null
for pair in "p1 n1 s1" "p2 n2 s2"; do
  set -- $pair
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $2
  containers: [{name: c, image: busybox}]
  volumes: [{name: s, secret: {secretName: $3}}]
YAML
done
eventually "node n1 reads the secret of its pod" 's1' "${N1[@]}" get secret s1 -o name
expect_err "but not the secret of a pod on n2" \
  'secrets "s2" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node .n1. and this object' \
  "${N1[@]}" get secret s2
expect_out "reads its own pod" 'p1' "${N1[@]}" get pod p1 -o name
expect_err "not another node's pod" 'pods "p2" is forbidden' "${N1[@]}" get pod p2
expect_out "lists pods bound to it" 'p1' "${N1[@]}" get pods --field-selector spec.nodeName=n1 -o name
expect_err "nor list secrets" 'secrets is forbidden: User "system:node:n1" cannot list resource "secrets"' \
  "${N1[@]}" get secrets
expect_err "nor delete another node's pod" 'node "n1" can only delete pods with spec.nodeName set to itself' \
  "${N1[@]}" delete pod p2
expect_err "NodeRestriction: only its own DNS EndpointSlice" \
  'node "n1" may only write the EndpointSlice "kube-dns-n1"' \
  "${N1[@]}" -n kube-system create -f - <<'YAML'
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: kube-dns-n2}
addressType: IPv4
endpoints: []
YAML
expect_err "NodeRestriction: not another node's object" 'node "n1" is not allowed to modify node "n2"' \
  "${N1[@]}" create -f - <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: n2}
YAML
expect_err "NodeRestriction: no node-restriction labels" \
  'node "n1" is not allowed to set the following labels: node-restriction.kubernetes.io/x' \
  "${N1[@]}" create -f - <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {node-restriction.kubernetes.io/x: "y"}}
YAML

finish
