#!/usr/bin/env bash
# Install forkvet (this checkout of the action) into its own virtual environment, separate
# from the model's environment.
#
# The working directory is usually the vetted repository's checkout, whose uv.toml /
# pyproject.toml [tool.uv] would otherwise choose the index forkvet's own dependencies come
# from: uv runs from a fresh folder with every configuration file ignored (UV_NO_CONFIG), and
# takes the runner's index only from its environment (UV_INDEX_URL / UV_DEFAULT_INDEX /
# UV_EXTRA_INDEX_URL, or pip's PIP_INDEX_URL / PIP_EXTRA_INDEX_URL, which uv does not read).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="${RUNNER_TEMP:-/tmp}"
venv="$tmp/forkvet-venv"
export UV_NO_CONFIG=1
if [ -z "${UV_INDEX_URL:-}${UV_DEFAULT_INDEX:-}" ] && [ -n "${PIP_INDEX_URL:-}" ]; then
  export UV_DEFAULT_INDEX="$PIP_INDEX_URL"
fi
if [ -z "${UV_EXTRA_INDEX_URL:-}${UV_INDEX:-}" ] && [ -n "${PIP_EXTRA_INDEX_URL:-}" ]; then
  export UV_INDEX="$PIP_EXTRA_INDEX_URL"
fi
work="$(mktemp -d "$tmp/forkvet-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
if [ ! -x "$venv/bin/forkvet" ]; then
  uv venv --quiet --python "${FORKVET_PYTHON:-3.12}" "$venv"
  uv pip install --quiet --python "$venv/bin/python" "${root}[runtime]"
fi
echo "$venv/bin" >> "$GITHUB_PATH"
mkdir -p "$tmp/forkvet"
