"""Lock files record where each package came from: one whose source is a registry, index or
URL of the authors' own is a statement for the own-index net (outside attack, round 12b F4).
The public default (pip's index and its file host) and a framework's wheel index for known
projects are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.snapshot import load
from forkvet.vet import ownindex
from tests.conftest import MakeRepo

URL = "https://pypi.corp.example/simple"
WHEEL = "https://pypi.corp.example/files/corpzeta-1.0-py3-none-any.whl"
PUBLIC = "https://pypi.org/simple"
PUBLIC_FILE = "https://files.pythonhosted.org/packages/aa/corpzeta-1.0-py3-none-any.whl"
FRAMEWORK = "https://wheels.framework.example/whl/cu121"


def _uv(registry: str, name: str = "corpzeta") -> str:
    return (
        f'version = 1\nrequires-python = ">=3.10"\n\n[[package]]\nname = "{name}"\n'
        f'version = "1.0"\nsource = {{ registry = "{registry}" }}\n'
        f'wheels = [{{ url = "{WHEEL}", hash = "sha256:aa" }}]\n\n'
        f'[[package]]\nname = "numpy"\nversion = "1.26.0"\nsource = {{ registry = "{registry}" }}\n'
    )


def _poetry(url: str, name: str = "corpzeta") -> str:
    return (
        f'[[package]]\nname = "{name}"\nversion = "1.0"\n\n'
        f'[package.source]\ntype = "legacy"\nurl = "{url}"\nreference = "corp"\n'
    )


def _pylock(index: str) -> str:
    return f'lock-version = "1.0"\n\n[[packages]]\nname = "corpzeta"\nindex = "{index}"\n'


def _pixi(index: str, wheel: str) -> str:
    return (
        "version: 6\nenvironments:\n  default:\n    channels:\n"
        "    - url: https://conda.anaconda.org/conda-forge/\n"
        f"    indexes:\n    - {index}\n    packages:\n      linux-64:\n      - pypi: {wheel}\n"
        f"packages:\n- pypi: {wheel}\n  name: corpzeta\n  version: '1.0'\n"
    )


def _conda_lock(url: str) -> str:
    return (
        "version: 1\nmetadata: {}\npackage:\n- name: python\n  version: 3.10.0\n"
        "  manager: conda\n  platform: linux-64\n"
        "  url: https://conda.anaconda.org/conda-forge/linux-64/python-3.10.0.conda\n"
        f"- name: corpzeta\n  version: '1.0'\n  manager: pip\n  platform: linux-64\n"
        f"  url: {url}\n"
    )


SAYS = [
    ("uv.lock", _uv(URL), "uv.lock:7"),
    ("sub/uv.lock", _uv(URL), "sub/uv.lock:7"),
    ("poetry.lock", _poetry(URL), "poetry.lock:7"),
    ("pylock.toml", _pylock(URL), "pylock.toml:5"),
    ("pylock.gpu.toml", _pylock(URL), "pylock.gpu.toml:5"),
    ("pixi.lock", _pixi(URL, WHEEL), "pixi.lock:"),
    ("pixi.lock", _pixi(PUBLIC, WHEEL), "pixi.lock:"),  # a wheel from the authors' host
    ("conda-lock.yml", _conda_lock(WHEEL), "conda-lock.yml:13"),
    ("conda-lock.yml", _conda_lock(WHEEL).replace("manager: pip", 'manager: "pip"'), "conda-"),
    ("uv.lock", _uv(URL)[:-10], "uv.lock:7"),  # cut short: read line by line
]


@pytest.mark.parametrize(("path", "text", "where"), SAYS)
def test_a_lock_from_the_authors_registry_is_a_statement(
    make_repo: MakeRepo, path: str, text: str, where: str
) -> None:
    places = ownindex.statements(load(make_repo({path: text}, use_git=False))).places
    assert places and places[0].startswith(where), places


NOT = [
    ("uv.lock", _uv(PUBLIC)),
    ("uv.lock", _uv(FRAMEWORK, name="torch")),  # a framework's index for a known project
    ("poetry.lock", _poetry(PUBLIC)),
    ("poetry.lock", _poetry(FRAMEWORK, name="torch")),
    ("pylock.toml", _pylock(PUBLIC)),
    ("pixi.lock", _pixi(PUBLIC, PUBLIC_FILE)),
    ("conda-lock.yml", _conda_lock(PUBLIC_FILE)),
    # not a lock file forkvet reads (its URL has no index shape: an index-shaped URL in any
    # text file is a statement of its own, tests/test_env_ownindex.py)
    (
        "notes.lock",
        _uv("https://pkgs.corp.example/repo/").replace(WHEEL, "https://pkgs.corp.example/w.whl"),
    ),
]


@pytest.mark.parametrize(("path", "text"), NOT)
def test_a_lock_from_the_public_default_is_none(make_repo: MakeRepo, path: str, text: str) -> None:
    assert ownindex.statements(load(make_repo({path: text}, use_git=False))).places == []


def test_the_f4_repro_comments_the_private_name(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """F4 d10: pyproject declares numpy and corpzeta, uv.lock has both from the corp
    registry: corpzeta is a comment with the lock's place, numpy stays live."""
    repo = make_repo(
        {
            "train.py": "import numpy\nimport corpzeta\n",
            "pyproject.toml": '[project]\nname="d10"\nversion="0.1"\n'
            'requires-python=">=3.10"\ndependencies=["numpy","corpzeta"]\n',
            "uv.lock": _uv(URL),
        }
    )
    out = tmp_path / "out"
    main(["env", "--offline", "--out", str(out), str(repo)])
    capsys.readouterr()
    lines = (out / "requirements.txt").read_text().splitlines()
    live = [x for x in lines if x and not x.startswith("#")]
    assert [x.split()[0] for x in live] == ["numpy"]
    comment = next(x for x in lines if x.startswith("# corpzeta"))
    assert "uv.lock:7" in comment and "not resolved on your index" in comment
