#!/usr/bin/env bash
# What a joining `berth agent` runs NetworkPolicy enforcement as (src/cmd/agent_command.cpp,
# networkPolicyCredentials): with no --network-policy-kubeconfig it asks the server, with its own
# credentials, for a token of kube-system/berth-network-policy (a TokenRequest). When the server
# refuses (a node identity may not ask for it) the agent says so and falls back to its own
# credentials; enforcement then reports that they cannot list every pod, and the node still runs.
# With --token and no --ca-file the agent trusts the server unverified (as k3s before it has the
# CA) and the token alone authenticates it. The server and agents run in a network namespace of
# this test, so the agent's networking stays inside it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"  # cleanup_agents, wait_for

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null; then
  echo "test_agent_netpol_fallback: needs root and runc" >&2
  exit 1
fi

NS=berth-anf-$RANDOM$RANDOM
DATA=$WORK/data
AGENT_PID=""
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

stop_agent() {
  if [ -n "$AGENT_PID" ]; then
    kill "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID" 2>/dev/null
  fi
  AGENT_PID=""
}
fallback_cleanup() {
  stop_agent
  stop_server
  cleanup_agents "$WORK"/agent-*
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap fallback_cleanup EXIT

PORT=$(free_port)
export KUBECONFIG=$DATA/admin.kubeconfig
k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
  --secure-port "$PORT" --disable-agent >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for 20 bash -c "[ -f $KUBECONFIG ] && ip netns exec $NS $KUBECTL get --raw /readyz" ||
  { fail "the server did not start"; finish; exit 1; }

# start_agent NAME FLAGS...: a `berth agent` for node NAME in the namespace, logging to
# $WORK/NAME.log.
start_agent() {
  local node=$1
  shift
  ip netns exec "$NS" "$BERTH" agent --node-name "$node" --data-dir "$WORK/agent-$node" \
    --node-ip 127.0.0.1 "$@" >"$WORK/$node.log" 2>&1 &
  AGENT_PID=$!
}
logged() { grep -qF -- "$2" "$WORK/$1.log"; }
node_registered() { k get node "$1" -o name >/dev/null 2>&1; }

echo "== a node identity (client certificate): refused, falls back to its own credentials"
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/n1.key" -out "$WORK/n1.csr" \
  -subj "/CN=system:node:n1/O=system:nodes" >/dev/null 2>&1
openssl x509 -req -in "$WORK/n1.csr" -CA "$DATA/tls/ca.crt" -CAkey "$DATA/tls/ca.key" \
  -CAcreateserial -out "$WORK/n1.crt" -days 1 >/dev/null 2>&1
NODE_CONF=$WORK/n1.kubeconfig
KUBECONFIG=$NODE_CONF "$KUBECTL" config set-cluster c --server "https://127.0.0.1:$PORT" \
  --certificate-authority "$DATA/tls/ca.crt" --embed-certs >/dev/null
KUBECONFIG=$NODE_CONF "$KUBECTL" config set-credentials n1 --client-certificate "$WORK/n1.crt" \
  --client-key "$WORK/n1.key" --embed-certs >/dev/null
KUBECONFIG=$NODE_CONF "$KUBECTL" config set-context c --cluster c --user n1 >/dev/null
KUBECONFIG=$NODE_CONF "$KUBECTL" config use-context c >/dev/null
start_agent n1 --kubeconfig "$NODE_CONF"
expect_ok "the agent says the server refused the token" \
  wait_for 20 logged n1 "berth agent: no NetworkPolicy token from the server"
expect_out "(403: the node may not ask for it)" \
  'User "system:node:n1" cannot create resource "serviceaccounts/token" in API group "" in the namespace "kube-system"' \
  grep -F "no NetworkPolicy token" "$WORK/n1.log"
expect_ok "and that it enforces with its own credentials" \
  logged n1 "enforcing with the agent's own credentials"
expect_ok "enforcement then reports those cannot list everything it needs" \
  wait_for 40 logged n1 "berth agent: NetworkPolicies not enforced:"
expect_out "(the Node authorizer's answer)" 'User "system:node:n1" cannot list resource' \
  grep "NetworkPolicies not enforced" "$WORK/n1.log"
expect_ok "the node still joins" wait_for 20 node_registered n1
expect_eq "the agent is still running" "running" \
  "$(kill -0 "$AGENT_PID" 2>/dev/null && echo running)"
expect_err "it never ran as the NetworkPolicy identity" "^$" \
  grep -F "NetworkPolicy enforcement runs as" "$WORK/n1.log"
stop_agent

echo "== --token with a ServiceAccount that may not ask either (no --ca-file: unverified TLS)"
k create serviceaccount joiner -n kube-system >/dev/null
TOKEN=$(k create token joiner -n kube-system --duration 10m)
start_agent n2 --server "https://127.0.0.1:$PORT" --token "$TOKEN"
expect_ok "the agent says the server refused the token" \
  wait_for 20 logged n2 "berth agent: no NetworkPolicy token from the server"
expect_out "as the ServiceAccount (403: its token authenticated it, not 401)" \
  'User "system:serviceaccount:kube-system:joiner" cannot create resource "serviceaccounts/token"' \
  grep -F "no NetworkPolicy token" "$WORK/n2.log"
stop_agent

echo "== --token of an identity that may: enforcement runs as the ServiceAccount"
start_agent n3 --server "https://127.0.0.1:$PORT" --token "$(cat "$DATA/admin.token")"
expect_ok "the agent runs enforcement as kube-system/berth-network-policy" \
  wait_for 20 logged n3 "NetworkPolicy enforcement runs as kube-system/berth-network-policy"
expect_ok "the node joins" wait_for 20 node_registered n3
stop_agent

finish
