#!/usr/bin/env bash
# Builds Berth's test images from busybox-static, deterministically, without network or Docker:
# OUT/docker-save.tar, OUT/oci-layout.tar and OUT/layout/ (see build_test_images.py for the list).
#   scripts/build-test-images.sh [OUT]      (default: build/test-images)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/test-images}
[ -x /bin/busybox ] || { echo "needs /bin/busybox (apt-get install busybox-static)" >&2; exit 1; }
exec /usr/bin/python3 "$here/build_test_images.py" "$out"
