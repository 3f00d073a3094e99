#!/usr/bin/env python3
"""pods.py create URL TOKEN COUNT [NODES] | running URL TOKEN: creates COUNT small pods (no
nodeName; the scheduler binds them) in namespace default with 8 keep-alive connections, or prints
how many pods are Running. With NODES the pods are created bound, round-robin to sim-node-0 ..
sim-node-(NODES-1) (bench/memory_scale.sh: the scheduler's binding rate is not what it measures).
Part of bench/simulate_scale.sh."""
import http.client
import json
import ssl
import sys
import threading


def conn(url):
    host, port = url.split("//")[1].split(":")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=120)


def create(url, token, start, end, errors, nodes=0):
    c = conn(url)
    for i in range(start, end):
        spec = {"containers": [{"name": "c", "image": "busybox",
                                "resources": {"requests": {"cpu": "10m"}}}]}
        if nodes:
            spec["nodeName"] = f"sim-node-{i % nodes}"
        body = json.dumps({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": f"bench-{i}", "labels": {"app": "bench"}},
                           "spec": spec})
        c.request("POST", "/api/v1/namespaces/default/pods", body,
                  {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 201:
            errors.append(r.status)


def running(url, token):
    c = conn(url)
    c.request("GET", "/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning",
              headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    r = c.getresponse()
    data = json.loads(r.read())
    print(len(data.get("items", [])))


if sys.argv[1] == "create":
    url, token, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    nodes = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    errors = []
    threads = [threading.Thread(target=create,
                                args=(url, token, k * n // 8, (k + 1) * n // 8, errors, nodes))
               for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"created {n - len(errors)} errors {len(errors)}")
else:
    running(sys.argv[2], sys.argv[3])
