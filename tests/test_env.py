"""`forkvet env` against a real local package index, with real uv and pip."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from forkvet.cli import main
from tests.conftest import MakeRepo, license_text
from tests.pkgindex import Dist, PackageIndex

pytest.importorskip("uv")


def cp(py: str) -> str:
    abi = f"cp{py}m" if py in ("35", "36", "37") else f"cp{py}"
    return f"cp{py}-{abi}-manylinux2010_x86_64"


DISTS = [
    # TensorFlow: 1.12 (3.6 only), 1.15 (3.6/3.7), 2.1 after the code's date
    Dist("tensorflow", "1.12.0", "2018-11-05T00:00:00Z", ["numpy>=1.13.3"], tag=cp("36")),
    *[
        Dist(
            "tensorflow",
            "1.15.0",
            "2019-10-17T00:00:00Z",
            ["numpy>=1.16,<1.19"],
            tag=cp(v),
            license="Apache-2.0",
        )
        for v in ("36", "37")
    ],
    Dist("tensorflow", "2.1.0", "2020-01-08T00:00:00Z", ["numpy>=1.16"], tag=cp("37")),
    # TensorFlow 1.x's GPU build is a distribution of its own
    Dist("tensorflow-gpu", "1.15.0", "2019-10-17T00:00:00Z", ["numpy>=1.16,<1.19"], tag=cp("37")),
    Dist("numpy", "1.14.0", "2018-01-06T00:00:00Z", license="BSD-3-Clause"),
    Dist("numpy", "1.16.0", "2019-01-13T00:00:00Z", license="BSD-3-Clause"),
    Dist("numpy", "1.17.4", "2019-11-10T00:00:00Z", license="BSD-3-Clause"),
    Dist("numpy", "1.18.0", "2019-12-22T00:00:00Z", license="BSD-3-Clause"),
    Dist("opencv-python", "3.4.2.17", "2018-07-05T00:00:00Z", modules=["cv2"], license="MIT"),
    Dist("opencv-python", "4.5.1.48", "2021-01-02T00:00:00Z", modules=["cv2"], license="MIT"),
    Dist("mxnet", "1.2.0", "2018-05-21T00:00:00Z", tag=cp("36"), license="Apache-2.0"),
    Dist("gpl-lib", "1.0", "2018-01-01T00:00:00Z", modules=["gpl_lib"], license="GPL-3.0-only"),
    Dist("nc-lib", "1.0", "2018-01-01T00:00:00Z", modules=["nc_lib"], license="CC-BY-NC-4.0"),
    Dist(
        "llvm-lib",
        "1.0",
        "2018-01-01T00:00:00Z",
        modules=["llvm_lib"],
        license="Apache-2.0 WITH LLVM-exception",
    ),
    Dist("relic", "1.0", "2018-01-01T00:00:00Z", license="MIT"),
    Dist("relic", "2.0", "2022-01-01T00:00:00Z", license="GPL-3.0-only"),
    Dist("cudalib", "1.0", "2019-01-01T00:00:00Z", ["nvidia-cublas-cu12"], license="MIT"),
    Dist(
        "nvidia-cublas-cu12",
        "12.1.3.1",
        "2019-01-01T00:00:00Z",
        modules=["nvidia_cublas"],
        license="LicenseRef-NVIDIA-Proprietary",
    ),
    # Python 2 world
    Dist("six", "1.11.0", "2017-09-17T00:00:00Z", tag="py2.py3-none-any", license="MIT"),
    Dist("futurelib", "1.0", "2017-01-01T00:00:00Z", tag="py2.py3-none-any"),
    Dist("futurelib", "2.0", "2019-01-01T00:00:00Z", requires_python=">=3.5"),
    # legacy metadata today's resolvers reject (pandas 0.24 declares pytz >= 2011k)
    Dist("legacylib", "0.9", "2014-01-01T00:00:00Z", tag="py2.py3-none-any"),
    Dist("legacylib", "1.0", "2019-01-01T00:00:00Z", ["tzdep (>=2011k)"]),
    Dist("tzdep", "2018.9", "2018-12-01T00:00:00Z"),
    # a package whose metadata forgets a dependency it imports
    Dist("pkga", "1.0", "2019-01-01T00:00:00Z", code="import pkgb\n"),
    Dist("pkgb", "1.0", "2019-01-01T00:00:00Z"),
    Dist("torch", "1.4.0", "2019-06-01T00:00:00Z", modules=["torch"]),
    # a GPU-only build published as a distribution of its own, and its CPU twin
    Dist("onnxruntime", "1.0.0", "2019-10-01T00:00:00Z"),
    Dist("onnxruntime-gpu", "1.0.0", "2019-10-01T00:00:00Z", modules=["onnxruntime"]),
    # Python 2: the oldest release left of a package wants a newer numpy than the date gives
    *[
        Dist("numlib", v, when, tag="cp27-cp27mu-manylinux1_x86_64")
        for v, when in (("1.11.0", "2016-03-27T00:00:00Z"), ("1.11.1", "2016-06-26T00:00:00Z"))
    ],
    Dist("cvlib", "3.4.0", "2018-01-01T00:00:00Z", ["numlib>=1.11.1"], tag="py2.py3-none-any"),
]
UPLOADED = {(d.name, d.version): d.uploaded for d in DISTS}


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[PackageIndex]:
    with PackageIndex(DISTS) as idx:
        monkeypatch.setenv("UV_INDEX_URL", idx.url)
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
        yield idx


def run_env(
    repo: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, object]]:
    code = main(["env", str(repo), "--out", str(out), "--format", "json", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {"stderr": captured.err}


TF1 = {
    "model.py": (
        "import numpy as np\nimport tensorflow as tf\nimport cv2\n"
        "net = tf.contrib.layers.fully_connected\nsess = tf.Session()\n"
    ),
    "LICENSE": license_text("MIT.txt"),
}


def test_tensorflow_1_repo_pins_framework_first_as_of_the_code_date(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(TF1, date="2019-12-01T10:00:00+00:00")
    code, data = run_env(repo, tmp_path / "out", capsys, "--device", "cuda")
    assert code == 0, data
    assert data["python"] == "3.7" and data["as_of"] == "2019-12-01"
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    # on a GPU, TensorFlow 1.x is tensorflow-gpu, with the CUDA and cuDNN 1.15 was built for
    assert pins == {"tensorflow-gpu": "1.15.0", "numpy": "1.17.4", "opencv-python": "3.4.2.17"}
    for name, version in pins.items():  # nothing released after the code's date
        assert UPLOADED[(name, version)] <= "2019-12-01T23:59:59Z"
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    assert reqs.splitlines()[4] == "tensorflow-gpu==1.15.0"
    assert "opencv-python==3.4.2.17  # imported at model.py:3" in reqs
    env = (tmp_path / "out" / "environment.yml").read_text()
    assert "name: model-repo" in env and "  - python=3.7" in env
    assert "  - cudatoolkit=10.0\n  - cudnn=7.4" in env and "    - tensorflow-gpu==1.15.0" in env
    assert (tmp_path / "out" / ".python-version").read_text() == "3.7\n"
    assert data["commands"]["uv"].startswith("uv venv --python 3.7")
    # on a CPU: the CPU build, and no CUDA toolkit to download
    code, cpu = run_env(repo, tmp_path / "cpu", capsys, "--device", "cpu")
    assert code == 0 and cpu["framework"]["dist"] == "tensorflow"
    assert "cudatoolkit" not in (tmp_path / "cpu" / "environment.yml").read_text()


def test_cpu_environment_gets_cpu_builds_and_keeps_the_authors_floor(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an unpinned tensorflow-gpu beside the authors' tensorflow pin; a CPU machine
    repo = make_repo(
        {**TF1, "requirements.txt": "tensorflow-gpu\ntensorflow==1.15.0\n"},
        date="2019-12-01T10:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "out", capsys, "--device", "cpu")
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    assert code == 0 and pins["tensorflow"] == "1.15.0" and "tensorflow-gpu" not in pins, data
    assert "tensorflow-gpu" not in (tmp_path / "out" / "requirements.txt").read_text()
    # only GPU builds declared: their CPU builds, same versions
    repo = make_repo(
        {**TF1, "requirements.txt": "tensorflow-gpu==1.15.0\nonnxruntime-gpu==1.0.0\n"},
        name="gpu-repo",
        date="2019-12-01T10:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "only-gpu", capsys, "--device", "cpu")
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    assert pins.get("tensorflow") == "1.15.0" and "tensorflow-gpu" not in pins, pins
    assert pins.get("onnxruntime") == "1.0.0" and "onnxruntime-gpu" not in pins, pins
    # the README's floor is after the code's date: the release of the date is not complete
    repo = make_repo(
        {**TF1, "README.md": "Requires TensorFlow >= 1.15.\n"},
        name="floor-repo",
        date="2019-01-01T10:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "floor", capsys, "--device", "cpu")
    assert code == 1 and data["complete"] is False, data["problems"]
    assert any("below the authors' stated tensorflow>=1.15" in p for p in data["problems"])


def test_the_code_date_ignores_later_docs_packaging_and_ci_commits(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(TF1, date="2019-12-01T10:00:00+00:00")
    first = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    make_repo(
        {
            "setup.py": "from setuptools import setup\nsetup(name='m')\n",
            "README.md": "Updated.\n",
            "docs/conf.py": "project = 'm'\n",
            ".github/workflows/check.py": "print('ci')\n",
            "requirements.txt": "numpy\n",
        },
        date="2026-01-01T10:00:00+00:00",
    )
    _, data = run_env(repo, tmp_path / "out", capsys, "--device", "cpu")
    assert data["as_of"] == "2019-12-01" and data["code_commit"] == first, data
    assert any(f"by commit {first[:12]}" in p for p in data["problems"])


def test_declared_pins_are_kept_and_conflicts_reported(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            **TF1,
            "requirements.txt": "numpy==1.16.0\ntensorflow==1.15.0\n",
            "setup.py": "from setuptools import setup\nsetup(name='m', "
            "install_requires=['numpy==1.17.4'])\n",
        },
        date="2019-12-01T10:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "out", capsys)
    assert code == 0, (data["problems"], data["dropped"], data["complete"])
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    assert pins["numpy"] == "1.16.0"
    assert data["conflicts"] == [
        "numpy: ==1.16.0 (declared in requirements.txt:1) vs ==1.17.4 (setup.py); kept ==1.16.0"
    ]


def test_unresolvable_declared_pin_is_relaxed_and_named(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {**TF1, "requirements.txt": "numpy==1.14.0\ntensorflow==1.15.0\n"},
        date="2019-12-01T10:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "out", capsys)
    assert code == 0 and data["relaxed"] == ["numpy==1.14.0"]
    assert any("relaxed numpy==1.14.0" in p and "numpy" in p for p in data["problems"])
    assert {r["name"]: r["version"] for r in data["requirements"]}["numpy"] == "1.17.4"


def test_python_is_chosen_by_the_framework_wheels(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {"train.py": "import mxnet as mx\nprint(f'{mx}')\n"}, date="2020-12-01T10:00:00+00:00"
    )
    code, data = run_env(repo, tmp_path / "out", capsys)
    assert code == 0 and data["python"] == "3.6"
    assert data["framework"]["version"] == "1.2.0"


def test_a_date_before_the_framework_existed(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(TF1)
    code, data = run_env(repo, tmp_path / "out", capsys, "--as-of", "2015-01-01")
    assert code == 1 and data["complete"] is False
    assert "before the framework existed" in data["problems"][0]
    assert (tmp_path / "out" / "requirements.txt").exists()  # the partial result is written


def test_package_that_no_longer_exists_is_dropped(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {"m.py": "import numpy\n", "requirements.txt": "numpy\nvanished-pkg==1.0\n"},
        date="2019-12-01T10:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "out", capsys)
    # not every name is pinned: a partial result, saying what is missing
    assert code == 1 and data["complete"] is False and data["dropped"] == ["vanished-pkg"]
    assert "vanished-pkg" in (tmp_path / "out" / "requirements.txt").read_text()


def test_dependency_licenses_of_the_pinned_release(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "m.py": "import gpl_lib, nc_lib, llvm_lib, relic, cudalib\n",
            "requirements.txt": "gpl-lib\nnc-lib\nllvm-lib\nrelic\ncudalib\n",
            "LICENSE": license_text("MIT.txt"),
        },
        date="2020-06-01T00:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "out", capsys)
    assert code == 0
    verdicts = {x["name"]: (x["verdict"], x["category"]) for x in data["licenses"]}
    assert verdicts["gpl-lib"] == ("warning", "strong-copyleft")
    assert verdicts["nc-lib"] == ("warning", "non-commercial")
    assert verdicts["llvm-lib"] == ("ok", "permissive")  # WITH exception: no crash, no alarm
    assert verdicts["relic"] == ("ok", "permissive")  # 1.0's MIT, not 2.0's GPL
    assert verdicts["nvidia-cublas-cu12"][0] == "ok"  # the CUDA runtime is no false alarm
    policy = tmp_path / "policy.yml"
    policy.write_text("license:\n  require_commercial_use: true\n")
    _, strict = run_env(repo, tmp_path / "out2", capsys, "--config", str(policy))
    assert {x["name"]: x["verdict"] for x in strict["licenses"]}["nc-lib"] == "error"


def _declare(names: str) -> dict[str, str]:
    """A README that declares the test index's packages: env pins an import that is neither
    declared nor a known import name only as a comment (a guess)."""
    return {"README.md": f"```\npip install {names}\n```\n"}


def test_invalid_legacy_metadata_is_repaired(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {"m.py": "import legacylib\n", **_declare("legacylib")},
        date="2019-06-01T00:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "out", capsys, "--python", "3.11")
    assert code == 0, data
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    assert pins == {"legacylib": "1.0", "tzdep": "2018.9"}  # not the 2014 release
    assert any("invalid legacy metadata of legacylib" in p for p in data["problems"])
    # uv cannot read legacylib 1.0's requirements (tzdep >=2011k): left alone, it backtracks to
    # older releases (with pandas: a 2014 source release it then builds) before saying so.
    # forkvet reads the newest release's metadata first and hands uv the repair up front.
    by_uv = [path for agent, path in index.agents if agent.startswith("uv/")]
    assert by_uv and not [p for p in by_uv if p.startswith("/files/legacylib-")], by_uv
    # installing the pins needs the repair too: uv refuses tzdep (>=2011k) on install as well
    out = tmp_path / "out"
    # The printed command runs in the output folder, where uv finds env's uv.toml and merges it
    # with the user's own configuration (--config-file would drop the user's mirror).
    assert "--config-file" not in data["commands"]["uv"] and data["out"] == str(out)
    uv = [shutil.which("uv") or str(Path(sys.executable).parent / "uv"), "pip", "compile"]
    args = [str(out / "requirements.txt"), "--python-version", "3.11", "--quiet"]
    (elsewhere := tmp_path / "elsewhere").mkdir()
    assert subprocess.run([*uv, *args], capture_output=True, check=False, cwd=elsewhere).returncode
    assert subprocess.run([*uv, *args], capture_output=True, check=False, cwd=out).returncode == 0


def test_what_env_made_installs_with_its_metadata_repairs(
    index: PackageIndex,
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from forkvet import environments
    from forkvet.snapshot import load

    repo = make_repo(
        {"m.py": "import legacylib\n", **_declare("legacylib")},
        date="2019-06-01T00:00:00+00:00",
    )
    # The user's index comes from their own uv.toml only: every install keeps it beside
    # env's uv.toml (uv merges the two; --config-file would have dropped the user's).
    (tmp_path / "xdg" / "uv").mkdir(parents=True)
    (tmp_path / "xdg" / "uv" / "uv.toml").write_text(f'index-url = "{index.url}"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("UV_INDEX_URL")
    # --verify installs with env's uv.toml, also when --out is relative
    monkeypatch.chdir(tmp_path)
    code, data = run_env(repo, Path("rel-out"), capsys, "--python", "3.11", "--verify")
    assert code == 0 and data["verify"]["ok"] is True, data
    # the runtime installs the authors' own pin of such a release: repaired, then installed
    plan = environments.plan(
        load(repo), ["legacylib==1.0"], "requirements.txt", "3.11", env_dir=str(tmp_path / "envs")
    )
    built = environments.prepare(plan)
    assert any("repaired the invalid metadata of legacylib" in n for n in built.notes)


def test_the_runtime_installs_the_pins_env_made_for_this_code(
    index: PackageIndex,
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from forkvet import environments
    from forkvet.snapshot import load

    repo = make_repo(
        {"m.py": "import legacylib\n", "requirements.txt": "legacylib\n"},
        date="2019-06-01T00:00:00+00:00",
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(repo)  # `forkvet env .`: the output goes outside the checkout
    assert main(["env", ".", "--python", "3.11", "--format", "json"]) == 0
    capsys.readouterr()
    lines, source, python, config = environments.requirements_and_config(
        load(repo), None, None, str(tmp_path / "envs")
    )
    assert "legacylib==1.0" in lines and source.startswith("forkvet env") and python == "3.11"
    assert config is not None and "dependency-metadata" in config.read_text()
    # other code (a new file): env's pins are not for it, the repository's file is used
    (repo / "n.py").write_text("x = 1\n")
    lines, source, _, config = environments.requirements_and_config(
        load(repo), None, None, str(tmp_path / "envs")
    )
    assert lines == ["legacylib"] and source == "requirements.txt" and config is None


def test_install_errors_show_uvs_explanation() -> None:
    from forkvet.environments import uv_error

    stderr = (
        "Resolved 3 packages\n"
        "error: Failed to parse metadata from built wheel\n"
        "  Caused by: Expected a version, found 2011k\n"
        "    tzdep (>=2011k)\n"
        "           ^^^^^^^\n"
        "hint: this is a hint\n"
    )
    shown = uv_error(stderr)
    assert shown.startswith("error: Failed to parse metadata") and "2011k" in shown
    assert "^^^" not in shown and "hint" not in shown


def test_python2_code_gets_a_conda_environment(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {"old.py": "import six\nimport futurelib\nprint 'hello'\n", **_declare("futurelib")},
        date="2020-01-01T00:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "out", capsys)
    assert code == 0 and data["python"] == "2.7"
    assert {r["name"]: r["version"] for r in data["requirements"]} == {
        "six": "1.11.0",
        "futurelib": "1.0",
    }  # 2.0 requires Python >= 3.5
    env = (tmp_path / "out" / "environment.yml").read_text()
    assert "  - python=2.7" in env and "    - futurelib==1.0" in env
    assert "uv" not in data["commands"]


def test_offline_uses_no_index(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo({**TF1, "requirements.txt": "numpy==1.16.0\n"})
    before = len(index.requests)
    code, data = run_env(repo, tmp_path / "out", capsys, "--offline")
    assert len(index.requests) == before
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    assert "numpy==1.16.0" in reqs and "tensorflow  # imported at model.py:2" in reqs
    assert data["python"] == "3.7"
    # names without versions are not a complete environment
    assert code == 1 and data["complete"] is False
    assert any("no version for" in p and "tensorflow" in p for p in data["problems"])


def test_results_never_claim_more_than_they_have(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Python 2.7 asked for, code with f-strings
    repo = make_repo({"m.py": "import numpy\nprint(f'{numpy}')\n"}, name="fstrings")
    code, data = run_env(repo, tmp_path / "py27", capsys, "--python", "2.7", "--offline")
    assert code == 1 and data["complete"] is False
    assert any("--python 2.7: the code needs Python >= 3.6" in p for p in data["problems"])
    # a conda spec written with spaces constrains the version
    repo = make_repo(
        {**TF1, "environment.yml": "dependencies:\n  - numpy >= 1.17\n  - python = 3.7\n"},
        name="conda-spaces",
        date="2019-12-01T10:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "conda", capsys, "--device", "cpu")
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    assert pins["numpy"] == "1.17.4" and data["python"] == "3.7", data["problems"]


def test_no_network_suggests_offline(
    make_repo: MakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("UV_INDEX_URL", "http://127.0.0.1:9/simple/")
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "c"))
    code, data = run_env(make_repo(TF1), tmp_path / "out", capsys)
    assert code == 2 and "--offline" in str(data["stderr"])
    assert "could not reach the package index" in str(data["stderr"])


def test_index_that_times_out(
    make_repo: MakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(8)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("UV_INDEX_URL", f"http://127.0.0.1:{server.server_address[1]}/simple/")
        monkeypatch.setenv("UV_HTTP_TIMEOUT", "1")
        monkeypatch.setenv("UV_HTTP_RETRIES", "0")
        monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "c"))
        code, data = run_env(make_repo(TF1), tmp_path / "out", capsys)
    finally:
        server.shutdown()
    assert code == 2 and "--offline" in str(data["stderr"])


def test_python2_pin_that_another_pin_rules_out_is_raised_to_one_that_fits(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {"old.py": "import numlib\nimport cvlib\nprint 'hello'\n", **_declare("numlib cvlib")},
        date="2016-05-17T00:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "out", capsys)
    assert code == 0 and data["python"] == "2.7", data
    # cvlib has nothing from before the date: its oldest release wants numlib>=1.11.1, so the
    # numlib of the date (1.11.0) would not install beside it
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    assert pins == {"numlib": "1.11.1", "cvlib": "3.4.0"}, data["problems"]
    assert any("numlib: 1.11.0 does not satisfy" in p for p in data["problems"])
    assert "    - numlib==1.11.1" in (tmp_path / "out" / "environment.yml").read_text()


def test_verify_repairs_a_missing_dependency(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {"app/__init__.py": "import pkga\n", "requirements.txt": "pkga\n"},
        date="2020-01-01T00:00:00+00:00",
    )
    code, data = run_env(repo, tmp_path / "out", capsys, "--verify", "--python", "3.11")
    assert "verify" in data, data
    verify = data["verify"]
    assert code == 0, data
    assert verify["ok"] is True and verify["added"] == ["pkgb"] and verify["rounds"] == 2
    assert "pkgb==1.0" in (tmp_path / "out" / "requirements.txt").read_text()


def test_verify_takes_pytorch_from_your_index_when_pytorchs_own_is_out_of_reach(
    index: PackageIndex,
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On CPU, uv's --torch-backend reads PyTorch's own index, which is not the user's: on a
    # network that only reaches their mirror it cannot be reached. A dead proxy stands in for
    # that network here (nothing leaves this machine; the local index is exempt).
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
        monkeypatch.setenv(var.lower(), "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("FORKVET_TORCH_BACKEND", raising=False)
    monkeypatch.delenv("UV_TORCH_BACKEND", raising=False)
    monkeypatch.setenv("FORKVET_ENV_DIR", str(tmp_path / "envs"))
    repo = make_repo({"train.py": "import torch\n"}, date="2020-01-01T00:00:00+00:00")
    code, data = run_env(
        repo, tmp_path / "out", capsys, "--verify", "--python", "3.11", "--device", "cpu"
    )
    assert code == 0 and "--torch-backend cpu" in data["commands"]["uv"], data
    verify = data["verify"]
    assert verify["ok"] is True, verify
    assert any(
        "PyTorch's cpu builds could not be downloaded" in n and "from your index" in n
        for n in verify["notes"]
    ), verify


def test_bad_input(make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(TF1)
    assert main(["env", str(repo), "--as-of", "last year"]) == 2
    assert main(["env", str(repo), "--python", "three"]) == 2
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["env", str(repo), "--out", str(f)]) == 2
    assert main(["env", str(repo), "--offline", "--verify", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("forkvet: error:") == 4 and "Traceback" not in err


def test_the_index_is_the_one_in_the_users_own_uv_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """forkvet reads metadata from the index uv would use: a mirror set only in the user's
    uv.toml (or the system's) counts, as uv reads it; environment variables come first."""
    from forkvet.envgen.index import index_url

    for var in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"):
        monkeypatch.delenv(var, raising=False)
    user, system = tmp_path / "user", tmp_path / "system"
    (user / "uv").mkdir(parents=True)
    (system / "uv").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(system))
    (system / "uv" / "uv.toml").write_text('index-url = "https://mirror.example/sys"\n')
    assert index_url() == "https://mirror.example/sys/"
    (user / "uv" / "uv.toml").write_text(
        '[[index]]\nurl = "https://extra.example/simple"\n\n'
        '[[index]]\nurl = "https://mirror.example/simple"\ndefault = true\n'
    )
    assert index_url() == "https://mirror.example/simple/"
    monkeypatch.setenv("UV_INDEX_URL", "https://env.example/simple")
    assert index_url() == "https://env.example/simple/"


