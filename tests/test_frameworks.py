"""Frameworks and the versions the code was written for."""

from __future__ import annotations

from collections.abc import Callable

from forkvet.report import Framework, Report
from forkvet.vet.frameworks import python_max, readme_versions

Vet = Callable[..., Report]


def _fw(report: Report, name: str) -> Framework:
    return next(fw for fw in report.frameworks if fw.name == name)


def test_lua_torch_repository(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "train.lua": "require 'torch'\nrequire 'nn'\nrequire 'optim'\n"
            "local cmd = torch.CmdLine()\n",
            "sample.lua": "require 'torch'\n",
            "README.md": "# char-rnn\n\n    th train.lua -data_dir data/tinyshakespeare\n",
        }
    )
    assert report.frameworks[0].name == "lua-torch"
    assert report.languages[0].name == "Lua"
    assert [e.path for e in report.entry_points.train] == ["train.lua"]
    assert report.entry_points.commands[0].command.startswith("th train.lua")


def test_old_pytorch_api_implies_an_old_version(vet_repo: Vet) -> None:
    code = (
        "import torch\nfrom torch.autograd import Variable\n"
        "x = Variable(torch.zeros(1), volatile=True)\nloss = x.sum()\nprint(loss.data[0])\n"
    )
    fw = _fw(vet_repo({"train.py": code}), "pytorch")
    assert fw.version_spec == "<0.4"
    assert fw.python_max == "3.6"
    assert any("volatile" in e for e in fw.evidence)


def test_declared_pin_wins_over_hints(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "requirements.txt": "torch==1.4.0\ntorchvision==0.5.0\n",
            "train.py": "import torch\nwith torch.no_grad():\n    pass\n",
        }
    )
    fw = _fw(report, "pytorch")
    assert fw.version_spec == "==1.4.0" and fw.python_max == "3.8"


def test_keras_1_and_tensorflow_backend(vet_repo: Vet) -> None:
    code = (
        "from keras.models import Sequential\nfrom keras.layers import Dense, Merge\n"
        "model.fit(x, y, nb_epoch=10)\nimport tensorflow as tf\n"
    )
    report = vet_repo({"model.py": code})
    assert _fw(report, "keras").version_spec == "<2"
    assert {fw.name for fw in report.frameworks} >= {"keras", "tensorflow"}


def test_compat_v1_code_is_not_capped_at_tf1(vet_repo: Vet) -> None:
    code = "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\nsess = tf.Session()\n"
    assert _fw(vet_repo({"m.py": code}), "tensorflow").version_spec == ">=1.13"


def test_readme_versions_are_used_when_nothing_is_declared(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "m.py": "import tensorflow as tf\n",
            "README.md": "Requirements: TensorFlow 1.14 or 1.15 with GPU support.\n",
        }
    )
    # the newest 1.x on the code's date wins: the authors name their era, not an exact pin
    assert _fw(report, "tensorflow").version_spec == ">=1.14,<2"


def test_a_folder_readme_states_the_versions_of_that_folders_code(vet_repo: Vet) -> None:
    """One codebase per framework, each with its README: tf/README.md's TensorFlow version
    is the authors', while pytorch/README.md's TensorFlow mention is not (no TensorFlow code
    there), and the root README still comes first."""
    report = vet_repo(
        {
            "README.md": "# Model\n\nCode in PyTorch 1.0.1 (pytorch/) and TensorFlow (tf/).\n",
            "tf/README.md": "## Prerequisite\n\n- Python 2.7\n- Tensorflow [1.12.0](https://x)\n",
            "tf/train.py": "import tensorflow as tf\n",
            "pytorch/README.md": "Needs PyTorch 0.4; the TF 1.4 port is in tf/.\n",
            "pytorch/train.py": "import torch\n",
        }
    )
    assert _fw(report, "tensorflow").version_spec == "==1.12.0"
    assert any("tf/README.md" in e for e in _fw(report, "tensorflow").evidence)
    assert _fw(report, "pytorch").version_spec == "==1.0.1"


