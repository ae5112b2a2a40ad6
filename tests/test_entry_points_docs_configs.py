"""Entry points from configs, documentation pages, `python -m`, data packages and libraries
(issue 19): each rule on a small repository of its own."""

from __future__ import annotations

from collections.abc import Callable

from forkvet.report import Report

Vet = Callable[..., Report]
MAIN = "import argparse\nif __name__ == '__main__':\n    argparse.ArgumentParser().parse_args()\n"
TRAIN = "import torch\nif __name__ == '__main__':\n    loss.backward()\n    optimizer.step()\n"
LAUNCH = "python -m torch.distributed.launch main.py --lr 4e-3"
HPARAMS = "lr: 0.0002\nbatch_size: 64\niterations: 250000\n"


def _paths(entries: list) -> set[str]:  # type: ignore[type-arg]
    return {e.path for e in entries}


def test_configs_a_training_command_passes_are_training_entries(vet_repo: Vet) -> None:
    readme = (
        "# GAN\n\n## Training\n\n```\npython train.py --config configs/sn_64.yml\n```\n\n"
        "For the 128px model use `configs/sn_128.yml`.\n\n"
        "## Sampling\n\n```\npython sample.py --config configs/sn_64.yml --ckpt out.npz\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "train.py": TRAIN,
            "sample.py": MAIN,
            "configs/sn_64.yml": HPARAMS,
            "configs/sn_128.yml": HPARAMS,
            "configs/sn_cifar.yml": HPARAMS,
            # A model's architecture, not an experiment: no learning rate, batch or steps.
            "configs/resnet_arch.yml": "depth_multiple: 0.33\nbackbone: [[-1, 1, Conv]]\n",
        }
    )
    train = {e.path: e for e in report.entry_points.train}
    assert train["configs/sn_64.yml"].kind == "config"
    assert train["configs/sn_64.yml"].command == "python train.py --config configs/sn_64.yml"
    # Two configs of the folder named in the README: the folder is a set of experiments.
    assert {"configs/sn_128.yml", "configs/sn_cifar.yml"} <= set(train)
    assert "configs/resnet_arch.yml" not in train
    # A config handed to a sampling command is its settings, not a training entry.
    assert "configs/sn_64.yml" not in _paths(report.entry_points.test)


def test_a_yaml_handed_to_any_option_of_a_training_command_is_its_config(vet_repo: Vet) -> None:
    """`python main.py --fname configs/x.yaml` (I-JEPA): the option's name is the author's
    own; a YAML file that sets how to train is the experiment. A data set's description
    handed to `--data` is not (it sets no learning rate, batch or steps)."""
    readme = (
        "# JEPA\n\n```\npython main.py --fname configs/vit_ep300.yaml --data data/coco.yaml\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "main.py": TRAIN,
            "configs/vit_ep300.yaml": HPARAMS,
            "data/coco.yaml": "path: ../datasets/coco\nnames: [person, car]\n",
        }
    )
    train = {e.path: e for e in report.entry_points.train}
    assert train["configs/vit_ep300.yaml"].kind == "config"
    assert "data/coco.yaml" not in train


def test_one_named_config_does_not_bring_its_siblings(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "README.md": "# X\n\nTrain:\n\n```\npython tools/train.py --cfg cfgs/coco.yaml\n```\n",
            "tools/train.py": TRAIN,
            "cfgs/coco.yaml": HPARAMS,
            "cfgs/voc.yaml": HPARAMS,
        }
    )
    train = _paths(report.entry_points.train)
    assert "cfgs/coco.yaml" in train
    assert "cfgs/voc.yaml" not in train


