"""The smoke test on fixture repositories: pass, missing dependency, CUDA-only, hanging."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from forkvet.cli import main
from tests.conftest import MakeRepo
from tests.runtime_steps import run_step

PY = sys.executable


def smoke(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, object]]:
    return run_step("smoke", repo, tmp_path, capsys, *extra)


def test_passing_repo_runs_the_readme_command(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "README.md": "# Net\n\n```\npython demo.py --n 3\n```\n",
            "net/__init__.py": "from net.layers import double\n",
            "net/layers.py": "def double(x):\n    return 2 * x\n",
            "demo.py": (
                "import argparse\nfrom net import double\np = argparse.ArgumentParser()\n"
                "p.add_argument('--n', type=int)\nif __name__ == '__main__':\n"
                "    print('result', double(p.parse_args().n))\n"
            ),
            "train.py": "print('would train for hours')\nimport time\ntime.sleep(100)\n",
        }
    )
    code, data = smoke(repo, tmp_path, capsys)
    assert code == 0 and data["verdict"] == "pass"
    assert data["command"] == "python demo.py --n 3" and "README" in data["command_source"]
    assert data["tail"] == ["result 6"]
    imports = data["imports"]
    assert imports["modules"] == 3 and imports["failures"] == []
    assert imports["skipped"] == ["train.py"]  # top-level side effects: not imported


def test_missing_dependency_is_named(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "model.py": "import cv2\nimport numpy\n",
            "test.py": "import model\nif __name__ == '__main__':\n    print('ok')\n",
        }
    )
    code, data = smoke(repo, tmp_path, capsys)
    assert code == 1 and data["verdict"] == "fail"
    assert any("missing module 'cv2' (pip install opencv-python)" in r for r in data["reasons"])


def test_cuda_only_code_gets_a_clear_message(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    repo = make_repo({"demo.py": "import torch\nx = torch.zeros(2).cuda()\nprint(x)\n"})
    code, data = smoke(repo, tmp_path, capsys, "--cmd", "python demo.py", "--no-import-check")
    assert code == 1 and data["gpu_visible"] is False
    assert any("CUDA is unavailable here" in r for r in data["reasons"])


def test_hanging_command_times_out_and_leaves_no_process(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = f"forkvet-hang-{uuid.uuid4().hex}"
    repo = make_repo(
        {
            "hang.py": (
                "import subprocess, sys, time\n"
                f"subprocess.Popen([sys.executable, '-c', 'import time; "
                f"time.sleep(300)', '{marker}'])\ntime.sleep(300)\n"
            )
        }
    )
    code, data = smoke(
        repo, tmp_path, capsys, "--cmd", "python hang.py", "--timeout", "2", "--no-import-check"
    )
    assert code == 1 and data["timed_out"] is True
    assert any("timed out after 2 s" in r for r in data["reasons"])
    left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    assert left.stdout.strip() == ""


def test_secrets_are_not_passed_to_repository_code(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws_secret")
    monkeypatch.setenv("MY_SERVICE_API_KEY", "key_secret")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    repo = make_repo({"env.py": "import os\nprint(sorted(k for k in os.environ))\n"})
    code, data = smoke(repo, tmp_path, capsys, "--cmd", "python env.py", "--no-import-check")
    printed = " ".join(data["tail"])
    assert code == 0 and "CUDA_VISIBLE_DEVICES" in printed
    for name in ("GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "MY_SERVICE_API_KEY"):
        assert name not in printed


def test_tiny_flags_are_generated_for_detected_scripts(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "eval.py": (
                "import argparse\np = argparse.ArgumentParser()\n"
                "p.add_argument('--batch-size', type=int, default=256)\n"
                "p.add_argument('--num-workers', type=int, default=8)\n"
                "p.add_argument('--device', default='cuda')\n"
                "if __name__ == '__main__':\n    a = p.parse_args()\n"
                "    print(a.batch_size, a.num_workers, a.device)\n"
            )
        }
    )
    code, data = smoke(repo, tmp_path, capsys)
    assert code == 0
    assert data["command"] == "python eval.py --batch-size 2 --num-workers 0 --device cpu"
    assert data["tail"] == ["2 0 cpu"]


def test_no_command_is_skipped_not_failed(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = smoke(make_repo({"lib.py": "X = 1\n"}), tmp_path, capsys)
    assert code == 0 and data["verdict"] == "skipped"


def test_python_flag_must_exist(make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["smoke", str(make_repo({"a.py": "x=1\n"})), "--python", "/nope/python"]) == 2
    assert "no such interpreter" in capsys.readouterr().err


def test_environment_is_built_from_generated_requirements(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("uv")
    from tests.pkgindex import Dist, PackageIndex

    dists = [
        Dist("helperlib", "1.0", "2019-01-01T00:00:00Z"),
        Dist("helperlib", "2.0", "2023-01-01T00:00:00Z"),
    ]
    repo = make_repo(
        {
            "app/__init__.py": "import helperlib\nVERSION = helperlib.__version__\n",
            "demo.py": "import app\nprint('helperlib', app.VERSION)\n",
            # declared: env writes an import neither declared nor known only as a comment
            "README.md": "```\npip install helperlib\n```\n",
        },
        date="2020-06-01T00:00:00+00:00",
    )
    with PackageIndex(dists) as index:
        monkeypatch.setenv("UV_INDEX_URL", index.url)
        monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        out = tmp_path / "smoke.json"
        code = main(
            [
                "smoke",
                str(repo),
                "--cmd",
                "python demo.py",
                "--python-version",
                "3.11",
                "--out",
                str(tmp_path / "out"),
                "--env-dir",
                str(tmp_path / "envs"),
                "--format",
                "json",
                "-o",
                str(out),
            ]
        )
        capsys.readouterr()
    data = json.loads(out.read_text())
    assert code == 0, data
    # No requirements file: forkvet env pinned helperlib as of the code's date (1.0, not 2.0).
    assert data["tail"] == ["helperlib 1.0"]
    (generated,) = (tmp_path / "envs" / "generated").glob("*/requirements.txt")
    assert "helperlib==1.0" in generated.read_text()
    # The environment lives in the cache folder, not in the repository or the logs folder.
    assert data["python"].startswith(str(tmp_path / "envs"))
    assert data["environment"]["reused"] is False
    assert data["environment"]["own_package"].startswith("on PYTHONPATH")


def test_train_and_test_commands_come_from_the_readme_then_from_scripts(
    make_repo: MakeRepo,
) -> None:
    from forkvet.runtime.commands import detect
    from forkvet.snapshot import load
    from forkvet.vet import vet

    # minGPT's shape: a unittest README command, and a training script not named train*.py.
    repo = make_repo(
        {
            "README.md": "# gpt\n\n### Unit tests\n\n```\npython -m unittest discover tests\n```\n",
            "mingpt/__init__.py": "",
            "mingpt/trainer.py": "class Trainer:\n    def run(self):\n        pass\n",
            "projects/adder/adder.py": (
                "from mingpt.trainer import Trainer\n\nif __name__ == '__main__':\n"
                "    trainer = Trainer()\n    trainer.run()\n"
            ),
            "projects/readme.md": "projects\n",
            "tests/test_x.py": "import unittest\n",
        }
    )
    snap = load(repo)
    report = vet(snap)
    assert detect(report, "test", False, snap) == (
        "python -m unittest discover tests",
        "README (README.md)",
    )
    cmd, source = detect(report, "train", False, snap)
    # vet names it as a training entry (its main block runs a trainer); the runtime's own
    # "script that trains" fallback would find the same command.
    assert cmd == "python projects/adder/adder.py" and "projects/adder/adder.py" in source
    # A bare `pytest` line in a README code block is a test command too.
    repo2 = make_repo({"README.md": "Run\n\n```bash\n$ pytest -q tests\n```\n", "a.py": "x = 1\n"})
    snap2 = load(repo2)
    assert detect(vet(snap2), "test", False, snap2)[0] == "pytest -q tests"


def test_a_python_that_is_not_installed_is_one_line_with_the_install_command(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("uv")
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_NO_INDEX", "1")
    repo = make_repo({"requirements.txt": "# none\n", "demo.py": "print(1)\n"})
    code = main(
        [
            "smoke",
            str(repo),
            "--python-version",
            "3.4",
            "--env-dir",
            str(tmp_path / "envs"),
            "--out",
            str(tmp_path / "out"),
            "--cmd",
            "python demo.py",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "no Python 3.4 interpreter here" in err and "conda create" in err
    assert not any((tmp_path / "envs").glob("*/bin"))  # the failed build left nothing


@pytest.mark.parametrize(
    ("output", "where"),
    [
        (  # transformers' from_pretrained without the network (minGPT's unit test)
            "OSError: We couldn't connect to 'https://huggingface.co' to load this model, "
            "couldn't find it in the cached files and it looks like gpt2 is not the path to a "
            "directory containing a config.json file.",
            "https://huggingface.co",
        ),
        (  # torchvision's dataset download through urllib
            "urllib.error.URLError: <urlopen error [Errno -2] Name or service not known>",
            None,
        ),
    ],
)
def test_downloads_without_the_network_are_explained(output: str, where: str | None) -> None:
    from forkvet.runtime.explain import explain

    reasons = explain(output, 1, False, 60)
    assert reasons[0].startswith("needs the network to download something at run time")
    if where:
        assert where in reasons[0]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("data/shakespeare_char/train.bin", "a data file"),  # nanoGPT before prepare.py
        ("/home/u/datasets/imagenet/val.pkl", "a data file"),
        ("checkpoints/model.pth", "a weight file"),
        ("configs/base.yaml", "a data or config file"),
    ],
)
def test_a_missing_dataset_is_not_called_a_weight_file(path: str, kind: str) -> None:
    from forkvet.runtime.explain import explain

    output = f"FileNotFoundError: [Errno 2] No such file or directory: '{path}'\n"
    (reason,) = explain(output, 1, False, 60)
    assert reason.startswith(f"wanted {kind} that is not there: {path}")


def test_a_flood_of_output_is_held_and_kept_bounded(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Round 13b F10: one 2 GB line was held whole in forkvet's memory (and killed the reader),
    and the log, which the template uploads, had no cap. A line is read 1 MiB at a time, the
    log keeps its first bytes and says where it stops, and the output is drained to its end."""
    from forkvet.runtime import process

    monkeypatch.setattr(process, "MAX_LOG_WRITTEN", 64 << 10)
    repo = make_repo(
        {
            "flood.py": "import sys\n"
            "sys.stdout.write('x' * (5 * 2**20) + '\\n')\n"
            "for i in range(20000):\n    print('line', i)\n"
            "print('the end')\n"
        }
    )
    code, data = smoke(repo, tmp_path, capsys, "--cmd", "python flood.py")
    assert code == 0 and data["verdict"] == "pass", data
    log = (tmp_path / "out" / "smoke.log").read_text()
    assert len(log) < (64 << 10) + 2 * 2**20  # the cap, plus the piece that crossed it
    assert log.rstrip().endswith("was read but not kept]")
    assert max(len(line) for line in log.splitlines()) <= 2**20


