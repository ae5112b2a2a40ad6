"""Entry points a person would name: README commands, names, MATLAB/Lua, notebooks, Python 2."""

from __future__ import annotations

import json
from collections.abc import Callable

from forkvet.report import Report
from forkvet.vet.entry_points import kind_of

Vet = Callable[..., Report]
MAIN = "import argparse\nif __name__ == '__main__':\n    argparse.ArgumentParser().parse_args()\n"


def _paths(entries: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(e.path for e in entries)


def _nb(*cells: str) -> str:
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {"cell_type": "code", "metadata": {}, "source": c, "outputs": []} for c in cells
            ],
        }
    )


def test_readme_commands_become_entries_with_their_arguments(vet_repo: Vet) -> None:
    readme = (
        "# GAN\n\nTrain on your images:\n\n"
        "```\nDATA_ROOT=celebA dataset=folder th main.lua\n```\n\n"
        "Then sample with `gpu=0 net=ckpt.t7 th sample_images.lua` or run the live demo:\n\n"
        "    qlua live.lua -model m.t7\n\n"
        "Evaluate with `python -m gan.score --ckpt out/last.pt`.\n\n"
        "To train the full model:\n\n```sh\nbash scripts/run_full.sh 0 vgg16\n```\n\n"
        "Unit tests: `python -m unittest discover tests`\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "main.lua": "require 'torch'\n",
            "sample_images.lua": "require 'torch'\n",
            "live.lua": "require 'torch'\n",
            "gan/__init__.py": "",
            "gan/score.py": MAIN,
            "scripts/run_full.sh": "th main.lua\n",
            "tests/test_gan.py": "def test_x():\n    assert True\n",
        }
    )
    ep = report.entry_points
    train = {e.path: e.command for e in ep.train}
    assert train["main.lua"] == "DATA_ROOT=celebA dataset=folder th main.lua"
    # The sentence before a shell script's command says it trains.
    assert train["scripts/run_full.sh"] == "bash scripts/run_full.sh 0 vgg16"
    test = {e.path: e.command for e in ep.test}
    assert test["sample_images.lua"] == "gpu=0 net=ckpt.t7 th sample_images.lua"
    assert test["gan/score.py"] == "python -m gan.score --ckpt out/last.pt"
    assert test["tests"] == "python -m unittest discover tests"
    assert "live.lua" not in train
    assert "qlua live.lua -model m.t7" in {c.command for c in ep.commands}


def test_pretrained_is_a_demo_not_training(vet_repo: Vet) -> None:
    ep = vet_repo(
        {
            "pretrained_example.py": MAIN,
            "load_pretrained.py": MAIN,
            "run_pretraining.py": MAIN,
            "finetune.py": MAIN,
        }
    ).entry_points
    assert _paths(ep.train) == ["finetune.py", "run_pretraining.py"]
    assert _paths(ep.test) == ["load_pretrained.py", "pretrained_example.py"]
    assert {e.path: e.kind for e in ep.test}["pretrained_example.py"] == "demo"


def test_eval_benchmark_and_tool_test_scripts(vet_repo: Vet) -> None:
    ep = vet_repo(
        {
            "val.py": MAIN,
            "bench.py": MAIN,
            "example_caption.py": MAIN,
            "eval_coco.py": MAIN,
            "tools/test_net.py": MAIN,
            # Unit tests are not entry points, wherever they are.
            "test_utils.py": "import unittest\nclass T(unittest.TestCase):\n    pass\n",
            "tools/test_io.py": "import pytest\ndef test_io():\n    assert True\n",
            "interval.py": MAIN,
        }
    ).entry_points
    assert _paths(ep.test) == [
        "bench.py",
        "eval_coco.py",
        "example_caption.py",
        "tools/test_net.py",
        "val.py",
    ]
    kinds = {e.path: e.kind for e in ep.test}
    assert kinds["val.py"] == "eval" and kinds["example_caption.py"] == "demo"


