#!/usr/bin/env bash
# Starts Debian's docker-registry on 127.0.0.1 with its config and storage under DIR, pushes
# Berth's test images to it (building them into DIR/images first unless IMAGES is set), and
# prints the registry's PID; its port is in DIR/port. Stop it with `kill <PID>`.
#   scripts/local-registry.sh DIR [PORT]           PORT 0 or absent: a free one
#   BERTH_REGISTRY_AUTH=user:password scripts/local-registry.sh DIR     (htpasswd Basic auth)
#   BERTH_REGISTRY_AUTH=user:password BERTH_REGISTRY_TOKEN_AUTH="realm service issuer certfile" \
#     scripts/local-registry.sh DIR     (Bearer tokens from the token server at realm; the
#                                        push authenticates to it as user:password)
#   BERTH_REGISTRY_TLS="CERT KEY" ...     serves HTTPS with that certificate
#   BERTH_PUSH_ONLY=berth-test/web:1.0,... pushes only those images
# (Not REGISTRY_*: docker-registry reads those from its environment as configuration.)
# For `make run`: point a mirror at it in <data-dir>/registries.yaml, e.g.
#   mirrors:
#     gcr.io: {endpoint: ["http://127.0.0.1:5000"]}
#     docker.io: {endpoint: ["http://127.0.0.1:5000"]}
# and gcr.io/google-samples/kubernetes-bootcamp:v1 or berth-test/web:1.0 pull from it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mkdir -p "$1" && cd "$1" && pwd)
port=${2:-0}
images=${IMAGES:-$dir/images}
[ -f "$images/layout/index.json" ] || /usr/bin/python3 "$here/build_test_images.py" "$images" >/dev/null
if [ "$port" = 0 ]; then
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
mkdir -p "$dir/storage"
scheme=http
{
  echo "version: 0.1"
  echo "log: {level: warn, accesslog: {disabled: true}}"
  echo "storage: {filesystem: {rootdirectory: $dir/storage}, delete: {enabled: true}}"
  if [ -n "${BERTH_REGISTRY_TLS:-}" ]; then
    read -r cert key <<<"$BERTH_REGISTRY_TLS"
    echo "http: {addr: 127.0.0.1:$port, secret: berth-test, tls: {certificate: $cert, key: $key}}"
    scheme=https
  else
    echo "http: {addr: 127.0.0.1:$port, secret: berth-test}"
  fi
  if [ -n "${BERTH_REGISTRY_TOKEN_AUTH:-}" ]; then
    read -r realm service issuer cert <<<"$BERTH_REGISTRY_TOKEN_AUTH"
    echo "auth: {token: {realm: \"$realm\", service: $service, issuer: $issuer, rootcertbundle: $cert}}"
  elif [ -n "${BERTH_REGISTRY_AUTH:-}" ]; then
    /usr/bin/python3 - "$BERTH_REGISTRY_AUTH" >"$dir/htpasswd" <<'PY' 2>/dev/null
import crypt, sys
user, password = sys.argv[1].split(":", 1)
print("%s:%s" % (user, crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))))
PY
    echo "auth: {htpasswd: {realm: berth-test, path: $dir/htpasswd}}"
  fi
} >"$dir/config.yml"
setsid docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$dir/pid"
echo "$port" >"$dir/port"
for _ in $(seq 100); do
  code=$(curl -sk -o /dev/null -w '%{http_code}' "$scheme://127.0.0.1:$port/v2/" || true)
  [ "$code" = 200 ] || [ "$code" = 401 ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/registry.log" >&2; exit 1; }
  sleep 0.1
done
/usr/bin/python3 "$here/registry_push.py" "$images/layout" "$scheme://127.0.0.1:$port" \
  ${BERTH_REGISTRY_AUTH:+"$BERTH_REGISTRY_AUTH"} >"$dir/push.log" || { cat "$dir/push.log" >&2; kill "$pid"; exit 1; }
echo "$pid"
