#!/usr/bin/python3
"""Prints an object (JSON on stdin) without the fields that differ between two creations of the
same object: identity, timestamps (status conditions' too), ownership bookkeeping and allocated addresses."""
import json
import sys

drop_meta = {"uid", "resourceVersion", "creationTimestamp", "managedFields", "namespace", "name",
             "generation", "selfLink"}
obj = json.load(sys.stdin)
meta = obj.get("metadata", {})
for k in drop_meta:
    meta.pop(k, None)
labels = meta.get("labels", {})
labels.pop("kubernetes.io/metadata.name", None)
spec = obj.get("spec", {})
if obj.get("kind") == "Service":
    spec.pop("clusterIP", None)
    spec.pop("clusterIPs", None)
    for p in spec.get("ports", []):
        p.pop("nodePort", None)
if obj.get("kind") == "Job":
    # The generated selector and labels carry the Job's uid.
    spec.pop("selector", None)
    for tl in (spec.get("template", {}).get("metadata", {}).get("labels", {}), labels):
        for k in list(tl):
            if "controller-uid" in k or k in ("job-name", "batch.kubernetes.io/job-name"):
                tl.pop(k)
if obj.get("kind") == "ResourceQuota":
    # status.used is recounted by the resource quota controller from what each namespace holds.
    obj.pop("status", None)
# Status written by controllers (e.g. a PodDisruptionBudget's conditions) carries their clock.
for c in (obj.get("status") or {}).get("conditions", []) or []:
    if isinstance(c, dict):
        c.pop("lastTransitionTime", None)
for s in obj.get("subjects", []) or []:
    s.pop("namespace", None)
print(json.dumps(obj, sort_keys=True, indent=1))
