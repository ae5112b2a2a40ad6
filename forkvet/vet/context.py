"""What every check receives: the snapshot, the configuration, and shared parsed data."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

from forkvet import limits
from forkvet.config import Config
from forkvet.snapshot import Snapshot
from forkvet.vet.metadata import PackageMeta, package_metadata
from forkvet.vet.pysource import PyIndex, build_index


@dataclass
class Context:
    snap: Snapshot
    config: Config = field(default_factory=Config)
    # time.monotonic() after which checks still to run are skipped (forkvet.limits).
    deadline: float = field(default_factory=limits.deadline)

    @cached_property
    def py(self) -> PyIndex:
        # The checks' per-file analyzers run while each file's AST exists (imported here:
        # the check modules import this one).
        from forkvet.vet import entry_points, health, python_version, risks

        analyzers = (
            python_version.analyze_file,
            risks.analyze_file,
            health.analyze_file,
            entry_points.analyze_file,
        )
        code = [f for f in self.snap.files if f.suffix in (".py", ".ipynb")]
        # vermin and pyflakes are superlinear in a file's definitions (a 2 MB file of 25,000
        # functions took minutes): they get code up to a size (checked on the parsed source:
        # a notebook's JSON is mostly outputs) and a time budget of their own.
        by_size = sorted(code, key=lambda f: -f.size)
        vermin = {f.path for f in by_size[: python_version.VERMIN_MAX_FILES]}
        pyflakes = {f.path for f in by_size[: health.PYFLAKES_MAX_FILES]}
        slow_deadline = min(self.deadline, time.monotonic() + limits.SLOW_ANALYZER_SECONDS)
        return build_index(
            self.snap,
            analyzers,
            lambda e: {
                "vermin": e.path in vermin,
                "pyflakes": e.path in pyflakes,
                "slow_deadline": slow_deadline,
            },
            self.deadline,
        )

    @cached_property
    def packages(self) -> list[PackageMeta]:
        return package_metadata(self.snap, self.deadline)

    @cached_property
    def readme(self) -> str:
        return self.snap.readme_text()
