"""Environment markers the authors wrote are kept: a requirement whose marker is false for
the environment env builds (Linux x86_64, its Python) is left out and named, one env cannot
evaluate keeps its marker on the written line (uv and pip evaluate it)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from forkvet.envgen import markers
from forkvet.vet.declared import marker_of
from tests.conftest import MakeRepo
from tests.pkgindex import Dist, PackageIndex


@pytest.mark.parametrize(
    ("marker", "python", "verdict"),
    [
        ('sys_platform == "win32"', "3.11", False),
        ('python_version < "3"', "3.11", False),
        ('python_version < "3.11"', "3.10", True),
        ('python_version < "3.11"', "3.11", False),
        ('platform_system == "Linux" and platform_machine == "x86_64"', "3.12", True),
        ('os_name == "nt" or python_full_version >= "3.8.1"', "3.11", True),
        ('python_full_version >= "3.11.4"', "3.11", None),  # the patch release decides
        ('platform_release >= "5"', "3.11", None),  # unknown to env
        ('extra == "gpu"', "3.11", None),
        ('implementation_name == "pypy"', "3.11", False),
        ("not a marker", "3.11", None),
    ],
)
def test_markers_are_evaluated_for_linux_and_the_python(
    marker: str, python: str, verdict: bool | None
) -> None:
    assert markers.evaluate(marker, python) is verdict


def test_judged_over_several_pythons() -> None:
    assert markers.judged('python_version < "3.11"', ["3.10", "3.11"]) is None
    assert markers.judged('python_version >= "3.8"', ["3.10", "3.11"]) is True
    assert markers.judged('sys_platform == "darwin"', ["3.10", "3.11"]) is False


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        ('x; sys_platform == "win32"', 'sys_platform == "win32"'),
        ("'x>=1 ; python_version<\"3.8\"'", 'python_version < "3.8"'),
        ('x @ https://e.example/x.whl ; os_name == "nt"', 'os_name == "nt"'),
        ("x>=1", ""),
        ("x; not == a marker", ""),
    ],
)
def test_marker_of_a_requirement(text: str, marker: str) -> None:
    assert marker_of(text) == marker


REQS = """corp-win; sys_platform == "win32"
numpy; python_version < "3"
enum-old; python_version < "3.4"
corp-rel; platform_release >= "5"
requests; python_version >= "3.8"
"""


def _env(repo: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    main(["env", str(repo), "--out", str(out), "--format", "json", *extra])
    return json.loads(capsys.readouterr().out)


def test_offline_markers_left_out_or_kept_on_the_line(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo({"requirements.txt": REQS, "train.py": "import torch\n"})
    data = _env(repo, tmp_path / "out", capsys, "--offline", "--python", "3.11")
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    live = [line.split("  #")[0] for line in reqs.splitlines() if line and line[0] != "#"]
    assert live == ['corp-rel ; platform_release >= "5"', "requests", "torch"]
    problems = "\n".join(data["problems"])
    for name, line, marker in (
        ("corp-win", 1, 'sys_platform == "win32"'),
        ("numpy", 2, 'python_version < "3"'),
        ("enum-old", 3, 'python_version < "3.4"'),
    ):
        assert (
            f"{name} (declared in requirements.txt:{line}): left out: its marker `{marker}` is "
            f"false on Linux x86_64 with Python 3.11"
        ) in problems


def test_a_name_declared_twice_keeps_either_marker(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """False in both declarations: left out; unconditional in one: kept plain."""
    repo = make_repo(
        {
            "requirements.txt": 'corp-win; sys_platform == "win32"\nsix; os_name == "nt"\n',
            "setup.py": "from setuptools import setup\nsetup(name='m', install_requires=["
            "'corp-win; platform_system == \"Windows\"', 'six'])\n",
            "train.py": "import os\n",
        }
    )
    data = _env(repo, tmp_path / "out", capsys, "--offline", "--python", "3.11")
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    live = [line.split("  #")[0] for line in reqs.splitlines() if line and line[0] != "#"]
    assert live == ["six"]
    left_out = "corp-win (declared in requirements.txt:1): left out"
    assert any(p.startswith(left_out) for p in data["problems"])


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[PackageIndex]:
    pytest.importorskip("uv")
    dists = [
        Dist(name, "1.0", "2019-01-01T00:00:00Z", license="MIT")
        for name in ("corp-win", "numpy", "enum-old", "corp-rel", "requests", "tomlish")
    ]
    with PackageIndex(dists) as idx:
        monkeypatch.setenv("UV_INDEX_URL", idx.url)
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
        yield idx


def test_resolved_markers_false_never_pinned_unknown_kept(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against a real index with real uv: every name is on the index, yet only what the
    markers allow for Linux / Python 3.11 is pinned; a marker env cannot evaluate stays on
    its pinned line; a marker true for only some candidate Pythons is left to uv."""
    repo = make_repo(
        {
            "requirements.txt": REQS + 'tomlish; python_version < "3.11"\n',
            "train.py": "import requests\n",
        },
        date="2019-06-01T10:00:00+00:00",
    )
    data = _env(repo, tmp_path / "out", capsys, "--python", "3.11", "--no-audit")
    pins = {r["name"] for r in data["requirements"]}
    assert not pins & {"corp-win", "numpy", "enum-old", "tomlish"}, data
    assert "requests" in pins
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    for line in reqs.splitlines():
        if line.startswith("corp-rel"):
            assert 'platform_release >= "5"' in line
    assert data["unresolved"] == []


