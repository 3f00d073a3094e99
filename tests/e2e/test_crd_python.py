#!/usr/bin/python3
"""A CustomResourceDefinition and its objects through the official Python client's dynamic
client (kubernetes.dynamic.DynamicClient, python3-kubernetes 22): discovery of the new kind,
create/get/list/patch/replace/server-side apply, the status and scale subresources, watch,
validation errors, the second version, and the kind disappearing with its CRD."""
import json
import os
import sys
import threading
import time

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from e2e_server import Checks, Server  # noqa: E402

from kubernetes import config, dynamic  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402
from kubernetes.dynamic.exceptions import ResourceNotFoundError  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
CRD = "crontabs.stable.example.com"
check = Checks()


def error_of(fn):
    try:
        fn()
    except ApiException as e:
        return e
    return None


with Server() as srv:
    api_client = config.new_client_from_config(config_file=srv.kubeconfig)
    dyn = dynamic.DynamicClient(api_client, cache_file=os.path.join(srv.dir, "discovery.json"))
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1",
                             kind="CustomResourceDefinition")
    with open(os.path.join(FIXTURES, "crontab-crd.yaml")) as f:
        crd_body = yaml.safe_load(f)
    created = crds.create(body=crd_body)
    check("create the CRD", created.metadata.name == CRD, created)
    established = False
    for _ in range(50):
        conds = crds.get(name=CRD).status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conds):
            established = True
            break
        time.sleep(0.1)
    check("CRD becomes Established", established)

    crontabs = dyn.resources.get(api_version="stable.example.com/v1", kind="CronTab")
    check("discovery finds the kind", crontabs.namespaced and crontabs.name == "crontabs",
          crontabs)
    check("discovery lists its subresources",
          {"status", "scale"} <= set(crontabs.subresources.keys()), crontabs.subresources)

    events = []

    def watcher():
        for ev in crontabs.watch(namespace="default", timeout=5):
            events.append((ev["type"], ev["object"].metadata.name))
            if ev["type"] == "MODIFIED":
                break

    t = threading.Thread(target=watcher)
    t.start()
    time.sleep(0.5)

    body = {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": "py-cron", "labels": {"app": "py"}},
            "spec": {"cronSpec": "*/1 * * * *", "image": "img", "bogus": 1}}
    obj = crontabs.create(body=body, namespace="default")
    check("create a custom object", obj.metadata.uid is not None)
    check("defaults applied", obj.spec.replicas == 1 and obj.spec.mode == "Slow", obj.spec)
    check("unknown field pruned", "bogus" not in obj.to_dict()["spec"], obj.spec)
    check("generation starts at 1", obj.metadata.generation == 1)

    got = crontabs.get(name="py-cron", namespace="default")
    check("get", got.spec.cronSpec == "*/1 * * * *")
    listed = crontabs.get(namespace="default", label_selector="app=py")
    check("list with a label selector", [i.metadata.name for i in listed.items] == ["py-cron"])
    check("list kind", listed.kind == "CronTabList", listed.kind)
    none = crontabs.get(namespace="default", label_selector="app=nope")
    check("selector filters", none.items == [])

    patched = crontabs.patch(name="py-cron", namespace="default",
                             body={"spec": {"replicas": 3}},
                             content_type="application/merge-patch+json")
    check("merge patch", patched.spec.replicas == 3 and patched.metadata.generation == 2)
    patched = crontabs.patch(name="py-cron", namespace="default",
                             body=[{"op": "replace", "path": "/spec/image", "value": "img2"}],
                             content_type="application/json-patch+json")
    check("json patch", patched.spec.image == "img2")
    e = error_of(lambda: crontabs.patch(name="py-cron", namespace="default",
                                        body={"spec": {"replicas": 4}}))
    check("strategic merge patch → 415", e is not None and e.status == 415, e)

    t.join(10)
    check("watch saw ADDED then MODIFIED",
          events[:2] == [("ADDED", "py-cron"), ("MODIFIED", "py-cron")], events)

    cur = crontabs.get(name="py-cron", namespace="default").to_dict()
    cur["spec"]["image"] = "img3"
    replaced = crontabs.replace(body=cur, namespace="default")
    check("replace", replaced.spec.image == "img3")
    cur["spec"]["image"] = "stale"
    e = error_of(lambda: crontabs.replace(body=cur, namespace="default"))
    check("replace with a stale resourceVersion → 409", e is not None and e.status == 409, e)

    # python3-kubernetes 22's REST layer refuses a dict body for apply-patch+yaml: send it
    # serialized (JSON is YAML).
    applied = crontabs.server_side_apply(
        body=json.dumps({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
                         "metadata": {"name": "ssa-cron"},
                         "spec": {"cronSpec": "* * * * *", "replicas": 2}}),
        name="ssa-cron", namespace="default", field_manager="py-apply")
    check("server-side apply creates", applied.spec.replicas == 2)
    managers = [m.manager for m in applied.metadata.managedFields]
    check("apply recorded its manager", "py-apply" in managers, managers)

    e = error_of(lambda: crontabs.create(namespace="default", body={
        "apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "bad"},
        "spec": {"replicas": 50}}))
    check("invalid object → 422", e is not None and e.status == 422, e)
    if e is not None:
        causes = {c["field"]: c["message"] for c in json.loads(e.body)["details"]["causes"]}
        check("422 names the missing field", causes.get("spec.cronSpec") == "Required value",
              causes)
        check("422 names the bound",
              "should be less than or equal to 10" in causes.get("spec.replicas", ""), causes)

    status = crontabs.subresources["status"]
    st = status.patch(name="py-cron", namespace="default",
                      body={"status": {"replicas": 2, "selector": "app=py"},
                            "spec": {"replicas": 9}},
                      content_type="application/merge-patch+json")
    check("status subresource writes status only",
          st.status.replicas == 2 and st.spec.replicas == 3, st)
    scale = crontabs.subresources["scale"]
    sc = scale.get(name="py-cron", namespace="default")
    check("scale reads the CRD's paths",
          sc.kind == "Scale" and sc.spec.replicas == 3 and sc.status.selector == "app=py", sc)
    scale.patch(name="py-cron", namespace="default", body={"spec": {"replicas": 6}},
                content_type="application/merge-patch+json")
    check("scale writes spec.replicas",
          crontabs.get(name="py-cron", namespace="default").spec.replicas == 6)

    beta = dyn.resources.get(api_version="stable.example.com/v1beta1", kind="CronTab")
    b = beta.get(name="py-cron", namespace="default")
    check("the other version serves the same object",
          b.apiVersion == "stable.example.com/v1beta1" and b.spec.replicas == 6, b)

    crontabs.delete(name="ssa-cron", namespace="default")
    check("delete", [i.metadata.name for i in crontabs.get(namespace="default").items]
          == ["py-cron"])

    crds.delete(name=CRD)
    gone = False
    for _ in range(100):
        try:
            crds.get(name=CRD)
        except ApiException as ex:
            gone = ex.status == 404
            break
        time.sleep(0.1)
    check("the CRD is deleted (after its objects)", gone)
    dyn.resources.invalidate_cache()
    try:
        dyn.resources.get(api_version="stable.example.com/v1", kind="CronTab")
        check("the kind is gone from discovery", False)
    except ResourceNotFoundError:
        check("the kind is gone from discovery", True)

sys.exit(check.finish())
