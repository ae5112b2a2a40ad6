"""The repository's command in its own PID and mount namespace (Linux, util-linux `unshare`).

forkvet wipes its own environment block, but the processes that started it — the CI step's
shell, the runner, the user's terminal — hold secrets and the paths of the runner's
workflow-command files in their `/proc/<pid>/environ`, readable by any process of the same
user. In a new PID namespace with its own `/proc`, the model's code sees only its own
processes; its ancestors are invisible. In the same private mount namespace, the step's
command files (GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE) are
covered by /dev/null, so writes to them go nowhere. When the namespace init exits, the kernel
kills everything left in the namespace: `setsid` and double-forks cannot outlive the run.

Not root: a user namespace maps the caller to root inside (`--map-root-user`), which needs
unprivileged user namespaces (some distributions switch them off — then the command runs
without a namespace and the result says so: `isolation: process`).
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterable

COMMAND_FILES = (
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_STATE",
)
# Mount what must be hidden, then become the command; "$@" keeps paths and the command
# exactly as given (no quoting by string building).
_INNER = (
    'cmd=$1; shift; for f in "$@"; do mount --bind /dev/null "$f" 2>/dev/null || '
    '{ echo "forkvet: could not hide $f from the command" >&2; exit 97; }; done; '
    'exec /bin/sh -c "$cmd"'
)


def _flags() -> list[str]:
    flags = ["--pid", "--fork", "--mount-proc", "--kill-child"]
    if os.geteuid() != 0:
        flags = ["--user", "--map-root-user", *flags]
    return flags


@functools.cache
def available() -> bool:
    """Whether this machine lets forkvet start a PID + mount namespace (probed once)."""
    if os.environ.get("FORKVET_NO_SANDBOX") or not shutil.which("unshare"):
        return False
    try:
        proc = subprocess.run(
            ["unshare", *_flags(), "/bin/sh", "-c", "test -r /proc/1/stat"],
            capture_output=True,
            timeout=10,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def hidden_files(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    return [
        os.path.realpath(env[name])
        for name in COMMAND_FILES
        if env.get(name) and os.path.isfile(env[name])
    ]


def wrap(command: str, hide: Iterable[str] = ()) -> tuple[list[str], str]:
    """argv that runs `command` (a shell command line), and the isolation it gets."""
    if not available():
        return ["/bin/sh", "-c", command], "process"
    unshare = shutil.which("unshare") or "unshare"
    return (
        [unshare, *_flags(), "/bin/sh", "-c", _INNER, "forkvet-sandbox", command, *hide],
        "namespace",
    )


def wrap_argv(argv: list[str], hide: Iterable[str] | None = None) -> list[str]:
    """The same for a program and its arguments (the import check, installs that run the
    repository's build)."""
    files = hidden_files() if hide is None else list(hide)
    wrapped, isolation = wrap(shlex.join(argv), files)
    return argv if isolation == "process" else wrapped
