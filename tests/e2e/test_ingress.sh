#!/usr/bin/env bash
# The built-in ingress controller with Debian's nginx, inside a network namespace this test
# creates: two hosts routed to two Services (whose endpoints are HTTP servers the test runs),
# an Exact path, TLS from a Secret, 404 for what no rule covers, the default IngressClass,
# Ingress status with the address, and configuration changes applied by graceful reloads that
# drop no request.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || [ ! -x /usr/sbin/nginx ]; then
  echo "test_ingress: needs root and nginx" >&2
  exit 1
fi
NS=berth-ing-$RANDOM$RANDOM
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
in_ns() { ip netns exec "$NS" "$@"; }
ingress_cleanup() {
  stop_server
  # nginx runs in a process group of its own; take all of it should the server not have.
  [ -s "$WORK/data/ingress/nginx.pid" ] && kill -9 -- "-$(cat "$WORK/data/ingress/nginx.pid")" 2>/dev/null
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  # nginx children of the server exit with it; anything left is ours by its config path.
  for f in $(grep -l -- "[${WORK:0:1}]${WORK:1}" /proc/[0-9]*/cmdline 2>/dev/null); do
    f=${f#/proc/}; kill -9 "${f%/cmdline}" 2>/dev/null
  done
  ip netns del "$NS" 2>/dev/null
  cleanup
}
trap ingress_cleanup EXIT

# Two backends: plain HTTP servers answering with their name.
for svc in alpha beta; do
  mkdir -p "$WORK/www-$svc/exact"
  echo "served by $svc" >"$WORK/www-$svc/index.html"
  echo "exact $svc" >"$WORK/www-$svc/exact/index.html"
done
PA=$(free_port); PB=$(free_port)
in_ns python3 -m http.server "$PA" --bind 127.0.0.1 --directory "$WORK/www-alpha" >/dev/null 2>&1 &
in_ns python3 -m http.server "$PB" --bind 127.0.0.1 --directory "$WORK/www-beta" >/dev/null 2>&1 &

PORT=$(free_port); HTTP=$(free_port); HTTPS=$(free_port)
export KUBECONFIG=$WORK/data/admin.kubeconfig
k() { in_ns "$KUBECTL" "$@"; }
ip netns exec "$NS" "$BERTH" server --data-dir "$WORK/data" --bind-address 127.0.0.1 --secure-port "$PORT" \
  --disable-agent --ingress on --ingress-http-port "$HTTP" --ingress-https-port "$HTTPS" \
  --ingress-status-address 127.0.0.1 >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  [ -f "$KUBECONFIG" ] && k get --raw /readyz >/dev/null 2>&1 && break
  sleep 0.1
done

get() {  # get HOST PATH: the body nginx answers
  in_ns curl -s --max-time 3 -H "Host: $1" "http://127.0.0.1:$HTTP$2"
}
code() {
  in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 3 -H "Host: $1" "http://127.0.0.1:$HTTP$2"
}
answers() { [ "$(get "$1" "$2")" == "$3" ]; }

# Services without selectors whose EndpointSlices point at the test's servers.
for pair in "alpha $PA" "beta $PB"; do
  set -- $pair
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: $1}
spec:
  ports: [{name: http, port: 80, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $1-manual
  labels: {kubernetes.io/service-name: $1, endpointslice.kubernetes.io/managed-by: test}
addressType: IPv4
ports: [{name: http, port: $2, protocol: TCP}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
YAML
done

expect_out "the default IngressClass exists" "berth-nginx.*berth.dev/ingress-nginx" \
  k get ingressclass
expect_eq "it is the default class" "true" \
  "$(k get ingressclass berth-nginx -o jsonpath='{.metadata.annotations.ingressclass\.kubernetes\.io/is-default-class}')"

k apply -f - >/dev/null <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: two-hosts}
spec:
  rules:
  - host: alpha.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: alpha, port: {name: http}}}}
      - {path: /exact/, pathType: Exact, backend: {service: {name: beta, port: {number: 80}}}}
  - host: beta.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: beta, port: {number: 80}}}}
