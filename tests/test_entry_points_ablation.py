"""Entry-point rules narrowed after the dev ablation (benchmarks/ablate_entries.py), and the
ablation's switches themselves: each rule on a small repository of its own."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from forkvet.report import Report

Vet = Callable[..., Report]
ROOT = Path(__file__).resolve().parent.parent


def _paths(entries: list) -> set[str]:  # type: ignore[type-arg]
    return {e.path for e in entries}


def test_a_lua_script_that_declares_its_loss_classes_is_still_a_script(vet_repo: Vet) -> None:
    # neural_style.lua: the losses are torch classes inside the script, which then parses
    # its command line at the top level and runs; module.lua parses inside a function.
    script = (
        "require 'torch'\nlocal cmd = torch.CmdLine()\ncmd:option('-style_image', 'a.jpg')\n"
        "local function main(params)\n  print(params)\nend\n"
        "local Gram, parent = torch.class('nn.GramMatrix', 'nn.Module')\n"
        "local params = cmd:parse(arg)\nmain(params)\n"
    )
    module = (
        "require 'torch'\nlocal Beam = torch.class('Beam')\n"
        "local function opts()\n  local cmd = torch.CmdLine()\n  opt = cmd:parse(arg)\nend\n"
        "function Beam:search() end\n"
    )
    report = vet_repo(
        {
            "README.md": "# Style\n\nA neural style transfer.\n",
            "stylize_image.lua": script,
            "translate_beam.lua": module,
            "demo_layers.lua": "require 'nn'\nlocal L = torch.class('nn.Foo', 'nn.Module')\n",
        }
    )
    test = _paths(report.entry_points.test)
    assert "stylize_image.lua" in test
    assert "demo_layers.lua" not in test  # a class other files require
    assert "translate_beam.lua" not in test


def _ablation() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ablate_entries", ROOT / "benchmarks" / "ablate_entries.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ablate_entries"] = module
    spec.loader.exec_module(module)
    return module


def test_every_ablation_switch_still_names_a_rule_of_the_module() -> None:
    # A rule renamed in entry_points.py must not leave the benchmark switching nothing off.
    ablation = _ablation()
    for rule in ablation.RULES:
        with ablation.switched_off(rule):
            pass
    with pytest.raises(SystemExit):
        ablation._without("_TEST", "no such alternative")


def test_a_module_that_only_sets_the_plotting_backend_is_no_script(vet_repo: Vet) -> None:
    # evaluate/eval_metric.py: metric classes the evaluation imports; setting matplotlib's
    # backend at import time runs nothing. evaluate/eval_plot.py plots at the top level.
    metric = (
        "import matplotlib\nmatplotlib.use('Agg')\nimport numpy as np\n\n"
        "class MApMetric:\n    def update(self, labels, preds):\n        pass\n"
    )
    plot = "import matplotlib\nmatplotlib.use('Agg')\nimport numpy as np\nevaluate_all('runs/')\n"
    report = vet_repo(
        {
            "README.md": "# Detector\n\nA single-shot detector.\n",
            "evaluate/__init__.py": "",
            "evaluate/eval_metric.py": metric,
            "evaluate/eval_plot.py": plot,
        }
    )
    test = _paths(report.entry_points.test)
    assert "evaluate/eval_metric.py" not in test
    assert "evaluate/eval_plot.py" in test


def test_a_data_sets_label_maker_prepares(vet_repo: Vet) -> None:
    # scripts/voc_label.py (darknet, copied into YOLO repositories) writes the label files
    # training reads; a name that says train or predict still decides.
    main = "import os\nif __name__ == '__main__':\n    os.makedirs('labels')\n"
    report = vet_repo(
        {
            "README.md": "# Detector\n\nA real-time detector.\n",
            "scripts/voc_label.py": main,
            "scripts/imagenet_label.sh": "#!/bin/sh\nmkdir -p labels\nls val > labels.txt\n",
            "predict_label.py": main,
            "train_labels.py": main,
        }
    )
    ep = report.entry_points
    prepare = _paths(ep.prepare)
    assert {"scripts/voc_label.py", "scripts/imagenet_label.sh"} <= prepare
    assert "predict_label.py" in _paths(ep.test)
    assert "train_labels.py" in _paths(ep.train)


def test_python_m_runs_a_src_layout_package_and_each_subcommand_module(vet_repo: Vet) -> None:
    # `python -m tool kontext` runs src/tool/__main__.py once installed, which hands each
    # subcommand to a module's main(): those modules are what runs.
    main = (
        "from fire import Fire\n\nfrom .cli import main as t2i\n"
        "from .cli_fill import main as fill\n\n"
        "if __name__ == '__main__':\n    Fire({'t2i': t2i, 'fill': fill})\n"
    )
    files = {
        "README.md": "# Tool\n\n## Usage\n\n```bash\npython -m tool fill --loop\n```\n",
        "src/tool/__init__.py": "",
        "src/tool/__main__.py": main,
        "src/tool/cli.py": "def main():\n    pass\n",
        "src/tool/cli_fill.py": "def main():\n    pass\n",
        "src/tool/util.py": "x = 1\n",
    }
    report = vet_repo(files)
    tests = {e.path for e in report.entry_points.test}
    assert {"src/tool/__main__.py", "src/tool/cli.py", "src/tool/cli_fill.py"} <= tests
    assert "src/tool/util.py" not in tests


def test_a_training_script_the_readme_runs_to_evaluate_is_both(vet_repo: Vet) -> None:
    # `python main_finetune.py --eval true`: the README evaluates with the script whose
    # name says it trains; it is a training entry and a test entry.
    code = "import argparse\n\nif __name__ == '__main__':\n    argparse.ArgumentParser()\n"
    readme = "# M\n\n## Evaluation\n\n```\npython main_finetune.py --eval true --resume ckpt\n```\n"
    report = vet_repo({"README.md": readme, "main_finetune.py": code})
    assert "main_finetune.py" in {e.path for e in report.entry_points.train}
    assert "main_finetune.py" in {e.path for e in report.entry_points.test}
