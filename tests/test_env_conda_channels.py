"""Conda packages the authors take from a channel of their own (`corpchan::x`, a channel URL,
`conda install -c corpchan x`) never become dependencies resolved by name on the public
channels, where another project may hold the name (round 11b F16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forkvet.cli import main

ENV_FILE = """channels: [https://conda.corp.example/channel, defaults]
dependencies:
  - python=3.10
  - https://conda.corp.example/chan2::libcorp
  - corpchan::corp-conda-only
  - numpy
  - pip
"""
README = """# x

```
conda install -c corpchan corp-readme numpy
conda install -c conda-forge ffmpeg
mamba install --channel corp2 corp-mamba
```
"""


def _conda_deps(out: Path) -> list[str]:
    lines = (out / "environment.yml").read_text().splitlines()
    return [line.strip()[2:] for line in lines if line.startswith("  - ")]


@pytest.mark.parametrize(
    ("files", "kept", "left_out"),
    [
        ({"environment.yml": ENV_FILE}, [], ["libcorp", "corp-conda-only"]),
        ({"README.md": README}, ["ffmpeg"], ["corp-readme", "corp-mamba"]),
    ],
)
def test_packages_from_a_channel_of_the_authors_are_left_out(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    kept: list[str],
    left_out: list[str],
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text("import torch\nimport numpy\n")
    for name, text in files.items():
        (repo / name).write_text(text)
    out = tmp_path / "out"
    main(["env", str(repo), "--offline", "--out", str(out), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    deps = _conda_deps(out)
    for name in kept:
        assert name in deps
    for name in left_out:
        assert name not in deps
        assert any(name in n and "another conda channel" in n for n in report["problems"])
    # numpy is a PyPI project forkvet knows: the same project wherever it comes from.
    assert "numpy" in (out / "requirements.txt").read_text()
