"""Round 21b F2, F6, F9: RAM the sandboxed command could pin past every bound, and a socket
family no network namespace separates.

- F2: memfd_create and System V shared memory wrote 1 GiB each of host RAM (shmem) under a
  256 MiB bound; the filter answers ENOSYS for the calls that make such RAM (the bounded
  /dev/shm stays the shared memory there is);
- F6: socket(AF_VSOCK) opened under --no-network; socket families are an allow-list;
- F9: the private /tmp, HOME and output scratch were host folders in TMPDIR, RAM where that
  is a tmpfs; now on a disk's file system, or a tmpfs of their own of bounded size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from forkvet.errors import InputError
from forkvet.runtime import limits, memcg, process, sandbox, seccomp, tmpstore

from .test_round20_runtime import _run_bpf

AF_VSOCK, AF_ALG, AF_PACKET, AF_TIPC, AF_BLUETOOTH = 40, 38, 17, 30, 31


def _sandbox_ok() -> None:
    if not sandbox.probe().ok:
        pytest.skip("needs bubblewrap")


def _run_inside(code: str, work: Path) -> dict[str, object]:
    (work / "inside.py").write_text(code)
    with sandbox.sandboxed([sys.executable, "-I", "inside.py"], work) as (argv, how):
        assert how == sandbox.ISOLATED
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    found: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return found


# --- the filter (no kernel needed) -----------------------------------------------------------


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_calls_that_make_uncounted_ram_answer_enosys(machine: str) -> None:
    program = seccomp.program(machine)
    assert program is not None
    arch = int(seccomp.table()["audit_arch"][machine])  # type: ignore[call-overload]
    nosys = seccomp.table()["nosys"][machine]
    assert isinstance(nosys, dict)
    assert {"memfd_create", "shmget", "msgget", "semget", "io_setup"} <= set(nosys)
    for name, nr in nosys.items():
        assert _run_bpf(program, nr, arch) == seccomp.NOSYS, name


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_socket_families_are_an_allow_list(machine: str) -> None:
    program = seccomp.program(machine)
    assert program is not None
    arch = int(seccomp.table()["audit_arch"][machine])  # type: ignore[call-overload]
    calls = seccomp.table()["socket"][machine]
    assert isinstance(calls, dict) and set(calls) == {"socket", "socketpair"}
    for nr in calls.values():
        for family in (1, 2, 10, 16):  # UNIX, INET, INET6, NETLINK
            assert _run_bpf(program, nr, arch, family) == seccomp.ALLOW, family
        for family in (0, AF_VSOCK, AF_ALG, AF_PACKET, AF_TIPC, AF_BLUETOOTH, 46, 0xFFFF):
            assert _run_bpf(program, nr, arch, family) == seccomp.NOFAMILY, family


# --- inside the sandbox ------------------------------------------------------------------------

_RAM_CALLS = """
import ctypes, errno, json, mmap, os, socket
from multiprocessing import shared_memory
libc = ctypes.CDLL(None, use_errno=True)
NR = {NR}
def call(name, *args):
    r = libc.syscall(ctypes.c_long(NR[name]), *[ctypes.c_long(a) for a in args])
    return errno.errorcode.get(ctypes.get_errno(), "?") if r == -1 else "ok"
seen = {name: call(name, 0, 1 << 20, 0o1600) for name in ("shmget", "msgget", "semget")}
try:
    os.memfd_create("x"); seen["memfd_create"] = "ok"
except OSError as exc:
    seen["memfd_create"] = errno.errorcode[exc.errno]
def sock(family, kind=socket.SOCK_STREAM):
    try:
        socket.socket(family, kind).close(); return "ok"
    except OSError as exc:
        return errno.errorcode[exc.errno]