def test_a_marker_true_for_some_candidate_pythons_is_left_to_uv(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "requirements.txt": 'tomlish; python_version < "3.11"\nrequests\n',
            "train.py": "import requests\n",
        },
        date="2019-06-01T10:00:00+00:00",
    )
    data = _env(repo, tmp_path / "out", capsys, "--no-audit")
    pins = {r["name"] for r in data["requirements"]}
    major, minor = (int(x) for x in data["python"].split("."))
    assert ("tomlish" in pins) == ((major, minor) < (3, 11)), data
    assert "requests" in pins and data["unresolved"] == []


def test_poetry_and_pipfile_markers(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = (
        '[tool.poetry]\nname = "app"\nversion = "1.0"\n[tool.poetry.dependencies]\n'
        'python = "^3.8"\ncorp-poetrywin = { version = "^1.0", markers = "os_name == \'nt\'" }\n'
        'corp-poetryplat = { version = "*", platform = "darwin" }\nsix = "^1.0"\n'
    )
    pipfile = '[packages]\ncorp-pipwin = {version = "*", markers = "sys_platform == \'win32\'"}\n'
    repo = make_repo({"pyproject.toml": pyproject, "Pipfile": pipfile, "m.py": "import os\n"})
    data = _env(repo, tmp_path / "out", capsys, "--offline", "--python", "3.11")
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    live = [line.split("  #")[0] for line in reqs.splitlines() if line and line[0] != "#"]
    assert live == ["six>=1.0"], reqs
    left = [p.split(" ")[0] for p in data["problems"] if "left out: its marker" in p]
    assert sorted(left) == ["corp-pipwin", "corp-poetryplat", "corp-poetrywin"]


def test_a_marker_whose_escape_renders_a_newline_is_left_out_not_the_end() -> None:
    """Round 14a F6: `bar==1.0 ; platform_release == "a\\nb"` rendered (by packaging) with a
    real newline, which the resolver refuses: the whole `forkvet env` ended with exit 2."""
    from forkvet.envgen.names import Need
    from forkvet.envgen.resolve import Resolution, _plain_only

    result = Resolution(python="3.11")
    bad = Need("bar", "==1.0", "declared", marker='platform_release == "a\nb"')
    good = Need("numpy", "==1.24.0", "declared")
    assert _plain_only(result, [bad, good]) == [good]
    assert result.dropped == ["bar"] and result.problems[0].startswith("bar: its requirement")


def test_control_characters_of_a_marker_are_written_escaped_16c_t1(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Round 16c T1: a fork's marker holding ESC/BEL (a visible `\\x1b` escape in setup.py)
    reached requirements.txt raw, where `cat` ran the terminal sequences. Every file env
    writes shows such characters as escapes."""
    repo = make_repo(
        {
            "setup.py": "from setuptools import setup\nsetup(name='p', install_requires=["
            "'numpy==1.26.4 ; platform_release >= \"5\\x1b]0;T\\x07\\x1b[2J\\u202e\\x9b\"'])\n",
            "train.py": "import numpy\n",
        }
    )
    main(["env", str(repo), "--offline", "--out", str(tmp_path / "out"), "--format", "json"])
    capsys.readouterr()
    for name in ("requirements.txt", "environment.yml"):
        text = (tmp_path / "out" / name).read_text()
        assert not any(
            unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" for ch in text
        ), (name, text)
    assert "\\x1b]0;T\\x07" in (tmp_path / "out" / "requirements.txt").read_text()
