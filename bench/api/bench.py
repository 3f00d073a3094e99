#!/usr/bin/env python3
"""API server benchmark driver (run through bench/run.sh, which installs the tools).

Starts, on 127.0.0.1 only and in its own temporary directory:
  * berth server (SQLite store)           -- the system under test
  * etcd 3.4 (its JSON gateway under /v3/) -- reference for writes, lists and watches
  * nginx serving a static file            -- reference for single-object reads
All three speak TLS, so every client pays the same handshake and record costs. Load comes from
wrk with bench/api/load.lua; each measurement runs with the same wrk settings against berth and
its reference; creates, gets and the fixed-rate run alternate berth and reference for --rounds
rounds and report medians (the machine may be shared). Memory is measured on fresh instances
that hold only the pods created for it. Prints a Markdown report (and writes it to --out, raw
numbers to bench-results.json beside it) with ratios berth/reference.

Only processes started here are stopped, by PID. Everything is bounded in time.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import ssl

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "load.lua")
CLK_TCK = os.sysconf("SC_CLK_TCK")

started = []  # Popen objects we own


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, logpath, **kw):
    f = open(logpath, "wb")
    p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True, **kw)
    started.append(p)
    return p


def stop_all():
    for p in reversed(started):
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.time() + 10
    for p in reversed(started):
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def proc_tree(pid):
    """pid plus its direct children (nginx workers)."""
    pids = [pid]
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                             text=True).stdout
        pids += [int(x) for x in out.split()]
    except OSError:
        pass
    return pids


def cpu_seconds(pid):
    total = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def rss_mb(pid, field="VmRSS"):
    total = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Target:
    """A server under load: base URL, the PID whose CPU/RSS we read, wrk environment."""

    def __init__(self, name, url, pid, env):
        self.name, self.url, self.pid, self.env = name, url, pid, env


def run_wrk(target, path, mode, threads, conns, seconds, extra_env=None, quota=None):
    """Runs wrk once; returns its summary dict plus server and wrk CPU use.

    With quota, wrk runs until every thread has its share (or `seconds` elapse)."""
    if quota == 0:
        return {"requests": 0, "seconds": 0, "rps": 0, "non2xx": 0, "timeouts": 0, "ok": 0,
                "ok_rps": 0, "p50_ms": 0, "p99_ms": 0, "server_cpu": 0, "wrk_cpu": 0}
    env = dict(os.environ)
    env.update(target.env)
    env.update({"BENCH_MODE": mode, "BENCH_THREADS": str(threads), "BENCH_CONNS": str(conns)})
    env.update(extra_env or {})
    done_dir = None
    if quota is not None:
        done_dir = tempfile.mkdtemp(prefix="wrkdone-", dir=WORK)
        env["BENCH_QUOTA"] = str(quota)
        env["BENCH_DONE_DIR"] = done_dir
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{int(seconds)}s", "--timeout",
           "10s", "-s", LUA, target.url + path]
    cpu0 = cpu_seconds(target.pid)
    ru0 = os.times()
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                         text=True)
    started.append(p)
    if done_dir:
        while p.poll() is None:
            if len(os.listdir(done_dir)) >= threads:
                p.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT
                break
            time.sleep(0.1)
    out, _ = p.communicate()
    wall = time.time() - t0
    ru1 = os.times()
    cpu1 = cpu_seconds(target.pid)
    res = None
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            res = json.loads(line[len("BENCH_JSON "):])
    if res is None:
        raise RuntimeError(f"wrk gave no summary for {target.name} {mode}:\n{out}")
    res["ok"] = res["requests"] - res["non2xx"]
    res["ok_rps"] = res["ok"] / res["seconds"] if res["seconds"] else 0
    res["server_cpu"] = (cpu1 - cpu0) / wall  # cores busy on average
    res["wrk_cpu"] = ((ru1.children_user - ru0.children_user) +
                      (ru1.children_system - ru0.children_system)) / wall
    log(f"{target.name} {mode} {path}: {res['rps']:.0f} req/s ({res['ok']} ok, "
        f"{res['non2xx']} non-2xx, {res['timeouts']} timeouts), p50 {res['p50_ms']:.2f} ms, "
        f"p99 {res['p99_ms']:.2f} ms; server {res['server_cpu']:.2f} cores, "
        f"wrk {res['wrk_cpu']:.2f} cores")
    return res


def median_of(runs):
    """Per-metric median over rounds; keeps each round's ok_rps under "rounds"."""
    out = {}
    for k, v in runs[0].items():
        if isinstance(v, (int, float)):
            vals = sorted(r[k] for r in runs)
            out[k] = vals[len(vals) // 2] if len(vals) % 2 else (
                vals[len(vals) // 2 - 1] + vals[len(vals) // 2]) / 2
    out["rounds"] = [r["ok_rps"] for r in runs]
    out["p99_rounds"] = [r["p99_ms"] for r in runs]
    return out


def alternate(n, fb, fr):
    """Runs berth and its reference alternately n times (fb(i), fr(i)); medians of each."""
    rb, rr = [], []
    for i in range(n):
        rb.append(fb(i))
        rr.append(fr(i))
    return median_of(rb), median_of(rr)


def stop_proc(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def https_ctx(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    return ctx


def http(method, url, ctx, token=None, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for(fn, what, timeout=60):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            if fn():
                return
        except Exception as e:  # noqa: BLE001 - anything means "not yet"
            last = e
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}: {last}")


def make_cert(dirpath):
    key, crt = os.path.join(dirpath, "ref.key"), os.path.join(dirpath, "ref.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key,
                    "-out", crt], check=True, capture_output=True)
    return key, crt


def fsync_probe(dirpath, n=200):
    """fdatasync latency of 4 KiB appends in the work directory (ms p50, p99)."""
    path = os.path.join(dirpath, "fsync.probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    lat = []
    try:
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            t = time.perf_counter()
            os.fdatasync(fd)
            lat.append((time.perf_counter() - t) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99)]


def b64(s):
    import base64
    return base64.b64encode(s.encode()).decode()


def count_events(path, needle):
    try:
        with open(path, "rb") as f:
            return f.read().count(needle)
    except OSError:
        return 0


def watch_run(target, watch_cmd, needle, n, threads, conns, seconds, ns, count_fn):
    """n streaming watchers (curl) while wrk creates for `seconds`; counts delivered events."""
    files, procs = [], []
    # The streams go to tmpfs when there is one: written to the disk, the ~300 MB they add up
    # to were written back by the kernel ~30 s later (vm.dirty_expire_centisecs), in the middle
    # of the next phase, and stalled the servers' fsyncs (the first fixed-rate round's tail).
    outdir = tempfile.mkdtemp(prefix="watch-", dir="/dev/shm" if os.path.isdir("/dev/shm")
                              else WORK)
    for i in range(n):
        fp = os.path.join(outdir, f"watch-{target.name}-{i}.out")
        files.append(fp)
        p = start(watch_cmd, fp)
        procs.append(p)
    time.sleep(2.0)  # let every watcher connect and register
    t0 = time.time()
    mode = "berth-create" if target.name.startswith("berth") else "etcd-put"
    res = run_wrk(target, f"/api/v1/namespaces/{ns}/pods" if mode == "berth-create"
                  else "/v3/kv/put", mode, threads, conns, seconds,
                  {"BENCH_NS": ns, "BENCH_PREFIX": "w"})
    # wrk counts only the responses it read; writes in flight when it stopped also happened.
    expected = count_fn() * n
    # Wait until delivery stops growing (or everything arrived), at most 30 s.
    last_total, last_change = -1, time.time()
    deadline = time.time() + 30
    while time.time() < deadline:
        total = sum(count_events(f, needle) for f in files)
        if total != last_total:
            last_total, last_change = total, time.time()
        if total >= expected or time.time() - last_change > 2.0:
            break
        time.sleep(0.2)
    elapsed = last_change - t0
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
    total = sum(count_events(f, needle) for f in files)
    shutil.rmtree(outdir, ignore_errors=True)
    out = {"watchers": n, "creates": res["ok"], "create_rps": res["ok_rps"],
           "events": total, "expected": expected, "seconds": elapsed,
           "events_per_s": total / elapsed if elapsed > 0 else 0,
           "server_cpu": res["server_cpu"], "wrk_cpu": res["wrk_cpu"]}
    log(f"{target.name} watch: {total}/{expected} events to {n} watchers in {elapsed:.1f} s "
        f"= {out['events_per_s']:.0f} events/s")
    return out


def fmt(x, digits=0):
    if x is None:
        return "n/a"
    if isinstance(x, str):
        return x
    return f"{x:,.{digits}f}"


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--berth", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--rate-conns", type=int, default=50)
    ap.add_argument("--list-pods", type=int, default=10000)
    ap.add_argument("--watchers", type=int, default=10)
    ap.add_argument("--rss-pods", type=int, default=100000)
    ap.add_argument("--rss-seconds", type=int, default=150)
    ap.add_argument("--memory-store", action="store_true",
                    help="also measure creates with --datastore memory (diagnostic)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating berth/reference rounds for creates, gets and the "
                         "fixed-rate run (medians reported)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()

    global WORK
    WORK = tempfile.mkdtemp(prefix="berth-bench-")
    log(f"work dir {WORK}")
    try:
        report = bench(args)
    finally:
        stop_all()
        if not args.keep:
            shutil.rmtree(WORK, ignore_errors=True)
    with open(args.out, "w") as f:
        f.write(report)
    print(report)
    log(f"report written to {args.out}")


def start_berth(binary, name, datastore):
    data = os.path.join(WORK, name)
    os.makedirs(data)
    port = free_port()
    # No node agent (an older binary under comparison may not know the flag).
    helptext = subprocess.run([binary, "server", "--help"], capture_output=True, text=True).stdout
    extra = ["--disable-agent"] if "--disable-agent" in helptext else []
    p = start([binary, "server", "--data-dir", data, "--bind-address", "127.0.0.1",
               "--secure-port", str(port), "--datastore", datastore] + extra,
              os.path.join(WORK, name + ".log"))
    wait_for(lambda: os.path.exists(os.path.join(data, "admin.kubeconfig")), f"{name} start", 60)
    token = open(os.path.join(data, "admin.token")).read().strip()
    ctx = https_ctx(os.path.join(data, "tls", "ca.crt"))
    url = f"https://127.0.0.1:{port}"
    wait_for(lambda: http("GET", url + "/api/v1/namespaces/default", ctx, token)[0] == 200,
             f"{name} ready", 60)
    return Target(name, url, p.pid, {"BENCH_TOKEN": token}), ctx, token


def start_etcd(name, key, crt, ctx):
    eport, epeer = free_port(), free_port()
    ep = start(["etcd", "--name", "bench", "--data-dir", os.path.join(WORK, name),
                "--listen-client-urls", f"https://127.0.0.1:{eport}",
                "--advertise-client-urls", f"https://127.0.0.1:{eport}",
                "--listen-peer-urls", f"http://127.0.0.1:{epeer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{epeer}",
                "--initial-cluster", f"bench=http://127.0.0.1:{epeer}",
                "--cert-file", crt, "--key-file", key,
                "--quota-backend-bytes", str(8 * 1024 ** 3),
                "--logger", "zap", "--log-level", "warn"], os.path.join(WORK, name + ".log"))
    t = Target(name, f"https://127.0.0.1:{eport}", ep.pid, {})
    wait_for(lambda: http("POST", t.url + "/v3/kv/range", ctx,
                          body={"key": b64("x")})[0] == 200, f"{name} ready", 60)
    return t, ep


def bench(args):
    d, T, C = args.duration, args.threads, args.conns
    results = {"load_before": os.getloadavg()[0], "fsync": fsync_probe(WORK)}
    key, crt = make_cert(WORK)

    # --- servers ---------------------------------------------------------------------------
    berth, bctx, token = start_berth(args.berth, "berth", "sqlite")
    for ns in ("bench", "list", "watch", "rate", "rss"):
        st, body = http("POST", berth.url + "/api/v1/namespaces", bctx, token,
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        if st not in (200, 201, 409):
            raise RuntimeError(f"cannot create namespace {ns}: {st} {body[:200]}")

    rctx = https_ctx(crt)
    etcd, etcd_proc = start_etcd("etcd", key, crt, rctx)
    berth_proc = next(p for p in started if p.pid == berth.pid)

    nport = free_port()
    ndir = os.path.join(WORK, "nginx")
    os.makedirs(os.path.join(ndir, "www"))
    os.makedirs(os.path.join(ndir, "logs"))
    with open(os.path.join(ndir, "nginx.conf"), "w") as f:
        f.write(f"""
user root;
worker_processes 2;
daemon off;
pid {ndir}/nginx.pid;
error_log {ndir}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {ndir}/tmp-body;
  proxy_temp_path {ndir}/tmp-proxy;
  fastcgi_temp_path {ndir}/tmp-fastcgi;
  uwsgi_temp_path {ndir}/tmp-uwsgi;
  scgi_temp_path {ndir}/tmp-scgi;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{nport} ssl;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    location / {{ root {ndir}/www; default_type application/json; }}
  }}
}}
""")
    npr = start(["nginx", "-p", ndir, "-c", os.path.join(ndir, "nginx.conf"), "-e",
                 os.path.join(ndir, "logs", "error.log")], os.path.join(WORK, "nginx.log"))
    nginx = Target("nginx", f"https://127.0.0.1:{nport}", npr.pid, {})

    def berth_count(ns):
        st, body = http("GET", f"{berth.url}/api/v1/namespaces/{ns}/pods", bctx, token)
        return len(json.loads(body).get("items", [])) if st == 200 else 0

    def etcd_count(ns):
        st, body = http("POST", etcd.url + "/v3/kv/range", rctx,
                        body={"key": b64(f"/registry/pods/{ns}/"),
                              "range_end": b64(f"/registry/pods/{ns}0"), "count_only": True})
        return int(json.loads(body).get("count", 0)) if st == 200 else 0

    time.sleep(3)
    results["idle"] = {"berth": rss_mb(berth.pid), "etcd": rss_mb(etcd.pid),
                       "nginx": rss_mb(nginx.pid)}
    log(f"idle RSS MB: {results['idle']}")

    # --- (1) creates -------------------------------------------------------------------------
    log("(1) creates")
    R = args.rounds
    b, e = alternate(
        R, lambda i: run_wrk(berth, "/api/v1/namespaces/bench/pods", "berth-create", T, C, d,
                             {"BENCH_NS": "bench", "BENCH_PREFIX": f"c{i}"}),
        lambda i: run_wrk(etcd, "/v3/kv/put", "etcd-put", T, C, d,
                          {"BENCH_NS": "bench", "BENCH_PREFIX": f"c{i}"}))
    results["create"] = {"berth": b, "etcd": e}
    b, e = alternate(
        R, lambda i: run_wrk(berth, "/api/v1/namespaces/bench/pods", "berth-create", T, 8, d,
                             {"BENCH_NS": "bench", "BENCH_PREFIX": f"e{i}"}),
        lambda i: run_wrk(etcd, "/v3/kv/put", "etcd-put", T, 8, d,
                          {"BENCH_NS": "bench", "BENCH_PREFIX": f"e{i}"}))
    results["create8"] = {"berth": b, "etcd": e}

    # --- (2) gets ----------------------------------------------------------------------------
    log("(2) gets")
    getpath = "/api/v1/namespaces/bench/pods/c0-0-0"
    st, body = http("GET", berth.url + getpath, bctx, token)
    if st != 200:
        raise RuntimeError(f"GET {getpath}: {st} {body[:200]}")
    with open(os.path.join(ndir, "www", "pod.json"), "wb") as f:
        f.write(body)
    b, n = alternate(R, lambda i: run_wrk(berth, getpath, "get", T, C, d),
                     lambda i: run_wrk(nginx, "/pod.json", "get", T, C, d))
    results["get"] = {"berth": b, "nginx": n, "bytes": len(body)}

    # --- (3) list ----------------------------------------------------------------------------
    log(f"(3) list of {args.list_pods} pods: loading")
    load_b = run_wrk(berth, "/api/v1/namespaces/list/pods", "berth-create", T, C, 300,
                     {"BENCH_NS": "list", "BENCH_PREFIX": "l"}, quota=args.list_pods)
    load_e = run_wrk(etcd, "/v3/kv/put", "etcd-put", T, C, 300,
                     {"BENCH_NS": "list", "BENCH_PREFIX": "l"}, quota=args.list_pods)
    st, body = http("GET", berth.url + "/api/v1/namespaces/list/pods", bctx, token)
    nitems = len(json.loads(body).get("items", [])) if st == 200 else 0
    st, ebody = http("POST", etcd.url + "/v3/kv/range", rctx,
                     body={"key": b64("/registry/pods/list/"), "range_end": b64("/registry/pods/list0"),
                           "count_only": True})
    ecount = int(json.loads(ebody).get("count", 0)) if st == 200 else 0
    log(f"list: berth holds {nitems} pods ({len(body)} bytes), etcd {ecount} keys")
    results["list"] = {
        "berth": run_wrk(berth, "/api/v1/namespaces/list/pods", "get", 1, 1, d),
        "etcd": run_wrk(etcd, "/v3/kv/range", "etcd-range", 1, 1, d, {"BENCH_NS": "list"}),
        "berth_conc": run_wrk(berth, "/api/v1/namespaces/list/pods", "get", T, 4, d),
        "etcd_conc": run_wrk(etcd, "/v3/kv/range", "etcd-range", T, 4, d, {"BENCH_NS": "list"}),
        "items": nitems, "etcd_items": ecount, "bytes": len(body),
        "load_berth": load_b, "load_etcd": load_e,
    }

    # --- (4) watch ---------------------------------------------------------------------------
    log(f"(4) watch: {args.watchers} watchers")
    ca = os.path.join(WORK, "berth", "tls", "ca.crt")
    bw = ["curl", "-sN", "--cacert", ca, "-H", f"Authorization: Bearer {token}",
          berth.url + "/api/v1/namespaces/watch/pods?watch=1"]
    ew = ["curl", "-sN", "--cacert", crt, "-X", "POST", etcd.url + "/v3/watch", "-d",
          json.dumps({"create_request": {"key": b64("/registry/pods/watch/"),
                                         "range_end": b64("/registry/pods/watch0")}})]
    results["watch"] = {
        "berth": watch_run(berth, bw, b'"ADDED"', args.watchers, T, C, d, "watch",
                           lambda: berth_count("watch")),
        "etcd": watch_run(etcd, ew, b'"kv":', args.watchers, T, C, d, "watch",
                          lambda: etcd_count("watch")),
    }

    # --- (5) write latency at a fixed rate -----------------------------------------------------
    log(f"(5) write latency at {args.rate}/s")
    rc = args.rate_conns

    def renv(i):
        return {"BENCH_NS": "rate", "BENCH_PREFIX": f"r{i}", "BENCH_RATE": str(args.rate)}

    b, e = alternate(
        R, lambda i: run_wrk(berth, "/api/v1/namespaces/rate/pods", "berth-create", T, rc, d,
                             renv(i)),
        lambda i: run_wrk(etcd, "/v3/kv/put", "etcd-put", T, rc, d, renv(i)))
    results["rate"] = {"berth": b, "etcd": e, "target": args.rate}

    # --- (6) memory with 100k pods -------------------------------------------------------------
    # Fresh instances holding exactly the pods counted (nothing else created through them).
    log(f"(6) RSS: fresh berth and etcd, {args.rss_pods} pods each (cap {args.rss_seconds} s)")
    for p in (berth_proc, etcd_proc, npr):
        stop_proc(p)
    rb, rctx2, rtoken = start_berth(args.berth, "berth-rss", "sqlite")
    http("POST", rb.url + "/api/v1/namespaces", rctx2, rtoken,
         {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rss"}})
    re_, re_proc = start_etcd("etcd-rss", key, crt, rctx)
    time.sleep(2)
    idle_b2 = rss_mb(rb.pid)
    fill_b = run_wrk(rb, "/api/v1/namespaces/rss/pods", "berth-create", T, 64,
                     args.rss_seconds, {"BENCH_NS": "rss", "BENCH_PREFIX": "m"},
                     quota=args.rss_pods)
    fill_e = run_wrk(re_, "/v3/kv/put", "etcd-put", T, 64, args.rss_seconds,
                     {"BENCH_NS": "rss", "BENCH_PREFIX": "m"}, quota=args.rss_pods)
    time.sleep(3)
    rss_b, hwm_b = rss_mb(rb.pid), rss_mb(rb.pid, "VmHWM")
    rss_e, hwm_e = rss_mb(re_.pid), rss_mb(re_.pid, "VmHWM")
    # Counted after reading RSS: a big list allocates.
    st, body = http("GET", rb.url + "/api/v1/namespaces/rss/pods", rctx2, rtoken, timeout=120)
    held = len(json.loads(body).get("items", [])) if st == 200 else fill_b["ok"]
    st, ebody = http("POST", re_.url + "/v3/kv/range", rctx,
                     body={"key": b64("/registry/pods/"), "range_end": b64("/registry/pods0"),
                           "count_only": True})
    eheld = int(json.loads(ebody).get("count", 0)) if st == 200 else 0
    results["rss"] = {
        "berth": rss_b, "berth_hwm": hwm_b, "etcd": rss_e, "etcd_hwm": hwm_e,
        "idle_fresh": idle_b2,
        "pods": held, "etcd_keys": eheld, "fill_berth": fill_b, "fill_etcd": fill_e,
        "db_bytes": dir_size(os.path.join(WORK, "berth-rss", "db")),
        "etcd_db_bytes": dir_size(os.path.join(WORK, "etcd-rss")),
    }
    log(f"RSS: berth {rss_b:.0f} MB with {held} pods, etcd {rss_e:.0f} MB with {eheld} keys")
    stop_proc(re_proc)

    # --- optional: memory store --------------------------------------------------------------
    if args.memory_store:
        mem, mctx, mtoken = start_berth(args.berth, "berth-memory", "memory")
        http("POST", mem.url + "/api/v1/namespaces", mctx, mtoken,
             {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
        results["create_memory"] = run_wrk(mem, "/api/v1/namespaces/bench/pods", "berth-create",
                                           T, C, d, {"BENCH_NS": "bench", "BENCH_PREFIX": "c"})

    with open(os.path.join(os.path.dirname(args.out), "bench-results.json"), "w") as f:
        json.dump(results, f, indent=1)
    return render(args, results)


def dir_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for fn in files:
            try:
                total += os.path.getsize(os.path.join(root, fn))
            except OSError:
                pass
    return total


def rounds(res, key="rounds", digits=0):
    return ", ".join(f"{v:,.{digits}f}" for v in res.get(key, []))


def render(args, r):
    T, C, d = args.threads, args.conns, args.duration
    cpu = os.cpu_count()
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    L = []
    L.append(f"Machine: {cpu} cores ({model}); load generator, server and reference share them. "
             f"Load average before the run {r['load_before']:.2f}, after {os.getloadavg()[0]:.2f} "
             "(anything above ~1 means other work competed for the cores).")
    L.append(f"Disk: fdatasync of a 4 KiB append p50 {r['fsync'][0]:.2f} ms, p99 "
             f"{r['fsync'][1]:.2f} ms (both stores fsync every commit).")
    L.append(f"Creates, gets and the fixed-rate run: {args.rounds} rounds alternating berth and "
             "the reference; the tables show per-metric medians.")
    L.append(f"wrk: {T} threads, {C} connections, {d} s per run, TLS everywhere. For rates a "
             "ratio above 1 favours berth; for latencies and memory, below 1 does.\n")

    def row(name, b, ref, unit_b, unit_r, refname, digits=0, better_high=True):
        return (f"| {name} | {fmt(b, digits)} {unit_b} | {fmt(ref, digits)} {unit_r} "
                f"| {ratio(b, ref)} |")

    c = r["create"]
    L.append("### (1) Creates (POST small Pod, unique names) vs etcd puts (JSON gateway)\n")
    L.append("| metric | berth (SQLite) | etcd put | berth/etcd |")
    L.append("|---|---|---|---|")
    L.append(row("successful writes/s", c["berth"]["ok_rps"], c["etcd"]["ok_rps"], "", "",
                 "etcd put"))
    L.append(row("p50 latency", c["berth"]["p50_ms"], c["etcd"]["p50_ms"], "ms", "ms", "etcd", 2))
    L.append(row("p99 latency", c["berth"]["p99_ms"], c["etcd"]["p99_ms"], "ms", "ms", "etcd", 2))
    L.append(row("server CPU (cores)", c["berth"]["server_cpu"], c["etcd"]["server_cpu"], "",
                 "", "etcd", 2))
    L.append(row("wrk CPU (cores)", c["berth"]["wrk_cpu"], c["etcd"]["wrk_cpu"], "", "",
                 "etcd", 2))
    L.append(f"| per-round writes/s | {rounds(c['berth'])} | {rounds(c['etcd'])} | |")
    c8 = r["create8"]
    L.append(row("8 connections: writes/s", c8["berth"]["ok_rps"], c8["etcd"]["ok_rps"], "", "",
                 ""))
    L.append(row("8 connections: p99 latency", c8["berth"]["p99_ms"], c8["etcd"]["p99_ms"], "ms",
                 "ms", "", 2))
    L.append(f"\nErrors (median per round): berth {c['berth']['non2xx']:.0f} non-2xx / "
             f"{c['berth']['timeouts']:.0f} timeouts; etcd {c['etcd']['non2xx']:.0f} / "
             f"{c['etcd']['timeouts']:.0f}. "
             f"Target: >= 2,000 creates/s.")
    if "create_memory" in r:
        m = r["create_memory"]
        L.append(f"Diagnostic, same run with `--datastore memory`: {m['ok_rps']:,.0f} creates/s, "
                 f"p99 {m['p99_ms']:.2f} ms, server {m['server_cpu']:.2f} cores.")

    g = r["get"]
    L.append(f"\n### (2) GET one Pod ({g['bytes']} bytes) vs nginx serving the same bytes\n")
    L.append("| metric | berth | nginx | berth/nginx |")
    L.append("|---|---|---|---|")
    L.append(row("gets/s", g["berth"]["ok_rps"], g["nginx"]["ok_rps"], "", "", "nginx"))
    L.append(row("p50 latency", g["berth"]["p50_ms"], g["nginx"]["p50_ms"], "ms", "ms", "nginx", 2))
    L.append(row("p99 latency", g["berth"]["p99_ms"], g["nginx"]["p99_ms"], "ms", "ms", "nginx", 2))
    L.append(row("server CPU (cores)", g["berth"]["server_cpu"], g["nginx"]["server_cpu"], "", "",
                 "nginx", 2))
    L.append(row("wrk CPU (cores)", g["berth"]["wrk_cpu"], g["nginx"]["wrk_cpu"], "", "",
                 "nginx", 2))
    L.append(f"| per-round gets/s | {rounds(g['berth'])} | {rounds(g['nginx'])} | |")
    L.append("\nTarget: >= 20,000 gets/s from the cache.")

    li = r["list"]
    L.append(f"\n### (3) LIST {li['items']} Pods ({li['bytes']:,} bytes JSON) vs etcd range of "
             f"{li['etcd_items']} keys\n")
    L.append("| metric | berth | etcd range | berth/etcd |")
    L.append("|---|---|---|---|")
    L.append(row("1 client: p50 latency", li["berth"]["p50_ms"], li["etcd"]["p50_ms"], "ms",
                 "ms", "", 1))
    L.append(row("1 client: p99 latency", li["berth"]["p99_ms"], li["etcd"]["p99_ms"], "ms",
                 "ms", "", 1))
    L.append(row("1 client: lists/s", li["berth"]["ok_rps"], li["etcd"]["ok_rps"], "", "", "", 1))
    L.append(row("4 clients: lists/s", li["berth_conc"]["ok_rps"], li["etcd_conc"]["ok_rps"], "",
                 "", "", 1))
    L.append(row("4 clients: p99 latency", li["berth_conc"]["p99_ms"], li["etcd_conc"]["p99_ms"],
                 "ms", "ms", "", 1))
    L.append(row("loading: creates/s (64 conns)", li["load_berth"]["ok_rps"],
                 li["load_etcd"]["ok_rps"], "", "", "", 0))

    w = r["watch"]
    L.append(f"\n### (4) Watch: {w['berth']['watchers']} watchers (curl, one stream each) while "
             f"creating for {d} s\n")
    L.append("| metric | berth | etcd watch | berth/etcd |")
    L.append("|---|---|---|---|")
    L.append(row("events delivered/s (all watchers)", w["berth"]["events_per_s"],
                 w["etcd"]["events_per_s"], "", "", ""))
    L.append(row("events delivered / expected", w["berth"]["events"], w["etcd"]["events"],
                 f"/ {w['berth']['expected']:,}", f"/ {w['etcd']['expected']:,}", ""))
    L.append(row("creates/s meanwhile", w["berth"]["create_rps"], w["etcd"]["create_rps"], "",
                 "", ""))
    L.append(row("server CPU (cores)", w["berth"]["server_cpu"], w["etcd"]["server_cpu"], "", "",
                 "", 2))

    ra = r["rate"]
    L.append(f"\n### (5) Write latency at a fixed offered rate ({ra['target']}/s, "
             f"{args.rate_conns} connections)\n")
    L.append("| metric | berth | etcd put | berth/etcd |")
    L.append("|---|---|---|---|")
    L.append(row("achieved writes/s", ra["berth"]["ok_rps"], ra["etcd"]["ok_rps"], "", "", ""))
    for k, n in (("p50_ms", "p50"), ("p90_ms", "p90"), ("p99_ms", "p99"), ("p999_ms", "p99.9"),
                 ("max_ms", "max")):
        L.append(row(f"{n} latency", ra["berth"][k], ra["etcd"][k], "ms", "ms", "", 2))
    L.append(row("server CPU (cores)", ra["berth"]["server_cpu"], ra["etcd"]["server_cpu"], "",
                 "", "", 2))
    L.append(f"| per-round p99 (ms) | {rounds(ra['berth'], 'p99_rounds', 1)} | "
             f"{rounds(ra['etcd'], 'p99_rounds', 1)} | |")
    L.append("\nTarget: p99 < 20 ms at 1,000 writes/s. wrk waits a fixed interval "
             "(connections/rate) after each response, so the achieved rate is a little below "
             "the offered one.")

    s = r["rss"]
    idle = r["idle"]
    L.append("\n### (6) Memory (VmRSS); the fill runs on fresh instances holding only these "
             "pods\n")
    L.append("| state | berth | etcd | berth/etcd |")
    L.append("|---|---|---|---|")
    L.append(row("idle, after start", idle["berth"], idle["etcd"], "MB", "MB", "", 1))
    L.append(f"| idle, fresh instance for the fill | {s['idle_fresh']:.1f} MB | | |")
    L.append(row(f"holding {s['pods']:,} pods (etcd: {s['etcd_keys']:,} keys)", s["berth"],
                 s["etcd"], "MB", "MB", "", 1))
    L.append(row("peak (VmHWM)", s["berth_hwm"], s["etcd_hwm"], "MB", "MB", "", 1))
    L.append(row("on-disk store", s["db_bytes"] / 2**20, s["etcd_db_bytes"] / 2**20, "MB", "MB",
                 "", 1))
    L.append(row("fill rate, creates/s (64 conns)", s["fill_berth"]["ok_rps"],
                 s["fill_etcd"]["ok_rps"], "", "", "", 0))
    if s["pods"] < args.rss_pods and s["pods"] > 0:
        per = s["berth"] / s["pods"]
        L.append(f"\nOnly {s['pods']:,} of {args.rss_pods:,} pods were created within the "
                 f"{args.rss_seconds} s cap. EXTRAPOLATED (linear, {per * 1024:.1f} KB/pod "
                 f"including idle): ~{per * args.rss_pods:.0f} MB at {args.rss_pods:,} pods.")
    L.append(f"\nnginx idle RSS (master + workers): {idle['nginx']:.1f} MB. "
             "Targets: berth < 30 MB idle, < 300 MB holding 100,000 small pods.")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
