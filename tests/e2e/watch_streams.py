"""Many raw watch streams from one process (for test_idle_watches.py and
bench/idle_watch_memory.py): one TLS connection per watch, as client-go opens one per informer
over HTTP/1.1, non-blocking once the response headers are in."""
import concurrent.futures
import selectors
import socket
import ssl
import time

CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def open_watch(port, token, path, session=None, attempts=3):
    """Starts `GET path` (a watch URL) and returns (socket, bytes read past the headers). A
    connection reset before the answer (a loaded server's accept backlog) is retried."""
    for attempt in range(attempts):
        try:
            return _open_watch(port, token, path, session)
        except (ssl.SSLError, ConnectionError):
            if attempt + 1 == attempts:
                raise
            time.sleep(0.5)


def _open_watch(port, token, path, session):
    raw = socket.create_connection(("127.0.0.1", port), timeout=120)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s = CTX.wrap_socket(raw, server_hostname="127.0.0.1", session=session)
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
               f"Accept: application/json\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("watch closed before its headers")
        head += chunk
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status:
        raise RuntimeError(f"watch answered {status!r}")
    s.setblocking(False)
    return s, head.split(b"\r\n\r\n", 1)[1]


def open_watches(port, token, path, count, streams=None, parallel=64):
    """Opens `count` more watches (64 handshakes at a time; TLS sessions resumed, since the
    server's full handshake is not what callers measure) and appends them to `streams`."""
    streams = [] if streams is None else streams
    if count <= 0:
        return streams
    first = open_watch(port, token, path)
    streams.append(first)
    session = first[0].session
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        streams.extend(pool.map(lambda _: open_watch(port, token, path, session),
                                range(count - 1)))
    return streams


def wait_for_all(streams, marker, timeout=60):
    """Reads every stream until its bytes contain `marker`. Returns how many did; the bytes
    read are kept in the list (each entry becomes (socket, all bytes so far))."""
    sel = selectors.DefaultSelector()
    pending = {}
    for i, (s, data) in enumerate(streams):
        if marker in data:
            continue
        pending[s] = i
        sel.register(s, selectors.EVENT_READ)
    deadline = time.time() + timeout
    while pending and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            i = pending[s]
            closed = False
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        closed = True
                        break
                    streams[i] = (s, streams[i][1] + chunk)
            except (ssl.SSLWantReadError, BlockingIOError):
                pass
            if marker in streams[i][1] or closed:
                sel.unregister(s)
                del pending[s]
    sel.close()
    return sum(1 for _, data in streams if marker in data)
