#!/usr/bin/env bash
# ./run.sh demo [demo options]   set up, then run the whole smart service zone on embedded defaults
# ./run.sh test [pytest options] set up, then run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"
what="${1:-}"; shift || true
bash scripts/setup.sh
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
case "$what" in
  demo) exec .venv/bin/smartzone demo "$@" ;;
  test)
    .venv/bin/ruff check .
    .venv/bin/lint-imports
    exec .venv/bin/python -m pytest "$@" ;;
  *) echo "usage: ./run.sh demo|test [options]" >&2; exit 2 ;;
esac
