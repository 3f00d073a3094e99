#!/usr/bin/env bash
# NetworkPolicy on the two-node test cluster (cluster_lib.sh) with the real kubectl: each node
# agent enforces policies for its pods with nftables (table inet berth-netpol in the node's
# namespace). A default-deny policy blocks a request that worked a moment before; allowing
# app=client lets exactly those pods through, from the same node and across nodes, on the
# named port only; an egress ipBlock with except; deleting the policies opens everything again.
# Each change is timed from kubectl's return to the rules in the node's kernel.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"

cluster_up || { fail "cluster_up"; finish; exit 1; }

# get FROM URL: the pod's HTTP GET (1 s timeout: a dropped SYN means blocked).
get() { pod_exec "$1" sh -c "timeout 1 wget -qO- $2" 2>/dev/null; }
reaches() { [ "$(get "$1" "$2")" == "$3" ]; }
blocked() { ! get "$1" "$2" >/dev/null; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# until_ms SECONDS CMD...: milliseconds until CMD succeeds (polling every 10 ms), or fails.
until_ms() {
  local start deadline; start=$(ms); deadline=$((start + $1 * 1000)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(ms)" -ge "$deadline" ] && return 1
    sleep 0.01
  done
  echo $(($(ms) - start))
}
in_set() { in_node "$1" nft list set inet berth-netpol "$2" | grep -qw -- "$3"; }
not_in_set() { ! in_set "$@"; }

# Each agent joined with the admin's credentials; its policy controller runs on a token of the
# NetworkPolicy ServiceAccount the server issued (test_netpol_identity.sh has the rights).
for node in node-a node-b; do
  expect_out "$node enforces policies under their own identity" \
    'NetworkPolicy enforcement runs as kube-system/berth-network-policy' cat "$CL_DIR/$node.log"
done

echo "== pods (t=$SECONDS)"
kc create namespace np >/dev/null
kc create namespace outside >/dev/null
cat >"$WORK/pods.yml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: np, labels: {app: web}}
spec:
  nodeName: node-b
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "mkdir -p /tmp/w && echo web > /tmp/w/index.html && echo alt > /tmp/w/alt && httpd -p 8081 -h /tmp/w && exec httpd -f -p 8080 -h /tmp/w"]
      ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: outsider, namespace: outside, labels: {app: outsider}}
spec:
  nodeName: node-b
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: berth-test/busybox:1.0
      command: ["sh", "-c", "mkdir -p /tmp/w && echo outsider > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"]
YAML
for spec in "client node-a client" "near-client node-b client" "other node-a other"; do
  set -- $spec
  kc run "$1" -n np --image=berth-test/busybox:1.0 --restart=Never -l "app=$3" \
    --overrides="{\"spec\":{\"nodeName\":\"$2\",\"terminationGracePeriodSeconds\":1}}" -- sleep 3600 >/dev/null
done
kc apply -f "$WORK/pods.yml" >/dev/null
if wait_running -n np web client near-client other && wait_running -n outside outsider; then
  pass "pods run on both nodes"
else
  fail "pods Running" "$(kc get pods -A -o wide)"
fi
WEB=http://$(pod_ip -n np web):8080/
ALT=http://$(pod_ip -n np web):8081/alt
WEB_IP=$(pod_ip -n np web)
OUTSIDER=http://$(pod_ip -n outside outsider):8080/
np_exec() { local p=$1; shift; kc exec -n np "$p" -- "$@"; }
pod_exec() { np_exec "$@"; }
expect_out "without policies the client (node-a) reaches web (node-b)" "^web$" get client "$WEB"
expect_out "so does the other pod" "^web$" get other "$WEB"
expect_out "and a client on web's own node" "^web$" get near-client "$WEB"

echo "== default deny (t=$SECONDS)"
cat >"$WORK/deny.yml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: np}
spec:
  podSelector: {}
  policyTypes: [Ingress]
YAML
expect_ok "kubectl apply the default-deny policy" kc apply -f "$WORK/deny.yml"
if t=$(until_ms 5 in_set node-b in-isolated "$WEB_IP"); then
  pass "node-b isolates web ${t} ms after kubectl returned"
else
  fail "web isolated on node-b" "$(in_node node-b nft list table inet berth-netpol)"
fi
expect_out "kubectl get networkpolicy lists it with its pod selector" "^default-deny +<none> +[0-9]+s$" kc get netpol -n np
expect_out "the API defaulted what it omitted" '^\{\}$' kc get netpol -n np default-deny -o jsonpath='{.spec.podSelector}'
if blocked client "$WEB"; then pass "the request that worked a moment before is blocked (cross-node)"; else fail "client blocked"; fi
if blocked near-client "$WEB"; then pass "also from web's own node (bridged)"; else fail "near-client blocked"; fi
expect_out "egress was not restricted: web's namespace may still reach out" "^outsider$" get web "$OUTSIDER"
expect_out "the node itself still reaches web (kubelet probes)" "^web$" \
  in_node node-b timeout 2 busybox wget -qO- "$WEB"

echo "== allow app=client on the named port (t=$SECONDS)"
cat >"$WORK/allow.yml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-client, namespace: np}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: client}}}]
      ports: [{port: http}]
