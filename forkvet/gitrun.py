"""Every git command forkvet runs, with the repository's configuration unable to run programs.

A repository's `.git/config` can name programs git runs on its own (core.fsmonitor,
gpg.program with log.showSignature, core.pager, core.sshCommand, diff.external, textconv and
filter drivers, merge drivers, remote.*.uploadpack, hooks). forkvet never trusts them:

- system and global configuration are off (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null);
  the user's own `safe.directory` entries are carried over, so git's ownership check keeps
  working the way the user set it up — forkvet never switches it off;
- every key that names a program is overridden through GIT_CONFIG_COUNT (command-line scope,
  which beats the repository's own config), including each driver the repository's config
  defines (`filter.X.smudge`, `diff.X.textconv`, `merge.X.driver`, `remote.X.uploadpack`);
- hooks, replace objects, the ext:: transport, prompts, pagers and editors are off;
- a token travels as an http.extraHeader in the environment, never on the command line.

For a local folder, git runs in place rather than on a `--no-local` clone (which would copy the
whole object store of a large repository): the commands forkvet runs there read refs, objects
and config only, and with every program-naming key overridden none of them can start a program.
"""

from __future__ import annotations

import base64
import functools
import os
import subprocess
from pathlib import Path

from forkvet import hostpaths, rx
from forkvet.errors import InputError

# Inherited variables that would point git at another repository or config.
_DROP = rx.compile(
    r"^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|COMMON_DIR|"
    r"NAMESPACE|CEILING_DIRECTORIES|CONFIG|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\d+|"
    r"CONFIG_VALUE_\d+|CONFIG_SYSTEM|CONFIG_GLOBAL|EXTERNAL_DIFF|PAGER|EDITOR|"
    r"SEQUENCE_EDITOR|ASKPASS|EXEC_PATH|TEMPLATE_DIR|REPLACE_REF_BASE|PROXY_COMMAND)$"
)
NEUTRAL: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("core.editor", "true"),
    ("core.askPass", ""),
    ("core.gitProxy", ""),
    ("core.alternateRefsCommand", ""),
    ("core.untrackedCache", "false"),
    ("diff.external", ""),
    ("credential.helper", ""),
    ("gpg.program", "false"),
    ("gpg.ssh.program", "false"),
    ("gpg.x509.program", "false"),
    ("gpg.ssh.defaultKeyCommand", ""),
    ("log.showSignature", "false"),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("protocol.ext.allow", "never"),
    ("protocol.git.allow", "never"),
    ("submodule.recurse", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("filter.lfs.smudge", ""),
    ("filter.lfs.process", ""),
    ("filter.lfs.required", "false"),
)
# Per-driver keys a repository can define under any name.
_DRIVER_KEY = rx.compile(
    r"^(?:(filter)\.(.+)\.(clean|smudge|process|required)|(diff)\.(.+)\.(textconv|command)|"
    r"(merge)\.(.+)\.(driver)|(remote)\.(.+)\.(uploadpack|receivepack))$",
    rx.I,
)
_DRIVER_VALUE = {
    "required": "false",
    "uploadpack": "git-upload-pack",
    "receivepack": "git-receive-pack",
}
_DUBIOUS = "detected dubious ownership"
TIMEOUT_S = 600


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _DROP.match(k)}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_NO_REPLACE_OBJECTS": "1",
            # git >= 2.45: never fetch a partial clone's missing objects (older git: forkvet
            # refuses such repositories before running git, see snapshot.git_refusal)
            "GIT_NO_LAZY_FETCH": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "true",
            "SSH_ASKPASS": "true",
            "GIT_PAGER": "cat",
            "PAGER": "cat",
            "GIT_EDITOR": "true",
            "GIT_SEQUENCE_EDITOR": "true",
            "GIT_LFS_SKIP_SMUDGE": "1",
            "GIT_ATTR_NOSYSTEM": "1",
            "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND") or "ssh",
            "LC_ALL": "C",
        }
    )
    return env


@functools.cache
def _user_safe_directories() -> tuple[str, ...]:
    """The user's own safe.directory entries (system and global config only, never a
    repository's)."""
    env = {k: v for k, v in os.environ.items() if not _DROP.match(k) or k == "GIT_CONFIG_GLOBAL"}
    found: list[str] = []
    for scope in ("--system", "--global"):
        try:
            proc = subprocess.run(
                [hostpaths.program("git"), "config", scope, "--get-all", "safe.directory"],
                cwd="/",
                env=env,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        found += [ln for ln in proc.stdout.splitlines() if ln]
    return tuple(found)


def _repo_drivers(repo: Path) -> list[tuple[str, str]]:
    """Overrides for every driver the repository's own config defines (reading config runs
    nothing). Cached while the repository's config file is unchanged: forkvet runs many git
    commands in one repository (upstream drafts: several per commit)."""
    try:
        st = (repo / ".git" / "config").stat()
    except OSError:
        return list(_read_drivers(repo))
    return list(_cached_drivers(str(repo), (st.st_ino, st.st_size, st.st_mtime_ns)))


@functools.lru_cache(maxsize=64)
def _cached_drivers(repo: str, stamp: tuple[int, int, int]) -> tuple[tuple[str, str], ...]:
    del stamp  # part of the cache key only
    return _read_drivers(Path(repo))


def _read_drivers(repo: Path) -> tuple[tuple[str, str], ...]:
    try:
        proc = subprocess.run(
            [hostpaths.program("git"), "-C", str(repo), "config", "--list", "--name-only"],
            env=_with_config(_base_env(), _neutral()),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    if _DUBIOUS in proc.stderr:
        raise _ownership_error(repo)
    out = []
    for name in dict.fromkeys(proc.stdout.splitlines()):
        m = _DRIVER_KEY.match(name)
        if m:
            last = name.rsplit(".", 1)[1].lower()
            out.append((name, _DRIVER_VALUE.get(last, "")))
    return tuple(out)


def _neutral() -> list[tuple[str, str]]:
    return [*NEUTRAL, *(("safe.directory", d) for d in _user_safe_directories())]


def _with_config(env: dict[str, str], pairs: list[tuple[str, str]]) -> dict[str, str]:
    env = dict(env)
    env["GIT_CONFIG_COUNT"] = str(len(pairs))
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def auth_header(token: str) -> tuple[str, str]:
    """The http.extraHeader that sends token (GitHub's x-access-token basic auth)."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return ("http.extraHeader", f"Authorization: Basic {basic}")


def git_env(
    repo: Path | None = None, token: str | None = None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment for one git command (in repo, if given)."""
    pairs = _neutral()
    if repo is not None and repo.exists():
        pairs += _repo_drivers(repo)
    if token:
        pairs.append(auth_header(token))
    return _with_config({**_base_env(), **(extra or {})}, pairs)


def _ownership_error(repo: Path) -> InputError:
    return InputError(
        f"{repo} belongs to another user and git refuses to read it; vet a copy you own "
        f"(cp -r), or run forkvet as its owner"
    )


def run_git(
    args: list[str],
    repo: Path | None = None,
    cwd: Path | None = None,
    token: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """git args (with `-C repo` if repo is given), never raising on a git failure except when
    git refuses the repository for its owner (InputError)."""
    cmd = [hostpaths.program("git"), *(["-C", str(repo)] if repo is not None else []), *args]
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=git_env(repo, token, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0 and _DUBIOUS in proc.stderr:
        raise _ownership_error(repo or cwd or Path.cwd())
    return proc
