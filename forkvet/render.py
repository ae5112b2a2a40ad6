"""Render a Report as Markdown (issues, check runs, job summaries) or a terminal summary."""

from __future__ import annotations

from collections.abc import Callable

from forkvet.citing import citation_line
from forkvet.escape import md_code, md_fence, md_inline, terminal
from forkvet.report import Finding, Report

# GitHub caps a check run summary at 65,535 characters; leave room for the App's additions.
MARKDOWN_LIMIT = 60_000
MAX_ROWS = 40


def _commercial(value: bool | None) -> str:
    return {True: "allowed", False: "not allowed", None: "unclear"}[value]


def verdict(report: Report) -> tuple[str, str]:
    """(status, one-line verdict). status: 'fail' | 'warn' | 'pass'."""
    errors = sum(f.severity == "error" for f in report.findings)
    warnings = sum(f.severity == "warning" for f in report.findings)
    lic = report.license
    parts = [
        f"{lic.spdx or 'no license'} ({lic.category}, commercial use "
        f"{_commercial(lic.commercial_use)})"
    ]
    if report.frameworks:
        # Roles sort primary first (report.frameworks is ordered by the check).
        fw = report.frameworks[0]
        parts.append(f"{fw.name}{' ' + fw.version_spec if fw.version_spec else ''}")
    if report.python.recommended:
        majors = "/".join(str(m) for m in report.python.majors)
        parts.append(f"Python {report.python.recommended} (Python {majors} code)")
    if errors:
        status, head = "fail", f"{errors} error(s)"
    elif warnings:
        status, head = "warn", f"{warnings} warning(s)"
    else:
        status, head = "pass", "no problems found"
    return status, f"{head} — " + " · ".join(parts)


def _esc(cell: object) -> str:
    # Cells are Markdown already escaped by forkvet.escape; this only keeps the table whole
    # (GitHub splits cells on every unescaped pipe, even inside code spans).
    return str(cell).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows[:MAX_ROWS]:
        out.append("| " + " | ".join(_esc(c) for c in row) + " |")
    if len(rows) > MAX_ROWS:
        out.append(f"| … {len(rows) - MAX_ROWS} more | " + " | " * (len(headers) - 1))
    return out


def _where(path: str | None, line: int | None, empty: str) -> str:
    if not path:
        return empty
    return md_code(f"{path}:{line}" if line else path)


def _declared(name: str, spec: str) -> str:
    """`torch>=1.7`; a VCS or URL requirement apart from its name, as code, so the URL stays
    one you can copy: clip (`clip @ git+https://…`)."""
    if not spec or spec[0] in "<>=!~[;,( ":
        return md_inline(f"{name}{spec}")
    if "://" in spec and not spec.startswith(name):
        spec = f"{name} @ {spec}"  # the URL alone (the report's spec): as a requirement line
    return f"{md_inline(name)} ({md_code(spec)})"


def to_markdown(report: Report) -> str:
    """The report as Markdown: a verdict line, then one section per part of the report."""
    md: list[str] = [*_md_head(report), *_md_license(report), *_md_code(report)]
    for section in _MD_SECTIONS:
        md += section(report)
    md += _md_foot(report)
    text = "\n".join(md)
    if len(text) > MARKDOWN_LIMIT:
        text = text[:MARKDOWN_LIMIT] + "\n\n… (truncated; see the JSON report)\n"
    return text


def _md_head(r: Report) -> list[str]:
    status, line = verdict(r)
    icon = {"fail": "❌", "warn": "⚠️", "pass": "✅"}[status]
    repo = r.repo
    return [
        f"{icon} **forkvet**: {md_inline(line, limit=None)}",
        "",
        f"Repository **{md_inline(repo.name)}**"
        + (f" at {md_code(repo.commit[:12])}" if repo.commit else "")
        + (f" ({md_inline(repo.commit_date[:10])})" if repo.commit_date else ""),
    ]


def _md_license(r: Report) -> list[str]:
    lic = r.license
    md = ["", "### License", ""]
    md += _table(
        ["License", "SPDX", "Category", "Commercial use", "Confidence"],
        [
            [
                md_inline(lic.name),
                md_inline(lic.spdx or "—"),
                md_inline(lic.category),
                _commercial(lic.commercial_use),
                f"{lic.confidence:.0%}",
            ]
        ],
    )
    if lic.obligations:
        md += ["", "What you must do: " + "; ".join(map(md_inline, lic.obligations)) + "."]
    if lic.governs_reason:
        md += ["", f"Decided by: {md_inline(lic.governs_reason)}."]
    others = [m for m in lic.all if m.spdx != lic.spdx]
    if others:
        md += [
            "",
            "Also found: "
            + ", ".join(f"{md_inline(m.name)} ({md_code(m.path)})" for m in others[:8]),
        ]
    return md


