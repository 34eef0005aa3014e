#!/usr/bin/env bash
# The main job end to end: `make demo`'s script with the built binary, headless, twice - as
# shipped, and with the watchdog's oracle lying (signed but wrong values) - checking exact
# outcomes from the statements, events and wallets the demo saves: intervals good/bad/unknown
# per window, every penalty's amount and the block that paid it (the one that decided the
# breaching interval), the settlements, balances that add up to the supply, the disputes, and
# a clean audit of both ledgers.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

run_demo() { # NAME ARGS...
    local name=$1
    shift
    SL_BIN=${SL_BIN:?} DEMO_DIR="$tmp/$name" DEMO_ARGS="$*" timeout 400 \
        bash "${SL_SOURCE_DIR:?}/scripts/demo.sh" >"$tmp/$name.out" 2>&1 ||
        { tail -n 40 "$tmp/$name.out" >&2; fail "demo $name exited non-zero"; }
    grep -Eq 'univie-aws.db: ok: [0-9]+ blocks' "$tmp/$name.out" || fail "$name: no clean audit"
    grep -Eq 'univie-azure.db: ok: [0-9]+ blocks' "$tmp/$name.out" || fail "$name: no clean audit"
    python3 - "$tmp/$name/results" "$name" <<'PY' || { tail -n 60 "$tmp/$name.out" >&2; fail "$name: outcomes"; }
import json, sys
from datetime import datetime
res, name = sys.argv[1], sys.argv[2]
load = lambda f: json.load(open(f"{res}/{f}"))
ts = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))

def windows(st, objective):
    o = next(o for o in st["objectives"] if o["name"] == objective)
    return [(w["good"], w["bad"], w["unknown"], w["paid"], w["closed"]) for w in o["windows"]]

web, az = load("vm-web-01.statement.json"), load("vm-azure-01.statement.json")
t0 = ts(web["period"]["start"])
minute = lambda e: int((ts(e["start"]) - t0).total_seconds() // 60)  # since the period start
for st in (web, az):
    assert st["status"] == "closed", st["status"]
    assert st["shortfall"] == "0.00" and st["escrow"] == "0.00", st
# EC2: six minutes of failed status checks in the first window (tier 50 %), a slow website
# for four minutes in the second (4 x 5.00).
assert windows(web, "uptime") == [(24, 6, 0, "250.00", True), (30, 0, 0, "0.00", True)], windows(web, "uptime")
assert windows(web, "latency") == [(30, 0, 0, "0.00", True), (26, 4, 0, "20.00", True)], windows(web, "latency")
assert (web["penalties"], web["settled"], web["refunded"]) == ("270.00", "730.00", "0.00"), web
assert [(b["penalties"], b["settled"]) for b in web["billing"]] == [("250.00", "250.00"), ("20.00", "480.00")]
# Azure: two minutes down in the first window (tier 50 % of 400.00).
assert windows(az, "uptime") == [(28, 2, 0, "200.00", True), (30, 0, 0, "0.00", True)], windows(az, "uptime")
assert (az["penalties"], az["settled"]) == ("200.00", "600.00"), az

# Each tier penalty is paid in the block that decided the breaching interval: the first bad
# interval makes 25 % certain, the second tops it up to 50 %.
for agr, first, amount in (("vm-web-01", 10, 12500), ("vm-azure-01", 5, 10000)):
    ev = load(f"{agr}.events.json")["events"]
    bad = [e for e in ev if e["kind"] == "decided" and e["objective"] == "uptime" and e["outcome"] == "bad"]
    pen = [e for e in ev if e["kind"] == "penalty" and e["objective"] == "uptime"]
    assert [p["amount"] for p in pen] == [amount, amount], pen
    assert [p["tier"] for p in pen] == [1, 2], pen
    assert [p["height"] for p in pen] == [b["height"] for b in bad[:2]], (pen, bad[:2])
    assert minute(bad[0]) == first, bad[0]

# Disputes: the watchdog's view is late to see the outage and shows a blip of its own (or,
# lying, never sees a failure); the median decides as the other two say, and every
# disagreement is on the ledger.
ev = load("vm-web-01.events.json")["events"]
disputes = sorted(minute(e) for e in ev if e["kind"] == "dispute")
expected = {"demo": [10, 11, 22], "liar": [10, 11, 12, 13, 14, 15]}[name]
assert disputes == expected, (disputes, expected)

# Money is conserved: what the bank issued (1800.00) is in the three wallets, escrows empty.
total = 0
for org in ("univie", "aws", "azure"):
    total += sum(b["balance"] for b in load(f"wallet-{org}.json")["balances"])
assert total == 180000, total
PY
    secrets_private "$tmp/$name"
}

# secrets_private DIR: the users' tokens appear only in the files meant for them (net/tokens.txt
# and net/tokens.yaml, mode 0600), and every file of the node's data directory is 0600.
secrets_private() {
    local dir=$1 tok f
    for f in "$dir/net/tokens.txt" "$dir/net/tokens.yaml"; do
        [ "$(stat -c %a "$f")" = 600 ] || fail "$f is not 0600"
    done
    for tok in $(grep -o 'slt_[A-Za-z0-9_-]*' "$dir/net/tokens.txt"); do
        f=$(grep -rlF -- "$tok" "$dir" | grep -vxF -e "$dir/net/tokens.txt" -e "$dir/net/tokens.yaml") &&
            fail "a token is written in $f"
    done
    f=$(find "$dir/net/data" -type f ! -perm 0600) && [ -n "$f" ] && fail "not 0600: $f"
    return 0
}

run_demo demo
run_demo liar --liar
echo "demo: ok"
