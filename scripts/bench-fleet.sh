#!/usr/bin/env bash
# Fleet benchmark: N small synthetic clusters (varied seeds and sizes) exported to Parquet
# with `ktriage export`, then the shipped fleet queries over the tree in DuckDB
# (`ktriage fleet`) and Spark (scripts/fleet-spark.py, local mode).
#
#   scripts/bench-fleet.sh [N]        default N=1000
#   scripts/bench-fleet.sh --reuse RUN the queries again over the export tree of an earlier
#                                     run directory (its export times are carried over)
#
# Reports export wall time per bundle (mean, median, p95), total bundle and Parquet sizes,
# and each query's time in both engines. Environment: KTRIAGE_BENCH_DIR (default
# ~/.cache/ktriage-bench), CARGO_TARGET_DIR (default ~/.cache/ktriage-target), KTRIAGE_BIN and
# GEN_BIN to use other binaries, NO_BUILD=1 to skip building, NO_SPARK=1 to skip Spark.
# Cluster i has seed i, 2 + i*7 mod 23 nodes and 4..31 pods per node, and one node bundle
# every fifth cluster. Generated bundles are cached under $KTRIAGE_BENCH_DIR/fleet-data;
# each run writes its logs, export tree and results.md into $KTRIAGE_BENCH_DIR/fleet-runs/<UTC time>/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REUSE=""
if [[ "${1:-}" == --reuse ]]; then
    REUSE="${2:?--reuse needs an earlier run directory}"
    [[ -d "$REUSE/export" && -f "$REUSE/export-times.tsv" ]] \
        || { echo "bench-fleet: $REUSE is not a finished run directory" >&2; exit 2; }
    set -- "$(wc -l < "$REUSE/export-times.tsv")"
