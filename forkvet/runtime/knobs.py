"""An operator's whole-number setting from the environment (FORKVET_COMMAND_*): one reader,
so every bound refuses a malformed value the same way."""

from __future__ import annotations

import os
from collections.abc import Mapping

from forkvet.errors import InputError


def knob(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 12:
        raise InputError(f"{name} must be a whole number (0: no limit), not {raw[:40]!r}")
    return int(raw)
