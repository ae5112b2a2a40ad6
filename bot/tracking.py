"""The fork's training over its commits: each forkvet workflow run's train-check result is
stored per commit, compared with the default branch's previous one, and shown as a trend."""

from __future__ import annotations

import time
from typing import Any, Protocol

from forkvet.errors import InputError
from forkvet.escape import md_code, md_inline
from forkvet.runtime import runs_table
from forkvet.runtime.baseline import compare, curve_from_result
from forkvet.runtime.plot import mermaid_chart
from forkvet.runtime.runs_table import RunRow

MAX_ROWS = runs_table.MAX_ROWS


class TrainStore(Protocol):
    def save_train_result(self, repo: str, entry: dict[str, Any]) -> None: ...

    def train_results(self, repo: str, limit: int = 50) -> list[dict[str, Any]]: ...


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
        "verdict": runs_table.verdict_of(result.get("verdict")),
        "final_loss": runs_table.final_loss(result.get("losses") or []),
        "steps_per_second": result.get("steps_per_second"),
        "peak_gpu_memory_mib": result.get("peak_gpu_memory_mib"),
        "regression": False,
        "baseline_sha": None,
        "reasons": [],
        "result": {
            **{k: result.get(k) for k in ("losses", "steps", "steps_per_second")},
            "peak_gpu_memory_mib": result.get("peak_gpu_memory_mib"),
            "verdict": runs_table.verdict_of(result.get("verdict")),
        },
    }
    if earlier:
        entry.update(_against(result, earlier[0], speed_tolerance))
    # the runs table's row (named metrics, GPU utilisation), kept small: not the points.
    # `vs baseline` is the App's own comparison, also when there is none: never the
    # `baseline` object the fork's result claims.
    entry["row"] = runs_table.row_from_result(
        result, entry["sha"], entry["created"], (_status(entry), entry["baseline_sha"])
    ).to_dict()
    store.save_train_result(repo, entry)
    return entry


def _against(
    result: dict[str, Any], base: dict[str, Any], speed_tolerance: float
) -> dict[str, Any]:
    cmp = compare(
        curve_from_result(result),
        curve_from_result(base["result"], label=base["sha"][:12]),
        speed_tolerance,
    )
    return {
        "regression": cmp.regression,
        "baseline_sha": base["sha"],
        "reasons": cmp.reasons,
        "final_loss_change": cmp.final_loss_change,
        "speed_change": cmp.speed_change,
        "slower_only": cmp.slower_only,
    }


def _status(entry: dict[str, Any]) -> str | None:
    """The runs table's `vs baseline`: speed alone is "slower" (a busy runner does that too)."""
    if entry.get("regression"):
        return "slower" if entry.get("slower_only") is True else "regressed"
    return "ok" if entry.get("baseline_sha") else None


def row_of(entry: dict[str, Any]) -> RunRow:
    """A stored entry's row; entries stored before the runs table get one from their fields."""
    if isinstance(entry.get("row"), dict):
        # `vs baseline` from the entry's own comparison, also for rows stored before it was
        # kept out of the result's claims
        own = {"vs_baseline": _status(entry), "baseline": entry.get("baseline_sha")}
        return RunRow.from_dict({**entry["row"], **own})
    return RunRow.from_dict(
        {
            "commit": entry.get("sha"),
            "date": entry.get("created"),
            "verdict": entry.get("verdict"),
            "train_loss": entry.get("final_loss"),
            "steps_per_second": entry.get("steps_per_second"),
            "vs_baseline": _status(entry),
            "baseline": entry.get("baseline_sha"),
        }
    )


def trend_table(entries: list[dict[str, Any]]) -> str:
    """Markdown: the runs table (forkvet.runtime.runs_table), one row per run, newest first."""
    return runs_table.markdown([row_of(e) for e in entries], limit=MAX_ROWS)


def pr_comment(
    sha: str,
    conclusion: str,
    links: tuple[str, str | None],
    result: dict[str, Any] | None,
    entry: dict[str, Any] | None,
    issue_number: int | None,
) -> str:
    """The pull request comment: the commit, the verdict, where the plot is, the metrics and
    the comparison with the default branch. `links` are (logs, plot), already made safe."""
    logs, plot = links
    verdict = md_inline(runs_table.verdict_of(result.get("verdict"))) if result else "no result"
    parts = [
        f"### forkvet training check on {md_code(sha[:12])}: **{verdict}**",
        f"GPU workflow: **{md_inline(conclusion)}** · logs: {logs}"
        + (f" · loss plot: {plot} (`train/loss.png` in the run's artifact)" if plot else ""),
    ]
    if result is None:
        parts.append(
            "The run uploaded no training-check result (`train.json` in its "
            "`forkvet-runtime` artifact), so there is nothing to compare."
        )
    else:
        parts += [_chart(result), _metrics_section(result), _baseline_section(entry)]
    parts.append(
        f"_forkvet updates this comment for each new commit; the report issue #{issue_number} "
        "keeps the table of runs across commits._"
        if issue_number is not None
        else "_forkvet updates this comment for each new commit; with Issues enabled on this "
        "repository, a report issue would keep the table of runs across commits._"
    )
    return "\n\n".join(p for p in parts if p) + "\n"


def _chart(result: dict[str, Any]) -> str:
    """The loss curve inline: a Mermaid chart the App draws again from the result's validated
    numbers (never the `chart` text the run wrote), which GitHub renders in comments."""
    try:
        losses = curve_from_result(result).losses
    except InputError:
        return ""
    return mermaid_chart(losses, "training loss").strip()


def _metrics_section(result: dict[str, Any]) -> str:
    table = runs_table.metrics_markdown(result)
    if table:
        return "#### Metrics\n\n" + table.strip()
    final = runs_table.fmt(runs_table.final_loss(result.get("losses")))
    return f"#### Metrics\n\nOnly the training loss was found: final loss {final}."


def _baseline_section(entry: dict[str, Any] | None) -> str:
    head = "#### Against the default branch\n\n"
    if entry is None or not entry.get("baseline_sha"):
        return head + "No earlier result of the default branch to compare with."
    status = {"regressed": "**regressed**", "slower": "**slower**"}.get(
        str(_status(entry)), "no regression"
    )
    reasons = "\n".join(f"- {md_inline(r)}" for r in entry.get("reasons") or [])
    return f"{head}{status} vs {md_code(str(entry['baseline_sha'])[:7])}\n\n{reasons}".rstrip()
