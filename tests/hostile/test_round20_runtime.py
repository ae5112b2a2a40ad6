"""Round 19b's runtime "Left" items, closed in round 20: a seccomp filter in the sandbox (the
kernel keyrings, the mount API, namespaces, bpf, perf, userfaultfd, io_uring ... fail with
EPERM, while ordinary training still works), bounds on the command's processes and memory,
and the runner's work folders (`RUNNER_TEMP`, `_actions`) empty inside."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from forkvet.runtime import limits, sandbox, seccomp

ROOT = Path(__file__).resolve().parents[2]


def _sandbox_ok() -> None:
    if not sandbox.probe().ok:
        pytest.skip("needs bubblewrap")


def _run_inside(code: str, work: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    (work / "inside.py").write_text(code)
    with sandbox.sandboxed([sys.executable, "-I", "inside.py"], work) as (argv, how):
        assert how == sandbox.ISOLATED
        out = subprocess.run(
            argv, capture_output=True, text=True, timeout=120, env=env or dict(os.environ)
        )
    assert out.returncode == 0, out.stderr[-3000:]
    found: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return found


# --- the filter, run by a small classic-BPF interpreter (no kernel needed) -------------------


def _run_bpf(program: bytes, nr: int, arch: int, arg0: int = 0) -> int:
    data = struct.pack("=iIQ6Q", nr, arch, 0, arg0, 0, 0, 0, 0, 0)
    insns = [struct.unpack_from("=HBBI", program, i) for i in range(0, len(program), 8)]
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]
        pc += 1
        if code == 0x20:
            acc = struct.unpack_from("=I", data, k)[0]
        elif code == 0x06:
            return k
        else:
            hit = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += jt if hit else jf


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_filter_denies_the_listed_calls_and_nothing_else(machine: str) -> None:
    program = seccomp.program(machine)
    assert program is not None
    arch = int(seccomp.table()["audit_arch"][machine])  # type: ignore[call-overload]
    for name, nr in seccomp.denied(machine).items():
        assert _run_bpf(program, nr, arch) == seccomp.DENY, name
    # read, write, close, mmap, exit, getpid
    allowed = (63, 64, 57, 222, 93, 172) if machine == "aarch64" else (0, 1, 3, 9, 60, 39)
    for nr in allowed:
        assert _run_bpf(program, nr, arch) == seccomp.ALLOW, nr
    clone = int(seccomp.table()["clone"][machine])  # type: ignore[call-overload]
    clone3 = int(seccomp.table()["clone3"][machine])  # type: ignore[call-overload]
    assert _run_bpf(program, clone, arch, 0x3D0F00) == seccomp.ALLOW  # a thread's flags
    for flag in (0x10000000, 0x20000, 0x40000000, 0x80):
        assert _run_bpf(program, clone, arch, flag | 17) == seccomp.DENY, hex(flag)
    assert _run_bpf(program, clone3, arch) == seccomp.NOSYS
    # another ABI's numbering never reaches the list: i386 (int 0x80) and x32 as a whole
    assert _run_bpf(program, 20, 0x40000003) == seccomp.DENY
    if machine == "x86_64":
        assert _run_bpf(program, 0x40000000 + 39, arch) == seccomp.DENY


def test_an_unknown_architecture_has_no_filter_and_no_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert seccomp.program("sparc64") is None
    monkeypatch.setattr(seccomp, "program", lambda machine=None: None)
    monkeypatch.delenv("FORKVET_NO_SANDBOX", raising=False)
    sandbox.probe.cache_clear()
    try:
        if sandbox._bwrap() is None or not sys.platform.startswith("linux"):
            pytest.skip("needs bubblewrap on Linux")
        found = sandbox.probe()
        assert not found.ok and "seccomp" in found.reason
    finally:
        sandbox.probe.cache_clear()


def test_the_numbers_are_the_ones_libseccomp_knows() -> None:
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("seccomp")
    if not name:
        pytest.skip("libseccomp is not installed")
    lib = ctypes.CDLL(name)
    resolve = lib.seccomp_syscall_resolve_name_arch
    resolve.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
    for machine, arch in seccomp.table()["audit_arch"].items():
        assert isinstance(arch, int)
        table = {**seccomp.denied(machine)}
        table["clone"] = int(seccomp.table()["clone"][machine])  # type: ignore[call-overload]
        table["clone3"] = int(seccomp.table()["clone3"][machine])  # type: ignore[call-overload]
        for call, nr in table.items():
            assert resolve(arch, call.encode()) == nr, (machine, call)


# --- from inside a sandboxed command ----------------------------------------------------------

_CALLS = """
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *args):
    args = [ctypes.c_long(a) for a in (list(args) + [0] * 6)[:6]]
    r = libc.syscall(ctypes.c_long(nr), *args)
    if r == 0 and os.getpid() != PID:  # a clone that went through: the child leaves
        os._exit(0)
    return errno.errorcode.get(ctypes.get_errno(), "?") if r == -1 else "ok"
