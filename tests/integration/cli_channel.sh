#!/usr/bin/env bash
# `slaledger channel validate` end to end: the example channels are valid and summarised;
# variants of one, each broken in one way (made here with sed), are refused with exit 1 and a
# FILE:LINE:COL diagnostic naming the field; an agreement given as a channel gets one clear
# error at its kind; usage errors exit 2; an unreadable file exits 3 (which wins over 1);
# --json output is valid JSON with the documented shape. Each command runs under `timeout`.
set -euo pipefail
bin=${SL_BIN:?}
src=${SL_SOURCE_DIR:?}
ex="$src/examples/channel-univie-aws.yaml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# run EXPECTED_EXIT ARGS...: runs the binary, output in $tmp/out and $tmp/err.
run() {
    local want=$1 got=0
    shift
    timeout 30 "$bin" "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
    if [ "$got" -ne "$want" ]; then
        echo "--- stdout" >&2; cat "$tmp/out" >&2
        echo "--- stderr" >&2; cat "$tmp/err" >&2
        fail "slaledger $* exited $got, expected $want"
    fi
}

json_check() { # PYTHON_EXPRESSION over `d`, the parsed stdout
    timeout 30 python3 -c 'import json,sys; d=json.load(sys.stdin); assert '"$1"', d' \
        <"$tmp/out" || fail "JSON check failed: $1"
}

# --- help and usage ---
for args in "channel --help" "channel -h" "help channel" "channel validate --help"; do
    # shellcheck disable=SC2086
    run 0 $args
    grep -q '^usage: slaledger channel' "$tmp/out" || fail "'$args' prints no usage on stdout"
done
run 0 --help
grep -q '^  channel ' "$tmp/out" || fail "slaledger --help does not list the channel command"
run 2 channel
grep -q '^usage: slaledger channel <subcommand>' "$tmp/err" || fail "no usage without a subcommand"
run 2 channel no-such-subcommand
grep -q "slaledger channel: unknown subcommand 'no-such-subcommand'" "$tmp/err" ||
    fail "unknown subcommand: $(cat "$tmp/err")"
run 2 channel validate
grep -q 'slaledger channel validate: no FILE given' "$tmp/err" || fail "validate without files"
run 2 channel validate --no-such-option "$ex"
grep -q "slaledger channel validate: unknown option '--no-such-option'" "$tmp/err" ||
    fail "unknown option: $(cat "$tmp/err")"

# --- the example channels ---
run 0 channel validate "$ex"
want="$ex: ok: channel univie-aws, 4 organizations: univie (consumer, oracle, node),"
want="$want aws (provider, oracle, node), watchdog (oracle), bank (issuer); issuer bank; solo ordering by univie-node of univie,"
want="$want blocks of at most 500 transactions, 4MiB or 5ms, transactions of at most 1MiB"
[ "$(cat "$tmp/out")" = "$want" ] || fail "summary line: $(cat "$tmp/out")"
[ ! -s "$tmp/err" ] || fail "stderr not empty for a valid file: $(cat "$tmp/err")"
run 0 channel validate "$src"/examples/channel-*.yaml
[ "$(grep -c ': ok: channel ' "$tmp/out")" -eq 2 ] || fail "both examples: $(cat "$tmp/out")"
grep -q ': ok: channel univie-azure, .* azure (provider, oracle, node),' "$tmp/out" ||
    fail "azure summary: $(cat "$tmp/out")"
# Options may follow the files.
run 0 channel validate "$ex" --json
json_check 'len(d) == 1 and d[0]["valid"] is True and d[0]["errors"] == []'
json_check 'd[0]["channel"]["name"] == "univie-aws" and d[0]["channel"]["issuer"] == "bank"'
json_check '[o["name"] for o in d[0]["channel"]["organizations"]] == ["univie", "aws", "watchdog", "bank"]'
json_check 'd[0]["channel"]["organizations"][0]["roles"] == ["consumer", "oracle", "node"]'
json_check 'd[0]["channel"]["organizations"][3]["root_key"] == "d9e01adb3435b9e1b32e9446fe698a0cd63a7910a2c1fa54ad9ea84831a5cbc5"'
json_check 'd[0]["channel"]["ordering"] == {"kind": "solo", "orderer": {"org": "univie", "name": "univie-node"}, "max_block_txs": 500, "max_block_bytes": 4194304, "block_timeout_ms": 5, "max_tx_bytes": 1048576}'

# A minimal channel: defaults fill the ordering; no description is JSON null.
cat >"$tmp/lab.yaml" <<'DOC'
apiVersion: slaledger/v1
kind: Channel
metadata: {name: lab}
spec:
  issuer: lab
  organizations:
    - {name: lab, roles: [node, issuer], root_key: 5543a17949684c516086caeaf04c578a1f935e49bd3f477ad985d1ba93d18e65}
