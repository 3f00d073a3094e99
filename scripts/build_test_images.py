#!/usr/bin/env python3
"""Builds Berth's test images from /bin/busybox (busybox-static), byte for byte the same on
every run (fixed times, owners and compression settings), with no network and no Docker.

Writes into OUT:
  layout/           an OCI image layout (oci-layout, index.json, blobs/sha256/...) holding every
                    image; index.json names each with io.containerd.image.name
  oci-layout.tar    the same layout as a tar (what `berth images import` takes)
  docker-save.tar   the single-platform images as `docker save` writes them
The images (docker.io/ unless named otherwise):
  berth-test/busybox:1.0     sh & friends (OCI manifest, gzip)
  berth-test/web:1.0, :2.0   `busybox httpd -f -p 8080 -h /www`, page "web v1"/"web v2"
                             (Docker schema2 manifests, gzip)
  gcr.io/google-samples/kubernetes-bootcamp:v1   the lecture's image name: a web image on 8080
  berth-test/whiteout:1.0    three layers: files, then a whiteout and an opaque dir (zstd top)
  berth-test/multi:1.0       an OCI index for linux/amd64 and linux/arm64 (file /arch says which)
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

MTIME = 1700000000
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
APPLETS = ["sh", "ls", "cat", "echo", "sleep", "wget", "httpd", "env", "id", "mkdir", "rm",
           "touch", "hostname", "ps", "true", "false", "nc", "grep", "test", "stat", "head",
           "printf", "kill", "uname", "ip", "ping", "nslookup", "date", "df", "mount", "find"]


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Layer:
    """A tar built in memory with fixed metadata."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)

    def _info(self, name, kind, mode, uid=0, gid=0):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.mtime, ti.uid, ti.gid = kind, mode, MTIME, uid, gid
        ti.uname = ti.gname = ""
        return ti

    def dir(self, name, mode=0o755):
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode))

    def file(self, name, data, mode=0o644, uid=0, gid=0, xattrs=None):
        ti = self._info(name, tarfile.REGTYPE, mode, uid, gid)
        ti.size = len(data)
        if xattrs:
            ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
        self.tar.addfile(ti, io.BytesIO(data))

    def symlink(self, name, target):
        ti = self._info(name, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.tar.addfile(ti)

    def hardlink(self, name, target):
        ti = self._info(name, tarfile.LNKTYPE, 0o755)
        ti.linkname = target
        self.tar.addfile(ti)

    def done(self):
        self.tar.close()
        return self.buf.getvalue()


def busybox_layer():
    l = Layer()
    for d in ["bin", "etc", "root", "www"]:
        l.dir(d)
    l.dir("tmp", 0o1777)
    with open("/bin/busybox", "rb") as f:
        l.file("bin/busybox", f.read(), 0o755)
    l.hardlink("bin/sh", "bin/busybox")  # a hard link, as real images have
    for a in APPLETS:
        if a != "sh":
            l.symlink("bin/" + a, "busybox")
    l.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    l.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    return l.done()


def page_layer(text):
    l = Layer()
    l.dir("www")
    l.file("www/index.html", text.encode())
    return l.done()


_compressed = {}


def gz(data):
    key = ("gz", sha(data))
    if key not in _compressed:
        _compressed[key] = _gz(data)
    return _compressed[key]


def _gz(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as g:
        g.write(data)
    return out.getvalue()


def zstd(data):
    return subprocess.run(["zstd", "-q", "-3", "-c", "--no-check"], input=data,
                          stdout=subprocess.PIPE, check=True).stdout


class Builder:
    def __init__(self, out):
        self.out = out
        self.blobs = {}  # digest -> bytes
        self.index = []  # (descriptor, name)
        self.saved = []  # for docker-save: (name, config bytes, [uncompressed layers])

    def blob(self, data):
        d = sha(data)
        self.blobs[d] = data
        return d

    def image(self, layers, cmd, arch="amd64", docker=False, compress=None, labels=None):
        """layers: uncompressed tars; compress: per-layer 'gzip'/'zstd'/None. Returns the
        manifest descriptor and the config."""
        compress = compress or ["gzip"] * len(layers)
        config = {
            "architecture": arch, "os": "linux", "created": "2023-11-14T22:13:20Z",
            "config": {"Env": [PATH_ENV], "Cmd": cmd, "WorkingDir": "/",
                       "Labels": labels or {}, "ExposedPorts": {}},
            "rootfs": {"type": "layers", "diff_ids": [sha(l) for l in layers]},
            "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "build-test-images"}
                        for _ in layers],
        }
        if "httpd" in cmd:
            config["config"]["ExposedPorts"] = {"8080/tcp": {}}
        cfg = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
        layer_descs = []
        for data, c in zip(layers, compress):
            body = gz(data) if c == "gzip" else zstd(data) if c == "zstd" else data
            if docker:
                mt = "application/vnd.docker.image.rootfs.diff.tar" + (".gzip" if c == "gzip" else "")
            else:
                mt = "application/vnd.oci.image.layer.v1.tar" + ("+" + c if c else "")
            layer_descs.append({"mediaType": mt, "digest": self.blob(body), "size": len(body)})
        manifest = {"schemaVersion": 2,
                    "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
                    "config": {"mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
                               "digest": self.blob(cfg), "size": len(cfg)},
                    "layers": layer_descs}
        body = json.dumps(manifest, sort_keys=True, indent=3).encode()
        desc = {"mediaType": manifest["mediaType"], "digest": self.blob(body), "size": len(body)}
        return desc, cfg

    def name(self, desc, name, cfg=None, layers=None):
        tag = name.rsplit(":", 1)[1]
        d = dict(desc)
        d["annotations"] = {"io.containerd.image.name": name,
                            "org.opencontainers.image.ref.name": tag}
        self.index.append(d)
        if cfg is not None:
            self.saved.append((name, cfg, layers))

    def write(self):
        layout = os.path.join(self.out, "layout")
        shutil.rmtree(layout, ignore_errors=True)
        os.makedirs(os.path.join(layout, "blobs", "sha256"))
        files = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
                 "index.json": json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                           "manifests": self.index}, indent=3).encode()}
        for d, data in self.blobs.items():
            files["blobs/sha256/" + d[7:]] = data
        for name, data in files.items():
            with open(os.path.join(layout, name), "wb") as f:
                f.write(data)
        write_tar(os.path.join(self.out, "oci-layout.tar"), files)
        # docker save: <diffid hex>/layer.tar, <config hex>.json, manifest.json, repositories.
        files, manifest, repos = {}, [], {}
        for name, cfg, layers in self.saved:
            paths = []
            for l in layers:
                p = sha(l)[7:] + "/layer.tar"
                files[p] = l
                paths.append(p)
            files[sha(cfg)[7:] + ".json"] = cfg
            familiar = name[len("docker.io/"):] if name.startswith("docker.io/") else name
            manifest.append({"Config": sha(cfg)[7:] + ".json", "RepoTags": [familiar],
                             "Layers": paths})
            repo, tag = familiar.rsplit(":", 1)
            repos.setdefault(repo, {})[tag] = sha(layers[-1])[7:]
        files["manifest.json"] = json.dumps(manifest).encode()
        files["repositories"] = json.dumps(repos, sort_keys=True).encode()
        write_tar(os.path.join(self.out, "docker-save.tar"), files)


