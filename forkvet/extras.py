"""Optional dependencies: a clear message naming the extra to install, never a traceback."""

from __future__ import annotations

import importlib
from types import ModuleType

from forkvet.errors import ForkvetError


def require(module: str, extra: str = "runtime") -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ForkvetError(
            f"this command needs {module.split('.')[0]}: pip install 'forkvet[{extra}]'"
        ) from exc
