"""Choose the smoke-test and training commands: configured, documented, or detected — with
tiny-input options filled in when the script's own options make that possible."""

from __future__ import annotations

import shlex

from forkvet import rx
from forkvet.report import Report, ScriptEntry
from forkvet.snapshot import Snapshot

_TINY = {
    # option name fragments -> value
    (
        "steps",
        "max_steps",
        "num_steps",
        "iters",
        "max_iter",
        "iterations",
        "n_iter",
        "epochs",
        "num_epochs",
        "n_epochs",
        "epoch",
        "max_epochs",
    ): "1",
    ("batch_size", "batchsize", "bs", "batch"): "2",
    ("num_workers", "workers", "n_workers", "nworkers"): "0",
}


def _norm(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_").lower()


def tiny_flags(entry: ScriptEntry, gpu: bool, train: bool = False) -> list[str] | None:
    """Flags that make the script run on tiny input, or None if a required option has no
    value we can invent."""
    flags: list[str] = []
    for opt in entry.options:
        name = str(opt.get("name", ""))
        if not name.startswith("-"):
            if opt.get("default") is None and opt.get("nargs") not in ("?", "*"):
                return None  # a positional argument we cannot invent
            continue
        key = _norm(name)
        value = None
        for names, tiny in _TINY.items():
            if key in names and not (train and tiny == "1" and "epoch" not in key):
                value = tiny
        if key in ("device", "gpu", "gpus", "cuda") and not gpu:
            choices = opt.get("choices") or []
            value = "cpu" if key == "device" and (not choices or "cpu" in choices) else None
        if key in ("cpu", "no_cuda") and not gpu and opt.get("action") == "store_true":
            flags.append(name)
            continue
        if value is not None:
            flags += [name, value]
        elif opt.get("required"):
            return None
    return flags


def _python_script(cmd: str) -> str | None:
    try:
        words = shlex.split(cmd)
    except ValueError:
        return None
    for i, w in enumerate(words):
        if rx.fullmatch(r"python[\d.]*", w) and i + 1 < len(words) and words[i + 1].endswith(".py"):
            return words[i + 1]
    return None


# Test runners a README documents: `python -m unittest discover tests`, `pytest`, `nosetests`.
_TEST_RUNNER = rx.compile(
    r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(?:python[\d.]*\s+-m\s+(?:unittest|pytest|nose2?)\b|"
    r"pytest\b|py\.test\b|nosetests\b|nose2\b)"
)
_FENCED = rx.compile(r"```[^\n]*\n(.*?)```|~~~[^\n]*\n(.*?)~~~", rx.S)


def readme_test_runners(readme: str) -> list[str]:
    """Bare `pytest` lines in the README's code blocks (vet lists `python ...` lines only)."""
    out = []
    for m in _FENCED.finditer(readme[:500_000]):
        for line in (m.group(1) or m.group(2) or "").splitlines():
            line = line.strip().removeprefix("$ ").strip()
            if _TEST_RUNNER.match(line) and len(line) < 300:
                out.append(" ".join(line.split()))
    return list(dict.fromkeys(out))


def detect(
    report: Report, kind: str, gpu: bool, snap: Snapshot | None = None
) -> tuple[str | None, str]:
    """(command, where it came from) for kind 'test' or 'train': a README command first,
    then a detected script with tiny-input options."""
    entries = report.entry_points.test if kind == "test" else report.entry_points.train
    paths = {e.path for e in entries}

    def exists(script: str) -> bool:
        rel = script.removeprefix("./")
        return rel in paths or (snap is not None and snap.get(rel) is not None)

    skipped: list[str] = []
    usable = []
    for n, c in enumerate(report.entry_points.commands):
        if c.kind != kind:
            continue
        script = _python_script(c.command)
        if not ((script and exists(script)) or (kind == "test" and _TEST_RUNNER.match(c.command))):
            continue
        why = unrunnable(c.command)
        if why:
            skipped.append(f"{script or c.command[:40]}: {why}")
            continue
        usable.append((_preference(c.command, script, kind, gpu), n, c))
    if usable:
        _, _, c = min(usable, key=lambda u: (u[0], u[1]))
        return c.command, f"README ({c.source})" + _skipped_note(skipped)
    if kind == "test" and snap is not None:
        for cmd in readme_test_runners(snap.readme_text()):
            return cmd, "README"
    ordered = sorted(entries, key=lambda e: kind == "train" and not trains_by_name(e.path))
    for entry in ordered:
        if not entry.path.endswith(".py"):
            continue
        flags = tiny_flags(entry, gpu, train=kind == "train")
        if flags is None:
            continue
        cmd = " ".join(["python", shlex.quote(entry.path), *map(shlex.quote, flags)])
        return cmd, f"detected {kind} script {entry.path}" + _skipped_note(skipped)
    if kind == "train" and snap is not None:
        found = training_script(snap)
        if found:
            return f"python {shlex.quote(found)}", f"script that trains: {found}"
    return None, "no command configured, documented or detected" + _skipped_note(skipped)


# Word tests with str methods, not regexes: README commands are repository text (and the
# project moves every pattern on repository text to a linear-time engine).
_PICKLE_EXT = (".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".bin", ".joblib", ".npy", ".tar")
_NO_TRAINING = {"--dry-run", "--dry_run", "--help", "-h"}
_CPU_FLAGS = {"--cpu", "--no-cuda", "--no_cuda"}
_CPU_VALUES = {"--device": "cpu", "--accelerator": "cpu", "--gpus": "0", "--gpu": "0"}


def _words(cmd: str) -> list[str]:
    try:
        return shlex.split(cmd)
    except ValueError:
        return cmd.split()


def _placeholder(word: str) -> bool:
    """`<path>`, `path/to/...`, `/path/to/...`, `YOUR_...`: a value a person fills in."""
    value = word.split("=", 1)[-1]
    opened = value.find("<")
    if opened >= 0 and value.find(">", opened + 2) > opened:
        return True
    low = value.lower()
    return low.startswith(("path/to/", "/path/to/", "your_")) or "/path/to/" in low


def _pickle_url(word: str) -> bool:
    """A URL to a pickle-format file the command would download and unpickle."""
    value = word.split("=", 1)[-1] if word.startswith("-") else word
    if "://" not in value:
        return False
    path = value.split("?", 1)[0].split("#", 1)[0].lower().removesuffix(".gz")
    return path.endswith(_PICKLE_EXT)


def unrunnable(cmd: str) -> str | None:
    """Why a README command cannot be the default one, or None."""
    words = _words(cmd)
    if any(_placeholder(w) for w in words):
        return "a placeholder path to fill in"
    if any(_pickle_url(w) for w in words):
        return "downloads a pickle-format file and loads it"
    return None


def _cpu_variant(words: list[str]) -> bool:
    for i, w in enumerate(words):
        name, _, value = w.partition("=")
        if not value and i + 1 < len(words) and name in _CPU_VALUES:
            value = words[i + 1]
        if w in _CPU_FLAGS or (name in _CPU_VALUES and value.strip("'\"") == _CPU_VALUES[name]):
            return True
    return False


def trains_by_name(path: str) -> bool:
    """train.py, finetune_lm.py, scripts/train_gan.py: a script named for training."""
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(".py") and any(w in name for w in ("train", "finetune", "fine_tune"))


def _preference(cmd: str, script: str | None, kind: str, gpu: bool) -> tuple[int, int, int]:
    """Lower is better: a training script by its name (not a demo or a projector), a command
    that trains (not --dry-run), then the README's variant for this machine (its CPU variant
    on a CPU runner, the other on a GPU one)."""
    words = _words(cmd)
    named = kind != "train" or bool(script and trains_by_name(script))
    trains = not (kind == "train" and any(w.split("=", 1)[0] in _NO_TRAINING for w in words))
    return (not named, not trains, _cpu_variant(words) == gpu)


def _skipped_note(skipped: list[str]) -> str:
    return f"; skipped {'; '.join(skipped[:3])}" if skipped else ""


# A script trains when its main block builds a trainer or steps an optimizer itself
# (minGPT's projects/adder/adder.py: `Trainer(...)` then `trainer.run()`).
_TRAINS = rx.compile(
    r"\.backward\(|\bTrainer\(|\btrainer\.(?:run|train|fit)\(|\bmodel\.fit\(|\.minimize\("
)
_MAIN = rx.compile(r"""^if\s+__name__\s*==\s*['"]__main__['"]""", rx.M)
_NOT_TRAINING_DIR = rx.compile(r"(?:^|/)(?:tests?|docs?|examples?/old|benchmarks?)/")


def training_script(snap: Snapshot) -> str | None:
    """The shallowest script (with a main block) that trains, for repositories whose training
    scripts are not named train*.py and whose README shows no training command."""
    candidates = sorted(
        (
            f
            for f in snap.files
            if f.suffix == ".py"
            and not f.vendored
            and not _NOT_TRAINING_DIR.search(f.path)
            and not f.name.startswith("test")
            and f.name != "setup.py"
        ),
        key=lambda f: (f.path.count("/"), f.path),
    )
    for f in candidates[:500]:
        text = snap.read_text(f.path) or ""
        if _MAIN.search(text) and _TRAINS.search(text):
            return f.path
    return None