def write_tar(path, files):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for d in sorted({"/".join(n.split("/")[:i]) for n in files
                         for i in range(1, len(n.split("/")))}):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, MTIME
            t.addfile(ti)
        for n in sorted(files):
            ti = tarfile.TarInfo(n)
            ti.size, ti.mode, ti.mtime = len(files[n]), 0o644, MTIME
            t.addfile(ti, io.BytesIO(files[n]))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/test-images"
    os.makedirs(out, exist_ok=True)
    b = Builder(out)
    base = busybox_layer()
    httpd = ["busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]

    desc, cfg = b.image([base], ["sh"])
    b.name(desc, "docker.io/berth-test/busybox:1.0", cfg, [base])
    for version in ("1", "2"):
        page = page_layer("web v%s\n" % version)
        desc, cfg = b.image([base, page], httpd, docker=True, labels={"version": version})
        b.name(desc, "docker.io/berth-test/web:%s.0" % version, cfg, [base, page])
    page = page_layer("Hello Kubernetes bootcamp! | v=1\n")
    desc, cfg = b.image([base, page], httpd, docker=True)
    b.name(desc, "gcr.io/google-samples/kubernetes-bootcamp:v1")

    files = Layer()
    files.dir("data")
    files.file("data/a", b"a\n")
    files.file("data/b", b"b\n", mode=0o640, uid=1000, gid=1000, xattrs={"user.berth": "yes"})
    files.hardlink("data/b-link", "data/b")
    files.dir("olddir")
    files.file("olddir/x", b"x\n")
    files.dir("olddir/sub")
    files.file("olddir/sub/z", b"z\n")
    changes = Layer()
    changes.dir("data")
    changes.file("data/.wh.a", b"")
    changes.dir("olddir")
    changes.file("olddir/.wh..wh..opq", b"")
    changes.file("olddir/y", b"y\n")
    layers = [base, files.done(), changes.done()]
    desc, cfg = b.image(layers, ["sh"], compress=["gzip", None, "zstd"])
    b.name(desc, "docker.io/berth-test/whiteout:1.0", cfg, layers)

    entries = []
    for arch in ("amd64", "arm64"):
        marker = Layer()
        marker.file("arch", arch.encode() + b"\n")
        desc, _ = b.image([base, marker.done()], ["sh"], arch=arch)
        desc["platform"] = {"os": "linux", "architecture": arch}
        entries.append(desc)
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries},
                       sort_keys=True, indent=3).encode()
    b.name({"mediaType": OCI_INDEX, "digest": b.blob(index), "size": len(index)},
           "docker.io/berth-test/multi:1.0")
    b.write()


if __name__ == "__main__":
    main()
