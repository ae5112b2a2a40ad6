"""What every check receives: the snapshot, the configuration, and shared parsed data."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from forkvet.config import Config
from forkvet.snapshot import Snapshot
from forkvet.vet.metadata import PackageMeta, package_metadata
from forkvet.vet.pysource import PyIndex, build_index


@dataclass
class Context:
    snap: Snapshot
    config: Config = field(default_factory=Config)

    @cached_property
    def py(self) -> PyIndex:
        return build_index(self.snap)

    @cached_property
    def packages(self) -> list[PackageMeta]:
        return package_metadata(self.snap)

    @cached_property
    def readme(self) -> str:
        return self.snap.readme_text()
