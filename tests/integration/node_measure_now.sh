#!/usr/bin/env bash
# node_measure_now.sh: the seed paper's PUT /aws/services/{key} on a real node. Its oracles
# (univie-mon and aws-mon, both run by this node) probe a loopback target (tool_targets) every
# 10 s interval, and the node's scheduler waits 3 minutes after an interval closes before it
# reports it. A PUT right after an interval closes must have both oracles measure and report it
# at once (the interval is decided within seconds, long before the schedule would have), and
# asking again for the same interval must never report it twice: the answer says it is pending
# or already measured (409), and the ledger holds one report item per oracle and interval.
# A CloudWatch stand-in (tool_cloudwatch) that has no datapoints yet stands for a history
# source that publishes late: a PUT asks it at once, and the intervals it has no value for
# stay to be measured by the schedule instead of being recorded unknown for good.
set -euo pipefail
bin=${SL_BIN:?}
src=${SL_SOURCE_DIR:?}
tmp=$(mktemp -d)
. "$src/scripts/lib/node.sh"
net=$tmp/net

# put USER KEY: PUT /aws/services/KEY; the body lands in $tmp/put.json, the status is printed
put() {
    timeout 30 curl -sS -o "$tmp/put.json" -w '%{http_code}' -X PUT \
        -H "Authorization: Bearer $(token "$1")" "$url/aws/services/$2"
}

pyjson() { # PYTHON_EXPRESSION over d, the body of the last PUT: prints its value
    timeout 10 python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print('"$1"')' \
        "$tmp/put.json"
}

metric() { # NAME: the node's value of metric NAME (0 before it exists)
    curl -sS -m 5 "$url/metrics" | awk -v m="$1" '$1 == m {print $2; f=1} END {if (!f) print 0}'
}

at_least() { # NAME N: whether metric NAME has reached N
    [ "$(metric "$1")" -ge "$2" ] 2>/dev/null
}

past() { # MS: whether the clock has passed MS (ms since the epoch)
    [ "$(date +%s%3N)" -ge "$1" ]
}

timeout 60 "$bin" init "$net" >/dev/null
start_tool targets tg
printf 'AKIAPLACEHOLDER00000 placeholder-for-local-stand-ins-only\n' >"$tmp/aws-keys"
printf 'i-0abc123 StatusCheckFailed default 0\ni-0abc123 StatusCheckFailed -1h +1h missing\n' \
    >"$tmp/cw-script"
start_tool cloudwatch cw --keys "$tmp/aws-keys" --region eu-central-1 --script "$tmp/cw-script"

# Period: from the current UTC minute for an hour, so the agreement is live right away.
start=$(date -u -d "@$(($(date +%s) / 60 * 60))" +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d "$start + 1 hour" +%Y-%m-%dT%H:%M:%SZ)
cat >"$tmp/ping.yaml" <<EOF
apiVersion: slaledger/v1
kind: Agreement
metadata: {name: ping}
spec:
  channel: univie-aws
  consumer: univie
  provider: aws
  period: {start: $start, end: $end}
  fee: {amount: "100.00", currency: EUR}
  grace: 10m
  services:
    - name: site
      kind: http
      source: {url: "http://127.0.0.1:$tg/ok", expect_status: 200, timeout: 1s}
  oracles: {members: [univie-mon, aws-mon], policy: median, quorum: 2}
  objectives:
    - {name: site-up, service: site, metric: availability, interval: 10s, window: 1h,
       target: ">= 99%"}
EOF
sed -e 's/name: ping/name: vm/' -e 's/^  services:$/&\
    - name: vm\
      kind: aws.ec2\
      source: {region: eu-central-1, instance: i-0abc123, credentials: aws-main,\
               endpoint: "http:\/\/127.0.0.1:'"$cw"'"}/' \
    -e 's/^    - {name: site-up, service: site,/    - {name: vm-up, service: vm,/' \
    "$tmp/ping.yaml" >"$tmp/vm.yaml"
printf '  scheduler: {delay: 3m, timeout: 2s}\n' >>"$net/univie.yaml"
start_node "$net/univie.yaml"

as() {
    local who=$1
    shift
    SLALEDGER_TOKEN=$(token "$who") timeout 60 "$bin" "$@" --node "$url"
}
as alice agreement apply "$tmp/ping.yaml" >/dev/null || fail "propose"
as bob agreement accept ping >/dev/null || fail "accept"

# The first probe, then the close of the interval it fell in.
wait_for 30 "the first probe" at_least slaledger_oracle_probes_total 1
wait_for 15 "the probed interval to close" past $((($(date +%s%3N) / 10000 + 1) * 10000))

# PUT: both oracles measure the interval that just closed, now.
code=$(put alice ping)
[ "$code" = 202 ] || fail "PUT: HTTP $code: $(cat "$tmp/put.json")"
[ "$(pyjson 'sorted((m["oracle"], m["status"]) for m in d["measurements"])')" = \
    "[('aws-mon', 'queued'), ('univie-mon', 'queued')]" ] || fail "PUT: $(cat "$tmp/put.json")"
