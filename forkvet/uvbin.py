"""Where uv is, and a private folder to run it in: the piece envgen/uv.py and interpreters.py
both need, kept below both so that neither imports the other back."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from forkvet import hostpaths
from forkvet.errors import ForkvetError


def uv_binary() -> str:
    own = Path(sys.executable).parent / "uv"  # installed with forkvet (read-only in a sandbox)
    try:
        found = hostpaths.find("uv") or str(own)
    except hostpaths.UnsafeProgram:
        if not own.exists():
            raise
        found = str(own)  # a uv in a refused PATH entry is never used; forkvet's own is
    if Path(found).exists():
        return found
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError) as exc:
        raise ForkvetError("uv is not installed: pip install uv, or use --offline") from exc


@contextlib.contextmanager
def private_workdir(uv_toml: str = "") -> Iterator[Path]:
    """A fresh folder (mode 0700) holding forkvet's uv.toml, to run uv in."""
    with tempfile.TemporaryDirectory(prefix="forkvet-uv-") as tmp:
        (Path(tmp) / "uv.toml").write_text(uv_toml, encoding="utf-8")
        yield Path(tmp)
