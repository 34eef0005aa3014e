#!/usr/bin/env bash
# The client commands (agreement, service, wallet) against a real node on 127.0.0.1:0 made by
# `slaledger init`, through the CLI only: an agreement's life (apply as alice, accept as bob,
# issue as treasury, deposit as alice), list/show in text and --json, visibility (the outsider
# carol gets exit 1 and "no agreement"), no token (exit 1, auth message), an unreachable node
# (exit 3), bad options (exit 2), services, history, events, wallets, --help on every level,
# and a clean stop of the node on SIGTERM. The token never appears in any output.
set -euo pipefail
bin=${SL_BIN:?}
src=${SL_SOURCE_DIR:?}
tmp=$(mktemp -d)
. "${SL_SOURCE_DIR:?}/scripts/lib/node.sh"

# sl WANT_RC USER ARGS...: runs the CLI as USER ("-" for no token); stdout in $tmp/out, stderr
# in $tmp/err; fails unless it exits WANT_RC.
sl() {
    local want=$1 user=$2 rc=0 tok=
    shift 2
    [ "$user" != "-" ] && tok=$(token "$user")
    SLALEDGER_TOKEN=$tok timeout 60 "$bin" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "slaledger $* (as $user): exit $rc, expected $want"
    if [ -n "$tok" ] && grep -qF -- "$tok" "$tmp/out" "$tmp/err"; then
        fail "slaledger $*: the token appears in the output"
    fi
}

has() { grep -qE -- "$1" "$tmp/${2:-out}" || fail "expected /$1/ in ${2:-out}"; }

jcheck() { # PYTHON_EXPRESSION over d, the last stdout parsed as JSON
    timeout 10 python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert '"$1"', d' \
        "$tmp/out" || fail "JSON check failed: $1"
}

# --- --help on every level, before any node exists ---
for cmd in agreement service wallet; do
    sl 0 - "$cmd" --help
    has "usage: slaledger $cmd"
done
for sub in "agreement apply" "agreement accept" "agreement reject" "agreement deposit" \
    "agreement list" "agreement show" "agreement events" "service list" "service history" \
    "wallet show" "wallet issue" "wallet withdraw"; do
    # shellcheck disable=SC2086
    sl 0 - $sub --help
    has "usage: slaledger $sub"
    has "--node URL"
done
sl 0 - --help
has '^  agreement '
sl 0 - help wallet
has 'usage: slaledger wallet'
sl 2 - agreement
sl 2 - agreement frobnicate
sl 2 - agreement show
sl 2 - agreement show a b
sl 2 - agreement events x --limit 5000
sl 2 - service history x --from yesterday
sl 2 - agreement list --node ftp://example.com

# --- a node, and the example agreement moved to next month (no past intervals to catch up) ---
timeout 60 "$bin" init "$tmp/net" >/dev/null || fail "init failed"
example_next_month aws-ec2-vm.yaml "$tmp/vm-web-01.yaml"
month=${period_start%-01T*}
start_node "$tmp/net/univie.yaml"
export SLALEDGER_NODE=$url
sl 2 alice agreement list --node http://192.0.2.1:8640 # a token never goes out in clear
has 'refusing to send a token' err

# --- nothing yet; who may ask ---
sl 0 alice agreement list
has '^no agreements'
sl 0 alice agreement list --json
jcheck 'd["agreements"] == []'
sl 1 - agreement list
has 'bearer token' err
has 'SLALEDGER_TOKEN' err
rc=0
SLALEDGER_TOKEN=slt_not-a-real-token timeout 30 "$bin" agreement list >/dev/null 2>"$tmp/err" ||
    rc=$?
