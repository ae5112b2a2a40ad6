"""Numbers past int()'s 4,300-digit limit and nesting past the stack in repository files
(outside attack round 9): Python raises a bare ValueError or RecursionError from inside
tomllib, json, PyYAML and packaging; each bad file must be a note or an invalid-config
error, and the rest of the report stand (never exit 3)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement
from packaging.specifiers import InvalidSpecifier
from packaging.version import InvalidVersion

from forkvet import safeparse, safeyaml
from forkvet.cli import main
from tests.conftest import MakeRepo

LONG = "9" * 5000
DEEP_TOML = "x = " + "[" * 100_000 + "]" * 100_000 + "\n"
# os.system("true"), protocol 0: what the pickle check must still report beside a bad file
EVIL_PICKLE = b"cposix\nsystem\n(S'true'\ntR."

# One repository file of each kind forkvet parses, each holding a number of 5,000 digits.
KINDS: dict[str, dict[str, str]] = {
    "forkvet.yml": {".github/forkvet.yml": f"smoke:\n  timeout: {LONG}\n"},
    "forkvet.yml tagged": {".github/forkvet.yml": f"train:\n  max_steps: !!int '{LONG}'\n"},
    "forkvet.yml sexagesimal": {".github/forkvet.yml": "smoke:\n  timeout: 1" + ":1" * 3000},
    "forkvet.yml date": {".github/forkvet.yml": "smoke:\n  timeout: 2020-13-45\n"},
    "environment.yml": {
        "environment.yml": f"name: x\nchannels: [{LONG}]\ndependencies:\n  - numpy={LONG}\n"
    },
    "environment.yml version": {
        "environment.yml": f"name: x\ndependencies:\n  - python=3.{LONG}\n  - pip:\n"
        f"    - numpy==1.{LONG}\n"
    },
    "Pipfile": {"Pipfile": f'[packages]\nnumpy = "*"\nx = {LONG}\n'},
    "Pipfile python": {
        "Pipfile": f'[packages]\nnumpy = "*"\n[requires]\npython_version = "3.{LONG}"\n'
    },
    "pyproject.toml": {"pyproject.toml": f"[project]\nname = 'x'\nversion = '1'\nx = {LONG}\n"},
    "pyproject.toml deep": {"pyproject.toml": "[project]\nname = 'x'\n" + DEEP_TOML},
    "requirements.txt": {"requirements.txt": f"numpy>=1.{LONG}\ntorch==1.{LONG}\n"},
    "setup.py": {"setup.py": f"from setuptools import setup\nsetup(name='x', version={LONG})\n"},
    "README": {"README.md": f"# x\n\nTested with TensorFlow 1.{LONG} and PyTorch {LONG}.1\n"},
    "folder README": {"tf/README.md": f"# tf\n\nWe used TensorFlow 1.{LONG}\n"},
    "CITATION.cff": {"CITATION.cff": f"cff-version: 1.2.0\ntitle: x\nversion: {LONG}\n"},
    "CITATION.cff year": {"CITATION.cff": f'cff-version: 1.2.0\ntitle: x\nyear: "{LONG}"\n'},
    "Dockerfile": {"Dockerfile": f"FROM pytorch/pytorch:1.{LONG}-cuda10.1-cudnn7-runtime\n"},
    "notebook": {"nb.ipynb": '{"cells": [], "nbformat": ' + LONG + "}"},
}
# ...and those `env --offline` and `envs key` (smoke, train-check) read as well.
ENV_KINDS = (
    "environment.yml",
    "environment.yml version",
    "Pipfile",
    "Pipfile python",
    "pyproject.toml",
    "pyproject.toml deep",
    "requirements.txt",
    "setup.py",
    "Dockerfile",
)


def _repo(make_repo: MakeRepo, files: dict[str, str]) -> Path:
    base: dict[str, str | bytes] = {"m.py": "import numpy\nimport tensorflow\n"}
    return make_repo({**base, "model.pt": EVIL_PICKLE, **files})


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_long_number_in_any_repository_file_leaves_the_report_standing(
    kind: str, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(make_repo, KINDS[kind])
    code = main(["vet", str(repo), "--format", "json"])
    out = capsys.readouterr()
    assert code == 1, out.err  # the pickle's error, not exit 3
    report = json.loads(out.out)
    assert any(r["kind"] == "dangerous-pickle" for r in report["risks"])
    stopped = [f["message"] for f in report["findings"] if f["title"] == "Check incomplete"]
    assert not stopped, stopped
    titles = {f["title"] for f in report["findings"]}
    if kind.startswith("forkvet.yml"):
        assert "Invalid .github/forkvet.yml" in titles
    if kind == "CITATION.cff":
        assert "CITATION.cff not read" in titles  # named, not taken for "no citation"
    if kind not in ENV_KINDS:
        return
    assert main(["env", str(repo), "--offline", "--out", str(tmp_path / "o")]) in (0, 1)
    env = ["envs", "key", str(repo), "--device", "cpu", "--env-dir", str(tmp_path / "e")]
    assert main(env) in (0, 2)
    assert "internal error" not in capsys.readouterr().err


def test_the_parsers_raise_their_own_errors_only() -> None:
    with pytest.raises(tomllib.TOMLDecodeError):
        safeparse.toml_loads(f"x = {LONG}")
    with pytest.raises(tomllib.TOMLDecodeError):
        safeparse.toml_loads(DEEP_TOML)
    with pytest.raises(json.JSONDecodeError):
        safeparse.json_loads(LONG)
    with pytest.raises(json.JSONDecodeError):
        safeparse.json_loads("[" * 200_000 + "]" * 200_000)
    for text in (f"a: {LONG}", f"a: !!int '{LONG}'", "a: 1" + ":1" * 3000, "a: 2020-13-45"):
        with pytest.raises(yaml.YAMLError):
            safeyaml.load(text)
    with pytest.raises(InvalidVersion):
        safeparse.version(f"1.{LONG}")
    with pytest.raises(InvalidSpecifier):
        safeparse.specifiers(f">=3.{LONG}")
    with pytest.raises(InvalidRequirement):
        safeparse.requirement(f"torch==1.{LONG}")
    with pytest.raises(InvalidMarker):
        safeparse.marker(f'python_version < "3.{LONG}"')
    # ordinary values are unchanged
    assert safeyaml.load("a: 0x1f\nb: 1:30\nc: 600") == {"a": 31, "b": 90, "c": 600}
    assert str(safeparse.version("2024.1.1")) == "2024.1.1"
    assert safeparse.specifiers(">=3.8").contains("3.12")


def test_every_version_specifier_requirement_and_toml_parse_goes_through_safeparse() -> None:
    """By construction: no other module builds these from text itself (a literal is fine)."""
    import ast

    root = Path(__file__).resolve().parent.parent / "forkvet"
    direct = {"Version", "SpecifierSet", "Requirement", "Marker"}
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "safeparse.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # the user's own uv.toml: neither a repository's nor an index's text
        own = {
            id(n)
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef) and fn.name == "uv_config_index"
            for n in ast.walk(fn)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in own:
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else None
            toml = (
                isinstance(f, ast.Attribute)
                and f.attr == "loads"
                and isinstance(f.value, ast.Name)
                and f.value.id == "tomllib"
            )
            literal = all(isinstance(a, ast.Constant) for a in node.args)
            if (name in direct and not literal) or toml:
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == [], found
