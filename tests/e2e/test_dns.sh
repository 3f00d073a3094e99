#!/usr/bin/env bash
# Cluster DNS end to end: `berth server` shows the kube-dns Service as the lecture does, and
# `berth dns` answers from the API's Services and EndpointSlices. The lecture's example runs
# through glibc's real stub resolver (getent) with a pod's resolv.conf: from namespace bar `foo`
# is Service foo in bar, from quux `foo.bar` is. Everything runs inside a network namespace this
# test creates (DNS must listen on port 53 for resolv.conf); other names go to a fake upstream on
# that namespace's loopback, never anywhere else.
if [ -z "${BERTH_DNS_NETNS:-}" ]; then
  [ "$(id -u)" == 0 ] || { echo "test_dns: needs root (network namespace)" >&2; exit 1; }
  NS=berth-test-dns-$RANDOM$RANDOM
  ip netns add "$NS" || exit 1
  trap 'ip netns del "$NS" 2>/dev/null; rm -rf "/etc/netns/$NS"' EXIT
  mkdir -p "/etc/netns/$NS"
  # A pod in namespace bar, as the kubelet writes its resolv.conf (network::clusterResolvConf).
  printf 'search bar.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n' \
    >"/etc/netns/$NS/resolv.conf"
  ip netns exec "$NS" ip link set lo up
  BERTH_DNS_NETNS=$NS ip netns exec "$NS" bash "$0" "$@"
  exit $?
fi

source "$(dirname "$0")/lib.sh"
start_server || exit 1

# ---- the kube-dns Service, as in the lecture's `kubectl get svc --namespace=kube-system`
expect_out "kube-dns Service at 10.96.0.10 with 53/UDP,53/TCP,9153/TCP" \
  "^kube-dns +ClusterIP +10\.96\.0\.10 +<none> +53/UDP,53/TCP,9153/TCP" \
  k get svc --namespace=kube-system --no-headers
expect_out "kube-dns has no selector and keeps traffic on the node" "^<none> Local$" \
  k get svc -n kube-system kube-dns -o 'jsonpath={.spec.selector}{"<none>"} {.spec.internalTrafficPolicy}'

# ---- objects the DNS answers from
k create namespace bar >/dev/null
k create namespace quux >/dev/null
k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: foo, namespace: bar}
spec:
  ports: [{name: http, port: 5000, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: bar}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-manual
  namespace: bar
  labels: {kubernetes.io/service-name: db}
addressType: IPv4
ports: [{name: pg, port: 5432, protocol: TCP}]
endpoints:
- addresses: [10.244.0.7]
  hostname: db-0
  conditions: {ready: true}
- addresses: [10.244.1.8]
  hostname: db-1
  conditions: {ready: true}
EOF
FOO_IP=$(k get svc -n bar foo -o jsonpath='{.spec.clusterIP}')

# ---- a fake upstream resolver on this namespace's loopback: A 192.0.2.7 for *example.org,
# NXDOMAIN for anything else
UPSTREAM_PORT=$(free_port)
cat >"$WORK/dnsclient.py" <<'EOF'
import socket, struct, sys

def name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".") if l) + b"\0"

def skip_name(m, i):
    while True:
        l = m[i]
        if l >= 0xC0: return i + 2
        if l == 0: return i + 1
        i += 1 + l

def read_name(m, i):
    labels = []
    while True:
        l = m[i]
        if l >= 0xC0: i = ((l & 0x3F) << 8) | m[i + 1]; continue
        if l == 0: return ".".join(labels)
        labels.append(m[i + 1:i + 1 + l].decode()); i += 1 + l

