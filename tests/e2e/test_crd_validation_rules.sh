#!/usr/bin/env bash
# CRD validation rules (x-kubernetes-validations) through the real kubectl: a CRD whose rules
# compare fields, forbid changes (a transition rule), check every list element and every map
# value; objects that pass and fail on create, update and patch; and rules that do not compile
# being refused with the CRD.
source "$(dirname "$0")/lib.sh"
start_server || exit 1
CRD=widgets.rules.example.com
T=$WORK/rules
mkdir -p "$T"

cat >"$T/crd.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.rules.example.com
spec:
  group: rules.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.minReplicas <= self.replicas
              message: minReplicas must not exceed replicas
            - rule: "!has(self.maxSurge) || self.maxSurge.endsWith('%')"
              messageExpression: "'maxSurge ' + self.maxSurge + ' is not a percentage'"
            properties:
              replicas: {type: integer}
              minReplicas: {type: integer}
              maxSurge: {type: string}
              storageClass:
                type: string
                x-kubernetes-validations:
                - {rule: self == oldSelf, message: storageClass is immutable}
              tier:
                type: string
                x-kubernetes-validations:
                - rule: oldSelf.hasValue() || self == 'basic'
                  optionalOldSelf: true
                  message: new widgets start at the basic tier
              ports:
                type: array
                items: {type: integer}
                x-kubernetes-validations:
                - {rule: "self.all(p, p > 0 && p < 65536)", message: every port must be 1-65535}
              labels:
                type: object
                additionalProperties:
                  type: string
                  x-kubernetes-validations:
                  - {rule: "size(self) <= 8", reason: FieldValueForbidden, message: too long}
EOF

widget() { # name replicas minReplicas [extra spec yaml]
  cat <<EOF
apiVersion: rules.example.com/v1
kind: Widget
metadata: {name: $1}
spec:
  replicas: $2
  minReplicas: $3
  storageClass: fast
  ${4:-}
EOF
}

echo "-- the CRD"
expect_out "apply the CRD with rules" "customresourcedefinition.apiextensions.k8s.io/$CRD created" \
  k apply -f "$T/crd.yaml"
expect_out "it is established" "condition met" \
  k wait --for condition=established --timeout=10s crd/$CRD

echo "-- create"
widget good 3 1 'ports: [80, 443]' >"$T/good.yaml"
expect_out "an object passing every rule is created" '^widget.rules.example.com/good created$' \
  k create -f "$T/good.yaml"
widget bad 1 2 >"$T/bad.yaml"
expect_err "a rule comparing fields fails with the node's path and message" \
  'The Widget "bad" is invalid: spec: Invalid value: "object": minReplicas must not exceed replicas' \
  k create -f "$T/bad.yaml"
widget ports 1 1 'ports: [80, 70000]' >"$T/ports.yaml"
expect_err "a list rule with all() fails" \
  'spec.ports: Invalid value: "array": every port must be 1-65535' k create -f "$T/ports.yaml"
widget surge 1 1 'maxSurge: "3"' >"$T/surge.yaml"
expect_err "messageExpression gives the message" \
  'spec: Invalid value: "object": maxSurge 3 is not a percentage' k create -f "$T/surge.yaml"
widget labels 1 1 'labels: {ok: short, bad: much-too-long}' >"$T/labels.yaml"
expect_err "map values are checked one by one, with the rule's reason" \
  'spec.labels\[bad\]: Forbidden: too long' k create -f "$T/labels.yaml"
grep -q 'spec.labels\[ok\]' <<<"$LAST_OUT" && fail "only the failing map value is reported" "$LAST_OUT" \
  || pass "only the failing map value is reported"

widget tier 1 1 'tier: gold' >"$T/tier.yaml"
expect_err "optionalOldSelf: the rule runs on create with oldSelf none" \
  'spec.tier: Invalid value: "string": new widgets start at the basic tier' k create -f "$T/tier.yaml"

echo "-- update and patch"
expect_out "a change keeping the rules is accepted" 'widget.rules.example.com/good patched' \
  k patch widget good --type merge -p '{"spec":{"replicas":5}}'
expect_err "patch breaking a rule is 422" \
  'spec: Invalid value: "object": minReplicas must not exceed replicas' \
  k patch widget good --type merge -p '{"spec":{"minReplicas":9}}'
expect_err "the transition rule keeps storageClass" \
  'spec.storageClass: Invalid value: "string": storageClass is immutable' \
  k patch widget good --type merge -p '{"spec":{"storageClass":"slow"}}'
sed 's/replicas: 3/replicas: 4/; s/storageClass: fast/storageClass: slow/' "$T/good.yaml" >"$T/good2.yaml"
expect_err "replace (kubectl replace) runs the transition rule too" 'storageClass is immutable' \
  k replace -f "$T/good2.yaml"
expect_out "nothing was changed by the refused writes" '^5 1 fast$' \
  k get widget good -o jsonpath='{.spec.replicas} {.spec.minReplicas} {.spec.storageClass}'
expect_err "json patch breaking the list rule" 'every port must be 1-65535' \
  k patch widget good --type json -p '[{"op":"add","path":"/spec/ports/-","value":0}]'
expect_out "optionalOldSelf: basic on create" 'patched' \
  k patch widget good --type merge -p '{"spec":{"tier":"basic"}}'
expect_out "optionalOldSelf: an existing value may change" 'patched' \
  k patch widget good --type merge -p '{"spec":{"tier":"gold"}}'

echo "-- rules that do not compile"
sed 's/rule: self.minReplicas <= self.replicas/rule: self.minReplicas <= self.nope/' "$T/crd.yaml" \
  >"$T/crd-bad.yaml"
expect_err "an undefined field is a compile error on the CRD" \
  "spec.versions\[0\].schema.openAPIV3Schema.properties\[spec\].x-kubernetes-validations\[0\].rule: Invalid value: .*compilation failed: ERROR: <input>:1:.*undefined field 'nope'" \
  k apply -f "$T/crd-bad.yaml"
sed 's/rule: self.minReplicas <= self.replicas/rule: self.replicas + 1/' "$T/crd.yaml" >"$T/crd-int.yaml"
expect_err "a rule that is not bool is refused" 'cel expression must evaluate to a bool' \
  k apply -f "$T/crd-int.yaml"
expect_out "the stored CRD still has the original rule" 'self.minReplicas <= self.replicas' \
  k get crd $CRD -o jsonpath='{.spec.versions[0].schema.openAPIV3Schema.properties.spec.x-kubernetes-validations[0].rule}'
finish
