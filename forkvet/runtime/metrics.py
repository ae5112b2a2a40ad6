"""Every named scalar series of a run: train and validation loss, accuracy/BLEU/FID-like
metrics, learning rate, gradient norm — from the command's output lines, CSV/JSONL metrics
files and TensorBoard event files. Bounded: at most MAX_SERIES series of MAX_POINTS points
each (thinned evenly past that), files of at most MAX_FILE_BYTES."""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from forkvet import rx
from forkvet.errors import InputError
from forkvet.runtime import losses as L

T = TypeVar("T")

MAX_SERIES = 32
MAX_POINTS = 1000
MAX_NAME = 64
MAX_FILE_BYTES = 64 << 20
MAX_ROWS = 200_000  # rows of one CSV/JSONL file
MAX_ROW_CHARS = 1 << 16  # characters of one JSONL row
MAX_FILES = 8  # metrics files read from a folder
MAX_WALK = 2000  # entries looked at while searching a folder for them
MIN_TREND_POINTS = 4
OVERFIT_RISE = 0.05  # validation loss this far (relative) above its minimum at the end

# `name: 1.2`, `name=1.2`, `'name': '1.2'`, `name 1.2`: a name that starts with a letter, after
# a blank, a bracket or a quote (never inside a word, a path or a number).
# nanoGPT's `train loss 2.31, val loss 2.40`: a split's word before the name is part of it, and
# so is `final` (minGPT's `test final score: ...`).
# A value followed by `/` is a count (`Accuracy: 9890/10000`), not the metric; the percentage
# after it is (`9890/10000 (99%)`, `12/9500 = 0.13% correct`).
_PAIR = rx.compile(
    r"(?i)(?:^|[^\w./\-])['\"]?(?P<name>(?:(?:train(?:ing)?|val(?:id(?:ation)?)?|eval|test|"
    r"dev|average|avg|mean)\s)?(?:final\s)?[a-z](?:[a-z0-9_/.@\-]{0,62}[a-z0-9_])?)['\"]?"
    r"(?:\s*[:=]\s*|\s+)['\"]?\s*(?:tensor\(\s*\[?\s*)?(?P<value>" + L._NUM + r")"
    r"(?P<count>\s*/\s*\d+(?:\s*(?:=|\()\s*(?P<percent>[0-9]+(?:\.[0-9]+)?)\s*%)?)?"
)
# A Python traceback: its first line, and the exception line that ends it (`FileNotFoundError:
# [Errno 2] ...`), which is also printed alone; nothing in either is a metric.
_TRACEBACK = rx.compile(r"^Traceback \(most recent call last\):")
_EXCEPTION = rx.compile(
    r"^(?:[A-Za-z_][A-Za-z0-9_]*\.)*[A-Za-z_][A-Za-z0-9_]*(?:Error|Exception|Exit|Interrupt|Warning):"
)
_EPOCH = rx.compile(r"(?i)\bepoch\b\s*[:=#]?\s*\[?(\d+)")
_SPLIT = rx.compile(r"[^a-z0-9]+")
_UNSAFE = rx.compile(r"[^\w/.@\- ]")

# Words in a metric's name, as data: which way is better, and what kind of series it is.
# Short words match a whole token of the name (`lr`, `lr-Adam`, `acc1`); long ones anywhere.
_MIN_TOKENS = {"fid", "kid", "ppl", "wer", "cer", "mse", "mae", "rmse", "nll", "kl", "bpd"}
_MIN_WORDS = ("loss", "perplexity", "error", "err", "lpips", "distortion")
_MAX_TOKENS = {"acc", "top", "bleu", "map", "ap", "iou", "f1", "auc", "psnr", "ssim", "dice"}
_MAX_TOKENS |= {"ndcg", "mrr", "em", "r2", "miou", "precision", "recall", "rouge", "meteor"}
_MAX_WORDS = ("accuracy", "score", "reward", "top1", "top5", "rouge", "bleu", "miou")
_LR_TOKENS = {"lr"}
_LR_WORDS = ("learning_rate", "learningrate", "learning rate", "learning-rate")
_GRAD_TOKENS = {"gnorm", "gradnorm"}
_GRAD_WORDS = ("grad_norm", "grad norm", "grad-norm", "gradient_norm", "total_norm")
# A name with one of these is a setting or a count (`lr_decay_iters`, `warmup_steps`,
# `grad_norm_clip`), never a curve, even with `lr` or `grad_norm` in it.
_SETTING_TOKENS = {"iters", "iterations", "steps", "epochs", "interval", "every", "freq"}
_SETTING_TOKENS |= {"frequency", "warmup", "decay", "clip", "patience", "size", "seed"}
# A value printed once is configuration, not a curve, unless its name says it is a result.
_RESULT_TOKENS = {"final", "best", "test"}
_VAL_TOKENS = {"val", "valid", "validation", "eval", "test", "dev", "holdout"}
# Columns that are an x-axis or a clock, never a metric.
_AXES = {"step", "global_step", "_step", "iteration", "iter", "it", "epoch", "batch", "time"}
_AXES |= {"_runtime", "_timestamp", "timestamp", "walltime", "wall_time", "runtime", "created_at"}


