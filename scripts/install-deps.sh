#!/usr/bin/env bash
# Installs, from Debian 12's apt, exactly what building and testing pipy needs.
# Idempotent: packages already installed are not touched, and apt is not called at all
# when nothing is missing.
#
#   scripts/install-deps.sh            what building and every test need (make test, CI)
#   scripts/install-deps.sh --build    only what building needs (make serve)
#   scripts/install-deps.sh --bench    everything, plus nginx and wrk (make bench)
set -euo pipefail

build=(
  cmake ninja-build pkg-config ccache g++ make
  # Boost 1.81 only: the default libboost-*-dev (1.74) conflicts with it.
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev libpqxx-dev libarchive-dev
  libgit2-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libcmark-gfm-dev libcmark-gfm-extensions-dev
  libgtest-dev libgmock-dev
)
tests=(
  python3 python3-pytest python3-venv python3-pip python3-setuptools python3-wheel
  python3-build twine
  postgresql-15   # the PostgreSQL catalog's tests (tests/services/postgres.sh)
  python3-botocore  # reference SigV4 signatures for the S3 signer's tests
  git bubblewrap python3-hatchling   # the monorepo builder's end-to-end tests (tests/e2e/test_builder.py)
  chromium   # the web UI's browser test (tests/browser, driven by playwright-core from npm)
  curl       # tests/services/s3.sh probes the S3 server with it
)
bench=(nginx-light wrk)

mode=${1:-}
case "$mode" in
  --build) wanted=("${build[@]}") ;;
  --bench) wanted=("${build[@]}" "${tests[@]}" "${bench[@]}") ;;
  "") wanted=("${build[@]}" "${tests[@]}") ;;
  *) echo "install-deps: unknown option $mode" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
fi

if [[ "$mode" == "--build" ]]; then
  exit 0
fi

# Node.js and npm run the S3 test server and the browser test's driver. A machine that
# has none gets Debian's (Node 18, npm 9); a newer Node already on PATH is used as it is.
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "install-deps: installing Debian's nodejs and npm" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 nodejs npm
fi
# The browser test's driver, pinned by tests/browser/package-lock.json (playwright-core
# 1.61, the newest that runs on Debian's Node 18 as well as on newer Nodes).
root=$(cd "$(dirname "$0")/.." && pwd)
pinned=$(sed -n 's/.*"playwright-core": "\([^"]*\)".*/\1/p' "$root/tests/browser/package.json")
installed=$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' \
  "$root/tests/browser/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [[ "$installed" != "$pinned" ]]; then
  (cd "$root/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The S3 server the storage tests start (tests/services/s3.sh), pinned by its package-lock.
if [[ ! -d "$root/tests/services/node_modules/@20minutes/s3rver" ]]; then
  (cd "$root/tests/services" && npm ci --no-audit --no-fund --loglevel=error)
fi
# yarn 1 and pnpm 10, the npm registry's other clients in the e2e tests, pinned by
# tests/npm-clients/package-lock.json (pnpm 10 needs Node 18.12+; Debian's is 18.20).
for pkg in yarn pnpm; do
  pinned=$(sed -n "s/.*\"$pkg\": \"\([^\"]*\)\".*/\1/p" "$root/tests/npm-clients/package.json")
  installed=$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' \
    "$root/tests/npm-clients/node_modules/$pkg/package.json" 2>/dev/null || true)
  if [[ "$installed" != "$pinned" ]]; then
    (cd "$root/tests/npm-clients" && npm ci --no-audit --no-fund --loglevel=error)
    break
  fi
done

