#!/usr/bin/env bash
# `slaledger sla validate` end to end: every examples/*.yaml is valid; the broken documents in
# tests/integration/data/ (an objective no source can measure and an unparsable URL among them)
# are refused with exit 1 and a FILE:LINE:COL diagnostic naming the field; `help` takes a
# command path; usage errors exit 2; an unreadable file exits 3; --json output is valid JSON
# with the documented shape. Each command runs under `timeout` so the test is bounded.
set -euo pipefail
bin=${SL_BIN:?}
src=${SL_SOURCE_DIR:?}
data="$src/tests/integration/data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$src/scripts/lib/dates.sh"

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

# --- top level ---
run 0 --version
grep -qx 'slaledger 0\.1\.0' "$tmp/out" || fail "--version output: $(cat "$tmp/out")"
for args in "--help" "-h" "help" "help sla" "sla --help" "sla validate --help" "help help"; do
    # shellcheck disable=SC2086
    run 0 $args
    grep -q '^usage: slaledger' "$tmp/out" || fail "'$args' prints no usage on stdout"
done
run 2
grep -q '^usage: slaledger' "$tmp/err" || fail "no usage on stderr without a command"
run 2 no-such-command
grep -q "'no-such-command' is not a slaledger command" "$tmp/err" || fail "unknown command"
run 2 --no-such-option
run 2 help no-such-command
# help takes a command path: the same text as the path with --help
run 0 help sla validate
cp "$tmp/out" "$tmp/help-path"
run 0 sla validate --help
cmp -s "$tmp/out" "$tmp/help-path" || fail "'help sla validate' differs from 'sla validate --help'"
grep -q '^usage: slaledger sla validate' "$tmp/out" || fail "no sla validate usage"
run 0 help oracle measure
grep -q '^usage: slaledger oracle measure' "$tmp/out" || fail "help oracle measure"
run 2 help sla no-such-subcommand
grep -q "unknown subcommand 'no-such-subcommand'" "$tmp/err" || fail "help of an unknown path"
run 2 help sla --json
run 2 sla
run 2 sla no-such-subcommand
run 2 sla validate
grep -q 'no FILE given' "$tmp/err" || fail "validate without files"
run 2 sla validate --no-such-option "$data/valid.yaml"

# --- a valid document ---
run 0 sla validate "$data/valid.yaml"
want="$data/valid.yaml: ok: agreement web on univie-aws, consumer univie, provider aws,"
want="$want 1 service, 1 objective, 1 penalty, fee 1000.00 EUR,"
want="$want 2026-12-01T00:00:00Z..2026-12-01T02:46:40Z"
[ "$(cat "$tmp/out")" = "$want" ] || fail "summary line: $(cat "$tmp/out")"
[ ! -s "$tmp/err" ] || fail "stderr not empty for a valid file: $(cat "$tmp/err")"
# Options may follow the files; `--` ends the options.
run 0 sla validate "$data/valid.yaml" --json
json_check 'd[0]["valid"] is True and d[0]["errors"] == [] and d[0]["agreement"]["name"] == "web"'
json_check 'd[0]["agreement"]["fee"] == "1000.00" and d[0]["agreement"]["currency"] == "EUR"'
ln -s "$data/valid.yaml" "$tmp/--json"
run 0 sla validate -- "$tmp/--json"
grep -q ': ok: ' "$tmp/out" || fail "'--' did not end the options"

# --- invalid documents: exit 1, FILE:LINE:COL: error: ... naming the field ---
has_diag() { # FILE PATTERN: stderr has "FILE:LINE:COL: error: " followed by PATTERN
    local line rest
    while IFS= read -r line; do
        [[ $line == "$1:"* ]] || continue
        rest=${line#"$1:"}
        [[ $rest =~ ^[0-9]+:[0-9]+:\ error:\ .*$2 ]] && return 0
    done <"$tmp/err"
    return 1
}

check_invalid() { # FILE FIELD_PATTERN (in $data)
    local f="$data/$1"
    run 1 sla validate "$f"
    has_diag "$f" "$2" || fail "$1: no FILE:LINE:COL diagnostic matching '$2': $(cat "$tmp/err")"
    [ ! -s "$tmp/out" ] || fail "$1: stdout not empty: $(cat "$tmp/out")"
    run 1 sla validate --json "$f"
    json_check 'len(d) == 1 and d[0]["valid"] is False and "agreement" not in d[0]'
    json_check 'd[0]["errors"] and all(e["line"] > 0 and e["message"] for e in d[0]["errors"])'
}
check_invalid unknown-field.yaml 'colour'
check_invalid target-101.yaml 'target'
check_invalid end-before-start.yaml '(period|end)'
check_invalid syntax-error.yaml ''
# An objective its source cannot measure, and a URL curl cannot parse: refused where they are.
# These two documents keep no calendar date: their period is set to next month here.
dated="$tmp/dated"
mkdir -p "$dated"
for f in unmeasurable.yaml bad-url.yaml; do
    with_next_month "$data/$f" "$dated/$f" || fail "$f has no one-line period"
done
data=$dated check_invalid unmeasurable.yaml 'spec\.objectives\[1\]\.metric: CloudWatch metric StatusCheckFailed cannot measure'
run 1 sla validate "$dated/unmeasurable.yaml"
grep -q "^$dated/unmeasurable.yaml:19:15: error: spec.objectives\[1\].metric: " "$tmp/err" ||
    fail "unmeasurable objective not at 19:15: $(cat "$tmp/err")"
data=$dated check_invalid bad-url.yaml 'spec\.services\[0\]\.source\.url: .*is not a valid http'
run 1 sla validate "$dated/bad-url.yaml"
grep -q "^$dated/bad-url.yaml:15:14: error: spec.services\[0\].source.url: " "$tmp/err" ||
    fail "bad URL not at 15:14: $(cat "$tmp/err")"

# One invalid file among valid ones still fails the run; the valid ones are still reported.
run 1 sla validate "$data/valid.yaml" "$data/target-101.yaml" "$data/valid.yaml"
[ "$(grep -c ': ok: ' "$tmp/out")" -eq 2 ] || fail "valid files beside an invalid one"

# --- unreadable files: exit 3, which wins over exit 1 ---
run 3 sla validate "$tmp/missing.yaml"
grep -q "^$tmp/missing.yaml: error: " "$tmp/err" || fail "missing file: $(cat "$tmp/err")"
run 3 sla validate "$data/target-101.yaml" "$tmp/missing.yaml" "$data/valid.yaml"
run 3 sla validate --json "$tmp/missing.yaml" "$data/valid.yaml"
json_check 'd[0]["valid"] is False and d[0]["errors"][0]["code"] == "EIO" and d[1]["valid"]'

# --- every shipped agreement example is valid (channel-*.yaml are channel documents) ---
shopt -s nullglob
examples=()
for f in "$src"/examples/*.yaml; do
    [[ $(basename "$f") == channel-* ]] || examples+=("$f")
done
shopt -u nullglob
if [ ${#examples[@]} -gt 0 ]; then
    run 0 sla validate "${examples[@]}"
    [ "$(grep -c ': ok: agreement ' "$tmp/out")" -eq ${#examples[@]} ] ||
        fail "not every example summarised: $(cat "$tmp/out")"
    run 0 sla validate --json "${examples[@]}"
    json_check "len(d) == ${#examples[@]} and all(x['valid'] and x['errors'] == [] for x in d)"
else
    echo "cli_sla: no examples/*.yaml yet; skipped validating them"
fi

echo "cli_sla: ok"
