#!/usr/bin/env bash
# `slaledger init` end to end: a network made in a temporary directory has every file it
# promises with the right mode and nothing else; its channel documents validate, its ledgers
# pass the audit, every certificate verifies against its organization's root key from the
# --json output, the secret keys match their certificates, the node configuration, secrets and
# tokens load with the library's loaders (tests/tools/nodecfg.c), every token in tokens.txt
# hashes (python3 hashlib) to its entry in tokens.yaml and authenticates as that user; when the
# node command exists, a node started on the configuration serves both channels and accepts each
# user's token; a second init into the same directory is refused and changes nothing; usage
# errors create nothing.
# Each command runs under `timeout`.
set -euo pipefail
bin=${SL_BIN:?}
tool=${SL_BUILD_DIR:?}/tool_nodecfg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# run EXPECTED_EXIT CMD ARGS...: output in $tmp/out and $tmp/err.
run_cmd() {
    local want=$1 got=0
    shift
    timeout 60 "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
    if [ "$got" -ne "$want" ]; then
        echo "--- stdout" >&2; cat "$tmp/out" >&2
        echo "--- stderr" >&2; cat "$tmp/err" >&2
        fail "$* exited $got, expected $want"
    fi
}
run() {
    local want=$1
    shift
    run_cmd "$want" "$bin" "$@"
}

# py EXPRESSION FILE: asserts a Python expression over `d`, the JSON in FILE.
py() {
    timeout 30 python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert '"$1"', d' \
        "$2" || fail "JSON check failed: $1"
}

# pyscript WHAT ARGS... <<'PY': runs a Python script (on stdin) whose assertions must hold;
# sys.argv[1:] are ARGS. One interpreter for many checks keeps the test quick.
pyscript() {
    local what=$1
    shift
    timeout 60 python3 - "$@" || fail "$what"
}

# --- help and usage errors (which create nothing) ---
for args in "init --help" "init -h" "help init"; do
    # shellcheck disable=SC2086
    run 0 $args
    grep -q '^usage: slaledger init DIR' "$tmp/out" || fail "'$args' prints no usage on stdout"
done
run 0 --help
grep -q '^  init ' "$tmp/out" || fail "slaledger --help does not list init"
run 2 init
grep -q 'slaledger init: missing argument' "$tmp/err" || fail "no DIR: $(cat "$tmp/err")"
run 2 init "$tmp/a" "$tmp/b"
run 2 init "$tmp/bad" --listen example.com:80
grep -q "host 'example.com' is not an IPv4 address or localhost" "$tmp/err" ||
    fail "bad --listen: $(cat "$tmp/err")"
run 2 init "$tmp/bad" --listen '127.0.0.1:80"'
[ ! -e "$tmp/bad" ] || fail "a usage error created DIR"

# --- a network ---
net="$tmp/net"
run 0 init "$net" --json
cp "$tmp/out" "$tmp/init.json"
pyscript "init --json output" "$tmp/init.json" "$net" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
net = sys.argv[2]
assert d["dir"] == net and d["node_config"] == net + "/univie.yaml", d["dir"]
assert [o["name"] for o in d["organizations"]] == ["univie", "aws", "azure", "watchdog", "bank"]
assert d["organizations"][0]["roles"] == ["consumer", "oracle", "node"]
assert d["organizations"][3]["roles"] == ["oracle", "auditor"]
assert d["organizations"][4]["roles"] == ["issuer"]
assert len({o["root_key"] for o in d["organizations"]}) == 5
assert sorted((m["subject"], m["org"], m["role"]) for m in d["members"]) == sorted([
    ("univie-node", "univie", "node"), ("aws-node", "aws", "node"), ("azure-node", "azure", "node"),
    ("alice", "univie", "consumer"), ("bob", "aws", "provider"), ("carol", "azure", "provider"),
    ("dave", "watchdog", "auditor"), ("treasury", "bank", "issuer"),
    ("univie-mon", "univie", "oracle"), ("aws-mon", "aws", "oracle"),
    ("azure-mon", "azure", "oracle"), ("watchdog-mon", "watchdog", "oracle")])
