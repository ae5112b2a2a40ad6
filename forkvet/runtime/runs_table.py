"""The runs table: one row per training check across commits (commit, date, verdict, final
train and validation loss, best metric, steps/s, GPU utilisation, against the baseline), as
`forkvet runs` prints it and the App's report issue shows it. Pure: rows in, text out.

A train-check result is data a fork's code wrote: every value is checked (finite numbers
only, strings bounded) and every string is escaped for the place it is shown. Old results
lack `metrics` and `gpu_utilization_mean`; their cells are empty, never an error.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

from forkvet import rx
from forkvet.escape import md_code, md_inline, terminal
from forkvet.runtime.baseline import curve_from_result
from forkvet.runtime.decide import VERDICTS

MAX_ROWS = 15
MAX_NAME = 80  # characters of a metric name or a label kept
EMPTY = "—"
HEADER = (
    "commit",
    "date",
    "verdict",
    "train loss",
    "val loss",
    "best metric",
    "steps/s",
    "GPU util",
    "vs baseline",
)


@dataclass(frozen=True)
class RunRow:
    commit: str  # a commit SHA, else a label (the result file's name)
    date: float | None  # POSIX seconds
    verdict: str
    train_loss: float | None
    val_loss: float | None
    metric: str | None  # the best metric's name
    metric_value: float | None
    steps_per_second: float | None
    gpu_utilization: float | None  # percent
    # "regressed" | "slower" | "ok", against `baseline` (a commit or a label)
    vs_baseline: str | None = None
    baseline: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRow:
        """A stored row (the App's database): each field checked again, unknown keys ignored."""
        names = {f.name for f in fields(cls)}
        raw = {k: v for k, v in data.items() if k in names}
        return cls(
            commit=_text(raw.get("commit")) or "",
            date=date_of(raw.get("date")),
            verdict=verdict_of(raw.get("verdict")),
            train_loss=number(raw.get("train_loss")),
            val_loss=number(raw.get("val_loss")),
            metric=_text(raw.get("metric")),
            metric_value=number(raw.get("metric_value")),
            steps_per_second=number(raw.get("steps_per_second")),
            gpu_utilization=number(raw.get("gpu_utilization")),
            vs_baseline=_one_of(raw.get("vs_baseline"), STATUSES),
            baseline=_text(raw.get("baseline")),
        )


def number(value: Any) -> float | None:
    """A finite number, or None (booleans, strings, NaN, a 400-digit integer)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        out = float(value)
    except OverflowError:
        return None
    return out if math.isfinite(out) else None


# 9999-12-31 23:59:59 UTC: the last instant strftime writes with a four-digit year.
LAST_DATE = 253_402_300_799


def date_of(value: Any) -> float | None:
    """POSIX seconds from 1970 to the year 9999, else None: a result's 1e308 or -1e18 is no
    date (time.gmtime would raise on it)."""
    seconds = number(value)
    return seconds if seconds is not None and 0 <= seconds <= LAST_DATE else None


STATUSES = ("ok", "regressed", "slower")  # `vs baseline`


def _one_of(value: Any, allowed: tuple[str, ...]) -> str | None:
    return value if isinstance(value, str) and value in allowed else None


def verdict_of(value: Any) -> str:
    """One of train-check's own verdicts (decide.VERDICTS), else "unknown": a result's free
    text never shows as a verdict."""
    return _one_of(value, VERDICTS) or "unknown"


def _text(value: Any) -> str | None:
    return str(value)[:MAX_NAME] if isinstance(value, str) and value else None


def final_loss(losses: Any) -> float | None:
    """The mean of the last fifth of the finite losses (one noisy last step does not decide)."""
    if not isinstance(losses, list):
        return None
    finite = [v for v in curve_from_result({"losses": losses}).losses if math.isfinite(v)]
    if not finite:
        return None
    tail = finite[-max(1, len(finite) // 5) :]
    return round(sum(tail) / len(tail), 6)


def metrics_of(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The result's named metrics in name order (entries that are not objects are dropped)."""
    metrics = result.get("metrics")
    if not isinstance(metrics, dict):
        return []
    return sorted((str(k), v) for k, v in metrics.items() if isinstance(v, dict))


def _first_of_kind(result: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]] | None:
    return next(((n, m) for n, m in metrics_of(result) if m.get("kind") == kind), None)


def _last(result: dict[str, Any], kind: str) -> float | None:
    found = _first_of_kind(result, kind)
    return number(found[1].get("last")) if found else None


def _vs_baseline(result: dict[str, Any]) -> tuple[str | None, str | None]:
    """What train-check --baseline said (its `baseline` object), as (status, against)."""
    base = result.get("baseline")
    if not isinstance(base, dict) or not isinstance(base.get("regression"), bool):
        return None, None
    status = "ok"
    if base["regression"]:
        status = "slower" if base.get("slower_only") is True else "regressed"
    return status, _text(base.get("baseline"))


