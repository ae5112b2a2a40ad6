"""Run a repository's command as an isolated child: a timeout, a scrubbed environment, output
teed to a log file, and every process it started killed at the end — `setsid` ones too.

What holds (Linux; see docs/runtime.md for the operator's part):
- the child's environment is an allow-list (`scrubbed_env`): the names a training script
  needs (`_PASSED` and the libraries' settings, `library_settings`: exact names, no
  prefix), proxies without their credentials, and the ones the operator passes on purpose
  (`--pass-env`). Any other variable is dropped, whatever its name
  (GIT_CONFIG_VALUE_0 carrying an extraHeader, BEARER, PGPASS, DSN...), and none of the
  runner's workflow-command files (`GITHUB_ENV`, `GITHUB_PATH`, ...) is ever passed;
- the child cannot read forkvet's own environment through `/proc/<pid>/environ`: forkvet wipes
  its initial environment block (kept in its memory since exec) and marks itself
  non-dumpable before it spawns anything;
- forkvet is a child subreaper: a grandchild that double-forks and calls `setsid` is
  re-parented to forkvet instead of init, so the end-of-run sweep finds and kills it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import IO, TextIO

from forkvet import fstree, rx
from forkvet.errors import ForkvetError
from forkvet.escape import visible
from forkvet.runtime import limits, sandbox, tmpstore
from forkvet.runtime.gpu import GpuSampler, GpuStats
from forkvet.runtime.selfisolate import isolate_self as isolate_self  # re-exported
from forkvet.safe_write import open_text_log

# Names that carry credentials on runners and developer machines.
_SECRET_NAME = rx.compile(
    r"TOKEN|SECRET|PASSW(?:OR)?D|CREDENTIAL|PRIVATE_KEY|API_KEY|ACCESS_KEY|AUTH|COOKIE|SESSION|"
    r"WEBHOOK|_PAT$|^PAT$|_KEY$|^NETRC$|_NETRC$|DATABASE_URL|_DSN$|CONNECTION_STRING",
    rx.I,
)
_SECRET_PREFIXES = (
    "AWS_",
    "AZURE_",
    "ARM_CLIENT",
    "GOOGLE_APPLICATION",
    "GOOGLE_CLOUD",
    "CLOUDSDK_",
    "GCP_",
    "GCLOUD_",
    "ALIBABA_CLOUD_",
    "ALICLOUD_",
    "OCI_",
    "IBMCLOUD_",
    "DIGITALOCEAN_",
    "KUBECONFIG",
    "VAULT_",
    "DOCKER_CONFIG",
    "SSH_AUTH_SOCK",
    "ACTIONS_RUNTIME",
    "ACTIONS_ID_TOKEN",
    "ACTIONS_CACHE",
    "ACTIONS_RESULTS",
    "FORKVET_PRIVATE",
    "FORKVET_WEBHOOK",
    "FORKVET_USER_TOKEN",
    "NPM_",
    "PYPI_",
    "TWINE_",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "WANDB_API",
    "KAGGLE_",
)
# The runner's workflow-command files: code that can write them can set env vars, PATH
# entries and outputs for every later step of the job.
RUNNER_FILES = (
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_STATE",
    "RUNNER_TEMP",
)
# What the repository's command may see, by name: nothing else passes. A name here still
# passes only when its value does not look like a credential (a URL with a password).
_PASSED = frozenset(
    (
        "PATH", "HOME", "LANG", "LANGUAGE", "TERM", "TZ", "USER", "LOGNAME", "SHELL",
        "TMPDIR", "TEMP", "TMP", "HOSTNAME", "LD_LIBRARY_PATH", "VIRTUAL_ENV",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        "MPLBACKEND", "MPLCONFIGDIR", "TOKENIZERS_PARALLELISM", "XLA_FLAGS",
        "CI", "GITHUB_ACTIONS", "GITHUB_WORKSPACE", "GITHUB_REPOSITORY",
        "GITHUB_REPOSITORY_OWNER", "GITHUB_SHA", "GITHUB_REF", "GITHUB_REF_NAME",
        "GITHUB_HEAD_REF", "GITHUB_BASE_REF", "GITHUB_EVENT_NAME", "GITHUB_RUN_ID",
        "GITHUB_RUN_NUMBER", "GITHUB_RUN_ATTEMPT", "GITHUB_JOB", "GITHUB_WORKFLOW",
        "GITHUB_ACTOR", "GITHUB_SERVER_URL", "GITHUB_API_URL", "RUNNER_OS", "RUNNER_ARCH",
        "RUNNER_NAME", "RUNNER_DEBUG",
        # an opaque id, no secret: the runner's end-of-job clean-up finds the processes a
        # cancelled job left by it in /proc/<pid>/environ (outside attack, round 16b C2)
        "RUNNER_TRACKING_ID",
        # exact names, never prefixes: HF_HOME_PW is not HF_HOME (outside attack, round 11b)
        "HF_HOME", "HF_HUB_OFFLINE", "HF_DATASETS_CACHE", "HF_DATASETS_OFFLINE",
        "TRANSFORMERS_CACHE", "TRANSFORMERS_OFFLINE", "JAX_PLATFORMS", "CONDA_DEFAULT_ENV",
        "CONDA_PREFIX",
    )
)  # fmt: skip
# The settings of the libraries a training script uses (LC_ALL, PYTHONHASHSEED,
# CUDA_VISIBLE_DEVICES, NCCL_DEBUG): a table of exact names, forkvet/data/passed_env.json.
# No prefix family passes: TORCH_HUB_PASSCODE or XDG_MACAROON reached the command under
# `TORCH_`/`XDG_` because no secret-word list knows every synonym (outside attack, round
# 22b F2); a name not in a table is the operator's to pass (`--pass-env`).


@functools.cache
def library_settings() -> frozenset[str]:
    """Every name of forkvet/data/passed_env.json."""
    text = resources.files("forkvet.data").joinpath("passed_env.json").read_text("utf-8")
    names: dict[str, list[str]] = json.loads(text)["names"]
    return frozenset(n for group in names.values() for n in group)


# Secret words, matched as whole word parts of a name (`_`-separated, digits split off):
# PYTHON_PW and TORCH_HUB_SIG are dropped, PYTHONPATH is not (PATH is no word here).
_SECRET_PARTS = frozenset(
    (
        "PASSPHRASE", "PASSWORD", "PASSWD", "PASS", "PWD", "PW", "SECRET", "SECRETS", "TOKEN",
        "TOKENS", "KEY", "KEYS", "APIKEY", "AUTH", "CRED", "CREDS", "CREDENTIAL",
        "CREDENTIALS", "JWT", "PRIVATE", "SIGNATURE", "SIG", "OTP", "TOTP", "HMAC",
        "COOKIE", "COOKIES", "SESSION", "CERT", "CERTS", "PAT", "DSN", "NETRC", "BEARER",
        "SALT", "PIN", "ACCESS", "LOGIN", "KEYRING", "SSH", "GPG", "GNUPG", "PGP", "WEBHOOK",
    )
)  # fmt: skip
# The same words glued to others inside one part (PYTHONKEYRINGPASSWORD, MKL_APITOKEN): the
# long ones only, which no harmless setting name contains.
_SECRET_INSIDE = rx.compile(
    r"PASSPHRASE|PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|SIGNATURE|COOKIE|SESSION|"
    r"APIKEY|KEYRING|BEARER|WEBHOOK|NETRC",
    rx.I,
)
# Proxies pass with any user:password removed from their URL.
_PROXIES = frozenset(
    v for n in ("http_proxy", "https_proxy", "all_proxy", "no_proxy") for v in (n, n.upper())
)
_PROXY_CREDENTIALS = rx.compile(r"(^|://)[^/\s@]*@")
# A package manager's own settings: kept for the installs forkvet runs itself (a company
# mirror with credentials), never for the repository's code.
_INDEX_CONFIG = rx.compile(r"^(?:UV_|PIP_|CONDA_|MAMBA_)")
# Where uv and pip read the user's config and keep their Pythons: forkvet's own installs keep
# them (the user's index is in ~/.config/uv/uv.toml); the command never gets them (git's
# credential store, gh and keyrings live there too: round 23b F7).
_TOOL_HOMES = frozenset(("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"))
# scheme://user:password@host — a URL that carries a password, whatever the variable's name.
_URL_WITH_PASSWORD = rx.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", rx.I)
# Values that are credentials whatever their name: a URL whose query carries one
# (`?auth=`, `&token=`, a signed URL's `X-Amz-Signature=`), an AWS access key id, and the
# shapes of the common tokens (GitHub, Hugging Face, Slack, a JWT, a PEM private key).
_SECRET_VALUE = rx.compile(
    r"[?&;][\w.-]*(?:pass|pw|pwd|secret|token|key|auth|cred|sig|signature|session|jwt|otp|"
    r"hmac|cookie|code)[\w.-]*=|"
    r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b|"
    r"\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_\w{20,}|\bhf_[A-Za-z0-9]{20,}|"
    r"\bxox[abposr]-[\w-]{10,}|\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.|PRIVATE KEY-----|"
    # GitLab, PyPI, npm, OpenAI-style and Google API keys; an HTTP Authorization value
    # (round 12b F5)
    r"\bglpat-[\w-]{16,}|\bpypi-Ag[\w-]{16,}|\bnpm_[A-Za-z0-9]{20,}|"
    r"\bsk-(?:[a-z]+-)?[A-Za-z0-9_-]{20,}|\bAIza[\w-]{30,}|"
    r"^[ \t]*(?:Basic|Bearer|Token)[ \t]+[A-Za-z0-9+/=._~-]{8,}",
    rx.I,
)
# Any other token is one long word of letters and digits (no list or version; base64's `/`
# and `+` allowed, a path's leading `/`, `.` or `~` not): at least four letter/digit changes
# in both cases, or six in one case with a letter past `f`. Words, versions, hex digests (a
# commit SHA) and device UUIDs have neither.
_TOKEN_SHAPED = rx.compile(r"^[A-Za-z0-9_+=.~/-]{20,}$")
_NOT_HEX = rx.compile(r"[g-zG-Z]")
_UUID = rx.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", rx.I)
TAIL_LINES = 60


def _name_parts(name: str) -> list[str]:
    return [p for p in rx.split(r"[^A-Za-z]+", name.upper()) if p]


def secret_name(name: str) -> bool:
    """Does the name say it holds a credential: a secret word as one of its parts
    (PYTHON_GNUPG_PASSPHRASE, TORCH_HUB_SIG), a long one glued inside a part, or a
    credential family's prefix (AWS_, VAULT_)?"""
    return bool(
        any(
            part in _SECRET_PARTS or part.endswith(("KEY", "KEYS")) or part in ("TOK", "APITOK")
            for part in _name_parts(name)
        )
        or _SECRET_INSIDE.search(name)
        or _SECRET_NAME.search(name)
        or name.upper().startswith(_SECRET_PREFIXES)
    )


