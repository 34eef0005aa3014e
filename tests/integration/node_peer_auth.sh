#!/usr/bin/env bash
# Node-to-node authentication: another organization's node calls univie's node (of
# `slaledger init`) with a node credential (sln1., made by tests/tools/nodetoken.c from its key
# and certificate), no secret shared. aws's node is a node of a member of univie-aws: whoami
# shows it as a node with that channel. Refused with 401: a credential for another node, one
# dated two minutes ago or ahead, one whose certificate a root that is not aws's signed, one of
# an organization no channel lists, one whose certificate has expired. A node is not a user: on
# the user routes (reads, writes, the event stream) it gets 403. Tokens of the tokens file
# work as before, and the node logs why it refused a credential.
set -euo pipefail
bin=${SL_BIN:?}
tmp=$(mktemp -d)
. "${SL_SOURCE_DIR:?}/scripts/lib/node.sh"
tool=${SL_BUILD_DIR:?}/tool_nodetoken
keys=$tmp/net/keys
aud=univie/univie-node

# cred NAME AUDIENCE [TOOL_ARGS...]: a credential of keys/NAME.key and keys/NAME.cert.
cred() {
    local name=$1 a=$2
    shift 2
    timeout 30 "$tool" --key "$keys/$name.key" --cert "$keys/$name.cert" --audience "$a" "$@" ||
        fail "tool_nodetoken refused $name for $a"
}

# issue NAME ORG ROOT [CERT_ISSUE_ARGS...]: a node certificate keys/NAME.cert for the key
# keys/NAME.key (made when missing), signed by keys/roots/ROOT.key.
issue() {
    local name=$1 org=$2 root=$3
    shift 3
    [ -f "$keys/$name.key" ] || timeout 30 "$bin" keygen --out "$keys/$name.key" >/dev/null ||
        fail "keygen $name failed"
    timeout 30 "$bin" cert issue --org-key "$keys/roots/$root.key" --org "$org" \
        --subject "$name" --role node --key "$keys/$name.key" "$@" --out "$keys/$name.cert" \
        >/dev/null || fail "cert issue $name failed"
}

timeout 60 "$bin" init "$tmp/net" >/dev/null || fail "init failed"
alice=$(token alice)
grep -q '"subject": "univie-node"' "$keys/univie-node.cert" || fail "unexpected node name"

# Roots and certificates that must not do: a stranger's root signing a certificate of "aws",
# an organization that no channel lists, and aws's own root on a certificate that has expired.
timeout 30 "$bin" keygen --out "$keys/roots/stranger.key" >/dev/null || fail "keygen failed"
issue fake-aws-node aws stranger
issue evil-node evil stranger
issue old-aws-node aws aws --not-before "$(date -u -d '-10 days' +%Y-%m-%dT%H:%M:%SZ)" --days 1

start_node "$tmp/net/univie.yaml"

# --- a node of a member organization authenticates, as a node ---
aws=$(cred aws-node "$aud")
case $aws in sln1.*) ;; *) fail "not a node credential: $aws" ;; esac
call 200 GET /v1/whoami "$aws"
jcheck 'd == {"node": "aws-node", "org": "aws", "role": "node", "channels": ["univie-aws"]}'
call 200 GET /v1/whoami "$(cred azure-node "$aud")"
jcheck 'd["node"] == "azure-node" and d["channels"] == ["univie-azure"]'
call 200 GET /v1/health "$aws"

# --- a node is not a user: every user route answers 403 ---
for route in "GET /v1/agreements" "GET /v1/agreements/vm-web-01" "GET /v1/wallets/aws" \
    "GET /v1/channels/univie-aws/blocks" "GET /v1/events" "GET /aws/services"; do
    set -- $route
    call 403 "$1" "$2" "$aws"
    jcheck 'd["error"]["code"] == "EPERM" and "aws/aws-node is a node, not a user" in d["error"]["message"]'
done
call 403 POST /v1/agreements "$aws" --data-binary 'spec: {}'
call 403 POST /v1/wallets/aws/withdraw "$aws" \
    -d '{"amount":"1.00","currency":"EUR","channel":"univie-aws"}'

# --- refused credentials: 401 ---
call 401 GET /v1/whoami "$(cred aws-node aws/aws-node)"
call 401 GET /v1/whoami "$(cred aws-node univie/univie-node2)"
call 401 GET /v1/whoami "$(cred aws-node "$aud" --offset-ms -120000)"
call 401 GET /v1/whoami "$(cred aws-node "$aud" --offset-ms 120000)"
call 401 GET /v1/whoami "$(cred fake-aws-node "$aud")"
call 401 GET /v1/whoami "$(cred evil-node "$aud")"
call 401 GET /v1/whoami "$(cred old-aws-node "$aud")"
call 401 GET /v1/agreements "$(cred fake-aws-node "$aud")"
# A changed character, and a credential cut short.
call 401 GET /v1/whoami "${aws%?}$(if [ "${aws: -1}" = A ]; then echo B; else echo A; fi)"
call 401 GET /v1/whoami "${aws:0:100}"
# The tool makes no credential of a user's certificate, nor for a malformed audience.
if timeout 30 "$tool" --key "$keys/alice.key" --cert "$keys/alice.cert" --audience "$aud" \
    >/dev/null 2>&1; then fail "a credential of a consumer's certificate was made"; fi
if timeout 30 "$tool" --key "$keys/aws-node.key" --cert "$keys/aws-node.cert" \
    --audience univie >/dev/null 2>&1; then fail "a credential for audience 'univie' was made"; fi

# --- the tokens of the tokens file work as before ---
call 200 GET /v1/whoami "$alice"
jcheck 'd == {"user": "alice", "org": "univie", "role": "consumer"}'
call 200 GET /v1/agreements "$alice"

# --- the node says why it refused (at info; the request lines are at debug) ---
stop_node
grep 'node credential refused' "$tmp/node.err" | grep -q 'token.audience' ||
    fail "no log line about the audience"
grep 'node credential refused' "$tmp/node.err" | grep -q 'token.time' ||
    fail "no log line about the time"
grep 'node credential refused' "$tmp/node.err" | grep -q 'is not signed by the root key' ||
    fail "no log line about the stranger's root"
grep 'node credential refused' "$tmp/node.err" | grep -q "'evil' is not a member" ||
    fail "no log line about the organization no channel lists"
grep 'node credential refused' "$tmp/node.err" | grep -q 'expired' ||
    fail "no log line about the expired certificate"
if grep -q 'sln1\.' "$tmp/node.err"; then fail "a credential was logged"; fi
echo "ok"
