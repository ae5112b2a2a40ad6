"""The runtime path as shipped, end to end on CPU: `forkvet smoke REPO`, then `forkvet
train-check REPO` without --python, on a real-shaped repository with its own package, a README
with `pip install -e .`, a unittest command and a training command, and a tiny PyTorch model.

Real uv builds the environment; torch comes from wheels repacked from this interpreter's own
installation (tests/wheelhouse.py) through uv's find-links, so no package index is reached.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.action_runner import run_action
from tests.conftest import MakeRepo, git
from tests.wheelhouse import installed_size, wheelhouse

pytest.importorskip("torch")
pytest.importorskip("uv")

PY_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"

MODEL = """import torch
from torch import nn


class TinyNet(nn.Module):
    def __init__(self, features=8, classes=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(features, 32), nn.ReLU(), nn.Linear(32, classes))

    def forward(self, x):
        return self.net(x)
"""
TRAIN = """import argparse

import torch
from torch import nn

from mypkg import TinyNet

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=1000)
p.add_argument("--lr", type=float, default=0.05)
args = p.parse_args()
torch.manual_seed(0)
x = torch.randn(256, 8)
y = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()
model = TinyNet()
opt = torch.optim.SGD(model.parameters(), lr=args.lr)
for step in range(1, args.steps + 1):
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step} loss {loss.item():.4f}", flush=True)
"""
FILES: dict[str, str | bytes] = {
    "README.md": (
        "# mypkg\n\nA tiny classifier.\n\n## Install\n\n```\npip install -e .\n```\n\n"
        "## Tests\n\n```\npython -m unittest discover tests\n```\n\n"
        "## Training\n\n```\npython scripts/train.py --steps 500\n```\n"
    ),
    "setup.py": (
        "from setuptools import setup\n\nsetup(name='mypkg', version='0.1', "
        "packages=['mypkg'], install_requires=['torch'])\n"
    ),
    "requirements.txt": "torch\n",
    "mypkg/__init__.py": "from mypkg.model import TinyNet\n",
    "mypkg/model.py": MODEL,
    "tests/__init__.py": "",
    "tests/test_model.py": (
        "import unittest\n\nimport torch\n\nfrom mypkg import TinyNet\n\n\n"
        "class TestModel(unittest.TestCase):\n    def test_shape(self):\n"
        "        self.assertEqual(TinyNet()(torch.zeros(3, 8)).shape, (3, 4))\n"
    ),
    "scripts/train.py": TRAIN,
}


STACK = ("torch", "setuptools")
SPARE = 2 * 2**30  # what the rest of the suite and the system may write meanwhile


@pytest.fixture(scope="session")
def stack_bytes() -> int:
    """What one copy of this interpreter's torch stack takes: about 1 GB for the CPU build
    scripts/test.sh installs, 6 GB for a CUDA build."""
    return installed_size(*STACK)


def need_room(where: Path, copies: int, stack: int) -> None:
    """Skip, saying why, rather than fill the disk (a full disk fails every later test)."""
    need, free = copies * stack + SPARE, shutil.disk_usage(where).free
    if free < need:
        pytest.skip(
            f"{copies} copies of this interpreter's torch stack need {need / 2**30:.1f} GiB "
            f"free under {where}, {free / 2**30:.1f} GiB are (torch's CPU build needs less)"
        )


@pytest.fixture(scope="session")
def uv_offline(
    tmp_path_factory: pytest.TempPathFactory, stack_bytes: int
) -> Iterator[dict[str, str]]:
    """The user's uv configuration for these tests: no index, torch from a local folder. The
    wheelhouse and uv's unpacked cache each hold the torch stack (removed after the session)."""
    root = tmp_path_factory.mktemp("uv-offline")
    need_room(root, 2, stack_bytes)
    yield {
        "UV_NO_INDEX": "1",
        "UV_FIND_LINKS": str(wheelhouse(root / "wheels", *STACK)),
        "UV_CACHE_DIR": str(root / "cache"),
        "UV_PYTHON": PY_VERSION,
        "UV_PYTHON_DOWNLOADS": "never",
        # A mirror that serves PyTorch's builds itself: leave torch to it.
        "FORKVET_TORCH_BACKEND": "none",
    }
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def torch_room(tmp_path: Path, uv_offline: dict[str, str], stack_bytes: int) -> Iterator[None]:
    """Room for one environment with the torch stack (copied out of uv's cache, never linked),
    removed after the test: the folders under tmp_path that hold a built environment."""
    need_room(tmp_path, 1, stack_bytes)
    yield
    for record in list(tmp_path.rglob("*.json")):
        folder = record.with_suffix("")
        if (folder / "pyvenv.cfg").is_file():
            shutil.rmtree(folder, ignore_errors=True)


