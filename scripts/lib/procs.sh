# scripts/lib/procs.sh: the child processes of a bash test script. Sourced by
# scripts/lib/node.sh and the integration tests that start stand-ins, targets or servers.
#
# The caller sets `tmp` (a scratch directory it owns) before sourcing. Provides:
#   fail MESSAGE...        prints it and the last lines of $tmp/out and every $tmp/*.err and
#                          $tmp/*.log, exits 1
#   spawn NAME CMD...      runs CMD in the background, stdout to $tmp/NAME.out, stderr to
#                          $tmp/NAME.err; the process is known by NAME
#   listen_port NAME       waits up to 10 s for "listening on 127.0.0.1:PORT" (or an
#                          http://127.0.0.1:PORT URL) in $tmp/NAME.out and sets `port`
#   start_tool TOOL[:NAME] VAR ARGS...  spawn NAME (default TOOL) "$SL_BUILD_DIR/tool_TOOL"
#                          ARGS... and sets VAR to the port it listens on
#   stop NAME              SIGTERM; the process must exit 0 within 20 s
#   wait_for SECS WHAT CMD...  runs CMD every 50 ms until it succeeds; fails naming WHAT after
#                          SECS seconds (tests wait for the event they need, never sleep)
# An EXIT trap kills whatever is still running and removes $tmp; TERM and INT exit 143.

declare -A procs_pid=()

procs_cleanup() {
    local n
    for n in "${!procs_pid[@]}"; do
        kill -9 "${procs_pid[$n]}" 2>/dev/null || true
    done
    for n in "${!procs_pid[@]}"; do
        wait "${procs_pid[$n]}" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap procs_cleanup EXIT
trap "exit 143" TERM INT

fail() {
    local f
    echo "FAIL: $*" >&2
    for f in "$tmp/out" "$tmp"/*.err "$tmp"/*.log; do
        [ -s "$f" ] || continue
        # A sanitizer's report says what went wrong at its start; its tail is a legend.
        if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$f"; then
            echo "--- $f (the sanitizer's report)" >&2
            grep -m 1 -A 40 -E 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$f" >&2
        else
            echo "--- $f (last lines)" >&2
            tail -n 20 "$f" >&2
        fi
    done
    exit 1
}

spawn() {
    local name=$1
    shift
    "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    procs_pid[$name]=$!
}

listen_port() {
    local name=$1 until=$((SECONDS + 10))
    port=
    while :; do
        port=$(grep -o 'listening on \(http://\)\?127\.0\.0\.1:[0-9]*' "$tmp/$name.out" 2>/dev/null |
            grep -o '[0-9]*$') && [ -n "$port" ] && break
        kill -0 "${procs_pid[$name]}" 2>/dev/null || fail "$name exited before it listened"
        [ "$SECONDS" -lt "$until" ] || fail "$name did not listen within 10 s"
        sleep 0.05
    done
}

start_tool() {
    local tool=${1%%:*} name=${1#*:} var=$2
    shift 2
    [ -x "${SL_BUILD_DIR:?}/tool_$tool" ] || fail "$SL_BUILD_DIR/tool_$tool is not built"
    spawn "$name" "$SL_BUILD_DIR/tool_$tool" "$@"
    listen_port "$name"
    printf -v "$var" '%s' "$port"
}

stop() {
    local name=$1 pid=${procs_pid[$1]} rc=0
    kill -TERM "$pid"
    timeout 20 tail --pid="$pid" -f /dev/null || fail "$name did not stop on SIGTERM"
    wait "$pid" || rc=$?
    unset "procs_pid[$name]"
    [ "$rc" -eq 0 ] || fail "$name exited $rc after SIGTERM"
}

wait_for() {
    local secs=$1 what=$2 until
    shift 2
    until=$((SECONDS + secs))
    until "$@"; do
        [ "$SECONDS" -lt "$until" ] || fail "no $what within $secs s"
        sleep 0.05
    done
}