def test_data_preparation_is_its_own_kind(vet_repo: Vet) -> None:
    readme = "```\npython data/shakespeare/prepare.py\nth data/crop_faces.lua\n```\n"
    ep = vet_repo(
        {
            "README.md": readme,
            "data/shakespeare/prepare.py": "print('x')\n",
            "data/crop_faces.lua": "require 'image'\n",
            "create_pretraining_data.py": MAIN,
            "dataset_tool.py": MAIN,
            "train.py": MAIN,
        }
    ).entry_points
    assert _paths(ep.prepare) == [
        "create_pretraining_data.py",
        "data/crop_faces.lua",
        "data/shakespeare/prepare.py",
        "dataset_tool.py",
    ]
    assert _paths(ep.train) == ["train.py"] and ep.test == []


def test_matlab_and_lua_entry_points(vet_repo: Vet) -> None:
    ep = vet_repo(
        {
            "demo.m": "net = caffe.Net('deploy.prototxt', 'w.caffemodel', 'test');\n",
            "matlab/train_cnn.m": "function train_cnn()\nend\n",
            "train.lua": "require 'nn'\n",
            "test/layer_test.lua": "require 'nn'\n",
            "ios/demo.m": "#import <UIKit/UIKit.h>\n@implementation X\n@end\n",
        }
    ).entry_points
    assert _paths(ep.train) == ["matlab/train_cnn.m", "train.lua"]
    assert _paths(ep.test) == ["demo.m"]


def test_notebooks_by_content(vet_repo: Vet) -> None:
    ep = vet_repo(
        {
            "Finetune_on_your_data.ipynb": _nb("import torch", "loss.backward()"),
            "Interacting.ipynb": _nb("import clip", "model, pre = clip.load('ViT-B/32')"),
            "scaling_laws.ipynb": _nb("import matplotlib.pyplot as plt", "plt.plot([1, 2])"),
            "own_loop.ipynb": _nb("for epoch in range(3):\n    optimizer.step()"),
        }
    ).entry_points
    assert _paths(ep.train) == ["Finetune_on_your_data.ipynb", "own_loop.ipynb"]
    assert _paths(ep.test) == ["Interacting.ipynb"]


def test_python2_scripts_kept_library_modules_dropped(vet_repo: Vet) -> None:
    ep = vet_repo(
        {
            "tools/train_net.py": "import argparse\nprint 'training'\n"
            "if __name__ == '__main__':\n    print 'go'\n",
            # Mentions argparse but has no main guard: a library module.
            "lib/eval_utils.py": "import argparse\nprint 'x'\ndef evaluate(a):\n    pass\n",
            # Imported by the tools: a library module even with a self-test main.
            "lib/__init__.py": "",
            "lib/rpn/__init__.py": "",
            "lib/rpn/generate_anchors.py": "def g():\n    pass\nif __name__ == '__main__':\n"
            "    print 'x'\n",
            "lib/rpn/layer.py": "from generate_anchors import g\n",
        }
    ).entry_points
    assert _paths(ep.train) == ["tools/train_net.py"]
    assert ep.test == []