def test_a_linked_config_folder_and_shell_variables(vet_repo: Vet) -> None:
    readme = (
        "# NMT\n\nWe provide [a set of standard hparams](nmt/hparams/).\n\n"
        "```\nCONFIG=nmt/hparams/wmt16.json\n"
        "python -m nmt.nmt --hparams_path=$CONFIG --out_dir=/tmp/m\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "nmt/__init__.py": "",
            "nmt/nmt.py": TRAIN,
            "nmt/hparams/wmt16.json": '{"learning_rate": 1.0, "num_train_steps": 340000}',
            "nmt/hparams/iwslt15.json": '{"learning_rate": 1.0, "batch_size": 128}',
        }
    )
    train = _paths(report.entry_points.train)
    assert {"nmt/nmt.py", "nmt/hparams/wmt16.json", "nmt/hparams/iwslt15.json"} <= train


def test_caffe_solvers_in_every_model_folder(vet_repo: Vet) -> None:
    readme = (
        "# Models\n\nTrain with `caffe train --solver train.solver --gpu 0` and evaluate with "
        "`caffe train --solver test.solver --gpu 0` inside a model's folder.\n"
    )
    solver = 'net: "train.prototxt"\nbase_lr: 0.01\nmax_iter: 450000\n'
    report = vet_repo(
        {
            "README.md": readme,
            "AlexNet/train.solver": solver,
            "AlexNet/test.solver": solver,
            "VGG19/train.solver": solver,
            "VGG19/test.solver": solver,
        }
    )
    assert _paths(report.entry_points.train) == {"AlexNet/train.solver", "VGG19/train.solver"}
    assert {"AlexNet/test.solver", "VGG19/test.solver"} <= _paths(report.entry_points.test)


def test_pages_named_for_running_and_folder_readmes(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "README.md": "# ConvNet\n\nSee the install notes.\n",
            "TRAINING.md": "# Training\n\n```\n" + LAUNCH + "\n```\n",
            "docs/get_started.md": "# Eval\n\n```\npython evaluate_model.py --ckpt m.pth\n```\n",
            "main.py": TRAIN,
            "evaluate_model.py": MAIN,
            "chat/README.md": "```\ntorchrun --nproc_per_node=8 train.py config.yaml\n```",
            "chat/train.py": TRAIN,
            "chat/config.yaml": "learning_rate: 2.0e-05\nnum_train_epochs: 3\n",
            "tests/README.md": "```\npython3 test_cli.py\n```\n",
            "tests/test_cli.py": MAIN,
        }
    )
    train = {e.path: e.command for e in report.entry_points.train}
    assert train["main.py"] == LAUNCH
    assert train["chat/train.py"] and train["chat/config.yaml"]
    test = _paths(report.entry_points.test)
    assert "evaluate_model.py" in test
    # A unit-test folder's README does not make its tests demos.
    assert "tests/test_cli.py" not in test


def test_the_english_pages_of_documentation_kept_by_language(vet_repo: Vet) -> None:
    """docs/en/inference.md (fishaudio/fish-speech, round-9 dev): a run-doc one language
    folder down is read like docs/inference.md; other languages repeat its commands."""
    page = "# Inference\n\n```\npython pkg/models/dac/inference.py -i in.wav\n```\n"
    report = vet_repo(
        {
            "README.md": "# TTS\n\nSee the documentation.\n",
            "docs/en/inference.md": page,
            "docs/zh/inference.md": page.replace("in.wav", "zh.wav"),
            "pkg/__init__.py": "",
            "pkg/models/__init__.py": "",
            "pkg/models/dac/__init__.py": "",
            "pkg/models/dac/inference.py": MAIN,
        }
    )
    commands = {c.command for c in report.entry_points.commands}
    assert "python pkg/models/dac/inference.py -i in.wav" in commands
    assert "python pkg/models/dac/inference.py -i zh.wav" not in commands
    assert "pkg/models/dac/inference.py" in _paths(report.entry_points.test)


def test_python_m_package_runs_the_module_its_main_hands_over_to(vet_repo: Vet) -> None:
    readme = (
        "# Separator\n\nIf you just wish to separate tracks, not train it, run\n\n"
        "```\npython3 -m sep -d cpu PATH_TO_AUDIO\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "sep/__init__.py": "",
            "sep/__main__.py": "from .separate import main\nif __name__ == 1:\n    main()\n",
            "sep/separate.py": "def main():\n    pass\n",
            "sep/train.py": TRAIN,
        }
    )
    test = _paths(report.entry_points.test)
    assert {"sep/__main__.py", "sep/separate.py"} <= test
    assert "sep/__main__.py" not in _paths(report.entry_points.train)


