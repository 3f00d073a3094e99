#!/usr/bin/env bash
# Storage, certificates, admission registration, flow control and API registration kinds with the
# real kubectl: create/get/describe each, the Table columns as upstream prints them,
# `kubectl certificate approve` (a protobuf PUT to /approval), `kubectl get apiservices`, and
# `kubectl apply --prune`, which lists PersistentVolumeClaims among its default kinds.
source "$(dirname "$0")/lib.sh"
# The PV binder and local-path provisioner are off: this test checks the objects as stored and
# printed (an unbound claim, no default local-path class); test_persistent_volumes.sh binds.
start_server --controllers '*,-persistentvolume-binder,-local-path-provisioner' || exit 1

expect_out "apply every new kind from one manifest" "volumeattachment.storage.k8s.io/va1 created" \
  k apply -f "$FIXTURES/more-kinds.yaml"

# ---- short names, discovery and Tables
expect_out "api-resources lists pv, pvc, sc, csr short names" \
  "persistentvolumeclaims +pvc +v1 +true +PersistentVolumeClaim" k api-resources
for sn in "persistentvolumes +pv +v1 +false" "storageclasses +sc +storage.k8s.io/v1 +false" \
  "certificatesigningrequests +csr +certificates.k8s.io/v1 +false" \
  "apiservices +apiregistration.k8s.io/v1 +false"; do
  expect_out "api-resources: $sn" "$sn" k api-resources
done
expect_out "get pv: upstream columns" \
  "NAME +CAPACITY +ACCESS MODES +RECLAIM POLICY +STATUS +CLAIM +STORAGECLASS +VOLUMEATTRIBUTESCLASS +REASON +AGE" \
  k get pv
expect_out "get pv: row" "pv1 +1Gi +RWO +Retain +Pending +fast +<unset>" k get pv
expect_out "get pvc: row" "data +Pending +fast +<unset>" k get pvc
expect_out "get pvc -o wide: volume mode" "VOLUMEMODE.*" k get pvc -o wide
expect_out "get sc: default marker and defaults" \
  "fast \(default\) +example.com/fast +Delete +Immediate +true" k get sc
expect_out "get csidriver" "csi.example.com +false +true +false +<unset> +false +Persistent" \
  k get csidriver
expect_out "get csinode" "node-1 +1 " k get csinode
expect_out "get volumeattachment" "va1 +csi.example.com +pv1 +node-1 +false" k get volumeattachment
expect_out "get validatingwebhookconfiguration" "check +1 " k get validatingwebhookconfiguration
expect_out "get mutatingwebhookconfiguration" "mutate +1 " k get mutatingwebhookconfiguration
expect_out "get flowschema" "batch-users +batch-jobs +1000 +ByUser +[0-9a-z]+ +\?" k get flowschema
expect_out "get prioritylevelconfiguration: defaults" "batch-jobs +Limited +30 +64 +8 +50" \
  k get prioritylevelconfiguration
expect_out "get pv,pvc,sc in one call" "storageclass.storage.k8s.io/fast" k get pv,pvc,sc
expect_eq "stored webhook defaults" "Fail 10 443" \
  "$(k get validatingwebhookconfiguration check -o jsonpath='{.webhooks[0].failurePolicy} {.webhooks[0].timeoutSeconds} {.webhooks[0].clientConfig.service.port}')"

# ---- explain (OpenAPI v3 documents carry every new kind)
expect_out "explain pvc.spec.accessModes" "FIELD: accessModes <\[\]string>" k explain pvc.spec.accessModes
expect_out "explain csr.spec.signerName" "FIELD: signerName <string>" k explain csr.spec.signerName
expect_out "explain apiservice.spec.groupPriorityMinimum" "FIELD: groupPriorityMinimum <integer>" \
  k explain apiservice.spec.groupPriorityMinimum
expect_out "explain validatingwebhookconfiguration.webhooks" "FIELD: webhooks <\[\]ValidatingWebhook>" \
  k explain validatingwebhookconfiguration.webhooks

# ---- describe
for obj in pv/pv1 pvc/data sc/fast csidriver/csi.example.com csinode/node-1 \
  volumeattachment/va1 validatingwebhookconfiguration/check mutatingwebhookconfiguration/mutate \
  flowschema/batch-users prioritylevelconfiguration/batch-jobs apiservice/v1.apps; do
  expect_out "describe $obj" "Name: +${obj#*/}" k describe "$obj"
done

# ---- validation as upstream
cat >"$WORK/bad-pvc.yaml" <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: bad}
spec: {resources: {requests: {}}}
YAML
expect_err "pvc without access modes or storage is 422" \
  'spec.accessModes: Required value: at least 1 access mode is required' \
  k create -f "$WORK/bad-pvc.yaml"
