"""Accepted findings: a finding someone reviewed becomes a note, shown as accepted, never
silently dropped, and no longer counts toward the verdict.

Acceptances come from the operator's policy only (`--config FILE`, the App's policy), never
from the vetted repository: a fork's files are the upstream author's, and a hostile upstream
must not be able to accept its own pickle. `tighten()` drops a repository file's `accept:`
by construction, and `forkvet vet` says so in a notice.

    accept:
      - rule: risks/torch-load          # the SARIF rule id (forkvet vet --format sarif)
        path: train.py                  # repository-relative, exact
        reason: loads only our own checkpoints, reviewed in PR 12
        by: alice                       # optional: who accepted it
        until: 2027-03-31               # optional: due again after this date
        sha256: 9f86d0…                 # optional: due again when the file changes
                                        # (required, or blob, for pickle/code-in-data rules)
      - fingerprint: 3f0c…              # or the result's partialFingerprints["forkvet/v1"]
        reason: …
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forkvet import fstree, rx
from forkvet.errors import InputError
from forkvet.report import Finding, Report

if TYPE_CHECKING:
    from forkvet.snapshot import Snapshot

MAX_ACCEPTANCES = 1000
_KEYS = ("rule", "path", "reason", "by", "at", "until", "sha256", "blob", "fingerprint")


@dataclass
class Acceptance:
    reason: str
    rule: str | None = None
    path: str | None = None
    by: str | None = None
    at: str | None = None  # when it was accepted (ISO 8601), as the App records it
    until: date | None = None
    sha256: str | None = None
    blob: str | None = None  # the file's git blob id (`git hash-object FILE`)
    fingerprint: str | None = None

    def describe(self) -> str:
        who = f" by {self.by}" if self.by else ""
        who += f" on {self.at[:10]}" if self.at else ""
        until = f" until {self.until.isoformat()}" if self.until else ""
        return f"accepted{who}{until}: {self.reason}"


def parse(value: Any, source: str) -> list[Acceptance]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{source}: accept must be a list of entries")
    if len(value) > MAX_ACCEPTANCES:
        raise InputError(f"{source}: accept has more than {MAX_ACCEPTANCES} entries")
    return [_entry(item, f"{source}: accept[{i}]") for i, item in enumerate(value)]


def _entry(item: Any, where: str) -> Acceptance:
    if not isinstance(item, dict):
        raise InputError(f"{where} must be a mapping (rule, path, reason, until)")
    unknown = [str(k) for k in item if k not in _KEYS]
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")
    text = {k: item.get(k) for k in _KEYS}
    for key in ("rule", "path", "reason", "by", "at", "sha256", "blob", "fingerprint"):
        if text[key] is not None and not isinstance(text[key], str):
            raise InputError(f"{where}.{key} must be a string")
    reason = (text["reason"] or "").strip()
    if not reason:
        raise InputError(f"{where}: a reason is required (why the finding is acceptable)")
    if not text["fingerprint"] and not (text["rule"] and text["path"]):
        raise InputError(f"{where}: give rule and path, or fingerprint")
    sha = text["sha256"]
    if sha is not None and not rx.fullmatch(r"[0-9a-fA-F]{64}", sha):
        raise InputError(f"{where}.sha256 must be 64 hex digits")
    blob = text["blob"]
    if blob is not None and not rx.fullmatch(r"[0-9a-fA-F]{40}", blob):
        raise InputError(f"{where}.blob must be a git blob id (40 hex digits)")
    return Acceptance(
        reason=reason,
        rule=text["rule"],
        path=text["path"].strip("/") if text["path"] else None,
        by=text["by"],
        at=text["at"],
        blob=blob.lower() if blob else None,
        until=_date(item.get("until"), f"{where}.until"),
        sha256=sha.lower() if sha else None,
        fingerprint=text["fingerprint"],
    )


def _date(value: Any, where: str) -> date | None:
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(f"{where} must be a date (YYYY-MM-DD)") from exc


def file_sha256(root: Path, path: str) -> str | None:
    """sha256 of a regular file in the tree, or of a link's target text (never through a
    link); None when absent."""
    return _digest(root, path, hashlib.sha256())


def file_blob(root: Path, path: str) -> str | None:
    """The file's git blob id, as `git hash-object` and GitHub's contents API give it (a
    link's blob is its target's text, as git stores a link: where it leads is what a link
    acceptance binds, round 21a F3)."""
    try:
        size = (root / path).lstat().st_size
    except OSError:
        return None
    return _digest(root, path, hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False))


def _digest(root: Path, path: str, digest: Any) -> str | None:
    target = root / path
    try:
        if target.is_symlink():
            if not target.parent.resolve().is_relative_to(root.resolve()):
                return None  # through a linked folder: not the repository's link
            digest.update(os.readlink(target).encode("utf-8", "surrogateescape"))
            return str(digest.hexdigest())
        if not target.is_file():
            return None
        if not target.resolve().is_relative_to(root.resolve()):
            return None  # through a linked folder: not the repository's file
        with target.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return str(digest.hexdigest())
    except OSError:
        return None


def apply(
    report: Report,
    accepted: list[Acceptance],
    root: Path | None = None,
    today: date | None = None,
    trial: Acceptance | None = None,
    files: list[str] | None = None,
) -> str | None:
    """Turn accepted findings into notes that say so; warn about expired acceptances and
    files changed since; note acceptances that match nothing (the finding is gone).

    `trial`, an acceptance being made (the App's `/forkvet accept`), is applied after the
    others, which it replaces where it names the same rule and path; None is returned when
    it accepted a finding, else why not — then it leaves no notice of its own, and the caller
    records nothing (round 21c F5: an acceptance that matched nothing was answered
    "accepted")."""
    from forkvet.sarif import finding_fingerprint, rule_id

    if root is not None:
        pin(report, root, files)
    if trial is not None:
        accepted = [a for a in accepted if (a.rule, a.path) != (trial.rule, trial.path)]
    entries = accepted + ([trial] if trial else [])
    if not entries:
        return None
    today = today or datetime.now(UTC).date()
    used: set[int] = set()
    out: list[Finding] = []
    extra: list[Finding] = []
    why: str | None = "it matches no finding of the report"
    for f in report.findings:
        rule, fp = rule_id(f), finding_fingerprint(report, f)
        match = _match(entries, f, rule, fp)
        if match is None:
            out.append(f)
            continue
        i, a = match
        used.add(i)
        due = _due(a, f, root, today, by_fingerprint=a.fingerprint == fp)
        if a is trial and why:
            why = due
        if due:
            out.append(f)
            extra.append(Finding("accept", "warning", "Acceptance no longer applies", due, f.path))
            continue
        out.append(_accepted(f, a, rule, fp))
    report.findings = out + extra + _unused(accepted, used)
    return why if trial is not None else None


def _match(
    accepted: list[Acceptance], f: Finding, rule: str, fp: str
) -> tuple[int, Acceptance] | None:
    """The first acceptance naming the finding by fingerprint, or by rule and exact path."""
    return next(
        (
            (i, a)
            for i, a in enumerate(accepted)
            if (a.fingerprint == fp) or (a.rule == rule and a.path == (f.path or "").strip("/"))
        ),
        None,
    )


def _accepted(f: Finding, a: Acceptance, rule: str, fp: str) -> Finding:
    """The finding as an accepted note that keeps what it was."""
    return dataclasses.replace(
        f,
        severity="notice",
        title=f"Accepted: {f.title}",
        message=f"{f.message} [{a.describe()}; was {f.severity}]",
        accepted={
            "reason": a.reason,
            "by": a.by,
            "at": a.at,
            "until": a.until.isoformat() if a.until else None,
            "severity": f.severity,
            "rule": rule,
            "fingerprint": fp,
        },
    )


def _unused(accepted: list[Acceptance], used: set[int]) -> list[Finding]:
    return [
        Finding(
            "accept",
            "notice",
            "Acceptance matches no finding",
            f"{a.fingerprint or f'{a.rule} {a.path}'} ({a.reason}) matches no finding any "
            f"more: remove it from the policy",
            a.path,
        )
        for i, a in enumerate(accepted)
        if i not in used
    ]


# Findings about what a file holds (the imports of a pickle, the code in a config, the
# repository a config's auto_map names, where a link leads): a file swapped under the same
# path is another finding. An acceptance of one by rule and path applies only while the file
# is the one reviewed (sha256 or blob; a link's is its target's text, as git stores it); a
# fingerprint binds the finding's content pin. The table (forkvet/data/accept_pins.json) says
# what each rule's reviewer reviewed (round 17a F6: a model-class checkpoint swapped for one
# calling imp.load_source stayed accepted; round 21a F3: an `auto_map` repointed to another
# repository and a link repointed to ~/.ssh stayed accepted by rule and path).
PINNED_RULES = frozenset(
    json.loads(resources.files("forkvet.data").joinpath("accept_pins.json").read_text("utf-8"))[
        "rules"
    ]
)


def _due(
    a: Acceptance, f: Finding, root: Path | None, today: date, by_fingerprint: bool = False
) -> str | None:
    """Why the acceptance no longer holds (expired, file changed), or None."""
    if a.until is not None and today > a.until:
        return (
            f"the acceptance of {rule_text(a, f)} expired on {a.until.isoformat()} "
            f"({a.reason}); review the finding again"
        )
    if rule_text(a, f) in PINNED_RULES and not by_fingerprint:
        if not (a.sha256 or a.blob):
            return (
                f"an acceptance of {a.rule} by rule and path must name the file reviewed "
                f"(blob: `git hash-object {f.path}`, or sha256): another file under that "
                f"path would be accepted too ({a.reason}); review the finding again"
            )
        if root is None:
            return f"{f.path} could not be compared with the file accepted ({a.reason})"
    if (a.sha256 or a.blob) and f.path and root is not None:
        same = (not a.sha256 or file_sha256(root, f.path) == a.sha256) and (
            not a.blob or file_blob(root, f.path) == a.blob
        )
        if not same:
            return (
                f"{f.path} changed since {rule_text(a, f)} was accepted ({a.reason}); "
                f"review the finding again"
            )
    return None


def rule_text(a: Acceptance, f: Finding) -> str:
    from forkvet.sarif import rule_id

    return a.rule or rule_id(f)


# What a fingerprint of a data finding binds (outside attack, round 20a F12: a checkpoint
# and the class it names, both swapped under the same names, stayed accepted by fingerprint,
# since its message names imports by spelling): the file's bytes, and every repository file
# an import the finding names may resolve to — each module file (`.py`, `.pyc`, `.so`, …)
# under a folder, or of a stem, that is the top-level name of a dotted name in the message
# (`nets` of `nets.model.Net`; a dotted name that is no import only widens the binding). A
# message that names imports by a digest ("and 3 more") binds every module file.
_PIN_MAX_BYTES = 256 << 20
_CODE_SUFFIXES = (".py", ".pyw", ".pyc", ".so", ".pyd")


def pin(report: Report, root: Path, files: list[str] | None = None) -> None:
    """Set the content pin of every finding of a PINNED_RULES rule that names a file.
    `files`: the tree's files as the vet's snapshot listed them (snapshot_files); None walks
    the tree, once, when a finding needs it."""
    from forkvet.sarif import rule_id

    for f in report.findings:
        if f.pin or not f.path or f.accepted or rule_id(f) not in PINNED_RULES:
            continue
        if files is None:
            files = _tree(root)
        f.pin = _pin_of(root, f, files)


def snapshot_files(snap: Snapshot) -> list[str] | None:
    """The files a pin may bind, from the vet's snapshot instead of a second walk of the tree:
    every file of the tree outside `.git` (under their names on disk; an alias, a file
    reached through an in-tree link, under its own name, as Python imports it), and the
    links that leave the tree. None when the snapshot stopped at its file-count cut (then
    the tree is walked)."""
    if snap.truncated:
        return None
    names = [
        e.path if e.via or not e.disk else os.fsdecode(e.disk)
        for e in (*snap.files, *snap.skipped, *snap.linked_out)
    ]
    return sorted({*names, *snap.links_out})


def _tree(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, dirnames, filenames in fstree.walk(root):  # any depth (no recursion)
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        rel = os.path.relpath(dirpath, root)
        out += [n if rel == "." else f"{rel}/{n}" for n in sorted(filenames)]
    return sorted(out)  # the order snapshot_files gives: one pin whichever listed the files


def _pin_of(root: Path, f: Finding, files: list[str]) -> str:
    # the dotted names a message gives imports by (`nets.model.Net`, `my-mod.f`)
    tops = {w.split(".", 1)[0] for w in rx.findall(r"[\w-]+(?:\.[\w-]+)+", f.message)}
    every = " more (imports " in f.message
    digest = hashlib.sha256()
    left = _PIN_MAX_BYTES
    for path in [f.path or "", *files]:
        *folders, name = path.split("/")
        code = name.endswith(_CODE_SUFFIXES)  # what an import may resolve to
        if path != f.path and not (
            code and (every or set(folders) & tops or name.split(".", 1)[0] in tops)
        ):
            continue
        data = _read(root, path, left)
        if data is None:
            return "unbound: " + os.urandom(16).hex()  # over the bound: never accepted
        left -= len(data)
        digest.update(f"{path}\0{len(data)}\0".encode("utf-8", "surrogateescape") + data)
    return digest.hexdigest()[:32]


def _read(root: Path, path: str, left: int) -> bytes | None:
    """The file's bytes (a link's target, as text; "" where absent), None past the bound."""
    target = root / path
    try:
        if target.is_symlink():
            return os.readlink(target).encode("utf-8", "surrogateescape")
        if not target.is_file():
            return b""
        if target.stat().st_size > left:
            return None
        return target.read_bytes()[: left + 1]
    except OSError:
        return b""
