"""Python 2 or 3, and which version to build with — from all of Python 2's signs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report

Vet = Callable[..., Report]

CAFFE_PY2 = {
    "tools/train_net.py": (
        "#!/usr/bin/env python\nimport _init_paths\nimport caffe\nimport cPickle\n"
        "import numpy as np\nimport argparse\n\n"
        "def parse_args():\n    parser = argparse.ArgumentParser()\n"
        "    parser.add_argument('--gpu', dest='gpu_id', default=0, type=int)\n"
        "    return parser.parse_args()\n\n"
        "if __name__ == '__main__':\n    args = parse_args()\n"
        "    print 'Called with args:'\n    print args\n"
    ),
    "tools/_init_paths.py": "import sys\nsys.path.insert(0, 'lib')\n",
    "lib/fast_rcnn/config.py": "from easydict import EasyDict as edict\n__C = edict()\n",
    "models/VGG16/train.prototxt": 'name: "VGG_ILSVRC_16_layers"\nlayer { type: "Data" }\n',
}


def test_python2_caffe_repository(vet_repo: Vet) -> None:
    report = vet_repo(CAFFE_PY2)
    py = report.python
    assert py.majors == [2] and py.recommended == "2.7"
    assert any("print statement" in e for e in py.evidence)
    assert any(fw.name == "caffe" for fw in report.frameworks)
    # Python 2 files still yield their imports (pipreqs would abort here).
    assert "easydict" in report.dependencies.imported
    assert "numpy" in report.dependencies.imported
    assert "cpickle" not in report.dependencies.imported  # stdlib of Python 2


@pytest.mark.parametrize(
    ("code", "sign"),
    [
        ("print 'hello'\n", "print statement"),
        ("print >>sys.stderr, 'x'\n", "print statement"),
        ("exec 'x = 1'\n", "exec statement"),
        ("try:\n    pass\nexcept ValueError, e:\n    pass\n", "except E, e"),
        ("x = `42`\n", "backticks"),
        ("if 1 <> 2:\n    pass\n", "<> operator"),
        ("import os\nos.chmod('f', 0777)\n", "octal literal"),
        ("s = ur'raw'\n", "ur'' string"),
        ("raise ValueError, 'bad'\n", "raise E, msg"),
        ("n = 10L\n", "long literal"),
    ],
)
def test_each_python2_syntax_sign(vet_repo: Vet, code: str, sign: str) -> None:
    py = vet_repo({"old.py": code}).python
    assert py.majors == [2]
    assert any(sign in e for e in py.evidence), py.evidence


def test_tabs_and_spaces_mixed_is_python2(vet_repo: Vet) -> None:
    code = "def f(x):\n    if x:\n\treturn 1\n    return 2\n"
    py = vet_repo({"old.py": code}).python
    assert py.majors == [2]
    assert any("tabs and spaces" in e for e in py.evidence)


def test_python2_runtime_names_without_syntax_signs(vet_repo: Vet) -> None:
    code = "for i in xrange(10):\n    d = {}\n    for k, v in d.iteritems():\n        pass\n"
    assert vet_repo({"loop.py": code}).python.majors == [2]


def test_python2_detected_from_readme_when_code_is_neutral(vet_repo: Vet) -> None:
    py = vet_repo({"a.py": "x = 1\n", "README.md": "Requires Python 2.7 and Theano.\n"}).python
    assert py.majors == [2]


def test_compat_code_runs_on_both(vet_repo: Vet) -> None:
    code = (
        "from __future__ import print_function\nimport six\n"
        "if six.PY2:\n    text = unicode('x')\nprint('ok')\n"
    )
    assert vet_repo({"compat.py": code}).python.majors == [2, 3]


def test_python3_minimum_from_vermin_and_evidence(vet_repo: Vet) -> None:
    py = vet_repo({"m.py": "name = 'x'\nprint(f'{name}')\n"}).python
    assert py.majors == [3] and py.min_version == "3.6"
    assert any("f-string" in e for e in py.evidence)


def test_removed_module_caps_the_version(vet_repo: Vet) -> None:
    py = vet_repo({"m.py": "import imp\nfrom collections import Mapping\nprint(f'{1}')\n"}).python
    assert py.max_version == "3.9"  # collections.Mapping went away in 3.10
    assert py.recommended is not None and py.recommended <= "3.9"


def test_recommendation_follows_the_code_date(vet_repo: Vet) -> None:
    old = vet_repo({"m.py": "print(f'{1}')\n"}, name="old", date="2018-09-01T00:00:00+00:00")
    new = vet_repo({"m.py": "print(f'{1}')\n"}, name="new", date="2021-06-01T00:00:00+00:00")
    assert old.python.recommended == "3.6"
    assert new.python.recommended == "3.8"


def test_tensorflow_1_caps_python_at_37(vet_repo: Vet) -> None:
    report = vet_repo(
        {"m.py": "import tensorflow as tf\nsess = tf.Session()\n"}, date="2022-06-01T00:00:00+00:00"
    )
    assert report.python.recommended == "3.7"
    assert any("tensorflow" in e for e in report.python.evidence)


def test_declared_version_is_the_authors_word(vet_repo: Vet) -> None:
    py = vet_repo(
        {
            "m.py": "print(1)\n",
            "environment.yml": "name: x\ndependencies:\n  - python=3.6\n  - numpy\n",
        },
        date="2023-01-01T00:00:00+00:00",
    ).python
    assert py.recommended == "3.6"


def test_mixed_repository_reports_the_minority(vet_repo: Vet) -> None:
    report = vet_repo(
        {"a.py": "print(f'{1}')\n", "b.py": "print(f'{2}')\n", "tools/old.py": "print 'x'\n"}
    )
    assert report.python.majors == [3]
    assert any(f.title == "Mixed Python 2 and 3 code" for f in report.findings)


def test_no_python_files(vet_repo: Vet) -> None:
    py = vet_repo({"train.lua": "require 'torch'\n"}).python
    assert py.majors == [] and py.recommended is None


def test_minimum_from_syntax_holds_beyond_vermins_budget(
    vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """vermin reads a byte budget of files (it is the slow part); syntax that needs a newer
    Python is still found in every file, so a large repository's minimum is not understated."""
    from forkvet import limits

    monkeypatch.setattr(limits, "VERMIN_MAX_BYTES", 40)
    report = vet_repo(
        {
            "train.py": "import torch\nprint('training')\n",
            "deep/inside/utils.py": "def first(xs):\n    if (n := len(xs)) > 0:\n"
            "        return xs[0], n\n",
            "deep/inside/loop.py": "match x:\n    case 1:\n        pass\n",
        }
    )
    py = report.python
    assert py.min_version == "3.10"
    assert any("deep/inside/loop.py:1: match statement" in e for e in py.evidence)
    assert any("vermin read 1 of 3 Python files" in e for e in py.evidence)


