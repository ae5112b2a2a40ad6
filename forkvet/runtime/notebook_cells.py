"""Two parts of the generated notebooks: the one input the testing notebook's demo runs on,
and the closing cell that shows the metrics plot of a training check."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from forkvet.escape import md_code
from forkvet.report import ScriptEntry
from forkvet.snapshot import Snapshot

# Options through which a demo takes its input, by what the input is.
_INPUT_OPTIONS = {
    "image": {"image", "img", "image_path", "img_path", "image_file", "photo", "picture"},
    "audio": {"audio", "audio_path", "wav", "audio_file", "speech"},
    "video": {"video", "video_path", "video_file"},
    "any": {"input", "inputs", "input_path", "input_file", "file", "filename", "source", "src"},
    "text": {"text", "prompt", "sentence", "query", "question", "start"},
}
_SAMPLE_SUFFIXES = {
    "image": (".jpg", ".jpeg", ".png", ".bmp", ".webp"),
    "audio": (".wav", ".flac", ".mp3"),
    "video": (".mp4", ".avi", ".mov"),
}
# Folders where repositories keep their example inputs, first match wins.
_SAMPLE_DIRS = ("example", "sample", "demo", "asset", "test", "input", "image", "data", "")
TEXT_INPUT = "Hello, world."  # one input for a text demo


@dataclass
class DemoInput:
    """How the testing notebook gives the demo one input: the script's option (or
    positional argument) that takes it, and the value (a repository file or a short text)."""

    option: str | None
    value: str | None
    note: str


def _norm(name: str) -> str:
    return name.lstrip("-").replace("-", "_").lower()


def _input_option(entry: ScriptEntry) -> tuple[dict[str, Any], str] | None:
    """(the option, what it takes) for the first option named like an input."""
    for opt in entry.options:
        key = _norm(str(opt.get("name", "")))
        for what, names in _INPUT_OPTIONS.items():
            if key in names:
                return opt, what
    return None


def _sample(snap: Snapshot, what: str) -> str | None:
    """A small example file of the repository for an input of this kind, from its example
    folders first."""
    kinds = ("image", "audio", "video") if what == "any" else (what,)
    suffixes = tuple(s for k in kinds for s in _SAMPLE_SUFFIXES.get(k, ()))
    files = [f for f in snap.by_suffix(*suffixes) if f.size < 50 << 20 and not f.vendored]
    for folder in _SAMPLE_DIRS:
        for f in sorted(files, key=lambda f: f.path):
            parent = f.path.rpartition("/")[0].lower()
            if (folder and folder in parent) or (not folder and not parent):
                return f.path
    return None


def demo_input(snap: Snapshot, entry: ScriptEntry) -> DemoInput:
    found = _input_option(entry)
    if found is None:
        return DemoInput(None, None, _unknown("it has no option such as `--input` or `--image`"))
    opt, what = found
    name = str(opt.get("name"))
    default = opt.get("default")
    if isinstance(default, str) and snap.get(default.lstrip("./")) is not None:
        return DemoInput(name, default, f"The demo runs on one input: {md_code(default)}.")
    value = TEXT_INPUT if what == "text" else _sample(snap, what)
    if value is None:
        return DemoInput(
            None, None, _unknown(f"no example {what} file was found for {md_code(name)}")
        )
    said = f"{md_code(name)} = {md_code(value)}"
    return DemoInput(name, value, f"The demo runs on one input: {said}.")


def _unknown(why: str) -> str:
    return (
        f"**forkvet could not tell which input the demo takes** ({why}): it runs as written. "
        "To try it on one input of your own, set that input in the code cells below."
    )


def with_input(entry: ScriptEntry, demo: DemoInput) -> ScriptEntry:
    """The entry with the input option no longer required (its value is given), so that
    the tiny options of the others still reach the script."""
    if demo.option is None:
        return entry
    options = [
        {**o, "required": False, "default": demo.value} if o.get("name") == demo.option else o
        for o in entry.options
    ]
    return replace(entry, options=options)


def argv_with_input(argv: str, demo: DemoInput) -> str:
    """`sys.argv = [...]` with the input given by the `demo_input` parameter."""
    if demo.option is None or not argv.endswith("]"):
        return argv
    extra = (
        f"{json.dumps(demo.option)}, demo_input" if demo.option.startswith("-") else "demo_input"
    )
    return f"{argv[:-1].rstrip(', ')}, {extra}]"


def input_parameter(demo: DemoInput) -> str:
    if demo.value is None:
        return ""
    return f"demo_input = {json.dumps(demo.value)}  # the one input the demo runs on\n"


METRICS_MARKDOWN = """# %% [markdown]
# ## Metrics
#
# Every series the training check found (training and validation loss, accuracy-like
# metrics, learning rate, gradient norm), each on its own axis. From the repository's root:
# `forkvet train-check . --out forkvet-out -o forkvet-out/train-check.json`, or set
# `FORKVET_RESULT` to a train-check JSON result.
"""

METRICS_CELL = """# %%
import json

RESULT = Path(os.environ.get("FORKVET_RESULT", "forkvet-out/train-check.json"))
if RESULT.is_file():
    _metrics = json.loads(RESULT.read_text()).get("metrics", {})
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # no matplotlib here: the numbers
        for _name, _m in _metrics.items():
            print(_name, "first", _m["first"], "last", _m["last"], "best", _m["best"])
    else:
        _fig, _axes = plt.subplots(
            max(1, len(_metrics)), 1, figsize=(7, 2.5 * max(1, len(_metrics))), squeeze=False
        )
        for _ax, (_name, _m) in zip(_axes[:, 0], _metrics.items()):
            _points = [p for p in _m["points"] if p[1] is not None]
            _ax.plot([p[0] for p in _points], [p[1] for p in _points], label=_name)
            _ax.legend(loc="best")
            if _points and min(p[1] for p in _points) > 0 and (
                max(p[1] for p in _points) / min(p[1] for p in _points) > 1e3
            ):
                _ax.set_yscale("log")
        _fig.tight_layout()
        plt.show()
else:
    print(f"no training-check result at {RESULT} yet (see above)", file=sys.stderr)
"""
