"""Round 22 (outside attack, round 21a F1, F2, F7, L1; round 21d's loose git object):
compressed streams found by what their decoders accept (an LZMA "alone" header with any
properties byte, a zlib stream with any window), the CRLF checkout git's own attribute rules
make of a tracked file (a binary pickle with a `text` attribute), nothing in `.git` walked as
a checkout, and torch.export programs judged as torch.export.load reads them."""

from __future__ import annotations

import io
import json
import lzma
import os
import pickle
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report, Risk
from forkvet.snapshot import load
from forkvet.vet import decoders, gitattrs, pickles, torchexport, vet

README = {"README.md": "# Model\n"}
# A protocol 2 pickle that imports and calls os.system (never loaded here: only scanned).
_EVIL = b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."


def _scan(data: bytes, eol: str = gitattrs.AUTO) -> pickles.FileScan | None:
    return pickles.scan_file(io.BytesIO(data), "f", time.monotonic() + 10, lambda: eol)


def _imports(data: bytes) -> set[tuple[str, str]]:
    scan = _scan(data)
    return set().union(*scan.imports.values()) if scan else set()


def _errors(report: Report, path: str) -> list[Risk]:
    return [r for r in report.risks if r.path == path and r.severity == "error"]


# -- F1: LZMA "alone" with any properties byte -------------------------------------------------
def _alone(data: bytes, lc: int, lp: int, pb: int, dict_size: int = 1 << 20) -> bytes:
    f = {"id": lzma.FILTER_LZMA1, "lc": lc, "lp": lp, "pb": pb, "dict_size": dict_size}
    c = lzma.LZMACompressor(format=lzma.FORMAT_ALONE, filters=[f])
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("lc,lp,pb", [(0, 0, 0), (1, 0, 2), (4, 0, 2), (0, 4, 0), (3, 1, 4)])
def test_an_lzma_alone_stream_with_any_properties_is_opened(lc: int, lp: int, pb: int) -> None:
    data = _alone(_EVIL, lc, lp, pb)
    assert lzma.decompress(data) == _EVIL  # what lzma.open / pandas' .xz read
    assert ("posix", "system") in _imports(data)


def test_an_lzma_header_naming_a_4_gib_dictionary_is_read_with_a_capped_one() -> None:
    data = bytearray(_alone(_EVIL, 3, 0, 2))
    data[1:5] = (0xFFFFFFFF).to_bytes(4, "little")  # liblzma would allocate it
    assert lzma.decompress(bytes(data)) == _EVIL
    assert ("posix", "system") in _imports(bytes(data))


def test_an_lzma_range_coder_byte_older_liblzma_ignores_is_read_as_they_read_it() -> None:
    data = bytearray(_alone(_EVIL, 0, 0, 0))
    assert data[13] == 0
    data[13] = 0x41  # current liblzma refuses it; older LZMA decoders shift it out unread
    assert ("posix", "system") in _imports(bytes(data))
    # any text decodes so, to noise: not taken for a stream (it was a false error)
    assert _scan(b'dict(real=dict(rk="double"))\n') is None


def test_an_lzma_alone_stream_cut_after_its_pickle_is_not_verified() -> None:
    benign = pickle.dumps({"w": list(range(3000))}, protocol=2)
    scan = _scan(_alone(benign, 0, 0, 0)[:-40])
    assert scan is not None and scan.unverified


def test_lzip_is_read_as_lzma_open_reads_it() -> None:
    c = lzma.LZMACompressor(lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "lc": 3}])
    body = b"LZIP\x01\x14" + c.compress(_EVIL) + c.flush()
    data = body + struct.pack("<IQQ", zlib.crc32(_EVIL), len(_EVIL), len(body) + 20)
    try:
        assert lzma.decompress(data) == _EVIL
    except lzma.LZMAError:
        pytest.skip("this liblzma reads no lzip")
    assert ("posix", "system") in _imports(data)


# -- F2: zlib with any window ------------------------------------------------------------------
@pytest.mark.parametrize("wbits", [9, 10, 12, 14, 15])
def test_a_zlib_stream_with_any_window_is_opened(wbits: int) -> None:
    c = zlib.compressobj(6, zlib.DEFLATED, wbits)
    data = c.compress(_EVIL) + c.flush()
    assert zlib.decompress(data) == _EVIL
    assert ("posix", "system") in _imports(data)


