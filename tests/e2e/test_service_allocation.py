#!/usr/bin/python3
"""Service ClusterIP and NodePort allocation against the real server: 500 Services created in
parallel get distinct addresses, concurrent requests for one specific IP or port have exactly one
winner, out-of-range values are rejected with upstream's messages, deletes free what they held,
and reservations survive a kill -9 restart."""
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))
from e2e_server import Checks, Server  # noqa: E402

from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

check = Checks()


def svc(name, type_="ClusterIP", ip=None, node_port=None):
    port = client.V1ServicePort(port=80, protocol="TCP", node_port=node_port)
    return client.V1Service(metadata=client.V1ObjectMeta(name=name),
                            spec=client.V1ServiceSpec(type=type_, cluster_ip=ip, ports=[port],
                                                      selector={"app": name}))


def create(api, body):
    """(service, None) or (None, (status code, message))."""
    try:
        return api.create_namespaced_service("default", body), None
    except ApiException as e:
        try:
            msg = json.loads(e.body).get("message", "")
        except Exception:
            msg = e.body
        return None, (e.status, msg)


def race(apis, bodies):
    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(lambda ib: create(apis[ib[0] % len(apis)], ib[1]),
                             enumerate(bodies)))


with Server() as srv:
    config.load_kube_config(config_file=srv.kubeconfig)
    apis = [client.CoreV1Api(client.ApiClient()) for _ in range(16)]
    v1 = apis[0]

    # 500 Services in parallel: every one gets its own ClusterIP, NodePorts never repeat.
    bodies = [svc(f"s{i}", "NodePort" if i % 2 else "ClusterIP") for i in range(500)]
    results = race(apis, bodies)
    made = [s for s, err in results if s is not None]
    errors = [err for s, err in results if err is not None]
    check("500 parallel creates all succeed", len(made) == 500, str(errors[:3]))
    ips = [s.spec.cluster_ip for s in made]
    ports = [p.node_port for s in made for p in s.spec.ports if p.node_port]
    check("no ClusterIP handed out twice", len(set(ips)) == len(ips) == len(made),
          f"{len(ips) - len(set(ips))} duplicates")
    check("no NodePort handed out twice", len(set(ports)) == len(ports) == 250,
          f"{len(ports)} ports, {len(ports) - len(set(ports))} duplicates")
    check("every ClusterIP is in 10.96.0.0/12",
          all(ip.startswith("10.") and 96 <= int(ip.split(".")[1]) <= 111 for ip in ips))
    check("every NodePort is in 30000-32767", all(30000 <= p <= 32767 for p in ports))
    listed = v1.list_namespaced_service("default").items
    listed_ips = [s.spec.cluster_ip for s in listed]
    check("the list agrees: no duplicate ClusterIP among all Services",
          len(set(listed_ips)) == len(listed_ips))

    # Twenty clients ask for the same IP, twenty for the same NodePort: exactly one wins each.
    # (10.96.0.50 is in the low range random picks avoid; the port is one nobody holds yet.)
    free_port = next(p for p in range(30000, 32768) if p not in set(ports))
    for what, bodies in (
            ("ClusterIP", [svc(f"ip-race-{i}", ip="10.96.0.50") for i in range(20)]),
            ("NodePort", [svc(f"port-race-{i}", "NodePort", node_port=free_port) for i in range(20)])):
        results = race(apis, bodies)
        wins = [s for s, err in results if s is not None]
        losses = [err for s, err in results if err is not None]
        check(f"same {what} from 20 clients: exactly one wins", len(wins) == 1,
              f"{len(wins)} won")
        want = "provided IP is already allocated" if what == "ClusterIP" else \
            "provided port is already allocated"
        check(f"the other 19 get 422 '{want}'",
              len(losses) == 19 and all(c == 422 and want in m for c, m in losses),
              str(losses[:2]))

    # Out of range, with upstream's messages.
    _, err = create(v1, svc("bad-ip", ip="192.168.1.1"))
    check("clusterIP outside the range → 422 with upstream's message",
          err is not None and err[0] == 422 and
          'spec.clusterIPs: Invalid value: ["192.168.1.1"]: failed to allocate IP '
          '192.168.1.1: the provided IP (192.168.1.1) is not in the valid range. The range of '
          'valid IPs is 10.96.0.0/12' in err[1], str(err))
    _, err = create(v1, svc("bad-port", "NodePort", node_port=20000))
    check("nodePort outside the range → 422 with upstream's message",
          err is not None and err[0] == 422 and
          "spec.ports[0].nodePort: Invalid value: 20000: provided port is not in the valid "
          "range. The range of valid ports is 30000-32767" in err[1], str(err))
    _, err = create(v1, svc("kube-clash", ip="10.96.0.1"))
    check("the kubernetes Service's 10.96.0.1 is taken",
          err is not None and err[0] == 422 and "already allocated" in err[1], str(err))

    # Deleting frees the addresses; a failed create held nothing.
    freed = next(s for s in made if s.spec.ports[0].node_port)
    v1.delete_namespaced_service(freed.metadata.name, "default")
    again, err = create(v1, svc("reuse", "NodePort", ip=freed.spec.cluster_ip,
                                node_port=freed.spec.ports[0].node_port))
    check("a deleted Service's IP and port can be asked for again", again is not None, str(err))
    ok, err = create(v1, svc("after-bad", ip="10.96.0.60"))
    check("an IP a failed create never got is free", ok is not None, str(err))

    # kill -9 and restart: the reservations are in the store, not in memory.
    srv.kill(9)
    srv.start()
    config.load_kube_config(config_file=srv.kubeconfig)
    v1 = client.CoreV1Api(client.ApiClient())
    _, err = create(v1, svc("after-restart", ip="10.96.0.60"))
    check("after kill -9 and restart a held IP is still held",
          err is not None and err[0] == 422 and "already allocated" in err[1], str(err))
    _, err = create(v1, svc("after-restart-port", "NodePort", node_port=free_port))
    check("after restart a held NodePort is still held",
          err is not None and err[0] == 422 and "already allocated" in err[1], str(err))
    s, err = create(v1, svc("after-restart-new", "NodePort"))
    check("after restart new Services still get addresses", s is not None, str(err))

sys.exit(check.finish())
