#!/usr/bin/env bash
# A ledger attacked from outside. tool_ledgergen grows a 30-block ledger; `ledger verify`,
# `blocks`, `tx`, `proof` and `check-proof` read it (text and --json). A proof checks against
# the channel's genesis and fails against another channel's genesis (made here with keygen,
# cert issue and ledger genesis/create) and after any one hex digit of it is edited. Then the
# database is tampered with, one way per fresh copy, with python3's sqlite3 module: a byte of a
# transaction, of a header, of a header's signature, a world-state value, the last block's row
# (truncation), two swapped headers, a deleted transaction; `ledger verify` must exit 1 and name
# the right block and the reason. Each command runs under `timeout`.
set -euo pipefail
bin=${SL_BIN:?}
gen=${SL_BUILD_DIR:?}/tool_ledgergen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# run EXPECTED_EXIT ARGS...: runs the binary, output in $tmp/out and $tmp/err.
run() {
    local want=$1 got=0
    shift
    timeout 60 "$bin" "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
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

err_has() { grep -q -- "$1" "$tmp/err" || fail "stderr lacks '$1': $(cat "$tmp/err")"; }
out_has() { grep -q -- "$1" "$tmp/out" || fail "stdout lacks '$1': $(cat "$tmp/out")"; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <"$tmp/out"; }

# --- a 30-block ledger ---
timeout 60 "$gen" gen --blocks 30 >gen.out || fail "tool_ledgergen exited $?"
[ "$(wc -l <gen.out)" -eq 30 ] && [ "$(tail -n 1 gen.out)" = "committed 30" ] ||
    fail "ledgergen output: $(tail -n 3 gen.out)"
db=gen/ledger.db
genesis=gen/genesis.block
n_ids=$(wc -l <gen/txids)
[ "$n_ids" -gt 30 ] || fail "only $n_ids valid transactions recorded"

# --- verify ---
run 0 ledger verify "$db"
line=$(cat "$tmp/out")
[[ $line =~ ^gen/ledger.db:\ ok:\ 30\ blocks,\ ([0-9]+)\ transactions\ \(([0-9]+)\ valid\)$ ]] ||
    fail "verify summary: $line"
n_tx=${BASH_REMATCH[1]}
n_valid=${BASH_REMATCH[2]}
[ "$n_valid" -eq "$n_ids" ] || fail "verify counts $n_valid valid, ledgergen recorded $n_ids"
[ "$n_tx" -gt "$n_valid" ] || fail "expected refused reports too: $line"
[ ! -s "$tmp/err" ] || fail "verify wrote to a non-terminal stderr: $(cat "$tmp/err")"
run 0 ledger verify --json "$db"
json_check 'd["file"] == "gen/ledger.db" and d["ok"] is True and d["blocks"] == 30'
json_check 'd["transactions"] == '"$n_tx"' and d["valid"] == '"$n_valid"
json_check 'd["bad_height"] is None and d["error"] is None'
if command -v script >/dev/null; then
    # On a terminal the progress bar appears (stderr and stdout share the pty here).
    timeout 60 script -qec "$bin ledger verify $db" /dev/null >tty.out ||
        fail "verify on a terminal failed: $(cat tty.out)"
    grep -q '30/30 blocks' tty.out || fail "no progress bar on a terminal: $(cat -v tty.out)"
    grep -q 'ok: 30 blocks' tty.out || fail "no summary on a terminal"
fi
run 0 ledger verify --help
out_has '^usage: slaledger ledger verify'
run 2 ledger verify
run 2 ledger verify "$db" --frobnicate
run 3 ledger verify no-such.db
err_has 'no-such.db'

# --- blocks ---
run 0 ledger blocks "$db"
[ "$(wc -l <"$tmp/out")" -eq 31 ] || fail "blocks lists $(wc -l <"$tmp/out") lines, want 31"
head -n 1 "$tmp/out" | grep -qE '^ +0  2026-11-30T23:00:00Z +1 tx +1 valid  [0-9a-f]{12}  univie-node@univie$' ||
    fail "genesis line: $(head -n 1 "$tmp/out")"
sed -n 12p "$tmp/out" | grep -qE '^ +11  2026-12-01T10:00:30Z +7 tx +7 valid  [0-9a-f]{12}  univie-node@univie$' ||
    fail "block 11 line: $(sed -n 12p "$tmp/out")"
run 0 ledger blocks --json "$db"
json_check 'len(d) == 31 and [b["height"] for b in d] == list(range(31))'
json_check 'sum(b["transactions"] for b in d) == '"$n_tx"' + 1 and sum(b["valid"] for b in d) == '"$n_valid"' + 1'
json_check 'all(len(b["hash"]) == 64 and b["orderer"] == {"subject": "univie-node", "org": "univie"} for b in d)'
json_check 'all(d[i]["time_ms"] - d[i-1]["time_ms"] == 3600000 for i in range(2, 31))'
json_check 'len(set(b["hash"] for b in d)) == 31'
run 0 ledger blocks "$db" --from 10 --to 12
[ "$(wc -l <"$tmp/out")" -eq 3 ] && head -n 1 "$tmp/out" | grep -q '^ *10  ' ||
    fail "--from 10 --to 12: $(cat "$tmp/out")"
run 0 ledger blocks "$db" --from 29 --to 1000
[ "$(wc -l <"$tmp/out")" -eq 2 ] || fail "--to beyond the head: $(cat "$tmp/out")"
run 1 ledger blocks "$db" --from 31
err_has 'the head is block 30'
run 2 ledger blocks "$db" --from 5 --to 4
run 2 ledger blocks "$db" --from -1
run 2 ledger blocks "$db" --to x

# --- tx ---
txid=$(sed -n 40p gen/txids)
run 0 ledger tx "$db" "$txid" --json
json_check 'd["id"] == "'"$txid"'" and d["code"] == "valid" and d["reason"] == "" and d["copies"] == 1'
json_check 'd["transaction"]["id"] == d["id"] and d["transaction"]["channel"] == "univie-aws"'
block=$(jget 'd["block"]')
index=$(jget 'd["index"]')
run 0 ledger tx "$db" "$txid"
out_has "^transaction $txid\$"
out_has "^  block   $block, index $index\$"
out_has '^  code    valid$'
# A refused report (the watchdog reporting an interval twice) shows its reason.
refused=$(python3 - "$db" <<'PY'
import hashlib, sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT bytes FROM txs WHERE code = 9 ORDER BY height LIMIT 1").fetchone()
print(hashlib.sha256(row[0]).hexdigest())
PY
)
run 0 ledger tx "$db" "$refused" --json
json_check 'd["code"] == "refused" and "already" in d["reason"]'
run 1 ledger tx "$db" "$(printf '0%.0s' {1..64})"
err_has 'no such transaction in the ledger'
run 2 ledger tx "$db" abc
err_has "'abc' is not a transaction id"
run 2 ledger tx "$db"

# --- proof and check-proof ---
run 0 ledger proof "$db" "$txid" --out proof.json
out_has "^proof.json: proof of transaction $txid in block $block at index $index, up to head 30\$"
run 0 ledger proof "$db" "$txid"
cmp -s "$tmp/out" proof.json || fail "the proof on stdout differs from the one in the file"
run 3 ledger proof "$db" "$txid" --out proof.json
err_has 'proof.json: already exists'
run 1 ledger proof "$db" "$(printf 'ab%.0s' {1..32})"
err_has 'no such transaction'
run 0 ledger check-proof proof.json --genesis "$genesis"
out_has "^proof.json: ok: transaction $txid: .* in block $block at index $index, code valid, proven up to head 30\$"
run 0 ledger check-proof proof.json --genesis "$genesis" --json
json_check 'd["valid"] is True and d["id"] == "'"$txid"'" and d["height"] == '"$block"' and d["index"] == '"$index"
json_check 'd["head"] == 30 and d["code"] == "valid" and d["org"] in ("univie", "aws", "watchdog", "bank")'
json_check 'd["type"] in ("report", "issue", "propose", "accept", "deposit") and d["signer"] != ""'
run 0 ledger proof "$db" "$refused" --out refused.json --json
json_check 'd["file"] == "refused.json" and d["head"] == 30'
run 0 ledger check-proof refused.json --genesis "$genesis" --json
json_check 'd["valid"] is True and d["code"] == "refused" and d["type"] == "report"'
run 2 ledger check-proof proof.json
run 3 ledger check-proof proof.json --genesis missing.block

# Another channel: the same name, its own organizations' keys, made with the CLI.
run 0 keygen --out univie.key
univie_pk=$(cat "$tmp/out")
run 0 keygen --out bank.key
bank_pk=$(cat "$tmp/out")
run 0 keygen --out node.key
run 0 cert issue --org-key univie.key --org univie --subject univie-node --role node \
    --key node.key --not-before 2020-01-01T00:00:00Z --not-after 2100-01-01T00:00:00Z \
    --out node.cert
cat >other.yaml <<DOC
apiVersion: slaledger/v1
kind: Channel
metadata: {name: univie-aws}
spec:
  issuer: bank
  organizations:
    - {name: univie, roles: [consumer, oracle, node], root_key: "$univie_pk"}
    - {name: bank, roles: [issuer], root_key: "$bank_pk"}
DOC
run 0 ledger genesis other.yaml --key node.key --cert node.cert --out other.block
out_has '^other.block: genesis of channel univie-aws at .*, hash [0-9a-f]\{64\}$'
run 3 ledger genesis other.yaml --key node.key --cert node.cert --out other.block
run 1 ledger genesis other.yaml --key bank.key --cert node.cert --out bad.block
[ ! -e bad.block ] || fail "a failed genesis left a file"
run 0 ledger create other.db --genesis other.block --json
json_check 'd["db"] == "other.db" and d["channel"] == "univie-aws" and len(d["genesis"]) == 64'
run 3 ledger create other.db --genesis other.block
err_has 'other.db already exists'
run 1 ledger create third.db --genesis proof.json
run 0 ledger verify other.db
out_has '^other.db: ok: 0 blocks, 0 transactions (0 valid)$'
run 1 ledger check-proof proof.json --genesis other.block
err_has 'slaledger ledger check-proof: proof.json: '
run 1 ledger check-proof proof.json --genesis other.block --json
json_check 'd["valid"] is False and d["error"]["code"] == "EAUTH"'

# One edited hex digit anywhere that matters breaks the proof.
for where in tx id codes 'path:0' 'headers:0' 'headers:-1'; do
    python3 - proof.json edited.json "$where" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
key, _, pos = sys.argv[3].partition(":")
s = d[key][int(pos)] if pos else d[key]
i = len(s) // 2 + 1
s = s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]
if pos:
    d[key][int(pos)] = s