assert len({m["public_key"] for m in d["members"]}) == 12
assert [c["name"] for c in d["channels"]] == ["univie-aws", "univie-azure"]
assert all(len(c["genesis_hash"]) == 64 for c in d["channels"])
assert d["channels"][0]["ledger"] == net + "/data/univie-aws.db"
assert d["secrets"] == {"file": net + "/secrets.yaml", "credentials": ["aws-main", "azure-main"]}
toks = d["tokens"]["tokens"]
assert [(t["user"], t["org"], t["role"]) for t in toks] == [("alice", "univie", "consumer"),
    ("bob", "aws", "provider"), ("carol", "azure", "provider"), ("dave", "watchdog", "auditor"),
    ("treasury", "bank", "issuer"), ("univie-mon", "univie", "oracle")]
assert all(t["token"].startswith("slt_") and len(t["token"]) == 47 for t in toks)
assert len({t["token"] for t in toks}) == 6
assert d["tokens"]["plaintext_file"] == net + "/tokens.txt"
assert d["start"] == "slaledger node --config " + net + "/univie.yaml"
PY
grep -q 'placeholder-for-local' "$tmp/init.json" && fail "init printed a secret value"

# Every file and directory, with its mode, and nothing else.
expect="$tmp/expect"
{
    echo "700 ."
    for d in keys keys/roots channels data; do echo "700 $d"; done
    for o in univie aws azure watchdog bank; do echo "600 keys/roots/$o.key"; done
    for m in univie-node aws-node azure-node alice bob carol dave treasury univie-mon aws-mon \
        azure-mon watchdog-mon; do
        echo "600 keys/$m.key"
        echo "644 keys/$m.cert"
    done
    for c in univie-aws univie-azure; do
        echo "644 channels/$c.yaml"
        echo "644 channels/$c.block"
        echo "600 data/$c.db"
    done
    echo "644 univie.yaml"
    echo "600 secrets.yaml"
    echo "600 tokens.yaml"
    echo "600 tokens.txt"
    echo "644 README.txt"
} | sort -k2 >"$expect"
(cd "$net" && find . -printf '%m %P\n' | sed 's/^\([0-7]*\) $/\1 ./' | sort -k2) \
    >"$tmp/found"
# Files are made 0644 less the umask; the test's umask may be stricter than 022.
if [ "$(umask)" = "0022" ]; then
    diff "$expect" "$tmp/found" || fail "files or modes differ from the expected layout"
else
    diff <(cut -d' ' -f2 "$expect") <(cut -d' ' -f2 "$tmp/found") || fail "files differ"
    grep '^600 \|^700 ' "$expect" | while read -r mode f; do
        [ "$(stat -c %a "$net/$f")" = "$mode" ] || fail "$f is not mode $mode"
    done
fi

