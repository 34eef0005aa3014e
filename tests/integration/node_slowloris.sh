#!/usr/bin/env bash
# Slowloris against a real node: an attacker on 127.0.0.2 opens 1,000 connections, each sending
# the start of a request's headers and never the end. Without a limit per client address they
# took every connection the server allows and /v1/health timed out. Now the attacker's address
# holds at most its share, the rest are closed at once, and a client on 127.0.0.1 still gets
# /v1/health and an authenticated GET within 3 s each. The attacker's remaining connections are
# then closed by the header timeout.
#
# The attacker binds its sockets to 127.0.0.2 (all of 127/8 is loopback on Linux); the node
# listens on 127.0.0.1. The driver bounds its time and closes its sockets.
set -euo pipefail
bin=${SL_BIN:?}
tmp=$(mktemp -d)
. "${SL_SOURCE_DIR:?}/scripts/lib/node.sh"

timeout 60 "$bin" init "$tmp/net" >/dev/null || fail "init failed"
start_node "$tmp/net/univie.yaml"
port=${url##*:}

timeout 120 python3 - "$port" "$(token alice)" <<'EOF' >"$tmp/out" 2>&1 ||
import resource, socket, sys, time

PORT, TOKEN = int(sys.argv[1]), sys.argv[2]
ATTACK = 1000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, ATTACK + 200)), hard))


def request(path, token=None, limit=3.0):
    """GET path from 127.0.0.1 on a fresh connection; (status, seconds) or (None, seconds)."""
    t0 = time.monotonic()
    head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % path
    if token:
        head += "Authorization: Bearer %s\r\n" % token
    try:
        s = socket.create_connection(("127.0.0.1", PORT), timeout=limit)
        s.sendall((head + "\r\n").encode())
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        s.close()
        return int(out.split(b" ", 2)[1]), time.monotonic() - t0
    except (OSError, IndexError, ValueError):
        return None, time.monotonic() - t0


def alive(s):
    """Whether the server still holds s open."""
    try:
        s.setblocking(False)
        return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


assert request("/v1/health")[0] == 200, "no health before the attack"
attack = []
try:
    for i in range(ATTACK):
        s = socket.socket()
        s.settimeout(2)
        s.bind(("127.0.0.2", 0))
        try:
            s.connect(("127.0.0.1", PORT))
            s.sendall(b"GET /v1/agreements HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
        except OSError:
            pass  # closed or not accepted: the server defends itself
        attack.append(s)
    failures = []
    for label, path, tok in [("health", "/v1/health", None),
                             ("authenticated GET", "/v1/agreements", TOKEN),
                             ("health again", "/v1/health", None)]:
        st, secs = request(path, tok)
        print("%s during the attack: HTTP %s in %.2f s" % (label, st, secs))
        if st != 200:
            failures.append("%s: HTTP %s after %.2f s" % (label, st, secs))
    held = sum(alive(s) for s in attack)
    print("attacker connections still open: %d of %d" % (held, ATTACK))
    if failures:
        sys.exit("FAIL under attack: " + "; ".join(failures))
    if held > ATTACK // 4:
        sys.exit("FAIL: the attacker's address holds %d connections" % held)
    # The header timeout closes what the attacker still holds (10 s idle, bounded here).
    until = time.monotonic() + 30
    while time.monotonic() < until and any(alive(s) for s in attack):
        time.sleep(0.2)
    held = sum(alive(s) for s in attack)
    print("attacker connections open after the header timeout: %d" % held)
    if held:
        sys.exit("FAIL: %d half-open connections outlived the header timeout" % held)
finally:
    for s in attack:
        s.close()
EOF
    fail "the node did not serve 127.0.0.1 during the attack"
cat "$tmp/out"

curl -sf --max-time 5 "$url/v1/health" >/dev/null || fail "no health after the attack"
stop_node
grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$tmp/node.err" && fail "sanitizer report"
echo "ok"
