"""Entry points, round 5 of issue 19: each general rule on a small repository of its own."""

from __future__ import annotations

import json
from collections.abc import Callable

from forkvet.report import Report
from forkvet.vet.entry_points import kind_of

Vet = Callable[..., Report]
MAIN = "import argparse\nif __name__ == '__main__':\n    argparse.ArgumentParser().parse_args()\n"
TRAIN = "import torch\nif __name__ == '__main__':\n    loss.backward()\n    optimizer.step()\n"
INFER = "import torch\nif __name__ == '__main__':\n    model.load_state_dict(torch.load(p))\n"


def _paths(entries: list) -> set[str]:  # type: ignore[type-arg]
    return {e.path for e in entries}


def test_names_that_say_what_a_script_does() -> None:
    # A noun before "train" names the part that trains, not an evaluation.
    assert kind_of("synthesizer_train") == "train"
    assert kind_of("detector_train") == "train"
    assert kind_of("evaluate_finetune") == "eval"  # the first word still decides
    # "preprocess" anywhere, dataset builders, archive extractors, hyphenated converters.
    assert kind_of("synthesizer_preprocess_audio") == "prepare"
    assert kind_of("build_pretraining_dataset") == "prepare"
    assert kind_of("build_openwebtext_pretraining_dataset") == "prepare"
    assert kind_of("extract_ILSVRC") == "prepare"
    assert kind_of("convert-pretrain-to-detectron2") == "prepare"
    assert kind_of("build_model") is None


def test_examples_and_parameter_servers_that_train(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "ddp/README.md": "# DDP\n\n```\ntorchrun --nproc_per_node=8 example.py\n```\n",
            "ddp/example.py": TRAIN,
            "rpc/parameter_server.py": TRAIN,
            "chat/example_chat.py": INFER,  # an example that runs a model stays a demo
        }
    )
    train, test = _paths(report.entry_points.train), _paths(report.entry_points.test)
    assert {"ddp/example.py", "rpc/parameter_server.py"} <= train
    assert not {"ddp/example.py", "rpc/parameter_server.py"} & test
    assert "chat/example_chat.py" in test


def test_a_generic_main_with_training_options_trains(vet_repo: Vet) -> None:
    # Options, not code: the loop lives in an imported train.py.
    main = (
        "import argparse\nfrom train import train, test\np = argparse.ArgumentParser()\n"
        "p.add_argument('--test-batch-size', type=int)\np.add_argument('--epochs', type=int)\n"
        "p.add_argument('--lr', type=float)\nif __name__ == '__main__':\n    run(p.parse_args())\n"
    )
    report = vet_repo({"hogwild/main.py": main, "hogwild/train.py": "def train():\n    pass\n"})
    assert "hogwild/main.py" in _paths(report.entry_points.train)
    assert "hogwild/main.py" not in _paths(report.entry_points.test)


def test_run_and_an_inline_script_is_a_command(vet_repo: Vet) -> None:
    readme = (
        "# T5\n\nRun `download_the_pile.py` to fetch the corpus. See `model.py` too.\n\n"
        "To encode images with the trained model, use `encode.py`. We use `layers.py` inside.\n"
    )
    fetch = "import tensorflow_datasets as tfds\nds = tfds.load('pile')\n"
    report = vet_repo(
        {
            "README.md": readme,
            "gpu/download_the_pile.py": fetch,
            "model.py": MAIN,
            "encode.py": INFER,
            "layers.py": TRAIN,
            # A scratch folder's scripts are no entries unless a page runs them.
            "playground/test_embedding/test_search.py": MAIN,
        }
    )
    assert _paths(report.entry_points.prepare) == {"gpu/download_the_pile.py"}
    assert [c.command for c in report.entry_points.commands] == [
        "python download_the_pile.py",
        "python encode.py",
    ]
    assert _paths(report.entry_points.test) == {"encode.py"}


