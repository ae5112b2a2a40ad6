"""The repository's code in a sandbox it cannot undo (bubblewrap, `bwrap`).

Every program that runs the repository's code — the smoke and training commands, the import
check, notebook kernels, the builds of `pip install -e .` and of source releases — starts
through `sandboxed()`. Inside:

- the whole file system is read-only (`--ro-bind / /`); only the repository, the output
  folder, a private `/tmp` (also `HOME`; on a disk, or a size-bounded tmpfs: `tmpstore`)
  and a size-bounded `/dev/shm` are
  writable for the repository's code; its environment is read-only (`environment_mounts`),
  written only by forkvet's own installs; `/dev` and `/run` are read-only;
- forkvet's own installation (`sys.prefix`, its site-packages, the folder of the `forkvet`
  package), the Actions' tool folders (`RUNNER_TOOL_CACHE`, the runner's `_actions`) are
  mounted read-only again on top of any writable folder that holds them;
- the runner's workflow-command files (`GITHUB_ENV`, `GITHUB_PATH`, `GITHUB_OUTPUT`,
  `GITHUB_STEP_SUMMARY`, `GITHUB_STATE`) are covered last, so nothing re-exposes them, and
  `/run` (the Docker and other daemons' sockets) is an empty tmpfs, holding at most the one
  file `/etc/resolv.conf` leads to, a copy forkvet wrote (`resolver_mounts`): no host folder
  is bound for name resolution;
- its own user, PID, IPC and UTS namespaces with a fresh `/proc` (forkvet's ancestors and
  their `/proc/<pid>/environ` do not exist there), killed as a whole when it ends;
- **no capability** (`--cap-drop ALL`, even when forkvet runs as root), `no_new_privs`, and no
  further user namespace (`--disable-userns`): a mount cannot be removed, remounted or
  replaced, so none of the above can be undone from inside. `probe()` checks this on the
  machine (CapEff 0, NoNewPrivs 1) before it is trusted.

Where bubblewrap is missing or cannot start (unprivileged user namespaces switched off, e.g.
Ubuntu 24.04's AppArmor default), nothing of the repository runs: `SandboxUnavailable` (exit 3)
says why and what to do, unless the operator opted out for this process
(`allow_unsandboxed()`, from `--allow-unsandboxed` or `runtime.require_sandbox: false` in the
operator's own `--config`; a repository's file cannot). `FORKVET_NO_SANDBOX=1` makes forkvet
act as if no sandbox existed (tests, debugging): it can only make a run fail, never weaker.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import site
import stat
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import forkvet
from forkvet import fstree, hostpaths
from forkvet.errors import ForkvetError, InputError
from forkvet.runtime import (
    diskbound,
    gitconfig,
    gitplants,
    gpunodes,
    limits,
    memcg,
    ownns,
    seccomp,
    tmpstore,
)
from forkvet.runtime.selfisolate import isolate_self

COMMAND_FILES = (
    "GITHUB_ENV",
    "GITHUB_PATH",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_STATE",
)
# Where the runner keeps the workflow-command files of every step of the job.
_COMMAND_FOLDER = "_runner_file_commands"
ISOLATED = "bubblewrap"
NONE = "none"
FIX = (
    "install bubblewrap (apt-get install bubblewrap) and allow unprivileged user namespaces "
    "(docs/runtime.md#isolation-what-holds-and-what-the-operator-must-do)"
)


class SandboxUnavailable(ForkvetError):
    """The repository's code would run without the sandbox, and the operator did not opt out."""

    exit_code = 3


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""  # why not, with what to do


_allowed_without = False


_NETWORK_CUT: list[bool] = []


def cut_network() -> None:
    """The operator's `runtime.network: none` (or --no-network) for this process: every later
    sandbox of the repository's code gets its own network namespace (only loopback). Installs
    that fetch from the package index ask for the network explicitly (`index=True`)."""
    _NETWORK_CUT.append(True)


def network_cut() -> bool:
    return bool(_NETWORK_CUT)


def allow_unsandboxed() -> None:
    """The operator's explicit opt-out for this process: without a sandbox, run anyway."""
    global _allowed_without
    _allowed_without = True


def unsandboxed_allowed() -> bool:
    return _allowed_without


def _bwrap() -> str | None:
    return hostpaths.find("bwrap")


def _apparmor_hint() -> str:
    try:
        flag = Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").read_text()
    except OSError:
        return ""
    if flag.strip() != "1" or os.geteuid() == 0:
        return ""
    return (
        "; AppArmor restricts unprivileged user namespaces here "
        "(kernel.apparmor_restrict_unprivileged_userns=1): give bwrap an AppArmor profile "
        "with `userns` or set the sysctl to 0"
    )


# Run inside by the probe: the promises themselves, not only that bwrap starts.
_PROBE = (
    'grep -Eq "^CapEff:[[:space:]]*0+$" /proc/self/status && '
    'grep -Eq "^NoNewPrivs:[[:space:]]*1$" /proc/self/status && '
    'grep -Eq "^Seccomp:[[:space:]]*2$" /proc/self/status && '
    "! touch /forkvet-probe 2>/dev/null"
)


@functools.cache
def probe() -> Availability:
    """Can this machine run the sandbox, with no capability, no_new_privs and forkvet's
    seccomp filter inside?"""
    if os.environ.get("FORKVET_NO_SANDBOX"):
        return Availability(False, "FORKVET_NO_SANDBOX is set")
    if not sys.platform.startswith("linux"):
        return Availability(False, f"no sandbox on {sys.platform} (Linux only)")
    bwrap = _bwrap()
    if bwrap is None:
        return Availability(False, "bubblewrap (bwrap) is not installed: " + FIX)
    if seccomp.program() is None:
        return Availability(False, _NO_FILTER)
    with tempfile.TemporaryDirectory(prefix="forkvet-probe-") as tmp:
        private_tmp, resolv = _private_folders(Path(tmp), network=True, on_disk=True)
        argv = _argv(["/bin/sh", "-c", _PROBE], Path("/"), [], private_tmp, bwrap, resolv=resolv)
        try:
            proc = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
                stdin=subprocess.DEVNULL,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Availability(False, f"bwrap did not start ({exc}): {FIX}")
    if proc.returncode != 0:
        said = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        why = said[-1][:200] if said else "capabilities or no_new_privs not as required"
        return Availability(False, f"bwrap failed: {why}{_apparmor_hint()}: {FIX}")
    return Availability(True)


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(path)