fi
N="${1:-1000}"
BENCH_DIR="${KTRIAGE_BENCH_DIR:-$HOME/.cache/ktriage-bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ktriage-target}"
say() { echo "bench-fleet: $*" >&2; }
die() { say "$*"; exit 1; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
[[ "$N" =~ ^[0-9]+$ && "$N" -gt 0 ]] || die "N must be a positive number"

if [[ "${NO_BUILD:-0}" != 1 ]]; then
    say "building (dev profile)"
    # The analyzer on its own: built with other packages, cargo would unify features and
    # rebuild DuckDB.
    (cd "$ROOT" && cargo build --quiet -p ktriage-tests --bin gen-cluster && cargo build --quiet -p ktriage)
fi
KTRIAGE="${KTRIAGE_BIN:-$CARGO_TARGET_DIR/debug/ktriage}"
GEN="${GEN_BIN:-$CARGO_TARGET_DIR/debug/gen-cluster}"
[[ -x "$KTRIAGE" && -x "$GEN" ]] || die "missing $KTRIAGE or $GEN"

GEN_KEY=$(cat "$ROOT/tests/src/generate.rs" "$ROOT/tests/src/bin/gen-cluster.rs" | sha256sum | cut -c1-10)
DATA="$BENCH_DIR/fleet-data/$GEN_KEY"
RUN="$BENCH_DIR/fleet-runs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$DATA" "$RUN"
OUT="$RUN/export"

if [[ -n "$REUSE" ]]; then
    say "reusing the export tree of $REUSE ($N clusters)"
    OUT="$REUSE/export"
    cp "$REUSE/export-times.tsv" "$RUN/export-times.tsv"
else
    say "generating $N clusters into $DATA (cached)"
    for ((i = 1; i <= N; i++)); do
        dir="$DATA/$i"
        [[ -f "$dir/.done" ]] && continue
        nodes=$((2 + (i * 7) % 23))
        pods=$((nodes * (4 + (i * 13) % 28)))
        hosts=$(( i % 5 == 0 ? 1 : 0 ))
        rm -rf "$dir"
        "$GEN" "$nodes:$pods" "$dir" --seed "$i" --hosts "$hosts" --log-fraction 0.05 \
            2>> "$RUN/gen.log" || die "gen-cluster $i failed (see $RUN/gen.log)"
        touch "$dir/.done"
    done

    say "exporting $N clusters (one ktriage export per cluster) into $OUT"
    : > "$RUN/export-times.tsv"
    for ((i = 1; i <= N; i++)); do
        start=$(date +%s.%N)
        "$KTRIAGE" export -q -o "$OUT" "$DATA/$i"/*.tar.zst 2>> "$RUN/export.log" \
            || die "export $i failed (see $RUN/export.log)"
        end=$(date +%s.%N)
        echo -e "$i\t$(elapsed "$start" "$end")" >> "$RUN/export-times.tsv"
    done
fi

bundle_bytes=$(for ((i = 1; i <= N; i++)); do stat -c %s "$DATA/$i"/*.tar.zst; done | awk '{s += $1} END {print s}')
parquet_bytes=$(find "$OUT" -name 'part-0.parquet' -printf '%s\n' | awk '{s += $1} END {print s}')
parquet_files=$(find "$OUT" -name 'part-0.parquet' | wc -l)

say "fleet queries in DuckDB"
QUERIES=$("$KTRIAGE" fleet --list | awk '{print $1}')
: > "$RUN/duckdb-times.tsv"
time_cmd() { local s; s=$(date +%s.%N); "$@" > /dev/null; elapsed "$s" "$(date +%s.%N)"; }
echo -e "load\t$(time_cmd "$KTRIAGE" fleet -q "$OUT" -c 'SELECT 1')" >> "$RUN/duckdb-times.tsv"
for q in $QUERIES; do
    echo -e "$q\t$(time_cmd "$KTRIAGE" fleet -q "$OUT" --query "$q")" >> "$RUN/duckdb-times.tsv"
done

spark_note="not run"
if [[ "${NO_SPARK:-0}" != 1 ]] && python3 -c 'import pyspark' 2>/dev/null && command -v java >/dev/null; then
    say "fleet queries in Spark (local[*])"
    start=$(date +%s.%N)
    python3 "$ROOT/scripts/fleet-spark.py" "$OUT" --timings "$RUN/spark-times.json" > "$RUN/spark.out" 2> "$RUN/spark.log" \
        || die "fleet-spark failed (see $RUN/spark.log)"
    spark_total=$(elapsed "$start" "$(date +%s.%N)")
    spark_note="ran"
else
    say "Spark skipped (no PySpark or Java, or NO_SPARK=1)"
fi

python3 - "$RUN" "$N" "$bundle_bytes" "$parquet_bytes" "$parquet_files" "$spark_note" "${spark_total:-0}" <<'PY' | tee "$RUN/results.md"
import json, statistics, sys
run, n, bundle_bytes, parquet_bytes, files, spark_note, spark_total = sys.argv[1:]
times = [float(l.split("\t")[1]) for l in open(f"{run}/export-times.tsv")]
times.sort()
mib = lambda b: f"{int(b) / 1048576:.1f} MiB"
print(f"## Fleet benchmark: {n} synthetic clusters\n")
print("| Measure | Value |\n|---|---|")
print(f"| Export wall per cluster (mean / median / p95) | {statistics.mean(times):.2f} s / {statistics.median(times):.2f} s / {times[int(0.95 * (len(times) - 1))]:.2f} s |")
print(f"| Export wall, all clusters (one process each, sequential) | {sum(times):.0f} s |")
print(f"| Bundles (.tar.zst), total | {mib(bundle_bytes)} |")
print(f"| Parquet, total ({files} files) | {mib(parquet_bytes)} ({int(parquet_bytes) / int(bundle_bytes):.2f}x the bundles) |")
duck = dict(l.rstrip("\n").split("\t") for l in open(f"{run}/duckdb-times.tsv"))
spark = json.load(open(f"{run}/spark-times.json")) if spark_note == "ran" else {}
print("\n| Query | DuckDB (`ktriage fleet`, load included) | Spark local[*] (query only) |\n|---|---|---|")
print(f"| load / register the tables | {float(duck['load']):.2f} s | {spark.get('register_ms', 0) / 1000:.2f} s |")
for name, secs in duck.items():
    if name == "load":
        continue
    s = f"{spark[name] / 1000:.2f} s" if name in spark else "not run"
    print(f"| {name} | {float(secs):.2f} s | {s} |")
if spark_note == "ran":
    print(f"\nSpark, whole script (JVM start, session, all queries): {float(spark_total):.1f} s.")
PY
say "results in $RUN/results.md"
