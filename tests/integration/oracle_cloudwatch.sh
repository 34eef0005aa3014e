#!/usr/bin/env bash
# The CloudWatch adapter through the CLI against the stand-in (tool_cloudwatch): an agreement
# whose aws.ec2 service points its endpoint at the stand-in, a secrets file with the access key,
# and a scripted outage in 2024 (long over, so every interval has ended), served 4 datapoints
# per page. `slaledger oracle measure` must print the exact samples (text and --json) for
# StatusCheckFailed as availability and for CPUUtilization as an error rate, paging through
# the NextTokens; a wrong secret, an unknown access key, a region the stand-in does not serve,
# an objective no EC2 metric measures and CloudWatch answering HTTP 500 or a truncated body
# must each exit 1 with the reason on stderr, and no secret may be printed. Only 127.0.0.1;
# every process started is killed on exit; bounded (about 2 s, at most 60 s).
set -euo pipefail
bin=${SL_BIN:?}
tmp=$(mktemp -d)
. "${SL_SOURCE_DIR:?}/scripts/lib/procs.sh"

akid=AKIAIOSFODNN7EXAMPLE
secret='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
instance=i-0abc123def4567890

printf '# AKID SECRET\n%s %s\n' "$akid" "$secret" >"$tmp/keys"
cat >"$tmp/script" <<EOF
# $instance is up, except 00:02-00:04 (down), half of 00:06 (down), 00:08 (no data).
$instance StatusCheckFailed default 0
$instance StatusCheckFailed 2024-01-01T00:02:00Z +4m 1
$instance StatusCheckFailed 2024-01-01T00:06:00Z 2024-01-01T00:06:30Z 1
$instance StatusCheckFailed +8m +9m missing
$instance CPUUtilization default 12.5
$instance CPUUtilization +3m +5m missing
EOF

# start_cw NAME SCRIPT [ARGS...]: starts a stand-in and sets port_NAME.
start_cw() {
    local name=$1 script=$2
    shift 2
    start_tool "cloudwatch:$name" "port_$name" --keys "$tmp/keys" --script "$script" \
        --region eu-central-1 --start 2024-01-01T00:00:00Z "$@"
}

# agreement FILE PORT INSTANCE METRIC OBJECTIVE_METRIC TARGET [REGION]
agreement() {
    cat >"$1" <<EOF
apiVersion: slaledger/v1
kind: Agreement
metadata:
  name: vm-web-01
spec:
  channel: univie-aws
  consumer: univie
  provider: aws
  period:
    start: 2024-01-01T00:00:00Z
    end: 2024-02-01T00:00:00Z
  fee:
    amount: "100.00"
    currency: EUR
  billing: calendar-month
  grace: 15m
  services:
    - name: web-01
      kind: aws.ec2
      source:
        region: ${7:-eu-central-1}
        instance: $3
        credentials: aws-main
        namespace: AWS/EC2
        metric: $4
        endpoint: http://127.0.0.1:$2
  oracles:
    members: [univie-mon]
  objectives:
    - name: obj
      metric: $5
      interval: 60s
      window: calendar-month
      target: "$6"
EOF
}

# secrets FILE ACCESS_KEY_ID SECRET
secrets() {
    cat >"$1" <<EOF
apiVersion: slaledger/v1
kind: Secrets
metadata:
  name: test-secrets
spec:
  credentials:
    - name: aws-main
      kind: aws
      access_key_id: $2
      secret_access_key: "$3"
      region: eu-central-1
EOF
    chmod 600 "$1"
}

measure() { # AGREEMENT SECRETS [--json]: runs measure over 2024-01-01 00:00..00:10
    "$bin" oracle measure "$1" --objective obj --from 2024-01-01T00:00:00Z \
        --to 2024-01-01T00:10:00Z --secrets "$2" "${@:3}"
}

# refused NAME AGREEMENT SECRETS PATTERN: measure must exit 1 with PATTERN on stderr.
refused() {
    local rc=0
    measure "$2" "$3" >"$tmp/$1.txt" 2>"$tmp/$1.err" || rc=$?
    [ "$rc" = 1 ] || fail "$1: exited $rc, not 1"
    grep -q "$4" "$tmp/$1.err" || fail "$1: no '$4' on stderr"
}

start_cw main "$tmp/script" --page-size 4
port=$port_main
secrets "$tmp/secrets.yaml" "$akid" "$secret"
secrets "$tmp/wrong.yaml" "$akid" "not-the-secret"
secrets "$tmp/unknown.yaml" AKIAUNKNOWNKEY000000 "$secret"

# --- the outage, exactly, over three pages ---
agreement "$tmp/avail.yaml" "$port" "$instance" StatusCheckFailed availability ">= 99.9%"
measure "$tmp/avail.yaml" "$tmp/secrets.yaml" >"$tmp/avail.txt" 2>"$tmp/avail.err" ||
    fail "measure StatusCheckFailed exited $?"
