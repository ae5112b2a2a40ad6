"""A file as a program reads it with `open(path).read()`: UTF-8 text, or nothing (round 22).

The template and shell-string passes read every file of the tree for the strings a library
acts on; a loader reading text stops at the first byte that is not UTF-8, so a file that is
not UTF-8 from its first 8 KiB (an image, a PDF, a checkpoint) is refused after one small
read rather than read whole."""

from __future__ import annotations

import codecs

from forkvet.snapshot import FileEntry, Snapshot

_HEAD = 8192


def utf8_text(snap: Snapshot, f: FileEntry, cap: int) -> str | None:
    """The file's text when it is UTF-8 (up to `cap` bytes), else None. OSError when it
    cannot be opened; ValueError when it grew past `cap` since the walk."""
    with snap.open(f.path) as fh:
        head = fh.read(_HEAD)
        try:  # a multi-byte character cut at the head's end is not an error
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            return None
        raw = head + fh.read(cap + 1 - len(head)) if len(head) == _HEAD else head
    if len(raw) > cap:
        raise ValueError("the file grew past its bound")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
