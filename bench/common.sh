# Shared by the remote-file benchmarks (sourced, not run): the release binary, the orders data, and best-of-3 timing.

# Builds the release binary into $sluice and makes sure bench/data/orders.csv holds $1 rows (default 5,000,000).
prepare_orders() {
  local rows=${1:-5000000}
  data=bench/data/orders.csv
  mkdir -p bench/data bench/results
  [ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }
  swift build -c release --scratch-path .build-release --product sluice >/dev/null
  sluice=$PWD/.build-release/release/sluice
  if [ ! -f "$data" ] || [ "$(cat bench/data/.rows 2>/dev/null)" != "$rows" ]; then
    echo "generating $rows rows into $data …"
    python3 bench/generate_orders.py "$rows" "$data"
    echo "$rows" > bench/data/.rows
  fi
}

# best COMMAND…: the best wall time of 3 runs and that run's peak RSS (KB), printed as "SECONDS RSS"; fails when a run fails.
best() {
  local best="" rss=""
  for _ in 1 2 3; do
    local timing; timing=$(mktemp)
    /usr/bin/time -o "$timing" -f "%e %M" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; cat "$timing" >&2; rm -f "$timing"; return 1; }
    local out; out=$(tail -1 "$timing"); rm -f "$timing"
    local t=${out% *} m=${out#* }
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  echo "$best $rss"
}
