#!/usr/bin/python3
"""API semantics under concurrency, as upstream: concurrent writes retried inside the server (no
409 for patches or unconditional updates), list resourceVersion/resourceVersionMatch rules,
paged lists as one snapshot, WatchList, selector watches, UID preconditions, graceful deletion,
and namespace deletion that survives kill -9."""
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import shutil
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from e2e_server import Checks, Server  # noqa: E402

check = Checks()
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


class Api:
    """A keep-alive HTTPS connection with the admin token (one per thread)."""

    def __init__(self, srv):
        self.srv = srv
        self.conn = None

    def call(self, method, path, body=None, ctype="application/json", query=None):
        if query:
            path += "?" + urllib.parse.urlencode(query)
        data = None if body is None else (body if isinstance(body, (bytes, str))
                                          else json.dumps(body))
        headers = {"Authorization": "Bearer " + self.srv.token, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = ctype
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection("127.0.0.1", self.srv.port, context=CTX,
                                                        timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn = None
                if attempt:
                    raise
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw
        return resp.status, doc

    def stream(self, path, query, seconds):
        """Reads a watch for `seconds` (or until it ends); returns the events."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.srv.port, context=CTX, timeout=seconds)
        conn.request("GET", path + "?" + urllib.parse.urlencode(query),
                     headers={"Authorization": "Bearer " + self.srv.token})
        resp = conn.getresponse()
        events = []
        if resp.status != 200:
            return resp.status, json.loads(resp.read())
        deadline = time.time() + seconds
        buf = b""
        try:
            while time.time() < deadline:
                chunk = resp.readline()
                if not chunk:
                    break
                buf += chunk
                if buf.endswith(b"\n"):
                    line = buf.strip()
                    buf = b""
                    if line:
                        events.append(json.loads(line))
        except (TimeoutError, OSError):
            pass
        conn.close()
        return 200, events


CM = "/api/v1/namespaces/default/configmaps"


def concurrent_writes(api_for):
    base = api_for()
    base.call("POST", CM, {"metadata": {"name": "hot"}, "data": {}})
    conflicts, errors = [], []
    lock = threading.Lock()

    def worker(idx, n, make):
        api = api_for()
        for i in range(n):
            method, path, body, ctype, query = make(idx, i)
            code, doc = api.call(method, path, body, ctype, query)
            if code == 409:
                with lock:
                    conflicts.append((method, ctype, doc.get("message")))
            elif code >= 300:
                with lock:
                    errors.append((code, doc))

    def run(n, make):
        threads = [threading.Thread(target=worker, args=(i, n, make)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    merge = lambda idx, i: ("PATCH", CM + "/hot",  # noqa: E731
                            {"metadata": {"annotations": {f"w{idx}": str(i)}}},
                            "application/merge-patch+json", None)
    run(200, merge)
    check("4x200 concurrent merge patches of one object: zero 409s", not conflicts,
          str(conflicts[:3]))
    check("... and no other errors", not errors, str(errors[:3]))
    _, hot = base.call("GET", CM + "/hot")
    ann = hot["metadata"].get("annotations", {})
    check("every writer's last patch is there", all(ann.get(f"w{i}") == "199" for i in range(4)),
          str(ann))

    conflicts.clear()
    strategic = lambda idx, i: ("PATCH", CM + "/hot", {"data": {f"s{idx}": str(i)}},  # noqa: E731
                                "application/strategic-merge-patch+json", None)
    jsonpatch = lambda idx, i: ("PATCH", CM + "/hot",  # noqa: E731
                                [{"op": "add", "path": f"/data/j{idx}", "value": str(i)}],
                                "application/json-patch+json", None)
    apply = lambda idx, i: ("PATCH", CM + "/hot",  # noqa: E731
                            {"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "hot"}, "data": {f"a{idx}": str(i)}},
                            "application/apply-patch+yaml",
                            {"fieldManager": f"mgr{idx}"})
    for name, make in (("strategic", strategic), ("json", jsonpatch), ("apply", apply)):
        run(50, make)
    check("concurrent strategic, JSON and apply patches: zero 409s", not conflicts,
          str(conflicts[:3]))

    # PUT without resourceVersion is unconditional.
    def put(idx, i):
        return ("PUT", CM + "/hot", {"metadata": {"name": "hot"}, "data": {"put": f"{idx}-{i}"}},
                "application/json", None)
    conflicts.clear()
    run(50, put)
    check("concurrent PUTs without resourceVersion: zero 409s", not conflicts, str(conflicts[:3]))

    # /scale and /status of one Deployment from four writers.
    dep = {"metadata": {"name": "web"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
    DEP = "/apis/apps/v1/namespaces/default/deployments"
    base.call("POST", DEP, dep)
    conflicts.clear()
    run(40, lambda idx, i: ("PATCH", DEP + "/web/scale", {"spec": {"replicas": idx + 1}},
                            "application/merge-patch+json", None))
    run(40, lambda idx, i: ("PATCH", DEP + "/web/status",
                            {"status": {"observedGeneration": i, "replicas": idx}},
                            "application/merge-patch+json", None))
    check("concurrent /scale and /status patches: zero 409s", not conflicts, str(conflicts[:3]))

    # A patch pinning a stale resourceVersion still answers 409.
    code, doc = base.call("PATCH", CM + "/hot",
                          {"metadata": {"resourceVersion": "1"}, "data": {"x": "y"}},
                          "application/merge-patch+json")
    check("a patch with a stale resourceVersion is a 409 Conflict",
          code == 409 and doc.get("reason") == "Conflict", f"{code} {doc}")
    # UID precondition on update.
    _, hot = base.call("GET", CM + "/hot")
    hot["metadata"]["uid"] = "00000000-0000-0000-0000-000000000000"
    code, doc = base.call("PUT", CM + "/hot", hot)
    check("update with another metadata.uid: 409 Precondition failed",
          code == 409 and "Precondition failed: UID in precondition" in doc.get("message", ""),
          f"{code} {doc}")


def list_semantics(api):
    for i in range(30):
        api.call("POST", CM, {"metadata": {"name": f"page-{i:02d}", "labels": {"set": "p"}}})
    code, first = api.call("GET", CM, query={"labelSelector": "set=p"})
    rv0 = int(first["metadata"]["resourceVersion"])
    api.call("PATCH", CM + "/page-00", {"data": {"later": "1"}}, "application/merge-patch+json")
    code, exact = api.call("GET", CM, query={"labelSelector": "set=p", "resourceVersion": str(rv0),
                                             "resourceVersionMatch": "Exact"})
    p0 = [o for o in exact.get("items", []) if o["metadata"]["name"] == "page-00"]
    check("Exact list returns the state at that revision",
          code == 200 and exact["metadata"]["resourceVersion"] == str(rv0) and p0 and
          "later" not in (p0[0].get("data") or {}), f"{code} {exact.get('metadata')}")
    code, doc = api.call("GET", CM, query={"resourceVersion": str(rv0 + 10**9),
                                           "resourceVersionMatch": "NotOlderThan"})
    check("NotOlderThan a future revision: 504 Too large resource version",
          code == 504 and doc.get("reason") == "Timeout" and
          "Too large resource version" in doc.get("message", ""), f"{code} {doc}")
    code, doc = api.call("GET", CM, query={"resourceVersionMatch": "NotOlderThan"})
    check("resourceVersionMatch without resourceVersion: 422",
          code == 422 and doc.get("details", {}).get("kind") == "ListOptions" and
          "resourceVersionMatch is forbidden unless resourceVersion is provided"
          in doc.get("message", ""), f"{code} {doc}")
    code, doc = api.call("GET", CM, query={"resourceVersion": "0", "resourceVersionMatch": "Exact"})
    check("Exact with resourceVersion=0: 422", code == 422, f"{code} {doc}")
    code, doc = api.call("GET", CM, query={"resourceVersion": "5", "resourceVersionMatch": "Bogus"})
    check("an unknown resourceVersionMatch: 422 Unsupported value",
          code == 422 and "Unsupported value" in doc.get("message", ""), f"{code} {doc}")
    code, doc = api.call("GET", CM, query={"labelSelector": "set=p", "limit": "5",
                                           "resourceVersion": "0"})
    check("limit is ignored with resourceVersion=0 (as upstream's cache)",
          code == 200 and len(doc["items"]) == 30 and not doc["metadata"].get("continue"),
          f"{code} {len(doc.get('items', []))}")

    # Paging is one snapshot: delete everything after the first page; later pages still show it.
    code, page = api.call("GET", CM, query={"labelSelector": "set=p", "limit": "10"})
    names = [o["metadata"]["name"] for o in page["items"]]
    token = page["metadata"].get("continue")
    for i in range(30):
        api.call("DELETE", CM + f"/page-{i:02d}")
    api.call("POST", CM, {"metadata": {"name": "page-99", "labels": {"set": "p"}}})
    while token:
        code, page = api.call("GET", CM, query={"labelSelector": "set=p", "limit": "10",
                                                "continue": token})
        if code != 200:
            break
        names += [o["metadata"]["name"] for o in page["items"]]
        token = page["metadata"].get("continue")
    check("a paged list interleaved with deletes stays one snapshot",
          names == [f"page-{i:02d}" for i in range(30)], f"{code} {names}")
    code, doc = api.call("GET", CM, query={"limit": "10", "continue": "bm90LWEtdG9rZW4"})
    check("a forged continue token: 400", code == 400 and "continue" in doc.get("message", ""),
          f"{code} {doc}")
    forged = json.dumps({"v": "meta.k8s.io/v1", "rv": 1, "start": "/registry/secrets/x"})
    import base64
    tok = base64.urlsafe_b64encode(forged.encode()).decode()
    code, doc = api.call("GET", CM, query={"limit": "10", "continue": tok})
    check("a continue token pointing at another resource: 400", code == 400, f"{code} {doc}")


def watches(api):
    api.call("POST", CM, {"metadata": {"name": "wl-1", "labels": {"w": "a"}}})
    api.call("POST", CM, {"metadata": {"name": "wl-2", "labels": {"w": "a"}}})
    code, evs = api.stream(CM, {"watch": "1", "sendInitialEvents": "true",
                                "resourceVersionMatch": "NotOlderThan",
                                "allowWatchBookmarks": "true", "labelSelector": "w=a",
                                "timeoutSeconds": "2"}, 3)
    types = [e["type"] for e in evs]
    bm = evs[-1] if evs else {}
    check("WatchList: initial ADDED events then the initial-events-end bookmark",
          code == 200 and types == ["ADDED", "ADDED", "BOOKMARK"] and
          bm["object"]["metadata"].get("annotations", {}).get("k8s.io/initial-events-end")
          == "true", f"{code} {types}")
    code, evs = api.stream(CM, {"watch": "1", "sendInitialEvents": "false",
                                "resourceVersionMatch": "NotOlderThan",
                                "allowWatchBookmarks": "true", "labelSelector": "w=a",
                                "timeoutSeconds": "1"}, 2)
    check("sendInitialEvents=false sends no initial events", code == 200 and evs == [],
          f"{code} {evs}")
    code, doc = api.stream(CM, {"watch": "1", "sendInitialEvents": "true"}, 2)
    check("sendInitialEvents without resourceVersionMatch=NotOlderThan: 422",
          code == 422 and "sendInitialEvents requires setting resourceVersionMatch"
          in doc.get("message", ""), f"{code} {doc}")

    # A selector watch sees DELETED, with the last matching state, when an object stops matching.
    _, lst = api.call("GET", CM, query={"labelSelector": "w=a"})
    rv = lst["metadata"]["resourceVersion"]
    result = {}

    def watch():
        result["evs"] = api_w.stream(CM, {"watch": "1", "labelSelector": "w=a",
                                          "resourceVersion": rv, "timeoutSeconds": "2"}, 3)[1]
    api_w = Api(api.srv)
    t = threading.Thread(target=watch)
    t.start()
    time.sleep(0.5)
    code, patched = api.call("PATCH", CM + "/wl-1", {"metadata": {"labels": {"w": "b"}}},
                             "application/merge-patch+json")
    t.join()
    evs = result.get("evs", [])
    dele = [e for e in evs if e["type"] == "DELETED"]
    check("selector watch: DELETED with the previous state and the new resourceVersion",
          len(dele) == 1 and dele[0]["object"]["metadata"]["labels"]["w"] == "a" and
          dele[0]["object"]["metadata"]["resourceVersion"] ==
          patched["metadata"]["resourceVersion"], str(evs))

    env = dict(os.environ, KUBE_FEATURE_WatchListClient="true", KUBECONFIG=api.srv.kubeconfig,
               HOME=tempfile.mkdtemp(prefix="berth-wl-home."))
    out = subprocess.run(["kubectl", "get", "configmaps", "-l", "w=a", "-o", "name"], env=env,
                         capture_output=True, text=True, timeout=60)
    check("kubectl 1.32 with KUBE_FEATURE_WatchListClient=true lists",
          out.returncode == 0 and "configmap/wl-2" in out.stdout, out.stderr[-500:])
    proc = subprocess.Popen(["kubectl", "get", "configmaps", "-l", "w=a", "-w", "-o", "name"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    api.call("POST", CM, {"metadata": {"name": "wl-3", "labels": {"w": "a"}}})
    time.sleep(1.5)
    proc.terminate()
    so, se = proc.communicate(timeout=10)
    check("kubectl get -w with WatchListClient sees existing and new objects",
          "configmap/wl-2" in so and "configmap/wl-3" in so, so + se[-300:])
    shutil.rmtree(env["HOME"], ignore_errors=True)


def deletion(api):
    # A dry-run update removing the last finalizer does not delete.
    api.call("POST", CM, {"metadata": {"name": "fin", "finalizers": ["example.com/hold"]}})
    api.call("DELETE", CM + "/fin")
    code, doc = api.call("PATCH", CM + "/fin", {"metadata": {"finalizers": None}},
                         "application/merge-patch+json", {"dryRun": "All"})
    code2, _ = api.call("GET", CM + "/fin")
    check("a dry-run removal of the last finalizer deletes nothing", code == 200 and code2 == 200,
          f"{code} {code2}")
    api.call("PATCH", CM + "/fin", {"metadata": {"finalizers": None}},
             "application/merge-patch+json")
    code, _ = api.call("GET", CM + "/fin")
    check("... the real removal deletes it", code == 404, str(code))

    # A pod terminating gracefully survives its status updates; grace 0 deletes it.
    PODS = "/api/v1/namespaces/default/pods"
    api.call("POST", PODS, {"metadata": {"name": "grace"},
                            "spec": {"nodeName": "node-a",
                                     "containers": [{"name": "c", "image": "busybox"}]}})
    code, doc = api.call("DELETE", PODS + "/grace")
    check("deleting a bound pod starts its grace period",
          code == 200 and doc["metadata"].get("deletionGracePeriodSeconds") == 30, f"{code}")
    code, doc = api.call("PATCH", PODS + "/grace/status", {"status": {"phase": "Running"}},
                         "application/merge-patch+json")
    code2, _ = api.call("GET", PODS + "/grace")
    check("a status update of a terminating pod does not delete it", code == 200 and code2 == 200,
          f"{code} {code2}")
    code, _ = api.call("DELETE", PODS + "/grace", {"gracePeriodSeconds": 0})
    code2, _ = api.call("GET", PODS + "/grace")
    check("delete with grace period 0 removes it", code == 200 and code2 == 404, f"{code} {code2}")


def apply_create(api):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"},
            "data": {"a": "1"}}
    code, _ = api.call("PATCH", CM + "/applied", body, "application/apply-patch+yaml",
                       {"fieldManager": "e2e"})
    code2, _ = api.call("PATCH", CM + "/applied", body, "application/apply-patch+yaml",
                        {"fieldManager": "e2e"})
    check("server-side apply creating an object answers 201, applying again 200",
          code == 201 and code2 == 200, f"{code} {code2}")


def namespace_restart(srv, api):
    NS = "/api/v1/namespaces"
    api.call("POST", NS, {"metadata": {"name": "doomed"}})
    api.call("POST", "/api/v1/namespaces/doomed/configmaps",
             {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    api.call("POST", "/api/v1/namespaces/doomed/configmaps", {"metadata": {"name": "free"}})
    code, doc = api.call("DELETE", NS + "/doomed")
    time.sleep(1)
    code, doc = api.call("GET", NS + "/doomed")
    check("a namespace with held content stays Terminating",
          code == 200 and doc["status"]["phase"] == "Terminating", f"{code}")
    srv.kill(9)
    srv2 = Server(data_dir=srv.dir)
    srv2.port = srv.port
    srv2.start()
    api2 = Api(srv2)
    code, _ = api2.call("PATCH", "/api/v1/namespaces/doomed/configmaps/held",
                        {"metadata": {"finalizers": None}}, "application/merge-patch+json")
    gone = False
    for _ in range(100):
        code, _ = api2.call("GET", NS + "/doomed")
        if code == 404:
            gone = True
            break
        time.sleep(0.1)
    check("after kill -9 mid-deletion the restarted server finishes the namespace deletion", gone)

    # PUT .../finalize clears spec.finalizers of a namespace held by a foreign finalizer.
    api2.call("POST", NS, {"metadata": {"name": "stuck"},
                           "spec": {"finalizers": ["example.com/external"]}})
    api2.call("DELETE", NS + "/stuck")
    time.sleep(0.5)
    code, doc = api2.call("GET", NS + "/stuck")
    still = code == 200 and doc["spec"]["finalizers"] == ["example.com/external"]
    doc["spec"]["finalizers"] = []
    code, _ = api2.call("PUT", NS + "/stuck/finalize", doc)
    time.sleep(0.2)
    code2, _ = api2.call("GET", NS + "/stuck")
    check("a namespace held by a foreign spec finalizer is removed by PUT finalize",
          still and code == 200 and code2 == 404, f"{still} {code} {code2}")
    return srv2


def main():
    work = tempfile.mkdtemp(prefix="berth-sem.")
    srv = Server(data_dir=work).start()
    srv2 = None
    try:
        api = Api(srv)
        concurrent_writes(lambda: Api(srv))
        list_semantics(api)
        watches(api)
        deletion(api)
        apply_create(api)
        srv2 = namespace_restart(srv, api)
    finally:
        for s in (srv2, srv):
            if s:
                s.kill(15)
        shutil.rmtree(work, ignore_errors=True)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
