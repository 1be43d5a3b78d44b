#!/usr/bin/env bash
# Set up everything smartzone needs on a Debian/Ubuntu machine with Python 3.11+:
# system packages (as root, or through sudo when available) and a virtualenv in .venv
# with the project and all its extras. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# mosquitto: the embedded/test broker; fonts: Chinese on kiosk screens and receipts, the kiosk's icons (emoji);
# chromium: browser tests of the staff console; espeak-ng: spoken prompts; the rest: Qt offscreen.
APT_PACKAGES=(mosquitto fonts-wqy-microhei fonts-noto-color-emoji chromium chromium-driver espeak-ng
              libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 python3-venv)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="$(command -v sudo || true)"
  if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
    echo "setup: installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: not root and no sudo: please install ${missing[*]} (the demo falls back to a pure-Python broker)" >&2
  fi
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: Python 3.11 or newer is needed (found $("$PYTHON" --version))" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev,postgres,face]'
  touch "$stamp"
fi
