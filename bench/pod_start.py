#!/usr/bin/python3
"""Pod start latency and agent memory (bench/pod_start.sh runs this inside the bench's netns).

Latency is create -> Ready as the client sees it: the time before the POST of each pod to the
time a watch event first shows its Ready condition True (creationTimestamp and the condition's
lastTransitionTime have one-second resolution, too coarse for this). Pods are created at a fixed
rate, so the number is a start latency, not a queue length. The reference is `runc run -d` of a
bundle the agent generated for one of these pods (its config.json: same rootfs, mounts,
namespaces), timed from exec to return, on the same machine in the same run.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

import kubernetes.client
import kubernetes.config
import kubernetes.watch

NAMESPACE = "default"


def pct(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pss_kb(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def shim_pss_kb(work):
    """Proportional set size of the shims: their shared binary pages counted once in all."""
    total, count = 0, 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        is_shim = argv[0].endswith(b"/berth-shim") or (len(argv) > 1 and argv[1] == b"shim")
        if is_shim and any(work.encode() in a for a in argv):
            try:
                total += pss_kb(int(p))
                count += 1
            except OSError:
                pass
    return total, count


def pod_manifest(name):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "podstart"}},
        "spec": {
            "nodeName": "bench-node",
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "web", "image": "berth-test/web:1.0"}],
        },
    }


def is_ready(pod):
    for c in (pod.status and pod.status.conditions) or []:
        if c.type == "Ready" and c.status == "True":
            return True
    return False


class ReadyWatch:
    """Records the monotonic time each pod is first seen Ready."""

    def __init__(self, api):
        self.api = api
        self.ready = {}
        self.cv = threading.Condition()
        self.stop = False
        rv = api.list_namespaced_pod(NAMESPACE).metadata.resource_version
        self.thread = threading.Thread(target=self.run, args=(rv,), daemon=True)
        self.thread.start()

    def run(self, rv):
        while not self.stop:
            w = kubernetes.watch.Watch()
            try:
                for ev in w.stream(self.api.list_namespaced_pod, NAMESPACE, resource_version=rv,
                                   timeout_seconds=300):
                    now = time.monotonic()
                    pod = ev["object"]
                    rv = pod.metadata.resource_version
                    if ev["type"] != "DELETED" and is_ready(pod):
                        with self.cv:
                            self.ready.setdefault(pod.metadata.name, now)
                            self.cv.notify_all()
                    if self.stop:
                        break
            except Exception as e:  # a dropped stream: resume from the last version
                print("watch: %s" % e, file=sys.stderr)
                time.sleep(0.2)

    def wait(self, names, timeout):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not all(n in self.ready for n in names):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(left)
        return True


def wait_node_ready(api, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            node = api.read_node("bench-node")
            for c in node.status.conditions or []:
                if c.type == "Ready" and c.status == "True":
                    return True
        except kubernetes.client.exceptions.ApiException:
            pass
        time.sleep(0.2)
    return False


def wait_gone(api, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not api.list_namespaced_pod(NAMESPACE).items:
            return True
        time.sleep(0.2)
    return False


def enter_mount_namespace(pid):
    """Joins the agent's mount namespace (`ip netns exec` gave it one of its own, with its own
    cgroup mounts and the containers' rootfs overlays), as the shims that run runc are in it."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/proc/%d/ns/mnt" % pid, os.O_RDONLY)
    if libc.setns(fd, 0x00020000) != 0:  # CLONE_NEWNS
        raise SystemExit("setns: %s" % os.strerror(ctypes.get_errno()))
    os.close(fd)


