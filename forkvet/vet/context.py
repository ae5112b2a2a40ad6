"""What every check receives: the snapshot, the configuration, and shared parsed data."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from forkvet import limits
from forkvet.config import Config
from forkvet.snapshot import FileEntry, Snapshot
from forkvet.vet import analyzers
from forkvet.vet.metadata import PackageMeta, package_metadata
from forkvet.vet.pysource import PyIndex, build_index


@dataclass
class Context:
    snap: Snapshot
    config: Config = field(default_factory=Config)
    # time.monotonic() after which checks still to run are skipped (forkvet.limits).
    deadline: float = field(default_factory=limits.deadline)
    # Results a check computed early (while worker processes parse), by name.
    memo: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def py(self) -> PyIndex:
        return self.index()

    def index(self, meanwhile: Callable[[], None] = lambda: None) -> PyIndex:
        """Build the Python index now; `meanwhile` (checks that do not need it) runs while
        worker processes parse."""
        if "py" in self.__dict__:
            meanwhile()
            return self.py
        self.__dict__["py"] = self._build(meanwhile)
        return self.py

    def _build(self, meanwhile: Callable[[], None]) -> PyIndex:
        code = [f for f in self.snap.files if f.suffix in (".py", ".ipynb")]
        # vermin and pyflakes are superlinear in a file's definitions (a 2 MB file of 25,000
        # functions took minutes) and cost ~2 s per MB even on plain code: they read a sample
        # within a byte budget (all of a typical repository), scripts near the top first.
        vermin = _sample(code, limits.VERMIN_MAX_BYTES)
        pyflakes = _sample(code, limits.PYFLAKES_MAX_BYTES)
        slow_deadline = min(self.deadline, time.monotonic() + limits.SLOW_ANALYZER_SECONDS)
        return build_index(
            self.snap,
            # The checks' per-file analyzers run while each file's AST exists.
            analyzers.registered(),
            lambda e: {
                "vermin": e.path in vermin,
                "pyflakes": e.path in pyflakes,
                "slow_deadline": slow_deadline,
            },
            self.deadline,
            meanwhile,
        )

    @cached_property
    def packages(self) -> list[PackageMeta]:
        return package_metadata(self.snap, self.deadline)

    @cached_property
    def readme(self) -> str:
        return self.snap.readme_text()


def _sample(code: list[FileEntry], max_bytes: int) -> set[str]:
    """Paths whose sizes fit in max_bytes: shallow files (the scripts people run) first, then
    small before large (more files covered); vendored copies last."""
    chosen: set[str] = set()
    for f in sorted(code, key=lambda f: (f.vendored, f.path.count("/"), f.size)):
        if f.size <= max_bytes:
            chosen.add(f.path)
            max_bytes -= f.size
    return chosen
