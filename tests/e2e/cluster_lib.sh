# A two-node test cluster made only of network namespaces this test creates. Source it after
# lib.sh, then call cluster_up. Topology (a /24 in 172.31.0.0/16 picked at random):
#
#   netns $CL_SWITCH:  bridge br0 ─┬─ veth ── netns $CL_CONTROL  eth0 .1   berth server --disable-agent
#                                  ├─ veth ── netns $CL_NODE_A   eth0 .11  berth agent (node-a)
#                                  └─ veth ── netns $CL_NODE_B   eth0 .12  berth agent (node-b)
#
# Each agent plugs its pods into its own bridge (berth0) on the podCIDR the node IPAM controller
# gave its Node and routes the other node's podCIDR via that node's address (host-gw), so pods
# reach each other across nodes by pod IP without NAT. Veths are created inside the namespaces
# (`ip -n <switch> link add ... peer ... netns <node>`): nothing is ever added to the root
# namespace. cluster_down (the EXIT trap) stops everything and removes containers, cgroups,
# mounts and namespaces, also on failure.
#
# Knobs (set before cluster_up): CLUSTER_SERVER_FLAGS / CLUSTER_AGENT_FLAGS (arrays of extra
# flags for `berth server` / each `berth agent`).
# Helpers: kc (kubectl from the control namespace), pod_exec POD CMD..., in_node NODE CMD...,
# pod_on NODE NAME IMAGE [kubectl-run flags...] -- CMD..., wait_running POD..., pod_ip POD,
# node_ip NODE, import_test_images DATA-DIR (wait_for is lib.sh's), and for tests with
# namespaces of their own cleanup_agents and netns_agent_cleanup.
#
# One-node clusters (test_ipv6_primary.sh, test_ipv6_only.sh) use, instead of cluster_up,
# make_node_netns NS ADDRESS/PREFIX... and netns_server_up NS [server flags...]: `berth server`
# with its agent in one namespace the test creates.

CL_ID=$RANDOM$RANDOM
CL_NET=172.31.$((RANDOM % 250 + 2))
CL_SWITCH=berth-sw-$CL_ID
CL_CONTROL=berth-ctl-$CL_ID
CL_NODE_A=berth-na-$CL_ID
CL_NODE_B=berth-nb-$CL_ID
CONTROL_IP=$CL_NET.1
NODE_A_IP=$CL_NET.11
NODE_B_IP=$CL_NET.12
CL_PORT=6443
CL_DIR=$WORK/cluster
CLUSTER_SERVER_FLAGS=(${CLUSTER_SERVER_FLAGS[@]+"${CLUSTER_SERVER_FLAGS[@]}"})
CLUSTER_AGENT_FLAGS=(${CLUSTER_AGENT_FLAGS[@]+"${CLUSTER_AGENT_FLAGS[@]}"})
CL_PIDS=()

# node name -> netns, address, agent data dir
node_netns() { case $1 in node-a) echo "$CL_NODE_A" ;; node-b) echo "$CL_NODE_B" ;; esac; }
node_ip() { case $1 in node-a) echo "$NODE_A_IP" ;; node-b) echo "$NODE_B_IP" ;; esac; }
node_agent_dir() { echo "$CL_DIR/$1/agent"; }

kc() { ip netns exec "$CL_CONTROL" "$KUBECTL" "$@"; }
pod_exec() { local pod=$1; shift; kc exec "$pod" -- "$@"; }
in_node() { local ns; ns=$(node_netns "$1"); shift; ip netns exec "$ns" "$@"; }

