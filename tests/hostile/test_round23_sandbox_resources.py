"""Round 22b F1, F3, F5, F11, F13: every resource the sandboxed command can take of the runner
has a bound that fails closed and is named in the result.

- F1: disk (private /tmp, HOME, scratch, the checkout) was unbounded: `fallocate` filled the
  runner's disk in under a second; now RLIMIT_FSIZE, no fallocate, a floor checked before the
  run and a watch during it that stops the command (`diskbound`);
- F3: every host GPU node (MIG capability nodes too) was in every sandbox, also under
  `--device cpu` and the operator's `CUDA_VISIBLE_DEVICES`; now an allow-list (`gpunodes`);
- F13: no CPU or I/O share: nice 10 the command cannot lower, the idle I/O class it cannot
  leave, RLIMIT_CPU from the timeout, RLIMIT_NPROC sized by the CPUs.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from forkvet.runtime import diskbound, gpunodes, limits, ownns, sandbox, seccomp

from .test_round20_runtime import _run_bpf


def _sandbox_ok() -> None:
    if not sandbox.probe().ok:
        pytest.skip("needs bubblewrap")


def _run(command: list[str], work: Path) -> subprocess.CompletedProcess[str]:
    with sandbox.sandboxed(command, work) as (argv, how):
        assert how == sandbox.ISOLATED
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def _inside(code: str, work: Path) -> dict[str, object]:
    (work / "inside.py").write_text(code)
    out = _run([sys.executable, "-I", "inside.py"], work)
    assert out.returncode == 0, out.stderr[-3000:]
    found: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return found


# --- F3: GPU device nodes ----------------------------------------------------------------------

UUIDS = ["GPU-aaaa1111", "GPU-bbbb2222", "GPU-cccc3333"]


@pytest.fixture
def host(tmp_path: Path) -> tuple[str, str]:
    """A stand-in host: /dev with three GPUs, the shared nodes, MIG capability nodes, DRM and
    KFD; the driver's /proc listing with minors 0..2 (bus order)."""
    dev, info = tmp_path / "dev", tmp_path / "gpus"
    for name in ["nvidia0", "nvidia1", "nvidia2", "nvidiactl", "nvidia-uvm", "kfd"]:
        (dev / name).parent.mkdir(parents=True, exist_ok=True)
        (dev / name).write_text("")
    (dev / "nvidia-caps").mkdir()
    (dev / "nvidia-caps" / "nvidia-cap1").write_text("")
    (dev / "dri").mkdir()
    for minor, uuid in enumerate(UUIDS):
        folder = info / f"0000:0{minor + 1}:00.0"
        folder.mkdir(parents=True)
        (folder / "information").write_text(
            f"Model: \t\t NVIDIA H100\nGPU UUID: \t {uuid}\nDevice Minor: \t {minor}\n"
        )
    return str(dev), str(info)


@pytest.fixture(autouse=True)
def _device_auto() -> object:
    yield
    gpunodes.use_device("auto")


def _names(found: gpunodes.Nodes) -> list[str]:
    return sorted(os.path.basename(p) for p in found.paths)


def test_device_cpu_gives_no_gpu_node(host: tuple[str, str]) -> None:
    gpunodes.use_device("cpu")
    found = gpunodes.nodes({"CUDA_VISIBLE_DEVICES": "1"}, *host)
    assert found.paths == [] and "--device cpu" in found.said


@pytest.mark.parametrize(
    "env",
    [
        {"CUDA_VISIBLE_DEVICES": "1"},
        {"CUDA_VISIBLE_DEVICES": "GPU-bbbb"},  # a unique UUID prefix, as CUDA takes it
        {"NVIDIA_VISIBLE_DEVICES": "1"},
        {"CUDA_VISIBLE_DEVICES": "1", "NVIDIA_VISIBLE_DEVICES": "0,1,2"},  # CUDA's wins
    ],
)
def test_an_assignment_gives_only_its_gpu(host: tuple[str, str], env: dict[str, str]) -> None:
    found = gpunodes.nodes(env, *host)
    assert _names(found) == ["nvidia-uvm", "nvidia1", "nvidiactl"]  # no caps, dri, kfd
    assert found.visible == UUIDS[1]
    assert gpunodes.setenv(found) == ["--setenv", "CUDA_VISIBLE_DEVICES", UUIDS[1]]


