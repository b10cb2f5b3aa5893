#!/usr/bin/env bash
# PostgreSQL load benchmarks (not tests): Sluice against psql on the same data, in the same run.
#
#   bench/postgres.sh [ROWS] [--durable]   (default 5,000,000 rows; uses bench/data/orders.csv from bench/run.sh's generator)
#
# By default the cluster runs with fsync off (what the tests use); --durable keeps PostgreSQL's default durability
# (fsync, synchronous commit, full-page writes), as users' servers run.
#
# Starts a throwaway cluster (scripts/pg-cluster), then measures wall time and peak RSS of:
#   csv → table:   psql \copy … CSV HEADER   vs  sluice csv.read → postgres.write (append, and replace)
#   table → table: psql COPY TO STDOUT | psql COPY FROM STDIN   vs  sluice postgres.read → postgres.write
#                  (the same pipe in binary format is measured too, for comparison; the target is against text)
#                  and the first sync of an incremental read (cursor created_at, key id) into the same table
set -euo pipefail
cd "$(dirname "$0")/.."
rows=5000000; durable=""
for arg in "$@"; do
  case "$arg" in
    --durable) durable=--durable ;;
    *) rows=$arg ;;
  esac
done
data=bench/data/orders.csv
mkdir -p bench/data bench/results
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
swift build -c release --scratch-path .build-release --product sluice >/dev/null
sluice=$PWD/.build-release/release/sluice
if [ ! -f "$data" ] || [ "$(cat bench/data/.rows 2>/dev/null)" != "$rows" ]; then
  python3 bench/generate_orders.py "$rows" "$data"; echo "$rows" > bench/data/.rows
fi
cat "$data" > /dev/null

pg_dir=/tmp/sluice-pg-bench-$$
trap 'scripts/pg-cluster stop "$pg_dir"' EXIT
url=$(scripts/pg-cluster start "$pg_dir" $durable)
port=$(cat "$pg_dir/port")
q() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }
columns="id bigint, customer_id bigint, created_at timestamptz, order_date date, amount double precision, quantity bigint, status text, note text, email text, country text, is_gift boolean, discount_code text"
reset() { q -c "DROP TABLE IF EXISTS orders, orders_copy, orders__sluice_new, sluice_state; CREATE TABLE orders ($columns); CREATE TABLE orders_copy ($columns)" ; }

work=$(mktemp -d)
echo "db: {type: postgres, host: 127.0.0.1, port: $port, database: postgres, user: postgres, sslmode: disable}" > "$work/connections.yaml"
cat > "$work/load.yaml" <<YAML
apiVersion: sluice/v1
name: load
nodes:
  - {id: src, type: csv.read, settings: {path: $PWD/$data}}
  - {id: dst, type: postgres.write, settings: {connection: db, table: orders, mode: MODE}}
edges:
  - {from: src.out, to: dst.in}
YAML
sed 's/MODE/append/' "$work/load.yaml" > "$work/append.yaml"
sed 's/MODE/replace/' "$work/load.yaml" > "$work/replace.yaml"
cat > "$work/copy.yaml" <<YAML
apiVersion: sluice/v1
name: copy
nodes:
  - {id: src, type: postgres.read, settings: {connection: db, table: orders}}
  - {id: dst, type: postgres.write, settings: {connection: db, table: orders_copy}}
edges:
  - {from: src.out, to: dst.in}
YAML

cat > "$work/incremental.yaml" <<YAML
apiVersion: sluice/v1
name: incremental
nodes:
  - {id: src, type: postgres.read, settings: {connection: db, table: orders, mode: incremental, cursor: created_at, key: [id]}}
  - {id: dst, type: postgres.write, settings: {connection: db, table: orders_copy}}
edges:
  - {from: src.out, to: dst.in}
YAML