def raw_runc(args, bundle_src):
    """Times `runc run -d` of copies of the agent's bundle bundle_src. Runs in a child process of
    its own (single-threaded, as setns into a mount namespace requires)."""
    with open(os.path.join(bundle_src, "config.json")) as f:
        spec = json.load(f)
    root = spec["root"]["path"]
    if not root.startswith("/"):
        root = os.path.join(bundle_src, root)
    spec["root"]["path"] = root
    spec["process"]["terminal"] = False
    runc_root = os.path.join(args.work, "raw", "runc")
    os.makedirs(runc_root, exist_ok=True)
    times, split = [], []
    for i in range(2 * args.runc_runs):
        # Even runs: `runc run -d` (the reference). Odd runs: `runc create` then `runc start`,
        # the two calls the agent's shim makes, to show what the shim adds beyond them.
        cid = "raw-%d" % i
        bundle = os.path.join(args.work, "raw", cid)
        os.makedirs(bundle, exist_ok=True)
        spec["linux"]["cgroupsPath"] = "/%s/%s" % (args.cgroup_prefix, cid)
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(spec, f)
        base = ["runc", "--root", runc_root]
        calls = [base + ["run", "-d", "--bundle", bundle, cid]] if i % 2 == 0 else [
            base + ["create", "--bundle", bundle, cid], base + ["start", cid]]
        # stdio to files, not pipes: the container's init inherits them and keeps them open.
        errpath = os.path.join(bundle, "runc.err")
        with open(os.devnull, "r+b") as null, open(errpath, "w+b") as err:
            t0 = time.monotonic()
            for argv in calls:
                rc = subprocess.call(argv, stdin=null, stdout=null, stderr=err)
                if rc != 0:
                    err.seek(0)
                    raise SystemExit("raw %s failed (rc %d): %s" % (
                        " ".join(argv[3:5]), rc, err.read().decode(errors="replace")))
            (times if i % 2 == 0 else split).append(time.monotonic() - t0)
        subprocess.call(base + ["delete", "-f", cid],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return times, split


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent-pid", type=int, required=True)
    ap.add_argument("--agent-dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cgroup-prefix", required=True)
    ap.add_argument("--pods", type=int, default=100)
    ap.add_argument("--rate", type=float, default=5.0)
    ap.add_argument("--runc-runs", type=int, default=20)
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-pod", help="write each pod's POST time and latency here (JSON)")
    ap.add_argument("--raw-child", help="internal: time raw runc runs of this bundle")
    args = ap.parse_args()
    if args.raw_child:
        enter_mount_namespace(args.agent_pid)
        times, split = raw_runc(args, args.raw_child)
        print(json.dumps({"run": [t * 1000 for t in times], "create_start": [t * 1000 for t in split]}))
        return 0

    kubernetes.config.load_kube_config()
    api = kubernetes.client.CoreV1Api()
    if not wait_node_ready(api):
        raise SystemExit("the node did not become Ready")
    watch = ReadyWatch(api)

    # Warm-up: one pod through the whole path (first CNI run, first overlay, caches), then gone.
    api.create_namespaced_pod(NAMESPACE, pod_manifest("warmup"))
    if not watch.wait(["warmup"], 60):
        raise SystemExit("the warm-up pod did not become Ready")
    api.delete_namespaced_pod("warmup", NAMESPACE, grace_period_seconds=0)
    if not wait_gone(api):
        raise SystemExit("the warm-up pod was not removed")
    time.sleep(2)
    rss_idle = rss_kb(args.agent_pid)

    names = ["ps-%03d" % i for i in range(args.pods)]
    created, created_wall = {}, {}
    t_start = time.monotonic()
    for i, n in enumerate(names):
        due = t_start + i / args.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        created[n] = time.monotonic()
        created_wall[n] = time.time()
        api.create_namespaced_pod(NAMESPACE, pod_manifest(n))
    ok = watch.wait(names, 120)
    missing = [n for n in names if n not in watch.ready]
    lat = [(watch.ready[n] - created[n]) * 1000 for n in names if n in watch.ready]
    if args.per_pod:  # wall-clock POST times, to line up with the agent's pod-start trace
        with open(args.per_pod, "w") as f:
            json.dump({n: {"post_unix_ms": created_wall[n] * 1000,
                           "ready_ms": (watch.ready[n] - created[n]) * 1000
                           if n in watch.ready else None} for n in names}, f, indent=1)
    time.sleep(3)  # let status writes and event flushes settle
    rss_full = rss_kb(args.agent_pid)
    shims_kb, shims = shim_pss_kb(args.work)
    agent_pss = pss_kb(args.agent_pid)

    # The reference: the bundle of one of these pods' containers, run by runc directly.
    containers = os.path.join(args.agent_dir, "containers")
    bundle = next(os.path.join(containers, d) for d in sorted(os.listdir(containers))
                  if os.path.exists(os.path.join(containers, d, "started")))
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "--raw-child", bundle] + sys.argv[1:],
                       stdout=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("the raw runc runs failed")
    raw_all = json.loads(r.stdout)
    raw, split = raw_all["run"], raw_all["create_start"]

    loadavg = open("/proc/loadavg").read().split()[:3]
    p50, p99 = pct(lat, 50), pct(lat, 99)
    r50, r99 = pct(raw, 50), pct(raw, 99)
    lines = [
        "### Pod start latency and agent memory (%s, %d CPUs, load %s)" % (
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), " ".join(loadavg)),
        "",
        "%d pods of berth-test/web:1.0 (image present) created at %.1f/s on one node;"
        " raw runc: %d runs of one pod's bundle." % (args.pods, args.rate, len(raw)),
        "",
        "| measurement | berth | raw `runc run -d` | ratio | target |",
        "|---|---|---|---|---|",
        "| start p50 (create -> Ready) | %.0f ms | %.0f ms | %.1fx | |" % (p50, r50, p50 / r50),
        "| start p99 (create -> Ready) | %.0f ms | %.0f ms | %.1fx | p99 < 500 ms, < 5x runc |" % (
            p99, r99, p99 / r99),
        "| start max | %.0f ms | %.0f ms | | |" % (max(lat) if lat else float("nan"), max(raw)),
        "| (what the shim runs: `runc create` + `runc start`, p50 / p99) | | %.0f / %.0f ms | | |" % (
            pct(split, 50), pct(split, 99)),
        "| agent VmRSS, no pods | %.1f MB | | | |" % (rss_idle / 1024.0),
        "| agent VmRSS, %d pods running | %.1f MB (+%.1f MB) | | | < 50 MB |" % (
            args.pods, rss_full / 1024.0, (rss_full - rss_idle) / 1024.0),
        "| agent Pss, %d pods running | %.1f MB | | | |" % (args.pods, agent_pss / 1024.0),
        "| shims (`berth-shim` or `berth shim`, one per container) | %d, %.1f MB Pss in all | | | |" % (
            shims, shims_kb / 1024.0),
    ]
    if missing:
        lines += ["", "**%d pods never became Ready within 120 s:** %s" % (
            len(missing), ", ".join(missing[:10]))]
    report = "\n".join(lines) + "\n"
    print(report)
    with open(args.out, "w") as f:
        f.write(report)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump({"latency_ms": lat, "runc_ms": raw, "rss_idle_kb": rss_idle,
                   "rss_full_kb": rss_full, "runc_create_start_ms": split, "shims": shims, "shims_kb": shims_kb}, f)
    watch.stop = True
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
