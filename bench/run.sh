#!/usr/bin/env bash
# Sluice benchmark (not a test): builds a release binary, generates the orders CSV, and times Sluice
# against polars and DuckDB on the same file in the same run. Prints wall time, peak RSS and ratios.
#
#   bench/run.sh [ROWS]        (default 5,000,000 rows, about 720 MB)
#
# Requirements: python3 with pip (polars and duckdb are installed if missing), GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-5000000}
data=bench/data/orders.csv
mkdir -p bench/data bench/results

python3 -c "import polars, duckdb" 2>/dev/null || pip install --quiet polars duckdb
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
swift build -c release --scratch-path .build-release --product sluice >/dev/null
sluice=.build-release/release/sluice

if [ ! -f "$data" ] || [ "$(cat bench/data/.rows 2>/dev/null)" != "$rows" ]; then
  echo "generating $rows rows into $data …"
  python3 bench/generate_orders.py "$rows" "$data"
  echo "$rows" > bench/data/.rows
fi
cat "$data" > /dev/null   # warm the page cache so every tool reads from memory

# measure NAME COMMAND…: best wall time of 3 runs and the peak RSS of that run, appended to $results.
results=$(mktemp)
measure() {
  local name=$1; shift
  local best="" rss=""
  for _ in 1 2 3; do
    local out timing
    timing=$(mktemp)
    /usr/bin/time -o "$timing" -f "%e %M" "$@" >/dev/null 2>&1
    out=$(tail -1 "$timing"); rm -f "$timing"
    local t=${out% *} m=${out#* }
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  echo "$name $best $rss" >> "$results"
}

cat > bench/results/polars_transform.py <<'PY'
import polars as pl
(pl.scan_csv("bench/data/orders.csv")
   .filter((pl.col("status") == "paid") & (pl.col("amount") > 50))
   .with_columns((pl.col("amount") * 1.2).alias("amount_with_tax"))
   .group_by(["country", "status"])
   .agg(pl.len().alias("orders"), pl.col("amount").sum().alias("revenue"), pl.col("amount").mean().alias("average"),
        pl.col("amount_with_tax").sum().alias("revenue_with_tax"))
   .collect().write_csv("bench/results/polars_transform.csv"))
PY
cat > bench/results/polars_reserialize.py <<'PY'
import polars as pl
pl.scan_csv("bench/data/orders.csv").sink_csv("bench/results/polars_reserialize.csv")
PY
cat > bench/results/duckdb_transform.py <<'PY'
import duckdb
duckdb.sql("""COPY (SELECT country, status, count(*) AS orders, sum(amount) AS revenue, avg(amount) AS average,
                           sum(amount * 1.2) AS revenue_with_tax
                    FROM read_csv('bench/data/orders.csv') WHERE status = 'paid' AND amount > 50
                    GROUP BY country, status) TO 'bench/results/duckdb_transform.csv' (HEADER)""")
PY
cat > bench/results/duckdb_reserialize.py <<'PY'
import duckdb
duckdb.sql("COPY (SELECT * FROM read_csv('bench/data/orders.csv')) TO 'bench/results/duckdb_reserialize.csv' (HEADER)")
PY

measure sluice_transform "$sluice" run bench/pipelines/transform.yaml
measure polars_transform python3 bench/results/polars_transform.py
measure duckdb_transform python3 bench/results/duckdb_transform.py
measure sluice_reserialize "$sluice" run bench/pipelines/reserialize.yaml
measure polars_reserialize python3 bench/results/polars_reserialize.py
measure duckdb_reserialize python3 bench/results/duckdb_reserialize.py

# Edge samples (every run keeps each node output's first 20 rows): the same pipelines with sampleRows: 0, run
# alternately with the sampled ones, best of 7 each (timed in nanoseconds: the difference is a few milliseconds), so
# the difference is sampling's cost and not the machine's drift.
for task in transform reserialize; do
  sed 's/^nodes:/settings: { sampleRows: 0 }\nnodes:/' "bench/pipelines/$task.yaml" > "bench/results/${task}_unsampled.yaml"
done
measure_alternating() {
  local name=$1 a=$2 b=$3 best_a="" best_b=""
  for _ in 1 2 3 4 5 6 7; do
    for which in a b; do
      local file start t
      if [ $which = a ]; then file=$a; else file=$b; fi
      start=$(date +%s%N)
      "$sluice" run "$file" >/dev/null 2>&1
      t=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN{printf "%.4f", (b - a) / 1e9}')
      if [ $which = a ]; then
        if [ -z "$best_a" ] || awk "BEGIN{exit !($t < $best_a)}"; then best_a=$t; fi
      elif [ -z "$best_b" ] || awk "BEGIN{exit !($t < $best_b)}"; then best_b=$t; fi
    done
  done
  echo "sampling_$name $best_a $best_b" >> "$results"
}
measure_alternating transform bench/pipelines/transform.yaml bench/results/transform_unsampled.yaml
measure_alternating reserialize bench/pipelines/reserialize.yaml bench/results/reserialize_unsampled.yaml

mkdir -p bench/results/tiny
(cd bench/results/tiny && "$OLDPWD/$sluice" init --force >/dev/null)
measure sluice_tiny "$sluice" run bench/results/tiny/pipeline.yaml

bytes=$(stat -c %s "$data")
echo
echo "orders.csv: $rows rows, $((bytes / 1000000)) MB; $(nproc) cores; best of 3 runs, page cache warm"
echo
awk -v bytes="$bytes" '
  { t[$1] = $2; m[$1] = $3 }
  END {
    printf "| task | tool | wall s | peak RSS MB | vs polars | vs DuckDB |\n|---|---|---|---|---|---|\n"
    split("transform reserialize", tasks, " ")
    for (k = 1; k <= 2; k++) {
      task = tasks[k]
      split("sluice polars duckdb", tools, " ")
      for (j = 1; j <= 3; j++) {
        key = tools[j] "_" task
        printf "| %s | %s | %.2f | %.0f | %.2f× | %.2f× |\n", task, tools[j], t[key], m[key] / 1024, t[key] / t["polars_" task], t[key] / t["duckdb_" task]
      }
    }
    printf "| tiny pipeline (sluice init example) | sluice | %.3f | %.0f | | |\n", t["sluice_tiny"], m["sluice_tiny"] / 1024
    printf "\nEdge samples (sampleRows 20 vs 0, alternating runs, best of 7):\n\n| task | sampled s | unsampled s | cost |\n|---|---|---|---|\n"
    for (k = 1; k <= 2; k++) {
      key = "sampling_" tasks[k]
      printf "| %s | %.3f | %.3f | %+.1f %% |\n", tasks[k], t[key], m[key], (t[key] / m[key] - 1) * 100
    }
  }' "$results"
rm -f "$results"
