#!/usr/bin/env bash
# node_oracles.sh: a node's oracles end to end, as an operator runs them. `slaledger init`
# makes the network; a CloudWatch stand-in (tool_cloudwatch, checking SigV4 with the
# placeholder key of init's secrets file) serves an EC2 instance whose status check fails for
# fifteen seconds; a loopback target (tool_targets) is flipped down for a while; agents push
# response times with univie-mon's and aws-mon's tokens (a push is reported by the pushing
# oracle only, and the quorum is two). One agreement watches all three with three oracles
# (univie-mon, aws-mon, watchdog-mon, all run by this node) at 5 s (CloudWatch) and 2 s
# intervals. The test checks
# that the oracles' signed reports become decided intervals with the right outcomes (the
# outage and the flip are bad, the rest good, the pushed p95 exact), that every interval is
# reported once per oracle, that a node restart neither repeats nor loses reports, that bad
# pushes are refused, and that the ledger audits clean.
set -euo pipefail
bin=${SL_BIN:?}
src=${SL_SOURCE_DIR:?}
tmp=$(mktemp -d)
. "$src/scripts/lib/node.sh"
net=$tmp/net

api() { # USER METHOD PATH [BODY]: prints the body, then the status on its own line
    curl -sS -m 10 -X "$2" -H "Authorization: Bearer $(token "$1")" \
        -H 'Content-Type: application/json' ${4:+--data "$4"} -w '\n%{http_code}\n' "$url$3"
}

timeout 60 "$bin" init "$net" >/dev/null
# init makes univie-mon's token only: one for aws-mon, the second pushing oracle.
aws_mon="slt_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
printf '    - {user: aws-mon, org: aws, role: oracle, sha256: "%s"}\n' \
    "$(printf '%s' "$aws_mon" | sha256sum | cut -d' ' -f1)" >>"$net/tokens.yaml"
printf 'aws-mon aws oracle %s\n' "$aws_mon" >>"$net/tokens.txt"
printf 'AKIAPLACEHOLDER00000 placeholder-for-local-stand-ins-only\n' >"$tmp/aws-keys"
cat >"$tmp/cw-script" <<'EOF'
i-0abc123 StatusCheckFailed default 0
i-0abc123 StatusCheckFailed +20s +35s 1
EOF
start_tool cloudwatch cw --keys "$tmp/aws-keys" --region eu-central-1 --script "$tmp/cw-script"
start_tool targets tg

# Period: from the current UTC minute for an hour, so the agreement is live right away.
start=$(date -u -d "@$(($(date +%s) / 60 * 60))" +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d "$start + 1 hour" +%Y-%m-%dT%H:%M:%SZ)
cat >"$tmp/watch.yaml" <<EOF
apiVersion: slaledger/v1
kind: Agreement
metadata: {name: watch}
spec:
  channel: univie-aws
  consumer: univie
  provider: aws
  period: {start: $start, end: $end}
  fee: {amount: "100.00", currency: EUR}
  grace: 1m
  services:
    - name: vm
      kind: aws.ec2
      source: {region: eu-central-1, instance: i-0abc123, credentials: aws-main,
               endpoint: "http://127.0.0.1:$cw"}
    - name: site
      kind: http
      source: {url: "http://127.0.0.1:$tg/flip", expect_status: 200, timeout: 1s}
    - {name: app, kind: push}
  oracles: {members: [univie-mon, aws-mon, watchdog-mon], policy: median, quorum: 2}
  objectives:
    - {name: vm-up, service: vm, metric: availability, interval: 5s, window: 1h, target: ">= 99%"}
    - {name: site-up, service: site, metric: availability, interval: 2s, window: 1h,
       target: ">= 99%"}
    - {name: app-p95, service: app, metric: response_time, percentile: 95, interval: 2s,
       window: 1h, target: "<= 200ms"}
EOF
printf '  scheduler: {delay: 1s, timeout: 2s}\n' >>"$net/univie.yaml"
start_node "$net/univie.yaml"

as() {
    local who=$1
    shift
    SLALEDGER_TOKEN=$(token "$who") timeout 60 "$bin" "$@" --node "$url"
}
as alice agreement apply "$tmp/watch.yaml" >/dev/null || fail "propose"
as bob agreement accept watch >/dev/null || fail "accept"
t0=$(date +%s)

# Pushes: refused without an oracle token, for unknown services, and in the future.
now_ms=$(($(date +%s%3N)))
out=$(api alice POST /v1/agreements/watch/services/app/observations \
    "{\"observations\":[{\"time_ms\":$now_ms,\"response_ms\":5}]}")
