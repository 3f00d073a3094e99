#!/usr/bin/env bash
# spec.healthCheckNodePort with the real kubectl: a LoadBalancer Service with
# externalTrafficPolicy Local gets one from the NodePort range (kubectl describe shows it), a
# taken or misplaced one is refused with upstream's messages, and switching the policy to
# Cluster drops it and frees the port for another Service. (The proxy's health server that
# answers on it is covered by src/proxy/health_check_server_test.cpp.)
source "$(dirname "$0")/lib.sh"
start_server || exit 1

lb() {  # name policy [healthCheckNodePort]
  local hc=${3:+  healthCheckNodePort: $3}
  printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: %s\n  ports: [{port: 80}]\n%s\n' \
    "$1" "$2" "$hc"
}
hc_of() { k get svc "$1" -o 'jsonpath={.spec.healthCheckNodePort}'; }

lb web Local | k apply -f - >/dev/null
HC=$(hc_of web)
if [ -n "$HC" ] && [ "$HC" -ge 30000 ] && [ "$HC" -le 32767 ]; then
  pass "Local LoadBalancer gets a health check nodePort ($HC)"
else fail "health check nodePort allocated" "got '$HC'"; fi
expect_out "kubectl describe shows it" "HealthCheck NodePort: +$HC\b" k describe svc web
expect_err "the same port for another Service is refused" \
  "Internal error occurred: failed to allocate requested HealthCheck NodePort $HC: provided port is already allocated" \
  bash -c "$(declare -f lb); lb other Local $HC | '$KUBECTL' apply -f -"
expect_err "a Cluster-policy Service may not set one" \
  "spec.healthCheckNodePort: Invalid value: 31999: may only be set when \`type\` is 'LoadBalancer' and \`externalTrafficPolicy\` is 'Local'" \
  bash -c "$(declare -f lb); lb other Cluster 31999 | '$KUBECTL' apply -f -"
expect_err "it may not change" "spec.healthCheckNodePort: Forbidden: field is immutable" \
  k patch svc web -p '{"spec":{"healthCheckNodePort":31998}}'

k patch svc web -p '{"spec":{"externalTrafficPolicy":"Cluster"}}' >/dev/null
expect_eq "policy Cluster drops it" "" "$(hc_of web)"
expect_ok "and the port is free for another Service" \
  bash -c "$(declare -f lb); lb other Local $HC | '$KUBECTL' apply -f -"
expect_eq "which holds it now" "$HC" "$(hc_of other)"
k delete svc other >/dev/null
lb again Local "$HC" | k apply -f - >/dev/null 2>&1
expect_eq "deleting the Service frees it" "$HC" "$(hc_of again)"

finish
