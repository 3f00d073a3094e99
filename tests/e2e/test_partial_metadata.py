#!/usr/bin/python3
"""PartialObjectMetadata: what client-go's metadata client (garbage collector, namespace
controller, metadata informers) sends for get, list and watch, with its exact Accept headers, for
pods, configmaps and a custom resource: JSON and protobuf (read with a small wire reader), paging
through a list, watch events and bookmarks as PartialObjectMetadata, the 406 answers for the
wrong form, and kubectl's own reads unchanged, as the admin kubeconfig's user."""
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from e2e_server import Checks, Server  # noqa: E402
from protobuf_wire import envelope, fields, watch_frames  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
PB = "application/vnd.kubernetes.protobuf"
# client-go metadata.go: Get, Patch and Watch ask for the object form, List for the list form.
OBJ = (f"{PB};as=PartialObjectMetadata;g=meta.k8s.io;v=v1,"
       "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json")
LIST = (f"{PB};as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json")
OBJ_JSON = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
LIST_JSON = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

check = Checks()
home = tempfile.mkdtemp(prefix="berth-pom-home.")


def admin_token(kubeconfig):
    """The admin kubeconfig's credential (a bearer token)."""
    with open(kubeconfig) as f:
        return yaml.safe_load(f)["users"][0]["user"]["token"]


