#!/usr/bin/env bash
# Admission plugins with the real kubectl (issue 9): PodSecurity enforce/warn with upstream's
# messages (and warnings for workload templates), LimitRanger defaults and bounds, Priority's
# classes, ServiceAccount's default account and kube-api-access volume, DefaultTolerationSeconds,
# and the --enable/--disable-admission-plugins flags.
source "$(dirname "$0")/lib.sh"
start_server || exit 1

# expect_has NAME FIXED-STRING CMD...: the command's output (success or not) contains the string.
expect_has() {
  local name=$1 want=$2; shift 2
  local out
  out=$("$@" 2>&1)
  if grep -qF -- "$want" <<<"$out"; then pass "$name"; else fail "$name" "want: $want
got:  $out"; fi
}

pod_yaml() {  # pod_yaml NAME NAMESPACE [securityContext json] [extra spec lines]
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: $2}
spec:
  containers:
  - name: c
    image: busybox
    securityContext: ${3:-{\}}
${4:-}
YAML
}
apply() { k apply -f - <<<"$1"; }

expect_within "default ServiceAccount in default" 10 k get serviceaccount default -n default
expect_within "kube-root-ca.crt in default" 10 k get configmap kube-root-ca.crt -n default

# --- PodSecurity -------------------------------------------------------------------------------
k create namespace strict >/dev/null
k label namespace strict pod-security.kubernetes.io/enforce=restricted >/dev/null
expect_within "default ServiceAccount in a new namespace" 10 k get serviceaccount default -n strict
expect_has "enforce=restricted rejects a privileged pod with upstream's message" \
  'Error from server (Forbidden): error when creating "STDIN": pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")' \
  apply "$(pod_yaml priv strict '{privileged: true}')"
expect_err "the rejected pod was not created" "NotFound" k get pod priv -n strict
expect_ok "a restricted-compliant pod is admitted" apply "$(pod_yaml good strict \
  '{allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}')"

k create namespace warned >/dev/null
k label namespace warned pod-security.kubernetes.io/warn=baseline >/dev/null
expect_within "default ServiceAccount in warned" 10 k get serviceaccount default -n warned
out=$(apply "$(pod_yaml loud warned '{privileged: true}')" 2>&1)
expect_eq "warn=baseline prints a Warning: line on kubectl apply" \
  'Warning: would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)' \
  "$(grep '^Warning:' <<<"$out")"
expect_ok "the warned pod was created" k get pod loud -n warned
expect_has "a workload template gets a warning for the enforce level" \
  'Warning: would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true)' \
  apply "$(cat <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: strict}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers: [{name: c, image: busybox}]
YAML
)"
expect_ok "the deployment itself is created" k get deployment web -n strict
expect_has "a malformed level label is refused" \
  'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted' \
  k label namespace warned pod-security.kubernetes.io/enforce=strict
expect_has "tightening enforce warns about existing pods" \
  'Warning: existing pods in namespace "warned" violate the new PodSecurity enforce level "baseline:latest"' \
  k label namespace warned pod-security.kubernetes.io/enforce=baseline

# --- LimitRanger -------------------------------------------------------------------------------
k create namespace limited >/dev/null
expect_within "default ServiceAccount in limited" 10 k get serviceaccount default -n limited
apply "$(cat <<'YAML'
apiVersion: v1
kind: LimitRange
metadata: {name: lr, namespace: limited}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 128Mi}
    defaultRequest: {cpu: 100m}
    max: {cpu: "1"}
YAML
)" >/dev/null
expect_ok "a pod without resources is admitted" apply "$(pod_yaml filled limited)"
expect_eq "LimitRange fills the request" "100m/128Mi/500m" \
  "$(k get pod filled -n limited -o jsonpath='{.spec.containers[0].resources.requests.cpu}/{.spec.containers[0].resources.requests.memory}/{.spec.containers[0].resources.limits.cpu}')"
expect_eq "and records it" "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c" \
  "$(k get pod filled -n limited -o jsonpath='{.metadata.annotations.kubernetes\.io/limit-ranger}')"
expect_has "a limit above max is forbidden" \
  'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2' \
  apply "$(pod_yaml big limited '{}' '    resources: {limits: {cpu: "2"}}')"
expect_out "LimitRange is served (short name limits)" "lr" k get limits -n limited

# --- Priority ----------------------------------------------------------------------------------
expect_out "the system PriorityClasses exist" "system-cluster-critical +2000000000.*" \
  k get priorityclass system-cluster-critical
