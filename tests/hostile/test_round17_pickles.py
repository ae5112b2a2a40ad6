"""Outside attack, round 17a: pickles and the containers around them.

F0: a zip holding two archives whose end records zipfile and torch's reader (miniz) read
differently: each loader gets its own central directory. F4: a pickle after padding.
F5: the CRLF label. F6: what an acceptance of a pickle finding covers."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report
from forkvet.vet import containers
from tests.hostile import payloads as P

Vet = Callable[..., Report]


def _zip64(entries: int, size: int, offset: int) -> bytes:
    return struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, entries, entries, size, offset)


def _locator(record_at: int) -> bytes:
    return struct.pack("<IIQI", 0x07064B50, 0, record_at, 1)


def _eocd(entries: int, size: int, offset: int) -> bytes:
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, size, offset, 0)


def _parts(payload: bytes | dict[str, bytes], base: int) -> tuple[bytes, bytes]:
    """(local headers, central directory) of a torch-layout zip (or of these members), its
    offsets moved by base."""
    if isinstance(payload, dict):
        data = P.zipped(payload, zipfile.ZIP_STORED)
    else:
        data = P.torch_zip(payload)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        start = zf.start_dir
    end = data.index(b"PK\x05\x06", start)
    cd = bytearray(data[start:end])
    p = 0
    while p < len(cd):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", cd, p + 28)
        (off,) = struct.unpack_from("<I", cd, p + 42)
        struct.pack_into("<I", cd, p + 42, off + base)
        p += 46 + name_len + extra_len + comment_len
    return data[:start], bytes(cd)


def two_archives(evil: bytes | dict[str, bytes], benign: bytes, variant: str) -> bytes:
    """Evil members and directory, then benign ones, then end records that send zipfile to
    the benign directory and torch's reader to the evil one."""
    local_e, cd_e = _parts(evil, 0)
    n_e = cd_e.count(b"PK\x01\x02")
    out = bytearray(local_e)
    cd_e_at = len(out)
    out += cd_e
    z_e_at = len(out)
    out += _zip64(n_e, len(cd_e), cd_e_at)
    local_b, cd_b = _parts(benign, len(out))
    out += local_b
    cd_b_at = len(out)
    out += cd_b
    out += _zip64(2, len(cd_b), cd_b_at)  # the record zipfile reads: just before the locator
    if variant == "locator":  # miniz reads the zip64 record at the locator's offset
        out += _locator(z_e_at) + _eocd(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    elif variant == "classic":  # no zip64 record at offset 0: miniz takes the classic record
        out += _locator(0) + _eocd(n_e, len(cd_e), cd_e_at)
    else:  # a classic record whose values are not the zip64 record's
        out += _locator(len(out) - 56) + _eocd(n_e, len(cd_e), cd_e_at)
    return bytes(out)


@pytest.mark.parametrize("variant", ["locator", "classic", "mixed"])
def test_zip_end_records_two_readers_read_differently_are_an_error(
    tmp_path: Path, vet_repo: Vet, variant: str
) -> None:
    marker = tmp_path / "PWNED"
    data = two_archives(P.os_system(f"touch {marker}", 2), P.safe_state_dict(), variant)
    assert containers.zip_readers_disagree(io.BytesIO(data))
    report = vet_repo({"checkpoints/model.pt": data})
    errors = {r.path: r for r in report.risks if r.severity == "error"}
    assert "checkpoints/model.pt" in errors, report.risks
    assert errors["checkpoints/model.pt"].kind == "pickle-unverified"


@pytest.mark.parametrize("kind", ["torchscript", "package"])
def test_a_torchscript_or_package_archive_behind_another_directory_is_an_error(
    vet_repo: Vet, kind: str
) -> None:
    """torch.jit.load and torch.package's PackageImporter use the same reader as torch.load."""
    if kind == "torchscript":
        evil = {
            "archive/data.pkl": b"\x80\x02}q\x00.",
            "archive/constants.pkl": b"\x80\x02).",
            "archive/code/__torch__.py": b"import os\nos.system('x')\n",
            "archive/version": b"1\n",
        }
    else:
        evil = {
            "m/.data/extern_modules": b"",
            "m/model.py": b"import os\nos.system('x')\n",
            "m/.data/version": b"6\n",
        }
    data = two_archives(evil, P.safe_state_dict(), "locator")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:  # zipfile sees only the benign members
        assert "archive/constants.pkl" not in zf.namelist()
    report = vet_repo({"model.pt": data})
    kinds = {r.kind for r in report.risks if r.path == "model.pt" and r.severity == "error"}
    assert "pickle-unverified" in kinds, report.risks


def test_the_two_archive_fixture_really_runs_under_torch(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    marker = tmp_path / "PWNED"
    data = two_archives(P.os_system(f"touch {marker}", 2), P.safe_state_dict(), "locator")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:  # zipfile sees only the benign members
        assert b"system" not in zf.read("archive/data.pkl")
    loader = "import torch, io; torch.load(io.BytesIO(DATA), weights_only=False)"
    assert P.really_runs(loader, data, tmp_path, marker)


def test_a_second_end_record_after_the_directory_is_an_error() -> None:
    data = P.torch_zip(P.safe_state_dict())
    extra = data[-22:]
    assert containers.zip_readers_disagree(io.BytesIO(data)) is None
    # an end record in the comment: the last one is read, another reader may take the first
    with_comment = data[:-2] + struct.pack("<H", 22) + extra
    assert containers.zip_readers_disagree(io.BytesIO(with_comment))


def test_ordinary_archives_agree(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    buf = io.BytesIO()
    np.savez(buf, a=np.zeros(3))
    assert containers.zip_readers_disagree(io.BytesIO(buf.getvalue())) is None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", b"x")
        zf.comment = b"a comment"
    assert containers.zip_readers_disagree(io.BytesIO(buf.getvalue())) is None
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buf)
    assert containers.zip_readers_disagree(io.BytesIO(buf.getvalue())) is None


# -- F6: what an acceptance of a pickle finding covers -------------------------------------
def _reduce(module: str, name: str) -> bytes:
    """module.name(0) under protocol 2 (a NUL: git's CRLF checkout is not walked)."""
    return b"\x80\x02" + f"c{module}\n{name}\n".encode() + b"K\x00\x85R."


@pytest.mark.parametrize(
    "module,name",
    [
        ("imp", "load_source"),
        ("importlib", "import_module"),
        ("marshal", "loads"),
        ("types", "FunctionType"),
        ("_posixsubprocess", "fork_exec"),
        ("torch", "load"),
        ("numpy", "load"),
        ("joblib", "load"),
        ("pandas", "read_pickle"),
        ("dill", "loads"),
        ("code", "interact"),
        ("io", "open"),
        ("zipfile", "ZipFile"),
        ("requests", "get"),
        ("smtplib", "SMTP"),
    ],
)
def test_code_running_imports_are_dangerous_not_unsafe(
    vet_repo: Vet, module: str, name: str
) -> None:
    report = vet_repo({"model.pkl": _reduce(module, name)})
    (risk,) = [r for r in report.risks if r.severity == "error"]
    assert risk.kind == "dangerous-pickle", risk


def test_model_classes_stay_unsafe(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "models/__init__.py": "",
            "models/net.py": "class Net:\n    pass\n",
            "own.pkl": _reduce("models.net", "Net"),
            "estimator.pkl": _reduce("sklearn.linear_model._logistic", "LogisticRegression"),
            "hf.pkl": _reduce("transformers.models.bert.modeling_bert", "BertModel"),
            # torch.save(model) from a script: the loading script defines the class
            "script.pkl": _reduce("__main__", "DnCNN"),
        }
    )
    kinds = {r.path: r.kind for r in report.risks if r.severity == "error"}
    names = ("own.pkl", "estimator.pkl", "hf.pkl", "script.pkl")
    assert kinds == {p: "unsafe-pickle" for p in names}


def test_an_acceptance_of_a_pickle_pins_the_file(
    tmp_path: Path, make_repo: Callable[..., Path]
) -> None:
    """Round 17a F6: `accept: {rule: risks/unsafe-pickle, path: ...}` went on accepting the
    checkpoint after it was swapped for one calling imp.load_source."""
    import hashlib

    from forkvet import accept
    from forkvet.snapshot import load
    from forkvet.vet import vet

    reviewed = _reduce("models.net", "Net")
    files: dict[str, str | bytes] = {
        "models/__init__.py": "",
        "models/net.py": "class Net:\n    pass\n",
        "ckpt/model.pkl": reviewed,
    }

    def verdict(data: bytes, **pin: str) -> list[tuple[str, str]]:
        repo = make_repo({**files, "ckpt/model.pkl": data}, name=f"r{len(pin)}{data[:9]!r}")
        snap = load(repo)
        report = vet(snap)
        entry = {"rule": "risks/unsafe-pickle", "path": "ckpt/model.pkl", "reason": "ours"}
        accept.apply(report, accept.parse([{**entry, **pin}], "policy"), snap.root)
        return [(f.severity, f.title) for f in report.findings if f.path == "ckpt/model.pkl"]

    sha = hashlib.sha256(reviewed).hexdigest()
    assert ("notice", "Accepted: Unsafe pickle") in verdict(reviewed, sha256=sha)
    swapped = _reduce("models.net", "Net")[:-1] + b"0" + _reduce("imp", "load_source")
    after = verdict(swapped, sha256=sha)
    assert ("error", "Dangerous pickle") in after
    assert not [t for s, t in after if t.startswith("Accepted")]
    # without a pin, a rule-and-path acceptance of a pickle finding accepts nothing
    unpinned = verdict(reviewed)
    assert ("error", "Unsafe pickle") in unpinned
    assert ("warning", "Acceptance no longer applies") in unpinned


# -- F5: the CRLF label ----------------------------------------------------------------------
def test_a_pickle_importing_the_same_as_committed_is_not_labelled_by_its_crlf_checkout(
    vet_repo: Vet,
) -> None:
    # no NUL: its CRLF checkout is walked too, and with no LF it is the same bytes
    data = b"\x80\x04\x8c\x08builtins\x8c\x04exec\x93\x8c\x01x\x85R."
    report = vet_repo({"x.pkl": data})
    (risk,) = [r for r in report.risks if r.severity == "error"]
    assert "builtins.exec" in risk.message
    assert "CRLF" not in risk.message and "(in ," not in risk.message


# -- F4: a pickle after padding --------------------------------------------------------------
def test_a_pickle_after_padding_is_walked(vet_repo: Vet) -> None:
    """Round 17a F4: `{'a': 1}`, NULs to offset 4096, then a pickle calling builtins.exec (a
    record store read by offset) was "only known-safe imports"."""
    import pickle

    first = pickle.dumps({"a": 1}, protocol=2)
    evil = _reduce("builtins", "exec")
    padded = first + b"\0" * (4096 - len(first)) + evil
    blank = pickle.dumps({"a": 1}, protocol=0) + b"\n\n  \n" + evil
    report = vet_repo({"d/records.pkl": padded, "d/blank.pkl": blank})
    errors = {r.path: r.kind for r in report.risks if r.severity == "error"}
    assert errors == {"d/records.pkl": "dangerous-pickle", "d/blank.pkl": "dangerous-pickle"}


def test_bytes_after_the_pickles_are_not_called_known_safe(vet_repo: Vet) -> None:
    import pickle

    first = pickle.dumps({"a": 1}, protocol=2)
    report = vet_repo({"d/records.bin": first + b"\0" * 64 + b"\xff\xfe raw data" * 10})
    (notice,) = [r for r in report.risks if r.kind == "pickle-checkpoint"]
    assert f"first {len(first) + 64} bytes" in notice.message
    assert "not walked" in notice.message


def test_a_member_no_directory_lists_is_scanned(tmp_path: Path, vet_repo: Vet) -> None:
    """An evil member's local header before the listed ones, in bytes no listed member
    covers: both readers' directories agree and skip it, a reader walking local headers
    loads it. It is scanned as a member of its own."""
    marker = tmp_path / "PWNED"
    local_e, _ = _parts(P.os_system(f"touch {marker}", 2), 0)
    local_b, cd_b = _parts(P.safe_state_dict(), len(local_e))
    data = local_e + local_b + cd_b + _eocd(2, len(cd_b), len(local_e) + len(local_b))
    assert containers.zip_readers_disagree(io.BytesIO(data)) is None
    report = vet_repo({"model.pt": data})
    errors = {r.path: r for r in report.risks if r.severity == "error"}
    assert errors["model.pt"].kind == "dangerous-pickle", report.risks
    assert "unlisted" in errors["model.pt"].message


def test_real_archives_have_no_unlisted_members(tmp_path: Path) -> None:
    from forkvet.vet import pickles

    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(300), "n": torch.nn.Linear(3, 3).state_dict()}, buf)
    script = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), script)
    streamed = io.BytesIO()
    with zipfile.ZipFile(streamed, "w") as zf:  # data descriptors
        with zf.open("a.bin", "w") as member:
            member.write(b"\0" * 1000)
        with zf.open("b.bin", "w") as member:
            member.write(b"x" + b"PK\x03\x04" * 10)
    for data in (buf.getvalue(), script.getvalue(), streamed.getvalue()):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            found, more = containers.unlisted_members(
                io.BytesIO(data), zf.infolist(), zf.start_dir, lambda: None
            )
        assert (found, more) == ([], False)
        path = tmp_path / "x.pt"
        path.write_bytes(data)
        scan = pickles.scan_path(str(path), "x.pt", float("inf"))
        assert scan is None or not scan.unverified


