"""One bad file is a notice naming it, never a missing verdict: the rest of the report is
produced, the exit code is the verdict's (0 or 1, never 3), and --output is written whole."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.report import Finding
from forkvet.snapshot import load
from forkvet.vet import vet
from tests.hostile import payloads as P

DEEP = 100_000


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _hostile_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    _write(
        root,
        {
            "deep_parens.py": "x = " + "(" * DEEP + ")" * DEEP + "\n",
            "deep_unary.py": "x = " + "-" * DEEP + "1\n",
            "deep_attr.py": "x = a" + ".b" * DEEP + "\n",
            "deep_calls.py": "x = f" + "(1)" * DEEP + "\n",
            "long_sum.py": "import numpy\nx = " + " + ".join(["numpy.a"] * 600) + "\n",
            "deep.ipynb": '{"cells": ' + "[" * DEEP + "]" * DEEP + "}",
            "train.py": "import torch\nimport argparse\n\nif __name__ == '__main__':\n    pass\n",
            "README.md": "# model\n\n```bash\npython train.py\n```\n",
            "LICENSE": "MIT License\n\nPermission is hereby granted, free of charge\n",
            "weights/model.bin": P.os_system("true", 2),  # the verdict must survive the rest
        },
    )
    # names that are not UTF-8, in a file and a folder
    (root / os.fsdecode(b"caf\xe9.py")).write_text("import scipy\n", encoding="utf-8")
    (root / os.fsdecode(b"d\xff")).mkdir()
    (root / os.fsdecode(b"d\xff") / "m.pkl").write_bytes(P.os_system("true", 0))
    return root


def _by_path(findings: list[Finding]) -> dict[str, str]:
    return {f.path or "": f.message for f in findings if f.severity == "notice"}


def test_each_bad_file_is_a_notice_and_the_rest_is_vetted(tmp_path: Path) -> None:
    report = vet(load(_hostile_repo(tmp_path)))
    notices = _by_path(report.findings)
    for path in ("deep_unary.py", "deep_attr.py", "deep_calls.py", "deep.ipynb", "long_sum.py"):
        assert path in notices, path
    assert "nested too deeply" in notices["deep.ipynb"]
    assert "RecursionError" in notices["long_sum.py"]  # vermin/pyflakes gave up on this one
    # the rest of the report is there
    assert "numpy" in report.dependencies.imported and "scipy" in report.dependencies.imported
    assert report.license.spdx == "MIT"
    assert [e.path for e in report.entry_points.train] == ["train.py"]
    errors = {r.path for r in report.risks if r.kind == "dangerous-pickle"}
    assert errors == {"weights/model.bin", "d\\xff/m.pkl"}  # shown as text, still found


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_cli_verdict_and_complete_output_file(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _hostile_repo(tmp_path)
    out = tmp_path / f"report.{fmt}"
    assert main(["vet", str(repo), "--format", fmt, "--output", str(out)]) == 1
    assert "internal error" not in capsys.readouterr().err
    text = out.read_text(encoding="utf-8")  # valid UTF-8 throughout
    if fmt == "json":
        data = json.loads(text)
        assert any(r["kind"] == "dangerous-pickle" for r in data["risks"])
        # the non-UTF-8 name, shown with an escape
        assert data["dependencies"]["imported_at"]["scipy"] == ["caf\\xe9.py:1"]
    else:
        assert "weights/model.bin" in text


def test_a_check_that_fails_is_a_notice_not_a_missing_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The isolation itself: whatever a check raises on some repository, the others report."""
    from forkvet.vet import citation

    def broken(ctx: object) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(citation, "check", broken)
    root = tmp_path / "r"
    _write(root, {"m.pkl": P.os_system("true", 2), "train.py": "import torch\n"})
    report = vet(load(root))
    failed = [f for f in report.findings if f.check == "citation"]
    assert failed and failed[0].severity == "notice"
    assert "nested too deeply" in failed[0].message
    assert report.has_errors  # the pickle verdict is still there


def test_past_the_deadline_checks_are_skipped_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORKVET_VET_SECONDS", "0.000001")
    root = tmp_path / "r"
    _write(root, {"train.py": "import torch\n", "README.md": "# x\n"})
    report = vet(load(root))
    skipped = [f for f in report.findings if f.title == "Check not run: time limit"]
    assert {f.check for f in skipped} >= {"risks", "health"}
    assert all(f.severity == "notice" for f in skipped)
