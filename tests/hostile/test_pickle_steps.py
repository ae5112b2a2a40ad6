"""The pickle walker's argument readers, alone: what each accepts, keeps and refuses."""

from __future__ import annotations

import io
import struct
import time

import pytest

from forkvet.vet import pickles as pk


def _stream(data: bytes) -> pk.Stream:
    return pk.Stream(io.BytesIO(data), pk.Budget(time.monotonic() + 30))


def test_int_lines_read_as_c_strtol_and_refuse_words() -> None:
    assert pk._int_line(b"0x1f") == 31 and pk._int_line(b"010") == 8
    assert pk._long_line(b"12L\r") == 12
    assert pk._int_line(b"1_" + b"9" * 5000) is None  # past the digit limit: unknown
    with pytest.raises(pk._Bad, match="not a number"):
        pk._int_line(b"twelve")


def test_memo_keys_are_decimal_and_never_negative() -> None:
    assert pk._memo_key_line(b"010") == 10
    with pytest.raises(pk._Bad, match="negative memo key"):
        pk._memo_key_line(b"-1")


def test_protocol0_strings_need_quotes_and_unescape() -> None:
    assert pk._string_line(b"'os\\x2epath' \r") == "os.path"
    with pytest.raises(pk._Bad, match="unquoted string"):
        pk._string_line(b"os")
    assert pk._unicode_line(b"sys\\u0074em") == "system"
    assert pk._string_line(b"'" + b"a" * 300 + b"'") is None  # too long to be a name


def test_fixed_arguments_signed_only_for_binint() -> None:
    assert pk._fixed_arg(_stream(b"\xff\xff\xff\xff"), "BININT", 4) == -1
    assert pk._fixed_arg(_stream(b"\xff\xff\xff\xff"), "LONG_BINPUT", 4) == 2**32 - 1
    with pytest.raises(pk._Bad, match="truncated"):
        pk._fixed_arg(_stream(b"\x01"), "BININT2", 2)


def test_counted_arguments_keep_short_names_and_skip_the_rest() -> None:
    name = b"posix"
    assert (
        pk._counted_arg(_stream(bytes([len(name)]) + name), "SHORT_BINUNICODE", pk._LEN1) == "posix"
    )
    blob = b"x" * 2000
    s = _stream(struct.pack("<I", len(blob)) + blob + b".")
    assert pk._counted_arg(s, "BINBYTES", pk._LEN4U) is None
    assert s.read(1) == b"."  # skipped to the next opcode
    with pytest.raises(pk._Bad, match="negative length"):
        pk._counted_arg(_stream(struct.pack("<i", -5)), "BINSTRING", pk._LEN4S)


def test_global_arguments_keep_any_spelling() -> None:
    info = pk.PickleInfo()
    assert pk._global_arg(_stream(b"1evil\nrun\n"), info) == ("1evil", "run")
    with pytest.raises(pk._Bad, match="not UTF-8"):
        pk._global_arg(_stream(b"\xff\nx\n"), info)


def test_a_decimal_int_past_the_digit_limit_is_unknown_not_a_crash() -> None:
    assert pk._int_line(b"9" * 5000) is None


def _op(name: str) -> pk._Op:
    return next(op for op in pk._OPS.values() if op.name == name)


def test_plain_opcodes_pop_to_the_mark_and_push_one_unknown() -> None:
    m = pk._Machine(pk.PickleInfo())
    m.stack += ["a", "b"]
    m.marks.append(1)
    m.plain(_op("TUPLE"))  # pops to the mark, pushes the tuple
    assert m.stack == ["a", None] and m.marks == []
    with pytest.raises(pk._Bad, match="no MARK"):
        m.plain(_op("TUPLE"))
    with pytest.raises(pk._Bad, match="stack underflow"):
        pk._Machine(pk.PickleInfo()).plain(_op("TUPLE2"))


def test_apply_keeps_values_for_imports_and_stops_at_stop() -> None:
    info = pk.PickleInfo(ops=2)
    m = pk._Machine(info)
    assert not m.apply(_op("BININT1"), 7, persistent=False)
    assert m.apply(_op("STOP"), None, persistent=False)
    assert info.complete and info.int_value == 7
    with pytest.raises(pk._Bad, match="no persistent_load"):
        m.apply(_op("BINPERSID"), None, persistent=False)


def test_why_the_walk_stopped() -> None:
    assert pk._why_not(b"", pk.PickleInfo(), 0) == "empty"
    assert pk._why_not(b"", pk.PickleInfo(ops=3), 3) == "truncated"
    assert pk._why_not(b"\xff", pk.PickleInfo(ops=3), 3) == "not an opcode at byte 3"


def _looks_as_before(data: bytes, lenient: bool) -> bool:
    """looks_like_pickle as it was written before pickle_verdicts shared one walk: probe()
    on the head, or on up to MAX_LINE more bytes when the head ends inside a line."""
    head = data[: pk.HEAD]
    if len(head) < pk.HEAD:
        return pk.probe(head, False, False, lenient)
    budget = pk.Budget(deadline=time.monotonic() + 1, max_ops=len(head) + 1)
    info = pk.walk(pk.Stream(io.BytesIO(b""), budget, head, False), budget)
    if info.imports or not (info.error or "").endswith("unterminated line"):
        return pk.probe(head, None, False, lenient)
    longer = data[: pk.HEAD + pk.MAX_LINE]
    return pk.probe(longer, len(longer) == pk.HEAD + pk.MAX_LINE, False, lenient)


def _heads() -> list[bytes]:
    import os
    import pickle

    texts = [b"include: a.yaml\ntask: b\n", b"import os\n", b"# x\n", b"(l.", b"N.", b"\x80"]
    out = [b"", b"c", *texts, *(pickle.dumps(os.system, p) for p in range(6))]
    out += [pickle.dumps({"w": list(range(3000))}, p) for p in range(6)]  # over one head
    out += [bytes([b]) + b"os\nsystem\n" + b"x" * n for b in range(256) for n in (0, pk.HEAD)]
    out += [b"S'" + b"a" * (pk.HEAD + n) + b"'\n." for n in (10, pk.MAX_LINE + 10)]
    return out


def test_one_walk_gives_both_verdicts_as_two_probes_did() -> None:
    """pickle_verdicts (one walk, a first byte that is no opcode decided at once) answers
    what the strict and the lenient looks_like_pickle answered, on every first byte."""
    for data in _heads():
        s = pk.Stream(io.BytesIO(data), pk.Budget(time.monotonic() + 30), counted=False)
        want = (_looks_as_before(data, False), _looks_as_before(data, True))
        assert pk.pickle_verdicts(s) == want, data[:40]
        assert pk.looks_like_pickle(s) == want[0]
        assert pk.looks_like_pickle(s, lenient=True) == want[1]
        assert s.read(len(data)) == data  # only peeked
