#!/usr/bin/python3
"""Connections: 3,000 idle TCP connections that never start TLS do not stop the real kubectl,
cost the server no thread each, and are closed once the handshake deadline passes. An idle
keep-alive connection is closed after --idle-connection-timeout, a quiet watch is not."""
import os
import resource
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from e2e_server import Checks, Server  # noqa: E402

IDLE = 3000
DEADLINE = 8  # --tls-handshake-timeout, seconds

check = Checks()
home = tempfile.mkdtemp(prefix="berth-conn-home.")


def kubectl(srv, *args):
    env = dict(os.environ, HOME=home, KUBECONFIG=srv.kubeconfig)
    start = time.monotonic()
    out = subprocess.run(["/usr/bin/kubectl", *args], env=env, capture_output=True, text=True,
                         timeout=60)
    return out, time.monotonic() - start


def status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return -1


def threads_of(pid):
    return status_field(pid, "Threads")


def still_open(sockets):
    """Sockets the server has not closed: nothing to read (no EOF) right now."""
    poller = select.poll()
    for s in sockets:
        poller.register(s, select.POLLIN)
    readable = {fd for fd, _ in poller.poll(0)}
    return [s for s in sockets if s.fileno() not in readable]


soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = IDLE + 500
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, want) if hard > 0 else want, hard))

sockets = []
try:
    with Server(args=["--tls-handshake-timeout", str(DEADLINE)]) as srv:
        out, _ = kubectl(srv, "get", "ns")  # warm kubectl's discovery cache
        check("kubectl works before", out.returncode == 0, out.stderr)
        threads_before = threads_of(srv.proc.pid)
        rss_before = status_field(srv.proc.pid, "VmRSS")

        opened_at = time.monotonic()
        for i in range(IDLE):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            sockets.append(s)
        check(f"{IDLE} idle connections opened", len(sockets) == IDLE)

        out, took = kubectl(srv, "get", "ns")
        check("kubectl get ns succeeds while they are held",
              out.returncode == 0 and "default" in out.stdout, out.stderr)
        check(f"... within 5 s (took {took:.2f} s)", took < 5)
        open_now = len(still_open(sockets))
        if time.monotonic() - opened_at < DEADLINE - 1:
            check(f"all idle connections still open before the deadline ({open_now})",
                  open_now == IDLE)
        threads = threads_of(srv.proc.pid)
        rss = status_field(srv.proc.pid, "VmRSS")
        print(f"  info server RSS {rss_before} kB -> {rss} kB with {IDLE} idle connections "
              f"({(rss - rss_before) * 1024 // IDLE} bytes each)")
        check(f"server threads {threads_before} -> {threads}: no thread per idle connection",
              threads <= threads_before + 16, f"before={threads_before} after={threads}")

        # After the deadline every one of them is closed by the server (EOF on read).
        wait_until = opened_at + DEADLINE + 10
        remaining = sockets
        while remaining and time.monotonic() < wait_until:
            time.sleep(0.25)
            remaining = still_open(remaining)
        closed_after = time.monotonic() - opened_at
        check(f"all closed after the {DEADLINE} s handshake deadline "
              f"({IDLE - len(remaining)} closed, {closed_after:.1f} s)", not remaining)
        check("none closed much before the deadline", closed_after >= DEADLINE - 1)

        out, _ = kubectl(srv, "get", "ns")
        check("kubectl works after", out.returncode == 0, out.stderr)

    with Server(args=["--idle-connection-timeout", "1"]) as srv:
        env = dict(os.environ, HOME=home, KUBECONFIG=srv.kubeconfig)
        watch = subprocess.Popen(["/usr/bin/kubectl", "get", "configmaps", "-w",
                                  "--output-watch-events"],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        try:
            time.sleep(3)  # three idle timeouts without an event on the watch
            out, _ = kubectl(srv, "create", "configmap", "late", "--from-literal=a=b")
            check("create after the quiet period", out.returncode == 0, out.stderr)
            seen = ""
            deadline = time.monotonic() + 10
            while "late" not in seen and time.monotonic() < deadline:
                if select.select([watch.stdout], [], [], 0.5)[0]:
                    seen += os.read(watch.stdout.fileno(), 65536).decode()
            check("a watch quiet for 3x the idle timeout still delivers the event",
                  "ADDED" in seen and "late" in seen, seen)
        finally:
            os.killpg(watch.pid, 15)
            watch.wait(10)

        # A keep-alive connection with no request in flight is closed after the idle timeout.
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.port), timeout=10))
        conn.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = conn.recv(4096)
        idle_from = time.monotonic()
        check("keep-alive request answered", reply.startswith(b"HTTP/1.1 200"), reply[:80])
        rest = conn.recv(4096)  # blocks until the server closes the connection
        idle = time.monotonic() - idle_from
        check(f"idle keep-alive closed after the idle timeout ({idle:.1f} s)",
              rest == b"" and 0.9 <= idle < 4, f"rest={rest!r} idle={idle:.1f}")
        conn.close()
finally:
    for s in sockets:
        s.close()
    shutil.rmtree(home, ignore_errors=True)

sys.exit(check.finish())