DOC
run 0 channel validate --json "$tmp/lab.yaml"
json_check 'd[0]["channel"]["description"] is None and d[0]["channel"]["organizations"][0]["roles"] == ["issuer", "node"]'
json_check 'd[0]["channel"]["ordering"]["max_tx_bytes"] == 1048576 and d[0]["channel"]["ordering"]["kind"] == "solo"'
json_check '"orderer" not in d[0]["channel"]["ordering"]'

# --- invalid documents: exit 1, FILE:LINE:COL: error: FIELD: ... ---
has_diag() { # FILE LINE:COL FIELD MESSAGE_PATTERN: stderr has exactly that diagnostic
    grep -qE "^$(printf '%s' "$1" | sed 's/[.[\*^$]/\\&/g'):$2: error: $3: $4" "$tmp/err"
}

# broken NAME SED_EXPRESSION LINE:COL FIELD MESSAGE_PATTERN
broken() {
    local f="$tmp/$1.yaml"
    sed "$2" "$ex" >"$f"
    cmp -s "$f" "$ex" && fail "$1: the sed expression changed nothing"
    run 1 channel validate "$f"
    has_diag "$f" "$3" "$4" "$5" || fail "$1: no diagnostic $3 $4: $5 in: $(cat "$tmp/err")"
    [ ! -s "$tmp/out" ] || fail "$1: stdout not empty: $(cat "$tmp/out")"
    run 1 channel validate --json "$f"
    json_check 'len(d) == 1 and d[0]["valid"] is False and "channel" not in d[0]'
    json_check 'd[0]["errors"] and all(e["line"] > 0 and e["field"] and e["message"] for e in d[0]["errors"])'
}
# Lines of examples/channel-univie-aws.yaml: 18 issuer, 20 the list, 25 aws's key, 27 watchdog's
# roles, 33 ordering kind, 38 max_tx_bytes.
broken issuer-role 's/issuer: bank/issuer: univie/' 18:11 spec.issuer \
    "organization 'univie' cannot be the issuer"
broken unknown-role 's/roles: \[oracle\]/roles: [orakel]/' 27:15 'spec\.organizations\[2\]\.roles\[0\]' \
    "unknown role 'orakel'"
broken no-node 's/, node\]/]/' 20:5 spec.organizations 'no organization has the node role'
broken same-key '25s/"5be5[0-9a-f]*"/"5543a17949684c516086caeaf04c578a1f935e49bd3f477ad985d1ba93d18e65"/' \
    25:17 'spec\.organizations\[1\]\.root_key' 'root key is already the key of'
broken tx-too-big 's/max_tx_bytes: 1MiB/max_tx_bytes: 8MiB/' 38:19 spec.ordering.max_tx_bytes \
    'max_tx_bytes 8MiB is larger than max_block_bytes 4MiB'
broken unknown-field 's/    kind: solo/    kind: solo\n    endpoints: [x]/' 34:5 spec.ordering.endpoints \
    "unknown field 'endpoints'"

# An agreement is not a channel: one error at its kind, nothing else.
run 1 channel validate "$src/examples/aws-ec2-vm.yaml"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "agreement as channel: $(cat "$tmp/err")"
has_diag "$src/examples/aws-ec2-vm.yaml" 8:7 kind 'expected kind Channel, found Agreement' ||
    fail "agreement as channel: $(cat "$tmp/err")"
# ... and the other way round.
run 1 sla validate "$ex"
has_diag "$ex" 13:7 kind 'expected kind Agreement, found Channel' ||
    fail "channel as agreement: $(cat "$tmp/err")"

# A syntax error has a position but no field.
printf 'apiVersion: slaledger/v1\nkind: Channel: x\n' >"$tmp/syntax.yaml"
run 1 channel validate "$tmp/syntax.yaml"
grep -qE "^$tmp/syntax.yaml:2:[0-9]+: error: YAML syntax error" "$tmp/err" ||
    fail "syntax error: $(cat "$tmp/err")"
run 1 channel validate --json "$tmp/syntax.yaml"
json_check 'd[0]["errors"][0]["code"] == "EPARSE" and d[0]["errors"][0]["field"] == ""'

# One invalid file among valid ones fails the run; the valid ones are still reported.
run 1 channel validate "$ex" "$tmp/no-node.yaml" "$ex"
[ "$(grep -c ': ok: ' "$tmp/out")" -eq 2 ] || fail "valid files beside an invalid one"

# --- unreadable files: exit 3, which wins over exit 1 ---
run 3 channel validate "$tmp/missing.yaml"
grep -q "^$tmp/missing.yaml: error: cannot read" "$tmp/err" || fail "missing file: $(cat "$tmp/err")"
run 3 channel validate "$tmp/no-node.yaml" "$tmp/missing.yaml" "$ex"
run 3 channel validate --json "$tmp/missing.yaml" "$ex"
json_check 'd[0]["valid"] is False and d[0]["errors"][0]["code"] == "EIO" and d[1]["valid"]'

echo "cli_channel: ok"
