#!/usr/bin/env python3
"""bench/rbac_throughput.py: creates/s and gets/s with authorization and admission on
(--authorization-mode Node,RBAC and the default admission plugins) against the same build with
both off (AlwaysAllow, every default admission plugin disabled), in the same run.

Two identities per server:
  - admin (bearer token, group system:masters): load from wrk, as bench/run.sh drives it; with
    RBAC on this measures the filter itself (RequestInfo, the chain, the privileged group).
  - a certificate user "bench-user" bound to `edit` in the bench namespace: the RBAC authorizer
    resolves its bindings on every request. wrk cannot present client certificates, so this load
    comes from Python threads with keep-alive TLS connections (lower absolute rates: the client
    is the bottleneck; the ratio is what matters).
Rounds alternate the two servers; medians are reported. Besides the rates, the server's CPU per
request (its utime+stime over the run / requests served) is reported: on a loaded machine the
rates follow the CPU share each server happens to get, CPU per request much less so. Loopback
only; stops only the servers it started.
Usage: [BERTH_BEFORE=old/berth] BERTH=build/berth bench/rbac_throughput.py [seconds] [rounds]
"""
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BERTH = os.environ.get("BERTH", "build/berth")
# BERTH_BEFORE=<another build>: its two servers join the same rounds (a before/after comparison
# under the same load).
BERTH_BEFORE = os.environ.get("BERTH_BEFORE", "")
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 4
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api", "load.lua")
NS = "bench"
LOAD = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# The default admission plugins (src/apiserver/admission/plugins.cpp), all disabled when off.
DEFAULT_ADMISSION = ("NamespaceLifecycle,LimitRanger,ServiceAccount,NodeRestriction,"
                     "TaintNodesByCondition,PodSecurity,Priority,DefaultTolerationSeconds,"
                     "DefaultStorageClass,StorageObjectInUseProtection,PersistentVolumeClaimResize,"
                     "RuntimeClass,CertificateApproval,CertificateSigning,ClusterTrustBundleAttest,"
                     "CertificateSubjectRestriction,DefaultIngressClass,MutatingAdmissionWebhook,"
                     "ValidatingAdmissionPolicy,ValidatingAdmissionWebhook,ResourceQuota")


class Server:
    def __init__(self, binary, mode, work, label):
        self.dir = os.path.join(work, label + "-" + mode.replace(",", "-"))
        self.port = free_port()
        self.log = open(self.dir + ".log", "w")
        self.proc = subprocess.Popen(
            [binary, "server", "--data-dir", self.dir, "--bind-address", "127.0.0.1",
             "--secure-port", str(self.port), "--disable-agent", "--disable-controllers",
             "--disable-scheduler", "--authorization-mode", mode] +
            (["--disable-admission-plugins", DEFAULT_ADMISSION] if mode == "AlwaysAllow" else []),
            stdout=self.log, stderr=subprocess.STDOUT)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        for _ in range(200):
            try:
                c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=1)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200 and os.path.exists(self.dir + "/admin.token"):
                    break
            except OSError:
                pass
            time.sleep(0.1)
        self.token = open(self.dir + "/admin.token").read().strip()
        self.issue_user()
        self.admin("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
        self.admin("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/rolebindings", {
            "metadata": {"name": "bench-edit"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "edit"},
            "subjects": [{"kind": "User", "name": "bench-user",
                          "apiGroup": "rbac.authorization.k8s.io"}]})
        self.admin("POST", f"/api/v1/namespaces/{NS}/configmaps", {"metadata": {"name": "target"}})
        time.sleep(0.5)  # the binding reaches the authorizer through the watch cache

    def issue_user(self):
        tls = os.path.join(self.dir, "tls")
        self.key, self.crt = self.dir + "/user.key", self.dir + "/user.crt"
        subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        self.key, "-out", self.dir + "/user.csr", "-subj", "/CN=bench-user"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", self.dir + "/user.csr", "-CA",
                        tls + "/ca.crt", "-CAkey", tls + "/ca.key", "-CAcreateserial", "-out",
                        self.crt, "-days", "1"], check=True, capture_output=True)

    def admin(self, method, path, body):
        ctx = ssl._create_unverified_context()
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx)
        c.request(method, path, json.dumps(body), {"Authorization": "Bearer " + self.token,
                                                   "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status >= 300 and r.status != 409:
            raise RuntimeError(f"{method} {path}: {r.status}")

    def cpu_seconds(self):
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


def wrk_rps(server, mode, prefix):
    env = dict(os.environ, BENCH_MODE=mode, BENCH_TOKEN=server.token, BENCH_NS=NS,
               BENCH_PREFIX=prefix)
    url = f"https://127.0.0.1:{server.port}/api/v1/namespaces/{NS}/configmaps/target"
    if mode == "berth-create":
        url = f"https://127.0.0.1:{server.port}/"
    cpu = server.cpu_seconds()
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{int(SECONDS)}s", "-s", LUA, url], env=env,
                         capture_output=True, text=True).stdout
    cpu = server.cpu_seconds() - cpu
    m = re.search(r"BENCH_JSON (\{.*\})", out)
    if not m:
        raise RuntimeError("wrk: " + out)
    res = json.loads(m.group(1))
    if res["non2xx"]:
        raise RuntimeError(f"wrk {mode}: {res['non2xx']} non-2xx answers")
    return res["rps"], cpu * 1e6 / max(res["requests"], 1)


def user_rps(server, create, prefix, threads=8):
    ctx = ssl._create_unverified_context()
    ctx.load_cert_chain(server.crt, server.key)
    count = [0] * threads
    errors = []
    deadline = time.monotonic() + SECONDS

    def run(i):
        c = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx)
        n = 0
        while time.monotonic() < deadline:
            if create:
                body = json.dumps({"metadata": {"name": f"{prefix}-{i}-{n}"}, "data": {"k": "v"}})
                c.request("POST", f"/api/v1/namespaces/{NS}/configmaps", body,
                          {"Content-Type": "application/json"})
            else:
                c.request("GET", f"/api/v1/namespaces/{NS}/configmaps/target")
            r = c.getresponse()
            r.read()
            if r.status >= 300:
                errors.append(r.status)
                return
            n += 1
        count[i] = n

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    cpu = server.cpu_seconds()
    start = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(f"user requests failed: {errors[:3]}")
    elapsed, cpu = time.monotonic() - start, server.cpu_seconds() - cpu
    return sum(count) / elapsed, cpu * 1e6 / max(sum(count), 1)


