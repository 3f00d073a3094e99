#!/usr/bin/env bash
# Node names longer than 63 characters: the name is also the node's kubernetes.io/hostname
# label value, which the API server limits to 63 characters. Upstream's kubelet cannot register
# such a node (its Node create fails on that validation); `berth agent` refuses the name at start
# with the same reason and the remedy, before touching the host, and registers nothing.
source "$(dirname "$0")/lib.sh"

start_server || exit 1
LONG=node-$(printf 'a%.0s' $(seq 1 59))  # 64 characters
expect_eq "the test's name is 64 characters" 64 "${#LONG}"

# What upstream's kubelet runs into: the API refuses the Node with that hostname label.
expect_err "the API refuses a hostname label of 64 characters" \
  "must be no more than 63 characters" k create -f - <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $LONG
  labels:
    kubernetes.io/hostname: $LONG
YAML

expect_err "berth agent refuses the name at start, saying why" \
  "node name \"$LONG\" cannot be the kubernetes.io/hostname label value: must be no more than 63 characters.*--node-name" \
  timeout 60 "$BERTH" agent --kubeconfig "$KUBECONFIG" --data-dir "$WORK/agent" \
    --node-name "$LONG"
expect_err "and registers no Node" "NotFound|not found" k get node "$LONG"
expect_eq "nor creates its data directory's state" "" "$(ls "$WORK/agent" 2>/dev/null)"

expect_err "a name that is no DNS subdomain is refused too" "is not a valid Node name" \
  timeout 60 "$BERTH" agent --kubeconfig "$KUBECONFIG" --data-dir "$WORK/agent" \
    --node-name "node_1"
finish