expect_err "pv with an unknown reclaim policy" 'Unsupported value: "Keep"' \
  k patch pv pv1 --type=merge -p '{"spec":{"persistentVolumeReclaimPolicy":"Keep"}}'
expect_err "storage class provisioner is fixed" 'updates to provisioner are forbidden' \
  k patch sc fast --type=merge -p '{"provisioner":"example.com/slow"}'

# ---- CertificateSigningRequest: create, describe, approve (protobuf PUT to /approval)
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/alice.key" -out "$WORK/alice.csr" \
  -subj "/CN=alice/O=dev" >/dev/null 2>&1
cat >"$WORK/csr.yaml" <<YAML
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata: {name: alice}
spec:
  request: $(base64 -w0 "$WORK/alice.csr")
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400
  usages: [client auth]
YAML
expect_out "create csr" "certificatesigningrequest.certificates.k8s.io/alice created" \
  k create -f "$WORK/csr.yaml"
expect_out "get csr: Pending, requested by the caller" \
  "alice +[0-9a-z]+ +kubernetes.io/kube-apiserver-client +system:admin +24h +Pending" \
  k get csr
expect_out "describe csr parses the request" "Common Name: +alice" k describe csr alice
expect_out "kubectl certificate approve" "certificatesigningrequest.certificates.k8s.io/alice approved" \
  k certificate approve alice
expect_out "get csr: Approved (and Issued once the signer has run)" "alice .* +Approved(,Issued)?$" k get csr alice
expect_eq "approval condition reason" "Approved KubectlApprove True" \
  "$(k get csr alice -o jsonpath='{.status.conditions[0].type} {.status.conditions[0].reason} {.status.conditions[0].status}')"
expect_out "get pv,pvc,sc,csr together" "certificatesigningrequest.certificates.k8s.io/alice" \
  k get pv,pvc,sc,csr
openssl req -new -newkey rsa:2048 -nodes -keyout "$WORK/bob.key" -out "$WORK/bob.csr" \
  -subj "/CN=bob" >/dev/null 2>&1
sed -e "s/name: alice/name: bob/" -e "s|request: .*|request: $(base64 -w0 "$WORK/bob.csr")|" \
  "$WORK/csr.yaml" | k create -f - >/dev/null
expect_out "kubectl certificate deny" "certificatesigningrequest.certificates.k8s.io/bob denied" \
  k certificate deny bob
expect_out "get csr: Denied" "bob .* +Denied$" k get csr bob
k get csr bob -o json | /usr/bin/python3 -c '
import json, sys
o = json.load(sys.stdin)
o["status"]["conditions"].append({"type": "Approved", "status": "True", "reason": "Both"})
print(json.dumps(o))' >"$WORK/both.json"
expect_err "PUT /approval with Approved and Denied is 422" \
  "Approved and Denied conditions are mutually exclusive" \
  k replace --raw /apis/certificates.k8s.io/v1/certificatesigningrequests/bob/approval -f "$WORK/both.json"
expect_err "csr with a request that is not PEM" "PEM block type must be CERTIFICATE REQUEST" \
  k create -f <(sed -e "s/name: alice/name: carol/" -e "s|request: .*|request: bm90IGEgY3NyCg==|" "$WORK/csr.yaml")

# ---- APIServices: every served group/version, Local and Available
expect_out "get apiservices: header" "NAME +SERVICE +AVAILABLE +AGE" k get apiservices
for gv in "v1\\." v1.apps v1.storage.k8s.io v1.certificates.k8s.io v1.apiregistration.k8s.io \
  v2.autoscaling v1.flowcontrol.apiserver.k8s.io; do
  expect_out "apiservice $gv is Local True" "^$gv +Local +True" k get apiservices
done
expect_eq "one APIService per served group/version" \
  "$(k api-versions | wc -l)" "$(k get apiservices --no-headers | wc -l)"

# ---- apply --prune (lists PVCs and PVs among its default kinds)
mkdir -p "$WORK/prune"
for n in a b; do
  cat >"$WORK/prune/$n.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: prune-$n, namespace: default, labels: {app: prune}}
data: {k: v}
YAML
done
expect_out "apply --prune -l: first apply" "configmap/prune-b created" \
  k apply --prune -l app=prune -f "$WORK/prune"
rm "$WORK/prune/b.yaml"
expect_out "apply --prune -l: removed manifest is pruned" "configmap/prune-b pruned" \
  k apply --prune -l app=prune -f "$WORK/prune"
expect_err "pruned object is gone" "NotFound" k get configmap prune-b
expect_ok "kept object stays" k get configmap prune-a

# ---- delete
expect_out "delete the manifest's objects" "persistentvolume \"pv1\" deleted" \
  k delete -f "$FIXTURES/more-kinds.yaml"
expect_out "nothing left" "No resources found" k get pv,pvc,sc

finish
