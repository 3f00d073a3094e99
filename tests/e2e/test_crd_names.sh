#!/usr/bin/env bash
# CRD name acceptance through the real kubectl, as upstream's naming controller: a CRD whose
# kind or short name another CRD of its group holds gets NamesAccepted=False with the reason and
# is not served; once the other CRD is gone its names are accepted and it is served.
source "$(dirname "$0")/lib.sh"
start_server || exit 1
T=$WORK/names
mkdir -p "$T"

crd() { # plural kind shortName
  cat <<EOF
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: $1.names.example.com}
spec:
  group: names.example.com
  scope: Namespaced
  names: {plural: $1, kind: $2, shortNames: [$3]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
EOF
}
cond() { # crd type
  k get crd "$1" -o jsonpath="{.status.conditions[?(@.type==\"$2\")].status} {.status.conditions[?(@.type==\"$2\")].reason} {.status.conditions[?(@.type==\"$2\")].message}"
}

crd widgets Widget wd >"$T/widgets.yaml"
crd gizmos Widget gz >"$T/gizmos-kind.yaml"
crd gadgets Gadget wd >"$T/gadgets-short.yaml"
crd tools Tool tl >"$T/tools.yaml"

expect_out "the first CRD is accepted" 'created' k apply -f "$T/widgets.yaml"
expect_out "and established" 'condition met' \
  k wait --for condition=established --timeout=10s crd/widgets.names.example.com
expect_out "a CRD with a free name is accepted too" 'created' k apply -f "$T/tools.yaml"
expect_out "NoConflicts" '^True NoConflicts no conflicts found$' cond tools.names.example.com NamesAccepted

expect_out "a CRD reusing the kind is created" 'created' k apply -f "$T/gizmos-kind.yaml"
# The kind and the list kind defaulted from it both conflict; upstream reports the last check.
expect_out "its names are refused: ListKindConflict" \
  '^False ListKindConflict "WidgetList" is already in use$' \
  cond gizmos.names.example.com NamesAccepted
expect_out "it is not established" '^False NotAccepted not all names are accepted$' \
  cond gizmos.names.example.com Established
expect_err "and not served" "doesn't have a resource type \"gizmos\"" k get gizmos
expect_out "a CRD reusing a short name" 'created' k apply -f "$T/gadgets-short.yaml"
expect_out "ShortNamesConflict" '^False ShortNamesConflict "wd" is already in use$' \
  cond gadgets.names.example.com NamesAccepted
expect_out "the first CRD is still served" 'No resources found' k get wd

expect_out "delete the holder of the names" 'deleted' k delete crd widgets.names.example.com
expect_out "the refused CRD gets its names" 'condition met' \
  k wait --for condition=established --timeout=15s crd/gizmos.names.example.com
expect_out "NamesAccepted turns True" '^True NoConflicts' cond gizmos.names.example.com NamesAccepted
expect_out "it is served now" 'No resources found' k get gizmos
expect_out "the short name is free as well" 'condition met' \
  k wait --for condition=established --timeout=15s crd/gadgets.names.example.com
expect_out "served under its short name" 'No resources found' k get wd
finish