def _tokens(low: str) -> list[str]:
    return [t for t in _SPLIT.split(low) if t]


def _has(low: str, tokens: set[str], words: tuple[str, ...]) -> bool:
    """A token of the name is one of `tokens` (or one followed by digits: acc1, lr0), or the
    name contains one of `words`."""
    for token in _tokens(low):
        stem = token.rstrip("0123456789")
        if token in tokens or (stem != token and stem in tokens):
            return True
    return any(w in low for w in words)


def goal_of(name: str) -> str:
    """ "max" for accuracy/top-1/BLEU/mAP/IoU/F1-like names, else "min" (losses, FID,
    perplexity, error rates). A name with both (`top1_err`, `fid_score`) is an error: min."""
    low = name.lower()
    if _has(low, _MIN_TOKENS, _MIN_WORDS) or _gan_error(low):
        return "min"
    return "max" if _has(low, _MAX_TOKENS, _MAX_WORDS) else "min"


def _gan_error(low: str) -> bool:
    return any(t in ("errd", "errg", "lossd", "lossg") for t in _tokens(low))


def is_validation(name: str) -> bool:
    low = name.lower()
    return any(t in _VAL_TOKENS for t in _tokens(low)) or low.startswith(("val", "eval"))


def kind_of(name: str) -> str:
    """train_loss | val_loss | metric | lr | grad_norm | other."""
    low = name.lower()
    if any(t in _SETTING_TOKENS for t in _tokens(low)):
        return "other"
    if _has(low, _LR_TOKENS, _LR_WORDS):
        return "lr"
    if _has(low, _GRAD_TOKENS, _GRAD_WORDS):
        return "grad_norm"
    if "loss" in low or _gan_error(low) or _has(low, {"nll"}, ()):
        return "val_loss" if is_validation(name) else "train_loss"
    if _has(low, _MIN_TOKENS | _MAX_TOKENS, _MIN_WORDS + _MAX_WORDS):
        return "metric"
    return "other"


def clean_name(name: str) -> str:
    """A series name as the report shows it: the characters a metric name uses, bounded."""
    return _UNSAFE.sub("_", name.strip())[:MAX_NAME] or "_"


@dataclass
class Series:
    """One named series, thinned evenly past MAX_POINTS: every `stride`-th point is kept."""

    points: list[tuple[int, int | None, float]] = field(default_factory=list)  # ordinal, step
    stride: int = 1
    seen: int = 0
    last: tuple[int, int | None, float] | None = None
    printed: bool = False  # from output lines (else a metrics file)

    def add(self, step: int | None, value: float) -> None:
        self.seen += 1
        self.last = (self.seen, step, value)
        if (self.seen - 1) % self.stride:
            return
        self.points.append(self.last)
        if len(self.points) >= MAX_POINTS:
            self.points = self.points[::2]
            self.stride *= 2

    def xy(self) -> list[tuple[int, float]]:
        """(x, value): the logged steps when every point has one and they increase, else the
        point's position in the series (1, 2, ...)."""
        points = list(self.points)
        if self.last is not None and (not points or points[-1][0] != self.last[0]):
            points.append(self.last)
        steps = [s for _, s, _ in points if s is not None]
        real = len(steps) == len(points) and all(a < b for a, b in itertools.pairwise(steps))
        return [(s if real and s is not None else n, v) for n, s, v in points]

    def stepped(self) -> bool:
        """Is x a logged step (else the point's position in the series)?"""
        steps = [s for _, s, _ in self.points]
        return bool(self.points) and [x for x, _ in self.xy()][: len(steps)] == steps


