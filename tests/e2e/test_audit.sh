#!/usr/bin/env bash
# Audit logging with upstream's audit.k8s.io/v1 Policy: kubectl's requests show up as Event lines
# at the level the first matching rule gives (Metadata for secrets, so no secret value is
# logged; RequestResponse for configmaps, with the objects), omitted stages stay out, watches
# get a ResponseStarted stage, rejected requests carry their status, and every line parses as an
# audit Event.
source "$(dirname "$0")/lib.sh"

LOG=$WORK/audit/audit.log
cat >"$WORK/policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/api*", "/openapi*"]
- level: Metadata
  resources:
  - group: ""
    resources: ["secrets"]
- level: RequestResponse
  resources:
  - group: ""
    resources: ["configmaps"]
- level: Request
  resources:
  - group: ""
    resources: ["pods"]
  omitStages: []
- level: None
YAML
start_server --audit-policy-file "$WORK/policy.yaml" --audit-log-path "$LOG"

SECRET=AuditMustNotSee-$RANDOM
expect_ok "create a secret" k create secret generic s1 --from-literal=password="$SECRET"
expect_ok "create a configmap" k create configmap c1 --from-literal=color=blue
expect_ok "get the configmap" k get configmap c1 -o name
expect_err "creating it again is rejected" "already exists" k create configmap c1 --from-literal=color=red
timeout 2 "$KUBECTL" get pods --watch >/dev/null 2>&1
expect_ok "create a pod" k run p1 --image=busybox --restart=Never
# PodSecurity's audit mode: the pod is admitted, its audit event says what it would violate.
k create namespace psa >/dev/null
k label namespace psa pod-security.kubernetes.io/audit=restricted >/dev/null
expect_ok "a pod violating the audit level is admitted" k -n psa run p2 --image=busybox --restart=Never

check() {
  /usr/bin/python3 - "$LOG" "$SECRET" <<'PY'
import json, sys, base64
path, secret = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines()
events = [json.loads(l) for l in lines]   # every line parses
bad = [e for e in events if e.get("kind") != "Event" or e.get("apiVersion") != "audit.k8s.io/v1"]
assert not bad, ("not audit Events", bad[:1])
for e in events:
    for k in ("level", "auditID", "stage", "requestURI", "verb", "user", "stageTimestamp",
              "requestReceivedTimestamp"):
        assert k in e, (k, e)
raw = open(path).read()
assert secret not in raw and base64.b64encode(secret.encode()).decode() not in raw, "secret value logged"
def find(**kw):
    return [e for e in events if all(
        (e.get("objectRef") or {}).get(k) == v if k in ("resource", "name", "namespace") else e.get(k) == v
        for k, v in kw.items())]
sec = find(resource="secrets", verb="create")
assert sec and all(e["level"] == "Metadata" and "requestObject" not in e for e in sec), sec
assert all(e["stage"] != "RequestReceived" for e in sec), "omitted stage logged"
cm = [e for e in find(resource="configmaps", verb="create", stage="ResponseComplete")
      if e["objectRef"].get("name") == "c1"]
assert len(cm) == 2, cm
ok = [e for e in cm if e["responseStatus"]["code"] == 201]
assert ok and ok[0]["level"] == "RequestResponse", cm
assert ok[0]["requestObject"]["data"]["color"] == "blue", ok[0]
assert ok[0]["responseObject"]["metadata"]["name"] == "c1", ok[0]
assert ok[0]["objectRef"]["name"] == "c1", ok[0]["objectRef"]
assert ok[0]["sourceIPs"] == ["127.0.0.1"], ok[0]["sourceIPs"]
dup = [e for e in cm if e["responseStatus"]["code"] == 409]
assert dup and dup[0]["responseStatus"].get("reason") == "AlreadyExists", cm
assert "admin" in dup[0]["user"]["username"], dup[0]["user"]
get = find(resource="configmaps", verb="get", name="c1")
assert get and get[0]["responseObject"]["data"]["color"] == "blue", get
watch = find(resource="pods", verb="watch")
assert any(e["stage"] == "ResponseStarted" for e in watch), watch
pods = find(resource="pods", verb="create", namespace="default")
stages = sorted(e["stage"] for e in pods)
assert stages == ["RequestReceived", "ResponseComplete"], stages
assert all(e["level"] == "Request" and "responseObject" not in e for e in pods), pods
assert pods[0]["requestObject"]["metadata"]["name"] == "p1", pods
ids = {e["auditID"] for e in pods}
assert len(ids) == 1, "one audit ID across a request's stages"
psa = [e for e in find(resource="pods", verb="create", namespace="psa", stage="ResponseComplete")]
assert psa, "no event for the psa pod"
ann = psa[0].get("annotations") or {}
assert ann.get("pod-security.kubernetes.io/audit-violations", "").startswith(
    'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false'), ann
assert ann.get("pod-security.kubernetes.io/enforce-policy") == "privileged:latest", ann
assert "annotations" not in pods[-1] or "pod-security.kubernetes.io/audit-violations" not in pods[-1]["annotations"], pods[-1]
health = [e for e in events if e["requestURI"].startswith("/readyz")]
assert not health, "level None logged"
print(len(events), "events checked")
PY
}
expect_out "audit log lines are audit Events as the policy says" "events checked" check
expect_out "responses carry the Audit-Id header" "[Aa]udit-[Ii]d: [0-9a-f-]{36}" \
  curl -sk -D - -o /dev/null -H "Authorization: Bearer $(cat "$WORK/data/admin.token")" \
  "https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps/c1"
expect_eq "audit log is the owner's only" 600 "$(stat -c %a "$LOG")"

stop_server
printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n' >"$WORK/bad.yaml"
expect_err "a bad policy stops the server with a reason" "unknown level" \
  "$BERTH" server --data-dir "$WORK/data" --bind-address 127.0.0.1 --secure-port 0 \
  --disable-agent --audit-policy-file "$WORK/bad.yaml" --audit-log-path "$LOG"
finish
