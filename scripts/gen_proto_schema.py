#!/usr/bin/env python3
"""Generates src/apiserver/protobuf/schema_data.cpp, Berth's table of the built-in API types.

Inputs are the upstream Kubernetes sources for one release (k8s.io/api and k8s.io/apimachinery
at the same tag), laid out by Go import path under a root directory, e.g.

  <root>/k8s.io/api/core/v1/generated.proto
  <root>/k8s.io/api/core/v1/types.go
  <root>/k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto  (+ types.go, time.go, ...)

From the proto2 files it takes messages, field numbers, names, types, `repeated` and
`map<string, V>` fields, resolving type names through the package scopes. From the Go files
next to each proto it takes what protobuf cannot say but JSON needs:
  - `json:",inline"` embedded structs (their fields appear in the parent's JSON object),
  - pointer fields and fields without `omitempty` (a zero value is still meaningful / emitted),
  - fields Go's encoding/json writes even when zero: non-pointer fields without `omitempty`,
    and non-pointer structs (omitempty never omits a struct),
  - the Go JSON name, checked against the proto field name (differences are reported),
  - `+k8s:deepcopy-gen:interfaces=...runtime.Object` (registered top-level kinds).

APIService (apiregistration.k8s.io/v1) comes from k8s.io/kube-aggregator at the same tag, under
<root>/k8s.io/kube-aggregator/pkg/apis/apiregistration/v1/.

The files can be taken from clones of github.com/kubernetes/api and kubernetes/apimachinery, e.g.
  git -C api show v0.32.0:core/v1/generated.proto > <root>/k8s.io/api/core/v1/generated.proto
  (and the package's types.go; for meta/v1 also time.go, micro_time.go, duration.go, watch.go,
  group_version.go; for runtime types.go; for intstr intstr.go).

Usage: scripts/gen_proto_schema.py <root> [-o src/apiserver/protobuf/schema_data.cpp]
"""

import argparse
import os
import re
import sys

SCALARS = {
    "string": "kString",
    "bytes": "kBytes",
    "bool": "kBool",
    "int32": "kInt32",
    "int64": "kInt64",
    "double": "kDouble",
}

FIELD_RE = re.compile(
    r"^(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;$")
MAP_RE = re.compile(r"^map\s*<\s*string\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;$")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


class ProtoFile:
    def __init__(self, path):
        self.path = path
        self.package = ""
        self.messages = {}  # name -> list of raw fields (kind, type, name, number)
        self._parse(strip_comments(open(path, encoding="utf-8").read()))

    def _parse(self, text):
        m = re.search(r"^\s*package\s+([\w.]+)\s*;", text, flags=re.M)
        if not m:
            sys.exit(f"{self.path}: no package")
        self.package = m.group(1)
        pos = 0
        for m in re.finditer(r"\bmessage\s+(\w+)\s*\{", text):
            if m.start() < pos:
                sys.exit(f"{self.path}: nested message {m.group(1)} not supported")
            depth, i = 1, m.end()
            while depth:
                if i >= len(text):
                    sys.exit(f"{self.path}: unterminated message {m.group(1)}")
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            pos = i
            body = text[m.end():i - 1]
            if "{" in body:
                sys.exit(f"{self.path}: nested block in {m.group(1)} not supported")
            self.messages[m.group(1)] = self._fields(m.group(1), body)

    def _fields(self, msg, body):
        fields = []
        for stmt in body.split(";"):
            stmt = " ".join(stmt.split())
            if not stmt or stmt.startswith("option ") or stmt.startswith("reserved "):
                continue
            stmt += ";"
            fm, mm = FIELD_RE.match(stmt), MAP_RE.match(stmt)
            if fm:
                fields.append(("field", fm.group(2), fm.group(3), int(fm.group(4)),
                               fm.group(1) == "repeated"))
            elif mm:
                fields.append(("map", mm.group(1), mm.group(2), int(mm.group(3)), False))
            else:
                sys.exit(f"{self.path}: message {msg}: cannot parse `{stmt}`")
        return fields


