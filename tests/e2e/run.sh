#!/usr/bin/env bash
# Runs every e2e test script against the given berth binary; each starts its own server.
set -uo pipefail
export BERTH=${1:?usage: run.sh path/to/berth}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for t in "$here"/test_*.sh "$here"/test_*.py; do
  [ -e "$t" ] || continue
  echo "=== $(basename "$t")"
  case "$t" in
    *.py) /usr/bin/python3 "$t" || status=1 ;;
    *) bash "$t" || status=1 ;;
  esac
done
exit $status