# -- F11: base64 pickles in JSON (Stable-Baselines3's model zip) -----------------------------
def test_a_serialized_value_in_a_stable_baselines3_zip_is_walked(vet_repo: Vet) -> None:
    """Round 17a F11: SB3's `load` passes every `:serialized:` value of the zip's `data` JSON
    to cloudpickle.loads(base64.b64decode(...))."""
    import base64
    import json

    evil = base64.b64encode(_reduce("builtins", "exec")).decode()
    data = {"gamma": 0.99, "lr_schedule": {":type:": "<class 'function'>", ":serialized:": evil}}
    zipped = P.zipped(
        {"data": json.dumps(data, indent=4).encode(), "_stable_baselines3_version": b"2.9.2"}
    )
    plain = {"note": "a cached object", "blob": base64.b64encode(_reduce("os", "system")).decode()}
    report = vet_repo({"models/ppo.zip": zipped, "cache.json": json.dumps(plain)})
    errors = {r.path: r for r in report.risks if r.severity == "error"}
    assert errors["models/ppo.zip"].kind == "dangerous-pickle", report.risks
    assert "lr_schedule" in errors["models/ppo.zip"].message
    assert errors["cache.json"].kind == "dangerous-pickle"


# -- F12: a Keras config naming a module outside Keras ---------------------------------------
def _keras_config(module: str, name: str) -> bytes:
    import json

    layer = {
        "module": module,
        "class_name": "function",
        "config": name,
        "registered_name": "function",
        "name": "preprocess",
        "inbound_nodes": [{"args": ["echo hi"], "kwargs": {}}],
    }
    cfg = {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {"name": "m", "layers": [layer], "input_layers": [], "output_layers": []},
    }
    return json.dumps(cfg).encode()


