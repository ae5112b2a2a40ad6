"""The sandbox's seccomp filter: a classic BPF program bwrap installs (`--seccomp FD`) right
before it starts the command, inherited by everything the command starts.

Without it the command could call every system call the kernel lets an unprivileged process
make: the kernel keyrings (`keyctl`, `add_key`, `request_key`, whose `dns_resolver` upcall runs
the host's `/sbin/request-key`), `bpf`, `perf_event_open`, `userfaultfd`, `io_uring`, the
mount API (outside attack, round 19b). The filter denies with EPERM the calls Docker's default
profile denies to a container without capabilities that matter here (forkvet/data/seccomp.json,
numbers per architecture): an ordinary program sees a refused call, as in a container.

By construction, not by a list of the attacker's spellings:
- the architecture is checked first: a call made in another ABI (x86_64's 32-bit `int 0x80`,
  or x32, whose numbers have bit 30 set) is denied as a whole, so no other numbering reaches
  the list;
- `clone` with any namespace flag is denied, and `clone3` answers ENOSYS (its flags lie in
  memory a filter cannot read; the C library then falls back to `clone`), as Docker does;
- RAM no process limit counts is out of reach: `memfd_create`, `memfd_secret` and System V
  IPC's `shmget`/`msgget`/`semget` answer ENOSYS, as a kernel built without them (a library
  takes its fallback, the bounded /dev/shm); a command filled 1 GiB of shmem each way under
  a 256 MiB bound (outside attack, round 21b F2);
- `socket` and `socketpair` take the address families of an allow-list (UNIX, INET, INET6,
  NETLINK); any other answers EAFNOSUPPORT, as a kernel without it. Docker's profile denies
  AF_VSOCK, which no network namespace separates: under `--no-network` the command opened
  vsock sockets to the VM's host (round 21b F6);
- disk is taken at the speed of writes, under RLIMIT_FSIZE: `fallocate` answers EOPNOTSUPP,
  as on a file system without it (the C library's `posix_fallocate` then writes), and
  `ioprio_set` is denied, so the command stays in the idle I/O class (round 22b F1, F13);
- a machine whose architecture is not in the table gets no program: the probe fails, and
  nothing of the repository runs (as when bubblewrap is missing).
"""

from __future__ import annotations

import errno
import functools
import json
import os
import struct
from importlib import resources

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]
_NR, _ARCH, _ARG0 = 0, 4, 16  # args[0]'s low word on the little-endian ABIs listed
_LD_W_ABS = 0x20
_JEQ, _JGE, _JSET = 0x15, 0x35, 0x45
_RET = 0x06
ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
DENY = _ERRNO | errno.EPERM
NOSYS = _ERRNO | errno.ENOSYS
NOFAMILY = _ERRNO | errno.EAFNOSUPPORT
NOTSUPP = _ERRNO | errno.EOPNOTSUPP
_X32_BIT = 0x40000000
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000
NAMESPACE_FLAGS |= 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080


@functools.cache
def table() -> dict[str, dict[str, object]]:
    text = resources.files("forkvet.data").joinpath("seccomp.json").read_text("utf-8")
    loaded: dict[str, dict[str, object]] = json.loads(text)
    return loaded


def denied(machine: str) -> dict[str, int]:
    """name -> number of every call denied with EPERM on `machine` (empty: unknown)."""
    found = table()["deny"].get(machine)
    return dict(found) if isinstance(found, dict) else {}


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _ints(found: object) -> list[int]:
    """The numbers of a table's {name: number} (empty: not a table)."""
    if not isinstance(found, dict):
        return []
    return sorted({n for n in found.values() if isinstance(n, int)})


def _numbers(key: str, machine: str) -> list[int]:
    return _ints(table().get(key, {}).get(machine))


# An instruction with symbolic jumps: (code, k, label if true, label if false); None: the next.
_Insn = tuple[int, int, str | None, str | None]


def _assemble(code: list[_Insn | str]) -> bytes:
    """The program, its labels (the strings in `code`) turned into forward jump offsets."""
    at: dict[str, int] = {}
    insns: list[_Insn] = []
    for item in code:
        if isinstance(item, str):
            at[item] = len(insns)
        else:
            insns.append(item)
    out = []
    for i, (op, k, jt, jf) in enumerate(insns):
        offsets = [at[label] - i - 1 if label else 0 for label in (jt, jf)]
        if not all(0 <= o <= 255 for o in offsets):
            raise ValueError("seccomp program: a jump out of a classic BPF jump's reach")
        out.append(_insn(op, k, *offsets))
    return b"".join(out)


def program(machine: str | None = None) -> bytes | None:
    """The filter for `machine` (this one's by default), as bwrap reads it: an array of
    `struct sock_filter`. None: no table for this architecture (no sandbox then)."""
    machine = machine or os.uname().machine
    data = table()
    arch = data["audit_arch"].get(machine)
    numbers = _numbers("deny", machine)
    clone, clone3 = data["clone"].get(machine), data["clone3"].get(machine)
    sockets, nosys = _numbers("socket", machine), _numbers("nosys", machine)
    notsupp = _numbers("notsupp", machine)
    families = _ints(data.get("families"))
    if not isinstance(arch, int) or not numbers or not isinstance(clone, int):
        return None
    if not isinstance(clone3, int) or not sockets or not families or not nosys or not notsupp:
        return None
    code: list[_Insn | str] = [(_LD_W_ABS, _ARCH, None, None), (_JEQ, arch, "nr", "deny")]
    code += ["nr", (_LD_W_ABS, _NR, None, None)]
    if machine == "x86_64":  # x32: bit 30 set
        code.append((_JGE, _X32_BIT, "deny", None))
    code += [(_JEQ, n, "deny", None) for n in numbers]
    code += [(_JEQ, n, "nosys", None) for n in [*nosys, clone3]]
    code += [(_JEQ, n, "notsupp", None) for n in notsupp]
    code += [(_JEQ, clone, "clone", None)]
    code += [(_JEQ, n, "family", None) for n in sockets]
    code += [(_RET, ALLOW, None, None), "clone", (_LD_W_ABS, _ARG0, None, None)]
    code += [(_JSET, NAMESPACE_FLAGS, "deny", None), (_RET, ALLOW, None, None)]
    code += ["family", (_LD_W_ABS, _ARG0, None, None)]
    code += [(_JEQ, f, "allow", None) for f in families]
    code += [(_RET, NOFAMILY, None, None), "allow", (_RET, ALLOW, None, None)]
    code += ["nosys", (_RET, NOSYS, None, None), "deny", (_RET, DENY, None, None)]
    code += ["notsupp", (_RET, NOTSUPP, None, None)]
    return _assemble(code)