PID = os.getpid()
denied = {DENIED}
seen = {name: call(nr) for name, nr in denied.items()}
seen["clone(CLONE_NEWUSER)"] = call(CLONE, 0x10000000 | 17)
seen["clone(CLONE_NEWNET)"] = call(CLONE, 0x40000000 | 17)
seen["clone3"] = call(CLONE3)
print(json.dumps(seen))
"""


def test_inside_each_denied_call_fails_with_eperm(tmp_path: Path) -> None:
    """Round 19b F4 left `add_key`/`request_key` open (the keyring's `dns_resolver` upcall
    runs the host's /sbin/request-key), and every other call Docker's profile denies."""
    _sandbox_ok()
    machine = os.uname().machine
    table = seccomp.table()
    code = (
        _CALLS.replace("{DENIED}", repr(seccomp.denied(machine)))
        .replace("CLONE3", str(table["clone3"][machine]))  # type: ignore[index]
        .replace("CLONE,", f"{table['clone'][machine]},")  # type: ignore[index]
    )
    seen = _run_inside(code, tmp_path)
    wanted = {name: "EPERM" for name in seccomp.denied(machine)}
    wanted |= {"clone(CLONE_NEWUSER)": "EPERM", "clone(CLONE_NEWNET)": "EPERM"}
    assert seen == {**wanted, "clone3": "ENOSYS"}


_TRAINING = """
import json, mmap, multiprocessing, os, subprocess, threading, resource
import torch
torch.manual_seed(0)
model = torch.nn.Linear(8, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(64, 8), torch.randn(64, 1)
losses = []
for _ in range(20):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
box = []
t = threading.Thread(target=lambda: box.append(sum(range(1000))))
t.start(); t.join()
m = mmap.mmap(-1, 1 << 24); m[-1:] = b"x"
with multiprocessing.get_context("fork").Pool(2) as pool:
    squares = pool.map(abs, [-1, -2, -3])
sub = subprocess.run(["sh", "-c", "echo hi"], capture_output=True, text=True).stdout.strip()
print(json.dumps({"learned": losses[-1] < losses[0], "thread": box == [499500],
                  "pool": squares == [1, 2, 3], "sub": sub,
                  "seccomp": open("/proc/self/status").read().split("Seccomp:")[1].split()[0],
                  "data": resource.getrlimit(resource.RLIMIT_DATA)[0]}))
"""


def test_ordinary_training_still_works_under_the_filter_and_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sandbox_ok()
    pytest.importorskip("torch")
    monkeypatch.setenv(limits.MEMORY_VAR, "3000")
    seen = _run_inside(_TRAINING, tmp_path)
    assert seen == {
        "learned": True,
        "thread": True,
        "pool": True,
        "sub": "hi",
        "seccomp": "2",
        "data": 3000 << 20,
    }


# --- processes and memory ------------------------------------------------------------------

_BOMB = """
import json, os, resource, sys, time
made, refused = 0, None
kids = []
for _ in range(200):
    try:
        pid = os.fork()
    except OSError as exc:
        refused = exc.errno
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
try:
    big = bytearray(400 << 20)
    memory = "allocated"
except MemoryError:
    memory = "refused"
print(json.dumps({"made": len(kids), "refused": refused, "memory": memory}))
"""


def test_a_fork_bomb_and_a_runaway_allocation_are_bounded(tmp_path: Path) -> None:
    """No process or memory limit: a fork bomb or an allocation took the runner host (round
    19b notes). The kernel does not apply RLIMIT_NPROC to root: run as an unprivileged user
    (uid 65534) where forkvet runs as root, as the docs tell the operator to."""
    _sandbox_ok()
    if os.getuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("as root, needs setpriv to run as an unprivileged user")
    if not os.access("/var/tmp", os.W_OK):
        pytest.skip("needs /var/tmp")
    # as root: an interpreter the unprivileged user may run (the system's)
    python = shutil.which("python3", path="/usr/bin:/bin") if os.getuid() == 0 else sys.executable
    work = Path(tempfile.mkdtemp(prefix="forkvet-t20-", dir="/var/tmp"))
    try:
        (work / "bomb.py").write_text(_BOMB)
        driver = (
            "import json, subprocess, sys\n"
            "from pathlib import Path\n"
            "from forkvet.runtime import limits, sandbox\n"
            "work = Path(sys.argv[1])\n"
            "with sandbox.sandboxed([sys.executable, '-I', 'bomb.py'], work) as (argv, how):\n"
            "    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)\n"
            "print(out.stdout.strip() or out.stderr[-2000:])\n"
            "print(json.dumps(limits.describe()))\n"
        )
        (work / "driver.py").write_text(driver)
        if os.getuid() == 0:
            for path in (work, work / "bomb.py", work / "driver.py"):
                os.chown(path, 65534, 65534)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "HOME": str(work),
            limits.TASKS_VAR: "20",
            limits.MEMORY_VAR: "200",
        }
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        argv = [*(prefix if os.getuid() == 0 else []), str(python), "driver.py", str(work)]
        out = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=180, env=env)
        assert out.returncode == 0, out.stderr[-3000:]
        lines = out.stdout.splitlines()
        seen = json.loads(lines[-2])
        assert seen["refused"] == 11 and seen["made"] <= 20, seen  # EAGAIN
        assert seen["memory"] == "refused", seen
        said = json.loads(lines[-1])
        assert "20 more processes" in said and "200 MiB" in said, said
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_result_says_which_bound_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from forkvet.runtime.process import run

    _sandbox_ok()
    monkeypatch.setenv(limits.MEMORY_VAR, "4096")
    ran = run("true", tmp_path, 60)
    assert ran.ok and ran.limits is not None
    assert "4096 MiB of memory per process (RLIMIT_DATA)" in ran.limits
    if os.getuid() == 0:
        assert "RLIMIT_NPROC does not bind" in ran.limits
    else:
        assert "more processes and threads (RLIMIT_NPROC)" in ran.limits


def test_a_bad_limit_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from forkvet.errors import InputError

    monkeypatch.setenv(limits.TASKS_VAR, "lots")
    with pytest.raises(InputError):
        limits.rlimits()


# --- the runner's work folders --------------------------------------------------------------

_LOOK = """
import json, os, sys
rt, actions, out = sys.argv[1], sys.argv[2], sys.argv[3]
def listing(p):
    try:
        return sorted(os.listdir(p))
    except OSError as exc:
        return exc.strerror
def read(p):
    try:
        return open(p).read()
    except OSError as exc:
        return exc.strerror
open(os.path.join(out, "written"), "w").write("ok")
print(json.dumps({"temp": listing(rt), "script": read(os.path.join(rt, "0a1b.sh")),
                  "actions": listing(actions),
                  "own": read(os.path.join(actions, "me", "forkvet", "v1", "own.txt"))}))
"""


def test_the_runners_work_folders_are_empty_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`$RUNNER_TEMP` held the runner's step scripts (`<guid>.sh`, with `${{ secrets.X }}`
    substituted) and `_actions` every action of the job, readable by the command (round 19b
    notes). Inside, both are empty except what the sandbox binds in again."""
    _sandbox_ok()
    if not os.access("/var/tmp", os.W_OK):
        pytest.skip("needs /var/tmp (the sandbox's /tmp is private anyway)")
    work = Path(tempfile.mkdtemp(prefix="forkvet-t20-", dir="/var/tmp"))
    try:
        rt, actions = work / "_temp", work / "_actions"
        (rt / "0a1b.sh").parent.mkdir()
        (rt / "0a1b.sh").write_text("export TOKEN=SECRET20")
        own = actions / "me" / "forkvet" / "v1"
        own.mkdir(parents=True)
        (own / "own.txt").write_text("mine")
        (actions / "other" / "act").mkdir(parents=True)
        out, repo = rt / "forkvet" / "out", work / "repo"
        out.mkdir(parents=True)
        repo.mkdir()
        (repo / "look.py").write_text(_LOOK)
        monkeypatch.setenv("RUNNER_TEMP", str(rt))
        monkeypatch.setenv("GITHUB_ACTION_PATH", str(own))
        scratch = work / "scratch"  # outside RUNNER_TEMP: the command's view of `out`
        scratch.mkdir()
        cmd = [sys.executable, "-I", "look.py", str(rt), str(actions), str(out)]
        with sandbox.sandboxed(cmd, repo, private_out=(scratch, out)) as (argv, _):
            ran = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert ran.returncode == 0, ran.stderr[-2000:]
        seen = json.loads(ran.stdout)
        assert seen == {
            "temp": ["forkvet"],  # the output folder's path, bound again (its scratch)
            "script": "No such file or directory",
            "actions": [],
            "own": "No such file or directory",
        }
        assert (scratch / "written").read_text() == "ok"
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize(
    ("release", "own"),
    [("6.18.0", True), ("5.15.0-91-generic", True), ("5.14.0", True), ("5.13.19", False)],
)
def test_the_process_budget_counts_the_sandboxs_own_tasks_where_the_kernel_can(
    release: str, own: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From Linux 5.14 the kernel counts RLIMIT_NPROC per user namespace: set inside the
    sandbox's own, it counts only the sandbox's tasks (the user's processes in other
    containers, invisible here, cannot use the budget up); before, the user's tasks now are
    added to it."""
    assert limits.counted_per_namespace(release) is own
    monkeypatch.setattr(limits, "user_tasks", lambda uid: 500)
    monkeypatch.setattr(limits, "counted_per_namespace", lambda release=None: own)
    monkeypatch.setattr(os, "getuid", lambda: 1001)
    monkeypatch.setenv(limits.TASKS_VAR, "64")
    assert limits.rlimits().nproc == (65 if own else 564)
    assert limits.inside(["sh", "-c", "true"], 65)[-3:] == ["sh", "-c", "true"]
    assert limits.inside(["sh"], 0) == ["sh"]


_I386_GETPID = r"""
#include <stdio.h>
int main(void) {
    long r;
    __asm__ volatile ("int $0x80" : "=a"(r) : "a"(20L) : "memory");  /* i386 getpid */
    printf("%ld\n", r);
    return 0;
}
"""


def test_a_call_in_the_32_bit_abi_is_denied_inside(tmp_path: Path) -> None:
    """On x86_64 `int 0x80` reaches the i386 table, whose numbers differ (20 is getpid there,
    `ptrace`'s 26, `mount`'s 21): the filter checks the architecture before any number."""
    _sandbox_ok()
    gcc = shutil.which("gcc") or shutil.which("cc")
    if os.uname().machine != "x86_64" or gcc is None:
        pytest.skip("needs x86_64 and a C compiler")
    (tmp_path / "i.c").write_text(_I386_GETPID)
    subprocess.run([gcc, "-O0", "-o", str(tmp_path / "i"), str(tmp_path / "i.c")], check=True)
    with sandbox.sandboxed(["./i"], tmp_path) as (argv, _):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "-1", out  # -EPERM; the host's answer is a pid
