#!/usr/bin/env bash
# /livez, /readyz, /healthz with named checks, and /metrics in Prometheus text format, through
# the real kubectl (`get --raw`) and anonymous curl.
source "$(dirname "$0")/lib.sh"
# Without the publisher of kube-root-ca.crt, the ConfigMaps counted below are the test's own.
start_server --controllers '*,-root-ca-cert-publisher' || exit 1

expect_out "readyz?verbose lists the checks and passes" \
  '^\[\+\]ping ok$' k get --raw '/readyz?verbose'
for check in etcd informer-sync poststarthook/bootstrap-controller shutdown; do
  grep -qx "\[+\]$check ok" <<<"$LAST_OUT" && pass "readyz lists $check" \
    || fail "readyz lists $check" "$LAST_OUT"
done
expect_eq "readyz verbose ends with the verdict" "readyz check passed" "$(tail -1 <<<"$LAST_OUT")"
expect_out "livez?verbose passes" '^livez check passed$' k get --raw '/livez?verbose'
grep -q shutdown <<<"$LAST_OUT" && fail "livez has no shutdown check" "$LAST_OUT" \
  || pass "livez has no shutdown check"
expect_eq "healthz is ok" "ok" "$(k get --raw /healthz)"
expect_eq "livez/ping is ok" "ok" "$(k get --raw /livez/ping)"
expect_eq "readyz/etcd is ok" "ok" "$(k get --raw /readyz/etcd)"
expect_out "exclude marks the check" '^\[\+\]etcd excluded: ok$' \
  k get --raw '/readyz?verbose&exclude=etcd'
expect_err "unknown check is NotFound" 'NotFound' k get --raw /livez/nope
expect_err "readyz-only check is not under livez" 'NotFound' k get --raw /livez/shutdown
expect_eq "health is public (anonymous curl)" "ok" \
  "$(curl -sk "https://127.0.0.1:$PORT/readyz")"
expect_eq "metrics are not: anonymous is forbidden (403, as upstream)" "403" \
  "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/metrics")"
expect_out "the 403 names system:anonymous and the path" 'User \\"system:anonymous\\" cannot get path \\"/metrics\\"' \
  curl -sk "https://127.0.0.1:$PORT/metrics"

# sample NAME LABEL-REGEX: the value of the first sample of NAME whose labels match, or 0.
metrics() { k get --raw /metrics; }
sample() {
  awk -v name="$1" -v re="$2" '($1 == name || index($1, name "{") == 1) && $1 ~ re {
      print $2; found=1; exit }
    END { if (!found) print 0 }' <<<"$METRICS"
}

METRICS=$(metrics)
# The text format, line by line, as Prometheus reads it.
bad=$(python3 -c '
import re, sys
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label = r"[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\n]|\\\\[\\\\n\"])*\""
sample = re.compile(rf"^{name}(\{{({label})(,{label})*\}})? (-?[0-9.e+-]+|[+-]Inf|NaN)$")
typed = set()
for n, line in enumerate(sys.stdin.read().split("\n")[:-1], 1):
    if line.startswith("# TYPE "):
        typed.add(line.split()[2]); continue
    if line.startswith("# HELP "): continue
    m = sample.match(line)
    base = re.sub(r"_(bucket|sum|count)$", "", line.split("{")[0].split(" ")[0])
    if not m or (line.split("{")[0].split(" ")[0] not in typed and base not in typed):
        print(n, line)
' <<<"$METRICS")
expect_eq "every /metrics line is valid exposition format" "" "$bad"
for name in apiserver_request_total apiserver_request_duration_seconds_bucket \
  apiserver_current_inflight_requests apiserver_storage_objects process_cpu_seconds_total \
  process_resident_memory_bytes process_open_fds process_start_time_seconds; do
  grep -q "^$name[{ ]" <<<"$METRICS" && pass "/metrics has $name" || fail "/metrics has $name"
done

post='verb="POST".*resource="configmaps".*code="201"'
list='verb="LIST".*resource="configmaps".*scope="namespace".*code="200"'
posts_before=$(sample apiserver_request_total "$post")
lists_before=$(sample apiserver_request_total "$list")
for i in 1 2 3; do k create configmap "m$i" --from-literal=a=b >/dev/null; done
k get configmaps >/dev/null
METRICS=$(metrics)
expect_eq "three creates counted" "$((posts_before + 3))" "$(sample apiserver_request_total "$post")"
expect_eq "one list counted" "$((lists_before + 1))" "$(sample apiserver_request_total "$list")"
[ "$(sample apiserver_request_duration_seconds_count 'verb="POST".*resource="configmaps"')" -ge 3 ] \
  && pass "durations observed" || fail "durations observed" "$METRICS"
expect_eq "storage objects counted" "3" "$(sample apiserver_storage_objects 'resource="configmaps"')"
rss=$(sample process_resident_memory_bytes '')
python3 -c "import sys; sys.exit(0 if float('$rss') > 1e6 else 1)" \
  && pass "resident memory reported ($rss)" || fail "resident memory reported" "$rss"

# In-process controllers (the garbage collector) watch ConfigMaps too: count relative to them.
METRICS=$(metrics)
base=$(sample apiserver_registered_watchers 'kind="ConfigMap"')
base=${base:-0}
# Its own session, so that killing the group also ends the kubectl that /usr/bin/kubectl runs.
setsid "$KUBECTL" get configmaps -w >/dev/null 2>&1 &
watch_pid=$!
for _ in $(seq 1 50); do
  METRICS=$(metrics)
  [ "$(sample apiserver_registered_watchers 'kind="ConfigMap"')" = $((base + 1)) ] && break
  sleep 0.1
done
expect_eq "a watch is a registered watcher" $((base + 1)) \
  "$(sample apiserver_registered_watchers 'kind="ConfigMap"')"
expect_eq "and a long-running request" 1 \
  "$(sample apiserver_longrunning_requests 'verb="WATCH".*resource="configmaps".*scope="namespace"')"
kill -- "-$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null
for _ in $(seq 1 50); do
  METRICS=$(metrics)
  [ "$(sample apiserver_registered_watchers 'kind="ConfigMap"')" = "$base" ] && break
  sleep 0.1
done
expect_eq "the watcher is gone when the client leaves" "$base" \
  "$(sample apiserver_registered_watchers 'kind="ConfigMap"')"
finish
