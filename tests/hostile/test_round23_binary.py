"""Round 22a (fixed in round 23): binary weight formats and the forms a checkout or archive
takes. Universal Mach-O images are native code (F20); an ONNX tensor's external data and HDF5's
external storage, external links and virtual datasets name files the loader reads (F7, F9);
`export-subst` rewrites what `git archive` (GitHub's zipballs, torch.hub) writes (F8); a
symlink's target text is the file a Windows checkout or a Python-extracted zipball holds (F15).
Loader-differential rows (tests/hostile/test_loader_differential.py):
onnx-external-data-dotdot (ran with FORKVET_LOADER_PATH naming onnx 1.15.0),
h5py-external-storage, h5py-external-link, h5py-virtual-dataset (h5py 3.16.0),
pickle-export-subst-in-git-archive and pickle-symlink-target-text-in-zipball (git, zipfile)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report
from forkvet.snapshot import load
from forkvet.vet import vet
from tests.conftest import git

README = {"README.md": "# Model\n"}


# -- F20: universal (fat) Mach-O ------------------------------------------------------------------
THIN = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x06\x00\x00\x00" + bytes(80)


def _fat(magic: bytes) -> bytes:
    wide = magic.endswith(b"\xbf")
    arch = (0x01000007).to_bytes(4, "big") + (3).to_bytes(4, "big")
    width = 8 if wide else 4
    off, size = (4096).to_bytes(width, "big"), len(THIN).to_bytes(width, "big")
    arch += off + size + (12).to_bytes(4, "big") + (bytes(4) if wide else b"")
    head = magic + (1).to_bytes(4, "big") + arch
    return head + bytes(4096 - len(head)) + THIN


@pytest.mark.parametrize("magic", [b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"], ids=["fat", "fat64"])
def test_a_universal_macho_named_as_data_is_an_error(
    vet_repo: Callable[..., Report], magic: bytes
) -> None:
    report = vet_repo({**README, "assets/colormap.bin": _fat(magic)})
    [risk] = [r for r in report.risks if r.kind == "native-code"]
    assert risk.severity == "error" and "Mach-O universal" in risk.message


def test_a_java_class_file_is_no_universal_image(vet_repo: Callable[..., Report]) -> None:
    java = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(40)  # minor 0, major 52 (Java 8)
    report = vet_repo({**README, "lib/Main.class": java})
    assert not [r for r in report.risks if r.kind == "native-code"]


# -- F7: ONNX external_data locations --------------------------------------------------------
def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(n: int) -> bytes:
    out = b""
    while n >= 0x80:
        out, n = out + bytes([n & 0x7F | 0x80]), n >> 7
    return out + bytes([n])


def _onnx(location: str, in_subgraph: bool = False) -> bytes:
    entry = _field(1, b"location") + _field(2, location.encode())
    tensor = _field(8, b"w") + _field(13, entry) + b"\x70\x01"  # data_location = EXTERNAL
    graph = _field(5, tensor)
    if in_subgraph:  # an If node's then_branch (AttributeProto.g) holds the tensor
        graph = _field(1, _field(5, _field(1, b"then_branch") + _field(6, graph)))
    return b"\x08\x08" + _field(7, graph)


@pytest.mark.parametrize(
    ("location", "nested"),
    [
        ("weights/../../../../tmp/secret.txt", False),
        ("/home/user/.ssh/id_rsa", False),
        ("..\\..\\secret", False),
        ("../secret", True),
    ],
    ids=["dotdot-after-folder", "absolute", "backslashes", "in-a-subgraph"],
)
def test_an_onnx_location_leaving_the_tree_is_an_error(
    vet_repo: Callable[..., Report], location: str, nested: bool
) -> None:
    report = vet_repo({**README, "model.onnx": _onnx(location, nested)})
    [risk] = [r for r in report.risks if r.kind == "link-outside"]
    assert risk.severity == "error" and risk.path == "model.onnx" and repr(location) in risk.message


def test_an_onnx_location_inside_the_tree_passes(vet_repo: Callable[..., Report]) -> None:
    files = {**README, "onnx/model.onnx": _onnx("../weights/w.bin"), "weights/w.bin": bytes(8)}
    assert not [r for r in vet_repo(files).risks if r.kind == "link-outside"]


def test_an_onnx_model_the_reader_cannot_finish_is_not_verified(
    vet_repo: Callable[..., Report],
) -> None:
    truncated = _onnx("w.bin")[:-3]
    [risk] = [r for r in vet_repo({**README, "model.onnx": truncated}).risks]
    assert risk.kind == "link-outside" and "NOT verified" in risk.message


# -- F9: HDF5 external storage, external links, virtual datasets -----------------------------
H5 = Path(__file__).parent.parent / "data" / "hdf5"  # made with h5py 3.16 (see README there)


@pytest.mark.parametrize(
    ("fixture", "shown"),
    [
        ("efl.h5", "/etc/hostname"),
        ("elink.h5", "../../secret.h5"),
        ("elink_old.h5", "/tmp/x.h5"),
        ("vds.h5", "virtual dataset"),
        ("dense_elink.h5", "/tmp/x.h5"),
        ("dense_big.h5", "more than one block"),
    ],
    ids=[
        "external-storage",
        "external-link",
        "external-link-old-groups",
        "virtual",
        "external-link-in-dense-group",
        "dense-group-past-the-reader",
    ],
)
def test_an_hdf5_file_naming_a_file_outside_the_tree_is_an_error(
    vet_repo: Callable[..., Report], fixture: str, shown: str
) -> None:
    report = vet_repo({**README, "model/weights.h5": (H5 / fixture).read_bytes()})
    [risk] = [r for r in report.risks if r.kind == "link-outside"]
    assert risk.severity == "error" and risk.path == "model/weights.h5" and shown in risk.message


@pytest.mark.parametrize("fixture", ["plain.h5", "latest.h5", "efl_rel.h5", "dense.h5"])
def test_an_hdf5_file_naming_nothing_outside_passes(
    vet_repo: Callable[..., Report], fixture: str
) -> None:
    report = vet_repo({**README, "weights.h5": (H5 / fixture).read_bytes()})
    assert not [r for r in report.risks if r.kind == "link-outside"]


def test_an_hdf5_file_is_found_by_its_signature_whatever_its_name(
    vet_repo: Callable[..., Report],
) -> None:
    report = vet_repo({**README, "assets/palette.bin": (H5 / "efl_userblock.h5").read_bytes()})
    assert [r for r in report.risks if r.kind == "link-outside"]


# -- F15: a symlink read as the file of its target text ---------------------------------------
PICKLE_TEXT = "cposix\nsystem\n(S'touch ran'\ntR."


def _linked(make_repo: Callable[..., Path], links: dict[str, str]) -> Path:
    root = make_repo({**README, "load.py": "import pickle\npickle.load(open('w.pkl', 'rb'))\n"})
    for name, target in links.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / name)
    return root


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("weights.pkl", PICKLE_TEXT),
        ("ckpt/model.bin", PICKLE_TEXT),
        ("conf/train.yaml", '!!python/object/apply:os.system ["touch ran"]'),
        (".cache/w.pkl", PICKLE_TEXT),
    ],
    ids=["pickle", "pickle-any-name", "yaml-tag", "in-a-skipped-folder-only"],
)
def test_a_symlink_whose_target_text_is_dangerous_is_an_error(
    make_repo: Callable[..., Path], name: str, target: str
) -> None:
    report = vet(load(_linked(make_repo, {name: target})))
    hits = [r for r in report.risks if r.severity == "error" and r.path == name]
    assert hits and "target text" in hits[0].message


def test_an_ordinary_symlink_is_no_error(make_repo: Callable[..., Path]) -> None:
    root = _linked(make_repo, {"latest.pt": "ckpt/model.pt", "data": "../datasets/coco"})
    (root / "ckpt").mkdir()
    (root / "ckpt/model.pt").write_bytes(b"PK\x05\x06" + bytes(18))
    report = vet(load(root))
    assert not [r for r in report.risks if "target text" in r.message]


# -- F8: export-subst: what `git archive` (GitHub's zipballs, torch.hub) holds -----------------
def _exported(make_repo: Callable[..., Path], attributes: str, message: str) -> Path:
    files = {
        **README,
        ".gitattributes": attributes,
        "checkpoints/model.pkl": "$Format:%B$",
        "hubconf.py": "import pickle\ndef model():\n    return pickle.load(open('m.pkl', 'rb'))\n",
    }
    root = make_repo(files)
    git(root, "commit", "-q", "--amend", "--cleanup=verbatim", "-m", message)
    return root


@pytest.mark.parametrize(
    "attributes",
    [
        "checkpoints/*.pkl export-subst\n",
        "[attr]keep export-subst\n*.pkl keep\n",
        "**/model.* export-subst\n",
    ],
    ids=["pattern", "macro", "double-star"],
)
def test_a_placeholder_the_archive_fills_with_a_pickle_is_an_error(
    make_repo: Callable[..., Path], attributes: str
) -> None:
    root = _exported(make_repo, attributes, PICKLE_TEXT)
    report = vet(load(root))
    [risk] = [r for r in report.risks if r.path == "checkpoints/model.pkl"]
    assert risk.severity == "error" and "git archive" in risk.message


def test_export_subst_filled_with_a_plain_message_passes(make_repo: Callable[..., Path]) -> None:
    root = _exported(make_repo, "checkpoints/*.pkl export-subst\n", "release 1.0\n")
    report = vet(load(root))
    assert not [r for r in report.risks if "git archive" in r.message]


def test_an_onnx_model_under_another_name_is_read_too(vet_repo: Callable[..., Report]) -> None:
    report = vet_repo({**README, "ckpt/model.bin": _onnx("/root/.netrc")})
    assert [r for r in report.risks if r.kind == "link-outside" and r.path == "ckpt/model.bin"]


def test_gits_own_attribute_matching_decides_too(
    make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.vet import gitattrs

    root = _exported(make_repo, "checkpoints/*.pkl export-subst\n", PICKLE_TEXT)
    monkeypatch.setattr(gitattrs.Attributes, "is_set", lambda *a: False)  # the reader misses
    report = vet(load(root))
    assert [r for r in report.risks if r.path == "checkpoints/model.pkl" and r.severity == "error"]
