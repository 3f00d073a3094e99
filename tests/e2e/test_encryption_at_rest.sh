#!/usr/bin/env bash
# Secrets encrypted at rest with upstream's EncryptionConfiguration: the SQLite file never holds
# a secret value in the clear, reads decrypt, a new first key takes over new writes while the old
# one still reads, `kubectl get secrets -A -o json | kubectl replace -f -` rewrites everything
# under the new key, after which the old key can go; and the store is readable by its owner only.
source "$(dirname "$0")/lib.sh"

DB=$WORK/data/db
VALUE=TopSecretValue-$RANDOM$RANDOM
key() { head -c 32 /dev/urandom | base64 -w0; }
KEY1=$(key)
KEY2=$(key)
config() {  # config FILE PROVIDER-YAML...
  local f=$1; shift
  { printf 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n'
    printf -- '- resources: [secrets]\n  providers:\n'
    printf '%s\n' "$@"; } >"$f"
}
aescbc1="  - aescbc: {keys: [{name: key1, secret: \"$KEY1\"}]}"
aesgcm2="  - aesgcm: {keys: [{name: key2, secret: \"$KEY2\"}]}"
identity="  - identity: {}"

# Every stored value of the secret, raw, as the SQLite file holds it (history included).
stored_values() {
  /usr/bin/python3 - "$DB/state.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for (v,) in db.execute("SELECT value FROM log WHERE key = ? AND value IS NOT NULL", (sys.argv[2].encode(),)):
    print(bytes(v)[:40])
PY
}
raw_contains() {  # the database, its WAL and shm files, byte for byte
  cat "$DB"/state.db* 2>/dev/null | grep -aqF -- "$1"
}

echo "== encrypted with aescbc (identity reads what was there before)"
config "$WORK/enc1.yaml" "$aescbc1" "$identity"
start_server --encryption-provider-config "$WORK/enc1.yaml"
expect_ok "create a secret" k create secret generic s1 --from-literal=password="$VALUE"
expect_ok "create a configmap" k create configmap c1 --from-literal=note="plain-$RANDOM-configmap"
expect_eq "kubectl reads the secret back" "$VALUE" \
  "$(k get secret s1 -o jsonpath='{.data.password}' | base64 -d)"
stop_server
if raw_contains "$VALUE" || raw_contains "$(printf %s "$VALUE" | base64)"; then
  fail "no plaintext secret value in the store files"
else
  pass "no plaintext secret value in the store files"
fi
if raw_contains "plain-" && raw_contains "-configmap"; then pass "configmaps (not configured) stay plaintext"; else
  fail "configmaps (not configured) stay plaintext"; fi
expect_out "stored with the aescbc prefix" "k8s:enc:aescbc:v1:key1:" \
  stored_values /registry/secrets/default/s1

echo "== rotation: a new first key, the old one still listed"
config "$WORK/enc2.yaml" "$aesgcm2" "$aescbc1" "$identity"
start_server --encryption-provider-config "$WORK/enc2.yaml"
expect_eq "old-key secret still reads" "$VALUE" \
  "$(k get secret s1 -o jsonpath='{.data.password}' | base64 -d)"
expect_ok "create a second secret" k create secret generic s2 --from-literal=password="$VALUE-2"
expect_ok "rewrite every secret" bash -c "'$KUBECTL' get secrets -A -o json | '$KUBECTL' replace -f -"
stop_server
expect_out "s1 rewritten under key2" "k8s:enc:aesgcm:v1:key2:" \
  bash -c "$(declare -f stored_values); DB='$DB'; stored_values /registry/secrets/default/s1 | tail -1"
expect_out "s2 written under key2" "k8s:enc:aesgcm:v1:key2:" \
  stored_values /registry/secrets/default/s2

echo "== the old key dropped (after compaction of history it would be unreadable anyway)"
config "$WORK/enc3.yaml" "$aesgcm2"
start_server --encryption-provider-config "$WORK/enc3.yaml"
expect_eq "s1 reads with key2 only" "$VALUE" \
  "$(k get secret s1 -o jsonpath='{.data.password}' | base64 -d)"
expect_eq "s2 reads with key2 only" "$VALUE-2" \
  "$(k get secret s2 -o jsonpath='{.data.password}' | base64 -d)"
stop_server

echo "== file permissions"
expect_eq "db directory is 0700" 700 "$(stat -c %a "$DB")"
expect_eq "state.db is 0600" 600 "$(stat -c %a "$DB/state.db")"
expect_eq "tls directory is 0700" 700 "$(stat -c %a "$WORK/data/tls")"
expect_eq "admin kubeconfig is 0600" 600 "$(stat -c %a "$WORK/data/admin.kubeconfig")"

echo "== a bad configuration stops the server with a reason"
printf 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc: {keys: [{name: k, secret: c2hvcnQ=}]}\n' >"$WORK/bad.yaml"
expect_err "short aescbc key refused" "must be 32 bytes" \
  "$BERTH" server --data-dir "$WORK/data" --bind-address 127.0.0.1 --secure-port 0 \
  --disable-agent --encryption-provider-config "$WORK/bad.yaml"

finish
