"""Round 17 (tester 17a), static vetting of text: the README's code fences are read in one
pass (a README of 2 MB of fence lines took `vet` 213 s), the README step stops at the run's
deadline, YAML with a Python tag is found by its content whatever the file's name, and a
Hydra/mmengine config that names a callable outside the repository is code in data."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report
from forkvet.snapshot import load
from forkvet.vet import entry_points
from forkvet.vet.context import Context
from tests.cputime import cpu_time

_README_SHAPES = {
    # 17a F2: one fence kind's lines only; the other kind was searched for from each fence.
    "~~~ lines": lambda n: "# Model\n\n" + "~~~\n" * (n // 4),
    "``` lines": lambda n: "# Model\n\n" + "```\n" * (n // 4),
    # The milder shape: many sections, each with a fenced command.
    "sections with a command": lambda n: (
        "# Model\n\n"
        + "".join(
            f"## Training {i}\n\nRun:\n\n```\npython t{i}.py\n```\n\n" for i in range(n // 50)
        )
    ),
}


@pytest.mark.parametrize("shape", sorted(_README_SHAPES))
def test_readme_commands_are_linear_in_the_readme(shape: str) -> None:
    """Eight times the text may cost about eight times as much (with slack for a busy
    machine), never the 64 times of a quadratic reader (50 KB: 0.1 s, 400 KB: 7 s before)."""
    build = _README_SHAPES[shape]
    small, large = build(50_000), build(400_000)
    t_small = cpu_time(lambda: entry_points.readme_commands(small, "README.md"))
    t_large = cpu_time(lambda: entry_points.readme_commands(large, "README.md"))
    assert t_large < 16 * t_small + 0.15, (shape, t_small, t_large)


def test_fences_are_the_blocks_they_were() -> None:
    text = "a\n```\npython a.py\n```\n~~~\nb ``` c\n~~~\n```\nunclosed ~~~\n"
    assert [c for _, _, c in entry_points.fences(text)] == ["python a.py\n", "b ``` c\n"]
    assert entry_points.fences("~~~\n~~~\n```\n") == [(0, 7, "")]


def test_readme_commands_stop_at_the_deadline() -> None:
    text = "".join(f"```\npython t{i}.py\n```\n" for i in range(20))
    assert len(entry_points.readme_commands(text, "README.md")) == 20
    assert entry_points.readme_commands(text, "README.md", deadline=time.monotonic() - 1) == []


def test_the_entry_points_check_past_the_deadline_says_the_readme_was_partly_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "train.py").write_text("import torch\n")
    (tmp_path / "README.md").write_text("# M\n\n```\npython train.py --epochs 3\n```\n")
    ctx = Context(load(tmp_path), deadline=time.monotonic() - 1)
    ep, found = entry_points.check(ctx)
    assert ep.commands == []
    assert "Entry points partly read: time limit" in [f.title for f in found]
    ctx = Context(load(tmp_path))
    ep, found = entry_points.check(ctx)
    assert [c.command for c in ep.commands] == ["python train.py --epochs 3"]
    assert "Entry points partly read: time limit" not in [f.title for f in found]


# -- F1: YAML Python tags by content, whatever the file's name ---------------------------------
_EVIL_YAML = "model:\n  depth: 50\n  init: !!python/object/apply:builtins.exec ['print(1)']\n"
_TRAIN = (
    "import argparse\nimport yaml\n\n"
    "parser = argparse.ArgumentParser()\n"
    "parser.add_argument('--config', default='configs/resnet.cfg')\n"
    "args = parser.parse_args()\n"
    "cfg = yaml.load(open(args.config), Loader=yaml.Loader)\n"
)


def _yaml_errors(report: Report) -> dict[str, str]:
    return {
        r.path or "": r.message
        for r in report.risks
        if r.kind == "code-in-data" and r.severity == "error"
    }


@pytest.mark.parametrize(
    "name",
    ["configs/resnet.cfg", "configs/x.txt", "configs/x", "x.yaml.j2", "x.yml.bak", "x.yaml ",
     "hp.hparams", "c.json"],
)  # fmt: skip
def test_yaml_python_tags_are_found_whatever_the_file_is_named(
    vet_repo: Callable[..., Report], name: str
) -> None:
    report = vet_repo({"train.py": _TRAIN, name: _EVIL_YAML})
    found = _yaml_errors(report)
    assert name in found and "builtins.exec" in found[name], found


def test_yaml_python_tags_by_content_in_utf16_and_after_a_bom(
    vet_repo: Callable[..., Report],
) -> None:
    report = vet_repo(
        {
            "a.cfg": _EVIL_YAML.encode("utf-16"),
            "b.cfg": b"\xef\xbb\xbf" + _EVIL_YAML.encode(),
            # A tag's characters escaped, and a %TAG handle spelling "python" with its suffix.
            "c.conf": "f: !!%70ython/name:os.system\n",
            "d.conf": "%TAG !e! tag:yaml.org,2002:pyt\n---\ns: !e!hon/object/apply:os.system [x]\n",
        }
    )
    assert {"a.cfg", "b.cfg", "c.conf", "d.conf"} <= set(_yaml_errors(report))


def test_text_after_a_character_pyyaml_refuses_is_never_loaded(
    vet_repo: Callable[..., Report],
) -> None:
    """PyYAML's Reader stops at a NUL or a control byte: a binary file with a tag after one
    is no YAML; a tag before one still is (yaml.load_all builds the documents before it)."""
    report = vet_repo(
        {
            "w.bin": b"PK\x03\x04" + _EVIL_YAML.encode(),
            "x.bin": _EVIL_YAML.encode() + b"---\n\x00\x01binary",
            "notes.md": "Results != baseline; python/ and 100%20 are fine here !x\n",
            "run.py": "if a != b:\n    print('python/ %02d' % 3)\n",
        }
    )
    assert set(_yaml_errors(report)) == {"x.bin"}


def test_a_text_file_not_searched_in_time_is_an_error_only_when_something_names_it(
    make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.vet import risks, vet

    root = make_repo(
        {
            "README.md": "# R\n\n```\npython train.py --config configs/resnet.cfg\n```\n",
            "train.py": _TRAIN,
            "configs/resnet.cfg": "model:\n  depth: 50\n",
            "data/notes.txt": "nothing names this\n",
        }
    )
    monkeypatch.setattr(risks, "_YAML_SECONDS", -1.0)  # every file past the time for YAML
    report = vet(load(root))
    errors = [r for r in report.risks if r.kind == "code-in-data" and r.severity == "error"]
    assert len(errors) == 1 and "NOT verified" in errors[0].message
    assert "configs/resnet.cfg" in errors[0].message
    [notice] = [r for r in report.risks if r.kind == "yaml-unsearched"]
    assert notice.severity == "notice" and "data/notes.txt" in notice.message
    assert "configs/resnet.cfg" not in notice.message


# -- F3: configs that name code to call (Hydra `_target_`, mmengine `type`) ----------------------
def _target_errors(report: Report) -> dict[str, str]:
    return {
        f"{r.path}:{r.line}": r.message
        for r in report.risks
        if r.kind == "code-in-data" and "callable" in r.message
    }


def test_a_hydra_target_outside_the_repository_and_the_safe_table_is_code_in_data(
    vet_repo: Callable[..., Report],
) -> None:
    """17a F3: `imp.load_source` (which Hydra's own blocklist misses) runs data/labels.txt."""
    report = vet_repo(
        {
            "train.py": "import hydra\nfrom hydra.utils import instantiate\n",
            "conf/config.yaml": "model:\n  _target_: imp.load_source\n"
            "  _args_: [labels, data/labels.txt]\n",
            "data/labels.txt": "import os\n",
        }
    )
    found = _target_errors(report)
    assert list(found) == ["conf/config.yaml:2"], found
    msg = found["conf/config.yaml:2"]
    assert "imp.load_source" in msg and "data/labels.txt" in msg
    assert all(r.severity == "error" for r in report.risks if r.kind == "code-in-data")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("a.yaml", "x:\n  _target_: torch.load\n  f: w.pt\n"),
        ("b.yaml", '"\\x5ftarget_": numpy.load\n'),  # the key spelled with an escape
        ("c.json", '{"m": {"\\u005ftarget_": "pandas.read_pickle"}}'),
        ("d.yml", "_target_: torch.nn.modules.module.torch.load\n"),  # an attribute chain
        ("e.yaml", "_target_: ${oc.env:MODEL_CLASS}\n"),  # computed at load time
        ("f.yaml", "opt: {type: builtins.open, file: x}\n"),  # mmengine-style
        ("g.cfg", "m:\n  _target_: _posixsubprocess.fork_exec\n"),  # any name: by content
        ("h.yaml", "base: &b {_target_: builtins.exec}\nuse: *b\n"),
        ("i.yaml", "_target_: torch.load\n"),  # foo/torch.py is no module `torch`
        # An attribute chain through the repository's own module that imports torch.
        ("j.yaml", "_target_: src.utils.torch.load\n"),
        ("k.yaml", "_target_: src.utils.Net.torch.load\n"),
        ("l.yaml", "_target_: src.utils.load\n"),  # `from torch import load`
        ("m.yaml", "_target_: src.star.load\n"),  # `from torch import *`
    ],
)
def test_config_targets_that_run_code_are_errors(
    vet_repo: Callable[..., Report], name: str, text: str
) -> None:
    report = vet_repo(
        {
            name: text,
            "foo/torch.py": "def load(): pass\n",
            "src/utils.py": "import torch\nfrom torch import load\nclass Net: pass\n",
            "src/star.py": "from torch import *\n",
        }
    )
    assert any(k.startswith(name + ":") for k in _target_errors(report)), report.risks


