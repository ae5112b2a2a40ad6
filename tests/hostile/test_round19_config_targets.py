"""Round 19 (tester 19a), the config rules: Hydra 1.0's legacy instantiate keys (F6), a
`_target_` kept in a checkpoint's pickled `hyper_parameters` (F11), GGUF and tokenizer chat
templates (F5), a long dotted target (F13, linear time), the archive-member text search
within the run's budget (F14), an OmegaConf resolver registered with an unproven function
(F15)."""

from __future__ import annotations

import io
import json
import pickle
import struct
import sys
import types
import zipfile
from collections.abc import Callable

import pytest

from forkvet.report import Report, Risk
from forkvet.vet import configtargets, risks
from tests.cputime import cpu_time

README = {"README.md": "# Model\n"}
TRAIN = (
    "import hydra\nfrom hydra.utils import instantiate\n\n"
    "@hydra.main(config_path='configs', config_name='config')\n"
    "def main(cfg):\n    instantiate(cfg.model)\n"
)


def _code_in_data(report: Report) -> list[Risk]:
    return [r for r in report.risks if r.kind == "code-in-data" and r.severity == "error"]


# -- F6: Hydra 1.0 takes `target`, `cls`, `class` when there is no `_target_` ---------------------
@pytest.mark.parametrize("key", ["target", "cls", "class"])
def test_hydra_legacy_instantiate_keys_are_code_in_data(
    vet_repo: Callable[..., Report], key: str
) -> None:
    config = f"model:\n  {key}: subprocess.call\n  args: [touch, /tmp/x]\n"
    found = _code_in_data(vet_repo({**README, "train.py": TRAIN, "configs/config.yaml": config}))
    assert [r.path for r in found] == ["configs/config.yaml"], found
    assert "subprocess.call" in found[0].message


def test_legacy_keys_naming_known_or_own_code_or_no_dotted_name_pass(
    vet_repo: Callable[..., Report],
) -> None:
    config = (
        "model:\n  target: ldm.models.AutoencoderKL\n  params: {embed_dim: 4}\n"
        "loss:\n  cls: torch.nn.MSELoss\n"
        "data:\n  class: 3\n  target: label\n"
    )
    files = {
        **README,
        "ldm/__init__.py": "",
        "ldm/models.py": "class AutoencoderKL:\n    pass\n",
        "configs/config.yaml": config,
        "notes.md": "class: subprocess.call is prose here\n",
    }
    assert _code_in_data(vet_repo(files)) == []


# -- F13: a long dotted target costs its length ----------------------------------------------------
def test_a_long_dotted_target_is_judged_in_linear_time(vet_repo: Callable[..., Report]) -> None:
    own = configtargets.OwnModules.__new__(configtargets.OwnModules)
    own.modules = {"a": [], "a.a": []}

    def judge(n: int) -> Callable[[], object]:
        return lambda: configtargets.allowed("a." * n + "b", own)

    small, large = cpu_time(judge(20_000)), cpu_time(judge(160_000))
    assert large < 8 * small * 3 + 0.05, (small, large)
    config = '{"_target_": "' + "a." * 50_000 + 'b"}'
    found = _code_in_data(vet_repo({**README, "cfg.json": config}))
    assert [r.path for r in found] == ["cfg.json"]


# -- F11: a `_target_` in a checkpoint's pickled hyper_parameters ---------------------------------
def _ckpt(hparams: object) -> bytes:
    state = {"state_dict": {}, "hyper_parameters": hparams, "epoch": 3}
    return pickle.dumps(state, protocol=2)


@pytest.mark.parametrize(
    "hparams",
    [
        {"net": {"_target_": "imp.load_source", "_args_": ["vocab", "assets/vocab.txt"]}},
        {"_target_": "torch.save", "obj": 1, "f": "/tmp/x"},
        # the key memoized once and fetched again (BINGET), a second dict
        {"a": {"_target_": "torch.nn.Linear"}, "b": {"_target_": "os.system"}},
        {"net": {"_target_": "a." * 200 + "os.system"}},  # too long for the walk to keep
    ],
)
def test_a_target_in_pickled_hyper_parameters_is_code_in_data(
    vet_repo: Callable[..., Report], hparams: object
) -> None:
    found = _code_in_data(vet_repo({**README, "checkpoints/last.ckpt": _ckpt(hparams)}))
    assert [r.path for r in found] == ["checkpoints/last.ckpt"], found


def test_pickled_hyper_parameters_of_known_classes_pass(vet_repo: Callable[..., Report]) -> None:
    hparams = {"net": {"_target_": "torch.nn.Linear", "in_features": 2}, "lr": 0.1}
    report = vet_repo({**README, "last.ckpt": _ckpt(hparams)})
    assert _code_in_data(report) == []


# -- F14: texts inside files are read within one budget for the run ------------------------------
def test_texts_inside_files_past_the_runs_budget_are_unverified(
    vet_repo: Callable[..., Report], monkeypatch: pytest.MonkeyPatch
) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("conf.yaml", "m:\n  _target_: torch.nn.Linear\n")
    files = {**README, "configs.zip": buf.getvalue()}
    assert _code_in_data(vet_repo(files)) == []
    monkeypatch.setattr(risks, "_YAML_SECONDS", 0.0)
    found = _code_in_data(vet_repo(files, name="late"))
    assert [r.path for r in found] == ["configs.zip"], found
    assert "NOT verified" in found[0].message


# -- F5: chat templates (GGUF header, tokenizer configs) -----------------------------------------
EVIL_TEMPLATE = (
    "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    "{{ self.__init__.__globals__.__builtins__.__import__('os').system('id') }}"
)
PLAIN_TEMPLATE = (
    "{% set ns = namespace(last=0) %}{% for m in messages %}"
    "{% if loop.index0 % 2 == 0 %}{% set ns.last = loop.index0 %}{% endif %}"
    "{{ '<|' + m['role'] + '|>' + m.content|trim }}{% endfor %}"
    "{{ messages[ns.last]['content'] }}{{ messages[-1].role }}"
)


