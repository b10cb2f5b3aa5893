#!/usr/bin/env bash
# HTTP source and per-row request benchmarks (not tests), against a local API (scripts/api-server serve-fast, on asyncio).
#
#   bench/http.sh [PAGES] [PAGE_SIZE]   (default 1,000 pages of 1,000 records: 1,000,000 records)
#
# http.read: PAGES cursor-paginated pages → a JSON Lines file, measured in the same run against
#   - a Python `requests` loop fetching the same pages and writing the same file (json.loads / json.dumps), and
#   - dlt's rest_api source writing JSON Lines (when dlt is installed: pip install dlt).
# http.request: 10,000 rows against an endpoint answering after 20 ms, concurrency 32, against the ideal
#   10,000 × 20 ms / 32 = 6.25 s.
# Wall time and peak RSS (/usr/bin/time), best of 2.
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${1:-1000}; size=${2:-1000}
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
swift build -c release --scratch-path .build-release --product sluice >/dev/null
sluice=$PWD/.build-release/release/sluice
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 scripts/api-server serve-fast "$port" & server=$!
work=$(mktemp -d)
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/bench?cursor=0&size=1" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
# Warm the server's page cache so every tool reads the same bytes at the same cost.
for c in $(seq 0 $((pages - 1))); do curl -sf "$base/bench?cursor=$c&size=$size&pages=$pages" >/dev/null; done

echo "api: {type: http, baseUrl: \"$base\"}" > "$work/connections.yaml"
cat > "$work/read.yaml" <<YAML
apiVersion: sluice/v1
name: bench-read
nodes:
  - id: api
    type: http.read
    settings: {connection: api, path: /bench, query: {size: '$size', pages: '$pages'}, records: data,
               pagination: {style: cursor, cursorPath: next, cursorParam: cursor}}
  - {id: out, type: jsonl.write, settings: {path: $work/sluice.jsonl}}
edges:
  - {from: api.out, to: out.in}
YAML
cat > "$work/requests_loop.py" <<PY
import json, requests
session = requests.Session()
cursor = "0"
with open("$work/python.jsonl", "w") as out:
    while cursor is not None:
        body = session.get("$base/bench", params={"size": "$size", "pages": "$pages", "cursor": cursor}).json()
        for record in body["data"]:
            out.write(json.dumps(record) + "\n")
        cursor = body["next"]
PY
cat > "$work/dlt_rest.py" <<PY
import dlt
from dlt.sources.rest_api import rest_api_source
source = rest_api_source({
    "client": {"base_url": "$base/", "paginator": {"type": "cursor", "cursor_path": "next", "cursor_param": "cursor"}},
    "resources": [{"name": "bench", "endpoint": {"path": "bench", "params": {"size": "$size", "pages": "$pages"}, "data_selector": "data"}}],
})
pipeline = dlt.pipeline(pipeline_name="bench_http", destination=dlt.destinations.filesystem("file://$work/dlt"), dataset_name="bench",
                        pipelines_dir="$work/dlt_pipelines")
pipeline.run(source, loader_file_format="jsonl")
PY
# 10,000 lookups answering after 20 ms.
python3 -c "print('customer_id'); [print(i % 800 + 1) for i in range(10000)]" > "$work/ids.csv"
cat > "$work/request.yaml" <<YAML
apiVersion: sluice/v1
name: bench-request
nodes:
  - {id: src, type: csv.read, settings: {path: $work/ids.csv}}
  - {id: lookup, type: http.request, settings: {connection: api, path: "/customers/{{customer_id}}", query: {delay_ms: '20'}, concurrency: 32, fields: {score: data.score}}}
  - {id: out, type: jsonl.write, settings: {path: $work/enriched.jsonl}}
edges:
  - {from: src.out, to: lookup.in}
  - {from: lookup.out, to: out.in}
YAML

results=$(mktemp)
measure() { # NAME COMMAND…: best of 2
  local name=$1; shift
  local best="" rss=""
  for _ in 1 2; do
    local timing; timing=$(mktemp)
    /usr/bin/time -o "$timing" -f "%e %M" "$@" >/dev/null 2>"$work/$name.err" || { echo "$name failed:"; cat "$work/$name.err"; exit 1; }
    local out; out=$(tail -1 "$timing"); rm -f "$timing"
    local t=${out% *} m=${out#* }
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  echo "$name $best $rss" >> "$results"
}
measure sluice_read "$sluice" run "$work/read.yaml"
measure python_requests python3 "$work/requests_loop.py"
records=$((pages * size))
[ "$(wc -l < "$work/sluice.jsonl")" = "$records" ] || { echo "sluice wrote $(wc -l < "$work/sluice.jsonl") records, expected $records" >&2; exit 1; }
[ "$(wc -l < "$work/python.jsonl")" = "$records" ] || { echo "python wrote the wrong count" >&2; exit 1; }
if python3 -c "import dlt" 2>/dev/null; then measure dlt_rest_api python3 "$work/dlt_rest.py"; fi
measure sluice_request "$sluice" run "$work/request.yaml"
[ "$(wc -l < "$work/enriched.jsonl")" = "10000" ] || { echo "http.request wrote the wrong count" >&2; exit 1; }

echo
echo "$records records in $pages cursor-paginated pages from a local API ($(( $(stat -c %s "$work/sluice.jsonl") / 1000000 )) MB of JSON Lines); $(nproc) cores; best of 2"
echo
awk '{ t[$1] = $2; m[$1] = $3 }
  END {
    printf "| task | tool | wall s | peak RSS MB | ratio |\n|---|---|---|---|---|\n"
    printf "| API → JSONL | python requests loop | %.2f | %.0f | 1.00× |\n", t["python_requests"], m["python_requests"] / 1024
    printf "| API → JSONL | sluice http.read | %.2f | %.0f | %.2f× python (lower is faster) |\n", t["sluice_read"], m["sluice_read"] / 1024, t["sluice_read"] / t["python_requests"]
    if ("dlt_rest_api" in t) printf "| API → JSONL | dlt rest_api | %.2f | %.0f | sluice %.2f× dlt |\n", t["dlt_rest_api"], m["dlt_rest_api"] / 1024, t["sluice_read"] / t["dlt_rest_api"]
    printf "| 10,000 lookups, 20 ms each, concurrency 32 | sluice http.request | %.2f | %.0f | %.2f× the ideal 6.25 s |\n", t["sluice_request"], m["sluice_request"] / 1024, t["sluice_request"] / 6.25
  }' "$results"
rm -f "$results"