class Recorder:
    """Named series as they arrive, at most MAX_SERIES of them (the first ones seen)."""

    def __init__(self) -> None:
        self.series: dict[str, Series] = {}
        self._traceback = False
        self.unread = 0  # rows of a metrics file that could not be read (said in the result)

    def add(self, name: str, step: int | None, value: float, printed: bool = False) -> None:
        name = clean_name(name)
        if name not in self.series:
            if len(self.series) >= MAX_SERIES:
                return
            self.series[name] = Series(printed=printed)
        self.series[name].add(step, value)

    def add_line(self, line: str) -> None:
        if self._in_traceback(line):
            return
        for name, step, value in from_line(line):
            self.add(name, step, value, printed=True)

    def _in_traceback(self, line: str) -> bool:
        """Is this line part of a Python traceback (from its first line to the exception)?"""
        if _TRACEBACK.search(line):
            self._traceback = True
        elif self._traceback and line.strip() and not line.startswith((" ", "\t")):
            self._traceback = False  # the exception line ends it
            return True
        return self._traceback or bool(_EXCEPTION.search(line))

    def merge(self, other: Recorder) -> None:
        """Series of `other` under names this one does not have yet (what a run printed
        comes first; a metrics file adds what it did not print)."""
        for name, series in other.series.items():
            if name not in self.series and len(self.series) < MAX_SERIES:
                self.series[name] = series
        self.unread += other.unread


def _step_of(line: str) -> int | None:
    m = L._STEP.search(line) or _EPOCH.search(line)
    return int(m.group(1)) if m else None


def from_line(line: str) -> list[tuple[str, int | None, float]]:
    """(name, step, value) for each named metric of one output line. Names must look like a
    metric (a loss, an accuracy, a learning rate...): `epoch 3`, `time: 0.2` and `eta` are
    not series. Summary lines (the mean over the whole run) are no points."""
    if len(line) > 4096 or L._SUMMARY.search(line):
        return []
    step = _step_of(line)
    out: dict[str, float] = {}
    taken: list[tuple[int, int]] = []
    for name, span, value in _gan_pairs(line):
        taken.append(span)
        out[name] = value
    for m in _PAIR.finditer(line):
        name, start = m.group("name"), m.start("name")
        if name in out or any(a <= start < b for a, b in taken):
            continue
        if name.lower() in _AXES or kind_of(name) == "other":
            continue
        if m.group("count") and not m.group("percent"):
            continue
        try:
            out[name] = L.parse_value(m.group("percent") or m.group("value"))
        except ValueError:
            continue
    return [(name, step, value) for name, value in out.items()]


def _gan_pairs(line: str) -> list[tuple[str, tuple[int, int], float]]:
    d, g = L._first_named(L._GAN_D, line), L._first_named(L._GAN_G, line)
    if not (d and g):
        return []
    try:
        return [
            (d.group("name"), d.span("name"), L.parse_value(d.group(L._GAN_D.groups))),
            (g.group("name"), g.span("name"), L.parse_value(g.group(L._GAN_G.groups))),
        ]
    except ValueError:
        return []


def _number(raw: object) -> float | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip()
    if not text or len(text) > 40:
        return None
    try:
        return L.parse_value(text)
    except ValueError:
        return None


def _row_step(row: dict[str, Any], keys: list[str]) -> int | None:
    key = L._step_key(keys)
    if key is None:
        return None
    value = _number(row.get(key))
    return int(value) if value is not None and math.isfinite(value) else None


def _add_row(rec: Recorder, row: dict[str, Any]) -> None:
    keys = [k for k in row if isinstance(k, str)]
    step = _row_step(row, keys)
    for key in keys:
        if key.lower().strip() in _AXES:
            continue
        value = _number(row[key])
        if value is not None:
            rec.add(key, step, value)