class Api:
    def __init__(self, srv):
        self.base = f"https://127.0.0.1:{srv.port}"
        self.token = admin_token(srv.kubeconfig)
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def call(self, method, path, accept="application/json", body=None,
             ctype="application/json", timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Accept": accept, "Content-Type": ctype,
                                              "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as r:
                return r.status, r.headers["Content-Type"], r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers["Content-Type"], e.read()

    def json(self, method, path, accept="application/json", body=None, **kw):
        code, ct, raw = self.call(method, path, accept, body, **kw)
        return code, ct, json.loads(raw) if raw else None


def object_meta(raw):
    """name, namespace, uid and labels of a meta.v1.ObjectMeta message."""
    m = fields(raw)
    labels = {}
    for entry in m.get(11, []):
        kv = fields(entry)
        labels[kv[1][0].decode()] = kv.get(2, [b""])[0].decode()
    text = lambda n: m.get(n, [b""])[0].decode()  # noqa: E731
    return {"name": text(1), "namespace": text(3), "uid": text(5), "labels": labels}


def check_pom(name, obj, want_name):
    check(f"{name}: PartialObjectMetadata meta.k8s.io/v1 with the whole metadata only",
          obj.get("kind") == "PartialObjectMetadata" and obj.get("apiVersion") == "meta.k8s.io/v1"
          and set(obj) == {"kind", "apiVersion", "metadata"} and
          obj["metadata"].get("name") == want_name and obj["metadata"].get("uid") and
          obj["metadata"].get("resourceVersion") and obj["metadata"].get("creationTimestamp"),
          obj)


def check_pb_list(name, api, path, want):
    code, ct, raw = api.call("GET", path, LIST)
    ok = code == 200 and ct == PB
    names = []
    try:
        api_version, kind, msg = envelope(raw)
        ok = ok and (api_version, kind) == ("meta.k8s.io/v1", "PartialObjectMetadataList")
        listed = fields(msg)  # PartialObjectMetadataList {1 ListMeta, 2 items}
        rv = fields(listed[1][0]).get(2, [b""])[0]
        ok = ok and rv.isdigit()
        for item in listed.get(2, []):
            names.append(object_meta(fields(item)[1][0])["name"])
    except (ValueError, KeyError, IndexError) as e:
        ok = False
        names.append(repr(e))
    check(f"{name}: protobuf PartialObjectMetadataList decodes to the names",
          ok and sorted(names) == sorted(want), (code, ct, names))


def watch_json(api, path, accept, during=None, seconds=2):
    """Events of a JSON watch that the server ends after `seconds`; `during` runs meanwhile."""
    sep = "&" if "?" in path else "?"
    url = f"{path}{sep}watch=1&timeoutSeconds={seconds}"
    if during:
        threading.Timer(0.7, during).start()
    code, ct, raw = api.call("GET", url, accept, timeout=seconds + 20)
    events = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
    return code, ct, events


def kubectl(srv, *args):
    env = dict(os.environ, HOME=home, KUBECONFIG=srv.kubeconfig)
    return subprocess.run(["/usr/bin/kubectl", *args], env=env, capture_output=True, text=True,
                          timeout=60)


try:
    with Server() as srv:
        api = Api(srv)
        ns = "pom"
        code, _, _ = api.json("POST", "/api/v1/namespaces",
                              body={"metadata": {"name": ns}})
        check("namespace created", code == 201, code)
        pods = f"/api/v1/namespaces/{ns}/pods"
        cms = f"/api/v1/namespaces/{ns}/configmaps"
        mine = cms + "?labelSelector=i"  # not the namespace's kube-root-ca.crt
        for i in range(3):
            api.json("POST", pods, body={
                "metadata": {"name": f"p{i}", "labels": {"app": "pom", "i": str(i)},
                             "annotations": {"note": "x" * 50}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
        for i in range(5):
            api.json("POST", cms, body={"metadata": {"name": f"cm{i}", "labels": {"i": str(i)},
                                                     "finalizers": ["example.com/keep"]},
                                        "data": {"big": "y" * 1000}})

        # --- get
        code, ct, obj = api.json("GET", f"{pods}/p1", OBJ_JSON)
        check("get pod as PartialObjectMetadata (JSON)", code == 200 and ct == "application/json",
              (code, ct))
        check_pom("get pod", obj, "p1")
        check("get pod: labels and annotations kept",
              obj["metadata"].get("labels") == {"app": "pom", "i": "1"} and
              obj["metadata"]["annotations"].get("note") == "x" * 50, obj)
        code, ct, raw = api.call("GET", f"{pods}/p1", OBJ)
        api_version, kind, msg = envelope(raw) if raw[:4] == b"k8s\x00" else ("", "", b"")
        meta = object_meta(fields(msg).get(1, [b""])[0]) if msg else {}
        check("get pod with the metadata client's header: protobuf PartialObjectMetadata",
              code == 200 and ct == PB and (api_version, kind) ==
              ("meta.k8s.io/v1", "PartialObjectMetadata") and meta.get("name") == "p1" and
              meta.get("namespace") == ns and meta.get("labels", {}).get("app") == "pom" and
              meta.get("uid") == obj["metadata"]["uid"], (code, ct, api_version, kind, meta))
        code, _, obj = api.json("GET", f"{cms}/cm0", OBJ_JSON)
        check_pom("get configmap", obj, "cm0")
        check("get configmap: finalizers kept, data dropped",
              obj["metadata"].get("finalizers") == ["example.com/keep"] and "data" not in obj, obj)
        code, ct, raw = api.call("GET", f"{cms}/cm0", OBJ)
        check("get configmap over protobuf is much smaller than the object",
              code == 200 and ct == PB and 0 < len(raw) < 700, (code, ct, len(raw)))

        # --- list, paged
        # Unfiltered (a selector leaves remainingItemCount out, as upstream): the namespace's
        # kube-root-ca.crt may be there too.
        _, _, plain = api.json("GET", cms)
        want = [i["metadata"]["name"] for i in plain["items"]]
        want_remaining = [len(want) - 2 * k for k in range(1, 4) if len(want) - 2 * k > 0] + [None]
        names, cont, pages, remaining = [], "", 0, []
        while True:
            q = f"?limit=2&continue={cont}" if cont else "?limit=2"
            code, ct, lst = api.json("GET", cms + q, LIST_JSON)
            if code != 200:
                break
            pages += 1
            check(f"list page {pages}: PartialObjectMetadataList meta.k8s.io/v1",
                  lst.get("kind") == "PartialObjectMetadataList" and
                  lst.get("apiVersion") == "meta.k8s.io/v1" and
                  lst["metadata"].get("resourceVersion") and
                  all(i.get("kind") == "PartialObjectMetadata" and
                      i.get("apiVersion") == "meta.k8s.io/v1" and "data" not in i
                      for i in lst["items"]), lst)
            names += [i["metadata"]["name"] for i in lst["items"]]
            remaining.append(lst["metadata"].get("remainingItemCount"))
            cont = lst["metadata"].get("continue", "")
            if not cont or pages > 5:
                break
        check("paging through the list: continue and remainingItemCount, every item once",
              len(want) >= 5 and names == want and remaining == want_remaining,
              (names, want, remaining))
        check_pb_list("list pods", api, pods, ["p0", "p1", "p2"])
        code, _, lst = api.json("GET", pods + "?labelSelector=i%3D2", LIST_JSON)
        check("list with a label selector", code == 200 and
              [i["metadata"]["name"] for i in lst["items"]] == ["p2"], lst)
        code, _, lst = api.json("GET", "/api/v1/configmaps?labelSelector=none%3Dhere", LIST_JSON)
        check("an empty list has items: []", code == 200 and lst.get("items") == [], lst)

        # v1beta1 (clients before 1.15): JSON, also when protobuf is offered first.
        code, ct, lst = api.json("GET", pods, (
            f"{PB};as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1,"
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1"))
        check("meta.k8s.io/v1beta1 PartialObjectMetadataList in JSON",
              code == 200 and ct == "application/json" and
              lst.get("apiVersion") == "meta.k8s.io/v1beta1" and
              {i["apiVersion"] for i in lst["items"]} == {"meta.k8s.io/v1beta1"}, (code, ct, lst))

        # --- the wrong form, as upstream's transformation answers it
        code, ct, st = api.json("GET", cms, OBJ_JSON)
        check("as=PartialObjectMetadata on a list is 406 NotAcceptable (a JSON Status)",
              code == 406 and ct == "application/json" and st.get("reason") == "NotAcceptable"
              and "list" in st.get("message", ""), (code, st))
        code, _, st = api.json("GET", f"{cms}/cm0", LIST_JSON)
        check("as=PartialObjectMetadataList on a get is 406", code == 406 and
              st.get("kind") == "Status", (code, st))
        code, ct, st = api.json("GET", f"{cms}/nope", OBJ)
        check("a missing object is a plain JSON 404 Status, never transformed",
              code == 404 and ct == "application/json" and st.get("reason") == "NotFound",
              (code, ct, st))

        # --- watch (JSON): initial events, a change, and the bookmark as PartialObjectMetadata
        def touch():
            api.json("PATCH", f"{cms}/cm3", body={"metadata": {"labels": {"touched": "yes"}}},
                     ctype="application/merge-patch+json")

        code, ct, events = watch_json(
            api, mine + "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
            "&allowWatchBookmarks=true", OBJ, touch)
        added = [e["object"]["metadata"]["name"] for e in events if e["type"] == "ADDED"]
        modified = [e for e in events if e["type"] == "MODIFIED"]
        bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
        check("watch configmaps: JSON stream of PartialObjectMetadata events",
              code == 200 and ct.startswith("application/json") and events and
              all(e["object"].get("kind") == "PartialObjectMetadata" and
                  e["object"].get("apiVersion") == "meta.k8s.io/v1" and "data" not in e["object"]
                  for e in events), (code, ct, events[:2]))
        check("watch: initial ADDED events, then the bookmark ending them",
              sorted(added) == [f"cm{i}" for i in range(5)] and len(bookmarks) >= 1 and
              bookmarks[0]["object"]["metadata"].get("annotations", {}).get(
                  "k8s.io/initial-events-end") == "true", (added, bookmarks))
        check("watch: the change arrives as MODIFIED with the new labels",
              len(modified) == 1 and
              modified[0]["object"]["metadata"]["labels"].get("touched") == "yes", modified)
        _, _, lst = api.json("GET", pods, LIST_JSON)
        rv = lst["metadata"]["resourceVersion"]
        code, _, events = watch_json(
            api, f"{pods}?resourceVersion={rv}", OBJ,
            lambda: api.json("DELETE", f"{pods}/p0?gracePeriodSeconds=0"))
        kinds = {(e["type"], e["object"].get("kind")) for e in events}
        check("watch pods from the list's resourceVersion: the deletion as PartialObjectMetadata",
              code == 200 and ("DELETED", "PartialObjectMetadata") in kinds and
              all(k == "PartialObjectMetadata" for _, k in kinds), events)
        code, ct, st = api.json("GET", cms + "?watch=1&timeoutSeconds=1", LIST_JSON)
        check("a watch as=PartialObjectMetadataList is 406", code == 406, (code, st))

        # --- watch (protobuf only): frames whose objects are PartialObjectMetadata envelopes
        code, ct, raw = api.call(
            "GET", mine + "&watch=1&timeoutSeconds=1",
            f"{PB};as=PartialObjectMetadata;g=meta.k8s.io;v=v1", timeout=20)
        events, exact = watch_frames(raw) if code == 200 else ([], False)
        decoded = [(t, envelope(o)[:2], object_meta(fields(envelope(o)[2])[1][0])["name"])
                   for t, o in events]
        check("protobuf watch: WatchEvents carrying PartialObjectMetadata envelopes",
              code == 200 and ct.startswith(PB) and exact and len(decoded) == 5 and
              all(d[:2] == ("ADDED", ("meta.k8s.io/v1", "PartialObjectMetadata"))
                  for d in decoded), (code, ct, decoded))

        # --- a custom resource: upstream serves PartialObjectMetadata for CRDs in protobuf too
        with open(os.path.join(FIXTURES, "crontab-crd.yaml")) as f:
            crd = yaml.safe_load(f)
        code, _, _ = api.json("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                              body=crd)
        check("CRD created", code == 201, code)
        cts = f"/apis/stable.example.com/v1/namespaces/{ns}/crontabs"
        for _ in range(50):
            code, _, _ = api.json("GET", cts)
            if code == 200:
                break
            time.sleep(0.1)
        for i in range(2):
            code, _, _ = api.json("POST", cts, body={
                "apiVersion": "stable.example.com/v1", "kind": "CronTab",
                "metadata": {"name": f"ct{i}", "labels": {"crd": "yes"}},
                "spec": {"cronSpec": "* * * * */5", "image": "img"}})
        check("custom resources created", code == 201, code)
        code, _, obj = api.json("GET", f"{cts}/ct1", OBJ_JSON)
        check_pom("get custom resource", obj, "ct1")
        check("get custom resource: spec dropped, labels kept",
              "spec" not in obj and obj["metadata"].get("labels") == {"crd": "yes"}, obj)
        code, ct, raw = api.call("GET", f"{cts}/ct1", OBJ)
        ok = code == 200 and ct == PB
        if ok:
            api_version, kind, msg = envelope(raw)
            ok = (api_version, kind) == ("meta.k8s.io/v1", "PartialObjectMetadata") and \
                object_meta(fields(msg)[1][0])["name"] == "ct1"
        check("get custom resource with the metadata client's header: protobuf", ok, (code, ct))
        code, _, lst = api.json("GET", cts, LIST_JSON)
        check("list custom resources as PartialObjectMetadataList (JSON)",
              code == 200 and lst.get("kind") == "PartialObjectMetadataList" and
              [i["metadata"]["name"] for i in lst["items"]] == ["ct0", "ct1"] and
              all("spec" not in i for i in lst["items"]), lst)
        check_pb_list("list custom resources", api, cts, ["ct0", "ct1"])
        code, ct, events = watch_json(api, cts, OBJ, seconds=1)
        check("watch custom resources: ADDED PartialObjectMetadata events",
              code == 200 and [(e["type"], e["object"]["kind"], e["object"]["metadata"]["name"])
                               for e in events] ==
              [("ADDED", "PartialObjectMetadata", "ct0"), ("ADDED", "PartialObjectMetadata", "ct1")],
              events)
        code, ct, _ = api.call("GET", cts, PB)
        check("a custom resource list in plain protobuf is still 406 (no protobuf schema)",
              code == 406, (code, ct))

        # --- normal negotiation is unchanged
        code, ct, lst = api.json("GET", cms)
        check("a plain list is a ConfigMapList with data",
              code == 200 and lst.get("kind") == "ConfigMapList" and
              lst["items"][0].get("data"), (code, lst.get("kind")))
        out = kubectl(srv, "get", "pods", "-n", ns, "-o", "name")
        check("kubectl get pods -o name", out.returncode == 0 and
              sorted(out.stdout.split()) == ["pod/p1", "pod/p2"], (out.stdout, out.stderr))
        out = kubectl(srv, "get", "configmaps", "-n", ns, "--show-labels")
        check("kubectl get (server-side Table) with labels",
              out.returncode == 0 and "cm3" in out.stdout and "touched=yes" in out.stdout,
              (out.stdout, out.stderr))
        out = kubectl(srv, "get", "crontabs", "-n", ns)
        check("kubectl get crontabs (Table)", out.returncode == 0 and "ct1" in out.stdout,
              (out.stdout, out.stderr))
finally:
    shutil.rmtree(home, ignore_errors=True)

sys.exit(check.finish())
