#!/usr/bin/env bash
# Transform benchmark (not a test): join, sort, window and dedupe over the 5M-row orders file (and 1M customers), Sluice
# against polars' lazy queries and DuckDB on the same files in the same run; then join and sort again with a small
# memoryLimit, so they spill to disk. Prints wall time, peak RSS and ratios.
#
#   bench/transforms.sh [ORDER_ROWS] [CUSTOMER_ROWS]     (default 5,000,000 and 1,000,000)
#
# Requirements: python3 with pip (polars and duckdb are installed if missing), GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-5000000}
customers=${2:-1000000}
mkdir -p bench/data bench/results

python3 -c "import polars, duckdb" 2>/dev/null || pip install --quiet polars duckdb
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
swift build -c release --scratch-path .build-release --product sluice >/dev/null
sluice=.build-release/release/sluice

if [ ! -f bench/data/orders.csv ] || [ "$(cat bench/data/.rows 2>/dev/null)" != "$rows" ]; then
  echo "generating $rows orders …"
  python3 bench/generate_orders.py "$rows" bench/data/orders.csv
  echo "$rows" > bench/data/.rows
fi
if [ ! -f bench/data/customers.csv ] || [ "$(cat bench/data/.customers 2>/dev/null)" != "$customers" ]; then
  echo "generating $customers customers …"
  python3 bench/generate_customers.py "$customers" bench/data/customers.csv
  echo "$customers" > bench/data/.customers
fi
cat bench/data/orders.csv bench/data/customers.csv > /dev/null   # warm the page cache

results=$(mktemp)
# measure NAME COMMAND…: best wall time of 3 runs and the peak RSS of that run.
measure() {
  local name=$1; shift
  local best="" rss=""
  for _ in 1 2 3; do
    local timing out
    timing=$(mktemp)
    /usr/bin/time -o "$timing" -f "%e %M" "$@" >/dev/null 2>&1 || { echo "$name failed" >&2; cat "$timing" >&2; }
    out=$(tail -1 "$timing"); rm -f "$timing"
    local t=${out% *} m=${out#* }
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  echo "$name $best $rss" >> "$results"
}

cat > bench/results/polars_join.py <<'PY'
import polars as pl
o = pl.scan_csv("bench/data/orders.csv")
c = pl.scan_csv("bench/data/customers.csv")
o.join(c, left_on="customer_id", right_on="id").group_by("segment").agg(pl.col("amount").sum().alias("revenue")).collect().write_csv("bench/results/polars_join.csv")
PY
cat > bench/results/duckdb_join.py <<'PY'
import duckdb
duckdb.sql("""COPY (SELECT c.segment, sum(o.amount) AS revenue FROM read_csv('bench/data/orders.csv') o
                    JOIN read_csv('bench/data/customers.csv') c ON o.customer_id = c.id GROUP BY c.segment)
              TO 'bench/results/duckdb_join.csv' (HEADER)""")
PY
cat > bench/results/polars_sort.py <<'PY'
import polars as pl
pl.scan_csv("bench/data/orders.csv").sort(["amount", "id"], descending=[True, False]).sink_csv("bench/results/polars_sort.csv")
PY
cat > bench/results/duckdb_sort.py <<'PY'
import duckdb
duckdb.sql("COPY (SELECT * FROM read_csv('bench/data/orders.csv') ORDER BY amount DESC, id) TO 'bench/results/duckdb_sort.csv' (HEADER)")
PY
cat > bench/results/polars_window.py <<'PY'
import polars as pl
pl.scan_csv("bench/data/orders.csv").filter(pl.int_range(pl.len()).over("customer_id", order_by="created_at") == 0).sink_csv("bench/results/polars_window.csv")
PY
cat > bench/results/duckdb_window.py <<'PY'
import duckdb
duckdb.sql("""COPY (SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY created_at) AS rn
                    FROM read_csv('bench/data/orders.csv')) WHERE rn = 1) TO 'bench/results/duckdb_window.csv' (HEADER)""")
PY
cat > bench/results/polars_dedupe.py <<'PY'
import polars as pl
pl.scan_csv("bench/data/orders.csv").unique(subset=["customer_id", "order_date"], keep="first", maintain_order=True).sink_csv("bench/results/polars_dedupe.csv")
PY
cat > bench/results/duckdb_dedupe.py <<'PY'
import duckdb
duckdb.sql("""COPY (SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY customer_id, order_date ORDER BY id) AS rn
                    FROM read_csv('bench/data/orders.csv')) WHERE rn = 1 ORDER BY id) TO 'bench/results/duckdb_dedupe.csv' (HEADER)""")
PY

measure sluice_join "$sluice" run bench/pipelines/join.yaml
measure polars_join python3 bench/results/polars_join.py
measure duckdb_join python3 bench/results/duckdb_join.py
measure sluice_sort "$sluice" run bench/pipelines/sort.yaml
measure polars_sort python3 bench/results/polars_sort.py
measure duckdb_sort python3 bench/results/duckdb_sort.py
measure sluice_window "$sluice" run bench/pipelines/window.yaml
measure polars_window python3 bench/results/polars_window.py
measure duckdb_window python3 bench/results/duckdb_window.py
measure sluice_dedupe "$sluice" run bench/pipelines/dedupe.yaml
measure polars_dedupe python3 bench/results/polars_dedupe.py
measure duckdb_dedupe python3 bench/results/duckdb_dedupe.py
measure sluice_joinspill "$sluice" run bench/pipelines/join.yaml --param memory=32MB
measure sluice_sortspill "$sluice" run bench/pipelines/sort.yaml --param memory=64MB

echo
echo "orders.csv: $rows rows, customers.csv: $customers rows; $(nproc) cores; best of 3 runs, page cache warm"
echo
awk '
  { t[$1] = $2; m[$1] = $3 }
  END {
    printf "| task | tool | wall s | peak RSS MB | vs polars | vs DuckDB |\n|---|---|---|---|---|---|\n"
    split("join sort window dedupe", tasks, " ")
    for (k = 1; k <= 4; k++) {
      task = tasks[k]
      split("sluice polars duckdb", tools, " ")
      for (j = 1; j <= 3; j++) {
        key = tools[j] "_" task
        printf "| %s | %s | %.2f | %.0f | %.2f× | %.2f× |\n", task, tools[j], t[key], m[key] / 1024, t[key] / t["polars_" task], t[key] / t["duckdb_" task]
      }
    }
    printf "| join, memoryLimit 32MB (spills) | sluice | %.2f | %.0f | %.2f× | %.2f× |\n", t["sluice_joinspill"], m["sluice_joinspill"] / 1024, t["sluice_joinspill"] / t["polars_join"], t["sluice_joinspill"] / t["duckdb_join"]
    printf "| sort, memoryLimit 64MB (spills) | sluice | %.2f | %.0f | %.2f× | %.2f× |\n", t["sluice_sortspill"], m["sluice_sortspill"] / 1024, t["sluice_sortspill"] / t["polars_sort"], t["sluice_sortspill"] / t["duckdb_sort"]
  }' "$results"
rm -f "$results"
