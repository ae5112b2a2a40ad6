"""Extract a training-loss series from logs, CSV/JSONL metric files or TensorBoard events."""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypeVar

from forkvet import rx
from forkvet.errors import InputError

T = TypeVar("T")

_NUM = r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|-?nan|-?inf(?:inity)?)"
# Training loss only: `loss`, `train_loss`, `total_loss`... never `val_loss`/`test_loss`.
_NAME = r"(?:train(?:ing)?[_ ]?|total[_ ]?|avg[_ ]?|mean[_ ]?|batch[_ ]?|running[_ ]?)?loss"
# Not after a word character or a dot: RE2 has no look-behind `(?<![\w.])`, so the character
# before is matched too. Each line is searched once (the first match), where that is the same.
_NOT_AFTER = r"(?:^|[^\w.])"
# A value as printed: 1.23, '1.23' (Hugging Face Trainer's string values), tensor(1.23, ...),
# tensor([1.23]).
_VALUE = rf"""['"]?\s*(?:tensor\(\s*\[?\s*)?{_NUM}"""
DEFAULT_PATTERNS = (
    rx.compile(rf"(?i)['\"]{_NAME}['\"]\s*:\s*{_VALUE}"),  # {'loss': 1.2} / {'loss': '1.2'}
    # After the name comes a blank, `(`, `:` or `=`: never a word character or a quote.
    rx.compile(rf"(?i){_NOT_AFTER}{_NAME}\s*(?:\([^)]*\))?\s*[:=]\s*{_VALUE}"),
    rx.compile(rf"(?i){_NOT_AFTER}{_NAME}\s+(?:tensor\(\s*\[?\s*)?{_NUM}(?:[^\w.]|$)"),  # loss 1.23
)
# Summary lines print the mean over the whole run as `train_loss`: not a point of the series.
_SUMMARY = rx.compile(r"train_runtime|train_samples_per_second|Training completed", rx.I)
# GAN logs: a discriminator and a generator loss on one line, in the spellings real GAN code
# prints: `Loss_D: 1.2 Loss_G: 3.4` (PyTorch's DCGAN), `[D loss: 0.69] [G loss: 0.70]`
# (PyTorch-GAN, Keras-GAN), `d_loss: ..., g_loss: ...`, `errD`/`errG`, `lossD`/`lossG`.
_SEP = r"""['"]?\s*[:=]?\s*"""


def _gan_name(x: str, word: str) -> str:
    return (
        rf"(?i)(?:^|[^A-Za-z0-9])(?P<name>loss[_ ]?{x}|{x}[_ ]loss|err_?{x}|{x}_?err|"
        rf"{word}(?:ator)?[_ ]loss|loss[_ ]{word}(?:ator)?)"
    )


_GAN_D = rx.compile(_gan_name("D", "discrimin") + _SEP + _VALUE)
_GAN_G = rx.compile(_gan_name("G", "gener") + _SEP + _VALUE)
_GAN_D_KEY = rx.compile(_gan_name("D", "discrimin"))
_GAN_G_KEY = rx.compile(_gan_name("G", "gener"))


def _gan_keys(keys: list[str]) -> tuple[str, str] | None:
    """(discriminator column, generator column) of a metrics file, when it has both."""
    d = next((k for k in keys if _GAN_D_KEY.fullmatch(k.strip())), None)
    g = next((k for k in keys if _GAN_G_KEY.fullmatch(k.strip())), None)
    return (d, g) if d and g else None


def _gan_point(row: dict[str, object], keys: tuple[str, str], step: int | None) -> LossPoint | None:
    try:
        d, g = (parse_value(str(row.get(k) or "").strip()) for k in keys)
    except ValueError:
        return None
    return LossPoint(g, step, {"generator": g, "discriminator": d})


_STEP = rx.compile(r"(?i)\b(?:global[_ ]?step|step|iter(?:ation)?|it|batch)\b\s*[:=#]?\s*\[?(\d+)")


