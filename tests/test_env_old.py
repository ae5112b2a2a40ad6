"""Old research code: Python choice, framework fallbacks, CUDA table, uv's wordings, Python 2."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from forkvet.envgen.choose import python_candidates
from forkvet.envgen.device import conda_packages
from forkvet.envgen.metadata_fix import invalid_packages
from forkvet.envgen.names import Need, NeedSet
from forkvet.envgen.py2 import resolve_py2
from tests.conftest import MakeRepo
from tests.pkgindex import Dist, PackageIndex, write_dists


def test_python_never_below_what_uv_supports() -> None:
    # 3.5-era code steps up to 3.6, the oldest uv resolves for
    assert python_candidates("3.5", "3.3", None)[0] == "3.6"
    assert "3.5" not in python_candidates("3.5", None, None)
    # otherwise newest first, down to the code's minimum but not below 3.6
    assert python_candidates("3.8", "3.5", None) == ["3.8", "3.7", "3.6"]
    assert python_candidates("3.12", "3.10", "3.11") == ["3.11", "3.10"]


def test_uv_invalid_metadata_wordings() -> None:
    for err in (
        "Because pandas==0.23.4 has invalid metadata and you require",
        "And because pandas>=0.20.1 has invalid metadata and you require pandas>=0.20",
        "Because all versions of pandas have invalid metadata",
        "Because pandas>=0.20.1,<0.24 have invalid metadata",
        "hint: Metadata for `pandas` (v0.23.4) could not be parsed:",
    ):
        assert invalid_packages(err) == ["pandas"], err
    assert invalid_packages("Because only pandas<=0.19 is available") == []


def test_cuda_of_old_frameworks() -> None:
    assert conda_packages("tensorflow-gpu", "1.10.1") == ["cudatoolkit=9.0", "cudnn=7.1"]
    assert conda_packages("tensorflow", "1.15.5") == ["cudatoolkit=10.0", "cudnn=7.4"]
    assert conda_packages("torch", "0.4.1") == ["cudatoolkit=9.0"]
    assert conda_packages("torch", "1.7.1") == ["cudatoolkit=11.0"]
    assert conda_packages("torch", "2.1.0") == []  # the wheels bundle CUDA


# A source release's build writes this file: resolving must never run it.
BUILD_MARK = (
    "import pathlib, tempfile\n"
    "pathlib.Path(tempfile.gettempdir(), 'forkvet-test-built').write_text('ran')\n"
)


def test_cuda_builds_and_gpu_kernels_of_old_frameworks() -> None:
    from forkvet.envgen.device import gpu_warning, torch_backend_for

    assert torch_backend_for("1.7.1") == "cu110"  # matches cudatoolkit=11.0 in the conda file
    assert torch_backend_for("1.4.0") == "cu101"
    assert torch_backend_for("2.1.0") is None  # the wheels bundle CUDA
    hopper = gpu_warning("torch", "1.7.1", 9.0)
    assert hopper is not None and "no kernel image" in hopper
    assert gpu_warning("torch", "1.7.1", 8.0) is None  # Ampere kernels since 1.7
    assert gpu_warning("tensorflow-gpu", "1.15.0", 8.6) is not None
    assert gpu_warning("torch", "2.1.0", 9.0) is None
    unknown = gpu_warning("torch", "1.4.0", None)
    assert unknown is not None and "up to compute capability 7.5" in unknown


PY2 = [
    # only a Python 2 wheel: installs on 2.7
    Dist(
        "oldcv",
        "3.4.0",
        "2018-01-01T00:00:00Z",
        ["numpy>=1.11"],
        tag="cp27-cp27mu-manylinux1_x86_64",
    ),
    # a later release with Python 3 wheels only (no Requires-Python): not for 2.7
    Dist("oldcv", "4.3.0", "2019-06-01T00:00:00Z", tag="cp36-cp36m-manylinux1_x86_64"),
    Dist("numpy", "1.16.6", "2019-12-29T00:00:00Z", tag="cp27-cp27mu-manylinux1_x86_64"),
    Dist(
        "numpy",
        "1.18.0",
        "2019-12-22T00:00:00Z",
        requires_python=">=3.5",
        tag="cp37-cp37m-manylinux1_x86_64",
    ),
    Dist(
        "numpy",
        "1.17.0",
        "2019-07-26T00:00:00Z",
        requires_python=">=3.5",
        tag="cp37-cp37m-manylinux1_x86_64",
    ),
    Dist("numpy", "1.15.0", "2018-07-23T00:00:00Z", tag="cp27-cp27mu-manylinux1_x86_64"),
    # releases of 2011 and 2015 whose Linux wheels were uploaded in 2016
    Dist("numlike", "1.6.0", "2011-05-01T00:00:00Z", sdist=True),
    Dist("numlike", "1.6.0", "2016-04-01T00:00:00Z", tag="cp27-cp27mu-manylinux1_x86_64"),
    Dist("numlike", "1.10.1", "2015-10-12T00:00:00Z", sdist=True),
    Dist("numlike", "1.10.1", "2016-04-01T00:00:00Z", tag="cp27-cp27mu-manylinux1_x86_64"),
    Dist("numlike", "1.11.0", "2016-03-27T00:00:00Z", tag="cp27-cp27mu-manylinux1_x86_64"),
    # the only Python 2 wheel is a pre-release; the final release is for Python 3
    Dist("weakreflike", "1.0rc1", "2015-06-01T00:00:00Z", tag="py2-none-any"),
    Dist("weakreflike", "1.0", "2017-06-01T00:00:00Z", requires_python=">=3.4"),
    # a framework that published only source releases (Theano)
    Dist(
        "theanolike",
        "0.8.2",
        "2016-04-21T00:00:00Z",
        sdist=True,
        sdist_files={
            "PKG-INFO": "Metadata-Version: 1.1\nName: theanolike\nVersion: 0.8.2\n",
            "theanolike.egg-info/requires.txt": "numlike>=1.10\n",
        },
    ),
    # an old source release named "3.2.3-2": version 3.2.3.post2 (PEP 440), not "2"
    Dist("functoolslike", "3.2.3-2", "2015-07-11T00:00:00Z", sdist=True),
]


@pytest.fixture
def py2_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[PackageIndex]:
    with PackageIndex(PY2) as idx:
        monkeypatch.setenv("UV_INDEX_URL", idx.url)
        monkeypatch.setenv("PIP_INDEX_URL", idx.url)
        yield idx


def test_python2_pins_dependencies_too_by_date_and_tags(py2_index: PackageIndex) -> None:
    needs = NeedSet([Need("oldcv", "", "imported", "main")])
    res = resolve_py2(needs, date(2019, 8, 1))
    # oldcv 4.3.0 has no Python 2 wheel; numpy (a dependency only) is pinned as of the
    # date among the releases that install on 2.7, not left to pip's newest
    assert res.pins == {"oldcv": "3.4.0", "numpy": "1.15.0"}
    assert res.complete


def test_python2_takes_the_release_of_the_date_its_only_wheel_and_reads_old_versions(
    py2_index: PackageIndex,
) -> None:
    from forkvet.envgen.py2 import pick
    from forkvet.envgen.uv import allow_builds

    needs = NeedSet([Need("numlike", "", "imported"), Need("weakreflike", "", "imported")])
    res = resolve_py2(needs, date(2015, 12, 1))
    # the release of the date (its Linux wheel came later), not the oldest one with a wheel
    assert res.pins["numlike"] == "1.10.1", res.problems
    assert res.pins["weakreflike"] == "1.0rc1"  # its only Python 2 wheel
    with allow_builds():
        assert pick("functoolslike", "", date(2016, 1, 1)) == "3.2.3.post2"
    # source-only on the date: pinned, its requirements read from the archive, disclosed
    res = resolve_py2(NeedSet([Need("theanolike", "", "imported")]), date(2016, 6, 1))
    assert res.pins == {"theanolike": "0.8.2", "numlike": "1.11.0"}, res.problems
    assert res.from_source == ["theanolike==0.8.2"] and res.complete and not res.needs_build


# ---- `forkvet env` end to end on a local index: old frameworks, old Pythons, old packaging --


def cp(py: str) -> str:
    abi = f"cp{py}m" if py in ("35", "36", "37") else f"cp{py}"
    return f"cp{py}-{abi}-manylinux1_x86_64"


OLD = [
    # PyTorch before 1.0 was never on the package index; 1.0 came in December 2018
    *[Dist("torch", "1.0.0", "2018-12-07T00:00:00Z", ["numpy"], tag=cp(v)) for v in ("36", "37")],
    # torch 1.13 for 3.10/3.11; torchvision only for 3.10 by the date
    *[
        Dist("torch", "1.13.0", "2022-10-28T00:00:00Z", ["numpy"], tag=cp(v))
        for v in ("310", "311")
    ],
    Dist("torchvision", "0.14.0", "2022-10-28T00:00:00Z", ["torch==1.13.0"], tag=cp("310")),
    Dist("torchvision", "0.14.0", "2024-09-01T00:00:00Z", ["torch==1.13.0"], tag=cp("311")),
    Dist("numpy", "1.15.0", "2018-07-23T00:00:00Z", tag="py3-none-any"),
    Dist("numpy", "1.14.0", "2018-01-06T00:00:00Z", tag="py3-none-any"),
    # TensorFlow 1.10 caps setuptools; the newest setuptools on the date is above the cap
    Dist(
        "tensorflow",
        "1.10.0",
        "2018-08-08T00:00:00Z",
        ["numpy", "setuptools<=39.1.0"],
        tag=cp("36"),
    ),
    Dist("tensorflow", "1.12.0", "2018-11-05T00:00:00Z", ["numpy"], tag=cp("36")),
    Dist("setuptools", "39.1.0", "2018-04-30T00:00:00Z", tag="py2.py3-none-any"),
    Dist("setuptools", "40.4.0", "2018-09-18T00:00:00Z", tag="py2.py3-none-any"),
    # a package that published only a source release before the date; wheels came later
    Dist("srconly", "1.0", "2017-05-01T00:00:00Z", sdist=True),
    Dist("srconly", "1.1", "2019-05-01T00:00:00Z", tag="py3-none-any"),
    # 2017-style source-only dependencies of a framework (gast, termcolor): old PKG-INFO
    # without Requires-Dist; the requirements are in egg-info/requires.txt or setup.py.
    Dist(
        "gastlike",
        "0.2.0",
        "2017-06-01T00:00:00Z",
        sdist=True,
        build_code=BUILD_MARK,
        sdist_files={
            "PKG-INFO": "Metadata-Version: 1.1\nName: gastlike\nVersion: 0.2.0\n",
            "gastlike.egg-info/requires.txt": (
                'astorlike>=0.1\n\n[:python_version < "3"]\nfutureslike\n\n[test]\npytest\n'
            ),
        },
    ),
    Dist(
        "colorlike",
        "1.1.0",
        "2017-03-01T00:00:00Z",
        sdist=True,
        build_code=BUILD_MARK,
        sdist_files={
            "PKG-INFO": "Metadata-Version: 1.1\nName: colorlike\nVersion: 1.1.0\n",
            "setup.py": "from setuptools import setup\nsetup(name='colorlike', "
            "install_requires=['six>=1.10'])\n",
        },
        # never read through a link: it would name an unrelated package
        sdist_links={"setup.cfg": "/etc/passwd", "requirements.txt": "../../evil.txt"},
    ),
    Dist("astorlike", "0.6", "2017-05-01T00:00:00Z"),
    # the newest source release is for Python 2 only (futures 3.2.0), said only in PKG-INFO
    Dist(
        "futlike",
        "3.2.0",
        "2017-11-01T00:00:00Z",
        sdist=True,
        sdist_files={
            "PKG-INFO": "Metadata-Version: 1.2\nName: futlike\nVersion: 3.2.0\n"
            "Requires-Python: >=2.6, <3\n"
        },
    ),
    Dist("futlike", "3.1.1", "2017-04-01T00:00:00Z", sdist=True),
    Dist("six", "1.11.0", "2017-09-17T00:00:00Z", tag="py2.py3-none-any"),
    Dist("futureslike", "3.2", "2017-01-01T00:00:00Z"),
    # every early release yanked later (torchvision 0.1/0.2)
    Dist("tvlike", "0.2.1", "2018-01-01T00:00:00Z", yanked=True),
    Dist("tvlike", "0.3.0", "2019-05-01T00:00:00Z"),
    # a yanked wheel and a source release of the same version (torchvision 0.2.2)
    Dist("tvwheel", "0.2.2", "2018-01-01T00:00:00Z", yanked=True),
    Dist("tvwheel", "0.2.2", "2018-01-01T00:00:00Z", sdist=True, yanked=True),
    Dist("tvwheel", "0.4.0", "2019-08-01T00:00:00Z"),
    # the only source release of the date was yanked later (futures 3.1.1)
    Dist("yankedsrc", "3.1.1", "2017-04-14T00:00:00Z", sdist=True, yanked=True),
    # a placeholder 0.0.0 uploaded after the date, below the releases of the date
    Dist("albulike", "0.1.0", "2017-01-01T00:00:00Z", sdist=True),
    Dist("albulike", "0.0.0", "2018-03-01T00:00:00Z"),
    Dist("albulike", "0.2.0", "2018-06-01T00:00:00Z"),
    # unrelated index projects named like a submodule's and a git requirement's modules
    Dist("inception", "0.1", "2017-01-01T00:00:00Z"),
    Dist("taming-transformers", "0.0.1", "2017-01-01T00:00:00Z", modules=["taming"]),
    Dist("tflike", "1.4.0", "2017-11-01T00:00:00Z", ["gastlike>=0.2.0", "numpy"], tag=cp("36")),
    # a chain of source-only releases (albumentations -> imgaug -> ...): each would stop uv once
    Dist("augchain", "0.4.3", "2017-09-01T00:00:00Z", ["imgchain>=0.2"], sdist=True),
    Dist("imgchain", "0.2.6", "2017-08-01T00:00:00Z", ["leafchain"], sdist=True),
    Dist("leafchain", "1.1", "2017-07-01T00:00:00Z", ["six"], sdist=True),
    # an import nobody declared whose every release conflicts with the authors' pin
    # (academictorrents' future==0.16.0 against pytorch-lightning's future>=0.17.1)
    Dist("torrentlike", "2.3.1", "2017-10-01T00:00:00Z", ["futurelike==0.16.0"]),
    Dist("futurelike", "0.16.0", "2016-10-27T00:00:00Z"),
    Dist("futurelike", "0.17.1", "2017-10-01T00:00:00Z"),
    Dist("lightlike", "1.4.2", "2017-11-01T00:00:00Z", ["futurelike>=0.17.1"]),
]


@pytest.fixture
def old_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[PackageIndex]:
    pytest.importorskip("uv")
    with PackageIndex(OLD) as idx:
        monkeypatch.setenv("UV_INDEX_URL", idx.url)
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
        yield idx


def env(repo: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code = main(["env", str(repo), "--out", str(out), "--format", "json", *extra])
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    data["code"] = code
    return data


def _declare(names: str) -> dict[str, str]:
    """A README that declares the test index's packages: env pins an import that is neither
    declared nor a known import name only as a comment (a guess)."""
    return {"README.md": f"```\npip install {names}\n```\n"}


def pins_of(data: dict[str, Any]) -> dict[str, str]:
    return {r["name"]: r["version"] for r in data["requirements"]}


def test_pytorch_04_code_falls_back_to_what_installs_and_says_so(
    old_index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (
        "Requirements: Python 3.5, PyTorch 0.4\n\n"
        "    pip install git+https://github.com/someone/helper.git\n"
        "    git clone https://github.com/someone/cocoapi\n"
    )
    repo = make_repo(
        {"README.md": readme, "detect.py": "import torch\nimport numpy\n"},
        date="2018-06-12T10:00:00+00:00",
    )
    data = env(repo, tmp_path / "out", capsys, "--device", "cpu")
    # uv resolves nothing below 3.6: 3.5-era code steps up, and no index had PyTorch 0.4
    assert data["python"] == "3.6" and data["complete"] is True, "\n".join(data["problems"])
    assert pins_of(data)["torch"] == "1.0.0"
    assert any("oldest torch" in p and "after the code's date" in p for p in data["problems"])
    assert "--torch-backend cpu" in data["commands"]["uv"]  # CPU builds on a CPU machine
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    # git installs are comments, never resolved or installed blindly
    assert "# helper @ git+https://github.com/someone/helper" in reqs
    assert "# git+https://github.com/someone/cocoapi" in reqs
    # the archive the user points at (never one the repository names) gives the 0.4 release
    archive = tmp_path / "archive"
    archive.mkdir()
    write_dists(archive, [Dist("torch", "0.4.0", "2018-04-24T00:00:00Z", tag=cp("36"))])
    data = env(repo, tmp_path / "out2", capsys, "--device", "cpu", "--find-links", str(archive))
    assert data["complete"] is True and pins_of(data)["torch"] == "0.4.0", data["problems"]
    assert f"--find-links {archive}" in (tmp_path / "out2" / "requirements.txt").read_text()


def test_python_steps_down_when_the_stack_has_no_wheels_for_it(
    old_index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {"train.py": "import torch\nimport torchvision\n"},
        date="2024-06-01T10:00:00+00:00",  # Python 3.11+ was current; torchvision lagged
    )
    data = env(repo, tmp_path / "out", capsys, "--device", "cpu")
    assert data["complete"] is True and data["python"] == "3.10", data["problems"]
    assert pins_of(data)["torchvision"] == "0.14.0"
    assert any("tried before it: " in p and "Python 3.11" in p for p in data["problems"]), data[
        "problems"
    ]


def test_build_tool_pins_respect_the_framework_limits(
    old_index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "m.py": "import tensorflow as tf\nsess = tf.Session()\n",
            "README.md": "Tested with TensorFlow 1.10.0.\n",
        },
        date="2018-10-01T10:00:00+00:00",
    )
    data = env(repo, tmp_path / "out", capsys, "--device", "cpu")
    assert data["complete"] is True, data["problems"]
    pins = pins_of(data)
    assert pins["tensorflow"] == "1.10.0"  # the newest 1.x on the date
    assert pins["setuptools"] == "39.1.0"  # not 40.4.0: TensorFlow 1.10 caps it


def test_source_only_packages_are_pinned_on_the_date_from_metadata_read_statically(
    old_index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = Path(tempfile.gettempdir(), "forkvet-test-built")
    marker.unlink(missing_ok=True)
    repo = make_repo(
        {"m.py": "import srconly\n", **_declare("srconly")}, date="2018-01-01T10:00:00+00:00"
    )
    data = env(repo, tmp_path / "out", capsys, "--device", "cpu", "--python", "3.11")
    assert data["complete"] is True and pins_of(data) == {"srconly": "1.0"}, data["problems"]
    assert data["after_date"] == [] and data["builds_from_source"] == ["srconly==1.0"]
    built = env(repo, tmp_path / "built", capsys, "--python", "3.11", "--allow-build")
    assert pins_of(built) == {"srconly": "1.0"} and built["after_date"] == []
    # a TensorFlow-1.x-like stack whose small dependencies were source-only then
    tf_repo = make_repo(
        {
            "m.py": "import tflike\nimport colorlike\nimport futlike\n",
            **_declare("tflike colorlike futlike"),
        },
        date="2018-01-01T10:00:00+00:00",
    )
    data = env(tf_repo, tmp_path / "tf", capsys, "--device", "cpu", "--python", "3.6")
    pins = pins_of(data)
    assert data["complete"] is True, data["problems"]
    assert pins["gastlike"] == "0.2.0" and pins["astorlike"] == "0.6"  # from requires.txt
    assert pins["colorlike"] == "1.1.0" and pins["six"] == "1.11.0"  # from setup.py's AST
    assert "futureslike" not in pins and "pytest" not in pins  # Python 2 only; an extra
    assert pins["futlike"] == "3.1.1", data["problems"]  # 3.2.0 is for Python 2 only
    assert data["builds_from_source"] == ["colorlike==1.1.0", "futlike==3.1.1", "gastlike==0.2.0"]
    assert not marker.exists(), "resolving ran a source release's build"
    # installing with uv reads the same metadata instead of building to learn it
    uv_toml = (tmp_path / "tf" / "uv.toml").read_text()
    assert 'name = "gastlike"' in uv_toml and '"astorlike>=0.1"' in uv_toml
    reqs = (tmp_path / "tf" / "requirements.txt").read_text()
    assert "builds from source when installed" in reqs


def test_modules_of_submodules_and_git_requirements_are_never_index_names(
    old_index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            ".gitmodules": '[submodule "common/inception"]\n\tpath = common/inception\n'
            "\turl = https://github.com/someone/chainer-inception-score.git\n",
            "common/evaluation.py": "from inception.inception_score import score\n",
            "train.py": "import taming.models\nimport srconly\n",
            **_declare("srconly"),
            "requirements.txt": "-e git+https://github.com/someone/taming-transformers.git"
            "@master#egg=taming-transformers\n",
        },
        date="2018-01-01T10:00:00+00:00",
    )
    data = env(repo, tmp_path / "out", capsys, "--device", "cpu", "--python", "3.11")
    pins = pins_of(data)
    assert "inception" not in pins and "taming-transformers" not in pins, pins
    assert data["complete"] is True and "srconly" in pins, data["problems"]
    assert any("taming-transformers" in g for g in data["git"])


def test_a_package_whose_releases_were_yanked_is_pinned_exactly(
    old_index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "m.py": "import tvlike\nimport tvwheel\nimport yankedsrc\n",
            **_declare("tvlike tvwheel yankedsrc"),
        },
        date="2018-06-01T10:00:00+00:00",
    )
    data = env(repo, tmp_path / "out", capsys, "--device", "cpu", "--python", "3.11")
    pins = pins_of(data)
    assert data["complete"] is True, data["problems"]
    assert pins == {"tvlike": "0.2.1", "tvwheel": "0.2.2", "yankedsrc": "3.1.1"}, data["problems"]
    assert data["builds_from_source"] == ["yankedsrc==3.1.1"]
    assert any("PEP 592" in p for p in data["problems"])
    assert "tvlike==0.2.1" in (tmp_path / "out" / "requirements.txt").read_text()


def test_the_first_wheel_after_the_date_is_newer_than_the_date_s_releases(
    old_index: PackageIndex,
) -> None:
    from forkvet.envgen.wheels import first_wheel_after

    found = first_wheel_after("albulike", "3.11", date(2018, 1, 1))
    assert found is not None and found[0] == "0.2.0"  # never "allowed up to 0.0.0"


def test_source_archives_are_read_in_memory_within_bounds() -> None:
    import io
    import tarfile
    import zipfile

    from forkvet.envgen import sdist

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, text in (
            ("p-1.0/PKG-INFO", "Metadata-Version: 1.1\nName: p\nVersion: 1.0\n"),
            ("p-1.0/p.egg-info/requires.txt", "six\n"),
            ("../../escape/PKG-INFO", "Requires-Dist: evil\n"),  # never written anywhere
        ):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tf.addfile(info, io.BytesIO(text.encode()))
        link = tarfile.TarInfo("p-1.0/setup.py")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
        big = tarfile.TarInfo("p-1.0/setup.cfg")  # over the member bound: not read
        big.size = sdist.MAX_MEMBER + 1
        tf.addfile(big, io.BytesIO(b"[options]\ninstall_requires = evil\n".ljust(big.size)))
    files = sdist.members(buf.getvalue(), "p-1.0.tar.gz")
    assert "setup.py" not in files and "setup.cfg" not in files
    meta = sdist.read_static("p", "1.0", files)
    assert meta.requires == ["six"] and meta.source == "p.egg-info/requires.txt"
    # a zip: the same members, sizes checked before reading
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr(
            "p-1.0/setup.py", "from setuptools import setup\nsetup(install_requires=['a>=1'])\n"
        )
    meta = sdist.read_static("p", "1.0", sdist.members(zbuf.getvalue(), "p-1.0.zip"))
    assert meta.requires == ["a>=1"] and meta.source == "setup.py"


def test_source_only_chains_are_read_before_uv_runs_and_an_undeclared_conflict_is_left_out(
    old_index: PackageIndex,
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import forkvet.envgen.resolve as resolve

    runs: list[list[str]] = []
    real = resolve.compile_

    def counted(reqs: list[str], *args: Any, **kwargs: Any) -> Any:
        runs.append(reqs)
        return real(reqs, *args, **kwargs)

    monkeypatch.setattr(resolve, "compile_", counted)
    # an undeclared import env resolves is a known import name (an unknown one is only a
    # comment): torrentlike stands for one of forkvet's table
    from forkvet.vet import importmap

    monkeypatch.setitem(importmap.MODULE_TO_DIST, "torrentlike", "torrentlike")
    repo = make_repo(
        {
            "requirements.txt": "lightlike==1.4.2\naugchain==0.4.3\n",
            "train.py": "import lightlike\nimport augchain\n",
            "data.py": "def fetch():\n    import torrentlike\n",
        },
        date="2017-12-01T10:00:00+00:00",
    )
    data = env(repo, tmp_path / "out", capsys, "--python", "3.6")
    pins = pins_of(data)
    # the three source-only releases were read before uv's first run, not one per run
    assert {"augchain", "imgchain", "leafchain"} <= set(pins), data["problems"]
    read = " ".join(p for p in data["problems"] if "only source releases for" in p)
    assert all(name in read for name in ("augchain", "imgchain", "leafchain")), read
    # the authors' pin stands; the undeclared import that cannot live with it is left out
    assert pins["lightlike"] == "1.4.2" and pins["futurelike"] == "0.17.1"
    assert "torrentlike" not in pins and data["complete"] is False
    assert any(
        p.startswith("torrentlike: imported by the code but not declared") for p in data["problems"]
    )
    assert len(runs) <= 3, runs
