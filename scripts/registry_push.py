#!/usr/bin/env python3
"""Pushes every image of an OCI layout to a registry over the distribution API, as
`docker push` would: blobs by monolithic upload (POST then PUT ?digest=), child manifests of an
index by digest, then each image's manifest under its tag.

  registry_push.py LAYOUT_DIR http://127.0.0.1:5000 [user:password]

An image's name is its io.containerd.image.name annotation; the registry part is dropped
(docker.io/berth-test/web:1.0 goes to berth-test/web:1.0 on the target). BERTH_PUSH_ONLY
(comma-separated repo:tag) pushes only those.
"""
import base64
import json
import os
import re
import ssl
import sys
import urllib.parse
import urllib.error
import urllib.request


class Registry:
    """Authenticates as the registry asks: Basic, or a Bearer token from its token server."""

    def __init__(self, url, creds=None):
        self.url = url.rstrip("/")
        self.basic = "Basic " + base64.b64encode(creds.encode()).decode() if creds else None
        self.auth = self.basic

    def call(self, method, path, data=None, headers=None, retry=True):
        url = path if path.startswith("http") else self.url + path
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if self.auth:
            req.add_header("Authorization", self.auth)
        try:
            # A test registry's certificate is self-signed: the push does not check it.
            with urllib.request.urlopen(req, timeout=30, context=ssl._create_unverified_context()) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            challenge = e.headers.get("WWW-Authenticate", "")
            if e.code == 401 and retry and challenge.startswith("Bearer "):
                self.auth = "Bearer " + self.token(challenge[7:])
                return self.call(method, path, data, headers, retry=False)
            return e.code, e.headers, e.read()

    def token(self, params):
        p = dict(re.findall(r'(\w+)="([^"]*)"', params))
        query = {"service": p.get("service", "")}
        if "scope" in p:
            query["scope"] = p["scope"]
        req = urllib.request.Request(p["realm"] + "?" + urllib.parse.urlencode(query))
        if self.basic:
            req.add_header("Authorization", self.basic)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)["token"]


def push(reg, layout, repo, desc, reference):
    blobs = os.path.join(layout, "blobs", "sha256")

    def read(digest):
        with open(os.path.join(blobs, digest[7:]), "rb") as f:
            return f.read()

    body = read(desc["digest"])
    doc = json.loads(body)
    if "manifests" in doc:
        for child in doc["manifests"]:
            push(reg, layout, repo, child, child["digest"])
    else:
        for blob in [doc["config"]] + doc["layers"]:
            d = blob["digest"]
            if reg.call("HEAD", "/v2/%s/blobs/%s" % (repo, d))[0] == 200:
                continue
            status, headers, text = reg.call("POST", "/v2/%s/blobs/uploads/" % repo)
            if status != 202:
                sys.exit("upload %s: HTTP %d %s" % (d, status, text[:200]))
            loc = headers["Location"]
            if not loc.startswith("http"):
                loc = reg.url + loc
            loc += ("&" if "?" in loc else "?") + "digest=" + d
            status, _, text = reg.call("PUT", loc, read(d),
                                       {"Content-Type": "application/octet-stream"})
            if status != 201:
                sys.exit("upload %s: HTTP %d %s" % (d, status, text[:200]))
    status, _, text = reg.call("PUT", "/v2/%s/manifests/%s" % (repo, reference), body,
                               {"Content-Type": desc["mediaType"]})
    if status != 201:
        sys.exit("manifest %s:%s: HTTP %d %s" % (repo, reference, status, text[:300]))


def main():
    layout, url = sys.argv[1], sys.argv[2]
    reg = Registry(url, sys.argv[3] if len(sys.argv) > 3 else None)
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for desc in index["manifests"]:
        name = desc["annotations"]["io.containerd.image.name"]
        repo, tag = name.split("/", 1)[1].rsplit(":", 1)
        only = os.environ.get("BERTH_PUSH_ONLY")
        if only and "%s:%s" % (repo, tag) not in only.split(","):
            continue
        push(reg, layout, repo, desc, tag)
        print("pushed %s:%s" % (repo, tag))


if __name__ == "__main__":
    main()
