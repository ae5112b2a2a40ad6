"""Round 20a (fixed in round 21), config readers that instantiate code beyond YAML/JSON: gin
`@references` under dynamic registration (F1), Python configs for mmengine and Detectron2's
LazyConfig (F3), Hydra `_target_` in TOML and INI (F5), an OmegaConf resolver registered with
a command runner (F11). One rule for all: what the loader resolves is judged by the allow-list
`_target_` gets. Loader-differential rows: tests/hostile/test_loader_differential.py
(gin-config, mmengine-config, hydra-toml/ini-config, omegaconf-resolver)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report, Risk
from forkvet.vet import configformats

README = {"README.md": "# Model\n"}


def _errors(report: Report) -> list[Risk]:
    return [r for r in report.risks if r.kind == "code-in-data" and r.severity == "error"]


def _paths(report: Report) -> list[str]:
    return sorted(r.path or "" for r in _errors(report))


# -- F1: gin-config ------------------------------------------------------------------------------
GIN_HEAD = "from __gin__ import dynamic_registration\n"


@pytest.mark.parametrize(
    "body",
    [
        "import subprocess\ntrain.callback = @subprocess.Popen()\n",
        "import subprocess as sp\ntrain.callback = @sp.Popen\n",
        "from os import path\nimport subprocess\ntrain:\n  cb = @eval/subprocess.Popen()\n",
        "import subprocess\ntrain.callbacks = [1, {'a': @  subprocess.Popen()}]\n",
        "import os.path\ntrain.callback = @os.system()\n",
        "from importlib import resources as r\ntrain.callback = @r.files\n",
    ],
    ids=["call", "alias", "scope-block", "nested-spaced", "dotted-import", "from-alias"],
)
def test_a_gin_reference_through_an_import_naming_code_is_an_error(
    vet_repo: Callable[..., Report], body: str
) -> None:
    report = vet_repo({**README, "configs/base.gin": GIN_HEAD + body})
    assert _paths(report) == ["configs/base.gin"], report.risks


def test_gin_text_is_found_by_content_and_in_python_strings(
    vet_repo: Callable[..., Report],
) -> None:
    bindings = (
        "import gin\ngin.parse_config([\n"
        f"    {GIN_HEAD.strip()!r},\n    'import subprocess',\n"
        "    'train.callback = @subprocess.Popen()',\n])\n"
    )
    files = {
        **README,
        "train.py": bindings,
        "configs/base.txt": GIN_HEAD + "import os\nx.y = @os.system()\n",
    }
    assert _paths(vet_repo(files)) == ["configs/base.txt", "train.py"]


def test_gin_references_of_own_known_or_registered_code_pass(
    vet_repo: Callable[..., Report],
) -> None:
    files = {
        **README,
        "model.py": "class Net:\n    pass\n",
        "configs/a.gin": GIN_HEAD + "import model\nimport torch.optim\ntrain.net = @model.Net()\n"
        "train.opt = @torch.optim.Adam\ntrain.x = @gin.singleton()\n",
        # no dynamic registration: `@name` is a configurable the code registered
        "configs/b.gin": "import subprocess\ntrain.callback = @subprocess.Popen()\n",
        "configs/c.gin": GIN_HEAD + "train.callback = @Popen()\n",  # not imported: NameError
    }
    assert _paths(vet_repo(files)) == []


def test_a_gin_text_too_large_to_read_whole_is_not_verified(
    vet_repo: Callable[..., Report],
) -> None:
    big = GIN_HEAD + "import subprocess\n" + "# pad\n" * ((2 << 20) // 6 + 100) + "x.y = @a.b\n"
    found = _errors(vet_repo({**README, "configs/big.gin": big}))
    assert [r.path for r in found] == ["configs/big.gin"] and "NOT verified" in found[0].message


def test_gin_references_of_the_running_scripts_and_known_libraries_pass(
    vet_repo: Callable[..., Report],
) -> None:
    gin = (
        GIN_HEAD + "import __main__ as main\nimport optax\nimport seqio\n"
        "train.task = @main.make_task()\ntrain.opt = @optax.adamw\n"
        "train.vocab = @seqio.SentencePieceVocabulary()\n"
    )
    script = "def make_task():\n    return 1\n\nif __name__ == '__main__':\n    pass\n"
    files = {**README, "run.py": script, "configs/a.gin": gin}
    assert _paths(vet_repo(files)) == []
    evil = GIN_HEAD + "import __main__ as main\ntrain.task = @main.os.system()\n"
    assert _paths(vet_repo({**files, "configs/a.gin": evil}, name="again")) == ["configs/a.gin"]


def test_gin_reading_is_what_gin_resolves() -> None:
    text = (
        GIN_HEAD
        + "import a.b.c\nimport a.b.c as d\nfrom e.f import g as h\nk = [@a.x, @d.y(), @h.z]\n"
    )
    assert [t for t, _ in configformats.gin_references(text)] == ["a.x", "a.b.c.y", "e.f.g.z"]


def test_a_gin_file_in_an_absent_submodule_is_not_verified(
    vet_repo: Callable[..., Report],
) -> None:
    files = {
        ".gitmodules": '[submodule "c"]\n\tpath = third_party/cfgs\n\turl = https://e.org/c.git\n',
        "README.md": "```\npython train.py --gin_file=third_party/cfgs/base.gin\n```\n",
        "train.py": "import gin\n",
    }
    kinds = {r.kind: r.severity for r in vet_repo(files).risks}
    assert kinds.get("submodule-unverified") == "error", kinds


# -- F3: Python configs (mmengine Config.fromfile, Detectron2 LazyConfig) ------------------------
MM_TRAIN = "import sys\nfrom mmengine.config import Config\ncfg = Config.fromfile(sys.argv[1])\n"


@pytest.mark.parametrize(
    "config",
    [
        "model = dict(type='subprocess.Popen', args=['id'])\n",
        "model = {'_target_': 'subprocess.Popen', 'args': ['id']}\n",
        "import subprocess as sp\nmodel = dict(type=sp.Popen)\n",
        "from subprocess import Popen\nRunner = Popen\nmodel = dict(type=Runner)\n",
        "from detectron2.config import LazyCall as L\nfrom subprocess import Popen\n"
        "model = L(Popen)(args=['id'])\n",
        "from detectron2.config import LazyCall\nimport os\nmodel = LazyCall(os.system)('id')\n",
        "model = dict(_target_=eval)\n",
        "model = dict(class_path='os.system')\n",
    ],
    ids=["type", "target", "alias", "assigned", "lazycall-L", "lazycall", "builtin", "class-path"],
)
def test_a_python_config_naming_code_is_an_error(
    vet_repo: Callable[..., Report], config: str
) -> None:
    files = {**README, "train.py": MM_TRAIN, "configs/retinanet.py": "_base_ = []\n" + config}
    assert _paths(vet_repo(files)) == ["configs/retinanet.py"]


def test_python_configs_of_registry_own_or_known_names_pass(
    vet_repo: Callable[..., Report],
) -> None:
    config = (
        "import torch\nfrom models.net import Net\n"
        "model = dict(type='RetinaNet', backbone=dict(type='ResNet'))\n"
        "net = dict(type=Net)\nopt = dict(type='torch.optim.Adam', lr=0.1)\n"
        "sgd = {'type': torch.optim.SGD}\nx = dict(type=int)\n"
        "class Local:\n    pass\n\nloc = dict(type=Local)\n"
    )
    files = {**README, "models/__init__.py": "", "models/net.py": "class Net:\n    pass\n"}
    assert _paths(vet_repo({**files, "train.py": MM_TRAIN, "configs/a.py": config})) == []


def test_a_type_key_counts_only_where_openmmlab_loads_configs(
    vet_repo: Callable[..., Report],
) -> None:
    # big_vision's ml_collections configs: `type` names an evaluator module of its own
    config = "def get_config():\n    return dict(evals=dict(type='proj.paligemma.perplexity'))\n"
    hydra = "model = {'_target_': 'os.system'}\n"  # `_target_` counts everywhere
    files = {**README, "configs/a.py": config, "configs/b.py": hydra}
    assert _paths(vet_repo(files)) == ["configs/b.py"]


# -- F5: Hydra `_target_` in TOML and INI ------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("configs/model.toml", '[model]\n_target_ = "subprocess.Popen"\nargs = ["id"]\n'),
        ("configs/model.toml", '[model.net]\n"_target_" = "os.system"\n'),
        ("configs/model.ini", "[model]\n_TARGET_ = subprocess.Popen\n"),
        ("setup.cfg", "[tool]\n_target_: 'os.system'\n"),
        ("pyproject.toml", '[tool.x]\nmodel = { _target_ = "os.system" }\n'),
    ],
    ids=["toml", "toml-quoted-key", "ini-upper", "cfg-colon", "toml-inline"],
)
def test_a_target_in_toml_or_ini_is_an_error(
    vet_repo: Callable[..., Report], path: str, text: str
) -> None:
    assert _paths(vet_repo({**README, path: text})) == [path]


def test_a_target_in_a_format_forkvet_does_not_read_is_not_verified(
    vet_repo: Callable[..., Report],
) -> None:
    files = {
        **README,
        "configs/model.conf": 'model {\n  _target_ = "os.system"\n}\n',  # HOCON
        "configs/yaml.conf": "opt:\n  _target_: torch.optim.Adam\n",  # a .conf that is YAML
    }
    found = _errors(vet_repo(files))
    assert [r.path for r in found] == ["configs/model.conf"], found
    assert "NOT verified" in found[0].message


def test_known_targets_in_toml_and_ini_pass(vet_repo: Callable[..., Report]) -> None:
    files = {
        **README,
        "a.toml": '[opt]\n_target_ = "torch.optim.Adam"\nlr = 0.1\n',
        "b.ini": "[opt]\n_target_ = torch.optim.SGD\n",
    }
    assert _paths(vet_repo(files)) == []


# -- F11: OmegaConf resolvers that are command or code runners ------------------------------------
@pytest.mark.parametrize(
    "register",
    [
        "import os\nOmegaConf.register_new_resolver('sh', os.system)\n",
        "import subprocess\nOmegaConf.register_new_resolver('sh', subprocess.getoutput)\n",
        "import functools, subprocess\n"
        "OmegaConf.register_new_resolver('sh', functools.partial(subprocess.run, shell=True))\n",
        "import os\ndef sh(x):\n    return os.popen(x).read()\n\n"
        "OmegaConf.register_new_resolver('sh', sh)\n",
        "import os\nOmegaConf.register_new_resolver('sh', lambda x: os.system(x))\n",
    ],
    ids=["os-system", "getoutput", "partial", "def", "lambda"],
)
def test_a_config_using_a_resolver_that_runs_commands_is_an_error(
    vet_repo: Callable[..., Report], register: str
) -> None:
    code = "from omegaconf import OmegaConf\n" + register
    report = vet_repo({**README, "run.py": code, "configs/m.yaml": "w: ${sh:touch /tmp/x}\n"})
    assert _paths(report) == ["configs/m.yaml"], report.risks


def test_proven_and_arithmetic_eval_resolvers_stay_quiet(vet_repo: Callable[..., Report]) -> None:
    code = (
        "from omegaconf import OmegaConf\n"
        "OmegaConf.register_new_resolver('mul', lambda a, b: a * b)\n"
        "OmegaConf.register_new_resolver('calc', lambda x: eval(x))\n"
    )
    config = "a: 2\nb: ${mul:${a},3}\nc: ${calc:'${a} * 4'}\n"
    report = vet_repo({**README, "run.py": code, "configs/m.yaml": config})
    assert [r for r in report.risks if r.kind == "code-in-data"] == []


def test_a_locator_resolver_has_its_argument_judged_as_a_target(
    vet_repo: Callable[..., Report],
) -> None:
    code = (
        "import hydra\nfrom hydra.utils import get_class as gc\nfrom omegaconf import OmegaConf\n"
        "OmegaConf.register_new_resolver('get_method', hydra.utils.get_method)\n"
        "OmegaConf.register_new_resolver('get_class', gc)\n"
    )
    evil = "a: ${get_method:os.system}\n"
    good = "a: ${get_class:torch.optim.Adam}\nb: ${get_method:'torch.optim.SGD'}\n"
    files = {**README, "run.py": code, "configs/evil.yaml": evil, "configs/good.yaml": good}
    found = _errors(vet_repo(files))
    assert [r.path for r in found] == ["configs/evil.yaml"] and "'os.system'" in found[0].message


def test_resolvers_the_file_defines_of_safe_operations_are_proven(
    vet_repo: Callable[..., Report],
) -> None:
    code = (
        "import math\nfrom omegaconf import OmegaConf\n\n"
        "def ceil_div(a, b):\n    total = a + b - 1\n    return math.ceil(total / b)\n\n"
        "class Task:\n    def setup(self):\n"
        "        OmegaConf.register_new_resolver('dm', lambda attr: getattr(self._dm, attr))\n"
        "OmegaConf.register_new_resolver('cdiv', ceil_div)\n"
    )
    config = "a: ${cdiv:7,2}\nb: ${dm:num_classes}\n"
    report = vet_repo({**README, "run.py": code, "configs/m.yaml": config})
    assert [r for r in report.risks if r.kind == "code-in-data"] == []


def test_python_dicts_that_are_no_instantiate_configs_pass(
    vet_repo: Callable[..., Report],
) -> None:
    code = (
        "import logging.config\n\ndef msg(type, content):\n"
        "    return {'type': type, 'content': content}\n\n"
        "logging.config.dictConfig({'handlers': {'h': {'class': 'logging.StreamHandler'}}})\n"
        "spec = {'type': float, 'default': 0.1}\n"
    )
    assert _paths(vet_repo({**README, "server.py": code})) == []


def test_the_repositorys_own_resolver_that_runs_nothing_is_a_warning(
    vet_repo: Callable[..., Report],
) -> None:
    """OLMo's `path.glob` reads the file system: its own code, vetted as code — named, not an
    error; the same function calling a runner (the `def` case above) is one."""
    code = (
        "import glob\nfrom omegaconf import OmegaConf\n\n"
        "def path_glob(*paths):\n    out = []\n    for p in paths:\n"
        "        out.extend(glob.glob(p))\n    return sorted(out)\n\n"
        "OmegaConf.register_new_resolver('path.glob', path_glob)\n"
    )
    report = vet_repo({**README, "run.py": code, "configs/m.yaml": "d: ${path.glob:data/*}\n"})
    found = [r for r in report.risks if r.kind == "code-in-data"]
    assert [(r.path, r.severity) for r in found] == [("configs/m.yaml", "warning")]
