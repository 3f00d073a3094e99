#!/usr/bin/python3
"""Objects come back as Go serializes them: the Python client's generated models require the
fields Go writes even when zero (DaemonSetStatus.numberReady, ReplicaSetStatus.replicas, ...), so
reading each kind back typed must not raise. Protobuf responses are read with a small wire reader
(no protobuf library), and YAML responses parse."""
import json
import os
import ssl
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from e2e_server import Checks, Server  # noqa: E402
from protobuf_wire import fields  # noqa: E402

from kubernetes import client, config  # noqa: E402

check = Checks()

TEMPLATE = {"metadata": {"labels": {"app": "w"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
SELECTOR = {"matchLabels": {"app": "w"}}


def body(kind, api_version, name, spec=None):
    o = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
    if spec is not None:
        o["spec"] = spec
    return o


# Stored objects' zero-valued fields are checked as written by clients: no workload controller
# may fill in a status of its own.
with Server(args=["--controllers", "*,-daemonset,-statefulset,-deployment,-replicaset,-job"]) as srv:
    config.load_kube_config(config_file=srv.kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()
    batch = client.BatchV1Api()
    policy = client.PolicyV1Api()
    hpa1 = client.AutoscalingV1Api()  # python3-kubernetes 22 predates autoscaling/v2
    ns = "default"

    apps.create_namespaced_daemon_set(ns, body("DaemonSet", "apps/v1", "ds", {
        "selector": SELECTOR, "template": TEMPLATE}))
    ds = apps.read_namespaced_daemon_set("ds", ns)
    check("DaemonSet reads back typed with numberReady 0",
          ds.status.number_ready == 0 and ds.status.desired_number_scheduled is not None, ds.status)
    check("DaemonSet template keeps creationTimestamp null",
          ds.spec.template.metadata.creation_timestamp is None)

    apps.create_namespaced_replica_set(ns, body("ReplicaSet", "apps/v1", "rs", {
        "replicas": 0, "selector": SELECTOR, "template": TEMPLATE}))
    rs = apps.read_namespaced_replica_set("rs", ns)
    check("ReplicaSet status.replicas is 0", rs.status.replicas == 0, rs.status)

    core.create_namespaced_replication_controller(ns, body(
        "ReplicationController", "v1", "rc",
        {"replicas": 0, "selector": {"app": "w"}, "template": TEMPLATE}))
    rc = core.read_namespaced_replication_controller("rc", ns)
    check("ReplicationController status.replicas is 0", rc.status.replicas == 0, rc.status)

    apps.create_namespaced_stateful_set(ns, body("StatefulSet", "apps/v1", "sts", {
        "replicas": 0, "serviceName": "sts", "selector": SELECTOR, "template": TEMPLATE}))
    sts = apps.read_namespaced_stateful_set("sts", ns)
    check("StatefulSet status replicas and availableReplicas are 0",
          sts.status.replicas == 0 and sts.status.available_replicas == 0, sts.status)

    apps.create_namespaced_deployment(ns, body("Deployment", "apps/v1", "dep", {
        "replicas": 0, "selector": SELECTOR, "template": TEMPLATE}))
    check("Deployment reads back typed",
          apps.read_namespaced_deployment("dep", ns).spec.replicas == 0)

    batch.create_namespaced_job(ns, body("Job", "batch/v1", "job", {
        "suspend": True, "template": {"spec": {"restartPolicy": "Never",
                                               "containers": TEMPLATE["spec"]["containers"]}}}))
    check("Job reads back typed", batch.read_namespaced_job("job", ns).spec.suspend is True)
    batch.create_namespaced_cron_job(ns, body("CronJob", "batch/v1", "cj", {
        "schedule": "*/5 * * * *", "suspend": True, "jobTemplate": {"spec": {"template": {
            "spec": {"restartPolicy": "Never", "containers": TEMPLATE["spec"]["containers"]}}}}}))
    check("CronJob reads back typed", batch.read_namespaced_cron_job("cj", ns).spec.suspend)

    hpa1.create_namespaced_horizontal_pod_autoscaler(ns, body(
        "HorizontalPodAutoscaler", "autoscaling/v1", "hpa",
        {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "dep"},
         "maxReplicas": 3}))
    h1 = hpa1.read_namespaced_horizontal_pod_autoscaler("hpa", ns)
    check("HPA (v1) status currentReplicas and desiredReplicas are 0",
          h1.status.current_replicas == 0 and h1.status.desired_replicas == 0, h1.status)
    policy.create_namespaced_pod_disruption_budget(ns, body(
        "PodDisruptionBudget", "policy/v1", "pdb", {"minAvailable": 1, "selector": SELECTOR}))
    pdb = policy.read_namespaced_pod_disruption_budget("pdb", ns)
    check("PodDisruptionBudget status counts are 0",
          pdb.status.disruptions_allowed == 0 and pdb.status.expected_pods == 0, pdb.status)

    core.create_namespaced_service(ns, body("Service", "v1", "svc", {
        "selector": {"app": "w"}, "ports": [{"port": 80}]}))
    svc = core.read_namespaced_service("svc", ns)
    check("Service reads back typed with status.loadBalancer {}",
          svc.status.load_balancer is not None and svc.spec.ports[0].target_port == 80)
    core.create_namespace(body("Namespace", "v1", "wire"))
    check("Namespace reads back typed", core.read_namespace("wire").metadata.name == "wire")
    core.create_node(body("Node", "v1", "wire-node"))
    check("Node reads back typed", core.read_node("wire-node").metadata.name == "wire-node")
    listed = apps.list_namespaced_daemon_set(ns)
    check("a typed list of DaemonSets", [d.status.number_ready for d in listed.items] == [0])

    # The same objects over the wire in other media types.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    def get(path, accept):
        req = urllib.request.Request(f"https://127.0.0.1:{srv.port}{path}", headers={
            "Authorization": f"Bearer {srv.token}", "Accept": accept})
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.headers["Content-Type"], r.read()

    raw = get("/apis/apps/v1/namespaces/default/daemonsets/ds", "application/json")[1]
    check("JSON body ends with a newline", raw.endswith(b"\n"))
    status = json.loads(raw)["status"]
    check("DaemonSet status as Go writes it", all(status.get(k) == 0 for k in (
        "currentNumberScheduled", "desiredNumberScheduled", "numberMisscheduled",
        "numberReady")), status)

    ct, pb = get("/apis/apps/v1/namespaces/default/daemonsets/ds",
                 "application/vnd.kubernetes.protobuf, application/json")
    check("protobuf Content-Type", ct == "application/vnd.kubernetes.protobuf", ct)
    check("protobuf envelope magic", pb[:4] == b"k8s\x00", pb[:8])
    unknown = fields(pb[4:])
    type_meta = fields(unknown[1][0])
    check("envelope typeMeta", (type_meta[1][0], type_meta[2][0]) == (b"apps/v1", b"DaemonSet"),
          type_meta)
    ds_msg = fields(unknown[2][0])
    meta = fields(ds_msg[1][0])
    check("DaemonSet metadata.name over protobuf", meta[1][0] == b"ds", meta)
    ds_status = fields(ds_msg[3][0])
    check("DaemonSetStatus fields 1-4 present with value 0",
          all(ds_status.get(n) == [0] for n in (1, 2, 3, 4)), ds_status)

    ct, pl = get("/api/v1/namespaces/default/services", "application/vnd.kubernetes.protobuf")
    items = fields(fields(pl[4:])[2][0]).get(2, [])
    names = [fields(fields(i)[1][0])[1][0] for i in items]
    check("a protobuf list", ct.startswith("application/vnd.kubernetes.protobuf") and
          b"svc" in names, names)

    hpa2 = json.loads(get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/hpa",
                          "application/json")[1])
    check("HPA (v2) status.desiredReplicas is 0", hpa2["status"].get("desiredReplicas") == 0,
          hpa2["status"])

    # A client that takes only protobuf gets upstream's length-delimited watch frames.
    ct, frames = get("/api/v1/namespaces/default/services?watch=1&timeoutSeconds=1",
                     "application/vnd.kubernetes.protobuf;stream=watch")
    events, i = [], 0
    while i + 4 <= len(frames):
        n = int.from_bytes(frames[i:i + 4], "big")
        env = frames[i + 4:i + 4 + n]
        i += 4 + n
        ev = fields(fields(env[4:])[2][0])  # runtime.Unknown.raw: a meta.v1.WatchEvent
        obj_env = fields(ev[2][0])[1][0]  # RawExtension.raw: the object's own envelope
        obj = fields(fields(obj_env[4:])[2][0])
        events.append((ev[1][0], fields(obj[1][0])[1][0]))
    check("protobuf watch frames", ct.startswith("application/vnd.kubernetes.protobuf") and
          i == len(frames) and (b"ADDED", b"svc") in events, (ct, events))

    ct, y = get("/api/v1/namespaces/default/services/svc", "application/yaml")
    check("YAML when asked", ct == "application/yaml" and b"\nkind: Service\n" in y, y[:200])

sys.exit(check.finish())
