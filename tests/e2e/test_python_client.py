#!/usr/bin/python3
"""The official Python client (python3-kubernetes 22) lists, creates, patches and watches
through a real berth server."""
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from e2e_server import Checks, Server  # noqa: E402

from kubernetes import client, config, watch  # noqa: E402

check = Checks()


with Server() as srv:
    config.load_kube_config(config_file=srv.kubeconfig)
    v1 = client.CoreV1Api()
    apps = client.AppsV1Api()

    names = [n.metadata.name for n in v1.list_namespace().items]
    check("list namespaces", {"default", "kube-system"} <= set(names), names)

    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py", labels={"a": "b"}),
                            data={"k": "v"})
    created = v1.create_namespaced_config_map("default", cm)
    check("create configmap", created.metadata.uid and created.data == {"k": "v"})

    events = []
    stop = threading.Event()

    def watcher(rv):
        w = watch.Watch()
        for ev in w.stream(v1.list_namespaced_config_map, "default", resource_version=rv,
                           timeout_seconds=5):
            events.append((ev["type"], ev["object"].metadata.name, ev["object"].data))
            if ev["type"] == "MODIFIED":
                w.stop()
                break

    listed = v1.list_namespaced_config_map("default", label_selector="a=b")
    check("list with label selector", [i.metadata.name for i in listed.items] == ["py"])
    t = threading.Thread(target=watcher, args=(listed.metadata.resource_version,))
    t.start()

    patched = v1.patch_namespaced_config_map("py", "default", {"data": {"k": "v2"}})
    check("strategic patch", patched.data == {"k": "v2"}, patched.data)
    t.join(10)
    check("watch sees the patch", ("MODIFIED", "py", {"k": "v2"}) in events, events)

    patched = v1.patch_namespaced_config_map(
        "py", "default", [{"op": "add", "path": "/data/j", "value": "x"}])
    check("json patch", patched.data == {"k": "v2", "j": "x"}, patched.data)

    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="pyweb"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "pyweb"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "pyweb"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="x:1")]))))
    d = apps.create_namespaced_deployment("default", dep)
    check("create deployment defaults strategy",
          d.spec.strategy.type == "RollingUpdate" and d.spec.revision_history_limit == 10)
    s = apps.patch_namespaced_deployment_scale("pyweb", "default", {"spec": {"replicas": 3}})
    check("scale subresource", s.spec.replicas == 3)

    try:
        v1.read_namespaced_config_map("missing", "default")
        check("404 raises ApiException", False)
    except client.ApiException as e:
        check("404 raises ApiException", e.status == 404 and "NotFound" in e.body)

    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="pypod", labels={"batch": "x"}),
                       spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="x:1")]))
    v1.create_namespaced_pod("default", pod)
    st = v1.patch_namespaced_pod_status("pypod", "default", {"status": {"phase": "Running"}})
    check("status subresource patch", st.status.phase == "Running", st.status.phase)
    ignored = v1.patch_namespaced_pod("pypod", "default", {"status": {"phase": "Failed"}})
    check("main resource ignores status changes", ignored.status.phase == "Running",
          ignored.status.phase)
    for i in range(3):
        v1.create_namespaced_config_map("default", client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"bulk{i}", labels={"bulk": "yes"})))
    v1.delete_collection_namespaced_config_map("default", label_selector="bulk=yes")
    left = [i.metadata.name for i in
            v1.list_namespaced_config_map("default", label_selector="bulk=yes").items]
    check("deletecollection by label", left == [], left)

    v1.delete_namespaced_config_map("py", "default")
    gone = [i.metadata.name for i in v1.list_namespaced_config_map("default").items]
    check("delete", "py" not in gone, gone)

sys.exit(check.finish())
