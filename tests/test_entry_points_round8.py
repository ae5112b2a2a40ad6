"""Entry points from round 8's development half: idioms of 2014-2019 research code (Lua
Torch launchers, data folders, retrieval indexes), each tested on a small repository
written here."""

from __future__ import annotations

from collections.abc import Callable

from forkvet.report import Report
from forkvet.vet.metadata import parse_setup_py

Vet = Callable[..., Report]
MAIN = "if __name__ == '__main__':\n    main()\n"
HEADER = "#!/bin/bash\n# Copyright (c) the authors.\n\n"


def _paths(entries: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(e.path for e in entries)


def test_a_shell_script_running_lua_torch_is_classified_by_what_it_runs(vet_repo: Vet) -> None:
    """`th train_RL.lua …` trains; `th simulate.lua -nepochs 100 -lr 0.05` trains by its
    options; a script that runs only an evaluation evaluates."""
    report = vet_repo(
        {
            "README.md": "# Memory networks\n",
            "rl/train_RL.lua": "require 'nn'\nlocal cmd = torch.CmdLine()\n",
            "rl/try.sh": HEADER + "th train_RL.lua -task 1 -batch_size 64\n",
            "hitl/online_simulate.lua": "require 'nn'\nlocal cmd = torch.CmdLine()\n",
            "hitl/babi_RBI.sh": HEADER + "th online_simulate.lua -dataset babi -nepochs 100\n",
            "kv/eval.lua": "require 'nn'\n",
            "kv/run_it.sh": HEADER + "th eval.lua -modelFilename model\n",
            # A Lua script this commit lacks says nothing; nor does a plain `th` word.
            "kv/gone.sh": HEADER + "th missing.lua -x 1\necho th is done\n",
        }
    )
    train = _paths(report.entry_points.train)
    assert "rl/try.sh" in train and "hitl/babi_RBI.sh" in train
    assert "kv/run_it.sh" in _paths(report.entry_points.test)
    assert "kv/gone.sh" not in train + _paths(report.entry_points.test)


def test_data_set_up_scripts_are_preparation_not_installers(vet_repo: Vet) -> None:
    """setup_data.sh and build_dict.sh make data; setup_env.sh and build.sh install."""
    report = vet_repo(
        {
            "README.md": "# Model\n",
            "train.py": "import torch\nloss.backward()\n" + MAIN,
            "setup_data.sh": HEADER + "wget https://data.example/babi.tgz\ntar xzf babi.tgz\n",
            "scripts/build_dict.sh": HEADER + "th build_dict.lua\n",
            "scripts/build_hash.lua": "local c = torch.CmdLine()\nlocal params = c:parse(arg)\n",
            "retriever/build_tfidf.py": "import numpy\n" + MAIN,
            "setup_env.sh": HEADER + "conda create -n x python=3.8\n",
            "build.sh": HEADER + "make -j4\n",
        }
    )
    prepare = _paths(report.entry_points.prepare)
    for path in ("setup_data.sh", "scripts/build_dict.sh", "retriever/build_tfidf.py"):
        assert path in prepare, path
    everything = prepare + _paths(report.entry_points.train) + _paths(report.entry_points.test)
    assert "setup_env.sh" not in everything and "build.sh" not in everything


def test_scripts_in_a_data_or_converter_folder_prepare_data(vet_repo: Vet) -> None:
    """A data folder's scripts (main guard) make data, converters there too; a module the
    others import, or one with no main guard, is no script."""
    report = vet_repo(
        {
            "README.md": "# Instruct\n",
            "scripts/data/preferences/nectar.py": "import datasets\n" + MAIN,
            "scripts/data/preferences/dataset_utils.py": "def load(x):\n    return x\n",
            "scripts/data/preferences/webgpt.py": "from dataset_utils import load\n" + MAIN,
            # A docstring's "Copyright (C) …" is no call at the top level.
            "data/__init__.py": '"""\nCopyright (C) 2019 NVIDIA Corporation.\n"""\n',
            "data/coco_dataset.py": '"""\nCopyright (C) 2019 N.\n"""\nclass Coco:\n    pass\n',
            "scripts/convert/squad.py": "import json\n" + MAIN,
            "nmt/preprocess/convert-pkl2hdf5.py": "import tables\nconvert(sys.argv[1])\n",
            "data/loader.py": "class Loader:\n    pass\n",
        }
    )
    prepare = _paths(report.entry_points.prepare)
    for path in (
        "scripts/data/preferences/nectar.py",
        "scripts/data/preferences/webgpt.py",
        "scripts/convert/squad.py",
        "nmt/preprocess/convert-pkl2hdf5.py",
    ):
        assert path in prepare, path
    for path in ("scripts/data/preferences/dataset_utils.py", "data/loader.py"):
        assert path not in prepare, path
    assert "data/__init__.py" not in prepare and "data/coco_dataset.py" not in prepare


def test_an_imported_script_with_a_main_guard_is_still_an_entry(vet_repo: Vet) -> None:
    """nmt/sample.py is imported for its functions and run for sampling: its main guard says
    it is a script; lib/fast_rcnn/test.py, imported and without one, is library code."""
    report = vet_repo(
        {
            "README.md": "# NMT\n",
            "nmt/__init__.py": "",
            "nmt/sample.py": "import theano\ndef sample(m):\n    return m\n" + MAIN,
            "nmt/score.py": "from nmt.sample import sample\n" + MAIN,
            "lib/__init__.py": "",
            "lib/fast_rcnn/__init__.py": "",
            "lib/fast_rcnn/test.py": "def test_net(net):\n    return net\n",
            "tools/test_net.py": "from fast_rcnn.test import test_net\n" + MAIN,
        }
    )
    test = _paths(report.entry_points.test)
    assert "nmt/sample.py" in test and "nmt/score.py" in test
    assert "lib/fast_rcnn/test.py" not in test and "tools/test_net.py" in test


def test_a_module_the_readme_imports_and_calls_is_a_demo(vet_repo: Vet) -> None:
    """`import generate` then `generate.story(z, 'ex1.jpg')` in the README (an interactive
    session): generate.py is how the model is run; a helper imported the same way is not."""
    readme = (
        "# Storyteller\n\nIn IPython:\n\n    import generate\n    z = generate.load_all()\n"
        "    generate.story(z, './images/ex1.jpg')\n\n    import skipthoughts\n"
        "    m = skipthoughts.load_model()\n\nThen `import evaluate` (never called).\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "generate.py": "import numpy\ndef story(z, path):\n    return z\n",
            "skipthoughts.py": "def load_model():\n    return 1\n",
            "evaluate.py": "def score(x):\n    return x\n",
        }
    )
    assert _paths(report.entry_points.test) == ["generate.py"]


