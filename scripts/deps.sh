#!/usr/bin/env bash
# Installs the Debian 12 packages slaledger needs to build, test, fuzz and benchmark.
# Idempotent: prints nothing and touches nothing when every package is already present.
# Also installs the web console's npm packages into web/node_modules (npm ci).
# Used by `make check` (when something is missing), `make demo` and `.ci/run`.
set -euo pipefail

packages=(
    build-essential cmake pkg-config git
    clang libclang-rt-14-dev clang-format
    libfyaml-dev libjansson-dev libsodium-dev libsqlite3-dev
    libcmocka-dev libmicrohttpd-dev libcurl4-openssl-dev curl python3 wrk
    openssl prometheus chromium
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# Node.js and npm, for the console's npm packages and its browser tests: any install will
# do (Debian's nodejs and npm, or a vendor's nodejs that brings npm along).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
fi

# The console's npm packages (uPlot, playwright-core), pinned by web/package-lock.json.
npm_packages() {
    local web
    web="$(cd "$(dirname "$0")/.." && pwd)/web"
    [ -f "$web/node_modules/.package-lock.json" ] &&
        cmp -s "$web/package-lock.json" "$web/node_modules/.sl-lock" && return 0
    echo "deps: npm ci in web/" >&2
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) &&
        cp "$web/package-lock.json" "$web/node_modules/.sl-lock"
}

if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null ||
            { echo "deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm_packages
