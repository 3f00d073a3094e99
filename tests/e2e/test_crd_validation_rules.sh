#!/usr/bin/env bash
# CRD validation rules (x-kubernetes-validations) through the real kubectl: a CRD whose rules
# compare fields, forbid changes (a transition rule), check every list element and every map
# value; objects that pass and fail on create, update and patch; and rules that do not compile
# being refused with the CRD; the newer CEL (optional syntax, type(), formatted strings as
# timestamps/durations, quantity/URL/CIDR libraries), the format library, string.format, named
# time zones, optional list entries and optMap, a two-version CRD whose writes are validated by
# the request version's schema, ratcheting warnings, and rules under allOf or over the estimated
# cost budget refused.
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
echo "-- newer CEL: optionals, type(), timestamps, durations, quantities, URLs, CIDRs"
GCRD=gadgets.rules.example.com
cat >"$T/gadgets.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.rules.example.com
spec:
  group: rules.example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
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
            - rule: "!has(self.since) || self.?until.orValue(timestamp('2100-01-01T00:00:00Z')) > self.since"
              message: until must follow since
            - rule: "!has(self.size) || type(self.size) == int || self.size.endsWith('%')"
              message: size is a count or a percentage
            - rule: "!has(self.subnet) || cidr('10.0.0.0/8').containsCIDR(self.subnet)"
              message: subnet must be inside 10.0.0.0/8
            - rule: "!has(self.endpoint) || url(self.endpoint).getScheme() == 'https'"
              message: endpoint must be https
            properties:
              since: {type: string, format: date-time}
              until: {type: string, format: date-time}
              timeout:
                type: string
                format: duration
                x-kubernetes-validations:
                - {rule: "self <= duration('1h')", message: timeout is at most an hour}
              size: {x-kubernetes-int-or-string: true}
              subnet: {type: string, maxLength: 64}
              endpoint: {type: string, maxLength: 256}
              note: {type: string, maxLength: 64}
              memory:
                type: string
                maxLength: 32
                x-kubernetes-validations:
                - rule: "isQuantity(self) && quantity(self).compareTo(quantity('4Gi')) <= 0"
                  message: too much memory
EOF
expect_out "a CRD using the newer CEL is accepted" "$GCRD created" k apply -f "$T/gadgets.yaml"
k wait --for condition=established --timeout=10s crd/$GCRD >/dev/null 2>&1
gadget() { # name spec-json
  printf '{"apiVersion":"rules.example.com/v1","kind":"Gadget","metadata":{"name":"%s"},"spec":%s}' "$1" "$2"
}
gadget g1 '{"since":"2024-01-01T00:00:00Z","until":"2024-06-01T00:00:00Z","timeout":"30m","size":"50%","subnet":"10.1.0.0/16","endpoint":"https://example.com/hook","memory":"2Gi","note":"a"}' >"$T/g1.json"
expect_out "an object passing every new rule is created" 'gadget.rules.example.com/g1 created' k create -f "$T/g1.json"
gadget g2 '{"since":"2024-06-01T00:00:00Z","until":"2024-01-01T00:00:00Z"}' >"$T/g2.json"
expect_err "date-time strings compare as timestamps" 'until must follow since' k create -f "$T/g2.json"
gadget g3 '{"timeout":"90m"}' >"$T/g3.json"
expect_err "duration strings compare as durations" 'spec.timeout: Invalid value: "string": timeout is at most an hour' k create -f "$T/g3.json"
gadget g4 '{"size":"50"}' >"$T/g4.json"
expect_err "type() tells an int-or-string's string from its int" 'size is a count or a percentage' k create -f "$T/g4.json"
gadget g5 '{"size":3,"subnet":"192.168.0.0/16","endpoint":"http://example.com"}' >"$T/g5.json"
expect_err "the CIDR and URL libraries" 'subnet must be inside 10.0.0.0/8' k create -f "$T/g5.json"
grep -q 'endpoint must be https' <<<"$LAST_OUT" && pass "both rules are reported" || fail "both rules are reported" "$LAST_OUT"
gadget g6 '{"memory":"5Gi"}' >"$T/g6.json"
expect_err "the quantity library" 'spec.memory: Invalid value: "string": too much memory' k create -f "$T/g6.json"

echo "-- ratcheting: a tightened rule warns on unchanged values"
sed "s/quantity('4Gi')/quantity('1Gi')/" "$T/gadgets.yaml" >"$T/gadgets-tight.yaml"
expect_out "the rule is tightened" "$GCRD configured" k apply -f "$T/gadgets-tight.yaml"
# The served schema follows the CRD asynchronously: wait until a new object sees the new rule.
gadget probe '{"memory":"2Gi"}' >"$T/probe.json"
for _ in $(seq 50); do
  k create --dry-run=server -f "$T/probe.json" >/dev/null 2>&1 || break
  sleep 0.1
done
expect_out "an update leaving memory alone passes with upstream's warning" \
  'Warning: spec.memory: Invalid value: "string": too much memory' \
  k patch gadget g1 --type merge -p '{"spec":{"note":"b"}}'
