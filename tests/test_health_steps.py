"""health.check's steps, alone: the undefined-names finding and the checklist."""

from __future__ import annotations

from forkvet.report import Command, Dependencies, EntryPoints, ScriptEntry, Weight
from forkvet.vet import health


def test_undefined_names_point_at_the_first_one() -> None:
    assert health._undefined_finding([]) == []
    (f,) = health._undefined_finding(
        [("train.py", 12, "undefined name 'x'"), ("b.py", 1, "undefined name 'y'")]
    )
    assert (f.path, f.line) == ("train.py", 12) and f.message.startswith("2 undefined")
    assert f.message.endswith("First: train.py:12: undefined name 'x'")


def test_checklist_items_in_order_with_their_evidence() -> None:
    ep = EntryPoints(
        train=[ScriptEntry("train.py", "train")],
        commands=[Command("python train.py", "README.md", "train")],
    )
    items = health._checklist(
        "## Results\n", Dependencies(files=["requirements.txt"]), ep, [Weight(None, "m.pt")]
    )
    assert [(i.name, i.present) for i in items] == [
        ("dependencies", True),
        ("training code", True),
        ("evaluation code", False),
        ("pretrained models", True),
        ("results", True),
    ]
    assert items[2].evidence == "no evaluation script" and items[3].evidence == "m.pt"


def test_results_need_reproduction_commands_too() -> None:
    items = health._checklist("## Results\n", Dependencies(), EntryPoints(), [])
    assert not items[4].present
    assert items[4].evidence == "no results table with reproduction commands"
