"""Round 22a (fixed in round 23): binary weight formats and the forms a checkout or archive
takes. Universal Mach-O images are native code (F20); an ONNX tensor's external data and HDF5's
external storage, external links and virtual datasets name files the loader reads (F7, F9);
`export-subst` rewrites what `git archive` (GitHub's zipballs, torch.hub) writes (F8); a
symlink's target text is the file a Windows checkout or a Python-extracted zipball holds (F15).
Loader-differential rows: tests/hostile/test_loader_differential.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report

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