YAML
kc apply -f "$WORK/allow.yml" >/dev/null
rule_in() { in_node node-b nft list chain inet berth-netpol ingress | grep -q "@p0-in0-peer0"; }
if t=$(until_ms 5 rule_in); then
  pass "node-b has the allow rule ${t} ms after kubectl returned"
else
  fail "allow rule on node-b" "$(in_node node-b nft list table inet berth-netpol)"
fi
if wait_for 5 reaches client "$WEB" web; then
  pass "app=client on node-a is let through"
else
  fail "client allowed" "$(in_node node-b nft list table inet berth-netpol)"
fi
expect_out "and app=client on node-b" "^web$" get near-client "$WEB"
expect_out "kubectl get shows the policy's pod selector" "^allow-client +app=web " kc get netpol -n np allow-client
if blocked other "$WEB"; then pass "another pod is still blocked"; else fail "other still blocked"; fi
if blocked client "$ALT"; then pass "only on the named port (8081 stays closed)"; else fail "8081 closed"; fi

echo "== a pod's labels change: a set element, no chain rewrite (t=$SECONDS)"
# Policies are numbered in namespace/name order: np/allow-client is p0.
OTHER_IP=$(pod_ip -n np other)
kc label pod -n np other app=client --overwrite >/dev/null
if t=$(until_ms 5 in_set node-b p0-in0-peer0 "$OTHER_IP"); then
  pass "relabelled pod joins the peer set on node-b in ${t} ms"
else
  fail "peer set" "$(in_node node-b nft list table inet berth-netpol)"
fi
expect_out "and is let through" "^web$" get other "$WEB"
kc label pod -n np other app=other --overwrite >/dev/null
wait_for 5 not_in_set node-b p0-in0-peer0 "$OTHER_IP"
if blocked other "$WEB"; then pass "relabelled back, blocked again"; else fail "blocked again"; fi

echo "== egress ipBlock with except (t=$SECONDS)"
CIDR_B=$(kc get node node-b -o jsonpath='{.spec.podCIDR}')
OUT_IP=$(pod_ip -n outside outsider)
expect_out "before: client reaches the pod outside the namespace" "^outsider$" get client "$OUTSIDER"
cat >"$WORK/egress.yml" <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress, namespace: np}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: $CIDR_B, except: [$OUT_IP/32]}}]
      ports: [{protocol: TCP, port: 8000, endPort: 8090}]
YAML
kc apply -f "$WORK/egress.yml" >/dev/null
if until_ms 5 in_set node-a eg-isolated "$(pod_ip -n np client)" >/dev/null; then
  pass "the client's egress is isolated on node-a"
else
  fail "egress isolation" "$(in_node node-a nft list table inet berth-netpol)"
fi
if blocked client "$OUTSIDER"; then pass "egress to the except address is blocked"; else fail "except blocked"; fi
expect_out "egress inside the block on a port in range passes" "^web$" get client "$WEB"
expect_out "pods the egress policy does not select are not restricted" "^outsider$" get other "$OUTSIDER"

echo "== deleting the policies (t=$SECONDS)"
kc delete networkpolicy -n np --all >/dev/null
if t=$(until_ms 5 reaches other "$WEB" web); then pass "everything is open again"; else fail "open again"; fi
expect_out "and the client reaches outside again" "^outsider$" get client "$OUTSIDER"

echo "== berth netpol alone (t=$SECONDS)"
# The same controller as a command, here in the control namespace (no pods of its own) for node-a:
# it programs node-a's rules there and takes them away on exit with --cleanup-on-exit.
kc apply -f "$WORK/egress.yml" >/dev/null
ip netns exec "$CL_CONTROL" "$BERTH" netpol --kubeconfig "$KUBECONFIG" --node-name node-a \
  --cleanup-on-exit >"$WORK/netpol.log" 2>&1 &
NP_PID=$!
in_control_set() { ip netns exec "$CL_CONTROL" nft list set inet berth-netpol eg-isolated | grep -qw "$1"; }
if wait_for 10 in_control_set "$(pod_ip -n np client)"; then
  pass "berth netpol --node-name node-a isolates node-a's client"
else
  fail "berth netpol" "$(cat "$WORK/netpol.log")"
fi
kill "$NP_PID"; wait "$NP_PID"
expect_eq "and exits cleanly on SIGTERM" 0 "$?"
expect_err "removing its table (--cleanup-on-exit)" "No such file|does not exist" \
  ip netns exec "$CL_CONTROL" nft list table inet berth-netpol
kc delete networkpolicy -n np --all >/dev/null

echo "== validation (t=$SECONDS)"
cat >"$WORK/bad.yml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: np}
spec:
  podSelector: {}
  ingress:
    - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]
      ports: [{protocol: ICMP, port: http, endPort: 90}]
YAML
expect_err "an invalid policy is refused with the fields named" \
  'spec.ingress\[0\].ports\[0\].protocol: Unsupported value: "ICMP".*|must be a strict subset' \
  kc apply -f "$WORK/bad.yml"
expect_out "every cause is reported" "endPort.*non-numeric" echo "$LAST_OUT"
expect_out "including the except" "except\[0\].*strict subset of .cidr." echo "$LAST_OUT"

finish