def test_data_package_modules_count_when_documented(vet_repo: Vet) -> None:
    guarded = "if __name__ == '__main__':\n    print(1)\n"
    readme = (
        "# Chat\n\n## Data cleaning\n\n```\npython3 -m chat.data.clean_html --in a.json\n"
        "python3 -m chat.data.split_long --in b.json\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "chat/__init__.py": "",
            "chat/data/__init__.py": "",
            "chat/data/clean_html.py": guarded,
            "chat/data/split_long.py": guarded,
            "chat/data/pretty_json.py": guarded,
            "chat/data/inspect_data.py": guarded,
            # A plain data folder (no package): its scripts make data, unless other files
            # import them (a data set class with a main-guarded self-test).
            "datasets/lsun_bedroom.py": guarded,
            "datasets/laion_dataset.py": guarded,
            "train.py": "from datasets.laion_dataset import Laion\n" + TRAIN,
        }
    )
    prepare = _paths(report.entry_points.prepare)
    assert {"chat/data/clean_html.py", "chat/data/split_long.py"} <= prepare
    assert "datasets/lsun_bedroom.py" in prepare
    assert "datasets/laion_dataset.py" not in prepare
    assert "chat/data/pretty_json.py" not in prepare


def test_imported_training_code_and_utils_are_not_entries(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "README.md": "# LM\n",
            "main.py": "from splitcross import Loss\nimport model_utils\n" + TRAIN,
            "splitcross.py": "import torch\nif __name__ == '__main__':\n    l.backward()\n",
            "model_utils.py": "import tensorflow as tf\nflags.DEFINE_string('x', '', '')\n"
            "opt.minimize(loss)\n",
            "prepro_utils.py": "import argparse\nargparse.ArgumentParser().parse_args()\n",
        }
    )
    ep = report.entry_points
    assert _paths(ep.train) == {"main.py"}
    assert "prepro_utils.py" not in _paths(ep.prepare)


def test_a_data_preparation_section_and_quoted_commands(vet_repo: Vet) -> None:
    readme = (
        "# SR\n\n## Train\n\n### Dataset Preparation\n\n"
        "#### Step 1: Generate multi-scale images\n\n"
        "```\npython scripts/generate_multiscale.py --input hr --output ms\n```\n\n"
        "### Project images\n\n> python projector.py --ckpt [CHECKPOINT] FILE1\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "scripts/generate_multiscale.py": MAIN,
            "projector.py": "import torch\nif __name__ == '__main__':\n    loss.backward()\n",
        }
    )
    ep = report.entry_points
    assert "scripts/generate_multiscale.py" in _paths(ep.prepare)
    assert "scripts/generate_multiscale.py" not in _paths(ep.test)
    # Handed a trained checkpoint, the optimisation loop runs a model: a demo.
    assert "projector.py" in _paths(ep.test)
    assert "projector.py" not in _paths(ep.train)


def test_wrappers_offered_examples_and_visualisations(vet_repo: Vet) -> None:
    readme = (
        "# GANs\n\nPlease see `example.sh` to train other algorithms.\n\n"
        "Look at the attention of a trained model:\n\n```\npython visualize_attention.py\n```\n\n"
        "Plot the curves:\n\n```\npython plot_curves.py\n```\n\n"
        "The evaluation lives in `eval_utils.lua`.\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "example.sh": "python train.py --algorithm dcgan\n",
            "train.py": TRAIN,
            "visualize_attention.py": "import torch\nm.load_state_dict(torch.load(p))\n",
            "plot_curves.py": "import matplotlib\nplt.plot(x)\n",
            "eval_utils.lua": "local M = {}\nfunction M.f() end\nreturn M\n",
            # Trains, then evaluates what it trained.
            "scripts/race.sh": "python run_race.py \\\n  --do_train=True \\\n  --do_eval=True\n",
            "run_race.py": TRAIN,
        }
    )
    ep = report.entry_points
    train, test = _paths(ep.train), _paths(ep.test)
    assert {"example.sh", "scripts/race.sh"} <= train
    assert "example.sh" not in test and "scripts/race.sh" not in test
    assert "visualize_attention.py" in test
    assert "plot_curves.py" not in test
    assert "eval_utils.lua" not in test


