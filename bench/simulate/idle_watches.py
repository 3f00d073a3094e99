#!/usr/bin/env python3
"""idle_watches.py URL TOKEN N: opens N TLS watch streams (one connection each) on ConfigMaps of
an empty namespace, prints "ready N" once every response head is in, then holds them until
killed. The reference for bench/simulate_scale.sh: what N bare watches cost the server, against
N simulated kubelets (each one watch plus its Lease and status writes)."""
import asyncio
import ssl
import sys


async def one(host, port, token, ctx, sem, holders):
    async with sem:
        reader, writer = await asyncio.open_connection(host, port, ssl=ctx)
        writer.write((f"GET /api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=3600 "
                      f"HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                      f"Accept: application/json\r\n\r\n").encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(head[:200])
        holders.append((reader, writer))


async def main():
    url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    host, port = url.split("//")[1].split(":")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sem = asyncio.Semaphore(32)
    holders = []
    await asyncio.gather(*(one(host, int(port), token, ctx, sem, holders) for _ in range(n)))
    print(f"ready {len(holders)}", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
