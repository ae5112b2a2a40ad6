"""The pickle rules of issue 17, by construction: every stream gets the pickle probe whatever
its name, folder or magic bytes; sniffing a container only adds scans."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report
from tests.hostile import payloads as P

Vet = Callable[..., Report]


def _disguised(cmd: str) -> dict[str, bytes]:
    return {
        "ustar.pkl": P.ustar_at_257(cmd),
        "bzh.pkl": P.bzh_prefix(cmd),
        "gzip_magic.pkl": P.prefixed(b"\x1f\x8b\x08\x00", cmd),
        "zip_magic.pkl": P.prefixed(b"PK\x03\x04", cmd),
        "npy_magic.pkl": P.prefixed(b"\x93NUMPY\x01\x00", cmd),
        "xz_magic.pkl": P.prefixed(b"\xfd7zXZ\x00", cmd),
        "zstd_magic.pkl": P.prefixed(b"\x28\xb5\x2f\xfd", cmd),
        "release/ustar.pt": P.torch_zip(P.ustar_at_257(cmd)),
        "release/bzh.pt": P.torch_zip(P.bzh_prefix(cmd)),
    }


def test_a_pickle_that_looks_like_a_container_is_still_walked(tmp_path: Path, vet_repo: Vet) -> None:
    marker = tmp_path / "PWNED"
    cases = _disguised(f"touch {marker}")
    report = vet_repo(cases)
    errors = {r.path for r in report.risks if r.severity == "error"}
    assert sorted(set(cases) - errors) == []
    assert not marker.exists()


@pytest.mark.parametrize("name", ["ustar.pkl", "bzh.pkl", "zip_magic.pkl", "npy_magic.pkl"])
def test_the_disguised_fixtures_really_run_code(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "PWNED"
    data = _disguised(f"touch {marker}")[name]
    assert P.really_runs("import pickle; pickle.loads(DATA)", data, tmp_path, marker)