[ "$rc" -eq 1 ] || fail "an unknown token: exit $rc, expected 1"
has 'does not know the token' err
port=${url##*:}
bad_port=$((port == 1 ? 2 : 1))
sl 3 alice agreement list --node "http://127.0.0.1:$bad_port"
has 'cannot reach the node' err

# --- an agreement's life ---
sl 0 alice agreement apply "$tmp/vm-web-01.yaml"
has '^agreement vm-web-01 proposed: channel univie-aws, transaction [0-9a-f]{64}, block [0-9]+$'
sl 1 alice agreement apply "$tmp/vm-web-01.yaml"
has 'HTTP 409' err
sl 3 alice agreement apply "$tmp/no-such-file.yaml"
sl 1 dave agreement accept vm-web-01 # an auditor may not
has 'HTTP 403' err
sl 0 bob agreement accept vm-web-01 --json
jcheck 'd["code"] == "valid" and d["agreement"] == "vm-web-01" and len(d["transaction"]) == 64'
sl 0 treasury wallet issue univie 2500.00 EUR --channel univie-aws
has '^issued 2500.00 EUR to univie: channel univie-aws, transaction [0-9a-f]{64}, block'
sl 1 alice wallet issue univie 1.00 EUR --channel univie-aws
sl 1 alice agreement deposit vm-web-01 -- -5
has 'amount: ' err
sl 0 alice agreement deposit vm-web-01 1000.00
has '^agreement vm-web-01 funded with 1000.00: channel univie-aws'

# --- list and show ---
sl 0 alice agreement list
has '^NAME +STATUS +CHANNEL +CONSUMER +PROVIDER'
has '^vm-web-01 +active +univie-aws +univie +aws '
sl 0 alice agreement list --json
jcheck '[(a["name"], a["status"], a["escrow"]) for a in d["agreements"]] == [("vm-web-01", "active", 100000)]'
sl 0 alice agreement show vm-web-01
has '^agreement vm-web-01 \(active\) on channel univie-aws$'
has '^  consumer +univie$'
has '^  provider +aws$'
has "^  period +$period_start \.\. $period_end\$"
has '^  fee +1000.00 EUR$'
has '^  escrow +1000.00 EUR$'
has '^  deposited +1000.00 EUR$'
has '^  penalties +0.00 EUR$'
has '^objective uptime: availability, target 99.99%, 1 window$'
sl 0 alice agreement show vm-web-01 --all
has '^  START +END +GOOD +BAD +UNKNOWN +COMPLIANCE +OWED +PAID +TIER +CLOSED$'
has "^  $period_start +$period_end "
[ "$(grep -c "^  $month" "$tmp/out")" -eq 1 ] || fail "show --all lists the 1 window"
sl 0 alice agreement show vm-web-01 --json
jcheck 'd["status"] == "active" and d["escrow"] == "1000.00" and d["consumer"] == "univie" and len(d["objectives"]) == 1 and len(d["objectives"][0]["windows"]) == 1'
sl 0 dave agreement show vm-web-01 # the auditor sees it
sl 0 bob agreement show vm-web-01
sl 1 carol agreement show vm-web-01 # the outsider: exactly as for what does not exist
has "no agreement 'vm-web-01'" err
has 'HTTP 404' err
sl 1 alice agreement show nope
has "no agreement 'nope'" err
sl 0 carol agreement list
has '^no agreements'

# --- services, history, events ---
sl 0 alice service list vm-web-01
has '^SERVICE +KIND +OBJECTIVE +METRIC$'
has '^web-01 +aws\.ec2 +uptime +availability$'
sl 0 alice service list vm-web-01 --json
jcheck 'd["services"][0]["name"] == "web-01" and len(d["services"][0]["objectives"]) == 1'
sl 1 carol service list vm-web-01
sl 0 alice service history vm-web-01 --objective uptime --from "$period_start" --limit 10
has '^agreement vm-web-01: no decided intervals'
sl 0 alice service history vm-web-01 --json --limit 7 --offset 0
jcheck 'd["events"] == [] and d["limit"] == 7 and d["offset"] == 0'
sl 0 alice agreement events vm-web-01
has '^BLOCK +KIND +OBJECTIVE'
has '^ +[0-9]+ +proposed '
has '^ +[0-9]+ +activated '
has '^ +[0-9]+ +deposited .* 1000\.00 EUR '
sl 0 alice agreement events vm-web-01 --kind deposited --json
jcheck '[(e["kind"], e["amount"]) for e in d["events"]] == [("deposited", 100000)]'
sl 0 alice agreement events vm-web-01 --limit 1
has 'limit 1 reached'
sl 1 carol agreement events vm-web-01

# --- wallets ---
sl 0 alice wallet show univie
has '^wallet of univie$'
has '^  univie-aws +1500\.00 EUR +[0-9]+$'
sl 0 alice wallet show univie --json
jcheck '[(b["channel"], b["currency"], b["balance"]) for b in d["balances"]] == [("univie-aws", "EUR", 150000)]'
sl 0 alice wallet withdraw univie 100.00 EUR --channel univie-aws
has '^withdrew 100.00 EUR from univie: channel univie-aws'
sl 0 dave wallet show univie --json # the auditor
jcheck '[b["balance"] for b in d["balances"]] == [140000]'
sl 1 carol wallet show univie
has "no wallet of 'univie'" err
sl 0 bob wallet show aws
has '^wallet of aws: no balances$'

# --- rejecting a proposal: the counter-party declines it for good ---
sed 's/^  name: vm-web-01$/  name: vm-web-02/' "$tmp/vm-web-01.yaml" >"$tmp/vm-web-02.yaml"
sl 0 alice agreement apply "$tmp/vm-web-02.yaml"
sl 1 carol agreement reject vm-web-02
has 'HTTP 404' err
sl 0 bob agreement reject vm-web-02
has '^agreement vm-web-02 rejected: channel univie-aws, transaction [0-9a-f]{64}, block [0-9]+$'
sl 1 bob agreement accept vm-web-02
has 'rejected, not proposed' err
sl 0 alice agreement show vm-web-02
has '^agreement vm-web-02 \(rejected\) on channel univie-aws$'

# --- a clean stop ---
stop_node
sl 3 alice agreement list # and now nobody answers
echo "ok: cli_client"
