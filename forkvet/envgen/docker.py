"""The framework version a repository's Dockerfile builds on:
`FROM tensorflow/tensorflow:1.12.0-py3` or `FROM pytorch/pytorch:1.7.1-cuda11.0-cudnn8-runtime`
is the release the authors ran."""

from __future__ import annotations

from packaging.version import InvalidVersion

from forkvet import rx, safeparse
from forkvet.snapshot import Snapshot

_FROM = rx.compile(
    r"(?im)^\s*FROM\s+(?:--platform=\S+\s+)?(?:docker\.io/)?"
    r"(tensorflow/tensorflow|pytorch/pytorch):(\d+\.\d+(?:\.\d+)?)\b"
)
_FRAMEWORK = {"tensorflow/tensorflow": "tensorflow", "pytorch/pytorch": "pytorch"}
_MAX_BYTES = 64 * 1024


def dockerfile_versions(snap: Snapshot) -> dict[str, tuple[str, str]]:
    """framework name -> (version, where), from Dockerfiles in the top two folders."""
    out: dict[str, tuple[str, str]] = {}
    for f in snap.files:
        if not f.name.startswith("Dockerfile") or f.path.count("/") > 1:
            continue
        text = (snap.read_text(f.path) or "")[:_MAX_BYTES]
        for m in _FROM.finditer(text):
            try:
                safeparse.version(m.group(2))
            except InvalidVersion:
                continue
            line = text.count("\n", 0, m.start()) + 1
            out.setdefault(_FRAMEWORK[m.group(1)], (m.group(2), f"{f.path}:{line}"))
    return out
