"""pysource.build_index's steps, alone: claiming text, notebook work items, the pool choice."""

from __future__ import annotations

import pytest

from forkvet.snapshot import FileEntry
from forkvet.vet import pysource


def test_a_copy_is_claimed_once_and_the_budget_is_kept() -> None:
    g = pysource._Gathered(budget=10)
    assert g.claim("a.py", "x = 1\n")
    assert not g.claim("b/a.py", "x = 1\n")
    assert g.copies == [("b/a.py", "a.py")]
    assert not g.claim("c.py", "y = 22222\n")
    assert g.unread == [("c.py", "not parsed: the run's budget of bytes to parse is spent")]
    assert g.budget == 4


def test_a_notebook_is_its_code_cells_and_a_broken_one_is_said() -> None:
    g = pysource._Gathered(budget=0)
    nb = '{"cells": [{"cell_type": "code", "source": ["!pip install x\\n", "import os\\n"]}]}'
    pysource._add_work(g, FileEntry("demo.ipynb", len(nb)), nb, {})
    ((path, src, is_nb, _),) = g.work
    assert (path, is_nb) == ("demo.ipynb", True) and "import os" in src
    assert "demo.ipynb" in g.shell
    pysource._add_work(g, FileEntry("bad.ipynb", 3), "{no", {})
    assert g.unread == [("bad.ipynb", "not read: not a notebook (not JSON of a notebook's shape)")]


def test_workers_only_for_enough_code_and_more_than_one_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only this process's thread: other tests may leave a server thread behind, and a process
    # with other threads parses in place (forking it could copy a held lock).
    monkeypatch.setattr(pysource.threading, "active_count", lambda: 1)
    work: list[pysource._Work] = [(f"f{i}.py", "x" * 20_000, False, {}) for i in range(4)]
    assert pysource._workers_pay(work, work, jobs=2)
    assert not pysource._workers_pay(work, work, jobs=1)
    assert not pysource._workers_pay(work[:3], work[:3], jobs=2)
    assert not pysource._workers_pay(work, [], jobs=2)


def test_a_process_with_other_threads_parses_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pysource.threading, "active_count", lambda: 2)
    work: list[pysource._Work] = [(f"f{i}.py", "x" * 20_000, False, {}) for i in range(4)]
    assert not pysource._workers_pay(work, work, jobs=2)