def test_ordinary_config_targets_pass(vet_repo: Callable[..., Report]) -> None:
    report = vet_repo(
        {
            "training/run.py": "import hydra\n",
            "training/src/tasks/seq.py": "class SequenceModel:\n    def build(self): pass\n",
            "training/src/tasks/__init__.py": "from .seq import (\n    SequenceModel,\n)\n",
            "training/configs/task.yaml": "_target_: src.tasks.seq.SequenceModel\n"
            "a: {_target_: src.tasks.SequenceModel}\n"
            "b: {_target_: src.tasks.seq.SequenceModel.build}\n"
            "c: {_target_: src.tasks.absent.Model}\n",  # no such file: the import fails
            "mypkg/models.py": "class Net: pass\n",
            "configs/model.yaml": "model:\n  _target_: mypkg.models.Net\n"
            "optimizer:\n  _target_: torch.optim.AdamW\n  lr: 0.1\n"
            "sched: {_target_: transformers.get_cosine_schedule_with_warmup}\n"
            "aug: {_target_: torchvision.transforms.RandomCrop, size: 32}\n"
            "trainer: {_target_: pytorch_lightning.Trainer, type: gpu}\n",
            "configs/opt.json": '{"optimizer": {"type": "Adam", "params": {"lr": 0.1}}}',
            "data/events.txt": 'data: {"type": "response.completed"}\n',
            "conf/lm.yaml": "doc_to_target: answer_target_text\n",
        }
    )
    assert not _target_errors(report), _target_errors(report)


