#!/usr/bin/env bash
# kill -9 at random moments while a ledger commits. TRIALS times (default 200; `make torture`
# runs 2000): start `tool_ledgergen DIR --blocks 0` in the background, let it run a random
# 5-60 ms, kill -9 it, and take the last "committed H" it printed. Then `slaledger ledger verify`
# must pass and count between H and H + 1 blocks: every block reported committed survived, and
# at most the one being reported when the kill came is there besides. Each run must continue
# exactly after the blocks the ledger holds. Kills land while the ledger is created, opened
# (replayed) or committing; beyond RESET_AT blocks (default 150) the ledger is started afresh so
# that opening stays short and most kills hit commits. Every slaledger command runs under
# `timeout`; the generator is bounded by the kill itself.
set -euo pipefail
bin=${SL_BIN:?}
gen=${SL_BUILD_DIR:?}/tool_ledgergen
trials=${TRIALS:-200}
reset_at=${RESET_AT:-150}
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
dir=$tmp/ledger

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

[ -x "$gen" ] || fail "$gen is not built"
known=-1 # blocks the ledger is known to hold; -1: there is no ledger yet
commits=0
empty=0 # trials killed before any commit was reported
fresh=0 # ledgers started
unreported=0 # kills between a commit's return and its report
top=0
start=$SECONDS
for ((t = 1; t <= trials; t++)); do
    [ "$known" -ge 0 ] || fresh=$((fresh + 1))
    ms=$((5 + RANDOM % 56))
    # Not under `timeout`: kill -9 must hit the generator itself, and it bounds the run.
    "$gen" "$dir" --blocks 0 >"$tmp/gen.out" 2>"$tmp/gen.err" &
    pid=$!
    sleep "$(printf '0.%03d' "$ms")"
    kill -9 "$pid" 2>/dev/null || true
    st=0
    wait "$pid" 2>/dev/null || st=$? # (bash would report "Killed" on stderr)
    pid=
    [ "$st" -eq 137 ] || fail "trial $t: ledgergen exited $st instead of being killed: $(cat "$tmp/gen.err")"
    [ ! -s "$tmp/gen.err" ] || fail "trial $t: ledgergen complained: $(cat "$tmp/gen.err")"
    # Reported heights are consecutive and continue the ledger.
    want=$((known < 0 ? 1 : known + 1))
    last=
    while read -r word h; do
        [ "$word" = committed ] && [ "$h" = "$want" ] ||
            fail "trial $t: printed '$word $h', expected 'committed $want'"
        last=$h
        want=$((want + 1))
        commits=$((commits + 1))
    done <"$tmp/gen.out"
    [ -n "$last" ] || empty=$((empty + 1))
    if [ ! -e "$dir/ledger.db" ]; then
        # Killed while creating: nothing may have been reported.
        [ -z "$last" ] || fail "trial $t: committed $last was reported but there is no ledger.db"
        known=-1
        continue
    fi
    floor=${last:-$((known < 0 ? 0 : known))}
    got=0
    timeout 120 "$bin" ledger verify "$dir/ledger.db" >"$tmp/v.out" 2>"$tmp/v.err" || got=$?
    [ "$got" -eq 0 ] ||
        fail "trial $t (killed after $ms ms, last reported ${last:-none}): verify exited $got: $(cat "$tmp/v.err")"
    line=$(cat "$tmp/v.out")
    [[ $line =~ ^.*:\ ok:\ ([0-9]+)\ blocks, ]] || fail "trial $t: verify printed '$line'"
    n=${BASH_REMATCH[1]}
    [ "$n" -ge "$floor" ] ||
        fail "trial $t (killed after $ms ms): committed $floor was reported, the ledger holds $n blocks"
    [ "$n" -le $((floor + 1)) ] ||
        fail "trial $t (killed after $ms ms): $n blocks, but only $floor were reported"
    [ "$n" -eq "$floor" ] || unreported=$((unreported + 1))
    known=$n
    [ "$n" -le "$top" ] || top=$n
    if [ "$n" -gt "$reset_at" ]; then
        rm -rf "$dir"
        known=-1
    fi
done
echo "ok: $trials kills in $((SECONDS - start)) s: $commits commits reported, $empty kills" \
    "before the first commit of a run, $unreported between a commit and its report," \
    "$fresh ledgers, highest $top blocks"
