#!/usr/bin/env bash
# The Prometheus adapter against a real Prometheus server (the Debian package's
# /usr/bin/prometheus; SL_PROMETHEUS overrides the path): Prometheus scrapes a loopback target
# (tool_targets) every second while the target's gauge target_up goes 1, then 0 for a few
# seconds, then 1 again; `slaledger oracle measure` then measures 2 s intervals of the
# objective avg_over_time(target_up[2s]) over the whole run. Intervals before Prometheus
# started must be unknown, intervals well inside the down phase 0 %, intervals well inside the
# up phases 100 % (the edges of a phase may be anything in between). A range of 12,000 intervals
# (more than Prometheus's 11,000 points per query) takes two requests and ends with the same
# values. Then the refusals: a query
# returning several series and a query Prometheus cannot parse exit 1 with the reason. A
# missing Prometheus fails the test; it does not skip. Only 127.0.0.1; every process started
# is killed on exit; the whole run is bounded (about 35 s, at most 90 s).
set -euo pipefail
bin=${SL_BIN:?}
prom=${SL_PROMETHEUS:-/usr/bin/prometheus}
tmp=$(mktemp -d)
deadline=$((SECONDS + 90))
. "${SL_SOURCE_DIR:?}/scripts/lib/procs.sh"

now_ms() { date +%s%3N; }
rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; } # SECONDS_SINCE_EPOCH
check_deadline() { [ "$SECONDS" -lt "$deadline" ] || fail "over 90 s: $1"; }

# wait_for DESCRIPTION SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds.
wait_for() {
    local what=$1 until=$((SECONDS + $2))
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$until" ] || fail "timed out waiting for $what"
        sleep 0.2
    done
}

[ -x "$prom" ] || fail "Prometheus not found at $prom: install the Debian package 'prometheus'" \
    "(scripts/deps.sh does) or point SL_PROMETHEUS at the binary"

# --- the scrape target ---
start_tool targets tport
target="http://127.0.0.1:$tport"
curl -sf -m 5 "$target/metrics" | grep -q '^target_up 1$' || fail "target serves no target_up 1"

flip() { # 0|1: sets the gauge, then checks that /metrics says so
    curl -s -m 5 -X POST "$target/flip?up=$1" >/dev/null || fail "POST /flip?up=$1"
    curl -sf -m 5 "$target/metrics" | grep -q "^target_up $1\$" || fail "target_up is not $1"
}

# --- Prometheus, on a free loopback port, scraping the target every second ---
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: target
    static_configs:
      - targets: ['127.0.0.1:$tport']
EOF
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Prometheus holds no data before it starts: intervals ending before this must be unknown.
t_before_ms=$(now_ms)
ready() { curl -sf -m 2 "http://127.0.0.1:$pport/-/ready"; }
for attempt in 1 2 3; do
    pport=$(free_port)
    spawn prometheus "$prom" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
        --web.listen-address="127.0.0.1:$pport" --log.level=warn
    ppid=${procs_pid[prometheus]}
    for _ in $(seq 1 100); do
        ready >/dev/null 2>&1 && break
        kill -0 "$ppid" 2>/dev/null || break
        sleep 0.2
    done
    ready >/dev/null 2>&1 && break
    # Lost the port to another process between picking and binding: try another.
    kill "$ppid" 2>/dev/null || true
    [ "$attempt" -lt 3 ] || fail "Prometheus did not become ready on 127.0.0.1:$pport"
done
promurl="http://127.0.0.1:$pport"

scraped_up() {
    curl -sf -m 2 "$promurl/api/v1/query?query=target_up" | grep -q '"value":\[[0-9.]*,"1"\]'
}
wait_for "Prometheus to scrape the target" 20 scraped_up
t_first_ms=$(now_ms)

# --- up, down, up ---
sleep 6
t_down_ms=$(now_ms)
flip 0
sleep 8
t_up_ms=$(now_ms)
flip 1
sleep 6
t_end_ms=$(now_ms)
# Let the last interval's scrapes be ingested before asking for it.
sleep 1.5
check_deadline "the scrape phases"

