#!/usr/bin/env bash
# Remote-file benchmark (not a test): the orders CSV moved through moto's S3 server on loopback, Sluice against
# the AWS command line (`aws s3 cp`, boto3) moving the same bytes against the same server in the same run.
#
#   bench/s3.sh [ROWS]        (default 5,000,000 rows, about 720 MB)
#
# Prints best-of-3 wall times, Sluice's peak RSS and the ratios:
#   S3 → local:  Sluice csv.read (s3) → csv.write (local)   vs  aws s3 cp s3://… local
#   S3 → S3:     Sluice csv.read (s3) → csv.write (s3)      vs  aws s3 cp s3://… local, then aws s3 cp local s3://…
# Requirements: the AWS CLI (pip install awscli), moto[server] (scripts/setup), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
rows=${1:-5000000}
prepare_orders "$rows"

work=$(mktemp -d /tmp/sluice-bench-s3.XXXXXX)
port=$(scripts/s3-server start "$work/s3" --watch $$)
trap 'scripts/s3-server stop "$work/s3"; rm -rf "$work"' EXIT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_DEFAULT_REGION=us-east-1
aws_s3() { aws --endpoint-url "http://127.0.0.1:$port" s3 "$@" >/dev/null; }
aws_s3 mb s3://bench-source
aws_s3 mb s3://bench-target
aws_s3 cp "$data" s3://bench-source/orders.csv

cat > "$work/connections.yaml" <<YAML
source: {type: s3, endpoint: "http://127.0.0.1:$port", bucket: bench-source, pathStyle: true, accessKeyId: bench, secretAccessKey: bench-secret}
target: {type: s3, endpoint: "http://127.0.0.1:$port", bucket: bench-target, pathStyle: true, accessKeyId: bench, secretAccessKey: bench-secret}
YAML
cat > "$work/to-local.yaml" <<YAML
apiVersion: sluice/v1
name: s3-to-local
nodes:
  - {id: read, type: csv.read, settings: {connection: source, path: orders.csv}}
  - {id: write, type: csv.write, settings: {path: $work/copy.csv}}
edges: [{from: read.out, to: write.in}]
YAML
cat > "$work/to-s3.yaml" <<YAML
apiVersion: sluice/v1
name: s3-to-s3
nodes:
  - {id: read, type: csv.read, settings: {connection: source, path: orders.csv}}
  - {id: write, type: csv.write, settings: {connection: target, path: copy/orders.csv}}
edges: [{from: read.out, to: write.in}]
YAML

download() { aws_s3 cp s3://bench-source/orders.csv "$work/aws.csv"; }
download_upload() { download && aws_s3 cp "$work/aws.csv" s3://bench-target/aws/orders.csv; }
export -f aws_s3 download download_upload; export port work

results=$(best bash -c download) || exit 1; read -r aws_down _ <<< "$results"
results=$(best bash -c download_upload) || exit 1; read -r aws_both _ <<< "$results"
results=$(best "$sluice" run "$work/to-local.yaml" --connections "$work/connections.yaml") || exit 1; read -r sl_local sl_local_rss <<< "$results"
results=$(best "$sluice" run "$work/to-s3.yaml" --connections "$work/connections.yaml") || exit 1; read -r sl_s3 sl_s3_rss <<< "$results"
size=$(stat -c %s "$data")

printf '\n%s rows, %s MB, moto S3 on loopback, best of 3\n\n' "$rows" "$((size / 1000000))"
printf '| task | sluice | peak RSS | aws s3 cp | sluice / aws |\n|---|---|---|---|---|\n'
awk -v s="$sl_local" -v a="$aws_down" -v r="$sl_local_rss" 'BEGIN { printf "| S3 → local (csv.read → csv.write) | %.2f s | %d MB | %.2f s (download) | %.2f× |\n", s, r / 1024, a, s / a }'
awk -v s="$sl_s3" -v a="$aws_both" -v r="$sl_s3_rss" 'BEGIN { printf "| S3 → S3 (csv.read → csv.write) | %.2f s | %d MB | %.2f s (download + upload) | %.2f× |\n", s, r / 1024, a, s / a }'
