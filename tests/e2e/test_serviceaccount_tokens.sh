#!/usr/bin/env bash
# ServiceAccounts and their tokens with the real kubectl and the Python client: the default
# ServiceAccount and kube-root-ca.crt in a new namespace, `kubectl create token` (audience,
# duration, binding to a Pod), the token as kubectl's only credential, TokenReview,
# SelfSubjectReview (`kubectl auth whoami`), the OIDC discovery documents and the JWKS verifying
# a token, tokens rejected with 401 (expired, alg none, another key, wrong audience, bound pod
# deleted), legacy token Secrets, bootstrap tokens and impersonation headers.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

start_server || exit 1
CA=$WORK/data/tls/ca.crt
SERVER=https://127.0.0.1:$PORT
# kubectl with nothing but a bearer token (no kubeconfig credentials).
as_token() { local t=$1; shift; "$KUBECTL" --kubeconfig /dev/null --server "$SERVER" --certificate-authority "$CA" --token "$t" "$@"; }
# wait_for N CMD...: the command succeeds within N seconds.
claims() { cut -d. -f2 <<<"$1" | $PY -c 'import sys,base64,json; s=sys.stdin.read().strip(); print(json.dumps(json.loads(base64.urlsafe_b64decode(s+"="*(-len(s)%4)))))'; }

echo "-- controllers: default ServiceAccount and kube-root-ca.crt"
k create namespace team >/dev/null
wait_for 10 k -n team get serviceaccount default && pass "default ServiceAccount in a new namespace" || fail "default ServiceAccount in a new namespace"
wait_for 10 k -n team get configmap kube-root-ca.crt && pass "kube-root-ca.crt in a new namespace" || fail "kube-root-ca.crt in a new namespace"
if [ "$(k -n team get configmap kube-root-ca.crt -o jsonpath='{.data.ca\.crt}')" = "$(cat "$CA")" ]; then
  pass "kube-root-ca.crt holds the cluster CA"; else fail "kube-root-ca.crt holds the cluster CA"; fi
old_uid=$(k -n team get sa default -o jsonpath='{.metadata.uid}')
k -n team delete sa default >/dev/null
recreated() { local u; u=$(k -n team get sa default -o jsonpath='{.metadata.uid}' 2>/dev/null) && [ -n "$u" ] && [ "$u" != "$old_uid" ]; }
wait_for 10 recreated && pass "a deleted default ServiceAccount is recreated" || fail "a deleted default ServiceAccount is recreated"
k -n team delete configmap kube-root-ca.crt >/dev/null
wait_for 10 k -n team get configmap kube-root-ca.crt && pass "a deleted kube-root-ca.crt is recreated" || fail "a deleted kube-root-ca.crt is recreated"

echo "-- kubectl create token"
TOKEN=$(k -n team create token default 2>&1)
c=$(claims "$TOKEN")
expect_out "token claims as upstream" '"iss": "https://kubernetes.default.svc.cluster.local"' echo "$c"
expect_out "subject is the ServiceAccount" '"sub": "system:serviceaccount:team:default"' echo "$c"
expect_out "private claim names the account's uid" "\"serviceaccount\": \\{\"name\": \"default\", \"uid\": \"$(k -n team get sa default -o jsonpath='{.metadata.uid}')\"" echo "$c"
expect_out "default expiry is one hour" '^3600$' $PY -c "import json,sys; c=json.loads(sys.argv[1]); print(c['exp']-c['iat'])" "$c"
expect_out "token is kubectl's only credential" 'system:serviceaccount:team:default' as_token "$TOKEN" auth whoami
expect_out "whoami lists the ServiceAccount groups" 'system:serviceaccounts:team' as_token "$TOKEN" auth whoami
# RBAC: a ServiceAccount may do nothing in its namespace until a binding grants it.
expect_err "token alone is forbidden to list pods" \
  'User "system:serviceaccount:team:default" cannot list resource "pods" in API group "" in the namespace "team"' \
  as_token "$TOKEN" -n team get pods
k -n team create rolebinding sa-view --clusterrole=view --serviceaccount=team:default >/dev/null
wait_for 10 as_token "$TOKEN" -n team get pods && pass "with view bound the token reads pods" \
  || fail "with view bound the token reads pods"
