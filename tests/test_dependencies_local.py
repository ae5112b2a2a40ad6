"""Dependencies never map an import to an unrelated distribution: the repository itself,
local folders, repositories the README clones, and index names that are someone else's."""

from __future__ import annotations

import json
from collections.abc import Callable

from forkvet.report import Report

Vet = Callable[..., Report]


def _nb_shell(*lines: str) -> str:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "source": "\n".join(lines)}
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]})


def test_the_repository_itself_and_local_folders_are_local(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            # A Colab notebook that clones the repository and imports it by its name.
            "run_DiT.ipynb": _nb_shell(
                "!git clone https://github.com/facebookresearch/DiT.git", "import DiT, os"
            ),
            # A top-level folder of Python without __init__.py, named like an index package.
            "datasets/coco.py": "import numpy\n",
            "train.py": "import torch\nfrom datasets import coco\nimport helpers.io\n",
            "helpers/io.py": "x = 1\n",
        },
        name="DiT",
    )
    deps = report.dependencies
    assert "dit" not in deps.imported and "datasets" not in deps.imported
    assert "helpers" not in deps.imported
    assert deps.imported == ["numpy", "torch"]


def test_cloned_repositories_become_git_requirements(vet_repo: Vet) -> None:
    readme = (
        "# Zero-shot seg\n\n```\ngit clone https://github.com/openai/CLIP.git\n"
        "pip install git+https://github.com/facebookresearch/segment-anything-2.git@main\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "demo.py": "import clip\nimport torch\n",
            "seg.py": "import segment_anything_2\n",
        }
    )
    deps = report.dependencies
    assert deps.git_requirements == {
        "clip": "git+https://github.com/openai/CLIP.git",
        "segment_anything_2": "git+https://github.com/facebookresearch/segment-anything-2.git",
    }
    assert "clip" not in deps.imported
    assert "clip" not in deps.missing and "clip" not in deps.unmapped
    assert deps.imported == ["torch"]
    # Without a clone line, PyPI's unrelated "clip" is still not the answer.
    alone = vet_repo({"demo.py": "import clip\n"}, name="alone").dependencies
    assert alone.git_requirements == {"clip": "git+https://github.com/openai/CLIP.git"}
    assert alone.imported == [] and alone.unmapped == []


def test_known_names_map_to_their_projects(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "detect.py": "from ultralytics import YOLO\nfrom google.protobuf import text_format\n",
            "requirements.txt": "ultralytics\nprotobuf\n",
        }
    )
    deps = report.dependencies
    assert deps.imported == ["protobuf", "ultralytics"]
    assert deps.unmapped == [] and deps.missing == []