def test_a_subcommand_says_what_one_script_does(vet_repo: Vet) -> None:
    readme = (
        "# Style\n\n```\npython neural_style.py train --dataset d --epochs 2\n"
        "python neural_style.py eval --content-image c.jpg --model m.pth\n```\n"
    )
    report = vet_repo({"README.md": readme, "neural_style.py": MAIN})
    assert "neural_style.py" in _paths(report.entry_points.train)
    assert "neural_style.py" in _paths(report.entry_points.test)


def test_what_is_generated_before_training_is_its_data(vet_repo: Vet) -> None:
    readme = (
        "# Sine\n\n```\npython generate_sine_wave.py\npython train.py\n```\n\n"
        "Samples:\n\n```\npython generate.py --checkpoint model.pt\n```\n"
    )
    report = vet_repo(
        {"README.md": readme, "generate_sine_wave.py": MAIN, "train.py": TRAIN, "generate.py": MAIN}
    )
    assert "generate_sine_wave.py" in _paths(report.entry_points.prepare)
    assert "generate.py" in _paths(report.entry_points.test)


def test_text_configs_and_configs_built_on_a_base(vet_repo: Vet) -> None:
    readme = (
        "# NeRF\n\n```\npython run_nerf.py --config configs/lego.txt\n```\n\n"
        "## Detection\n\n```\npython train_net.py --config-file det/voc_moco.yaml\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "run_nerf.py": TRAIN,
            "train_net.py": TRAIN,
            "configs/lego.txt": "expname = lego_test\ndatadir = ./data/lego\nN_rand = 1024\n",
            "det/Base-RCNN.yaml": "SOLVER:\n  BASE_LR: 0.02\n",
            "det/voc.yaml": '_BASE_: "Base-RCNN.yaml"\nSOLVER:\n  STEPS: (1, 2)\n',
            "det/voc_moco.yaml": '_BASE_: "voc.yaml"\nINPUT:\n  FORMAT: "RGB"\n',
            "det/coco.yaml": '_BASE_: "Base-RCNN.yaml"\nDATASETS:\n  TRAIN: ("coco",)\n',
            "det/lvis.yaml": "MODEL:\n  MASK_ON: True\n",  # built on nothing: not an experiment
        }
    )
    train = _paths(report.entry_points.train)
    assert {"configs/lego.txt", "det/voc_moco.yaml", "det/voc.yaml", "det/coco.yaml"} <= train
    assert not {"det/Base-RCNN.yaml", "det/lvis.yaml"} & train


def test_a_learning_rate_in_the_command_trains_from_a_checkpoint(vet_repo: Vet) -> None:
    readme = (
        "# MoCo\n\nWith a pre-trained model, train a linear classifier:\n\n```\n"
        "python main_lincls.py --lr 30.0 --pretrained ckpt/checkpoint_0199.pth.tar\n```\n"
    )
    report = vet_repo({"README.md": readme, "main_lincls.py": MAIN})
    assert _paths(report.entry_points.train) == {"main_lincls.py"}
    assert not report.entry_points.test


def test_demo_notebooks_in_the_docs_and_large_notebooks_that_train(vet_repo: Vet) -> None:
    cell: dict[str, object] = {
        "cell_type": "code",
        "metadata": {},
        "outputs": [],
        "execution_count": None,
    }
    demo = {"cells": [{**cell, "source": ["m = load_model(p)\n", "train_steps = 1\n"]}]}
    big = {
        "cells": [
            {**cell, "source": ["optimizer.apply_gradients(zip(g, v))\n"]},
            {"cell_type": "markdown", "metadata": {}, "source": ["x" * (3 * 1024 * 1024)]},
        ]
    }
    report = vet_repo(
        {
            "docs/graph/graph_demo.ipynb": json.dumps(demo),
            "docs/build_docs.ipynb": json.dumps(demo),  # not named for running the model
            "tiny_model.ipynb": json.dumps(big),
        }
    )
    test, train = _paths(report.entry_points.test), _paths(report.entry_points.train)
    assert "docs/graph/graph_demo.ipynb" in test  # `train_steps` is a widget, not a step
    assert "docs/build_docs.ipynb" not in test | train
    assert "tiny_model.ipynb" in train


