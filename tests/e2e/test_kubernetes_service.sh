#!/usr/bin/env bash
# The `kubernetes` Service, Endpoints and EndpointSlice in default come back within seconds after deletion,
# as upstream's API server recreates them.
source "$(dirname "$0")/lib.sh"
start_server || exit 1

expect_out "the Service exists at 10.96.0.1" '^10.96.0.1 443$' \
  k get svc kubernetes -o jsonpath='{.spec.clusterIP} {.spec.ports[0].port}'
slice_of() {
  k get endpointslice kubernetes -o jsonpath='{.endpoints[0].addresses[0]}:{.ports[0].port} {.metadata.labels.kubernetes\.io/service-name}' 2>/dev/null
}
expect_eq "the EndpointSlice has the server's address" "127.0.0.1:$PORT kubernetes" "$(slice_of)"
expect_ok "delete the Service, Endpoints and EndpointSlice" k delete svc,endpoints,endpointslice kubernetes
back=""
for _ in $(seq 1 60); do
  back=$(k get svc kubernetes -o jsonpath='{.spec.clusterIP}' 2>/dev/null)
  ep=$(k get endpoints kubernetes -o jsonpath='{.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}' 2>/dev/null)
  slice=$(slice_of)
  [ -n "$back" ] && [ -n "$ep" ] && [ -n "$slice" ] && break
  sleep 0.1
done
expect_eq "the Service is recreated with its clusterIP" "10.96.0.1" "$back"
expect_eq "the Endpoints are recreated with the server's address" "127.0.0.1:$PORT" "$ep"
expect_eq "the EndpointSlice is recreated" "127.0.0.1:$PORT kubernetes" "$slice"
expect_out "labels as upstream" '^apiserver kubernetes$' \
  k get svc kubernetes -o jsonpath='{.metadata.labels.component} {.metadata.labels.provider}'

finish
