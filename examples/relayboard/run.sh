#!/usr/bin/env bash
# The Relayboard ELT example end to end, against local servers started here and stopped when it ends:
# a partner's file served over HTTPS, a bucket (moto's S3 server), PostgreSQL, and a Slack webhook receiver.
#
#   examples/relayboard/run.sh            runs day 1, then day 2 (new deliveries and corrections of day 1)
#
# Uses `sluice` from $SLUICE, else the repository's release or debug build, else the PATH. Needs the tools
# scripts/setup installs (PostgreSQL, python3 with moto, openssl, curl).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sluice=${SLUICE:-}
if [ -z "$sluice" ]; then
  for candidate in "$root/.build/release/sluice" "$root/.build/debug/sluice" "$(command -v sluice || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then sluice=$candidate; break; fi
  done
fi
[ -n "$sluice" ] || { echo "no sluice binary: build it (swift build -c release) or set SLUICE" >&2; exit 2; }

work=$(mktemp -d /tmp/sluice-relayboard-XXXXXX)
chmod 755 "$work"
echo "working in $work"
"$root/scripts/pg-cluster" start "$work/pg" --watch $$ >/dev/null
"$root/scripts/s3-server" start "$work/s3" --watch $$ >/dev/null
"$root/scripts/api-server" start "$work/web" --watch $$ >/dev/null
for _ in $(seq 1 100); do [ -f "$work/web/ports" ] && break; sleep 0.1; done
pg_port=$(cat "$work/pg/port"); s3_port=$(cat "$work/s3/ports"); read -r http_port https_port < "$work/web/ports"

# The partner's files, served over HTTPS with the server's self-signed certificate.
mkdir -p "$work/web/static" && cp "$here"/data/*.csv "$work/web/static/"
# The bucket (moto creates it without a signature) and the warehouse database.
curl -s -f -X PUT "http://127.0.0.1:$s3_port/relayboard-landing" >/dev/null
psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c "CREATE DATABASE relayboard" >/dev/null

cp -r "$here/pipeline.yaml" "$here/models" "$here/tests" "$work/"
cat > "$work/connections.yaml" <<YAML
partner: {type: http, baseUrl: "https://127.0.0.1:$https_port", caFile: "$work/web/cert.pem"}
lake: {type: s3, endpoint: "http://127.0.0.1:$s3_port", region: us-east-1, bucket: relayboard-landing, pathStyle: true, accessKeyId: demo, secretAccessKey: demo-secret}
warehouse: {type: postgres, host: 127.0.0.1, port: $pg_port, database: relayboard, user: postgres, sslmode: disable}
team: {type: slack, webhookUrl: "http://127.0.0.1:$http_port/slack/hooks/relayboard"}
YAML

cd "$work"
for day in 2026-12-01 2026-12-02; do
  echo; echo "== $day"
  "$sluice" run pipeline.yaml --param "source_url=https://127.0.0.1:$https_port/static/deliveries-$day.csv" --param "day=$day"
done

echo; echo "== the raw copies in the bucket"
"$sluice" discover lake --path "raw/**"
echo; echo "== analytics.deliveries"
psql -X -h 127.0.0.1 -p "$pg_port" -U postgres -d relayboard -c \
  "SELECT picked_up_at::date AS day, status, count(*) FROM analytics.deliveries GROUP BY 1, 2 ORDER BY 1, 2"
echo "== what Slack received"
curl -s "http://127.0.0.1:$http_port/hook/received?store=slack:relayboard" | python3 -c '
import json, sys
for message in json.load(sys.stdin)["rows"]:
    print(message.get("text", ""))
    for block in message.get("blocks", [])[1:]:
        print(block.get("text", {}).get("text", ""))
    print()'
