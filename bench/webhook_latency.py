#!/usr/bin/env python3
"""bench/webhook_latency.py: latency of a create with N validating admission webhooks that each
take MS milliseconds (issue 9: upstream calls validating webhooks in parallel, so ~MS, not N*MS).

Starts `berth server` (no agent, controllers or scheduler) and the e2e fixture webhook server
(tests/e2e/fixtures/admission_webhook_server.py, /sleep/MS/allow) on 127.0.0.1 with a CA made
here, registers N ValidatingWebhookConfigurations on configmaps, then times COUNT creates over
one keep-alive connection with the admin token. Stops only what it started.
Usage: BERTH=build/berth bench/webhook_latency.py [N=5] [MS=100] [COUNT=20]
"""
import base64
import http.client
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

BERTH = os.environ.get("BERTH", "build/berth")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 5
MS = int(sys.argv[2]) if len(sys.argv) > 2 else 100
COUNT = int(sys.argv[3]) if len(sys.argv) > 3 else 20
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "e2e", "fixtures", "admission_webhook_server.py")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def main():
    work = tempfile.mkdtemp(prefix="berth-webhook-bench.")
    procs = []
    try:
        ca, key, crt = (os.path.join(work, n) for n in ("ca", "tls.key", "tls.crt"))
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key",
           "-out", ca + ".crt", "-days", "1", "-subj", "/CN=bench-ca")
        sh("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
           work + "/tls.csr", "-subj", "/CN=127.0.0.1")
        with open(work + "/san.ext", "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        sh("openssl", "x509", "-req", "-in", work + "/tls.csr", "-CA", ca + ".crt", "-CAkey",
           ca + ".key", "-CAcreateserial", "-out", crt, "-days", "1", "-extfile",
           work + "/san.ext")
        portfile = work + "/hook.port"
        procs.append(subprocess.Popen([sys.executable, FIXTURE, crt, key, portfile,
                                       work + "/hook.log"]))
        port = free_port()
        data = work + "/data"
        log = open(work + "/server.log", "w")
        procs.append(subprocess.Popen(
            [BERTH, "server", "--data-dir", data, "--bind-address", "127.0.0.1", "--secure-port",
             str(port), "--disable-agent", "--disable-controllers", "--disable-scheduler"],
            stdout=log, stderr=subprocess.STDOUT))
        ctx = ssl._create_unverified_context()
        for _ in range(300):
            if os.path.exists(portfile) and os.path.exists(data + "/admin.token"):
                try:
                    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=1)
                    c.request("GET", "/readyz")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    pass
            time.sleep(0.1)
        token = open(data + "/admin.token").read().strip()
        hook_port = open(portfile).read().strip()
        bundle = base64.b64encode(open(ca + ".crt", "rb").read()).decode()
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)

        def post(path, body):
            conn.request("POST", path, json.dumps(body), {"Authorization": "Bearer " + token,
                                                          "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status >= 300:
                raise RuntimeError(f"POST {path}: {r.status}")

        for i in range(N):
            post("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", {
                "metadata": {"name": f"slow{i}.example.com"},
                "webhooks": [{"name": f"slow{i}.example.com", "sideEffects": "None",
                              "admissionReviewVersions": ["v1"], "failurePolicy": "Fail",
                              "clientConfig": {"url": f"https://127.0.0.1:{hook_port}"
                                                      f"/sleep/{MS}/allow",
                                               "caBundle": bundle},
                              "rules": [{"operations": ["CREATE"], "apiGroups": [""],
                                         "apiVersions": ["v1"], "resources": ["configmaps"]}]}]})
        time.sleep(1)  # the configurations reach the plugin through the watch cache
        times = []
        for i in range(COUNT):
            t = time.monotonic()
            post("/api/v1/namespaces/default/configmaps", {"metadata": {"name": f"cm{i}"}})
            times.append((time.monotonic() - t) * 1000)
        calls = sum(1 for _ in open(work + "/hook.log"))
        print(f"{N} validating webhooks x {MS} ms, {COUNT} creates: median "
              f"{statistics.median(times):.0f} ms, min {min(times):.0f} ms, max "
              f"{max(times):.0f} ms; webhook calls {calls} (want {N * COUNT}); "
              f"load average {os.getloadavg()[0]:.1f}")
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
