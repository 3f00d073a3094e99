#!/usr/bin/python3
"""Durability: every write the server acknowledged before `kill -9` is there after a restart,
and so are the CA, the credentials and the revision counter."""
import os
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from e2e_server import Checks, Server  # noqa: E402

from kubernetes import client, config  # noqa: E402

check = Checks()


work = tempfile.mkdtemp(prefix="berth-dur.")
try:
    srv = Server(data_dir=work).start()
    ca_before = open(os.path.join(work, "data", "tls", "ca.crt")).read() \
        if os.path.exists(os.path.join(work, "data", "tls", "ca.crt")) else None
    token_before = srv.token
    config.load_kube_config(config_file=srv.kubeconfig)
    v1 = client.CoreV1Api()
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(idx):
        api = client.CoreV1Api()
        n = 0
        while not stop.is_set():
            name = f"w{idx}-{n}"
            try:
                api.create_namespaced_config_map(
                    "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name),
                                                  data={"n": str(n)}))
            except Exception:
                return  # the server died mid-request: this write was never acknowledged
            with lock:
                acked.append(name)
            n += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    while True:
        with lock:
            if len(acked) >= 300:
                break
        threading.Event().wait(0.01)
    srv.kill(9)  # kill -9 while writers are mid-flight
    stop.set()
    for t in threads:
        t.join(10)
    last_rv = None

    srv2 = Server(data_dir=work)
    srv2.port = srv.port
    srv2.start()
    check("credentials kept across restart", srv2.token == token_before)
    if ca_before is not None:
        ca_after = open(os.path.join(work, "data", "tls", "ca.crt")).read()
        check("CA kept across restart", ca_after == ca_before)
    config.load_kube_config(config_file=srv2.kubeconfig)
    v1 = client.CoreV1Api()
    present = {c.metadata.name for c in v1.list_namespaced_config_map("default").items}
    missing = [n for n in acked if n not in present]
    check(f"all {len(acked)} acknowledged writes survived kill -9", not missing, missing[:5])
    ns = {n.metadata.name for n in v1.list_namespace().items}
    check("built-in namespaces still there", {"default", "kube-system"} <= ns)
    created = v1.create_namespaced_config_map(
        "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="after")))
    rvs = [int(c.metadata.resource_version) for c in v1.list_namespaced_config_map("default").items]
    check("revisions keep increasing after restart",
          int(created.metadata.resource_version) == max(rvs))
    srv2.kill(15)
finally:
    shutil.rmtree(work, ignore_errors=True)

sys.exit(check.finish())
