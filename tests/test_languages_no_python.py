"""Vendored libraries do not decide the top language; a repository without Python gets no
invented Python environment from `forkvet env`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.report import Report
from tests.conftest import MakeRepo

Vet = Callable[..., Report]
JS = "function f(a) {\n  return a + 1;\n}\n" * 400


def test_vendored_javascript_and_docs_do_not_decide_the_language(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "model.py": "import torch\n" + "x = torch.zeros(1)\n" * 50,
            "web/js/jquery-3.4.1.js": JS,
            "web/js/d3.v5.js": JS,
            "web/js/bootstrap.bundle.js": JS,
            "server/static/deeplearn-0.3.15.js": JS,
            "web/static/app.min.js": JS,
            "node_modules/left-pad/index.js": JS,
            "docs/_static/searchtools.js": JS,
            "third_party/lib/layer.cpp": "int f() { return 1; }\n" * 400,
            "web/js/viewer.js": "function show() {\n  draw();\n}\n",
        }
    )
    langs = {lang.name: lang for lang in report.languages}
    assert report.languages[0].name == "Python"
    # The project's own JavaScript still counts.
    assert langs["JavaScript"].files == 1
    assert "C++" not in langs


def test_env_refuses_a_repository_without_python(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lua = make_repo(
        {
            "main.lua": "require 'torch'\nrequire 'nn'\n",
            "README.md": "DATA_ROOT=celebA dataset=folder th main.lua\n",
            "web/js/jquery.js": JS,
        }
    )
    out = tmp_path / "env"
    code = main(["env", str(lua), "--offline", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "has no Python code" in err
    assert "Traceback" not in err and not out.exists()
