#!/usr/bin/python3
"""An HTTPS server on 127.0.0.1 that speaks HTTP/2 only (python3-h2), for probe_http_test.

Usage: h2_server.py CERT KEY. Prints its port on stdout, then serves until killed. ALPN offers
"h2" alone: a client that negotiates h2 gets the answers below; a client that does not is
answered in HTTP/1.1 with 500 "not HTTP/2", so a test that expects 200 fails unless h2 was used.
  /ok        200, body: the request's header block as JSON (pseudo-headers included)
  /fail      503
  /moved     302 to /ok
  /elsewhere 302 to http://example.invalid/x
  /slow      200 after 2 s
  /big       200 with 20000 bytes
  /reset     the stream reset with PROTOCOL_ERROR
"""
import json
import socket
import ssl
import sys
import threading
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions


def answer(path, headers):
    if path == "/ok":
        return 200, [], json.dumps(headers).encode()
    if path == "/fail":
        return 503, [], b"down"
    if path == "/moved":
        return 302, [("location", "/ok")], b""
    if path == "/elsewhere":
        return 302, [("location", "http://example.invalid/x")], b"see other host"
    if path == "/slow":
        time.sleep(2)
        return 200, [], b"late"
    if path == "/big":
        return 200, [], b"x" * 20000
    return 404, [], b"no"


def respond(conn, stream, headers):
    fields = dict(headers)
    if fields.get(":path") == "/reset":
        conn.reset_stream(stream, error_code=h2.errors.ErrorCodes.PROTOCOL_ERROR)
        return
    status, extra, body = answer(fields.get(":path"), headers)
    conn.send_headers(stream, [(":status", str(status)), ("content-length", str(len(body)))] +
                      extra)
    size = conn.max_outbound_frame_size
    for i in range(0, len(body), size):
        conn.send_data(stream, body[i:i + size])
    conn.end_stream(stream)


def serve_h2(sock):
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    while True:
        data = sock.recv(65536)
        if not data:
            return
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                respond(conn, event.stream_id, event.headers)
        sock.sendall(conn.data_to_send())


def serve(raw, ctx):
    try:
        with ctx.wrap_socket(raw, server_side=True) as sock:
            if sock.selected_alpn_protocol() == "h2":
                serve_h2(sock)
            else:
                sock.recv(65536)
                sock.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 12\r\n"
                             b"Connection: close\r\n\r\nnot HTTP/2\r\n")
    except (OSError, ssl.SSLError, h2.exceptions.ProtocolError):
        pass


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    ctx.set_alpn_protocols(["h2"])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    while True:
        raw, _ = listener.accept()
        threading.Thread(target=serve, args=(raw, ctx), daemon=True).start()


if __name__ == "__main__":
    main()
