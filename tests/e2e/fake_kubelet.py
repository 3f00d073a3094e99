"""A stand-in kubelet for e2e tests that have no nodes: every pod not being deleted is marked
Running and Ready through the status subresource, as a kubelet would report it, so controllers
and `kubectl rollout status` see pods become available. Pods whose first container's image
contains "never-ready" are left Pending (to test rollouts that make no progress).

usage: /usr/bin/python3 fake_kubelet.py KUBECONFIG   (runs until killed)
"""
import datetime
import sys
import time

from kubernetes import client, config


def ready_status(now):
    return {"status": {
        "phase": "Running",
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
        ],
        "podIP": "10.244.0.10",
        "startTime": now,
    }}


def is_ready(pod):
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def main():
    config.load_kube_config(sys.argv[1])
    core = client.CoreV1Api()
    while True:
        try:
            for pod in core.list_pod_for_all_namespaces().items:
                if pod.metadata.deletion_timestamp or is_ready(pod):
                    continue
                if "never-ready" in (pod.spec.containers[0].image or ""):
                    continue
                now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                try:
                    core.patch_namespaced_pod_status(pod.metadata.name, pod.metadata.namespace,
                                                     ready_status(now))
                except client.exceptions.ApiException:
                    pass  # deleted meanwhile; the next round sees the current state
        except Exception as e:  # server restarting: keep going
            print("fake_kubelet:", e, file=sys.stderr)
        time.sleep(0.05)


if __name__ == "__main__":
    main()