def _inside(path: str, folders: Iterable[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def protected_paths(environ: dict[str, str] | None = None) -> list[str]:
    """forkvet's own installation and the Actions' tool folders (read-only inside)."""
    env = os.environ if environ is None else environ
    found = [sys.prefix, str(Path(forkvet.__file__).resolve().parent)]
    found += site.getsitepackages()
    user = site.getusersitepackages()
    found += [user] if isinstance(user, str) else []
    # forkvet's cache of index answers: the repository's code must not plant entries in it
    # (an environment folder under the same cache folder is writable).
    from forkvet.envgen.indexcache import for_sandbox

    found.append(str(for_sandbox(env)))
    if env.get("RUNNER_TOOL_CACHE"):
        found.append(env["RUNNER_TOOL_CACHE"])
    action = env.get("GITHUB_ACTION_PATH")
    if action:
        parts = Path(action).parts
        # The runner's `_actions` folder holds every action of the job, forkvet's included.
        cut = parts.index("_actions") + 1 if "_actions" in parts else len(parts)
        found.append(str(Path(*parts[:cut])))
    return sorted({_real(p) for p in found if p and os.path.exists(p)})


# Folders of locks other steps wait on: forkvet's folders of environments (every other
# repository's environment and its `.lock`), uv's cache (its `.lock`, which every uv of the
# runner's user takes) and the Hugging Face hub's `.locks`. `flock` needs no write access:
# from the read-only file system the command held them all, and other jobs waited until it
# ended (outside attack, round 19b F6). Each is an empty, read-only folder inside, except a
# writable folder within it (the environment of this run), bound again on top.
_SHARED_FOLDERS: set[str] = set()


def hide_folder(path: str | os.PathLike[str]) -> None:
    """Register a folder of shared locks (forkvet's env root, the uv cache it found)."""
    _SHARED_FOLDERS.add(os.path.abspath(path))


def shared_folders(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    cache, hf = _caches(env)
    found = [*_SHARED_FOLDERS, env.get("UV_CACHE_DIR", ""), os.path.join(cache, "uv")]
    found.append(os.path.join(cache, "forkvet", "envs"))
    for hub in (env.get("HF_HUB_CACHE", ""), os.path.join(hf, "hub")):
        found += [os.path.join(hub, ".locks")] if hub else []
    return sorted({_real(p) for p in found if os.path.isabs(p) and os.path.isdir(p)})


def _caches(env: Mapping[str, str]) -> tuple[str, str]:
    """(the user's cache folder, the Hugging Face hub's home), as the tools find them."""
    home = env.get("HOME") or os.path.expanduser("~")
    cache = env.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return cache, env.get("HF_HOME") or os.path.join(cache, "huggingface")


def runner_folders(environ: dict[str, str] | None = None) -> list[str]:
    """The runner's work folders outside the repository that the command never needs:
    `RUNNER_TEMP` (the step scripts the runner writes there, with `${{ secrets.X }}` already
    substituted, every step's files and forkvet's own outputs) and the `_actions` folder of
    every action of the job. Inside they are empty and read-only: only what the sandbox binds
    in again is there (a writable folder, the output scratch, forkvet's own installation
    read-only), shown by construction, not by listing what the runner puts there (outside
    attack, round 19b notes). The tool cache (`RUNNER_TOOL_CACHE`) stays, read-only: the
    environment's interpreter comes from there."""
    env = os.environ if environ is None else environ
    found = [env.get("RUNNER_TEMP", "")]
    parts = Path(env.get("GITHUB_ACTION_PATH", "") or "/").parts
    if "_actions" in parts:
        found.append(str(Path(*parts[: parts.index("_actions") + 1])))
    return sorted({_real(p) for p in found if os.path.isabs(p) and os.path.isdir(p)})


def _cover_shared(rw: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(tmpfs covers before the writable mounts, read-only remounts after them, the runner's
    folders covered) for every shared folder (`shared_folders`) and runner folder
    (`runner_folders`) that no writable folder holds (an install's uv cache stays its own)."""
    covers: list[str] = []
    remounts: list[str] = []
    runner = runner_folders()
    for path in sorted({*shared_folders(), *runner}):
        if _inside(path, rw):
            continue
        covers += [*_EMPTY_TMPFS, path]
        remounts += ["--remount-ro", path]
    return covers, remounts, [p for p in runner if not _inside(p, rw)]


def hidden_files(environ: dict[str, str] | None = None) -> list[str]:
    """The runner's command files and the tokens tools keep in the folders the command may
    read: `HF_HOME` is passed for the model cache, and huggingface_hub reads `$HF_HOME/token`
    by itself (outside attack, round 22b F8)."""
    env = os.environ if environ is None else environ
    found = [env[name] for name in COMMAND_FILES if env.get(name)]
    found += token_files(env)
    return sorted({_real(p) for p in found if os.path.isabs(p) and os.path.isfile(p)})


def token_files(env: Mapping[str, str]) -> list[str]:
    """Where the Hugging Face hub keeps its login: `HF_TOKEN_PATH`, else `token` (and the
    `stored_tokens` of named logins) in `HF_HOME`, else in `$XDG_CACHE_HOME/huggingface`."""
    cache, hf = _caches(env)
    found = [env.get("HF_TOKEN_PATH", "")]
    for folder in {hf, os.path.join(cache, "huggingface")}:
        found += [os.path.join(folder, "token"), os.path.join(folder, "stored_tokens")]
    return [p for p in found if p]


# Name resolution inside: a file forkvet writes, never a host folder. /etc/resolv.conf often
# links into /run (systemd-resolved's /run/systemd/resolve/stub-resolv.conf, or /run/resolv.conf
# itself), and the folder it lies in holds sockets: resolved's varlink socket (a DNS query sent
# by the host's resolver: egress under --no-network) or, where the folder is /run, the Docker
# socket (outside attack, round 17b F5, F5b). So /run stays an empty tmpfs and the one path
# the link leads to there is recreated in it, holding a copy of the host's resolver lines.
RESOLV_CONF = "/etc/resolv.conf"
_RUN = "/run"
_RESOLV_MAX = 64 << 10
_RESOLV_KEYS = ("nameserver", "search", "domain", "options", "sortlist")
_MAX_HOPS = 40


def resolver_text(network: bool, conf: str = RESOLV_CONF) -> str:
    """What the sandbox's resolv.conf holds. Without a network: no resolver at all (the
    libc's default, 127.0.0.1, is the sandbox's own loopback). With the shared network: the
    host's resolver lines (nameserver, search, domain, options, sortlist), read once by
    forkvet, as text. systemd-resolved's stub `127.0.0.53` is kept: the shared network reaches
    it as it reaches the upstream servers, and it keeps the host's per-link DNS routing."""
    head = "# written by forkvet for the sandbox\n"
    if not network:
        return head + "# no network: no resolver\n"
    try:
        # O_NONBLOCK: a FIFO in its place never stalls forkvet; the host's file, bounded
        fd = os.open(conf, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return head
            raw = os.read(fd, _RESOLV_MAX)
        finally:
            os.close(fd)
    except OSError:
        return head
    kept = []
    for line in raw.decode("utf-8", "replace").splitlines():
        words = line.split()
        if words and words[0] in _RESOLV_KEYS and line.isprintable():
            kept.append(" ".join(words))
    return head + "".join(f"{line}\n" for line in kept)


def resolver_mounts(copy: str, conf: str = RESOLV_CONF, run: str = _RUN) -> list[str]:
    """bwrap arguments that make `conf` read `copy` inside. The sandbox sees the host's
    read-only / with an empty tmpfs at `run`: the path `conf` resolves to is followed link by
    link; a link inside `run` is made again in the tmpfs (`--symlink`), and the file it ends
    at (in `run`, or on the host's file system) is the read-only copy. No host folder is
    bound. A chain that cannot be followed (a loop, a dangling link outside `run`, a folder
    where the file should be) binds nothing: the sandbox has no resolver then."""
    argv: list[str] = []
    path = conf
    for _ in range(_MAX_HOPS):
        path = os.path.join(_real(os.path.dirname(path)), os.path.basename(path))
        in_run = _inside(path, [run]) and path != run
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            mode = None
        if mode is not None and stat.S_ISLNK(mode):
            try:
                text = os.readlink(path)
            except OSError:
                return []
            if in_run:
                argv += [*_run_parents(path, run), "--symlink", text, path]
            path = os.path.normpath(os.path.join(os.path.dirname(path), text))
            continue
        if in_run and (mode is None or stat.S_ISREG(mode)):
            return [*argv, *_run_parents(path, run), "--ro-bind", copy, path]
        if mode is not None and stat.S_ISREG(mode):
            return [*argv, "--ro-bind", copy, path]
        return []
    return []


def _run_parents(path: str, run: str) -> list[str]:
    parent = os.path.dirname(path)
    return [] if parent == run else ["--dir", parent]


# /run holds at most the resolver's link chain (made before it is remounted read-only).
_RUN_BYTES = 64 << 10
# Every other tmpfs is an empty cover, remounted read-only at once; bounded all the same.
_EMPTY_TMPFS = ("--size", str(64 << 10), "--tmpfs")
# Namespaces, capabilities and the read-only host: the start of every sandbox's argv.
_ISOLATION = (
    "--unshare-user",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--disable-userns",
    "--die-with-parent",
    "--cap-drop",
    "ALL",
    "--new-session",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--size",
    str(_RUN_BYTES),
    "--tmpfs",
    "/run",
)


# Kernel keyrings are no files: the read-only mounts do not cover them, and bwrap keeps the
# caller's session keyring, where a Kerberos ticket (`KEYRING:` ccaches), NFS/CIFS keys or a
# previous step's keys live; the command read, overwrote and added keys there, which later
# steps kept (outside attack, round 19b F4). So bwrap starts from this launcher, which joins
# a new, empty session keyring (keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL), as systemd and
# container runtimes do) and execs it: the sandbox and all it starts inherit that keyring.
# Where keyctl is filtered (ENOSYS, EPERM: a container's seccomp), it is so for the whole
# tree; any other failure, or a machine whose keyctl number is not known, starts nothing.
_KEYCTL = {"x86_64": 250, "aarch64": 219, "riscv64": 219, "ppc64le": 271, "s390x": 280}
_JOIN_KEYRING = (
    "import ctypes, errno, json, os, resource, signal, sys, time\n"
    f"nr = {_KEYCTL!r}.get(os.uname().machine)\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "ok = nr is not None and libc.syscall(ctypes.c_long(nr), ctypes.c_long(1), None) >= 0\n"
    "if not ok and (nr is None or ctypes.get_errno() not in (errno.ENOSYS, errno.EPERM)):\n"
    "    sys.exit('forkvet: cannot give the sandbox a session keyring of its own')\n"
    + ownns.LAUNCHER
    +
    # the limits (forkvet.runtime.limits), each no higher than the hard limit it had
    "for spec in filter(None, sys.argv[2].split(',')):\n"
    "    name, value = spec.split('=', 1)\n"
    # the memory cgroup (forkvet.runtime.memcg): moved in before anything else starts
    "    if name == 'CGROUP':\n"
    "        with open(value, 'w') as procs:\n"
    "            procs.write('0')\n"
    "        continue\n"
    # the command's CPU and I/O share (limits.NICE, the idle I/O class: ioprio_set)
    "    if name == 'PRIO':\n"
    "        now = os.getpriority(os.PRIO_PROCESS, 0)\n"
    "        os.setpriority(os.PRIO_PROCESS, 0, max(int(value), now))\n"
    "        continue\n"
    "    if name == 'IOPRIO':\n"
    "        nr, prio = map(int, value.split(':'))\n"
    "        args = (ctypes.c_long(nr), ctypes.c_long(1), ctypes.c_long(0), ctypes.c_long(prio))\n"
    "        libc.syscall(*args)\n"
    "        continue\n"
    "    kind = getattr(resource, 'RLIMIT_' + name)\n"
    "    hard = resource.getrlimit(kind)[1]\n"
    "    n = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)\n"
    "    resource.setrlimit(kind, (n, n))\n"
    # the seccomp program (forkvet.runtime.seccomp), read by bwrap from an inherited pipe
    "r, w = os.pipe()\n"
    "os.write(w, bytes.fromhex(sys.argv[1]))\n"
    "os.close(w)\n"
    "os.set_inheritable(r, True)\n"
    "argv = [sys.argv[4], '--seccomp', str(r), *sys.argv[5:]]\n"
    "setup = json.loads(sys.argv[3])\n"
    # dies with forkvet (PR_SET_PDEATHSIG, SIGKILL): bwrap's --die-with-parent is tied to this
    # launcher once it forks bwrap, so without it a killed forkvet left the command running
    # (outside attack, round 23b F1); a forkvet gone before the prctl: nothing starts
    "libc.prctl(1, signal.SIGKILL, 0, 0, 0)\n"
    "if setup.get('parent') and os.getppid() != setup['parent']:\n"
    "    sys.exit('forkvet: the process that started the sandbox is gone')\n"
    # a user namespace of its own (forkvet.runtime.ownns): per-user counts, /dev/shm's inodes
    "if setup['ns']:\n"
    "    own_namespace(setup['ns'])\n"
    "watch = setup['watch']\n"
    "if not watch:\n"
    "    os.execv(argv[0], argv)\n"
    # the disk bound (forkvet.runtime.diskbound): bwrap is a child, its file systems watched
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execv(argv[0], argv)\n"
    "os.close(r)\n"
    "signal.signal(signal.SIGTERM, lambda s, f: os.kill(pid, s))\n"
    "signal.signal(signal.SIGINT, lambda s, f: os.kill(pid, s))\n"
    "done, status = 0, 0\n"
    "while not done:\n"
    "    for path, room, inodes in watch:\n"
    "        st = os.statvfs(path)\n"
    "        if st.f_bavail * st.f_frsize < room or (st.f_files and st.f_favail < inodes):\n"
    "            os.kill(pid, signal.SIGKILL)\n"
    "            os.waitpid(pid, 0)\n"
    "            sys.stderr.write(f'forkvet: the command reached its disk bound on {path} '\n"
    "                f'(under {room >> 20} MiB or {inodes} inodes free): stopped\\n')\n"
    "            os._exit(125)\n"
    "    time.sleep(0.1)\n"
    "    done, status = os.waitpid(pid, os.WNOHANG)\n"
    "if os.WIFSIGNALED(status):\n"
    "    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)\n"
    "    os.kill(os.getpid(), os.WTERMSIG(status))\n"
    "os._exit(os.waitstatus_to_exitcode(status))\n"
)


def _launcher(outside: str, setup: str = '{"watch": [], "ns": null}') -> list[str]:
    """The start of every sandbox's argv: forkvet's own interpreter, isolated (-I, no site),
    joining a fresh session keyring, setting the command's memory limit (`limits.rlimits`) and
    handing bwrap the seccomp filter (`seccomp.program`) before it becomes bwrap
    (`_JOIN_KEYRING`), in a user namespace of its own (`setup`'s "ns": `ownns`; null: none)
    and watching the disk the command writes ("watch": `diskbound`'s list). No filter for
    this machine: SandboxUnavailable (the probe says so)."""
    program = seccomp.program()
    if program is None:
        raise SandboxUnavailable(_NO_FILTER)
    return [sys.executable, "-I", "-S", "-c", _JOIN_KEYRING, program.hex(), outside, setup]


_NO_FILTER = (
    f"no seccomp filter is known for this machine's architecture ({os.uname().machine}; "
    "forkvet knows x86_64 and aarch64)"
)


def _argv(
    command: list[str],
    cwd: Path,
    writable: Iterable[str | os.PathLike[str]],
    private_tmp: Path | None,
    bwrap: str,
    readable: Iterable[str | os.PathLike[str]] = (),
    private_home: bool = True,
    network: bool = True,
    private_out: tuple[Path, Path] | None = None,
    resolv: str | None = None,
    cgroup: str | None = None,
    git_below: Iterable[str] = (),
    private: Path | None = None,
) -> list[str]:
    """bwrap's arguments. Order matters: each mount covers the ones before it, so the
    protected and hidden paths come after the writable folders that might hold them.
    `resolv`: the file the sandbox's /etc/resolv.conf reads (`resolver_text`); None: none.
    `cgroup`: the `cgroup.procs` the launcher moves itself into (`memcg.bounded`), or None.
    `git_below`: the `.git`s found below the run's folder before it (`gitplants.record`).
    `private`: forkvet's private folder (out of the sandbox's sight) for the scrubbed git
    config copies; None: the folder holding `private_tmp`."""
    rw = _writable(writable)
    folders = _command_folders()
    covers, remounts, hidden = _cover_shared(rw)
    bounds, gpu = limits.rlimits(), gpunodes.nodes()
    ram = {"shm": limits.shm_mb() << 20, **({} if private_tmp else {"tmp": limits.tmp_mb() << 20})}
    ns, points = ownns.setup(_copies_folder(private, private_tmp), ram)
    watched: list[str | Path] = [*rw, *([private_tmp] if private_tmp else [])]
    watched += [private_out[0]] if private_out else []
    return [
        *_launcher(
            ",".join(filter(None, [bounds.outside, cgroup and f"CGROUP={cgroup}"])),
            json.dumps({"watch": diskbound.watched(watched), "ns": ns, "parent": os.getpid()}),
        ),
        bwrap,
        *_ISOLATION,
        *([] if network else ["--unshare-net"]),
        *_proc_protection(),
        *_host_mounts(private_tmp, resolv, gpu.paths, points),
        *_empty_command_folders(folders),
        *covers,
        *tmpstore.covers(),  # every run's private folders (round 22b F10)
        *_writable_mounts(rw),
        *gitplants.covers(git_below),
        *_private_out_mount(private_out, rw),
        *_readable_mounts(readable, rw),
        *_masks(rw, folders, hidden),
        *gitconfig.mounts(  # nested checkouts' too (round 22b F12)
            _repository_gitdirs([_real(cwd), *rw, *map(os.path.dirname, git_below)]),
            _copies_folder(private, private_tmp),
        ),
        *remounts,
        *_child_environment(private_home),
        *gpunodes.setenv(gpu),
        *["--chdir", _real(cwd), "--", *limits.inside(command, bounds.nproc)],
    ]


def _copies_folder(private: Path | None, private_tmp: Path | None) -> str:
    folder = private if private is not None else private_tmp and private_tmp.parent
    if folder is None:  # a caller bug: the copies would land in the working folder
        raise ValueError("the sandbox's private folder is unknown")
    return str(folder)


# The new /proc still has the kernel's global knobs, and some check only that the writer is
# uid 0, not a capability: `kernel.core_pattern` would run a program of the repository as
# the host's root, outside every namespace, when forkvet runs as root (outside attack, round
# 4). As Docker and runc do: these read-only, and kernel internals hidden.
_PROC_READ_ONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs")
_PROC_HIDDEN = (
    "/proc/kcore",
    "/proc/keys",
    "/proc/timer_list",
    "/proc/sched_debug",
    "/proc/latency_stats",
    "/proc/acpi",
    "/proc/scsi",
    "/proc/asound",
)


def _proc_protection() -> list[str]:
    argv: list[str] = []
    for path in _PROC_READ_ONLY:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    for path in _PROC_HIDDEN:
        if os.path.isdir(path):
            argv += [*_EMPTY_TMPFS, path, "--remount-ro", path]
        elif os.path.exists(path):
            argv += ["--ro-bind", "/dev/null", path]
    return argv


def _writable(writable: Iterable[str | os.PathLike[str]]) -> list[str]:
    rw = sorted({_real(p) for p in writable if os.path.exists(p)})
    if "/" in rw:
        # a writable / would bring back the host's /proc, /dev and /tmp over the new ones
        raise InputError("the repository, environment or output folder is /: refusing to run")
    for path in rw:  # what the command may write never supplies a program forkvet runs later
        hostpaths.guard(path)
    return rw


def _host_mounts(
    private_tmp: Path | None,
    resolv: str | None,
    gpus: Iterable[str] = (),
    points: Mapping[str, str] | None = None,
) -> list[str]:
    """What the child sees of the host besides the read-only /: the resolver's file (a copy,
    `resolver_mounts`), the GPUs the run was given (`gpunodes`), a private /tmp: a host
    folder on a disk, or (None: there is no temporary folder on a disk, `tmpstore`) a tmpfs
    of its own of bounded size (round 21b F9), HOME (/tmp/home) in it."""
    argv = resolver_mounts(resolv) if resolv else []
    for dev in gpus:
        argv += ["--dev-bind", dev, dev]
    points = points or {}  # the launcher's tmpfs mounts, inodes bounded too (`ownns`)
    argv += _ram_folders(points.get("shm"))
    if private_tmp is None and "tmp" in points:
        return [*argv, "--bind", points["tmp"], "/tmp", "--dir", "/tmp/home"]
    if private_tmp is None:
        tmp = ["--size", str(limits.tmp_mb() << 20), "--tmpfs", "/tmp", "--dir", "/tmp/home"]
        return [*argv, *tmp]
    return [*argv, "--bind", str(private_tmp), "/tmp"]


def _ram_folders(shm: str | None = None) -> list[str]:
    """bwrap's /dev and the /run tmpfs are RAM no limit counts: the command wrote gigabytes
    there beyond RLIMIT_AS with a 9 MB RSS (outside attack, round 20b F1). Both read-only
    (a device node is still written to: a read-only mount stops new files, not I/O), and
    /dev/shm, which multiprocessing's locks and PyTorch's DataLoader need, a tmpfs of its
    own of bounded size (`limits.shm_mb`): a write past it fails with ENOSPC. `shm`: that
    tmpfs, mounted by the launcher with its inodes bounded too (`ownns`); None: bwrap's, whose
    `--size` bounds bytes only (round 22b F5)."""
    ro = ["--remount-ro", _RUN, "--remount-ro", "/dev"]
    if shm is not None:
        return [*ro, "--bind", shm, "/dev/shm"]
    return [*ro, "--size", str(limits.shm_mb() << 20), "--tmpfs", "/dev/shm"]


def _command_folders() -> set[str]:
    """The runner's folders of workflow-command files (every step's files in one folder)."""
    folders = {os.path.dirname(f) for f in hidden_files()}
    return {f for f in folders if os.path.basename(f) == _COMMAND_FOLDER}


def _empty_command_folders(folders: set[str]) -> list[str]:
    # The runner's folder of command files: every step's files, hidden at once (empty).
    argv: list[str] = []
    for folder in sorted(folders):
        argv += [*_EMPTY_TMPFS, folder, "--remount-ro", folder]
    return argv


def _writable_mounts(rw: list[str]) -> list[str]:
    argv: list[str] = []
    for path in rw:
        argv += ["--bind", path, path]
    for path in rw:
        argv += _git_covers(path, rw)
    return argv


def _git_covers(path: str, rw: list[str]) -> list[str]:
    """The repository's git folder stays read-only: config, hooks or core.fsmonitor written
    there would run later in git commands outside the sandbox (actions/checkout's clean-up,
    the next job's checkout of the same workspace). By what `.git` resolves to, not by its
    name: a gitfile's or a link's git folder inside the writable tree is bound read-only too
    (outside attack, round 19b F7; the link itself is restored after the run,
    `_git_links`). A folder of a larger checkout (`path: models/x`) has the enclosing
    repository's submodules under it covered as a root's are (round 19b F2)."""
    git = os.path.join(path, ".git")
    argv: list[str] = []
    if os.path.lexists(git) and not os.path.islink(git):
        argv += ["--ro-bind", git, git]
    gitdir = _gitfile_target(git)
    if gitdir and gitdir != git and _inside(_real(gitdir), rw) and os.path.isdir(gitdir):
        real = _real(gitdir)
        root = max((r for r in rw if _inside(real, [r])), key=len)
        rel = real[len(root.rstrip("/")) + 1 :]
        argv += _pin_folders(root, os.path.dirname(rel), True, set())
        argv += ["--ro-bind", real, real]
    owner = _index_owner(path)
    return argv + (_submodule_covers(path, *owner, 0) if owner else [])


def _repository_gitdirs(paths: Iterable[str]) -> list[str]:
    """The git folders of the repositories these folders belong to: each one's own and the
    enclosing repository's (a folder of a larger checkout). Their config files are shown
    scrubbed (`gitconfig.mounts`): the job's token actions/checkout persists there was
    readable by the command (outside attack, round 21b F3)."""
    found: set[str] = set()
    for path in paths:
        if _real(path) == "/":
            continue  # the probe: no repository
        gitdir = _gitfile_target(os.path.join(path, ".git"))
        if gitdir and os.path.isfile(os.path.join(gitdir, "HEAD")):
            found.add(gitdir)
        outer = _enclosing_repository(path)
        if outer:
            found.add(outer[1])
    return sorted(found)


def _index_owner(path: str) -> tuple[str, str] | None:
    """(git folder, path of `path` in its work tree): the repository whose index records the
    submodules under `path` — its own, or for a folder of a larger checkout the enclosing
    one's."""
    gitdir = _gitfile_target(os.path.join(path, ".git"))
    if gitdir and os.path.isfile(os.path.join(gitdir, "HEAD")):
        return gitdir, ""
    outer = _enclosing_repository(path)
    return (outer[1], os.path.relpath(path, outer[0])) if outer else None


def _enclosing_repository(path: str) -> tuple[str, str] | None:
    """(work tree, git folder) of the nearest repository above `path`, found as git finds
    it: the first folder up with a `.git` (a folder, a gitfile or a link)."""
    here = os.path.dirname(path)
    while True:
        gitdir = _gitfile_target(os.path.join(here, ".git"))
        if gitdir and os.path.isfile(os.path.join(gitdir, "HEAD")):
            return here, gitdir
        if here == os.path.dirname(here):
            return None
        here = os.path.dirname(here)


_MAX_SUBMODULES = 1000


def _submodule_paths(gitdir: str, prefix: str) -> list[str]:
    """The submodule paths `gitdir`'s index records (at most _MAX_SUBMODULES), relative to
    the folder `prefix` of its work tree and only those under it; none that leave it."""
    from forkvet.snapshot import index_gitlinks

    try:
        with open(os.path.join(gitdir, "index"), "rb") as fh:
            links = index_gitlinks(fh.read(256 << 20))
    except (OSError, ValueError, IndexError, struct.error):
        return []
    found: list[str] = []
    for raw in links[:_MAX_SUBMODULES]:
        rel = os.fsdecode(raw)
        if rel.startswith("/") or ".." in rel.split("/"):
            continue
        if prefix and prefix != ".":
            if not rel.startswith(prefix + "/"):
                continue
            rel = rel[len(prefix) + 1 :]
        found.append(rel)
    return found


def _submodule_covers(worktree: str, gitdir: str, prefix: str, depth: int) -> list[str]:
    """Every submodule path of this checkout (its index's gitlinks), read-only: a `.git` the
    command plants in an unpopulated submodule folder (core.fsmonitor in its config) would
    run in `git submodule foreach --recursive`, which actions/checkout's clean-up runs
    outside the sandbox (outside attack, round 14b). A populated submodule's `.git` (a file
    pointing into the read-only git folder) is covered, and its own submodules in turn.
    `prefix`: `worktree` is this folder of the repository (`gitdir` is the enclosing one's):
    only the submodules under it, by their paths below it. A `.git` that is a link cannot
    be a mount point: its folders are pinned, and it is put back after the run
    (`_git_links`)."""
    argv: list[str] = []
    pinned: set[str] = set()
    for rel in _submodule_paths(gitdir, prefix):
        sub = os.path.join(worktree, rel)
        dotgit = os.path.join(sub, ".git")
        if os.path.islink(sub):
            continue
        if os.path.islink(dotgit):
            argv += _pin_folders(worktree, rel, True, pinned)
            continue
        try:  # as a checkout without submodules leaves it: an empty folder, its parents too
            os.makedirs(sub, exist_ok=True)
        except OSError:
            continue
        # A mount protects a path, not a name: the folders above it (and a populated
        # submodule's own folder) could be renamed away and the name made anew (outside
        # attack, round 15b). Each is bound onto itself, writable as before: a mount point
        # cannot be renamed or removed, and the sandbox cannot unmount it.
        argv += _pin_folders(worktree, rel, os.path.lexists(dotgit), pinned)
        if os.path.lexists(dotgit):
            argv += ["--ro-bind", dotgit, dotgit]
            inner = _gitfile_target(dotgit)
            if inner and depth < 4:
                argv += _submodule_covers(sub, inner, "", depth + 1)
        else:
            # unpopulated (an empty folder, or none): nothing may be created there
            argv += [*_EMPTY_TMPFS, sub, "--remount-ro", sub]
    return argv


def _pin_folders(worktree: str, rel: str, populated: bool, pinned: set[str]) -> list[str]:
    """`--bind X X` for every folder between a writable root and a protected path inside it
    (the path itself too when `populated`), each once, parents first: submodule paths and
    forkvet's own read-only paths both use it."""
    if not rel:
        return []
    parts = rel.split("/")
    argv: list[str] = []
    for depth in range(1, len(parts) + (1 if populated else 0)):
        folder = os.path.join(worktree, *parts[:depth])
        if folder in pinned or not os.path.isdir(folder) or os.path.islink(folder):
            continue
        pinned.add(folder)
        argv += ["--bind", folder, folder]
    return argv


def _gitfile_target(dotgit: str) -> str | None:
    """The git folder a `.git` names: itself (a folder), a gitfile's (`gitdir:
    ../.git/modules/x`), or a link's destination."""
    if os.path.islink(dotgit):
        return _real(dotgit)
    if os.path.isdir(dotgit):
        return dotgit
    try:
        with open(dotgit, "rb") as fh:
            line = fh.read(4096).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not line.startswith("gitdir:"):
        return None
    target = line.removeprefix("gitdir:").strip()
    return os.path.normpath(os.path.join(os.path.dirname(dotgit), target))


def _private_out_mount(private_out: tuple[Path, Path] | None, rw: list[str]) -> list[str]:
    """The command's view of the output folder: a private scratch folder mounted over it
    (outside attack, round 16b C1/C2). forkvet writes its own files (log, plot, executed
    notebook) into the real folder, which the command never sees: nothing it plants there (a
    link named `smoke.log` to the runner's `.credentials`) can reach the artifact upload,
    whether forkvet ends normally, fails (a full disk) or is killed. When the output folder is
    inside a writable one, the folders between are mount points first: none can be renamed
    away with the real folder in it and the path made anew."""
    if private_out is None:
        return []
    scratch, dest = _real(private_out[0]), _real(private_out[1])
    argv: list[str] = []
    pinned: set[str] = set()
    for root in rw:
        if dest.startswith(root.rstrip("/") + "/"):
            argv += _pin_folders(root, dest[len(root.rstrip("/")) + 1 :], False, pinned)
    return [*argv, "--bind", scratch, dest]


def environment_mounts(env: dict[str, str] | None) -> list[str]:
    """The environment (`VIRTUAL_ENV`) of a run of the repository's code: given to the
    sandbox read-only, never writable. A `.pth` or `sitecustomize` the code planted in it ran
    in every later run that reused the environment, another commit's or another fork's,
    with that run's secrets (outside attack, round 20b F2, F3): read-only, it holds only what
    forkvet's install put there, and its key says what that was."""
    return [env["VIRTUAL_ENV"]] if env and env.get("VIRTUAL_ENV") else []


def _readable_mounts(readable: Iterable[str | os.PathLike[str]], rw: list[str]) -> list[str]:
    """Each read-only, over any writable folder that holds it, whose folders between are
    mount points first (none can be renamed away and the path made anew)."""
    argv: list[str] = []
    pinned: set[str] = set()
    for path in sorted({_real(p) for p in readable if os.path.exists(p)}):
        for root in rw:
            if path.startswith(root.rstrip("/") + "/"):
                rel = path[len(root.rstrip("/")) + 1 :]
                argv += _pin_folders(root, os.path.dirname(rel), True, pinned)
        argv += ["--ro-bind", path, path]
    return argv


def _masks(rw: list[str], folders: set[str], hidden: Iterable[str] = ()) -> list[str]:
    """forkvet's own files read-only and the runner's command files hidden, over the writable
    folders that might hold them; forkvet's own files inside a hidden runner folder (its
    environment in `RUNNER_TEMP`, the action's folder) read-only again."""
    argv: list[str] = []
    pinned: set[str] = set()
    hidden = list(hidden)
    for path in protected_paths():
        if path in hidden:
            continue  # hidden as a whole (`_actions`): stronger than read-only
        if _inside(path, rw) or _inside(path, ["/tmp", *hidden]):
            # its folders inside the writable one become mount points first, so that none
            # can be renamed away and the path made anew (outside attack, round 15b)
            for root in rw:
                if path.startswith(root.rstrip("/") + "/"):
                    rel = path[len(root.rstrip("/")) + 1 :]
                    argv += _pin_folders(root, os.path.dirname(rel), True, pinned)
            argv += ["--ro-bind", path, path]
    for path in hidden_files():
        if os.path.dirname(path) not in folders or _inside(path, rw):
            argv += ["--ro-bind", "/dev/null", path]
    return argv


def _child_environment(private_home: bool) -> list[str]:
    argv = ["--setenv", "HOME", "/tmp/home"] if private_home else []
    argv += ["--setenv", "TMPDIR", "/tmp"]
    # a host PID means nothing in the new PID namespace: ipykernel would see its parent gone
    return [*argv, "--unsetenv", "JPY_PARENT_PID"]


def require() -> bool:
    """True when the sandbox is available; False when it is not and the operator opted out;
    else SandboxUnavailable."""
    found = probe()
    if found.ok:
        return True
    if _allowed_without:
        return False
    raise SandboxUnavailable(
        f"refusing to run the repository's code without a sandbox: {found.reason} "
        "(to run it anyway on a machine you throw away: --allow-unsandboxed, or "
        "runtime.require_sandbox: false in your --config)"
    )


@contextmanager
def sandboxed(
    command: list[str],
    cwd: Path,
    writable: Iterable[str | os.PathLike[str]] = (),
    readable: Iterable[str | os.PathLike[str]] = (),
    private_home: bool = True,
    index: bool = False,
    cwd_writable: bool = True,
    private_out: tuple[Path, Path] | None = None,
) -> Iterator[tuple[list[str], str]]:
    """(argv that runs `command` in the sandbox, the isolation it gets: "bubblewrap" or, only
    when the operator opted out and no sandbox is available, "none"). `cwd` is writable; so
    are `writable`; `readable` folders under /tmp stay visible read-only. HOME is a folder
    of the private /tmp unless `private_home` is False (forkvet's installs: uv reads the
    user's configuration there). The private /tmp is removed afterwards.

    Before anything starts, forkvet's own environment block is wiped (`isolate_self`): with
    or without a sandbox, no child it starts here can read forkvet's secrets from
    /proc/<forkvet>/environ. Every child that could run the repository's code (an interpreter
    with the repository on its path, or the environment's interpreter, which that code may
    have changed) starts from the argv yielded here; tests/test_sandbox_entry.py checks it.

    `index`: an install that downloads from the package index keeps the network even when
    the operator cut it (cut_network) for the repository's code. `cwd_writable`: False for
    forkvet's own private folders (uv's, with forkvet's uv.toml): visible, read-only.
    `private_out`: (scratch, folder): the command sees the scratch folder, writable, at the
    path of `folder`, and never the real one (forkvet's own outputs go there).

    Afterwards (also when the run is stopped by SIGTERM or an error), every folder the code
    could write is repaired: no setuid/setgid file is left on the host, and every folder is
    its owner's to write again (`repair_modes`); a folder the repair cannot vouch for is a
    RepairFailed. No writable folder gets a `.git` it did not have (`_git_placeholders`),
    and no `.git` the run made below the run's folder survives (`gitplants`)."""
    isolate_self()
    rw = [cwd, *writable] if cwd_writable else list(writable)
    scratch = [private_out[0]] if private_out else []
    kept = (_git_placeholders(rw), _git_links(rw), gitplants.record([cwd] if cwd_writable else []))
    try:
        if not require():
            yield command, NONE
            return
        bwrap = _bwrap()
        assert bwrap is not None  # the probe found it
        place = tmpstore.parent()  # a disk's folder, else the sandbox's /tmp is a tmpfs
        private = Path(tempfile.mkdtemp(prefix="forkvet-sandbox-", dir=place))
        try:
            network = index or not network_cut()
            tmp, resolv = _private_folders(private, network, place is not None)
            ro = [*readable] if cwd_writable else [*readable, cwd]
            with memcg.bounded(limits.memory_mb()) as cgroup:
                at = (tmp, bwrap, ro, private_home, network, private_out, resolv, cgroup)
                yield _argv(command, cwd, rw, *at, gitplants.paths(kept[2]), private), ISOLATED
        finally:
            remove_private(private)
    finally:
        _after_run([*rw, *scratch], *kept)


def _after_run(
    folders: list[str | os.PathLike[str]],
    placeholders: list[tuple[str, tuple[int, int]]],
    links: list[_GitLink],
    dotgits: dict[str, gitplants.Known | None],
) -> None:
    try:
        repair_modes(folders)
    finally:
        _clear_git_placeholders(placeholders)
        _restore_git_links(links)
        made = gitplants.planted(dotgits)
    if made:
        raise RepairFailed(
            "the repository's code made a git repository forkvet did not check out (removed, "
            "so that no later step takes its commit, date or remote): " + ", ".join(made[:5])
        )


def _git_placeholders(rw: Iterable[str | os.PathLike[str]]) -> list[tuple[str, tuple[int, int]]]:
    """For every writable folder without a `.git`: an empty folder made there for the run,
    which the sandbox binds read-only like a real one (`_writable_mounts`). A checkout that is
    a folder of a larger repository (the Actions' `path: models/x`), or no repository at all,
    has no `.git` of its own to protect: the command made one (`git init`, a forged commit and
    remote, config full of program hooks), and every later step, outside the sandbox, took
    the commit, the code's date and the remote from it (outside attack, round 18b F4). An
    empty `.git` is no repository to git, which looks further up as before. Returns (path,
    identity) of each placeholder made, for `_clear_git_placeholders`."""
    made: list[tuple[str, tuple[int, int]]] = []
    for folder in {os.path.abspath(f) for f in rw}:
        dotgit = os.path.join(folder, ".git")
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode) or os.path.lexists(dotgit):
                continue
            os.mkdir(dotgit, 0o700)
            st = os.lstat(dotgit)
        except OSError:
            continue
        made.append((dotgit, (st.st_dev, st.st_ino)))
    return made


def _clear_git_placeholders(made: list[tuple[str, tuple[int, int]]]) -> None:
    """After the run: each placeholder is removed, and whatever else is at its name was made
    by the run (without the sandbox, the operator's opt-out, nothing covered it): removed
    too, so no later step or git command outside reads a repository the code planted."""
    for dotgit, ident in made:
        try:
            st = os.lstat(dotgit)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == ident and stat.S_ISDIR(st.st_mode):
            with contextlib.suppress(OSError):
                os.rmdir(dotgit)
                continue
        if stat.S_ISDIR(st.st_mode):
            with contextlib.suppress(RepairFailed):
                repair_modes([dotgit])
        fstree.remove_tree(dotgit)


class _GitLink(NamedTuple):
    path: str  # the writable folder's `.git`, a link
    text: str  # what it points at
    ident: tuple[int, int]
    target: str  # where it leads (resolved before the run)
    watch: bool  # dangling, into a folder the run could write: what it makes there goes


def _git_links(rw: Iterable[str | os.PathLike[str]]) -> list[_GitLink]:
    """Every writable folder's `.git` that is a link (a tool's layout, or a dangling one): a
    link cannot be a mount point, so the command could swap it for a forged repository
    whose commit the next step recorded and whose core.fsmonitor ran in a later `git
    status` (outside attack, round 19b F7). Recorded here, put back by
    `_restore_git_links`."""
    found: list[_GitLink] = []
    writable = [_real(f) for f in rw]
    for dotgit in _dotgits(rw):
        try:
            st = os.lstat(dotgit)
            if not stat.S_ISLNK(st.st_mode):
                continue
            text = os.readlink(dotgit)
        except OSError:
            continue
        target = _real(dotgit)
        ident = (st.st_dev, st.st_ino)
        watch = not os.path.lexists(target) and _inside(target, writable)
        found.append(_GitLink(dotgit, text, ident, target, watch))
    return found


def _dotgits(rw: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Each writable folder's `.git` and those of the submodules its index (or the
    enclosing repository's) records under it."""
    found: list[str] = []
    for folder in sorted({os.path.abspath(f) for f in rw}):
        found.append(os.path.join(folder, ".git"))
        owner = _index_owner(folder)
        for rel in _submodule_paths(*owner) if owner else []:
            found.append(os.path.join(folder, rel, ".git"))
    return found


def _restore_git_links(links: list[_GitLink]) -> None:
    """After the run: each `.git` link is the one it was, or whatever is at its name is
    removed and the link made again; a dangling link's destination the run made (inside a
    folder it could write) is removed, so the link leads nowhere again."""
    for link in links:
        try:
            st = os.lstat(link.path)
            same = (st.st_dev, st.st_ino) == link.ident and os.readlink(link.path) == link.text
        except OSError:
            same = False
        if not same:
            if os.path.isdir(link.path) and not os.path.islink(link.path):
                with contextlib.suppress(RepairFailed):
                    repair_modes([link.path])
            fstree.remove_tree(link.path)
            with contextlib.suppress(OSError):
                os.symlink(link.text, link.path)
        if link.watch and os.path.lexists(link.target):
            with contextlib.suppress(RepairFailed):
                repair_modes([link.target])
            fstree.remove_tree(link.target)


def _private_folders(private: Path, network: bool, on_disk: bool) -> tuple[Path | None, str]:
    """In forkvet's private folder: `tmp/` (with `home/`), the sandbox's /tmp, when `private`
    is on a disk (None: it is not), and `resolv.conf` beside it (read-only, out of the
    sandbox's sight), the copy its /etc/resolv.conf reads."""
    tmp = private / "tmp" if on_disk else None
    if tmp is not None:
        (tmp / "home").mkdir(parents=True)
    resolv = private / "resolv.conf"
    resolv.write_text(resolver_text(network), encoding="utf-8")
    resolv.chmod(0o444)
    return tmp, str(resolv)


# At most this many entries are looked at in one folder by one repair (an environment with a
# CUDA framework has some tens of thousands); past it, the repair fails closed.
MAX_REPAIR_ENTRIES = 2_000_000
_SET_ID = stat.S_ISUID | stat.S_ISGID
# Stripped everywhere as well: a folder or file others may write (0777, 1777, 2777) left on the
# host, root-owned when forkvet runs as root, lets any local user drop a `.pth` into the
# environment or files into the checkout (outside attack, round 19b F8).
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH | stat.S_ISVTX


class RepairFailed(ForkvetError):
    """The after-run repair could not vouch for a folder the code could write: a setuid file
    or a locked folder may be left there (the step fails and says so)."""


def repair_modes(folders: Iterable[str | os.PathLike[str]]) -> int:
    """After the repository's code ran: in every folder it could write, remove the setuid and
    setgid bits of every file and folder, group and other write and the sticky bit, and give
    every folder back to its owner (u+rwx). When forkvet
    runs as root, the code is root on the host's files it makes, and `chmod 4755` of a copied
    interpreter would leave a setuid-root program on the host, whose file system is not
    nosuid (outside attack, round 16b H2); a read-only folder left in the checkout makes the
    next job's checkout fail on a persistent runner (round 16b L2). The walk goes by folder
    descriptors (`fstree.walk_fds`): no path length limit (a chain past PATH_MAX was left
    unrepaired, round 18b F3), no link followed (each chmod is relative to its folder's
    descriptor, without following), each folder repaired before it is opened. It fails
    closed: every folder is tried, then RepairFailed says what could not be walked or
    repaired (a folder past the entry bound included). Returns how many modes were changed."""
    changed = 0
    problems: list[str] = []
    for folder in folders:
        top = os.path.abspath(folder)
        if _real(top) == "/":
            continue  # refused by _writable: never a walk of the whole machine
        try:
            changed += _repair_tree(top, [MAX_REPAIR_ENTRIES])
        except (fstree.WalkError, _Unrepaired) as exc:
            problems.append(f"{top}: {exc}")
    if problems:
        raise RepairFailed(
            "after the run, forkvet could not repair every mode in a folder the repository's "
            "code could write, or found more in it than it vouches for (what it could not "
            "repair is said; a setuid file or a locked folder may be left there): "
            + "; ".join(problems)
        )
    return changed


class _Unrepaired(Exception):
    pass


def _repair_tree(top: str, budget: list[int]) -> int:
    """Every entry is repaired, the bound or a failed change notwithstanding: past the
    bound the walk went on being an error but stopped repairing, and the setuid files and
    mode-000 folders it had not reached yet stayed on the host, the command's choice (2.05
    million hard links, outside attack, round 19b F5). The walk ends: the command that made
    the tree is gone, and it costs a fraction of the time the command took to make it. Then
    the first problem is raised (the step fails)."""
    changed = 0
    problem: str | None = None
    for entry in fstree.walk_fds(top):  # top-down: a folder is opened after its chmod
        if entry.depth == 0 and not stat.S_ISDIR(entry.st.st_mode):
            return 0  # not a folder: nothing of the code's to walk
        budget[0] -= 1
        if budget[0] == -1:
            problem = problem or f"more than {MAX_REPAIR_ENTRIES:,} files and folders"
        try:
            changed += _repair_one(entry)
        except _Unrepaired as exc:
            problem = problem or str(exc)
    if problem:
        raise _Unrepaired(f"{problem} (every other entry repaired)")
    return changed


def _repair_one(entry: fstree.Entry) -> int:
    mode = entry.st.st_mode
    if stat.S_ISDIR(mode):
        wanted = (mode | stat.S_IRWXU) & ~(_SET_ID | _OTHERS_WRITE)
    elif stat.S_ISREG(mode):
        wanted = mode & ~(_SET_ID | _OTHERS_WRITE)
    else:
        return 0  # a link (never followed), a FIFO, a socket
    if stat.S_IMODE(wanted) == stat.S_IMODE(mode):
        return 0
    try:
        # relative to the folder's descriptor, AT_SYMLINK_NOFOLLOW: a link swapped in since
        # the lstat is refused, never followed
        os.chmod(entry.name, stat.S_IMODE(wanted), dir_fd=entry.dir_fd, follow_symlinks=False)
    except (OSError, NotImplementedError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "a link in its place"
        raise _Unrepaired(f"cannot change a mode ({reason})") from exc
    return 1


def remove_private(folder: Path) -> None:
    """Remove the private /tmp, whatever modes the command left on its folders (at any
    depth: the repair walks by folder descriptors)."""
    with contextlib.suppress(RepairFailed):
        repair_modes([folder])
    fstree.remove_tree(folder)
