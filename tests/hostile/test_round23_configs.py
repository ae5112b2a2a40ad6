"""Round 22a (fixed in round 23, helper fix23cfg): config sinks read in every syntax, and tool
files a developer tool executes (forkvet/vet/configsinks.py, forkvet/vet/toolfiles.py,
forkvet/data/config_sinks.json). F2 logging dictConfig kept in TOML, F12 fileConfig formatter
`defaults=` (eval'd on 3.12+), F4 Hydra submitit launcher `setup` lines, F21 HyperPyYAML
`!include:` of a path outside the tree, F3 `.pdbrc`, F5 `.deepspeed_env`, F19 pylint
`init-hook` / mypy `plugins`, F18 TOML nested deeper than forkvet's stack."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report, Risk

README = {"README.md": "# Model\n"}
OWN = {"mymodel.py": "class Net:\n    pass\n"}


def _errors(report: Report) -> list[Risk]:
    return [r for r in report.risks if r.severity == "error" and r.kind == "code-in-data"]


def _paths(report: Report) -> list[str]:
    return sorted({r.path or "" for r in _errors(report)})


# -- F2: one sink walk over the parsed tree, whatever the syntax ---------------------------------
LOG_TOML = (
    "version = 1\n"
    '[handlers.console]\nclass = "subprocess.Popen"\nargs = ["touch", "x"]\n'
    '[root]\nlevel = "INFO"\nhandlers = ["console"]\n'
)
LOG_TOML_INLINE = 'version = 1\nhandlers = {h = {"()" = "os.system", command = "id"}}\n'
PYPROJECT_LOG = (
    '[tool.log]\nversion = 1\n[tool.log.handlers.h]\nclass = "os.system"\ncommand = "id"\n'
)
ENV_TOML = '[hydra.job.env_set]\nLD_PRELOAD = "libx.so"\n'


@pytest.mark.parametrize(
    "name,text",
    [
        ("logging.toml", LOG_TOML),
        ("conf/log.toml", LOG_TOML_INLINE),
        ("pyproject.toml", '[project]\nname = "x"\n' + PYPROJECT_LOG),
        ("conf/hydra.toml", ENV_TOML),
    ],
    ids=["dictconfig-toml", "factory-inline", "pyproject-table", "env-set-toml"],
)
def test_a_sink_kept_in_toml_is_judged_as_in_yaml(
    vet_repo: Callable[..., Report], name: str, text: str
) -> None:
    report = vet_repo({**README, **OWN, name: text})
    assert _paths(report) == [name], report.risks


def test_a_toml_dictconfig_with_loggings_own_handlers_passes(
    vet_repo: Callable[..., Report],
) -> None:
    text = LOG_TOML.replace("subprocess.Popen", "logging.StreamHandler").replace(
        'args = ["touch", "x"]\n', ""
    )
    assert _paths(vet_repo({**README, **OWN, "logging.toml": text})) == []


# -- F12: fileConfig's formatter `defaults` (eval'd by Python 3.12+) -----------------------------
def test_fileconfig_formatter_defaults_is_judged_as_eval(vet_repo: Callable[..., Report]) -> None:
    text = (
        "[loggers]\nkeys=root\n[handlers]\nkeys=h\n[formatters]\nkeys=plain\n"
        "[logger_root]\nhandlers=h\n[handler_h]\nclass=StreamHandler\nargs=(sys.stderr,)\n"
        "formatter=plain\n[formatter_plain]\n"
        'defaults=__import__("os").system("touch x")\nformat=%(message)s\n'
    )
    report = vet_repo({**README, "logging312.ini": text, "train.py": "import logging.config\n"})
    assert _paths(report) == ["logging312.ini"], report.risks
    assert "defaults" in _errors(report)[0].message


def test_fileconfig_formatter_literal_defaults_pass(vet_repo: Callable[..., Report]) -> None:
    text = (
        "[formatters]\nkeys=plain\n[formatter_plain]\n"
        "defaults={'ip': '-'}\nformat=%(ip)s %(message)s\n"
    )
    assert _paths(vet_repo({**README, "logging.ini": text})) == []


# -- F4: Hydra submitit launcher lines written into the sbatch script -----------------------------
@pytest.mark.parametrize(
    "name,text",
    [
        (
            "conf/config.yaml",
            "defaults:\n  - override hydra/launcher: submitit_slurm\nhydra:\n  launcher:\n"
            "    setup:\n      - touch x\n",
        ),
        ("conf/hydra/launcher/slurm.yaml", "timeout_min: 60\nsetup:\n  - touch x\n"),
        ("conf/l.yaml", "# @package hydra.launcher\nsrun_args: ['--x; touch y']\n"),
    ],
    ids=["setup", "group-file", "package-header-srun-args"],
)
def test_a_submitit_launcher_shell_line_is_an_error(
    vet_repo: Callable[..., Report], name: str, text: str
) -> None:
    report = vet_repo({**README, name: text})
    assert _paths(report) == [name], report.risks
    assert "sbatch" in _errors(report)[0].message


def test_a_launcher_without_shell_lines_passes(vet_repo: Callable[..., Report]) -> None:
    text = "hydra:\n  launcher:\n    timeout_min: 60\n    gpus_per_node: 8\n"
    assert _paths(vet_repo({**README, "conf/config.yaml": text})) == []


# -- F21: HyperPyYAML `!include:` ----------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    ["../../../../tmp/secret.yaml", "/etc/passwd", "~/.kube/config", "sub/../../x.yaml"],
    ids=["dotdot", "absolute", "home", "dotdot-inside"],
)
def test_a_hyperpyyaml_include_leaving_the_tree_is_an_error(
    vet_repo: Callable[..., Report], target: str
) -> None:
    text = f"seed: 1234\nextra: !include:{target}\n"
    report = vet_repo({**README, "hparams.yaml": text})
    assert _paths(report) == ["hparams.yaml"], report.risks
    assert "include" in _errors(report)[0].message


def test_a_hyperpyyaml_include_inside_the_tree_passes(vet_repo: Callable[..., Report]) -> None:
    files = {
        "hparams/train.yaml": "seed: 1\nmodel: !include:model.yaml\n",
        "hparams/model.yaml": "width: 8\n",
    }
    assert _paths(vet_repo({**README, **files})) == []


# -- F3, F5, F19: files a developer tool runs from the working folder ----------------------------
@pytest.mark.parametrize(
    "name,text",
    [
        (".pdbrc", 'import os; os.system("touch x")\ncontinue\n'),
        (".deepspeed_env", "LD_PRELOAD=/tmp/libfast.so\nNCCL_DEBUG=INFO\n"),
        (".deepspeed_env", "export PYTHONPATH=hooks\n"),
        (".pylintrc", "[MAIN]\ninit-hook='import os; os.system(\"touch x\")'\n"),
        ("pylintrc", "[MASTER]\nload-plugins=tools.lint\n"),
        (
            "pyproject.toml",
            '[project]\nname = "x"\n[tool.pylint.main]\ninit-hook = "import os; os.system(1)"\n',
        ),
        ("setup.cfg", "[metadata]\nname = x\n[pylint.main]\ninit-hook = import os; os.system(1)\n"),
        ("mypy.ini", "[mypy]\nplugins = tools/typing_helpers.py\n"),
        ("pyproject.toml", '[tool.mypy]\nplugins = ["tools.typing_helpers"]\n'),
        ("setup.cfg", "[flake8:local-plugins]\nextension =\n  X = tools.lint:Check\npaths = .\n"),
    ],
    ids=[
        "pdbrc",
        "deepspeed-steering",
        "deepspeed-export",
        "pylintrc-init-hook",
        "pylintrc-own-plugin",
        "pyproject-init-hook",
        "setup-cfg-init-hook",
        "mypy-plugin-path",
        "mypy-plugin-own-module",
        "flake8-local-plugin",
    ],
)
def test_a_tool_file_that_runs_code_is_an_error(
    vet_repo: Callable[..., Report], name: str, text: str
) -> None:
    files = {**README, "tools/__init__.py": "", "tools/lint.py": "X = 1\n"}
    files["tools/typing_helpers.py"] = "def plugin(v):\n    return None\n"
    report = vet_repo({**files, name: text})
    assert _paths(report) == [name], report.risks


@pytest.mark.parametrize(
    "name,text",
    [
        (".pdbrc", "# nothing\n\n"),
        (".deepspeed_env", "NCCL_DEBUG=INFO\nNCCL_IB_DISABLE=1\nSAT_HOME=/data/sat\n"),
        (".pylintrc", "[MASTER]\ninit-hook='import sys; sys.path.append(\"./src\")'\n"),
        (".pylintrc", "[MAIN]\nload-plugins=pylint.extensions.docparams\nmax-line-length=100\n"),
        ("mypy.ini", "[mypy]\nplugins = pydantic.mypy, numpy.typing.mypy_plugin\n"),
        ("pyproject.toml", '[tool.mypy]\nplugins = ["pydantic.mypy"]\nstrict = true\n'),
        ("setup.cfg", "[metadata]\nname = x\n[flake8]\nmax-line-length = 100\n"),
    ],
    ids=[
        "pdbrc-empty",
        "deepspeed-plain",
        "pylint-path-setup",
        "pylint",
        "mypy-ini",
        "mypy-pyproject",
        "flake8",
    ],
)
def test_a_tool_file_that_runs_nothing_of_the_fork_passes(
    vet_repo: Callable[..., Report], name: str, text: str
) -> None:
    assert _paths(vet_repo({**README, name: text})) == []


def test_a_library_plugin_forkvet_does_not_know_is_a_warning(
    vet_repo: Callable[..., Report],
) -> None:
    report = vet_repo({**README, "mypy.ini": "[mypy]\nplugins = somelib.mypy_plugin\n"})
    assert _paths(report) == []
    assert [r.path for r in report.risks if r.kind == "code-in-data"] == ["mypy.ini"]


def test_a_pylint_init_hook_doing_more_than_a_path_setup_is_an_error(
    vet_repo: Callable[..., Report],
) -> None:
    hook = "import sys; sys.path.append(__import__('os').popen('id').read())"
    report = vet_repo({**README, ".pylintrc": f"[MAIN]\ninit-hook={hook}\n"})
    assert _paths(report) == [".pylintrc"], report.risks


# -- F18: a parse bound hit fails closed ----------------------------------------------------------
def _deep_toml(levels: int) -> str:
    return (
        'model._target_ = "subprocess.getoutput"\n'
        'model._args_ = ["touch x"]\n'
        f"sweep.grid = {'[' * levels}1{']' * levels}\n"
    )


def test_a_toml_config_within_the_loaders_depth_is_read(vet_repo: Callable[..., Report]) -> None:
    """490 levels: tomllib from a script's stack reads it; forkvet reads it from a fresh stack."""
    report = vet_repo({**README, "train.toml": _deep_toml(490)})
    assert _paths(report) == ["train.toml"], report.risks
    assert "subprocess.getoutput" in _errors(report)[0].message