def _gguf_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _gguf(template: str, truncate: int = 0) -> bytes:
    tokens = [f"tok{i}" for i in range(50)]
    kvs = [
        _gguf_string("general.architecture") + struct.pack("<I", 8) + _gguf_string("llama"),
        _gguf_string("llama.context_length") + struct.pack("<II", 4, 2048),
        _gguf_string("tokenizer.ggml.tokens")
        + struct.pack("<IIQ", 9, 8, len(tokens))
        + b"".join(map(_gguf_string, tokens)),
        _gguf_string("tokenizer.chat_template") + struct.pack("<I", 8) + _gguf_string(template),
    ]
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs)
    return data[: len(data) - truncate] + b"\0" * 32 * (not truncate)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("model.gguf", _gguf(EVIL_TEMPLATE)),
        ("weights/model-q4.bin", _gguf(EVIL_TEMPLATE)),  # found by content
        ("model.gguf", _gguf(PLAIN_TEMPLATE, truncate=40)),  # header unread: NOT verified
        ("tokenizer_config.json", json.dumps({"chat_template": EVIL_TEMPLATE})),
        ("chat_template.jinja", "{% set k = (lipsum|string)[17] * 2 %}{{ messages[k] }}"),
        ("tokenizer_config.json", json.dumps({"chat_template": "{{ x|attr('_' ~ '_class') }}"})),
    ],
)
def test_a_chat_template_reaching_python_internals_is_code_in_data(
    vet_repo: Callable[..., Report], path: str, data: str | bytes
) -> None:
    found = _code_in_data(vet_repo({**README, path: data}))
    assert [r.path for r in found] == [path], found
    assert "Chat template" in found[0].message


def test_plain_chat_templates_pass(vet_repo: Callable[..., Report]) -> None:
    files = {
        **README,
        "model.gguf": _gguf(PLAIN_TEMPLATE),
        "tokenizer_config.json": json.dumps({"chat_template": PLAIN_TEMPLATE}),
        "chat_template.jinja": "{% for i in range(messages|length) %}{{ messages[i].content }}"
        "{% endfor %}",
    }
    assert _code_in_data(vet_repo(files)) == []


# -- F15: a resolver registered with a function forkvet cannot prove safe ------------------------
HIDDEN_EVAL = (
    "import builtins\nfrom omegaconf import OmegaConf\n"
    "_ev = getattr(builtins, 'ev' + 'al')\n\ndef calc(expr):\n    return _ev(expr)\n\n"
    "OmegaConf.register_new_resolver('calc', calc)\n"
    "OmegaConf.register_new_resolver('mul', lambda a, b: a * b)\n"
    "OmegaConf.register_new_resolver('n', len)\n"
    "cfg = OmegaConf.load('config.yaml')\n"
)


def test_a_resolver_of_an_unproven_function_used_by_a_config_is_named(
    vet_repo: Callable[..., Report],
) -> None:
    config = 'lr: ${calc:\'__import__("os").system("id")\'}\n'
    report = vet_repo({**README, "train.py": HIDDEN_EVAL, "config.yaml": config})
    named = [r for r in report.risks if r.kind == "code-in-data" and "'calc'" in r.message]
    # round 20a F11: an error, as an eval resolver's (was a warning in round 19)
    assert [(r.path, r.severity) for r in named] == [("config.yaml", "error")], report.risks


def test_resolvers_proven_safe_or_unused_are_quiet(vet_repo: Callable[..., Report]) -> None:
    config = "a: 2\nb: ${mul:${a},3}\nc: ${n:abc}\n"
    report = vet_repo({**README, "train.py": HIDDEN_EVAL, "config.yaml": config})
    assert [r for r in report.risks if r.kind == "code-in-data"] == []


def _dictconfig(target: str) -> bytes:
    """A pickle shaped as omegaconf's DictConfig pickles itself (each value an AnyNode whose
    state holds `_val`), written with stand-in classes under omegaconf's names."""
    nodes, configs = types.ModuleType("omegaconf.nodes"), types.ModuleType("omegaconf.dictconfig")
    any_node = type("AnyNode", (), {"__module__": "omegaconf.nodes"})
    dict_config = type("DictConfig", (), {"__module__": "omegaconf.dictconfig"})
    nodes.AnyNode, configs.DictConfig = any_node, dict_config  # type: ignore[attr-defined]
    names = ("omegaconf", "omegaconf.nodes", "omegaconf.dictconfig")
    saved = {k: sys.modules.get(k) for k in names}
    package = types.ModuleType("omegaconf")
    package.__path__ = []  # type: ignore[attr-defined]
    sys.modules.update(dict(zip(names, (package, nodes, configs))))
    try:
        node, inner, outer = any_node(), dict_config(), dict_config()
        node.__dict__.update(_val=target, _metadata=None, _parent=inner)
        inner.__dict__.update(_content={"_target_": node}, _parent=outer)
        outer.__dict__.update(_content={"net": inner}, _parent=None)
        return pickle.dumps({"hyper_parameters": outer}, protocol=2)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def test_a_target_in_pickled_omegaconf_nodes_is_read(vet_repo: Callable[..., Report]) -> None:
    evil = _code_in_data(vet_repo({**README, "last.ckpt": _dictconfig("os.system")}))
    assert any("'os.system'" in r.message for r in evil), evil
    plain = _code_in_data(vet_repo({**README, "b.ckpt": _dictconfig("torch.nn.Linear")}, name="b"))
    assert not any("_target_" in r.message for r in plain), plain
