#!/usr/bin/env bash
# HTTP probes through the CLI (`slaledger oracle probe`) against loopback targets
# (tool_targets): one agreement with an http service per condition (up, 503, a wrong body, a
# slow answer beyond the timeout, a hanging one, a closed port, tcp:// connects to an open and
# a closed port, and a target flipped down and up again). Each must say up or down with the
# exact reason, in text and --json, with exit 0 when up and 1 when down; a service that is not
# http exits 1. Only 127.0.0.1; every process started is killed on exit; about 3 s, at most 60.
set -euo pipefail
bin=${SL_BIN:?}
tmp=$(mktemp -d)
. "${SL_SOURCE_DIR:?}/scripts/lib/procs.sh"

start_tool targets port
base="http://127.0.0.1:$port"
# A port nothing listens on: one the kernel just handed out and took back.
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$tmp/agreement.yaml" <<EOF
apiVersion: slaledger/v1
kind: Agreement
metadata: {name: probes}
spec:
  channel: univie-web
  consumer: univie
  provider: hostco
  period: {start: 2027-01-01T00:00:00Z, end: 2028-01-01T00:00:00Z}
  fee: {amount: "100.00", currency: EUR}
  services:
    - {name: ok, kind: http, source: {url: "$base/ok", expect_status: 200, expect_body: ok}}
    - {name: fail, kind: http, source: {url: "$base/fail"}}
    - {name: body, kind: http, source: {url: "$base/body", expect_body: ok}}
    - {name: slow, kind: http, source: {url: "$base/slow?ms=3000", timeout: 400ms}}
    - {name: hang, kind: http, source: {url: "$base/hang", method: HEAD, timeout: 300ms}}
    - {name: refused, kind: http, source: {url: "http://127.0.0.1:$closed/ok"}}
    - {name: tcp, kind: http, source: {url: "tcp://127.0.0.1:$port", timeout: 2s}}
    - {name: tcp-refused, kind: http, source: {url: "tcp://127.0.0.1:$closed"}}
    - {name: flip, kind: http, source: {url: "$base/flip", expect_status: 200}}
    - {name: prom, kind: prometheus, source: {url: "$base/"}}
  oracles: {members: [univie-mon]}
  objectives:
    - {name: uptime, service: ok, metric: availability, interval: 60s, window: calendar-month,
       target: ">= 99%"}
EOF

# expect SERVICE STATUS LINE_PATTERN: runs the probe and checks its exit status and output.
expect() {
    local out rc=0
    out=$("$bin" oracle probe "$tmp/agreement.yaml" --service "$1" 2>"$tmp/probe.err") || rc=$?
    [ "$rc" = "$2" ] || fail "probe $1: exit $rc, expected $2 (output: $out)"
    [[ "$out" =~ $3 ]] || fail "probe $1: '$out' does not match '$3'"
}

expect ok 0 '^ok: up in [0-9]+ ms$'
expect fail 1 '^fail: down: HTTP 503, expected 2xx or 3xx$'
expect body 1 '^body: down: body lacks "ok"$'
expect slow 1 '^slow: down: timeout after 400 ms$'
expect hang 1 '^hang: down: timeout after 300 ms$'
expect refused 1 '^refused: down: connection refused$'
expect tcp 0 '^tcp: up in [0-9]+ ms$'
expect tcp-refused 1 '^tcp-refused: down: connection refused$'
expect flip 0 '^flip: up in [0-9]+ ms$'
curl -sS -m 5 -X POST "$base/flip?up=0" >/dev/null || fail "POST /flip?up=0"
expect flip 1 '^flip: down: HTTP 503, expected 200$'
curl -sS -m 5 -X POST "$base/flip?up=1" >/dev/null || fail "POST /flip?up=1"
expect flip 0 '^flip: up in [0-9]+ ms$'
rc=0
"$bin" oracle probe "$tmp/agreement.yaml" --service prom >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a prometheus service: exit $rc, expected 1"

# --json: the same verdicts as objects.
json=$("$bin" oracle probe "$tmp/agreement.yaml" --service ok --json)
python3 - "$json" <<'EOF' || fail "probe ok --json: $json"
import json, sys
j = json.loads(sys.argv[1])
assert j["service"] == "ok" and j["up"] is True and j["reason"] in ("", None), j
assert isinstance(j["response_ms"], int) and 0 <= j["response_ms"] < 5000, j
EOF
rc=0
json=$("$bin" oracle probe "$tmp/agreement.yaml" --service slow --json) || rc=$?
[ "$rc" = 1 ] || fail "probe slow --json: exit $rc, expected 1"
python3 - "$json" <<'EOF' || fail "probe slow --json: $json"
import json, sys
j = json.loads(sys.argv[1])
assert j["up"] is False and j["reason"] == "timeout after 400 ms" and j["response_ms"] == -1, j
EOF
echo "oracle_probe: ok"
