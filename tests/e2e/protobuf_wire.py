"""A small reader of the protobuf wire format (no protobuf library here) for the e2e tests that
check Kubernetes protobuf responses: the `k8s\\0` envelope (runtime.Unknown {1 typeMeta, 2 raw}),
messages as {field number: [values]}, and the length-prefixed frames of a protobuf watch."""


def varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def fields(b):
    """Length-delimited and varint fields of one protobuf message: {number: [values]}."""
    out, i = {}, 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError(f"wire type {wt}")
        out.setdefault(num, []).append(v)
    return out


def envelope(body):
    """(apiVersion, kind, raw message bytes) of a `k8s\\0` envelope; ValueError if not one."""
    if body[:4] != b"k8s\x00":
        raise ValueError(f"no k8s envelope: {body[:8]!r}")
    unknown = fields(body[4:])
    type_meta = fields(unknown.get(1, [b""])[0])
    return (type_meta.get(1, [b""])[0].decode(), type_meta.get(2, [b""])[0].decode(),
            unknown.get(2, [b""])[0])


def watch_frames(data):
    """The WatchEvents of a protobuf watch stream as [(type, object envelope bytes)], and
    whether the frames covered the data exactly."""
    events, i = [], 0
    while i + 4 <= len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        env = data[i + 4:i + 4 + n]
        i += 4 + n
        ev = fields(envelope(env)[2])  # a meta.v1.WatchEvent {1 type, 2 RawExtension}
        events.append((ev[1][0].decode(), fields(ev[2][0])[1][0]))
    return events, i == len(data)
