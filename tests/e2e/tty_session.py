#!/usr/bin/python3
"""Drives interactive kubectl sessions through a pseudo-terminal for test_tty.sh.

`tty_session.py SCENARIO KUBECTL` runs one scenario and prints `PASS <what>` or
`FAIL <what>: <detail>` lines (test_tty.sh counts them). The terminal is ours: we set its size on
the master (the kernel then sends SIGWINCH to kubectl, which we also send ourselves, as a
terminal emulator does), type commands and read what comes back.
"""
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

RESULTS = []


def report(ok, what, detail=""):
    RESULTS.append(ok)
    print(("PASS " if ok else "FAIL ") + what + ("" if ok else ": " + detail[-int(os.environ.get("TAILN", "600")):]), flush=True)


class Terminal:
    def __init__(self, argv, rows=24, cols=80):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                # The size is there before kubectl looks: no race with its SIGWINCH handler.
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        self.output = ""
        self.mark = 0  # expect() looks at output after this point

    def resize(self, rows, cols):
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        try:
            os.kill(self.pid, signal.SIGWINCH)
        except ProcessLookupError:
            pass

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.output += data.decode("utf-8", "replace")
        return True

    def expect(self, pattern, timeout=10):
        """Waits for `pattern` after the mark; moves the mark past it. None on timeout."""
        deadline = time.time() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.output, self.mark)
            if m:
                self.mark = m.end()
                return m
            left = deadline - time.time()
            if left <= 0 or not self._read(min(left, 0.2)):
                m = rx.search(self.output, self.mark)
                if m:
                    self.mark = m.end()
                return m

    def send(self, text):
        os.write(self.fd, text.encode())

    def wait(self, timeout=15):
        """The child's exit code (None if it is still running after `timeout`)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self._read(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                while self._read(0.05):
                    if not select.select([self.fd], [], [], 0)[0]:
                        break
                return os.waitstatus_to_exitcode(status)
        return None

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)

    def tail(self):
        return self.output[-int(os.environ.get("TAILN", "400")):]


def shell_checks(t, label, rows, cols, marker):
    """The common checks in a shell on a terminal: a command runs, the size follows ours."""
    t.send("echo %s-$((6*7))\r" % marker)
    report(t.expect(r"%s-42" % marker) is not None, label + ": a typed command runs and answers",
           t.tail())
    t.send("stty size\r")
    report(t.expect(r"\b%d %d\b" % (rows, cols)) is not None,
           label + ": stty size is the client's terminal size (%d %d)" % (rows, cols), t.tail())
    t.resize(rows + 11, cols + 23)
    time.sleep(0.5)  # the resize travels on its own stream; let it land before asking
    t.send("stty size\r")
    report(t.expect(r"\b%d %d\b" % (rows + 11, cols + 23)) is not None,
           label + ": after a resize stty size follows (%d %d)" % (rows + 11, cols + 23), t.tail())


def kubectl_get(kubectl, *args):
    return subprocess.run([kubectl, "get", *args], capture_output=True, text=True)


def gone(kubectl, pod, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = kubectl_get(kubectl, "pod", pod, "-o", "name")
        if r.returncode != 0 and "NotFound" in r.stderr:
            return True
        time.sleep(0.3)
    return False


def scenario_run(kubectl, label, pod):
    overrides = json.dumps({"spec": {"nodeName": os.environ["NODE"],
                                     "terminationGracePeriodSeconds": 1}})
    t = Terminal([kubectl, "run", "-it", "--rm", pod, "--image=berth-test/web:1.0",
                  "--restart=Never", "--overrides=" + overrides, "--", "sh"], rows=31, cols=97)
    try:
        # kubectl attaches once the pod runs; the shell's first prompt was before that.
        report(t.expect(r"If you don't see a command prompt", 30) is not None,
               label + ": kubectl run -it attaches to the new pod", t.tail())
        shell_checks(t, label + " run -it", 31, 97, "hi")
        t.send("tty\r")
        report(t.expect(r"/dev/pts/\d+") is not None,
               label + ": the container's stdin is a terminal (/dev/pts/N)", t.tail())
        t.send("exit\r")
        code = t.wait(30)
        report(code == 0, label + ": exit ends kubectl run -it --rm with 0", "code=%s %s" % (code, t.tail()))
        report(re.search(r'pod "%s" deleted' % pod, t.output) is not None and gone(kubectl, pod),
               label + ": --rm deleted the pod", t.tail())
    finally:
        t.kill()


def scenario_attach(kubectl, label, pod, rounds="1"):
    # Attaches in turn: a TTY container's stdin stays open after the first detaches.
    for round_ in range(1, int(rounds) + 1):
        t = Terminal([kubectl, "attach", "-it", pod], rows=25, cols=81)
        try:
            report(t.expect(r"If you don't see a command prompt", 20) is not None,
                   "%s: kubectl attach -it (#%d) connects" % (label, round_), t.tail())
            shell_checks(t, "%s attach -it #%d" % (label, round_), 25, 81, "att%d" % round_)
        finally:
            t.kill()  # the user closes the window: kubectl goes, the container stays
        time.sleep(0.5)
        r = kubectl_get(kubectl, "pod", pod, "-o", "jsonpath={.status.phase}")
        report(r.stdout == "Running", "%s: the pod still runs after attach #%d detached" %
               (label, round_), r.stdout + r.stderr)


def scenario_exec(kubectl, label, pod):
    t = Terminal([kubectl, "exec", "-it", pod, "--", "sh"], rows=27, cols=88)
    try:
        t.send("tty\r")
        report(t.expect(r"/dev/pts/\d+", 20) is not None,
               label + ": kubectl exec -it gets a terminal (/dev/pts/N)", t.tail())
        shell_checks(t, label + " exec -it", 27, 88, "ex")
        t.send("exit 7\r")
        code = t.wait(20)
        report(code == 7, label + ": exec -it exits with the shell's code (7)", "code=%s %s" % (code, t.tail()))
    finally:
        t.kill()


def scenario_python(pod):
    from kubernetes import client, config
    from kubernetes.stream import stream
    config.load_kube_config()
    v1 = client.CoreV1Api()
    r = stream(v1.connect_get_namespaced_pod_exec, pod, "default", command=["sh"], stdin=True,
               stdout=True, stderr=True, tty=True, _preload_content=False)
    r.write_channel(4, json.dumps({"Width": 101, "Height": 37}))
    time.sleep(0.3)
    r.write_stdin("tty; stty size; exit 4\n")
    got = ""
    deadline = time.time() + 15
    while r.is_open() and time.time() < deadline:
        r.update(timeout=1)
        got += r.read_stdout()
    report(re.search(r"/dev/pts/\d+", got) is not None and "37 101" in got,
           "python exec tty=True (v4): a terminal of the requested size", got)
    report(r.returncode == 4, "python exec tty=True: exit code 4", "code=%s" % r.returncode)
    r = stream(v1.connect_get_namespaced_pod_attach, pod, "default", stdin=True, stdout=True,
               stderr=False, tty=True, _preload_content=False)
    r.write_channel(4, json.dumps({"Width": 66, "Height": 22}))
    time.sleep(0.3)
    r.write_stdin("echo py-$((40+2)); stty size\n")
    got = ""
    deadline = time.time() + 10
    while r.is_open() and time.time() < deadline and not re.search(r"22 66", got):
        r.update(timeout=1)
        got += r.read_stdout()
    r.close()
    report("py-42" in got and "22 66" in got,
           "python attach tty=True (v4): input, output and resize", got)


def main():
    scenario, args = sys.argv[1], sys.argv[2:]
    if scenario == "run":
        scenario_run(*args)
    elif scenario == "attach":
        scenario_attach(*args)
    elif scenario == "exec":
        scenario_exec(*args)
    elif scenario == "python":
        scenario_python(*args)
    sys.exit(0 if RESULTS and all(RESULTS) else 1)


if __name__ == "__main__":
    main()