def test_names_folders_and_code_say_what_a_script_does(vet_repo: Vet) -> None:
    solve = (
        "import caffe\nimport score\n\nsolver = caffe.SGDSolver('solver.prototxt')\n"
        "for _ in range(25):\n    solver.step(4000)\n    score.seg_tests(solver)\n"
    )
    knn = "import sys\nfrom pkg.eval import knn\nif __name__ == '__main__':\n    knn.main()\n"
    report = vet_repo(
        {
            "Demo_Train_model_64.m": "net = init();\nnet = train(net, imdb);\n",
            "Demo_Test_model_64.m": "load('model.mat');\nout = simplenn(net, im);\n",
            "voc-fcn8s/solve.py": solve,
            "nyud-fcn32s/solve.py": solve,
            "score.py": "def seg_tests(solver):\n    return 0\n",
            "pkg/__init__.py": "",
            "pkg/eval/__init__.py": "",
            "pkg/eval/knn.py": "def main():\n    return 0\n",
            "pkg/run/eval/knn.py": knn,
            "train/photo-2x.sh": "python3 enhance.py --train 'data/*.jpg' --epochs=50\n",
            "README.md": (
                "# Net\n\nEvaluate a checkpoint:\n\n```\npython pkg/run/eval/knn.py "
                "--pretrained-weights ckpt.pth --train-dataset ImageNet:split=TRAIN\n```\n"
            ),
        }
    )
    ep = report.entry_points
    # A "Demo_" prefix only offers the script as an example; Train says what it does.
    assert "Demo_Train_model_64.m" in _paths(ep.train)
    assert "Demo_Test_model_64.m" in _paths(ep.test)
    # Caffe's solve.py has no telling name: its solver loop trains.
    assert {"voc-fcn8s/solve.py", "nyud-fcn32s/solve.py"} <= set(_paths(ep.train))
    assert "score.py" not in _paths(ep.train) + _paths(ep.test)
    # run/eval/knn.py evaluates, though its arguments name a --train-dataset.
    assert "pkg/run/eval/knn.py" in _paths(ep.test)
    assert "pkg/run/eval/knn.py" not in _paths(ep.train)
    # A shell script in a train/ folder trains.
    assert "train/photo-2x.sh" in _paths(ep.train)


def test_one_script_trains_with_its_train_flag_and_is_the_demo_without_it(
    vet_repo: Vet,
) -> None:
    enhance = (
        "import argparse\nparser = argparse.ArgumentParser()\nadd_arg = parser.add_argument\n"
        "add_arg('--train', default=False)\nadd_arg('files', nargs='*')\n"
        "args = parser.parse_args()\n\n"
        "def fit(model, opt):\n    for epoch in range(10):\n        loss = model(1)\n"
        "        opt.step()\n\nif __name__ == '__main__':\n    fit(None, None)\n"
    )
    readme = (
        "# Enhance\n\nSome command lines to use with the models we provide:\n\n"
        "```\npython3 enhance.py --zoom=2 photo.jpg\n```\n\n"
        "Training your own:\n\n```\npython3 enhance.py --train 'data/*.jpg' --epochs=50\n```\n"
    )
    report = vet_repo({"enhance.py": enhance, "README.md": readme})
    ep = report.entry_points
    assert _paths(ep.train) == ["enhance.py"] and _paths(ep.test) == ["enhance.py"]


def test_data_making_names_are_preparation_not_demos() -> None:
    for stem in ("align_dataset_mtcnn", "GenerateTrainingPatches", "GenerateData_model_64"):
        assert kind_of(stem) == "prepare", stem
    for stem in ("generate", "generate_samples", "generate_images"):
        assert kind_of(stem) == "demo", stem


README_NAMED = """# mytool

Example scripts are in `examples/`.

Pretrain on 8 GPUs:

```
python -m torch.distributed.launch --nproc_per_node=8 main_pretrain.py --batch 64
torchrun --nproc_per_node 8 finetune_classifier.py
python -m ml_launcher.run --cfg=configs/cifar_resnet.py
```

Decode audio with the installed command:

```
$ mytool-decode --model model.pt input.wav
```

To see every flag, run `python3 -m mytool.train
--helpfull`.
"""

FIRE = "import fire\n\ndef generate(prompt='hi'):\n    print(prompt)\n\nfire.Fire(generate)\n"
MAIN = "def main():\n    print('chat')\n\nif __name__ == '__main__':\n    main()\n"
SETUP = (
    "from setuptools import setup\nsetup(name='mytool', entry_points={'console_scripts': "
    "['mytool-decode = mytool.decode_cli:main']})\n"
)


