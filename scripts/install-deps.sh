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

# The browser test's driver, pinned by tests/browser/package-lock.json. Node.js and npm
# come with the machine (Debian's nodejs is not needed).
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ ! -d "$root/tests/browser/node_modules/playwright-core" ]]; then
  if ! command -v npm >/dev/null; then
    echo "install-deps: npm is needed for the browser test (install Node.js 18+)" >&2
    exit 1
  fi
  (cd "$root/tests/browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The S3 server the storage tests start (tests/services/s3.sh), pinned by its package-lock.
if [[ ! -d "$root/tests/services/node_modules/@20minutes/s3rver" ]]; then
  (cd "$root/tests/services" && npm ci --no-audit --no-fund --loglevel=error)
fi

