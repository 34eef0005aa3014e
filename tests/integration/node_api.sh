#!/usr/bin/env bash
# A real node on 127.0.0.1:0 made by `slaledger init`, driven with curl: health, the auth
# matrix (no token, bad token, a party, the counter-party, an outsider, the auditor), the
# agreement's life (propose, accept, issue, deposit) as signed transactions the node makes for
# its users, wallets, a transaction with its inclusion proof, metrics, the data-directory lock,
# a clean stop on SIGTERM, a restart with the state intact, and an audit of the ledger after.
set -euo pipefail
bin=${SL_BIN:?}
src=${SL_SOURCE_DIR:?}
tmp=$(mktemp -d)
. "${SL_SOURCE_DIR:?}/scripts/lib/node.sh"

timeout 60 "$bin" init "$tmp/net" >/dev/null || fail "init failed"
example_next_month aws-ec2-vm.yaml "$tmp/vm-web-01.yaml" # no past intervals to catch up
alice=$(token alice) bob=$(token bob) carol=$(token carol) dave=$(token dave)
treasury=$(token treasury)
start_node "$tmp/net/univie.yaml"

# --- health and auth ---
call 200 GET /v1/health ""
jcheck 'd["status"] == "ok" and len(d["channels"]) == 2'
call 401 GET /v1/agreements ""
jcheck 'd["error"]["code"] == "EAUTH"'
call 401 GET /v1/agreements "slt_not-a-real-token"
call 200 GET /v1/agreements "$alice"
jcheck 'd["agreements"] == []'

call 200 GET /v1/openapi.json ""
jcheck 'd["openapi"].startswith("3.") and "/v1/agreements" in d["paths"]'

# --- live events: alice's stream hears of blocks and of her agreement's activation (the
# streams live until the test has what it waits for, however slow the machine) ---
timeout 120 curl -s -N -H "Authorization: Bearer $alice" "$url/v1/events" >"$tmp/sse" &
sse_pid=$!
wait_for 10 "first comment on the event stream" grep -q '^:' "$tmp/sse"
# carol (azure) listens too: she is a member of univie-azure only.
timeout 120 curl -s -N -H "Authorization: Bearer $carol" "$url/v1/events" >"$tmp/sse-carol" &
sse_carol_pid=$!
wait_for 10 "first comment on carol's event stream" grep -q '^:' "$tmp/sse-carol"
# An idle channel cuts no block: the bank issues azure tokens, so univie-azure gets one.
call 201 POST /v1/wallets/azure/issue "$treasury" -d '{"amount":"1.00","currency":"EUR","channel":"univie-azure"}'

# --- an agreement's life, each step a transaction the node signs for the caller ---
call 201 POST /v1/agreements "$alice" --data-binary "@$tmp/vm-web-01.yaml"
jcheck 'd["code"] == "valid" and d["channel"] == "univie-aws" and len(d["transaction"]) == 64'
propose_tx=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["transaction"])' \
    "$tmp/body")
call 409 POST /v1/agreements "$alice" --data-binary "@$tmp/vm-web-01.yaml"
jcheck '"exists" in d["error"]["message"] or "refused" in d["error"]["message"]'
call 400 POST /v1/agreements "$alice" --data-binary 'kind: Agreement'
jcheck 'd["error"]["code"] in ("EINVAL", "EPARSE")'
call 403 POST /v1/agreements/vm-web-01/accept "$dave"
call 201 POST /v1/agreements/vm-web-01/accept "$bob"
call 201 POST /v1/wallets/univie/issue "$treasury" -d '{"amount":"2500.00","currency":"EUR","channel":"univie-aws"}'
call 400 POST /v1/agreements/vm-web-01/deposit "$alice" -d '{"amount":"-5"}'
call 201 POST /v1/agreements/vm-web-01/deposit "$alice" -d '{"amount":"1000.00"}'
call 200 GET /v1/wallets/univie "$alice"
jcheck '[b["balance"] for b in d["balances"] if b["channel"] == "univie-aws"] == [150000]'
# An overdraft is the contract's EFUNDS, in the currency's units, naming the transaction.
call 409 POST /v1/wallets/univie/withdraw "$alice" -d '{"amount":"2000.00","currency":"EUR","channel":"univie-aws"}'
jcheck 'd["error"]["code"] == "EFUNDS" and len(d["error"]["transaction"]) == 64'
jcheck '"holds 1500.00 EUR, less than 2000.00 EUR" in d["error"]["message"]'