def test_entries_the_readme_names(vet_repo: Vet) -> None:
    plain_nb = '{"cells": [{"cell_type": "code", "source": "x = 1\\nprint(x)"}]}'
    report = vet_repo(
        {
            "README.md": README_NAMED,
            "setup.py": SETUP,
            "mytool/__init__.py": "",
            "mytool/decode_cli.py": MAIN,
            "mytool/train.py": "import torch\nif __name__ == '__main__':\n    pass\n",
            "mytool/model.py": "import torch\n",
            "examples/generate_text.py": FIRE,
            "examples/chat.py": MAIN,
            "examples/helpers.py": "def f():\n    return 1\n",
            "main_pretrain.py": "import torch\nif __name__ == '__main__':\n    pass\n",
            "finetune_classifier.py": "import torch\nif __name__ == '__main__':\n    pass\n",
            "configs/cifar_resnet.py": "config = dict(lr=0.1)\n",
            "colabs/sampling.ipynb": plain_nb,
            "server/app.py": MAIN,
        }
    )
    ep = report.entry_points
    train = {e.path for e in ep.train}
    test = {e.path for e in ep.test}
    assert {
        "main_pretrain.py",
        "finetune_classifier.py",
        "configs/cifar_resnet.py",
        "mytool/train.py",
    } <= train, train
    assert {
        "examples/generate_text.py",
        "examples/chat.py",
        "mytool/decode_cli.py",
        "colabs/sampling.ipynb",
        "server/app.py",
    } <= test, test
    assert "examples/helpers.py" not in test | train


def test_a_main_that_fits_then_predicts_trains(vet_repo: Vet) -> None:
    main = (
        "from keras.models import Sequential\nmodel = Sequential()\n"
        "model.fit(x, y, epochs=10)\nprint(model.predict(x_test))\n"
    )
    report = vet_repo({"src/keras_app/main.py": main, "src/keras_app/model.py": "import keras\n"})
    assert [e.path for e in report.entry_points.train] == ["src/keras_app/main.py"]


def test_a_command_handed_a_trained_checkpoint_runs_the_model(vet_repo: Vet) -> None:
    readme = (
        "# gan\n\nTo train a projection of your own image:\n\n```\n"
        "python projector.py --outdir=out --target=me.png --network=https://example.org/ffhq.pkl\n"
        "python style_mixing.py --outdir=out --network=models/ffhq.pkl\n"
        "python train.py --outdir=runs --resume=models/ffhq.pkl\n```\n"
    )
    script = "import torch\n\nif __name__ == '__main__':\n    main()\n"
    report = vet_repo(
        {"README.md": readme, "projector.py": script, "style_mixing.py": script, "train.py": script}
    )
    assert {e.path for e in report.entry_points.test} == {"projector.py", "style_mixing.py"}
    assert {e.path for e in report.entry_points.train} == {"train.py"}


def test_shell_scripts_are_what_the_python_they_run_is(vet_repo: Vet) -> None:
    wrapper = (
        "#!/bin/bash\nif [[ $1 == 'train' ]]; then\n  python train.py \\\n    --lr 0.1\n"
        "elif [[ $1 == 'eval' ]]; then\n  python evaluate.py --split test\nfi\n"
    )
    tpu = (
        "#!/bin/bash\npython make_records.py --split=test\n"
        "python train_tpu.py \\\n  --do_train=True \\\n  --do_eval=False\n"
    )
    sota = "#!/bin/bash\npython train_tpu.py --do_train=False --do_eval=True\n"
    report = vet_repo(
        {
            "README.md": "# lm\n",
            "torch/train.py": MAIN,
            "torch/evaluate.py": MAIN,
            "torch/run_small.sh": wrapper,
            "tpu/train_tpu.py": MAIN,
            "tpu/make_records.py": MAIN,
            "tpu/scripts/small_tpu.sh": tpu,
            "tpu/sota/small.sh": sota,
            "tools/lint.sh": "#!/bin/sh\nruff check .\n",
        }
    )
    train, test = _paths(report.entry_points.train), _paths(report.entry_points.test)
    assert {"torch/run_small.sh", "tpu/scripts/small_tpu.sh"} <= set(train)
    assert "tpu/sota/small.sh" in test and "tpu/sota/small.sh" not in train
    assert "tools/lint.sh" not in train + test


