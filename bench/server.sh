#!/usr/bin/env bash
# Server benchmarks (not tests), each against a reference measured in the same run:
#
#   bench/server.sh [RUNS]      (default 200 queued runs per worker count)
#
# 1. Queue throughput on the PostgreSQL store: RUNS trivial runs (2-row CSV → CSV) queued through the
#    API, then one `sluice worker --workers N` (N = 1, 2, 4) drains them; runs/s. Reference: the same
#    pipeline run RUNS/4 times by `sluice run` one after another (a process per run).
# 2. API latency under load (wrk, 2 threads, 16 connections, 10 s): GET /api/v1/pipelines (auth + store
#    read) and POST /api/v1/pipelines/{id}/runs (auth + insert), p50/p99. Reference: GET /healthz.
# 3. Memory: RSS of an idle `sluice serve` (SQLite, zero config, 2 workers), after start and after 20 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --scratch-path .build-release --product sluice >/dev/null
sluice=$PWD/.build-release/release/sluice
mkdir -p bench/results
work=$(mktemp -d /tmp/sluice-bench-server-XXXXXX)
pg_dir=/tmp/sluice-pg-bench-server-$$
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/pg-cluster stop "$pg_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
pg_url=$(scripts/pg-cluster start "$pg_dir")
port=$(cat "$pg_dir/port")
psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE store"
store="postgres://postgres@127.0.0.1:$port/store"
sq() { psql -X -qAt -h 127.0.0.1 -p "$port" -U postgres -d store -c "$1"; }

printf 'bench-admin-password' >"$work/admin.pw"
printf 'bench-master-password' >"$work/master.pw"
mkdir -p "$work/data/files"
printf 'id,amount\n1,10\n2,20\n' >"$work/data/files/in.csv"
pipeline_yaml='apiVersion: sluice/v1\nname: trivial\nnodes:\n  - {id: src, type: csv.read, settings: {path: in.csv}}\n  - {id: out, type: csv.write, settings: {path: out.csv}}\nedges:\n  - {from: src.out, to: out.in}\n'
printf "$pipeline_yaml" >"$work/data/files/trivial.yaml"

