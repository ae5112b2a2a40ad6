#!/usr/bin/env bash
# Install forkvet (this checkout of the action) into its own virtual environment, separate
# from the model's environment.
#
# The working directory is usually the vetted repository's checkout, whose uv.toml /
# pyproject.toml [tool.uv] would otherwise choose the index forkvet's own dependencies come
# from: uv runs from a fresh folder with every configuration file ignored (UV_NO_CONFIG), and
# takes the runner's index only from its environment (UV_INDEX_URL / UV_DEFAULT_INDEX /
# UV_EXTRA_INDEX_URL, or pip's PIP_INDEX_URL / PIP_EXTRA_INDEX_URL, which uv does not read).
#
# Later steps of the job run forkvet from this venv with the step's secrets, after the
# repository's code ran: the venv is reused only when every file is as this script left it.
#   - files are copied from uv's cache (never hard-linked: a link would share its file with
#     the cache and with every other environment installed from it), from a cache of
#     forkvet's own that no sandboxed install writes;
#   - byte code is compiled at install, so running forkvet changes no file;
#   - a manifest (sha256 of every file, the target of every link) is kept beside the venv,
#     in RUNNER_TEMP, which the sandbox hides (the venv read-only); a venv that differs from it is
#     removed and installed again.
set -euo pipefail
# No program of the checkout: uv, find, sha256sum and later forkvet itself come only from
# absolute PATH entries outside the workspace (an empty entry is the current folder, the
# checkout; an activated in-checkout .venv/bin is one the sandboxed command writes), and later
# steps start forkvet by the absolute path written to GITHUB_ENV (FORKVET_PROGRAM), never by
# a PATH lookup (outside attack, round 20b F4).
safe_path=""
IFS=: read -ra entries <<< "${PATH:-}"
for entry in "${entries[@]}"; do
  case "$entry" in "" | [!/]*) continue ;; esac
  ws="${GITHUB_WORKSPACE:-}"
  if [ -n "$ws" ] && { [ "$entry" = "$ws" ] || [ "${entry#"$ws"/}" != "$entry" ]; }; then
    continue
  fi
  safe_path="${safe_path:+$safe_path:}$entry"
done
export PATH="${safe_path:-/usr/bin:/bin}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="${RUNNER_TEMP:-/tmp}"
venv="$tmp/forkvet-venv"
manifest="$tmp/forkvet-venv.manifest"
export UV_NO_CONFIG=1
export UV_LINK_MODE=copy
export UV_CACHE_DIR="${RUNNER_TOOL_CACHE:-$tmp}/forkvet-uv-cache"
if [ -z "${UV_INDEX_URL:-}${UV_DEFAULT_INDEX:-}" ] && [ -n "${PIP_INDEX_URL:-}" ]; then
  export UV_DEFAULT_INDEX="$PIP_INDEX_URL"
fi
if [ -z "${UV_EXTRA_INDEX_URL:-}${UV_INDEX:-}" ] && [ -n "${PIP_EXTRA_INDEX_URL:-}" ]; then
  export UV_INDEX="$PIP_EXTRA_INDEX_URL"
fi

# Every file with its hash, every link with its target, every folder: sorted, one per line.
describe() {
  (
    cd "$1"
    export LC_ALL=C
    find . -type l -printf 'link %p -> %l\n'
    find . -type d -printf 'dir %p\n'
    find . -type f -print0 | xargs -0 -r sha256sum | sed 's/^/file /'
    find . ! -type f ! -type d ! -type l -printf 'other %p\n'
  ) | LC_ALL=C sort
}

if [ -x "$venv/bin/forkvet" ] && [ -f "$manifest" ] && describe "$venv" | cmp -s - "$manifest"; then
  echo "forkvet: reusing $venv (every file as installed)"
else
  if [ -e "$venv" ] || [ -e "$manifest" ]; then
    echo "::warning title=forkvet::forkvet's environment changed since it was installed: installing it again"
  fi
  rm -rf "$venv" "$manifest"
  work="$(mktemp -d "$tmp/forkvet-install.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (
    cd "$work"
    uv venv --quiet --python "${FORKVET_PYTHON:-3.12}" "$venv"
    uv pip install --quiet --compile-bytecode --python "$venv/bin/python" "${root}[runtime]"
  )
  describe "$venv" > "$manifest"
fi
if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$venv/bin" >> "$GITHUB_PATH"
fi
if [ -n "${GITHUB_ENV:-}" ]; then
  echo "FORKVET_PROGRAM=$venv/bin/forkvet" >> "$GITHUB_ENV"
fi
mkdir -p "$tmp/forkvet"
