"""Base64 pickles in JSON of any size, found token by token (round 21, helper fix21json).

Real data (OLMo's gzipped JSON Lines of accented text, 16 MiB and more) was a `pickle-unverified`
error: the search before the parse fired on any `\\u00XX` escape or on the word "serialized",
and a stream over 16 MiB (or JSON Lines, which json.loads refuses) could not be parsed whole.
Now every string token is found as json.loads would tokenize it, streamed, and only a string a
loader decodes (base64/hex of a pickle or container, a `:serialized:` value) is decoded.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import time

import pytest

from forkvet.vet import jsontokens, pickles

EVIL0 = b"cos\nsystem\n(S'true'\ntR."  # protocol 0: its base64 does not start with gA
EVIL2 = b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
LINE = json.dumps({"query": "Café déjà vu — naïve façade, serialized résumé " * 8}) + "\n"
BIG = 20 << 20


def _lines(total: int = BIG) -> list[str]:
    return [LINE] * (total // len(LINE))


def _scan(data: bytes) -> pickles.FileScan | None:
    return pickles.scan_file(
        io.BytesIO(gzip.compress(data, 1)), "x.jsonl.gz", time.monotonic() + 120
    )


def _imports(scan: pickles.FileScan | None) -> set[tuple[str, str]]:
    return {i for found in (scan.imports.values() if scan else ()) for i in found}


def test_large_json_lines_of_accented_text_are_no_error() -> None:
    scan = _scan("".join(_lines()).encode())
    assert scan is None or not scan.unverified, scan and scan.unverified
    assert not _imports(scan)


def _serialized(escaped: bool) -> str:
    key = "\\u003aserializ\\u0065d:" if escaped else ":serialized:"
    value = base64.b64encode(EVIL0).decode()
    return '{"lr_schedule": {":type:": "<class \'function\'>", "' + key + '": "' + value + '"}}\n'


@pytest.mark.parametrize(
    "evil",
    [
        json.dumps({"blob": base64.b64encode(EVIL2).decode()}) + "\n",
        json.dumps({"blob": EVIL2.hex()}) + "\n",
        _serialized(False),
        _serialized(True),
        # the value's letters escaped too
        json.dumps({"blob": base64.b64encode(EVIL2).decode()}).replace("g", "\\u0067") + "\n",
    ],
)
@pytest.mark.parametrize("at", ["start", "end", "boundary"])
def test_a_pickle_in_a_string_of_large_json_lines_is_found(evil: str, at: str) -> None:
    lines = _lines()
    if at == "start":
        text = evil + "".join(lines)
    elif at == "end":
        text = "".join(lines) + evil
    else:  # split across the 1 MiB read: its first bytes in one chunk, the rest in the next
        head = "".join(lines)[: (1 << 20) - 40]
        head = head[: head.rindex("\n") + 1] + " " * ((1 << 20) - 40 - len(head))
        text = head + evil + "".join(lines)
    scan = _scan(text.encode())
    assert ("posix", "system") in _imports(scan) or ("os", "system") in _imports(scan), scan


def test_a_serialized_value_keeps_its_label() -> None:
    scan = _scan(_serialized(True).encode())
    assert scan is not None and any("lr_schedule/:serialized:" in w for w in scan.imports)


def test_a_string_token_over_the_bound_is_not_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsontokens, "MAX_TOKEN", 1 << 20)
    scan = _scan(('{"a": "' + "x" * (3 << 20) + '"}').encode())
    assert scan is not None and scan.unverified, "a bound hit fails closed"


def test_tokens_are_found_as_json_loads_finds_them() -> None:
    """A base64 spelling inside another string (after an escaped quote) is no token."""
    hidden = base64.b64encode(EVIL2).decode()
    text = json.dumps({"a": 'say "' + hidden + '" twice', "b": hidden[:10], "c": "x" + hidden})
    found = [
        tok for _, tok, _ in jsontokens.StringTokens(pickles._CANDIDATE).feed(text.encode(), True)
    ]
    assert [jsontokens.value(t) for t in found] == ["x" + hidden]  # a candidate, not base64


def test_a_long_string_no_loader_decodes_is_not_held(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only strings a loader may decode are held: prose over the bound is read through."""
    monkeypatch.setattr(jsontokens, "MAX_TOKEN", 1 << 20)
    evil = base64.b64encode(EVIL2).decode()
    prose = json.dumps({"a": 'a b" \\ ' * (1 << 19), "b": evil})
    scan = _scan(prose.encode())
    assert scan is not None and not scan.unverified, scan.unverified
    assert ("posix", "system") in _imports(scan)


B64 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _asked(s: str) -> bool:
    return s == ":serialized:" or (len(s) >= 16 and all(c in B64 for c in s[:16]))


def test_any_chunking_finds_the_tokens_json_loads_finds() -> None:
    rng = random.Random(7)
    words = [
        "gASVHwAAAAAAAACMBXBv",
        ":serialized:",
        'a"\\\n\u00e9\u2028 ',
        " x\\" * 400,
        "x" * 1500,
    ]
    for _ in range(40):
        strings = ["".join(rng.choice(words) for _ in range(rng.randint(0, 3))) for _ in range(30)]
        doc = {s: [s, {"k": s}] for s in strings}
        data = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()
        walked = [v for s in doc for v in (s, s, s) if _asked(v)]
        for size in (1, 7, 1000, len(data)):
            tokens = jsontokens.StringTokens(pickles._CANDIDATE)
            found = [
                t for i in range(0, len(data), size) for _, t, _ in tokens.feed(data[i:][:size])
            ]
            found += [t for _, t, _ in tokens.feed(b"", True)]
            assert sorted(jsontokens.value(t) or "" for t in found) == sorted(walked)
