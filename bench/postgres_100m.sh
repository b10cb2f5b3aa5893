#!/usr/bin/env bash
# Bounded memory on a large table (not a test): a ROWS-row PostgreSQL table (default 100,000,000, built in the
# server with generate_series) read by `postgres.read` through a filter that keeps nothing, with wall time and peak
# RSS; reference: `psql -c "COPY orders TO STDOUT" > /dev/null` on the same table in the same run.
#
#   bench/postgres_100m.sh [ROWS]        (about 15 GB of disk and 15 minutes for 100M rows on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000000}
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
swift build -c release --scratch-path .build-release --product sluice >/dev/null
sluice=$PWD/.build-release/release/sluice
mkdir -p bench/results
pg_dir=/tmp/sluice-pg-bench-100m-$$
work=$(mktemp -d)
trap 'scripts/pg-cluster stop "$pg_dir"; rm -rf "$work"' EXIT
scripts/pg-cluster start "$pg_dir" >/dev/null
port=$(cat "$pg_dir/port")
q() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }
echo "building a $rows-row table…"
t0=$(date +%s)
q -c "CREATE UNLOGGED TABLE orders AS
      SELECT g AS id, g % 100000 AS customer_id, timestamptz '2026-01-01' + g * interval '1 second' AS created_at,
             (g % 10000) / 100.0 AS amount, (ARRAY['paid','open','refunded'])[1 + g % 3] AS status,
             CASE WHEN g % 4 = 0 THEN NULL ELSE 'note ' || g END AS note
      FROM generate_series(1, $rows) AS g"
q -c "VACUUM ANALYZE orders"
echo "built in $(( $(date +%s) - t0 )) s; $(q -Atc "SELECT pg_size_pretty(pg_total_relation_size('orders'))")"

cat > "$work/connections.yaml" <<YAML
db: {type: postgres, host: 127.0.0.1, port: $port, database: postgres, user: postgres, sslmode: disable}
YAML
cat > "$work/read.yaml" <<'YAML'
apiVersion: sluice/v1
name: read-all
nodes:
  - {id: orders, type: postgres.read, settings: {connection: db, table: public.orders}}
  - {id: none, type: filter, settings: {where: "id < 0"}}
  - {id: out, type: csv.write, settings: {path: none.csv}}
edges:
  - {from: orders.out, to: none.in}
  - {from: none.out, to: out.in}
YAML
measure() { # label, command…
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r wall rss < "$work/time"
  echo "$label: $wall s, peak RSS $((rss / 1024)) MB"
  echo "$label,$wall,$((rss / 1024))" >> bench/results/postgres_100m.csv
}
echo "tool,wall_s,peak_rss_mb" > bench/results/postgres_100m.csv
measure "psql COPY TO STDOUT > /dev/null (reference)" psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "COPY orders TO STDOUT"
measure "sluice postgres.read → filter (keeps none)" "$sluice" run "$work/read.yaml" --connections "$work/connections.yaml"
grep -q "" "$work/none.csv" 2>/dev/null && echo "output: $(wc -l < "$work/none.csv") line(s) (the header)"