def test_readme_version_parsing() -> None:
    def spec(text: str, name: str = "tensorflow") -> str:
        return readme_versions(text)[name][0]

    assert spec("Install PyTorch>=1.0 and numpy", "pytorch") == ">=1.0,<2"
    assert spec("PyTorch 1.0+", "pytorch") == ">=1.0,<2"
    # the one version the authors ran is the pin (X.Y: that release line)
    assert spec("tested with pytorch 0.4.1", "pytorch") == "==0.4.1"
    assert spec("It was tested with TensorFlow 1.11.0.") == "==1.11.0"
    assert spec("Keras 2.1.5, TensorFlow 1.6.0 (tested environment)") == "==1.6.0"
    assert spec("Keras 2.1.5, TensorFlow 1.6.0 (tested environment)", "keras") == "==2.1.5"
    # a floor is not capped at its minor release
    assert spec("TensorFlow 1.10.0 or newer") == ">=1.10.0,<2"
    assert spec("at least TensorFlow 1.4") == ">=1.4,<2"
    assert spec("Tensorflow > 0.12") == ">=0.12,<2"  # 0.x grew into 1.x
    # release branch names are versions
    assert spec("Tensorflow r1.0.1") == "==1.0.1"
    assert spec("tensorflow (r0.12)") == "==0.12.*"
    # only == pins; a version that breaks the code is not one the authors used
    assert spec("pip install tensorflow==1.6.0") == "==1.6.0"
    assert spec("- PyTorch 0.4\n\nPyTorch 0.3 will break the detector.", "pytorch") == "==0.4.*"


def test_python_max_table() -> None:
    assert python_max("tensorflow", "<2") == "3.7"
    assert python_max("tensorflow", "==1.4.0") == "3.6"
    assert python_max("pytorch", ">=1.6") is None  # current releases allowed: no cap
    assert python_max("unknown", "==1.0") is None


def test_framework_folder_does_not_hide_the_framework(vet_repo: Vet) -> None:
    report = vet_repo(
        {"tensorflow/model.py": "import tensorflow as tf\n", "pytorch/model.py": "import torch\n"}
    )
    assert {fw.name for fw in report.frameworks} >= {"tensorflow", "pytorch"}
    assert {"tensorflow", "torch"} <= set(report.dependencies.imported)


def test_every_api_hint_is_reachable_through_its_needles() -> None:
    """Hints are only tried on files holding one of their framework's needles (for speed): a
    hint whose match contains none of them would silently never fire."""
    from forkvet.vet.frameworks import _NEEDLES, API_HINTS

    samples = (
        "tf.contrib.layers tf.Session() tf.mul( tensorflow.compat.v1 tf.function "
        "volatile = True x.data[0] torch.utils.ffi torch.rfft( torch._six torch.solve( "
        "torch.no_grad( torch.cuda.amp torch.fft.fft( torch.inference_mode weights_only= "
        "torch.compile( nb_epoch= border_mode = subsample=( keras.layers.Merge keras.ops "
        "from keras import ops"
    )
    for framework, rx, _, why in API_HINTS:
        found = [m.group(0) for m in rx.finditer(samples)]
        assert found, f"no sample for the hint {why!r}: add one"
        assert all(any(n in m for n in _NEEDLES[framework]) for m in found), why


def test_a_version_conflict_names_both_sides(vet_repo: Callable[..., Report]) -> None:
    """'Conflicting pytorch versions (>=0.4,<0.4)' named no file: the finding says where the
    declaration and the API call are, so the reader can judge which one is stale."""
    report = vet_repo(
        {
            "requirements.txt": "torch>=0.4\n",
            "train.py": "import torch\nfrom torch.autograd import Variable\n"
            "x = Variable(torch.zeros(1), volatile=True)\n",
        }
    )
    (finding,) = [f for f in report.findings if f.title == "Conflicting pytorch versions"]
    assert "requirements.txt:1: declared torch>=0.4" in finding.message
    assert "train.py:3: Variable(volatile=True)" in finding.message
