"""The workflow the setup pull request proposes: workflows/forkvet.yml with the forkvet
actions pinned to the App's configured release commit."""

from __future__ import annotations

from pathlib import Path

from forkvet import rx
from forkvet.config import Config

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
    requested: list[str] | None, allowed: tuple[tuple[str, ...], ...]
) -> tuple[list[str], str | None]:
    """(labels for runs-on, a note when the fork asked for labels the operator does not
    allow). The operator allows whole label sets (FORKVET_RUNNER_LABELS); a fork's
    .github/forkvet.yml picks one of them exactly. A narrower set, such as `[self-hosted]`
    alone, is refused: GitHub routes a job to every runner that has all its labels, so a
    subset would send the GPU jobs, with the fork's code, to other pools of runners."""
    template = DEFAULT_LABELS.strip("[]").split(", ")
    default = list(allowed[0]) if allowed else template
    if not requested:
        return default, None
    for labels in allowed:
        if set(requested) == set(labels):
            return list(labels), None
    if set(requested) == set(template):
        return default, None  # the config's own default, not a choice the fork made
    sets = "; ".join(f"[{', '.join(labels)}]" for labels in allowed)
    return default, (
        f"runner labels [{', '.join(repr(x) for x in requested)}] from .github/forkvet.yml "
        f"are not one of the label sets this App's operator allows ({sets}): the workflow "
        f"uses [{', '.join(default)}]"
    )


def render(
    action_repo: str,
    action_ref: str,
    labels: list[str] | None = None,
    floor: Config | None = None,
) -> str:
    """The workflow file; `labels` must come from choose_labels, `floor` is the operator's
    policy (FORKVET_POLICY): its runtime caps and network cut are written into the steps, so
    the runner applies them whatever the fork's own .github/forkvet.yml says."""
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
    return _with_floor(text, floor or Config())


_SMOKE_INPUTS = '          timeout: "600"\n          fail-on-error: "false"\n'
_TRAIN_INPUTS = (
    '          max-steps: "50"\n          timeout: "900"\n          fail-on-error: "false"\n'
)


def _with_floor(text: str, floor: Config) -> str:
    """The operator's caps as the actions' inputs (the template's values are the defaults)."""
    network = '          network: "none"\n' if floor.runtime.network == "none" else ""
    smoke = f'          timeout: "{floor.smoke.timeout}"\n          fail-on-error: "false"\n'
    train = (
        f'          max-steps: "{floor.train.max_steps}"\n'
        f'          timeout: "{floor.train.timeout}"\n          fail-on-error: "false"\n'
    )
    if _SMOKE_INPUTS not in text or _TRAIN_INPUTS not in text:
        raise ValueError("workflows/forkvet.yml lost the smoke/train inputs the App fills in")
    text = text.replace(_SMOKE_INPUTS, smoke + network, 1)
    return text.replace(_TRAIN_INPUTS, train + network, 1)


def renderings(
    action_repo: str,
    action_ref: str,
    allowed: tuple[tuple[str, ...], ...],
    floor: Config | None = None,
) -> frozenset[bytes]:
    """Every workflow file the App can propose under these settings, as bytes: one per label
    set the operator allows (choose_labels only ever picks one of them, or the template's
    default when the operator names none)."""
    sets = [list(labels) for labels in allowed] or [choose_labels(None, ())[0]]
    return frozenset(render(action_repo, action_ref, labels, floor).encode() for labels in sets)


def is_rendered(
    content: bytes,
    action_repo: str,
    action_ref: str,
    allowed: tuple[tuple[str, ...], ...],
    floor: Config | None = None,
) -> bool:
    """True only when `content` is, byte for byte, a workflow this App renders: anything
    else (the upstream's own forkvet.yml, a hand edit, one byte off) may run anything on any
    runner, so its result says nothing about forkvet's checks."""
    return content in renderings(action_repo, action_ref, allowed, floor)
