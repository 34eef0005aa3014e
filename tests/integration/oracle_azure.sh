#!/usr/bin/env bash
# The Azure Monitor adapter through the CLI against the stand-in (tool_azure): an agreement
# whose azure.vm service points its endpoint and login_endpoint at the stand-in, a secrets file
# with the application's credential, and a scripted outage in 2024 (long over, so every
# interval has ended). `slaledger oracle measure` must print the exact samples (text and
# --json) for VmAvailabilityMetric and for Percentage CPU, after exactly one token and one
# metrics request per run; a wrong client secret, a tenant the credential does not belong to,
# an unknown VM and Azure Monitor answering HTTP 500 must each exit 1 with the service's reason
# on stderr. Only 127.0.0.1; every process started is killed on exit; bounded (about 2 s, at
# most 60 s).
set -euo pipefail
bin=${SL_BIN:?}
tmp=$(mktemp -d)
. "${SL_SOURCE_DIR:?}/scripts/lib/procs.sh"

tenant=8e7d6c5b-4a39-4281-b0c1-d2e3f4a5b6c7
client=0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9
secret='Xy7~Q8-abc.def_ghi+JK/lm='

cat >"$tmp/clients" <<EOF
# TENANT CLIENT_ID CLIENT_SECRET
$tenant $client $secret
EOF
cat >"$tmp/script" <<'EOF'
# app-02 is up, except 00:02-00:04 (down), half of 00:06 (down), 00:08 (silent).
app-02 VmAvailabilityMetric default 1
app-02 VmAvailabilityMetric 2024-01-01T00:02:00Z +4m 0
app-02 VmAvailabilityMetric 2024-01-01T00:06:00Z 2024-01-01T00:06:30Z 0
app-02 VmAvailabilityMetric +8m +9m missing
app-02 Percentage CPU default 23.5
app-02 Percentage CPU +3m +5m missing
EOF

# start_azure NAME SCRIPT [ARGS...]: starts a stand-in and sets port_NAME.
start_azure() {
    local name=$1 script=$2
    shift 2
    start_tool "azure:$name" "port_$name" --clients "$tmp/clients" --script "$script" \
        --start 2024-01-01T00:00:00Z "$@"
}

# agreement FILE PORT VM METRIC TENANT
agreement() {
    cat >"$1" <<EOF
apiVersion: slaledger/v1
kind: Agreement
metadata:
  name: vm-app-02
spec:
  channel: univie-azure
  consumer: univie
  provider: azure
  period:
    start: 2024-01-01T00:00:00Z
    end: 2024-02-01T00:00:00Z
  fee:
    amount: "100.00"
    currency: EUR
  billing: calendar-month
  grace: 15m
  services:
    - name: app-02
      kind: azure.vm
      source:
        subscription: 3f2b8c1e-5d4a-4b7e-9c0f-1a2b3c4d5e6f
        resource_group: rg-univie-apps
        vm: $3
        tenant: $5
        credentials: azure-main
        metric: $4
        endpoint: http://127.0.0.1:$2
        login_endpoint: http://127.0.0.1:$2/
  oracles:
    members: [univie-mon]
  objectives:
    - name: uptime
      metric: availability
      interval: 60s
      window: calendar-month
      target: ">= 99.9%"
  penalties:
    - objective: uptime
      tiers:
        - {below: 99.9%, credit: 10%}
EOF
}

# secrets FILE CLIENT_SECRET
secrets() {
    cat >"$1" <<EOF
apiVersion: slaledger/v1
kind: Secrets
metadata:
  name: test-secrets
spec:
  credentials:
    - name: azure-main
      kind: azure
      tenant_id: $tenant
      client_id: $client
      client_secret: "$2"
EOF
    chmod 600 "$1"
}

measure() { # AGREEMENT SECRETS [--json]: runs measure over 2024-01-01 00:00..00:10
    "$bin" oracle measure "$1" --objective uptime --from 2024-01-01T00:00:00Z \
        --to 2024-01-01T00:10:00Z --secrets "$2" "${@:3}"
}