else:
    d[key] = s
json.dump(d, open(sys.argv[2], "w"))
PY
    run 1 ledger check-proof edited.json --genesis "$genesis"
    rm edited.json
done
echo garbage >garbage.json
run 1 ledger check-proof garbage.json --genesis "$genesis"

# --- tampering: each on a fresh copy, then `ledger verify` must name the block and reason ---
# tamper NAME PYTHON: copies the ledger to NAME.db and runs PYTHON with `c`, a connection.
tamper() {
    # Read-only openers leave an empty -wal behind; a non-empty one would hold blocks.
    [ ! -s "$db-wal" ] || fail "the write-ahead log is not empty"
    cp "$db" "$1.db"
    timeout 30 python3 - "$1.db" "$2" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
def flip(blob, i):
    b = bytearray(blob)
    b[i] ^= 0x01
    return bytes(b)
exec(sys.argv[2])
c.commit()
c.close()
PY
}

# expect_bad NAME HEIGHT WORD: verify exits 1, naming block HEIGHT and WORD in its reason.
expect_bad() {
    run 1 ledger verify "$1.db"
    grep -q "^$1.db: block $2: .*$3" "$tmp/err" || fail "$1: wanted block $2 and '$3': $(cat "$tmp/err")"
    [ ! -s "$tmp/out" ] || fail "$1: a failed verify printed on stdout"
}

