"""A conda channel of the authors' own set outside environment.yml (a repository `.condarc`,
`conda config --add channels X` in a README or script, pixi's `channels`, a conda lock) reaches the
conda-only packages as environment.yml's own channel list does: left out and named (outside
attack, round 12b F6). A public channel changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forkvet.cli import main

CHAN = "https://conda.corp.example/corpchan"
ENV = "channels:\n  - conda-forge\ndependencies:\n  - python=3.10\n  - numpy\n  - corpzeta\n"


def _readme(line: str) -> str:
    return f"# x\n\n```bash\n{line}\nconda env create -f environment.yml\n```\n"


PRIVATE = [
    ({".condarc": f"channels:\n  - {CHAN}\n  - conda-forge\n"}, ".condarc"),  # g1
    ({"README.md": _readme(f"conda config --add channels {CHAN}")}, "README.md:4"),  # g2
    ({"README.md": _readme("conda config --env --append channels corpchan")}, "README.md:4"),
    ({"setup.sh": f"mamba config --prepend channels '{CHAN}'\n"}, "setup.sh:1"),
    ({"pixi.toml": f'[project]\nname = "g3"\nchannels = ["{CHAN}", "conda-forge"]\n'}, "pixi"),
    (
        {"pyproject.toml": '[tool.pixi.workspace]\nchannels = [{ channel = "corpchan" }]\n'},
        "pyproject.toml",
    ),
]
# F6's README forms, with environment.yml naming the package under conda-forge as well (the
# channel is named; its place where no install line took the package itself).
PRIVATE += [
    ({"README.md": _readme(line)}, where)
    for line, where in [
        ("conda install corpchan::corpzeta", "(corpchan)"),
        ("conda install --channel=corpchan corpzeta", "corpchan"),
        ("conda install -y -q -c corpchan corpzeta=1.0", "corpchan"),
        ("mamba install -c corpchan corpzeta", "corpchan"),
        (f"micromamba create -n x -c {CHAN} corpzeta", "corpchan"),
        ("conda create -n x -c pytorch -c corpchan python=3.10", "README.md:4"),
        ("pixi add --channel corpchan corpzeta", "corpchan"),
    ]
]
# Round 12, left: a channel recorded only in a lock file (conda-lock's metadata, an explicit
# file's package URLs).
_LOCK = (
    "version: 1\nmetadata:\n  channels:\n  - url: conda-forge\n    used_env_vars: []\n"
    "  - url: {chan}\n    used_env_vars: []\npackage:\n- name: corpzeta\n  version: '1.0'\n"
    "  manager: conda\n  url: {chan}/linux-64/corpzeta-1.0-0.conda\n"
)
_EXPLICIT = "# platform: linux-64\n@EXPLICIT\n{url}/linux-64/corpzeta-1.0-0.conda#0123\n"
PRIVATE += [
    ({"conda-lock.yml": _LOCK.format(chan=CHAN)}, "conda-lock.yml"),
    ({"conda-linux-64.lock": _EXPLICIT.format(url=CHAN)}, "conda-linux-64.lock"),
]
PUBLIC = [
    {"conda-lock.yml": _LOCK.format(chan="pytorch")},
    {"conda-linux-64.lock": _EXPLICIT.format(url="https://conda.example.org/conda-forge")},
    {"README.md": _readme("conda create -n x -c conda-forge -c pytorch python=3.10")},
    {"README.md": _readme("pixi add --channel conda-forge ffmpeg")},
    {".condarc": "channels:\n  - conda-forge\n  - defaults\n"},
    {"README.md": _readme("conda config --add channels conda-forge")},
    {"pixi.toml": '[project]\nname = "g3"\nchannels = ["conda-forge", "pytorch"]\n'},
    {"docs/notes.md": "conda config --show channels\n"},
]


def _run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> tuple[list[str], list[str], str]:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text("import numpy\nimport corpzeta\n")
    (repo / "environment.yml").write_text(ENV)
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    out = tmp_path / "out"
    main(["env", str(repo), "--offline", "--out", str(out), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    deps = [x.strip()[2:] for x in (out / "environment.yml").read_text().splitlines()]
    return deps, report["problems"], (out / "requirements.txt").read_text()


@pytest.mark.parametrize(("files", "where"), PRIVATE)
def test_a_channel_of_the_authors_outside_environment_yml_leaves_the_package_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], where: str
) -> None:
    deps, problems, requirements = _run(tmp_path, capsys, files)
    assert "corpzeta" not in deps
    said = [p for p in problems if "corpzeta" in p and "another conda channel" in p]
    assert said and where in said[0], problems
    assert "numpy" in requirements  # a PyPI project forkvet knows stays


@pytest.mark.parametrize("files", PUBLIC)
def test_a_public_channel_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    deps, problems, _ = _run(tmp_path, capsys, files)
    assert "corpzeta" in deps
    assert not any("another conda channel" in p for p in problems)
