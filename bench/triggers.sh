#!/usr/bin/env bash
# Trigger benchmarks (not tests), each printed against a reference measured in the same run:
#
#   bench/triggers.sh [REQUESTS] [TRIGGERS]     (defaults: 1000 webhook calls, 10000 cron triggers)
#
# One `sluice serve` on the embedded SQLite store with 2 workers, a trivial pipeline (2-row CSV → CSV).
# 1. Webhook → run claimed: REQUESTS sequential `POST /hooks/{id}` (token auth); for each, the time from
#    sending the request to the run's `started_at` (a worker claimed it), p50/p99/max, and the HTTP
#    answer's own latency. Reference: the same loop through `POST /api/v1/pipelines/{id}/runs`.
# 2. Cron lateness: a per-second cron trigger (`* * * * * *`) for 30 s; per firing, firing time minus
#    scheduled time, and run claimed minus scheduled time. Reference: the aim (1 s).
# 3. Scale: TRIGGERS enabled cron triggers (`0 3 * * *`, none due) created through the API; the server's
#    CPU time per second and RSS over 30 s, against the same server with no triggers measured first.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-1000}
triggers=${2:-10000}
swift build -c release --scratch-path .build-release --product sluice >/dev/null
sluice=$PWD/.build-release/release/sluice
mkdir -p bench/results
work=$(mktemp -d /tmp/sluice-bench-triggers-XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

printf 'bench-admin-password' >"$work/admin.pw"
printf 'bench-master-password' >"$work/master.pw"
"$sluice" user add admin --role admin --password-file "$work/admin.pw" --master-password-file "$work/master.pw" --data-dir "$work/data" >/dev/null
mkdir -p "$work/data/files"
printf 'id,amount\n1,10\n2,20\n' >"$work/data/files/in.csv"
"$sluice" serve --listen 127.0.0.1:0 --workers 2 --data-dir "$work/data" --master-password-file "$work/master.pw" >"$work/serve.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 200); do
  url=$(grep -o 'running at http://[0-9.:]*' "$work/serve.log" | head -1 | sed 's/running at //') || true
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { echo "server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }

python3 - "$url" "$server_pid" "$requests" "$triggers" <<'PY'
import calendar, http.client, json, sys, time, urllib.parse

base, server_pid, requests, trigger_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
u = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(u.hostname, u.port)

def call(method, path, body=None, token=None, headers=None):
    h = {"Content-Type": "application/json"}
    if token: h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=h)
    r = conn.getresponse(); data = r.read()
    return r.status, (json.loads(data) if data else None)

status, login = call("POST", "/api/v1/auth/login", {"username": "admin", "password": "bench-admin-password"})
token = call("POST", "/api/v1/tokens", {"name": "bench"}, token=login["access_token"])[1]["token"]
doc = "apiVersion: sluice/v1\nname: trivial\nnodes:\n  - {id: src, type: csv.read, settings: {path: in.csv}}\n  - {id: out, type: csv.write, settings: {path: out.csv}}\nedges:\n  - {from: src.out, to: out.in}\n"
pipeline = call("POST", "/api/v1/pipelines", {"document": doc}, token=token)[1]["id"]
link = [{"pipeline_id": pipeline}]

def pct(values, p):
    values = sorted(values); return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

def wait_claimed(run_id):
    while True:
        status, run = call("GET", f"/api/v1/runs/{run_id}", token=token)
        if run.get("started_at"): return run
        time.sleep(0.002)

def wait_idle():
    while True:
        status, runs = call("GET", f"/api/v1/runs?limit=5", token=token)
        if all(r["status"] not in ("queued", "running") for r in runs): return
        time.sleep(0.01)

def loop(name, send):
    claimed, answered = [], []
    for _ in range(requests):
        t0 = time.time()
        run_id = send()
        answered.append((time.time() - t0) * 1000)
        run = wait_claimed(run_id)
        claimed.append(run["started_at"] - t0 * 1000)
        wait_idle()
    row = (name, pct(claimed, 50), pct(claimed, 99), max(claimed), pct(answered, 50), pct(answered, 99))
    print(f"{name}: request → run claimed p50 {row[1]:.1f} ms, p99 {row[2]:.1f} ms, max {row[3]:.1f} ms; HTTP answer p50 {row[4]:.1f} ms, p99 {row[5]:.1f} ms")
    return row

print(f"== 1. webhook → run claimed, {requests} sequential calls ==")
hook = call("POST", "/api/v1/triggers", {"name": "hook", "kind": "webhook", "pipelines": link}, token=token)[1]
def send_hook():
    status, answer = call("POST", f"/hooks/{hook['id']}", {"n": 1}, headers={"Authorization": f"Bearer {hook['secret']}"})
    assert status == 202 and answer["outcome"] == "fired", answer
    return answer["runs"][0]
def send_api():
    status, run = call("POST", f"/api/v1/pipelines/{pipeline}/runs", {}, token=token)
    assert status == 201, run
    return run["id"]
reference = loop("reference: POST /api/v1/pipelines/{id}/runs", send_api)
webhook = loop("webhook: POST /hooks/{id}", send_hook)
print(f"ratio webhook / reference: p50 {webhook[1] / reference[1]:.2f}×, p99 {webhook[2] / reference[2]:.2f}×; aim p99 < 50 ms: {'met' if webhook[2] < 50 else 'NOT met'}")
with open("bench/results/triggers_webhook.csv", "w") as f:
    f.write("path,claimed_p50_ms,claimed_p99_ms,claimed_max_ms,answer_p50_ms,answer_p99_ms\n")
    for row in (reference, webhook): f.write(",".join([row[0]] + [f"{v:.1f}" for v in row[1:]]) + "\n")

print("== 2. cron lateness: a per-second cron trigger for 30 s ==")
cron = call("POST", "/api/v1/triggers", {"name": "every-second", "kind": "cron", "settings": {"schedule": "* * * * * *"}, "overlap": "queue", "pipelines": link}, token=token)[1]
time.sleep(31)
call("POST", f"/api/v1/triggers/{cron['id']}/disable", token=token)
wait_idle()
history = call("GET", f"/api/v1/triggers/{cron['id']}/history?limit=100", token=token)[1]
def ms(iso): return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")) * 1000
fired, claimed = [], []
for firing in history:
    event = firing["event"]
    scheduled = ms(event["scheduled_at"])
    fired.append(firing["at"] - scheduled)
    for run_id in firing["runs"]:
        claimed.append(call("GET", f"/api/v1/runs/{run_id}", token=token)[1]["started_at"] - scheduled)
print(f"{len(fired)} firings; fired after the scheduled second: p50 {pct(fired, 50):.0f} ms, p99 {pct(fired, 99):.0f} ms, max {max(fired):.0f} ms; "
      f"run claimed: p50 {pct(claimed, 50):.0f} ms, p99 {pct(claimed, 99):.0f} ms, max {max(claimed):.0f} ms")
print(f"ratio max lateness / aim (1 s): {max(fired) / 1000:.2f}×; aim < 1 s: {'met' if max(fired) < 1000 else 'NOT met'}")
with open("bench/results/triggers_cron.csv", "w") as f:
    f.write("measure,p50_ms,p99_ms,max_ms\n")
    f.write(f"fired,{pct(fired, 50):.0f},{pct(fired, 99):.0f},{max(fired):.0f}\nclaimed,{pct(claimed, 50):.0f},{pct(claimed, 99):.0f},{max(claimed):.0f}\n")
call("DELETE", f"/api/v1/triggers/{cron['id']}", token=token)
call("DELETE", f"/api/v1/triggers/{hook['id']}", token=token)

def cpu_and_rss(seconds):
    def sample():
        with open(f"/proc/{server_pid}/stat") as f: fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        with open(f"/proc/{server_pid}/status") as f: rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))
        return ticks, rss
    import os
    hz = os.sysconf("SC_CLK_TCK")
    t0, (c0, _) = time.time(), sample()
    time.sleep(seconds)
    t1, (c1, rss) = time.time(), sample()
    return (c1 - c0) / hz / (t1 - t0) * 100, rss / 1024