seen["vsock"] = sock(40)
seen["alg"] = sock(38, socket.SOCK_SEQPACKET)
seen["unix"], seen["inet"] = sock(socket.AF_UNIX), sock(socket.AF_INET)
seen["netlink"] = sock(socket.AF_NETLINK, socket.SOCK_RAW)
a, b = socket.socketpair(); a.send(b"x"); seen["pair"] = b.recv(1).decode()
m = mmap.mmap(-1, 1 << 20); m[0:1] = b"y"
shm = shared_memory.SharedMemory(create=True, size=1 << 20); shm.buf[0] = 1
seen["shared"] = m[0:1].decode() + str(shm.buf[0]); shm.close(); shm.unlink()
print(json.dumps(seen))
"""


def _machine_calls() -> dict[str, int]:
    machine = os.uname().machine
    nosys = seccomp.table()["nosys"].get(machine)
    if not isinstance(nosys, dict):
        pytest.skip(f"no table for {machine}")
    return dict(nosys)


@pytest.mark.parametrize("network", [True, False])
def test_inside_uncounted_ram_and_other_families_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, network: bool
) -> None:
    _sandbox_ok()
    if not network:
        monkeypatch.setattr(sandbox, "_NETWORK_CUT", [True])
    seen = _run_inside(_RAM_CALLS.replace("{NR}", repr(_machine_calls())), tmp_path)
    assert seen == {
        "shmget": "ENOSYS",
        "msgget": "ENOSYS",
        "semget": "ENOSYS",
        "memfd_create": "ENOSYS",
        "vsock": "EAFNOSUPPORT",
        "alg": "EAFNOSUPPORT",
        "unix": "ok",
        "inet": "ok",
        "netlink": "ok",
        "pair": "x",
        "shared": "y1",  # an anonymous shared mapping and /dev/shm (bounded) still work
    }
    # what no limit here counts is said in every result, never passed over
    assert limits.UNCOUNTED in limits.describe()
    assert "shared anonymous mappings" in limits.UNCOUNTED


# --- F9: where /tmp, HOME and the scratch folder live ----------------------------------------


def _ram_folder() -> Path:
    if tmpstore.fs_type("/dev/shm") != 0x01021994:
        pytest.skip("needs /dev/shm on a tmpfs")
    return Path(tempfile.mkdtemp(prefix="fix22mem-", dir="/dev/shm"))


def test_statfs_tells_a_disk_from_ram() -> None:
    ram = _ram_folder()
    try:
        assert tmpstore.disk(str(ram)) is None
        assert tmpstore.disk("/proc") is None  # not a disk's type: not judged one
        assert tmpstore.disk("/definitely/not/there") is None
    finally:
        ram.rmdir()


_WHERE = """
import errno, json, os
line = [ln.split() for ln in open("/proc/self/mountinfo") if ln.split()[4] == "/tmp"][-1]
fs = line[line.index("-") + 1]
home = os.environ["HOME"]
open(os.path.join(home, "h"), "w").write("h")
written = 0
try:
    with open("/tmp/fill", "wb") as f:
        for _ in range(80):
            f.write(b"\\0" * (1 << 20)); f.flush(); written += 1
except OSError as exc:
    stopped = errno.errorcode[exc.errno]
else:
    stopped = None
os.unlink("/tmp/fill")
print(json.dumps({"fs": fs, "home": home, "written": written, "stopped": stopped}))
"""


def test_a_ram_temporary_folder_gives_a_bounded_tmpfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TMPDIR and the fallback both RAM: /tmp and HOME are a tmpfs of its own, sized, and the
    result says so; the scratch folder forkvet reads afterwards is refused, with the reason."""
    _sandbox_ok()
    ram = _ram_folder()
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(ram))
        monkeypatch.setattr(tmpstore, "FALLBACK", str(ram))
        monkeypatch.setenv(limits.TMP_VAR, "64")
        assert tmpstore.place() is None
        seen = _run_inside(_WHERE, tmp_path)
        assert 60 <= int(seen.pop("written")) <= 64  # type: ignore[call-overload]
        assert seen == {"fs": "tmpfs", "home": "/tmp/home", "stopped": "ENOSPC"}
        assert "/tmp and HOME: a 64 MiB tmpfs of their own" in limits.describe()
        wanted = "set TMPDIR to a folder on a disk"
        with pytest.raises(tmpstore.NoDiskFolder, match=wanted), process.scratch_folder():
            pass
        assert list(ram.iterdir()) == []  # the sandbox's private folder is gone
    finally:
        ram.rmdir()


