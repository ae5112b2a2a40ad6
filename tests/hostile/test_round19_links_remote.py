"""Round 19 (tester 19a): a symlink leaving the tree is NOT verified whatever it is named, a
folder named like a document or a file named like an image included (F4); every transformers
remote-code reference to another Hub repository is judged alike (F10); `torch.hub.load` of
another repository runs code forkvet never saw (F12)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report, Risk
from forkvet.snapshot import load
from forkvet.vet import vet
from tests.conftest import MakeRepo

README = {"README.md": "# Model\n"}


def _kind(report: Report, kind: str) -> list[Risk]:
    return [r for r in report.risks if r.kind == kind]


# -- F4: links leaving the tree, whatever their name -----------------------------------------------
def test_a_folder_link_named_like_a_document_is_unverified(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "model.pt").write_bytes(b"\x80\x02cos\nsystem\n.")
    root = make_repo(
        {**README, "demo.py": 'import torch\ntorch.load("weights.md/model.pt")\n'},
        use_git=False,
    )
    (root / "weights.md").symlink_to(outside)
    [risk] = _kind(vet(load(root)), "link-outside")
    assert risk.severity == "error" and risk.path == "weights.md" and "NOT verified" in risk.message


def test_a_file_link_named_like_an_image_is_unverified(make_repo: MakeRepo, tmp_path: Path) -> None:
    outside = tmp_path / "evil.pkl"
    outside.write_bytes(b"\x80\x02cos\nsystem\n.")
    root = make_repo({**README, "assets/logo.txt": "x\n"}, use_git=False)
    for name in ("assets/banner.png", "docs/guide.html", "paper.pdf"):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).symlink_to(outside)
    [risk] = _kind(vet(load(root)), "link-outside")
    assert risk.severity == "error" and "3 symlink" in risk.message
    for name in ("assets/banner.png", "docs/guide.html", "paper.pdf"):
        assert name in risk.message


def test_a_link_inside_the_tree_stays_no_finding(make_repo: MakeRepo) -> None:
    root = make_repo({**README, "AGENTS.md": "# agents\n"}, use_git=False)
    (root / "CLAUDE.md").symlink_to("AGENTS.md")
    assert not _kind(vet(load(root)), "link-outside")


# -- F10: every transformers reference to another repository's module ------------------------------
def _remote(report: Report) -> list[Risk]:
    return _kind(report, "remote-code")


def test_a_custom_pipeline_of_another_repository_loaded_with_remote_code_is_an_error(
    vet_repo: Callable[..., Report],
) -> None:
    config = {
        "model_type": "bert",
        "custom_pipelines": {"my-task": {"impl": "evil/repo--pipe.MyPipe", "pt": ["AutoModel"]}},
    }
    report = vet_repo(
        {
            **README,
            "config.json": json.dumps(config),
            "demo.py": "from transformers import pipeline\n"
            "p = pipeline(model='.', trust_remote_code=True)\n",
        }
    )
    [risk] = _remote(report)
    assert risk.severity == "error" and risk.path == "config.json"
    assert "'evil/repo'" in risk.message and "custom_pipelines.my-task.impl" in risk.message


def test_a_reference_to_another_repository_under_any_key_is_named(
    vet_repo: Callable[..., Report],
) -> None:
    report = vet_repo(
        {
            **README,
            "processor_config.json": json.dumps({"x": [{"y": "o/r--m.C"}]}),
            "data/sentences.json": json.dumps(
                ["you kept -- Dr. Buchholz recommends it .", "webpack --config=a/b.js", "a--b"]
            ),
        }
    )
    [risk] = _remote(report)
    assert risk.severity == "warning" and risk.path == "processor_config.json"
    assert "'o/r'" in risk.message and "x[0].y" in risk.message


# -- F12: torch.hub runs another repository's hubconf.py ------------------------------------------
def test_torch_hub_load_names_the_repository_and_trust_repo_is_an_error(
    vet_repo: Callable[..., Report],
) -> None:
    report = vet_repo(
        {
            **README,
            "demo.py": "import torch\n"
            'm = torch.hub.load("evil-user/not-vision", "resnet50", trust_repo=True)\n',
            "hub.py": "import torch\n"
            "names = torch.hub.list('o/\\x1b[2Jr:v1')\n"
            "m = torch.hub.load(repo_or_dir=REPO, model='m', trust_repo='skip')\n",
            "local.py": "import torch\nm = torch.hub.load('.', 'custom', source='local')\n",
        }
    )
    found = {(r.path, r.line): r for r in _remote(report)}
    assert sorted(found) == [("demo.py", 2), ("hub.py", 2), ("hub.py", 3)], report.risks
    assert found[("demo.py", 2)].severity == "error"
    assert "'evil-user/not-vision'" in found[("demo.py", 2)].message
    assert found[("hub.py", 2)].severity == "warning"
    assert "\x1b" not in found[("hub.py", 2)].message and "\\x1b" in found[("hub.py", 2)].message
    assert found[("hub.py", 3)].severity == "error"


def test_torch_hub_runs_a_hubconf_forkvet_never_saw(make_repo: MakeRepo, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    outside, mark = tmp_path / "companion", tmp_path / "ran"
    outside.mkdir()
    (outside / "hubconf.py").write_text(f"open({str(mark)!r}, 'w').write('ran')\ndef m(): pass\n")
    demo = "import torch\ntorch.hub.load('../companion', 'm', source='local')\n"
    root = make_repo({**README, "demo.py": demo}, use_git=False)
    subprocess.run([sys.executable, "demo.py"], cwd=root, check=True, timeout=240)
    assert mark.exists()  # the real loader ran the companion's code
    [risk] = _remote(vet(load(root)))
    assert risk.path == "demo.py" and "'../companion'" in risk.message


def test_a_reference_past_the_walk_or_escaped_is_found(vet_repo: Callable[..., Report]) -> None:
    big = {"data": list(range(250_000)), "custom_pipelines": {"t": {"impl": "evil/big--p.P"}}}
    report = vet_repo(
        {
            **README,
            "config.json": json.dumps(big),
            "tokenizer_config.json": '{"auto_map": {"AutoTokenizer": "e/r\\u002d\\u002dt.T"}}',
        }
    )
    found = {r.path: r.message for r in _remote(report)}
    assert sorted(found) == ["config.json", "tokenizer_config.json"], report.risks
    assert "'evil/big'" in found["config.json"] and "'e/r'" in found["tokenizer_config.json"]
