#!/usr/bin/env bash
# Dual-stack Services with the real kubectl. A single-stack server refuses RequireDualStack and
# IPv6 with upstream's messages and keeps PreferDualStack to IPv4; a server started with
# --service-cluster-ip-range 10.96.0.0/12,fd00:10:96::/112 gives PreferDualStack and
# RequireDualStack Services a ClusterIP of each family (IPv6 first when asked), an IPv6-only
# Service one IPv6 ClusterIP from the second range, and a downgrade to SingleStack frees the
# secondary (another Service may then take it). A bad second range stops the server with the
# flag's name.
source "$(dirname "$0")/lib.sh"

svc() {  # name policy [families-json] [clusterIPs-json]
  printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n  ipFamilyPolicy: %s\n  ports: [{port: 80}]\n' "$1" "$2"
  [ -n "${3:-}" ] && printf '  ipFamilies: %s\n' "$3"
  [ -n "${4:-}" ] && printf '  clusterIPs: %s\n' "$4"
  true
}
ips_of() { k get svc "$1" -o 'jsonpath={.spec.clusterIPs}'; }
families_of() { k get svc "$1" -o 'jsonpath={.spec.ipFamilies}'; }

echo "== a single-stack server"
start_server || exit 1
expect_err "RequireDualStack is refused" \
  'The Service "both" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services' \
  bash -c "$(declare -f svc); svc both RequireDualStack | '$KUBECTL' apply -f -"
expect_err "IPv6 is refused" \
  'spec.ipFamilies\[0\]: Invalid value: "IPv6": not configured on this cluster' \
  bash -c "$(declare -f svc); svc six SingleStack '[IPv6]' | '$KUBECTL' apply -f -"
svc prefer PreferDualStack | k apply -f - >/dev/null
expect_eq "PreferDualStack stays IPv4 there" '["IPv4"]' "$(families_of prefer)"
stop_server

echo "== a bad second range"
if "$BERTH" server --data-dir "$WORK/bad" --bind-address 127.0.0.1 --secure-port "$(free_port)" \
     --disable-agent --service-cluster-ip-range 10.96.0.0/12,fd00::/64 >"$WORK/bad.log" 2>&1; then
  fail "a /64 IPv6 Service range is refused" "the server started"
else
  expect_out "a /64 IPv6 Service range is refused" \
    "--service-cluster-ip-range: fd00::/64 is not an IPv6 CIDR from /108 to /126" cat "$WORK/bad.log"
fi

echo "== a dual-stack server"
rm -rf "$WORK/data"
PORT=""
start_server --service-cluster-ip-range 10.96.0.0/12,fd00:10:96::/112 || exit 1
svc web PreferDualStack | k apply -f - >/dev/null
IPS=$(ips_of web)
expect_out "PreferDualStack gets an IPv4 and an IPv6 ClusterIP" \
  '^\["10\.(9[6-9]|1[01][0-9])\.[0-9.]+","fd00:10:96::[0-9a-f]+"\]$' echo "$IPS"
expect_eq "ipFamilies IPv4, IPv6" '["IPv4","IPv6"]' "$(families_of web)"
expect_out "kubectl describe lists both" 'IPs: +10\.[0-9.]+,fd00:10:96::' k describe svc web
svc six6 RequireDualStack '[IPv6, IPv4]' | k apply -f - >/dev/null
expect_out "IPv6 first when asked" '^\["fd00:10:96::[0-9a-f]+","10\.' echo "$(ips_of six6)"
svc only6 SingleStack '[IPv6]' '["fd00:10:96::53"]' | k apply -f - >/dev/null
expect_eq "an IPv6-only Service with its requested address" '["fd00:10:96::53"]' "$(ips_of only6)"
expect_err "the same IPv6 address again is refused" \
  'failed to allocate IP fd00:10:96::53: provided IP is already allocated' \
  bash -c "$(declare -f svc); svc dup SingleStack '[IPv6]' '[\"fd00:10:96::53\"]' | '$KUBECTL' apply -f -"
expect_err "an address outside the IPv6 range is refused" \
  'The range of valid IPs is fd00:10:96::/112' \
  bash -c "$(declare -f svc); svc out SingleStack '[IPv6]' '[\"fd00:99::1\"]' | '$KUBECTL' apply -f -"
expect_err "clusterIPs must match ipFamilies" \
  'spec.clusterIPs\[0\]: Invalid value: "10.96.0.77": expected an IPv6 value as indicated by `ipFamilies\[0\]`' \
  bash -c "$(declare -f svc); svc mismatch SingleStack '[IPv6]' '[\"10.96.0.77\"]' | '$KUBECTL' apply -f -"

V4=$(k get svc web -o 'jsonpath={.spec.clusterIPs[0]}')
V6=$(k get svc web -o 'jsonpath={.spec.clusterIPs[1]}')
k patch svc web -p '{"spec":{"ipFamilyPolicy":"SingleStack"}}' >/dev/null
expect_eq "a downgrade to SingleStack keeps the primary only" "[\"$V4\"]" "$(ips_of web)"
svc taker SingleStack '[IPv6]' "[\"$V6\"]" | k apply -f - >/dev/null 2>&1
expect_eq "the freed IPv6 address can be taken again" "[\"$V6\"]" "$(ips_of taker)"
k patch svc web -p '{"spec":{"ipFamilyPolicy":"RequireDualStack"}}' >/dev/null
expect_out "an upgrade adds a new IPv6 address" '^\["10\.[0-9.]+","fd00:10:96::[0-9a-f]+"\]$' echo "$(ips_of web)"
expect_eq "the kubernetes Service stays IPv4 single-stack" '["10.96.0.1"]' \
  "$(k get svc kubernetes -o 'jsonpath={.spec.clusterIPs}')"

finish
