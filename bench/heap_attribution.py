#!/usr/bin/env python3
"""heap_attribution.py FILE.gz [--top N]: what a server's heap holds, by holder.

Reads a heaptrack file written by bench/memory_scale.sh with HEAPTRACK=FILE (the server was
SIGKILLed after the measurement, so heaptrack's "leaked" bytes are exactly what the heap held at
that moment) through `heaptrack_print -F` (one line per allocation stack) and sums the bytes
by the holder of the innermost frame that names one (HOLDERS below). With --top N it also
prints the N largest stacks of the "other" group, to refine the rules; with --show HOLDER the
N largest stacks of that holder instead.
"""
import collections
import os
import subprocess
import sys
import tempfile

# "leaked": what the heap held when the server was killed; "peak": at the heap's highest point.
COST = "leaked"

# (holder, substrings of a frame). A stack belongs to the holder of its innermost frame that
# names one (an object the scheduler parses in an informer's handler is the scheduler's, not
# the informer's); among rules naming the same frame the first wins.
HOLDERS = [
    ("apiserver watch cache: serialized objects and their fields",
     ["ResourceCache::decode", "decodeStoredObject", "ResourceCache::apply"]),
    ("apiserver watch cache: other (history, watchers, indexes)",
     ["berth::apiserver::ResourceCache", "berth::apiserver::CacheSet", "CacheWatcher"]),
    ("apiserver node authorizer graph", ["authz::NodeGraph", "NodeGraph::", "node_graph"]),
    ("store (SQLite, its page cache and statements)", ["sqlite3", "berth::store::"]),
    ("informers: cached objects (compactObject)", ["compactObject"]),
    ("informers: shared object pool", ["SharedObjectPool"]),
    ("informers: indexer keys and indexes", ["berth::client::Indexer"]),
    ("informers: notifications queued", ["SharedInformer::enqueue", "SharedInformer::dispatch"]),
    ("scheduler cache and queue (PodInfo, NodeInfo)", ["berth::scheduler::"]),
    ("garbage collector graph", ["berth::controllers::gc::", "GarbageCollector"]),
    ("controllers: work queues", ["berth::client::WorkQueue"]),
    ("controllers: other", ["berth::controllers::"]),
    ("client: list/watch bodies in flight", ["berth::client::RestClient", "HttpConnection",
                                             "berth::client::Reflector"]),
    ("TLS (OpenSSL connection state)", ["CRYPTO_", "SSL_", "libssl", "libcrypto"]),
    ("HTTP server (connections, stream loop)", ["berth::apiserver::http::"]),
    ("apiserver: other", ["berth::apiserver::"]),
    ("process start (static data, libraries)", ["_dl_init", "_dl_start", "__libc_start_main"]),
]


def holder_of(stack):
    for frame in reversed(stack.split(";")):
        for name, keys in HOLDERS:
            if any(k in frame for k in keys):
                return name
    return "other"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 0
    global COST
    if "--peak" in sys.argv:
        COST = "peak"
    show = sys.argv[sys.argv.index("--show") + 1] if "--show" in sys.argv else "other"
    with tempfile.TemporaryDirectory() as tmp:
        stacks = os.path.join(tmp, "stacks")
        subprocess.run(["heaptrack_print", "-f", path, "-p", "0", "-a", "0", "-T", "0", "-l", "0",
                        "--flamegraph-cost-type", COST, "-F", stacks],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        totals = collections.Counter()
        others = collections.Counter()
        with open(stacks) as f:
            for line in f:
                stack, _, n = line.rstrip("\n").rpartition(" ")
                if not n.isdigit():
                    continue
                n = int(n)
                totals[holder_of(stack)] += n
                if holder_of(stack) == show:
                    others[stack] += n
    total = sum(totals.values())
    print("| holder | MB | share |\n|---|---|---|")
    for name, n in totals.most_common():
        print(f"| {name} | {n / 1048576:.1f} | {100 * n / total:.0f}% |")
    print(f"| **heap in use (all)** | **{total / 1048576:.1f}** | |")
    for stack, n in others.most_common(top):
        frames = [f for f in stack.split(";") if f][-10:]
        print(f"\n{n / 1048576:.2f} MB: " + " <- ".join(reversed(frames)))


if __name__ == "__main__":
    main()
