"""Declared and imported dependencies, mapped to real PyPI names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from forkvet.report import Report
from forkvet.vet.declared import parse_requirement
from forkvet.vet.importmap import dist_for_module

Vet = Callable[..., Report]


def test_ml_import_names_map_to_real_distributions() -> None:
    assert dist_for_module("cv2") == ("opencv-python", True)
    assert dist_for_module("PIL.Image") == ("pillow", True)
    assert dist_for_module("sklearn.metrics") == ("scikit-learn", True)
    assert dist_for_module("skimage.io") == ("scikit-image", True)
    assert dist_for_module("yaml") == ("pyyaml", True)
    assert dist_for_module("google.protobuf.text_format") == ("protobuf", True)
    assert dist_for_module("caffe") == (None, True)
    assert dist_for_module("somethingnew") == ("somethingnew", False)


def test_imports_stdlib_local_and_optional(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "train.py": (
                "import os, sys, json\nimport numpy as np\nimport cv2\nfrom PIL import Image\n"
                "from models.net import Net\nimport utils\n"
                "try:\n    import apex\nexcept ImportError:\n    apex = None\n"
                "try:\n    import wandb\nexcept ImportError:\n    wandb = None\n"
            ),
            "models/net.py": "import torch.nn as nn\nfrom skimage import io\n",
            "utils.py": "import yaml\nimport sklearn\n",
            "requirements.txt": "numpy>=1.15\nopencv-python-headless\nPyYAML==5.1\nrequests\n",
        }
    )
    deps = report.dependencies
    assert set(deps.imported) == {
        "numpy",
        "opencv-python",
        "pillow",
        "torch",
        "scikit-image",
        "pyyaml",
        "scikit-learn",
        "wandb",
    }
    assert "wandb" in deps.optional
    assert set(deps.missing) == {"pillow", "torch", "scikit-image", "scikit-learn"}
    assert deps.unused == ["requests"]
    assert deps.declared_specs["pyyaml"] == "==5.1"
    assert deps.imported_at["opencv-python"] == ["train.py:3"]
    assert any(
        f.title == "Dependencies not on the package index" and "apex" in f.message
        for f in report.findings
    )


def test_setup_py_is_read_not_run(vet_repo: Vet, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    setup = (
        f"import os\nos.system('touch {marker}')\nfrom setuptools import setup\n"
        "REQS = ['numpy>=1.16', 'torch==1.2.0']\n"
        "setup(name='net', install_requires=REQS + ['tqdm'], python_requires='>=3.6',\n"
        "      extras_require={'dev': ['pytest']})\n"
    )
    report = vet_repo({"setup.py": setup, "net/__init__.py": "import numpy, torch, tqdm\n"})
    assert not marker.exists()
    deps = report.dependencies
    assert deps.declared_specs["torch"] == "==1.2.0"
    assert set(deps.declared) == {"numpy", "torch", "tqdm", "pytest"}
    assert deps.missing == [] and deps.unused == []


def test_conda_environment_pipfile_pyproject_and_readme(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "environment.yml": (
                "name: net\nchannels: [pytorch]\ndependencies:\n  - python=3.6\n"
                "  - pytorch=0.4.1\n  - cudatoolkit=9.0\n  - pip\n  - pip:\n"
                "    - tensorboardX==1.4\n"
            ),
            "Pipfile": '[packages]\nscipy = "==1.1.0"\n[dev-packages]\nflake8 = "*"\n',
            "pyproject.toml": '[project]\nname = "x"\ndependencies = ["einops>=0.3"]\n',
            "README.md": "```\npip install -r requirements.txt\n"
            "pip install matplotlib==2.2.3 'tqdm>=4'\n"
            "conda install -c conda-forge opencv=3.4.2\n```\n",
            "m.py": "import torch, tensorboardX, scipy, einops, matplotlib, tqdm, cv2\n",
        }
    )
    specs = report.dependencies.declared_specs
    assert specs["torch"] == "==0.4.1" and specs["tensorboardx"] == "==1.4"
    assert specs["scipy"] == "==1.1.0" and specs["einops"] == ">=0.3"
    assert specs["matplotlib"] == "==2.2.3" and specs["opencv-python"] == "==3.4.2"
    assert "cudatoolkit" not in specs
    assert report.dependencies.missing == []
    assert "environment.yml" in report.dependencies.files


def test_requirements_include_and_bad_lines() -> None:
    assert parse_requirement("torch==0.4.1.post2") == ("torch", "==0.4.1.post2")
    assert parse_requirement("tensorflow-gpu >= 1.12, <2") == ("tensorflow-gpu", "<2,>=1.12")
    assert parse_requirement("git+https://github.com/o/pkg.git#egg=my_pkg")[0] == "my-pkg"
    assert parse_requirement("-e git+https://github.com/openai/CLIP.git@main#egg=clip")[0] == "clip"
    assert parse_requirement("opencv-python 3.4.2.17") == ("opencv-python", "==3.4.2.17")
    assert parse_requirement("# comment") is None


def test_requirements_dash_r_is_followed(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "requirements.txt": "-r requirements/base.txt\n",
            "requirements/base.txt": "numpy==1.14.0\n",
            "m.py": "import numpy\n",
        }
    )
    assert report.dependencies.declared_specs == {"numpy": "==1.14.0"}


def test_notebook_imports_and_pip_lines(vet_repo: Vet) -> None:
    nb = (
        '{"cells": [{"cell_type": "code", "source": ["!pip install timm==0.4.12\\n", '
        '"import timm\\n", "%matplotlib inline\\n", "import matplotlib.pyplot as plt"]}], '
        '"metadata": {}, "nbformat": 4, "nbformat_minor": 2}'
    )
    report = vet_repo({"demo.ipynb": nb})
    deps = report.dependencies
    assert set(deps.imported) == {"timm", "matplotlib"}
    assert deps.declared_specs == {"timm": "==0.4.12"} and deps.missing == ["matplotlib"]


def test_guessed_name_is_flagged_or_covered_by_declared(vet_repo: Vet) -> None:
    report = vet_repo(
        {"m.py": "import bert\nimport zzfancylib\n", "requirements.txt": "bert-tensorflow==1.0.1\n"}
    )
    deps = report.dependencies
    assert "bert-tensorflow" in deps.imported and "bert" not in deps.missing
    assert deps.unmapped == ["zzfancylib"]


def test_a_prefixed_conda_environment_file(vet_repo: Vet) -> None:
    env = "name: tinylm\ndependencies:\n  - python=3.10\n  - pip:\n    - flax==0.7.0\n"
    rl_env = "name: cartpole\nmax_steps: 200\n"
    report = vet_repo(
        {
            "README.md": "# tinylm\n\nconda env create -f scripts/gpu_environment.yml\n",
            "scripts/gpu_environment.yml": env,
            "configs/cartpole_env.yaml": rl_env,
            "tinylm/train.py": "import flax\n",
        }
    )
    assert "scripts/gpu_environment.yml" in report.dependencies.files
    assert "configs/cartpole_env.yaml" not in report.dependencies.files
    assert "flax" in report.dependencies.declared