def test_commands_of_the_doc_pages_the_readme_links(vet_repo: Vet) -> None:
    readme = "# vlm\n\nSee [Evaluation](docs/Evaluation.md) for the benchmarks.\n"
    evaluation = "# Evaluation\n\nEvaluate the model on VQA:\n\n```\nbash scripts/v2/vqa.sh\n```\n"
    unlinked = "# Notes\n\nEvaluate the model on GQA:\n\n```\nbash scripts/v2/gqa.sh\n```\n"
    report = vet_repo(
        {
            "README.md": readme,
            "docs/Evaluation.md": evaluation,
            "docs/Notes.md": unlinked,
            "scripts/v2/vqa.sh": "#!/bin/sh\necho vqa\n",
            "scripts/v2/gqa.sh": "#!/bin/sh\necho gqa\n",
        }
    )
    assert "scripts/v2/vqa.sh" in _paths(report.entry_points.test)
    assert "scripts/v2/gqa.sh" not in _paths(report.entry_points.test)
    assert any(c.source == "docs/Evaluation.md" for c in report.entry_points.commands)


def test_checkpoint_converters_and_prep_scripts_prepare() -> None:
    for stem in (
        "prep_wiki",
        "convert_weight",
        "convert_tf_to_torch",
    ):
        assert kind_of(stem) == "prepare", stem
    for stem in ("convert", "get_modeling", "test_model", "export"):
        assert kind_of(stem) != "prepare", stem


def test_lua_classes_and_modules_are_not_scripts(vet_repo: Vet) -> None:
    layer = "require 'nn'\nlocal layer, parent = torch.class('nn.BoxSampler', 'nn.Module')\n"
    opts = "local M = {}\nfunction M.parse(arg)\n  return arg\nend\n\nreturn M\n"
    sample = "require 'nn'\nlocal model = torch.load(arg[1])\nprint(model:forward(x))\n"
    report = vet_repo(
        {
            "README.md": "# cap\n",
            "train.lua": "require 'nn'\n",
            "caps/modules/BoxSampler.lua": layer,
            "train_opts.lua": opts,
            "sample.lua": sample,
        }
    )
    assert _paths(report.entry_points.train) == ["train.lua"]
    assert _paths(report.entry_points.test) == ["sample.lua"]


def test_a_notebook_the_readme_links_is_a_demo(vet_repo: Vet) -> None:
    readme = (
        "# music\n\n[Colab](https://colab.research.google.com/github/org/music/blob/main/"
        "music/Interacting_with_Music.ipynb)\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "music/Interacting_with_Music.ipynb": _nb("import music"),
            "docs/internals.ipynb": _nb("import music"),
            "music/model.py": "import torch\n",
        }
    )
    paths = _paths(report.entry_points.test)
    assert "music/Interacting_with_Music.ipynb" in paths
    assert "docs/internals.ipynb" not in paths


def test_short_fine_tuning_names_train_and_download_stats_names_prepare() -> None:
    for stem in ("gpt2_ft", "run_sft", "dpo-train", "finetuning_lm", "rlhf_step"):
        assert kind_of(stem) == "train", stem
    for stem in ("download_models", "download-weights", "get_pretrained_model", "fetch_ckpts"):
        assert kind_of(stem) == "prepare", stem
    for stem in ("calc_inception", "compute_mean_std", "genLMDB", "genJson"):
        assert kind_of(stem) == "prepare", stem
    for stem in ("gradio_app", "streamlit_viewer", "calc_fid", "ppl", "eval_bleu"):
        assert kind_of(stem) in ("test", "eval"), stem
    # Words that only contain the letters stay unknown.
    for stem in ("softmax", "gift", "draft", "general", "generic_layers"):
        assert kind_of(stem) is None, stem