def test_a_deep_library_module_with_a_main_guard_is_not_an_entry(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "README.md": "# Video\n",
            "vid/__init__.py": "",
            "vid/models/__init__.py": "",
            "vid/models/autoencoders/__init__.py": "",
            "vid/models/autoencoders/latent_upsampler.py": "class U:\n    pass\n" + MAIN,
            "vid/pipeline.py": "from vid.models.autoencoders.latent_upsampler import U\n",
        }
    )
    assert "vid/models/autoencoders/latent_upsampler.py" not in _paths(report.entry_points.test)


def test_a_training_script_with_an_eval_mode_is_also_a_test(vet_repo: Vet) -> None:
    """train.py --mode eval (argparse) and tf_train.py --mode eval_test (absl): one script
    both trains and evaluates; a --mode that only picks how to train says nothing."""
    loop = "loss.backward()\noptimizer.step()\n"
    report = vet_repo(
        {
            "README.md": "# SR\n",
            "train.py": "import argparse\np = argparse.ArgumentParser()\n"
            "p.add_argument('--mode', type=str, default='train', help='train, eval')\n"
            + loop
            + MAIN,
            "tf_train.py": "from absl import flags\n"
            "flags.DEFINE_string('mode', 'train', \"Whether to run 'train' or 'eval' model.\")\n"
            + loop
            + MAIN,
            "finetune.py": "import argparse\np = argparse.ArgumentParser()\n"
            "p.add_argument('--mode', choices=['full', 'lora'], help='how to train')\n"
            + loop
            + MAIN,
        }
    )
    assert _paths(report.entry_points.train) == ["finetune.py", "tf_train.py", "train.py"]
    assert _paths(report.entry_points.test) == ["tf_train.py", "train.py"]


