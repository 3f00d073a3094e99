"""Starts a real berth server on a free loopback port with its own data dir (for Python e2e)."""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, data_dir=None, args=()):
        self.args = list(args)  # extra `berth server` flags
        self.berth = os.environ["BERTH"]
        self.own_dir = data_dir is None
        self.dir = data_dir or tempfile.mkdtemp(prefix="berth-py.")
        self.port = free_port()
        self.proc = None

    @property
    def kubeconfig(self):
        return os.path.join(self.dir, "data", "admin.kubeconfig")

    @property
    def token(self):
        with open(os.path.join(self.dir, "data", "admin.token")) as f:
            return f.read().strip()

    def start(self):
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [self.berth, "server", "--data-dir", os.path.join(self.dir, "data"),
             "--bind-address", "127.0.0.1", "--secure-port", str(self.port),
             # no node agent: it would run containers in the root network namespace
             "--disable-agent"] + self.args,
            stdout=self.log, stderr=subprocess.STDOUT)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        for _ in range(100):
            try:
                urllib.request.urlopen(f"https://127.0.0.1:{self.port}/readyz", context=ctx,
                                       timeout=1)
                if os.path.exists(self.kubeconfig):
                    return self
            except Exception:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("berth server did not start")

    def kill(self, sig=9):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill(15)
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class Checks:
    """Counts assertions and prints the plain 'N passed, N failed' summary line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print(f"  ok   {name}")
        else:
            self.failed += 1
            print(f"  FAIL {name} {detail}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