YAML
if wait_for 10 answers alpha.example / "served by alpha"; then pass "host alpha.example reaches Service alpha"; else
  fail "host alpha.example reaches Service alpha" "$(get alpha.example /; tail -5 "$WORK/data/ingress/error.log" 2>/dev/null)"; fi
# (A reload's old worker may still take a connection or two with the previous configuration:
# each check waits for the new one, as a client polling an Ingress would.)
if wait_for 10 answers beta.example / "served by beta"; then pass "host beta.example reaches Service beta"; else
  fail "host beta.example reaches Service beta" "$(get beta.example /)"; fi
if wait_for 10 answers alpha.example /exact/ "exact beta"; then pass "an Exact path goes to its own backend"; else
  fail "an Exact path goes to its own backend" "$(get alpha.example /exact/)"; fi
expect_eq "an unknown host gets 404" "404" "$(code nobody.example /)"
if wait_for 10 bash -c "[ \"\$(ip netns exec $NS $KUBECTL get ingress two-hosts -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\" == 127.0.0.1 ]"; then
  pass "Ingress status has the address"; else fail "Ingress status has the address" "$(k get ingress two-hosts -o yaml)"; fi

echo "== TLS from a Secret"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=beta.example" \
  -addext "subjectAltName=DNS:beta.example" -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
expect_ok "create the TLS secret" k create secret tls beta-tls --cert "$WORK/tls.crt" --key "$WORK/tls.key"
expect_ok "add tls to the Ingress" k patch ingress two-hosts --type merge \
  -p '{"spec":{"tls":[{"hosts":["beta.example"],"secretName":"beta-tls"}]}}'
tls_get() {
  in_ns curl -s --max-time 3 --cacert "$WORK/tls.crt" --resolve "beta.example:$HTTPS:127.0.0.1" \
    "https://beta.example:$HTTPS/"
}
if wait_for 10 bash -c "[ \"\$($(declare -f tls_get); NS=$NS WORK=$WORK HTTPS=$HTTPS; in_ns() { ip netns exec $NS \"\$@\"; }; tls_get)\" == 'served by beta' ]"; then
  pass "HTTPS with the Secret's certificate reaches beta"; else fail "HTTPS with the Secret's certificate reaches beta" "$(tls_get 2>&1)"; fi

echo "== reloads drop nothing"
( fails=0; n=0
  while [ ! -f "$WORK/stop" ]; do
    c=$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: alpha.example" "http://127.0.0.1:$HTTP/")
    n=$((n + 1)); [ "$c" == 200 ] || fails=$((fails + 1))
  done
  echo "$n $fails" >"$WORK/load.result" ) &
LOAD=$!
for i in 1 2 3 4 5; do
  k create ingress "churn-$i" --rule="churn$i.example/*=beta:80" >/dev/null
  sleep 0.4
  k delete ingress "churn-$i" >/dev/null
  sleep 0.4
done
touch "$WORK/stop"; wait "$LOAD"
read -r total failed <"$WORK/load.result"
if [ "$total" -gt 20 ] && [ "$failed" -eq 0 ]; then pass "no request failed across 10 reloads ($total requests)"; else
  fail "no request failed across 10 reloads" "total=$total failed=$failed"; fi
gone() { [ "$(code churn5.example /)" == 404 ]; }
if wait_for 10 gone; then pass "a deleted Ingress's host is gone"; else
  fail "a deleted Ingress's host is gone" "$(code churn5.example /)"; fi
expect_ok "deleting the Ingress" k delete ingress two-hosts
if wait_for 10 bash -c "[ \"\$(ip netns exec $NS curl -s -o /dev/null -w '%{http_code}' -H 'Host: alpha.example' http://127.0.0.1:$HTTP/)\" == 404 ]"; then
  pass "routes go with the Ingress"; else fail "routes go with the Ingress"; fi
finish