expect_err "view does not write" 'cannot create resource "configmaps"' \
  as_token "$TOKEN" -n team create configmap nope --from-literal=a=b
expect_err "--duration under 10 minutes is invalid" 'may not specify a duration less than 10 minutes' k -n team create token default --duration 5m
T2=$(k -n team create token default --duration 2h)
expect_out "--duration sets exp" '^7200$' $PY -c "import json,sys; c=json.loads(sys.argv[1]); print(c['exp']-c['iat'])" "$(claims "$T2")"
expect_err "token for a missing ServiceAccount" 'serviceaccounts "nobody" not found' k -n team create token nobody
AUD=$(k -n team create token default --audience vault)
expect_err "a token for another audience is 401" 'Unauthorized' as_token "$AUD" -n team get pods

echo "-- TokenReview"
review() {
  k create -o json -f - <<EOF
{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"$1"${2:+,\"audiences\":[\"$2\"]}}}
EOF
}
expect_out "TokenReview authenticates the token" '"username": "system:serviceaccount:team:default"' review "$TOKEN"
expect_out "TokenReview says authenticated" '"authenticated": true' review "$TOKEN"
expect_out "TokenReview with the token's audience" '"vault"' review "$AUD" vault
expect_out "TokenReview of a token for another audience" '"error"' review "$AUD"
expect_out "TokenReview of garbage" '"error"' review "not-a-token"

echo "-- OIDC discovery and JWKS"
curl -sf --cacert "$CA" -H "Authorization: Bearer $TOKEN" "$SERVER/.well-known/openid-configuration" >"$WORK/oidc.json"
expect_out "openid-configuration names the issuer" '"issuer":"https://kubernetes.default.svc.cluster.local"' cat "$WORK/oidc.json"
curl -sf --cacert "$CA" -H "Authorization: Bearer $TOKEN" "$SERVER/openid/v1/jwks" >"$WORK/jwks.json"
cat >"$WORK/verify.py" <<'EOF'
# Verifies a JWT against a JWKS document with python-cryptography only.
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
def b64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def num(s): return int.from_bytes(b64(s), "big")
jwks, token = json.load(open(sys.argv[1])), sys.argv[2].strip()
h, p, s = token.split(".")
header = json.loads(b64(h))
key = [k for k in jwks["keys"] if k["kid"] == header["kid"]][0]
if key["kty"] == "EC":
    pub = ec.EllipticCurvePublicNumbers(num(key["x"]), num(key["y"]), ec.SECP256R1()).public_key()
    sig = b64(s)
    pub.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
               (h + "." + p).encode(), ec.ECDSA(hashes.SHA256()))
else:
    pub = rsa.RSAPublicNumbers(num(key["e"]), num(key["n"])).public_key()
    pub.verify(b64(s), (h + "." + p).encode(), padding.PKCS1v15(), hashes.SHA256())
print("verified", header["alg"], header["kid"])
EOF
expect_out "the JWKS verifies the token (python-cryptography)" '^verified (ES256|RS256) ' $PY "$WORK/verify.py" "$WORK/jwks.json" "$TOKEN"
tampered="${TOKEN%.*}.$(cut -d. -f3 <<<"$TOKEN" | rev)"
if $PY "$WORK/verify.py" "$WORK/jwks.json" "$tampered" >/dev/null 2>&1; then
  fail "the JWKS does not verify a tampered signature"; else pass "the JWKS does not verify a tampered signature"; fi

echo "-- forged and stale tokens are 401"
cat >"$WORK/forge.py" <<'EOF'
# forge.py KEYFILE|new MODE TOKEN: re-signs TOKEN's claims, changed by MODE, with KEYFILE (or a
# fresh key) — what an attacker or a clock could produce.
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
def enc(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def b64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
keyfile, mode, token = sys.argv[1], sys.argv[2], sys.argv[3].strip()
h, p, _ = token.split(".")
header, claims = json.loads(b64(h)), json.loads(b64(p))
now = int(time.time())
if mode == "expired": claims.update(iat=now - 7200, nbf=now - 7200, exp=now - 120)
if mode == "future": claims.update(iat=now + 600, nbf=now + 600, exp=now + 4200)
if mode == "none":
    print(enc(json.dumps({"alg": "none"}).encode()) + "." + enc(json.dumps(claims).encode()) + ".")
    sys.exit()
key = ec.generate_private_key(ec.SECP256R1()) if keyfile == "new" else \
    serialization.load_pem_private_key(open(keyfile, "rb").read(), None)
signing = enc(json.dumps(header).encode()) + "." + enc(json.dumps(claims).encode())
r, s = decode_dss_signature(key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
print(signing + "." + enc(r.to_bytes(32, "big") + s.to_bytes(32, "big")))
EOF
SAKEY=$WORK/data/tls/sa.key
expect_out "sa.key is readable by its owner only" '^600$' stat -c %a "$SAKEY"
same=$($PY "$WORK/forge.py" "$SAKEY" same "$TOKEN")
expect_out "re-signed with the server's key still works (the forger is sound)" 'system:serviceaccount:team:default' as_token "$same" auth whoami
expect_err "expired token is 401" 'Unauthorized' as_token "$($PY "$WORK/forge.py" "$SAKEY" expired "$TOKEN")" -n team get pods
expect_err "not-yet-valid token is 401" 'Unauthorized' as_token "$($PY "$WORK/forge.py" "$SAKEY" future "$TOKEN")" -n team get pods
expect_err "alg none is 401" 'Unauthorized' as_token "$($PY "$WORK/forge.py" "$SAKEY" none "$TOKEN")" -n team get pods
expect_err "a token signed by another key is 401" 'Unauthorized' as_token "$($PY "$WORK/forge.py" new same "$TOKEN")" -n team get pods

echo "-- tokens bound to a Pod die with it"
k -n team run p1 --image=busybox --restart=Never >/dev/null
PT=$(k -n team create token default --bound-object-kind Pod --bound-object-name p1)
expect_out "pod-bound token names the pod" 'authentication.kubernetes.io/pod-name +\[p1\]' as_token "$PT" auth whoami
expect_err "binding to a missing pod" 'pods "nope" not found' k -n team create token default --bound-object-kind Pod --bound-object-name nope
k -n team delete pod p1 --grace-period=0 --force >/dev/null 2>&1
wait_for 10 sh -c "! $KUBECTL -n team get pod p1" || true
expect_err "token of a deleted pod is 401" 'Unauthorized' as_token "$PT" -n team get pods
k -n team delete sa default >/dev/null
expect_err "token of a deleted ServiceAccount is 401" 'Unauthorized' as_token "$TOKEN" -n team get pods
wait_for 10 k -n team get sa default || true

echo "-- legacy token Secrets"
k -n team create -f - >/dev/null <<EOF
{"apiVersion":"v1","kind":"Secret","metadata":{"name":"legacy","annotations":{"kubernetes.io/service-account.name":"default"}},"type":"kubernetes.io/service-account-token"}
EOF
LT=$(k -n team get secret legacy -o jsonpath='{.data.token}' | base64 -d)
expect_out "legacy Secret gets ca.crt" 'BEGIN CERTIFICATE' sh -c "$KUBECTL -n team get secret legacy -o jsonpath='{.data.ca\.crt}' | base64 -d"
expect_out "legacy Secret gets its namespace" '^team$' sh -c "$KUBECTL -n team get secret legacy -o jsonpath='{.data.namespace}' | base64 -d"
expect_out "legacy token authenticates" 'system:serviceaccount:team:default' as_token "$LT" auth whoami
k -n team delete secret legacy >/dev/null
expect_err "legacy token dies with its Secret" 'Unauthorized' as_token "$LT" auth whoami

echo "-- bootstrap tokens"
exp=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
k -n kube-system create secret generic bootstrap-token-abcdef --type bootstrap.kubernetes.io/token \
  --from-literal=token-id=abcdef --from-literal=token-secret=0123456789abcdef \
  --from-literal=usage-bootstrap-authentication=true --from-literal=expiration="$exp" \
  --from-literal=auth-extra-groups=system:bootstrappers:worker >/dev/null
expect_out "bootstrap token authenticates" 'system:bootstrap:abcdef' as_token abcdef.0123456789abcdef auth whoami
expect_out "bootstrap token groups" 'system:bootstrappers:worker' as_token abcdef.0123456789abcdef auth whoami
expect_err "wrong bootstrap secret is 401" 'Unauthorized' as_token abcdef.0123456789abcdee auth whoami

echo "-- CertificateSigningRequests: kubectl certificate approve, the signer, node auto-approval"
csr_for() {  # csr_for NAME SUBJECT SIGNER: a CSR object for a new key ($WORK/NAME.key)
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$1.key" \
    -subj "$2" -out "$WORK/$1.csr" 2>/dev/null
  cat <<EOF
{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":"$1"},
 "spec":{"request":"$(base64 -w0 "$WORK/$1.csr")","signerName":"$3","usages":["digital signature","client auth"]}}
EOF
}
csr_for carol "/CN=carol/O=devs" kubernetes.io/kube-apiserver-client | k create -f - >/dev/null
expect_out "an unapproved CSR stays unsigned" '^$' k get csr carol -o jsonpath='{.status.certificate}'
expect_out "kubectl certificate approve" 'approved' k certificate approve carol
signed() { [ -n "$($KUBECTL get csr "$1" -o jsonpath='{.status.certificate}')" ]; }
wait_for 10 signed carol && pass "the approved CSR is signed" || fail "the approved CSR is signed"
k get csr carol -o jsonpath='{.status.certificate}' | base64 -d >"$WORK/carol.crt"
expect_out "the signed certificate authenticates its subject" 'Groups +\[devs system:authenticated\]' \
  "$KUBECTL" --kubeconfig /dev/null --server "$SERVER" --certificate-authority "$CA" \
  --client-certificate "$WORK/carol.crt" --client-key "$WORK/carol.key" auth whoami
csr_for bad "/CN=system:node:x/O=system:masters" kubernetes.io/kube-apiserver-client-kubelet | k create -f - >/dev/null
k certificate approve bad >/dev/null
failed() { $KUBECTL get csr bad -o jsonpath='{.status.conditions[*].type}' | grep -q Failed; }
wait_for 10 failed && pass "a kubelet CSR outside the signer's rules fails" || fail "a kubelet CSR outside the signer's rules fails"
csr_for node-n9 "/CN=system:node:n9/O=system:nodes" kubernetes.io/kube-apiserver-client-kubelet \
  | as_token abcdef.0123456789abcdef create -f - >/dev/null
wait_for 10 signed node-n9 && pass "a node CSR from a bootstrap token is approved and signed" \
  || fail "a node CSR from a bootstrap token is approved and signed" "$(k get csr node-n9 -o yaml)"
expect_out "the approval says AutoApproved" 'AutoApproved' k get csr node-n9 -o jsonpath='{.status.conditions[*].reason}'
k get csr node-n9 -o jsonpath='{.status.certificate}' | base64 -d >"$WORK/n9.crt"
expect_out "the node certificate is system:node:n9 in system:nodes" 'system:nodes' \
  "$KUBECTL" --kubeconfig /dev/null --server "$SERVER" --certificate-authority "$CA" \
  --client-certificate "$WORK/n9.crt" --client-key "$WORK/node-n9.key" auth whoami
csr_for other "/CN=dave" kubernetes.io/kube-apiserver-client | k create -f - >/dev/null
sleep 1
expect_out "an ordinary client CSR is not auto-approved" '^$' k get csr other -o jsonpath='{.status.conditions}'

echo "-- impersonation"
expect_out "--as changes whoami" 'Username +alice' k auth whoami --as alice --as-group devs
expect_out "--as-group and system:authenticated" 'Groups +\[devs system:authenticated\]' k auth whoami --as alice --as-group devs
expect_out "--as a ServiceAccount adds its groups" 'system:serviceaccounts:team' k auth whoami --as system:serviceaccount:team:default
expect_out "--as-uid" 'UID +u-123' k auth whoami --as alice --as-uid u-123
ADMIN=$(cat "$WORK/data/admin.token")
out=$(curl -s --cacert "$CA" -H "Authorization: Bearer $ADMIN" -H "Impersonate-User: bob" -H "Impersonate-Extra-Scopes: view" \
  -H 'Content-Type: application/json' -X POST -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' \
  "$SERVER/apis/authentication.k8s.io/v1/selfsubjectreviews")
expect_out "Impersonate-Extra-* reaches the user" '"scopes":\["view"\]' echo "$out"
out=$(curl -s --cacert "$CA" -H "Authorization: Bearer $ADMIN" -H "Impersonate-Group: devs" "$SERVER/api/v1/namespaces")
expect_out "impersonating a group without a user is refused" '"code":500' echo "$out"

echo "-- anonymous and bad credentials"
expect_out "no credentials is system:anonymous, forbidden by RBAC" \
  'User \\"system:anonymous\\" cannot list resource \\"namespaces\\"' curl -s --cacert "$CA" "$SERVER/api/v1/namespaces"
expect_out "anonymous may read /version (system:public-info-viewer)" '"gitVersion"' curl -s --cacert "$CA" "$SERVER/version"
expect_out "garbage bearer token is 401" '"code":401' curl -s --cacert "$CA" -H "Authorization: Bearer $(head -c 300 /dev/urandom | base64 -w0)" "$SERVER/api/v1/namespaces"

echo "-- component identities"
expect_out "controller manager acts as itself" 'Username +system:kube-controller-manager' \
  "$KUBECTL" --kubeconfig "$WORK/data/controller-manager.kubeconfig" auth whoami
expect_out "scheduler acts as itself" 'Username +system:kube-scheduler' \
  "$KUBECTL" --kubeconfig "$WORK/data/scheduler.kubeconfig" auth whoami
expect_out "component kubeconfigs are 0600" '^600$' stat -c %a "$WORK/data/scheduler.kubeconfig"

echo "-- the Python client with only a ServiceAccount token"
PYTOKEN=$(k -n team create token default)
expect_out "python client lists with a token" 'kube-root-ca.crt' $PY - "$SERVER" "$CA" "$PYTOKEN" <<'EOF'
import sys
from kubernetes import client
cfg = client.Configuration()
cfg.host, cfg.ssl_ca_cert = sys.argv[1], sys.argv[2]
cfg.api_key = {"authorization": "Bearer " + sys.argv[3]}
api = client.CoreV1Api(client.ApiClient(cfg))
print(" ".join(cm.metadata.name for cm in api.list_namespaced_config_map("team").items))
EOF

echo "-- a new issuer and signing key (--service-account-issuer, -signing-key-file, -key-file)"
stop_server
openssl genrsa -out "$WORK/new-sa.key" 2048 2>/dev/null
NEW_ISS=https://berth.example
start_server --service-account-issuer "$NEW_ISS" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-signing-key-file "$WORK/new-sa.key" \
  --service-account-key-file "$WORK/data/tls/sa.key" || exit 1
as_token "$PYTOKEN" -n team get configmaps >"$WORK/old-token.out" 2>&1; wait_for 10 as_token "$PYTOKEN" -n team get configmaps && pass "a token of the old issuer and key still works" \
  || fail "a token of the old issuer and key still works" "$(cat "$WORK/old-token.out")"
NEWTOKEN=$(k -n team create token default)
expect_out "new tokens carry the first issuer" "\"iss\": \"$NEW_ISS\"" claims "$NEWTOKEN"
expect_out "and are signed with the new RSA key" '"alg": ?"RS256"' \
  $PY -c 'import sys,base64; s=sys.argv[1].split(".")[0]; print(base64.urlsafe_b64decode(s+"="*(-len(s)%4)).decode())' "$NEWTOKEN"
expect_out "the new token authenticates" 'system:serviceaccount:team:default' as_token "$NEWTOKEN" auth whoami
expect_out "discovery names the new issuer" "\"issuer\":\"$NEW_ISS\"" \
  curl -sf --cacert "$CA" -H "Authorization: Bearer $NEWTOKEN" "$SERVER/.well-known/openid-configuration"
stop_server
start_server --service-account-issuer "$NEW_ISS" \
  --service-account-signing-key-file "$WORK/new-sa.key" || exit 1
expect_err "without the old key and issuer the old token is 401" 'Unauthorized' as_token "$PYTOKEN" -n team get configmaps
expect_out "the new token still works" 'system:serviceaccount:team:default' as_token "$NEWTOKEN" auth whoami
stop_server
expect_err "a signing key file that does not exist stops the server" 'service-account-signing-key-file.*(not exist|no such)' \
  "$BERTH" server --data-dir "$WORK/data" --secure-port "$PORT" --service-account-signing-key-file "$WORK/nope.key"

finish