def test_a_toml_config_past_forkvets_depth_is_not_verified(
    vet_repo: Callable[..., Report],
) -> None:
    """Deeper than forkvet reads (a loader may raise its recursion limit): NOT verified."""
    report = vet_repo({**README, "train.toml": _deep_toml(5000)})
    assert _paths(report) == ["train.toml"], report.risks
    assert "NOT verified" in _errors(report)[0].message


def test_a_deep_toml_with_nothing_a_loader_acts_on_is_data(
    vet_repo: Callable[..., Report],
) -> None:
    text = f"grid = {'[' * 5000}1{']' * 5000}\n"
    assert _paths(vet_repo({**README, "data.toml": text})) == []


@pytest.mark.parametrize(
    "name,head",
    [
        ("train.yaml", "model: {_target_: subprocess.getoutput}\ngrid: "),
        ("log.yaml", "version: 1\nhandlers: {h: {class: subprocess.Popen}}\ngrid: "),
        ("train.json", '{"model": {"_target_": "subprocess.getoutput"}, "grid": '),
    ],
    ids=["yaml-target", "yaml-dictconfig", "json-target"],
)
def test_a_yaml_or_json_config_past_the_readers_depth_is_not_verified(
    vet_repo: Callable[..., Report], name: str, head: str
) -> None:
    """libyaml stops at 1,000 levels, json at forkvet's stack; PyYAML's Python loader and
    json under a raised recursion limit read on."""
    tail = "}\n" if name.endswith(".json") else "\n"
    report = vet_repo({**README, name: head + "[" * 5000 + "1" + "]" * 5000 + tail})
    assert _paths(report) == [name], report.risks
    assert "NOT verified" in _errors(report)[0].message
