#!/usr/bin/env bash
# The system packages a make target needs, checked before anything is installed with pip.
#
#   scripts/system-packages.sh [--dry-run] run|test
#
# Everything present: prints nothing and exits 0 without calling apt. Something missing: as root
# with apt-get, installs it; otherwise stops (exit 1) with the one command to run. --dry-run
# prints what it would do instead of doing it (and exits as the real run would).
# `make run`, `make test` and .ci/run all call this, so CI and a newcomer take the same path.
set -euo pipefail

# Why `make test` needs each package:
#   make        the README's commands.
#   postgresql  server binaries for the attempt-store tests; tests/postgres.py starts its own
#               throwaway cluster as the `postgres` user the package creates (no system cluster).
#   chromium    the browser end-to-end tests (Debian's /usr/bin/chromium, driven by Playwright).
#   nginx       tests/test_cluster.py and bench/cluster.py put two app instances behind it, with the
#               site `interview-bot proxy-config` writes (its own config; the system one is unused).
#   python3     Debian's: the code runner runs candidate code as an unprivileged uid, which cannot
#               read an interpreter installed under /root; /usr/bin/python3 is readable by all.
TEST_PACKAGES=(make postgresql chromium nginx python3)
# Both targets need a Python 3.11+ that can create a virtual environment (Debian splits venv out).
PYTHON_PACKAGES=(python3 python3-venv)
# Both targets, on Linux: bubblewrap, the code runner's sandbox (bot/sandbox/bubblewrap.py), which
# isolates candidates' code without root. A bwrap already on PATH will do, on any distribution.
SANDBOX_PACKAGES=(bubblewrap)
PYTHON=${PYTHON:-python3}

usage() {
  echo "usage: $0 [--dry-run] run|test" >&2
  exit 2
}

dry_run=0
target=
for arg in "$@"; do
  case $arg in
    --dry-run) dry_run=1 ;;
    run | test) target=$arg ;;
    *) usage ;;
  esac
done
[[ -n $target ]] || usage

python_ok() {
  "$PYTHON" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
    >/dev/null 2>&1
}

installed() {  # a package dpkg knows as installed (not merely remembered by its config files)
  local status
  status=$(dpkg -s "$1" 2>/dev/null) || return 1
  [[ $status == *"Status: install ok installed"* ]]
}

wanted=()
python_ok || wanted+=("${PYTHON_PACKAGES[@]}")
if [[ $OSTYPE == linux* ]] && ! command -v bwrap >/dev/null 2>&1; then
  wanted+=("${SANDBOX_PACKAGES[@]}")
fi
[[ $target == test ]] && wanted+=("${TEST_PACKAGES[@]}")
[[ ${#wanted[@]} -gt 0 ]] || exit 0  # `make run` with a good Python and bwrap: nothing to check

if ! command -v dpkg >/dev/null 2>&1; then
  echo "system-packages: not a Debian system (no dpkg). make $target needs the equivalents of" \
    "these Debian packages: ${wanted[*]}" >&2
  exit 1
fi

missing=()
for pkg in "${wanted[@]}"; do
  installed "$pkg" || [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  if ! python_ok; then
    echo "system-packages: $PYTHON is not a Python 3.11+ with venv; set PYTHON=..." >&2
    exit 1
  fi
  exit 0
fi

install=(apt-get install -y -qq "${missing[@]}")
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  sudo=
  [[ $(id -u) == 0 ]] || sudo="sudo "
  echo "system-packages: make $target needs Debian packages that are not installed:" \
    "${missing[*]}" >&2
  echo "Install them, then run make $target again:" >&2
  echo "  ${sudo}apt-get install -y ${missing[*]}" >&2
  exit 1
fi

if [[ $dry_run == 1 ]]; then
  echo "would run: DEBIAN_FRONTEND=noninteractive ${install[*]}"
  echo "  (after apt-get update -qq if apt's package lists do not have them yet)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "system-packages: installing ${missing[*]}"
# Fresh images ship without package lists: update only when the install cannot find a package.
"${install[@]}" >/dev/null 2>&1 || { apt-get update -qq && "${install[@]}" >/dev/null; }