wait_for 10 "activation event" grep -q '^event: activated$' "$tmp/sse"
kill "$sse_pid" 2>/dev/null || true
wait "$sse_pid" 2>/dev/null || true
grep -q '^event: block$' "$tmp/sse" || fail "no block event on the stream: $(head -c 300 "$tmp/sse")"
grep -q '^event: activated$' "$tmp/sse" || fail "no activation event: $(head -c 600 "$tmp/sse")"
grep '^data: ' "$tmp/sse" | grep -q '"agreement":"vm-web-01"' || fail "event lacks the agreement"
# carol hears her own channel's block (the issue's), and nothing of univie-aws.
wait_for 10 "a univie-azure block on carol's stream" grep -q '"channel":"univie-azure"' "$tmp/sse-carol"
kill "$sse_carol_pid" 2>/dev/null || true
wait "$sse_carol_pid" 2>/dev/null || true
! grep -q 'univie-aws\|vm-web-01' "$tmp/sse-carol" ||
    fail "carol heard of univie-aws: $(grep -m 3 'univie-aws\|vm-web-01' "$tmp/sse-carol")"

# --- who sees what: parties and the auditor yes, an outsider gets 404 as for nothing ---
call 200 GET /v1/agreements/vm-web-01 "$alice"
jcheck 'd["status"] == "active" and d["escrow"] == "1000.00" and d["channel"] == "univie-aws"'
call 200 GET /v1/agreements/vm-web-01 "$bob"
call 200 GET /v1/agreements/vm-web-01 "$dave"
call 404 GET /v1/agreements/vm-web-01 "$carol"
call 200 GET /v1/agreements "$carol"
jcheck 'd["agreements"] == []'
call 404 GET /v1/wallets/univie "$carol"
call 404 GET /v1/agreements/nope "$alice"
# A proposal on a channel the caller's organization is not in: 404 as for none (not 401: the
# token is valid), whatever the document says of the parties.
sed 's/^  provider: aws$/  provider: azure/; s/^  name: vm-web-01$/  name: carol-vm/' \
    "$tmp/vm-web-01.yaml" >"$tmp/carol-vm.yaml"
call 404 POST /v1/agreements "$carol" --data-binary "@$tmp/carol-vm.yaml"
jcheck 'd["error"]["code"] == "ENOENT" and d["error"]["field"] == "spec.channel"'
call 404 GET /v1/agreements/carol-vm "$alice"

# --- services, measurement history, events, blocks ---
call 200 GET /v1/agreements/vm-web-01/services "$alice"
jcheck '[s["name"] for s in d["services"]] == ["web-01"] and d["services"][0]["kind"] == "aws.ec2"'
call 200 GET "/v1/agreements/vm-web-01/history?objective=uptime&limit=5" "$bob"
jcheck 'd["events"] == [] and d["limit"] == 5'
call 400 GET "/v1/agreements/vm-web-01/history?from=yesterday" "$bob"
call 400 GET "/v1/agreements/vm-web-01/events?limit=-1" "$bob"
call 200 GET "/v1/agreements/vm-web-01/events?kind=activated" "$alice"
jcheck 'len(d["events"]) == 1 and d["events"][0]["kind"] == "activated"'
call 404 GET /v1/agreements/vm-web-01/history "$carol"
call 200 GET "/v1/channels/univie-aws/blocks?limit=3" "$dave"
jcheck 'len(d["blocks"]) == 3 and d["head"] >= 4 and all(len(b["hash"]) == 64 for b in d["blocks"])'
call 404 GET /v1/channels/univie-aws/blocks "$carol"
call 200 GET /v1/whoami "$dave"
jcheck 'd == {"user": "dave", "org": "watchdog", "role": "auditor"}'
call 401 GET /v1/whoami ""
# One block: its header and each transaction with type, signer and code (members only). The
# block that holds the proposal, whichever it is.
call 200 GET "/v1/transactions/$propose_tx" "$alice"
propose_height=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["height"])' "$tmp/body")
call 200 GET "/v1/channels/univie-aws/blocks/$propose_height" "$dave"
jcheck 'd["height"] == '"$propose_height"' and len(d["prev"]) == 64 and d["transactions"] and all(t["code"] and len(t["id"]) == 64 and t["signer"]["org"] for t in d["transactions"])'
call 200 GET /v1/channels/univie-aws/blocks/0 "$dave"
jcheck 'd["transactions"][0]["type"] == "genesis"'
call 404 GET "/v1/channels/univie-aws/blocks/$propose_height" "$carol"
call 400 GET /v1/channels/univie-aws/blocks/x1 "$dave"
call 404 GET /v1/channels/univie-aws/blocks/999999 "$dave"
call 200 GET /v1/channels/univie-azure/blocks "$carol"

