"""The sandbox's launcher in a user namespace of its own: per-user kernel counts and the
inode space of `/dev/shm` bounded for the sandbox alone.

Two bounds the kernel keeps per user, not per process, crossed the sandbox (outside attack,
round 22b):

- F11: inotify instances and watches are counted per user namespace and charged up the chain
  to the host user that made it: the command took all 128 inotify instances of the runner's
  user host-wide (as root: of every root daemon). A user namespace's own limits
  (`/proc/sys/user/max_inotify_*`) can be set only from inside it by its creator; so the
  launcher makes one (CLONE_NEWUSER, its own user and group mapped to themselves), sets them
  (`FORKVET_COMMAND_INOTIFY`, default 32 instances; `FORKVET_COMMAND_INOTIFY_WATCHES`,
  default 8192) and only then starts bwrap, whose namespaces are nested below: every count
  of the command is checked against them. RLIMIT_SIGPENDING and RLIMIT_MSGQUEUE, set before
  the namespace is made, are its maxima for the same chain;
- F5: a tmpfs sized by bwrap's `--size` bounds bytes, not inodes or (Linux 6.6+) `user.*`
  extended attributes, both unreclaimable kernel memory in the mount's inode space: ~RAM/8
  from a bounded `/dev/shm`. The launcher mounts `/dev/shm`'s tmpfs itself in its own mount
  namespace with `size=` and `nr_inodes=` (`FORKVET_COMMAND_SHM_INODES`, default 65536: at
  most 64 MiB of inode space), and bwrap binds it; so also the private `/tmp` where it is a
  tmpfs (no temporary folder on a disk, `tmpstore`).

Where the kernel or a security module refuses the namespace (`available()` probes it once),
the sandbox runs as before and the result's `limits` says what is then shared with the host
user and unbounded; where the probe succeeded and the launcher still cannot, nothing starts.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

INOTIFY_VAR = "FORKVET_COMMAND_INOTIFY"
WATCHES_VAR = "FORKVET_COMMAND_INOTIFY_WATCHES"
SHM_INODES_VAR = "FORKVET_COMMAND_SHM_INODES"
DEFAULT_INOTIFY, DEFAULT_WATCHES, DEFAULT_SHM_INODES = 32, 8192, 65536
SIGPENDING, MSGQUEUE = 1024, 819200

# Run by the launcher (forkvet's interpreter, isolated) before bwrap; `ns` is `setup()`'s.
LAUNCHER = (
    "def own_namespace(ns):\n"
    "    uid, gid = os.getuid(), os.getgid()\n"
    "    if libc.unshare(0x10000000 | 0x00020000) != 0:\n"  # CLONE_NEWUSER | CLONE_NEWNS
    "        sys.exit('forkvet: no user namespace for the sandbox: '\n"
    "                 + os.strerror(ctypes.get_errno()))\n"
    "    maps = (('setgroups', 'deny'), ('uid_map', f'{uid} {uid} 1'),\n"
    "            ('gid_map', f'{gid} {gid} 1'))\n"
    "    for name, text in maps:\n"
    "        with open('/proc/self/' + name, 'w') as f:\n"
    "            f.write(text)\n"
    "    for name, value in ns['sysctl'].items():\n"
    "        with open('/proc/sys/user/' + name, 'w') as f:\n"
    "            f.write(str(value))\n"
    "    if libc.mount(b'none', b'/', None, 0x4000 | 0x40000, None) != 0:\n"  # MS_REC|PRIVATE
    "        sys.exit('forkvet: cannot make the launcher\\'s mounts private')\n"
    "    for path, options in ns['tmpfs']:\n"
    "        # MS_NOSUID | MS_NODEV\n"
    "        if libc.mount(b'tmpfs', os.fsencode(path), b'tmpfs', 6, options.encode()) != 0:\n"
    "            sys.exit('forkvet: cannot mount a bounded tmpfs: '\n"
    "                     + os.strerror(ctypes.get_errno()))\n"
)


def _knob(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    from forkvet.runtime.knobs import knob

    return max(1, knob(name, default, environ))


def sysctls(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    return {
        "max_inotify_instances": _knob(INOTIFY_VAR, DEFAULT_INOTIFY, environ),
        "max_inotify_watches": _knob(WATCHES_VAR, DEFAULT_WATCHES, environ),
    }


_PROBE = (
    "import ctypes, json, os, sys, tempfile\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n" + LAUNCHER + "point = tempfile.mkdtemp()\n"
    "try:\n"
    "    own_namespace(json.loads(sys.argv[1]) | {'tmpfs': [[point, 'size=1m,nr_inodes=8']]})\n"
    "finally:\n"
    "    libc.umount2(os.fsencode(point), 2)\n"  # MNT_DETACH
    "    os.rmdir(point)\n"
)


@functools.cache
def available() -> bool:
    """Whether the launcher can make its own user namespace here (tried once, in a child)."""
    ns = json.dumps({"sysctl": sysctls()})
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _PROBE, ns], cwd="/", capture_output=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def tmpfs_options(size: int, environ: Mapping[str, str] | None = None) -> str:
    inodes = _knob(SHM_INODES_VAR, DEFAULT_SHM_INODES, environ)
    return f"size={size},nr_inodes={inodes},mode=1777"


def setup(
    private: str, sizes: Mapping[str, int]
) -> tuple[dict[str, object] | None, dict[str, str]]:
    """(the launcher's `ns` setup, {name: the folder of private/ that becomes that tmpfs})
    for tmpfs folders of `sizes` ({name: bytes}: "shm" for /dev/shm, "tmp" for /tmp where it
    is RAM), or (None, {}) where no namespace of its own can be had (`available`)."""
    if not available():
        return None, {}
    points: dict[str, str] = {}
    for name in sizes:
        Path(private, name).mkdir(exist_ok=True)
        points[name] = str(Path(private, name))
    mounts = [[points[name], tmpfs_options(size)] for name, size in sizes.items()]
    return {"sysctl": sysctls(), "tmpfs": mounts}, points


def said(environ: Mapping[str, str] | None = None) -> str:
    """The result's sentence for what the namespace bounds, or says is shared."""
    if not available():
        return (
            "not bounded (no user namespace of its own for the launcher here): inotify "
            "instances and watches, shared with the host user, and the inodes and extended "
            "attributes of /dev/shm (kernel memory)"
        )
    found = sysctls(environ)
    return (
        f"{found['max_inotify_instances']} inotify instances and "
        f"{found['max_inotify_watches']} watches (a user namespace of its own), "
        f"{_knob(SHM_INODES_VAR, DEFAULT_SHM_INODES, environ)} inodes for each RAM folder "
        "(/dev/shm, a tmpfs /tmp)"
    )
