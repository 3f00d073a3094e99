# Shared helpers for the e2e tests: start a real `berth server` on loopback with its own data dir,
# point the real kubectl at it, and count assertions. Source it; call start_server first.
set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FIXTURES=$E2E_DIR/fixtures
BERTH=${BERTH:?set BERTH to the berth binary}
WORK=$(mktemp -d /tmp/berth-e2e.XXXXXX)
export HOME=$WORK/home            # kubectl's discovery cache stays inside the test
mkdir -p "$HOME"
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
PASSED=0
FAILED=0
SERVER_PID=""

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_server [extra flags]: starts berth on a free loopback port; sets PORT and KUBECONFIG.
# The server's own node agent stays off: it would run real containers and set up pod networking
# in this (the root) network namespace. Tests of the agent run the server in a namespace of
# their own (test_kubelet.sh).
start_server() {
  PORT=${PORT:-$(free_port)}
  "$BERTH" server --data-dir "$WORK/data" --bind-address 127.0.0.1 --secure-port "$PORT" \
    --disable-agent "$@" \
    >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  export KUBECONFIG=$WORK/data/admin.kubeconfig
  for _ in $(seq 1 100); do
    if [ -f "$KUBECONFIG" ] && curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "server did not start; log:" >&2
  cat "$WORK/server.log" >&2
  return 1
}

# make_webhook_tls CA-NAME CN SANS: a CA ($WORK/ca.crt, CA = its base64 for a caBundle) and a
# serving certificate signed by it ($WORK/tls.crt, tls.key) for the subjectAltNames SANS
# ("IP:127.0.0.1,DNS:...").
make_webhook_tls() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.crt" -days 1 \
    -subj "/CN=$1" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -keyout "$WORK/tls.key" -out "$WORK/tls.csr" \
    -subj "/CN=$2" >/dev/null 2>&1
  printf 'subjectAltName=%s\n' "$3" >"$WORK/san.ext"
  openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial \
    -out "$WORK/tls.crt" -days 1 -extfile "$WORK/san.ext" >/dev/null 2>&1
  CA=$(base64 -w0 "$WORK/ca.crt")
}

# start_webhook_fixture SCRIPT: runs fixtures/SCRIPT with make_webhook_tls's certificate, logging
# to $WORK/hook.log; sets HOOK_PID and HOOK_PORT once it listens.
start_webhook_fixture() {
  python3 "$FIXTURES/$1" "$WORK/tls.crt" "$WORK/tls.key" "$WORK/hook.port" "$WORK/hook.log" &
  HOOK_PID=$!
  for _ in $(seq 1 50); do [ -f "$WORK/hook.port" ] && break; sleep 0.1; done
  HOOK_PORT=$(cat "$WORK/hook.port")
}

stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "${1:--TERM}" "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  SERVER_PID=""
}

cleanup() {
  stop_server
  for p in $(jobs -p); do kill "$p" 2>/dev/null; done
  if [ "$FAILED" -gt 0 ]; then
    echo "--- server log (tail) ---"
    tail -30 "$WORK/server.log" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

k() { "$KUBECTL" "$@"; }

# The OCI runtime the node agent runs (--container-runtime, which the e2e tests pass through
# $BERTH_CONTAINER_RUNTIME: runc by default; auto picks crun when it works), so tests that look
# at containers directly keep working under either.
agent_runtime_name() {  # agent_runtime_name AGENT_DIR
  local rt=${BERTH_CONTAINER_RUNTIME:-runc}
  if [ "$rt" = auto ]; then
    rt=runc
    [ -d "$1/crun" ] && [ ! -d "$1/runc" ] && rt=crun
  fi
  echo "$rt"
}
# agent_runtime_available: whether the runtime the agent will run is installed.
agent_runtime_available() {
  case "${BERTH_CONTAINER_RUNTIME:-runc}" in
    crun) command -v crun >/dev/null && [ -x "$(dirname "$BERTH")/berth-crun" ] ;;
    auto) command -v runc >/dev/null || command -v crun >/dev/null ;;
    *) command -v runc >/dev/null ;;
  esac
}
# oci_runtime AGENT_DIR ARGS...: runs that runtime on the agent's state root
# (<agent dir>/runc or <agent dir>/crun); crun through berth-crun, as the agent runs it.
oci_runtime() {
  local dir=$1
  shift
  if [ "$(agent_runtime_name "$dir")" = crun ]; then
    "$(dirname "$BERTH")/berth-crun" --root "$dir/crun" "$@"
  else
    runc --root "$dir/runc" "$@"
  fi
}

pass() { PASSED=$((PASSED + 1)); echo "  ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/       | /' | head -20; }

# expect_ok NAME CMD...: the command succeeds.
expect_ok() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
  LAST_OUT=$out
}

# expect_out NAME REGEX CMD...: the command succeeds and its output matches the extended regex.
expect_out() {
  local name=$1 re=$2; shift 2
  local out
  out=$("$@" 2>&1); local rc=$?
  if [ $rc -eq 0 ] && grep -Eq -- "$re" <<<"$out"; then pass "$name"; else fail "$name" "rc=$rc, want /$re/, got:
$out"; fi
  LAST_OUT=$out
}

# expect_err NAME REGEX CMD...: the command fails and its output matches the regex.
expect_err() {
  local name=$1 re=$2; shift 2
  local out
  out=$("$@" 2>&1); local rc=$?
  if [ $rc -ne 0 ] && grep -Eq -- "$re" <<<"$out"; then pass "$name"; else fail "$name" "rc=$rc, want failure matching /$re/, got:
$out"; fi
  LAST_OUT=$out
}

# expect_eq NAME WANT GOT
expect_eq() {
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "want: $2
got:  $3"; fi
}

# wait_for SECONDS CMD...: runs the command (output discarded) every 0.2 s until it succeeds;
# returns 1 once SECONDS of wall-clock time have passed.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

# expect_within NAME SECONDS CMD...: the command succeeds within SECONDS (wait_for); on failure
# NAME fails with the command's output from one more run.
expect_within() {
  local name=$1 secs=$2; shift 2
  if wait_for "$secs" "$@"; then pass "$name"; else fail "$name" "$("$@" 2>&1)"; fi
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# Debian's kubectl, extracted once into a cache beside the build (reused by later runs).
debian_kubectl() {
  local dest=${KUBECTL_DEBIAN_DIR:-$(cd "$(dirname "$BERTH")" && pwd)/kubectl-debian}
  local bin=$dest/usr/bin/kubectl
  if [ ! -x "$bin" ]; then
    local dl
    dl=$(mktemp -d "$WORK/apt.XXXXXX")
    chmod 777 "$dl"  # apt drops to the _apt user for downloads when it can
    if ! (cd "$dl" && apt-get download kubernetes-client >"$WORK/apt.log" 2>&1); then
      # A fresh box may have no package lists yet.
      (apt-get update -qq && cd "$dl" && apt-get download kubernetes-client) >>"$WORK/apt.log" 2>&1
    fi
    local deb
    deb=$(ls "$dl"/kubernetes-client_*.deb 2>/dev/null | head -1)
    if [ -z "$deb" ] || ! mkdir -p "$dest" || ! dpkg-deb -x "$deb" "$dest"; then
      cat "$WORK/apt.log" >&2
      return 1
    fi
  fi
  echo "$bin"
}