# -- F13: HyperPyYAML tags import and call the dotted name they spell ----------------------------
def test_hyperpyyaml_tags_naming_code_are_errors_and_model_classes_pass(
    vet_repo: Callable[..., Report],
) -> None:
    report = vet_repo(
        {
            "hyperparams.yaml": "sample_rate: 16000\n"
            "check: !apply:os.system\n    - echo hi\n"
            "features: !new:collections.OrderedDict\n"
            "lin: !new:torch.nn.Linear\n  in_features: 4\n  out_features: 2\n"
            "enc: !new:speechbrain.nnet.linear.Linear\n  n_neurons: 4\n"
            "opt: !name:torch.optim.Adam\n",
            "configs/extra.txt": "f: !name:builtins.exec\n",
        }
    )
    found = _target_errors(report)
    assert set(found) == {"hyperparams.yaml:2", "configs/extra.txt:1"}, found
    assert (
        "os.system" in found["hyperparams.yaml:2"] and "HyperPyYAML" in found["hyperparams.yaml:2"]
    )


# -- F14: an OmegaConf resolver registered as eval runs config text ------------------------------
_EVAL_CONFIG = (
    "trainer:\n  max_steps: ${eval:'1000 * ${steps}'}\n  warm: ${calc:'2 ** 3'}\n"
    'optim:\n  lr: ${eval:\'__import__("os").system("id") or 3e-4\'}\n'
    '  wd: ${calc:"().__class__"}\n'
)


def test_config_text_an_eval_resolver_runs_is_code_in_data(
    vet_repo: Callable[..., Report],
) -> None:
    report = vet_repo(
        {
            "train.py": "from omegaconf import OmegaConf\n"
            'OmegaConf.register_new_resolver("eval", eval)\n'
            "OmegaConf.register_new_resolver('calc', lambda s: eval(s, {}))\n"
            'OmegaConf.register_new_resolver("add", lambda x, y: x + y)\n',
            "configs/train.yaml": _EVAL_CONFIG + "other: ${add:1,2}\n",
        }
    )
    found = {
        r.line: r.message
        for r in report.risks
        if r.kind == "code-in-data" and "run as Python" in r.message
    }
    assert set(found) == {5, 6}, found  # arithmetic and the plain resolver stay quiet
    assert "__import__" in found[5] and "train.py" in found[5]


def test_interpolations_without_an_eval_resolver_are_data(
    vet_repo: Callable[..., Report],
) -> None:
    report = vet_repo(
        {"train.py": "from omegaconf import OmegaConf\n", "configs/train.yaml": _EVAL_CONFIG}
    )
    assert not [r for r in report.risks if r.kind == "code-in-data"]