pod_ip() { kc get pod "$@" -o jsonpath='{.status.podIP}' 2>/dev/null; }
pod_running() { [ "$(kc get pod "$@" -o jsonpath='{.status.phase}' 2>/dev/null)" == Running ]; }
# wait_running POD... [-n NS]: every pod Running within 30 s.
wait_running() {
  local ns=() pods=() p
  while [ $# -gt 0 ]; do
    if [ "$1" == -n ]; then ns=(-n "$2"); shift 2; else pods+=("$1"); shift; fi
  done
  for p in "${pods[@]}"; do wait_for 30 pod_running "$p" "${ns[@]+"${ns[@]}"}" || return 1; done
}

# pod_on NODE NAME IMAGE [kubectl run flags...] -- CMD...: a pod pinned to NODE.
pod_on() {
  local node=$1 name=$2 image=$3; shift 3
  kc run "$name" --image="$image" --restart=Never \
    --overrides="{\"spec\":{\"nodeName\":\"$node\",\"terminationGracePeriodSeconds\":1}}" "$@" >/dev/null
}

# import_test_images DATA-DIR [IMAGES-DIR]: the test images (built into IMAGES-DIR, default
# $WORK/images, unless already there) imported into that data dir's image store.
import_test_images() {
  local images=${2:-$WORK/images}
  if [ ! -f "$images/docker-save.tar" ]; then
    bash "$E2E_DIR/../../scripts/build-test-images.sh" "$images" >/dev/null || return 1
  fi
  "$BERTH" images --data-dir "$1" import "$images/docker-save.tar" >/dev/null
}

# cleanup_agents DIR...: removes what node agents with these data dirs left behind. Containers
# first (their shims then exit and remove the container cgroups), then anything still running
# with $WORK on its command line, the pods' cgroups, and mounts under $WORK. Shared with
# test_kubelet.sh.
cleanup_agents() {
  local dir id d c f
  local crun_wrapper
  crun_wrapper="$(dirname "$BERTH")/berth-crun"  # crun as the agent runs it (--container-runtime)
  for dir in "$@"; do
    for id in $(runc --root "$dir/runc" list -q 2>/dev/null); do
      runc --root "$dir/runc" kill -a "$id" KILL 2>/dev/null
      runc --root "$dir/runc" delete -f "$id" 2>/dev/null
    done
    [ -x "$crun_wrapper" ] || continue
    for id in $(crun --root "$dir/crun" list -q 2>/dev/null); do
      "$crun_wrapper" --root "$dir/crun" kill -a "$id" KILL 2>/dev/null
      "$crun_wrapper" --root "$dir/crun" delete -f "$id" 2>/dev/null
    done
  done
  # ([/]tmp...: a pattern that does not match grep's own command line)
  for f in $(grep -l -- "[${WORK:0:1}]${WORK:1}" /proc/[0-9]*/cmdline 2>/dev/null); do
    f=${f#/proc/}
    kill -9 "${f%/cmdline}" 2>/dev/null
  done
  sleep 0.2
  for dir in "$@"; do
    for d in "$dir"/pods/*/; do
      [ -d "$d" ] || continue
      for c in /sys/fs/cgroup/*/berth/pod"$(basename "$d")"; do
        [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
      done
    done
  done
  grep -o " $WORK[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
}

# netns_agent_cleanup AGENT-DIR NETNS...: the EXIT trap of a test that runs `berth server` with its
# agent in network namespaces of its own: the server stopped, whatever still runs in those
# namespaces killed, what the agent left behind removed (cleanup_agents), the namespaces deleted.
netns_agent_cleanup() {
  local agent=$1 ns p
  shift
  stop_server
  for ns in "$@"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  done
  cleanup_agents "$agent"
  for ns in "$@"; do ip netns del "$ns" 2>/dev/null; done
  cleanup
}

# One-node tests: `berth server` with its node agent in a network namespace of the test's own.
# node_netns_up NAME TAG: exits 1 (naming test NAME) without root, the agent's OCI runtime or the
# CNI plugins;
# creates the namespace NS (berth-TAG-<random>, loopback up) with netns_agent_cleanup as the EXIT
# trap, sets DATA and AGENT, imports the test images into DATA, and defines k (kubectl in NS).
node_netns_up() {
  if [ "$(id -u)" != 0 ] || ! agent_runtime_available || [ ! -x /usr/lib/cni/bridge ]; then
    echo "$1: needs root, ${BERTH_CONTAINER_RUNTIME:-runc} and /usr/lib/cni" >&2
    exit 1
  fi
  NS=berth-$2-$RANDOM$RANDOM
  DATA=$WORK/data
  AGENT=$DATA/agent
  ip netns add "$NS"
  ip netns exec "$NS" ip link set lo up
  trap 'netns_agent_cleanup "$AGENT" "$NS"' EXIT
  bash "$E2E_DIR/../../scripts/build-test-images.sh" "$WORK/images" >/dev/null
  "$BERTH" images --data-dir "$DATA" import "$WORK/images/docker-save.tar" >/dev/null ||
    { echo "cannot import the test images" >&2; exit 1; }
  k() { ip netns exec "$NS" "$KUBECTL" "$@"; }
}

# node_server_start NODE [FLAG...]: starts `berth server` in NS as node NODE (sets PORT,
# KUBECONFIG, SERVER_PID); returns 1 when it does not answer /readyz within 20 s.
node_server_start() {
  local node=$1
  shift
  PORT=$(free_port)
  export KUBECONFIG=$DATA/admin.kubeconfig
  ip netns exec "$NS" "$BERTH" server --data-dir "$DATA" --bind-address 127.0.0.1 \
    --secure-port "$PORT" --node-name "$node" "$@" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_for 20 bash -c "[ -f '$KUBECONFIG' ] && ip netns exec $NS $KUBECTL get --raw /readyz"
}

cluster_down() {
  local p
  for p in ${CL_PIDS[@]+"${CL_PIDS[@]}"}; do kill "$p" 2>/dev/null; done
  for p in ${CL_PIDS[@]+"${CL_PIDS[@]}"}; do wait "$p" 2>/dev/null; done
  CL_PIDS=()
  cleanup_agents "$(node_agent_dir node-a)" "$(node_agent_dir node-b)"
  for p in "$CL_NODE_A" "$CL_NODE_B" "$CL_CONTROL" "$CL_SWITCH"; do ip netns del "$p" 2>/dev/null; done
  if [ "$FAILED" -gt 0 ]; then
    for p in control node-a node-b; do
      echo "--- $p log (tail) ---"
      tail -15 "$CL_DIR/$p.log" 2>/dev/null
    done
  fi
  cleanup
}

# cl_netns NAME ADDRESS PORT: a namespace plugged into the switch's bridge.
cl_netns() {
  ip netns add "$1" && ip -n "$1" link set lo up &&
    ip -n "$CL_SWITCH" link add "$3" type veth peer name eth0 netns "$1" &&
    ip -n "$CL_SWITCH" link set "$3" master br0 up &&
    ip -n "$1" addr add "$2/24" dev eth0 && ip -n "$1" link set eth0 up
}

cl_start_agent() {
  local node=$1 ns dir
  ns=$(node_netns "$node")
  dir=$(node_agent_dir "$node")
  import_test_images "$CL_DIR/$node" "$CL_DIR/images" ||
    { echo "cannot import the test images on $node" >&2; return 1; }
  ip netns exec "$ns" "$BERTH" agent --kubeconfig "$KUBECONFIG" --node-name "$node" \
    --node-ip "$(node_ip "$node")" --data-dir "$dir" \
    ${CLUSTER_AGENT_FLAGS[@]+"${CLUSTER_AGENT_FLAGS[@]}"} >>"$CL_DIR/$node.log" 2>&1 &
  CL_PIDS+=($!)
}

# A node is ready for pods when it is Ready, has its podCIDR and routes the other's.
cl_node_routed() {
  local cidr other
  cidr=$(kc get node "$2" -o jsonpath='{.spec.podCIDR}')
  [ -n "$cidr" ] || return 1
  [ "$(kc get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ] || return 1
  other=$(in_node "$1" ip route show "$cidr")
  [[ "$other" == *"via $(node_ip "$2")"* ]]
}

cluster_up() {
  if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /usr/lib/cni/bridge ]; then
    echo "cluster_lib: needs root, runc and /usr/lib/cni" >&2
    return 1
  fi
  trap cluster_down EXIT
  mkdir -p "$CL_DIR"
  # The test images, built once per run while the namespaces come up.
  bash "$E2E_DIR/../../scripts/build-test-images.sh" "$CL_DIR/images" >/dev/null &
  local images=$!
  ip netns add "$CL_SWITCH" && ip -n "$CL_SWITCH" link set lo up &&
    ip -n "$CL_SWITCH" link add br0 type bridge && ip -n "$CL_SWITCH" link set br0 up &&
    cl_netns "$CL_CONTROL" "$CONTROL_IP" p-ctl &&
    cl_netns "$CL_NODE_A" "$NODE_A_IP" p-a && cl_netns "$CL_NODE_B" "$NODE_B_IP" p-b ||
    { echo "cluster_lib: cannot create the namespaces" >&2; return 1; }
  # Nodes forward between their pod bridge and eth0 (this namespace's setting only).
  in_node node-a sysctl -qw net.ipv4.ip_forward=1 && in_node node-b sysctl -qw net.ipv4.ip_forward=1

  export KUBECONFIG=$CL_DIR/control/admin.kubeconfig
  ip netns exec "$CL_CONTROL" "$BERTH" server --data-dir "$CL_DIR/control" \
    --bind-address "$CONTROL_IP" --secure-port "$CL_PORT" --disable-agent \
    ${CLUSTER_SERVER_FLAGS[@]+"${CLUSTER_SERVER_FLAGS[@]}"} >>"$CL_DIR/control.log" 2>&1 &
  CL_PIDS+=($!)
  SERVER_PID=$!
  wait_for 20 bash -c "[ -f $KUBECONFIG ] && ip netns exec $CL_CONTROL $KUBECTL get --raw /readyz" ||
    { echo "cluster_lib: the server did not start" >&2; tail -20 "$CL_DIR/control.log" >&2; return 1; }
  wait "$images" || { echo "cluster_lib: cannot build the test images" >&2; return 1; }
  cl_start_agent node-a && cl_start_agent node-b || return 1
  if ! wait_for 30 cl_node_routed node-a node-b || ! wait_for 30 cl_node_routed node-b node-a; then
    echo "cluster_lib: the nodes did not come up routed" >&2
    kc get nodes -o wide >&2
    tail -20 "$CL_DIR/node-a.log" "$CL_DIR/node-b.log" >&2
    return 1
  fi
}

# make_node_netns NS ADDRESS/PREFIX...: the namespace of a one-node cluster. Its node addresses
# sit on a veth pair whose both ends stay inside it (uplink, uplink-peer); forwarding on and
# IPv6 duplicate address detection off there only. The caller deletes it (netns_agent_cleanup).
make_node_netns() {
  local ns=$1 a
  shift
  ip netns add "$ns" && ip -n "$ns" link set lo up &&
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
      net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 &&
    ip -n "$ns" link add uplink type veth peer name uplink-peer || return 1
  for a in "$@"; do
    if [[ $a == *:* ]]; then
      ip -n "$ns" addr add "$a" dev uplink nodad || return 1
    else
      ip -n "$ns" addr add "$a" dev uplink || return 1
    fi
  done
  ip -n "$ns" link set uplink up && ip -n "$ns" link set uplink-peer up
}

# netns_server_up NS [berth server flags...]: the test images imported into $DATA, then
# `berth server` (API server, controllers, scheduler, agent with its proxy, DNS and network
# policy) in NS on a free port with the data dir $DATA (the agent's is $DATA/agent), logging to
# $WORK/server.log. Sets PORT, KUBECONFIG and SERVER_PID; k (as kc) runs kubectl inside NS.
# False, with the log's tail on stderr, when the server did not become ready within 20 s.
netns_server_up() {
  local ns=$1
  shift
  CL_CONTROL=$ns  # kc, pod_exec, wait_running and pod_ip then work on this cluster too
  k() { kc "$@"; }
  import_test_images "$DATA" || { echo "cannot import the test images" >&2; return 1; }
  PORT=$(free_port)
  export KUBECONFIG=$DATA/admin.kubeconfig
  ip netns exec "$ns" "$BERTH" server --data-dir "$DATA" --secure-port "$PORT" "$@" \
    >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_for 20 bash -c "[ -f $KUBECONFIG ] && ip netns exec $ns $KUBECTL get --raw /readyz" && return 0
  tail -20 "$WORK/server.log" >&2
  return 1
}

# need_netns_tools TEST: exits unless root with runc, nft and the CNI plugins.
need_netns_tools() {
  if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /usr/lib/cni/bridge ] ||
     ! command -v nft >/dev/null; then
    echo "$1: needs root, runc, nft and /usr/lib/cni" >&2
    exit 1
  fi
}

# expect_server_refuses NAME REGEX [berth server flags...]: `berth server` (no agent, a scratch
# data dir) stops at start with a message matching REGEX (one still running after 20 s fails).
expect_server_refuses() {
  local name=$1 want=$2
  shift 2
  if timeout 20 "$BERTH" server --data-dir "$WORK/bad" --secure-port "$(free_port)" --disable-agent "$@" \
       >"$WORK/bad.log" 2>&1; then
    fail "$name" "the server started"
  else
    expect_out "$name" "$want" cat "$WORK/bad.log"
  fi
}

# pod_manifest NAME LABELS COMMAND: a Pod of the test web image (hostname NAME, subdomain web)
# running COMMAND (a YAML list), for `k apply -f -`. WEB_SERVER answers its hostname on :8080.
WEB_SERVER='["sh", "-c", "mkdir -p /tmp/w && hostname > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w"]'
pod_manifest() {
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, labels: %s}\nspec:\n  hostname: %s\n  subdomain: web\n  terminationGracePeriodSeconds: 1\n  containers:\n  - {name: c, image: "berth-test/web:1.0", command: %s}\n' \
    "$1" "$2" "$1" "$3"
}
# pod_get POD URL: what POD gets from URL (busybox wget, 3 s at most).
pod_get() { pod_exec "$1" busybox timeout 3 wget -qO- "$2" 2>/dev/null; }
# pod_answers POD URL [WANT]: POD gets WANT (default "web", the web pod's hostname) from URL.
pod_answers() { [ "$(pod_get "$1" "$2")" == "${3:-web}" ]; }
pod_blocked() { ! pod_answers "$@"; }

# expect_kubernetes_service NS ADDRESS CLUSTER-IP FAMILY: the `kubernetes` Service holds
# CLUSTER-IP (SingleStack FAMILY), its EndpointSlice the advertise ADDRESS with that address type,
# and the API server answers in NS through the ClusterIP (the proxy's DNAT to ADDRESS).
expect_kubernetes_service() {
  local ns=$1 address=$2 ip=$3 family=$4 url
  expect_eq "the kubernetes Service holds $ip" "$ip [\"$family\"] SingleStack" \
    "$(kc get svc kubernetes -o 'jsonpath={.spec.clusterIP} {.spec.ipFamilies} {.spec.ipFamilyPolicy}')"
  expect_eq "its EndpointSlice is $family with the advertise address $address" "$family $address" \
    "$(kc get endpointslice kubernetes -o 'jsonpath={.addressType} {.endpoints[0].addresses[0]}')"
  url="https://$ip/version"
  [[ $ip == *:* ]] && url="https://[$ip]/version"
  if wait_for 10 bash -c "ip netns exec $ns curl -sk --max-time 2 $url | grep -q gitVersion"; then
    pass "the API server answers through the ClusterIP ($url)"
  else
    fail "API server through $url" "$(ip netns exec "$ns" curl -sk --max-time 2 "$url" 2>&1)"
  fi
}

# deny_ingress: a default-deny ingress NetworkPolicy ("deny") for every pod of the default namespace.
deny_ingress() {
  printf '%s\n' 'apiVersion: networking.k8s.io/v1' 'kind: NetworkPolicy' 'metadata: {name: deny}' \
    'spec: {podSelector: {}, policyTypes: [Ingress]}' | kc apply -f - >/dev/null
}
