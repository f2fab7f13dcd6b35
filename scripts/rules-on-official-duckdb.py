#!/usr/bin/env python3
"""Runs every built-in rule on DuckDB's official build (the `duckdb` Python package), to tell
the engine's speed apart from the rules' own cost.

    python3 scripts/rules-on-official-duckdb.py EXTRACTED_BUNDLE_DIR [--workers 2]

EXTRACTED_BUNDLE_DIR is an unpacked cluster bundle (`tar -x` of the archive). Its API objects
are loaded and the tables of schema/sql derived, as `ktriage analyze` does; host files and
logs are not loaded, so host and log tables stay empty. The rules then run on WORKERS
connections at once with one thread each, like `ktriage analyze`, and the script prints the
wall time of the rules alone.
"""
import argparse
import glob
import os
import re
import threading
import time
import tomllib

import duckdb

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def rule_sql(path):
    text = open(path, encoding="utf-8").read()
    meta, sql = re.match(r"\s*/\*\s*---\n(.*?)\n---\s*\*/\s*(.*)", text, re.S).groups()
    for key, value in tomllib.loads(meta).get("thresholds", {}).items():
        if isinstance(value, str):
            value = "'" + value + "'"
        elif float(value).is_integer():
            value = str(int(value))
        sql = sql.replace("${" + key + "}", str(value))
    return sql.strip().rstrip(";")


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("bundle_dir")
    args.add_argument("--workers", type=int, default=os.cpu_count())
    opts = args.parse_args()

    con = duckdb.connect(":memory:", config={"threads": os.cpu_count()})
    con.execute(open(os.path.join(REPO, "schema/sql/00_raw.sql")).read())
    con.execute("INSERT INTO bundles (bundle_id, kind, label, collected_at, partial, server_version) "
                "SELECT 'b', 'cluster', 'bench', TIMESTAMP '2026-01-15 12:00:00', false, 'v1.29.3'")
    for f in sorted(glob.glob(os.path.join(opts.bundle_dir, "cluster", "*", "*", "*.ndjson"))):
        group, version, resource = f.split(os.sep)[-3:]
        con.execute("INSERT INTO raw_objects SELECT 'b', ?, ?, ?, json FROM read_ndjson_objects(?, maximum_object_size = 67108864)",
                    ["" if group == "core" else group, version, resource[: -len(".ndjson")], f])
    for path in sorted(glob.glob(os.path.join(REPO, "schema/sql/0*.sql"))):
        if not path.endswith("00_raw.sql"):
            con.execute(open(path, encoding="utf-8").read())
    con.execute("SET threads = 1")

    rules = [rule_sql(p) for p in sorted(glob.glob(os.path.join(REPO, "analyzer/rules/*.sql")))]
    next_rule, lock = iter(rules), threading.Lock()

    def worker():
        cursor = con.cursor()
        while True:
            with lock:
                sql = next(next_rule, None)
            if sql is None:
                return
            cursor.execute(f"SELECT *, count(*) OVER () FROM ({sql}) LIMIT 500").fetchall()

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(opts.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{len(rules)} rules on {opts.workers} connections, DuckDB {duckdb.__version__}: "
          f"{time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
