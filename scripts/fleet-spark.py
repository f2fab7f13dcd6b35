#!/usr/bin/env python3
"""Run ktriage's fleet queries with Apache Spark (PySpark, local mode) over an export tree.

    scripts/fleet-spark.py DIR                      every shipped query (analyzer/fleet/*.sql)
    scripts/fleet-spark.py DIR --query noisy-rules  one of them (repeatable)
    scripts/fleet-spark.py DIR -c 'SELECT …'        any Spark SQL over the tables
    scripts/fleet-spark.py DIR --timings FILE       also write each query's wall time (JSON)

DIR is what `ktriage export` writes: DIR/_ktriage_schema.json, one commit file per bundle in
DIR/_ktriage_commits/, and the data files DIR/<table>/cluster_id=…/bundle_id=…/<generation>/
part-0.parquet. Only the files the commits name are read (a bundle's committed set, never a
generation being written, superseded or left by a killed export). Every table of the schema
becomes a temporary view of the same name, with the partition columns cluster_id and
bundle_id last (as `ktriage fleet` has them). The schema file gives the column types, so
nothing is inferred from the data; a table with no files is an empty view. Rows print as
tab-separated text, a header first, NULL as nothing: the format of `ktriage fleet --output
tsv`, so the two can be compared line for line. Each query's result starts with `== NAME`.

Needs PySpark (`pip install pyspark`) and Java 17. Runs on `local[*]`; set SPARK_MASTER to
use a cluster. DIR is a local directory (the schema and commit files are read by this
script; the data files by Spark, so executors must see the same path).
"""

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERY_DIR = ROOT / "analyzer" / "fleet"
SCHEMA_VERSION = 2
# A committed file: <table>/cluster_id=…/bundle_id=…/gen-…/part-0.parquet, one plain name
# per component (ktriage writes no other; anything else is refused).
COMMITTED_PATH = re.compile(r"[^/]+/cluster_id=[^/]+/bundle_id=[^/]+/gen-[A-Za-z0-9-]+/[^/]+")

# DuckDB types of the export schema -> Spark SQL types.
SPARK_TYPES = {
    "VARCHAR": "STRING",
    "BIGINT": "BIGINT",
    "INTEGER": "INT",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    # Naive UTC times: Parquet TIMESTAMP(isAdjustedToUTC=false), Spark's TIMESTAMP_NTZ.
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "VARCHAR[]": "ARRAY<STRING>",
}


def spark_type(duckdb_type):
    try:
        return SPARK_TYPES[duckdb_type]
    except KeyError:
        sys.exit(f"fleet-spark: export schema type {duckdb_type!r} has no Spark mapping")


def read_schema(root):
    path = os.path.join(root, "_ktriage_schema.json")
    try:
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"fleet-spark: {path}: {e} (not a ktriage export directory?)")
    if schema.get("format") != "ktriage-export" or schema.get("version") != SCHEMA_VERSION:
        sys.exit(
            f"fleet-spark: {path}: export schema version {schema.get('version')} "
            f"is not {SCHEMA_VERSION}"
        )
    return schema


def committed_files(root, schema):
    """{table: [data file paths]} of every bundle's committed set."""
    tables = {t["name"] for t in schema["tables"]}
    files = {name: [] for name in tables}
    commit_dir = os.path.join(root, schema["commits"])
    try:
        names = sorted(os.listdir(commit_dir))
    except FileNotFoundError:
        return files
    for name in names:
        if name.startswith("."):
            continue  # a commit being written
        path = os.path.join(commit_dir, name)
        try:
            with open(path, encoding="utf-8") as f:
                commit = json.load(f)
            entries = [(e["table"], e["path"]) for e in commit["files"]]
        except (OSError, ValueError, KeyError, TypeError) as e:
            sys.exit(f"fleet-spark: {path}: not a commit file: {e}")
        for table, rel in entries:
            ok = isinstance(table, str) and isinstance(rel, str) \
                and COMMITTED_PATH.fullmatch(rel) is not None
            parts = rel.split("/") if ok else []
            if not ok or table not in tables or parts[0] != table \
                    or parts[-1] != schema["file_name"] or ".." in parts:
                sys.exit(f"fleet-spark: {path}: file {rel!r} of table {table!r} is not the layout's")
            files[table].append(os.path.join(root, *rel.split("/")))
    return files


def register_tables(spark, root, schema):
    files = committed_files(root, schema)
    for table in schema["tables"]:
        columns = [f"`{c['name']}` {spark_type(c['type'])}" for c in table["columns"]]
        columns += [f"`{key}` STRING" for key in schema["partitioning"]]
        ddl = ", ".join(columns)
        paths = files[table["name"]]
        if paths:
            # The partition columns come from the directory names under basePath; the
            # generation directory (no `=`) is not one.
            frame = (
                spark.read.schema(ddl)
                .option("basePath", os.path.join(root, table["name"]))
                .parquet(*paths)
            )
        else:
            frame = spark.createDataFrame([], ddl)
        frame.createOrReplaceTempView(table["name"])


def cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).replace("\t", " ").replace("\n", " ")


def print_rows(frame):
    rows = frame.collect()
    print("\t".join(frame.columns))
    for row in rows:
        print("\t".join(cell(v) for v in row))
    return len(rows)


def shipped_queries(names):
    available = sorted(p.stem for p in QUERY_DIR.glob("*.sql"))
    for name in names or available:
        if name not in available:
            sys.exit(f"fleet-spark: no fleet query {name!r} (queries: {', '.join(available)})")
        yield name, (QUERY_DIR / f"{name}.sql").read_text(encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="export tree written by ktriage export")
    parser.add_argument("--query", action="append", default=[], metavar="NAME",
                        help="shipped query to run (default: all)")
    parser.add_argument("-c", dest="sql", metavar="SQL", help="run this Spark SQL instead")
    parser.add_argument("--timings", metavar="FILE", help="write query wall times (ms) as JSON")
    args = parser.parse_args()

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        sys.exit("fleet-spark: PySpark is not installed (pip install pyspark)")

    schema = read_schema(args.dir)
    spark = (
        SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[*]"))
        .appName("ktriage-fleet")
        .config("spark.sql.session.timeZone", "UTC")
        # Partition values are ids, not numbers: "0123" must stay "0123".
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    start = time.monotonic()
    register_tables(spark, args.dir, schema)
    timings = {"register_ms": (time.monotonic() - start) * 1000}
    queries = [("sql", args.sql)] if args.sql else list(shipped_queries(args.query))
    for name, text in queries:
        print(f"== {name}")
        start = time.monotonic()
        print_rows(spark.sql(text.strip().rstrip(";")))
        timings[name] = (time.monotonic() - start) * 1000
        sys.stdout.flush()
    if args.timings:
        with open(args.timings, "w", encoding="utf-8") as f:
            json.dump(timings, f, indent=2)
    spark.stop()


if __name__ == "__main__":
    main()
