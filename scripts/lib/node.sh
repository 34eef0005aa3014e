# scripts/lib/node.sh: run a slaledger node from a bash script. Sourced by `make demo`
# (scripts/demo.sh) and the integration tests that drive a node.
#
# The caller sets `bin` (the slaledger binary) and `tmp` (a scratch directory it owns) before
# sourcing. Provides: fail, start_node CONFIG, stop_node, token USER (from tmp/net/tokens.txt
# as `slaledger init` writes it). start_node sets `url` and `node_pid`; an EXIT trap kills a
# node still running and removes $tmp. The node's stdout/stderr go to $tmp/node.out/.err.

node_pid=
url=

sl_cleanup() {
    [ -n "$node_pid" ] && kill -9 "$node_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap sl_cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in out err node.err; do
        [ -s "$tmp/$f" ] && { echo "--- $f" >&2; tail -n 20 "$tmp/$f" >&2; }
    done
    exit 1
}

# start_node CONFIG: starts a node on a free loopback port and waits until it listens.
start_node() {
    "$bin" node --config "$1" --listen 127.0.0.1:0 >"$tmp/node.out" 2>"$tmp/node.err" &
    node_pid=$!
    for _ in $(seq 200); do
        grep -q "listening on" "$tmp/node.out" 2>/dev/null && break
        kill -0 "$node_pid" 2>/dev/null || break
        sleep 0.05
    done
    url=$(grep -o 'http://[0-9.:]*' "$tmp/node.out") || fail "node did not start"
}

# stop_node: SIGTERM, and the node must exit 0 within 20 s (sanitizer builds check leaks).
stop_node() {
    kill -TERM "$node_pid"
    local rc=0
    timeout 20 tail --pid="$node_pid" -f /dev/null || fail "node did not stop on SIGTERM"
    wait "$node_pid" || rc=$?
    node_pid=
    [ "$rc" -eq 0 ] || fail "node exited $rc after SIGTERM"
}

token() { grep -E "^ *$1 " "$tmp/net/tokens.txt" | grep -o 'slt_[A-Za-z0-9_-]*'; }
