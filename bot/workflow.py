"""The workflow the setup pull request proposes: workflows/forkvet.yml with the forkvet
actions pinned to the App's configured release commit."""

from __future__ import annotations

from pathlib import Path

from forkvet import rx

_PIN = rx.compile(r"forkvet/forkvet(/actions/[\w-]+)?@0{40}")


def template() -> str:
    here = Path(__file__).resolve().parent
    for candidate in (
        here / "workflows" / "forkvet.yml",
        here.parent / "workflows" / "forkvet.yml",
    ):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FileNotFoundError("workflows/forkvet.yml is missing from this installation")


DEFAULT_LABELS = "[self-hosted, linux, x64, gpu]"
UNPINNED = "0" * 40


def choose_labels(
    requested: list[str] | None, allowed: tuple[str, ...]
) -> tuple[list[str], str | None]:
    """(labels for runs-on, a note when the fork asked for labels the operator does not
    allow). A fork's .github/forkvet.yml chooses only among the operator's labels: it must
    not send the GPU jobs, with the fork's code, to another pool of self-hosted runners."""
    template = DEFAULT_LABELS.strip("[]").split(", ")
    default = template if set(template) <= set(allowed) else list(allowed)
    if not requested:
        return default, None
    refused = [label for label in requested if label not in allowed]
    if refused:
        return default, (
            f"runner labels {', '.join(repr(x) for x in refused)} from .github/forkvet.yml "
            f"are not among the labels this App's operator allows "
            f"({', '.join(allowed)}): the workflow uses [{', '.join(default)}]"
        )
    return list(dict.fromkeys(requested)), None


def render(action_repo: str, action_ref: str, labels: list[str] | None = None) -> str:
    """The workflow file; `labels` must come from choose_labels."""
    action_ref = action_ref or UNPINNED
    if not rx.fullmatch(r"[\w.-]+/[\w.-]+", action_repo) or not rx.fullmatch(
        r"[0-9a-f]{40}", action_ref
    ):
        raise ValueError(
            "FORKVET_ACTION_REPO must be owner/repo and FORKVET_ACTION_REF a full commit SHA"
        )
    text = _PIN.sub(lambda m: f"{action_repo}{m.group(1) or ''}@{action_ref}", template())
    if labels:
        safe = [label for label in labels if rx.fullmatch(r"[\w.-]+", label)]
        if safe:
            text = text.replace(f"runs-on: {DEFAULT_LABELS}", f"runs-on: [{', '.join(safe)}]")
    return text
