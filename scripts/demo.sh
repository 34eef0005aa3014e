#!/usr/bin/env bash
# make demo: the main job on the embedded default, as far as it is built. `slaledger init`
# makes a one-machine network (univie, aws, azure, the watchdog monitor and the bank), a node
# serves it on a free loopback port, and the paper's EC2 agreement goes through its life with
# the CLI, each step a transaction the node signs for its user: univie proposes it, aws accepts
# it, the bank issues EUR to univie, univie funds the escrow. The statement and wallets are
# shown, the node stops, and the ledger is audited from its genesis.
# (Measuring the service and paying penalties needs the oracles, which come next.)
# Env: SL_BIN (default build/slaledger), DEMO_DIR (default a fresh temporary directory, kept
# when given).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SL_BIN:-$here/build/slaledger}
tmp=$(mktemp -d)
export SL_SOURCE_DIR=$here
. "$here/scripts/lib/node.sh"
net=${DEMO_DIR:-$tmp/net}
[ -x "$bin" ] || fail "no $bin: run make first"

step() { printf '\n== %s\n' "$*"; }
as() { # USER ARGS...: the CLI with that user's token
    local who=$1
    shift
    SLALEDGER_TOKEN=$(grep -E "^ *$who " "$net/tokens.txt" | grep -o 'slt_[A-Za-z0-9_-]*') \
        timeout 60 "$bin" "$@" --node "$url"
}

step "slaledger init $net"
timeout 60 "$bin" init "$net" | sed -n '1,9p'
start_node "$net/univie.yaml"
echo "node listening on $url"

step "univie (alice) proposes examples/aws-ec2-vm.yaml"
as alice agreement apply "$here/examples/aws-ec2-vm.yaml"
step "aws (bob) accepts it"
as bob agreement accept vm-web-01
step "the bank (treasury) issues 2500.00 EUR to univie"
as treasury wallet issue univie 2500.00 EUR --channel univie-aws
step "univie funds the escrow with the fee, 1000.00 EUR"
as alice agreement deposit vm-web-01 1000.00
step "the agreement as univie sees it"
as alice agreement show vm-web-01 | sed -n '1,14p'
step "wallets"
as alice wallet show univie
step "what the watchdog (auditor) sees"
as dave agreement list

stop_node
step "audit of the channel's ledger from its genesis"
timeout 120 "$bin" ledger verify "$net/data/univie-aws.db"
echo
if [ -n "${DEMO_DIR:-}" ]; then
    echo "demo: ok; the network stays in $net (slaledger node --config $net/univie.yaml)"
else
    echo "demo: ok (set DEMO_DIR=/some/dir to keep the network and run its node yourself)"
fi
