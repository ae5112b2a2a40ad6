"""The code's API narrows the pins (and a stated version it contradicts is said); optional
integrations (behind a flag, in an export script) are not required."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from forkvet.envgen import api_evidence, optional
from forkvet.envgen.names import Need, NeedSet
from tests.conftest import MakeRepo
from tests.pkgindex import Dist, PackageIndex

FLAGS_MAIN = """\
import json
import tensorflow as tf
from utils import load

flags = tf.app.flags
flags.DEFINE_integer("epoch", 25, "epochs")
FLAGS = flags.FLAGS


def main(_):
    # absl FlagValues: iterable and indexable since TensorFlow 1.5
    flags_dict = {k: FLAGS[k].value for k in FLAGS}
    json.dump(flags_dict, open("flags.json", "w"))
"""

UTILS = """\
import numpy as np
import scipy.misc


def load(path):
    return scipy.misc.imread(path, flatten=True).astype(np.float)
"""


def test_uses_are_found_through_aliases_not_in_strings_or_comments() -> None:
    src = (
        "import numpy as np\n"
        "from scipy import misc\n"
        "from sklearn.cross_validation import train_test_split\n"
        "s = 'np.asscalar(x)'  # np.asscalar(x)\n"
        "y = misc.imresize(x, 2)\n"
        "from keras.layers import merge\n"
        "z = merge([a, b], mode='concat')\n"
    )
    found = {(u.fact.api, u.line) for u in api_evidence.find_uses([("m.py", src)])}
    assert ("scipy.misc.imresize", 5) in found
    assert ("sklearn.cross_validation", 3) in found
    assert ("keras.layers.merge", 7) in found  # called: the Keras < 2.2 function
    assert not any(api == "numpy.asscalar" for api, _ in found)  # only in a string/comment
    # the module keras.layers.merge (still there in 2.2+) is no evidence when not called
    modern = "from keras.layers import merge\nx = merge.concatenate([a, b])\n"
    assert api_evidence.find_uses([("n.py", modern)]) == []


def test_flags_iteration_and_python2_files() -> None:
    uses = api_evidence.find_uses([("main.py", FLAGS_MAIN)])
    assert [(u.fact.api, u.where) for u in uses] == [("tensorflow.app.flags.FLAGS", "main.py:12")]
    py2 = "import numpy as np\nprint 'old'\nx = np.asscalar(a)\nimport sklearn.grid_search\n"
    found = {(u.fact.api, u.line) for u in api_evidence.find_uses([("old.py", py2)])}
    assert found == {("numpy.asscalar", 3), ("sklearn.grid_search", 4)}


def test_every_fact_names_its_source_and_a_valid_specifier() -> None:
    from packaging.specifiers import SpecifierSet

    for fact in api_evidence.facts():
        assert fact.use in api_evidence.USES and fact.source.strip(), fact
        SpecifierSet(fact.spec)


def test_stated_versions_the_api_rules_out() -> None:
    assert api_evidence.conflict("==0.12.1", ">=1.5")
    assert api_evidence.conflict("<1.0", ">=1.5")
    assert not api_evidence.conflict(">=1.0", ">=1.5")
    assert not api_evidence.conflict("==1.6.0", ">=1.5,<2")
    assert api_evidence.merge("==0.12.1", ">=1.5") == ">=1.5"  # the code outranks the README
    assert api_evidence.merge(">=1.2", "<2") == ">=1.2,<2"
    # the version the authors name stays exactly as written when the API agrees with it
    assert api_evidence.merge("==2.0.*", ">=0.4") == "==2.0.*"
    assert api_evidence.merge("==1.4.1", ">=0.12,<2") == "==1.4.1"


def test_optional_integrations_are_marked_and_said() -> None:
    needs = NeedSet(
        [
            Need("tensorrt", why="imported"),
            Need("tensorboardx", why="imported"),
            Need("pycocotools", why="imported"),
            Need("onnx", why="imported"),
        ]
    )
    texts = {
        "export/trt.py": "import tensorrt\n",
        "train.py": (
            "import os\n"
            "def main(opt, args):\n"
            "    if opt.tf_log and not args.quiet:\n"
            "        import tensorboardX\n"
            "    if args.dataset == 'coco':\n"
            "        import pycocotools\n"
        ),
        "to_onnx.py": "import onnx\n",
    }
    uses = {
        "tensorrt": [("export/trt.py", 1, False, "tensorrt")],
        "tensorboardx": [("train.py", 4, False, "tensorboardX")],
        "pycocotools": [("train.py", 6, False, "pycocotools")],
        "onnx": [("to_onnx.py", 1, False, "onnx")],
    }
    readme = "Export to ONNX: `pip install onnx`, then run to_onnx.py.\n"
    notes = optional.mark(needs, uses, texts, readme, keep=[])
    kinds = {n.name: n.kind for n in needs.needs}
    # a dataset choice is a code path, and the README asks for onnx: both stay required
    assert kinds == {
        "tensorrt": "optional",
        "tensorboardx": "optional",
        "pycocotools": "main",
        "onnx": "main",
    }
    assert any("tensorrt" in n and "export/trt.py:1" in n for n in notes), notes
    assert any("tensorboardx" in n and "behind a flag" in n for n in notes), notes


DISTS = [
    Dist("tensorflow", "0.12.1", "2016-12-23T00:00:00Z", ["numpy"]),
    Dist("tensorflow", "1.5.0", "2018-01-26T00:00:00Z", ["numpy"]),
    Dist("scipy", "1.2.1", "2019-02-09T00:00:00Z", ["numpy"]),
    Dist("scipy", "1.3.0", "2019-05-17T00:00:00Z", ["numpy"]),
    Dist("numpy", "1.16.4", "2019-05-29T00:00:00Z"),
    Dist("pillow", "6.0.0", "2019-04-01T00:00:00Z"),
    # an export runtime and a logger whose only releases came after the code's date
    Dist("trtlike", "8.0.0", "2022-01-01T00:00:00Z"),
    Dist("tblike", "2.0.0", "2022-01-01T00:00:00Z"),
]


@pytest.fixture
def api_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[PackageIndex]:
    pytest.importorskip("uv")
    with PackageIndex(DISTS) as idx:
        monkeypatch.setenv("UV_INDEX_URL", idx.url)
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
        yield idx


def test_the_code_s_api_outranks_a_stale_readme_and_integrations_stay_optional(
    api_index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "README.md": "## Prerequisites\n\n- Tensorflow 0.12.1\n- SciPy\n",
            "main.py": FLAGS_MAIN,
            "utils.py": UTILS,
            "export_trt.py": "import trtlike\n",
            "log.py": "def setup(opt):\n    if opt.tb:\n        import tblike\n",
        },
        date="2019-07-15T10:00:00+00:00",
    )
    code = main(["env", str(repo), "--out", str(tmp_path / "out"), "--format", "json"])
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    assert code == 0 and data["complete"] is True, data["problems"]
    assert pins["tensorflow"] == "1.5.0"  # FLAGS iteration: absl flags, TensorFlow 1.5+
    assert pins["scipy"] == "1.2.1"  # scipy.misc.imread: before SciPy 1.3
    said = "\n".join(data["problems"])
    assert "conflicts with the code's API" in said and "main.py:12" in said, said
    assert "scipy<1.3 from the code's API: utils.py:6" in said, said
    # scipy.misc.imread exists only with Pillow installed: the code never imports it itself
    assert pins["pillow"] == "6.0.0" and "needed by scipy.misc.imread at utils.py:6" in said
    # the export runtime and the flagged logger: listed optional, never pinned after the date
    assert {"trtlike", "tblike"} <= set(data["optional"])
    assert "trtlike" not in pins and "tblike" not in pins
    assert "export_trt.py:1" in said and "behind a flag" in said


def test_readme_versions_in_parentheses_and_link_text() -> None:
    from forkvet.vet.frameworks import readme_versions

    # "tested with vX" inside parentheses, and a version that is a Markdown link's text
    assert readme_versions(" - Tensorflow (tested with v1.8.0)\n") == {"tensorflow": ("==1.8.0", 1)}
    link = "- Tensorflow [1.12.0](https://example.org/tensorflow/releases/tag/v1.12.0)\n"
    assert readme_versions(link) == {"tensorflow": ("==1.12.0", 1)}


def test_keras_2_names_outrank_a_keras_1_hint_and_the_conflict_is_said() -> None:
    from forkvet.report import Framework

    files = [
        ("resnet50.py", "from keras.layers import Conv2D\nx = Conv2D(64, (7, 7))\n"),
        ("old.py", "from keras.layers import Convolution2D\nConvolution2D(64, 3, 3)\n"),
    ]
    fw, notes = api_evidence.apply(files, NeedSet(), Framework("keras", "<2"))
    assert fw is not None and fw.version_spec == ">=2.0"
    assert "conflicts with the code's API (resnet50.py:1:" in notes[0], notes
