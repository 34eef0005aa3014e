#!/usr/bin/env bash
# `slaledger keygen` and `slaledger cert issue|show|verify` end to end: a key file is created
# with mode 0600 and never overwritten; certificates issued from a key file or a public key
# carry that key and the requested validity; show reports current, expired and not-yet-valid
# dates; verify accepts the right organization key and refuses a wrong one, an edited
# certificate, and a time outside the validity; a secret key readable by others is refused;
# usage errors exit 2, unreadable files 3; --json output is checked field by field with python3.
# Each command runs under `timeout`.
set -euo pipefail
bin=${SL_BIN:?}
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

err_has() { grep -q -- "$1" "$tmp/err" || fail "stderr lacks '$1': $(cat "$tmp/err")"; }
out_has() { grep -q -- "$1" "$tmp/out" || fail "stdout lacks '$1': $(cat "$tmp/out")"; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

# --- help and usage ---
for args in "keygen --help" "cert --help" "cert issue --help" "cert show -h" \
    "cert verify --help" "help keygen" "help cert"; do
    # shellcheck disable=SC2086
    run 0 $args
    grep -q '^usage: slaledger \(keygen\|cert\)' "$tmp/out" || fail "'$args' prints no usage"
done
run 0 --help
grep -q '^  keygen ' "$tmp/out" && grep -q '^  cert ' "$tmp/out" ||
    fail "slaledger --help does not list keygen and cert"
run 2 keygen
err_has 'slaledger keygen: --out FILE is required'
run 2 keygen --out k --bogus
err_has "slaledger keygen: unknown option '--bogus'"
run 2 keygen --out k extra
err_has "slaledger keygen: unexpected argument 'extra'"
run 2 cert
run 2 cert frobnicate
err_has "slaledger cert: unknown subcommand 'frobnicate'"
[ ! -e k ] || fail "a usage error created a key file"

# --- keygen ---
run 0 keygen --out org.key
org_pk=$(cat "$tmp/out")
[[ $org_pk =~ ^[0-9a-f]{64}$ ]] || fail "keygen printed '$org_pk', not 64 hex digits"
[ "$(stat -c %a org.key)" = 600 ] || fail "key file mode is $(stat -c %a org.key), not 600"
grep -qE '^slaledger-ed25519-secret-v1 [0-9a-f]{64}$' org.key || fail "key file format"
sum=$(sha256sum org.key)
run 3 keygen --out org.key
err_has 'slaledger keygen: org.key: key file already exists; not overwriting it'
[ "$(sha256sum org.key)" = "$sum" ] || fail "keygen overwrote an existing key"
[ "$(stat -c %a org.key)" = 600 ] || fail "refused overwrite changed the mode"
run 0 keygen --out alice.key --json
json_check 'set(d) == {"public_key", "file"} and d["file"] == "alice.key"'
json_check 'len(d["public_key"]) == 64 and int(d["public_key"], 16) >= 0'
alice_pk=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["public_key"])' <"$tmp/out")
[ "$alice_pk" != "$org_pk" ] || fail "two keygens gave the same key"
run 3 keygen --out no-such-dir/x.key
err_has 'no-such-dir/x.key'
run 0 keygen --out other.key
other_pk=$(cat "$tmp/out")

# --- cert issue ---
issue=(cert issue --org-key org.key --org univie --subject alice --role consumer)
run 0 "${issue[@]}" --key alice.key --out alice.cert --days 10
out_has "alice.cert: certificate of alice@univie (consumer), valid "
out_has "signed by org key $org_pk"
[ "$(field alice.cert public_key)" = "$alice_pk" ] ||
    fail "the certificate does not carry alice's public key"
python3 - alice.cert <<'PY' || fail "--days 10 does not give ten days of validity"
import json, sys, datetime
c = json.load(open(sys.argv[1]))
p = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
assert p(c["not_after"]) - p(c["not_before"]) == datetime.timedelta(days=10), c
now = datetime.datetime.now(datetime.timezone.utc)
assert abs((p(c["not_before"]) - now).total_seconds()) < 120, c
assert c["subject"] == "alice" and c["org"] == "univie" and c["role"] == "consumer", c
assert len(c["signature"]) == 128, c
PY
sum=$(sha256sum alice.cert)
run 3 "${issue[@]}" --key alice.key --out alice.cert
err_has 'alice.cert: already exists; not overwriting it'
[ "$(sha256sum alice.cert)" = "$sum" ] || fail "cert issue overwrote an existing certificate"

# From a public key, with explicit dates, as JSON.
run 0 cert issue --org-key org.key --org univie --subject univie-mon --role oracle \
    --public-key "$other_pk" --not-before 2026-01-01T00:00:00Z \
    --not-after 2099-01-01T00:00:00Z --out mon.cert --json
json_check 'd["file"] == "mon.cert" and d["org_public_key"] == "'"$org_pk"'"'
json_check 'd["certificate"]["public_key"] == "'"$other_pk"'" and d["certificate"]["role"] == "oracle"'
json_check 'd["certificate"]["not_before"] == "2026-01-01T00:00:00Z" and d["certificate"]["not_after"] == "2099-01-01T00:00:00Z"'
[ "$(field mon.cert not_after)" = 2099-01-01T00:00:00Z ] || fail "mon.cert not_after"