# --- the agreement: 2 s intervals; the period covers today (UTC) and the next day ---
day=$(($(date +%s) / 86400 * 86400))
cat >"$tmp/agreement.yaml" <<EOF
apiVersion: slaledger/v1
kind: Agreement
metadata: {name: prom-test}
spec:
  channel: test
  consumer: acme
  provider: platformco
  period: {start: $(rfc3339 $((day - 86400))), end: $(rfc3339 $((day + 2 * 86400)))}
  fee: {amount: "100.00", currency: EUR}
  billing: period
  grace: 10s
  services:
    - {name: target, kind: prometheus, source: {url: "$promurl/"}}
  oracles: {members: [o1], quorum: 1}
  objectives:
    - name: uptime
      metric: availability
      interval: 2s
      window: period
      target: ">= 99%"
      query: avg_over_time(target_up[2s])
    - name: several
      metric: availability
      interval: 2s
      window: period
      target: ">= 99%"
      query: '{__name__=~"target_up|up"}'
    - name: broken
      metric: availability
      interval: 2s
      window: period
      target: ">= 99%"
      query: avg_over_time(target_up[2s]
EOF

# From two intervals before Prometheus started to the last whole interval before t_end (the
# divisions floor onto the 2 s grid on purpose).
# shellcheck disable=SC2017
from_s=$((t_before_ms / 2000 * 2 - 4))
# shellcheck disable=SC2017
to_s=$((t_end_ms / 2000 * 2))
measure() { # OBJECTIVE [--json]
    timeout 30 "$bin" oracle measure "$tmp/agreement.yaml" --objective "$1" \
        --from "$(rfc3339 $from_s)" --to "$(rfc3339 $to_s)" "${@:2}"
}
measure uptime --json >"$tmp/out.json" 2>"$tmp/measure.log" ||
    fail "oracle measure uptime exited $?: $(cat "$tmp/measure.log")"
measure uptime >"$tmp/out.txt" 2>>"$tmp/measure.log" || fail "oracle measure (text) failed"

# Judge every interval: inside a phase (1 s of margin for scrape timing) it must be exact.
python3 - "$tmp/out.json" "$tmp/out.txt" "$t_before_ms" "$t_first_ms" "$t_down_ms" "$t_up_ms" \
    "$t_end_ms" "$from_s" "$to_s" <<'EOF' || fail "measured intervals are wrong (above)"
import json, sys
out, txt = json.load(open(sys.argv[1])), open(sys.argv[2]).read().splitlines()
before, first, down, up, end, frm, to = (int(a) for a in sys.argv[3:])
IV, M = 2000, 1000
errors, n_down, n_up = [], 0, 0
if len(out) != (to - frm) // 2 or len(txt) != len(out):
    sys.exit(f"{len(out)} JSON and {len(txt)} text lines for {(to - frm) // 2} intervals")
for i, s in enumerate(out):
    start = s["start_ms"]
    v = s.get("value") if s["known"] else None
    where = f"interval {s['start']} ({start}): {s}"
    if start != frm * 1000 + i * IV or not txt[i].startswith(s["start"] + " "):
        errors.append(f"{where}: wrong start or text line {txt[i]!r}")
    if start + IV <= before:
        if s["known"]:
            errors.append(f"{where}: known before Prometheus started")
        elif s["reason"] != "no datapoint":
            errors.append(f"{where}: reason is not 'no datapoint'")
    elif start >= down + M and start + IV <= up - M:
        n_down += 1
        if v != 0:
            errors.append(f"{where}: inside the down phase but not 0")
    elif (start >= first + M and start + IV <= down - M) or (start >= up + M and start + IV <= end):
        n_up += 1
        if v != 1000000:
            errors.append(f"{where}: inside an up phase but not 1000000 ppm")
    elif s["known"] and not 0 <= v <= 1000000:
        errors.append(f"{where}: edge interval out of range")
if n_down < 2 or n_up < 2:
    errors.append(f"too few intervals judged: {n_down} down, {n_up} up")
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
grep -Eq '^[0-9T:-]+Z known 0$' "$tmp/out.txt" || fail "no 'known 0' text line"

# --- a range longer than one Prometheus query may hold (11,000 points): split into chunks,
# one query_range request each, the results concatenated; the recent intervals read as above ---
query_ranges() { # how many query_range requests Prometheus has answered (its own /metrics)
    curl -sf -m 5 "$promurl/metrics" | awk '
        /^prometheus_http_requests_total\{/ && /handler="\/api\/v1\/query_range"/ { n += $NF }
        END { printf "%d\n", n }'
}
long_from_s=$((to_s - 2 * 12000)) # 12,000 intervals: two requests (11,000 + 1,000)
before_n=$(query_ranges) || fail "cannot read Prometheus's request counter"
timeout 60 "$bin" oracle measure "$tmp/agreement.yaml" --objective uptime \
    --from "$(rfc3339 $long_from_s)" --to "$(rfc3339 $to_s)" >"$tmp/long.txt" 2>"$tmp/long.err" ||
    fail "oracle measure over 12000 intervals exited $?: $(cat "$tmp/long.err")"
after_n=$(query_ranges) || fail "cannot read Prometheus's request counter"
[ "$(wc -l <"$tmp/long.txt")" -eq 12000 ] || fail "12000 intervals: $(wc -l <"$tmp/long.txt") lines"
[ $((after_n - before_n)) -eq 2 ] || fail "12000 intervals took $((after_n - before_n)) requests, not 2"
# The last intervals are those of the short run, measured the same way.
tail -n "$(wc -l <"$tmp/out.txt")" "$tmp/long.txt" | cmp -s - "$tmp/out.txt" ||
    fail "the long range's last intervals differ from the short run's"

# --- refusals: exit 1 with the reason on stderr ---
rc=0
measure several >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "a two-series query exited $rc, expected 1"
grep -q 'query returned 2 series; it must return one' "$tmp/err" ||
    fail "two-series message: $(cat "$tmp/err")"
rc=0
measure broken >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "a malformed query exited $rc, expected 1"
grep -q 'bad_data' "$tmp/err" || fail "malformed query message: $(cat "$tmp/err")"
check_deadline "the measurements"
echo "ok: prometheus measured $(wc -l <"$tmp/out.txt") intervals as expected"
