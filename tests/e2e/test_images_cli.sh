#!/usr/bin/env bash
# `berth images`: import both archive formats built by scripts/build-test-images.sh, list and
# remove, and pull the lecture's image name through a registries.yaml mirror pointing at a local
# docker-registry (scripts/local-registry.sh). No API server needed.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$E2E_DIR/../.." && pwd)
REG_PID=""
stop_registry() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; cleanup; }
trap stop_registry EXIT

DATA=$WORK/data
img() { "$BERTH" images --data-dir "$DATA" "$@"; }

bash "$ROOT/scripts/build-test-images.sh" "$WORK/images" >/dev/null
expect_out "import docker-save" "imported docker.io/berth-test/web:2.0" img import "$WORK/images/docker-save.tar"
expect_out "import OCI layout" "imported gcr.io/google-samples/kubernetes-bootcamp:v1" img import "$WORK/images/oci-layout.tar"
expect_out "ls shows both" "docker.io/berth-test/multi:1.0" img ls
expect_eq "six images" 6 "$(img ls | tail -n +2 | wc -l)"
expect_ok "rm by name" img rm berth-test/web:2.0
expect_err "gone" "NotFound" img rm berth-test/web:2.0
expect_err "bad archive" "BadRequest" img import /etc/hostname
expect_err "bad name" "InvalidImageName" img pull "Not/Valid"

REG_PID=$(IMAGES=$WORK/images bash "$ROOT/scripts/local-registry.sh" "$WORK/registry")
REG=127.0.0.1:$(cat "$WORK/registry/port")
cat >"$WORK/registries.yaml" <<YAML
mirrors:
  gcr.io:
    endpoint: ["http://$REG"]
  "$REG":
    endpoint: ["http://$REG"]
YAML
DATA=$WORK/data2
expect_out "pull through a mirror" "gcr.io/google-samples/kubernetes-bootcamp:v1" \
  img --registry-config "$WORK/registries.yaml" pull gcr.io/google-samples/kubernetes-bootcamp:v1
expect_err "missing image" "ErrImagePull.*manifest unknown" \
  img --registry-config "$WORK/registries.yaml" pull "$REG/berth-test/absent:1"
cp "$WORK/registries.yaml" "$DATA/registries.yaml"
expect_out "registries.yaml from the data dir" "$REG/berth-test/web:1.0" img pull "$REG/berth-test/web:1.0"
finish