def test_a_ram_temporary_folder_falls_back_to_var_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_ok()
    if not tmpstore.disk(tmpstore.FALLBACK):
        pytest.skip(f"{tmpstore.FALLBACK} is not on a disk here")
    ram = _ram_folder()
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(ram))
        assert tmpstore.place() == (tmpstore.FALLBACK, tmpstore.disk(tmpstore.FALLBACK))
        seen = _run_inside(_WHERE, tmp_path)
        assert seen["fs"] != "tmpfs" and seen["written"] == 80
        with process.scratch_folder() as scratch:
            assert scratch.parent.parent == Path(tmpstore.FALLBACK)  # in forkvet-private-<uid>
        assert "on a disk" in limits.describe() and tmpstore.FALLBACK in limits.describe()
        assert list(ram.iterdir()) == []
    finally:
        ram.rmdir()


# --- F2: a memory cgroup for the command as a whole, where the operator delegates one ---------


def _fake_cgroup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder that looks like a delegated cgroup v2 folder (the plumbing, not the kernel:
    the files are plain files here)."""
    root = tmp_path / "cgroup"
    (root / "runner").mkdir(parents=True)
    (root / "runner" / "cgroup.subtree_control").write_text("cpu memory pids\n")
    monkeypatch.setattr(memcg, "_ROOT", str(root) + "/")
    monkeypatch.setattr(memcg, "_remove", lambda child: None)
    monkeypatch.setenv(memcg.VAR, str(root / "runner"))
    return root / "runner"


def test_the_launcher_moves_into_a_bounded_cgroup_before_bwrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _sandbox_ok()
    parent = _fake_cgroup(tmp_path, monkeypatch)
    monkeypatch.setenv(limits.MEMORY_VAR, "256")
    work = tmp_path / "work"
    work.mkdir()
    (work / "inside.py").write_text("print('ran')\n")
    with sandbox.sandboxed([sys.executable, "-I", "inside.py"], work) as (argv, _):
        (child,) = parent.glob("forkvet-*")
        spec = f"DATA={256 << 20},CGROUP={child}/cgroup.procs"
        assert any(arg.endswith(spec) for arg in argv)  # after the CPU, I/O and disk specs
        (child / "memory.events").write_text("low 0\noom 1\noom_kill 1\n")
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.stdout == "ran\n", out.stderr
    assert (child / "cgroup.procs").read_text() == "0"  # the launcher itself, before bwrap
    assert (child / "memory.max").read_text() == str(256 << 20)
    assert "256 MiB for the command as a whole" in limits.describe()
    assert limits.UNCOUNTED not in limits.describe()
    assert "reached its memory bound (256 MiB" in capsys.readouterr().err


def test_a_cgroup_folder_that_cannot_serve_fails_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = _fake_cgroup(tmp_path, monkeypatch)
    (parent / "cgroup.subtree_control").write_text("cpu pids\n")
    with pytest.raises(InputError, match="no memory controller"):
        limits.describe()
    monkeypatch.setenv(memcg.VAR, str(tmp_path))  # outside the cgroup file system
    with pytest.raises(InputError, match="must name a cgroup folder"), memcg.bounded(256):
        pass


_SHARED_FILL = """
import mmap, sys
m = mmap.mmap(-1, 512 << 20)
for i in range(0, 512 << 20, 4096):
    m[i] = 1
print("filled 512 MiB")
"""


def test_a_real_cgroup_counts_shared_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a delegated memory cgroup (FORKVET_TEST_MEMORY_CGROUP names one), a shared
    anonymous mapping past the bound is killed, which no process limit counts."""
    _sandbox_ok()
    real = os.environ.get("FORKVET_TEST_MEMORY_CGROUP")
    if not real:
        pytest.skip("no delegated memory cgroup (set FORKVET_TEST_MEMORY_CGROUP to one)")
    monkeypatch.setenv(memcg.VAR, real)
    monkeypatch.setenv(limits.MEMORY_VAR, "256")
    (tmp_path / "inside.py").write_text(_SHARED_FILL)
    with sandbox.sandboxed([sys.executable, "-I", "inside.py"], tmp_path) as (argv, _):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "filled" not in out.stdout
