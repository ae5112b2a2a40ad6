"""Entry points and their options, weights links, citation."""

from __future__ import annotations

from collections.abc import Callable

from forkvet.report import Report

Vet = Callable[..., Report]

README = """# DeepNet

Paper: [arXiv](https://arxiv.org/abs/1512.03385)

## Pretrained models

Download the [ResNet-50 weights](https://drive.google.com/file/d/1AbCdEf/view) and the
[checkpoint](https://github.com/org/deepnet/releases/download/v1.0/resnet50.pth).

## Training

```bash
CUDA_VISIBLE_DEVICES=0 python train.py --config configs/r50.yaml \\
    --epochs 90
python test.py --weights resnet50.pth
pip install -r requirements.txt
```

## Results

| Model | Top-1 acc |
|---|---|
| R50 | 76.1 |

## Citation

```bibtex
@inproceedings{he2016deep,
  title={Deep Residual Learning for Image Recognition},
  author={He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian},
  booktitle={CVPR},
  year={2016}
}
```
"""

TRAIN = """import argparse
import torch

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--config', type=str, required=True, help='config file')
    parser.add_argument('--epochs', type=int, default=90)
    parser.add_argument('--lr', default=0.1, type=float)
    args = parser.parse_args()

if __name__ == '__main__':
    main()
"""


def test_entry_points_options_commands(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "README.md": README,
            "train.py": TRAIN,
            "test.py": "import sys\nif __name__ == '__main__':\n    print(sys.argv)\n",
            "tests/test_model.py": "def test_x():\n    assert True\n",
            "model.py": "import torch\n",
            "requirements.txt": "torch\n",
        }
    )
    ep = report.entry_points
    assert [e.path for e in ep.train] == ["train.py"]
    assert [e.path for e in ep.test] == ["test.py"]
    opts = {o["name"]: o for o in ep.train[0].options}
    assert opts["--epochs"]["default"] == 90 and opts["--epochs"]["type"] == "int"
    assert opts["--config"]["required"] is True
    cmds = {c.command: c.kind for c in ep.commands}
    assert (
        cmds["CUDA_VISIBLE_DEVICES=0 python train.py --config configs/r50.yaml --epochs 90"]
        == "train"
    )
    assert cmds["python test.py --weights resnet50.pth"] == "test"
    assert report.health["tests"] == 1


def test_weights_links_and_files(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "README.md": README,
            "train.py": TRAIN,
            "hub.py": "import torch\nfrom torch.hub import load_state_dict_from_url\n"
            "sd = load_state_dict_from_url('https://download.pytorch.org/"
            "models/resnet50-19c8e357.pth')\n",
            "pretrained/small.npz": b"PK\x03\x04fake",
        }
    )
    urls = {w.url: w.host for w in report.weights if w.url}
    assert urls["https://drive.google.com/file/d/1AbCdEf/view"] == "Google Drive"
    assert "https://github.com/org/deepnet/releases/download/v1.0/resnet50.pth" in urls
    assert urls["https://download.pytorch.org/models/resnet50-19c8e357.pth"] == "PyTorch"
    assert "https://arxiv.org/abs/1512.03385" not in urls
    assert any(w.path == "pretrained/small.npz" for w in report.weights)


def test_citation_from_bibtex_and_arxiv(vet_repo: Vet) -> None:
    c = vet_repo({"README.md": README, "m.py": "x = 1\n"}).citation
    assert c is not None
    assert c["title"] == "Deep Residual Learning for Image Recognition"
    assert c["authors"][0] == "He, Kaiming" and c["year"] == 2016
    assert c["arxiv"] == "1512.03385" and c["bibtex"].startswith("@inproceedings{he2016deep")


def test_citation_cff(vet_repo: Vet) -> None:
    cff = (
        "cff-version: 1.2.0\ntitle: NetSoft\nauthors:\n  - family-names: Doe\n"
        "    given-names: Jane\ndate-released: 2021-04-01\ndoi: 10.5281/zenodo.1234\n"
    )
    c = vet_repo({"CITATION.cff": cff, "m.py": "x = 1\n"}).citation
    assert c == {
        "title": "NetSoft",
        "authors": ["Jane Doe"],
        "year": 2021,
        "doi": "10.5281/zenodo.1234",
        "source": "CITATION.cff",
        "formal": True,
    }


def test_checklist_score(vet_repo: Vet) -> None:
    full = vet_repo(
        {"README.md": README, "train.py": TRAIN, "test.py": TRAIN, "requirements.txt": "torch\n"},
        name="full",
    )
    assert full.checklist.score == 5
    bare = vet_repo({"m.py": "x = 1\n"}, name="bare")
    assert bare.checklist.score == 0


def test_ci_and_data_preparation_scripts_are_not_entry_points(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            ".github/import-tests.sh": "python -c 'import x'\n",
            "datasets/prepare_for_tests.sh": "wget x\n",
            "scripts/test.sh": "python test.py\n",
            "train.sh": "python train.py\n",
        }
    )
    ep = report.entry_points
    assert [e.path for e in ep.test] == ["scripts/test.sh"]
    assert [e.path for e in ep.train] == ["train.sh"]


def test_bibtex_entries_are_read_in_one_pass_over_unclosed_ones() -> None:
    # Round 12: 2 MB of `@article{` cost 90 s of CPU (each start rescanned 5,000 bytes).
    from forkvet.vet import citation

    calls = 0
    real = citation._BIB_START

    class Counting:
        def finditer(self, text: str):  # type: ignore[no-untyped-def]
            nonlocal calls
            for m in real.finditer(text):
                calls += 1
                yield m

    citation._BIB_START = Counting()  # type: ignore[assignment]
    try:
        assert citation.bibtex_blocks("@article{" * 300_000) == []
        assert calls <= citation._MAX_BIB_STARTS + 1
    finally:
        citation._BIB_START = real
    two = "@article{a, title={X}}\n@misc{b, title={Y}}\n"
    assert citation.bibtex_blocks(two) == ["@article{a, title={X}}", "@misc{b, title={Y}}"]
