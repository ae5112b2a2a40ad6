"""Is a fork commit a fix worth sending upstream, or specific to this fork?

Signals, in order: already applied upstream (patch-id); the commit message (fix/bug/typo vs
dataset/config/feature); the files it touches (only existing upstream files, or new ones);
whether it only changes configuration or data paths; its size.
"""

from __future__ import annotations

from forkvet import rx
from forkvet.giveback.gitops import Commit

_FIX = rx.compile(
    r"\b(fix(e[sd])?|bug|typo|crash|error|correct|nan|overflow|off[- ]by[- ]one|"
    r"leak|broken|wrong|patch|repair|handle|python ?3|deprecat)",
    rx.I,
)
_SPECIFIC = rx.compile(
    r"\b(dataset|data ?path|our|internal|company|config|hyper-?param|"
    r"experiment|my |local|cluster|wandb|add(ed)? (support|feature)|feature|"
    r"new model|fine-?tun|wip|tmp|temp|debug)",
    rx.I,
)
_CONFIG = rx.compile(r"\.(ya?ml|json|cfg|ini|toml|txt|sh)$|(^|/)configs?/|(^|/)scripts?/", rx.I)
_PATH_LITERAL = rx.compile(r"['\"](/[\w.-]+){2,}|['\"][A-Za-z]:\\\\")


def classify(commit: Commit, diff_text: str = "") -> tuple[str, str]:
    """(classification, reason): fix | fork-specific | already-upstream."""
    if commit.already_upstream:
        return "already-upstream", "an equivalent patch is already upstream (git cherry)"
    msg = f"{commit.subject}\n{commit.body}"
    new_files = [p for s, p in commit.files if s == "A"]
    touched = [p for _, p in commit.files]
    if touched and all(_CONFIG.search(p) for p in touched) and not _FIX.search(msg):
        return "fork-specific", "changes only configuration, scripts or data files"
    if diff_text and _PATH_LITERAL.search(diff_text) and not _FIX.search(commit.subject):
        return "fork-specific", "changes hard-coded data paths"
    if _SPECIFIC.search(msg) and not _FIX.search(commit.subject):
        return "fork-specific", f"the message describes fork-specific work: {commit.subject!r}"
    if new_files and len(new_files) >= len(touched) / 2:
        return "fork-specific", f"adds new files ({', '.join(new_files[:3])}): a new feature"
    if _FIX.search(msg):
        size = commit.insertions + commit.deletions
        if size > 400:
            return "fork-specific", f"a fix, but large ({size} lines): split it before sending"
        return "fix", f"a fix to existing upstream files: {commit.subject!r}"
    return "fork-specific", "no sign of a bug fix in the message"
