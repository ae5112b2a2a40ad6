"""The code vet reads is the code Python runs (outside attack, round 14a F1-F3, F8): compiled
bytecode and native modules importlib takes before a shown `.py`, a PEP 263 cookie that
decodes ASCII otherwise than UTF-8, and a `.py` symlink to a file of another name."""

from __future__ import annotations

import importlib.util
import os
import py_compile
from pathlib import Path

from forkvet.report import Risk
from forkvet.snapshot import load, python_decode
from forkvet.vet import vet
from tests.conftest import MakeRepo, git

BENIGN = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    pass\n"
HIDDEN = "import os\nos.system('touch /tmp/ran')\n" + BENIGN
TRAIN = "from model import Net\n\nif __name__ == '__main__':\n    Net()\n"
REPO = {"README.md": "# tiny\n", "model.py": BENIGN, "train.py": TRAIN}


def _risks(root: Path) -> list[Risk]:
    return vet(load(root)).risks


def _of(root: Path, kind: str) -> list[Risk]:
    return [r for r in _risks(root) if r.kind == kind]


def _compile(tmp: Path, source: str, cfile: Path, mode: py_compile.PycInvalidationMode) -> None:
    src = tmp / "hidden_src.py"
    src.write_text(source, encoding="utf-8")
    cfile.parent.mkdir(parents=True, exist_ok=True)
    py_compile.compile(
        str(src), cfile=str(cfile), dfile="model.py", doraise=True, invalidation_mode=mode
    )


