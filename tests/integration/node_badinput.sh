#!/usr/bin/env bash
# A corpus of bad input against a real node made by `slaledger init` (with one active,
# funded agreement): malformed and mistyped JSON bodies, duplicate keys, bad amounts, names and
# paths with NUL, invalid UTF-8 and emoji, deep nesting, oversized bodies (announced and
# chunked), agreement documents that are not YAML (an alias bomb among them), empty bodies,
# wrong methods, unknown routes, very long paths and bad tokens, and agreement documents from
# callers who may not propose (refused before parsing). Each must be refused with the right
# status and the one JSON error shape, and change nothing: the agreements, the wallets and the
# number of transactions on the ledger are the same afterwards. The node then still answers, its
# stderr shows no crash or sanitizer report, and it stops cleanly (under ASan also without
# leaks).
#
# Requests are written on raw sockets by a Python driver so that paths and headers carry
# exactly the bytes given (raw NUL, 0xff, tabs), which curl would refuse or rewrite.
set -euo pipefail
bin=${SL_BIN:?}
src=${SL_SOURCE_DIR:?}
tmp=$(mktemp -d)
. "${SL_SOURCE_DIR:?}/scripts/lib/node.sh"

timeout 60 "$bin" init "$tmp/net" >/dev/null || fail "init failed"
example_next_month aws-ec2-vm.yaml "$tmp/vm-web-01.yaml" # no past intervals to catch up
start_node "$tmp/net/univie.yaml"
port=${url##*:}

timeout 300 python3 - "$port" "$tmp/net/tokens.txt" "$tmp/vm-web-01.yaml" \
    "$src/examples/azure-vm.yaml" <<'EOF' ||
import json, socket, sys

PORT = int(sys.argv[1])
TOK = {}
for line in open(sys.argv[2]):
    if line.strip() and not line.startswith("#"):
        user, _org, _role, tok = line.split()
        TOK[user] = tok
DOC = open(sys.argv[3], "rb").read()
AZURE_DOC = open(sys.argv[4], "rb").read()


def send(method, path, who=None, body=None, auth=None, headers=(), chunked=False, expect=False):
    """One request on its own connection; returns (status, headers, body bytes)."""
    if isinstance(path, str):
        path = path.encode()
    head = [method.encode() + b" " + path + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    if who:
        head.append(b"Authorization: Bearer " + TOK[who].encode())
    if auth is not None:
        head.append(b"Authorization: " + auth)
    head += list(headers)
    payload = b""
    if body is not None and chunked:
        head.append(b"Transfer-Encoding: chunked")
        step = 65536
        for i in range(0, len(body), step):
            part = body[i:i + step]
            payload += b"%x\r\n%s\r\n" % (len(part), part)
        payload += b"0\r\n\r\n"
    elif body is not None:
        head.append(b"Content-Length: %d" % len(body))
        payload = body
    if expect:
        head.append(b"Expect: 100-continue")
    s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
    out = b""
    try:
        s.sendall(b"\r\n".join(head) + b"\r\n\r\n")
        if expect:  # the answer comes before the body is sent
            out = s.recv(65536)
            if out.startswith(b"HTTP/1.1 100"):
                out = b""
                s.sendall(payload)
        else:
            s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered early and closed: read what it said
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except ConnectionResetError:
        pass
    s.close()
    top, _, rest = out.partition(b"\r\n\r\n")
    lines = top.split(b"\r\n")
    assert lines and lines[0].startswith(b"HTTP/1."), "no HTTP answer: %r" % out[:200]
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode("latin-1")
    return status, hdrs, rest


def get_json(path, who="dave"):
    st, _, body = send("GET", path, who)
    assert st == 200, (path, st, body[:200])
    return json.loads(body)


def expect_ok(method, path, who, body=None):
    st, _, b = send(method, path, who, body)
    assert st in (200, 201), (method, path, st, b[:300])


def tx_total():
    """Transactions in every block of both channels (blocks cut for due work hold none)."""
    total = 0
    for ch in ("univie-aws", "univie-azure"):
        head = get_json("/v1/channels/%s/blocks?limit=1" % ch)["head"]
        for start in range(0, head + 1, 1000):
            d = get_json("/v1/channels/%s/blocks?from=%d&limit=1000" % (ch, start))
            total += sum(b["transactions"] for b in d["blocks"])
    return total


def snapshot():
    """What bad input must not change; heights move with blocks cut for due work, so not them."""
    snap = {"agreements": get_json("/v1/agreements")["agreements"], "tx": tx_total()}
    for org in ("univie", "aws", "azure", "bank", "watchdog"):
        snap["wallet/" + org] = get_json("/v1/wallets/" + org)["balances"]
    snap["services"] = get_json("/v1/agreements/vm-web-01/services")
    return snap


# --- a funded, active agreement to aim at ---
expect_ok("POST", "/v1/agreements", "alice", DOC)
expect_ok("POST", "/v1/agreements/vm-web-01/accept", "bob", b"")
expect_ok("POST", "/v1/wallets/univie/issue", "treasury",
          b'{"amount":"2500.00","currency":"EUR","channel":"univie-aws"}')
expect_ok("POST", "/v1/agreements/vm-web-01/deposit", "alice", b'{"amount":"1000.00"}')
before = snapshot()

DEP = "/v1/agreements/vm-web-01/deposit"
ISS = "/v1/wallets/univie/issue"
WDR = "/v1/wallets/univie/withdraw"


def money(amount, currency="EUR", channel="univie-aws"):
    return json.dumps({"amount": amount, "currency": currency, "channel": channel}).encode()


alias_bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
for prev, name in zip("abcdefgh", "bcdefghi"):
    alias_bomb.append("%s: &%s [%s]" % (name, name, ",".join(["*" + prev] * 9)))
alias_bomb = ("\n".join(alias_bomb) + "\n").encode()
deep_map = b"a:\n" + b"".join(b" " * i + b"b:\n" for i in range(1, 1200))
bad_amounts = ["-5", "-0.01", "0", "0.00", "99999999999999999999.00", "9223372036854775807",
               "92233720368547758.08", "1e9", "1E2", "0x10", "1.001", "1.", ".5", " 1.00",
               "1.00 ", "+1", "1,00", "", "NaN", "Infinity", "1\u00a0000", "\u0661"]

# (label, expected status, expected error code(s), request arguments)
cases = []
for a in bad_amounts:
    cases.append(("deposit amount %r" % a, 400, "EINVAL",
                  dict(method="POST", path=DEP, who="alice", body=json.dumps({"amount": a}).encode())))
    cases.append(("issue amount %r" % a, 400, "EINVAL",
                  dict(method="POST", path=ISS, who="treasury", body=money(a))))
for label, body in [
    ("malformed json", b'{"amount": "1.00"'),
    ("not json", b"amount=1.00"),
    ("json number", b'{"amount": 5}'),
    ("json array", b'{"amount": ["1"]}'),
    ("json object", b'{"amount": {"v": "1"}}'),
    ("json null", b'{"amount": null}'),
    ("json bool", b'{"amount": true}'),
    ("top-level array", b'["1.00"]'),
    ("top-level string", b'"1.00"'),
    ("empty body", b""),
    ("only whitespace", b"  \n\t "),
    ("NUL in string", b'{"amount": "1\\u00000"}'),
    ("raw NUL", b'{"amount": "1.00"}\x00'),
    ("invalid utf-8", b'{"amount": "\xff1.00"}'),
    ("deep nesting", b"[" * 10000),
    ("deep nesting in object", b'{"amount":' + b"[" * 10000),
    ("wrong key", b'{"amout": "1.00"}'),
]:
    cases.append(("deposit " + label, 400, "EINVAL",
                  dict(method="POST", path=DEP, who="alice", body=body)))
    cases.append(("issue " + label, 400, "EINVAL",
                  dict(method="POST", path=ISS, who="treasury", body=body)))
    cases.append(("withdraw " + label, 400, "EINVAL",
                  dict(method="POST", path=WDR, who="alice", body=body)))
for label, body, code in [
    ("currency lower-case", money("1.00", "eur"), "EINVAL"),
    ("currency emoji", money("1.00", "\U0001f600"), "EINVAL"),
    ("currency 4 letters", money("1.00", "EURO"), "EINVAL"),
    ("currency NUL", money("1.00", "E\u0000R"), "EINVAL"),
    ("currency number", b'{"amount":"1.00","currency":978,"channel":"univie-aws"}', "EINVAL"),
    ("unknown channel", money("1.00", channel="nope"), "EINVAL"),
    ("channel emoji", money("1.00", channel="\U0001f600"), "EINVAL"),
    ("channel number", b'{"amount":"1.00","currency":"EUR","channel":7}', "EINVAL"),
]:
    cases.append(("issue " + label, 400, code,
                  dict(method="POST", path=ISS, who="treasury", body=body)))
for label, to in [("emoji", "%F0%9F%98%80"), ("0xff", "%ff"), ("control", "%01"),
                  ("upper-case", "UNIVIE"), ("dot-dot", ".."), ("long", "a" * 300)]:
    cases.append(("issue to " + label, 400, "EINVAL",
                  dict(method="POST", path="/v1/wallets/%s/issue" % to, who="treasury",
                       body=money("1.00"))))

# --- agreement documents that are not one ---
for label, body, codes in [
    ("empty", b"", ("EINVAL", "EPARSE")),
    ("binary", bytes(range(256)) * 4, ("EINVAL", "EPARSE")),
    ("plain scalar", b"just some words", ("EINVAL", "EPARSE")),
    ("json array", b"[1, 2]", ("EINVAL", "EPARSE")),
    ("wrong apiVersion", b'{"apiVersion": 5}', ("EINVAL", "EPARSE")),
    ("unclosed flow", b"{a: [1, 2", ("EINVAL", "EPARSE")),
    ("tabs", b"a:\n\tb: 1\n", ("EINVAL", "EPARSE")),
    ("alias bomb", alias_bomb, ("EINVAL", "EPARSE")),
    ("deep flow", b"[" * 10000, ("EINVAL", "EPARSE")),
    ("deep flow maps", b"{a: " * 10000, ("EINVAL", "EPARSE")),
    ("deep block maps", deep_map, ("EINVAL", "EPARSE")),
    ("many documents", b"---\na: 1\n" * 2000, ("EINVAL", "EPARSE")),
    ("NUL in name", DOC.replace(b"vm-web-01", b"vm-\x00web", 1), ("EINVAL", "EPARSE")),
    ("emoji in name", DOC.replace(b"vm-web-01", "vm-\U0001f600".encode(), 1), ("EINVAL", "EPARSE")),
    ("invalid utf-8", DOC.replace(b"vm-web-01", b"vm-\xff\xfe", 1), ("EINVAL", "EPARSE")),
    ("unknown huge field", DOC.replace(b"name: vm-web-01", b"name: vm-web-02", 1) + b"\n  bogus: 99999999999999999999\n",
     ("EINVAL", "EPARSE")),
]:
    cases.append(("propose " + label, 400, codes,
                  dict(method="POST", path="/v1/agreements", who="alice", body=body)))
    cases.append(("paper propose " + label, 400, codes,
                  dict(method="POST", path="/aws/services", who="alice", body=body)))

# --- duplicate keys: two readers could take different ones, so every JSON body refuses them ---
PUSH = "/v1/agreements/vm-web-01/services/web-01/observations"
for label, path, who, body in [
    ("deposit", DEP, "alice", b'{"amount":"-2.00","amount":"1.00"}'),
    ("issue", ISS, "treasury",
     b'{"amount":"1.00","currency":"EUR","channel":"univie-aws","amount":"9.00"}'),
    ("withdraw", WDR, "alice",
     b'{"amount":"1.00","currency":"EUR","currency":"USD","channel":"univie-aws"}'),
    ("push", PUSH, "univie-mon",
     b'{"observations":[{"time_ms":0,"ok":true}],"observations":[]}'),
]:
    cases.append(("duplicate key " + label, 400, "EINVAL",
                  dict(method="POST", path=path, who=who, body=body)))

# --- a document too deep or too long is refused cheaply (memory is bounded while parsing) ---
MIB = 1 << 20
cases += [
    ("propose 1 MiB deep flow", 400, "EPARSE",
     dict(method="POST", path="/v1/agreements", who="alice", body=b"[" * MIB)),
    ("paper propose 1 MiB deep flow", 400, "EPARSE",
     dict(method="POST", path="/aws/services", who="alice", body=b"[" * MIB)),
    ("paper propose 1 MiB flat flow", 400, "EPARSE",
     dict(method="POST", path="/aws/services", who="alice", body=b"[" + b"1," * (MIB // 2 - 1))),
]
# A caller who may not propose is refused before the body is parsed: an auditor posting another
# provider's agreement got 400 "this route takes aws agreements" when it was parsed first.
for label, who, body in [("auditor, other provider's document", "dave", AZURE_DOC),
                         ("auditor, deep flow", "dave", b"[" * MIB),
                         ("oracle, deep flow", "univie-mon", b"[" * MIB),
                         ("issuer, deep flow", "treasury", b"{a: " * (MIB // 4))]:
    cases.append(("paper propose by " + label, 403, "EPERM",
                  dict(method="POST", path="/aws/services", who=who, body=body)))

# --- names and paths ---
for label, name in [("NUL", "%00"), ("0xff", "%ff"), ("emoji", "%F0%9F%98%80"),
                    ("control", "%01%02"), ("newline", "a%0ab"), ("quote", "%22%27"),
                    ("dot-dot", ".."), ("percent", "%25"), ("long", "a" * 4000)]:
    for sub, method, who, status in [("", "GET", "alice", 404), ("/services", "GET", "alice", 404),
                                     ("/events", "GET", "dave", 404),
                                     ("/accept", "POST", "bob", 404),
                                     ("/deposit", "POST", "alice", 404)]:
        path = "/v1/agreements/" + name + sub
        cases.append(("%s name %s%s" % (method, label, sub), status, ("ENOENT", "EINVAL"),
                      dict(method=method, path=path, who=who,
                           body=b'{"amount":"1.00"}' if method == "POST" else None)))
    cases.append(("wallet " + label, 404, "ENOENT",
                  dict(method="GET", path="/v1/wallets/" + name, who="alice")))
    cases.append(("blocks " + label, 404, "ENOENT",
                  dict(method="GET", path="/v1/channels/%s/blocks" % name, who="alice")))
    # %00 stays encoded (a decoded NUL would cut the path short), so it is a malformed id.
    cases.append(("transaction " + label, 400, ("EINVAL", "ENOENT"),
                  dict(method="GET", path="/v1/transactions/" + name, who="alice")))
    cases.append(("paper " + label, 404, "ENOENT",
                  dict(method="GET", path="/aws/services/" + name, who="alice")))
cases += [
    ("NUL then junk after a real name", 404, "ENOENT",
     dict(method="GET", path="/v1/agreements/vm-web-01%00junk", who="alice")),
    ("raw 0xff in path", 404, "ENOENT", dict(method="GET", path=b"/v1/agreements/\xff\xfe", who="alice")),
    ("raw emoji in path", 404, "ENOENT",
     dict(method="GET", path="/v1/agreements/\U0001f600".encode(), who="alice")),
    ("path 4 KiB", 404, "ENOENT", dict(method="GET", path="/v1/" + "x" * 4096, who="alice")),
    ("path 16 KiB of segments", 404, "ENOENT", dict(method="GET", path="/a" * 8192, who="alice")),
    ("unknown route", 404, "ENOENT", dict(method="GET", path="/v2/agreements", who="alice")),
    ("unknown deeper", 404, "ENOENT",
     dict(method="GET", path="/v1/agreements/vm-web-01/x/y/z", who="alice")),
    ("trailing slash", 404, "ENOENT", dict(method="GET", path="/v1/agreements/", who="alice")),
    ("double slash", 404, "ENOENT", dict(method="GET", path="/v1//agreements", who="alice")),
    ("console file unknown", 404, "ENOENT", dict(method="GET", path="/console/nope.js", who="alice")),
    ("console path escape", 404, "ENOENT",
     dict(method="GET", path="/console/..%2F..%2Fetc%2Fpasswd", who="alice")),
    ("console vendor unknown", 404, "ENOENT", dict(method="GET", path="/console/vendor/x", who="alice")),
    ("history limit overflow", 400, "EINVAL",
     dict(method="GET", path="/v1/agreements/vm-web-01/history?limit=99999999999999999999", who="alice")),
    ("history from NUL", 400, "EINVAL",
     dict(method="GET", path="/v1/agreements/vm-web-01/history?from=%00", who="alice")),
    ("events offset negative", 400, "EINVAL",
     dict(method="GET", path="/v1/agreements/vm-web-01/events?offset=-1", who="alice")),
    ("blocks from 0xff", 400, "EINVAL",
     dict(method="GET", path="/v1/channels/univie-aws/blocks?from=%ff", who="dave")),
]

# --- methods ---
for method, path in [("PUT", "/v1/agreements"), ("DELETE", "/v1/agreements/vm-web-01"),
                     ("PATCH", "/v1/wallets/univie"), ("GET", DEP), ("GET", ISS),
                     ("POST", "/v1/health"), ("DELETE", "/metrics"), ("PUT", "/aws/services"),
                     ("FOO", "/v1/agreements"), ("POST", "/v1/events")]:
    cases.append(("%s %s" % (method, path), 405, "EINVAL",
                  dict(method=method, path=path, who="alice", body=b"{}")))

# --- bodies over the limit ---
big = b"x" * (2 << 20)
cases += [
    ("2 MiB announced", 413, "EINVAL", dict(method="POST", path=DEP, who="alice", body=big, expect=True)),
    ("2 MiB chunked", 413, "EINVAL", dict(method="POST", path=DEP, who="alice", body=big, chunked=True)),
    ("2 MiB agreement", 413, "EINVAL",
     dict(method="POST", path="/v1/agreements", who="alice", body=big, chunked=True)),
]

# --- tokens ---
A = TOK["alice"].encode()
for label, auth in [("empty", b""), ("scheme only", b"Bearer"), ("scheme and space", b"Bearer "),
                    ("basic", b"Basic YWxpY2U6eA=="), ("unknown", b"Bearer slt_" + b"A" * 43),
                    ("too long", b"Bearer slt_" + b"A" * 3000), ("truncated", b"Bearer " + A[:-1]),
                    ("extended", b"Bearer " + A + b"x"), ("two tokens", b"Bearer " + A + b" " + A),
                    ("utf-8", "Bearer \u20ac".encode()), ("latin-1", b"Bearer \xff\xfe"),
                    ("control", b"Bearer slt_\x01\x02"), ("no slt_", b"Bearer " + A[4:])]:
    for method, path in [("GET", "/v1/agreements"), ("POST", DEP), ("POST", ISS)]:
        cases.append(("token %s %s %s" % (label, method, path), 401, "EAUTH",
                      dict(method=method, path=path, auth=auth, body=b'{"amount":"1.00"}'
                           if method == "POST" else None)))
cases.append(("no token", 401, "EAUTH", dict(method="POST", path=DEP, body=b'{"amount":"1.00"}')))

# --- the wrong caller for a write (refused before any transaction) ---
cases += [
    ("provider deposits", 403, "EPERM",
     dict(method="POST", path=DEP, who="bob", body=b'{"amount":"1.00"}')),
    ("auditor issues", 403, "EPERM", dict(method="POST", path=ISS, who="dave", body=money("1.00"))),
    ("other provider deposits", 403, "EPERM",
     dict(method="POST", path=DEP, who="carol", body=b'{"amount":"1.00"}')),
    ("outsider reads", 404, "ENOENT", dict(method="GET", path="/v1/agreements/vm-web-01", who="carol")),
]

failures = []
for label, want, codes, args in cases:
    codes = (codes,) if isinstance(codes, str) else codes
    try:
        st, hdrs, body = send(**args)
        assert st == want, "HTTP %d, expected %d: %r" % (st, want, body[:200])
        assert hdrs.get("content-type", "").startswith("application/json"), hdrs
        d = json.loads(body)
        e = d["error"]
        assert set(d) == {"error"} and set(e) <= {"code", "message", "field"}, d
        assert e["code"] in codes, "code %s, expected %s" % (e["code"], codes)
        assert isinstance(e["message"], str) and e["message"], d
        assert isinstance(e.get("field", ""), str), d
        if want == 405:
            assert hdrs.get("allow"), "405 without Allow"
        if want == 401:
            assert hdrs.get("www-authenticate") == "Bearer", hdrs
    except Exception as ex:  # collect them all, then fail once
        failures.append("%s: %s" % (label, ex))

# What libmicrohttpd refuses itself gets its own short HTML answer, not the JSON shape
# (http.c says why): a URL past its header memory, a Content-Length it cannot represent.
for label, want, args in [
    ("100 KB path", 414, dict(method="GET", path="/v1/agreements/" + "a" * 100000, who="alice")),
    ("content-length overflow", 413,
     dict(method="POST", path=DEP, who="alice", headers=[b"Content-Length: 99999999999999999999999"])),
]:
    st, _, _ = send(**args)
    if st != want:
        failures.append("%s: HTTP %d, expected %d" % (label, st, want))

# HEAD is answered like GET, without a body (it was 405).
st, hdrs, body = send("HEAD", "/v1/agreements", "alice")
if st != 200 or body != b"" or int(hdrs.get("content-length", "0")) <= 0:
    failures.append("HEAD /v1/agreements: HTTP %d, %d body bytes, %r" % (st, len(body), hdrs))

after = snapshot()
for k in before:
    if before[k] != after[k]:
        failures.append("state changed: %s: %r -> %r" % (k, before[k], after[k]))
assert get_json("/v1/health", None)["status"] == "ok"
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print("%d bad inputs refused, state unchanged" % (len(cases) + 2))
EOF
    fail "bad input not refused cleanly"

# Still alive and well: health answers, no crash or sanitizer report, a clean stop (with ASan,
# leaks would make the exit status non-zero).
curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null || fail "no health after the corpus"
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error|Segmentation|Assertion|Aborted' \
    "$tmp/node.err"; then
    fail "the node reported a crash"
fi
stop_node
grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error' "$tmp/node.err" && fail "sanitizer report"
echo "ok"
