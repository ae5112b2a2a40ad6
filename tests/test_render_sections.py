"""Each Markdown and text section of a report renders alone (render.py's small renderers)."""

from __future__ import annotations

from forkvet import render
from forkvet.report import (
    Command,
    EntryPoints,
    Finding,
    Framework,
    RepoInfo,
    Report,
    Risk,
    ScriptEntry,
    Weight,
)


def _report(**kw: object) -> Report:
    return Report(repo=RepoInfo(name="o/r", commit="a" * 40, commit_date="2024-01-02T03:04"), **kw)  # type: ignore[arg-type]


def test_empty_sections_render_nothing() -> None:
    r = _report()
    for section in (render._md_how_to_run, render._md_weights, render._md_citation):
        assert section(r) == []
    assert render._md_risks(r) == [] and render._md_findings(r) == []
    assert render._text_findings(r) == []


def test_head_names_the_repository_commit_and_date() -> None:
    head = render._md_head(_report())
    assert head[0].startswith("✅ **forkvet**: no problems found")
    assert head[-1] == "Repository **o/r** at `aaaaaaaaaaaa` (2024-01-02)"


def test_how_to_run_lists_scripts_and_leaves_install_commands_out() -> None:
    ep = EntryPoints(
        train=[ScriptEntry("train.py", "train")],
        commands=[
            Command("pip install  x", "README.md", "install"),
            Command("python  train.py", "README.md", "train"),
        ],
    )
    md = render._md_how_to_run(_report(entry_points=ep))
    assert "Training: `train.py`" in md
    assert "pip install" not in "\n".join(md)
    assert "python train.py" in "\n".join(md)


def test_weights_section_names_weights_and_data_sets_apart() -> None:
    md = "\n".join(
        render._md_weights(
            _report(
                weights=[Weight("https://w.example/m.pt", None, "w.example", "README.md")],
                datasets=[Weight(None, "data/x.csv")],
            )
        )
    )
    assert "| `https://w.example/m.pt` | weights | w.example | README.md |" in md
    assert "| `data/x.csv` | data set | — | — |" in md


def test_findings_leave_out_what_the_risks_table_says() -> None:
    r = _report(
        risks=[Risk("pickle", "error", "loads a pickle", "m.pkl")],
        findings=[
            Finding("risks", "error", "Pickle", "loads a pickle", "m.pkl"),
            Finding("license", "warning", "No license", "none"),
        ],
    )
    assert "loads a pickle" in "\n".join(render._md_risks(r))
    findings = "\n".join(render._md_findings(r))
    assert "No license" in findings and "Pickle" not in findings


def test_primary_and_other_frameworks_are_split_by_role() -> None:
    r = _report(frameworks=[Framework("torch", ">=2"), Framework("onnx", role="optional")])
    assert render._primary_frameworks(r, str) == "torch >=2"
    assert render._other_frameworks(r, str) == "onnx (optional)"
    assert "  Also used   onnx (optional)" in render._text_summary(r)


def test_text_findings_group_identical_ones_with_their_places() -> None:
    f = [Finding("x", "warning", "T", "m", "a.py", 3), Finding("x", "warning", "T", "m", "b.py")]
    assert render._text_findings(_report(findings=f)) == [
        "",
        "  WARNING T: m (2 places: a.py:3, b.py)",
    ]
