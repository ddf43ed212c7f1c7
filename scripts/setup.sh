#!/usr/bin/env bash
# Set up a fresh Debian machine for chainoftrust: Debian packages for the real-TPM
# tests (swtpm, swtpm-tools, tpm2-tools) and a virtual environment in .venv with the
# project and its test dependencies. Idempotent; needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

want_debian="${CHAINOFTRUST_DEBIAN:-1}"
if [ "$want_debian" = "1" ]; then
  missing=()
  for tool in swtpm swtpm_ioctl swtpm_setup tpm2_pcrextend tpm2_pcrread tpm2_startup; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing swtpm swtpm-tools tpm2-tools (missing: ${missing[*]})"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends swtpm swtpm-tools tpm2-tools </dev/null
  fi
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  # Debian's python3 has no venv/ensurepip until python3-venv is installed
  if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1 && command -v apt-get >/dev/null; then
    echo "setup: installing python3-venv (python3 -m venv needs it on Debian)"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends python3-venv </dev/null
  fi
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip "setuptools>=77" wheel
.venv/bin/python -m pip install -q -e ".[test]"
echo "setup: done ($(.venv/bin/python --version), $(.venv/bin/chainoftrust --help >/dev/null && echo 'chainoftrust CLI ok'))"
