"""Outside attack round 23a (static), fixed in session 14: a config its readers refuse is no
config no more (F13 JSON with `//` comments, F18 a `%YAML 1.3` directive libyaml refuses,
F20 TOML 1.1): libyaml's refusals are composed again by PyYAML's Python loader (what
OmegaConf and Hydra use), and a config that spells a `_target_`/`class_path` key none of the
readers found is NOT verified, whatever its suffix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report, Risk

README = {"README.md": "# Model\n"}
POPEN = "  _target_: subprocess.Popen\n  args: [touch, x]\n"


def _errors(report: Report) -> list[Risk]:
    return [r for r in report.risks if r.severity == "error" and r.kind == "code-in-data"]


@pytest.mark.parametrize(
    "name,text",
    [
        ("conf/config.yaml", "%YAML 1.3\n---\nmodel:\n" + POPEN),
        (
            "conf/log.yaml",
            "%YAML 1.3\n---\nversion: 1\nhandlers:\n  h:\n    (): ext://os.system\n",
        ),
        (
            "config.json",
            "{\n  // a comment json5 and commentjson read\n"
            '  "model": {"_target_": "subprocess.Popen", "args": ["touch", "x"]}\n}\n',
        ),
        ("config.toml", 'model = {\n  _target_ = "subprocess.Popen",\n}\n'),  # TOML 1.1
    ],
    ids=["yaml-1.3-target", "yaml-1.3-dictconfig", "json-comment", "toml-1.1"],
)
def test_a_config_its_readers_refuse_is_judged_or_not_verified(
    vet_repo: Callable[..., Report], name: str, text: str
) -> None:
    report = vet_repo({**README, name: text})
    assert [r.path for r in _errors(report)] == [name] * len(_errors(report)) != [], report.risks


def test_a_broken_config_that_names_no_loader_key_stays_data(
    vet_repo: Callable[..., Report],
) -> None:
    report = vet_repo({**README, "config.json": '{\n  // lr\n  "lr": 0.1\n}\n'})
    assert _errors(report) == []


def test_a_sentence_transformers_model_folder_is_no_error(vet_repo: Callable[..., Report]) -> None:
    # Round 23a F17 (false error): every sentence-transformers checkpoint names its library's
    # own module classes as dotted `type`s in modules.json.
    modules = (
        '[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},'
        ' {"idx": 1, "name": "1", "path": "1_Pooling",'
        ' "type": "sentence_transformers.models.Pooling"},'
        ' {"idx": 2, "name": "2", "path": "2_Normalize",'
        ' "type": "sentence_transformers.models.Normalize"}]\n'
    )
    report = vet_repo({**README, "modules.json": modules, "1_Pooling/config.json": "{}\n"})
    assert _errors(report) == []
    evil = modules.replace("sentence_transformers.models.Normalize", "subprocess.Popen")
    assert [r.path for r in _errors(vet_repo({**README, "modules.json": evil}))] == ["modules.json"]