@pytest.mark.parametrize("value", ["", "-1", "none", "void"])
def test_an_empty_assignment_gives_no_gpu(host: tuple[str, str], value: str) -> None:
    found = gpunodes.nodes({"CUDA_VISIBLE_DEVICES": value}, *host)
    assert found.paths == [] and found.visible == ""


@pytest.mark.parametrize("value", ["3", "MIG-0b7a4b2e-1111", "GPU-ffff", "GPU-", "0,7", "x"])
def test_an_assignment_forkvet_cannot_map_refuses(host: tuple[str, str], value: str) -> None:
    with pytest.raises(gpunodes.Unassignable):
        gpunodes.nodes({"CUDA_VISIBLE_DEVICES": value}, *host)


def test_an_amd_assignment_withholds_every_node(host: tuple[str, str]) -> None:
    assert gpunodes.nodes({"ROCR_VISIBLE_DEVICES": "0"}, *host).paths == []


def test_without_assignment_the_host_gpus_but_never_mig_capabilities(
    host: tuple[str, str],
) -> None:
    found = gpunodes.nodes({}, *host)
    names = _names(found)
    assert "nvidia-caps" not in names and {"nvidia0", "nvidia2", "dri", "kfd"} <= set(names)
    assert found.visible is None


def test_the_sandbox_binds_only_the_assigned_nodes(
    host: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_ok()
    real = gpunodes.nodes
    monkeypatch.setattr(gpunodes, "nodes", lambda: real({"CUDA_VISIBLE_DEVICES": "2"}, *host))
    work = tmp_path / "work"
    work.mkdir()
    with sandbox.sandboxed(["true"], work) as (argv, _):
        bound = [argv[i + 1] for i, a in enumerate(argv) if a == "--dev-bind"]
        named = [argv[i : i + 3] for i, a in enumerate(argv) if a == "--setenv"]
    assert sorted(map(os.path.basename, bound)) == ["nvidia-uvm", "nvidia2", "nvidiactl"]
    assert ["--setenv", "CUDA_VISIBLE_DEVICES", UUIDS[2]] in named


def test_the_cli_hands_device_cpu_to_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    from forkvet.runtime import cli

    monkeypatch.setattr(sandbox, "require", lambda: True)
    args = argparse.Namespace(device="cpu", no_network=False, allow_unsandboxed=False)
    cfg = SimpleNamespace(runtime=SimpleNamespace(network="on", require_sandbox=True))
    cli._sandbox_policy(args, cfg)
    assert gpunodes.nodes({"CUDA_VISIBLE_DEVICES": "0"}).paths == []


# --- F1: disk ----------------------------------------------------------------------------------


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_filter_refuses_fallocate_and_ioprio_set(machine: str) -> None:
    program = seccomp.program(machine)
    assert program is not None
    table = seccomp.table()
    arch = int(table["audit_arch"][machine])  # type: ignore[call-overload]
    fallocate = table["notsupp"][machine]["fallocate"]  # type: ignore[index]
    assert _run_bpf(program, fallocate, arch) == seccomp.NOTSUPP
    assert _run_bpf(program, seccomp.denied(machine)["ioprio_set"], arch) == seccomp.DENY


_DISK = """
import errno, json, os, resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
seen = {"fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0]}
big = os.open("big", os.O_CREAT | os.O_WRONLY)
os.write(big, b"x" * seen["fsize"])
try:
    os.write(big, b"x" * 4096)
    seen["past"] = "written"
except OSError as exc:
    seen["past"] = errno.errorcode[exc.errno]
fd = os.open("/tmp/alloc", os.O_CREAT | os.O_WRONLY)
for mode in (0, 1):  # 1: FALLOC_FL_KEEP_SIZE, past RLIMIT_FSIZE
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.fallocate(fd, mode, ctypes.c_long(0), ctypes.c_long(1 << 30))
    seen[f"fallocate{mode}"] = ctypes.get_errno() if r else "ok"
print(json.dumps(seen))
"""


def test_inside_files_are_bounded_and_fallocate_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_ok()
    monkeypatch.setenv(diskbound.FILE_VAR, "2")
    seen = _inside(_DISK, tmp_path)
    assert seen == {
        "fsize": 2 << 20,
        "past": "EFBIG",
        "fallocate0": errno.EOPNOTSUPP,
        "fallocate1": errno.EOPNOTSUPP,
    }


def test_the_command_is_stopped_when_it_takes_its_disk_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_ok()
    monkeypatch.setenv(diskbound.DISK_VAR, "16")
    loop = "for i in 1 2 3 4 5 6; do head -c 8000000 /dev/zero > f$i; sleep 0.4; done; sleep 60"
    start = time.monotonic()
    out = _run(["/bin/sh", "-c", loop], tmp_path)
    assert time.monotonic() - start < 30
    assert out.returncode == diskbound.EXIT
    assert "reached its disk bound" in out.stderr
    assert sum(p.stat().st_size for p in tmp_path.glob("f*")) < 40_000_000


def test_a_disk_below_its_floor_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_ok()
    monkeypatch.setenv(diskbound.FLOOR_VAR, str(1 << 30))  # a floor of 1 PiB
    with pytest.raises(diskbound.NoDiskRoom), sandbox.sandboxed(["true"], tmp_path):
        pass


def test_the_result_names_the_disk_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(diskbound.FILE_VAR, "100")
    said = limits.describe()
    assert "disk: 100 MiB per file (RLIMIT_FSIZE), no fallocate" in said
    assert f"{limits.NICE}" in said and "GPU" in said


# --- F13: CPU and I/O share --------------------------------------------------------------------

_SHARE = """
import ctypes, errno, json, os, resource
libc = ctypes.CDLL(None, use_errno=True)
IOPRIO = {"x86_64": (251, 252), "aarch64": (30, 31)}[os.uname().machine]
seen = {"nice": os.getpriority(os.PRIO_PROCESS, 0)}
seen["cpu"] = resource.getrlimit(resource.RLIMIT_CPU)[0]
try:
    os.setpriority(os.PRIO_PROCESS, 0, 0)
    seen["renice"] = "ok"
except OSError as exc:
    seen["renice"] = errno.errorcode[exc.errno]
seen["ioclass"] = libc.syscall(ctypes.c_long(IOPRIO[1]), ctypes.c_long(1), ctypes.c_long(0)) >> 13
r = libc.syscall(ctypes.c_long(IOPRIO[0]), ctypes.c_long(1), ctypes.c_long(0),
                 ctypes.c_long((2 << 13) | 4))
seen["ioprio_set"] = errno.errorcode[ctypes.get_errno()] if r else "ok"
print(json.dumps(seen))
"""


def test_inside_the_command_runs_at_a_low_share_it_cannot_raise(tmp_path: Path) -> None:
    _sandbox_ok()
    with limits.cpu_time(10):
        seen = _inside(_SHARE, tmp_path)
    cpus = os.cpu_count() or 1
    assert seen == {
        "nice": limits.NICE,
        "cpu": 10 * cpus + 60,
        "renice": "EACCES",
        "ioclass": 3,  # IOPRIO_CLASS_IDLE
        "ioprio_set": "EPERM",
    }


def test_the_task_budget_is_sized_by_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(limits.TASKS_VAR, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(2)))
    assert limits.tasks_budget() == 256
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))
    assert limits.tasks_budget() == 2048
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(192)))
    assert limits.tasks_budget() == limits.DEFAULT_TASKS