# --- the seed paper's routes ---
call 200 GET /aws/services "$alice"
jcheck '[a["name"] for a in d["services"]] == ["vm-web-01"] and d["provider"] == "aws"'
call 200 GET /azure/services "$alice"
jcheck 'd["services"] == []'
call 200 GET /aws/services/vm-web-01 "$bob"
jcheck 'd["agreement"] == "vm-web-01"'
call 404 GET /azure/services/vm-web-01 "$alice"
call 400 POST /azure/services "$alice" --data-binary "@$tmp/vm-web-01.yaml"
jcheck 'd["error"]["field"] == "spec.provider"'

# --- a transaction with its proof, checked offline against the genesis ---
call 200 GET "/v1/transactions/$propose_tx" "$alice"
jcheck 'd["code"] == "valid" and d["transaction"]["type"] == "propose"'
python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["proof"], open(sys.argv[2], "w"))' \
    "$tmp/body" "$tmp/proof.json"
timeout 30 "$bin" ledger check-proof "$tmp/proof.json" \
    --genesis "$tmp/net/channels/univie-aws.block" >/dev/null || fail "proof does not check"
call 400 GET /v1/transactions/xyz "$alice"
call 404 GET "/v1/transactions/$propose_tx" "$carol"

# --- metrics ---
call 200 GET /metrics ""
grep -q '^slaledger_http_requests_total{' "$tmp/body" || fail "no request counter"
grep -q '^slaledger_block_height{channel="univie-aws"} [1-9]' "$tmp/body" || fail "no height"
grep -q '^slaledger_transactions_total{channel="univie-aws",code="valid"} [4-9]' "$tmp/body" ||
    fail "no valid-transaction count: $(grep transactions_total "$tmp/body")"
grep -q '^slaledger_transactions_total{channel="univie-aws",code="refused"} [1-9]' "$tmp/body" ||
    fail "no refused-transaction count"

# --- one node per data directory ---
rc=0
timeout 10 "$bin" node --config "$tmp/net/univie.yaml" --listen 127.0.0.1:0 >/dev/null \
    2>"$tmp/second.err" || rc=$?
[ "$rc" -eq 3 ] && grep -q "another node" "$tmp/second.err" ||
    fail "second node: exit $rc: $(cat "$tmp/second.err")"

# --- stop, restart, state intact, ledger audits clean ---
stop_node
start_node "$tmp/net/univie.yaml"
call 200 GET /v1/agreements/vm-web-01 "$alice"
jcheck 'd["status"] == "active" and d["escrow"] == "1000.00"'

# --- rejecting a proposal: either party, for good; others cannot ---
sed 's/^  name: vm-web-01$/  name: vm-web-02/' "$tmp/vm-web-01.yaml" >"$tmp/vm-web-02.yaml"
call 201 POST /v1/agreements "$alice" --data-binary "@$tmp/vm-web-02.yaml"
call 404 POST /v1/agreements/vm-web-02/reject "$carol"
call 403 POST /v1/agreements/vm-web-02/reject "$dave"
call 404 POST /v1/agreements/nope/reject "$bob"
call 201 POST /v1/agreements/vm-web-02/reject "$bob"
jcheck 'd["code"] == "valid" and d["agreement"] == "vm-web-02"'
call 200 GET /v1/agreements/vm-web-02 "$alice"
jcheck 'd["status"] == "rejected"'
call 409 POST /v1/agreements/vm-web-02/accept "$bob"
jcheck 'd["error"]["code"] == "ESTATE" and "rejected" in d["error"]["message"]'
call 409 POST /v1/agreements/vm-web-02/reject "$alice"
call 409 POST /v1/agreements/vm-web-01/reject "$bob"
jcheck '"active" in d["error"]["message"]'

# --- the seed paper's PUT: parties only; nothing to measure before the period starts ---
call 404 PUT /aws/services/vm-web-01 "$carol"
call 404 PUT /azure/services/vm-web-01 "$alice"
call 403 PUT /aws/services/vm-web-01 "$dave"
call 422 PUT /aws/services/vm-web-01 "$bob"
jcheck 'd["error"]["code"] == "ETIME"'
call 409 PUT /aws/services/vm-web-02 "$alice"
jcheck 'd["error"]["code"] == "ESTATE"'

stop_node
timeout 60 "$bin" ledger verify "$tmp/net/data/univie-aws.db" >/dev/null || fail "audit failed"
echo "ok"