def query(port, qname, qtype, tcp=False):
    q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + name(qname) + struct.pack(">HH", qtype, 1)
    if tcp:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        s.sendall(struct.pack(">H", len(q)) + q)
        ln = struct.unpack(">H", s.recv(2))[0]; m = b""
        while len(m) < ln: m += s.recv(ln - len(m))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
        s.sendto(q, ("127.0.0.1", port)); m = s.recv(65535)
    rcode = m[3] & 0xF
    an = struct.unpack(">H", m[6:8])[0]
    i = skip_name(m, 12) + 4
    out = []
    for _ in range(an):
        i = skip_name(m, i)
        t, _, _, rdlen = struct.unpack(">HHIH", m[i:i + 10]); i += 10
        rd = m[i:i + rdlen]
        if t == 1: out.append(socket.inet_ntoa(rd))
        elif t == 33:
            p, w, port_ = struct.unpack(">HHH", rd[:6]); out.append("%d %s" % (port_, read_name(m, i + 6)))
        elif t in (5, 12): out.append(read_name(m, i))
        i += rdlen
    return ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN"][rcode] if rcode < 4 else str(rcode), sorted(out)

def upstream(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", port))
    while True:
        q, a = s.recvfrom(4096)
        qend = skip_name(q, 12) + 4
        qtype = struct.unpack(">H", q[qend - 4:qend - 2])[0]
        known = read_name(q, 12).lower().endswith("example.org")
        ans = (b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.7")) if qtype == 1 and known else b""
        flags = b"\x81\x80" if known else b"\x81\x83"  # NXDOMAIN for the rest
        s.sendto(q[:2] + flags + struct.pack(">HHHH", 1, 1 if ans else 0, 0, 0) + q[12:qend] + ans, a)

if __name__ == "__main__":
    if sys.argv[1] == "upstream": upstream(int(sys.argv[2]))
    else:
        rc, rrs = query(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), len(sys.argv) > 4)
        print(rc, *rrs)
EOF
python3 "$WORK/dnsclient.py" upstream "$UPSTREAM_PORT" &

# ---- `berth dns` on port 53 of this namespace's loopback
METRICS_PORT=$(free_port)
"$BERTH" dns --kubeconfig "$KUBECONFIG" --listen 127.0.0.1:53 --metrics "127.0.0.1:$METRICS_PORT" \
  --upstream "127.0.0.1:$UPSTREAM_PORT" >>"$WORK/dns.log" 2>&1 &
DNS_PID=$!
q() { python3 "$WORK/dnsclient.py" 53 "$@"; }
for _ in $(seq 1 100); do
  [ "$(q foo.bar.svc.cluster.local 1 2>/dev/null)" == "NOERROR $FOO_IP" ] && break
  sleep 0.1
done

expect_eq "A foo.bar.svc.cluster.local is the ClusterIP (UDP)" "NOERROR $FOO_IP" \
  "$(q foo.bar.svc.cluster.local 1)"
expect_eq "the same over TCP" "NOERROR $FOO_IP" "$(q foo.bar.svc.cluster.local 1 tcp)"
expect_eq "SRV _http._tcp.foo.bar" "NOERROR 5000 foo.bar.svc.cluster.local" \
  "$(q _http._tcp.foo.bar.svc.cluster.local 33)"
expect_eq "headless A: the endpoints" "NOERROR 10.244.0.7 10.244.1.8" \
  "$(q db.bar.svc.cluster.local 1)"
expect_eq "headless SRV: one per endpoint, by hostname" \
  "NOERROR 5432 db-0.db.bar.svc.cluster.local 5432 db-1.db.bar.svc.cluster.local" \
  "$(q _pg._tcp.db.bar.svc.cluster.local 33)"
expect_eq "endpoint hostname A" "NOERROR 10.244.1.8" "$(q db-1.db.bar.svc.cluster.local 1)"
expect_eq "PTR of the ClusterIP" "NOERROR foo.bar.svc.cluster.local" \
  "$(q "$(awk -F. '{print $4"."$3"."$2"."$1}' <<<"$FOO_IP").in-addr.arpa" 12)"
expect_eq "pod record from its name" "NOERROR 10.244.3.4" "$(q 10-244-3-4.bar.pod.cluster.local 1)"
expect_eq "unknown cluster name: NXDOMAIN" "NXDOMAIN" "$(q nope.bar.svc.cluster.local 1)"
expect_eq "other names go to the upstream" "NOERROR 192.0.2.7" "$(q www.example.org 1)"

# ---- the lecture's example through glibc's resolver (search list + ndots:5). `getent hosts`
# (gethostbyname2), not ahosts: getaddrinfo's AI_ADDRCONFIG finds no address but loopback here.
expect_out "from a pod in bar, 'foo' is Service foo in bar" \
  "^$FOO_IP +foo\.bar\.svc\.cluster\.local" getent hosts foo
# A pod in quux: its own resolv.conf over /etc/resolv.conf in a private mount namespace.
printf 'search quux.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n' \
  >"$WORK/resolv-quux.conf"
in_quux() { unshare -m sh -c "mount --bind $WORK/resolv-quux.conf /etc/resolv.conf && $*"; }
expect_out "from a pod in quux, 'foo.bar' is Service foo in bar" \
  "^$FOO_IP +foo\.bar\.svc\.cluster\.local" in_quux getent hosts foo.bar
expect_err "from quux, plain 'foo' does not resolve" "" in_quux getent hosts foo

# ---- changes show within a moment; the metrics count what was asked
k delete svc -n bar foo >/dev/null
ok=""
for _ in $(seq 1 50); do
  [ "$(q foo.bar.svc.cluster.local 1)" == "NXDOMAIN" ] && { ok=1; break; }
  sleep 0.1
done
expect_eq "a deleted Service is NXDOMAIN within 5 s" "1" "$ok"
expect_out "coredns_dns_requests_total on /metrics" \
  'coredns_dns_requests_total\{server="dns://127.0.0.1:53",zone=".",view="",proto="tcp",family="1",type="A"\} [1-9]' \
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics"
expect_out "coredns_dns_responses_total counts NXDOMAIN" \
  'coredns_dns_responses_total\{.*rcode="NXDOMAIN",plugin="kubernetes"\} [1-9]' \
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics"

kill "$DNS_PID"
wait "$DNS_PID" 2>/dev/null

# ---- the node agent runs the same server on its pod gateway and publishes kube-dns-<node>
# (no pods: the gateway address is put on lo here, as the bridge would carry it).
"$BERTH" agent --kubeconfig "$KUBECONFIG" --node-name dns-node --data-dir "$WORK/agent" \
  --busybox-images --kubelet-port 0 >>"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
slice_addr() {
  k get endpointslice -n kube-system kube-dns-dns-node \
    -o jsonpath='{.endpoints[0].addresses[0]} {.endpoints[0].nodeName} {.metadata.labels.kubernetes\.io/service-name}' 2>/dev/null
}
gw=""
for _ in $(seq 1 150); do
  cidr=$(k get node dns-node -o jsonpath='{.spec.podCIDR}' 2>/dev/null)
  want=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1])[1])" "${cidr:-10.244.0.0/24}")
  read -r gw node svc <<<"$(slice_addr)"
  [ -n "$cidr" ] && [ "$gw" == "$want" ] && break
  sleep 0.1
done
expect_eq "the agent's EndpointSlice: its pod gateway, its node, Service kube-dns" \
  "$want dns-node kube-dns" "$(slice_addr)"
ip addr add "$gw/32" dev lo
ok=""
for _ in $(seq 1 30); do
  python3 - "$gw" "$FOO_IP" <<'EOF2' && { ok=1; break; }
import socket, struct, sys
q = struct.pack(">HHHHHH", 9, 0x0100, 1, 0, 0, 0) + b"\2db\3bar\3svc\7cluster\5local\0\0\1\0\1"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
s.sendto(q, (sys.argv[1], 53)); m = s.recv(4096)
sys.exit(0 if m[3] & 0xF == 0 and struct.unpack(">H", m[6:8])[0] == 2 else 1)
EOF2
  sleep 0.1
done
expect_eq "the agent's DNS answers on the gateway's port 53" "1" "$ok"
kill "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
expect_err "the agent removes its EndpointSlice when it stops" "NotFound|not found" \
  k get endpointslice -n kube-system kube-dns-dns-node
finish
