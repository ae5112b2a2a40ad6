"""Round 18 (tester 18c), the weights' terms read everywhere, at a bounded cost: the key words'
misspellings are read in linear time however many distinct ones a text holds (no cap a text
could fill with decoys), and the documents and notebooks read for the weights' terms are
bounded in number and size whatever the repository holds."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable

import pytest

from forkvet.report import Report
from forkvet.vet import weightsdocs
from forkvet.vet.textnorm import _MISSPELT, fold
from tests.conftest import license_text
from tests.cputime import cpu_call

MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")


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


def test_decoy_misspellings_do_not_hide_the_real_one() -> None:
    # Every one-edit variant of every key word before the clause: each is read as its word.
    decoys = " ".join(sorted(_MISSPELT))
    assert fold(decoys + " Not for commerical use.").endswith("Not for commercial use.")


def test_key_words_are_read_in_linear_time() -> None:
    shapes = {
        "misspellings": lambda n: "commerical " * (n // 11),
        "look-alikes": lambda n: "a0b1c aIb " * (n // 10),
        "line wraps": lambda n: "ab-\ncd " * (n // 7),
        "decoys": lambda n: (" ".join(sorted(_MISSPELT)) + " ") * (n // 90_000 + 1),
        # Round 20 (L10): broken key words and abbreviations, complete and not.
        "broken words": lambda n: "com-\nmer-\ncial c o m m e r c i a " * (n // 38),
        "abbreviations": lambda n: "non-comm. non-co lucrative " * (n // 27),
    }
    for name, make in shapes.items():
        small, large = make(20_000) + "x", make(200_000) + "y"
        t_small = _cpu(lambda s=small: fold(s + " "))  # type: ignore[misc]
        t_large = _cpu(lambda s=large: fold(s + " "))  # type: ignore[misc]
        assert t_large < max(0.05, t_small) * 20, name  # ten times the text, not 100 times
        assert t_large < 5, name


def test_weights_documents_are_bounded(
    monkeypatch: pytest.MonkeyPatch, vet_repo: Callable[..., Report]
) -> None:
    sentence = "The pretrained weights are for non-commercial research use only.\n"
    notebook = json.dumps(
        {"cells": [{"cell_type": "markdown", "source": ["x " * 1000]}] * 200, "nbformat": 4}
    )
    files: dict[str, str] = {"model.py": "import torch\n", "WEIGHTS.md": sentence}
    # More documents and notebooks than are read; the weights' own document is read first.
    files.update({f"docs/a{i:03}.md": "# Page\n\nNothing here.\n" for i in range(150)})
    files.update({f"nb/n{i:02}.ipynb": notebook for i in range(30)})
    read: list[str] = []
    restriction = weightsdocs._restriction

    def counted(text: str, own: bool) -> str:
        read.append(text[:20])
        return restriction(text, own)

    monkeypatch.setattr(weightsdocs, "_restriction", counted)
    report, cpu = cpu_call(lambda: vet_repo({"LICENSE": MIT, **files}))
    assert cpu < 120  # this process's CPU time: a loaded machine does not count
    assert report.license.commercial_use is not True
    # Read whole: at most MAX_DOCS documents and MAX_NOTEBOOKS notebooks; the others only
    # re-read for their terms lines (round 19c L20: a skipped document is never a "yes"), so
    # each file is judged once at most.
    assert len(read) <= len(files)
    assert read[0].startswith("The pretrained")
