#!/usr/bin/env bash
# --cluster-dns: the kube-dns Service's ClusterIP (and the agents' resolv.conf nameserver and
# zone) is the 10th address of --service-cluster-ip-range unless given, as kubeadm and k3s place
# it; an address outside the range stops `berth server` and `berth agent` with a clear error.
# (test_proxy_agent.sh runs pods against it; here only the server, without its agent.)
source "$(dirname "$0")/lib.sh"

kube_dns_ip() { k -n kube-system get svc kube-dns -o 'jsonpath={.spec.clusterIP}'; }
restart_fresh() {  # flags...: a new server with an empty data dir
  stop_server
  rm -rf "$WORK/data"
  start_server "$@"
}

start_server || exit 1
expect_eq "default range: kube-dns at 10.96.0.10" "10.96.0.10" "$(kube_dns_ip)"

restart_fresh --service-cluster-ip-range 10.43.0.0/16 || exit 1
expect_eq "range 10.43.0.0/16: kube-dns at its 10th address" "10.43.0.10" "$(kube_dns_ip)"

restart_fresh --service-cluster-ip-range 10.43.0.0/16 --cluster-dns 10.43.0.53 || exit 1
expect_eq "--cluster-dns 10.43.0.53: kube-dns there" "10.43.0.53" "$(kube_dns_ip)"
expect_err "and that address is reserved like any ClusterIP" "provided IP is already allocated" \
  k create service clusterip taken --tcp=80 --clusterip=10.43.0.53
stop_server

expect_err "an address outside the range stops the server" \
  "--cluster-dns 10.96.0.10 is not inside the service range 10.43.0.0/16" \
  timeout 20 "$BERTH" server --data-dir "$WORK/bad" --bind-address 127.0.0.1 --secure-port 0 \
  --disable-agent --service-cluster-ip-range 10.43.0.0/16 --cluster-dns 10.96.0.10
expect_err "and the agent (against its --service-cidr), before it connects anywhere" \
  "--cluster-dns 10.43.0.10 is not inside the service range 10.96.0.0/12" \
  timeout 20 "$BERTH" agent --server https://127.0.0.1:1 --token t --data-dir "$WORK/agent" \
  --cluster-dns 10.43.0.10

finish
