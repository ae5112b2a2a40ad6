"""Credentials never leave forkvet in what it writes: every URL's userinfo and password-like
query values are removed from every output, whatever produced the text.

The user's index configuration (`UV_DEFAULT_INDEX=https://user:token@mirror/simple/`, a
`--extra-index-url` with a token, a user uv.toml) reaches many places: file URLs joined onto the
index URL, the sources written into requirements.txt, messages. Rather than remember each of
them, the places text leaves forkvet apply `redact`: `forkvet.safe_write` (every file written
into an output folder or `--output`), the CLI's standard output and error streams, the logs
opened through `safe_write`, and the App's setup pull request (`forkvet.github.pulls`).
pip and uv read credentials from netrc, a keyring or the environment, so a URL without them
still works for the user who has them.

What is kept: a user name alone on an ssh URL (`ssh://git@host/…` names the account, it is no
secret). Everything else before an `@` in a URL's authority goes, the password and a bare token
(`https://TOKEN@host/`) alike.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast

from forkvet import rx

# scheme://userinfo@ : the userinfo runs up to the last "@" before the path (as urllib
# splits it), so a user name holding "@" goes whole.
_USERINFO = rx.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#\s\"'<>]*)@")
# ?name=value / &name=value where the name says it is a secret (token, password, signature,
# key, credential: S3/Azure signed URLs, API keys, OAuth tokens).
_SECRET_QUERY = rx.compile(
    r"(?i)([?&](?:[a-z0-9_.-]*(?:token|passw|secret|signature|credential|key)[a-z0-9_.-]*"
    r"|sig|pwd|auth)=)[^&#\s\"'<>]+"
)
_SSH = ("ssh://", "git+ssh://", "ssh+git://", "svn+ssh://")
MARK = "***"


def _userinfo(m: rx.Match[str]) -> str:
    scheme, info = m.group(1), m.group(2)
    if scheme.lower() in _SSH and ":" not in info:
        return m.group(0)  # an account name, not a secret
    return scheme


def redact(text: str) -> str:
    """text without credentials in any URL it contains."""
    if "@" in text:
        text = _USERINFO.sub(_userinfo, text)
    if "=" in text:
        text = _SECRET_QUERY.sub(r"\1" + MARK, text)
    return text


def redact_bytes(data: bytes) -> bytes:
    """The same for bytes (UTF-8 text; other bytes pass through unchanged)."""
    if b"@" not in data and b"=" not in data:
        return data
    text = data.decode("utf-8", "surrogateescape")
    return redact(text).encode("utf-8", "surrogateescape")


def had_credentials(url: str) -> bool:
    """Does url carry something redact removes?"""
    return redact(url) != url


class RedactedStream:
    """A text stream (standard output or error) whose writes pass redact."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, s: str) -> int:
        return self._stream.write(redact(s))

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, buffer, encoding…
        return getattr(self._stream, name)


@contextmanager
def redacted_streams() -> Iterator[None]:
    """While it lasts, everything printed to standard output and error is redacted."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, RedactedStream(out))
    sys.stderr = cast(TextIO, RedactedStream(err))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