def _each_row(rows: Iterator[T], add: Callable[[T], object]) -> int:
    """add() each of at most MAX_ROWS rows; the number of rows not read. A row that fails, in
    the reader (csv.Error on an oversized field) or in add() (nesting past the stack, a
    5,000-digit number), or that add() refuses (returns False), is skipped and counted: by
    construction, whatever it raises."""
    unread = 0
    for _ in range(MAX_ROWS):
        try:
            row = next(rows)
        except StopIteration:
            break
        except Exception:  # one hostile row, never the end of the file
            unread += 1
            continue
        try:
            unread += add(row) is False
        except Exception:  # one hostile row, never the end of the file
            unread += 1
    return unread


def _open(path: Path, repo: Path | None, newline: str | None = None) -> TextIO:
    """A metrics file as text, never through a link (forkvet.userfile): each component below
    the repository `repo` (or the folder searched) is opened without following one."""
    from forkvet.userfile import open_text

    return open_text(path, repo, "metrics file", newline=newline)


def from_csv(path: Path, repo: Path | None = None) -> Recorder:
    rec = Recorder()
    with _open(path, repo, newline="") as fh:
        rec.unread = _each_row(iter(csv.DictReader(fh)), lambda row: _add_row(rec, dict(row)))
    return rec


def _add_json_line(rec: Recorder, line: str) -> bool:
    """False for a line that is not a JSON object of a bounded size."""
    if not line.strip():
        return True
    if len(line) > MAX_ROW_CHARS:
        return False  # a metrics row is short; a huge one would cost memory, not metrics
    try:
        row = json.loads(line.replace("NaN", '"nan"').replace("Infinity", '"inf"'))
    except json.JSONDecodeError:
        return False
    if not isinstance(row, dict):
        return False
    _add_row(rec, row)
    return True


def from_jsonl(path: Path, repo: Path | None = None) -> Recorder:
    rec = Recorder()
    with _open(path, repo) as fh:
        rec.unread = _each_row(iter(fh), lambda line: _add_json_line(rec, line))
    return rec