# --- F5, F11: per-user kernel counts and /dev/shm's inode space -------------------------------


def _own_namespace_ok() -> None:
    _sandbox_ok()
    if not ownns.available():
        pytest.skip("the kernel or a security module gives the launcher no user namespace")


_COUNTS = """
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
seen = {"inotify": 0, "files": 0, "xattr_kib": 0}
while libc.inotify_init1(0) >= 0:
    seen["inotify"] += 1
seen["inotify_errno"] = errno.errorcode[ctypes.get_errno()]
try:
    while seen["files"] < 100000:
        open(f"/dev/shm/{'n' * 200}{seen['files']}", "w").close()
        seen["files"] += 1
except OSError as exc:
    seen["files_errno"] = errno.errorcode[exc.errno]
for name in os.listdir("/dev/shm")[-8:]:
    os.unlink("/dev/shm/" + name)
open("/dev/shm/x", "w").close()
try:
    while seen["xattr_kib"] < 1 << 20:
        os.setxattr("/dev/shm/x", f"user.a{seen['xattr_kib']}", b"v" * 65000)
        seen["xattr_kib"] += 64
except OSError as exc:
    seen["xattr_errno"] = errno.errorcode[exc.errno]
print(json.dumps(seen))
"""


def test_inotify_and_shm_inodes_are_bounded_for_the_sandbox_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """22b F11: the command took all 128 inotify instances of the host user; F5: 400,000 empty
    files and 500 MiB of xattrs in a 'bounded' /dev/shm (unreclaimable kernel memory)."""
    _own_namespace_ok()
    monkeypatch.setenv(ownns.INOTIFY_VAR, "5")
    monkeypatch.setenv(ownns.SHM_INODES_VAR, "200")
    seen = _inside(_COUNTS, tmp_path)
    assert seen["inotify"] == 5 and seen["inotify_errno"] == "EMFILE"
    assert seen["files"] < 200 and seen["files_errno"] == "ENOSPC"
    assert seen["xattr_kib"] < 1024 and seen["xattr_errno"] == "ENOSPC"
    assert "5 inotify instances" in limits.describe()
    assert Path("/proc/sys/user/max_inotify_instances").read_text().strip() != "5"