print(f"== 3. scheduler with {trigger_count} enabled cron triggers ==")
time.sleep(2)
idle_cpu, idle_rss = cpu_and_rss(30)
print(f"reference: no triggers: CPU {idle_cpu:.1f}% of one core, RSS {idle_rss:.0f} MB")
t0 = time.time()
for i in range(trigger_count):
    status, body = call("POST", "/api/v1/triggers", {"name": f"nightly-{i:05d}", "kind": "cron", "settings": {"schedule": "0 3 * * *", "timezone": "Europe/Berlin"}, "pipelines": link}, token=token)
    assert status == 201, body
print(f"created {trigger_count} triggers in {time.time() - t0:.1f} s")
time.sleep(3)
busy_cpu, busy_rss = cpu_and_rss(30)
print(f"{trigger_count} triggers: CPU {busy_cpu:.1f}% of one core, RSS {busy_rss:.0f} MB "
      f"(+{busy_cpu - idle_cpu:.1f} points of CPU, {busy_rss / idle_rss:.2f}× the RSS of the reference)")
with open("bench/results/triggers_scale.csv", "w") as f:
    f.write("triggers,cpu_percent_of_one_core,rss_mb\n")
    f.write(f"0,{idle_cpu:.1f},{idle_rss:.0f}\n{trigger_count},{busy_cpu:.1f},{busy_rss:.0f}\n")
PY