def secret_value(value: str) -> bool:
    """Does the value look like a credential: a URL with a password or a query carrying
    one, an AWS access key id, a known token's shape?"""
    return bool(
        _URL_WITH_PASSWORD.search(value) or _SECRET_VALUE.search(value) or _random_token(value)
    )


def _random_token(value: str) -> bool:
    """A long high-entropy word (see _TOKEN_SHAPED)."""
    value = value.strip()
    if len(value) > 4096 or not _TOKEN_SHAPED.match(value) or _UUID.search(value):
        return False
    if value.startswith(("/", ".", "~")):
        return False  # a path
    changes = sum(
        1 for a, b in pairwise(value) if a.isalnum() and b.isalnum() and a.isdigit() != b.isdigit()
    )
    if value.lower() == value or value.upper() == value:
        return changes >= 6 and bool(_NOT_HEX.search(value))  # one case: not a hex digest
    return changes >= (6 if "/" in value else 4)


def is_secret(name: str, value: str) -> bool:
    """Does this variable look like a credential (by its name or its value)?"""
    return secret_name(name) or secret_value(value)


# How uv and pip find credentials besides a URL: a keyring helper, a netrc file.
_CREDENTIAL_HELPERS = ("UV_KEYRING_PROVIDER", "PIP_KEYRING_PROVIDER", "NETRC")
_USERINFO = rx.compile(r"([a-z][a-z0-9+.-]*://)[^/\s@]*@", rx.I)


