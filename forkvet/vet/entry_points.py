"""Check 6: training and test/eval/demo entry points, their command-line options (argparse,
click, absl flags, read from the AST), and the commands the README documents."""

from __future__ import annotations

import ast
import bisect
import shlex
import time
import tomllib
from collections.abc import Iterator
from typing import Any

from forkvet import rx, safeparse
from forkvet.report import Command, EntryPoints, Finding, ScriptEntry
from forkvet.snapshot import FileEntry
from forkvet.vet.context import Context
from forkvet.vet.pysource import NOT_READ, PyFile

CHECK = "entry_points"
# "pretrained" is not "train": pretrained_example.py and load_pretrained.py are demos.
_PRETRAINED = rx.compile(r"pre[-_]?trained", rx.I)
# Fine-tuning by its short names too: gpt2_ft.py, run_sft.py, dpo_train.sh.
_TRAIN = rx.compile(
    r"train|fine[-_]?tun|\bfit\b|_fit\b|^fit_|(?:^|[-_])(?:ft|sft|dpo|rlhf|ppo)(?:[-_]|$)", rx.I
)
_TEST = rx.compile(
    r"test|eval|infer|predict|demo|sample|generate|valid|bench|inference|example|"
    r"detect|translate|synthesi[sz]e|run_model|apply|interactive|webcam|(?:^|_)val(?:_|$)|"
    r"classify|caption|stylize|colori[sz]e|extract[-_]?feat|metrics?\b|decode|transcribe|"
    r"(?:^|_)score(?:_|$)|"
    r"serve\b|server\b|chat\b|gradio|streamlit|webui|"
    # What a trained model is applied to do: separate.py (sources), inpaint.py, upscale.py.
    r"separate\b|denoise|upscale|inpaint|super[-_]?resol|"
    r"(?:^|_)(?:fid|kid|ppl|lpips|bleu|rouge|perplexity|nll|bpd|psnr|ssim)(?:_|$)|"
    r"[a-z]2(?:img|image|video|vid|audio|speech|text|txt|mesh)",
    rx.I,
)
# Data preparation: its own kind (run before training, not how the model is run).
_PREPARE = rx.compile(
    r"(?i)^(?:prepare|prepro|preprocess|pre_process|make_?data|dataset_tool|data_?prep|"
    r"build_(?:data|vocab|dataset|tfrecord|lmdb)|create_\w*(?:data|record|lmdb|split|vocab)|"
    r"build_\w*_(?:data|datasets?|corpus|vocab|tfrecords?|lmdb)$|"
    # What retrieval and memory models read is built from the corpus first: build_tfidf.py,
    # build_dict.lua, build_hash.sh, build_db.py.
    r"build_\w*(?:dict|dictionary|index|hash|tfidf|db)$|"
    r"convert_\w*(?:data|records?|lmdb)|(?:download|get|fetch|extract|unpack|untar)[-_]?\w*?"
    r"(?:data|dataset|celeba|coco|imagenet|ilsvrc|mnist|cifar|corpus|images)s?\d*$|"
    r"download|(?:get|fetch)[-_]\w*(?:models?|weights?|checkpoints?|ckpts?|pretrained\w*)\d*$|"
    r"get_data|setup_\w+|"
    r"(?:calc|compute)_\w*(?:stats?|statistics|mean|std|inception|weights?)$|"
    r"gen_\w*data|split_data|crop_|prep_|"
    r"convert_\w*(?:weights?|models?|checkpoints?|ckpt)$|convert_\w+_to_\w+$|"
    r"export_\w*(?:weights?|models?|checkpoints?|ckpts?|state_dict|onnx)$|"
    r"extract_frames|make_\w*data|\w*_to_(?:tf)?records?$|(?:align|clean|resize|decode)_\w*data|"
    r"gen(?:erate)?_?\w*(?:data|patches))|(?:^|_)annotations?$|"
    r"_(?:prep|preprocess|preprocessing|prepare)$|_preprocess(?:ing)?_|"
    # A tokenizer or vocabulary is learnt from the corpus before training: train_tokenizer.py,
    # learn_bpe.py, build_vocab_from_corpus.py prepare data.
    r"^(?:train|learn|build|fit)_\w*(?:tokenizer|vocab\w*|bpe|sentencepiece|spm)$"
)
_OFFERED = rx.compile(r"(?i)(?:demo|example|sample)s?[-_ ]?")
# A folder that says what the scripts in it do (dinov2/run/eval/knn.py, train/ne2x.sh).
_KIND_DIR = rx.compile(r"(?i)(?:^|/)(train(?:ing)?|eval(?:uation)?|inference|demos?)/[^/]+$")
# A folder of features (python_features/, features/) computes the model's inputs: data too.
_DATA_DIR = rx.compile(
    r"(?i)(?:^|/)(?:data|datasets?|preprocess(?:ing)?|data_?prep|data_(?:loaders?|tools?|scripts?)|"
    r"(?:\w+_)?features(?:_\w+)?|convert(?:ers?|sion)?)/"
)
_NOT_ENTRY = rx.compile(r"(?i)^(setup|install|build|lint|format|make|compile|activate)")
_INSTALLS = rx.compile(r"(?i)^(?:setup|install|activate|lint|format)(?:_|$)")
_DATA_WORD = rx.compile(r"(?i)data|corpus|vocab|tfrecord|lmdb|dict|index|hash|tfidf")
_TOOL = rx.compile(
    r"(?i)^(?:convert|export|download|fetch|plot|visuali[sz]e|compress|to_|setup|install)|config"
)
_VISUALIZES = rx.compile(r"(?i)^(?:visuali[sz]e|plot)")
_MODEL_WORD = rx.compile(r"(?i)models?|weights?|ckpt|checkpoints?|pretrained")
_HELPER_DIR = rx.compile(r"(?:^|/)(?:utils?|helpers?|common|lib|libs|misc)/")
_UNIT_TEST_DIR = rx.compile(r"(?:^|/)(?:tests?|unittests?|testing)/")
_UNIT_TEST_TEXT = rx.compile(
    r"^[ \t]*(?:def test_|class \w*Test\w*\(.*TestCase|import unittest|import pytest|"
    r"from unittest|from pytest)",
    rx.M,
)
_MAIN_GUARD = rx.compile(r"^if\s+__name__\s*==\s*['\"]__main__['\"]", rx.M)
# playground/: the authors' scratch experiments, not how the repository is run.
_NOT_ENTRY_DIRS = (
    ".github/",
    ".circleci/",
    "dev/",
    "docs/",
    "doc/",
    "node_modules/",
    "playground/",
)
# Only [ \t] inside a line: \s would let one match start at every one of 100,000 blank lines
# and run over all of them (quadratic on a hostile README).
_ENV_PREFIX = r"(?:[A-Za-z_][A-Za-z0-9_]*=\S*[ \t]+)*"
_COMMAND = rx.compile(
    rf"^[ \t]*(?:\$[ \t]*|>[ \t]*|!|%[ \t]*)?((?:cd[ \t]+[\w./-]+[ \t]*&&[ \t]*)?"
    rf"{_ENV_PREFIX}(?:(?:uv|poetry|pipenv)[ \t]+run[ \t]+\S+\.py\b|python[\d.]*|"
    rf"python3?[ \t]+-m[ \t]+\S+|torchrun|accelerate[ \t]+launch|deepspeed|"
    rf"bash|sh|th|qlua|luajit|matlab|octave|julia|pytest|"
    rf"\./\S+\.(?:sh|py|lua|m)|(?:[\w.-]+/)*(?:scripts|tools|experiments)/\S+\.sh|"
    rf"horovodrun|mpirun|srun|nohup[ \t]+python[\d.]*|(?:[\w.]*/)?caffe[ \t]+(?:train|test)\b)"
    rf"(?:[ \t][^\n]*)?)$",
    rx.M,
)
# Inline code may wrap onto the next line ("run `python3 -m pkg.train\n--helpfull`").