def test_a_keras_config_naming_a_module_outside_keras_is_code(vet_repo: Vet) -> None:
    """Round 17a F12: Keras 3 < 3.9 imports any module a config names and calls what it
    names from it; no Lambda layer is needed."""
    evil = P.zipped({"config.json": _keras_config("os", "system"), "metadata.json": b"{}"})
    own = P.zipped({"config.json": _keras_config("mymodels.layers", "Block")})
    report = vet_repo(
        {
            "model.keras": evil,
            "models/model.json": _keras_config("subprocess", "getoutput"),
            "mymodels/__init__.py": "",
            "mymodels/layers.py": "class Block:\n    pass\n",
            "own.keras": own,
            # round 18a F2: a Keras class as a class (a "function" must be one of Keras'
            # activation, loss or metric functions: keras.layers as a function module is not)
            "keras_only.json": _keras_config("keras.layers", "Dense")
            .replace(
                b'"class_name": "function", "config": "Dense"',
                b'"class_name": "Dense", "config": {"units": 2}',
            )
            # round 19a F1: a registered_name is a second name Keras may resolve
            .replace(b'"registered_name": "function"', b'"registered_name": "Dense"'),
            "package.json": b'{"name": "x", "module": "dist/index.mjs", "config": {}}',
        }
    )
    errors = {r.path: r for r in report.risks if r.severity == "error"}
    assert set(errors) == {"model.keras", "models/model.json"}, report.risks
    assert all(r.kind == "code-in-data" for r in errors.values())
    assert "(os.system)" in errors["model.keras"].message


