#!/usr/bin/env bash
# node_oracle_push.sh: pushed observations belong to the oracle that pushed them, and a 202
# survives kill -9. `slaledger init` makes the network; its node runs the oracles univie-mon
# (univie) and aws-mon (aws). Two agreements on univie-aws take pushes of service `app`:
# `shared` names both oracles, `crash` only univie-mon (median, quorum 1, 4 s intervals).
#
# 1. Attribution: aws-mon's agent pushes to `shared`; the intervals are decided with its values
#    and every report in the ledger is signed by aws-mon (before, univie-mon read the same pool
#    and signed them too). Oracle-role tokens of members this node holds no key of (an agent
#    of univie's, one of aws's) are refused with 403 and a message that says why. (A token
#    naming a held oracle under another organization, aws-mon of univie, cannot even be
#    configured: the node refuses to start, see node_auth.sh.)
# 2. Crash: univie-mon pushes three observations to `crash` early in an interval, gets 202, and
#    the node is killed with SIGKILL at once, before the interval closes. The restarted node
#    must decide that interval with the pushed values (p95 of 111, 222, 333 ms is 333).
# Everything waits for the event it needs, bounded; only 127.0.0.1.
set -euo pipefail
bin=${SL_BIN:?}
src=${SL_SOURCE_DIR:?}
tmp=$(mktemp -d)
. "$src/scripts/lib/node.sh"
net=$tmp/net

api() { # TOKEN METHOD PATH [BODY]: prints the body, then the status on its own line
    curl -sS -m 10 -X "$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
        ${4:+--data "$4"} -w '\n%{http_code}\n' "$url$3"
}
as() {
    local who=$1
    shift
    SLALEDGER_TOKEN=$(token "$who") timeout 60 "$bin" "$@" --node "$url"
}
# push TOKEN AGREEMENT OBSERVATIONS-JSON: must be accepted.
push() {
    local out
    out=$(api "$1" POST "/v1/agreements/$2/services/app/observations" "{\"observations\":$3}")
    [ "$(tail -n1 <<<"$out")" = 202 ] || fail "push to $2 refused: $out"
}
# decided AGREEMENT START_MS: prints "outcome value" of app-p95's interval at START_MS, if any.
decided() {
    as dave service history "$1" --limit 1000 --json >"$tmp/history.json" 2>/dev/null || return 0
    python3 - "$tmp/history.json" "$2" <<'PY'
import json, sys
from datetime import datetime
for e in json.load(open(sys.argv[1]))["events"]:
    t = int(datetime.fromisoformat(e["start"].replace("Z", "+00:00")).timestamp() * 1000)
    if e["objective"] == "app-p95" and t == int(sys.argv[2]):
        print(e["outcome"], e["value"])
PY
}
# wait_decided AGREEMENT START_MS: waits up to 60 s and prints "outcome value".
wait_decided() {
    local until=$((SECONDS + 60)) got=
    while [ -z "$got" ]; do
        [ "$SECONDS" -lt "$until" ] || fail "$1: the interval at $2 was not decided within 60 s"
        sleep 0.5
        got=$(decided "$1" "$2")
    done
    printf '%s\n' "$got"
}
# early_in_interval: waits until the current 4 s interval has at least 2.5 s left.
early_in_interval() {
    while [ $(($(date +%s%3N) % 4000)) -gt 1500 ]; do sleep 0.1; done
}

timeout 60 "$bin" init "$net" >/dev/null
aws_mon=$(new_token aws-mon aws oracle)
agent_univie=$(new_token agent univie oracle) # oracle-role tokens of members without a key
agent_aws=$(new_token agent-7 aws oracle)
printf '  scheduler: {delay: 1s, timeout: 2s}\n' >>"$net/univie.yaml"