"$sluice" user add admin --role admin --password-file "$work/admin.pw" --master-password-file "$work/master.pw" --store "$store" --data-dir "$work/data" >/dev/null
start_server() { # $1 log, rest: arguments; sets server_url and server_pid
  local log=$1; shift
  "$sluice" serve --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  server_pid=$!; pids+=("$server_pid")
  server_url=""
  for _ in $(seq 1 200); do
    server_url=$(grep -o 'running at http://[0-9.:]*' "$log" | head -1 | sed 's/running at //') || true
    [ -n "$server_url" ] && return 0
    sleep 0.05
  done
  echo "server did not start" >&2; cat "$log" >&2; exit 1
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

start_server "$work/serve.log" --workers 0 --store "$store" --data-dir "$work/data" --master-password-file "$work/master.pw"
api=$server_url
access=$(curl -sf -X POST "$api/api/v1/auth/login" -H 'Content-Type: application/json' -d '{"username":"admin","password":"bench-admin-password"}' | json "['access_token']")
token=$(curl -sf -X POST "$api/api/v1/tokens" -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -d '{"name":"bench"}' | json "['token']")
doc=$(python3 -c "import json,sys; print(json.dumps({'document': open(sys.argv[1]).read()}))" "$work/data/files/trivial.yaml")
pipeline=$(curl -sf -X POST "$api/api/v1/pipelines" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$doc" | json "['id']")

queue_runs() {
  python3 - "$api" "$token" "$pipeline" "$1" <<'PY'
import http.client, sys, urllib.parse
base, token, pipeline, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
u = urllib.parse.urlparse(base)
c = http.client.HTTPConnection(u.hostname, u.port)
for _ in range(count):
    c.request("POST", f"/api/v1/pipelines/{pipeline}/runs", body="{}", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
PY
}
now() { date +%s.%N; }

echo "== 1. queue throughput: $runs trivial runs on the PostgreSQL store =="
reference_runs=$((runs / 4))
t0=$(now)
for _ in $(seq 1 "$reference_runs"); do (cd "$work/data/files" && "$sluice" run trivial.yaml >/dev/null); done
t1=$(now)
cli_rate=$(python3 -c "print(f'{$reference_runs / ($t1 - $t0):.1f}')")
echo "reference: sluice run, one process per run: $cli_rate runs/s"
results="workers,runs,seconds,runs_per_s,ratio_vs_cli"
for n in 1 2 4; do
  sq "DELETE FROM run_logs; DELETE FROM run_rejects; DELETE FROM runs" >/dev/null
  queue_runs "$runs"
  t0=$(now)
  "$sluice" worker --workers "$n" --store "$store" --data-dir "$work/data" --master-password-file "$work/master.pw" >"$work/worker$n.log" 2>&1 &
  wpid=$!; pids+=("$wpid")
  while [ "$(sq "SELECT count(*) FROM runs WHERE status IN ('queued','running')")" != 0 ]; do sleep 0.02; done
  t1=$(now)
  kill -TERM "$wpid"; wait "$wpid" || true
  bad=$(sq "SELECT count(*) FROM runs WHERE status <> 'succeeded'")
  [ "$bad" = 0 ] || { echo "$bad runs did not succeed" >&2; exit 1; }
  line=$(python3 -c "s=$t1-$t0; r=$runs/s; print(f'$n,$runs,{s:.2f},{r:.1f},{r/$cli_rate:.2f}')")
  results+=$'\n'"$line"
  echo "$n worker(s): $line"
done
echo "$results" > bench/results/server_runs.csv

echo "== 2. API latency under load (wrk -t2 -c16 -d10s) =="
cat >"$work/start.lua" <<LUA
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
latency() { # name, wrk args…
  local name=$1; shift
  local out; out=$(wrk -t2 -c16 -d10s --latency "$@")
  local p50 p99 rps
  p50=$(echo "$out" | awk '$1=="50%"{print $2}'); p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  echo "$name: p50 $p50, p99 $p99, $rps requests/s"
  echo "$name,$p50,$p99,$rps" >>bench/results/server_latency.csv
}
echo "endpoint,p50,p99,requests_per_s" > bench/results/server_latency.csv
latency "GET /healthz (reference)" "$api/healthz"
latency "GET /api/v1/pipelines" -H "Authorization: Bearer $token" "$api/api/v1/pipelines"
latency "POST /api/v1/pipelines/{id}/runs" -s "$work/start.lua" "$api/api/v1/pipelines/$pipeline/runs"
kill -TERM "$server_pid"; wait "$server_pid" || true

echo "== 3. memory of an idle server (SQLite store, 2 embedded workers) =="
mkdir -p "$work/idle"
"$sluice" user add admin --role admin --password-file "$work/admin.pw" --master-password-file "$work/master.pw" --data-dir "$work/idle" >/dev/null
start_server "$work/idle.log" --data-dir "$work/idle" --master-password-file "$work/master.pw"
sleep 2
rss() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
idle=$(rss "$server_pid")
mkdir -p "$work/idle/files" && cp "$work/data/files/in.csv" "$work/idle/files/"
access=$(curl -sf -X POST "$server_url/api/v1/auth/login" -H 'Content-Type: application/json' -d '{"username":"admin","password":"bench-admin-password"}' | json "['access_token']")
pid2=$(curl -sf -X POST "$server_url/api/v1/pipelines" -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -d "$doc" | json "['id']")
for _ in $(seq 1 20); do curl -sf -X POST "$server_url/api/v1/pipelines/$pid2/runs" -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -d '{}' >/dev/null; done
sleep 5
after=$(rss "$server_pid")
echo "idle RSS after start: $idle MB; after 20 runs and 5 s idle: $after MB"
printf 'state,rss_mb\nidle_after_start,%s\nidle_after_20_runs,%s\n' "$idle" "$after" > bench/results/server_memory.csv
