#!/usr/bin/env bash
# SQL models benchmark (not a test): Sluice's sql.models against dbt build on the same 20 models (bench/models:
# views, tables, one incremental merge) over 5,000,000 orders loaded into staging, in the same run.
#
#   bench/models.sh [--durable]    (--durable: PostgreSQL's default durability, as users' servers run)
#
# Each timed build is the whole project with the incremental model merging 1% new rows (its table is put back
# before every build). Runs alternate, best of 3. The database's busy time comes from its own statement log
# (log_min_duration_statement = 0: each statement's end and duration); a runner's overhead is its wall time
# minus the time the database was running at least one of its statements.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
durable=""; [ "${1:-}" = --durable ] && durable=--durable
prepare_orders 5000000
command -v dbt >/dev/null || bash scripts/setup
models=$PWD/bench/models

pg_dir=/tmp/sluice-pg-models-$$
work=$(mktemp -d)
trap 'scripts/pg-cluster stop "$pg_dir"; rm -rf "$work"' EXIT
scripts/pg-cluster start "$pg_dir" $durable >/dev/null
port=$(cat "$pg_dir/port")
q() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d bench "$@"; }
psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE bench"

echo "db: {type: postgres, host: 127.0.0.1, port: $port, database: bench, user: postgres, sslmode: disable}" > "$work/connections.yaml"
cat > "$work/load.yaml" <<YAML
apiVersion: sluice/v1
name: load
nodes:
  - {id: src, type: csv.read, settings: {path: $PWD/bench/data/orders.csv}}
  - {id: dst, type: postgres.write, settings: {connection: db, table: staging.orders, mode: replace}}
edges: [{from: src.out, to: dst.in}]
YAML
cat > "$work/native.yaml" <<YAML
apiVersion: sluice/v1
name: models
nodes:
  - {id: build, type: sql.models, settings: {connection: db, path: $models/models, schema: native, threads: 4}}
YAML
cat > "$work/profiles.yml" <<YAML
bench:
  target: bench
  outputs:
    bench: {type: postgres, host: 127.0.0.1, port: $port, user: postgres, password: "", dbname: bench, schema: dbt, threads: 4}
YAML
native() { (cd "$work" && "$sluice" run native.yaml >"$work/native.out" 2>&1) || { cat "$work/native.out" >&2; return 1; }; }
dbt_build() {
  DBT_SEND_ANONYMOUS_USAGE_STATS=false dbt build --project-dir "$models" --profiles-dir "$work" --target-path "$work/target" --log-path "$work/logs" \
    --no-version-check --threads 4 >"$work/dbt.out" 2>&1 || { tail -30 "$work/dbt.out" >&2; return 1; }
}

echo "loading 5,000,000 orders into staging.orders …"
(cd "$work" && "$sluice" run load.yaml >/dev/null)
q -c "CREATE TABLE staging.orders_new AS SELECT * FROM staging.orders WHERE id > 4950000; DELETE FROM staging.orders WHERE id > 4950000" -c "VACUUM ANALYZE staging.orders"
echo "first builds (the incremental tables get 99% of the rows) …"
native; dbt_build
q -c "INSERT INTO staging.orders SELECT * FROM staging.orders_new; ANALYZE staging.orders"
q -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] '" -c "SELECT pg_reload_conf()"

# busy LOG OFFSET: seconds during which the database ran at least one statement, from the log written after OFFSET.
busy() {
  python3 - "$1" "$2" <<'PY'
import datetime, re, sys
data = open(sys.argv[1], "rb").read()[int(sys.argv[2]):].decode("utf-8", "replace")
pattern = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \S+ \[\d+\] LOG:  duration: ([\d.]+) ms")
spans = []
for line in data.splitlines():
    m = pattern.match(line)
    if m:
        end = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        spans.append((end - float(m.group(2)) / 1000, end))
spans.sort()
total, current = 0.0, None
for start, end in spans:
    if current and start <= current[1]:
        current = (current[0], max(current[1], end))
    else:
        if current: total += current[1] - current[0]
        current = (start, end)
if current: total += current[1] - current[0]
print(f"{total:.3f}")
PY
}

# timed NAME COMMAND: restores the incremental tables, runs COMMAND, prints "WALL BUSY".
timed() {
  q -c "DELETE FROM native.orders_incremental WHERE id > 4950000; DELETE FROM dbt.orders_incremental WHERE id > 4950000" -c "CHECKPOINT"
  local offset; offset=$(stat -c %s "$pg_dir/server.log")
  local start; start=$(date +%s.%N)
  "$@"
  local end; end=$(date +%s.%N)
  sleep 0.2
  echo "$(awk "BEGIN{printf \"%.3f\", $end - $start}") $(busy "$pg_dir/server.log" "$offset")"
}

best_native="" best_dbt=""
for i in 1 2 3; do
  n=$(timed native); d=$(timed dbt_build)
  echo "run $i: sluice ${n% *} s (database busy ${n#* } s)   dbt ${d% *} s (database busy ${d#* } s)"
  if [ -z "$best_native" ] || awk "BEGIN{exit !(${n% *} < ${best_native% *})}"; then best_native=$n; fi
  if [ -z "$best_dbt" ] || awk "BEGIN{exit !(${d% *} < ${best_dbt% *})}"; then best_dbt=$d; fi
done
grep -q "20 of 20 models built" "$work/native.out" || { echo "sluice did not build the 20 models:" >&2; cat "$work/native.out" >&2; exit 1; }
nw=${best_native% *} nb=${best_native#* } dw=${best_dbt% *} db=${best_dbt#* }
mode=$([ -n "$durable" ] && echo "durable (fsync on)" || echo "fsync off")
awk -v nw="$nw" -v nb="$nb" -v dw="$dw" -v db="$db" -v mode="$mode" 'BEGIN {
  printf "\n20 models over 5,000,000 orders, PostgreSQL %s, best of 3:\n", mode
  printf "  sluice sql.models  %7.2f s   database busy %7.2f s   overhead %5.1f%%\n", nw, nb, 100 * (nw - nb) / nw
  printf "  dbt build          %7.2f s   database busy %7.2f s   overhead %5.1f%%\n", dw, db, 100 * (dw - db) / dw
  printf "  sluice / dbt: %.2fx\n", nw / dw
}' | tee "bench/results/models${durable:+-durable}.txt"