def test_shell_launchers_with_torchrun_and_code_that_trains(vet_repo: Vet) -> None:
    loop = (
        "import torch\n\ndef main():\n    for batch in data:\n        loss.backward()\n"
        "        optimizer.step()\n\nif __name__ == '__main__':\n    main()\n"
    )
    report = vet_repo(
        {
            "README.md": "# LM adapters\n",
            "adapt.py": loop,
            "prepare_shards.py": "if __name__ == '__main__':\n    print('shards')\n",
            # A launcher line with no "python" in it, and an uninformative script name.
            "scripts/launch/node8.sh": "torchrun --nproc_per_node 8 adapt.py --lr 1e-4\n",
            "scripts/acc.sh": "accelerate launch adapt.py --bf16\n",
            # Only data preparation.
            "scripts/shards.sh": "python prepare_shards.py --out data/\n",
            "docs/script_examples/cluster_job.sh": "srun python adapt.py --epochs 3\n",
            "docs/build_docs.sh": "python adapt.py\n",
        }
    )
    ep = report.entry_points
    train = _paths(ep.train)
    assert "scripts/launch/node8.sh" in train
    assert "scripts/acc.sh" in train
    assert "docs/script_examples/cluster_job.sh" in train
    assert "docs/build_docs.sh" not in train
    assert "scripts/shards.sh" in _paths(ep.prepare)


def test_readme_headings_and_sentences_say_what_a_command_does(vet_repo: Vet) -> None:
    readme = (
        "# Segmenter\n\n## Data preparation\n\nFirst:\n\n"
        "```\npython tools/coco_split.py --root coco\n```\n\n"
        "To convert the raw annotations into the training format, run\n\n"
        "```\npython tools/convert.py --in raw --out ann\n```\n\n"
        "## Evaluation\n\nThen:\n\n```\npython tools/runner.py --ckpt out/best\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "tools/coco_split.py": MAIN,
            "tools/convert.py": MAIN,
            "tools/runner.py": MAIN,
        }
    )
    ep = report.entry_points
    assert {"tools/coco_split.py", "tools/convert.py"} <= set(_paths(ep.prepare))
    assert "tools/runner.py" in _paths(ep.test)
    assert "tools/runner.py" not in _paths(ep.train)


def test_weight_export_and_data_subcommands_prepare(vet_repo: Vet) -> None:
    for stem in ("export_hf_checkpoint", "export_state_dict", "export_onnx"):
        assert kind_of(stem) == "prepare", stem
    readme = (
        "# tinylm\n\nGet the stories and tokenize them:\n\n"
        "```\npython stories.py download\npython stories.py pretokenize\n```\n\n"
        "Convert the Hugging Face model weights to our format:\n\n"
        "```\npython tools/cast.py --in hf --out ours\n```\n\n"
        "Download the checkpoints, then evaluate with:\n\n"
        "```\npython tools/bench_run.py --ckpt ours\n```\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "stories.py": MAIN,
            "tools/cast.py": MAIN,
            "tools/bench_run.py": MAIN,
            "data_loaders/tfr/generate.py": MAIN,
        }
    )
    ep = report.entry_points
    prepare = _paths(ep.prepare)
    assert {"stories.py", "tools/cast.py", "data_loaders/tfr/generate.py"} <= set(prepare)
    assert "tools/bench_run.py" in _paths(ep.test)


def test_preconditions_and_numbered_steps_are_not_preparation() -> None:
    from forkvet.vet.entry_points import _prepares

    assert _prepares("To prepare the data, run")
    assert _prepares("## Data preparation\n\nFirst:")
    assert not _prepares("After [downloading the weights](https://example.org/w), run")
    assert not _prepares("1. Download the weights.\n2. Convert them.\n3. Run detection.")
    assert not _prepares("Download the checkpoints, then evaluate with:")


