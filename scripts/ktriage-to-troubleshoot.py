#!/usr/bin/env python3
"""Writes an unpacked ktriage bundle out as a troubleshoot support bundle (.tar.gz), the way
troubleshoot's cluster-resources collector lays it out: for benchmarking `ktriage import` on a
cluster of any size (the generator writes ktriage bundles only).

    python3 scripts/ktriage-to-troubleshoot.py UNPACKED_BUNDLE_DIR OUT.tar.gz

Lists are written item by item, one open file per namespace, so memory stays small whatever
the cluster's size. Only what troubleshoot collects by default is written: namespaced
workloads, pods, services, events, nodes, namespaces, CRDs and custom resources, pod logs
and the server version.
"""

import json
import os
import shutil
import sys
import tarfile
import tempfile

# ktriage resource (group/version/resource) -> troubleshoot file name under cluster-resources/
BUILTIN = {
    ("core", "v1", "pods"): "pods",
    ("core", "v1", "services"): "services",
    ("core", "v1", "events"): "events",
    ("core", "v1", "nodes"): "nodes",
    ("core", "v1", "namespaces"): "namespaces",
    ("apps", "v1", "deployments"): "deployments",
    ("apps", "v1", "statefulsets"): "statefulsets",
    ("apps", "v1", "daemonsets"): "daemonsets",
    ("apps", "v1", "replicasets"): "replicasets",
    ("batch", "v1", "jobs"): "jobs",
    ("batch", "v1", "cronjobs"): "cronjobs",
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions"): "custom-resource-definitions",
}
SKIPPED_GROUPS = {"core", "apps", "batch", "apiextensions.k8s.io", "coordination.k8s.io",
                  "discovery.k8s.io", "rbac.authorization.k8s.io", "storage.k8s.io",
                  "scheduling.k8s.io", "apiregistration.k8s.io", "policy", "networking.k8s.io"}


class ListWriter:
    """Writes `{"kind": "...List", "apiVersion": ..., "items": [...]}` one item at a time."""

    def __init__(self, path, kind, api_version):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.f = open(path, "w", encoding="utf-8")
        self.f.write('{"kind":%s,"apiVersion":%s,"metadata":{},"items":[' %
                     (json.dumps(kind + "List"), json.dumps(api_version)))
        self.first = True

    def add(self, line):
        if not self.first:
            self.f.write(",")
        self.f.write(line.rstrip("\n"))
        self.first = False

    def close(self):
        self.f.write("]}\n")
        self.f.close()


def convert_resource(path, out_dir, name, custom):
    writers = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            obj = json.loads(line)
            ns = obj.get("metadata", {}).get("namespace")
            key = ns or ""
            if key not in writers:
                if custom:
                    target = os.path.join(out_dir, "custom-resources", name, (ns or "cluster") + ".json")
                elif ns:
                    target = os.path.join(out_dir, name, ns + ".json")
                else:
                    target = os.path.join(out_dir, name + ".json")
                writers[key] = ListWriter(target, obj.get("kind", ""), obj.get("apiVersion", ""))
            writers[key].add(line)
    for w in writers.values():
        w.close()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="ktriage-to-troubleshoot.")
    try:
        top = os.path.join(work, "support-bundle-2026-01-15T12_00_00")
        resources = os.path.join(top, "cluster-resources")
        cluster = os.path.join(src, "cluster")
        for group in sorted(os.listdir(cluster)):
            gdir = os.path.join(cluster, group)
            if not os.path.isdir(gdir):
                continue
            for version in sorted(os.listdir(gdir)):
                for file in sorted(os.listdir(os.path.join(gdir, version))):
                    resource = file[: -len(".ndjson")]
                    path = os.path.join(gdir, version, file)
                    if (group, version, resource) in BUILTIN:
                        convert_resource(path, resources, BUILTIN[(group, version, resource)], False)
                    elif group not in SKIPPED_GROUPS:
                        convert_resource(path, resources, resource + "." + group, True)
        logs = os.path.join(src, "logs")
        for ns in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            for pod in sorted(os.listdir(os.path.join(logs, ns))):
                for file in sorted(os.listdir(os.path.join(logs, ns, pod))):
                    name = file.replace(".previous.log", "-previous.log")
                    target = os.path.join(resources, "pods", "logs", ns, pod, name)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copyfile(os.path.join(logs, ns, pod, file), target)
        version = os.path.join(src, "cluster", "version.json")
        if os.path.exists(version):
            os.makedirs(os.path.join(top, "cluster-info"), exist_ok=True)
            with open(version, encoding="utf-8") as f:
                v = json.load(f)
            with open(os.path.join(top, "cluster-info", "cluster_version.json"), "w") as f:
                json.dump({"info": v, "string": v.get("gitVersion", "")}, f)
        with tarfile.open(out, "w:gz", compresslevel=1) as tar:
            tar.add(top, arcname=os.path.basename(top))
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
