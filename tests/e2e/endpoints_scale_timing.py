"""Helper of test_endpoints.sh: scales a Deployment through the API (python3-kubernetes) and
measures, polling every 10 ms in-process, when the Deployment's pods are Ready and when the
Service's EndpointSlices show exactly that many ready endpoints. Prints
`pods_ms slices_ms` (milliseconds after the scale request), or exits 1 after 20 s."""
import sys
import time

from kubernetes import client, config


def main():
    deploy, service, replicas = sys.argv[1], sys.argv[2], int(sys.argv[3])
    config.load_kube_config()
    core, apps, disc = client.CoreV1Api(), client.AppsV1Api(), client.DiscoveryV1Api()
    selector = ",".join(f"{k}={v}" for k, v in
                        apps.read_namespaced_deployment(deploy, "default").spec.selector.match_labels.items())
    slices_selector = (f"kubernetes.io/service-name={service},"
                       "endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io")

    def ready_pods():
        n = 0
        for p in core.list_namespaced_pod("default", label_selector=selector).items:
            if p.metadata.deletion_timestamp:
                continue
            if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []):
                n += 1
        return n

    def ready_endpoints():
        return sum(1 for s in disc.list_namespaced_endpoint_slice(
            "default", label_selector=slices_selector).items
            for e in s.endpoints or [] if e.conditions.ready)

    t0 = time.monotonic()
    apps.patch_namespaced_deployment_scale(deploy, "default", {"spec": {"replicas": replicas}})
    pods_ms = slices_ms = None
    while time.monotonic() - t0 < 20:
        now_ms = int((time.monotonic() - t0) * 1000)
        if pods_ms is None and ready_pods() == replicas:
            pods_ms = now_ms
        if slices_ms is None and ready_endpoints() == replicas:
            slices_ms = now_ms
        if pods_ms is not None and slices_ms is not None:
            print(pods_ms, slices_ms)
            return 0
        time.sleep(0.01)
    print(pods_ms, slices_ms)
    return 1


if __name__ == "__main__":
    sys.exit(main())