def test_scripts_in_data_folders_and_setup_commands_prepare(vet_repo: Vet) -> None:
    assert kind_of("setup_eval") == "prepare"
    assert kind_of("get_data_from_xml") == "prepare"
    report = vet_repo(
        {
            "README.md": "# gen\n\nFirst run `bash scripts/setup_eval.sh`.\n",
            "scripts/setup_eval.sh": "wget https://example.org/coco.zip\n",
            "datasets/bedrooms.py": "import sys\n\nif __name__ == '__main__':\n    print(1)\n",
            "datasets/common.py": "def load():\n    return 1\n",
        }
    )
    prepare = _paths(report.entry_points.prepare)
    assert "datasets/bedrooms.py" in prepare
    assert "datasets/common.py" not in prepare
    assert "scripts/setup_eval.sh" in prepare
    assert not report.entry_points.test


def test_console_script_subcommands_run_their_modules(vet_repo: Vet) -> None:
    setup = (
        "from setuptools import setup\nsetup(name='tinylm', entry_points={'console_scripts': "
        "['tinylm=tinylm.__main__:main']})\n"
    )
    readme = (
        "# tinylm\n\n```\ntinylm download org/tiny-1b\ntinylm finetune_lora org/tiny-1b --data x\n"
        "tinylm pretrain --config cfg.yaml\ntinylm chat out/final\n```\n\n"
        "Or from the example folder:\n\n```\ncd examples/nlg && python src/ft_small.py\n```\n"
    )
    lib = "def setup(args):\n    return args\n"
    report = vet_repo(
        {
            "README.md": readme,
            "setup.py": setup,
            "tinylm/__init__.py": "",
            "tinylm/__main__.py": "def main():\n    pass\n",
            "tinylm/pretrain.py": lib,
            "tinylm/finetune/__init__.py": "",
            "tinylm/finetune/lora.py": lib,
            "tinylm/scripts/__init__.py": "",
            "tinylm/scripts/download.py": lib,
            "tinylm/chat/__init__.py": "",
            "tinylm/chat/base.py": lib,
            "examples/nlg/src/ft_small.py": MAIN,
        }
    )
    ep = report.entry_points
    assert {"tinylm/pretrain.py", "tinylm/finetune/lora.py"} <= set(_paths(ep.train))
    assert "examples/nlg/src/ft_small.py" in _paths(ep.train)
    assert "tinylm/scripts/download.py" in _paths(ep.prepare)
    assert "tinylm/chat/base.py" in _paths(ep.test)


CAFFE_FORK = {
    "README.md": "# SegNet on our Caffe\n\nTrain with `sh train_seg.sh`.\n",
    "include/caffe/net.hpp": "// net\n",
    "src/caffe/net.cpp": "// net\n",
    "examples/mnist/train_lenet.sh": "./build/tools/caffe train --solver=x.prototxt\n",
    "train_seg.sh": "./build/tools/caffe train --solver=seg.prototxt\n",
}


def test_a_forked_frameworks_own_examples_are_not_entries(vet_repo: Vet) -> None:
    train = _paths(vet_repo(CAFFE_FORK).entry_points.train)
    assert "train_seg.sh" in train and "examples/mnist/train_lenet.sh" not in train


def test_without_the_frameworks_tree_examples_are_the_repositorys(vet_repo: Vet) -> None:
    files = {k: v for k, v in CAFFE_FORK.items() if not k.startswith("include/")}
    assert "examples/mnist/train_lenet.sh" in _paths(vet_repo(files).entry_points.train)


def test_a_command_from_weights_to_weights_prepares() -> None:
    from forkvet.vet.entry_points import _command_kind

    cmd = "python add_branch.py ./models/base.ckpt ./models/base_with_branch.ckpt"
    assert _command_kind(cmd, "add_branch.py", "") == "prepare"
    # One checkpoint handed to a script runs the model.
    assert _command_kind("python look.py --weights m.pth", "look.py", "") == "test"