def test_parameters_named_like_python2_builtins_and_starred_print_are_python3(
    vet_repo: Vet,
) -> None:
    # `reduce` here is a parameter, not Python 2's builtin; print(x, *args) cannot be
    # Python 2's print statement.
    code = (
        "import datetime\n\n"
        "class Loss(object):\n"
        "    def __init__(self, size_average=None, reduce=None, reduction='sum'):\n"
        "        super(Loss, self).__init__()\n"
        "        self.args = (size_average, reduce, reduction)\n\n"
        "def log(*args, **kwargs):\n"
        "    print(datetime.datetime.now(), *args, **kwargs)\n"
    )
    py = vet_repo({"main_train.py": code}).python
    assert py.majors == [3]
    assert not any("reduce" in e for e in py.evidence)


def test_neutral_code_beside_a_python3_notebook_is_both(vet_repo: Vet) -> None:
    neutral = (
        "from __future__ import print_function\nimport six\n\n"
        "def run(x):\n    if six.PY2:\n        return x\n    print('value', x)\n"
    )
    cell = {"cell_type": "code", "source": "name = 'x'\nprint(f'{name}')\n"}
    notebook = '{"cells": [' + __import__("json").dumps(cell) + "]}"
    report = vet_repo({"modeling.py": neutral, "run.py": neutral, "colab.ipynb": notebook})
    assert report.python.majors == [2, 3]


def test_a_universal_wheel_is_both(vet_repo: Vet) -> None:
    report = vet_repo(
        {"setup.cfg": "[bdist_wheel]\nuniversal = 1\n", "lib.py": "def f(x):\n    return x\n"}
    )
    assert report.python.majors == [2, 3]


def test_python2_tuple_parameters_are_no_syntax_error(vet_repo: Vet) -> None:
    """dcgan_code's lib/vis.py: `def grayscale_grid_vis(X, (nh, nw), save_path=None):` is legal
    Python 2 that Python 3's parser rejects; in Python 2 code that is no syntax error."""
    report = vet_repo(
        {
            "train.py": "import numpy as np\nprint 'training'\n",
            "lib/vis.py": "def grid_vis(X, (nh, nw), save_path=None):\n    return X\n",
        }
    )
    assert report.python.majors == [2]
    assert not [f for f in report.findings if f.title == "Syntax error"], report.findings
    py3 = vet_repo({"a.py": "def f(:\n    pass\n", "b.py": "print(1)\n"}, name="py3")
    assert [f for f in py3.findings if f.title == "Syntax error"]
