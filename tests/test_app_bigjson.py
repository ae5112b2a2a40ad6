"""Round 19c A3: a large delivery is parsed a member at a time (bot.bigjson), with the same
result, and the same refusals, as json.loads."""

from __future__ import annotations

import json
import random
import time

import pytest

from bot import bigjson
from forkvet import safeparse


def _random_json(rng: random.Random, depth: int) -> object:
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(['a"b', "\\", "é\u2028", "\U0001f600", 1, -2.5e3, None, True, "", 10**30])
    if rng.random() < 0.5:
        return [_random_json(rng, depth - 1) for _ in range(rng.randrange(0, 4))]
    return {rng.choice(["k", "a\\", "é", ""]): _random_json(rng, depth - 1) for _ in range(3)}


def _same(body: bytes) -> None:
    try:
        want: object = safeparse.json_loads(body)  # what the App used before
    except UnicodeDecodeError:  # json.loads's own error for bytes that are not UTF-8
        with pytest.raises(UnicodeDecodeError):
            bigjson.loads(body)
        return
    except json.JSONDecodeError:  # a too-long number or too deep nesting too
        with pytest.raises(json.JSONDecodeError):
            bigjson.loads(body)
        return
    assert bigjson.loads(body) == want, body


def test_stepwise_parsing_is_json_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bigjson, "STEPWISE_BYTES", 0)
    monkeypatch.setattr(bigjson, "DECODE_CHUNK", 3)  # multi-byte characters split
    rng = random.Random(19)
    for _ in range(400):
        value = _random_json(rng, rng.randrange(0, 6))
        for indent in (None, 1):
            body = json.dumps(value, ensure_ascii=rng.random() < 0.3, indent=indent).encode()
            _same(body)
            _same(b" \n" + body + b"\r\t")
            for cut in sorted({rng.randrange(0, len(body) + 1) for _ in range(3)}):
                _same(body[:cut])  # not JSON: refused by both
                _same(body[:cut] + b"," + body[cut:])
    for body in (
        b'{"a": 1} x',
        b'{"a" 1}',
        b"[1 2]",
        b'{"a": 1,}',
        b"[1,]",
        b"{1: 2}",
        b"\xef\xbb\xbf{}",
        b'{"n": ' + b"9" * 5000 + b"}",
        b"[" * 5000 + b"]" * 5000,
        "{}".encode("utf-16"),
    ):
        _same(body)


def test_a_large_push_is_parsed_without_one_long_call() -> None:
    """A 20 MB push: the longest single decoder call is for one member (one commit), not the
    whole body."""
    commit = {"id": "a" * 40, "message": "m" * 60_000, "author": {"name": "a"}}
    payload = {"ref": "refs/heads/main", "commits": [commit] * 350, "repository": {"id": 1}}
    body = json.dumps(payload).encode()
    calls: list[float] = []
    real = bigjson._DECODER.raw_decode

    def timed(text: str, i: int) -> tuple[object, int]:
        t = time.perf_counter()
        try:
            return real(text, i)
        finally:
            calls.append(time.perf_counter() - t)

    bigjson._DECODER.raw_decode = timed  # type: ignore[method-assign]
    try:
        assert bigjson.loads(body) == payload
    finally:
        del bigjson._DECODER.raw_decode
    assert len(calls) > 350 and max(calls) < 0.02, (len(calls), max(calls))