results=$(mktemp)
measure() { # NAME SETUP COMMAND…: best of 2 runs, each after SETUP
  local name=$1 setup=$2; shift 2
  local best="" rss=""
  for _ in 1 2; do
    eval "$setup"
    local timing; timing=$(mktemp)
    /usr/bin/time -o "$timing" -f "%e %M" "$@" >/dev/null 2>&1
    local out; out=$(tail -1 "$timing"); rm -f "$timing"
    local t=${out% *} m=${out#* }
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  echo "$name $best $rss" >> "$results"
}

measure psql_load "reset" psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "\\copy orders FROM '$PWD/$data' CSV HEADER"
measure sluice_append "reset" "$sluice" run "$work/append.yaml"
measure sluice_replace "reset" "$sluice" run "$work/replace.yaml"
reset; q -c "\\copy orders FROM '$PWD/$data' CSV HEADER"
measure psql_pipe "q -c 'TRUNCATE orders_copy'" bash -c "psql -X -h 127.0.0.1 -p $port -U postgres -d postgres -c 'COPY orders TO STDOUT' | psql -X -q -h 127.0.0.1 -p $port -U postgres -d postgres -c 'COPY orders_copy FROM STDIN'"
measure psql_pipe_binary "q -c 'TRUNCATE orders_copy'" bash -c "psql -X -h 127.0.0.1 -p $port -U postgres -d postgres -c 'COPY orders TO STDOUT (FORMAT binary)' | psql -X -q -h 127.0.0.1 -p $port -U postgres -d postgres -c 'COPY orders_copy FROM STDIN (FORMAT binary)'"
measure sluice_copy "q -c 'TRUNCATE orders_copy'" "$sluice" run "$work/copy.yaml"
[ "$(q -Atc 'SELECT count(*) FROM orders_copy')" = "$rows" ] || { echo "row count mismatch" >&2; exit 1; }
measure sluice_incremental "q -c 'TRUNCATE orders_copy; DROP TABLE IF EXISTS sluice_state'" "$sluice" run "$work/incremental.yaml"
[ "$(q -Atc 'SELECT count(*) FROM orders_copy')" = "$rows" ] || { echo "row count mismatch (incremental)" >&2; exit 1; }

echo
echo "$rows rows ($(( $(stat -c %s "$data") / 1000000 )) MB CSV); $(nproc) cores; best of 2; PostgreSQL 15 on 127.0.0.1 ($([ -n "$durable" ] && echo "default durability: fsync on" || echo "fsync off") for every tool)"
echo
awk '{ t[$1] = $2; m[$1] = $3 }
  END {
    printf "| task | tool | wall s | peak RSS MB | ratio |\n|---|---|---|---|---|\n"
    printf "| CSV → table | psql \\\\copy | %.2f | %.0f | 1.00× |\n", t["psql_load"], m["psql_load"] / 1024
    printf "| CSV → table | sluice append | %.2f | %.0f | %.2f× psql |\n", t["sluice_append"], m["sluice_append"] / 1024, t["sluice_append"] / t["psql_load"]
    printf "| CSV → table | sluice replace | %.2f | %.0f | %.2f× psql |\n", t["sluice_replace"], m["sluice_replace"] / 1024, t["sluice_replace"] / t["psql_load"]
    printf "| table → table | psql COPY TO \\\\| COPY FROM | %.2f | %.0f | 1.00× |\n", t["psql_pipe"], m["psql_pipe"] / 1024
    printf "| table → table | sluice | %.2f | %.0f | %.2f× pipe |\n", t["sluice_copy"], m["sluice_copy"] / 1024, t["sluice_copy"] / t["psql_pipe"]
    printf "| table → table | sluice, incremental first sync (ordered by created_at, id) | %.2f | %.0f | %.2f× pipe |\n", t["sluice_incremental"], m["sluice_incremental"] / 1024, t["sluice_incremental"] / t["psql_pipe"]
    printf "| table → table | (for comparison) the same pipe in binary | %.2f | %.0f | %.2f× pipe; sluice %.2f× it |\n", t["psql_pipe_binary"], m["psql_pipe_binary"] / 1024, t["psql_pipe_binary"] / t["psql_pipe"], t["sluice_copy"] / t["psql_pipe_binary"]
  }' "$results"
rm -rf "$results" "$work"
