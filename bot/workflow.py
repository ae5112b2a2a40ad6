"""The workflow the setup pull request proposes: workflows/forkvet.yml with the forkvet
actions pinned to the App's configured release commit."""

from __future__ import annotations

import re
from pathlib import Path

_PIN = re.compile(r"forkvet/forkvet(/actions/[\w-]+)?@0{40}")


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


def render(action_repo: str, action_ref: str, labels: list[str] | None = None) -> str:
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", action_repo) or not re.fullmatch(
        r"[0-9a-f]{40}", action_ref
    ):
        raise ValueError(
            "FORKVET_ACTION_REPO must be owner/repo and FORKVET_ACTION_REF a full commit SHA"
        )
    text = _PIN.sub(lambda m: f"{action_repo}{m.group(1) or ''}@{action_ref}", template())
    if labels:
        # The fork's .github/forkvet.yml names its GPU runners (runner.labels).
        safe = [label for label in labels if re.fullmatch(r"[\w.-]+", label)]
        if safe:
            text = text.replace(f"runs-on: {DEFAULT_LABELS}", f"runs-on: [{', '.join(safe)}]")
    return text