[ "$(tail -n1 <<<"$out")" = 403 ] || fail "a consumer token pushed: $out"
out=$(api univie-mon POST /v1/agreements/watch/services/nope/observations \
    "{\"observations\":[{\"time_ms\":$now_ms}]}")
[ "$(tail -n1 <<<"$out")" = 404 ] || fail "push to an unknown service: $out"
out=$(api univie-mon POST /v1/agreements/watch/services/app/observations \
    "{\"observations\":[{\"time_ms\":$((now_ms + 60000))}]}")
[ "$(tail -n1 <<<"$out")" = 422 ] || fail "push into the future: $out"
out=$(api univie-mon POST /v1/agreements/watch/services/app/observations \
    '{"observations":[{"time":"x"}]}')
[ "$(tail -n1 <<<"$out")" = 400 ] || fail "bad time accepted: $out"

# 30 s of pushes (every 0.5 s: 40, 80, ..., cycling), the site flipped down from 6 s to 12 s and
# the node restarted at 20 s, by the clock rather than by the count of pushes (a loaded machine
# makes each push slower).
loop0=$(date +%s%3N)
down=0 up=0 restarted=0 i=0
while [ $(($(date +%s%3N) - loop0)) -lt 30000 ]; do
    i=$((i + 1))
    ms=$(($(date +%s%3N)))
    for who in univie-mon aws-mon; do
        api $who POST /v1/agreements/watch/services/app/observations \
            "{\"observations\":[{\"time_ms\":$ms,\"response_ms\":$((i % 4 * 40 + 40))}]}" \
            >"$tmp/push.out"
        [ "$(tail -n1 "$tmp/push.out")" = 202 ] || fail "push refused: $(cat "$tmp/push.out")"
    done
    el=$(($(date +%s%3N) - loop0))
    if [ "$down" = 0 ] && [ "$el" -ge 6000 ]; then
        curl -sS -m 5 -X POST "http://127.0.0.1:$tg/flip?up=0" >/dev/null
        down=1
    elif [ "$up" = 0 ] && [ "$el" -ge 12000 ]; then
        curl -sS -m 5 -X POST "http://127.0.0.1:$tg/flip?up=1" >/dev/null
        up=1
    elif [ "$restarted" = 0 ] && [ "$el" -ge 20000 ]; then
        stop_node
        start_node "$net/univie.yaml"
        restarted=1
    fi
    sleep 0.5
done
sleep 5 # the last intervals close, wait out the delay, and are ordered

as dave service history watch --limit 1000 --json >"$tmp/history.json" || fail "history"
curl -sS -m 10 "$url/metrics" >"$tmp/metrics"
stop_node
timeout 120 "$bin" ledger verify "$net/data/univie-aws.db" >/dev/null || fail "ledger audit"

python3 - "$tmp/history.json" "$tmp/metrics" "$t0" <<'PY' || fail "reports"
import json, sys
from datetime import datetime
ev = json.load(open(sys.argv[1]))["events"]
for e in ev:
    e["start_ms"] = int(datetime.fromisoformat(e["start"].replace("Z", "+00:00")).timestamp() * 1000)
by = {}
for e in ev:
    by.setdefault(e["objective"], []).append(e)
for o in ("vm-up", "site-up", "app-p95"):
    assert by.get(o), f"no decided interval of {o}: {sorted(by)}"
    starts = [e["start_ms"] for e in by[o]]
    assert len(starts) == len(set(starts)), f"{o}: an interval decided twice"
vm = {e["start_ms"]: e for e in by["vm-up"]}
bad = sorted(s for s, e in vm.items() if e["outcome"] == "bad")
good = [s for s, e in vm.items() if e["outcome"] == "good"]
assert 3 <= len(bad) <= 4, f"vm-up: the 15 s outage gave {len(bad)} bad intervals"
assert good, "vm-up: no good interval"
assert bad[-1] - bad[0] == (len(bad) - 1) * 5000, "vm-up: the bad intervals are not one run"
site_bad = [e for e in by["site-up"] if e["outcome"] == "bad"]
assert 2 <= len(site_bad) <= 5, f"site-up: the 6 s flip gave {len(site_bad)} bad intervals"
assert any(e["outcome"] == "good" for e in by["site-up"])
for e in by["app-p95"]:
    assert e["value"] in (40, 80, 120, 160), f"app-p95: {e['value']} is no pushed time"
    assert e["outcome"] == ("good" if e["value"] <= 200 else "bad")
m = dict(l.rsplit(" ", 1) for l in open(sys.argv[2]) if l.startswith("slaledger_oracle"))
assert float(m["slaledger_oracle_tasks"]) == 9, m
assert float(m["slaledger_oracle_reported_total"]) > 0, m
PY
grep -q 'already reported' "$tmp/node.err" && fail "an interval was reported twice"
echo "node_oracles: ok"
