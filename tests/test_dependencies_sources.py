"""Declared dependencies are index names only when the authors install them from the index:
an option's argument on a `pip install` line is never a package, and a package installed from
another index, a local path, a URL or git is never resolved on the user's index under its
name (dependency confusion: anyone may register that name there)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from forkvet.report import Report
from forkvet.vet import pipargs
from forkvet.vet.declared import parse_requirement
from tests.conftest import MakeRepo

Vet = Callable[..., Report]


def _help_options() -> dict[str, bool]:
    """option -> takes a value, from the installed pip's `pip install --help`."""
    text = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    out: dict[str, bool] = {}
    for line in text.splitlines():
        if not line.startswith("  -") or line.startswith("  - "):
            continue
        head = line.strip().split("  ")[0]
        takes = "<" in head
        for name in head.split(" <")[0].split(", "):
            out[name.strip()] = takes
    return out


def test_the_option_table_is_pips_own() -> None:
    """Every option the installed pip's `install --help` shows is in forkvet's table, as an
    option with or without an argument, as pip has it."""
    options = _help_options()
    assert len(options) > 60 and options["--trusted-host"] and not options["--no-deps"]
    for name, takes in options.items():
        if name.startswith("--"):
            table = pipargs.VALUE_LONG if takes else pipargs.FLAG_LONG
        else:
            table = pipargs.VALUE_SHORT if takes else pipargs.FLAG_SHORT
            name = name[1:]
        assert name in table, f"pip's {name} (takes a value: {takes}) is not in the table"


@pytest.mark.parametrize(
    ("words", "packages"),
    [
        ("torch --trusted-host mirrors.example -i http://mirrors.example/simple/", ["torch"]),
        ("numpy --trusted-host=files.internal.corp", ["numpy"]),
        ("opencv-python --default-timeout 100", ["opencv-python"]),
        ("scipy --retries 5 --progress-bar off", ["scipy"]),
        ("-qUt target a --src srcdir b", ["a", "b"]),
        ("--trusted mirrors.example c", ["c"]),  # optparse's unambiguous prefix
        ("-iURL d -- -e", ["d", "-e"]),
        ("--python-version 38 --platform manylinux2014_x86_64 --abi cp38 e", ["e"]),
        # an unknown option is read on (its caller marks every name of the line unread)
        ("f --new-option value g", ["f", "value", "g"]),
    ],
)
def test_option_arguments_are_never_packages(words: str, packages: list[str]) -> None:
    assert pipargs.parse(words.split()).packages == packages


README_OPTIONS = """# x

```
pip install -r requirements.txt -i https://mirror.example/simple --trusted-host mirror.example
pip install numpy --trusted-host=files.internal.corp
pip3 install opencv-python --default-timeout 100
pip install scipy --retries 5 --progress-bar off
pip install tqdm --src srcdir -t targetdir --prefix prefixdir --proxy proxyhost:8080
pip install --platform manylinux2014_x86_64 --python-version 38 --log logfile.txt six
pip install --cache-dir cachedir --root rootdir --global-option build_ext einops
pip install --config-settings editable_mode=compat --implementation cp --abi cp38 rich
pip install --exists-action w --upgrade-strategy eager --report reportfile.json click
    pip install --timeout 30 attrs
```

Or `pip install --trusted-host inlinetrusted toolz`.
"""


def test_readme_option_arguments_are_not_declared(vet_repo: Vet) -> None:
    nb = json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "source": ["!pip install --timeout 100 --trusted-host nbtrusted.example wandb"],
                }
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 2,
        }
    )
    report = vet_repo({"README.md": README_OPTIONS, "demo.ipynb": nb, "m.py": "import os\n"})
    declared = set(report.dependencies.declared)
    assert declared == {
        "numpy",
        "opencv-python",
        "scipy",
        "tqdm",
        "six",
        "einops",
        "rich",
        "click",
        "attrs",
        "toolz",
        "wandb",
    }


PRIVATE = """# x
```
pip install -i https://pypi.corp.example/simple corpwidget
pip install --no-index --find-links ./wheels localwheel
pip install --extra-index-url https://mirror.example/simple torch
pip install -i https://pypi.corp.example/simple mxnet-corp
```
"""


