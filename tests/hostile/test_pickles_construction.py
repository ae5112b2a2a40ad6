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


def test_a_pickle_that_looks_like_a_container_is_still_walked(
    tmp_path: Path, vet_repo: Vet
) -> None:
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


def test_a_module_name_that_is_no_identifier_is_still_an_import(tmp_path: Path) -> None:
    """pickle.load hands any module name to __import__, which finds `1evil.py` or
    `my-mod.py` in the repository: such an import is an error, not the end of the walk."""
    from forkvet.snapshot import load
    from forkvet.vet import vet

    marker = tmp_path / "PWNED"
    repo = tmp_path / "repo"
    (repo / "lib").mkdir(parents=True)
    (repo / "1evil.py").write_text(f"open({str(marker)!r}, 'w')\nx = 1\n")
    (repo / "lib" / "my-mod.py").write_text(f"open({str(marker)!r}, 'w')\nx = 1\n")
    cases = {
        "a.pkl": b"c1evil\nx\n.",
        "b.pkl": b"\x80\x02cmy-mod\nx\nq\x00)\x81.",
        "c.pkl": b"(i1evil\nx\n.",
        "d.pkl": b"\x80\x04\x8c\x061evil \x94\x8c\x01x\x94\x93.",  # not a repository name
        "e.pkl": b"\x80\x04\x8c\x051evil\x94\x8c\x03x-y\x94\x93.",
        # after a name no loader can import, the walk goes on to the next import
        "f.pkl": b"cnot a module\nx\n0" + P.os_system("true", 2)[2:],
        # text that spells a GLOBAL of names nothing can import is not a pickle
        "CHANGES": b"changes\n=======\n\n- 1.0: first release\n",
    }
    for name, data in cases.items():
        (repo / name).write_bytes(data)
    report = vet(load(repo))
    errors = {r.path for r in report.risks if r.severity == "error"}
    assert errors == {"a.pkl", "b.pkl", "c.pkl", "e.pkl", "f.pkl"}
    assert not any(r.path == "CHANGES" for r in report.risks)
    assert not marker.exists()
    # and the loaders really do import the repository's module
    lib = repo / "lib"
    assert P.really_runs("import pickle; pickle.loads(DATA)", cases["a.pkl"], repo, marker)
    marker.unlink()
    assert P.really_runs("import pickle; pickle.loads(DATA)", cases["b.pkl"], lib, marker)
