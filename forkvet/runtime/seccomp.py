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


def program(machine: str | None = None) -> bytes | None:
    """The filter for `machine` (this one's by default), as bwrap reads it: an array of
    `struct sock_filter`. None: no table for this architecture (no sandbox then)."""
    machine = machine or os.uname().machine
    data = table()
    arch = data["audit_arch"].get(machine)
    numbers = sorted(set(denied(machine).values()))
    clone, clone3 = data["clone"].get(machine), data["clone3"].get(machine)
    if not isinstance(arch, int) or not numbers or not isinstance(clone, int):
        return None
    if not isinstance(clone3, int):
        return None
    # The tail, after the list: [clone3 -> ENOSYS] [clone -> flags] ALLOW, flags check, DENY.
    # Each jump counts the instructions it skips; the list jumps forward to DENY, the last.
    tail = 7  # jeq clone3, jeq clone, ret allow, ret nosys, ld arg0, jset, ret allow
    code = [_insn(_LD_W_ABS, _ARCH), _insn(_JEQ, arch, 1, 0), _insn(_RET, DENY)]
    code.append(_insn(_LD_W_ABS, _NR))
    checks = ([(_JGE, _X32_BIT)] if machine == "x86_64" else []) + [(_JEQ, n) for n in numbers]
    for i, (op, k) in enumerate(checks):
        code.append(_insn(op, k, len(checks) - 1 - i + tail, 0))
    code += [
        _insn(_JEQ, clone3, 2, 0),  # -> ret NOSYS
        _insn(_JEQ, clone, 2, 0),  # -> ld arg0
        _insn(_RET, ALLOW),
        _insn(_RET, NOSYS),
        _insn(_LD_W_ABS, _ARG0),
        _insn(_JSET, NAMESPACE_FLAGS, 1, 0),  # -> DENY
        _insn(_RET, ALLOW),
        _insn(_RET, DENY),
    ]
    return b"".join(code)