latest=$(pyjson 'd["measurements"][0]["start"]')
[ "$(pyjson 'len({m["start"] for m in d["measurements"]})')" = 1 ] ||
    fail "PUT: two latest intervals: $(cat "$tmp/put.json")"

# Asked again at once for the same interval: queued already or measured, never queued twice
# (unless the next interval closed meanwhile, which may be queued).
code=$(put bob ping)
case $code in
202) [ "$(pyjson 'all(m["start"] > "'"$latest"'" or m["status"] == "pending"
        for m in d["measurements"])')" = True ] || fail "second PUT: $(cat "$tmp/put.json")" ;;
409) grep -q "already measured.*$latest\|$latest.*already measured" "$tmp/put.json" ||
        fail "second PUT: $(cat "$tmp/put.json")" ;;
*) fail "second PUT: HTTP $code: $(cat "$tmp/put.json")" ;;
esac

# The interval is decided by the two reports within seconds: the schedule waits 3 minutes.
history() {
    as dave service history ping --limit 1000 --json >"$tmp/history.json" &&
        python3 -c 'import json,sys; sys.exit(not any(e["start"] == sys.argv[2] and
            e["outcome"] == "good" for e in json.load(open(sys.argv[1]))["events"]))' \
            "$tmp/history.json" "$latest"
}
wait_for 30 "interval $latest decided from the PUT's reports" history

# Now it is measured: the same interval again is a conflict that says so.
code=$(put alice ping)
case $code in
409) [ "$(pyjson 'd["error"]["code"]')" = EDUP ] && grep -q "already measured" "$tmp/put.json" &&
        grep -q "$latest" "$tmp/put.json" || fail "third PUT: $(cat "$tmp/put.json")" ;;
202) # The next interval closed meanwhile: it may be measured, the last one not again.
    [ "$(pyjson 'all(m["start"] > "'"$latest"'" for m in d["measurements"])')" = True ] ||
        fail "third PUT: $(cat "$tmp/put.json")" ;;
*) fail "third PUT: HTTP $code: $(cat "$tmp/put.json")" ;;
esac

# Every report item in the ledger: one per oracle and interval, and the PUT's interval by both.
python3 - "$url" "$(token dave)" "$latest" <<'PY' || fail "reports in the ledger"
import json, sys, urllib.request
url, tok, latest = sys.argv[1:]
def get(path):
    req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + tok})
    return json.load(urllib.request.urlopen(req, timeout=10))
head = get("/v1/health")
height = [c["height"] for c in head["channels"] if c["name"] == "univie-aws"][0]
seen = {}
for h in range(1, height + 1):
    for t in get(f"/v1/channels/univie-aws/blocks/{h}")["transactions"]:
        if t["type"] != "report" or t["code"] != "valid":
            continue
        tx = get("/v1/transactions/" + t["id"])["transaction"]
        for it in tx["items"]:
            key = (tx["signer"]["subject"], it["objective"], it["start_ms"])
            seen[key] = seen.get(key, 0) + 1
twice = [k for k, n in seen.items() if n > 1]
assert not twice, f"reported twice: {twice}"
from datetime import datetime
ms = int(datetime.fromisoformat(latest.replace("Z", "+00:00")).timestamp() * 1000)
for o in ("univie-mon", "aws-mon"):
    assert seen.get((o, "site-up", ms)) == 1, f"{o} did not report {latest}: {sorted(seen)}"
PY
grep -q 'already reported' "$tmp/node.err" && fail "an interval was reported twice"

# A history source with nothing published yet: asked at once, it is asked again next time.
as alice agreement apply "$tmp/vm.yaml" >/dev/null || fail "propose vm"
as bob agreement accept vm >/dev/null || fail "accept vm"
asked=$(metric slaledger_oracle_requests_total)
code=$(put alice vm)
[ "$code" = 202 ] && [ "$(pyjson '{m["status"] for m in d["measurements"]}')" = "{'queued'}" ] ||
    fail "PUT vm: HTTP $code: $(cat "$tmp/put.json")"
from=$(pyjson 'd["measurements"][0]["from"]')
wait_for 30 "the stand-in to be asked by both oracles" \
    at_least slaledger_oracle_requests_total $((asked + 2))
code=$(put alice vm)
[ "$code" = 202 ] && [ "$(pyjson 'all(m["status"] == "queued" and m["from"] == "'"$from"'"
    for m in d["measurements"])')" = True ] ||
    fail "PUT vm again: intervals without data were recorded: $code $(cat "$tmp/put.json")"

stop_node
timeout 120 "$bin" ledger verify "$net/data/univie-aws.db" >/dev/null || fail "ledger audit"
echo "node_measure_now: ok"
