"""The repository's code gets an allow-list of variables (outside attack, round 11b, F10):
exact names match exactly (since round 22b F2 the libraries' settings are a table of
exact names too, no prefix family), and a value that looks like a credential is dropped
whatever its name (round 12b F5: the common token prefixes, HTTP Authorization values, any
long high-entropy word); ordinary values (paths, numbers, versions, device lists, digests) pass."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.runtime.process import scrubbed_env, secret_value, without_credentials
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
    "PYTHONIOENCODING": "AKIA1234567890ABCDEF",
    "CUDA_LOG_FILE": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "TORCH_EXTENSIONS_DIR": "https://hub.example/models?token=abc",
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


# F5's list, at the lengths real tokens have (made-up values).
DROPPED_BY_VALUE = {
    "TORCH_HOME": "glpat-abcdefghij1234567890",
    "PYTHONWARNINGS": "pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6",
    "OMP_PLACES": "sk-proj-abcDEF123ghiJKL456mnoPQR789stuVWX",
    "OMP_SCHEDULE": "sk-abcdefghijklmnopqrstuvwxyzABCDEF0123456789",
    "HF_HUB_OFFLINE": "npm_abcdefghijklmnopqrstuvwxyz0123456789",
    "HOSTNAME": "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
    "XDG_DATA_DIRS": "Basic dXNlcjpwYXNz",
    "CI": "Bearer v15abcdefghijklmnop",
    "NVIDIA_NGCKEY": "v3plain",  # KEY glued to the end of a part
    "CUDA_APITOK": "v2plain",  # TOK abbreviated
    # no known prefix: caught as a random word of letters and digits
    "TORCH_LOGS": "Zq8Lm3Nw7Rt2Yp5Vb9Kd4Hs1",
    "CUDA_CACHE_PATH": "a1B2c3D4e5F6g7H8i9J0kLmN",
    # round 12, left: one case, and base64's `/` and `+`
    "TORCH_LOGS_OUT": "zq8lm3nw7rt2yp5vb9kd4hs1",
    "TORCH_EXTENSIONS_DIR": "ZQ8LM3NW7RT2YP5VB9KD4HS1",
    "OMP_STACKSIZE": "u7Gx/2kLq9+Wm4Zr8Tb1/Yc6Np3Vd",
}
# Ordinary values a training job has under these names.
PASSED_VALUES = {
    "PYTHONPATH": "/opt/lib:/work/src/ProjectV2",
    "CUDA_VISIBLE_DEVICES": "0,1,2,3",
    "NVIDIA_VISIBLE_DEVICES": "GPU-5f8a2c3e-1b2d-4e5f-9a8b-7c6d5e4f3a2b",
    "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
    "TORCH_CUDA_ARCH_LIST": "7.0;7.5;8.0;8.6+PTX",
    "CUDA_VERSION": "12.1.0",
    "PYTHONPYCACHEPREFIX": "a" * 12 + "0123456789abcdef" * 3 + "b" * 4,  # a hex digest
    "GITHUB_SHA": "4e98eae3f1c2d0b5a6978877665544332211aabb",
    "LC_ALL": "en_US.UTF-8",
    "TORCH_COMPILE_DEBUG_DIR": "ReleaseCandidateBuild2024",  # one change from letters to digits
    "TORCH_LOGS_FORMAT": "2.1.0+cu121",
    "HF_HOME": "/data/hf",
    "GITHUB_RUN_ID": "12345678901234567890",
    "TORCH_CUDNN_V8_API_LRU_CACHE_LIMIT": "~/models/run2024/cache3",
    "TORCH_EXTENSIONS_DIR": "imagenet/train/shard00017",
    "XDG_CACHE_HOME": "cu121-py310-torch210-linux",
}


_DROPPED = [*DROPPED.items(), *DROPPED_BY_VALUE.items()]
_PASSED = [*PASSED.items(), *PASSED_VALUES.items()]


def _clear(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, _ in [*_DROPPED, *_PASSED]:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("name", "value"), _DROPPED)
def test_a_secret_looking_variable_is_dropped(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv(name, value)
    assert name not in scrubbed_env()


@pytest.mark.parametrize(("name", "value"), _PASSED)
def test_a_setting_a_training_script_reads_still_passes(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv(name, value)
    assert not secret_value(value)
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


@pytest.mark.parametrize("dropped", [DROPPED, DROPPED_BY_VALUE], ids=["names", "values"])
def test_the_attackers_lists_never_reach_the_repository_code(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    dropped: dict[str, str],
) -> None:
    _clear(monkeypatch)
    for name, value in dropped.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PYTHONHASHSEED", "0")
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
    assert seen["PYTHONHASHSEED"] == "0"
    assert sorted(n for n in dropped if seen.get(n) == dropped[n]) == []
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


def test_env_allow_build_hands_build_code_only_allow_listed_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Round 22b F2's neighbour: with builds allowed, uv's environment was the user's whole one
    # less the names a secret-word list knows, so CORP_PASSCODE reached a package's build code.
    from forkvet.envgen.uv import allow_builds, uv_env

    monkeypatch.setenv("CORP_PASSCODE", "a-passcode-value")
    monkeypatch.setenv("TORCH_HUB_MACAROON", "m")
    monkeypatch.setenv("UV_CACHE_DIR", "/tmp/uvcache")
    monkeypatch.setenv("CC", "gcc-12")
    with allow_builds():
        built = uv_env()
    assert "CORP_PASSCODE" not in built and "TORCH_HUB_MACAROON" not in built
    assert built["UV_CACHE_DIR"] == "/tmp/uvcache" and built["CC"] == "gcc-12"
    assert built["PATH"]  # uv and the compilers are found
    assert uv_env()["CORP_PASSCODE"] == "a-passcode-value"  # resolving only: the user's own


def test_the_users_config_and_data_homes_stay_out_but_uv_reads_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Round 23b F7: XDG_CONFIG_HOME/XDG_DATA_HOME led the command to git's credential store,
    # the GitHub CLI's hosts file and keyrings; inside, the private HOME's folders are used.
    from forkvet.envgen.uv import allow_builds, uv_env

    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, f"/srv/{name.lower()}")
    env = scrubbed_env()
    assert not {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"} & set(env)
    with allow_builds():
        built = uv_env()  # uv's own config (uv.toml, its Pythons) stays the user's
    assert built["XDG_CONFIG_HOME"] == "/srv/xdg_config_home"
    assert built["XDG_DATA_HOME"] == "/srv/xdg_data_home"
