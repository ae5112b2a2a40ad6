"""Which code an environment's pins are for: the piece `forkvet env` writes and the runtime
(environments.py) reads, kept below both so that neither imports the other."""

from __future__ import annotations

import hashlib

from forkvet.snapshot import Snapshot

# Written next to requirements.txt: the code's fingerprint, the Python chosen and the one asked.
ENV_STAMP = "forkvet-env.json"


def source_fingerprint(snap: Snapshot) -> str:
    """Changes when the code changes: the commit, and every file's path and size."""
    h = hashlib.sha256((snap.git.commit or "").encode())
    for f in sorted(snap.files, key=lambda f: f.path):
        h.update(f"{f.path}\0{f.size}\n".encode("utf-8", "replace"))
    return h.hexdigest()[:16]
