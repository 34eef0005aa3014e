#!/usr/bin/env bash
# Installs the Debian 12 packages slaledger needs to build, test, fuzz and benchmark.
# Idempotent: prints nothing and touches nothing when every package is already present.
# Used by `make check` (when something is missing), `make demo` and `.ci/run`.
set -euo pipefail

packages=(
    build-essential cmake pkg-config git
    clang libclang-rt-14-dev clang-format
    libfyaml-dev libjansson-dev libsodium-dev libsqlite3-dev
    libcmocka-dev libmicrohttpd-dev libcurl4-openssl-dev curl python3 wrk
    openssl prometheus
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