def row_from_result(
    result: dict[str, Any],
    commit: str,
    date: Any,
    against: tuple[str | None, str | None] | None = None,
) -> RunRow:
    """One row. The train loss is the `train_loss` metric's last value, else the final loss of
    `losses`; the validation loss the `val_loss` metric's last; the best metric the first
    metric of kind `metric` in name order, with its best value.
    `against`: (vs baseline, baseline) of the caller's own comparison (the App's, also when
    it has none); None takes the result's own `baseline` object (the CLI, on the operator's
    own results)."""
    train = _last(result, "train_loss")
    best = _first_of_kind(result, "metric")
    vs_baseline, baseline = _vs_baseline(result) if against is None else against
    return RunRow(
        commit=commit[:MAX_NAME],
        date=date_of(date),
        verdict=verdict_of(result.get("verdict")),
        train_loss=train if train is not None else final_loss(result.get("losses")),
        val_loss=_last(result, "val_loss"),
        metric=best[0][:MAX_NAME] if best else None,
        metric_value=number(best[1].get("best")) if best else None,
        steps_per_second=number(result.get("steps_per_second")),
        gpu_utilization=number(result.get("gpu_utilization_mean")),
        vs_baseline=_one_of(vs_baseline, STATUSES),
        baseline=_text(baseline),
    )


def newest_first(rows: list[RunRow]) -> list[RunRow]:
    """By date, newest first; rows without a date last, in the order given."""
    return sorted(rows, key=lambda r: -(r.date if r.date is not None else -math.inf))


# -- cells ----------------------------------------------------------------------------------
def fmt(value: float | None, spec: str = ".4g") -> str:
    return EMPTY if value is None else format(value, spec)


def short(label: str) -> str:
    """A commit SHA as its first 7 characters; any other label as it is."""
    return label[:7] if rx.fullmatch(r"[0-9a-f]{7,40}", label) else label


def _date(value: float | None) -> str:
    return EMPTY if value is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(value))


def _cells(row: RunRow) -> list[str]:
    """Unescaped cells (numbers, and the row's own strings for the caller to escape)."""
    return [
        short(row.commit) or EMPTY,
        _date(row.date),
        row.verdict,
        fmt(row.train_loss),
        fmt(row.val_loss),
        f"{row.metric} {fmt(row.metric_value)}" if row.metric else EMPTY,
        fmt(row.steps_per_second),
        EMPTY if row.gpu_utilization is None else f"{row.gpu_utilization:.0f}%",
        f"{row.vs_baseline} vs {short(row.baseline or '?')}" if row.vs_baseline else EMPTY,
    ]


def _cell_code(value: str) -> str:
    # GitHub splits table cells before it parses code spans: a `|` in one is written `\|`.
    return md_code(value).replace("|", "\\|")


def _md_vs(row: RunRow) -> str:
    if not row.vs_baseline:
        return EMPTY
    status = md_inline(row.vs_baseline)
    if row.vs_baseline != "ok":
        status = f"**{status}**"
    return f"{status} vs {_cell_code(short(row.baseline or '?'))}"


def _md_cells(row: RunRow) -> list[str]:
    cells = _cells(row)
    commit = _cell_code(cells[0]) if row.commit else EMPTY
    metric = f"{md_inline(row.metric)} {fmt(row.metric_value)}" if row.metric else EMPTY
    return [commit, cells[1], md_inline(row.verdict), *cells[3:5], metric, *cells[6:8], _md_vs(row)]


# -- tables ---------------------------------------------------------------------------------
def markdown(rows: list[RunRow], limit: int | None = MAX_ROWS) -> str:
    """A GitHub Markdown table, newest first; every string from the run escaped."""
    if not rows:
        return ""
    ordered = newest_first(rows)
    shown = ordered if limit is None else ordered[:limit]
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(_md_cells(r)) + " |" for r in shown),
    ]
    if len(ordered) > len(shown):
        lines.append(f"\n{len(ordered) - len(shown)} older runs are not shown.")
    return "\n".join(lines) + "\n"


def text(rows: list[RunRow]) -> str:
    """Aligned columns for a terminal, newest first; every cell made inert (terminal())."""
    table = [list(HEADER)] + [
        [terminal(c, limit=MAX_NAME) for c in _cells(r)] for r in newest_first(rows)
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n"
        for line in table
    )


def json_rows(rows: list[RunRow]) -> list[dict[str, Any]]:
    """Rows as JSON objects, newest first (dates as ISO 8601 UTC)."""
    out = []
    for r in newest_first(rows):
        data = r.to_dict()
        data["date"] = (
            None if r.date is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.date))
        )
        out.append(data)
    return out


# -- one run's metrics (the pull request comment) ----------------------------------------------
def metrics_markdown(result: dict[str, Any], limit: int = 20) -> str:
    """One line per named metric: kind, first, last, best (at which step), goal, trend."""
    metrics = metrics_of(result)
    if not metrics:
        return ""
    lines = [
        "| metric | kind | first | last | best | at step | goal | trend |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in metrics[:limit]:
        words = [md_inline(_text(m.get(k)) or EMPTY, limit=20) for k in ("kind", "goal", "trend")]
        lines.append(
            f"| {md_inline(name, limit=MAX_NAME)} | {words[0]} | {fmt(number(m.get('first')))} | "
            f"{fmt(number(m.get('last')))} | {fmt(number(m.get('best')))} | "
            f"{fmt(number(m.get('best_step')), '.0f')} | {words[1]} | {words[2]} |"
        )
    if len(metrics) > limit:
        lines.append(f"\n{len(metrics) - limit} more metrics are in the run's result.")
    return "\n".join(lines) + "\n"