def _commit(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", "more")


# -- compiled bytecode -------------------------------------------------------------------------
def test_a_committed_unchecked_hash_pyc_runs_instead_of_the_source(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    root = make_repo(REPO)
    pyc = root / "__pycache__" / "model.cpython-311.pyc"
    _compile(tmp_path, HIDDEN, pyc, py_compile.PycInvalidationMode.UNCHECKED_HASH)
    _commit(root)
    [risk] = _of(root, "compiled-shadow")
    assert risk.severity == "error" and risk.path == "__pycache__/model.cpython-311.pyc"
    assert "instead of model.py" in risk.message and "vetted the source, not this" in risk.message


def test_an_untracked_unchecked_hash_pyc_is_an_error_too(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    """No normal run writes an unchecked-hash pyc: it is reported whether git tracks it or not."""
    root = make_repo(REPO)
    pyc = root / "sub" / "__pycache__" / "model.cpython-312.pyc"
    (root / "sub").mkdir()
    (root / "sub" / "model.py").write_text(BENIGN, encoding="utf-8")
    _commit(root)
    _compile(tmp_path, HIDDEN, pyc, py_compile.PycInvalidationMode.UNCHECKED_HASH)
    assert [r.path for r in _of(root, "compiled-shadow")] == [
        "sub/__pycache__/model.cpython-312.pyc"
    ]


def test_the_pyc_a_normal_run_writes_is_not_reported(make_repo: MakeRepo) -> None:
    """A timestamp pyc of the source as it is, in an untracked __pycache__: what `python
    train.py` leaves in every local checkout."""
    root = make_repo(REPO)
    py_compile.compile(str(root / "model.py"), doraise=True)  # __pycache__/model.<tag>.pyc
    assert list((root / "__pycache__").iterdir())
    risks = _risks(root)
    assert not [r for r in risks if r.kind.startswith("compiled")]


def test_a_committed_pyc_is_an_error_when_it_matches_and_a_warning_when_stale(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(REPO)
    py_compile.compile(str(root / "model.py"), doraise=True)
    _commit(root)
    assert [r.severity for r in _of(root, "compiled-shadow")] == ["error"]  # matches: it runs
    st = (root / "model.py").stat()
    os.utime(root / "model.py", (st.st_atime, st.st_mtime + 100))  # what a fresh clone does
    assert not _of(root, "compiled-shadow")
    [stale] = _of(root, "compiled-module")
    assert stale.severity == "warning" and "__pycache__/model." in stale.message


def test_a_checked_hash_pyc_counts_only_when_its_hash_is_the_source_s(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    root = make_repo(REPO)
    pyc = Path(importlib.util.cache_from_source(str(root / "model.py")))
    _compile(tmp_path, HIDDEN, pyc, py_compile.PycInvalidationMode.CHECKED_HASH)
    _commit(root)
    assert not _of(root, "compiled-shadow")  # hash of other source: Python recompiles
    assert [r.severity for r in _of(root, "compiled-module")] == ["warning"]  # still committed
    # the same hash as model.py, other bytecode: Python runs the bytecode
    py_compile.compile(
        str(root / "model.py"),
        cfile=str(pyc),
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )
    assert [r.severity for r in _of(root, "compiled-shadow")] == ["error"]


def test_a_sourceless_package_init_pyc_shadows_the_module(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    root = make_repo(REPO)
    _compile(
        tmp_path, HIDDEN, root / "model" / "__init__.pyc", py_compile.PycInvalidationMode.TIMESTAMP
    )
    _commit(root)
    [risk] = _of(root, "compiled-shadow")
    assert risk.severity == "error" and risk.path == "model/__init__.pyc"
    assert "instead of model.py" in risk.message


def test_a_pyc_beside_its_source_never_runs_but_is_committed_compiled_code(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    """Source before sourceless bytecode: `model.pyc` beside model.py is never imported; a
    lone `helpers.pyc` is the only code of `helpers`."""
    root = make_repo(REPO)
    _compile(tmp_path, HIDDEN, root / "model.pyc", py_compile.PycInvalidationMode.TIMESTAMP)
    _compile(tmp_path, HIDDEN, root / "helpers.pyc", py_compile.PycInvalidationMode.TIMESTAMP)
    _commit(root)
    assert not _of(root, "compiled-shadow")
    [risk] = _of(root, "compiled-module")
    assert risk.severity == "warning" and "helpers.pyc" in risk.message
    assert "model.pyc" in risk.message


# -- native extensions -------------------------------------------------------------------------
def test_a_native_extension_beside_the_source_runs_instead(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            **REPO,
            "model.cpython-311-x86_64-linux-gnu.so": b"\x7fELF fake",
            "pkg/__init__.py": "",
            "pkg/ops.py": "x = 1\n",
            "pkg/ops.abi3.so": b"\x7fELF fake",
            "win/layer.py": "x = 1\n",
            "win/layer.cp311-win_amd64.pyd": b"MZ fake",
        }
    )
    found = {r.path: r for r in _of(root, "compiled-shadow")}
    assert set(found) == {
        "model.cpython-311-x86_64-linux-gnu.so",
        "pkg/ops.abi3.so",
        "win/layer.cp311-win_amd64.pyd",
    }
    assert all(r.severity == "error" for r in found.values())
    assert (
        "Native code runs instead of model.py"
        in found["model.cpython-311-x86_64-linux-gnu.so"].message
    )


def test_a_package_folder_wins_over_a_native_module_file(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"README.md": "# r\n", "ops/__init__.py": "", "ops.so": b"\x7fELF", "lib_x.so": b"\x7fELF"}
    )
    assert not _of(root, "compiled-shadow")
    [risk] = _of(root, "compiled-module")
    assert risk.severity == "warning" and "ops.so" in risk.message and "lib_x.so" in risk.message


def test_a_native_init_shadows_the_package_source(make_repo: MakeRepo) -> None:
    root = make_repo({"README.md": "# r\n", "pkg/__init__.py": "", "pkg/__init__.so": b"\x7f"})
    [risk] = _of(root, "compiled-shadow")
    assert risk.path == "pkg/__init__.so" and "instead of pkg/__init__.py" in risk.message


def test_an_untracked_local_build_is_a_notice_or_a_warning(make_repo: MakeRepo) -> None:
    """`setup.py build_ext --inplace` leaves untracked extensions: not the fork's."""
    root = make_repo({"README.md": "# r\n", "ops.pyx": "x = 1\n", "model.py": BENIGN})
    (root / "ops.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    (root / "model.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    risks = _risks(root)
    assert [(r.kind, r.severity) for r in risks if r.kind.startswith("compiled")] == [
        ("compiled-shadow", "warning"),
        ("compiled-module", "notice"),
    ]
    report = vet(load(root))
    assert not [f for f in report.findings if f.severity == "error"]


def test_a_plain_repo_has_no_compiled_findings(make_repo: MakeRepo) -> None:
    root = make_repo({**REPO, "data/libs.txt": "x.so\n", "weights.bin": b"\x00" * 10})
    assert not [r for r in _risks(root) if r.kind.startswith("compiled")]


# -- PEP 263 cookies ---------------------------------------------------------------------------
def test_source_is_decoded_by_its_cookie_as_python_does(make_repo: MakeRepo) -> None:
    hidden = "import os; exec(os.environ['X'])"
    utf7 = (
        "# -*- coding: utf-7 -*-\nimport torch.nn as nn\n# init +AAo-"
        + hidden.encode("utf-7").decode("ascii")
        + "\n"
    )
    uesc = "# -*- coding: unicode_escape -*-\n# see https://x\\u000a" + hidden + "\n"
    root = make_repo({"README.md": "# r\n", "a.py": utf7, "b.py": uesc, "c.py": "x = 1\n"})
    risks = _risks(root)
    assert {(r.path, r.line) for r in risks if r.kind == "eval"} == {("a.py", 4), ("b.py", 3)}
    enc = {r.path: r for r in risks if r.kind == "source-encoding"}
    assert set(enc) == {"a.py", "b.py"} and enc["a.py"].severity == "warning"
    assert "utf-7" in enc["a.py"].message


def test_an_ascii_compatible_cookie_is_only_decoded(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "README.md": "# r\n",
            "a.py": "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1"),
            "b.py": "# coding: utf-8\nx = 1\n",
            "c.py": "# vim: set fileencoding=gbk :\nx = '\u4e2d'\n".encode("gbk"),
        }
    )
    snap = load(root)
    assert snap.read_text("a.py") == "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"
    assert not [r for r in vet(snap).risks if r.kind == "source-encoding"]


def test_python_decode_flags_codecs_that_read_ascii_otherwise() -> None:
    for codec in ("utf-7", "unicode_escape", "raw_unicode_escape", "cp037", "utf-16", "utf-32"):
        _text, odd = python_decode(f"# coding: {codec}\nx = 1\n".encode("ascii"))
        assert odd is not None, codec
    for codec in ("latin-1", "cp1252", "gbk", "shift_jis", "euc-kr", "utf-8"):
        assert python_decode(f"# coding: {codec}\nx = 1\n".encode("ascii"))[1] is None, codec
    assert python_decode(b"# coding: no-such-codec\nx = 1\n") == (None, None)


# -- symlinks ----------------------------------------------------------------------------------
def test_a_py_symlink_is_analysed_as_the_module_it_is(make_repo: MakeRepo) -> None:
    root = make_repo(
        {
            "README.md": "# r\n",
            "train.py": TRAIN,
            "assets/config.txt": "import os\nexec(os.environ['X'])\n" + BENIGN,
        }
    )
    (root / "model.py").symlink_to("assets/config.txt")
    _commit(root)
    report = vet(load(root))
    assert [(r.path, r.line) for r in report.risks if r.kind == "eval"] == [("model.py", 2)]
    assert "model" not in report.dependencies.imported  # the repository's own module


def test_a_committed_pre_3_7_pyc_is_read_by_its_12_byte_header(make_repo: MakeRepo) -> None:
    """Before PEP 552 a pyc has no flags word: magic, time, size (a real fork commits one)."""
    root = make_repo(REPO)
    head = (3379).to_bytes(2, "little") + b"\r\n" + (1).to_bytes(4, "little")
    pyc = root / "__pycache__" / "model.cpython-36.pyc"
    pyc.parent.mkdir()
    pyc.write_bytes(head + len(BENIGN).to_bytes(4, "little") + b"\xe3" + bytes(40))
    _commit(root)
    assert not _of(root, "compiled-shadow")  # its time is not the checkout's: regenerated
    [risk] = _of(root, "compiled-module")
    assert risk.severity == "warning" and risk.path == "__pycache__/model.cpython-36.pyc"


def test_an_unchecked_hash_pyc_anywhere_is_an_error(tmp_path: Path, make_repo: MakeRepo) -> None:
    """Round 15a F8: a Dockerfile's PYTHONPYCACHEPREFIX=/app/pycache maps `import model` to
    `pycache/app/model.cpython-311.pyc`, far from model.py; an unchecked-hash pyc anywhere
    is bytecode no normal run writes."""
    root = make_repo({**REPO, "Dockerfile": "ENV PYTHONPYCACHEPREFIX=/app/pycache\n"})
    pyc = root / "pycache" / "app" / "model.cpython-311.pyc"
    pyc.parent.mkdir(parents=True)
    _compile(tmp_path, HIDDEN, pyc, py_compile.PycInvalidationMode.UNCHECKED_HASH)
    _commit(root)
    assert [r.path for r in _of(root, "compiled-shadow")] == ["pycache/app/model.cpython-311.pyc"]


def test_a_cookie_past_the_second_line_counts_as_python_counts_lines(tmp_path: Path) -> None:
    """Round 15a F15: with CR line ends, the cookie on the third line was read (one \\n-line),
    while Python counts CR as a line end and ignores it: forkvet vetted a utf-7 view."""
    import subprocess
    import sys

    from forkvet.snapshot import python_decode

    src = b"x = 1\r# two\r# -*- coding: utf-7 -*-\rprint('+AGk-')\r"
    text, odd = python_decode(src)
    assert (text, odd) == (None, None)  # the default decoding, as Python's
    path = tmp_path / "m.py"
    path.write_bytes(src)
    ran = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=False)
    assert ran.stdout.strip() == "+AGk-"  # Python did not decode it as utf-7 either
