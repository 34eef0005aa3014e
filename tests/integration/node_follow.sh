#!/usr/bin/env bash
# Two organizations, two nodes, one channel: univie's node orders univie-aws; aws's node holds
# only aws's keys and follows it. alice proposes on univie's node, bob accepts on aws's node
# (which hands his signed acceptance to univie's orderer and answers once its own copy applied
# the block), and both copies reach the same head. aws's node refuses univie's users; a node
# not told where its channel's orderer is will not start; aws's node, stopped while univie's
# goes on, catches up when it returns; each copy passes `ledger verify`.
set -euo pipefail
bin=${SL_BIN:?}
src=${SL_SOURCE_DIR:?}
tmp=$(mktemp -d)
. "$src/scripts/lib/node.sh"

timeout 60 "$bin" init "$tmp/net" >/dev/null || fail "init failed"
example_next_month aws-ec2-vm.yaml "$tmp/vm-web-01.yaml"
alice=$(token alice) bob=$(token bob) treasury=$(token treasury)
net=$tmp/net

# aws's node: aws's node identity and aws's user bob, nothing of another organization.
aws_config() { # ORDERER_URL (empty: none)
    cat >"$net/aws.yaml" <<EOF
apiVersion: slaledger/v1
kind: Node
metadata: {name: aws-node}
spec:
  organization: aws
  data_dir: data-aws
  identity: {key: keys/aws-node.key, cert: keys/aws-node.cert}
  users:
    - {name: bob, key: keys/bob.key, cert: keys/bob.cert}
  channels:
    - {name: univie-aws, genesis: channels/univie-aws.block${1:+, orderer: "$1"}}
  tokens: tokens.yaml
EOF
}

# at NODE: the URL of node NODE (univie or aws) for call.
declare -A urls
at() { url=${urls[$1]}; }
start() { # NAME CONFIG
    spawn "$1" "$bin" node --config "$2" --listen 127.0.0.1:0
    listen_port "$1"
    urls[$1]="http://127.0.0.1:$port"
}
# same_head: both copies have the same head block (height and hash); fails quietly otherwise,
# for wait_for.
same_head() {
    curl -sf -H "Authorization: Bearer $alice" "${urls[univie]}/v1/channels/univie-aws/blocks?limit=1" \
        >"$tmp/u.json" &&
        curl -sf -H "Authorization: Bearer $bob" "${urls[aws]}/v1/channels/univie-aws/blocks?limit=1" \
            >"$tmp/a.json" &&
        python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
assert a["head"] == b["head"] and a["blocks"][-1] == b["blocks"][-1]' "$tmp/u.json" "$tmp/a.json" \
            2>/dev/null
}

# --- a follower that is not told where its orderer is does not start ---
aws_config ""
rc=0
timeout 30 "$bin" node --config "$net/aws.yaml" --listen 127.0.0.1:0 >"$tmp/refused.out" \
    2>"$tmp/refused.err" || rc=$?
[ "$rc" -ne 0 ] || fail "aws's node started without its orderer's URL"
grep -q "ordered by 'univie-node' of 'univie', not by this node ('aws-node' of 'aws')" \
    "$tmp/refused.err" || fail "no reason given: $(cat "$tmp/refused.err")"

# --- univie orders, aws follows ---
start univie "$net/univie.yaml"
aws_config "${urls[univie]}"
start aws "$net/aws.yaml"
at univie
call 201 POST /v1/agreements "$alice" --data-binary "@$tmp/vm-web-01.yaml"
at aws
call 403 POST /v1/agreements "$alice" --data-binary "@$tmp/vm-web-01.yaml"
jcheck '"alice of univie is not a user this node signs for" in d["error"]["message"]'
wait_for 20 "the proposal on aws's node" \
    bash -c "curl -s -H 'Authorization: Bearer $bob' '${urls[aws]}/v1/agreements/vm-web-01' |
        grep -q '\"status\": *\"proposed\"'"
call 201 POST /v1/agreements/vm-web-01/accept "$bob"
jcheck 'd["code"] == "valid"'
at univie
call 200 GET /v1/agreements/vm-web-01 "$alice"
jcheck 'd["status"] == "active"'
wait_for 20 "the same head on both nodes" same_head

# --- a member node's raw blocks are for members; the orderer takes no user's transaction ---
call 200 GET /v1/channels/univie-aws/blocks/1/raw "$alice"
call 403 POST /v1/channels/univie-aws/transactions "$alice" --data-binary "@$tmp/vm-web-01.yaml"

# --- aws's node down: univie goes on; back, it catches up ---
stop aws
at univie
call 201 POST /v1/wallets/aws/issue "$treasury" \
    -d '{"amount":"300.00","currency":"EUR","channel":"univie-aws"}'
start aws "$net/aws.yaml"
wait_for 20 "aws's node catching up" same_head
at aws
call 200 GET /v1/wallets/aws "$bob"
jcheck '[b["balance"] for b in d["balances"] if b["channel"] == "univie-aws"] == [30000]'
call 201 POST /v1/wallets/aws/withdraw "$bob" \
    -d '{"amount":"100.00","currency":"EUR","channel":"univie-aws"}'
wait_for 20 "the withdrawal on both nodes" same_head
stop aws
stop univie

for db in data/univie-aws.db data-aws/univie-aws.db; do
    timeout 120 "$bin" ledger verify "$net/$db" >"$tmp/verify.out" 2>&1 ||
        fail "ledger verify $db: $(cat "$tmp/verify.out")"
done
echo "node_follow: ok (aws's node follows univie's orderer with aws's keys alone; same head)"