def test_what_no_decoder_accepts_or_decodes_to_nothing_a_loader_reads_is_no_stream() -> None:
    rng = __import__("random").Random(22)
    for _ in range(300):
        head = bytes(rng.randrange(256) for _ in range(512))
        assert pickles._decoded_kind(head) is None
    # decoded, but to text no loader reads on: not opened (no NOT verified when it breaks)
    text = lzma.compress(b"hello world\n" * 400, format=lzma.FORMAT_ALONE)
    assert _scan(bytes([0x00]) + text[1:]) is None
    assert decoders.alone_header(bytes([225]) + bytes(12)) is None  # pb would be 5
    assert decoders.alone_header(bytes([4 * 9 + 1]) + bytes(12)) is None  # lc + lp = 5


# -- F7: the checkout git's attributes make of a tracked file -----------------------------------
def _binary_crlf_pickle() -> bytes:
    """A binary pickle (NULs in its first bytes) that is harmless as committed; written with
    CRLF, each LF inside its BINBYTES8 string shortens what the length covers, and the tail
    runs (round 21a F7's construction)."""
    cmd = b"true"
    act = b"\x8c\x02os\x8c\x06system\x93\x8c" + bytes([len(cmd)]) + cmd + b"\x85R."
    body = b"\n" * len(act) + act
    return b"\x80\x04K\x000\x8e" + struct.pack("<Q", len(body)) + body + b"0}."


def test_a_binary_pickle_with_a_text_attribute_is_walked_as_its_crlf_checkout() -> None:
    data = _binary_crlf_pickle()
    assert b"\0" in data[:16]
    scan = _scan(data, gitattrs.CRLF)
    assert scan is not None and ("os", "system") in scan.imports[pickles.CRLF_CHECKOUT]
    scan = _scan(data)  # no attribute: git's content check calls it binary, never converted
    assert scan is not None and pickles.CRLF_CHECKOUT not in scan.imports


@pytest.mark.parametrize(
    "attributes",
    [
        "model.pkl text\n",
        "*.pkl eol=crlf\n",
        "* crlf\n",
        "[attr]weights text\n*.pkl weights\n",
        "*.pkl -text\n/model.pkl text\n",
        "*.PKL text\n",  # Windows matches case-blind (core.ignorecase)
        '"model.pkl" text\n',
    ],
)
def test_attributes_that_convert_a_binary_pickle_make_it_an_error(
    vet_repo: Callable[..., Report], attributes: str
) -> None:
    files = {**README, ".gitattributes": attributes, "model.pkl": _binary_crlf_pickle()}
    report = vet_repo(files)
    errors = _errors(report, "model.pkl")
    assert errors and "CRLF checkout" in errors[0].message, report.risks


@pytest.mark.parametrize(
    "attributes",
    ["", "* text=auto\n", "*.pkl binary\n", "* text\n*.pkl -text\n", "model.pkl text eol=lf\n"],
)
def test_attributes_that_leave_a_binary_pickle_alone_keep_it_known_safe(
    vet_repo: Callable[..., Report], attributes: str
) -> None:
    files = {**README, ".gitattributes": attributes, "model.pkl": _binary_crlf_pickle()}
    assert not _errors(vet_repo(files), "model.pkl")


