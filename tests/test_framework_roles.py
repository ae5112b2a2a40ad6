"""Framework roles (primary / optional / library) and Caffe or MatConvNet used from MATLAB."""

from __future__ import annotations

from collections.abc import Callable

from forkvet.render import to_markdown, to_text
from forkvet.report import Report

Vet = Callable[..., Report]

MODEL = "import torch\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n    pass\n"


def _roles(report: Report) -> dict[str, str]:
    return {fw.name: fw.role for fw in report.frameworks}


def test_export_targets_lazy_imports_and_helpers_are_not_primary(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "train.py": "import torch\nfrom model import Net\n",
            "model.py": MODEL
            + "\n\ndef from_pretrained(name):\n    from transformers import GPT2LMHeadModel\n"
            "    return GPT2LMHeadModel.from_pretrained(name)\n",
            "data.py": "import torch\nfrom sklearn.model_selection import train_test_split\n",
            "sample.py": "import torch\n",
            "export.py": "import torch\nimport onnx\nimport tensorflow as tf\n",
            "utils.py": "import torch\ntry:\n    import jax\nexcept ImportError:\n    jax = None\n",
        }
    )
    assert _roles(report) == {
        "pytorch": "primary",
        "transformers": "library",
        "scikit-learn": "library",
        "onnx": "library",
        "tensorflow": "optional",
        "jax": "optional",
    }
    assert report.frameworks[0].name == "pytorch"
    text = to_text(report)
    assert "  Frameworks  pytorch\n" in text
    assert "tensorflow (optional)" in text.split("Also used", 1)[1].splitlines()[0]
    md = to_markdown(report)
    assert "| Frameworks | pytorch |" in md and "| Also used |" in md


def test_a_helper_library_a_demo_imports_is_primary(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "cli_demo.py": "from transformers import AutoModel, AutoTokenizer\nimport torch\n",
            "web_demo.py": "from transformers import AutoModel\nimport torch\n",
        }
    )
    assert _roles(report) == {"pytorch": "primary", "transformers": "primary"}


def test_two_real_frameworks_stay_primary(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "train.py": "import keras\nimport tensorflow as tf\n",
            "model.py": "from keras.layers import Dense\n",
            "yolo.py": "import tensorflow as tf\nfrom keras import backend as K\n",
        }
    )
    assert _roles(report) == {"keras": "primary", "tensorflow": "primary"}


def test_caffe_from_matlab_and_matconvnet(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "experiments/script_faster_rcnn_demo.m": "caffe.set_mode_gpu();\n"
            "rpn_net = caffe.Net(proposal_def, 'test');\n",
            "startup.m": "addpath(genpath('./functions'));\n",
        }
    )
    assert _roles(report) == {"caffe": "primary"}
    assert any("Caffe from MATLAB" in e for e in report.frameworks[0].evidence)

    sub = vet_repo(
        {
            ".gitmodules": '[submodule "external/caffe"]\n\tpath = external/caffe\n'
            "\turl = https://github.com/BVLC/caffe.git\n",
            "rcnn_train.m": "function rcnn_train()\nend\n",
        },
        name="sub",
    )
    assert _roles(sub) == {"caffe": "primary"}

    mcn = vet_repo(
        {"cnn_train.m": "res = vl_simplenn(net, im);\ny = vl_nnconv(x, w, b);\n"}, name="mcn"
    )
    assert _roles(mcn) == {"matconvnet": "primary"}


def test_a_framework_only_in_scratch_or_contributed_folders_is_optional(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "src/train_softmax.py": "import tensorflow as tf\n",
            "tmp/align_dataset.m": "net = caffe.Net('det1.prototxt', 'det1.caffemodel', 'test');\n",
            "contributed/export_embeddings.py": "import tensorflow as tf\nimport mxnet as mx\n",
        }
    )
    assert _roles(report) == {"tensorflow": "primary", "caffe": "optional", "mxnet": "optional"}