class GoField:
    def __init__(self, json_name, omitempty, inline, pointer):
        self.json_name = json_name
        self.omitempty = omitempty  # omitempty or omitzero
        self.inline = inline
        self.pointer = pointer


def parse_go_dir(directory):
    """Returns ({struct: {proto number: GoField}}, {names of runtime.Object structs})."""
    structs, kinds = {}, set()
    for fn in sorted(os.listdir(directory)):
        if not fn.endswith(".go"):
            continue
        lines = open(os.path.join(directory, fn), encoding="utf-8").read().split("\n")
        current, object_marker = None, False
        for line in lines:
            if "+k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object" in line:
                object_marker = True
            m = re.match(r"^type (\w+) struct \{", line)
            if m:
                current = structs.setdefault(m.group(1), {})
                if object_marker:
                    kinds.add(m.group(1))
                object_marker = False
                continue
            if re.match(r"^type ", line):
                object_marker = False
            if line.startswith("}"):
                current = None
                continue
            if current is None or "`" not in line:
                continue
            decl, tags = line.split("`", 1)
            decl = decl.split("//")[0].split()
            pm = re.search(r'protobuf:"(\w+),(\d+),', tags)
            if not pm or not decl:
                continue
            go_type = decl[-1]
            jm = re.search(r'json:"([^"]*)"', tags)
            json_parts = (jm.group(1) if jm else "").split(",")
            current[int(pm.group(2))] = GoField(
                json_name=json_parts[0],
                omitempty=("omitempty" in json_parts[1:] or "omitzero" in json_parts[1:]),
                inline="inline" in json_parts[1:],
                pointer=go_type.startswith("*"))
    return structs, kinds