def test_the_log_shows_terminal_escapes_never_acting(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Round 17b F4: smoke.log (uploaded, read with cat or less) kept the repository's OSC
    title, screen clear and OSC 52 clipboard write raw. Each line is written as
    forkvet.escape.visible shows it; tabs stay."""
    repo = make_repo(
        {
            "esc.py": "print('epoch 1\\x1b]0;forkvet: PASS\\x07\\x1b[2J'\n"
            "      '\\x1b]52;c;cm0=\\x07 done')\n"
            "print('a\\tb \\u202e c')\n"
        }
    )
    code, data = smoke(repo, tmp_path, capsys, "--cmd", "python esc.py")
    assert code == 0 and data["verdict"] == "pass", data
    log = (tmp_path / "out" / "smoke.log").read_text()
    assert "\x1b" not in log and "\x07" not in log and "\u202e" not in log
    assert "epoch 1\\x1b]0;forkvet: PASS\\x07\\x1b[2J" in log and "a\tb \\u202e c" in log


def test_the_smoke_result_is_bounded_in_encoded_bytes(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Round 16b L1: the tail was bounded in lines (each cut at 1 MiB), not in bytes: 40 lines
    of 1 MiB of \\x01 became a 180 MiB smoke.json (`\\u0001` per byte), over `report`'s own
    64 MiB input limit. Every string of the result is bounded as JSON encodes it."""
    from forkvet.runtime import bounded

    repo = make_repo(
        {
            "flood.py": "import sys\n"
            "for i in range(8):\n    sys.stdout.write('\\x01' * 2**20 + '\\n')\n"
            "sys.exit(1)\n"
        }
    )
    code, data = smoke(repo, tmp_path, capsys, "--cmd", "python flood.py")
    assert code == 1 and data["verdict"] == "fail"
    size = (tmp_path / "smoke.json").stat().st_size
    assert size < 2 * bounded.MAX_TAIL_BYTES + 64 * bounded.MAX_TEXT_BYTES, size
    assert data["tail"] and all(bounded.encoded(t) <= bounded.MAX_TEXT_BYTES for t in data["tail"])


def test_bounded_text_cuts_by_encoded_bytes() -> None:
    from forkvet.runtime import bounded

    for ch in ("\x01", "é", "😀", "x"):
        text = ch * 100_000
        for keep_end in (False, True):
            cut = bounded.cut(text, 1000, keep_end)
            assert bounded.encoded(cut) <= 1000 and bounded.CUT in cut
    assert bounded.cut("short") == "short"
    lines = ["\x01" * 2**20] * 40
    assert len(json.dumps(bounded.tail(lines))) <= bounded.MAX_TAIL_BYTES
    nested = bounded.strings({"k" * 100_000: ["\x01" * 100_000, 1.5, None]}, 1000)
    assert len(json.dumps(nested)) < 3000
