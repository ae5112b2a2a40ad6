"""Round 17 (tester 17a), static vetting of text: the README's code fences are read in one
pass (a README of 2 MB of fence lines took `vet` 213 s), the README step stops at the run's
deadline, YAML with a Python tag is found by its content whatever the file's name, and a
Hydra/mmengine config that names a callable outside the repository is code in data."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.snapshot import load
from forkvet.vet import entry_points
from forkvet.vet.context import Context


def _cpu(run: Callable[[], object]) -> float:
    """CPU time of this process, best of three, the collector off (see test_regex_engine)."""
    runs = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            start = time.process_time()
            run()
            runs.append(time.process_time() - start)
    finally:
        gc.enable()
    return min(runs)


_README_SHAPES = {
    # 17a F2: one fence kind's lines only; the other kind was searched for from each fence.
    "~~~ lines": lambda n: "# Model\n\n" + "~~~\n" * (n // 4),
    "``` lines": lambda n: "# Model\n\n" + "```\n" * (n // 4),
    # The milder shape: many sections, each with a fenced command.
    "sections with a command": lambda n: (
        "# Model\n\n"
        + "".join(
            f"## Training {i}\n\nRun:\n\n```\npython t{i}.py\n```\n\n" for i in range(n // 50)
        )
    ),
}


@pytest.mark.parametrize("shape", sorted(_README_SHAPES))
def test_readme_commands_are_linear_in_the_readme(shape: str) -> None:
    """Eight times the text may cost about eight times as much (with slack for a busy
    machine), never the 64 times of a quadratic reader (50 KB: 0.1 s, 400 KB: 7 s before)."""
    build = _README_SHAPES[shape]
    small, large = build(50_000), build(400_000)
    t_small = _cpu(lambda: entry_points.readme_commands(small, "README.md"))
    t_large = _cpu(lambda: entry_points.readme_commands(large, "README.md"))
    assert t_large < 16 * t_small + 0.15, (shape, t_small, t_large)


def test_fences_are_the_blocks_they_were() -> None:
    text = "a\n```\npython a.py\n```\n~~~\nb ``` c\n~~~\n```\nunclosed ~~~\n"
    assert [c for _, _, c in entry_points.fences(text)] == ["python a.py\n", "b ``` c\n"]
    assert entry_points.fences("~~~\n~~~\n```\n") == [(0, 7, "")]


def test_readme_commands_stop_at_the_deadline() -> None:
    text = "".join(f"```\npython t{i}.py\n```\n" for i in range(20))
    assert len(entry_points.readme_commands(text, "README.md")) == 20
    assert entry_points.readme_commands(text, "README.md", deadline=time.monotonic() - 1) == []


def test_the_entry_points_check_past_the_deadline_says_the_readme_was_partly_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "train.py").write_text("import torch\n")
    (tmp_path / "README.md").write_text("# M\n\n```\npython train.py --epochs 3\n```\n")
    ctx = Context(load(tmp_path), deadline=time.monotonic() - 1)
    ep, found = entry_points.check(ctx)
    assert ep.commands == []
    assert "Entry points partly read: time limit" in [f.title for f in found]
    ctx = Context(load(tmp_path))
    ep, found = entry_points.check(ctx)
    assert [c.command for c in ep.commands] == ["python train.py --epochs 3"]
    assert "Entry points partly read: time limit" not in [f.title for f in found]
