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

    for c in report.entry_points.commands:
        if c.kind != kind:
            continue
        script = _python_script(c.command)
        if (script and exists(script)) or (kind == "test" and _TEST_RUNNER.match(c.command)):
            return c.command, f"README ({c.source})"
    if kind == "test" and snap is not None:
        for cmd in readme_test_runners(snap.readme_text()):
            return cmd, "README"
    for entry in entries:
        if not entry.path.endswith(".py"):
            continue
        flags = tiny_flags(entry, gpu, train=kind == "train")
        if flags is None:
            continue
        cmd = " ".join(["python", shlex.quote(entry.path), *map(shlex.quote, flags)])
        return cmd, f"detected {kind} script {entry.path}"
    if kind == "train" and snap is not None:
        found = training_script(snap)
        if found:
            return f"python {shlex.quote(found)}", f"script that trains: {found}"
    return None, "no command configured, documented or detected"


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
