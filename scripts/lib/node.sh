# scripts/lib/node.sh: run a slaledger node from a bash script. Sourced by the integration
# tests that drive a node; built on scripts/lib/procs.sh (fail, spawn, stop, the EXIT trap).
#
# The caller sets `bin` (the slaledger binary) and `tmp` (a scratch directory it owns) before
# sourcing. Provides: start_node CONFIG, stop_node, token USER (from tmp/net/tokens.txt as
# `slaledger init` writes it), new_token USER ORG ROLE, call and jcheck (below),
# example_next_month EXAMPLE OUT. start_node sets `url` and `node_pid`; the node's stdout/stderr
# go to $tmp/node.out/.err.

. "$(dirname "${BASH_SOURCE[0]}")/procs.sh"
. "$(dirname "${BASH_SOURCE[0]}")/dates.sh"

node_pid=
url=

# start_node CONFIG: starts a node on a free loopback port and waits until it listens.
start_node() {
    spawn node "$bin" node --config "$1" --listen 127.0.0.1:0
    node_pid=${procs_pid[node]}
    listen_port node
    url="http://127.0.0.1:$port"
}

# stop_node: SIGTERM, and the node must exit 0 within 20 s (sanitizer builds check leaks).
stop_node() {
    stop node
    node_pid=
}

token() { grep -E "^ *$1 " "$tmp/net/tokens.txt" | grep -o 'slt_[A-Za-z0-9_-]*'; }

# example_next_month EXAMPLE OUT: examples/EXAMPLE with its period moved to next month
# (with_next_month in dates.sh); sets `period_start` and `period_end`.
example_next_month() {
    with_next_month "$src/examples/$1" "$2" || fail "examples/$1 has no one-line period to move"
}

# new_token USER ORG ROLE: a new API token for the node of $tmp/net (its tokens.yaml keeps only
# the SHA-256), printed. The node reads tokens when it starts.
new_token() {
    local t
    t="slt_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    printf '    - {user: %s, org: %s, role: %s, sha256: "%s"}\n' "$1" "$2" "$3" \
        "$(printf '%s' "$t" | sha256sum | cut -d' ' -f1)" >>"$tmp/net/tokens.yaml"
    printf '%s\n' "$t"
}

# call WANT_STATUS METHOD PATH [TOKEN] [CURL_ARGS...]: one request to the node ("" or no TOKEN:
# none); fails unless it answers WANT_STATUS. The body lands in $tmp/body.
call() {
    local want=$1 method=$2 path=$3 tok=${4:-} got
    shift 4 || shift $#
    local auth=()
    [ -n "$tok" ] && auth=(-H "Authorization: Bearer $tok")
    got=$(timeout 30 curl -s -o "$tmp/body" -w '%{http_code}' -X "$method" "${auth[@]}" "$@" \
        "$url$path")
    [ "$got" = "$want" ] || fail "$method $path: HTTP $got, expected $want: $(cat "$tmp/body")"
}

# jcheck PYTHON_EXPRESSION: asserts it over d, the last body parsed as JSON.
jcheck() {
    timeout 10 python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert '"$1"', d' \
        "$tmp/body" || fail "JSON check failed: $1: $(cat "$tmp/body")"
}
