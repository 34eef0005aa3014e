#!/usr/bin/env bash
# make demo: the main job on the embedded default. Runs `slaledger demo`, the seed paper's
# scenario on this machine (see `slaledger demo --help` and docs/demo.md): univie's EC2
# instance and Azure VM under signed agreements with three oracles each, watched through local
# stand-ins of CloudWatch and Azure Monitor, a scripted outage, penalties paid the moment they
# are certain, settlements, final statements and an audit of the ledgers.
# Env: SL_BIN (default build/slaledger), DEMO_DIR (keep the demo in this directory),
# DEMO_ARGS (more options, e.g. "--speed 120" or "--liar").
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${SL_BIN:-$here/build/slaledger}
[ -x "$bin" ] || { echo "demo: no $bin: run make first" >&2; exit 1; }
# shellcheck disable=SC2086 # DEMO_ARGS is a list of options
exec "$bin" demo ${DEMO_DIR:+--dir "$DEMO_DIR"} ${DEMO_ARGS:-}