def test_a_generic_script_that_only_runs_a_model_is_a_demo(vet_repo: Vet) -> None:
    readme = (
        "# Depth\n\n```\npython run.py --input_path input --output_path output\n```\n\n"
        "```\npython tf/run_onnx.py\n```\n\n"
        "Go:\n\n```\npython main.py\n```\n"
    )
    onnx = "import onnxruntime as rt\nif __name__ == '__main__':\n    rt.InferenceSession(p)\n"
    report = vet_repo(
        {"README.md": readme, "run.py": INFER, "tf/run_onnx.py": onnx, "main.py": MAIN}
    )
    test, train = _paths(report.entry_points.test), _paths(report.entry_points.train)
    assert {"run.py", "tf/run_onnx.py"} <= test
    assert not {"run.py", "tf/run_onnx.py"} & train
    assert "main.py" in train  # nothing said, nothing in its code: a main still trains


def test_data_generation_headings_feature_folders_and_setup_calls(vet_repo: Vet) -> None:
    readme = "# LM\n\n## Data generation\nFirst, grab the file.\n\n```\npython llama_data.py\n```\n"
    report = vet_repo(
        {
            "README.md": readme,
            "llama_data.py": MAIN,
            "python_features/extract_features.py": MAIN,
            "extract_features.py": MAIN,  # the repository's own model run: a demo
            # A library module that only extends sys.path at the top level.
            "eval_tasks/eval_adapter.py": "import sys\nsys.path.append('..')\nclass A:\n    pass\n",
        }
    )
    prepare, test = _paths(report.entry_points.prepare), _paths(report.entry_points.test)
    assert {"llama_data.py", "python_features/extract_features.py"} <= prepare
    assert "extract_features.py" in test
    assert "eval_tasks/eval_adapter.py" not in test


def test_uv_run_usage_sections_cog_and_folders_that_say_demo(vet_repo: Vet) -> None:
    readme = (
        "# Style\n\n## Running\n\nAfter that, you can run this program with:\n\n"
        "```\nuv run neural_style.py --content c.jpg --styles s.jpg\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "neural_style.py": MAIN,
            "cog.yaml": 'build:\n  gpu: true\npredict: "predict.py:Predictor"\n',
            "predict.py": "from cog import BasePredictor\nclass Predictor(BasePredictor): ...\n",
            "pkg/eval/run_pkg.py": MAIN,  # a runnable script in an eval folder evaluates
            "app/main.py": MAIN,  # a streamlit app's main
            "Separation.ipynb": json.dumps(
                {"cells": [{"cell_type": "code", "source": ["m = pretrained.get_model('x')\n"]}]}
            ),
        }
    )
    test = _paths(report.entry_points.test)
    assert {"neural_style.py", "predict.py", "pkg/eval/run_pkg.py", "app/main.py"} <= test
    assert "Separation.ipynb" in test  # runs a pretrained model
    assert not _paths(report.entry_points.train)


def test_downloads_converters_and_data_notebooks_prepare(vet_repo: Vet) -> None:
    readme = (
        "# SSD\n\n### Convert model to deploy mode\nThis removes the loss layers.\n\n"
        "```\npython deploy.py --num-class 20\n```\n"
    )
    fetch = (
        "pip install flask opencv-python\n# Get model weights\n"
        "curl https://example.org/graph.pb > graph.pb\n"
    )
    notebook = {"cells": [{"cell_type": "code", "source": ["m = load_model(p)\n"]}]}
    report = vet_repo(
        {
            "README.md": readme,
            "deploy.py": MAIN,
            "demo/script.sh": fetch,  # in a demo folder, but it only downloads
            "demo/run.sh": "curl https://example.org/x.pb > x.pb\npython server.py\n",
            "demo/server.py": MAIN,
            "tools/dataset/encode_dataset.ipynb": json.dumps(notebook),
            # A generic wrapper the folder README runs is what the Python it starts does.
            "conv/README.md": "# Converter\n\n```\n./run.sh vgg19\n```\n",
            "conv/run.sh": "wget $URL\npython convert_model.py deploy.prototxt vgg.caffemodel\n",
            "conv/convert_model.py": MAIN,
        }
    )
    prepare = _paths(report.entry_points.prepare)
    assert {"deploy.py", "demo/script.sh", "tools/dataset/encode_dataset.ipynb"} <= prepare
    assert "conv/run.sh" in prepare and "conv/run.sh" not in _paths(report.entry_points.train)
    assert "demo/run.sh" not in prepare  # it downloads, then runs the demo