# -- F7: Arrow extension types pyarrow unpickles ---------------------------------------------
def _arrow_schema(metadata: bytes) -> bytes:
    """The bytes of an Arrow schema message naming a PyExtensionType (as flatbuffers lay
    them out: strings length-prefixed, NUL-terminated)."""

    def fb_str(b: bytes) -> bytes:
        return struct.pack("<I", len(b)) + b + b"\0" * (4 - len(b) % 4)

    return (
        b"\xff\xff\xff\xff\x00\x01\x00\x00"
        + fb_str(b"ARROW:extension:name")
        + fb_str(b"arrow.py_extension_type")
        + fb_str(b"ARROW:extension:metadata")
        + fb_str(metadata)
    )


def _parquet(schema: bytes) -> bytes:
    import base64

    value = base64.b64encode(schema)
    footer = b"\x15\x04\x19\x1c" + b"\x18\x0cARROW:schema\x18" + bytes([len(value) & 0x7F | 0x80])
    footer += bytes([len(value) >> 7]) + value + b"\x00"
    return b"PAR1" + b"\x15\x00" * 32 + footer + struct.pack("<I", len(footer)) + b"PAR1"


def _feather(schema: bytes) -> bytes:
    return b"ARROW1\x00\x00" + schema + b"\x00" * 64 + schema + struct.pack("<I", 8) + b"ARROW1"


