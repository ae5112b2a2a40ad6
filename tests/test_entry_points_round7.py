"""Entry points, weights terms and declared requirements, from round 7's development half:
general idioms of research code, each tested on a small repository written here."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from forkvet import limits
from forkvet.report import Report
from forkvet.vet.metadata import parse_setup_py
from tests.conftest import license_text

Vet = Callable[..., Report]
MAIN = "if __name__ == '__main__':\n    main()\n"


def _paths(entries: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(e.path for e in entries)


def _nb(*cells: str) -> str:
    cells_json = [{"cell_type": "code", "metadata": {}, "source": c, "outputs": []} for c in cells]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells_json})


TF2_TRAIN = (
    "import tensorflow as tf\nopt = tf.optimizers.Adam()\n"
    "with tf.GradientTape() as g:\n    loss = model(x)\n"
    "opt.apply_gradients(zip(g.gradient(loss, w), w))\n"
)


def test_deep_notebooks_in_an_examples_folder_are_classified_by_their_code(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "README.md": "# Tutorials\n",
            "tensorflow_v2/notebooks/3_NeuralNetworks/autoencoder.ipynb": _nb(TF2_TRAIN),
            "tensorflow_v2/notebooks/1_Introduction/hello.ipynb": _nb("print('hello')\n"),
            # Deep and in no folder of notebooks to run: someone's analysis.
            "research/analysis/old/plots.ipynb": _nb(TF2_TRAIN),
            # Deep in one, but a utility or a demo, not a training run: left to the README.
            "src/pkg/inference/notebooks/sharding_utils.ipynb": _nb("m.predict(x)\n"),
        }
    )
    assert _paths(report.entry_points.train) == [
        "tensorflow_v2/notebooks/3_NeuralNetworks/autoencoder.ipynb"
    ]
    assert "src/pkg/inference/notebooks/sharding_utils.ipynb" not in _paths(
        report.entry_points.test
    )


def test_a_notebook_the_readme_links_is_training_when_its_code_trains(vet_repo: Vet) -> None:
    readme = (
        "# Course\n\n"
        "- [Autoencoder](https://colab.research.google.com/github/o/r/blob/main/course/part3/ch1/ae.ipynb)\n"
        "- [Predict](https://github.com/o/r/blob/main/course/part3/ch1/use.ipynb)\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "course/part3/ch1/ae.ipynb": _nb(TF2_TRAIN),
            "course/part3/ch1/use.ipynb": _nb(
                "m = tf.keras.models.load_model('m')\nm.predict(x)\n"
            ),
        }
    )
    assert _paths(report.entry_points.train) == ["course/part3/ch1/ae.ipynb"]
    assert _paths(report.entry_points.test) == ["course/part3/ch1/use.ipynb"]


@pytest.mark.parametrize(
    "step",
    [
        "grads = T.grad(cost=cost, wrt=params)\ntrain = theano.function([X], cost, updates=u)\n",
        "updates = lasagne.updates.nesterov_momentum(loss, params)\n",
        "optimizer.update(model.lossfun, x, t)\n",  # Chainer
        "updates, state = optimizer.update(grads, state, params)\n",  # optax
    ],
)
def test_gradient_updates_of_other_frameworks_make_a_script_train(vet_repo: Vet, step: str) -> None:
    code = "import numpy as np\n" + step + "for i in range(100):\n    print(i)\n"
    report = vet_repo({"README.md": "# Tutorials\n", "3_net.py": code})
    assert _paths(report.entry_points.train) == ["3_net.py"]


def test_pil_image_fit_in_a_demo_is_not_training(vet_repo: Vet) -> None:
    demo = (
        "from PIL import ImageOps\nimport torch\n\ndef main():\n"
        "    model.eval()\n    image = ImageOps.fit(image, (512, 512))\n"
        "    model.load_state_dict(torch.load('m.ckpt'))\n\n" + MAIN
    )
    readme = "# Edit\n\n### Edit a single image:\n```\npython edit_cli.py --input a.jpg\n```\n"
    report = vet_repo({"README.md": readme, "edit_cli.py": demo})
    assert _paths(report.entry_points.test) == ["edit_cli.py"]
    assert _paths(report.entry_points.train) == []


def test_a_training_script_a_unit_test_imports_is_still_an_entry(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "README.md": "# Lib\n",
            "src/lm/__init__.py": "",
            "src/lm/main/__init__.py": "",
            "src/lm/main/sft.py": "def helper():\n    pass\n\n\ndef train():\n    pass\n\n" + MAIN,
            "tests/test_sft.py": "from lm.main.sft import helper\n\ndef test_x():\n    helper()\n",
            # A module other code imports is a library module, as before.
            "src/lm/main/train_utils.py": "def train():\n    pass\n\n" + MAIN,
            "src/lm/main/run.py": "from lm.main.train_utils import train\n",
        }
    )
    assert _paths(report.entry_points.train) == ["src/lm/main/sft.py"]


def test_scripts_past_the_analysis_budget_keep_their_main_guard(
    vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A large package: the deep files are only skimmed, yet a train_*.py with a main guard is
    # still a script to run, and a skimmed *_test.py unit test is still no entry.
    monkeypatch.setattr(limits, "FULL_ANALYSIS_BYTES", 64)
    filler = "x = 1\n" * 40
    report = vet_repo(
        {
            "README.md": "# Big\n",
            "a.py": filler,
            "pkg/__init__.py": "",
            "pkg/trainers/sft/train_sft.py": "import jax\n\ndef main():\n    pass\n\n" + MAIN,
            "pkg/optimizers/muon_test.py": "from absl.testing import absltest\n\n"
            "class MuonTest(absltest.TestCase):\n    pass\n\n"
            "if __name__ == '__main__':\n    absltest.main()\n",
            "pkg/models/layers.py": "def f():\n    return 1\n",
        }
    )
    assert _paths(report.entry_points.train) == ["pkg/trainers/sft/train_sft.py"]
    assert "pkg/optimizers/muon_test.py" not in _paths(report.entry_points.test)


def test_install_scripts_are_no_entries_whatever_they_name(vet_repo: Vet) -> None:
    code = "import subprocess\n\ndef main():\n    pass\n\n" + MAIN
    report = vet_repo(
        {
            "README.md": "# X\n",
            "scripts/install_post_train_extra_deps.py": code,
            "train.py": "import torch\n\ndef main():\n    loss.backward()\n\n" + MAIN,
        }
    )
    assert _paths(report.entry_points.train) == ["train.py"]


def test_weights_a_readme_version_puts_under_a_model_license_are_unclear(vet_repo: Vet) -> None:
    old_readme = (
        "# GLM\n\n## License\n\n+ The use of the model weights must follow the "
        "[Model License](https://huggingface.co/org/model/blob/main/LICENSE).\n\n"
        "+ The code in this repository follows the [Apache 2.0](LICENSE) license.\n"
    )
    # Ids whose license forkvet knows (forkvet/data/hub_models.json): an unknown id would be
    # unclear by itself (round 20), and this case is about the older README's terms.
    files = {
        "README.md": "# GLM\n\n```python\nAutoModel.from_pretrained('google/flan-t5-base')\n```\n",
        "README_20240605.md": old_readme,
        "LICENSE": license_text("Apache-2.0.txt"),
        "demo.py": "from transformers import AutoModel\n"
        "AutoModel.from_pretrained('google/flan-t5-large')\n",
    }
    report = vet_repo(files)
    assert report.license is not None
    assert report.license.commercial_use is None, report.license.governs_reason
    reason = report.license.governs_reason  # the older README's link to the weights' terms
    assert "README_20240605.md" in reason, reason
    # read as terms held elsewhere, or (round 22, a Hub `blob/` address is a download) as
    # weights whose terms forkvet cannot verify offline
    assert any(
        why in reason
        for why in ("terms the repository does not hold", "address forkvet did not", "org/model")
    ), reason


def test_setup_py_requirements_assigned_per_platform_are_read() -> None:
    text = (
        "import sys\nfrom setuptools import setup\n"
        "if BACKEND == 'triton':\n"
        "    install_requires = ['einops', 'triton' if sys.platform != 'win32' else 'tw']\n"
        "else:\n    install_requires = ['torch', 'einops']\n"
        "setup(name='x', install_requires=install_requires)\n"
    )
    meta = parse_setup_py("setup.py", text)
    assert meta is not None
    # What every branch needs; a platform's own choice is not everyone's requirement.
    assert meta.requires == ["einops"]


def test_a_python_version_named_to_warn_against_it_is_not_declared(vet_repo: Vet) -> None:
    readme = (
        "# Tutorials\n\nDeveloped with **Python 3.5 / 3.6**.\n\n"
        "There are reports that Python 2.7 gives error messages with these tutorials.\n"
    )
    report = vet_repo({"README.md": readme, "mnist.py": "import numpy as np\nx = np.zeros(3)\n"})
    assert report.python is not None
    assert report.python.majors == [3]


def test_a_stale_python_2_utility_does_not_narrow_code_that_states_both(vet_repo: Vet) -> None:
    files: dict[str, str | bytes] = {
        "README.md": "# RCNN\n\n## Requirements\n\n- Python 2.7.6+, 3.4.3+, 3.5.1+\n",
        "utils/create_trunk.py": "import caffe\nprint 'converting'\n",
    }
    files.update({f"lib/m{i}.py": f"import numpy as np\nx{i} = np.zeros({i})\n" for i in range(10)})
    report = vet_repo(files)
    assert report.python is not None
    assert report.python.majors == [2, 3]
    # Without the README's word, the Python 2 file decides, as before.
    files["README.md"] = "# RCNN\n"
    assert vet_repo(files).python.majors == [2]  # type: ignore[union-attr]


def test_data_download_scripts_are_found_deep_beside_their_data(
    vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deep in a large package: the Python one is only skimmed (past the analysis budget), and
    # runs its code at the top level, with no main guard.
    monkeypatch.setattr(limits, "FULL_ANALYSIS_BYTES", 64)
    report = vet_repo(
        {
            "README.md": "# Tasks\n",
            "a.py": "x = 1\n" * 40,
            "apps/tasks/text_matching/data/download_data.sh": "wget https://x.example/d.tgz\n",
            "pkg/__init__.py": "",
            "pkg/datasets/download_scripts/cc/download_data_cc3m.py": (
                "import requests\nfor url in open('urls.txt'):\n    requests.get(url)\n"
            ),
            "data/train_tokenizer.py": "import sentencepiece as spm\nspm.train('corpus.txt')\n",
        }
    )
    assert _paths(report.entry_points.prepare) == [
        "apps/tasks/text_matching/data/download_data.sh",
        "data/train_tokenizer.py",
        "pkg/datasets/download_scripts/cc/download_data_cc3m.py",
    ]
    assert _paths(report.entry_points.train) == []


def test_a_paper_whose_section_the_code_implements_is_not_its_own(vet_repo: Vet) -> None:
    readme = (
        "# Fooocus\n\nAn image generating software.\n\n## Tech list\n\n"
        "4. We implemented a carefully tuned variation of Section 5.1 of "
        '["Improving Sample Quality of Diffusion Models Using Self-Attention Guidance"]'
        "(https://arxiv.org/pdf/2210.00939.pdf).\n"
    )
    report = vet_repo({"README.md": readme, "launch.py": "import torch\n"})
    assert not report.citation or report.citation.get("arxiv") is None
    # The code that implements the paper as a whole still names it.
    readme = "# SAG\n\nThis repository implements [Self-Attention Guidance](https://arxiv.org/abs/2210.00939).\n"
    report = vet_repo({"README.md": readme, "launch.py": "import torch\n"})
    assert report.citation and report.citation["arxiv"] == "2210.00939"


def test_a_packed_model_a_module_downloads_from_a_models_folder_is_a_checkpoint(
    vet_repo: Vet,
) -> None:
    code = (
        'data_url = "http://download.tensorflow.org/models/image/imagenet/inception-2015.tgz"\n'
        'labels_url = "http://download.tensorflow.org/models/image/imagenet/synset.txt"\n'
        "download.maybe_download_and_extract(url=data_url, download_dir='inception/')\n"
    )
    report = vet_repo({"README.md": "# Tutorials\n", "inception.py": code})
    urls = [w.url for w in report.weights]
    assert urls == ["http://download.tensorflow.org/models/image/imagenet/inception-2015.tgz"]
