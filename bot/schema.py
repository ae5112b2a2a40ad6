"""The fields of a signed delivery the App reads, with the JSON types and name patterns GitHub
documents for them, checked before any handler decides anything (round 22c L1: only the top
level and `installation.id` were typed: `repository.fork: "false"`, `issue.number: "1"` or
`comment.body: null` were answered 202, and a `full_name` of `../../x` was sent to GitHub's
API as a path). A field absent is left to the handler; a field present must match.

A spec is a type word, a dict (an object's fields: a key ending in `?` may be null), or a
one-item list (an array of that). Type words: `str`, `bool`, `id` (a positive 64-bit
integer), `full_name` (OWNER/NAME as GitHub allows them), `login` (an account's name, an
App's `name[bot]` too), `sha` (40 hex digits), `object`.
"""

from __future__ import annotations

import math
from typing import Any

from forkvet import rx

_USER = {"login": "login", "type": "str", "id": "id"}
_REPO = {
    "id": "id",
    "name": "str",
    "full_name": "full_name",
    "fork": "bool",
    "private": "bool",
    "default_branch": "str",
    "master_branch": "str",
    "owner": _USER,
}
_LISTED = [{"id": "id", "name": "str", "full_name": "full_name", "private": "bool"}]
SCHEMA: dict[str, Any] = {
    "action": "str",
    "installation": {"id": "id"},
    "repository": _REPO,
    "sender": _USER,
    "repositories": _LISTED,
    "repositories_added": _LISTED,
    "ref": "str",
    "before": "str",
    "after": "str",
    "deleted": "bool",
    "commits": [{"id": "str", "message": "str", "distinct": "bool"}],
    "check_run": {"id": "id", "name": "str", "head_sha": "sha"},
    "issue": {
        "number": "id",
        "body?": "str",
        "user": _USER,
        "pull_request?": "object",
    },
    "comment": {"id": "id", "body": "str", "user": _USER, "author_association": "str"},
    "pull_request": {
        "number": "id",
        "merged": "bool",
        "merge_commit_sha?": "sha",
        "labels": [{"name": "str"}],
        "user": _USER,
        "merged_by?": _USER,
    },
    "workflow_run": {
        "id": "id",
        "path": "str",
        "event": "str",
        "head_sha": "sha",
        "head_branch?": "str",
        "conclusion?": "str",
        "html_url": "str",
        "pull_requests": [{"number": "id"}],
        "head_repository?": {"id": "id", "full_name": "full_name"},
    },
    "workflow": {"path": "str"},
}

# GitHub's names: an owner (1-39 letters, digits, hyphens) and a repository (letters, digits,
# `.`, `-`, `_`; never `.` or `..`).
_LOGIN = rx.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38})(?:\[bot\])?")
_NAME = rx.compile(r"[A-Za-z0-9._-]{1,100}")
_SHA = rx.compile(r"[0-9a-f]{40}")


def _word(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return type(value) is bool
    if kind == "id":
        return type(value) is int and 0 < value < 2**63
    if kind == "object":
        return isinstance(value, dict)
    if not isinstance(value, str):
        return False
    if kind == "login":
        return _LOGIN.fullmatch(value) is not None
    if kind == "sha":
        return _SHA.fullmatch(value) is not None
    owner, slash, name = value.partition("/")  # full_name
    return (
        bool(slash)
        and _LOGIN.fullmatch(owner) is not None
        and _NAME.fullmatch(name) is not None
        and name not in (".", "..")
    )


def mismatch(payload: dict[str, Any], schema: dict[str, Any] | None = None) -> str | None:
    """The first field (a dotted path) whose value is not what the schema says, or None."""
    stack: list[tuple[str, Any, Any]] = [("", payload, schema or SCHEMA)]
    while stack:
        path, value, spec = stack.pop()
        if isinstance(spec, str):
            if not _word(spec, value):
                return path
        elif isinstance(spec, list):
            if not isinstance(value, list):
                return path
            stack += [(f"{path}[{i}]", item, spec[0]) for i, item in enumerate(value)]
        else:
            if not isinstance(value, dict):
                return path
            for key, sub in spec.items():
                name = key.removesuffix("?")
                if name not in value or (key.endswith("?") and value[name] is None):
                    continue
                stack.append((f"{path}.{name}".lstrip("."), value[name], sub))
    return None


def finite(value: Any) -> bool:
    """Whether every number is finite (Python's JSON reads `NaN` and `1e999999`, which no
    GitHub field holds). An iterative walk."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += item.values()
        elif isinstance(item, list):
            stack += item
        elif isinstance(item, float) and not math.isfinite(item):
            return False
    return True