def test_past_the_match_bound_every_tracked_file_counts_as_converted(
    make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_repo({**README, ".gitattributes": "*.pkl -text\n", "model.pkl": b"x"})
    snap = load(root)
    attrs = gitattrs.read(snap)
    entry = next(f for f in snap.files if f.path == "model.pkl")
    assert attrs.mode(snap, entry) == gitattrs.NEVER
    monkeypatch.setattr(gitattrs, "MAX_MATCHES", 0)
    assert attrs.mode(snap, entry) == gitattrs.CRLF


def test_git_attribute_rules_as_git_reads_them() -> None:
    attrs = gitattrs.Attributes()
    lines = [
        ("", "* text=auto"),
        ("", "[attr]mine text eol=crlf"),
        ("", "*.bin mine"),
        ("", "/top.pkl text"),
        ("", "*.in text=input eol=crlf"),  # eol makes it text whatever `text` said
        ("sub", "*.pkl binary"),
        ("sub", "x/**/*.pt text"),
        ("sub", "[attr]ignored text"),  # macros only from the top-level file
        ("sub", "*.ign ignored"),
        ("", "!*.neg text"),  # negative patterns are ignored
    ]
    for base, line in lines:
        gitattrs._parse(line, base, attrs)
    want = {
        "top.pkl": "crlf",
        "d/top.pkl": "auto",
        "w.bin": "crlf",
        "b.in": "crlf",
        "sub/a.pkl": "never",
        "sub/x/y/z/m.pt": "crlf",
        "sub/x/m.pt": "crlf",
        "x/m.pt": "auto",
        "sub/a.ign": "auto",
        "a.neg": "auto",
    }
    got = {p: gitattrs._action(attrs._values(p, False)) for p in want}
    assert got == want


# -- round 21d: nothing in .git is a checkout -----------------------------------------------
def _text_crlf_pickle() -> bytes:
    act = b"\x8c\x02os\x8c\x06system\x93\x8c\x02id\x85R."
    content = b"\n" * len(act) + act
    return b"\x80\x03}\x8c\x05modelC" + bytes([len(content)]) + content + b"s."


def test_files_in_git_folders_are_never_walked_as_a_checkout(
    make_repo: Callable[..., Path],
) -> None:
    root = make_repo({**README, "model.pkl": _text_crlf_pickle()})
    loose = root / ".git" / "objects" / "ab" / ("c" * 38)
    loose.parent.mkdir(parents=True, exist_ok=True)
    loose.write_bytes(_text_crlf_pickle())
    report = vet(load(root))
    assert _errors(report, "model.pkl")  # tracked, text: its CRLF checkout runs os.system
    assert not [r for r in report.risks if r.path and ".git/" in r.path and r.severity == "error"]


# -- L1: torch.export programs ------------------------------------------------------------------
def _node(target: str) -> dict[str, object]:
    return {"target": target, "inputs": [], "outputs": [], "metadata": {}}


def _pt2(graph: dict[str, object], legacy: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if legacy:
            z.writestr("serialized_exported_program.json", json.dumps(graph))
            z.writestr("version", "1")
        else:
            z.writestr("model/archive_format", "pt2")
            z.writestr("model/models/model.json", json.dumps(graph))
            z.writestr("model/data/weights/model_weights_config.json", '{"config": {}}')
    return buf.getvalue()


def _graph(*targets: str, **extra: object) -> dict[str, object]:
    nodes = [_node(t) for t in targets]
    return {"graph_module": {"graph": {"nodes": nodes, "sym_int_values": {}}}, **extra}


_OPS = ("torch.ops.aten.linear.default", "torch.ops.aten._to_copy.default", "_operator.getitem")
_SYM = "Mul(Integer(4), Symbol('s77', positive=True, integer=True))"


@pytest.mark.parametrize("legacy", [False, True])
def test_a_torch_export_program_of_operators_passes(
    vet_repo: Callable[..., Report], legacy: bool
) -> None:
    graph = _graph(*_OPS, "torch.sym_float", "math.sqrt", guards_code=[])
    graph["range"] = {"expr_str": _SYM}
    report = vet_repo({**README, "model.pt2": _pt2(graph, legacy)})
    assert not _errors(report, "model.pt2"), report.risks


@pytest.mark.parametrize(
    "extra",
    [
        {"targets": ("torch.os.system",)},
        {"targets": ("torchvision_evil.os.system",)},  # resolved from `torch` by its prefix
        {"targets": ("_operator.call",)},
        {"targets": ("torch.ops.load_library",)},
        {"guards_code": ["__import__('os').system('true') == 0"]},
        {"expr_str": "exec(bytes((112, 97, 115, 115)))"},
    ],
)
def test_a_torch_export_program_naming_code_is_an_error(
    vet_repo: Callable[..., Report], extra: dict[str, object]
) -> None:
    graph = _graph(*_OPS, *extra.get("targets", ()))  # type: ignore[misc]
    if "guards_code" in extra:
        graph["guards_code"] = extra["guards_code"]
    if "expr_str" in extra:
        graph["sym"] = {"as_expr": {"expr_str": extra["expr_str"]}}
    errors = _errors(vet_repo({**README, "model.pt2": _pt2(graph)}), "model.pt2")
    assert errors and errors[0].kind == "code-in-data", errors
    assert "torch.export program" in errors[0].message


def test_a_torch_export_graph_that_does_not_parse_is_not_verified() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("m/archive_format", "pt2")
        z.writestr("m/models/model.json", '{"graph_module": ')
    scan = _scan(buf.getvalue())
    assert scan is not None and any("torch.export graph" in u for u in scan.unverified)
    assert torchexport.graph_members(
        ["a/archive_format", "a/models/m.json", "b/models/n.json"]
    ) == {"a/models/m.json"}


def test_round22_fixtures_stay_small() -> None:
    assert len(_pt2(_graph(*_OPS))) < 4096 and len(_binary_crlf_pickle()) < 256
    assert os.path.basename(__file__).startswith("test_round22")