start_azure main "$tmp/script"
port=$port_main
secrets "$tmp/secrets.yaml" "$secret"
secrets "$tmp/wrong.yaml" "not-the-secret"

# --- the outage, exactly ---
agreement "$tmp/avail.yaml" "$port" app-02 VmAvailabilityMetric "$tenant"
measure "$tmp/avail.yaml" "$tmp/secrets.yaml" >"$tmp/avail.txt" 2>"$tmp/avail.err" ||
    fail "measure VmAvailabilityMetric exited $?"
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
diff -u "$tmp/avail.want" "$tmp/avail.txt" >&2 || fail "VmAvailabilityMetric samples differ"

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

# --- another metric: a datapoint means up, none is unknown ---
agreement "$tmp/cpu.yaml" "$port" app-02 "Percentage CPU" "$tenant"
measure "$tmp/cpu.yaml" "$tmp/secrets.yaml" >"$tmp/cpu.txt" 2>"$tmp/cpu.err" ||
    fail "measure Percentage CPU exited $?"
[ "$(grep -c ' known 1000000$' "$tmp/cpu.txt")" = 8 ] || fail "Percentage CPU: not 8 up"
grep -q '^2024-01-01T00:03:00Z unknown no datapoint$' "$tmp/cpu.txt" || fail "00:03 not unknown"
grep -q '^2024-01-01T00:04:00Z unknown no datapoint$' "$tmp/cpu.txt" || fail "00:04 not unknown"

# --- refusals: exit 1 with the service's reason ---
rc=0
measure "$tmp/avail.yaml" "$tmp/wrong.yaml" >"$tmp/wrong.txt" 2>"$tmp/wrong.err" || rc=$?
[ "$rc" = 1 ] || fail "a wrong client secret exited $rc, not 1"
grep -q 'AADSTS7000215' "$tmp/wrong.err" || fail "no AADSTS7000215 on stderr"
grep -q "$secret" "$tmp/wrong.err" "$tmp/wrong.txt" "$tmp/main.err" && fail "a secret was printed"

agreement "$tmp/tenant.yaml" "$port" app-02 VmAvailabilityMetric 11111111-2222-3333-4444-555555555555
rc=0
measure "$tmp/tenant.yaml" "$tmp/secrets.yaml" >"$tmp/tenant.txt" 2>"$tmp/tenant.err" || rc=$?
[ "$rc" = 1 ] || fail "a tenant mismatch exited $rc, not 1"
grep -q 'differs' "$tmp/tenant.err" || fail "no tenant mismatch reason on stderr"

agreement "$tmp/novm.yaml" "$port" app-99 VmAvailabilityMetric "$tenant"
rc=0
measure "$tmp/novm.yaml" "$tmp/secrets.yaml" >"$tmp/novm.txt" 2>"$tmp/novm.err" || rc=$?
[ "$rc" = 1 ] || fail "an unknown VM exited $rc, not 1"
grep -q 'ResourceNotFound' "$tmp/novm.err" || fail "no ResourceNotFound on stderr"

# One token and one metrics request per run that got a token (4 runs did; the wrong secret
# and the tenant mismatch got none, and the mismatch never reached the stand-in).
stop main
grep -q 'tokens issued: 4, token requests: 5, metrics requests: 4$' "$tmp/main.err" ||
    fail "unexpected request counts: $(tail -n 1 "$tmp/main.err")"

# --- Azure Monitor failing ---
printf 'app-02 VmAvailabilityMetric default 1\nfault -100000d +100000d http500\n' >"$tmp/faulty"
start_azure faulty "$tmp/faulty"
agreement "$tmp/faulty.yaml" "$port_faulty" app-02 VmAvailabilityMetric "$tenant"
rc=0
measure "$tmp/faulty.yaml" "$tmp/secrets.yaml" >"$tmp/faulty.txt" 2>"$tmp/faulty.err" || rc=$?
[ "$rc" = 1 ] || fail "HTTP 500 exited $rc, not 1"
grep -q 'InternalServerError' "$tmp/faulty.err" || fail "no InternalServerError on stderr"
stop faulty
echo "ok: oracle_azure"