_INDEX_URL_NAME = rx.compile(
    r"^(?:UV|PIP)_(?:INDEX_URL|DEFAULT_INDEX|INDEX|EXTRA_INDEX_URL|FIND_LINKS|INDEX_\w+)$"
)


def _bare_index(value: str) -> bool:
    """Every URL in the value names a host and at most `/simple/`: nothing in its path or
    query can be a token."""
    for item in rx.split(r"[\s,]+", value.strip()):
        url = item.split("=", 1)[1] if rx.match(r"^[\w-]+=", item) else item  # name=url
        rest = url.split("://", 1)[-1]
        path = rest.split("/", 1)[1] if "/" in rest else ""
        if "?" in url or "#" in url or path.strip("/") not in ("", "simple"):
            return False
    return True


def without_credentials(env: dict[str, str]) -> dict[str, str]:
    """env for an install that builds source releases (a package's own code, with the
    network): every credential goes. Userinfo is cut from every URL
    (`https://user:token@mirror/simple/` -> `https://mirror/simple/`), an index URL with more
    than a host and `/simple/` is not passed at all (uv then uses its default), a name that says
    secret (UV_INDEX_CORP_PASSWORD) or a value that looks like one is dropped, and uv is
    told to use no keyring and no netrc."""
    out: dict[str, str] = {}
    for k, v in env.items():
        if k in _CREDENTIAL_HELPERS or secret_name(k):
            continue
        cleaned = _USERINFO.sub(lambda m: m.group(1), v)
        if _INDEX_URL_NAME.match(k) and not _bare_index(cleaned):
            # A hosted index may carry its token in the path (pypi.fury.io/<token>/...), which
            # no filter tells from a folder: such an index is not handed to a build at all.
            continue
        if not secret_value(cleaned):
            out[k] = cleaned
    out["UV_KEYRING_PROVIDER"] = "disabled"
    out["NETRC"] = os.devnull
    return out