expect_has "an unknown PriorityClass is forbidden" \
  'pods "nopc" is forbidden: no PriorityClass with name nope was found' \
  apply "$(pod_yaml nopc default '{}' '  priorityClassName: nope')"
expect_ok "system-cluster-critical is accepted" \
  apply "$(pod_yaml crit default '{}' '  priorityClassName: system-cluster-critical')"
expect_eq "and fills spec.priority" "2000000000/PreemptLowerPriority" \
  "$(k get pod crit -o jsonpath='{.spec.priority}/{.spec.preemptionPolicy}')"
expect_has "a pod may not bring its own priority" "the integer value of priority (5) must not be provided" \
  apply "$(pod_yaml own default '{}' '  priority: 5')"

# --- ServiceAccount and DefaultTolerationSeconds -----------------------------------------------
expect_ok "a plain pod is admitted" apply "$(pod_yaml plain default)"
expect_out "it runs as the default ServiceAccount" "^default$" \
  k get pod plain -o jsonpath='{.spec.serviceAccountName}'
vol=$(k get pod plain -o jsonpath='{.spec.volumes[0].name}')
expect_out "it gets the kube-api-access volume" "^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$" echo "$vol"
# Upstream records managedFields before mutating admission: what kubectl sent (with its
# defaults) is kubectl's, the volume ServiceAccount admission added is nobody's.
owned=$(k get pod plain --show-managed-fields -o json | python3 -c '
import json, sys
o = json.load(sys.stdin)
e = [m for m in o["metadata"]["managedFields"] if m["manager"] == "kubectl-client-side-apply"]
s = e[0]["fieldsV1"].get("f:spec", {}) if e else {}
c = [v for k, v in s.get("f:containers", {}).items() if k.startswith("k:")]
print(len(e), "f:containers" in s, "f:dnsPolicy" in s, "f:volumes" in s,
      bool(c) and "f:volumeMounts" in c[0])')
expect_eq "managedFields: kubectl owns what it sent and its defaults, not admission's volume" \
  "1 True True False False" "$owned"
expect_eq "projected token, CA and namespace" "3607 token|kube-root-ca.crt ca.crt|metadata.namespace" \
  "$(k get pod plain -o jsonpath='{.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds} {.spec.volumes[0].projected.sources[0].serviceAccountToken.path}|{.spec.volumes[0].projected.sources[1].configMap.name} {.spec.volumes[0].projected.sources[1].configMap.items[0].key}|{.spec.volumes[0].projected.sources[2].downwardAPI.items[0].fieldRef.fieldPath}')"
expect_eq "mounted read-only at the service account path" \
  "$vol /var/run/secrets/kubernetes.io/serviceaccount true" \
  "$(k get pod plain -o jsonpath='{.spec.containers[0].volumeMounts[0].name} {.spec.containers[0].volumeMounts[0].mountPath} {.spec.containers[0].volumeMounts[0].readOnly}')"
expect_eq "default NoExecute tolerations of 300 s" \
  "node.kubernetes.io/not-ready=300 node.kubernetes.io/unreachable=300 " \
  "$(k get pod plain -o jsonpath='{range .spec.tolerations[*]}{.key}={.tolerationSeconds} {end}')"
expect_ok "automountServiceAccountToken: false opts out" \
  apply "$(pod_yaml quiet default '{}' '  automountServiceAccountToken: false')"
expect_eq "no volume then" "" "$(k get pod quiet -o jsonpath='{.spec.volumes}')"
expect_has "a missing ServiceAccount is forbidden" \
  'pods "lost" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found' \
  apply "$(pod_yaml lost default '{}' '  serviceAccountName: ghost')"
k delete serviceaccount default -n limited >/dev/null
expect_within "a deleted default ServiceAccount comes back" 10 k get serviceaccount default -n limited

# --- NamespaceLifecycle ----------------------------------------------------------------------
expect_has "a create in a missing namespace is 404 at once" 'namespaces "nowhere" not found' \
  apply "$(pod_yaml lost nowhere)"

# --- flags -------------------------------------------------------------------------------------
out=$("$BERTH" server --data-dir "$WORK/data2" --bind-address 127.0.0.1 --secure-port 0 \
  --disable-agent --enable-admission-plugins Bogus 2>&1)
expect_has "an unknown plugin name stops the server" 'admission-control plugin "Bogus" is unknown' echo "$out"

finish