def _md_code(r: Report) -> list[str]:
    py = r.python
    rows: list[list[object]] = [
        [
            "Languages",
            ", ".join(f"{md_inline(lang.name)} ({lang.lines} lines)" for lang in r.languages[:5])
            or "—",
        ],
        [
            "Python",
            md_inline(
                f"{'/'.join(map(str, py.majors)) or '—'}; recommended {py.recommended or '—'}"
                f" (min {py.min_version or '—'}, max {py.max_version or '—'})"
            ),
        ],
        ["Frameworks", _primary_frameworks(r, md_inline) or "—"],
        [
            "Checklist",
            f"{r.checklist.score}/5: "
            + ", ".join(
                ("✓ " if i.present else "✗ ") + md_inline(i.name) for i in r.checklist.items
            ),
        ],
    ]
    if any(fw.role != "primary" for fw in r.frameworks):
        # Export targets, optional imports and helper libraries, apart from what you install.
        rows.insert(3, ["Also used", _other_frameworks(r, md_inline)])
    md = ["", "### Code", "", *_table(["", ""], rows)]
    if py.evidence:
        md += ["", "<details><summary>Python evidence</summary>", ""]
        md += [f"- {md_code(e)}" for e in py.evidence] + ["", "</details>"]
    return md


def _md_dependencies(r: Report) -> list[str]:
    deps = r.dependencies
    return [
        "",
        "### Dependencies",
        "",
        *_table(
            ["", ""],
            [
                ["Declared in", ", ".join(map(md_code, deps.files)) or "nothing"],
                [
                    "Declared",
                    ", ".join(_declared(n, deps.declared_specs.get(n, "")) for n in deps.declared)
                    or "—",
                ],
                ["Imported", ", ".join(map(md_inline, deps.imported)) or "—"],
                ["Missing", ", ".join(map(md_inline, deps.missing)) or "—"],
                ["Unused", ", ".join(map(md_inline, deps.unused)) or "—"],
            ],
        ),
    ]


def _md_how_to_run(r: Report) -> list[str]:
    ep = r.entry_points
    if not (ep.train or ep.test or ep.commands):
        return []
    md = ["", "### How to run it", ""]
    if ep.train:
        md.append("Training: " + ", ".join(md_code(e.path) for e in ep.train[:6]))
    if ep.test:
        md.append("Test/eval/demo: " + ", ".join(md_code(e.path) for e in ep.test[:6]))
    if ep.prepare:
        md.append("Data preparation: " + ", ".join(md_code(e.path) for e in ep.prepare[:6]))
    cmds = [c for c in ep.commands if c.kind != "install"][:8]
    if cmds:
        commands = "\n".join(" ".join(c.command.split()) for c in cmds)
        md += ["", "Documented commands:", "", md_fence(commands, "sh")]
    return md


def _md_weights(r: Report) -> list[str]:
    if not (r.weights or r.datasets):
        return []
    rows: list[list[object]] = [
        [
            md_code(w.url) if w.url else md_code(w.path or ""),
            what,
            md_inline(w.host or "—"),
            md_inline(w.source or "—"),
        ]
        for what, links in (("weights", r.weights), ("data set", r.datasets))
        for w in links
    ]
    return [
        "",
        "### Weights and data",
        "",
        *_table(["Link or file", "What", "Where", "Found in"], rows),
    ]


def _md_citation(r: Report) -> list[str]:
    c = r.citation
    if not c:
        return []
    md = ["", "### Citation", ""]
    md.append(md_inline(citation_line(c) or "cite the repository by its URL", limit=None))
    if c.get("bibtex"):
        md += ["", "<details><summary>BibTeX</summary>", "", md_fence(c["bibtex"], "bibtex")]
        md += ["", "</details>"]
    return md


def _md_risks(r: Report) -> list[str]:
    if not r.risks:
        return []
    rows: list[list[object]] = [
        [
            md_inline(k.severity),
            md_inline(k.kind),
            _where(k.path, k.line, "—"),
            md_inline(k.message),
        ]
        for k in r.risks
    ]
    return [
        "",
        "### Risks of running it",
        "",
        *_table(["Severity", "Risk", "Where", "Detail"], rows),
    ]


def _md_findings(r: Report) -> list[str]:
    # A risk's finding repeats its row in the Risks table above: listed once, there (an
    # accepted one stays here, where its acceptance is said).
    findings = [
        f for f in r.sorted_findings() if not (f.check == "risks" and r.risks and not f.accepted)
    ]
    if not findings:
        return []
    rows: list[list[object]] = [
        [
            md_inline(f.severity),
            md_inline(f.check),
            md_inline(f"{f.title}: {f.message}", limit=600),
            _where(f.path, f.line, ""),
        ]
        for f in findings
    ]
    return ["", "### Findings", "", *_table(["Severity", "Check", "Finding", "Where"], rows)]


