"""Round 17a F7-F12 gaps in the merged fixes (lead at 5fd3acd..dea3f38, fix17zip's branch):
the cases helper fix17fmt's tests hold that lead's code does not report. Self-contained (no
forkvet.vet.embedded), so it can be cherry-picked onto lead alone: on lead 14 of these fail.

- F10: a pickle inside a protocol-0 pickle (bytes are `_codecs.encode` of a UNICODE line there),
  a protocol 0/1 pickle (no PROTO) held as bytes in a protocol 2/4 pickle, hex text of a pickle.
- F8: a msgpack-numpy map inside a top-level msgpack array.
- F7: an Arrow IPC stream in the framing before Arrow 0.15 (pyarrow up to 14 reads it).
- F11: Stable-Baselines3's `":serialized:"` key spelled with a JSON escape (json.loads decodes it).
- F12: a Keras config's `"module"` key spelled with a JSON escape.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import struct
import zipfile
import zlib

import pytest

PY_EXTENSION = b"arrow.py_extension_type"

CODE = b"open('/tmp/forkvet-round17-should-not-exist','w')"
EVIL = b"\x80\x02cbuiltins\nexec\nX" + struct.pack("<I", len(CODE)) + CODE + b"\x85R."
EVIL0 = b"cos\nsystem\n(S'true'\ntR."  # protocol 0


def _errors(report, path: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(r.kind, r.message) for r in report.risks if r.severity == "error" and r.path == path]


def _dangerous(report, path: str) -> bool:  # type: ignore[no-untyped-def]
    return any(kind == "dangerous-pickle" for kind, _ in _errors(report, path))


# -- F10: a pickle inside a pickle -----------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        EVIL,  # bytes
        EVIL0,
        EVIL.decode("latin-1"),  # a str (protocol 2 writes bytes this way too)
        zlib.compress(EVIL),
        base64.b64encode(EVIL).decode(),
        EVIL.hex(),
    ],
    ids=["bytes", "protocol0-bytes", "latin1-str", "zlib", "base64", "hex"],
)
@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_a_pickle_held_as_a_value_of_a_pickle_is_walked(vet_repo, value, protocol) -> None:  # type: ignore[no-untyped-def]
    outer = pickle.dumps({"state_dict": {"w": [0.5, 1.5]}, "meta": value}, protocol=protocol)
    report = vet_repo({"ckpt.pkl": outer})
    assert _dangerous(report, "ckpt.pkl"), [(r.kind, r.path, r.message) for r in report.risks]


def test_benign_bytes_in_a_pickle_stay_benign(vet_repo) -> None:  # type: ignore[no-untyped-def]
    inner = pickle.dumps({"a": [1, 2, 3]}, protocol=4)
    outer = pickle.dumps(
        {"meta": inner, "blob": bytes(range(256)) * 8, "text": "hello world " * 10}, protocol=4
    )
    report = vet_repo({"ckpt.pkl": outer})
    assert not _errors(report, "ckpt.pkl")


# -- F8: msgpack ----------------------------------------------------------------------------------
def _mp_bin(data: bytes) -> bytes:
    return b"\xc6" + struct.pack(">I", len(data)) + data


def _mp_str(text: bytes) -> bytes:
    return bytes([0xA0 | len(text)]) + text


def test_msgpack_numpy_object_array_is_walked(vet_repo) -> None:  # type: ignore[no-untyped-def]
    # {"feats": {b"nd": True, b"kind": b"O", b"shape": [1], b"data": <pickle>}}, as
    # msgpack.packb writes it (keys of msgpack-numpy as bin)
    inner = (
        b"\x84"
        + b"\xc4\x02nd\xc3"
        + b"\xc4\x04kind\xc4\x01O"
        + b"\xc4\x05shape\x91\x01"
        + b"\xc4\x04data"
        + _mp_bin(EVIL)
    )
    data = b"\x81" + _mp_str(b"feats") + inner
    report = vet_repo({"data/features.bin": data, "data/in_list.bin": b"\x92\x01" + inner})
    assert _dangerous(report, "data/features.bin")
    assert _dangerous(report, "data/in_list.bin")


def test_benign_msgpack_is_no_finding(vet_repo) -> None:  # type: ignore[no-untyped-def]
    data = b"\x82" + _mp_str(b"w") + _mp_bin(bytes(range(256)) * 4) + _mp_str(b"n") + b"\x05"
    report = vet_repo({"weights.msgpack": data})
    assert not _errors(report, "weights.msgpack")


# -- F9: LMDB -------------------------------------------------------------------------------------
_PS = 4096


def _lmdb(values: list[tuple[bytes, bytes]], big: bytes | None = None) -> bytes:
    """A data.mdb as LMDB 0.9 writes it (64-bit): two meta pages, one leaf page, and an
    overflow page for `big` when given."""
    meta = struct.pack("<QHHHH", 0, 0, 0x08, 0, 0) + struct.pack("<IIQQ", 0xBEEFC0DE, 1, 0, 1 << 20)
    # MDB_db records: the free DB (md_pad: the page size), the main DB (md_root: page 2)
    meta += struct.pack("<I", _PS).ljust(40, b"\0") + struct.pack("<Q", 2**64 - 1)
    meta += bytes(40) + struct.pack("<Q", 2)
    pages = [meta.ljust(_PS, b"\0"), meta.ljust(_PS, b"\0")]
    nodes = [
        struct.pack("<HHHH", len(v) & 0xFFFF, len(v) >> 16, 0, len(k)) + k + v for k, v in values
    ]
    if big is not None:
        nodes.append(
            struct.pack("<HHHH", len(big) & 0xFFFF, len(big) >> 16, 0x01, 3)
            + b"big"
            + struct.pack("<Q", 3)
        )
    ptrs, upper = [], _PS
    body = bytearray(_PS)
    for node in nodes:
        upper -= len(node) + len(node) % 2
        body[upper : upper + len(node)] = node
        ptrs.append(upper)
    lower = 16 + 2 * len(ptrs)
    body[:16] = struct.pack("<QHHHH", 2, 0, 0x02, lower, upper)
    body[16:lower] = b"".join(struct.pack("<H", p) for p in ptrs)
    pages.append(bytes(body))
    if big is not None:
        pages.append(
            (struct.pack("<QHHI", 3, 0, 0x04, 1 + len(big) // _PS) + big).ljust(
                _PS * (1 + len(big) // _PS), b"\0"
            )
        )
    return b"".join(pages)


def test_lmdb_values_are_walked(vet_repo) -> None:  # type: ignore[no-untyped-def]
    benign = [(b"%08d" % i, pickle.dumps({"label": i})) for i in range(5)]
    report = vet_repo(
        {
            "data/train_lmdb/data.mdb": _lmdb([*benign, (b"00000099", EVIL)]),
            "data/val_lmdb/data.mdb": _lmdb(benign, big=EVIL + b"\0" * 6000),
            "data/ok_lmdb/data.mdb": _lmdb(benign),
        }
    )
    assert _dangerous(report, "data/train_lmdb/data.mdb")
    assert _dangerous(report, "data/val_lmdb/data.mdb")
    assert not _errors(report, "data/ok_lmdb/data.mdb")


# -- F7: Arrow schemas (Parquet, Feather / Arrow IPC) ------------------------------------------
def _fb_string(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data + b"\0" + b"\0" * (-(len(data) + 5) % 4)


def _schema(pickled: bytes | None) -> bytes:
    """An IPC schema message's shape: the strings a field's custom metadata holds."""
    body = b"\x10\x00\x00\x00\x0c\x00\x14\x00" + _fb_string(b"label")
    if pickled is not None:
        body += _fb_string(b"ARROW:extension:name") + _fb_string(PY_EXTENSION)
        body += _fb_string(b"ARROW:extension:metadata") + _fb_string(pickled)
    return b"\xff\xff\xff\xff" + struct.pack("<i", len(body)) + body


def _parquet(pickled: bytes | None) -> bytes:
    value = base64.b64encode(_schema(pickled))
    footer = b"\x15\x04\x19\x1c\x18\x0cARROW:schema\x18" + bytes(
        [len(value) & 0x7F | 0x80, len(value) >> 7]
    )
    footer += value + b"\x00\x00"
    return b"PAR1" + b"\0" * 32 + footer + struct.pack("<i", len(footer)) + b"PAR1"


def _feather(pickled: bytes | None) -> bytes:
    schema = _schema(pickled)
    footer = b"\x0c\x00" + schema[8:]
    return b"ARROW1\0\0" + schema + b"\0" * 16 + footer + struct.pack("<i", len(footer)) + b"ARROW1"


def test_arrow_schemas_with_a_pickled_extension_type_are_walked(vet_repo) -> None:  # type: ignore[no-untyped-def]
    report = vet_repo(
        {
            "data/train.parquet": _parquet(EVIL),
            "data/labels.feather": _feather(EVIL),
            "data/cache.arrow": _schema(EVIL) + b"\0" * 64,  # an IPC stream
            "data/legacy.arrow": _schema(EVIL)[4:] + b"\0" * 64,  # before Arrow 0.15
            "data/renamed.bin": _parquet(EVIL0),  # by content, not by name
            "data/ok.parquet": _parquet(None),
            "data/ok.feather": _feather(None),
        }
    )
    for path in (
        "data/train.parquet",
        "data/labels.feather",
        "data/cache.arrow",
        "data/legacy.arrow",
        "data/renamed.bin",
    ):
        assert _dangerous(report, path), (path, [(r.kind, r.path, r.message) for r in report.risks])
    assert not _errors(report, "data/ok.parquet")
    assert not _errors(report, "data/ok.feather")


def test_an_extension_type_whose_pickle_is_not_found_is_not_verified(vet_repo) -> None:  # type: ignore[no-untyped-def]
    body = _fb_string(PY_EXTENSION) + b"\x01\x02\x03"
    msg = b"\xff\xff\xff\xff" + struct.pack("<i", len(body)) + body
    report = vet_repo({"data/x.arrow": msg})
    assert "pickle-unverified" in {k for k, _ in _errors(report, "data/x.arrow")}, report.risks


# -- F11: Stable-Baselines3 and base64 in JSON -------------------------------------------------
def _sb3(serialized: bytes) -> bytes:
    data = {
        "policy_class": {
            ":type:": "<class 'abc.ABCMeta'>",
            ":serialized:": base64.b64encode(serialized).decode(),
        },
        "learning_rate": 0.0003,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data", json.dumps(data, indent=4))
        z.writestr("_stable_baselines3_version", "2.3.0")
    return buf.getvalue()


def test_stable_baselines3_serialized_values_are_walked(vet_repo) -> None:  # type: ignore[no-untyped-def]
    escaped = json.dumps({"x": {":serialized:": base64.b64encode(EVIL0).decode()}}).replace(
        "serialized", "\\u0073erialized"
    )
    report = vet_repo(
        {
            "models/ppo.zip": _sb3(EVIL),
            "models/escaped.json": escaped,
            "models/ok.zip": _sb3(pickle.dumps({"a": 1}, protocol=4)),
            "notebook.json": json.dumps(
                {"png": base64.b64encode(b"\x89PNG\r\n\x1a\n" * 20).decode()}
            ),
            "state.json": json.dumps({"blob": base64.b64encode(EVIL).decode()}),
        }
    )
    assert _dangerous(report, "models/ppo.zip"), report.risks
    assert _dangerous(report, "models/escaped.json"), report.risks
    assert _dangerous(report, "state.json"), report.risks
    assert not _errors(report, "models/ok.zip")
    assert not _errors(report, "notebook.json")


# -- F12: a Keras config naming a function from any module (CVE-2025-1550) ---------------------
def _keras_config(module: str) -> dict[str, object]:
    layer = {
        "module": module,
        "class_name": "function",
        "config": "system",
        "registered_name": "function",
        "name": "preprocess",
        "inbound_nodes": [{"args": ["id"], "kwargs": {}}],
    }
    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {"name": "m", "layers": [layer], "input_layers": [], "output_layers": []},
    }


def test_a_keras_config_naming_a_module_outside_keras_runs_code(vet_repo) -> None:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", json.dumps(_keras_config("os")))
        z.writestr("metadata.json", json.dumps({"keras_version": "3.8.0"}))
    escaped = json.dumps(_keras_config("subprocess")).replace('"module"', '"\\u006dodule"')
    report = vet_repo(
        {
            "models/classifier.keras": buf.getvalue(),
            "models/model.json": json.dumps(_keras_config("builtins")),
            "models/escaped.json": escaped,
            # round 18a F2: a function must be one Keras has there (keras.activations.system
            # is none: only allowed names pass, never a whole package)
            "models/ok.json": json.dumps(_keras_config("keras.activations")).replace(
                '"system"', '"relu"'
            ),
            "tsconfig.json": json.dumps({"compilerOptions": {"module": "commonjs"}}),
            "launch.json": json.dumps({"configurations": [{"module": "train", "name": "x"}]}),
        }
    )
    for path in ("models/classifier.keras", "models/model.json", "models/escaped.json"):
        assert "code-in-data" in {k for k, _ in _errors(report, path)}, (path, report.risks)
    for path in ("models/ok.json", "tsconfig.json", "launch.json"):
        assert not _errors(report, path), (path, report.risks)


def test_a_format_found_by_content_never_hides_json(vet_repo) -> None:  # type: ignore[no-untyped-def]
    # UTF-16-LE JSON without a BOM starting `[{` reads as an Arrow stream's length word and root
    # offset (before Arrow 0.15): the jsonpickle search still runs
    text = json.dumps([{"py/reduce": [{"py/function": "builtins.exec"}, {"py/tuple": ["1"]}]}])
    report = vet_repo({"state.json": text.encode("utf-16-le")})
    assert "code-in-data" in {k for k, _ in _errors(report, "state.json")}, report.risks


def test_many_module_keys_cost_one_search() -> None:
    from forkvet.vet import dataformats
    from tests.cputime import cpu_call

    window = json.dumps([{"module": "builtins", "value": i} for i in range(20_000)]).encode()
    found, cpu = cpu_call(lambda: dataformats.Search(None).feed(window))
    assert not found and cpu < 2.0  # this process's CPU time: a loaded machine does not count


def test_many_values_that_start_like_containers_are_no_finding(vet_repo) -> None:  # type: ignore[no-untyped-def]
    # Words spell a container's magic now and then ("ZF..." is joblib's zfile): a vocabulary
    # of them, then a benign pickle kept as a value, is no finding (lead said NOT verified
    # past 64 kept values); random words, whose probe walks read huge lengths, neither.
    import random
    import string

    words = ["ZF" + "abc" * 6 + str(i) for i in range(100)] + ["\x80\x02K\x01."]
    rng = random.Random(1)
    vocab = ["".join(rng.choices(string.ascii_letters + string.digits, k=24)) for _ in range(20000)]
    report = vet_repo(
        {
            "vocab.pkl": pickle.dumps({"words": words}, protocol=4),
            "vocab0.pkl": pickle.dumps({"words": words}, protocol=0),
            "random.pkl": pickle.dumps({"vocab": vocab}, protocol=4),
            "random0.pkl": pickle.dumps({"vocab": vocab}, protocol=0),
        }
    )
    assert not [r for r in report.risks if r.severity == "error"], report.risks
