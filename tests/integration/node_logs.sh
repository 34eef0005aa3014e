#!/usr/bin/env bash
# The node's logs (spec.log, src/node/log.c) from a real node made by `slaledger init`:
#   json + debug: every log line is one JSON object; the start line names the channels and the
#     address the node listens on; each request gives one line with method, route pattern,
#     status, duration and (when authenticated) the user; no token text (slt_...) appears even
#     when the tokens are sent, good or bad; the stop is logged, with the signal that caused it,
#     and no line on stderr is anything but JSON.
#   text + info: the start line is "TIME info node: node started ... channels=... listen=...",
#     and requests are not logged at info.
set -euo pipefail
bin=${SL_BIN:?}
tmp=$(mktemp -d)
. "${SL_SOURCE_DIR:?}/scripts/lib/node.sh"

# req EXPECTED_STATUS METHOD PATH [TOKEN] [curl args...]
req() {
    local want=$1 method=$2 path=$3 tok=${4:-} got
    shift 4 || shift $#
    local auth=()
    [ -n "$tok" ] && auth=(-H "Authorization: Bearer $tok")
    got=$(timeout 30 curl -s -o /dev/null -w '%{http_code}' -X "$method" "${auth[@]}" "$@" \
        "$url$path")
    [ "$got" = "$want" ] || fail "$method $path: HTTP $got, expected $want"
}

set_log() { # FORMAT LEVEL
    sed -i -E "s/^( *)log: .*/\1log: {format: $1, level: $2}/" "$tmp/net/univie.yaml"
    grep -q "log: {format: $1, level: $2}" "$tmp/net/univie.yaml" || fail "cannot set log: $1 $2"
}

timeout 60 "$bin" init "$tmp/net" >/dev/null || fail "init failed"
alice=$(token alice) treasury=$(token treasury)

# --- json at debug ---
set_log json debug
start_node "$tmp/net/univie.yaml"
port=${url##*:}
req 200 GET /v1/health ""
req 200 GET /v1/agreements "$alice"
req 401 GET /v1/agreements "slt_not-a-real-token-but-shaped-like-one"
req 404 GET "/v1/agreements/%0a%22x%00" "$alice"
req 404 GET /no/such/route "$alice"
req 405 DELETE /v1/health ""
req 201 POST /v1/wallets/univie/issue "$treasury" \
    -d '{"amount":"10.00","currency":"EUR","channel":"univie-aws"}'
stop_node

timeout 30 python3 - "$tmp/node.err" "$port" <<'EOF' || fail "json log check failed"
import json, sys
path, port = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
assert "slt_" not in text, "token text in the log"
lines = text.splitlines()
assert lines, "no log lines"
recs = []
for l in lines:  # every line on stderr, the signal's too, is one JSON object
    try:
        recs.append(json.loads(l))
    except ValueError:
        raise AssertionError("not JSON: %r" % l)
for r in recs:
    assert {"time", "level", "msg"} <= r.keys(), r
    assert r["time"].endswith("Z") and len(r["time"]) == 24, r["time"]
    assert r["level"] in ("debug", "info", "warn", "error"), r
start = [r for r in recs if r["msg"] == "node started"]
assert len(start) == 1, start
s = start[0]
assert s["level"] == "info" and s["channels"] == "univie-aws,univie-azure", s
assert s["listen"] == "127.0.0.1:" + port and s["organization"] == "univie", s
reqs = [r for r in recs if r["msg"] == "request"]
assert len(reqs) == 7, [(r["method"], r["route"], r["status"]) for r in reqs]
for r in reqs:
    assert r["level"] == "debug", r
    assert isinstance(r["status"], int) and isinstance(r["duration_ms"], (int, float)), r
    assert r["duration_ms"] >= 0, r
seen = [(r["method"], r["route"], r["status"], r.get("user")) for r in reqs]
want = [
    ("GET", "/v1/health", 200, None),
    ("GET", "/v1/agreements", 200, "alice"),
    ("GET", "/v1/agreements", 401, None),
    ("GET", "/v1/agreements/{name}", 404, "alice"),
    ("GET", "(unmatched)", 404, None),
    ("DELETE", "(unmatched)", 405, None),
    ("POST", "/v1/wallets/{org}/issue", 201, "treasury"),
]
assert seen == want, seen
assert [r["msg"] for r in recs][-3:] == ["signal received", "node stopping", "node stopped"], recs[-3:]
assert recs[-3]["signal"] == "SIGTERM" and recs[-3]["level"] == "info", recs[-3]
EOF
grep -q "$alice" "$tmp/node.err" && fail "alice's token in the log"
grep -q "$treasury" "$tmp/node.err" && fail "the treasury's token in the log"

# --- text at info ---
set_log text info
start_node "$tmp/net/univie.yaml"
req 200 GET /v1/health ""
req 200 GET /v1/agreements "$alice"
stop_node
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
grep -Eq "^$ts info node: node started .*channels=univie-aws,univie-azure listen=${url#http://}( |$)" \
    "$tmp/node.err" || fail "no text start line"
grep -Eq "^$ts info node: node stopped$" "$tmp/node.err" || fail "no text stop line"
grep -q ' request ' "$tmp/node.err" && fail "a request logged at info"
grep -q 'slt_' "$tmp/node.err" && fail "token text in the text log"
echo "ok"
