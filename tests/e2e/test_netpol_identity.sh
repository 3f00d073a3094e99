#!/usr/bin/env bash
# NetworkPolicy enforcement's own identity (issue 9): the node agent's policy controller lists and
# watches every pod, namespace and NetworkPolicy as system:berth:network-policy (a client
# certificate the server issues in <data>/network-policy.kubeconfig, or a token of the
# ServiceAccount kube-system/berth-network-policy for `berth agent`), with nothing more; a node's
# own identity may no longer list all pods (the Node authorizer's spec.nodeName=<self> rule).
# The binding earlier versions gave every node is removed from old data dirs on start.
source "$(dirname "$0")/lib.sh"

start_server || exit 1
CA=$WORK/data/tls
NPCONF=$WORK/data/network-policy.kubeconfig

openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/n1.key" -out "$WORK/n1.csr" \
  -subj "/CN=system:node:n1/O=system:nodes" >/dev/null 2>&1
openssl x509 -req -in "$WORK/n1.csr" -CA "$CA/ca.crt" -CAkey "$CA/ca.key" -CAcreateserial \
  -out "$WORK/n1.crt" -days 1 >/dev/null 2>&1
N1=(k --client-certificate="$WORK/n1.crt" --client-key="$WORK/n1.key")
NP=(k --kubeconfig "$NPCONF")

k create namespace other >/dev/null
for pair in "p1 n1 default" "p2 n2 other"; do
  set -- $pair
  k apply -n "$3" -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $2
  containers: [{name: c, image: busybox}]
YAML
done

echo "== a node reads only its own pods"
expect_err "a node may not list all pods" \
  'pods is forbidden: User "system:node:n1" cannot list resource "pods" in API group "" at the cluster scope: can only list/watch pods with spec.nodeName field selector' \
  "${N1[@]}" get pods -A
expect_err "nor watch them" 'Forbidden' \
  "${N1[@]}" get --raw '/api/v1/pods?watch=1&timeoutSeconds=1'
expect_out "its own pods it may list" '^pod/p1$' \
  "${N1[@]}" get pods -A --field-selector spec.nodeName=n1 -o name
expect_err "nor may it ask for the NetworkPolicy identity's token" \
  'cannot create resource "serviceaccounts/token" in API group "" in the namespace "kube-system"' \
  "${N1[@]}" create token berth-network-policy -n kube-system
expect_err "the old node-wide binding is gone" 'NotFound|not found' \
  k get clusterrolebinding system:berth:node-network-policy

echo "== system:berth:network-policy: list and watch pods, namespaces, NetworkPolicies"
expect_eq "its kubeconfig is the owner's only" "600" "$(stat -c %a "$NPCONF")"
expect_out "it is its own user" 'system:berth:network-policy' "${NP[@]}" auth whoami
expect_eq "it lists every pod" "default/p1 other/p2" \
  "$("${NP[@]}" get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} {end}' | xargs)"
expect_out "it watches every pod" '"name":"p2"' \
  "${NP[@]}" get --raw '/api/v1/pods?watch=1&timeoutSeconds=1'
expect_out "it lists namespaces" '^namespace/other$' "${NP[@]}" get namespaces -o name
expect_ok "it lists NetworkPolicies" "${NP[@]}" get networkpolicies -A
expect_err "it may not get one pod (only list/watch)" \
  'User "system:berth:network-policy" cannot get resource "pods" in API group "" in the namespace "default"' \
  "${NP[@]}" get pod p1
expect_err "it may not read secrets" 'cannot list resource "secrets"' "${NP[@]}" get secrets -A
expect_err "it may not write pods" 'cannot delete resource "pods"' "${NP[@]}" delete pod p1

echo "== the ServiceAccount token a joining agent gets"
TOKEN=$(k create token berth-network-policy -n kube-system --duration 10m)
expect_out "the token is the ServiceAccount" 'system:serviceaccount:kube-system:berth-network-policy' \
  k --token "$TOKEN" auth whoami
expect_out "and lists every pod" '^pod/p2$' k --token "$TOKEN" get pods -n other -o name
expect_err "but reads no secrets" 'cannot list resource "secrets"' k --token "$TOKEN" get secrets -A

echo "== an old data dir: the retired bootstrap objects are removed on start"
for kind in ClusterRole ClusterRoleBinding; do
  if [ $kind == ClusterRole ]; then
    spec='rules: [{apiGroups: [""], resources: [pods], verbs: [list, watch]}]'
    keep=false  # an administrator took the role over: it stays
  else
    spec='roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:berth:node-network-policy}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:nodes}]'
    keep=true
  fi
  k apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: $kind
metadata:
  name: system:berth:node-network-policy
  labels: {kubernetes.io/bootstrapping: rbac-defaults}
  annotations: {rbac.authorization.k8s.io/autoupdate: "$keep"}
$spec
YAML
done
for _ in $(seq 1 30); do  # the binding reaches the authorizer through the watch cache
  "${N1[@]}" get pods -A -o name >/dev/null 2>&1 && break
  sleep 0.1
done
expect_ok "with the old binding a node lists all pods" "${N1[@]}" get pods -A
stop_server
start_server || { fail "restart"; finish; exit 1; }
expect_err "after a restart the binding is gone" 'NotFound|not found' \
  k get clusterrolebinding system:berth:node-network-policy
expect_out "a role an administrator keeps stays" 'system:berth:node-network-policy' \
  k get clusterrole system:berth:node-network-policy -o name
for _ in $(seq 1 30); do
  "${N1[@]}" get pods -A -o name >/dev/null 2>&1 || break
  sleep 0.1
done
expect_err "and the node is back to its own pods" 'can only list/watch pods with spec.nodeName' \
  "${N1[@]}" get pods -A

finish
