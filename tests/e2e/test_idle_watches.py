#!/usr/bin/python3
"""Idle watches stay live: 300 concurrent ConfigMap watches, each left idle long enough for the
server to give its thread's stack pages back, all receive an ADDED event for a ConfigMap written
afterwards, and after another idle spell all receive its MODIFIED event too."""
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from e2e_server import Checks, Server  # noqa: E402
from watch_streams import open_watches, wait_for_all  # noqa: E402

WATCHES = 300
IDLE = 2.5  # seconds; a watch gives its memory back after one second with nothing to send

check = Checks()
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, WATCHES + 256)), hard))


def kubectl_json(srv, method, path, body):
    out = subprocess.run(
        ["curl", "-sk", "-X", method, "-H", f"Authorization: Bearer {srv.token}",
         "-H", "Content-Type: application/json", "-d", json.dumps(body),
         f"https://127.0.0.1:{srv.port}{path}"],
        capture_output=True, text=True, timeout=30)
    return json.loads(out.stdout)


with Server() as srv:
    base = "/api/v1/namespaces/default/configmaps"
    streams = open_watches(srv.port, srv.token, base + "?watch=true&resourceVersion=1", WATCHES)
    check("all watches open", len(streams) == WATCHES, str(len(streams)))
    time.sleep(IDLE)
    created = kubectl_json(srv, "POST", base, {"apiVersion": "v1", "kind": "ConfigMap",
                                               "metadata": {"name": "idle-probe"},
                                               "data": {"round": "1"}})
    check("probe created", created.get("metadata", {}).get("name") == "idle-probe", created)
    got = wait_for_all(streams, b'"name":"idle-probe"')
    check("every idle watch received the probe", got == WATCHES, f"{got} of {WATCHES}")
    check("as ADDED", all(b'"type":"ADDED"' in d for _, d in streams))

    time.sleep(IDLE)
    created["data"] = {"round": "2"}
    updated = kubectl_json(srv, "PUT", base + "/idle-probe", created)
    check("probe updated", updated.get("data") == {"round": "2"}, updated)
    got = wait_for_all(streams, b'"round":"2"')
    check("every watch received the update after idling again", got == WATCHES,
          f"{got} of {WATCHES}")
    check("as MODIFIED", all(b'"type":"MODIFIED"' in d for _, d in streams))
    for s, _ in streams:
        s.close()

sys.exit(check.finish())
