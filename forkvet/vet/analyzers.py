"""The registry of per-file analysers: functions that read one parsed Python file while its AST
exists (pysource.Analyzer) and leave what their check needs in the file's facts.

The context runs what is registered here; `forkvet.vet` registers the checks' analysers when it
is imported. So dependencies point one way: the checks import the context, the context imports
this registry, and neither imports a check.
"""

from __future__ import annotations

from forkvet.vet.pysource import Analyzer

_registered: list[Analyzer] = []


def register(*analyzers: Analyzer) -> None:
    """Add analysers, in the order they run on each file; one already registered stays put."""
    for analyzer in analyzers:
        if analyzer not in _registered:
            _registered.append(analyzer)


def registered() -> tuple[Analyzer, ...]:
    return tuple(_registered)