def test_eval_configs_of_a_test_command_and_json_switches(vet_repo: Vet) -> None:
    readme = (
        "# T5\n\n```\npython train.py --gin_file=gins/base_train.gin\n"
        "python eval.py --gin_file=gins/base_eval.gin\n"
        "python eval.py --gin_file=gins/base.gin\n"
        "python sample.py --config sd/v2-inference.yaml\n```\n\n"
        "Evaluate only:\n\n```\npython run_finetuning.py --hparams "
        '\'{"do_train": false, "do_eval": true}\'\n```\n'
    )
    report = vet_repo(
        {
            "README.md": readme,
            "eval.py": MAIN,
            "run_finetuning.py": TRAIN,
            "train.py": TRAIN,
            "sample.py": MAIN,
            "gins/base_train.gin": "TRAIN_STEPS = 10\nBATCH_SIZE = 128\n",
            "gins/base_eval.gin": "EVAL_STEPS = 10\n",
            "gins/base.gin": "MODEL = @T5()\n",
            "sd/v2-inference.yaml": "model:\n  target: ldm.LatentDiffusion\n",
        }
    )
    test = {e.path: e for e in report.entry_points.test}
    # Named for evaluation, beside the training configs: one of the set of experiments.
    assert test["gins/base_eval.gin"].kind == "config"
    assert "gins/base.gin" not in test  # a test command's settings, not named for it
    assert "sd/v2-inference.yaml" not in test  # a folder of model settings, no experiments
    assert test["run_finetuning.py"].kind == "test"


def test_a_launcher_handed_a_training_config_trains(vet_repo: Vet) -> None:
    readme = (
        "# T5\n\nLaunch the xmanager script:\n\n```\n"
        "python3 ./scripts/xm_launch.py --gin_file=gins/from_scratch.gin --model_dir=$D\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "scripts/xm_launch.py": MAIN,
            "gins/from_scratch.gin": "TRAIN_STEPS = 100\nBATCH_SIZE = 128\n",
        }
    )
    assert {"scripts/xm_launch.py", "gins/from_scratch.gin"} <= _paths(report.entry_points.train)


def test_data_pages_nested_script_folders_and_wrapped_sentences(vet_repo: Vet) -> None:
    readme = (
        "# NMT\n\nWe will use the WMT16 data, you can download the data by the\n"
        "following command.\n\n```\nnmt/scripts/wmt16_en_de.sh /tmp/wmt16\n```\n"
    )
    datasets = "# Datasets\n\n```\npython -m audio.data.audio_dataset in/ out.jsonl\n```\n"
    report = vet_repo(
        {
            "README.md": readme,
            "nmt/scripts/wmt16_en_de.sh": "cd $1\nmake\n",
            "DATASETS.md": datasets,
            "audio/__init__.py": "",
            "audio/data/__init__.py": "",
            "audio/data/audio_dataset.py": "class D:\n    pass\n",
        }
    )
    prepare = _paths(report.entry_points.prepare)
    assert {"nmt/scripts/wmt16_en_de.sh", "audio/data/audio_dataset.py"} <= prepare


def test_a_hydra_training_scripts_config(vet_repo: Vet) -> None:
    train = (
        "import hydra\n\n"
        '@hydra.main(config_path="../conf", config_name="config", version_base="1.1")\n'
        "def main(cfg):\n    loss.backward()\n    optimizer.step()\n\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    report = vet_repo(
        {
            "pkg/train.py": train,
            "conf/config.yaml": "epochs: 360\noptim:\n  lr: 3e-4\n",
            "conf/model/big.yaml": "depth: 6\n",  # a group option, not the run's config
        }
    )
    train_paths = _paths(report.entry_points.train)
    assert {"pkg/train.py", "conf/config.yaml"} <= train_paths
    assert "conf/model/big.yaml" not in train_paths
