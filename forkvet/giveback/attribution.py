"""ATTRIBUTION.md (and NOTICE when the license asks for one): who made the code, under which
license, how to cite it, and what this fork changed."""

from __future__ import annotations

from pathlib import Path

from forkvet import rx
from forkvet.citing import paper
from forkvet.escape import md_code, md_fence, md_inline
from forkvet.report import Report
from forkvet.safe_write import OutputDir
from forkvet.snapshot import Snapshot
from forkvet.vet.copyright import notice_lines

_COMMERCIAL = {True: "allowed", False: "not allowed", None: "unclear"}


def copyright_lines(snap: Snapshot, limit: int = 20) -> list[str]:
    """The notices, each once: "Copyright (c) 2019 ACME" and "copyright (C) 2019 Acme" are
    one holder (the first spelling is kept)."""
    seen: dict[str, str] = {}
    for line in notice_lines(snap, limit):
        seen.setdefault(" ".join(line.casefold().replace("(c)", "©").split()), line)
    return list(seen.values())


def upstream_base(repo: Path) -> str | None:
    """The upstream commit the fork started from: the merge base with the fetched upstream."""
    from forkvet.giveback.gitops import UPSTREAM_REF, git

    proc = git(repo, "merge-base", UPSTREAM_REF, "HEAD", check=False)
    sha = proc.stdout.strip()
    return sha if proc.returncode == 0 and rx.fullmatch(r"[0-9a-f]{40,64}", sha) else None


def vendored_licenses(report: Report) -> list[str]:
    return [
        f"{m.path}: {m.name}" for m in report.license.all if m.source == "file" and "/" in m.path
    ]


def needs_notice(report: Report, snap: Snapshot) -> bool:
    spdx = report.license.spdx or ""
    return "Apache-2.0" in spdx and any(f.name.upper().startswith("NOTICE") for f in snap.top_level)


def attribution_md(
    report: Report,
    snap: Snapshot,
    upstream: str | None,
    changed: list[tuple[str, str]] | None,
    base_commit: str | None = None,
) -> str:
    """base_commit: the upstream commit the fork started from (merge base). With an upstream
    but no base, no commit is named: the vetted HEAD is the fork's, not upstream's."""
    name = upstream or report.repo.remote or report.repo.name
    commit = base_commit if upstream else (base_commit or report.repo.commit)
    lines = [
        "# Attribution",
        "",
        f"This project builds on **{md_inline(name)}**"
        + (f", at commit {md_code(commit)}" if commit else "")
        + ".",
        *_license_section(report),
        *_copyright_section(snap),
        *_citation_section(report),
        *_vendored_section(report),
        *_changes_section(changed),
    ]
    return "\n".join(lines) + "\n"


def _license_section(report: Report) -> list[str]:
    lic = report.license
    lines = [
        "",
        "## License",
        "",
        f"- {md_inline(lic.name)} ({md_code(lic.spdx or 'no license')}), category "
        f"{md_inline(lic.category)}, "
        f"commercial use {_COMMERCIAL[lic.commercial_use]}",
    ]
    if lic.files:
        lines.append(
            f"- Full text: {', '.join(map(md_code, lic.files))} in the original repository"
        )
    lines += ["", "What the license asks of you:", ""]
    return lines + (
        [f"- {md_inline(o)}" for o in lic.obligations] or ["- nothing beyond this note"]
    )


def _copyright_section(snap: Snapshot) -> list[str]:
    holders = copyright_lines(snap)
    return ["", "## Copyright", "", *[f"- {md_inline(h)}" for h in holders]] if holders else []


def _citation_section(report: Report) -> list[str]:
    if not report.citation:
        return []
    c = paper(report.citation)
    lines = ["", "## Authors and citation", ""]
    if c.title:
        lines.append(
            md_inline(c.title) + (f" — {md_inline(', '.join(c.authors[:8]))}" if c.authors else "")
        )
    # Only the repository's own paper, as agreed with its BibTeX (forkvet.citing).
    if c.arxiv:
        lines.append(f"arXiv: {md_inline(c.arxiv)}")
    if c.bibtex:
        lines += ["", md_fence(c.bibtex, "bibtex")]
    return lines


def _vendored_section(report: Report) -> list[str]:
    vendored = vendored_licenses(report)
    if not vendored:
        return []
    return [
        "",
        "## Third-party code inside the repository",
        "",
        *[f"- {md_inline(v)}" for v in vendored],
    ]


def _changes_section(changed: list[tuple[str, str]] | None) -> list[str]:
    lines = ["", "## Changes made in this fork", ""]
    if not changed:
        return [*lines, "- (none yet, or no upstream given: run with --upstream)"]
    labels = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed"}
    return lines + [f"- {labels.get(s, s)}: {md_code(p)}" for s, p in changed[:200]]


def notice_text(snap: Snapshot) -> str:
    notices = [f for f in snap.top_level if f.name.upper().startswith("NOTICE")]
    texts = [snap.read_text(f.path) or "" for f in notices]
    return "\n".join(texts) + "\nThis product includes modifications by the fork's authors.\n"


def write(out: Path, md: str, notice: str | None, repo: Path | None = None) -> list[Path]:
    """Write ATTRIBUTION.md (and NOTICE) into out, never through a link (forkvet.safe_write):
    out is often the fork's own checkout, whose committed symlinks must not choose the target."""
    with OutputDir(out, repo=repo) as folder:
        paths = [folder.write_text("ATTRIBUTION.md", md)]
        if notice:
            paths.append(folder.write_text("NOTICE", notice))
    return paths
