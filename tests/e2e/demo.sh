#!/usr/bin/env bash
# `make demo` end to end with the built binary: the script must succeed, show the funded
# agreement and end with a clean audit of the channel's ledger.
set -euo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
SL_BIN=${SL_BIN:?} timeout 300 bash "${SL_SOURCE_DIR:?}/scripts/demo.sh" >"$out" 2>&1 ||
    { tail -n 40 "$out" >&2; echo "FAIL: demo exited non-zero" >&2; exit 1; }
grep -q '^  escrow     1000.00 EUR$' "$out" || { cat "$out" >&2; echo "FAIL: no funded escrow" >&2; exit 1; }
grep -Eq 'univie-aws.db: ok: [0-9]+ blocks' "$out" || { echo "FAIL: no clean audit" >&2; exit 1; }
grep -q '^demo: ok' "$out" || { echo "FAIL: demo did not finish" >&2; exit 1; }
echo ok