def main():
    if not shutil.which("wrk"):
        sys.exit("bench: wrk not found (apt-get install wrk)")
    LOAD.append(os.getloadavg())
    work = tempfile.mkdtemp(prefix="berth-rbac-bench.")
    servers = {}
    try:
        builds = [("after", BERTH), ("before", BERTH_BEFORE)] if BERTH_BEFORE else [("", BERTH)]
        for label, binary in builds:
            for mode in ("Node,RBAC", "AlwaysAllow"):
                servers[(label, mode)] = Server(binary, mode, work, label or "build")
        keys = ("admin pod creates", "admin gets", "user configmap creates", "user gets")
        results = {m: {k: [] for k in keys} for m in servers}
        for rnd in range(ROUNDS):
            for mode, s in servers.items():
                tag = f"r{rnd}"
                r = results[mode]
                r["admin pod creates"].append(wrk_rps(s, "berth-create", "a" + tag))
                r["admin gets"].append(wrk_rps(s, "get", tag))
                r["user configmap creates"].append(user_rps(s, True, "u" + tag))
                r["user gets"].append(user_rps(s, False, tag))
        print(f"RBAC throughput: {ROUNDS} alternating rounds of {SECONDS:.0f} s per measurement, "
              "medians")
        print(f"load average before/after: {LOAD[0]} / {os.getloadavg()}")
        print("on = Node,RBAC + default admission; off = AlwaysAllow, no admission plugins")
        for label, binary in builds:
            if label:
                print(f"-- {label}: {binary}")
            print(f"{'measurement':<24} {'on/s':>8} {'off/s':>8} {'ratio':>7} "
                  f"{'on CPU us/req':>14} {'off CPU us/req':>15} {'CPU ratio':>9}")
            for key in keys:
                ron, roff = results[(label, "Node,RBAC")][key], results[(label, "AlwaysAllow")][key]
                on, off = statistics.median(x[0] for x in ron), statistics.median(x[0] for x in roff)
                con = statistics.median(x[1] for x in ron)
                coff = statistics.median(x[1] for x in roff)
                # CPU ratio: off's CPU per request over on's, the rate ratio a CPU-bound server
                # would reach.
                print(f"{key:<24} {on:>8.0f} {off:>8.0f} {on / off:>7.1%} {con:>14.0f} "
                      f"{coff:>15.0f} {coff / con:>9.1%}")
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
