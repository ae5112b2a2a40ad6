"""One bad input is a notice, never a lost section or a wrong entry point."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report
from forkvet.vet.weights import classify_url

Vet = Callable[..., Report]

README = """# Tool

Served locally at http://[fe80::1%eth0]:8080/ or http://[::1/broken while developing.

## Pretrained models

[model.pth](https://github.com/org/tool/releases/download/v1/model.pth)

## Data

http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar
"""


def test_an_ipv6_link_does_not_cost_the_weights_section(vet_repo: Vet) -> None:
    report = vet_repo({"README.md": README, "train.py": "import torch\n"})
    assert [w.url for w in report.weights] == [
        "https://github.com/org/tool/releases/download/v1/model.pth"
    ]
    assert len(report.datasets) == 1
    assert not [f for f in report.findings if f.title == "Check incomplete"]
    notice = [f for f in report.findings if f.title == "Links not read"]
    assert len(notice) == 1 and "README.md:3 (malformed address)" in notice[0].message


def test_a_malformed_address_is_no_kind_of_link() -> None:
    assert classify_url("http://[::1") is None
    assert classify_url("https://[fe80::1]:8080/model.pth") == "weight"


def test_a_bad_notebook_and_a_nul_byte_file_are_skipped_with_a_notice(vet_repo: Vet) -> None:
    good = {"cells": [{"cell_type": "code", "source": "model.load_state_dict(torch.load(p))"}]}
    report = vet_repo(
        {
            "README.md": "# x\n",
            "demo.ipynb": "{ this is not json",
            "inference.ipynb": json.dumps(good),
            "eval.py": "import torch\x00\nprint(1)\n",
            "test_model.py": b"\x00\x01binary" * 10,
            "train.py": "import torch\nif __name__ == '__main__':\n    pass\n",
        }
    )
    tests = [e.path for e in report.entry_points.test]
    assert "demo.ipynb" not in tests and "inference.ipynb" in tests
    assert "eval.py" not in tests and "test_model.py" not in tests
    skipped = {f.path: f.message for f in report.findings if f.title == "File not analysed"}
    assert "not a notebook" in skipped["demo.ipynb"]
    assert "NUL byte" in skipped["eval.py"]
    assert "NUL byte" in skipped["test_model.py"]
    assert not [f for f in report.findings if f.title == "Check incomplete"]


def test_code_past_the_analysis_budget_is_skimmed(
    vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet import limits

    monkeypatch.setattr(limits, "FULL_ANALYSIS_BYTES", 400)
    own = "import torch\n\nif __name__ == '__main__':\n    print(torch.zeros(1))\n"
    big = "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(200))
    vendored = (
        "import os\ntry:\n    import tensorflow as tf\nexcept ImportError:\n    tf = None\n"
        "from . import sibling\n\n\ndef load(p):\n    return pickle.loads(open(p, 'rb').read())\n"
    ) + big
    report = vet_repo({"train.py": own, "third_party/biglib/core.py": vendored})
    assert "train.py" in {e.path for e in report.entry_points.train}
    names = {fw.name for fw in report.frameworks}
    assert names == {"pytorch", "tensorflow"}  # the skimmed file's imports still count
    assert [r for r in report.risks if r.path == "third_party/biglib/core.py"]
    notice = [f for f in report.findings if f.title == "Python files skimmed"]
    assert notice and "third_party/biglib/core.py" in notice[0].message


def test_skimmed_python2_code_is_not_a_crash(
    vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet import limits

    monkeypatch.setattr(limits, "FULL_ANALYSIS_BYTES", 200)
    py2 = "import cPickle\n\ndef main():\n    print 'hello'\n\nmain()\n"
    report = vet_repo({"train.py": py2, "lib/deep/more.py": py2 + "# padding\n" * 40})
    assert report.python.majors == [2]
    assert not [f for f in report.findings if f.title == "Check incomplete"]


def test_a_notebook_of_another_shape_stops_no_check(
    vet_repo: Vet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Round 14a F7: a number in a cell's source list (150 bytes) stopped nine checks, the
    pickle check among them, and ended `env` with an internal error."""
    odd = {"cells": [{"cell_type": "code", "source": ["import os\n", 5]}], "worksheets": 3}
    files = {
        "demo.ipynb": json.dumps(odd),
        "old.ipynb": json.dumps({"worksheets": [7, {"cells": [8]}]}),
        "train.py": "import torch\nx = eval(input())\nif __name__ == '__main__':\n    pass\n",
    }
    report = vet_repo(files)
    assert not [f for f in report.findings if f.title == "Check incomplete"]
    assert not [r for r in report.risks if r.kind == "pickle-unverified"]
    skipped = {f.path: f.message for f in report.findings if f.title == "File not analysed"}
    assert "not a notebook" in skipped["demo.ipynb"]
    assert report.entry_points.train  # the other checks stand
    from forkvet.cli import main

    repo = tmp_path / "model-repo"
    assert main(["env", str(repo), "--offline", "--out", str(tmp_path / "env")]) in (0, 1)
    assert "internal error" not in capsys.readouterr().err
