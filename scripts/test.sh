#!/usr/bin/env bash
# Install forkvet and its dev dependencies, then run every check the project has: ruff (lint
# and format), mypy (strict) on forkvet/ and bot/, zizmor, the documentation site (mkdocs
# --strict: a broken link or anchor fails), and the whole pytest suite. Extra arguments go to
# pytest. CI runs exactly this (.ci/run).
#
# What it installs, and where (printed before anything is installed):
#   - $FORKVET_TEST_VENV (default .venv): forkvet as an editable install with its dev extras,
#     and torch 2.13.0 (its CPU build where one can be had) when no torch is there. Point it
#     elsewhere to keep a quick-start .venv as it is: FORKVET_TEST_VENV=.venv-dev scripts/test.sh
#   - tests/github/node_modules: GitHub's OpenAPI description and webhook examples (npm ci).
#   - redis-server and bubblewrap, system-wide with apt-get, only those missing from PATH,
#     only when run as root with apt-get and FORKVET_TEST_APT is not 0 (else the Redis queue
#     test and the sandbox's hostile tests are skipped; the fail-closed tests still run).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=${FORKVET_TEST_VENV:-.venv}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "forkvet needs Python 3.11+")'

apt_pkgs=""
if [ "${FORKVET_TEST_APT:-1}" != 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  command -v redis-server >/dev/null 2>&1 || apt_pkgs="redis-server"
  command -v bwrap >/dev/null 2>&1 || apt_pkgs="$apt_pkgs bubblewrap"
fi
echo "scripts/test.sh installs: forkvet -e '.[dev]' (and torch if missing) into $VENV;" \
  "npm packages into tests/github/node_modules" \
  "$([ -n "$apt_pkgs" ] && echo "; system-wide with apt-get:$apt_pkgs (FORKVET_TEST_APT=0 skips it)")"

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
# The training check trains a real (tiny) PyTorch model on the CPU; 2.13.0 is the release the
# suite is tested with. Its CPU build, where one can be had: PyTorch's default Linux build
# brings ~5 GB of CUDA libraries that every test environment would copy. First from the
# user's own pip configuration (a mirror that serves CPU builds), then through uv's
# --torch-backend (PyTorch's own index, which uv knows), else the default build.
# --no-cache-dir: a CUDA build's wheels would stay in pip's cache too (~3 GB more disk).
pip_torch=("$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-cache-dir)
if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  "${pip_torch[@]}" 'torch==2.13.0+cpu' 2>/dev/null ||
    "$VENV/bin/python" -m uv pip install -q --no-cache --python "$VENV/bin/python" \
      --torch-backend cpu 'torch==2.13.0' 2>/dev/null ||
    "${pip_torch[@]}" 'torch==2.13.0'
fi
"$VENV/bin/python" -c 'import torch
build = "CPU build" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build"
print("torch", torch.__version__, f"({build}) for the tests")'

# A real Redis server for the App's shared-queue test, and bubblewrap, the sandbox the
# runtime steps run the repository's code in (installed when we may; else those tests skip).
if [ -n "$apt_pkgs" ]; then
  # shellcheck disable=SC2086  # a list of package names
  (apt-get update -qq && apt-get install -y -qq $apt_pkgs) >/dev/null 2>&1 ||
    echo "note: could not install$apt_pkgs; the tests that need them will be skipped"
fi
command -v redis-server >/dev/null 2>&1 ||
  echo "note: redis-server is not installed; the Redis queue test will be skipped"
command -v bwrap >/dev/null 2>&1 ||
  echo "note: bubblewrap is not installed; the sandbox's hostile tests will be skipped"

# GitHub's own artifacts the App tests validate against (pinned in tests/github/package-lock.json).
(cd tests/github && npm ci --no-audit --no-fund --silent)

"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"
"$VENV/bin/zizmor" --offline --no-progress workflows/forkvet.yml action.yml actions/*/action.yml
# The docs site (mkdocs.yml), built into a temporary folder only to check its links and
# anchors. Not --quiet: mkdocs then hides the warnings --strict counts, and passes.
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
NO_MKDOCS_2_WARNING=1 "$VENV/bin/mkdocs" build --strict --site-dir "$site"
"$VENV/bin/python" -m pytest -q "$@"