def test_scripts_in_a_gradio_folder_are_demos(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "README.md": "# Video\n",
            "gradio/t2v_1.3B_singleGPU.py": "import gradio as gr\ndemo = gr.Blocks()\n" + MAIN,
        }
    )
    assert _paths(report.entry_points.test) == ["gradio/t2v_1.3B_singleGPU.py"]


def test_experiments_one_folder_below_the_shown_configs_are_training(vet_repo: Vet) -> None:
    """The README trains with configs/fc.yml and configs/fc_rl.yml: the folder's other
    experiments, and those one folder down that set how to train, are of the set; a data
    config down there is not."""
    readme = (
        "# Captioning\n\n```\npython tools/train.py --cfg configs/fc.yml --id fc\n```\n\n"
        "```\npython tools/train.py --cfg configs/fc_rl.yml --id fc_rl\n```\n"
    )
    exp = "caption_model: {}\nbatch_size: 10\nlearning_rate: 0.0005\n"
    report = vet_repo(
        {
            "README.md": readme,
            "tools/train.py": "import torch\nloss.backward()\n" + MAIN,
            "configs/fc.yml": exp.format("fc"),
            "configs/fc_rl.yml": exp.format("fc"),
            "configs/aoa.yml": exp.format("aoa"),
            "configs/transformer/transformer.yml": exp.format("transformer"),
            "configs/transformer/transformer_sc.yml": exp.format("transformer"),
            "configs/data/coco.yml": "input_json: data/cocotalk.json\nseq_per_img: 5\n",
        }
    )
    train = _paths(report.entry_points.train)
    for path in ("configs/aoa.yml", "configs/transformer/transformer.yml"):
        assert path in train, path
    assert "configs/data/coco.yml" not in train


def test_slurm_jobs_and_data_makefiles(vet_repo: Vet) -> None:
    """slurm/train.slurm runs the trainer (a shell script for sbatch); a Makefile in a data
    folder prepares that data; the root Makefile builds."""
    report = vet_repo(
        {
            "README.md": "# R1\n",
            "src/r1/sft.py": "import torch\nloss.backward()\n" + MAIN,
            "slurm/train.slurm": "#!/bin/bash\n#SBATCH --gres=gpu:8\n"
            "accelerate launch src/r1/sft.py --config recipes/x.yaml\n",
            "data/vctk/Makefile": "all:\n\twget https://data.example/vctk.zip\n",
            "Makefile": "all:\n\tpip install -e .\n",
            "megatron/data/__init__.py": "",
            "megatron/data/Makefile": "helpers:\n\tg++ -O3 helpers.cpp -o helpers.so\n",
        }
    )
    assert "slurm/train.slurm" in _paths(report.entry_points.train)
    prepare = _paths(report.entry_points.prepare)
    assert "data/vctk/Makefile" in prepare and "Makefile" not in prepare
    assert "megatron/data/Makefile" not in prepare


def test_requirements_looked_up_in_a_table_of_them_are_declared(vet_repo: Vet) -> None:
    """Hugging Face's setup.py idiom: `_deps` lists the pins, `deps` maps names to them, and
    `install_requires = [deps["trl"], …]` picks some: those pins are the requirements, and
    the repository declares them."""
    text = (
        "import re\nfrom setuptools import setup\n"
        "_deps = ['accelerate==1.4.0', 'trl>=0.19', 'hf_transfer>=0.1.4', 'ruff']\n"
        'deps = {b: a for a, b in (re.findall(r"^(([^!=<>~ ]+)(?:[!=<>~ ].*)?$)", x)[0] '
        "for x in _deps)}\n"
        "install_requires = [deps['accelerate'], deps['trl'], deps['hf-transfer'],\n"
        "    deps['einops']]\n"
        "setup(name='r1', install_requires=install_requires)\n"
    )
    meta = parse_setup_py("setup.py", text)
    assert meta is not None
    assert meta.requires == ["accelerate==1.4.0", "trl>=0.19", "hf_transfer>=0.1.4", "einops"]
    report = vet_repo({"setup.py": text, "src/r1/sft.py": "import trl\n"})
    assert report.dependencies.files == ["setup.py"]
