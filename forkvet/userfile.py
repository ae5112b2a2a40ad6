"""Reading a file the operator names on the command line (`--config`, `report --train`): a
regular file, bounded, never a FIFO that blocks or a device that never ends."""

from __future__ import annotations

import os
import stat

from forkvet.errors import InputError


def read_regular(path: str, limit: int, what: str) -> bytes:
    """Up to limit bytes of a regular file; InputError (one line) for anything else."""
    try:
        # O_NONBLOCK: opening a FIFO would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise InputError(f"{what} not found: {path}") from exc
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"{what} {path} is not a regular file")
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{what} {path} is larger than {limit >> 20} MiB")
    return data
