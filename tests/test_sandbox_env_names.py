"""The repository's code gets an allow-list of variables (outside attack, round 11b, F10):
exact names match exactly, a prefixed name with a secret word as one of its parts is
dropped, and a value that looks like a credential is dropped whatever its name."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.runtime.process import scrubbed_env, without_credentials
from tests.conftest import MakeRepo

# The attacker's list (round 11b), and neighbours of each word.
DROPPED = {
    "PYTHON_PASSPHRASE": "v",
    "PYTHON_PWD": "v",
    "PYTHON_PASS": "v",
    "PYTHON_JWT": "v",
    "PYTHON_PRIVATE": "v",
    "PYTHON_SIGNATURE": "v",
    "PYTHON_CREDS": "v",
    "PYTHON_CRED": "v",
    "PYTHON_APIKEY": "v",
    "PYTHON_OTP": "v",
    "PYTHON_HMAC": "v",
    "PYTHON_GNUPG_PASSPHRASE": "v",
    "MKL_PASSPHRASE": "v",
    "TORCH_PASSPHRASE": "v",
    "XDG_PASSPHRASE": "v",
    "TORCH_HUB_SIG": "v",
    "PYTHON_PYPI_PW": "v",
    "HF_HOME_PW": "v",
    "HF_DATASETS_CACHE_PW": "v",
    "LC_PW": "v",
    "TRANSFORMERS_CACHE_X": "v",
    "HF_HOME_X": "v",
    "HF_HUB_OFFLINE_X": "v",
    "PYTHON_AWS": "AKIA1234567890ABCDEF",
    "CUDA_NOTE": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "TORCH_HUB_URL": "https://hub.example/models?token=abc",
    "OMP_COOKIE": "v",
    "NCCL_SESSION_ID": "v",
    "PYTHON_CERT_FILE": "v",
    "PYTHONKEYRINGPASSWORD": "v",
    "PYTHON_API_KEY2": "v",
    "CUDA_PRIVATE_KEY": "v",
    "TF_CPP_AUTH": "v",
    "https_proxy": "http://proxy:3128/?auth=pw4",
    "HF_HOME": "https://u:pw@host/x",
}
PASSED = {
    "PYTHONHASHSEED": "0",
    "PYTHONPATH": "/opt/lib",
    "PYTHONDONTWRITEBYTECODE": "1",
    "CUDA_VISIBLE_DEVICES": "0",
    "HF_HOME": "/data/hf",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_CACHE": "/data/tf",
    "LC_ALL": "C.UTF-8",
    "TORCH_HOME": "/data/torch",
    "XDG_CACHE_HOME": "/data/cache",
    "OMP_NUM_THREADS": "4",
    "MKL_NUM_THREADS": "4",
    "NCCL_DEBUG": "INFO",
    "TOKENIZERS_PARALLELISM": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


def _clear(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*DROPPED, *PASSED]:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("name", "value"), sorted(DROPPED.items()))
def test_a_secret_looking_variable_is_dropped(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv(name, value)
    assert name not in scrubbed_env()


@pytest.mark.parametrize(("name", "value"), sorted(PASSED.items()))
def test_a_setting_a_training_script_reads_still_passes(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv(name, value)
    assert scrubbed_env()[name] == value


def test_a_proxy_loses_its_userinfo_and_keeps_its_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "socks5h://u:pw5@proxy:1080")
    assert scrubbed_env()["https_proxy"] == "socks5h://proxy:1080"


def test_an_install_that_builds_keeps_the_index_and_loses_every_credential() -> None:
    env = {
        "UV_DEFAULT_INDEX": "https://alice:tok@mirror.internal/simple/",
        "UV_INDEX": "corp=https://tok@mirror.internal/corp/",
        "PIP_EXTRA_INDEX_URL": "https://m.internal/simple/?token=abc",
        "UV_INDEX_CORP_PASSWORD": "tok",
        "UV_INDEX_CORP_USERNAME": "alice",
        "UV_KEYRING_PROVIDER": "subprocess",
        "PIP_CLIENT_CERT": "/etc/cert.pem",
        "UV_HTTP_TIMEOUT": "30",
        "PATH": "/usr/bin",
    }
    out = without_credentials(env)
    assert out["UV_DEFAULT_INDEX"] == "https://mirror.internal/simple/"
    # Round 12: a path beyond /simple/ may be a token (pypi.fury.io/<token>/...): not passed.
    assert "UV_INDEX" not in out
    assert "PIP_EXTRA_INDEX_URL" not in out  # a credential in its query
    assert "UV_INDEX_CORP_PASSWORD" not in out and "PIP_CLIENT_CERT" not in out
    assert out["UV_KEYRING_PROVIDER"] == "disabled" and out["NETRC"] == "/dev/null"
    assert out["UV_HTTP_TIMEOUT"] == "30" and out["PATH"] == "/usr/bin"
    assert "tok" not in json.dumps(out)


def test_the_round_11b_list_never_reaches_the_repository_code(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _clear(monkeypatch)
    for name, value in DROPPED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    repo = make_repo(
        {
            "probe.py": "import os, json\n"
            "open('envdump.json', 'w').write(json.dumps(dict(os.environ)))\n"
        }
    )
    code = main(
        [
            "smoke",
            str(repo),
            "--python",
            sys.executable,
            "--cmd",
            "python probe.py",
            "--no-import-check",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    capsys.readouterr()
    assert code == 0
    seen = json.loads((repo / "envdump.json").read_text())
    assert seen["PYTHONHASHSEED"] == "0"
    leaked = sorted(n for n in DROPPED if n in seen and seen[n] == DROPPED[n])
    assert leaked == []
    assert "pw4" not in json.dumps(seen)


def test_an_index_with_a_token_in_its_path_never_reaches_a_build() -> None:
    env = {
        "UV_INDEX_URL": "https://pypi.fury.io/TOKSECRET9f3a7b/acme/",
        "PIP_INDEX_URL": "https://dl.cloudsmith.io/ENTITLE/org/repo/python/simple/",
        "UV_INDEX": "corp=https://mirror.internal/simple/",
        "UV_DEFAULT_INDEX": "https://mirror.internal",
    }
    out = without_credentials(env)
    assert "TOKSECRET" not in json.dumps(out) and "ENTITLE" not in json.dumps(out)
    assert out["UV_INDEX"] == "corp=https://mirror.internal/simple/"
    assert out["UV_DEFAULT_INDEX"] == "https://mirror.internal"