@dataclass
class LossPoint:
    value: float
    step: int | None = None
    # Named series on the same line: {"generator": g, "discriminator": d} for GAN logs.
    series: dict[str, float] | None = None


def parse_value(text: str) -> float:
    low = text.lower()
    if "nan" in low:
        return math.nan
    if "inf" in low:
        return -math.inf if low.startswith("-") else math.inf
    return float(text)


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _first_named(pattern: rx.Pattern[str], line: str) -> rx.Match[str] | None:
    """The first match whose group `name` is not followed by a letter or digit (the GAN
    names' `(?![A-Za-z0-9])`). A refused match cannot hold another name in its value, so
    resuming just after its name start rescans only that short value."""
    index = pattern.groupindex["name"]
    pos = 0
    while True:
        m = pattern.search(line, pos)
        if m is None:
            return None
        if not _ascii_alnum(line[m.end(index) : m.end(index) + 1]):
            return m
        pos = m.start(index) + 1


def compile_pattern(pattern: str | None) -> list[rx.Pattern[str]]:
    if not pattern:
        return list(DEFAULT_PATTERNS)
    try:
        compiled = rx.compile_now(pattern)
    except rx.error as exc:
        raise InputError(
            f"--pattern is not a valid regular expression for RE2 (no look-arounds or "
            f"backreferences): {exc}"
        ) from exc
    if compiled.groups < 1:
        raise InputError("--pattern needs a group around the loss value, e.g. 'loss=([0-9.]+)'")
    return [compiled]


def gan_from_line(line: str) -> LossPoint | None:
    d, g = _first_named(_GAN_D, line), _first_named(_GAN_G, line)
    if not (d and g):
        return None
    try:
        dv, gv = parse_value(d.group(_GAN_D.groups)), parse_value(g.group(_GAN_G.groups))
    except ValueError:
        return None
    step = _STEP.search(line)
    return LossPoint(
        gv, int(step.group(1)) if step else None, {"generator": gv, "discriminator": dv}
    )


def loss_from_line(line: str, patterns: list[rx.Pattern[str]]) -> LossPoint | None:
    if all(p in DEFAULT_PATTERNS for p in patterns):  # a user's --pattern: just that
        if _SUMMARY.search(line):
            return None
        gan = gan_from_line(line)
        if gan is not None:
            return gan
    for pattern in patterns:
        m = pattern.search(line)
        if m:
            raw = m.group("loss") if "loss" in pattern.groupindex else m.group(pattern.groups)
            try:
                value = parse_value(raw)
            except ValueError:
                continue
            step = _STEP.search(line)
            return LossPoint(value, int(step.group(1)) if step else None)
    return None


MAX_LOG_LINES = 200_000  # lines (rows) of one log read: bounds the time parsing takes


@dataclass
class Tally:
    """What reading one log left out: lines (rows) that failed to parse, and whether it
    stopped at MAX_LOG_LINES."""

    skipped: int = 0
    truncated: bool = False

    def notices(self, path: Path) -> list[str]:
        out = []
        if self.truncated:
            out.append(f"notice: read only the first {MAX_LOG_LINES:,} lines of {path}")
        if self.skipped:
            out.append(f"notice: skipped {self.skipped} line(s) of {path} that could not be parsed")
        return out


def _each(rows: Iterator[T], tally: Tally) -> Iterator[T]:
    """At most MAX_LOG_LINES rows; a row the reader itself fails on (csv.Error on an
    oversized field, ...) is skipped and counted, never the end of the file."""
    for _ in range(MAX_LOG_LINES):
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception:  # whatever one hostile row raises, it is that row's failure
            tally.skipped += 1
            continue
        yield row
    try:
        tally.truncated = next(rows, None) is not None
    except Exception:  # the row after the cap is unreadable: there was one
        tally.truncated = True


def _parse_each(
    rows: Iterator[T], parse: Callable[[T], LossPoint | None], tally: Tally
) -> list[LossPoint]:
    """parse() on each row: a row it fails on, for any reason (nesting past the stack, a
    5,000-digit number...), is skipped and counted."""
    out = []
    for row in _each(rows, tally):
        try:
            point = parse(row)
        except Exception:  # by construction: one line never ends the read
            tally.skipped += 1
            continue
        if point is not None:
            out.append(point)
    return out


