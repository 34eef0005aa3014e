#!/usr/bin/env bash
# The web console in a real browser, against a real node: `slaledger demo` runs the paper's
# scenario (two agreements, an outage, penalties) while tests/e2e/console.mjs drives Debian's
# chromium through playwright-core, headless and kept off the network: sign in, watch
# measurements and a penalty arrive live, open and check its proof and the charts. Then, once
# the demo has closed its agreements and ended, its node is started again on its own: the final
# statements, registering an agreement through the form (a validation error first), accepting
# it as the provider, the access rules, wallets, the ledger explorer, and a phone-sized screen.
# Screenshots of the main pages go to $SL_BUILD_DIR/console-screenshots/ (test artifacts).
# Takes about 4 minutes.
set -euo pipefail
: "${SL_SOURCE_DIR:?}" "${SL_BUILD_DIR:?}" "${SL_BIN:?}"

tmp=$(mktemp -d)
demo_pid=
node_pid=
stop_pid() { # PID: SIGTERM (the demo then stops the node and stand-ins it started), then KILL
    local pid=$1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop_pid "$demo_pid"
    stop_pid "$node_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

fail() {
    echo "FAIL: $*" >&2
    [ -s "$tmp/demo.out" ] && { echo "--- demo output (last lines)" >&2; tail -n 25 "$tmp/demo.out" >&2; }
    [ -s "$tmp/d/logs/node.err" ] && { echo "--- node.err (last lines)" >&2; tail -n 15 "$tmp/d/logs/node.err" >&2; }
    [ -s "$tmp/node.err" ] && { echo "--- the restarted node's stderr (last lines)" >&2; tail -n 15 "$tmp/node.err" >&2; }
    exit 1
}

command -v node >/dev/null || fail "node (Node.js) is not installed: run scripts/deps.sh"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is not installed: run scripts/deps.sh"
[ -d "$SL_SOURCE_DIR/web/node_modules/playwright-core" ] ||
    fail "web/node_modules/playwright-core is missing: run scripts/deps.sh (npm ci in web/)"

shots="$SL_BUILD_DIR/console-screenshots"
rm -rf "$shots"
mkdir -p "$shots"

# Speed 20: the demo's hour-long period takes three minutes of wall time, the EC2 outage's
# first penalty arrives well after the browser has signed in and opened the agreement, and the
# browser's live part (what must be seen arriving: about 40 s, more on a loaded machine) is
# over long before the agreements close and the demo audits the ledgers and ends. Everything
# else runs against the demo's node restarted alone afterwards, so no step races its clock.
"$SL_BIN" demo --dir "$tmp/d" --speed 20 >"$tmp/demo.out" 2>&1 &
demo_pid=$!

url=
for _ in $(seq 1 300); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/d/logs/node.out" 2>/dev/null | head -n 1) || true
    [ -n "$url" ] && break
    kill -0 "$demo_pid" 2>/dev/null || fail "the demo exited before its node listened"
    sleep 0.1
done
[ -n "$url" ] || fail "the demo's node did not listen within 30 s"

browse() { # PHASE URL
    SL_PHASE=$1 SL_URL=$2 SL_DIR="$tmp/d" SL_SHOTS="$shots" SL_TMP="$tmp" \
        timeout 300 node "$SL_SOURCE_DIR/tests/e2e/console.mjs" || fail "the browser test ($1) failed (exit $?)"
}
browse live "$url"

# The demo ends once both agreements have closed and it has audited the ledgers.
for _ in $(seq 1 3000); do
    kill -0 "$demo_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$demo_pid" 2>/dev/null && fail "the demo did not end within 300 s of the browser test"
wait "$demo_pid" || fail "the demo exited with $?"
demo_pid=

# Its node again, alone, on a new port: the closed agreements and their final statements.
"$SL_BIN" node --config "$tmp/d/net/univie.yaml" --listen 127.0.0.1:0 >"$tmp/node.out" 2>"$tmp/node.err" &
node_pid=$!
url=
for _ in $(seq 1 300); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/node.out" 2>/dev/null | head -n 1) || true
    [ -n "$url" ] && break
    kill -0 "$node_pid" 2>/dev/null || fail "the node exited before it listened"
    sleep 0.1
done
[ -n "$url" ] || fail "the node did not listen within 30 s"
browse closed "$url"
echo "console: ok (screenshots in $shots)"