run 2 "${issue[@]}" --out x.cert
err_has 'exactly one of --key and --public-key is required'
run 2 "${issue[@]}" --key alice.key --public-key "$other_pk" --out x.cert
run 2 "${issue[@]}" --key alice.key --days 10 --not-after 2099-01-01T00:00:00Z --out x.cert
err_has 'at most one of --days and --not-after'
run 2 "${issue[@]}" --key alice.key --days ten --out x.cert
err_has "slaledger cert issue: --days: 'ten' is not a whole number"
run 2 "${issue[@]}" --key alice.key --days 0 --out x.cert
run 2 "${issue[@]}" --key alice.key --days " 5" --out x.cert
run 2 cert issue --org-key org.key --org univie --subject alice --role wizard --key alice.key \
    --out x.cert
err_has "slaledger cert issue: --role: 'wizard' is not a role"
run 2 cert issue --org-key org.key --org Univie --subject alice --role consumer --key alice.key \
    --out x.cert
run 2 "${issue[@]}" --public-key abc --out x.cert
err_has "is not a public key (64 hex digits)"
run 2 "${issue[@]}" --key alice.key --not-before yesterday --out x.cert
err_has "slaledger cert issue: --not-before: 'yesterday' is not an RFC 3339 time"
run 2 "${issue[@]}" --key alice.key --not-before 2030-01-01T00:00:00Z \
    --not-after 2029-01-01T00:00:00Z --out x.cert
err_has 'the end of validity must be after its start'
run 3 "${issue[@]}" --key missing.key --out x.cert
err_has 'missing.key'
# A secret key that others may read is refused.
cp org.key loose.key
chmod 644 loose.key
run 1 cert issue --org-key loose.key --org univie --subject alice --role consumer \
    --key alice.key --out x.cert
err_has 'slaledger cert issue: loose.key: '
[ ! -e x.cert ] || fail "a failed cert issue left x.cert behind"

# Expired and future certificates.
run 0 "${issue[@]}" --key alice.key --not-before 2020-01-01T00:00:00Z \
    --not-after 2021-01-01T00:00:00Z --out old.cert
run 0 "${issue[@]}" --key alice.key --not-before 2099-01-01T00:00:00Z --days 1 --out new.cert

# --- cert show ---
run 0 cert show alice.cert
out_has '^alice.cert: certificate of alice@univie (consumer)$'
out_has "^  public key  $alice_pk\$"
out_has '(current)$'
run 0 cert show --json alice.cert
json_check 'd["file"] == "alice.cert" and d["current"] is True and d["status"] == "current"'
json_check 'd["subject"] == "alice" and d["org"] == "univie" and d["public_key"] == "'"$alice_pk"'"'
run 0 cert show old.cert --json
json_check 'd["current"] is False and d["status"] == "expired"'
run 0 cert show new.cert
out_has '(not-yet-valid)$'
run 3 cert show missing.cert
err_has 'slaledger cert show: missing.cert: cannot open'
echo 'not a certificate' >junk.cert
run 1 cert show junk.cert
err_has 'slaledger cert show: junk.cert:1:'
run 2 cert show
run 2 cert show a b

# --- cert verify ---
run 0 cert verify alice.cert --org-public-key "$org_pk"
out_has '^alice.cert: ok: alice@univie (consumer), signed by the organization'"'"'s key, valid at '
run 0 cert verify alice.cert --org-public-key "$org_pk" --json
json_check 'd["valid"] is True and d["error"] is None and d["subject"] == "alice" and d["role"] == "consumer"'
run 1 cert verify alice.cert --org-public-key "$other_pk"
err_has 'slaledger cert verify: alice.cert: '
err_has 'not signed by the root key of organization univie'
run 1 cert verify alice.cert --org-public-key "$other_pk" --json
json_check 'd["valid"] is False and d["error"]["code"] == "EAUTH"'
[ ! -s "$tmp/err" ] || fail "--json wrote to stderr: $(cat "$tmp/err")"
# Edited after signing: another subject under the same signature.
python3 - alice.cert forged.cert <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["subject"] = "mallory"
json.dump(c, open(sys.argv[2], "w"))
PY
run 1 cert verify forged.cert --org-public-key "$org_pk"
err_has 'not signed by the root key'
run 1 cert verify old.cert --org-public-key "$org_pk" --json
json_check 'd["valid"] is False and d["error"]["code"] == "ETIME"'
run 0 cert verify old.cert --org-public-key "$org_pk" --at 2020-06-01T00:00:00Z
out_has 'valid at 2020-06-01T00:00:00Z'
run 1 cert verify new.cert --org-public-key "$org_pk"
run 0 cert verify mon.cert --org-public-key "$org_pk"
run 2 cert verify alice.cert
err_has 'slaledger cert verify: --org-public-key HEX is required'
run 2 cert verify alice.cert --org-public-key xyz
run 2 cert verify alice.cert --org-public-key "$org_pk" --at soon
run 3 cert verify missing.cert --org-public-key "$org_pk"
echo "ok"
