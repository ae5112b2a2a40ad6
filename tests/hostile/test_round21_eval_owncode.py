"""Round 20a F2, F7, F8 (fixed in round 21): config strings a library evaluates, and the
repository's own-code exemption judged by what the module binds, not by a spelling.

F2: YOLOv5/v7/v9's parse_model evaluates every module and argument string of a model YAML.
F7: rl_zoo3 evaluates a hyperparameter YAML's policy_kwargs inside the installed library.
F8: `class Net` then `Net = subprocess.Popen`, a decorator returning Popen, a module-level
`__getattr__`, a `staticmethod(Popen)` class attribute all passed as own code.
The real loaders run these payloads in tests/hostile/test_loader_differential.py
(yolov5-parse-model-args, rl-zoo3-policy-kwargs, hydra-own-name-*)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report, Risk

Vet = Callable[..., Report]


def _errors(report: Report) -> list[Risk]:
    return [r for r in report.risks if r.kind == "code-in-data" and r.severity == "error"]


def _paths(report: Report) -> set[str]:
    return {r.path or "" for r in _errors(report)}


# -- F8: the own-code exemption -------------------------------------------------------------------
_NETS = {
    "build.py": "from hydra.utils import instantiate\n",
    "nets/__init__.py": "",
    # rebinding after the class
    "nets/b.py": "import subprocess\n\nclass Net:\n    pass\n\nNet = subprocess.Popen\n",
    # a decorator of the module's own returning another callable
    "nets/d.py": "import subprocess\n\ndef register(fn):\n    return subprocess.Popen\n\n"
    "@register\ndef Net(*a, **k):\n    pass\n",
    # PEP 562: any missing name comes from code
    "nets/e.py": "import subprocess\n\ndef __getattr__(name):\n    return subprocess.Popen\n",
    # a class attribute that is no method
    "nets/f.py": "import subprocess\n\nclass Model:\n    build = staticmethod(subprocess.Popen)\n",
    # a tuple assignment, globals(), sys.modules, a stdlib base class, a walrus
    "nets/g.py": "import os\n\ndef Net():\n    pass\n\nNet, other = os.system, 1\n",
    "nets/h.py": "import os\n\nclass Net:\n    pass\n\nglobals()['Net'] = os.system\n",
    "nets/i.py": "import sys, os\n\nclass Net:\n    pass\n\nsys.modules[__name__] = os\n",
    "nets/o.py": "import os\n\nclass Net:\n    pass\n\nvars().update(Net=os.system)\n",
    "nets/j.py": "import subprocess\n\nclass Net(subprocess.Popen):\n    pass\n",
    "nets/k.py": "import os\n\nclass Net:\n    pass\n\nif (Net := os.system):\n    pass\n",
    # an inherited attribute of an own base that is no method
    "nets/l.py": "import os\n\nclass Base:\n    run = staticmethod(os.system)\n\n"
    "class Model(Base):\n    pass\n",
    # a module forkvet cannot parse (newer syntax, or not Python at all): not provably own
    "nets/m.py": "class Net:\n    pass\nNet = (\n",
    # a source encoding whose text is not what forkvet reads
    "nets/n.py": "# -*- coding: unicode_escape -*-\nclass Net:\n    pass\n",
}


@pytest.mark.parametrize(
    "target",
    [
        "nets.b.Net",
        "nets.d.Net",
        "nets.e.ResNet50",
        "nets.f.Model.build",
        "nets.g.Net",
        "nets.h.Net",
        "nets.i.Net",
        "nets.o.Net",
        "nets.j.Net",
        "nets.k.Net",
        "nets.l.Model.run",
        "nets.m.Net",
        "nets.n.Net",
    ],
)
def test_an_own_name_the_module_rebinds_is_no_own_code(vet_repo: Vet, target: str) -> None:
    config = f"model:\n  _target_: {target}\n  args: [touch, x]\n"
    report = vet_repo({**_NETS, "configs/m.yaml": config})
    assert "configs/m.yaml" in _paths(report), report.risks


def test_own_classes_and_functions_defined_once_stay_own(vet_repo: Vet) -> None:
    files = {
        "build.py": "from hydra.utils import instantiate\n",
        "nets/__init__.py": "from .model import Net\n",
        "nets/model.py": "import torch\nimport torch.nn as nn\nfrom dataclasses import dataclass\n"
        "import functools\nfrom mmengine.registry import MODELS\n\n"
        "@dataclass\nclass Cfg:\n    depth: int = 2\n\n"
        "@MODELS.register_module()\nclass Net(nn.Module):\n"
        "    @classmethod\n    def build(cls, **kw):\n        return cls()\n\n"
        "class Child(Net):\n    pass\n\n"
        "@functools.lru_cache\ndef make(depth=2):\n    return Net()\n\n"
        "LABELS = ['cat', 'dog']\n",
        # reading the namespace binds nothing; a fallback of None to an import neither
        "nets/reg.py": "try:\n    import torch\nexcept ImportError:\n    torch = None\n\n"
        "class Net(torch.nn.Module):\n    pass\n\n"
        "def find(name):\n    return globals().get(name) or globals()[name]\n",
        "configs/a.yaml": "a: {_target_: nets.Net}\nb: {_target_: nets.model.Cfg}\n"
        "c: {_target_: nets.model.Net.build}\nd: {_target_: nets.model.make}\n"
        "e: {_target_: nets.model.Child.build}\nf: {_target_: nets.model.Child.forward}\n"
        "g: {_target_: nets.model.Missing}\nh: {_target_: nets.reg.Net}\n",
    }
    assert not _errors(vet_repo(files)), _errors(vet_repo(files))


# -- F2/F7: strings a library evaluates ----------------------------------------------------------
_YOLO = "models/yolo.py"
_YOLO_CODE = (
    "import contextlib\nimport torch.nn as nn\nfrom models.common import *\n\n"
    "def parse_model(d):\n    for f, n, m, args in d['backbone'] + d['head']:\n"
    "        m = eval(m) if isinstance(m, str) else m\n"
    "        for j, a in enumerate(args):\n"
    "            with contextlib.suppress(NameError):\n"
    "                args[j] = eval(a) if isinstance(a, str) else a\n"
)
_COMMON = (
    "import subprocess as sp\nimport torch.nn as nn\n"
    "from utils.general import check_requirements\n\n"
    "class Conv(nn.Module):\n    pass\n\nclass C3(nn.Module):\n    pass\n"
)
_GENERAL = "import subprocess\n\ndef check_requirements(reqs=()):\n    subprocess.run(reqs)\n"


def _yolo(layer: str) -> dict[str, str]:
    return {
        _YOLO: _YOLO_CODE,
        "models/common.py": _COMMON,
        "utils/general.py": _GENERAL,
        "models/yolov5s.yaml": "nc: 80\nbackbone:\n  [[-1, 1, Conv, [64, 6, 2, 2]],\n"
        "   [-1, 3, C3, [128]]]\nhead:\n  [" + layer + "]\n",
    }


@pytest.mark.parametrize(
    "layer",
    [
        # 20a F2's payload, and the same through other shapes of an expression
        "[-1, 1, Conv, [\"__import__('os').system('touch m') or 64\", 1]]",
        "[-1, 1, os.system, [\"'touch m'\"]]",  # a module the loader calls
        "[-1, 1, subprocess.Popen, [\"['touch', 'm']\"]]",
        '[-1, 1, Conv, ["(lambda: 64)()"]]',
        '[-1, 1, Conv, ["[c for c in ().__class__.__mro__]"]]',
        "[-1, 1, Conv, [\"getattr(nn, 'Module')\"]]",
        "[-1, 1, Conv, [\"check_requirements(('evilpkg',))\"]]",  # the tree's function
        # eval named as the module: its argument yields a string that eval runs
        "[-1, 1, eval, [\"\\\"__import__('os').system('touch m')\\\"\"]]",
        '[-1, 1, eval, ["\'__imp\' + \'ort__(\\"os\\").system(\\"touch m\\")\'"]]',
        "[-1, 1, eval, [\"''.join(['o', 's'])\"]]",
        "[-1, 1, Conv, [\"list(map(eval, ['1']))\"]]",
        "[-1, 1, sp.run, [\"'x'\"]]",  # a standard module under the tree's alias
        # 3.12's f-strings nest the same quotes: forkvet's 3.11 parser refuses what 3.12 runs
        '[-1, 1, Conv, [\'f"{__import__("os").system("x")}"\']]',
    ],
)
def test_a_model_yaml_string_that_is_code_is_an_error(vet_repo: Vet, layer: str) -> None:
    report = vet_repo(_yolo(layer))
    errors = [r for r in _errors(report) if r.path == "models/yolov5s.yaml"]
    assert errors, report.risks
    assert "Python code" in errors[0].message and errors[0].line == 6


def test_an_upstream_model_yaml_passes(vet_repo: Vet) -> None:
    layer = (
        "[-1, 1, nn.Upsample, [None, 2, 'nearest']], [[-1, 6], 1, Concat, [1]],\n"
        "   [-1, 1, torch.nn.Identity, []], [[17, 20], 1, Detect, [nc, anchors]],\n"
        '   [-1, 1, Conv, ["math.ceil(64 * width_multiple)", 1]]'
    )
    report = vet_repo(_yolo(layer))
    assert "models/yolov5s.yaml" not in _paths(report), _errors(report)


_ZOO = "python -m rl_zoo3.train --algo ppo --env CartPole-v1 -conf hyperparams/ppo.yml\n"


@pytest.mark.parametrize(
    "kwargs",
    [
        "dict(net_arch=[8], optimizer_kwargs=dict(eps=1e-5 if __import__('os').system('x') "
        "== 0 else 1e-5))",  # 20a F7's payload
        "dict(activation_fn=subprocess.Popen)",
        "dict(features_extractor_class=get_class_by_name('subprocess.Popen'))",
        "dict(net_arch=[int(x) for x in '88'])",
    ],
)
def test_rl_zoo_policy_kwargs_that_are_code_are_an_error(vet_repo: Vet, kwargs: str) -> None:
    report = vet_repo(
        {
            "README.md": _ZOO,
            "hyperparams/ppo.yml": "CartPole-v1:\n  n_envs: 1\n  policy: 'MlpPolicy'\n"
            f'  policy_kwargs: "{kwargs}"\n',
        }
    )
    assert "hyperparams/ppo.yml" in _paths(report), report.risks


def test_upstream_rl_zoo_hyperparameters_and_ordinary_configs_pass(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "README.md": _ZOO,
            "hyperparams/ppo.yml": "atari:\n  env_wrapper:\n"
            "    - stable_baselines3.common.atari_wrappers.AtariWrapper\n"
            "  frame_stack: 4\n  policy: 'CnnPolicy'\n  learning_rate: lin_2.5e-4\n"
            '  policy_kwargs: "dict(log_std_init=-2, ortho_init=False, activation_fn=nn.ReLU,'
            ' net_arch=dict(pi=[256, 256], vf=[256, 256]))"\n'
            "  normalize: \"{'norm_obs': True, 'norm_reward': False}\"\n"
            "  optimizer: th.optim.RMSprop\n  callback:\n"
            "    - rl_zoo3.callbacks.ParallelTrainCallback:\n        gradient_steps: 256\n",
            # words, labels, paths, templates, GitHub's expression language
            "data/coco.yaml": "path: ../datasets/coco\ntrain: train2017.txt\nval: val.txt\n"
            "weights: yolov5s.pt\nnames:\n  0: crane (bird)\n  1: crane (machine)\n"
            "  2: eval\n  3: input\nsplit: eval/local_data/squad.jsonl\n"
            "template: \"{{' ' + text.split(' ')[-1]}}\"\ntitle: Return (95% CIs)\n",
            "conf/log.json": '{"handlers": {"h": {"handler": "logging.StreamHandler"}},'
            ' "limit": "open-pull-requests-limit"}',
            ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    if: always()\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n",
        }
    )
    assert not _errors(report), _errors(report)


def test_a_large_model_yaml_with_code_shapes_is_not_verified(vet_repo: Vet) -> None:
    big = "nc: 80\n" + "# padding\n" * 300_000 + "head: [[-1, 1, Conv, ['os.system(1)']]]\n"
    report = vet_repo({_YOLO: _YOLO_CODE, "models/big.yaml": big})
    [error] = [r for r in _errors(report) if r.path == "models/big.yaml"]
    assert "NOT verified" in error.message


# -- F8 for pickles: a pickled class of the tree's module that the module rebinds ---------------
def _pickle_of(module: str, name: str) -> bytes:
    # protocol 4, no newline (a CRLF checkout would change GLOBAL's): STACK_GLOBAL of two
    # SHORT_BINUNICODE, EMPTY_TUPLE, REDUCE (calls it), STOP
    m, n = module.encode(), name.encode()
    return b"\x80\x04\x8c" + bytes([len(m)]) + m + b"\x8c" + bytes([len(n)]) + n + b"\x93)R."


def test_a_pickled_own_class_the_module_rebinds_is_dangerous(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "nets/__init__.py": "",
            "nets/b.py": _NETS["nets/b.py"],
            "nets/ok.py": "class Net:\n    pass\n",
            "weights/bad.pt": _pickle_of("nets.b", "Net"),
            "weights/ok.pt": _pickle_of("nets.ok", "Net"),
        }
    )
    kinds = {r.path: r.kind for r in report.risks if r.kind.endswith("-pickle")}
    assert kinds == {"weights/bad.pt": "dangerous-pickle", "weights/ok.pt": "unsafe-pickle"}