def test_a_generate_mode_is_a_demo(vet_repo: Vet) -> None:
    """keras-dcgan: one script, `--mode train` trains and `--mode generate` makes images from a
    trained model (the README's "Image generation"): the second is the demo smoke can run."""
    readme = (
        "# DCGAN\n\n**Training:**\n\n`python dcgan.py --mode train --batch_size 128`\n\n"
        "**Image generation:**\n\n`python dcgan.py --mode generate --batch_size 128`\n"
    )
    loop = "for epoch in range(100):\n    model.train_on_batch(x, y)\n"
    report = vet_repo({"README.md": readme, "dcgan.py": MAIN + loop})
    kinds = {c.command: c.kind for c in report.entry_points.commands}
    assert kinds["python dcgan.py --mode train --batch_size 128"] == "train"
    assert kinds["python dcgan.py --mode generate --batch_size 128"] == "test"


def test_fences_open_and_close_only_at_the_start_of_a_line() -> None:
    """CommonMark: ```x``` in a sentence, or a line ```pip install x``` (an info string with a
    backtick), is inline code, not a fence. Before, each such ``` opened or closed a block, so
    every later block of the README was read inside out (NVlabs/SegFormer: no command found)."""
    from forkvet.vet.entry_points import readme_commands

    text = (
        "# Model\n\nRequirements:\n```pip install timm==0.3.2```\n\n"
        "Tested with ```CUDA 10.1``` and ```pytorch 1.7.1```.\n\n"
        "## Evaluation\n\n```\npython tools/test.py configs/b1.py ckpt.pth\n```\n\n"
        "## Training\n\n1. ```bash\n   python tools/train.py configs/b1.py\n   ```\n\n"
        "> ```\n> python demo.py img.png\n> ```\n"
    )
    kinds = {c.command.lstrip("> "): c.kind for c in readme_commands(text, "README.md")}
    assert kinds.get("python tools/test.py configs/b1.py ckpt.pth") == "test"
    assert kinds.get("python tools/train.py configs/b1.py") == "train"
    assert any(c.startswith("python demo.py") for c in kinds), kinds


def test_a_code_span_of_any_backtick_run_is_read() -> None:
    """```python demo.py``` in a sentence is a code span (CommonMark: a run of backticks closed
    by the next run of the same length), as `python demo.py` is; a short span consumes its
    closing backtick, so it never pairs with the next span's opening one."""
    from forkvet.vet.entry_points import readme_commands

    text = (
        "# Model\n\nTo sample, run ```python sample.py --n 4``` on a GPU.\n\n"
        "Set `x` and ``y`` first, then run `python train.py` to train.\n"
    )
    commands = {c.command for c in readme_commands(text, "README.md")}
    assert "python sample.py --n 4" in commands
    assert "python train.py" in commands
    assert not any("``y``" in c for c in commands)


def test_a_section_saying_infer_predict_or_synthesize_runs_the_model() -> None:
    """ "Infer by Command Line" over `python examples/cmd/run.py "text"` (2noise/ChatTTS,
    round-9 dev): a run.py the README runs defaults to training unless the words say what it
    does; inferring, predicting, synthesizing and transcribing run a trained model."""
    from forkvet.vet.entry_points import readme_commands

    for words in ("Infer by Command Line", "Predict", "Synthesize speech", "Transcribe audio"):
        text = f"# X\n\n## Quick start\n\n### {words}\n\n```bash\npython run.py --in a.wav\n```\n"
        assert [c.kind for c in readme_commands(text, "README.md")] == ["test"], words
    text = "# X\n\n## Training\n\n```bash\npython run.py --in a.wav\n```\n"
    assert [c.kind for c in readme_commands(text, "README.md")] == ["train"]
