"""The fork's training over its commits: each forkvet workflow run's train-check result is
stored per commit, compared with the default branch's previous one, and shown as a trend."""

from __future__ import annotations

import math
import time
from typing import Any, Protocol

from forkvet.escape import md_code, md_inline
from forkvet.runtime.baseline import compare, curve_from_result

MAX_ROWS = 15


class TrainStore(Protocol):
    def save_train_result(self, repo: str, entry: dict[str, Any]) -> None: ...

    def train_results(self, repo: str, limit: int = 50) -> list[dict[str, Any]]: ...


def _final_loss(losses: list[Any]) -> float | None:
    finite = [v for v in curve_from_result({"losses": losses}).losses if math.isfinite(v)]
    if not finite:
        return None
    tail = finite[-max(1, len(finite) // 5) :]
    return round(sum(tail) / len(tail), 6)


def record(
    store: TrainStore,
    repo: str,
    run: dict[str, Any],
    result: dict[str, Any],
    default_branch: str,
    speed_tolerance: float = 0.2,
) -> dict[str, Any]:
    """Store this run's result and compare it with the newest earlier result of the default
    branch (another commit); returns the stored entry."""
    earlier = [
        e
        for e in store.train_results(repo)
        if e.get("branch") == default_branch
        and e.get("sha") != run.get("head_sha")
        and e.get("run_id") != run.get("id")
    ]
    entry: dict[str, Any] = {
        "run_id": run.get("id"),
        "sha": str(run.get("head_sha") or ""),
        "branch": run.get("head_branch"),
        "created": time.time(),
        "verdict": str(result.get("verdict") or "unknown"),
        "final_loss": _final_loss(result.get("losses") or []),
        "steps_per_second": result.get("steps_per_second"),
        "peak_gpu_memory_mib": result.get("peak_gpu_memory_mib"),
        "regression": False,
        "baseline_sha": None,
        "reasons": [],
        "result": {
            k: result.get(k)
            for k in ("losses", "steps", "steps_per_second", "peak_gpu_memory_mib", "verdict")
        },
    }
    if earlier:
        base = earlier[0]
        cmp = compare(
            curve_from_result(result),
            curve_from_result(base["result"], label=base["sha"][:12]),
            speed_tolerance,
        )
        entry.update(
            regression=cmp.regression,
            baseline_sha=base["sha"],
            reasons=cmp.reasons,
            final_loss_change=cmp.final_loss_change,
            speed_change=cmp.speed_change,
        )
    store.save_train_result(repo, entry)
    return entry


def _fmt(value: Any, spec: str = ".4g") -> str:
    # values come from an artifact the fork's code wrote: only finite, sane numbers are shown
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    try:
        number = float(value)
    except OverflowError:  # a 400-digit integer
        return "—"
    return format(number, spec) if math.isfinite(number) else "—"


def trend_table(entries: list[dict[str, Any]]) -> str:
    """Markdown: one row per run, newest first."""
    if not entries:
        return ""
    lines = [
        "| commit | branch | verdict | final loss | steps/s | GPU MiB | vs baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries[:MAX_ROWS]:
        if e.get("regression"):
            flag = f"**regressed** vs {md_code(str(e.get('baseline_sha') or '')[:7])}"
        elif e.get("baseline_sha"):
            flag = f"ok vs {md_code(str(e['baseline_sha'])[:7])}"
        else:
            flag = "—"
        lines.append(
            f"| {md_code(str(e.get('sha') or '')[:7])} | {md_inline(str(e.get('branch') or ''))}"
            f" | {md_inline(str(e.get('verdict')))} | {_fmt(e.get('final_loss'))} | "
            f"{_fmt(e.get('steps_per_second'))} | {_fmt(e.get('peak_gpu_memory_mib'), '.0f')} | "
            f"{flag} |"
        )
    if len(entries) > MAX_ROWS:
        lines.append(f"\n{len(entries) - MAX_ROWS} older runs are not shown.")
    return "\n".join(lines) + "\n"