def from_tensorboard(path: Path, repo: Path | None = None) -> Recorder:
    """Every scalar tag of one event file (or folder), at most MAX_POINTS points per tag
    (TensorBoard's own reservoir sampling)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"scalars": MAX_POINTS})
    acc.Reload()
    rec = Recorder()
    for tag in acc.Tags().get("scalars", [])[:MAX_SERIES]:
        for event in acc.Scalars(tag):
            rec.add(tag, int(event.step), float(event.value))
    return rec


def from_text(text: str) -> Recorder:
    rec = Recorder()
    _each_row(iter(text.replace("\r", "\n").splitlines()), rec.add_line)
    return rec


def _text_file(path: Path, repo: Path | None = None) -> Recorder:
    rec = Recorder()
    # newline="": lines end at \n, \r or \r\n (progress bars rewrite a line with \r)
    with _open(path, repo, newline="") as fh:
        _each_row(iter(fh), rec.add_line)
    return rec


def _regular(path: Path, limit: int = MAX_FILE_BYTES) -> bool:
    """A plain file (never a link or a FIFO the repository planted) of a bounded size."""
    try:
        mode = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(mode.st_mode) and mode.st_size <= limit


def from_file(path: Path, repo: Path | None = None) -> Recorder:
    """Every series of a log, a CSV/JSONL metrics file, or a TensorBoard event file/folder.
    Unreadable or oversized files give no series (the loss reader says why). A path inside
    `repo` is read without following any link in it (forkvet.userfile)."""
    try:
        folder = L.check_log(path, repo)  # one rule for both readers
        if folder:
            rec = Recorder()
            for event_file in _metrics_files(path, 0.0, events_only=True):
                rec.merge(from_tensorboard(event_file))
            return rec
        return _read(path, repo) if _kind(path.name) else _text_file(path, repo)
    except (OSError, ImportError, ValueError, UnicodeError, csv.Error, InputError):
        return Recorder()


def _kind(name: str) -> str | None:
    if "tfevents" in name:
        return "tensorboard"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return None


def _read(path: Path, repo: Path | None = None) -> Recorder:
    readers = {"tensorboard": from_tensorboard, "csv": from_csv, "jsonl": from_jsonl}
    return readers[_kind(path.name) or "csv"](path, repo)


_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", "site-packages"}


def _walk(folder: Path, depth: int = 4) -> Iterator[Path]:
    """Files under `folder`, never through a link, at most MAX_WALK entries and `depth`
    folders down."""
    seen = 0
    stack = [(folder, 0)]
    while stack:
        top, level = stack.pop()
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_WALK:
                return
            if entry.is_dir(follow_symlinks=False):
                if level < depth and entry.name not in _SKIP_DIRS:
                    stack.append((Path(entry.path), level + 1))
            elif entry.is_file(follow_symlinks=False):
                yield Path(entry.path)


def _metrics_files(folder: Path, since: float, events_only: bool = False) -> list[Path]:
    """Metrics files under `folder` written at or after `since` (a repository's committed
    `runs/` from the author's own training is not this run), newest first."""
    found = []
    for path in _walk(folder):
        kind = _kind(path.name)
        if kind is None or (events_only and kind != "tensorboard"):
            continue
        try:
            mtime = path.lstat().st_mtime
        except OSError:
            continue
        if mtime >= since and _regular(path):
            found.append((mtime, path))
    return [p for _, p in sorted(found, reverse=True)[:MAX_FILES]]


def from_folders(folders: list[Path], since: float) -> Recorder:
    """Every series of the metrics files (CSV, JSONL, TensorBoard events) the run wrote into
    these folders."""
    rec = Recorder()
    for folder in folders:
        for path in _metrics_files(folder, since):
            try:
                rec.merge(_read(path, folder))  # no link below the folder searched
            except (OSError, ImportError, ValueError, UnicodeError, csv.Error, InputError):
                continue
    return rec


def thin(items: Sequence[T], limit: int = MAX_POINTS) -> list[T]:
    """At most `limit` items, evenly spaced, the first and the last kept: what a verdict or
    a trend test sees of a series of any length (Mann-Kendall needs memory quadratic in it)."""
    n = len(items)
    if n <= limit:
        return list(items)
    return [items[i * (n - 1) // (limit - 1)] for i in range(limit)]


def trend(values: list[float]) -> str:
    """falling | rising | flat (Mann-Kendall, p < 0.05) | unknown (too few points).
    Judged on at most MAX_POINTS of them (thin)."""
    finite = thin([v for v in values if math.isfinite(v)])
    if len(finite) < MIN_TREND_POINTS or len(set(finite)) == 1:
        return "flat" if len(finite) >= MIN_TREND_POINTS else "unknown"
    try:
        from forkvet.extras import require

        result = require("pymannkendall").original_test(finite, alpha=0.05)
    except Exception:  # the extra missing, or a degenerate series
        return "unknown"
    return {"decreasing": "falling", "increasing": "rising"}.get(str(result.trend), "flat")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def summary(name: str, series: Series) -> dict[str, Any]:
    """The JSON of one series: points ([step, value or null]), first, last, best (by its
    goal) and where, trend, kind."""
    xy = series.xy()
    goal = goal_of(name)
    finite = [(x, v) for x, v in xy if math.isfinite(v)]
    best = (min if goal == "min" else max)(finite, key=lambda p: p[1]) if finite else None
    return {
        "points": [[x, _finite(v)] for x, v in xy],
        "first": finite[0][1] if finite else None,
        "last": finite[-1][1] if finite else None,
        "best": best[1] if best else None,
        "best_step": best[0] if best else None,
        "goal": goal,
        "trend": trend([v for _, v in xy]),
        "kind": kind_of(name),
    }


def is_curve(name: str, series: Series) -> bool:
    """A printed value is a metric when printed at least twice (once is the configuration
    echoed at start-up: `learning_rate = 6e-4`), or once under a result's name (`test
    accuracy`, `final score`); a metrics file's series always is."""
    if not series.seen:
        return False
    if series.seen >= 2 or not series.printed:
        return True
    return any(t in _RESULT_TOKENS for t in _tokens(name.lower()))


def summaries(rec: Recorder) -> dict[str, dict[str, Any]]:
    return {
        name: summary(name, series) for name, series in rec.series.items() if is_curve(name, series)
    }
