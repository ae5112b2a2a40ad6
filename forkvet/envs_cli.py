"""`forkvet envs list|prune`: the shared environments smoke, train-check and `env --verify`
keep outside the checkouts (a persistent folder on self-hosted runners), with their size, age
and last use, and removing the stale ones."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from forkvet import fstree
from forkvet.environments import env_root, record_path
from forkvet.envsize import allocated_size
from forkvet.errors import InputError

DAY = 86400.0


@dataclass
class Kept:
    name: str
    path: str
    size_mib: float
    age_days: float
    idle_days: float  # since an environment was last built or reused


def _size(folder: Path) -> int:
    """What it occupies on disk (allocated blocks, bounded walk): an 8 TiB sparse file the
    repository's code left counts nothing, and cannot make `prune --max-size` evict the other
    environments first (round 17b F6)."""
    return allocated_size(folder)


def listing(root: Path) -> list[Kept]:
    now = time.time()
    out = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        marker = record_path(folder)  # beside the folder; its time is the last use
        if folder.is_symlink() or not folder.is_dir() or not marker.is_file():
            continue
        created = (folder / "pyvenv.cfg").stat().st_mtime if (folder / "pyvenv.cfg").exists() else 0
        out.append(
            Kept(
                folder.name,
                str(folder),
                round(_size(folder) / 2**20, 1),
                round((now - (created or marker.stat().st_mtime)) / DAY, 1),
                round((now - marker.stat().st_mtime) / DAY, 1),
            )
        )
    return out


def prune(root: Path, idle_days: float | None, max_gib: float | None) -> list[Kept]:
    """Remove environments unused for idle_days, then the least recently used until the rest
    fit in max_gib. Returns what was removed."""
    kept = sorted(listing(root), key=lambda k: k.idle_days, reverse=True)
    removed = []
    total = sum(k.size_mib for k in kept) / 1024
    for k in kept:
        stale = idle_days is not None and k.idle_days >= idle_days
        too_big = max_gib is not None and total > max_gib
        if not (stale or too_big):
            continue
        fstree.remove_tree(k.path)
        Path(k.path + ".lock").unlink(missing_ok=True)
        record_path(Path(k.path)).unlink(missing_ok=True)
        total -= k.size_mib / 1024
        removed.append(k)
    return removed


def cache_key(target: str, python: str | None, device: str | None, env_dir: str | None) -> str:
    """A key for an Actions cache of the environment: the key of the environment the
    runtime will use (`environments.plan`): the resolved pins it will install (generated as
    of the code's date when the repository has no requirements file, then kept beside the
    environments), the uv.toml, the Python, the device, the repository's path and identity
    (its remote; the workflow's `GITHUB_REPOSITORY` only for the workflow's own checkout)
    and, when its own build runs, the repository's content. The cache held neither identity
    nor content: one fork's environment was restored into another's job (outside attack,
    round 20b F3)."""
    import hashlib

    from forkvet import environments as envs
    from forkvet.snapshot import load

    root = Path(target)
    if not root.is_dir():
        raise InputError(f"{target}: not a folder")
    snap = load(root.resolve())
    lines, source, version, config = envs.requirements_and_config(snap, None, python, env_dir)
    p = envs.plan(snap, lines, source, version, device, env_dir, config)
    h = hashlib.sha256(f"{envs.FORMAT}\0{p.key}\0{p.device}".encode())
    return h.hexdigest()[:24]


def cmd_envs(args: argparse.Namespace) -> int:
    root = env_root(args.env_dir)
    if args.action == "key":
        if not args.target:
            raise InputError("forkvet envs key TARGET: give the repository folder")
        sys.stdout.write(cache_key(args.target, args.python_version, args.device, args.env_dir))
        sys.stdout.write("\n")
        return 0
    if args.action == "list":
        items = listing(root)
    else:
        if args.older_than is None and args.max_size is None:
            raise InputError("forkvet envs prune: give --older-than DAYS and/or --max-size GIB")
        items = prune(root, args.older_than, args.max_size)
    if args.format == "json":
        data: dict[str, Any] = {"root": str(root), args.action: [asdict(k) for k in items]}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    verb = "removed" if args.action == "prune" else "kept"
    lines = [f"forkvet envs: {len(items)} {verb} in {root}"]
    lines += [
        f"  {k.size_mib:>9.1f} MiB  {k.age_days:>6.1f} d old  {k.idle_days:>6.1f} d idle  {k.name}"
        for k in items
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def register(sub: Any) -> None:
    from forkvet.runtime.cli import python_version

    p = sub.add_parser(
        "envs",
        help="list or prune the shared environments (size, age, last use)",
        description="The environments smoke, train-check and env --verify keep outside the "
        "checkouts, one per repository, requirements, Python and device.",
    )
    p.add_argument(
        "action",
        choices=("list", "prune", "key"),
        help="list: the kept environments (size, age, last use); prune: remove unused ones; "
        "key: the cache key of a repository's environment (for actions/cache)",
    )
    p.add_argument("target", nargs="?", help="key: the repository folder")
    p.add_argument(
        "--python-version", type=python_version, help="key: the Python the runtime is asked for"
    )
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), help="key: the device")
    p.add_argument(
        "--env-dir",
        help="the environments' folder (default: FORKVET_ENV_DIR or ~/.cache/forkvet/envs)",
    )
    p.add_argument(
        "--older-than",
        type=float,
        metavar="DAYS",
        help="prune: remove those not used for DAYS days",
    )
    p.add_argument(
        "--max-size",
        type=float,
        metavar="GIB",
        help="prune: then remove the least recently used until the rest fit",
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    p.set_defaults(func=cmd_envs)
