#!/usr/bin/env bash
# Users are organization and name, never a name alone: a node of `slaledger init` that also
# signs for a consumer `bob` of univie, next to the provider `bob` of aws. univie's bob acts as
# univie only (he cannot accept as the provider nor withdraw from aws's wallet), aws's bob acts
# as aws. And the node refuses to start on what it cannot resolve, each refusal at
# FILE:LINE:COL: a token whose role is not its key's, a token of an organization for whose
# user of that name the node holds no key (only another organization's), and a user entry
# whose certificate is someone else's.
set -euo pipefail
bin=${SL_BIN:?}
src=${SL_SOURCE_DIR:?}
tmp=$(mktemp -d)
. "${SL_SOURCE_DIR:?}/scripts/lib/node.sh"

# refused WHAT FILE:LINE PATTERN: the node must not start on the current files, and say where.
refused() {
    local rc=0
    timeout 20 "$bin" node --config "$tmp/net/univie.yaml" --listen 127.0.0.1:0 \
        >"$tmp/refused.out" 2>"$tmp/refused.err" || rc=$?
    [ "$rc" -ne 0 ] || fail "$1: the node started"
    grep -q -- "$2:[0-9]*: .*$3" "$tmp/refused.err" ||
        fail "$1: no '$2:COL: ...$3' in: $(cat "$tmp/refused.err")"
}

timeout 60 "$bin" init "$tmp/net" >/dev/null || fail "init failed"
example_next_month aws-ec2-vm.yaml "$tmp/vm-web-01.yaml"
alice=$(token alice) bob=$(token bob) treasury=$(token treasury)

# univie's own bob, a consumer, listed after aws's bob (as a lookup by name alone would find
# aws's first) with a token of his own.
keys=$tmp/net/keys
timeout 30 "$bin" keygen --out "$keys/bob-univie.key" >/dev/null || fail "keygen failed"
timeout 30 "$bin" cert issue --org-key "$keys/roots/univie.key" --org univie --subject bob \
    --role consumer --key "$keys/bob-univie.key" --out "$keys/bob-univie.cert" >/dev/null ||
    fail "cert issue failed"
cp "$tmp/net/univie.yaml" "$tmp/univie.yaml.orig"
sed -i '/^    - {name: bob, org: aws, /a\    - {name: bob, org: univie, key: keys/bob-univie.key, cert: keys/bob-univie.cert}' \
    "$tmp/net/univie.yaml"
grep -q 'name: bob, org: univie' "$tmp/net/univie.yaml" || fail "could not add univie's bob"
cp "$tmp/net/tokens.yaml" "$tmp/tokens.yaml.orig"
ubob=$(new_token bob univie consumer)
cp "$tmp/net/tokens.yaml" "$tmp/tokens.yaml.good"

start_node "$tmp/net/univie.yaml"
call 200 GET /v1/whoami "$ubob"
jcheck 'd == {"user": "bob", "org": "univie", "role": "consumer"}'

# --- univie's bob cannot accept as aws's provider; aws's bob can ---
call 201 POST /v1/agreements "$alice" --data-binary "@$tmp/vm-web-01.yaml"
# Signed as univie's bob, the acceptance comes from univie, which proposed already.
call 409 POST /v1/agreements/vm-web-01/accept "$ubob"
jcheck '"already signed" in d["error"]["message"]'
call 200 GET /v1/agreements/vm-web-01 "$alice"
jcheck 'd["status"] == "proposed"'
call 201 POST /v1/agreements/vm-web-01/accept "$bob"
call 200 GET /v1/agreements/vm-web-01 "$alice"
jcheck 'd["status"] == "active"'

# --- univie's bob cannot withdraw from aws's wallet; aws's bob can ---
call 201 POST /v1/wallets/aws/issue "$treasury" \
    -d '{"amount":"300.00","currency":"EUR","channel":"univie-aws"}'
call 404 POST /v1/wallets/aws/withdraw "$ubob" \
    -d '{"amount":"300.00","currency":"EUR","channel":"univie-aws"}'
call 404 GET /v1/wallets/aws "$ubob"
call 200 GET /v1/wallets/aws "$bob"
jcheck '[b["balance"] for b in d["balances"] if b["channel"] == "univie-aws"] == [30000]'
call 201 POST /v1/wallets/aws/withdraw "$bob" \
    -d '{"amount":"100.00","currency":"EUR","channel":"univie-aws"}'
call 200 GET /v1/wallets/aws "$bob"
jcheck '[b["balance"] for b in d["balances"] if b["channel"] == "univie-aws"] == [20000]'
stop_node

# --- what the node cannot resolve, it refuses to start on ---
line_of() { grep -n -- "$1" "$2" | head -n 1 | cut -d: -f1; }
# A token whose role is not that of its user's certificate.
sed 's/{user: bob, org: univie, role: consumer,/{user: bob, org: univie, role: provider,/' \
    "$tmp/tokens.yaml.good" >"$tmp/net/tokens.yaml"
refused "role" "tokens.yaml:$(line_of 'user: bob, org: univie' "$tmp/net/tokens.yaml")" \
    "provider.*consumer"
# A token of azure's bob, where the node holds the keys of aws's and univie's bob only.
sed 's/{user: bob, org: univie, role: consumer,/{user: bob, org: azure, role: consumer,/' \
    "$tmp/tokens.yaml.good" >"$tmp/net/tokens.yaml"
refused "org" "tokens.yaml:$(line_of 'user: bob, org: azure' "$tmp/net/tokens.yaml")" \
    "no key of bob of azure"
# A user entry whose certificate is another organization's member.
cp "$tmp/tokens.yaml.good" "$tmp/net/tokens.yaml"
sed -i 's|{name: bob, org: univie, key: keys/bob-univie.key, cert: keys/bob-univie.cert}|{name: bob, org: univie, key: keys/bob.key, cert: keys/bob.cert}|' \
    "$tmp/net/univie.yaml"
refused "cert" "univie.yaml:$(line_of 'name: bob, org: univie' "$tmp/net/univie.yaml")" \
    "bob of aws, not bob of univie"
echo "ok"