def _inline_code(prose: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, code) of each code span: a run of backticks closed by the next run of the
    same length (CommonMark; ```python demo.py``` in a sentence is code too), 4-300 characters
    on one line, which may wrap onto a next line of 1-200 ("run `python3 -m pkg.train\n
    --helpfull`"). One scan of the backticks; a run looks at most 16 runs ahead for its match."""
    runs: list[tuple[int, int]] = []  # (start, length) of each maximal run of backticks
    at = prose.find("`")
    while at >= 0:
        end = at + 1
        while prose.startswith("`", end):
            end += 1
        runs.append((at, end - at))
        at = prose.find("`", end)
    k = 0
    while k < len(runs):
        start, n = runs[k]
        match = next((j for j in range(k + 1, min(len(runs), k + 17)) if runs[j][1] == n), None)
        if match is None:
            k += 1  # a run with no match is literal backticks
            continue
        inner = prose[start + n : runs[match][0]]
        inner = inner.strip(" ") if n > 1 else inner
        if _inline_fits(inner):
            yield start, runs[match][0] + n, inner
        k = match + 1  # a span, fitting or not, and its closing run opens nothing


def _inline_fits(inner: str) -> bool:
    first, nl, rest = inner.partition("\n")
    if not 4 <= len(first) <= 300:
        return False
    return not nl or (1 <= len(rest) <= 200 and "\n" not in rest)


_INSTALL = rx.compile(
    r"\bpip3?\s+install|conda\s+(?:install|create|env)|setup\.py\s+"
    r"(?:install|develop|build)|git\s+clone|\bmake\b|luarocks|\binstall\.sh"
)
# Arguments that say what a generic script (main.py, run_classifier.py) does in this command.
_ARG_TRAIN = rx.compile(
    r"(?i)(?:--?do_train(?:=true)?\b|--?train(?:[^-\w]|$)|"
    r"(?:--?mode|--?phase|\bmode|\bphase)[= ]+train\b|"
    # A learning rate or a number of epochs: a checkpoint it is handed is where training
    # starts (linear probing, fine-tuning), not a model to run.
    r"--(?:lr|learning[-_]rate|(?:num[-_]|n[-_])?epochs|weight[-_]decay)[= ]+[\d.]+(?:e-?\d+)?\b)"
)
_ARG_TEST = rx.compile(
    r"(?i)(?:--?do_(?:predict|eval|test)(?:=true)?\b|--?(?:eval|test|evaluate|predict|demo)"
    r"\b|(?:--?mode|--?phase|\bmode|\bphase)[= ]+(?:test|eval|val|predict|sample|sampling|demo|"
    r"generate|generation|inference|infer)\b|"
    # The same switches handed over as JSON or key=value hparams: '{"do_eval": true}'.
    r"[\"']do_(?:predict|eval|test)[\"'][ \t]*:[ \t]*true\b)"
)
_LAUNCHERS = frozenset(
    {
        "nohup",
        "torchrun",
        "deepspeed",
        "horovodrun",
        "mpirun",
        "srun",
        "accelerate",
        "launch",
        "bash",
        "sh",
        "th",
        "qlua",
        "luajit",
        "julia",
        "octave",
        "time",
    }
)
_SCRIPT_EXT = (".py", ".lua", ".sh", ".m", ".ipynb", ".jl", ".slurm", ".sbatch")
# Shell scripts, Slurm batch jobs included (slurm/train.slurm runs `accelerate launch …`).
_SHELL = (".sh", ".slurm", ".sbatch")
MAX_COMMANDS = 40


def _const(node: ast.expr | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return ast.unparse(node)[:60]


def script_options(tree: ast.Module, nodes: list[ast.AST] | None = None) -> list[dict[str, Any]]:
    """Command-line options a script defines, without running it (nodes: the tree's nodes,
    when the caller already has them): argparse, absl flags and click."""
    out: list[dict[str, Any]] = []
    for node in ast.walk(tree) if nodes is None else nodes:
        if isinstance(node, ast.Call):
            opt = _option_of(node)
            if opt is not None:
                out.append(opt)
        if len(out) >= 200:
            break
    for opt in out:
        for key, value in list(opt.items()):
            if not isinstance(value, str | int | float | bool | list | type(None)):
                opt[key] = str(value)
    return out


def _option_of(node: ast.Call) -> dict[str, Any] | None:
    fn = node.func
    name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
    if name == "add_argument":
        return _argparse_option(node)
    if name.startswith("DEFINE_") and node.args:
        return _absl_option(node, name)
    if (
        name in ("option", "argument")
        and isinstance(fn, ast.Attribute)
        and isinstance(fn.value, ast.Name)
        and fn.value.id == "click"
    ):
        return _click_option(node)
    return None


def _str_args(node: ast.Call) -> list[str]:
    return [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def _argparse_option(node: ast.Call) -> dict[str, Any] | None:
    flags = _str_args(node)
    if not flags:
        return None
    opt: dict[str, Any] = {"name": max(flags, key=len), "flags": flags}
    for kw in node.keywords:
        if kw.arg in ("default", "type", "required", "help", "choices", "action"):
            value = _const(kw.value)
            if kw.arg == "type" and isinstance(kw.value, ast.Name):
                value = kw.value.id
            opt[kw.arg] = (
                value if isinstance(value, str | int | float | bool | list | None) else str(value)
            )
    return opt


def _absl_option(node: ast.Call, name: str) -> dict[str, Any] | None:
    flag = _const(node.args[0])
    if not isinstance(flag, str):
        return None
    opt: dict[str, Any] = {"name": f"--{flag}", "flags": [f"--{flag}"], "type": name[7:]}
    if len(node.args) > 1:
        opt["default"] = _const(node.args[1])
    if len(node.args) > 2:
        opt["help"] = _const(node.args[2])
    return opt


def _click_option(node: ast.Call) -> dict[str, Any] | None:
    flags = _str_args(node)
    if not flags:
        return None
    opt: dict[str, Any] = {"name": max(flags, key=len), "flags": flags}
    for kw in node.keywords:
        if kw.arg in ("default", "type", "required", "help"):
            opt[kw.arg] = _const(kw.value)
    return opt


def _is_script(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return True
    return any(
        isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and not _setup_call(n.value)
        for n in tree.body
    )


# Top-level calls that only prepare the import path, warnings, logging or the plotting
# backend: a library module does these too (eval_tasks/eval_adapter.py's sys.path.append, a
# metrics module's matplotlib.use('Agg')), they run nothing.
_SETUP_CALLS = (
    "sys.path.",
    "warnings.",
    "logging.basicConfig",
    "os.environ.",
    "matplotlib.use",
    "mpl.use",
)


def _setup_call(call: ast.Call) -> bool:
    try:
        name = ast.unparse(call.func)
    except (ValueError, RecursionError):
        return False
    return name.startswith(_SETUP_CALLS)


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def analyze_file(f: PyFile, tree: ast.Module, nodes: list[ast.AST]) -> None:
    """Per-file analyzer: for files named like entry points, whether they run and their options."""
    stem = _stem(f.path)
    if kind_of(stem) is None and not _is_generic(stem):
        return
    f.facts["entry"] = (_is_script(tree), script_options(tree, nodes))


def _entry_facts(f: PyFile) -> tuple[bool, list[dict[str, Any]]]:
    if "entry" in f.facts:
        return f.facts["entry"]  # type: ignore[no-any-return]
    if f.facts.get("skimmed"):
        return bool(f.facts.get("main_guard")), []  # past the analysis budget: no text kept
    # Not parsed (Python 2): a real script has a main guard or runs statements at the top
    # level; a library module that only mentions argparse (defs and imports) is not one.
    return bool(_MAIN_GUARD.search(f.text) or _runs_at_top_level(f.text)), []


_TOP_LEVEL_RUN = rx.compile(
    r"^(?:for|while|with)\b[^\n]*:\s*$|^print\b|^[A-Za-z_][\w.]*\s*\((.*)", rx.M
)
_DEF = rx.compile(r"\bdef\b")


def _runs_at_top_level(text: str) -> bool:
    # A call at the top level, unless its line goes on to define something (`f(def ...`).
    return any(
        m.group(1) is None or not _DEF.search(m.group(1)) for m in _TOP_LEVEL_RUN.finditer(text)
    )


_GENERIC = ("main", "run", "app", "cli", "launch", "start")


def _is_generic(stem: str) -> bool:
    low = stem.lower()
    return low in _GENERIC or low.startswith(("run_", "main_")) or low.endswith("_main")


# One word and "label(s)", nothing said about training or testing: a data set's label maker
# (darknet's voc_label.py, imagenet_label.sh), as `*_annotation.py` is.
_DATASET_LABELS = rx.compile(r"(?i)[a-z0-9]+[-_]labels?")
# Functions other files import, and protobuf's generated modules (example_pb2.py).
_LIBRARY_NAME = rx.compile(r"(?i)[-_](?:utils?|helpers?)$|_pb2(?:_grpc)?$")
# genLMDB.m, genJSON.py: camel-case "gen" scripts build data files.
_GEN_CAMEL = rx.compile(r"^gen[A-Z]")


def kind_of(stem: str) -> str | None:
    """What a script named `stem` is for: train, test, eval, demo, inference, prepare or None."""
    if _LIBRARY_NAME.search(stem):
        return None  # prepro_utils.py, train_helpers.py: functions other files import
    if _PREPARE.search(stem.replace("-", "_")) or _GEN_CAMEL.search(stem):
        return "prepare"
    if "config" in stem.lower():
        return None  # rcnn_config_local.example.m, config/eval_gpt2.py: settings, not scripts
    cleaned = _PRETRAINED.sub("", stem)
    train = _TRAIN.search(cleaned)
    m = _TEST.search(cleaned)
    # The first word decides: train_and_test trains, evaluate_finetune evaluates; but a
    # "demo"/"example" prefix only says the script is offered as one (Demo_Train_model.m),
    # and a noun names the part that trains (synthesizer_train, detector_train).
    if train and not (
        m
        and m.start() < train.start()
        and not _OFFERED.fullmatch(cleaned[: train.start()])
        and not _agent_noun(cleaned, m.start())
    ):
        return "train"
    if m:
        word = m.group(0).lower().strip("_")
        for kind in ("eval", "demo", "infer", "predict", "example", "sample", "generate"):
            if word.startswith(kind):
                return {"infer": "inference", "predict": "inference", "example": "demo"}.get(
                    kind, "demo" if kind in ("sample", "generate") else kind
                )
        return "eval" if word in ("val", "valid", "bench") else "test"
    if cleaned != stem:
        return "demo"  # load_pretrained.py: runs a trained model
    if _DATASET_LABELS.fullmatch(stem):
        return "prepare"  # voc_label.py writes the label files training reads
    return None


_WORD = rx.compile(r"[A-Za-z]+")


def _agent_noun(stem: str, at: int) -> bool:
    """The word at `at` is a noun for a model part, not an action: synthesizer, detector,
    decoder, sampler (what would say test, but names what a later "train" trains)."""
    m = _WORD.match(stem, at)
    return m is not None and m.group(0).lower().endswith(("er", "or", "ers", "ors"))


def _dir_kind(path: str) -> str | None:
    """What the folder a script sits in says it does: train/x.sh trains, eval/knn.py evaluates."""
    m = _KIND_DIR.search(path)
    return kind_of(m.group(1)) if m else None


def _is_unit_test(path: str, text: str) -> bool:
    """test_x.py / x_test.py: a unit test when it is written as one (test_ functions, unittest
    or pytest); test_on_image.py or tools/test_net.py that just run a model are test scripts."""
    return _unit_test_name(path) and bool(_UNIT_TEST_TEXT.search(text))


def _unit_test_name(path: str) -> bool:
    stem = _stem(path)
    return stem.startswith("test_") or stem.endswith("_test")


def _named_like_entry(path: str) -> bool:
    """A training or data script by its name (train_sft.py, download_the_pile.py); eval and
    demo names are common in a large package's library code (eval/scoring/rouge_scorer.py)."""
    return kind_of(_stem(path)) in ("train", "prepare")


def _reread(ctx: Context, f: PyFile) -> PyFile:
    """A skimmed file's text read again (a download_the_pile.py deep in a large package, with
    its code at the top level): judged as unparsed files are, by its text."""
    text = ctx.snap.read_text(f.path)
    if not text or "\x00" in text:
        return f
    return PyFile(f.path, text, None, imports=f.imports)


def _has_main_guard(f: PyFile) -> bool:
    if f.facts.get("skimmed"):
        return bool(f.facts.get("main_guard"))
    return bool(_MAIN_GUARD.search(f.text))


def _is_unit_test_file(f: PyFile) -> bool:
    if f.facts.get("skimmed"):  # past the analysis budget: what the skim saw
        return bool(f.facts.get("unit_test")) and _unit_test_name(f.path)
    return _is_unit_test(f.path, f.text)


def _imported_modules(ctx: Context) -> set[str]:
    """Modules the repository's code imports; a unit test importing a training script's helper
    (tests/test_sft.py: from levanter.main.sft import …) does not make the script a library."""
    return {ref.module for ref in ctx.py.imports if not _in_unit_tests(ref.path)}


def _in_unit_tests(path: str) -> bool:
    return bool(_UNIT_TEST_DIR.search(path)) or _unit_test_name(path) or _stem(path) == "conftest"


def _is_library_module(path: str, imported: set[str], packages: set[str]) -> bool:
    """A module inside a package that other files import (lib/rpn/generate_anchors.py)."""
    parts = path[:-3].split("/") if path.endswith(".py") else []
    # pkg/train.py next to pkg/main.py is still the training code; lib/x/test.py is not.
    if len(parts) < 3 or "/".join(parts[:-1]) not in packages:
        return False
    # Any dotted suffix, down to the bare name (research code extends sys.path freely).
    dotted = [".".join(parts[i:]) for i in range(len(parts))]
    return any(d in imported for d in dotted)


# Gradient updates written out in other frameworks: Theano's T.grad with updates, Lasagne's
# update rules, Chainer's and optax's optimizer.update(...). A gradient alone is not one: a
# demo notebook shows jax.value_and_grad of its loss without training (graphcast_demo.ipynb).
_GRADIENT_UPDATES = r"\bT\.grad\(|\btheano\.grad\(|\blasagne\.updates\.\w+\(|optimizer\w*\.update\("
_TRAIN_CELL = rx.compile(
    r"\.backward\(|optimizer\w*\.step\(|\.fit\(|trainer\.(?:train|run|fit)\(|\btrain_step\b|"
    r"\btrain\(|for\s+epoch\s+in\b|:backward\(|optim\.(?:sgd|adam|rmsprop)\(|\.minimize\(|"
    r"apply_gradients\(|SGDSolver\(|solver\.(?:step|solve)\(|" + _GRADIENT_UPDATES
)


def _trains(text: str) -> bool:
    """Whether code has a training step by _TRAIN_CELL; PIL's ImageOps.fit(image, size) crops
    an image (instruct-pix2pix's edit_cli.py), it fits no model."""
    return any(
        m.group() != ".fit(" or not text.endswith("ImageOps", 0, m.start())
        for m in _TRAIN_CELL.finditer(text)
    )


# Stronger than _TRAIN_CELL, for scripts with no telling name: gradient steps or a solver,
# not a scikit-learn .fit() that scores features (svhn_semisup_analysis.py evaluates).
_TRAIN_LOOP = rx.compile(
    r"\.backward\(|optimizer\w*\.step\(|:backward\(|\.minimize\(|apply_gradients\(|"
    r"SGDSolver\(|get_solver\(|solver\.(?:step|solve)\(|trainer\.(?:train|fit|run)\(|"
    + _GRADIENT_UPDATES
)


# A notebook that loads a trained model and runs it is a demo; one that only plots is not.
_INFER_CELL = rx.compile(
    r"from_pretrained\(|load_state_dict\(|torch\.load\(|\.load_weights\(|load_model\(|"
    r"\.predict\(|\.generate\(|\bclip\.load\(|\.eval\(\)|pipeline\(|tf\.saved_model\.load|"
    r"hub\.(?:load|KerasLayer|Module)\(|restore\(|"
    # An exported model run as it is: ONNX Runtime, a frozen TensorFlow graph.
    r"InferenceSession\(|import_graph_def\(|"
    # A package's pretrained models: pretrained.get_model('mdx'), load_pretrained(…).
    r"\bpretrained\.\w+\(|(?:load|get)_pretrained\w*\("
)


def _notebook_kind(stem: str, text: str | None) -> str | None:
    """train / prepare / notebook (a demo), or None for notebooks that only analyse."""
    kind = kind_of(stem)
    if kind in ("train", "prepare"):
        return kind
    # A "demo" notebook that runs a training loop trains (minGPT's demo.ipynb).
    if kind in (None, "demo") and text is not None and _trains(text):
        return "train"
    if kind is not None or text is None:
        return "notebook"
    return "notebook" if _INFER_CELL.search(text) else None


def _split_words(cmd: str) -> list[str]:
    try:
        return shlex.split(cmd, comments=True)
    except ValueError:
        return cmd.split()


def command_script(cmd: str) -> str | None:
    """The script or module a README command runs: path, `-m` module, or None."""
    words = _split_words(cmd)
    i = 0
    while i < len(words) and rx.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[i]):
        i += 1  # env-var prefixes: dataset=folder th main.lua
    rest = words[i:]
    for j, w in enumerate(rest):
        if w == "-m" and j + 1 < len(rest) and not _LAUNCHER_MODULES.match(rest[j + 1]):
            return rest[j + 1]
        if w in ("-r", "-batch") and rest[0].startswith(("matlab", "octave")) and j + 1 < len(rest):
            return rx.split(r"[;(\s]", rest[j + 1].strip("\"'"))[0] + ".m"
        low = w.lower()
        if low.endswith(_SCRIPT_EXT) and not w.startswith("-"):
            return w
        if "=" in w and w.split("=", 1)[1].endswith((".py", ".yaml", ".json")):
            continue
    return None


# Modules that start another program: the script or config after them is what runs.
_LAUNCHER_MODULES = rx.compile(
    r"^(?:torch\.distributed\.(?:launch|run)|torch\.distributed\.elastic\.\w+|accelerate\S*|"
    r"deepspeed\S*|horovod\S*|jax\.distributed|mpi4py)$"
)
_CONFIG_ARG = rx.compile(r"^--?(?:cfg|config|config[_-]?file|gin[_-]?file|exp(?:eriment)?)$")


def command_targets(cmd: str) -> list[tuple[str, str]]:
    """Everything a README command may run, in order: ("module", pkg.mod) after -m, ("script",
    path) positional scripts, ("config", path) a .py/.yaml config given to --cfg/--config."""
    words = [rx.sub(r"^(?:\$\(pwd\)|\$\{?PWD\}?)/", "", w) for w in _split_words(cmd)]
    out: list[tuple[str, str]] = []
    for j, w in enumerate(words):
        if w == "-m" and j + 1 < len(words):
            out.append(("module", words[j + 1]))
        elif w.lower().endswith(_SCRIPT_EXT) and not w.startswith("-") and "=" not in w:
            out.append(("script", w))
        elif "=" in w and _CONFIG_ARG.match(w.split("=", 1)[0]):
            value = w.split("=", 1)[1].split(":", 1)[0]
            if value.endswith((".py", ".yaml", ".yml", ".json", ".gin")):
                out.append(("config", value))
        elif _CONFIG_ARG.match(w) and j + 1 < len(words):
            value = words[j + 1].split(":", 1)[0]
            if value.endswith((".py", ".yaml", ".yml", ".json", ".gin")):
                out.append(("config", value))
    return out


_LOADS_TRAINED = rx.compile(
    r"(?i)--?(?:network|net|weights?|checkpoint|ckpt|model(?:[_-]?(?:path|file|dir|weights?))?|"
    r"pretrained(?:[_-]?(?:model|weights))?|load[_-]?(?:model|path|from))[= ]+['\"]?"
    r"(?:https?://\S+|\S+\.(?:pkl|pt|pth|ckpt|h5|t7|npz|onnx|safetensors|caffemodel|pb)|"
    # A placeholder for one: --ckpt [CHECKPOINT], --model <model_path>.
    r"\[[\w. -]*\]|<[\w. -]*>)|"
    # A model's hub id or folder: --model-path lmsys/vicuna-7b, ../model/Yi-VL-34B (not
    # --model_dir, where TensorFlow writes).
    r"(?i)--?model(?:[_-]?path)?[= ]+['\"]?(?:\.{0,2}/)?[\w.-]+/[\w./-]+"
)


# "To prepare the data, run …", "## Data preparation": what the next command does.
_PREPARE_CONTEXT = rx.compile(
    r"(?i)\b(?:prepar\w*|pre-?process\w*|download\w*)\b[^.\n]{0,40}?\b(?:data|datasets?|images|"
    r"annotations?|corpus|tfrecords?|lmdb|vocab\w*|splits?|weights|checkpoints?|ckpts?)\b|"
    # "generate images" is a demo; "generate the dataset's TFRecords" prepares.
    r"\b(?:generat\w*|creat\w*|build\w*|extract\w*|convert\w*)\b[^.\n]{0,40}?\b(?:datasets?|"
    r"annotations?|corpus|tfrecords?|lmdb|vocab\w*|splits?|(?:the|training|your)\s+data|"
    r"(?:model\s+)?weights|checkpoints?)\b|"
    r"\b(?:data(?:set)?s?)\s+(?:prep\w*|pre-?process\w*|generation|creation|download\w*)\b"
)
# "### Convert model to deploy mode" over a script whose name says nothing: a converter or
# exporter, as convert_*_model.py is (not over demo.py, which then runs the converted model).
_CONVERTS_MODEL = rx.compile(r"(?i)\b(?:convert\w*|export\w*)\s+(?:\w+\s+){0,2}?models?\b")


# What the words after "download the data" go on to say: then it is run, not prepared.
_RUN_CUE = rx.compile(
    r"(?i)\b(?:train|training\s+(?:the|a|your|our)|evaluat\w*|test(?:ing)?\s+(?:the|a|it)|demo|"
    r"inference|sampl\w*|generat\w*|fine-?tun\w*)\b"
)


# A weights file named as a plain argument (not an option's value: --resume x.pth).
_WEIGHT_FILE = rx.compile(
    r"(?:^|[ \t])(?:[^\s=-][^\s=]*)\.(?:ckpt|pth|pt|bin|safetensors|h5|caffemodel|t7|npz)\b"
)
# A first argument that is a data-preparation subcommand.
_PREPARE_VERB = rx.compile(r"(?i)(?:download|prepare|preprocess|pretokeni[sz]e|tokeni[sz]e)$")


# A first argument that is a subcommand saying what the script does this time.
_SUBCOMMAND = {
    **dict.fromkeys(("train", "finetune", "fine-tune", "fit", "pretrain"), "train"),
    **dict.fromkeys(
        ("eval", "evaluate", "test", "predict", "infer", "inference", "sample", "generate"),
        "test",
    ),
}


def _first_argument(low: str, script: str) -> str:
    """The word right after the script in a command, unless it is an option."""
    rest = low.split(script.lower(), 1)[-1].split()
    return rest[0] if rest and not rest[0].startswith("-") else ""


_LINE_START = rx.compile(r"^(?:#|[-*+][ \t]|\d+[.)][ \t])")


def _last_lines(lines: list[str]) -> str:
    """The last line, with the lines of prose its sentence wraps from ("you can download the
    data by the\nfollowing command."): back to a heading or a list item, at most three."""
    out = [lines[-1]]
    for ln in reversed(lines[-3:-1]):
        if _LINE_START.match(out[0]) or ln.startswith("#"):
            break
        out.insert(0, ln)
    return " ".join(out)


def _prepares(context: str) -> bool:
    """The words before a command say it prepares data: its last sentence ("To prepare the
    data, run") or its heading ("## Data preparation"). Not a precondition ("After
    downloading the weights, run"), nor a list whose last step runs the model."""
    lines = [ln.strip() for ln in context[-2000:].splitlines() if ln.strip()]
    if not lines:
        return False
    sentence = rx.split(r"[.!?]\s+", _last_lines(lines))[-1]
    last = None
    for m in _PREPARE_CONTEXT.finditer(sentence):
        last = m
    if last is not None:
        return not (
            _PRECONDITION.search(sentence[: last.start()])
            or _RUN_CUE.search(sentence[last.end() :])
        )
    heading = next((ln for ln in reversed(lines) if ln.startswith("#")), "")
    return bool(heading) and bool(
        _PREPARE_CONTEXT.search(heading)
        or _PREPARE_HEADING.search(heading)
        or (_CONVERTS_MODEL.search(heading) is not None and _RUN_CUE.search(heading) is None)
    )


def _section_prepares(section: str) -> bool:
    """A heading over the command says it prepares data ("### Dataset Preparation"), and
    not that the model then runs ("## Download the weights and run the demo")."""
    return any(
        (_PREPARE_HEADING.search("# " + title) or _PREPARE_CONTEXT.search(title))
        and not _RUN_CUE.search(title)
        and not _PRECONDITION.search(title)
        for title in section.splitlines()
    )


_PRECONDITION = rx.compile(r"(?i)\b(?:after|once|when|if|having|before)\b")
_PREPARE_HEADING = rx.compile(
    r"(?i)^#+\s*(?:\W*\s*)?(?:data(?:set)?s?\s+(?:prep\w*|pre-?process\w*|clean\w*)|prepar\w*|"
    r"pre-?process\w*)"
)


# "train", "trains", "training", but not "trained" (a precondition: "once trained, run").
_TRAINS_WORD = rx.compile(r"(?i)\btrain(?:$|[^e]|e(?:$|[^d]))")
_NEGATED_TRAIN = rx.compile(
    r"(?i)\b(?:not|never|without|no\s+need\s+to|don't|do\s+not)\s+(?:\w+\s+){0,2}?train\w*"
)


def _command_kind(cmd: str, script: str | None, context: str, section: str = "") -> str:
    """install, test (unit tests), train, prepare, other: what a README command does."""
    low = cmd.lower()
    if _INSTALL.search(low):
        return "install"
    if rx.search(r"\bpytest\b|-m\s+(?:unittest|pytest)\b", low):
        return "test"
    if script:
        return _script_command_kind(low, script, context, section)
    return (
        "train"
        if _TRAIN.search(_PRETRAINED.sub("", low))
        else ("test" if _TEST.search(low) else "other")
    )


def _prepare_command(low: str, script: str, stem: str, kind: str | None, context: str) -> bool:
    """A command that prepares data or weights: by the script's name or folder, a data
    subcommand (`x.py download`), two weights files (in.ckpt out.ckpt), or the words before."""
    if kind == "prepare" or _PREPARE_VERB.match(_first_argument(low, script)):
        return True
    if kind is not None:
        return False
    if _DATA_DIR.search(script) and not _MODEL_WORD.search(stem):
        return True
    if len(_WEIGHT_FILE.findall(low.split(script.lower(), 1)[-1])) >= 2:
        return True  # `python add_control.py in.ckpt out.ckpt`: weights made from weights
    return not _is_generic(stem) and _dir_kind(script) is None and _prepares(context)


def _script_command_kind(low: str, script: str, context: str, section: str = "") -> str:
    stem = _stem(
        script.replace(".", "/")
        if "/" not in script and not script.endswith(_SCRIPT_EXT)
        else script
    )
    kind = kind_of(stem)
    # `-m pkg.data.clean` runs pkg/data/clean.py: its folder says what it does too.
    where = script if "/" in script or script.endswith(_SCRIPT_EXT) else script.replace(".", "/")
    if _prepare_command(low, where, stem, kind, context):
        return "prepare"
    # Not a shell wrapper's: `run_x.sh eval` picks the program it runs, which is the entry.
    verb = None if script.endswith(".sh") else _SUBCOMMAND.get(_first_argument(low, script))
    if verb is not None:
        return verb  # `neural_style.py eval …` and `neural_style.py train …`: one script, two
    if (
        kind == "demo"
        and script.endswith(".sh")
        and _OFFERED.fullmatch(stem)
        and _TRAINS_WORD.search(_NEGATED_TRAIN.sub(" ", context))
    ):
        return "train"  # "see `example.sh` to train other algorithms": offered, and it trains
    if kind in (None, "demo") and not _is_generic(stem) and _section_prepares(section):
        # generate_meta_info.py under "### Dataset Preparation": it makes data, not samples.
        return "prepare"
    if kind is None and _TOOL.search(stem):
        return "other"
    args = low.split(script.lower(), 1)[-1]
    if kind is None:
        kind = _dir_kind(script)
    if kind is None or _is_generic(stem):
        if _ARG_TRAIN.search(args):
            return "train"
        if _ARG_TEST.search(args):
            return "test"
    if kind is not None:
        return "train" if kind == "train" else "test"
    if _TOOL.match(stem):
        return "other"  # converters and exporters: neither training nor testing
    if _LOADS_TRAINED.search(args):
        # `style_mixing.py --network=…/ffhq.pkl`: a command handed a trained checkpoint
        # runs the model (a demo), whatever the sentence before it says.
        return "test"
    # An uninformative name: the sentence before the command says what it does ("you
    # wish to separate tracks, not train it" does not train).
    context = _NEGATED_TRAIN.sub(" ", context)
    if _TRAINS_WORD.search(context):
        return "train"
    if _RUNS_MODEL_WORD.search(context):
        return "test"
    if not _is_generic(stem) and _USAGE_HEADING.search(section):
        # The one thing a "## Running" section runs, saying nothing more: how the method
        # is used (neural_style.py --content c.jpg --styles s.jpg): a demo.
        return "test"
    return "other"  # main.py, run.py with nothing said: its code decides (_other_command_kind)


# "Show MT-bench scores", "compute the metrics", "Infer by command line": an evaluation or a
# run of the trained model.
_RUNS_MODEL_WORD = rx.compile(
    r"(?i)\b(?:test|evaluat|demo|inference|infer\b|inferring|predict|sampl|generat|"
    r"synthesi[sz]|transcrib|scor(?:e|es|ing)\b|"
    r"benchmark|metrics?\b|run\s+(?:the|a|our|your)\s+(?:\w+\s+)?model\b)"
)
_USAGE_HEADING = rx.compile(
    r"(?i)^\W*(?:usage|running|run(?:ning)?\s+(?:it|the\s+code)|quick\s*start|getting\s+started|"
    r"how\s+to\s+(?:use|run))\W*$",
    rx.M,
)


def fences(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of ``` and ~~~ fenced blocks, in one pass over the text: the next
    place of each fence kind is remembered and looked for again only once the reading has gone
    past it, so no stretch of the text is searched twice for the same kind (a str.find per
    fence from the current place re-read the whole rest of a README for the kind that does not
    occur: 500,000 `~~~` lines and no ``` took minutes; a lazy regex body is quadratic too).
    A fence opens and closes only at the start of a line (CommonMark), so ```x``` written
    inline in a sentence is no fence (SegFormer's "evaluate ```SegFormer-B1``` on ...")."""
    out: list[tuple[int, int, str]] = []
    # Each kind's next place at or after `i`; -1 once none is left.
    ahead = {f: text.find(f) for f in ("```", "~~~")}
    i = 0
    while True:
        for f, at in ahead.items():
            if 0 <= at < i:
                ahead[f] = _fence_at_line_start(text, f, i)
        starts = [(at, f) for f, at in ahead.items() if at >= 0]
        if not starts:
            break
        a, fence = min(starts)
        nl = text.find("\n", a + 3)
        if nl < 0:
            break
        if not _starts_line(text, a) or (fence == "```" and "`" in text[a + 3 : nl]):
            # Not a fence: inline ```x``` in a sentence, or ```pip install x``` on a line of
            # its own (a backtick fence's info string holds no backtick).
            i = a + 3
            continue
        end = _closing_fence(text, fence, nl + 1)
        if end < 0:
            ahead[fence] = -1  # no closing fence of this kind remains: none opens another
            i = a + 3
            continue
        out.append((a, end + 3, text[nl + 1 : end]))
        i = end + 3
    return out


_LIST_MARKER = rx.compile(r"[-*+]|\d{1,9}[.)]")


def _starts_line(text: str, at: int) -> bool:
    """Only indentation, quote marks or a list item's marker before `at` on its line (looked
    at 64 characters back at most, so a long line of fences costs no more than a short one)."""
    line = text.rfind("\n", max(0, at - 64), at)
    if line < 0 and at > 64:
        return False
    prefix = text[line + 1 : at].replace(">", " ").strip()
    return not prefix or _LIST_MARKER.fullmatch(prefix) is not None


def _fence_at_line_start(text: str, fence: str, start: int) -> int:
    """The next `fence` at or after `start` that begins a line, or -1."""
    at = text.find(fence, start)
    while at >= 0 and not _starts_line(text, at):
        at = text.find(fence, at + 3)
    return at


def _closing_fence(text: str, fence: str, start: int) -> int:
    """The next line at or after `start` that is only the fence (more of its character and
    spaces may follow; a closing fence has no info string), or -1."""
    at = _fence_at_line_start(text, fence, start)
    while at >= 0:
        rest = text[at + 3 : at + 260].split("\n", 1)[0]
        if not rest.strip(fence[0] + " \t\r"):
            return at
        at = _fence_at_line_start(text, fence, at + 3)
    return at


def _blocks(text: str, bare: bool = True) -> list[tuple[str, str, str]]:
    """(code, the prose just before it, the headings of the section it sits in) for fenced,
    indented and inline code (bare: a lone `x.sh`/`x.m`/`x.lua` in inline code is run)."""
    out: list[tuple[str, str, int]] = []
    spans = fences(text)
    pieces: list[str] = []
    last = 0
    at = 0  # where the prose (the text without fenced code) has got to
    for start, end, content in spans:
        at += start - last
        out.append((content, text[max(0, start - 300) : start], at))
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    prose = "".join(pieces)
    # Indented code blocks of reStructuredText and old Markdown.
    for m in rx.finditer(r"(?:^(?: {4}|\t)[^\n]+\n?)+", prose, rx.M):
        out.append((m.group(0), prose[max(0, m.start() - 300) : m.start()], m.start()))
    # Old READMEs quote their commands: "> python generate.py --ckpt PATH".
    for m in _QUOTED_COMMAND.finditer(prose):
        if len(m.group(1)) <= 400:
            out.append((m.group(1), prose[max(0, m.start() - 300) : m.start()], m.start()))
    for m_start, m_end, inline in _inline_code(prose):
        # Bounded: one enormous line of inline code must not make this quadratic.
        line_start = prose.rfind("\n", max(0, m_start - 300), m_start) + 1
        line_start = line_start or max(0, m_start - 300)
        line_end = prose.find("\n", m_end, m_end + 300)
        line_end = line_end if line_end >= 0 else min(len(prose), m_end + 300)
        # "Run `experiments/script_x.m` to train a model": the words after count too.
        context = prose[line_start:m_start] + " " + prose[m_end:line_end]
        code = " ".join(inline.split())
        if bare and _BARE_SCRIPT.fullmatch(code):
            code = f"./{code.removeprefix('./')}"
        elif _RUN_WORD.search(prose[line_start:m_start]) and _BARE_PY.fullmatch(code):
            code = f"python {code}"  # "Run `download_the_pile.py` to download the pile"
        out.append((code, context, m_start))
    sections = _Sections(prose)
    return [(code, context, sections.at(pos)) for code, context, pos in out]


_QUOTED_COMMAND = rx.compile(r"^>[ \t]*((?:python[\d.]*|bash|sh|th|\./)[^\n]+)$", rx.M)


# A Markdown heading outside fenced code (`# comment` lines in a bash block are not).
_HEADING = rx.compile(r"^(#{1,6})[ \t]+([^\n]+)$", rx.M)


class _Sections:
    """The headings that enclose each place of a page ("## Dataset Preparation" over
    "#### Step 1: Generate multi-scale images"), one a level, below the page's title."""

    def __init__(self, prose: str) -> None:
        self.starts: list[int] = []
        self.chains: list[str] = []
        stack: list[tuple[int, str]] = []  # (level, title), shallowest first
        for m in _HEADING.finditer(prose):
            level = len(m.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, m.group(2)[:200]))
            self.starts.append(m.start())
            self.chains.append("\n".join(t for lv, t in stack if lv > 1))
            if len(self.starts) >= 2000:
                break

    def at(self, pos: int) -> str:
        i = bisect.bisect_right(self.starts, pos)
        return self.chains[i - 1] if i else ""


_BARE_SCRIPT = rx.compile(r"\.?/?[\w.-]+(?:/[\w.-]+)*\.(?:m|lua|sh)")
_BARE_PY = rx.compile(r"\.?/?[\w.-]+(?:/[\w.-]+)*\.py")
# "Run `x.py`": the word right before inline code says it is run.
_RUN_WORD = rx.compile(r"(?i)(?:\b(?:run|execute)|(?:^|[.,;:][ \t]*|\bthen[ \t]+)use)[ \t]*$")


# `CONFIG=configs/x.yml` on a line of its own, then `python train.py --config=$CONFIG`.
_ASSIGN = rx.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=([^\s$`'\"]+)[ \t]*$", rx.M)


def _substitute(cmd: str, assigned: list[tuple[int, str, str]], at: int) -> str:
    """The command with the block's earlier shell variables written out (plain string work:
    a pattern compiled per variable would cost a millisecond each)."""
    if "$" not in cmd:
        return cmd
    for start, name, value in assigned:
        if start < at and len(cmd) <= 1000:  # bounded: a hostile value cannot blow it up
            cmd = _replace_var(cmd.replace("${" + name + "}", value), "$" + name, value)
    return cmd


def _replace_var(cmd: str, var: str, value: str) -> str:
    """`$NAME` replaced where no letter, digit or _ goes on after it."""
    out: list[str] = []
    i = 0
    while (j := cmd.find(var, i)) >= 0:
        end = j + len(var)
        follows = cmd[end : end + 1]
        out.append(cmd[i:j])
        out.append(value if not (follows.isalnum() or follows == "_") else var)
        i = end
    out.append(cmd[i:])
    return "".join(out)


def readme_commands(
    text: str, source: str, bare: bool = True, deadline: float | None = None
) -> list[Command]:
    """The commands of a page's code blocks, each with its kind; past the deadline (the run's)
    the blocks not yet read are left, and the caller says so."""
    out: list[Command] = []
    seen: set[str] = set()
    for n, (block, context, section) in enumerate(_blocks(text, bare)):
        if deadline is not None and not n & 0xFF and time.monotonic() > deadline:
            break
        # Join shell continuation lines before matching.
        block = rx.sub(r"\\\n\s*", " ", block)
        assigned = [
            (a.start(), a.group(1), a.group(2))
            for a in _ASSIGN.finditer(block)
            if len(a.group(2)) <= 200  # bounded: a hostile value cannot blow a command up
        ][:50]
        first = len(out)
        for m in _COMMAND.finditer(block):
            written = " ".join(m.group(1).split())
            if len(written) > 400:
                continue
            cmd = _substitute(written, assigned, m.start())[:1000]
            if cmd in seen:
                continue
            seen.add(cmd)
            # The paragraph just before the code says what it does (and a heading over it
            # that says "Data preparation").
            paragraphs = [p for p in rx.split(r"\n\s*\n", context) if p.strip()]
            said = paragraphs[-1] if paragraphs else ""
            heading = [p for p in paragraphs[:-1] if p.lstrip().startswith("#")][-1:]
            said = "\n".join([*heading, said])
            kind = _command_kind(cmd, command_script(cmd), said, section)
            out.append(Command(cmd, source, kind))
            if len(out) >= MAX_COMMANDS:
                break
        _made_before_training(out[first:])
        if len(out) >= MAX_COMMANDS:
            break
    return out


_MAKES = rx.compile(r"(?i)^(?:gen(?:erate)?|make|create)(?:[-_]|$)")


def _made_before_training(block: list[Command]) -> None:
    """`python generate_sine_wave.py` then `python train.py` in one block: what is generated
    before the model is trained is its training data, not samples of it."""
    trains = [i for i, c in enumerate(block) if c.kind == "train"]
    for i, c in enumerate(block):
        script = command_script(c.command)
        if (
            c.kind == "test"
            and script
            and trains
            and i < trains[-1]
            and _MAKES.match(_stem(script))
        ):
            c.kind = "prepare"


def _script_path(script: str, ctx: Context, base: str = "") -> str | None:
    """The repository file a README command names (./x.py, pkg.mod via -m), if it exists;
    in a folder's own README (base: its folder) beside it first; a bare name run after
    `cd somewhere` is found when exactly one file has that name."""
    cand = script.lstrip("./") if script.startswith("./") else script
    if base and cand.endswith(_SCRIPT_EXT) and ctx.snap.get(f"{base}/{cand}") is not None:
        return f"{base}/{cand}"
    if ctx.snap.get(cand) is not None:
        return cand
    if cand.endswith(_SCRIPT_EXT) and not cand.startswith(("/", "~", "$")):
        tail = "/" + cand
        matches = [f.path for f in ctx.snap.files if f.path.endswith(tail)][:2]
        if len(matches) == 1:
            return matches[0]
    if not cand.endswith(_SCRIPT_EXT) and rx.fullmatch(r"[\w.]+", cand):
        mod = cand.replace(".", "/")
        # The src layout: `python -m flux` runs src/flux/__main__.py once installed.
        for p in (f"{mod}.py", f"{mod}/__main__.py", f"src/{mod}.py", f"src/{mod}/__main__.py"):
            if ctx.snap.get(p) is not None:
                return p
    return None


def _add_readme_entries(ctx: Context, ep: EntryPoints, by_path: dict[str, PyFile]) -> None:
    """Each README command's script (or launched config, or unit-test folder) is an entry of
    the command's kind; the README wins over what the file's name said."""
    lists = {"train": ep.train, "test": ep.test, "prepare": ep.prepare}
    configs = _Configs(ctx)
    for c in ep.commands:
        if _add_launched_config(ctx, c, lists):
            continue
        if c.kind == "other":
            c.kind = _other_command_kind(ctx, c, by_path)
        if c.kind == "other" and configs.runs_training(c):
            c.kind = "train"  # xm_launch.py --gin_file=…/base_wmt_from_scratch.gin
        if c.kind not in lists:
            continue
        entry = _command_entry(ctx, c, by_path)
        pf = by_path.get(entry.path) if entry is not None else None
        if entry is not None and pf is not None and c.kind == "test":
            # `torchrun example.py` whose code trains.
            c.kind = "train" if _offered_trainer(_stem(entry.path), pf.text) else c.kind
            entry.kind = "train" if c.kind == "train" else entry.kind
        if entry is not None:
            _place(lists, lists[c.kind], entry)
            if c.kind == "test" and kind_of(_stem(entry.path)) == "train":
                # `python main_finetune.py --eval true`: the training script evaluates here;
                # its name says it trains, too.
                _place(lists, lists["train"], ScriptEntry(entry.path, "train", command=c.command))
            for runs in _main_modules(ctx, entry.path):
                _place(lists, lists[c.kind], ScriptEntry(runs, entry.kind, command=c.command))
        if c.kind in ("train", "test"):
            configs.add_from(c, lists)
    configs.add_siblings(lists)
    configs.add_tested(ep.test)


_MAIN_IMPORT = rx.compile(r"^from[ \t]+(\.|[\w.]+\.)(\w+)[ \t]+import[ \t]+main\b", rx.M)


def _main_modules(ctx: Context, path: str) -> list[str]:
    """`python -m pkg` runs pkg/__main__.py; when that calls the main() of modules beside it
    (`from .separate import main`, or one per subcommand: `from .cli_fill import main as
    fill_main` handed to Fire or argparse), those modules are what runs too."""
    if not path.endswith("/__main__.py"):
        return []
    fe = ctx.snap.get(path)
    if fe is None or fe.size > 20_000:
        return []
    folder = path.rsplit("/", 1)[0]
    found = [
        f"{folder}/{m.group(2)}.py" for m in _MAIN_IMPORT.finditer(ctx.snap.read_text(path) or "")
    ]
    return [t for t in found[:10] if ctx.snap.get(t) is not None]


def _main_module(ctx: Context, path: str) -> str | None:
    runs = _main_modules(ctx, path)
    return runs[0] if runs else None


# Options that hand a script its experiment: --config x.json, -opt options/x.yml,
# --hparams_path=x.json, --config_path x.yml, caffe's -solver x.solver.
_CONFIG_OPTION = rx.compile(
    r"(?i)^--?(?:c|cfg|conf|config|config[-_]?(?:file|path|name)|opt|options?|"
    r"hparams(?:[-_]?(?:path|file))?|solver|gin[-_]?(?:file|config)s?|exp[-_]?config)$"
)
# .txt: configargparse's `key = value` files (`--config configs/lego.txt`).
_CONFIG_EXT = (
    ".yaml",
    ".yml",
    ".json",
    ".gin",
    ".solver",
    ".prototxt",
    ".py",
    ".toml",
    ".cfg",
    ".txt",
)
# Keys that set how a model trains (a learning rate, a batch size, steps or epochs, an
# optimizer): what makes a config an experiment to train, not a model's architecture
# (yolov5n.yaml) or a dataset's description (coco.yaml).
_TRAIN_KEYS = rx.compile(
    r"(?i)(?:^|[\s{,\"'.])(?:lr|base_lr|learning_rate|lr_policy|batch_?size\w*|"
    r"(?:num_|max_|n_|total_)?epochs?|max_iters?|iterations?|total_iters?|(?:num_)?train_steps|"
    r"max_steps|optim(?:izer)?\w*|weight_decay|"
    # An experiment's name: the run a training command starts (nerf's `expname = fern`).
    r"exp_?name|experiment_?name|run_?name)[\"']?[ \t]*[:=]"
)
_DATA_CONFIG = (".yaml", ".yml", ".json")
MAX_CONFIGS = 40


def command_configs(cmd: str) -> list[str]:
    """The config files a command hands to its script (`--config x.json`, `-opt=x.yml`)."""
    words = _split_words(cmd)
    out: list[str] = []
    for j, w in enumerate(words):
        if not w.startswith("-"):
            continue
        opt, eq, value = w.partition("=")
        if not eq:
            value = words[j + 1] if j + 1 < len(words) else ""
        low = value.lower()
        # Any option handed a YAML/JSON/gin file (`--fname configs/x.yaml`): a config, when it
        # sets how to train (checked where it is added); other files by a config option's name.
        if low.endswith((*_DATA_CONFIG, ".gin")) or (
            _CONFIG_OPTION.match(opt) and low.endswith(_CONFIG_EXT)
        ):
            out.append(value.removeprefix("./"))
    # `torchrun train.py config.yaml`: a YAML or JSON config right after the script (a .py
    # there may as well be another script).
    for j, w in enumerate(words[:-1]):
        if w.endswith((".py", ".lua")) and words[j + 1].lower().endswith(_DATA_CONFIG):
            out.append(words[j + 1].removeprefix("./"))
            break
    return out


def _names_folder(text: str, folder: str) -> bool:
    """The text names the folder as a path (`configs/`, [hparams](nmt/standard_hparams/)),
    not as a word of prose or as the start of a file's path."""
    for start in ("`", "(", "[", "`./", "(./", "[./"):
        for end in ("`", ")", "]", "/`", "/)", "/]"):
            if start + folder + end in text:
                return True
    at = text.find(folder + "/")
    while at >= 0:
        before = text[at - 1 : at]
        after = text[at + len(folder) + 1 : at + len(folder) + 2]
        part_of_path = bool(before) and (before.isalnum() or before in "_/.-")
        if not part_of_path and (not after or after in ")]`'\", \n\t"):
            return True
        at = text.find(folder + "/", at + 1)
    return False


# A config built on another: detectron2's `_BASE_: "Base-RCNN.yaml"`, mmcv's `_base_ = [...]`.
_BASE_KEY = rx.compile(
    r"(?m)^[ \t]*(?:_BASE_|_base_|__base__)[ \t]*[:=][ \t]*\[?[ \t]*['\"]?([\w./-]+\.(?:ya?ml|py))"
)


def _normpath(path: str) -> str | None:
    """`a/b/../c.yaml` as `a/c.yaml`; None when it leaves the repository."""
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


class _Configs:
    """Config files that training commands run: each named one that sets how to train, and,
    when the README names two or more of a folder's configs or names the folder itself, the
    folder's other configs of the same kind (a set of experiments shown by one or two)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.added: dict[str, str] = {}  # config path -> the list it went to
        self.tested: dict[str, str] = {}  # eval-named config -> the test command running it
        self._by_name: dict[str, list[str]] | None = None

    def add_from(self, c: Command, lists: dict[str, list[ScriptEntry]]) -> None:
        """The configs a training command runs; of a test command's, only those named for
        evaluation or inference (base_wmt_eval.gin): the others are its settings."""
        script = command_script(c.command)
        base = _page_folder(c.source)
        for value in command_configs(c.command)[:10]:
            for path in self._resolve(f"{base}/{value}" if base else value, script) or (
                self._resolve(value, script) if base else []
            ):
                if c.kind == "train":
                    self._add(path, c.command, lists)
                elif kind_of(_stem(path)) in ("eval", "inference", "test"):
                    self.tested.setdefault(path, c.command)

    def runs_training(self, c: Command) -> bool:
        """A command whose script says nothing hands over a config that sets how to train: a
        launcher of that training run."""
        script = command_script(c.command)
        for value in command_configs(c.command)[:10]:
            if any(self._sets_training(p) for p in self._resolve(value, script)):
                return True
        return False

    def add_tested(self, tests: list[ScriptEntry]) -> None:
        """Configs named for evaluation that a test command runs, beside training configs
        that are entries (base_wmt_eval.gin among the experiments): one of the set. In a folder
        of model settings with no training config (v2-inference.yaml) they are settings."""
        folders = {p.rsplit("/", 1)[0] for p, where in self.added.items() if where == "train"}
        for path, command in list(self.tested.items())[:MAX_CONFIGS]:
            fe = self.ctx.snap.get(path)
            if fe is None or fe.vendored or path.rsplit("/", 1)[0] not in folders:
                continue
            if not any(e.path == path for e in tests):
                tests.append(ScriptEntry(path, "config", command=command))

    def _resolve(self, value: str, script: str | None) -> list[str]:
        """The repository files a config argument names: its path, beside the script, or
        every file of that name when it has no folder (`caffe train --solver train.solver`,
        run inside each model's folder)."""
        snap = self.ctx.snap
        if snap.get(value) is not None:
            return [value]
        if script and "/" in script:
            beside = script.removeprefix("./").rsplit("/", 1)[0] + "/" + value
            if snap.get(beside) is not None:
                return [beside]
        if "/" in value:
            return []
        if self._by_name is None:
            self._by_name = {}
            for fe in snap.files:
                if fe.suffix in _CONFIG_EXT and not fe.vendored:
                    self._by_name.setdefault(fe.name, []).append(fe.path)
        found = self._by_name.get(value, [])
        return found if len(found) <= 8 else []

    def _text(self, path: str) -> str:
        fe = self.ctx.snap.get(path)
        if fe is None or fe.vendored or fe.size > 256 * 1024:
            return ""
        return self.ctx.snap.read_text(path) or ""

    def _sets_training(self, path: str) -> bool:
        """It sets how to train, itself or through the configs it inherits (`_BASE_:`)."""
        return any(_TRAIN_KEYS.search(self._text(p)) for p in self._chain(path))

    def _chain(self, path: str) -> list[str]:
        """The config and the configs it inherits from (`_BASE_: x.yaml`, `_base_ = [...]`),
        nearest first, at most four."""
        chain = [path]
        while len(chain) < 4:
            m = _BASE_KEY.search(self._text(chain[-1])[:4000])
            folder = chain[-1].rsplit("/", 1)[0] + "/" if "/" in chain[-1] else ""
            base = _normpath(folder + m.group(1)) if m else None
            if base is None or base in chain or self.ctx.snap.get(base) is None:
                break
            chain.append(base)
        return chain

    def _add(self, path: str, command: str | None, lists: dict[str, list[ScriptEntry]]) -> None:
        if path in self.added or len(self.added) >= MAX_CONFIGS or not self._sets_training(path):
            return
        # caffe train --solver test.solver: a config named for testing evaluates.
        named = kind_of(_stem(path))
        bucket = "test" if named not in (None, "train", "prepare") else "train"
        self.added[path] = bucket
        if not any(e.path == path for e in lists[bucket]):
            lists[bucket].append(ScriptEntry(path, "config", command=command))

    def add_siblings(self, lists: dict[str, list[ScriptEntry]]) -> None:
        folders = {p.rsplit("/", 1)[0] if "/" in p else "" for p in self.added}
        if not folders:
            return
        text = _pages_text(self.ctx)  # searched with str.find only
        mentioned = _mentioned_names(self.ctx)
        for folder in sorted(folders)[:10]:
            prefix = folder + "/" if folder else ""
            suffixes = {
                p.rsplit(".", 1)[-1]
                for p in self.added
                if p.startswith(prefix) and p.count("/") == prefix.count("/")
            }
            sibs = [
                fe.path
                for fe in self.ctx.snap.files
                if fe.path.startswith(prefix)
                and fe.path.count("/") == prefix.count("/")
                and fe.suffix.lstrip(".") in suffixes
            ]
            if len(sibs) > MAX_CONFIGS:
                continue
            named = sum(1 for p in sibs if p.rsplit("/", 1)[-1] in mentioned)
            every = named >= 2 or (folder and _names_folder(text, folder))
            roots = {
                self._chain(p)[-1] for p in self.added if p in sibs and len(self._chain(p)) > 1
            }
            for p in sibs:
                # Other experiments like the ones shown: not eval_gpt2.py beside them; or
                # built on the same base as a shown one (detectron2's _BASE_), not the base.
                chain = self._chain(p)
                kin = len(chain) > 1 and chain[-1] in roots
                if (every or kin) and kind_of(_stem(p)) in (None, "train"):
                    self._add(p, None, lists)
            if every:
                self._add_nested(prefix, suffixes, lists)

    def _add_nested(
        self, prefix: str, suffixes: set[str], lists: dict[str, list[ScriptEntry]]
    ) -> None:
        """A folder of experiments shown by two of them (configs/fc.yml, configs/fc_rl.yml):
        the experiments one folder down (configs/transformer/*.yml) that set how to train
        are of the set too; data or model configs there are not."""
        depth = prefix.count("/") + 1
        nested = [
            fe.path
            for fe in self.ctx.snap.files
            if fe.path.startswith(prefix)
            and fe.path.count("/") == depth
            and fe.suffix.lstrip(".") in suffixes
            and not fe.vendored
        ]
        if len(nested) > MAX_CONFIGS:
            return
        for p in nested:
            if kind_of(_stem(p)) in (None, "train") and self._sets_training(p):
                self._add(p, None, lists)


def _add_launched_config(ctx: Context, c: Command, lists: dict[str, list[ScriptEntry]]) -> bool:
    """`python -m <launcher> --cfg=examples/x.py`: the config is the experiment that runs; a
    launcher trains unless the command or the config's name says otherwise."""
    script = command_script(c.command)
    config = None if script and _script_path(script, ctx) else _launched_config(c.command, ctx)
    if config is None:
        return False
    ckind = kind_of(_stem(config))
    tests = _ARG_TEST.search(c.command) or ckind not in (None, "train", "prepare")
    entry = ScriptEntry(config, "test" if tests else "train", command=c.command)
    c.kind = entry.kind
    lst = lists[c.kind]
    if not any(e.path == config for e in lst):
        lst.append(entry)
    return True


def _other_command_kind(ctx: Context, c: Command, by_path: dict[str, PyFile]) -> str:
    """An uninformative name (aae.py, style.py): what the script's code does."""
    script = command_script(c.command)
    found = _script_path(script, ctx, _page_folder(c.source)) if script else None
    # `python -m pkg`: what pkg/__main__.py hands over to (pkg/separate.py) says.
    found = found and (_main_module(ctx, found) or found)
    if found and _VISUALIZES.match(_stem(found)):
        # visualize_attention.py that loads a trained model runs it: a demo; one that only
        # plots logs or data is a tool.
        return "test" if _INFER_CELL.search(ctx.snap.read_text(found) or "") else c.kind
    name = found or script or ""
    generic = _is_generic(_stem(name if name.endswith(_SCRIPT_EXT) else name.replace(".", "/")))
    if not found or _TOOL.match(_stem(found)):
        return "train" if generic and not found else c.kind
    named = kind_of(_stem(found))
    fe = ctx.snap.get(found)
    if named is None and found.endswith(".sh") and fe is not None and fe.size <= 64 * 1024:
        named = _shell_kind(ctx, found)  # ./run.sh vgg19: what the Python it starts does
    if named is not None:
        return "train" if named == "train" else "prepare" if named == "prepare" else "test"
    code = ctx.snap.read_text(found) or ""
    # A main.py or run.py the README runs trains, unless its code only runs a model
    # (run.py --input_path in --output_path out: inference).
    kind = _code_kind(code) or ("train" if generic else "other")
    pf = by_path.get(found)
    options = _entry_facts(pf)[1] if pf is not None else []
    if (
        kind == "train"
        and (_has_train_switch(options) or _TRAIN_FLAG.search(code))
        and not _ARG_TRAIN.search(c.command)
    ):
        return "test"  # enhance.py trains only with --train: run without it, it is the demo
    return kind


def _page_folder(source: str) -> str:
    """The folder of a folder's own README (chat/README.md: chat); "" for the top and docs."""
    folder = source.rsplit("/", 1)[0] if "/" in source else ""
    return "" if folder.split("/", 1)[0].lower() in ("", "docs", "doc") else folder


def _command_entry(ctx: Context, c: Command, by_path: dict[str, PyFile]) -> ScriptEntry | None:
    """The entry a command runs: a unit-test folder through pytest, or a repository script."""
    low = c.command.lower()
    if rx.search(
        r"^(?:[^\s=]+=\S*\s+)*(?:pytest\b|python[\d.]*\s+-m\s+(?:unittest|pytest)\b)", low
    ):
        return ScriptEntry(_unit_test_target(ctx, c.command), "unittest", command=c.command)
    script = command_script(c.command)
    found = _script_path(script, ctx, _page_folder(c.source)) if script is not None else None
    if found is None:
        return None
    if found.endswith(".lua") and _lua_module(ctx.snap.read_text(found) or ""):
        return None  # "the entry point to evaluation is inside `eval_utils.lua`": a module
    pf = by_path.get(found)
    options = _entry_facts(pf)[1] if pf is not None and "entry" in pf.facts else []
    kind = kind_of(_stem(found)) or c.kind
    if (c.kind != "prepare" and kind == "prepare") or (c.kind == "test" and kind == "train"):
        kind = c.kind  # run_pretraining.py '{"do_train": false, "do_eval": true}' evaluates
    return ScriptEntry(found, kind if c.kind != "prepare" else "prepare", options, c.command)


def _unit_test_target(ctx: Context, command: str) -> str:
    """The folder or file a pytest command names, or tests/."""
    target = next(
        (
            w
            for w in _split_words(command)[2:]
            if ctx.snap.get(w.rstrip("/"))
            or any(f.path.startswith(w.rstrip("/") + "/") for f in ctx.snap.files[:5000])
        ),
        None,
    )
    return target.rstrip("/") if target else "tests"


def _place(lists: dict[str, list[ScriptEntry]], lst: list[ScriptEntry], entry: ScriptEntry) -> None:
    """Add a documented entry; documented as training but found under test (or the other
    way): the README wins."""
    known = next((e for e in lst if e.path == entry.path), None)
    if known is not None:
        known.command = known.command or entry.command
        return
    for other in lists.values():
        if other is not lst:
            other[:] = [e for e in other if not (e.path == entry.path and e.command is None)]
    lst.append(entry)


def _launched_config(cmd: str, ctx: Context) -> str | None:
    """The repository config a command hands to a launcher it does not contain itself."""
    targets = command_targets(cmd)
    if not any(kind == "module" for kind, _ in targets):
        return None
    for kind, path in targets:
        if kind == "script" and _script_path(path, ctx):
            return None  # `torchrun … train.py --config x.yaml`: the script is the entry
    for kind, path in targets:
        if kind == "config":
            found = _script_path(path.removeprefix("./"), ctx) or (
                path if ctx.snap.get(path) else None
            )
            if found:
                return found
    return None


# add_arg('--train', ...) through an alias the option parser does not follow.
_TRAIN_FLAG = rx.compile(r"""\(\s*['"]--(?:train|do_train)['"]""")


def _has_train_switch(options: list[dict[str, Any]]) -> bool:
    """The script trains only when asked: a --train/--do_train flag or a train mode."""
    for o in options:
        name = str(o.get("name") or "").lstrip("-").lower()
        if name in ("train", "do_train", "training"):
            return True
        if name in ("mode", "phase") and "train" in str(o.get("choices") or "").lower():
            return True
    return False


def _code_kind(text: str) -> str | None:
    """train when the code has a training loop, test when it only loads and runs a model."""
    if _trains(text):
        return "train"
    return "test" if _INFER_CELL.search(text) else None


_CONSOLE_SCRIPT = rx.compile(r"""['"]\s*([\w.-]+)\s*=\s*([\w.]+)(?::[\w.]+)?\s*['"]""")
_CFG_SCRIPT = rx.compile(r"(?m)^[ \t]+([\w.-]+)[ \t]*=[ \t]*([\w.]+)(?::[\w.]+)?[ \t]*$")


def package_scripts(ctx: Context) -> dict[str, str]:
    """Commands the package installs (setup.py/setup.cfg console_scripts, [project.scripts])
    and bin/ wrappers: command name -> the repository file that runs."""
    modules: dict[str, str] = {}
    setup = ctx.snap.read_text("setup.py") if ctx.snap.get("setup.py") else None
    at = setup.find("console_scripts") if setup else -1
    if setup and at >= 0:
        modules.update(_CONSOLE_SCRIPT.findall(setup[at : at + 5000]))
    cfg = ctx.snap.read_text("setup.cfg") if ctx.snap.get("setup.cfg") else None
    at = cfg.find("console_scripts") if cfg else -1
    if cfg and at >= 0:
        block = rx.split(r"\n\S", cfg[at : at + 5000].split("\n", 1)[-1], maxsplit=1)[0]
        modules.update(_CFG_SCRIPT.findall(block))
    pyproject = ctx.snap.read_text("pyproject.toml") if ctx.snap.get("pyproject.toml") else None
    if pyproject:
        try:
            scripts = safeparse.toml_loads(pyproject).get("project", {}).get("scripts", {})
        except (tomllib.TOMLDecodeError, ValueError, AttributeError):
            scripts = {}
        if isinstance(scripts, dict):
            modules.update(
                {str(k): str(v).split(":")[0] for k, v in scripts.items() if isinstance(v, str)}
            )
    out: dict[str, str] = {}
    for name, module in list(modules.items())[:50]:
        found = _script_path(module, ctx)
        if found:
            out[name] = found
    for fe in ctx.snap.files:
        if fe.path.startswith(("bin/", "scripts/bin/")) and fe.path.count("/") <= 2:
            out.setdefault(fe.name.removesuffix(".py").removesuffix(".sh"), fe.path)
            out.setdefault(fe.name, fe.path)
    return out


def _tool_commands(ctx: Context, ep: EntryPoints) -> None:
    """README commands that run an installed console script or a bin/ wrapper
    (`mytool-decode --model x`): the file behind the command is the entry point."""
    tools = package_scripts(ctx)
    if not tools:
        return
    lists = {"train": ep.train, "test": ep.test, "prepare": ep.prepare}
    names = "|".join(rx.escape(n) for n in sorted(tools, key=len, reverse=True))
    pattern = rx.compile(rf"^[ \t]*(?:\$[ \t]*)?(?:\./)?(?:bin/)?({names})(?:[ \t]+[^\n]*)?$", rx.M)
    for block, context, _section in _blocks(ctx.readme)[:500]:
        for m in pattern.finditer(block):
            path = tools[m.group(1)]
            cmd = " ".join(m.group(0).split())
            module = _subcommand_module(ctx, path, cmd.split()[1:2])
            if module is not None:
                path, kind = module
            else:
                kind = kind_of(rx.sub(r"[-.]", "_", m.group(1))) or _dir_kind(path)
            if kind is None:
                kind = _command_kind(cmd, path, context.rsplit("\n\n", 1)[-1])
            kind = {"other": None}.get(kind, kind)
            if kind is None:
                continue
            bucket = "train" if kind == "train" else "prepare" if kind == "prepare" else "test"
            ep.commands.append(
                Command(cmd, ctx.snap.readme.path if ctx.snap.readme else "", bucket)
            )
            if not any(e.path == path for e in lists[bucket]):
                lists[bucket].append(ScriptEntry(path, kind, command=cmd))


def _subcommand_module(ctx: Context, tool: str, words: list[str]) -> tuple[str, str | None] | None:
    """`mytool finetune_lora …`, `mytool download …`: a subcommand that names a module of the
    tool's package (pkg/finetune/lora.py, pkg/scripts/download.py) runs that module; its kind
    is what the subcommand's name says."""
    if not words or "/" not in tool or not rx.fullmatch(r"[a-z][a-z0-9_]{2,40}", words[0]):
        return None
    sub, pkg = words[0], tool.split("/", 1)[0]
    cands = [f"{pkg}/{sub}.py", f"{pkg}/{sub}/__main__.py", f"{pkg}/{sub}/base.py"]
    cands += [f"{pkg}/{sub.replace('_', '/')}.py", f"{pkg}/scripts/{sub}.py"]
    found = next((c for c in cands if ctx.snap.get(c) is not None), None)
    if found is None:
        return None
    return found, kind_of(sub) or kind_of(_stem(found)) or _dir_kind(found)


# "Example scripts are in `examples/`", "see the demos in the [demo](demo/) folder".
_EXAMPLE_FOLDER = rx.compile(
    r"(?i)\b(?:examples?|demos?|samples?|sample|usage)\b[^.\n]{0,60}?\b(?:in|under|at|see)\s+"
    r"(?:the\s+)?[`\[]?(?:\./)?([\w.-]+(?:/[\w.-]+)*)/?[`\]]?(?:\([^)\n]*\))?"
    r"(?:\s+(?:folder|directory|dir))?"
)
_EXAMPLE_DIR = rx.compile(r"(?i)examples?|demos?|samples?|tutorials?|colabs?|notebooks?|apps?")
# Where inference scripts and demo servers live (bin/sample.py, server/app.py, gradio/t2v.py).
_SERVE_DIR = rx.compile(
    r"(?i)(?:^|/)(?:bin|server|serve|serving|webui|apps?|gradio|streamlit)/[^/]+$"
)
_RUNS_MAIN = rx.compile(r"^\s*(?:def main\(|fire\.Fire\(|app\.run\(|if __name__ ==)", rx.M)


def _example_folders(ctx: Context, ep: EntryPoints) -> None:
    """A README sentence that names a folder of example scripts names each script in it that
    runs (a main(), fire.Fire, absl app.run or a main guard)."""
    folders: list[str] = []
    for m in _EXAMPLE_FOLDER.finditer(ctx.readme[:200_000]):
        folder = m.group(1).strip("/")
        # The sentence speaks of scripts, or the folder is named for examples: "for example,
        # in data/ …" does not make data/'s scripts demos.
        if not (
            rx.search(r"(?i)scripts?\b", m.group(0))
            or _EXAMPLE_DIR.fullmatch(folder.split("/")[-1])
        ):
            continue
        if folder not in folders and any(
            f.path.startswith(folder + "/") for f in ctx.snap.files[:20000]
        ):
            folders.append(folder)
    by_path = {f.path: f for f in ctx.py.files}
    known = {e.path for lst in (ep.train, ep.test, ep.prepare) for e in lst}
    for folder in folders[:5]:
        scripts = [
            f
            for f in ctx.snap.files
            if f.path.startswith(folder + "/")
            and f.path.count("/") == folder.count("/") + 1
            and f.suffix == ".py"
            and not f.name.startswith("_")
        ]
        for fe in scripts[:30]:
            pf = by_path.get(fe.path)
            if pf is None or fe.path in known or not _RUNS_MAIN.search(pf.text):
                continue
            kind = kind_of(_stem(fe.path)) or ("train" if _TRAIN_LOOP.search(pf.text) else "demo")
            lst = {"train": ep.train, "prepare": ep.prepare}.get(kind, ep.test)
            lst.append(ScriptEntry(fe.path, kind, _entry_facts(pf)[1]))


def check(ctx: Context) -> tuple[EntryPoints, list[Finding]]:
    """Entry points from the files (names, folders, code), then from the README's commands."""
    ep = EntryPoints()
    by_path = {f.path: f for f in ctx.py.files}
    by_folder = _python_entries(ctx, ep)
    _other_file_entries(ctx, ep, by_path)
    late: list[Finding] = []
    if ctx.snap.readme:
        late = _readme_entries(ctx, ep, by_path)
        if not late:
            _documented_folders(ctx, ep, by_folder)
    _hydra_configs(ctx, ep, by_path)
    for lst in (ep.train, ep.test, ep.prepare):
        lst.sort(key=lambda e: (e.command is None, e.path.count("/"), e.kind == "notebook", e.path))
    return ep, late + _missing_findings(ep)


# @hydra.main(config_path="../conf", config_name="config"), dora's @hydra_main(…) too.
_HYDRA_MAIN = rx.compile(
    r"@(?:hydra\.main|hydra_main)\([^)]*?config_path[ \t]*=[ \t]*['\"]([\w./-]+)['\"][^)]*?"
    r"config_name[ \t]*=[ \t]*['\"]([\w.-]+)['\"]"
)


def _hydra_configs(ctx: Context, ep: EntryPoints, by_path: dict[str, PyFile]) -> None:
    """The config a Hydra training script composes from (conf/config.yaml) is the training
    run's config, when it sets how to train."""
    for entry in list(ep.train)[:20]:
        pf = by_path.get(entry.path)
        m = _HYDRA_MAIN.search(pf.text) if pf is not None else None
        if m is None or len(m.group(1)) + len(m.group(2)) > 200:
            continue
        folder = entry.path.rsplit("/", 1)[0] + "/" if "/" in entry.path else ""
        name = m.group(2) if m.group(2).endswith((".yaml", ".yml")) else m.group(2) + ".yaml"
        path = _normpath(f"{folder}{m.group(1)}/{name}")
        fe = ctx.snap.get(path) if path else None
        if path is None or fe is None or fe.vendored or fe.size > 256 * 1024:
            continue
        if _TRAIN_KEYS.search(ctx.snap.read_text(path) or "") and path not in _paths_of(ep):
            ep.train.append(ScriptEntry(path, "config"))


def _paths_of(ep: EntryPoints) -> set[str]:
    return {e.path for lst in (ep.train, ep.test, ep.prepare) for e in lst}


def _bucket(ep: EntryPoints, kind: str) -> list[ScriptEntry]:
    """The list an entry of this kind goes to: train, prepare, or test (everything else)."""
    return {"train": ep.train, "prepare": ep.prepare}.get(kind, ep.test)


def _python_entries(ctx: Context, ep: EntryPoints) -> set[str]:
    """Python scripts and notebooks, by their names, folders and code; returns the scripts
    that are data preparation only by their folder."""
    by_folder: set[str] = set()
    imported = _imported_modules(ctx)
    packages = {
        f.path.rsplit("/", 1)[0]
        for f in ctx.snap.files
        if f.name == "__init__.py" and "/" in f.path
    }
    importers = _ImportedNames(ctx)
    for f in ctx.py.files:
        fentry = ctx.snap.get(f.path)
        if (
            _UNIT_TEST_DIR.search(f.path)
            or (f.path.startswith(_NOT_ENTRY_DIRS) and not _docs_notebook(f))
            or (fentry is not None and fentry.vendored)
        ):
            continue
        if f.facts.get("skimmed") and _named_like_entry(f.path):
            f = _reread(ctx, f)  # past the analysis budget, but named like a script to run
        if f.is_notebook:
            _notebook_entry(ep, f)
        elif _is_unit_test_file(f):
            continue  # unit tests, counted by the health check
        elif _HELPER_DIR.search(f.path):
            continue  # utils/flask_rest_api/example_request.py: a helper, unless documented
        else:
            _script_entry(ep, f, imported, packages, importers, by_folder)
    return by_folder


def _docs_notebook(f: PyFile) -> bool:
    """A notebook in the docs named for what it runs (docs/x/graphcast_demo.ipynb): the
    documentation ships it to be run, unlike the docs' build scripts."""
    return (
        f.is_notebook
        and f.path.startswith(("docs/", "doc/"))
        and kind_of(_stem(f.path)) is not None
    )


# `import model_utils`, `from splitcross import X`, `from . import model`, `from .model import X`.
_IMPORT_NAME = rx.compile(
    r"^[ \t]*(?:from[ \t]+\.*(?:[\w.]*\.)?(\w+)[ \t]+import\b|from[ \t]+\.+[ \t]+import[ \t]+(\w+)|"
    r"import[ \t]+(?:[\w.]*\.)?(\w+))",
    rx.M,
)


class _ImportedNames:
    """The last name of every module the repository's Python files import, relative imports
    included (the parse records only absolute ones); read on the first question."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.names: set[str] | None = None

    def __contains__(self, name: str) -> bool:
        if self.names is None:
            self.names = set()
            for f in self.ctx.py.files:
                if not f.is_notebook:
                    for m in _IMPORT_NAME.finditer(f.text[:20_000]):  # imports sit at the top
                        self.names.add(m.group(1) or m.group(2) or m.group(3))
        return name in self.names


def _notebook_entry(ep: EntryPoints, f: PyFile) -> None:
    # Deep notebooks are someone's analysis, unless a folder above names them as ones to run
    # and their code trains (tensorflow_v2/notebooks/3_NeuralNetworks/x.ipynb,
    # src/pkg/examples/sft_demo.ipynb).
    deep = f.path.count("/") > 2
    if deep and not any(_EXAMPLE_DIR.fullmatch(part) for part in f.path.split("/")[:-1]):
        return
    nkind = _notebook_kind(_stem(f.path), f.text)
    if deep and nkind != "train":
        return  # a deep demo or utility notebook (inference/scripts/notebooks/sharding_utils)
    if nkind is None and _EXAMPLE_DIR.fullmatch(f.path.rsplit("/", 2)[-2] if "/" in f.path else ""):
        nkind = "notebook"  # colabs/sampling.ipynb: a folder of notebooks to run
    if nkind == "notebook" and _DATA_DIR.search(f.path):
        nkind = "prepare"  # tools/dataset/encode_dataset.ipynb makes data, as scripts there do
    if nkind is not None:
        _bucket(ep, nkind).append(ScriptEntry(f.path, nkind))


def _script_entry(
    ep: EntryPoints,
    f: PyFile,
    imported: set[str],
    packages: set[str],
    importers: _ImportedNames,
    by_folder: set[str],
) -> None:
    stem = _stem(f.path)
    kind = kind_of(stem)
    if kind in ("test", "demo", "eval", "inference") and _DATA_DIR.search(f.path):
        kind = "prepare"  # datasets/coco_generate_instance_map.py makes data
    if _offered_trainer(stem, f.text):
        kind = "train"
    if kind is None and _is_generic(stem) and f.path.count("/") <= 1:
        _generic_entry(ep, f)
        return
    runs, options = _entry_facts(f)
    if kind is None and runs and _DATA_DIR.search(f.path) and _converts(stem):
        kind = "prepare"  # preprocess/convert-pkl2hdf5.py: a converter among the data
        by_folder.add(f.path)
    if kind is None and runs and not _TOOL.match(stem):
        # An uninformative name (Caffe's solve.py): a script whose code runs a training
        # loop trains; one that only loads a model is left to the README.
        # A main.py that calls model.fit(...) and then predicts trains (Keras).
        trains = _trains(f.text) if _is_generic(stem) else bool(_TRAIN_LOOP.search(f.text))
        kind = "train" if trains else "demo" if _SERVE_DIR.search(f.path) else None
        if kind == "demo":
            by_folder.add(f.path)  # serve/x_worker.py: a demo by its folder alone
        if kind is None and _DATA_DIR.search(f.path) and _has_main_guard(f):
            # datasets/lsun_bedroom.py, scripts/data/preferences/nectar.py (read past the
            # analysis budget: its main guard as the skim saw it): a data folder's script.
            kind = "prepare"
            by_folder.add(f.path)
        if kind is None and _MAIN_GUARD.search(f.text) and _dir_kind(f.path) != "train":
            kind = _dir_kind(f.path)  # eval/run_llava.py: what its folder says
        if kind is not None and stem in importers:
            # model_utils.py, splitcross.py: training code the entry scripts import;
            # datasets/laion_dataset.py: a data set class the builders import.
            return
    if kind is None or not runs:
        return
    if _is_library_module(f.path, imported, packages) and not (
        _has_main_guard(f) and f.path.count("/") <= 2
    ):
        # lib/fast_rcnn/test.py: functions tools/test_net.py imports; a script near the top
        # that others import from and that runs (experiments/nmt/sample.py) is still one;
        # deep in a package (pkg/models/autoencoders/upsampler.py) a main guard is a check.
        return
    if f.path.rsplit("/", 1)[0] in packages and stem in importers and not _has_main_guard(f):
        return  # open_clip/pretrained.py: a module its package imports (`from .pretrained`)
    if kind == "prepare" and _NOT_ENTRY.match(stem) and not _DATA_WORD.search(stem):
        return  # setup_env.py, install_deps.py; build_pretraining_dataset.py makes data
    if _INSTALLS.match(stem):
        return  # install_post_train_extra_deps.py sets up a machine, whatever it names
    _bucket(ep, kind).append(ScriptEntry(f.path, kind, options))
    if kind == "train" and _mode_switch(options):
        ep.test.append(ScriptEntry(f.path, "eval", options))  # train.py --mode eval


# A mode option of a training script (`--mode`, `--phase`): what it can run instead.
_MODE_OPTION = rx.compile(r"(?i)^-*(?:run_?)?(?:mode|phase)$")
_MODE_EVAL = rx.compile(r"(?i)\b(?:eval\w*|test\w*|sample|sampling|infer\w*|predict\w*)\b")


def _mode_switch(options: list[dict[str, Any]]) -> bool:
    """A training script whose mode option also evaluates or samples (srgan's train.py
    --mode eval, iaf's tf_train.py --mode eval_test): one script listed under both."""
    for opt in options:
        if not _MODE_OPTION.match(str(opt.get("name", ""))):
            continue
        said = " ".join(str(opt.get(k, "")) for k in ("choices", "help", "default"))
        if _MODE_EVAL.search(said) and "train" in said.lower():
            return True
    return False


def _makes_data(stem: str) -> bool:
    """setup_data.sh, build_dict.sh: named like an installer, but what it sets up is data."""
    return kind_of(stem) == "prepare" and bool(_DATA_WORD.search(stem))


def _converts(stem: str) -> bool:
    """A converter, exporter or fetcher by its name (not a plot, a config or an installer)."""
    return bool(_TOOL.match(stem)) and not (
        _VISUALIZES.match(stem) or "config" in stem.lower() or _INSTALLS.match(stem)
    )


# Names that say a script is offered or serves, not what it does: example.py,
# tensor_parallel_example.py, parameter_server.py.
_OFFERED_NAME = rx.compile(r"(?i)example|(?:^|_)serve[rs]?(?:_|$)")


def _offered_trainer(stem: str, code: str) -> bool:
    """An example (or a parameter server) whose code takes optimizer steps trains: the name
    only says it is offered, the training loop says what it does."""
    return (
        kind_of(stem) in ("demo", "test")
        and _OFFERED_NAME.search(stem) is not None
        and _TRAIN_LOOP.search(code) is not None
    )


_TRAIN_OPTION = rx.compile(r"(?i)(?:^|[\s-])(?:epochs?|lr|learning[-_]rate|momentum)(?:$|[\s\[(])")


def _generic_entry(ep: EntryPoints, f: PyFile) -> None:
    """main.py, run.py at the top: its options and code say whether it trains or tests."""
    options = _entry_facts(f)[1]
    names = " ".join(str(o.get("name")) + str(o.get("choices", "")) for o in options)
    # A generic script with any sign of training trains (its --eval flag evaluates
    # what it trained); otherwise test flags or its code say what it is.
    code = _code_kind(f.text) if _entry_facts(f)[0] else None
    # --epochs, --lr: options that set how to train (its --test-batch-size then evaluates
    # what it trained, as mnist_hogwild/main.py does through train.py).
    says_train = "train" in names or code == "train" or bool(_TRAIN_OPTION.search(names))
    says_test = not says_train and (
        bool(rx.search(r"test|eval|infer|predict", names)) or code == "test"
    )
    if says_train:
        ep.train.append(ScriptEntry(f.path, "train", options))
    if says_test:
        ep.test.append(ScriptEntry(f.path, "test", options))
    elif not says_train and _SERVE_DIR.search(f.path) and _entry_facts(f)[0]:
        ep.test.append(ScriptEntry(f.path, "demo", options))  # server/app.py


# A repository that is a fork of a C++ framework (PSPNet, SSD and R-FCN on Caffe): the
# framework's own example scripts are not how this repository's model is run.
_FRAMEWORK_TREES = ("include/caffe/", "include/mxnet/")
_FRAMEWORK_EXAMPLES = ("examples/",)


def _framework_examples(ctx: Context) -> tuple[str, ...]:
    """The folders of a forked framework's own examples ((), when this is no such fork)."""
    for tree in _FRAMEWORK_TREES:
        if any(f.path.startswith(tree) for f in ctx.snap.files[:50_000]):
            return _FRAMEWORK_EXAMPLES
    return ()


def _other_file_entries(ctx: Context, ep: EntryPoints, by_path: dict[str, PyFile]) -> None:
    """Notebooks too large to parse, and shell, Lua and MATLAB scripts."""
    # Files whose content is not a notebook at all (invalid JSON): never an entry point.
    not_read = {p for p, why in ctx.py.unread if why.startswith(NOT_READ)}
    framework = _framework_examples(ctx)
    scanned: list[str] = []
    for fe in ctx.snap.files:
        if framework and fe.path.startswith(framework):
            continue  # the README still names any of them it wants run
        if (
            fe.suffix == ".ipynb"
            and fe.path not in by_path
            and fe.path not in not_read
            and fe.path.count("/") <= 2
            and not (fe.vendored or _UNIT_TEST_DIR.search(fe.path))
        ):
            # Too large to parse (saved outputs): a demo unless its name or a training step
            # in its raw text says otherwise.
            raw = _large_notebook_text(ctx, fe, scanned)
            nkind = _notebook_kind(_stem(fe.path), None) or "notebook"
            if nkind == "notebook" and raw is not None and _trains(raw):
                nkind = "train"
            _bucket(ep, nkind).append(ScriptEntry(fe.path, nkind))
            continue
        if _data_makefile(ctx, fe):
            ep.prepare.append(ScriptEntry(fe.path, "prepare"))
            continue
        if fe.suffix not in (*_SHELL, ".lua", ".m") or fe.vendored or _too_deep(fe):
            continue
        kind = _file_script_kind(ctx, fe)
        if kind is not None:
            _bucket(ep, kind).append(ScriptEntry(fe.path, kind))


MAX_RAW_NOTEBOOKS = 4
MAX_RAW_NOTEBOOK_BYTES = 4 * 1024 * 1024


def _large_notebook_text(ctx: Context, fe: FileEntry, scanned: list[str]) -> str | None:
    """A notebook too large to parse, as raw JSON text to search for a training step (its
    code is in there, escaped); at most four of them, each under 4 MiB."""
    if len(scanned) >= MAX_RAW_NOTEBOOKS or fe.size > MAX_RAW_NOTEBOOK_BYTES:
        return None
    scanned.append(fe.path)
    try:
        raw = ctx.snap.read_bytes(fe.path, MAX_RAW_NOTEBOOK_BYTES)
    except OSError:
        return None
    # ASCII only (the training step's words are): a compact string the regex engine reads
    # without a character-offset table, where decoding a notebook's saved outputs cost
    # tens of MiB.
    return raw.translate(_NON_ASCII).decode("ascii")


_NON_ASCII = bytes(range(128)) + b"?" * 128


# Shell scripts of examples shipped with the docs (docs/script_examples/x.sh) are run too.
_DOC_EXAMPLES = rx.compile(r"(?i)^docs?/(?:[\w.-]+/)*?[\w.-]*(?:examples?|scripts?)[\w.-]*/")


def _data_makefile(ctx: Context, fe: FileEntry) -> bool:
    """A Makefile in a data folder (data/vctk/Makefile) downloads and prepares that data;
    one in a Python package's data module (megatron/data/Makefile) builds its helpers."""
    folder = fe.path.rsplit("/", 1)[0] if "/" in fe.path else ""
    return (
        fe.name in ("Makefile", "makefile", "GNUmakefile")
        and not fe.vendored
        and fe.path.count("/") <= 4
        and _DATA_DIR.search(fe.path) is not None
        and ctx.snap.get(f"{folder}/__init__.py") is None
    )


def _too_deep(fe: FileEntry) -> bool:
    """Lua and MATLAB scripts sit near the top; shell launchers also one level deeper
    (scripts/finetune/run_x.sh, examples/task/train.sh); a data download script wherever it
    sits beside its data (applications/tasks/text_matching/data/download_data.sh)."""
    if fe.suffix in _SHELL and kind_of(_stem(fe.path)) == "prepare" and fe.path.count("/") <= 6:
        return False
    return fe.path.count("/") > (3 if fe.suffix in _SHELL else 2)


def _file_script_kind(ctx: Context, fe: FileEntry) -> str | None:
    """What a shell, Lua or MATLAB script is for, or None when it is not an entry point."""
    stem = fe.name.rsplit(".", 1)[0]
    # CI scripts, unit tests and installers are not how the model is run.
    if (
        (fe.path.startswith(_NOT_ENTRY_DIRS) and not _DOC_EXAMPLES.match(fe.path))
        or (_NOT_ENTRY.match(stem) and not _makes_data(stem))
        or _UNIT_TEST_DIR.search(fe.path)
        or _HELPER_DIR.search(fe.path)
        or (stem.endswith("_test") and fe.suffix != ".m")
    ):
        return None
    kind = kind_of(stem)
    if kind in ("test", "demo", "eval", "inference") and _DATA_DIR.search(fe.path):
        kind = "prepare"  # matlab_features_reference/extract_features.m makes inputs
    if kind == "demo" and fe.suffix in _SHELL and "example" in stem.lower():
        # stability_example.sh: "example" only says it is offered; what it runs decides.
        kind = _shell_kind(ctx, fe.path) if fe.size <= 64 * 1024 else None
        kind = "train" if kind == "train" else "demo"
    if kind is None and fe.suffix in _SHELL and fe.size <= 64 * 1024:
        kind = "prepare" if _fetches_only(ctx.snap.read_text(fe.path) or "") else None
    if kind is None and fe.suffix in _SHELL:
        kind = _dir_kind(fe.path)  # train/ne2x-photo-default.sh
    if kind is None and fe.suffix in _SHELL and fe.size <= 64 * 1024:
        kind = _shell_kind(ctx, fe.path)  # run_wt103_base.sh: `python train.py …`
    if kind is None and _is_generic(stem) and fe.path.count("/") == 0:
        kind = _code_kind(ctx.snap.read_text(fe.path) or "")  # main.lua: what it runs
    if kind is None:
        return None
    if fe.suffix == ".m" and not _matlab_entry(ctx, fe.path):
        return None
    if fe.suffix == ".lua" and _lua_module(ctx.snap.read_text(fe.path) or ""):
        return None  # a class or a module other files require, not a script
    return kind


# ASCII and no counted repeats: RE2 builds one state per repeat of a (Unicode) class.
_FILE_NAME = rx.compile(r"[\w.-]+\.[A-Za-z]+", rx.A)


def _pages_text(ctx: Context) -> str:
    """The README and the documentation pages read for commands, one text."""
    pages = [ctx.snap.read_text(p) or "" for p in doc_pages(ctx)]
    return "\n".join([ctx.readme[:200_000], *pages])


def _mentioned_names(ctx: Context) -> set[str]:
    """Every file name the pages mention (`cifar10.py`, `config_v2.json`): one pass over each
    page (not over all of them joined: the pattern engine keeps its last text encoded), then
    set lookups."""
    names = set(_FILE_NAME.findall(ctx.readme[:200_000]))
    for p in doc_pages(ctx):
        names.update(_FILE_NAME.findall(ctx.snap.read_text(p) or ""))
    return names


def _documented_folders(ctx: Context, ep: EntryPoints, by_folder: set[str]) -> None:
    """A data or serving folder whose scripts the README runs (`python -m pkg.data.clean_x`,
    `python -m pkg.serve.model_worker`): its other scripts, entries by their folder alone, are
    not how the data is made or the model served (inspect_data.py, register_worker.py); a
    folder the README runs nothing from keeps every script in it."""
    named = set()  # every script a command names, whatever the command was found to do
    for c in ep.commands[: 2 * MAX_DOC_COMMANDS]:
        script = command_script(c.command)
        found = _script_path(script, ctx, _page_folder(c.source)) if script else None
        if found:
            named.add(found)
    run = {p.rsplit("/", 1)[0] for p in named if "/" in p}
    if not run:
        return
    # A script the pages name in prose ("we created a script [cifar10.py](cifar10.py)").
    mentioned = _mentioned_names(ctx)
    named |= {p for p in by_folder if p.rsplit("/", 1)[-1] in mentioned}
    for lst in (ep.prepare, ep.test):
        lst[:] = [
            e
            for e in lst
            if not (
                e.command is None
                and e.path in by_folder
                and e.path not in named
                and e.path.rsplit("/", 1)[0] in run
            )
        ]


def _readme_entries(ctx: Context, ep: EntryPoints, by_path: dict[str, PyFile]) -> list[Finding]:
    """What the README (and the doc pages it links) tells you to run. Each page is read only
    while the run's deadline has not passed: past it the rest is left and a notice says so
    (the checks after this one, risks among them, still run)."""
    path = ctx.snap.readme.path if ctx.snap.readme else ""
    ep.commands = readme_commands(ctx.readme, path, deadline=ctx.deadline)
    late: list[Finding] = []
    if time.monotonic() > ctx.deadline:
        late.append(_late_notice(path))
    else:
        ep.commands += _doc_page_commands(ctx, ep.commands)
        if time.monotonic() > ctx.deadline:
            late.append(_late_notice("the documentation pages"))
    _add_readme_entries(ctx, ep, by_path)
    if late:
        return late  # the README's other readings (notebooks, tools, imports) are left
    _readme_notebooks(ctx, ep, by_path)
    _tool_commands(ctx, ep)
    _example_folders(ctx, ep)
    _cog_predictor(ctx, ep)
    _readme_imports(ctx, ep)
    return late


def _late_notice(what: str) -> Finding:
    return Finding(
        CHECK,
        "notice",
        "Entry points partly read: time limit",
        f"forkvet's static vetting budget was spent while reading the commands of {what}: the "
        "commands after that point were not read; the entry points listed come from what was "
        "read",
    )


# `import generate` then `generate.story(z, 'ex1.jpg')` in the README: old research code is
# often run from an interactive session (IPython), not as a script with a main guard.
_README_IMPORT = rx.compile(r"(?m)^[ \t]*(?:>>>[ \t]*|In \[\d*\]:[ \t]*)?import[ \t]+(\w+)[ \t]*$")


def _readme_imports(ctx: Context, ep: EntryPoints) -> None:
    """A top-level module the README imports and calls, named for running a model
    (generate.py, demo.py, evaluate.py), is a demo entry."""
    listed = _paths_of(ep)
    readme = ctx.readme[:200_000]
    for m in list(_README_IMPORT.finditer(readme))[:50]:
        name = m.group(1)
        path = f"{name}.py"
        if path in listed or ctx.snap.get(path) is None:
            continue
        if kind_of(name) not in ("demo", "test", "eval", "inference"):
            continue
        if rx.search(rf"\b{name}\.\w+\(", readme[m.end() : m.end() + 2000]):
            ep.test.append(ScriptEntry(path, "demo"))
            listed.add(path)


# cog.yaml's `predict: "predict.py:Predictor"`: the model packaged to be run (Replicate's Cog).
# No counted repeat: RE2 builds a state per repeat (36 MiB for {1,200}); bounded in Python.
_COG_PREDICT = rx.compile(r"(?m)^predict:[ \t]*['\"]?([\w./-]+\.py):\w+")


def _cog_predictor(ctx: Context, ep: EntryPoints) -> None:
    """The predictor a Cog package runs is a demo entry (it has no main guard to find)."""
    fe = ctx.snap.get("cog.yaml")
    if fe is None or fe.size > 64 * 1024:
        return
    m = _COG_PREDICT.search(ctx.snap.read_text("cog.yaml") or "")
    path = m.group(1).removeprefix("./") if m and len(m.group(1)) <= 200 else None
    listed = {e.path for lst in (ep.train, ep.test, ep.prepare) for e in lst}
    if path and ctx.snap.get(path) is not None and path not in listed:
        ep.test.append(ScriptEntry(path, "inference"))


def _missing_findings(ep: EntryPoints) -> list[Finding]:
    findings: list[Finding] = []
    if not ep.train:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "No training script",
                "No training entry point found; the training check needs a "
                "command in .github/forkvet.yml (train.command).",
            )
        )
    if not ep.test:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "No test or demo script",
                "No test, eval or demo entry point found; set smoke.command in "
                ".github/forkvet.yml for the smoke test.",
            )
        )
    return findings


_MATLAB_ENTRY_DIR = rx.compile(
    r"(?i)^(?:experiments?|scripts?|demos?|examples?|tools|matlab)/[^/]+$"
)


def _readme_notebooks(ctx: Context, ep: EntryPoints, by_path: dict[str, PyFile]) -> None:
    """A notebook the README links (often through Colab, docs/Interacting_with_x.ipynb) is
    one to run, wherever it sits: a demo, or a training run when its code trains."""
    listed = {e.path for lst in (ep.train, ep.test, ep.prepare) for e in lst}
    for fe in ctx.snap.files:
        if (
            fe.suffix == ".ipynb"
            and fe.path not in listed
            and not fe.vendored
            and "/" + fe.path in ctx.readme
            and len(ep.test) < 200
        ):
            parsed = by_path.get(fe.path)
            kind = _notebook_kind(_stem(fe.path), parsed.text if parsed else None) or "notebook"
            (ep.train if kind == "train" else ep.test).append(ScriptEntry(fe.path, kind))


# Pages that say how to run the code, wherever the README links them or not: TRAINING.md,
# GETTING_STARTED.md, docs/get_started.md, EVAL.md, README_paper.md.
_RUN_DOC = rx.compile(
    r"(?i)^(?:(?:pre)?train(?:ing)?|fine[-_]?tun(?:e|ing)|get(?:ting)?[-_]?started|"
    r"quick[-_]?start|eval(?:uation)?|inference|usage|howto[-_]\w+|readme[-_]\w+|"
    # How the data is made: DATASETS.md, docs/data_preparation.md.
    r"data(?:sets?)?|data[-_]?prep\w*|prepare[-_]?data\w*)\.(?:md|rst)$"
)
MAX_DOC_PAGES = 32
MAX_DOC_COMMANDS = 2 * MAX_COMMANDS
# The English pages of documentation kept by language (docs/en/inference.md); the other
# languages' pages repeat their commands.
_ENGLISH_DOCS = frozenset({"en", "en-us", "en_us", "english"})


def _docs_page_depth(parts: tuple[str, ...]) -> bool:
    """docs/x.md, or docs/en/x.md."""
    return len(parts) == 2 or (len(parts) == 3 and parts[1].lower() in _ENGLISH_DOCS)


def doc_pages(ctx: Context) -> list[str]:
    """The documentation pages whose commands count beside the README's (at most 16, each
    under 200 kB, none vendored): pages under docs/ or doc/ the README links (docs/llama.md,
    docs/commands/data_cleaning.md),
    then pages at the top or in docs/ named for running the code (TRAINING.md, get_started.md),
    then the README of a folder one or two deep (chat/README.md)."""
    linked: list[str] = []
    named: list[str] = []
    folders: list[str] = []
    framework = _framework_examples(ctx)  # a forked Caffe's own examples/*/README.md
    readme = ctx.snap.readme.path if ctx.snap.readme else ""
    for fe in ctx.snap.files:
        if fe.vendored or fe.size > 200_000 or fe.path == readme or len(fe.parts) > 3:
            continue
        if fe.suffix not in (".md", ".rst"):
            continue
        in_docs = len(fe.parts) > 1 and fe.parts[0].lower() in ("docs", "doc")
        if in_docs and fe.path in ctx.readme:
            linked.append(fe.path)  # docs/commands/data_cleaning.md too
        elif (
            len(fe.parts) > 1
            and fe.name.lower() in ("readme.md", "readme.rst")
            and not _UNIT_TEST_DIR.search(fe.path)
            and not _HELPER_DIR.search(fe.path)
            and not (framework and fe.path.startswith(framework))
        ):
            folders.append(fe.path)  # chat/README.md: how to run what is in chat/
        elif (len(fe.parts) == 1 or (in_docs and _docs_page_depth(fe.parts))) and _RUN_DOC.match(
            fe.name
        ):
            named.append(fe.path)
    return (linked + named + folders)[:MAX_DOC_PAGES]


def _doc_page_commands(ctx: Context, known: list[Command]) -> list[Command]:
    """Commands of the documentation pages (doc_pages): the README's own come first and win."""
    out: list[Command] = []
    seen = {c.command for c in known}
    for path in doc_pages(ctx):
        if len(out) >= MAX_DOC_COMMANDS:
            break
        # A folder's README that names `eval_utils.lua` describes the folder; it runs
        # what its code blocks say.
        if time.monotonic() > ctx.deadline:
            break
        text = ctx.snap.read_text(path) or ""
        for c in readme_commands(text, path, not _page_folder(path), ctx.deadline):
            if c.command not in seen:  # README_CN.md repeats the README's commands
                seen.add(c.command)
                out.append(c)
    return out[:MAX_DOC_COMMANDS]


# The lines of a shell script that start a Python program: python itself or a launcher.
# A Python launcher, or Lua Torch's and Julia's interpreter naming a script (`th train.lua`).
_RUNS_PYTHON = rx.compile(
    r"\bpython[\d.]*\b|\btorchrun\b|\bdeepspeed\b|\baccelerate\s+launch\b|"
    r"(?:^|[\s;&|(])(?:th|qlua|luajit|julia)[ \t]+(?:-\S+[ \t]+)*[\w./-]+\.(?:lua|jl)\b"
)


# Options only a training run takes: its epochs and learning rate.
_TRAINING_ARGS = rx.compile(
    r"(?i)[ \t]--?(?:n_?|num_?|max_?)?(?:epochs?|learning[-_]?rate|lr)(?:[ \t=]|$)"
)


def _shell_kind(ctx: Context, path: str) -> str | None:
    """What a shell script is for, from the first Python script it runs that says (by its
    arguments, its name or its code): a wrapper of train.py trains; one that passes
    --do_eval or --mode test evaluates; one that only prepares data prepares."""
    text = rx.sub(r"\\\n", " ", ctx.snap.read_text(path) or "")
    folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    prepares = False
    for line in text.splitlines()[:400]:
        if not _RUNS_PYTHON.search(line) or line.lstrip().startswith("#"):
            continue
        script = command_script(line)
        if script is None:
            continue
        target = _script_target(ctx, folder, script)
        # A script the wrapper names but this commit lacks (moved since): its name and folder.
        kind = _target_kind(ctx, target) if target else kind_of(_stem(script)) or _dir_kind(script)
        if kind is None and _TRAINING_ARGS.search(line):
            kind = "train"  # th online_simulate.lua -nepochs 100 -lr 0.01: how long to train
        if kind == "prepare":
            prepares = True  # `python prepare.py && python train.py`: the training decides
        elif kind is not None:
            # --do_eval=False is no test: switches turned off say nothing.
            on = rx.sub(r"(?i)\S+=(?:false|0)\b", " ", line)
            # --do_train=True --do_eval=True trains, then evaluates what it trained.
            tests = _ARG_TEST.search(on) and not _ARG_TRAIN.search(on)
            return "train" if kind == "train" and not tests else "test"
    return "prepare" if prepares else None


_FETCH = rx.compile(r"(?m)^[^#\n]*\b(?:curl|wget|aria2c|gsutil(?:[ \t]+-m)?[ \t]+cp|gdown)\b")
# A program started as a command word (not `pip install opencv-python`).
_RUNS_PROGRAM = rx.compile(
    r"(?m)^(?:[^#\n]*[ \t;&|(`])?(?:python[\d.]*|torchrun|deepspeed|th|qlua|matlab|julia|srun|"
    r"mpirun|\./\S+|\$\S+)(?:[ \t]|$)"
)


def _fetches_only(text: str) -> bool:
    """A shell script that downloads (curl, wget, gsutil cp) and runs no program of the
    repository gets things ready: weights, vectors, data."""
    return _FETCH.search(text) is not None and _RUNS_PROGRAM.search(text) is None


def _target_kind(ctx: Context, target: str) -> str | None:
    """What a script a shell script runs is for: its name, else its code (a training loop
    trains, whatever the script is called: qlora.py, gpt2_ft.py)."""
    kind = kind_of(_stem(target))
    if kind is not None:
        return kind
    code = ctx.snap.read_text(target) or ""
    if _is_generic(_stem(target)):
        return _code_kind(code)
    return "train" if _TRAIN_LOOP.search(code) else None


def _script_target(ctx: Context, folder: str, script: str) -> str | None:
    """A Python script a shell script runs: beside it, from the root, or a module (also
    under src/); a Lua or Julia script beside it."""
    if script.endswith(".py"):
        # Beside the script or in a folder above it (tf/scripts/x.sh is run from tf/).
        parts = folder.rstrip("/").split("/") if folder else []
        for depth in range(len(parts), -1, -1):
            cand = "/".join([*parts[:depth], script.lstrip("./")])
            if ctx.snap.get(cand) is not None:
                return cand
        return None
    if script.endswith((".lua", ".jl")):
        cand = folder + script.removeprefix("./")
        return cand if ctx.snap.get(cand) is not None else None
    if rx.fullmatch(r"[\w.]+", script):
        mod = script.replace(".", "/")
        for cand in (f"{mod}.py", f"src/{mod}.py", f"{mod}/__main__.py"):
            if ctx.snap.get(cand) is not None:
                return cand
    return None


# A script reads its own command line at the top level: `local params = cmd:parse(arg)`.
_LUA_PARSES_ARGS = rx.compile(r"(?m)^(?:local[ \t]+)?[\w.]+[ \t]*=[ \t]*\w+:parse\(arg\)")


def _lua_module(text: str) -> bool:
    """A Lua Torch class (`torch.class('nn.BoxSampler', 'nn.Module')`) or a file ending in
    `return M`: a module that `require` loads. A file that parses its command line at the
    top level is a script, even when it declares the loss classes it uses (neural_style.lua)."""
    last = text.rstrip().rsplit("\n", 1)[-1]
    if rx.fullmatch(r"return[ \t]+[A-Za-z_][\w.]*", last) is not None:
        return True
    return "torch.class(" in text and _LUA_PARSES_ARGS.search(text) is None


def _matlab_entry(ctx: Context, path: str) -> bool:
    """A MATLAB file you run: a script (no `function` header), or a function at the top
    level or in experiments/ or scripts/; not one inside a +package, not Objective-C."""
    if "/+" in "/" + path or "config" in _stem(path).lower():
        return False
    text = (ctx.snap.read_text(path) or "")[:4000]
    if rx.search(r"^\s*(?:#import|@interface|@implementation)\b", text, rx.M):
        return False
    code = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("%")]
    is_function = bool(code) and code[0].lstrip().startswith("function")
    return not is_function or "/" not in path or bool(_MATLAB_ENTRY_DIR.match(path))