def test_without_a_namespace_of_its_own_the_result_says_what_is_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_ok()
    monkeypatch.setattr(ownns, "available", lambda: False)
    with sandbox.sandboxed(["true"], tmp_path) as (argv, _):
        assert argv[argv.index("/dev/shm") - 1] == "--tmpfs"  # bwrap's, bytes only
        assert '"ns": null' in " ".join(argv)
    said = limits.describe()
    assert "not bounded (no user namespace of its own" in said and "inotify" in said


_TMP_FILES = """
import errno, json, os
n = 0
try:
    while n < 100000:
        open(f"/tmp/f{n}", "w").close()
        n += 1
except OSError as exc:
    print(json.dumps({"files": n, "errno": errno.errorcode[exc.errno], "home": os.environ["HOME"]}))
"""


def test_a_tmpfs_tmp_has_its_inodes_bounded_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No temporary folder on a disk: /tmp is a tmpfs; the launcher mounts it with nr_inodes."""
    _own_namespace_ok()
    from forkvet.runtime import tmpstore

    monkeypatch.setattr(tmpstore, "place", lambda: None)
    monkeypatch.setenv(ownns.SHM_INODES_VAR, "300")
    seen = _inside(_TMP_FILES, tmp_path)
    assert seen["files"] < 300 and seen["errno"] == "ENOSPC" and seen["home"] == "/tmp/home"


def test_an_assignment_on_a_host_without_gpus_gives_nothing(tmp_path: Path) -> None:
    """No GPU node and no driver listing: nothing to give, the CPU run goes on."""
    (tmp_path / "dev").mkdir()
    found = gpunodes.nodes({"CUDA_VISIBLE_DEVICES": "0"}, str(tmp_path / "dev"), "/nonexistent")
    assert found.paths == [] and found.visible == ""


def test_gpu_nodes_the_driver_does_not_list_refuse(host: tuple[str, str]) -> None:
    with pytest.raises(gpunodes.Unassignable):
        gpunodes.nodes({"CUDA_VISIBLE_DEVICES": "0"}, host[0], "/nonexistent")
