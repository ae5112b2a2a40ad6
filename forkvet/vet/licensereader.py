"""The README License reader's own tests, for the modules license.py itself imports
(licensegaps, weightsdocs): they read a document as that reader does, and cannot import
license (it imports them). license binds them here when it loads (`bind`). A debt, not a
design: the reader's ~500 lines should become a module of their own that all three import."""

from __future__ import annotations

import importlib
from typing import Any

_BOUND: dict[str, Any] = {}


def bind(**functions: Any) -> None:
    _BOUND.update(functions)


def reader(name: str) -> Any:
    """The reader's function or table `name` (license loads first where it was not yet)."""
    if name not in _BOUND:
        importlib.import_module("forkvet.vet.license")
    return _BOUND[name]