def test_a_model_path_runs_a_model_and_a_model_dir_is_output(vet_repo: Vet) -> None:
    readme = (
        "# Chat\n\nTalk to it:\n\n```\npython3 -m chat.cli --model-path lmsys/vicuna-7b\n```\n\n"
        "Then train your own:\n\n```\npython run.py --train_mode=pretrain --model_dir=/tmp/m\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "chat/__init__.py": "",
            "chat/cli.py": MAIN,
            "run.py": MAIN,
        }
    )
    ep = report.entry_points
    assert "chat/cli.py" in _paths(ep.test)
    assert "chat/cli.py" not in _paths(ep.train)
    assert "run.py" in _paths(ep.train)


def test_a_serving_folder_the_readme_runs_keeps_what_it_runs(vet_repo: Vet) -> None:
    readme = (
        "# Chat\n\n## Serving\n\n```\npython3 -m chat.serve.controller\n"
        "python3 -m chat.serve.model_worker --model-path org/model\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "chat/__init__.py": "",
            "chat/serve/__init__.py": "",
            "chat/serve/controller.py": MAIN,
            "chat/serve/model_worker.py": MAIN,
            "chat/serve/register_worker.py": MAIN,
            "web/server/app_worker.py": MAIN,  # a folder the README runs nothing from
        }
    )
    test = _paths(report.entry_points.test)
    assert {"chat/serve/controller.py", "chat/serve/model_worker.py"} <= test
    assert "chat/serve/register_worker.py" not in test
    assert "web/server/app_worker.py" in test


def test_metric_scripts_and_score_sections_evaluate(vet_repo: Vet) -> None:
    readme = "# LM\n\n#### Step 3. Show MT-bench scores\n\n```\npython show_result.py\n```\n"
    report = vet_repo({"README.md": readme, "show_result.py": MAIN, "scripts/image_nll.py": MAIN})
    test = _paths(report.entry_points.test)
    assert {"show_result.py", "scripts/image_nll.py"} <= test


def test_hostile_pages_stay_linear() -> None:
    """Thousands of headings and inline spans, a huge shell variable used hundreds of times,
    and a folder named thousands of times: each rule stays linear in the text."""
    import time

    from forkvet.vet.entry_points import _names_folder, readme_commands

    heads = "".join(f"## Data preparation {i}\n\n`python gen_{i}.py`\n\n" for i in range(20_000))
    block = "```\nX=" + "a" * 200 + "\npython train.py " + "$X " * 130 + "\n```\n"
    start = time.perf_counter()
    commands = readme_commands(heads + block, "README.md")
    assert commands and all(len(c.command) <= 1000 + 200 for c in commands)
    assert not _names_folder("configs/x " * 100_000, "configs")
    assert time.perf_counter() - start < 8.0


def test_a_heading_that_also_runs_the_model_does_not_prepare(vet_repo: Vet) -> None:
    readme = (
        "# X\n\n## Download the weights and run the demo\n\n```\npython demo_app.py\n```\n\n"
        "## Data\n\n### Data preparation\n\n```\npython generate_pairs.py\n```\n"
    )
    report = vet_repo({"README.md": readme, "demo_app.py": MAIN, "generate_pairs.py": MAIN})
    ep = report.entry_points
    assert "demo_app.py" in _paths(ep.test)
    assert "generate_pairs.py" in _paths(ep.prepare)