def _md_foot(r: Report) -> list[str]:
    return [
        "",
        f"<sub>forkvet {md_inline(r.forkvet_version)} · report schema "
        f"{md_inline(r.schema_version)} · static "
        f"analysis only: no code from the repository was run.</sub>",
        "",
    ]


_MD_SECTIONS: tuple[Callable[[Report], list[str]], ...] = (
    _md_dependencies,
    _md_how_to_run,
    _md_weights,
    _md_citation,
    _md_risks,
    _md_findings,
)


def to_text(report: Report) -> str:
    """A terminal summary: the verdict, one aligned line per part, then grouped findings."""
    status, line = verdict(report)
    out = [f"forkvet: {status.upper()}: {line}", ""]
    out += _text_summary(report)
    out += _text_findings(report)
    # Repository text must not act on the terminal or the CI log: every line is one line,
    # with control characters and ANSI escapes shown, not obeyed.
    return "\n".join(terminal(line) for line in out) + "\n"


def _text_summary(r: Report) -> list[str]:
    lic, py, d, ep = r.license, r.python, r.dependencies, r.entry_points
    out = [
        f"  License     {lic.name} [{lic.spdx or '-'}] {lic.category}, commercial use "
        f"{_commercial(lic.commercial_use)} ({lic.confidence:.0%})"
    ]
    if lic.obligations:
        out.append("              must: " + "; ".join(lic.obligations[:4]))
    out.append(
        "  Languages   "
        + (", ".join(f"{lang.name} {lang.lines}" for lang in r.languages[:5]) or "-")
    )
    out.append(
        f"  Python      {'/'.join(map(str, py.majors)) or '-'} → use {py.recommended or '-'}"
        f" (min {py.min_version or '-'}, max {py.max_version or '-'})"
    )
    out.append("  Frameworks  " + (_primary_frameworks(r, str) or "-"))
    if any(fw.role != "primary" for fw in r.frameworks):
        out.append("  Also used   " + _other_frameworks(r, str))
    out.append(
        f"  Deps        {len(d.declared)} declared, {len(d.imported)} imported, "
        f"missing: {_some(d.missing, 8)}"
    )
    out.append("  Train       " + _some([e.path for e in ep.train], 4))
    out.append("  Test/demo   " + _some([e.path for e in ep.test], 4))
    out.append(f"  Weights     {len(r.weights)} link(s)/file(s)")
    if r.datasets:
        out.append(f"  Datasets    {len(r.datasets)} link(s)")
    if ep.prepare:
        out.append("  Prepare     " + _some([e.path for e in ep.prepare], 4))
    if r.citation:
        out.append(f"  Citation    {citation_line(r.citation)[:200] or 'yes'}")
    out.append(f"  Checklist   {r.checklist.score}/5")
    return out


def _text_findings(r: Report) -> list[str]:
    groups = _grouped(r.sorted_findings())
    if not groups:
        return []
    out = [""]
    for severity, title, message, places in groups[:MAX_TEXT_FINDINGS]:
        out.append(f"  {severity.upper():7} {title}: {message}{_places(places)}")
    if len(groups) > MAX_TEXT_FINDINGS:
        out.append(f"  … +{len(groups) - MAX_TEXT_FINDINGS} more (see --format markdown or json)")
    return out


def _primary_frameworks(r: Report, show: Callable[[str], str]) -> str:
    """What you install: "torch >=1.7, torchvision"."""
    return ", ".join(
        show(f"{fw.name} {fw.version_spec or ''}".strip())
        for fw in r.frameworks
        if fw.role == "primary"
    )


MAX_TEXT_FINDINGS = 30


def _some(items: list[str], limit: int) -> str:
    """ "a, b, c +3 more": a cut list says how much it left out."""
    if not items:
        return "-"
    extra = len(items) - limit
    return ", ".join(items[:limit]) + (f" +{extra} more" if extra > 0 else "")


def _grouped(findings: list[Finding]) -> list[tuple[str, str, str, list[str]]]:
    """Identical findings (severity, title, message) as one line with their places, in the
    findings' order (errors first)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for f in findings:
        places = groups.setdefault((f.severity, f.title, f.message), [])
        if f.path:
            places.append(f"{f.path}:{f.line}" if f.line else f.path)
    return [(*key, places) for key, places in groups.items()]


def _places(places: list[str]) -> str:
    if not places:
        return ""
    if len(places) == 1:
        return f" ({places[0]})"
    return f" ({len(places)} places: {_some(places, 3)})"


def _other_frameworks(r: Report, show: Callable[[str], str]) -> str:
    """Non-primary frameworks with their role: "onnx (optional), transformers (library)"."""
    return ", ".join(show(f"{fw.name} ({fw.role})") for fw in r.frameworks if fw.role != "primary")
