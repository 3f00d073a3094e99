#!/usr/bin/env python3
"""Re-runs the part of bench.py that showed the first fixed-rate round's tail, berth alone.

The sequence of bench.py (creates with 32 and 8 connections, the 10,000-Pod list load and
lists, the watch phase with 10 curl watchers), then --idle seconds (bench.py spends them on
etcd's runs), then --rounds fixed-rate rounds of creates at --rate/s with 50 connections, each
followed by --idle seconds. A probe client creates one Pod every 20 ms on its own connection
from the list phase on and records every request slower than --slow-ms with the time since the
server started: stalls show up whether or not a round is running, so they can be matched to the
server's timers (the store compacts every 60 s).

Usage: rate_after_list.py --berth build/berth [--creates-seconds 30] [--idle 10] [--rounds 3]
Needs wrk and curl (bench/run.sh installs them). Starts berth on 127.0.0.1 in a temporary
directory and stops only what it started.
"""
import argparse
import http.client
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", required=True)
    ap.add_argument("--creates-seconds", type=int, default=30)
    ap.add_argument("--idle", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--slow-ms", type=float, default=100)
    args = ap.parse_args()
    B.WORK = tempfile.mkdtemp(prefix="berth-rate-")
    try:
        run(args)
    finally:
        B.stop_all()
        shutil.rmtree(B.WORK, ignore_errors=True)


def run(args):
    T = 2
    t0 = time.time()
    berth, ctx, token = B.start_berth(args.berth, "berth", "sqlite")
    for ns in ("bench", "list", "watch", "rate"):
        B.http("POST", berth.url + "/api/v1/namespaces", ctx, token,
               {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for conns, prefix in ((32, "c"), (8, "e")):
        B.run_wrk(berth, "/api/v1/namespaces/bench/pods", "berth-create", T, conns,
                  args.creates_seconds, {"BENCH_NS": "bench", "BENCH_PREFIX": prefix})
    B.run_wrk(berth, "/api/v1/namespaces/list/pods", "berth-create", T, 32, 300,
              {"BENCH_NS": "list", "BENCH_PREFIX": "l"}, quota=10000)

    stop = threading.Event()
    slow = []

    def probe():
        host, port = berth.url[len("https://"):].split(":")
        conn = http.client.HTTPSConnection(host, int(port), context=ctx)
        i = 0
        while not stop.is_set():
            i += 1
            body = json.dumps({"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": f"probe-{i}"},
                               "spec": {"containers": [{"name": "c", "image": "x"}]}})
            start = time.time()
            conn.request("POST", "/api/v1/namespaces/rate/pods", body,
                         {"Authorization": "Bearer " + token,
                          "Content-Type": "application/json"})
            conn.getresponse().read()
            ms = (time.time() - start) * 1000
            if ms > args.slow_ms:
                slow.append((start - t0, ms))
            time.sleep(0.02)

    prober = threading.Thread(target=probe)
    prober.start()
    phases = []

    def phase(name, fn):
        start = time.time() - t0
        result = fn()
        phases.append((name, start, time.time() - t0, result))
        return result

    try:
        phase("list 1 conn", lambda: B.run_wrk(berth, "/api/v1/namespaces/list/pods", "get",
                                               1, 1, 10))
        phase("list 4 conns", lambda: B.run_wrk(berth, "/api/v1/namespaces/list/pods", "get",
                                                T, 4, 10))
        ca = os.path.join(B.WORK, "berth", "tls", "ca.crt")
        watch_cmd = ["curl", "-sN", "--cacert", ca, "-H", f"Authorization: Bearer {token}",
                     berth.url + "/api/v1/namespaces/watch/pods?watch=1"]

        def count(ns):
            st, body = B.http("GET", f"{berth.url}/api/v1/namespaces/{ns}/pods", ctx, token)
            return len(json.loads(body).get("items", [])) if st == 200 else 0

        phase("watch", lambda: B.watch_run(berth, watch_cmd, b'"ADDED"', 10, T, 32, 10, "watch",
                                           lambda: count("watch")))
        time.sleep(args.idle)
        for i in range(args.rounds):
            env = {"BENCH_NS": "rate", "BENCH_PREFIX": f"r{i}", "BENCH_RATE": str(args.rate)}
            phase(f"fixed rate, round {i + 1}",
                  lambda: B.run_wrk(berth, "/api/v1/namespaces/rate/pods", "berth-create", T,
                                    50, 10, env))
            time.sleep(args.idle)
    finally:
        stop.set()
        prober.join()

    print("| phase | from (s) | to (s) | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for name, start, end, r in phases:
        p50 = r.get("p50_ms", 0) if isinstance(r, dict) else 0
        p99 = r.get("p99_ms", 0) if isinstance(r, dict) else 0
        print(f"| {name} | {start:.1f} | {end:.1f} | {p50:.2f} | {p99:.2f} |")
    print(f"\nprobe requests slower than {args.slow_ms:.0f} ms (seconds since start, ms):")
    print(", ".join(f"{t:.1f}: {ms:.0f}" for t, ms in slow) or "none")


if __name__ == "__main__":
    main()