def scrubbed_env(
    extra: dict[str, str] | None = None,
    pass_env: Iterable[str] = (),
    keep_index_config: bool = False,
) -> dict[str, str]:
    """The allow-listed part of the current environment: what a training script needs
    (_PASSED, `library_settings`) whose value does not look like a secret, proxies without their
    credentials, and the operator's pass_env. Everything else is dropped by construction,
    whatever its name.

    pass_env: names the operator passes on purpose (e.g. HF_TOKEN for gated weights).
    keep_index_config: keep UV_*/PIP_*/CONDA_*/MAMBA_* settings even with credentials
    (forkvet's own installs).
    """
    allowed = set(pass_env)
    env: dict[str, str] = {}
    for k, v in os.environ.items():
        if k in allowed:
            env[k] = v
        elif k in RUNNER_FILES:
            continue
        elif keep_index_config and (_INDEX_CONFIG.match(k) or k in _TOOL_HOMES):
            env[k] = v  # forkvet's own installs: uv's uv.toml and Pythons live in the XDG homes
        elif k in _PROXIES:
            cleaned = _PROXY_CREDENTIALS.sub(lambda m: m.group(1), v)
            if not secret_value(cleaned):  # a credential in its query: the proxy is dropped
                env[k] = cleaned
        elif (k in _PASSED or k in library_settings()) and not secret_value(v):
            env[k] = v  # named one by one (TOKENIZERS_PARALLELISM is no token)
    env.update(extra or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@dataclass
class RunResult:
    command: str
    returncode: int | None
    timed_out: bool
    stopped_early: bool
    duration: float
    tail: list[str]
    log: str | None
    gpu_name: str | None = None
    gpu_peak_mib: float | None = None
    line_times: list[float] = field(default_factory=list)
    # Mean GPU utilisation (percent) over the samples taken while the command ran.
    gpu_utilization_mean: float | None = None
    gpu_utilization_samples: int = 0
    # "bubblewrap": the sandbox of forkvet.runtime.sandbox; "none": a scrubbed child only,
    # because the operator opted out where no sandbox was available
    isolation: str = "none"
    # which bounds on processes and memory held (forkvet.runtime.limits); None: unsandboxed
    limits: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process we can see."""
    out: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            out[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


def _descendants(roots: set[int]) -> set[int]:
    parents = _parents()
    found = set(roots) & set(parents)
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def _signal_all(pids: Iterable[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def kill_tree(pid: int, before: set[int]) -> None:
    """Kill the command's process group, every descendant of it, and every process that was
    re-parented to forkvet (the subreaper) during the run: `setsid` does not escape this."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 2.0
    me = os.getpid()
    if not sys.platform.startswith("linux"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        return
    for _ in range(50):
        parents = _parents()
        adopted = {p for p, pp in parents.items() if pp == me and p not in before}
        tree = _descendants({pid} | adopted) - {me}
        alive = {p for p in tree if _alive(p)}
        if not alive:
            break
        if time.monotonic() < deadline:
            time.sleep(0.1)
            continue
        # Freeze first so nothing forks while we collect the rest, then kill.
        _signal_all(alive, signal.SIGSTOP)
        _signal_all(alive, signal.SIGKILL)
        time.sleep(0.05)
    # Reap what was re-parented to us (the command's own pid is Popen's to reap).
    for p in _adopted_children(me, before | {pid}):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(p, os.WNOHANG)


def _adopted_children(me: int, exclude: set[int]) -> set[int]:
    return {p for p, pp in _parents().items() if pp == me and p not in exclude}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
        return state[state.rindex(")") + 2] != "Z"
    except (OSError, ValueError, IndexError):
        return False


def _children_now() -> set[int]:
    if not sys.platform.startswith("linux"):
        return set()
    me = os.getpid()
    return {p for p, pp in _parents().items() if pp == me}


def children_now() -> set[int]:
    """forkvet's children now: what kill_tree must not count as the command's."""
    return _children_now()


def run(
    command: str,
    cwd: Path,
    timeout: float,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
    on_line: Callable[[str], bool] | None = None,
    echo: bool = False,
    pass_env: Iterable[str] = (),
    scratch: Path | None = None,
) -> RunResult:
    """Run a shell command. on_line(line) returning True stops the run early (enough steps).

    log_path: forkvet's log of the output, in the output folder. The command sees a private
    scratch folder at that folder's path (`scratch`, or a fresh one removed afterwards), never
    the real one: what it writes there stays out of everything forkvet publishes."""
    isolate_self()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    start = time.monotonic()
    # Line-buffered: the log can be followed while the command runs.
    log = open_text_log(log_path, repo=cwd) if log_path else None
    before = _children_now()
    # Writable inside the sandbox: the repository (cwd) and a private scratch folder where
    # the output folder is. The environment is read-only (`sandbox.environment_mounts`).
    readable = sandbox.environment_mounts(env)
    with contextlib.ExitStack() as stack:
        stack.enter_context(limits.cpu_time(timeout))  # RLIMIT_CPU from the timeout
        try:
            private_out = None
            if log_path:
                own = scratch if scratch is not None else stack.enter_context(scratch_folder())
                private_out = (own, log_path.parent)
            with sandbox.sandboxed(
                ["/bin/sh", "-c", command], cwd, (), readable, private_out=private_out
            ) as (argv, isolation):
                returncode, timed_out, stopped_early, gpu = _supervise(
                    argv,
                    cwd,
                    scrubbed_env(env, pass_env),
                    timeout,
                    start,
                    before,
                    tail,
                    log,
                    echo,
                    on_line,
                    masked_values(pass_env),
                )
        finally:
            if log:
                with contextlib.suppress(OSError):  # a full disk: what was written stays
                    log.close()
            if log_path:
                # without the sandbox (the operator's opt-out) the command saw the real folder
                drop_non_files(log_path.parent)
    duration = time.monotonic() - start
    return RunResult(
        command,
        returncode,
        timed_out,
        stopped_early,
        duration,
        list(tail),
        str(log_path) if log_path else None,
        gpu.name,
        gpu.peak_mib,
        isolation=isolation,
        limits=limits.describe() if isolation == sandbox.ISOLATED else None,
        gpu_utilization_mean=gpu.utilization_mean,
        gpu_utilization_samples=gpu.utilization_samples,
    )


def masked_values(pass_env: Iterable[str]) -> Callable[[str], str]:
    """A line with every value of the operator's --pass-env names (4 characters or more)
    shown as `***`, as GitHub masks a secret in a step's log: the log, the tail and the
    summary are published, and under --no-network they were the command's way out (outside
    attack, round 23b F10). Encoded forms of a value are not caught (the command sees it)."""
    values = sorted(
        {v for n in pass_env if len(v := os.environ.get(n, "")) >= 4}, key=len, reverse=True
    )
    if not values:
        return str

    def mask(line: str) -> str:
        for value in values:
            line = line.replace(value, "***")
        return line

    return mask


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private folder the command sees in place of the output folder; removed afterwards,
    whatever modes and links the command left in it. On a disk (`tmpstore`): forkvet reads
    it after the run, so it cannot be a tmpfs inside the sandbox; without a disk's folder the
    command does not start (round 21b F9)."""
    folder = Path(tmpstore.private_folder("forkvet-out-"))  # on a disk, or NoDiskFolder
    try:
        yield folder
    finally:
        sandbox.remove_private(folder)


def drop_non_files(folder: Path) -> list[str]:
    """Remove what the command left in the output folder that is not a plain file or folder:
    a symlink (`x.log -> /proc/self/environ`) or a FIFO there would be followed by whatever
    reads the folder next, unsandboxed (the artifact upload, `forkvet report`, the App). The
    walk goes by folder descriptors (`fstree.walk_fds`: any depth, past PATH_MAX too); a
    folder it cannot vouch for is an error, never skipped. Returns the names removed."""
    removed = []
    try:
        for entry in fstree.walk_fds(folder):
            mode = entry.st.st_mode
            if entry.depth and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.name, dir_fd=entry.dir_fd)
                    removed.append(entry.name)
    except fstree.WalkError as exc:
        raise ForkvetError(f"could not sweep the output folder {folder}: {exc}") from exc
    return removed


def _supervise(
    argv: list[str],
    cwd: Path,
    child_env: dict[str, str],
    timeout: float,
    start: float,
    before: set[int],
    tail: deque[str],
    log: TextIO | None,
    echo: bool,
    on_line: Callable[[str], bool] | None,
    mask: Callable[[str], str] = str,
) -> tuple[int | None, bool, bool, GpuStats]:
    """Run argv until it ends, times out or on_line says stop; then kill its whole tree.
    (exit code or None, timed out, stopped early, what the GPU sampler saw)"""
    sampler = GpuSampler()
    sampler.start()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    stop = threading.Event()
    reader = threading.Thread(
        target=_read_lines, args=(proc.stdout, stop, tail, log, echo, on_line, mask), daemon=True
    )
    reader.start()
    try:
        timed_out = _wait(proc, stop, start, timeout)
        stopped_early = stop.is_set() and proc.poll() is None
    finally:
        gpu = sampler.stop()
        # Kill the whole tree: the command's children (data loaders, servers, daemons) go too;
        # also when forkvet itself is stopped (SIGTERM, Ctrl-C unwind through here: round 23b F1).
        kill_tree(proc.pid, before)
        proc.wait()
    reader.join(timeout=5)
    returncode = None if (timed_out or stopped_early) else proc.returncode
    return returncode, timed_out, stopped_early, gpu


MAX_LINE_BYTES = 1 << 20  # one output line held in memory at most
MAX_LOG_WRITTEN = 256 << 20  # a run's log file (uploaded as an artifact) at most


def _read_lines(
    stream: IO[bytes],
    stop: threading.Event,
    tail: deque[str],
    log: TextIO | None,
    echo: bool,
    on_line: Callable[[str], bool] | None,
    mask: Callable[[str], str] = str,
) -> None:
    """Every non-blank line of the output into the tail and the log (`mask`ed: the operator's
    --pass-env values never reach either); set stop when on_line
    says the run has enough. The command's output is hostile input: a line is read at most
    MAX_LINE_BYTES at a time (a longer one is cut into pieces), and the log keeps the first
    MAX_LOG_WRITTEN bytes (each line as forkvet.escape.visible shows it), then one line saying
    the rest was not kept; the output is still drained to its end."""
    written = 0
    for raw in iter(lambda: stream.readline(MAX_LINE_BYTES), b""):
        # tqdm redraws with \r: each redraw is a line for loss parsing.
        for line in raw.decode("utf-8", "replace").replace("\r", "\n").splitlines():
            if not line.strip():
                continue
            line = mask(line)
            tail.append(line)
            if log and written <= MAX_LOG_WRITTEN:
                # the log is uploaded and read with cat or less: its terminal escapes, bidi
                # and other invisible characters are shown, never acting (tabs kept)
                shown = visible(line, keep="\t")
                written += len(shown) + 1
                try:
                    log.write(
                        shown + "\n"
                        if written <= MAX_LOG_WRITTEN
                        else f"[forkvet: the log stops here; output past {MAX_LOG_WRITTEN >> 20}"
                        " MiB was read but not kept]\n"
                    )
                except OSError:
                    # a full disk (the command may fill it on purpose): the log stops, the
                    # output is still drained and the run ends as it would
                    written = MAX_LOG_WRITTEN + 1
            if echo:
                print(line, flush=True)
            if on_line and not stop.is_set() and _heard(on_line, line):
                stop.set()


def _heard(on_line: Callable[[str], bool], line: str) -> bool:
    """on_line's answer; a listener that fails on a line never stops the output's drain (the
    command would block on a full pipe until its timeout)."""
    try:
        return on_line(line)
    except Exception:
        return False


def _wait(
    proc: subprocess.Popen[bytes], stop: threading.Event, start: float, timeout: float
) -> bool:
    """Until the process ends or stop is set; True when the run's time ran out first."""
    while True:
        try:
            proc.wait(timeout=0.2)
            return False
        except subprocess.TimeoutExpired:
            if stop.is_set():
                return False
            if time.monotonic() - start > timeout:
                return True
