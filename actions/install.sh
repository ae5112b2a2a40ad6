#!/usr/bin/env bash
# Install forkvet (this checkout of the action) into its own virtual environment, separate
# from the model's environment. Uses the runner's uv configuration (its index or mirror).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${RUNNER_TEMP:-/tmp}/forkvet-venv"
if [ ! -x "$venv/bin/forkvet" ]; then
  uv venv --quiet --python "${FORKVET_PYTHON:-3.12}" "$venv"
  uv pip install --quiet --python "$venv/bin/python" "${root}[runtime]"
fi
echo "$venv/bin" >> "$GITHUB_PATH"
mkdir -p "${RUNNER_TEMP:-/tmp}/forkvet"