def test_what_you_install_to_run_the_model_is_primary(vet_repo: Vet) -> None:
    jax_model = "import jax\nimport flax.linen as nn\n\nclass Net(nn.Module):\n    pass\n"
    pipeline = "import tensorflow as tf\nimport tensorflow_datasets as tfds\nds = tf.data.Dataset\n"
    sample = (
        "from transformers import GPT2TokenizerFast\nimport jax\n"
        "if __name__ == '__main__':\n    tok = GPT2TokenizerFast.from_pretrained('gpt2')\n"
    )
    evaluator = "import tensorflow.compat.v1 as tf\nimport numpy as np\n"
    lua = "require 'torch'\nrequire 'nn'\n"
    report = vet_repo(
        {
            "model.py": jax_model,
            "train.py": "import jax\nfrom model import Net\n",
            "input_pipeline.py": pipeline,
            "device_sample.py": sample,
            "evaluations/evaluator.py": evaluator,
            "device_serve.py": "import transformers\nimport jax\n"
            "if __name__ == '__main__':\n"
            "    tok = transformers.GPT2TokenizerFast.from_pretrained('gpt2')\n",
            "notebooks/keras_port.ipynb": '{"cells": [{"cell_type": "code", "source": '
            '"import tensorflow as tf\\nm = tf.keras.Sequential()"}]}',
            "main.lua": lua,
            "train.lua": lua,
            "models/vgg_deploy.prototxt": "name: 'VGG'\nlayer { type: 'Convolution' }\n",
        }
    )
    roles = _roles(report)
    primary = {name for name, role in roles.items() if role == "primary"}
    assert primary == {"jax", "flax", "lua-torch"}, roles


def test_a_repository_of_prototxt_files_is_caffe(vet_repo: Vet) -> None:
    report = vet_repo({"prototxt/ResNet-50-deploy.prototxt": "name: 'ResNet-50'\n"})
    assert _roles(report) == {"caffe": "primary"}


def test_a_library_one_utility_imports_is_not_primary(vet_repo: Vet) -> None:
    # One evaluation script (or a script in a playground) importing scikit-learn is that
    # utility's need, not what you install to run the model; the demos' shared need is.
    files = {
        "train.py": "import torch\nfrom model import Net\n",
        "model.py": MODEL,
        "eval_retrieval.py": "import torch\nimport sklearn.metrics\n",
        "playground/test_cluster.py": "import torch\nimport sklearn.cluster\n",
    }
    assert _roles(vet_repo(files))["scikit-learn"] == "library"
    files["evaluate.py"] = "import torch\nimport sklearn.metrics\n"
    assert _roles(vet_repo(files, name="two"))["scikit-learn"] == "primary"


def test_a_bundled_package_s_imports_are_not_the_model_s(vet_repo: Vet) -> None:
    # A whole other package copied into the repository (its own setup.py and LICENSE, beside
    # the repository's own setup.py) imports what it needs; caffe2 there is not primary.
    report = vet_repo(
        {
            "setup.py": "from setuptools import setup\nsetup(name='tinymusic')\n",
            "tinymusic/train.py": "import torch\nfrom tinymusic.model import Net\n",
            "tinymusic/model.py": MODEL,
            "boardlib/setup.py": "from setuptools import setup\nsetup(name='boardlib')\n",
            "boardlib/LICENSE": "MIT License\n",
            "boardlib/boardlib/caffe2_graph.py": "import caffe2.python\nimport caffe2.proto\n",
        }
    )
    roles = _roles(report)
    assert roles["pytorch"] == "primary" and roles["caffe2"] != "primary"


def test_mlx_examples_that_convert_and_compare_with_torch_are_mlx(vet_repo: Vet) -> None:
    """Apple's MLX is a base framework: its examples' weight converters and tests that
    compare against a PyTorch reference make PyTorch optional, not primary."""
    mlx = "import mlx.core as mx\nimport mlx.nn as nn\n"
    report = vet_repo(
        {
            "llms/llama/llama.py": mlx,
            "llms/llama/convert.py": "import torch\nimport mlx.core as mx\n",
            "cifar/main.py": mlx + "import mlx.optimizers as optim\n",
            "cifar/resnet.py": mlx,
            "bert/model.py": mlx,
            "bert/test.py": "import torch\nimport mlx.core as mx\n",
            "mnist/main.py": mlx,
        }
    )
    assert _roles(report) == {"mlx": "primary", "pytorch": "optional"}