grep -q 'patched' <<<"$LAST_OUT" && pass "and the update was applied" || fail "and the update was applied" "$LAST_OUT"
expect_err "changing the ratcheted value fails the rule" 'spec.memory: Invalid value: "string": too much memory' \
  k patch gadget g1 --type merge -p '{"spec":{"memory":"3Gi"}}'

echo "-- format library, string.format, named zones, optional entries, optMap; request-version schema"
TCRD=tools.rules.example.com
cat >"$T/tools.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: tools.rules.example.com
spec:
  group: rules.example.com
  scope: Namespaced
  names: {plural: tools, singular: tool, kind: Tool}
  versions:
  - name: v1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: "size([?self.?primary, ?self.?secondary]) <= 1"
              message: at most one of primary and secondary
            - rule: "self.?limit.optMap(l, l <= 10).orValue(true)"
              messageExpression: "'limit %d exceeds %d'.format([self.limit, 10])"
            properties:
              host:
                type: string
                maxLength: 64
                x-kubernetes-validations:
                - rule: "!format.dns1123Label().validate(self).hasValue()"
                  messageExpression: "format.dns1123Label().validate(self).value().join(', ')"
              start:
                type: string
                format: date-time
                x-kubernetes-validations:
                - rule: "self.getHours('America/New_York') >= 9"
                  message: start must be within New York office hours
              primary: {type: string, maxLength: 16}
              secondary: {type: string, maxLength: 16}
              limit: {type: integer}
              size: {type: integer, maximum: 5}
  - name: v2
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              size: {type: integer}
EOF
expect_out "a CRD using the format library, named zones and optional entries is accepted" \
  "$TCRD created" k apply -f "$T/tools.yaml"
k wait --for condition=established --timeout=10s crd/$TCRD >/dev/null 2>&1
tool() { # apiVersion name spec-json
  printf '{"apiVersion":"rules.example.com/%s","kind":"Tool","metadata":{"name":"%s"},"spec":%s}' "$1" "$2" "$3"
}
tool v1 t1 '{"host":"build-01","start":"2024-07-01T14:00:00Z","primary":"a","limit":3,"size":5}' >"$T/t1.json"
expect_out "an object passing the new rules is created through v1" 'tool.rules.example.com/t1 created' \
  k create -f "$T/t1.json"
tool v1 t2 '{"host":"Build_01"}' >"$T/t2.json"
expect_err "format.dns1123Label().validate() names the problem" \
  "spec.host: Invalid value: \"string\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'" \
  k create -f "$T/t2.json"
tool v1 t3 '{"start":"2024-07-01T12:00:00Z"}' >"$T/t3.json"
expect_err "getHours('America/New_York') reads the zone's DST offset (12:00Z is 08:00 EDT)" \
  'start must be within New York office hours' k create -f "$T/t3.json"
tool v1 t4 '{"primary":"a","secondary":"b"}' >"$T/t4.json"
expect_err "optional list entries count only present fields" \
  'at most one of primary and secondary' k create -f "$T/t4.json"
tool v1 t5 '{"limit":12}' >"$T/t5.json"
expect_err "optMap and string.format in a messageExpression" 'limit 12 exceeds 10' \
  k create -f "$T/t5.json"
tool v1 t6 '{"size":9}' >"$T/t6.json"
expect_err "a v1 request is validated by v1's schema, not the storage version's" \
  'spec.size: Invalid value: 9: spec.size in body should be less than or equal to 5' \
  k create -f "$T/t6.json"
tool v2 t6 '{"size":9}' >"$T/t6v2.json"
expect_out "the same object through v2 (the storage version) is accepted" \
  'tool.rules.example.com/t6 created' k create -f "$T/t6v2.json"
expect_out "and reads back through v1" '^9$' k get tools.v1.rules.example.com t6 -o jsonpath='{.spec.size}'

echo "-- rules refused with the CRD"
cat >"$T/allof.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: allofs.rules.example.com
spec:
  group: rules.example.com
  scope: Namespaced
  names: {plural: allofs, singular: allof, kind: AllOf}
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
            properties:
              a: {type: integer}
            allOf:
            - x-kubernetes-validations: [{rule: "self.a > 0"}]
EOF
expect_err "x-kubernetes-validations under allOf is not structural" \
  'properties\[spec\]\.allOf\[0\]\.x-kubernetes-validations: Forbidden: must be empty to be structural' \
  k apply -f "$T/allof.yaml"
sed -e 's/allofs/costlies/g; s/allof/costly/; s/AllOf/Costly/' \
  -e 's/a: {type: integer}/a: {type: array, items: {type: string}}/' \
  -e 's/allOf:/x-kubernetes-validations:/' \
  -e 's/- x-kubernetes-validations: \[{rule: "self.a > 0"}\]/- rule: "self.a.all(x, self.a.exists(y, x == y))"/' \
  "$T/allof.yaml" >"$T/costly.yaml"
expect_err "a rule over the estimated cost budget is refused" \
  'x-kubernetes-validations\[0\]\.rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x' \
  k apply -f "$T/costly.yaml"
grep -q 'estimated rule cost total for entire OpenAPIv3 schema exceeds budget' <<<"$LAST_OUT" \
  && pass "and so is the schema's total" || fail "and so is the schema's total" "$LAST_OUT"
finish