def test_the_chosen_python_is_not_listed_as_tried_before_itself() -> None:
    """'Python 3.6 chosen; tried before it: Python 3.6, ...' read as a contradiction: the
    note names the other Pythons, and why the chosen one won when it was not on the date."""
    from forkvet.envgen.choose import _chosen_note
    from forkvet.envgen.resolve import Resolution

    best = Resolution(python="3.6", after_date=["absl-py"])
    tried = [
        "Python 3.6: the rest of the stack did not resolve (absl-py only after the date)",
        "Python 3.7: the rest of the stack did not resolve (grpcio only after the date)",
    ]
    note = _chosen_note(best, tried)
    assert note.startswith("Python 3.6 chosen (absl-py only after the code's date)")
    assert "tried before it: Python 3.7:" in note and note.count("Python 3.6") == 1
    assert _chosen_note(Resolution(python="3.7"), tried[:1]) == (
        "Python 3.7 chosen; tried before it: " + tried[0]
    )


def test_setuptools_imported_only_by_setup_py_is_no_requirement(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`setuptools  # imported at setup.py:1` was pinned as if the code needed it; Cython in
    setup.py stays (building the extension in place needs it in the environment)."""
    repo = make_repo(
        {
            "setup.py": "from setuptools import setup\nfrom Cython.Build import cythonize\n",
            "m.py": "import numpy\n",
            "tools/pkg_use.py": "import numpy\n",
        }
    )

    def names(out: Path) -> set[str]:
        lines = (out / "requirements.txt").read_text().splitlines()
        return {ln.split()[0].lower() for ln in lines if ln and not ln.startswith("#")}

    _, data = run_env(repo, tmp_path / "out", capsys, "--offline")
    got = names(tmp_path / "out")
    assert "setuptools" not in got and {"numpy", "cython"} <= got, got
    assert any("setuptools: imported only by setup.py" in p for p in data["problems"]), data
    repo2 = make_repo({"setup.py": "import setuptools\n", "m.py": "import pkg_resources\n"})
    run_env(repo2, tmp_path / "out2", capsys, "--offline")
    assert "setuptools" in names(tmp_path / "out2")  # the code itself uses it
