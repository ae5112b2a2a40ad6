"""Declarations are bounded for the whole run, however many files hold them (outside attack
round 10: 3,000 pyproject.toml files of 150 requirements each kept `env --offline` past 300 s)."""

from __future__ import annotations

from collections.abc import Callable

from forkvet.report import Report
from forkvet.vet.declared import MAX_DECLARED

Vet = Callable[..., Report]


def test_many_package_files_share_one_cap(vet_repo: Vet) -> None:
    files = {"train.py": "import numpy\n"}
    for i in range(60):
        deps = ", ".join(f'"p{i}x{j}"' for j in range(60))
        files[f"m{i}/pyproject.toml"] = (
            f"[project]\nname = 'a{i}'\nversion = '1'\ndependencies = [{deps}]\n"
        )
    report = vet_repo(files)
    assert 0 < len(report.dependencies.declared) <= MAX_DECLARED
    notes = " ".join(f.message for f in report.findings)
    assert f"over {MAX_DECLARED} declared requirements in all" in notes
