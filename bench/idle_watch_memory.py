#!/usr/bin/python3
"""bench/idle_watch_memory.py — what an idle watch costs the API server in memory.

Starts `berth server --datastore memory` (own temp dir, 127.0.0.1), waits until it is idle and
reads its RSS (the reference: the idle server itself), then opens idle watches on ConfigMaps
(`GET /api/v1/namespaces/default/configmaps?watch=true`, one TLS connection each, as client-go
opens one per informer when HTTP/2 is off) from this process in steps (default 1,000 / 5,000 /
10,000) and reads the server's RSS and thread count after each step. Reports KB per watch over
the idle server. Finally writes one ConfigMap and checks that every watch received its ADDED
event (an idle watch must still be live). Raises this process's RLIMIT_NOFILE to its hard
limit; the server raises its own.

  python3 bench/idle_watch_memory.py --berth build/berth [--counts 1000,5000,10000]

Stops only the server it started (by PID) and removes its temp dir.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from e2e_server import Server  # noqa: E402
from watch_streams import open_watches, wait_for_all  # noqa: E402


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return int(out["VmRSS"].split()[0]), int(out["Threads"])


def settle(pid, seconds):
    """RSS and threads after `seconds` of quiet."""
    time.sleep(seconds)
    return proc_status(pid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", default="build/berth")
    ap.add_argument("--counts", default="1000,5000,10000")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds before each RSS read")
    args = ap.parse_args()
    counts = [int(c) for c in args.counts.split(",")]

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < max(counts) + 64:
        counts = [c for c in counts if c + 64 <= hard]
        print(f"RLIMIT_NOFILE hard limit {hard}: measuring {counts}", file=sys.stderr)

    os.environ["BERTH"] = os.path.abspath(args.berth)
    srv = Server(args=["--datastore", "memory", "--max-connections", str(max(counts) + 1000),
                       "--disable-controllers", "--tls-handshake-timeout", "120"])
    rows = []
    socks = []
    # A SIGTERM (e.g. from `timeout`) still stops the server and removes its directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    srv.start()
    try:
        pid = srv.proc.pid
        idle_rss, idle_threads = settle(pid, args.settle)
        print(f"idle server: RSS {idle_rss} KB, {idle_threads} threads", flush=True)
        token = srv.token
        listing = subprocess.run(
            ["curl", "-sk", "-H", f"Authorization: Bearer {token}",
             f"https://127.0.0.1:{srv.port}/api/v1/namespaces/default/configmaps"],
            check=True, capture_output=True).stdout
        rv = json.loads(listing)["metadata"]["resourceVersion"]
        # As an informer's watch after its list: from the list's resourceVersion.
        path = (f"/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=3600"
                f"&resourceVersion={rv}&allowWatchBookmarks=true")
        started = time.time()
        for n in counts:
            open_watches(srv.port, token, path, n - len(socks), socks)
            rss, threads = settle(pid, args.settle)
            per = (rss - idle_rss) / n
            rows.append((n, rss, threads, per))
            print(f"{n} watches: RSS {rss} KB (+{rss - idle_rss} KB), {threads} threads, "
                  f"{per:.1f} KB/watch ({time.time() - started:.0f} s)", flush=True)

        # Every idle watch still delivers: one ConfigMap, one ADDED event on each stream.
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "idle-watch-probe"}, "data": {"k": "v"}})
        subprocess.run(["curl", "-sk", "-o", "/dev/null", "-H", f"Authorization: Bearer {token}",
                        "-H", "Content-Type: application/json", "-d", body,
                        f"https://127.0.0.1:{srv.port}/api/v1/namespaces/default/configmaps"],
                       check=True)
        got = wait_for_all(socks, b"idle-watch-probe")
        print(f"event delivered to {got} of {len(socks)} idle watches", flush=True)
        for s, _ in socks:
            s.close()
    finally:
        try:
            srv.kill(15)
        except subprocess.TimeoutExpired:  # thousands of watch threads to end: give up waiting
            srv.kill(9)
        shutil.rmtree(srv.dir, ignore_errors=True)

    print("\n| watches | server RSS (KB) | over idle server (KB) | threads | KB per watch |")
    print("|---|---|---|---|---|")
    print(f"| 0 (idle server) | {idle_rss} | 0 | {idle_threads} | - |")
    for n, rss, threads, per in rows:
        print(f"| {n:,} | {rss} | {rss - idle_rss} | {threads} | {per:.1f} |")
    return 0 if got == len(socks) else 1


if __name__ == "__main__":
    sys.exit(main())