def test_an_arrow_extension_type_pyarrow_unpickles_is_walked(vet_repo: Vet) -> None:
    """Round 17a F7 (CVE-2023-47248): pyarrow 0.14-14.0.0 unpickles the metadata of an
    `arrow.py_extension_type` column when a Parquet or Feather file is read."""
    evil = _arrow_schema(_reduce("builtins", "exec"))
    # protocol 0 (no PROTO): found as a flatbuffer string near the extension name
    unknown = _arrow_schema(b"cbuiltins\nexec\n(S'x'\ntR.")
    plain = b"PAR1" + b"\x15\x00" * 32 + b"\x18\x0cARROW:schema" + struct.pack("<I", 16) + b"PAR1"
    report = vet_repo(
        {
            "data/train.parquet": _parquet(evil),
            "data/train.feather": _feather(evil),
            "data/other.feather": _feather(unknown),
            "data/plain.parquet": plain,
        }
    )
    errors = {r.path: r.kind for r in report.risks if r.severity == "error"}
    assert errors == {
        "data/train.parquet": "dangerous-pickle",
        "data/train.feather": "dangerous-pickle",
        "data/other.feather": "dangerous-pickle",
    }, report.risks


# -- F10: a pickle kept as a value inside a pickle -------------------------------------------
def test_a_pickle_inside_a_pickles_bytes_value_is_walked(vet_repo: Vet) -> None:
    """Round 17a F10: `torch.save({"state_dict": ..., "meta": <pickle bytes>})` loaded with
    weights_only=True, then `pickle.loads(ckpt["meta"])` by the repository's code."""
    import base64
    import pickle
    import zlib

    inner = _reduce("builtins", "exec")
    as_bytes = pickle.dumps({"w": [0.0] * 4, "meta": inner}, protocol=4)
    as_text = pickle.dumps({"meta": inner.decode("latin-1")}, protocol=2)
    compressed = pickle.dumps({"meta": zlib.compress(inner)}, protocol=3)
    encoded = pickle.dumps({"meta": base64.b64encode(inner)}, protocol=4)
    safe = pickle.dumps({"meta": pickle.dumps({"a": 1}, protocol=4)}, protocol=4)
    report = vet_repo(
        {
            "bytes.pkl": as_bytes,
            "text.pkl": as_text,
            "zlib.pkl": compressed,
            "b64.pkl": encoded,
            "ckpt/model.pt": P.torch_zip(as_bytes),
            "safe.pkl": safe,
        }
    )
    errors = {r.path: r.kind for r in report.risks if r.severity == "error"}
    expected = ("bytes.pkl", "text.pkl", "zlib.pkl", "b64.pkl", "ckpt/model.pt")
    assert errors == {p: "dangerous-pickle" for p in expected}, report.risks


# -- F8, F9: stores of pickled values read by their own index --------------------------------
def _lmdb_like(values: list[bytes]) -> bytes:
    """Two meta pages (LMDB's magic at offset 16), then leaf pages holding the values."""
    meta = b"\0" * 16 + b"\xde\xc0\xef\xbe" + b"\x01\x00\x00\x00" + b"\0" * (4096 - 24)
    body = b"".join(
        struct.pack("<HHH", 0, len(v), 0) + b"%08d" % i + v for i, v in enumerate(values)
    )
    return meta * 2 + body + b"\0" * (-len(body) % 4096)


def _msgpack_like(value: bytes) -> bytes:
    """msgpack_numpy's encoding of an object array: {"feats": {b"nd": True, b"kind": b"O",
    b"data": <pickle>}} (written by hand: msgpack is not needed to build it)."""
    feats = b"\xa5feats"
    inner = b"\x83" + b"\xc4\x02nd\xc3" + b"\xc4\x04kind\xc4\x01O" + b"\xc4\x04data"
    inner += b"\xc4" + bytes([len(value)]) + value
    return b"\x81" + feats + inner


def test_pickles_in_lmdb_and_msgpack_stores_are_walked(vet_repo: Vet) -> None:
    import pickle

    evil = _reduce("builtins", "exec")
    benign = [pickle.dumps({"label": i, "img": b"\0" * 64}, protocol=4) for i in range(20)]
    report = vet_repo(
        {
            "data/train_lmdb/data.mdb": _lmdb_like([*benign, evil]),
            "data/ok_lmdb/data.mdb": _lmdb_like(benign),
            "data/features.msgpack": _msgpack_like(evil),
        }
    )
    errors = {r.path: r.kind for r in report.risks if r.severity == "error"}
    assert errors == {
        "data/train_lmdb/data.mdb": "dangerous-pickle",
        "data/features.msgpack": "dangerous-pickle",
    }, report.risks
