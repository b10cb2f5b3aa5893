#!/usr/bin/env bash
# SFTP benchmark (not a test): the orders CSV read from OpenSSH's sshd on loopback (scripts/sftp-server), Sluice
# against OpenSSH's own sftp client getting the same file from the same server in the same run.
#
#   bench/sftp.sh [ROWS]        (default 5,000,000 rows, about 720 MB)
#
# Prints best-of-3 wall times, Sluice's peak RSS and the ratio:
#   SFTP → local:  Sluice csv.read (sftp) → csv.write (local)   vs  sftp get
#   local → SFTP:  Sluice csv.read (local) → csv.write (sftp)   vs  sftp put
#   SFTP → local:  Sluice files.copy (the bytes, no parsing)     vs  sftp get
# Needs root (the test sshd), openssh-server and openssh-client (scripts/setup), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
rows=${1:-5000000}
prepare_orders "$rows"
work=$(mktemp -d /tmp/sluice-bench-sftp.XXXXXX)
chmod 755 "$work"   # sshd reads the authorized keys as the test user, who must reach them
port=$(scripts/sftp-server start "$work/sftp" --watch $$)
trap 'scripts/sftp-server stop "$work/sftp"; rm -rf "$work"' EXIT
cp "$data" "$work/sftp/files/orders.csv"
chown "$(cat "$work/sftp/user")" "$work/sftp/files/orders.csv"
key="$work/sftp/client_ed25519"
cat > "$work/connections.yaml" <<YAML
partner: {type: sftp, host: 127.0.0.1, port: $port, user: $(cat "$work/sftp/user"), privateKey: "\${file:$key}", hostKeyFingerprint: "$(cat "$work/sftp/host_key.fingerprint")"}
YAML
cat > "$work/get.yaml" <<YAML
apiVersion: sluice/v1
name: sftp-get
nodes:
  - {id: read, type: csv.read, settings: {connection: partner, path: orders.csv}}
  - {id: write, type: csv.write, settings: {path: $work/copy.csv}}
edges: [{from: read.out, to: write.in}]
YAML
cat > "$work/copy.yaml" <<YAML
apiVersion: sluice/v1
name: sftp-copy
nodes:
  - {id: copy, type: files.copy, settings: {connection: partner, path: orders.csv, to: $work/copied.csv}}
YAML
cat > "$work/put.yaml" <<YAML
apiVersion: sluice/v1
name: sftp-put
nodes:
  - {id: read, type: csv.read, settings: {path: $PWD/$data}}
  - {id: write, type: csv.write, settings: {connection: partner, path: up/orders.csv}}
edges: [{from: read.out, to: write.in}]
YAML
sftp_batch() { sftp -q -b - -P "$port" -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "$(cat "$work/sftp/user")@127.0.0.1" >/dev/null; }
export -f sftp_batch; export port key work
get_file() { echo "get orders.csv $work/sftp-copy.csv" | sftp_batch; }
put_file() { echo "put $PWD/bench/data/orders.csv up-sftp.csv" | sftp_batch; }
export -f get_file put_file

cat "$data" > /dev/null
results=$(best bash -c get_file) || exit 1; read -r ssh_get _ <<< "$results"
results=$(best bash -c put_file) || exit 1; read -r ssh_put _ <<< "$results"
results=$(best "$sluice" run "$work/get.yaml" --connections "$work/connections.yaml") || exit 1; read -r sl_get sl_get_rss <<< "$results"
results=$(best "$sluice" run "$work/put.yaml" --connections "$work/connections.yaml") || exit 1; read -r sl_put sl_put_rss <<< "$results"
results=$(best "$sluice" run "$work/copy.yaml" --connections "$work/connections.yaml") || exit 1; read -r sl_copy sl_copy_rss <<< "$results"
cmp -s "$data" "$work/copied.csv" || { echo "files.copy's copy differs from the original" >&2; exit 1; }
size=$(stat -c %s "$data")
printf '\n%s rows, %s MB, OpenSSH sshd on loopback, best of 3\n\n' "$rows" "$((size / 1000000))"
printf '| task | sluice | peak RSS | OpenSSH sftp | sluice / sftp |\n|---|---|---|---|---|\n'
awk -v s="$sl_get" -v a="$ssh_get" -v r="$sl_get_rss" 'BEGIN { printf "| SFTP → local (csv.read → csv.write) | %.2f s | %d MB | %.2f s (get) | %.2f× |\n", s, r / 1024, a, s / a }'
awk -v s="$sl_put" -v a="$ssh_put" -v r="$sl_put_rss" 'BEGIN { printf "| local → SFTP (csv.read → csv.write) | %.2f s | %d MB | %.2f s (put) | %.2f× |\n", s, r / 1024, a, s / a }'
awk -v s="$sl_copy" -v a="$ssh_get" -v r="$sl_copy_rss" 'BEGIN { printf "| SFTP → local (files.copy, bytes) | %.2f s | %d MB | %.2f s (get) | %.2f× |\n", s, r / 1024, a, s / a }'