tamper txbyte 'b = c.execute("SELECT bytes FROM txs WHERE height=15 AND idx=1").fetchone()[0]
c.execute("UPDATE txs SET bytes=? WHERE height=15 AND idx=1", (flip(b, len(b) // 2),))'
expect_bad txbyte 15 'Merkle root'

tamper header 'h = c.execute("SELECT header FROM blocks WHERE height=12").fetchone()[0]
c.execute("UPDATE blocks SET header=? WHERE height=12", (flip(h, 90),))'
expect_bad header 12 'signature'

tamper sig 'h = c.execute("SELECT header FROM blocks WHERE height=20").fetchone()[0]
c.execute("UPDATE blocks SET header=? WHERE height=20", (flip(h, len(h) - 10),))'
expect_bad sig 20 'orderer signature invalid'
run 1 ledger verify --json sig.db
json_check 'd["ok"] is False and d["bad_height"] == 20 and d["blocks"] == 20'
json_check 'd["error"]["code"] == "ECORRUPT" and "signature" in d["error"]["message"]'

tamper state 'v = c.execute("SELECT value FROM state WHERE key=?", ("wallet/univie/EUR",)).fetchone()[0]
c.execute("UPDATE state SET value=? WHERE key=?", (v.replace("\"balance\":", "\"balance\":1"), "wallet/univie/EUR"))'
expect_bad state 30 "state row 'wallet/univie/EUR': value is '"

tamper truncated 'c.execute("DELETE FROM blocks WHERE height=30")'
expect_bad truncated 30 'truncated'

tamper swapped 'a = c.execute("SELECT header FROM blocks WHERE height=17").fetchone()[0]
b = c.execute("SELECT header FROM blocks WHERE height=18").fetchone()[0]
c.execute("UPDATE blocks SET header=? WHERE height=17", (b,))
c.execute("UPDATE blocks SET header=? WHERE height=18", (a,))'
expect_bad swapped 17 'another height'

tamper deleted 'c.execute("DELETE FROM txs WHERE height=22 AND idx=1")'
expect_bad deleted 22 'deleted transaction'

# Derived columns that the API serves, each forged alone: verify names the table, the row, the
# column, the stored and the replayed value. The python prints the block (and row) it edited.
forge() { # NAME PYTHON: tamper, with what it prints in $where
    tamper "$1" "$2" >"$1.where" || fail "tampering $1"
    read -r -a where <"$1.where" || true # empty when it prints nothing
}
forge outcome 'h, s = c.execute("SELECT height, seq FROM events WHERE outcome = ? ORDER BY height, seq LIMIT 1", ("bad",)).fetchone()
c.execute("UPDATE events SET outcome = ? WHERE height = ? AND seq = ?", ("good", h, s))
print(h, s)'
expect_bad outcome "${where[0]}" "events row ${where[1]}: outcome is 'good', the replay gives 'bad'"
run 1 ledger verify --json outcome.db
json_check 'd["bad_height"] == '"${where[0]}"' and d["error"]["field"] == "events.outcome"'

forge amount 'h, s, a = c.execute("SELECT height, seq, amount FROM events WHERE kind = ? ORDER BY height, seq LIMIT 1", ("deposited",)).fetchone()
c.execute("UPDATE events SET amount = 999900 WHERE height = ? AND seq = ?", (h, s))
print(h, s, a)'
expect_bad amount "${where[0]}" "events row ${where[1]}: amount is 999900, the replay gives ${where[2]}"

forge evtx 'c.execute("UPDATE events SET idx = 0 WHERE height = 3 AND seq = 1")'
expect_bad evtx 3 "events row 1: idx is 0, the replay gives 1"

forge evextra 'c.execute("INSERT INTO events(height, seq, idx, kind, agreement, amount) VALUES (-1, 0, 0, ?, ?, 5)", ("deposited", "web-000000"))'
run 1 ledger verify evextra.db
err_has 'events rows refer to blocks'

forge hash 'h = c.execute("SELECT hash FROM blocks WHERE height = 10").fetchone()[0]
c.execute("UPDATE blocks SET hash = ? WHERE height = 10", (flip(h, 0),))'
expect_bad hash 10 "blocks row 10: hash is x'"

forge time 'c.execute("UPDATE blocks SET time_ms = time_ms + 1 WHERE height = 11")'
expect_bad time 11 "blocks row 11: time_ms is "

forge ntx 'c.execute("UPDATE blocks SET n_tx = 0 WHERE height = 0")'
expect_bad ntx 0 "blocks row 0: n_tx is 0, the replay gives 1"

forge signer 'c.execute("UPDATE txs SET signer = ? WHERE height = 15 AND idx = 1", ("univie-mon",))'
expect_bad signer 15 "txs row 1: signer is 'univie-mon', the replay gives 'aws-mon'"

forge reason 'h, i, r = c.execute("SELECT height, idx, reason FROM txs WHERE code = 9 ORDER BY height, idx LIMIT 1").fetchone()
c.execute("UPDATE txs SET reason = ? WHERE height = ? AND idx = ?", ("", h, i))
print(h, i)'
expect_bad reason "${where[0]}" "txs row ${where[1]}: reason is '', the replay gives 'items\[0\]"

forge gentx 'c.execute("UPDATE txs SET reason = ? WHERE height = 0", ("forged",))'
expect_bad gentx 0 "txs row 0: reason is 'forged', the replay gives ''"

forge txid 'c.execute("UPDATE txs SET id = zeroblob(32) WHERE height = 16 AND idx = 0")'
expect_bad txid 16 "txs row 0: id is x'0000"

forge txtype 'c.execute("UPDATE txs SET type = ? WHERE height = 16 AND idx = 0", ("issue",))'
expect_bad txtype 16 "txs row 0: type is 'issue', the replay gives 'report'"

forge stateheight 'c.execute("UPDATE state SET height = 3 WHERE key = ?", ("wallet/aws/EUR",))'
expect_bad stateheight 30 "state row 'wallet/aws/EUR': height is 3, the history gives 26"

forge history 'c.execute("UPDATE history SET value = replace(value, ?, ?) WHERE key = ? AND height = 26", ("\"balance\":", "\"balance\":1", "wallet/aws/EUR"))'
expect_bad history 26 "history row 'wallet/aws/EUR': value is '"

# The untouched original still verifies, and a tampered ledger does not even open for queries.
run 0 ledger verify "$db"
run 1 ledger blocks deleted.db

# An audit reads one snapshot, so it passes while the generator keeps committing blocks.
"$gen" gen --blocks 0 >live.out 2>&1 &
writer=$!
for _ in 1 2 3; do
    sleep 0.2
    run 0 ledger verify "$db"
done
kill -9 "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
[ "$(grep -c committed live.out)" -gt 0 ] || fail "the generator committed nothing meanwhile"
echo "ok"
