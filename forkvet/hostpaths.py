"""The programs, Python modules and shared libraries forkvet itself uses, never found in a
folder the vetted repository supplies or its command may write.

A search path (PATH, PYTHONPATH, LD_LIBRARY_PATH, sys.path) entry that is empty or relative
means "the current folder" (or a folder below it), and forkvet runs inside the repository
(`forkvet vet .`, the Actions' default working folder): such an entry would let a file the
repository commits, or one its sandboxed command created, decide which `git`, `bwrap`, `uv`
or `nvidia-smi` forkvet starts on the host, which `yaml` it imports, which `libsqlite3` it
loads (outside attack, round 20b F4-F7). So, by construction rather than by name:

- at start (`startup`, before anything else is imported) forkvet's own `sys.path` loses every
  empty, `.`, relative entry and the current folder (unless it is forkvet's own source); where
  `LD_LIBRARY_PATH` carries an empty or relative entry the process re-executes itself once
  with it cleaned, because the dynamic loader has already read it;
- every folder the repository supplies or its command may write (the repository, the
  environments, the output folder, every writable folder of a sandbox) is registered with
  `guard()`, which drops the entries inside it from PATH, PYTHONPATH, LD_LIBRARY_PATH (so
  every child forkvet starts inherits clean ones) and from `sys.path`; an `LD_LIBRARY_PATH`
  entry inside it that forkvet's own loader already read is an error naming the variable;
- every external program is resolved through `program()`/`find()`: the first executable of
  that name in an absolute PATH entry outside every guarded folder, given to the child as an
  absolute path; found only in a refused entry: a one-line error naming PATH.

Only the standard library here: `startup` runs before forkvet imports anything else.
"""

from __future__ import annotations

import os
import sys

from forkvet.errors import InputError

VARIABLES = ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH")
_REEXEC = "FORKVET_PATHS_CLEANED"
_GUARDED: list[str] = []
_READ_AT_START: dict[str, str] = {}
_CACHE: dict[str, str] = {}


class UnsafeProgram(InputError):
    """A search path forkvet would use leads into a refused folder (see `find`, `guard`)."""


class ProgramMissing(FileNotFoundError):
    """The program is nowhere on a usable PATH entry (callers treat it as not installed)."""


def _inside(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def refused(entry: str) -> str:
    """Why forkvet never searches the search-path entry `entry` ("" when it may)."""
    if not entry:
        return "empty: the current folder"
    if not os.path.isabs(entry):
        return "relative: a folder below the current one"
    real = os.path.realpath(entry)
    for path in (os.path.abspath(entry), real):
        if _inside(path, _GUARDED):
            return "inside a folder the repository or its command can write"
    return ""


def cleaned(value: str) -> str:
    """value (a PATH-like list) without the entries `refused` names."""
    return os.pathsep.join(e for e in value.split(os.pathsep) if not refused(e))


def clean_environment(env: dict[str, str] | os._Environ[str]) -> None:
    """Drop the refused entries of PATH, PYTHONPATH and LD_LIBRARY_PATH from env, in place.
    A PATH left empty becomes the system's default (an empty PATH is the current folder)."""
    for name in VARIABLES:
        if name not in env:
            continue
        value = cleaned(env[name])
        if value:
            env[name] = value
        elif name == "PATH":
            env[name] = os.defpath.lstrip(os.pathsep) or "/usr/bin:/bin"
        else:
            del env[name]


def _own_source() -> str:
    """The folder forkvet is imported from (its parent), kept on sys.path."""
    return os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def clean_sys_path() -> None:
    """sys.path without '', '.', relative entries, the current folder and what an empty or
    relative PYTHONPATH entry made of it, and entries inside guarded folders — except forkvet's
    own source and installation."""
    here = os.path.realpath(os.getcwd())
    given = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    near = {here, *(os.path.realpath(e) for e in given if not os.path.isabs(e))}
    keep = [_own_source(), *(os.path.realpath(p) for p in (sys.prefix, sys.base_prefix))]
    kept = []
    for entry in sys.path:
        real = os.path.realpath(entry) if entry and os.path.isabs(entry) else ""
        own = bool(real) and _inside(real, keep)
        if not real or (not own and (real in near or _inside(real, _GUARDED))):
            continue
        kept.append(entry)
    sys.path[:] = kept


def startup() -> None:
    """Harden forkvet's own process, first thing at start (the CLI entry points)."""
    _READ_AT_START["PATH"] = os.environ.get("PATH", "")
    clean_sys_path()
    libs = os.environ.get("LD_LIBRARY_PATH")
    if libs is not None and cleaned(libs) != libs and not os.environ.get(_REEXEC):
        env = {**os.environ, _REEXEC: "1", "LD_LIBRARY_PATH": cleaned(libs)}
        if not env["LD_LIBRARY_PATH"]:
            del env["LD_LIBRARY_PATH"]
        # the loader read LD_LIBRARY_PATH at start: only a new process searches the clean one
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
    os.environ.pop(_REEXEC, None)
    clean_environment(os.environ)
    _READ_AT_START["LD_LIBRARY_PATH"] = os.environ.get("LD_LIBRARY_PATH", "")


def guard(folder: str | os.PathLike[str]) -> None:
    """Register a folder the repository supplies or its command may write: no program,
    module or library forkvet uses is searched there from now on."""
    for path in {os.path.abspath(folder), os.path.realpath(folder)}:
        if path != "/" and path not in _GUARDED:
            _GUARDED.append(path)
    read = _READ_AT_START.get("LD_LIBRARY_PATH", "")
    bad = [e for e in read.split(os.pathsep) if e and refused(e)]
    if bad:
        raise UnsafeProgram(
            f"LD_LIBRARY_PATH holds {bad[0]}, inside {os.fspath(folder)} (the repository or a "
            f"folder its command writes): remove that entry from LD_LIBRARY_PATH"
        )
    clean_environment(os.environ)
    clean_sys_path()


def guarded() -> list[str]:
    return list(_GUARDED)


def find(name: str) -> str | None:
    """The absolute path of program `name` on the cleaned PATH; None if it is not installed.
    Raises UnsafeProgram when it exists only in a refused entry."""
    path = os.environ.get("PATH", os.defpath)
    known = _CACHE.get(f"{name}\0{path}")
    if known and not refused(os.path.dirname(known)):
        return known
    skipped = ""
    current = path.split(os.pathsep)
    # the entries cleaned away at start too: a program only there is an error, not "missing"
    given = _READ_AT_START.get("PATH", "").split(os.pathsep) if "PATH" in _READ_AT_START else []
    for entry in dict.fromkeys([*current, *given]):
        candidate = os.path.join(entry or ".", name)
        if not os.path.isfile(candidate) or not os.access(candidate, os.X_OK):
            continue
        why = refused(entry) or refused(os.path.dirname(os.path.realpath(candidate)))
        if why:
            skipped = skipped or f"{entry!r} ({why})"
        if why or entry not in current:  # an entry no longer searched is only reported
            continue
        _CACHE[f"{name}\0{path}"] = os.path.abspath(candidate)
        return os.path.abspath(candidate)
    if skipped:
        raise UnsafeProgram(
            f"{name} is found only in the PATH entry {skipped}; forkvet never runs a program "
            f"from there: put the folder of a trusted {name} on PATH"
        )
    return None


def program(name: str) -> str:
    """Like `find`, for a program forkvet cannot do without: not installed is an error that
    callers expecting FileNotFoundError (a missing git) handle as before."""
    found = find(name)
    if found is None:
        raise ProgramMissing(f"{name} is not installed (not found on PATH)")
    return found