def from_text(text: str, pattern: str | None = None, tally: Tally | None = None) -> list[LossPoint]:
    patterns = compile_pattern(pattern)
    lines = iter(text.replace("\r", "\n").splitlines())
    return _parse_each(lines, lambda line: loss_from_line(line, patterns), tally or Tally())


def _open(path: Path, repo: Path | None, newline: str | None = None) -> TextIO:
    """The log as text, opened without following a link (forkvet.userfile)."""
    from forkvet.userfile import open_text

    return open_text(path, repo, "log", newline=newline)


def _text_file(
    path: Path, pattern: str | None, tally: Tally, repo: Path | None = None
) -> list[LossPoint]:
    patterns = compile_pattern(pattern)
    # newline="": lines end at \n, \r or \r\n (progress bars rewrite a line with \r)
    with _open(path, repo, newline="") as fh:
        return _parse_each(iter(fh), lambda line: loss_from_line(line, patterns), tally)


_LOSS_KEYS = ("loss", "train_loss", "train/loss", "training_loss", "total_loss", "loss/train")


def _pick_key(keys: list[str]) -> str | None:
    lowered = {k.lower().strip(): k for k in keys}
    for want in _LOSS_KEYS:
        if want in lowered:
            return lowered[want]
    for low, key in lowered.items():
        if "loss" in low and not rx.search(r"val|test|eval", low):
            return key
    return None


def _step_key(keys: list[str]) -> str | None:
    lowered = {k.lower(): k for k in keys}
    for want in ("step", "global_step", "_step", "iteration", "iter", "epoch"):
        if want in lowered:
            return lowered[want]
    return None


def _csv_point(
    row: dict[str, str], key: str | None, gan: tuple[str, str] | None, step_key: str | None
) -> LossPoint | None:
    raw_step = row.get(step_key) if step_key else None
    step = int(float(raw_step)) if raw_step and raw_step.strip() else None
    if gan is not None:
        return _gan_point(dict(row), gan, step)
    assert key is not None
    raw = (row.get(key) or "").strip()
    if not raw:
        return None  # Lightning's CSVLogger leaves loss cells empty on val rows
    try:
        return LossPoint(parse_value(raw), step)
    except ValueError:
        return None


def from_csv(path: Path, tally: Tally | None = None, repo: Path | None = None) -> list[LossPoint]:
    with _open(path, repo, newline="") as fh:
        reader = csv.DictReader(fh)
        try:
            fields = list(reader.fieldnames or [])
        except Exception as exc:  # an oversized or malformed header
            raise InputError(f"{path}: unreadable CSV header ({type(exc).__name__})") from exc
        gan = _gan_keys(fields)
        key = _pick_key(fields)
        if key is None and gan is None:
            raise InputError(f"{path}: no loss column (looked for {', '.join(_LOSS_KEYS)})")
        step_key = _step_key(fields)
        return _parse_each(
            iter(reader), lambda row: _csv_point(row, key, gan, step_key), tally or Tally()
        )


def _jsonl_point(line: str) -> LossPoint | None:
    try:
        row = json.loads(line.replace("NaN", '"nan"').replace("Infinity", '"inf"'))
    except json.JSONDecodeError:
        return None  # not JSON at all (a banner, a blank line): no point, no notice
    if not isinstance(row, dict):
        return None
    step_key = _step_key(list(row))
    gan = _gan_keys(list(row))
    if gan is not None:
        return _gan_point(row, gan, int(row[step_key]) if step_key else None)
    key = _pick_key(list(row))
    if key is None or row[key] is None:
        return None
    try:
        value = parse_value(str(row[key]))
    except ValueError:
        return None
    return LossPoint(value, int(row[step_key]) if step_key else None)