def forkvet(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    bindir = str(Path(sys.executable).parent)
    full = {**os.environ, **env, "PATH": bindir + os.pathsep + os.environ["PATH"]}
    return subprocess.run(
        [sys.executable, "-m", "forkvet", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def untracked(repo: Path) -> list[str]:
    out = git(repo, "status", "--porcelain", "--untracked-files=all", "--ignored")
    return [line[3:] for line in out.splitlines() if line.strip()]


def test_smoke_then_train_check_share_one_environment_outside_the_tree(
    make_repo: MakeRepo, tmp_path: Path, uv_offline: dict[str, str], torch_room: None
) -> None:
    repo = make_repo(FILES)
    envs, out = tmp_path / "envs", tmp_path / "out"
    env = {**uv_offline, "FORKVET_ENV_DIR": str(envs)}

    dry = forkvet(["smoke", str(repo), "--dry-run"], env, tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "python -m unittest discover tests (README" in dry.stdout
    assert f"environment {envs}" in dry.stdout and "(build)" in dry.stdout
    assert "pip install -e ." in dry.stdout
    assert not envs.exists() or not any(envs.iterdir())  # a dry run builds nothing

    smoke = forkvet(
        [
            "smoke",
            str(repo),
            "--out",
            str(out / "smoke"),
            "--format",
            "json",
            "-o",
            str(out / "smoke.json"),
        ],
        env,
        tmp_path,
    )
    s = json.loads((out / "smoke.json").read_text())
    assert smoke.returncode == 0, (smoke.stderr, s)
    assert s["verdict"] == "pass" and s["command"] == "python -m unittest discover tests"
    assert s["imports"]["failures"] == []
    assert any(line.startswith("OK") for line in s["tail"]), s["tail"]
    first = s["environment"]
    assert first["reused"] is False and first["own_package"] == "installed (pip install -e .)"
    assert first["path"].startswith(str(envs)) and first["device"] == "cpu"

    train = forkvet(
        [
            "train-check",
            str(repo),
            "--out",
            str(out / "train"),
            "--format",
            "json",
            "-o",
            str(out / "train.json"),
        ],
        env,
        tmp_path,
    )
    t = json.loads((out / "train.json").read_text())
    assert train.returncode == 0, (train.stderr, t)
    assert t["verdict"] == "pass", t["reasons"]
    # The README's training command, run by the environment smoke built: not rebuilt.
    assert t["command"].endswith("scripts/train.py --steps 500")
    assert t["command"].startswith(first["python"])
    assert t["environment"]["reused"] is True and t["environment"]["path"] == first["path"]
    assert len([p for p in envs.iterdir() if p.is_dir()]) == 1
    assert t["stopped_early"] is True and len(t["losses"]) == 50

    # Nothing large lands in the working tree: no environment, only the editable install's
    # metadata and Python's byte-code caches.
    left = untracked(repo)
    assert all(p.startswith("mypkg.egg-info/") or "__pycache__/" in p for p in left), left
    size = sum((repo / p).stat().st_size for p in left if (repo / p).is_file())
    assert size < 1_000_000, size


def test_own_package_is_never_a_guessed_name(
    make_repo: MakeRepo, tmp_path: Path, uv_offline: dict[str, str]
) -> None:
    """A script that imports the repository's own package from the wrong folder is explained
    as the repository's own code, not as a package to install."""
    repo = make_repo(
        {
            "requirements.txt": "# nothing to install\n",
            "mypkg/__init__.py": "",
            "mypkg/core.py": "VALUE = 1\n",
        }
    )
    env = {**uv_offline, "FORKVET_ENV_DIR": str(tmp_path / "envs")}
    proc = forkvet(
        [
            "smoke",
            str(repo),
            "--cmd",
            "python -c 'import mypkg.missing_part'",
            "--format",
            "json",
            "--out",
            str(tmp_path / "o"),
            "--no-import-check",
        ],
        env,
        tmp_path,
    )
    data = json.loads(proc.stdout)
    assert proc.returncode == 1
    reasons = " ".join(data["reasons"])
    assert "this repository's own code" in reasons and "a guessed name" not in reasons
    assert data["environment"]["own_package"].startswith("on PYTHONPATH")


ROOT = Path(__file__).resolve().parents[1]
# A training script that tries to change the job's later steps through the runner's files.
HOSTILE_TRAIN = (
    "import os\n"
    "for name in ('GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_OUTPUT'):\n"
    "    if os.environ.get(name):\n"
    "        open(os.environ[name], 'a').write('INJECTED=1\\n')\n" + TRAIN
)


def test_the_actions_run_the_same_sequence_with_the_runners_files(
    make_repo: MakeRepo,
    tmp_path: Path,
    uv_offline: dict[str, str],
    torch_room: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The smoke-test and train-check actions' real shell, one after the other as the workflow
    runs them: one environment (under RUNNER_TEMP), the README's commands, and the runner's
    workflow-command files out of the model's reach."""
    for name, value in uv_offline.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FORKVET_ENV_DIR", raising=False)
    repo = make_repo({**FILES, "scripts/train.py": HOSTILE_TRAIN})
    temp = tmp_path / "runner"
    temp.mkdir()
    smoke_out, _, procs = run_action(ROOT / "actions" / "smoke-test" / "action.yml", {}, repo, temp)
    assert smoke_out["verdict"] == "pass", [p.stderr for p in procs]
    train_out, summary, procs = run_action(
        ROOT / "actions" / "train-check" / "action.yml", {}, repo, temp
    )
    assert train_out["verdict"] == "pass", [p.stderr for p in procs]
    assert "xychart-beta" in summary
    smoke = json.loads(Path(smoke_out["result"]).read_text())
    train = json.loads(Path(train_out["result"]).read_text())
    envs = temp / "forkvet-envs"
    assert smoke["environment"]["path"].startswith(str(envs))
    assert train["environment"]["reused"] is True
    assert train["environment"]["path"] == smoke["environment"]["path"]
    for name in ("set_env", "add_path"):
        assert "INJECTED" not in (temp / name).read_text()
    assert not any("INJECTED" in p.read_text() for p in temp.glob("out-*"))
