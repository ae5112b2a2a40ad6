#!/usr/bin/env bash
# Install forkvet and its dev dependencies into .venv, then run every check the project has:
# ruff (lint and format), mypy (strict) on forkvet/ and bot/, and the whole pytest suite. Extra arguments go to
# pytest. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "forkvet needs Python 3.11+")'
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
# The training check trains a real (tiny) PyTorch model on the CPU. torch comes from the
# user's own pip configuration; 2.13.0 is the release the suite is tested with.
.venv/bin/python -c 'import torch' 2>/dev/null ||
  .venv/bin/python -m pip install -q --disable-pip-version-check 'torch==2.13.0'

# A real Redis server for the App's shared-queue test (installed when we may; else skipped).
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq redis-server) >/dev/null 2>&1 ||
      echo "note: could not install redis-server; the Redis queue test will be skipped"
  else
    echo "note: redis-server is not installed; the Redis queue test will be skipped"
  fi
fi

# GitHub's own artifacts the App tests validate against (pinned in tests/github/package-lock.json).
(cd tests/github && npm ci --no-audit --no-fund --silent)

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/zizmor --offline --no-progress workflows/forkvet.yml action.yml actions/*/action.yml
.venv/bin/python -m pytest -q "$@"