# Period: from the current UTC minute for an hour, so the agreements are live right away.
start=$(date -u -d "@$(($(date +%s) / 60 * 60))" +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d "$start + 1 hour" +%Y-%m-%dT%H:%M:%SZ)
for a in shared crash; do
    members="[univie-mon, aws-mon]"
    [ "$a" = crash ] && members="[univie-mon]"
    cat >"$tmp/$a.yaml" <<EOF
apiVersion: slaledger/v1
kind: Agreement
metadata: {name: $a}
spec:
  channel: univie-aws
  consumer: univie
  provider: aws
  period: {start: $start, end: $end}
  fee: {amount: "10.00", currency: EUR}
  grace: 1m
  services: [{name: app, kind: push}]
  oracles: {members: $members, policy: median, quorum: 1}
  objectives:
    - {name: app-p95, service: app, metric: response_time, percentile: 95, interval: 4s,
       window: 1h, target: "<= 200ms"}
EOF
done
start_node "$net/univie.yaml"
for a in shared crash; do
    as alice agreement apply "$tmp/$a.yaml" >/dev/null || fail "propose $a"
    as bob agreement accept "$a" >/dev/null || fail "accept $a"
done

# ---- 1. a push is its oracle's own ----
for t in "$agent_univie" "$agent_aws"; do
    out=$(api "$t" POST /v1/agreements/shared/services/app/observations \
        "{\"observations\":[{\"time_ms\":$(date +%s%3N),\"response_ms\":5}]}")
    [ "$(tail -n1 <<<"$out")" = 403 ] || fail "a token of an oracle this node lacks pushed: $out"
    grep -q 'is not an oracle this node holds the key of' <<<"$out" ||
        fail "the 403 does not say why: $out"
done
early_in_interval
ms=$(date +%s%3N)
push "$aws_mon" shared "[{\"time_ms\":$ms,\"response_ms\":150},{\"time_ms\":$((ms + 1)),\"response_ms\":90}]"
got=$(wait_decided shared $((ms / 4000 * 4000)))
[ "$got" = "good 150" ] || fail "shared: the interval was decided as '$got', not 'good 150'"
height=$(curl -sS -m 10 "$url/v1/health" | python3 -c \
    'import json,sys; print([c for c in json.load(sys.stdin)["channels"] if c["name"]=="univie-aws"][0]["height"])')
signers=$(for ((h = 1; h <= height; h++)); do
    api "$(token dave)" GET "/v1/channels/univie-aws/blocks/$h" | sed '$d'
done | python3 -c '
import json, sys
dec = json.JSONDecoder(); text = sys.stdin.read(); i = 0
while i < len(text):
    if text[i].isspace(): i += 1; continue
    b, i = dec.raw_decode(text, i)
    for t in b["transactions"]:
        if t.get("type") == "report":
            print(t["signer"]["org"] + "/" + t["signer"]["subject"])
' | sort | uniq -c)
grep -q ' aws/aws-mon$' <<<"$signers" || fail "no report signed by aws-mon: $signers"
grep -v ' aws/aws-mon$' <<<"$signers" | grep -q . &&
    fail "aws-mon's push was reported by another oracle: $signers"

# ---- 2. what a 202 acknowledged survives kill -9 ----
early_in_interval
ms=$(date +%s%3N)
push "$(token univie-mon)" crash "[{\"time_ms\":$ms,\"response_ms\":111},{\"time_ms\":$((ms + 1)),\"response_ms\":333},{\"time_ms\":$((ms + 2)),\"response_ms\":222}]"
kill -9 "$node_pid"
wait "$node_pid" 2>/dev/null || true
unset "procs_pid[node]"
[ $(($(date +%s%3N) - ms)) -lt 2500 ] || fail "the kill came after the interval closed"
start_node "$net/univie.yaml"
got=$(wait_decided crash $((ms / 4000 * 4000)))
[ "$got" = "bad 333" ] || fail "crash: the interval was decided as '$got', not 'bad 333'"
stop_node
timeout 120 "$bin" ledger verify "$net/data/univie-aws.db" >/dev/null || fail "ledger audit"
echo "node_oracle_push: ok"
