#!/usr/bin/env bash
# The two-node test cluster (cluster_lib.sh): a control plane and two node agents, each in a
# network namespace of its own on a shared bridge, driven by the real kubectl. Both nodes
# register with their own podCIDRs, route each other's pods (host-gw), and a pod on node-a
# fetches a page from an httpd pod on node-b by pod IP, without NAT.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/cluster_lib.sh"

cluster_up || { fail "cluster_up"; finish; exit 1; }

echo "== nodes (t=$SECONDS)"
expect_eq "both nodes are Ready" "node-a Ready node-b Ready " \
  "$(kc get nodes --no-headers | awk '{printf "%s %s ", $1, $2}')"
expect_out "with their own addresses" "^node-a=$NODE_A_IP node-b=$NODE_B_IP $" \
  kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.addresses[?(@.type=="InternalIP")].address} {end}'
CIDR_A=$(kc get node node-a -o jsonpath='{.spec.podCIDR}')
CIDR_B=$(kc get node node-b -o jsonpath='{.spec.podCIDR}')
if [ -n "$CIDR_A" ] && [ -n "$CIDR_B" ] && [ "$CIDR_A" != "$CIDR_B" ]; then
  pass "distinct podCIDRs ($CIDR_A, $CIDR_B)"
else
  fail "distinct podCIDRs" "$CIDR_A / $CIDR_B"
fi
expect_out "node-a routes node-b's pods via node-b" "^$CIDR_B via $NODE_B_IP dev eth0 proto 98" \
  in_node node-a ip route show "$CIDR_B"
expect_out "and node-b node-a's via node-a" "^$CIDR_A via $NODE_A_IP dev eth0 proto 98" \
  in_node node-b ip route show "$CIDR_A"
expect_eq "IP forwarding is on in the node namespaces" "1 1" \
  "$(in_node node-a sysctl -n net.ipv4.ip_forward) $(in_node node-b sysctl -n net.ipv4.ip_forward)"

echo "== pods on both nodes (t=$SECONDS)"
pod_on node-b web berth-test/web:1.0 -l app=web
pod_on node-a client berth-test/busybox:1.0 -- sleep 3600
if wait_running web client; then pass "a pod runs on each node"; else fail "pods Running" "$(kc get pods -o wide)"; fi
WEB_IP=$(pod_ip web)
CLIENT_IP=$(pod_ip client)
if in_cidr() { python3 -c 'import ipaddress,sys; sys.exit(ipaddress.ip_address(sys.argv[1]) not in ipaddress.ip_network(sys.argv[2]))' "$@"; }
   in_cidr "$WEB_IP" "$CIDR_B" && in_cidr "$CLIENT_IP" "$CIDR_A"; then
  pass "each pod's IP is on its node's podCIDR ($CLIENT_IP, $WEB_IP)"
else
  fail "pod IPs on the podCIDRs" "client=$CLIENT_IP web=$WEB_IP"
fi
expect_out "a pod on node-a fetches from the httpd pod on node-b by pod IP" "^web v1$" \
  pod_exec client sh -c "timeout 5 wget -qO- http://$WEB_IP:8080/"
# A CGI that answers with the address the request came from: the client's pod IP, not a node's.
kc run whoami --image=berth-test/busybox:1.0 --restart=Never \
  --overrides='{"spec":{"nodeName":"node-b","terminationGracePeriodSeconds":1}}' --command -- sh -c \
  'mkdir -p /tmp/w/cgi-bin && printf "#!/bin/sh\necho Content-Type: text/plain\necho\necho \$REMOTE_ADDR\n" >/tmp/w/cgi-bin/ip && chmod +x /tmp/w/cgi-bin/ip && exec httpd -f -p 8081 -h /tmp/w' >/dev/null
wait_running whoami
expect_out "the server sees the client's pod IP (no masquerading)" "^(\[::ffff:)?$CLIENT_IP\]?$" \
  pod_exec client sh -c "timeout 5 wget -qO- http://$(pod_ip whoami):8081/cgi-bin/ip"
expect_out "and back: node-b's pod reaches node-a's pod (ping)" "1 packets received" \
  pod_exec web ping -c 1 -W 2 "$CLIENT_IP"

echo "== scheduled pods spread over the nodes (t=$SECONDS)"
for i in 1 2 3 4; do
  kc run "s$i" --image=berth-test/busybox:1.0 --restart=Never \
    --overrides='{"spec":{"terminationGracePeriodSeconds":1}}' -- sleep 3600 >/dev/null
done
if wait_running s1 s2 s3 s4; then pass "pods without nodeName are scheduled and run"; else fail "scheduled pods" "$(kc get pods -o wide)"; fi
expect_eq "on both nodes" "node-a node-b" \
  "$(kc get pods s1 s2 s3 s4 -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | xargs)"

echo "== a node that goes takes its route with it (t=$SECONDS)"
kc delete pod s1 s2 s3 s4 --grace-period=0 --force --wait=false >/dev/null 2>&1
kc label node node-b probe=1 >/dev/null
no_route_b() { [ -z "$(in_node node-a ip route show "$CIDR_B" proto 98)" ]; }
kc delete node node-b --wait=false >/dev/null
if wait_for 5 no_route_b; then pass "deleting Node node-b removes node-a's route to its pods"; else fail "route removed" "$(in_node node-a ip route)"; fi
# node-b's agent registers again on its next heartbeat (and gets a podCIDR again).

finish