# --- the library accepts everything init made ---
run 0 channel validate "$net"/channels/*.yaml
[ "$(grep -c ': ok: channel ' "$tmp/out")" -eq 2 ] || fail "channel validate: $(cat "$tmp/out")"
grep -q 'univie-aws, 4 organizations: univie (consumer, oracle, node), aws (provider, oracle, node), watchdog (oracle, auditor), bank (issuer); issuer bank' \
    "$tmp/out" || fail "univie-aws summary: $(cat "$tmp/out")"
for c in univie-aws univie-azure; do
    run 0 ledger verify "$net/data/$c.db" --json
    cp "$tmp/out" "$tmp/verify.json"
    run 0 ledger blocks "$net/data/$c.db" --json
    pyscript "$c: audit or genesis" "$tmp/verify.json" "$tmp/out" "$tmp/init.json" "$c" <<'PY'
import json, sys
v, b, d = (json.load(open(f)) for f in sys.argv[1:4])
assert v["ok"] is True and v["blocks"] == 0 and v["error"] is None, v
want = [c["genesis_hash"] for c in d["channels"] if c["name"] == sys.argv[4]]
assert len(b) == 1 and [b[0]["hash"]] == want, (b, want)
assert b[0]["orderer"] == {"subject": "univie-node", "org": "univie"}, b
PY
done

# Every certificate verifies against its organization's root key; keys match certificates.
python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); roots={o["name"]: o["root_key"] for o in d["organizations"]}
for m in d["members"]: print(m["cert_file"], roots[m["org"]], m["public_key"], m["key_file"], m["org"])' \
    "$tmp/init.json" >"$tmp/members"
while read -r cert root pk key org; do
    run 0 cert verify "$cert" --org-public-key "$root"
    run 0 cert issue --org-key "$net/keys/roots/$org.key" --org "$org" --subject probe \
        --role oracle --key "$key" --out "$tmp/probe.cert" --json
    grep -q "\"public_key\": \"$pk\"" "$tmp/out" || fail "$key is not the key of $cert"
    rm -f "$tmp/probe.cert"
done <"$tmp/members"

# The node configuration loads, with every path made absolute and pointing at what init made.
run_cmd 0 "$tool" config "$net/univie.yaml"
cp "$tmp/out" "$tmp/config.json"
pyscript "a path of univie.yaml does not name a file init made" "$tmp/config.json" "$net" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
net = sys.argv[2]
assert d["name"] == "univie-node" and d["organization"] == "univie"
assert d["listen_host"] == "127.0.0.1" and d["listen_port"] == 8640
assert d["data_dir"] == net + "/data" and d["etcd_endpoints"] == []
assert [(u["name"], u["org"]) for u in d["users"]] == [("alice", "univie"), ("bob", "aws"),
    ("carol", "azure"), ("dave", "watchdog"), ("treasury", "bank")]
assert [o["name"] for o in d["oracles"]] == ["univie-mon", "aws-mon", "azure-mon", "watchdog-mon"]
assert [c["name"] for c in d["channels"]] == ["univie-aws", "univie-azure"]
assert d["log_format"] == "text" and d["log_level"] == "info"
paths = [d["identity"]["key"], d["identity"]["cert"], d["secrets"], d["tokens"]]
paths += [p for m in d["users"] + d["oracles"] for p in (m["key"], m["cert"])]
paths += [p for c in d["channels"] for p in (c["genesis"], c["ledger"])]
missing = [p for p in paths if not (p.startswith(net + "/") and os.path.isfile(p))]
assert len(paths) == 26 and not missing, missing
PY

# Secrets: names only, from a file the loader accepts (0600).
run_cmd 0 "$tool" secrets "$net/secrets.yaml"
py '[(c["name"], c["kind"]) for c in d["credentials"]] == [("aws-main", "aws"), ("azure-main",
    "azure")] and "placeholder" in d["description"]' "$tmp/out"
grep -q 'PLACEHOLDERS' "$net/secrets.yaml" || fail "secrets.yaml does not say it holds placeholders"

# Tokens: each token of tokens.txt authenticates as its user (and a changed one does not),
# and its SHA-256 is the entry of tokens.yaml; tokens.txt holds what init printed.
run_cmd 0 "$tool" tokens "$net/tokens.yaml" "$net/tokens.txt"
pyscript "tokens.txt does not match tokens.yaml or what init printed" "$tmp/out" \
    "$net/tokens.txt" "$tmp/init.json" <<'PY'
import hashlib, json, sys
t = json.load(open(sys.argv[1]))
assert t["checked"] == 6 and len(t["tokens"]) == 6, t
entries = {(e["user"], e["org"], e["role"]): e["sha256"] for e in t["tokens"]}
lines = [l.split() for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
assert len(lines) == 6 and len(set(entries.values())) == 6
for user, org, role, token in lines:
    assert hashlib.sha256(token.encode()).hexdigest() == entries[(user, org, role)], user
printed = {x["user"]: x["token"] for x in json.load(open(sys.argv[3]))["tokens"]["tokens"]}
assert printed == {l[0]: l[3] for l in lines}
PY
while read -r _ _ _ t; do
    grep -q "$t" "$net/tokens.yaml" && fail "tokens.yaml holds a token itself"
done < <(grep -v '^#' "$net/tokens.txt")

grep -q "slaledger node --config $net/univie.yaml" "$net/README.txt" ||
    fail "README.txt does not say how to start the node"

# --- the network works: when the node command exists, it starts on init's configuration ---
# It serves both channels, and each user's token from tokens.txt authenticates (a changed one
# does not). Only the health route and each organization's wallet are asked for.
if timeout 10 "$bin" node --help >/dev/null 2>&1; then
    timeout 120 "$bin" node --config "$net/univie.yaml" --listen 127.0.0.1:0 \
        >"$tmp/node.out" 2>"$tmp/node.err" &
    node_pid=$!
    trap 'kill "$node_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
    for _ in $(seq 200); do
        grep -q 'listening on http://' "$tmp/node.out" && break
        kill -0 "$node_pid" 2>/dev/null || break
        sleep 0.05
    done
    url=$(grep -o 'http://[0-9.:]*' "$tmp/node.out" | head -1 || true)
    [ -n "$url" ] || fail "the node did not start on init's configuration: $(cat "$tmp/node.err")"
    pyscript "the node of init's network" "$url" "$net/tokens.txt" <<'PY'
import json, sys, urllib.error, urllib.request
url, txt = sys.argv[1], sys.argv[2]
def get(path, token=None):
    req = urllib.request.Request(url + path)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
with urllib.request.urlopen(url + "/v1/health", timeout=10) as r:
    health = json.load(r)
assert health["organization"] == "univie", health
assert [c["name"] for c in health["channels"]] == ["univie-aws", "univie-azure"], health
for line in open(txt):
    if line.startswith("#") or not line.strip():
        continue
    user, org, role, token = line.split()
    assert get("/v1/wallets/" + org, token) == 200, user
    assert get("/v1/wallets/" + org, token[:-1] + ("A" if token[-1] != "A" else "B")) == 401, user
PY
    kill -TERM "$node_pid"
    wait "$node_pid" || fail "the node did not stop cleanly: $(cat "$tmp/node.err")"
    trap 'rm -rf "$tmp"' EXIT
fi

# --- a second init into the same directory is refused and changes nothing ---
(cd "$net" && find . -type f -exec sha256sum {} + | sort) >"$tmp/before"
run 3 init "$net"
grep -q "slaledger init: $net: is not empty" "$tmp/err" || fail "second init: $(cat "$tmp/err")"
grep -q 'incomplete' "$tmp/err" && fail "a refused init claims to have made something"
(cd "$net" && find . -type f -exec sha256sum {} + | sort) >"$tmp/after"
diff "$tmp/before" "$tmp/after" >/dev/null || fail "a refused init changed files"

# --- an existing empty directory is fine; a file is not; text output; another address ---
mkdir "$tmp/empty"
run 0 init "$tmp/empty/" --listen localhost:0
grep -q "^$tmp/empty: created a one-machine slaledger network" "$tmp/out" ||
    fail "text output: $(head -1 "$tmp/out")"
grep -q "^Start the node with: slaledger node --config $tmp/empty/univie.yaml" "$tmp/out" ||
    fail "text output does not say how to start the node"
[ "$(grep -c ' slt_' "$tmp/out")" -eq 6 ] || fail "text output does not show the 6 tokens"
grep -q 'placeholder-for-local' "$tmp/out" && fail "init printed a secret value"
run_cmd 0 "$tool" config "$tmp/empty/univie.yaml"
py 'd["listen_host"] == "localhost" and d["listen_port"] == 0' "$tmp/out"
: >"$tmp/file"
run 3 init "$tmp/file"
run 3 init "$tmp/no/such/parent"
echo "cli_init: ok"