def _env_offline(repo: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    main(["env", str(repo), "--offline", "--out", str(out), "--format", "json"])
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_packages_from_another_index_are_not_pinned(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A README's private-index or local-wheel package is dropped and named, also when a
    requirements file or an import names it too; a public project forkvet knows (torch from a
    build index) stays, with a note."""
    repo = make_repo(
        {
            "README.md": PRIVATE,
            "requirements.txt": "corpwidget==1.0\n",
            "m.py": "import corpwidget, localwheel, torch, mxnet_corp\n",
        }
    )
    data = _env_offline(repo, tmp_path / "out", capsys)
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    pinned = [line.split()[0] for line in reqs.splitlines() if line and line[0] != "#"]
    assert pinned == ["torch"]
    problems = "\n".join(str(p) for p in data["problems"])
    assert "corpwidget (README.md:3): installed by the authors from another index" in problems
    assert "-i https://pypi.corp.example/simple" in problems
    assert "localwheel (README.md:4)" in problems and "--find-links ./wheels" in problems
    assert "torch (README.md:5)" in problems and "public project" in problems
    # a known project's prefix does not make a private name public (mxnet-* is mxnet's)
    assert "mxnet-corp (README.md:6): installed by the authors from another index" in problems


POETRY = """[tool.poetry]
name = "app"
version = "1.0"
[tool.poetry.dependencies]
python = "^3.8"
numpy = "^1.19"
poetrylocal = { path = "libs/poetrylocal", develop = true }
poetrygit = { git = "https://github.com/example/poetrygit.git", tag = "v1" }
poetryurl = { url = "https://example.com/poetryurl-1.0.tar.gz" }
poetrycorp = { version = "^1.0", source = "corp" }
[tool.poetry.group.test.dependencies]
grouplocal = { path = "../grouplocal" }
pytest = "^7"
[[tool.poetry.source]]
name = "corp"
url = "https://pypi.corp.example/simple"
priority = "explicit"
"""
PIPFILE = """[[source]]
name = "corp"
url = "https://pypi.corp.example/simple"
[packages]
pipfilelocal = {path = "./libs/pipfilelocal", editable = true}
pipfilegit = {git = "https://github.com/example/pipfilegit.git", ref = "main"}
pipfilefile = {file = "https://example.com/pipfilefile-1.0.tar.gz"}
pipfilecorp = {version = "*", index = "corp"}
scipy = "==1.5.0"
"""


def test_poetry_and_pipfile_paths_urls_git_and_sources_are_not_pinned(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "pyproject.toml": POETRY,
            "Pipfile": PIPFILE,
            "libs/poetrylocal/__init__.py": "x = 1\n",
            "m.py": "import numpy, scipy, poetrylocal, pipfilecorp\n",
        }
    )
    data = _env_offline(repo, tmp_path / "out", capsys)
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    pinned = {line.split()[0] for line in reqs.splitlines() if line and line[0] != "#"}
    assert pinned == {"numpy>=1.19", "scipy==1.5.0"}
    assert set(data["git"]) == {
        "poetrygit @ git+https://github.com/example/poetrygit@v1",
        "pipfilegit @ git+https://github.com/example/pipfilegit@main",
    }
    problems = "\n".join(str(p) for p in data["problems"])
    for name in ("poetrylocal", "poetryurl", "poetrycorp", "grouplocal", "pipfilelocal"):
        assert f"{name} (" in problems and "never resolved on your index" in problems
    assert "pipfilefile (Pipfile): installed by the authors from a file or URL" in problems
    assert "pipfilecorp (Pipfile): installed by the authors from the package source" in problems


def test_setup_cfg_file_directive_reads_the_file_in_the_tree(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "setup.cfg": (
                "[metadata]\nname = x\n[options]\ninstall_requires = file: reqs-in.txt\n"
                "[options.extras_require]\nviz = file: extras/viz.txt, ../outside.txt\n"
            ),
            "reqs-in.txt": "numpy==1.19.0\nscipy\n",
            "extras/viz.txt": "matplotlib\n",
            "m.py": "import numpy, scipy\n",
        }
    )
    deps = report.dependencies
    assert deps.declared == ["matplotlib", "numpy", "scipy"]
    assert deps.declared_specs["numpy"] == "==1.19.0"
    assert any("../outside.txt" in f.message and "not read" in f.message for f in report.findings)


def test_a_named_url_requirement_keeps_its_name() -> None:
    assert parse_requirement("setupurl @ https://example.com/y.whl") == (
        "setupurl",
        "https://example.com/y.whl",
    )
    assert parse_requirement("git+https://github.com/o/pkg.git") == (
        "pkg",
        "git+https://github.com/o/pkg.git",
    )


def test_requirement_lines_ending_in_a_backslash_join_the_next_as_pip_joins_them(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`./my\\` + `lib` is the path ./mylib (never a package `lib`), and a name on the line
    after `--index-url \\` + URL is part of that option line, never a package."""
    repo = make_repo(
        {
            "requirements.txt": (
                "./my\\\nlib\n--index-url \\\nhttps://corp.example/simple \\\ncontpkg\n"
                "numpy==1.19.5 \\\n  # a comment\n"
            ),
            "mylib/setup.py": "from setuptools import setup\nsetup(name='mylib')\n",
            "m.py": "import numpy, lib, contpkg\n",
        }
    )
    data = _env_offline(repo, tmp_path / "out", capsys)
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    pinned = [line.split()[0] for line in reqs.splitlines() if line and line[0] != "#"]
    assert "lib" not in pinned and "contpkg" not in pinned
    assert "numpy==1.19.5" in pinned
    assert "(./mylib)" in "\n".join(str(p) for p in data["problems"])


def test_every_pip_archive_suffix_is_a_path() -> None:
    """pip's ARCHIVE_EXTENSIONS, the installed pip's own list: each is a file on disk."""
    from pip._internal.utils.filetypes import ARCHIVE_EXTENSIONS

    from forkvet.vet.declared import local_install

    assert {".tlz", ".tar.lz", ".tar.lzma"} <= set(ARCHIVE_EXTENSIONS)
    for suffix in ARCHIVE_EXTENSIONS:
        assert local_install(f"corp3-1.0{suffix}") == "corp3", suffix
        assert parse_requirement(f"corp3{suffix}") is None, suffix


def _pinned(out: Path) -> set[str]:
    reqs = (out / "requirements.txt").read_text()
    return {line.split()[0] for line in reqs.splitlines() if line and line[0] != "#"}


ENV_README = """# x
```
PIP_INDEX_URL=https://corp.example/simple pip install envonly
pip install -i https://corp.example/simple -r reqs/requirements-corp.txt
```
```
export PIP_EXTRA_INDEX_URL=https://corp.example/simple
pip install exportonly
```
```
pip install plainpkg
```
"""


def test_an_index_set_for_a_whole_file_or_line_marks_all_its_packages(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A requirements file or conda pip section that sets an index anywhere, a README line
    `pip install -i URL -r FILE`, a PIP_INDEX_URL-like variable on the line or exported
    earlier in its code block, and setup.py's dependency_links: their packages are from
    elsewhere; a public project forkvet knows (torch) stays."""
    repo = make_repo(
        {
            "requirements.txt": "reqonly==1.0\n--extra-index-url https://corp.example/simple\n",
            "dev-requirements.txt": "-f ./wheels\nwheelonly\n",
            "environment.yml": (
                "name: x\ndependencies:\n  - pip:\n    - --index-url https://corp.example/simple\n"
                "    - condapiponly==1.0\n    - torch==2.1.0\n"
            ),
            "reqs/requirements-corp.txt": "corpx==1.0\n",
            "README.md": ENV_README,
            "setup.py": (
                "from setuptools import setup\nsetup(name='app', install_requires=['deplinkonly',"
                " 'scipy'], dependency_links=["
                "'https://corp.example/deplinkonly-1.0.tar.gz#egg=deplinkonly-1.0'])\n"
            ),
            "m.py": (
                "import reqonly, wheelonly, condapiponly, corpx, envonly, exportonly, plainpkg\n"
                "import deplinkonly, scipy, torch\n"
            ),
        }
    )
    data = _env_offline(repo, tmp_path / "out", capsys)
    # plainpkg, on a line of its own, is a comment too: the repository installs from an index
    # of its own, and no public project forkvet knows has that name (the net: ownindex)
    assert _pinned(tmp_path / "out") == {"torch==2.1.0", "scipy"}
    assert data["private"] == ["plainpkg"]
    problems = "\n".join(str(p) for p in data["problems"])
    for name in ("reqonly", "wheelonly", "condapiponly", "corpx", "envonly", "exportonly"):
        assert f"{name} (" in problems, name
    assert "deplinkonly (setup.py): installed by the authors from a link" in problems
    assert "PIP_INDEX_URL=https://corp.example/simple" in problems


UV_PYPROJECT = """[project]
name = "myproj"
version = "0.1"
dependencies = ["numpy==1.19.5", "wslib", "uvgit", "uvidx", "uvpath", "uvurl"]
[tool.uv.sources]
wslib = { workspace = true }
uvgit = { git = "https://github.com/corp/uvgit", tag = "v1" }
uvidx = { index = "corp" }
uvpath = { path = "./libs/uvpath" }
uvurl = { url = "https://corp.example/uvurl-1.0.tar.gz" }
[[tool.uv.index]]
name = "corp"
url = "https://corp.example/simple"
explicit = true
"""
FILE_INDEXES = {
    "uvdefault/pyproject.toml": (
        '[project]\nname = "a"\nversion = "1"\ndependencies = ["uvdefonly", "torch"]\n'
        '[[tool.uv.index]]\nname = "c"\nurl = "https://corp.example/simple"\ndefault = true\n'
    ),
    "uvurl/pyproject.toml": (
        '[project]\nname = "b"\nversion = "1"\ndependencies = ["uvurlonly"]\n'
        '[tool.uv]\nindex-url = "https://corp.example/simple"\n'
    ),
    "pdm/pyproject.toml": (
        '[project]\nname = "c"\nversion = "1"\ndependencies = ["pdmonly"]\n'
        '[[tool.pdm.source]]\nname = "pypi"\nurl = "https://corp.example/simple"\n'
    ),
    "poetry/pyproject.toml": (
        '[tool.poetry]\nname = "d"\nversion = "1"\n[tool.poetry.dependencies]\n'
        'poetonly = "^1.0"\n[[tool.poetry.source]]\nname = "corp"\n'
        'url = "https://corp.example/simple"\npriority = "primary"\n'
    ),
    "pipenv/Pipfile": (
        '[[source]]\nname = "corp"\nurl = "https://corp.example/simple"\n'
        '[packages]\npipfonly = "*"\n'
    ),
}


def test_uv_sources_and_whole_file_indexes_are_not_pinned(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[tool.uv.sources] entries are from elsewhere (https git ones become git lines), and a
    uv default index or index-url, PDM's `pypi` source, a Poetry primary source or a Pipfile's
    only source that is not the user's index make every package of that file from
    elsewhere; a public project forkvet knows (torch) stays."""
    repo = make_repo(
        {
            "pyproject.toml": UV_PYPROJECT,
            **FILE_INDEXES,
            "m.py": (
                "import numpy, wslib, uvgit, uvidx, uvpath, uvurl, uvdefonly, uvurlonly\n"
                "import pdmonly, poetonly, pipfonly, torch\n"
            ),
        }
    )
    data = _env_offline(repo, tmp_path / "out", capsys)
    assert _pinned(tmp_path / "out") == {"numpy==1.19.5", "torch"}
    assert set(data["git"]) == {"uvgit @ git+https://github.com/corp/uvgit@v1"}
    problems = "\n".join(str(p) for p in data["problems"])
    for name in ("wslib", "uvidx", "uvpath", "uvurl", "uvdefonly", "uvurlonly", "pdmonly"):
        assert f"{name} (" in problems, name
    for name in ("poetonly", "pipfonly"):
        assert f"{name} (" in problems, name
    assert "https://corp.example/simple set for the whole file" in problems
