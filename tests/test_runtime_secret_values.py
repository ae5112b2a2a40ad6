"""Token shapes under allow-listed names never reach the repository's code (outside attack,
round 12b F5): the common token prefixes, HTTP Authorization values, and any long
high-entropy word; ordinary values (paths, numbers, versions, device lists, digests) pass."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.runtime.process import scrubbed_env, secret_value
from tests.conftest import MakeRepo

# F5's list, at the lengths real tokens have (made-up values).
DROPPED = {
    "TORCH_X": "glpat-abcdefghij1234567890",
    "PYTHONX": "pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6",
    "OMP_X": "sk-proj-abcDEF123ghiJKL456mnoPQR789stuVWX",
    "OMP_Y": "sk-abcdefghijklmnopqrstuvwxyzABCDEF0123456789",
    "HF_HUB_OFFLINE": "npm_abcdefghijklmnopqrstuvwxyz0123456789",
    "HOSTNAME": "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
    "XDG_DATA_DIRS": "Basic dXNlcjpwYXNz",
    "CI": "Bearer v15abcdefghijklmnop",
    "NVIDIA_NGCKEY": "v3plain",  # KEY glued to the end of a part
    "CUDA_APITOK": "v2plain",  # TOK abbreviated
    # no known prefix: caught as a random word of letters and digits
    "TORCH_HUB_X": "Zq8Lm3Nw7Rt2Yp5Vb9Kd4Hs1",
    "CUDA_NOTE": "a1B2c3D4e5F6g7H8i9J0kLmN",
    # round 12, left: one case, and base64's `/` and `+`
    "TORCH_LOWER": "zq8lm3nw7rt2yp5vb9kd4hs1",
    "TORCH_UPPER": "ZQ8LM3NW7RT2YP5VB9KD4HS1",
    "OMP_B64": "u7Gx/2kLq9+Wm4Zr8Tb1/Yc6Np3Vd",
}
# Ordinary values a training job has under these names.
PASSED = {
    "PYTHONPATH": "/opt/lib:/work/src/ProjectV2",
    "CUDA_VISIBLE_DEVICES": "0,1,2,3",
    "NVIDIA_VISIBLE_DEVICES": "GPU-5f8a2c3e-1b2d-4e5f-9a8b-7c6d5e4f3a2b",
    "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
    "TORCH_CUDA_ARCH_LIST": "7.0;7.5;8.0;8.6+PTX",
    "CUDA_VERSION": "12.1.0",
    "PYTHON_SHA256": "a" * 12 + "0123456789abcdef" * 3 + "b" * 4,  # a hex digest
    "GITHUB_SHA": "4e98eae3f1c2d0b5a6978877665544332211aabb",
    "LC_ALL": "en_US.UTF-8",
    "TORCH_RUN_LABEL": "ReleaseCandidateBuild2024",  # one change from letters to digits
    "TORCH_VERSION": "2.1.0+cu121",
    "HF_HOME": "/data/hf",
    "GITHUB_RUN_ID": "12345678901234567890",
    "TORCH_HOME": "~/models/run2024/cache3",
    "TORCH_DATA_SPLIT": "imagenet/train/shard00017",
    "TORCH_WHEEL": "cu121-py310-torch210-linux",
}


def _clear(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*DROPPED, *PASSED]:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("name", "value"), sorted(DROPPED.items()))
def test_a_token_shaped_value_is_dropped(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv(name, value)
    assert name not in scrubbed_env()


@pytest.mark.parametrize(("name", "value"), sorted(PASSED.items()))
def test_an_ordinary_value_passes(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv(name, value)
    assert not secret_value(value)
    assert scrubbed_env()[name] == value


def test_the_f5_list_never_reaches_the_repository_code(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _clear(monkeypatch)
    for name, value in DROPPED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    repo = make_repo(
        {
            "probe.py": "import os, json\n"
            "open('envdump.json', 'w').write(json.dumps(dict(os.environ)))\n"
        }
    )
    args = ["smoke", str(repo), "--python", sys.executable, "--cmd", "python probe.py"]
    code = main([*args, "--no-import-check", "--out", str(tmp_path / "out")])
    capsys.readouterr()
    assert code == 0
    seen = json.loads((repo / "envdump.json").read_text())
    assert seen["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert sorted(n for n in DROPPED if seen.get(n) == DROPPED[n]) == []


def test_env_allow_build_hands_its_uv_calls_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Round 11/12, left: `forkvet env --allow-build` resolves with uv, which builds source
    # releases (their code) with the environment it is given: the user's whole one.
    from forkvet.envgen.uv import allow_builds, uv_env

    monkeypatch.setenv("UV_INDEX_CORP_PASSWORD", "hunter2hunter2")
    monkeypatch.setenv("UV_INDEX_URL", "https://user:tok3nTOK3N@mirror.example/simple/")
    monkeypatch.setenv("HF_TOKEN", "hf_abcdefghijklmnopqrstuvwxyz0123")
    plain = uv_env()
    assert plain["UV_INDEX_CORP_PASSWORD"] == "hunter2hunter2"  # resolving only: the user's own
    with allow_builds():
        built = uv_env()
    assert "UV_INDEX_CORP_PASSWORD" not in built and "HF_TOKEN" not in built
    assert built["UV_INDEX_URL"] == "https://mirror.example/simple/"
    assert built["UV_KEYRING_PROVIDER"] == "disabled"
