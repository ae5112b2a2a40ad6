"""One Python environment per repository and requirements, shared by every runtime step.

`forkvet env --verify`, `smoke`, `train-check` and `notebooks` all call `prepare`: whichever runs
first builds the environment, the others reuse it. Environments live outside the working tree,
in a cache folder (`--env-dir`, else `FORKVET_ENV_DIR`, else `$XDG_CACHE_HOME/forkvet/envs`),
one folder per key: a hash of the repository's path, its requirements, its build files, the
Python asked for and the device. The repository's own package is installed editable with no
dependencies and no build isolation (its build runs here, which is a runtime step, with a
scrubbed environment), or put on PYTHONPATH when it has no build files or will not build.

uv installs wheels only, with the user's own uv configuration (their index or mirror): no
package's code runs while the environment is built. A source release is built only when the
operator allows it (`--allow-build`, or a pin `forkvet env` disclosed as built from source),
by a second install that holds no index credential (`_install_requirements`). The whole build
ends within an install budget (`--install-timeout`), killed with all it started. PyTorch's
CPU or CUDA builds are chosen with uv's `--torch-backend` (`cpu` without a GPU, `auto` with
one), unless the user set `UV_TORCH_BACKEND` themselves or `FORKVET_TORCH_BACKEND=none` (a
mirror that serves the right builds itself).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement

from forkvet import envsize, fstree, hostpaths, rx, safeparse
from forkvet.config import Config
from forkvet.envgen.stamp import ENV_STAMP
from forkvet.envgen.stamp import source_fingerprint as source_fingerprint
from forkvet.envgen.uv import NETWORK_ERROR as _NETWORK
from forkvet.envgen.uv import plain_requirement
from forkvet.envkey import UNREAD, installed_content, workflow_checkout
from forkvet.errors import ForkvetError, InputError
from forkvet.escape import terminal
from forkvet.runtime import sandbox, venvstart
from forkvet.runtime.process import (
    children_now,
    isolate_self,
    kill_tree,
    scrubbed_env,
    without_credentials,
)
from forkvet.snapshot import MAX_TEXT_BYTES, Snapshot, enclosing_git_info

# bump when the layout of an environment changes (2: the record beside the folder; 3: read-only
# to the command, keyed by the content its install reads: an older one may hold what a
# command planted, round 20b F2)
FORMAT = 3
# The install budget: a whole environment build (every uv call of it, builds included) ends
# by this many seconds, or is killed with everything it started (--install-timeout lowers it).
INSTALL_TIMEOUT = 1800
NO_WHEEL = "forkvet does not build source releases unless you pass --allow-build"
BUILD_FILES = ("setup.py", "setup.cfg", "pyproject.toml")
REQUIREMENTS = ("requirements.txt", "requirements/base.txt", "requirements/requirements.txt")
# The record of a built environment is kept BESIDE its folder (`<folder>.json`), never in it:
# the repository's code may write the environment's folder, and nothing it can write may
# decide a path, an interpreter or a mount of a later step.
RECORD_SUFFIX = ".json"
# Files are copied out of uv's cache, never hard-linked: the repository's code may write its
# environment, and a hard link would let it change the cached file every later install reuses.
_COPY = ("--link-mode", "copy")
DEVICES = ("cpu", "cuda")
# Requirement-file options that would let the repository choose the index or a local path.
_DROP_OPTION = rx.compile(
    r"^\s*(?:-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host|--no-index|"
    r"-c|--constraint|--pre|--prefer-binary|--only-binary|--no-binary)\b"
)
_EDITABLE_SELF = rx.compile(r"^\s*(?:-e\s+|--editable[\s=]+)?(?:\.|\./|\.\[[^\]]*\])\s*$")
_INCLUDE = rx.compile(r"^\s*(?:-r|--requirement)[\s=]+(\S+)")


class EnvironmentTimedOut(ForkvetError):
    """The environment did not build within its install budget."""


# (deadline on time.monotonic(), budget in seconds) of the build under way, set by prepare().
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("forkvet_install", default=None)


def _remaining() -> float:
    """Seconds left of the install budget; EnvironmentTimedOut once none is."""
    found = _DEADLINE.get()
    if found is None:
        return INSTALL_TIMEOUT  # one call outside prepare() (add_packages): the budget alone
    left = found[0] - time.monotonic()
    if left <= 0:
        raise _timed_out()
    return left


def _timed_out() -> EnvironmentTimedOut:
    found = _DEADLINE.get()
    budget = found[1] if found else INSTALL_TIMEOUT
    return EnvironmentTimedOut(
        f"timed out: the environment did not build within {budget:g} s (the install "
        f"budget; --install-timeout): every process of the build was killed"
    )


@dataclass
class Environment:
    python: str
    path: str | None  # None for an interpreter given with --python
    key: str | None
    device: str
    requirements: str | None
    own_package: str  # how the repository's own code is importable
    reused: bool = False
    built_seconds: float | None = None
    notes: list[str] = field(default_factory=list)
    pythonpath: str | None = None
    # why the folder was removed after a run instead of kept (`settle`); None: kept
    removed: str | None = None

    def child_env(self) -> dict[str, str]:
        """Variables that make `python` mean this environment in a command."""
        bindir = str(Path(self.python).parent)
        env = {"PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
        if self.path:
            env["VIRTUAL_ENV"] = self.path
        if self.pythonpath:
            old = os.environ.get("PYTHONPATH")
            env["PYTHONPATH"] = self.pythonpath + (os.pathsep + old if old else "")
        return env

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def env_root(cli_value: str | None = None) -> Path:
    """The folder of environments; every sandbox sees it empty but for its own environment
    (`sandbox.hide_folder`: the other environments' locks are out of its reach)."""
    if cli_value:
        root = Path(cli_value).expanduser().absolute()
    elif os.environ.get("FORKVET_ENV_DIR"):
        root = Path(os.environ["FORKVET_ENV_DIR"]).expanduser().absolute()
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(cache) / "forkvet" / "envs"
    sandbox.hide_folder(root)
    hostpaths.guard(root)  # environments are writable: no program forkvet runs comes from them
    return root


def detect_device() -> str:
    from forkvet.runtime.gpu import query

    return "cuda" if query() else "cpu"


def choose_device(requested: str | None) -> str:
    if requested in (None, "", "auto"):
        return detect_device()
    if requested not in DEVICES:
        raise InputError(f"--device {requested!r}: choose cpu or cuda")
    return requested


def torch_backend(device: str) -> str | None:
    """uv's --torch-backend for this device, or None when the user decides it."""
    mine = os.environ.get("FORKVET_TORCH_BACKEND")
    if mine is not None:
        return None if mine.lower() in ("", "none") else mine
    if os.environ.get("UV_TORCH_BACKEND"):
        return None  # the user's own choice, read by uv itself
    return "cpu" if device == "cpu" else "auto"


def requirements_file(snap: Snapshot) -> Path | None:
    for name in REQUIREMENTS:
        path = snap.root / name
        if path.is_file() and not path.is_symlink():
            return path
    return None


def sanitize_requirements(
    path: Path, root: Path, depth: int = 0, seen: set[Path] | None = None
) -> list[str]:
    """The plain named requirements, with `-r` includes inlined (inside the repository only);
    lines that are options (an index, `-e`), URLs or paths are left out.

    Each file is inlined once: 5,000 lines of `-r requirements.txt` were 5,000 ** 3 reads."""
    out: list[str] = []
    seen = set() if seen is None else seen
    if path.resolve() in seen:
        return out
    seen.add(path.resolve())
    try:
        data = _read_capped(path)
    except OSError:
        return out
    if data is None:
        # Installing a part of it would be a different environment under the same key.
        raise InputError(
            f"{path.name} is over {MAX_TEXT_BYTES >> 20} MiB: not read (no requirements file is "
            f"that large; vet the repository and write your own)"
        )
    text = data.decode("utf-8-sig", errors="replace")
    for raw in text.replace("\\\n", " ").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#") or _DROP_OPTION.match(line):
            continue
        if _EDITABLE_SELF.match(line):
            continue  # the repository itself: installed separately
        inc = _INCLUDE.match(line)
        if inc:
            target = (path.parent / inc.group(1)).resolve()
            if depth < 3 and target.is_file() and target.is_relative_to(root):
                out += sanitize_requirements(target, root, depth + 1, seen)
            continue
        try:
            # Plain named requirements only: no option, URL or path from a repository's file.
            out.append(plain_requirement(line))
        except ForkvetError:
            continue
    return out


def _env_output(
    snap: Snapshot, python_version: str | None
) -> tuple[list[str], str, str | None, Path | None] | None:
    """The pins `forkvet env .` wrote for this very code (its default output folder, outside
    the checkout), with its uv.toml: what the runtime installs when they exist."""
    from forkvet.safe_write import user_out

    folder = user_out("forkvet-env", snap.root)
    try:
        stamp = json.loads((folder / ENV_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("fingerprint") != source_fingerprint(snap):
        return None
    python = str(stamp.get("python") or "") or None
    if python_version and python_version not in (python, stamp.get("asked")):
        return None
    if python == "2.7" or not (folder / "requirements.txt").is_file():
        return None
    config = folder / "uv.toml"
    return (
        sanitize_requirements(folder / "requirements.txt", folder),
        "forkvet env (its pins for this code)",
        python_version or python,
        config if config.is_file() else None,
    )


def _without_own(
    snap: Snapshot, config: Config | None, lines: list[str]
) -> tuple[list[str], list[str]]:
    """The repository's own requirement lines split from the rest: a name the repository
    provides itself (its project, a module or package in it, an extension it builds) is
    never installed from the index, the rule `forkvet env` follows (RepoNames), nor is a
    name that may be only on the authors' own index (names.private_rule)."""
    from forkvet.envgen.names import private_rule
    from forkvet.vet import ownindex
    from forkvet.vet.context import Context
    from forkvet.vet.dependencies import repo_names

    names = repo_names(Context(snap, config or Config()))
    # and, in a repository that installs from an index of its own, a name no public project
    # forkvet knows has (env's rule too: it may be one only that index has)
    found = ownindex.statements(snap)
    private = private_rule(found.places, found.cut)
    keep: list[str] = []
    own: list[str] = []
    for line in lines:
        try:
            name = safeparse.requirement(line).name
        except InvalidRequirement:  # not a plain named requirement: nothing to decide
            keep.append(line)
            continue
        if names.declared_local(name) or (private and private(name)):
            own.append(terminal(name))
        else:
            keep.append(line)
    return keep, own


def requirements_for(
    snap: Snapshot,
    config: Config | None,
    python_version: str | None,
    env_dir: str | None,
    generate_missing: bool = True,
) -> tuple[list[str], str, str | None]:
    lines, source, version, _ = requirements_and_config(
        snap, config, python_version, env_dir, generate_missing
    )
    return lines, source, version


def requirements_and_config(
    snap: Snapshot,
    config: Config | None,
    python_version: str | None,
    env_dir: str | None,
    generate_missing: bool = True,
) -> tuple[list[str], str, str | None, Path | None]:
    """(requirement lines, where they came from, Python version to use).

    The repository's requirements file when it has one; else `forkvet env`'s pins as of the
    code's date, generated once per version of the code and kept beside the environments.
    """
    made = _env_output(snap, python_version)
    if made is not None:
        return made
    found = requirements_file(snap)
    if found is not None:
        rel = found.relative_to(snap.root).as_posix()
        lines, own = _without_own(snap, config, sanitize_requirements(found, snap.root))
        if own:
            rel += (
                f" (less {', '.join(own[:5])}: the repository's own, or only on an index of "
                "its own, never installed)"
            )
        return lines, rel, python_version, None
    folder = env_root(env_dir) / "generated" / f"{source_fingerprint(snap)}-{python_version or ''}"
    done = folder / "requirements.txt"
    meta = folder / "python"
    if not done.is_file():
        if not generate_missing:
            return [], "forkvet env (to be generated as of the code's date)", python_version, None
        from forkvet.envgen.generate import generate

        result, _ = generate(snap, config, out=folder, python=python_version)
        if result.python == "2.7":
            raise ForkvetError(
                "this is Python 2 code: create the conda environment from "
                f"{folder / 'environment.yml'} and pass --python"
            )
        meta.write_text(result.python or "")
    lines = sanitize_requirements(done, folder) if done.is_file() else []
    chosen = python_version or (meta.read_text().strip() if meta.is_file() else None) or None
    uv_toml = folder / "uv.toml"
    return (
        lines,
        "forkvet env (pins as of the code's date)",
        chosen,
        uv_toml if uv_toml.is_file() else None,
    )


def build_files(root: Path) -> dict[str, str]:
    out = {}
    for name in BUILD_FILES:
        path = root / name
        if path.is_file() and not path.is_symlink():
            raw = _read_capped(path)
            # The key changes with the first 2 MiB: a larger build file is not parsed either.
            text = (raw if raw is not None else b"").decode("utf-8", errors="replace")
            out[name] = text if raw is not None else f"(over {MAX_TEXT_BYTES} bytes)"
    return out


def _read_capped(path: Path) -> bytes | None:
    """The file's bytes, or None when it is over MAX_TEXT_BYTES: at most that and one more
    byte are read, whatever its size (a 20 GiB requirements.txt was read whole, round 9)."""
    with path.open("rb") as fh:
        raw = fh.read(MAX_TEXT_BYTES + 1)
    return raw if len(raw) <= MAX_TEXT_BYTES else None


def installable(files: dict[str, str]) -> bool:
    if "setup.py" in files:
        return True
    if "pyproject.toml" in files:
        try:
            data = safeparse.toml_loads(files["pyproject.toml"])
        except tomllib.TOMLDecodeError:
            return False
        return "project" in data or "build-system" in data
    return False


def build_requirements(files: dict[str, str], requirements: Sequence[str] = ()) -> list[str]:
    """What the repository's own build needs (it is built without isolation)."""
    reqs = ["setuptools"]  # setuptools >= 70.1 builds wheels without `wheel`
    if any(rx.match(r"setuptools\s*(?:==|<|~=)", r) for r in requirements):
        reqs.append("wheel")  # a pinned older setuptools needs it for editable installs
    if "pyproject.toml" in files:
        try:
            declared = safeparse.toml_loads(files["pyproject.toml"]).get("build-system", {})
        except tomllib.TOMLDecodeError:
            declared = {}
        extra = declared.get("requires", []) if isinstance(declared, dict) else []
        for raw in extra[:20] if isinstance(extra, list) else []:
            try:
                reqs.append(plain_requirement(str(raw)))
            except ForkvetError:
                continue  # only plain named requirements, as for requirements files
    return list(dict.fromkeys(reqs))


def key_for(
    root: Path,
    requirements: list[str],
    files: dict[str, str],
    python: str | None,
    device: str,
    identity: str = "",
) -> str:
    """identity: which repository this is (its remote, the workflow's repository): two forks
    checked out at one path never share an environment, which the code of one can change."""
    h = hashlib.sha256()
    for part in (
        str(FORMAT),
        str(root.resolve()),
        identity,
        "\n".join(requirements),
        json.dumps(files, sort_keys=True),
        python or "",
        device,
        torch_backend(device) or "",
    ):
        h.update(part.encode("utf-8", "replace") + b"\0")
    return h.hexdigest()[:16]


@dataclass
class Plan:
    """What prepare() would do, without doing it (for --dry-run)."""

    root: Path
    folder: Path
    key: str
    device: str
    python_version: str | None
    requirements: list[str]
    requirements_source: str
    build_files: dict[str, str]
    exists: bool
    # forkvet env's uv.toml beside the pins (repaired or statically read metadata): installing
    # the pins needs it as resolving them did.
    uv_config: Path | None = None
    # With builds off: the distributions whose source releases may still be built (the pins
    # `forkvet env` said build from source); every other requirement installs from wheels.
    may_build: list[str] = field(default_factory=list)
    # The install budget of the whole build, in seconds (INSTALL_TIMEOUT unless lowered).
    install_timeout: float = INSTALL_TIMEOUT
    # Why the content the own build reads is not in the key (`envkey.installed_content`):
    # then this environment is never reused.
    content_unread: str = ""

    def describe(self) -> list[str]:
        own = (
            "pip install -e . tried (no deps, no build isolation; if it fails, the code goes "
            "on PYTHONPATH)"
            if installable(self.build_files)
            else "on PYTHONPATH (no setup.py/pyproject.toml)"
        )
        backend = torch_backend(self.device)
        torch = any(_name(r) in ("torch", "torchvision", "torchaudio") for r in self.requirements)
        if self.requirements and not torch:
            how = " (no PyTorch in the requirements: no torch backend)"
        elif backend:
            how = f" (uv --torch-backend {backend} for PyTorch)"
        else:
            how = " (torch from your index)"
        return [
            f"environment {self.folder} ({'reuse' if self.exists else 'build'})",
            f"device      {self.device}" + how,
            f"python      {self.python_version or 'uv default'}",
            f"requires    {len(self.requirements)} line(s) from {self.requirements_source}",
            f"own package {own}",
            *([f"key         {self.content_unread}"] if self.content_unread else []),
        ]


def _name(requirement: str) -> str:
    """The distribution name a requirement line starts with, lower case."""
    out = []
    for ch in requirement.strip():
        if not (ch.isalnum() or ch in "-_."):
            break
        out.append(ch.lower())
    return "".join(out)


def repository_identity(snap: Snapshot) -> str:
    """Which repository this is, for the environment's key: its git remote and, for the
    workflow's own checkout only, `GITHUB_REPOSITORY`. A folder without a `.git` of its own
    (a folder of a larger checkout, a fork downloaded without git into the workflow's
    checkout) has its content in the key as well (the commit of the repository around it,
    every file's path and size): the remote of the repository around it, or the workflow's
    repository, is not the folder's identity (outside attack, round 19b F3; round 20b F3:
    fork A's `.pth` read fork B's secret). Where no remote is known at all, never the path
    alone: the content is (the commit, or without git every file's path and size)."""
    own = os.path.lexists(snap.root / ".git")
    outer = None if own or snap.git.remote or snap.git.commit else enclosing_git_info(snap.root)
    remote = snap.git.remote or (outer.remote if outer else None)
    # the workflow's repository only for its own checkout (`envkey.workflow_checkout`)
    workflow = os.environ.get("GITHUB_REPOSITORY", "") if workflow_checkout(snap.root) else ""
    if own and (remote or workflow):
        return f"{remote or ''}\n{workflow}"
    commit = snap.git.commit or (outer.commit if outer else None)
    fingerprint = source_fingerprint(snap)
    content = (commit or fingerprint) if own else f"{commit} {fingerprint}"
    return f"{remote or ''}\n{workflow}\ncontent {content}"


def plan(
    snap: Snapshot,
    requirements: list[str],
    source: str,
    python_version: str | None = None,
    device: str | None = None,
    env_dir: str | None = None,
    uv_config: Path | None = None,
) -> Plan:
    dev = choose_device(device)
    files = build_files(snap.root)
    config = uv_config.read_text(encoding="utf-8") if uv_config and uv_config.is_file() else ""
    identity = repository_identity(snap)
    content = installed_content(snap, installable(files))
    identity += f"\n{content}" if content else ""
    key = key_for(
        snap.root,
        [*requirements, config] if config else requirements,
        files,
        python_version,
        dev,
        identity,
    )
    name = rx.sub(r"[^A-Za-z0-9._-]", "_", snap.name)[:40] or "repo"
    folder = env_root(env_dir) / f"{name}-{key}"
    return Plan(
        snap.root,
        folder,
        key,
        dev,
        python_version,
        requirements,
        source,
        files,
        record_path(folder).is_file(),
        uv_config.resolve() if config and uv_config else None,
        content_unread=_unread_reason(content),
    )


def _unread_reason(content: str) -> str:
    if not content.startswith(UNREAD):
        return ""
    why = content[len(UNREAD) :].split(" (", 1)[0]
    return (
        f"the repository's content, which its own build reads, was not read for the key "
        f"({why}): this environment is never reused"
    )


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def uv_binary() -> str:
    from forkvet.envgen.uv import uv_binary as find

    try:
        return find()
    except ForkvetError:
        found = hostpaths.find("uv")
        if not found:
            raise
        return found


@contextmanager
def _locked(folder: Path, budget: float = INSTALL_TIMEOUT) -> Iterator[None]:
    """One builder per environment: a second step waits for the first, then reuses it. The
    wait ends within `budget` seconds (the step's install budget) with one line: `flock`
    needs no write access, and a lock another job held (the repository's code of one step
    took every environment's lock of a shared env-dir, outside attack, round 19b F6) must
    cost the waiting step no more than its own budget."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "a+") as fh:
        deadline = time.monotonic() + budget
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise EnvironmentTimedOut(
                        f"timed out: the lock of the environment {folder} was held by another "
                        f"step for {budget:g} s (the install budget; --install-timeout)"
                    ) from None
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def record_path(folder: Path) -> Path:
    """Where the record of the environment in `folder` is kept: beside it, in the folder of
    environments, which no sandbox gets writable (only an environment's own folder)."""
    return folder.parent / (folder.name + RECORD_SUFFIX)


def _own_interpreter(folder: Path) -> Path | None:
    """The environment's interpreter, by forkvet's own layout: `folder/bin/python`, with the
    folder and its bin/ real folders inside (no link leads elsewhere). The interpreter itself
    may link to its base Python (a venv's does); whatever it is, it only runs sandboxed."""
    python = venv_python(folder)
    if folder.is_symlink() or not folder.is_dir():
        return None
    real = Path(os.path.realpath(folder))
    if Path(os.path.realpath(python.parent)) != real / python.parent.relative_to(folder):
        return None
    return python if os.path.lexists(python) else None


def _load(p: Plan) -> Environment | None:
    """The environment of this plan, when it was built: its path, interpreter, key and device
    are the plan's (computed by forkvet), never read from a file; the record beside the folder
    only says how it was built (notes, how the own package is importable)."""
    try:
        data = json.loads(record_path(p.folder).read_text())
        if not isinstance(data, dict) or data.get("key") != p.key:
            return None
        python = _own_interpreter(p.folder)
        if python is None or not venvstart.matches(p.folder, data.get("startup")):
            return None  # its start-up files are not the ones forkvet's build left: rebuilt
        notes = data.get("notes")
        env = Environment(
            python=str(python),
            path=str(p.folder),
            key=p.key,
            device=p.device,
            requirements=p.requirements_source,
            own_package=str(data.get("own_package", "")),
            notes=[str(n) for n in notes] if isinstance(notes, list) else [],
            # the repository's own folder or nothing: the only value forkvet ever writes
            pythonpath=str(p.root) if data.get("pythonpath") else None,
        )
    except (OSError, ValueError, TypeError):
        return None
    env.reused = True
    return env


def _outside_repository(p: Plan) -> None:
    """The repository's code gets its own folder writable: environments kept in it could be
    rewritten for every later step."""
    folder = Path(os.path.realpath(p.folder.parent))
    if folder.is_relative_to(os.path.realpath(p.root)):
        raise InputError(
            f"--env-dir {p.folder.parent} is inside the repository: keep environments outside it"
        )


def prepare(p: Plan, allow_build: bool = False) -> Environment:
    """Reuse the environment of this plan, or build it (under a lock). allow_build: may
    source releases of dependencies be built (the operator's `--allow-build`; by default
    wheels only, and `p.may_build` names the only releases that may be built)."""
    _outside_repository(p)
    waited = time.monotonic()  # the wait for the lock counts against the install budget
    with _locked(p.folder, p.install_timeout):
        found = _load(p)
        if found is not None:
            os.utime(record_path(p.folder))  # its last use, for `forkvet envs list|prune`
            return found
        record_path(p.folder).unlink(missing_ok=True)
        if p.folder.is_symlink():
            p.folder.unlink()
        elif p.folder.exists():
            fstree.remove_tree(p.folder)  # a build that did not finish, or a record that lies
        start = time.monotonic()
        token = _DEADLINE.set((waited + p.install_timeout, p.install_timeout))
        try:
            env = _build(p, allow_build)
        except BaseException:
            fstree.remove_tree(p.folder)
            raise
        finally:
            _DEADLINE.reset(token)
        env.built_seconds = round(time.monotonic() - start, 1)
        # The repository's own build wrote the folder: kept only within the limits
        why = envsize.unfit(envsize.measure(p.folder))
        if why is not None:
            fstree.remove_tree(p.folder)
            raise ForkvetError(f"the environment's build left {why}: removed, not kept")
        start_files = venvstart.record(p.folder)  # what its interpreter reads at start
        record_path(p.folder).write_text(json.dumps({**env.to_dict(), **start_files}, indent=2))
        return env


def settle(env: Environment) -> str | None:
    """After the runs that had the environment's folder writable (the command, the import
    check, a notebook's kernel): keep it only within `envsize`'s limits. Otherwise the folder
    and its record are removed now, before a cache saves or `envs list` counts it (an 8 TiB
    sparse file there made the Actions' cache save read 8 TiB, round 17b F6); the reason is
    returned and kept in `env.removed`. A later step builds it again."""
    if not env.path:
        return None  # --python: an interpreter forkvet does not keep
    folder = Path(env.path)
    why = envsize.unfit(envsize.measure(folder))
    if why is None:
        return None
    with _locked(folder):
        record_path(folder).unlink(missing_ok=True)
        fstree.remove_tree(folder)
    env.removed = why
    return why


def _create_venv(uv: str, folder: Path, python_version: str | None) -> None:
    cmd = [uv, "venv", "-q", str(folder)]
    if python_version:
        cmd += ["--python", python_version]
    proc = _run(cmd, None, keep_index_config=True)
    if proc.returncode == 0:
        return
    error = _last_line(proc.stderr)
    if python_version:
        # uv could not find or download it (no network, UV_PYTHON_DOWNLOADS=never): an
        # installed one (pyenv, setup-python, conda).
        from forkvet.interpreters import find_python, python_hint

        found = find_python(python_version)
        if found:
            retry = _run(
                [uv, "venv", "-q", str(folder), "--python", found], None, keep_index_config=True
            )
            if retry.returncode == 0:
                return
            error = _last_line(retry.stderr)
        else:
            raise ForkvetError(
                f"no Python {python_version} interpreter here: {python_hint(python_version)}"
            )
    raise ForkvetError(f"could not create the environment: {error}")


def _build(p: Plan, allow_build: bool) -> Environment:
    uv = uv_binary()
    _create_venv(uv, p.folder, p.python_version)
    cfg = venvstart.read_cfg(p.folder)  # uv's, before any package: written back after each
    python = venv_python(p.folder)
    notes: list[str] = [p.content_unread] if p.content_unread else []
    own = installable(p.build_files)
    reqs = list(p.requirements) + (build_requirements(p.build_files, p.requirements) if own else [])
    if reqs:
        req_file = p.folder / "forkvet-requirements.txt"
        req_file.write_text("\n".join(reqs) + "\n", encoding="utf-8")
        cmd = [uv, "pip", "install", "-q", "--python", str(python), *_COPY, "-r", str(req_file)]
        _install_requirements(cmd, p, reqs, allow_build, notes)
        venvstart.restore_cfg(p.folder, cfg)
        compile_bytecode(p.folder, python)
    own_package, pythonpath = "on PYTHONPATH (no setup.py or pyproject.toml)", str(p.root)
    if own:
        # The repository's own build runs here: a runtime step, with secrets scrubbed and
        # no index (its dependencies came from the requirements above).
        # No cache: the build may write the environment and the repository, nothing shared.
        cmd = [uv, "pip", "install", "-q", "--python", str(python), "--no-deps", "--no-cache"]
        cmd += ["--no-build-isolation", "--offline", "-e", str(p.root)]
        # It needs no index (--offline): the operator's network cut holds for it as for the
        # repository's command.
        proc = _run(cmd, [p.folder, p.root], keep_index_config=False, index=False)
        venvstart.restore_cfg(p.folder, cfg)
        if proc.returncode == 0:
            own_package, pythonpath = "installed (pip install -e .)", ""
        else:
            own_package = "on PYTHONPATH (pip install -e . failed)"
            notes.append(f"pip install -e . failed: {_last_line(proc.stderr)}")
    return Environment(
        python=str(python),
        path=str(p.folder),
        key=p.key,
        device=p.device,
        requirements=p.requirements_source,
        own_package=own_package,
        notes=notes,
        pythonpath=pythonpath or None,
    )


def compile_bytecode(folder: Path, python: Path) -> None:
    """Python's bytecode of the installed packages, written once by forkvet: the environment
    is read-only to the repository's code, so no run could write it, and every run compiled
    all of PyTorch again at import (seconds per process). `-I -S`: no `site`, so no `.pth`
    of a package runs (compiling executes nothing); in the sandbox, without credential or
    network. Best effort: a file that does not compile (Python 2 code in a package) or the
    install budget running out leaves the rest as it is."""
    lib = folder / "lib"
    if not lib.is_dir():
        return
    # the base interpreter the environment's links to: nothing of the environment (its
    # pyvenv.cfg, forkvet's own again since the install: `venvstart`) decides how it starts
    base = os.path.realpath(python)
    cmd = [base, "-I", "-S", "-m", "compileall", "-qq", "-j", "0", str(lib)]
    with contextlib.suppress(ForkvetError):
        _run(cmd, [folder], keep_index_config=False, credentials=False, index=False)


def _install_requirements(
    cmd: list[str], p: Plan, reqs: list[str], allow_build: bool, notes: list[str]
) -> None:
    """Wheels first, with the user's index settings and credentials: installing wheels runs
    no code. Only when a requirement has no wheel, and the operator allowed its build
    (--allow-build, or a pin `forkvet env` disclosed as built from source), a second
    install builds it: that one never holds an index credential (see _run), since the build
    is a package's own code with the network on."""
    # env's uv.toml goes into uv's private working folder, where uv finds it and merges it
    # with the user's own configuration (their mirror); --config-file would replace that.
    uv_toml = p.uv_config.read_text(encoding="utf-8") if p.uv_config else ""
    wheels = [*cmd, "--only-binary", ":all:"]
    proc = _install(wheels, p, notes, uv_toml)
    if proc.returncode != 0 and not p.uv_config:
        proc = _with_repaired_metadata(wheels, p, proc, notes)
    if proc.returncode == 0:
        return
    missing = no_wheel(proc.stderr)
    if missing and (allow_build or p.may_build):
        flags = [] if allow_build else _wheels_only(reqs, p.may_build)
        # --no-cache: the build writes only a cache of its own, never the shared one.
        built = _install([*cmd, *flags, "--no-cache"], p, notes, uv_toml, credentials=False)
        if built.returncode == 0:
            notes.append(
                f"built from source: {', '.join(missing)} (its build had no index credentials)"
            )
            return
        proc = built
    elif missing:
        names = ", ".join(terminal(m) for m in missing)
        raise ForkvetError(
            f"installing the requirements ({p.requirements_source}) failed: no wheel for "
            f"{names}; {NO_WHEEL}"
        )
    raise ForkvetError(
        f"installing the requirements ({p.requirements_source}) failed: {uv_error(proc.stderr)}"
    )


_NO_WHEEL = rx.compile(
    r"Wheels are required for `([^`]+)` because building from source is disabled|"
    r"Because ([A-Za-z0-9][\w.-]*?)(?:==\S+)? has no usable wheels"
)


def no_wheel(stderr: str) -> list[str]:
    """The distributions uv could only install by building a source release."""
    found = [a or b for a, b in _NO_WHEEL.findall(stderr)]
    return list(dict.fromkeys(n for n in found if n))


def _wheels_only(reqs: list[str], may_build: list[str]) -> list[str]:
    """Builds for the pins in may_build only (they are source-only releases)."""
    allowed = {rx.sub(r"[-_.]+", "-", n).lower() for n in may_build}
    flags: list[str] = []
    for line in reqs:
        m = rx.match(r"[A-Za-z0-9][\w.-]*", line.strip())
        name = rx.sub(r"[-_.]+", "-", m.group(0)).lower() if m else ""
        if name and name not in allowed:
            flags += ["--only-binary", name]
    return flags


def _install(
    cmd: list[str], p: Plan, notes: list[str], uv_toml: str = "", credentials: bool = True
) -> subprocess.CompletedProcess[str]:
    backend = torch_backend(p.device)
    cmd, credentials = _first_install(cmd, p.folder, credentials)
    cache = None if "--no-cache" in cmd else _uv_cache(cmd[0])
    proc = _run(
        [*cmd, "--torch-backend", backend] if backend else cmd,
        [p.folder],
        keep_index_config=True,
        cache=cache,
        uv_toml=uv_toml,
        credentials=credentials,
    )
    if proc.returncode != 0 and backend and _NETWORK.search(proc.stderr):
        # --torch-backend reads PyTorch's own index, which is not the user's configured
        # one and may be out of reach (a network that only reaches a mirror): the builds
        # on the user's index then, said so. Its failure is the one to show, if any.
        first = uv_error(proc.stderr)
        cmd, credentials = _first_install(cmd, p.folder, credentials)
        cache = None if "--no-cache" in cmd else cache
        proc = _run(
            cmd,
            [p.folder],
            keep_index_config=True,
            cache=cache,
            uv_toml=uv_toml,
            credentials=credentials,
        )
        if proc.returncode == 0:
            notes.append(
                f"PyTorch's {backend} builds could not be downloaded "
                f"({first}): PyTorch came from your index, in its "
                f"default build (FORKVET_TORCH_BACKEND=none skips the attempt)"
            )
    return proc


def _first_install(cmd: list[str], folder: Path, credentials: bool) -> tuple[list[str], bool]:
    """Index credentials and uv's shared cache only while the environment holds no package:
    uv starts the environment's interpreter (to query it), whose `site` runs the `.pth` files
    of wheels an earlier, failed call may have installed. A retry into such an environment
    runs as a build does: no credential, a cache of its own (outside attack, round 19b F1)."""
    if not credentials or not any(folder.glob("lib/python*/site-packages/*.dist-info")):
        return cmd, credentials
    return ([*cmd, "--no-cache"] if "--no-cache" not in cmd else cmd), False


def _with_repaired_metadata(
    cmd: list[str], p: Plan, failed: subprocess.CompletedProcess[str], notes: list[str]
) -> subprocess.CompletedProcess[str]:
    """The authors' own pins of releases whose metadata uv refuses (pandas 0.23 declares
    pytz>=2011k): repair it as `forkvet env` does and install again."""
    from datetime import date

    from forkvet.envgen.metadata_fix import invalid_packages, repair, uv_toml_text

    broken = invalid_packages(failed.stderr)
    if not broken:
        return failed
    pins = {}
    for line in p.requirements:
        m = rx.match(r"([A-Za-z0-9][\w.-]*)\s*==\s*([\w.+!]+)$", line.strip())
        if m:
            pins[rx.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    entries: list[dict[str, object]] = []
    for name in broken:
        entries += repair(name, date.today(), only={pins[name]} if name in pins else None)
    if not entries:
        return failed
    notes.append(f"repaired the invalid metadata of {', '.join(broken)} to install them")
    return _install(cmd, p, notes, uv_toml_text(entries))


def uv_error(stderr: str) -> str:
    """uv's own explanation: the `error:` line and its causes, not the last line (a source
    excerpt's `^^^^` marker or a hint)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.startswith(("error:", "×"))), None)
    if start is None:
        return _last_line(stderr)
    kept = [
        ln.lstrip("╰─▶├│ ").strip()
        for ln in lines[start:]
        if not ln.startswith(("hint:", "help:")) and not set(ln) <= set("^~|-─ ")
    ]
    return rx.sub(r"\s+", " ", " ".join(kept))[:600]


def add_packages(env: Environment, packages: list[str]) -> None:
    """Install extra packages forkvet needs in the environment (ipykernel for notebooks).

    Wheels only, with no index credential and a throwaway uv cache: the environment may be
    one the repository's code already ran in and changed (its `bin/python` replaced, a `.pth`
    in its site-packages: either runs whenever uv starts its interpreter), so nothing of the
    operator's is handed to this install, and the shared cache, which other repositories'
    environments are installed from, is not within its reach (outside attack, round 13b)."""
    uv = uv_binary()
    wheels = ["--only-binary", ":all:"]  # a build is a package's own code: never here
    with tempfile.TemporaryDirectory(prefix="forkvet-uv-cache-") as own_cache:
        proc = _run(
            [uv, "pip", "install", "-q", "--python", env.python, *_COPY, *wheels, *packages],
            [Path(env.path or Path(env.python).parent)],
            keep_index_config=True,
            cache=Path(own_cache),
            credentials=False,
        )
    if env.path:  # forkvet's pyvenv.cfg again, and the record of its start-up files
        venvstart.after_install(Path(env.path), record_path(Path(env.path)))
    if proc.returncode != 0:
        raise ForkvetError(f"installing {', '.join(packages)} failed: {_last_line(proc.stderr)}")


def given_interpreter(path: str, root: Path) -> Environment:
    """--python PATH: that interpreter as it is, with the repository on PYTHONPATH."""
    # A bare name (python3) is looked up on PATH, as a shell would; a path is taken as is.
    found = hostpaths.find(path) if os.sep not in path else path
    # Absolute, but not resolved: a venv's python is a symlink whose venv we must keep.
    python = os.path.abspath(found or path)
    if not os.access(python, os.X_OK) or os.path.isdir(python):
        raise InputError(
            f"--python {path}: no such interpreter"
            + ("" if os.sep in path else " on PATH (give its path)")
        )
    return Environment(
        python=python,
        path=None,
        key=None,
        device=detect_device(),
        requirements=None,
        own_package="on PYTHONPATH (--python: nothing installed)",
        pythonpath=str(root),
    )


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "(no output)"


def _uv_cache(uv: str) -> Path:
    """uv's cache folder as the user configured it (fixed before HOME changes in the sandbox)."""
    from forkvet.envgen.uv import private_workdir

    # In a private folder: a repository's uv.toml in the current folder must not choose the
    # cache, which the sandboxed installs get writable.
    with private_workdir() as work:
        proc = subprocess.run(
            [uv, "cache", "dir"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=work,
            env=scrubbed_env(keep_index_config=True),
            stdin=subprocess.DEVNULL,
        )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise ForkvetError(f"uv cache dir failed: {_last_line(proc.stderr)}")
    cache = Path(proc.stdout.strip())
    cache.mkdir(parents=True, exist_ok=True)
    sandbox.hide_folder(cache)  # its lock: out of every other sandbox's reach
    return cache


def _run(
    cmd: list[str],
    writable: list[Path] | None,
    keep_index_config: bool,
    cache: Path | None = None,
    uv_toml: str = "",
    credentials: bool = True,
    index: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run uv in a private folder: no repository's uv.toml, pyproject [tool.uv] or
    .python-version can apply; the user's own configuration does.

    writable: None for `uv venv`, which runs no code of the repository or of a package;
    otherwise the install runs in the sandbox (a build is the repository's or a package's
    code), where only these folders and uv's `cache` are writable. The private folder and
    forkvet's uv.toml in it are read-only there. credentials: False for an install that may
    build, whose environment then holds no index credential (without_credentials). index:
    False for an install that needs no index, which then gets the operator's network cut.
    Every call ends by the install budget (_remaining), killed with all it started."""
    from forkvet.envgen.uv import private_workdir

    isolate_self()
    env = scrubbed_env(keep_index_config=keep_index_config)
    if not credentials:
        env = without_credentials(env)
    cmd = no_bytecode(cmd, env)
    if cache is not None:
        env["UV_CACHE_DIR"] = str(cache)  # HOME is a private folder in the sandbox
    try:
        with private_workdir(uv_toml) as work:
            if writable is None:
                return _uv_venv(cmd, work, env)
            folders = [*writable, *([cache] if cache else [])]
            local = _local_sources(env)
            with sandbox.sandboxed(
                cmd, work, folders, local, private_home=False, index=index, cwd_writable=False
            ) as (argv, _):
                return _uv(argv, work, env)
    except subprocess.TimeoutExpired as exc:
        raise _timed_out() from exc
    except OSError as exc:
        raise ForkvetError(f"could not run {cmd[0]}: {exc.strerror}") from exc


def no_bytecode(cmd: list[str], env: dict[str, str]) -> list[str]:
    """Every `uv pip install` of forkvet's compiles no byte code, whatever the operator's uv
    settings say (`UV_COMPILE_BYTECODE=1`, `compile-bytecode = true`): compiling starts the
    new environment's interpreter, whose `site` runs every `.pth` a wheel just installed,
    so a listed package's code would run inside the wheels-only install, with the index
    credentials and uv's shared cache (outside attack, round 19b F1). The flag overrides
    a configuration file; uv refuses it beside the variable, which is dropped."""
    env.pop("UV_COMPILE_BYTECODE", None)
    if cmd[1:3] != ["pip", "install"] or "--no-compile-bytecode" in cmd:
        return cmd
    return [*cmd[:3], "--no-compile-bytecode", *cmd[3:]]


# The user's package sources, which may be local folders (a wheelhouse, a file:// index).
_SOURCES = (
    "UV_FIND_LINKS",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
)


def _local_sources(env: dict[str, str]) -> list[str]:
    """Local folders among the user's package sources: visible (read-only) to the sandboxed
    install even under /tmp, which is private there."""
    found = []
    for name in _SOURCES:
        for item in rx.split(r"[\s,]+", env.get(name, "")):
            path = item.removeprefix("file://") if item.startswith("file://") else item
            path = path.split("=", 1)[-1] if "=" in path and not path.startswith("/") else path
            if path.startswith("/") and os.path.exists(path):
                found.append(path)
    # The user's own uv configuration (their mirror), merged with env's uv.toml by uv.
    config = os.path.join(env.get("XDG_CONFIG_HOME", ""), "uv")
    if config.startswith("/") and os.path.isdir(config):
        found.append(config)
    return found


def _uv_venv(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`uv venv` only, outside the sandbox: it makes a new folder from a host interpreter, in
    a private folder; no file of the repository and no package's code is involved."""
    if cmd[1:2] != ["venv"]:
        raise ValueError(f"only uv venv runs outside the sandbox, not {cmd[1:3]}")
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=_remaining(),
        stdin=subprocess.DEVNULL,
        check=False,
        start_new_session=True,
    )


def _uv(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """uv in the sandbox: `argv` is always sandboxed()'s (tests/test_sandbox_entry.py).
    At the deadline its whole tree is killed (its process group, every descendant, and
    what `setsid` re-parented to forkvet), not only uv: a build's own children included."""
    before = children_now()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=_remaining())
    except BaseException:
        kill_tree(proc.pid, before)
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)