cat >"$tmp/avail.want" <<'EOF'
2024-01-01T00:00:00Z known 1000000
2024-01-01T00:01:00Z known 1000000
2024-01-01T00:02:00Z known 0
2024-01-01T00:03:00Z known 0
2024-01-01T00:04:00Z known 1000000
2024-01-01T00:05:00Z known 1000000
2024-01-01T00:06:00Z known 0
2024-01-01T00:07:00Z known 1000000
2024-01-01T00:08:00Z unknown no datapoint
2024-01-01T00:09:00Z known 1000000
EOF
diff -u "$tmp/avail.want" "$tmp/avail.txt" >&2 || fail "StatusCheckFailed samples differ"
# 9 datapoints at 4 per page: two pages with a NextToken, then the last.
[ "$(grep -c '200 GetMetricData (more)$' "$tmp/main.err")" = 2 ] || fail "not 2 continued pages"
[ "$(grep -c '200 GetMetricData$' "$tmp/main.err")" = 1 ] || fail "not 1 last page"

measure "$tmp/avail.yaml" "$tmp/secrets.yaml" --json >"$tmp/avail.json" 2>"$tmp/avail.err" ||
    fail "measure --json exited $?"
python3 - "$tmp/avail.json" <<'EOF' || fail "the --json samples differ"
import json, sys
got = json.load(open(sys.argv[1]))
want = [1000000, 1000000, 0, 0, 1000000, 1000000, 0, 1000000, None, 1000000]
assert len(got) == 10, got
for i, (g, w) in enumerate(zip(got, want)):
    assert g["start_ms"] == 1704067200000 + i * 60000, g
    assert g["known"] == (w is not None), g
    assert g.get("value") == w if w is not None else g["reason"] == "no datapoint", g
EOF

# --- CPU utilization as an error rate: 12.5 % = 125000 ppm, none in the gap ---
agreement "$tmp/cpu.yaml" "$port" "$instance" CPUUtilization error_rate "<= 50%"
measure "$tmp/cpu.yaml" "$tmp/secrets.yaml" >"$tmp/cpu.txt" 2>"$tmp/cpu.err" ||
    fail "measure CPUUtilization exited $?"
[ "$(grep -c ' known 125000$' "$tmp/cpu.txt")" = 8 ] || fail "CPUUtilization: not 8 at 125000"
grep -q '^2024-01-01T00:03:00Z unknown no datapoint$' "$tmp/cpu.txt" || fail "00:03 not unknown"
grep -q '^2024-01-01T00:04:00Z unknown no datapoint$' "$tmp/cpu.txt" || fail "00:04 not unknown"

# --- an instance CloudWatch knows nothing of: answered, every interval unknown ---
agreement "$tmp/noinst.yaml" "$port" i-0000000000000dead StatusCheckFailed availability ">= 99%"
measure "$tmp/noinst.yaml" "$tmp/secrets.yaml" >"$tmp/noinst.txt" 2>"$tmp/noinst.err" ||
    fail "an unknown instance exited $?"
[ "$(grep -c ' unknown no datapoint$' "$tmp/noinst.txt")" = 10 ] || fail "unknown instance"

# --- refusals: exit 1 with the reason ---
refused wrong "$tmp/avail.yaml" "$tmp/wrong.yaml" 'InvalidSignatureException'
refused unknown "$tmp/avail.yaml" "$tmp/unknown.yaml" 'UnrecognizedClientException'
agreement "$tmp/region.yaml" "$port" "$instance" StatusCheckFailed availability ">= 99%" us-west-2
refused region "$tmp/region.yaml" "$tmp/secrets.yaml" 'scoped to a valid region'
agreement "$tmp/rt.yaml" "$port" "$instance" StatusCheckFailed response_time "<= 300ms"
refused rt "$tmp/rt.yaml" "$tmp/secrets.yaml" 'cannot measure objective obj'
grep -q "$secret" "$tmp"/*.txt "$tmp"/*.err "$tmp/main.err" && fail "a secret was printed"
stop main

# --- CloudWatch failing ---
printf '%s StatusCheckFailed default 0\nfault -100000d +100000d http500\n' "$instance" \
    >"$tmp/faulty"
start_cw faulty "$tmp/faulty"
agreement "$tmp/faulty.yaml" "$port_faulty" "$instance" StatusCheckFailed availability ">= 99%"
refused faulty "$tmp/faulty.yaml" "$tmp/secrets.yaml" 'HTTP 500 InternalServiceFault'
stop faulty

printf '%s StatusCheckFailed default 0\nfault -100000d +100000d malformed\n' "$instance" \
    >"$tmp/broken"
start_cw broken "$tmp/broken"
agreement "$tmp/broken.yaml" "$port_broken" "$instance" StatusCheckFailed availability ">= 99%"
refused broken "$tmp/broken.yaml" "$tmp/secrets.yaml" 'not JSON'
stop broken
echo "ok: oracle_cloudwatch"