def from_jsonl(path: Path, tally: Tally | None = None, repo: Path | None = None) -> list[LossPoint]:
    with _open(path, repo) as fh:
        return _parse_each(iter(fh), _jsonl_point, tally or Tally())


def from_tensorboard(path: Path) -> list[LossPoint]:
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError as exc:
        raise InputError(
            "reading TensorBoard event files needs the tensorboard package: "
            "pip install 'forkvet[tensorboard]'"
        ) from exc
    acc = EventAccumulator(str(path), size_guidance={"scalars": MAX_LOG_LINES})
    acc.Reload()
    tags = acc.Tags().get("scalars", [])
    tag = _pick_key(tags)
    if tag is None:
        raise InputError(f"{path}: no loss scalar among the TensorBoard tags {tags[:10]}")
    return [LossPoint(e.value, e.step) for e in acc.Scalars(tag)]


MAX_LOG_BYTES = 256 << 20
MAX_FOLDER_ENTRIES = 10_000  # looked at for event files (TensorBoard reads one folder's files)


def _has_event_files(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            for entry in itertools.islice(entries, MAX_FOLDER_ENTRIES):
                if "tfevents" in entry.name and entry.is_file(follow_symlinks=False):
                    return True
    except OSError:
        return False
    return False


def from_file(path: Path, pattern: str | None = None) -> list[LossPoint]:
    """A log, a CSV/JSONL metrics file, or a TensorBoard event file or folder."""
    return read(path, pattern)[0]


def check_log(path: Path, repo: Path | None) -> bool:
    """True for a folder of event files, False for a file; InputError for anything else. The
    path is opened one component at a time without following a link inside the repository
    `repo` (a committed `runs -> /home/runner`: outside attack, round 16b), and its last
    component never (a link to /dev/zero, a secret); never a FIFO (reading it would wait
    forever); bounded."""
    from forkvet.userfile import open_no_follow

    if not os.path.lexists(path):
        raise InputError(f"no such file: {path}")
    fd = open_no_follow(path, repo, "log")
    try:
        mode = os.fstat(fd)
    finally:
        os.close(fd)
    if not (stat.S_ISREG(mode.st_mode) or stat.S_ISDIR(mode.st_mode)):
        raise InputError(f"{path} is not a regular file")
    if stat.S_ISREG(mode.st_mode) and mode.st_size > MAX_LOG_BYTES:
        raise InputError(f"{path} is over {MAX_LOG_BYTES >> 20} MiB: give a shorter log")
    if stat.S_ISDIR(mode.st_mode) and not _has_event_files(path):
        raise InputError(
            f"{path} is a folder, which is read as TensorBoard events, and has no event files "
            f"(*tfevents*): give the log, the CSV/JSONL metrics file or the events' folder"
        )
    if stat.S_ISDIR(mode.st_mode) and _linked_event_files(path):
        raise InputError(f"{path}: an event file in it is a symbolic link or not a regular file")
    return stat.S_ISDIR(mode.st_mode)


def _linked_event_files(folder: Path) -> bool:
    """Whether any event file TensorBoard would read in folder is not a plain file (a link)."""
    try:
        with os.scandir(folder) as entries:
            for entry in itertools.islice(entries, MAX_FOLDER_ENTRIES):
                if "tfevents" in entry.name and not entry.is_file(follow_symlinks=False):
                    return True
    except OSError:
        return True
    return False


def read(
    path: Path, pattern: str | None = None, repo: Path | None = None
) -> tuple[list[LossPoint], list[str]]:
    """from_file, and notices on what the read left out (lines past the cap, lines that
    failed to parse). A path inside `repo` is read without following any link in it."""
    folder = check_log(path, repo)
    tally = Tally()
    if folder or "tfevents" in path.name:
        points = from_tensorboard(path)
    elif path.suffix == ".csv":
        points = from_csv(path, tally, repo)
    elif path.suffix in (".jsonl", ".ndjson"):
        points = from_jsonl(path, tally, repo)
    else:
        points = _text_file(path, pattern, tally, repo)
    return points, tally.notices(path)