def ident(name):
    return "k" + re.sub(r"[^A-Za-z0-9]", "_", name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("-o", "--output", default="src/apiserver/protobuf/schema_data.cpp")
    args = ap.parse_args()

    protos = []
    for dirpath, _, files in os.walk(args.root):
        if "generated.proto" in files:
            protos.append((dirpath, ProtoFile(os.path.join(dirpath, "generated.proto"))))
    protos.sort(key=lambda p: p[1].package)

    all_messages = {}
    for _, pf in protos:
        for name in pf.messages:
            all_messages[pf.package + "." + name] = None

    def resolve(package, type_name):
        if type_name.startswith("."):
            full = type_name[1:]
            if full not in all_messages:
                sys.exit(f"unresolved type {type_name}")
            return full
        scope = package.split(".")
        while scope:
            full = ".".join(scope) + "." + type_name
            if full in all_messages:
                return full
            scope.pop()
        if type_name in all_messages:
            return type_name
        sys.exit(f"unresolved type {type_name} in package {package}")

    out_messages = []
    notes = []
    for directory, pf in protos:
        structs, kinds = parse_go_dir(directory)
        for msg, raw_fields in sorted(pf.messages.items()):
            go = structs.get(msg, {})
            if not go:
                notes.append(f"no Go struct for {pf.package}.{msg}")
            fields = []
            for kind, type_name, name, number, repeated in sorted(raw_fields, key=lambda f: f[3]):
                gf = go.get(number)
                json_name = name
                if gf and gf.json_name and gf.json_name not in (name, "-"):
                    # The Go JSON tag wins: it is what clients send.
                    notes.append(f"JSON name differs: {pf.package}.{msg}.{name} "
                                 f"json:{gf.json_name}")
                    json_name = gf.json_name
                entry = {"number": number, "json": json_name, "repeated": repeated,
                         "message": "", "map_value": "kString",
                         "inlined": bool(gf and gf.inline),
                         "keep_zero": False, "emit_zero": False}
                if kind == "map":
                    entry["type"] = "kMap"
                    if type_name in SCALARS:
                        entry["map_value"] = SCALARS[type_name]
                    else:
                        entry["map_value"] = "kMessage"
                        entry["message"] = resolve(pf.package, type_name)
                elif type_name in SCALARS:
                    entry["type"] = SCALARS[type_name]
                else:
                    entry["type"] = "kMessage"
                    entry["message"] = resolve(pf.package, type_name)
                if gf and not repeated and kind != "map":
                    scalar = entry["type"] != "kMessage"
                    entry["keep_zero"] = gf.pointer or (scalar and not gf.omitempty and
                                                        not gf.inline)
                if gf and not gf.pointer and not gf.inline:
                    # What encoding/json writes for a zero value: omitempty drops zero scalars,
                    # empty slices and maps, but never a struct (metav1.Time then says null).
                    struct = entry["type"] == "kMessage" and not repeated
                    entry["emit_zero"] = struct or not gf.omitempty
                fields.append(entry)
            out_messages.append((pf.package + "." + msg, fields, msg in kinds))

    out_messages.sort(key=lambda m: m[0])
    emit(args.output, out_messages, [pf for _, pf in protos])
    for n in notes:
        print("note:", n, file=sys.stderr)


def emit(path, messages, protos):
    lines = [
        "// GENERATED by scripts/gen_proto_schema.py from the upstream generated.proto and Go",
        "// types of k8s.io/api, k8s.io/apimachinery and k8s.io/kube-aggregator v0.32.0",
        "// (Kubernetes 1.32). Do not edit; regenerate with:",
        "// scripts/gen_proto_schema.py <root> -o <this file>, where <root> holds",
        "// k8s.io/api/<group>/<version>/{generated.proto,*.go},",
        "// k8s.io/apimachinery/pkg/.../{generated.proto,*.go} and",
        "// k8s.io/kube-aggregator/pkg/apis/apiregistration/v1/{generated.proto,*.go} at tag",
        "// v0.32.0 (see the script).",
        "// Packages:",
    ] + ["//   " + pf.package for pf in sorted(protos, key=lambda p: p.package)] + [
        "//",
        "// Field flags: I = inlined (json:\",inline\"), Z = keepZero (pointer or not omitempty),",
        "// E = emitZero (encoding/json writes it when zero: non-pointer, no omitempty or a struct).",
        '#include "apiserver/protobuf/schema.h"',
        "",
        "namespace berth::apiserver::protobuf {",
        "namespace {",
        "",
        "using T = FieldType;",
        "constexpr bool I = true;",
        "constexpr bool Z = true;",
        "constexpr bool E = true;",
        "constexpr bool R = true;",
        "",
    ]
    for name, fields, _ in messages:
        if not fields:
            continue
        lines.append(f"constexpr FieldSchema {ident(name)}[] = {{")
        for f in fields:
            parts = [str(f["number"]), f'"{f["json"]}"', "T::" + f["type"],
                     "R" if f["repeated"] else "false", f'"{f["message"]}"',
                     "T::" + f["map_value"], "I" if f["inlined"] else "false",
                     "Z" if f["keep_zero"] else "false", "E" if f["emit_zero"] else "false"]
            while parts[-1] in ("false", '""', "T::kString") and len(parts) > 3:
                parts.pop()
            lines.append("    {" + ", ".join(parts) + "},")
        lines.append("};")
    lines.append("")
    lines.append("}  // namespace")
    lines.append("")
    lines.append("// Sorted by name (findMessage binary-searches).")
    lines.append(f"extern const MessageSchema kMessageTable[] = {{")
    for name, fields, is_kind in messages:
        span = ident(name) if fields else "{}"
        lines.append(f'    {{"{name}", {span}{", true" if is_kind else ""}}},')
    lines.append("};")
    lines.append(f"extern const std::size_t kMessageTableSize = {len(messages)};")
    lines.append("")
    lines.append("}  // namespace berth::apiserver::protobuf")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
