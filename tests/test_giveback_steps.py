"""The small steps the give-back commands are made of, each on its own (issue 23)."""

from __future__ import annotations

import argparse

from forkvet.giveback import attribution, cli


def test_register_adds_attribution_upstream_and_thank() -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    a = parser.parse_args(["attribution", "fork"])
    assert (a.func, a.format) == (cli.cmd_attribution, "markdown")
    u = parser.parse_args(["upstream", "fork", "--upstream", "up", "--commits", "a", "b"])
    assert (u.func, u.commits, u.max_per_hour, u.max_open) == (cli.cmd_upstream, ["a", "b"], 2, 3)
    t = parser.parse_args(["thank", "fork", "--upstream", "up", "--open"])
    assert (t.func, t.open, t.format) == (cli.cmd_thank, True, "text")


def test_the_changes_section_labels_escapes_and_caps_the_list() -> None:
    changed = [("A", "new.py"), ("M", "a`b.py"), ("X", "odd")] + [
        ("D", f"f{i}") for i in range(300)
    ]
    lines = attribution._changes_section(changed)
    assert lines[:3] == ["", "## Changes made in this fork", ""]
    assert lines[3] == "- added: `new.py`"
    assert lines[4].startswith("- modified: ``") and lines[5] == "- X: `odd`"
    assert len(lines) == 3 + 200
    assert attribution._changes_section(None)[-1].startswith("- (none yet")
