"""Round 21 (outside attack, round 20a F4, F6, F9, F10, F12, F13): shelve stores in every dbm
format, compressed streams cut or broken after their output, native modules shadowing the
standard library, acceptances bound to the content they accepted, and bounds that fail
closed (a large JSON file, a large or file-borne chat template)."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from forkvet.report import Report, Risk

README = {"README.md": "# Model\n"}
# A protocol 4 pickle that imports and calls os.system (never loaded here: only scanned).
_EVIL = (
    b"\x80\x04\x95\x1a\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94"
    b"\x8c\x04true\x94\x85\x94R\x94."
)


def _errors(report: Report, path: str) -> list[Risk]:
    return [r for r in report.risks if r.path == path and r.severity == "error"]


# -- F9: a compressed stream cut after its output --
def _cut(kind: str, data: bytes) -> bytes:
    if kind == "bz2":
        return bz2.compress(data)[:-10]
    if kind == "xz":
        return lzma.compress(data)[:-10]
    if kind == "lzma":
        return lzma.compress(data, format=lzma.FORMAT_ALONE)[:-5]
    if kind == "gz":
        return gzip.compress(data)[:-4]
    if kind == "zlib":
        return zlib.compress(data)[:-2]
    if kind == "lz4":
        lz4_frame = pytest.importorskip("lz4.frame")
        return bytes(lz4_frame.compress(data))[:-4]
    zstandard = pytest.importorskip("zstandard")
    return bytes(zstandard.ZstdCompressor(write_checksum=True).compress(data))[:-2]


_KINDS = ["bz2", "xz", "lzma", "gz", "zlib", "lz4", "zst"]


@pytest.mark.parametrize("kind", _KINDS)
def test_a_cut_compressed_pickle_is_walked_and_not_verified(
    vet_repo: Callable[..., Report], kind: str
) -> None:
    path = f"m.pkl.{kind}"
    found = _errors(vet_repo({**README, path: _cut(kind, _EVIL)}), path)
    assert {r.kind for r in found} == {"dangerous-pickle", "pickle-unverified"}, found
    assert any("posix.system" in r.message for r in found), found


@pytest.mark.parametrize("kind", ["bz2", "xz", "lzma"])
def test_the_loaders_do_read_a_cut_stream_up_to_its_cut(kind: str) -> None:
    """The differential the rule rests on: the file objects hand out what came before the cut
    to a reader that asks a little at a time, and pickle.load stops at STOP."""
    value = {"a": list(range(10))}
    data = _cut(kind, pickle.dumps(value, protocol=4))
    raw = io.BytesIO(data)
    if kind == "bz2":
        with bz2.BZ2File(raw) as f:
            assert pickle.load(f) == value
    else:
        fmt = lzma.FORMAT_XZ if kind == "xz" else lzma.FORMAT_ALONE
        with lzma.LZMAFile(raw, format=fmt) as g:
            assert pickle.load(g) == value


@pytest.mark.parametrize("kind", ["bz2", "xz", "gz", "zlib"])
def test_a_cut_compressed_pickle_of_data_is_not_verified(
    vet_repo: Callable[..., Report], kind: str
) -> None:
    path = f"m.pkl.{kind}"
    data = _cut(kind, pickle.dumps({"a": [1, 2]}, protocol=4))
    found = _errors(vet_repo({**README, path: data}), path)
    assert [r.kind for r in found] == ["pickle-unverified"], found


def test_a_whole_compressed_pickle_of_data_passes(vet_repo: Callable[..., Report]) -> None:
    data = pickle.dumps({"a": [1, 2]}, protocol=4)
    report = vet_repo({**README, "m.pkl.bz2": bz2.compress(data), "n.pkl.xz": lzma.compress(data)})
    assert not [r for r in report.risks if r.severity == "error"], report.risks


# -- F4: every dbm format shelve may write --
def _bdb_page(magic: int, at: int, order: str) -> bytes:
    """A made-up Berkeley DB file: its metadata page's magic where DB writes it, then a
    data page holding a value (a shelve's pickle) in its middle."""
    page = bytearray(4096)
    page[at : at + 4] = magic.to_bytes(4, order)  # type: ignore[arg-type]
    value = bytearray(4096)
    value[1000 : 1000 + len(_EVIL)] = _EVIL
    return bytes(page + value)


@pytest.mark.parametrize(
    ("magic", "at", "order"),
    [
        (0x061561, 12, "little"),  # DB >= 2 hash (Debian's dbm.ndbm)
        (0x061561, 12, "big"),
        (0x053162, 12, "little"),  # btree
        (0x061561, 0, "little"),  # DB 1.85 hash (macOS ndbm)
    ],
)
def test_a_berkeley_db_shelve_has_its_values_walked_and_is_not_verified(
    vet_repo: Callable[..., Report], magic: int, at: int, order: str
) -> None:
    path = "cache/features.db"
    found = _errors(vet_repo({**README, path: _bdb_page(magic, at, order)}), path)
    assert {r.kind for r in found} == {"dangerous-pickle", "pickle-unverified"}, found
    assert any("Berkeley DB" in r.message for r in found), found


def test_a_gdbm_shelve_has_its_values_walked(vet_repo: Callable[..., Report]) -> None:
    data = (0x13579ACE).to_bytes(4, "little") + bytes(500) + _EVIL
    found = _errors(vet_repo({**README, "other.db": data}), "other.db")
    assert {r.kind for r in found} == {"dangerous-pickle", "pickle-unverified"}, found


def test_an_ndbm_pair_without_magic_is_not_verified(vet_repo: Callable[..., Report]) -> None:
    report = vet_repo({**README, "cache.pag": bytes(1024) + b"\x01" * 64, "cache.dir": bytes(64)})
    assert [r.kind for r in _errors(report, "cache.pag")] == ["pickle-unverified"], report.risks


_NDBM_WRITE = (
    "import dbm.ndbm, shelve, sys\n"
    "class Evil:\n"
    "    def __reduce__(self):\n"
    '        code = f\'__import__("builtins").open({sys.argv[2]!r}, "w").write("ran")\'\n'
    "        return (exec, (code,))\n"
    "with shelve.Shelf(dbm.ndbm.open(sys.argv[1], 'c')) as db:\n"
    "    db['model'] = Evil()\n"
    "print(dbm.ndbm.library)\n"
)
# the real loader: shelve.open finds the store dbm.whichdb names, and unpickles the value
_NDBM_READ = "import shelve, sys\nshelve.open(sys.argv[1], 'r')['model']\n"


@pytest.mark.parametrize("python", sorted({sys.executable, "/usr/bin/python3"}))
def test_a_real_ndbm_shelve_is_never_a_pass(
    vet_repo: Callable[..., Report], tmp_path: Path, python: str
) -> None:
    """Whatever library a Python's dbm.ndbm is (Berkeley DB on Debian's, gdbm's compat
    layer, ndbm), the files it writes for a shelve are never a pass."""
    if not os.path.exists(python):
        pytest.skip(f"{python} is not installed")
    store = tmp_path / "store"
    store.mkdir()
    mark = tmp_path / "ran"
    args = [str(store / "cache"), str(mark)]
    done = subprocess.run(
        [python, "-I", "-c", _NDBM_WRITE, *args], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        pytest.skip(f"{python} has no dbm.ndbm")
    subprocess.run([python, "-I", "-c", _NDBM_READ, *args], capture_output=True, timeout=60)
    assert mark.exists(), "the real loader did not run the payload"
    files: dict[str, str | bytes] = {**README}
    for f in store.iterdir():
        files[f.name] = f.read_bytes()
    report = vet_repo(files)
    named = {r.path for r in report.risks if r.kind == "pickle-unverified"}
    stores = {name for name in files if name.startswith("cache") and not name.endswith(".dir")}
    assert stores and stores <= named, (done.stdout, sorted(files), report.risks)


# -- F12: an acceptance by fingerprint binds the content it accepted --
_NET = "class Net:\n    def __init__(self, *args):\n        self.args = args\n"
_NET_PKL = b"\x80\x02cnets.model\nNet\nq\x00K\x04K\x08\x86q\x01\x81q\x02."


def _fingerprints(repo: Path, out: Path) -> dict[str, str]:
    from forkvet.cli import main

    main(["vet", str(repo), "--format", "sarif", "--output", str(out)])
    results = json.loads(out.read_text())["runs"][0]["results"]
    return {r["ruleId"]: r["partialFingerprints"]["forkvet/v1"] for r in results}


def _accepted_vet(repo: Path, cfg: Path, out: Path) -> dict[str, Any]:
    from forkvet.cli import main

    main(["vet", str(repo), "--format", "json", "--config", str(cfg), "--output", str(out)])
    return dict(json.loads(out.read_text()))


@pytest.mark.parametrize(
    "change",
    [
        {"nets/model.py": _NET + "import subprocess\nNet = subprocess.Popen\n"},
        {"model.pkl": _NET_PKL.replace(b"K\x04K\x08", b"K\x05K\x08")},
        {"nets/__init__.py": "import os\n"},
    ],
    ids=["class swapped", "checkpoint swapped", "package init added"],
)
def test_an_acceptance_by_fingerprint_binds_the_file_and_its_classes(
    tmp_path: Path, change: dict[str, str | bytes]
) -> None:
    repo = tmp_path / "repo"
    files: dict[str, str | bytes] = {
        **README,
        "nets/model.py": _NET,
        "model.pkl": _NET_PKL,
        "demo.py": "import pickle\nm = pickle.load(open('model.pkl', 'rb'))\n",
    }
    for name, content in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(content.encode() if isinstance(content, str) else content)
    fp = _fingerprints(repo, tmp_path / "v.sarif")["risks/unsafe-pickle"]
    cfg = tmp_path / "policy.yml"
    cfg.write_text(f"accept:\n  - fingerprint: {fp}\n    reason: reviewed\n")
    before = _accepted_vet(repo, cfg, tmp_path / "a.json")
    titles = {f["title"] for f in before["findings"]}
    assert "Accepted: Unsafe pickle" in titles and "Unsafe pickle" not in titles
    for name, content in change.items():
        (repo / name).write_bytes(content.encode() if isinstance(content, str) else content)
    after = _accepted_vet(repo, cfg, tmp_path / "b.json")
    titles = {f["title"] for f in after["findings"]}
    assert "Accepted: Unsafe pickle" not in titles, titles
    assert {"Unsafe pickle", "Dangerous pickle"} & titles, titles


# -- F13: a cross-repository reference in a large JSON file --
_LOAD = (
    "from transformers import AutoModel\n"
    "m = AutoModel.from_pretrained('.', trust_remote_code=True)\n"
)


def _big_config(n: int) -> str:
    return json.dumps(
        {"pad": ["x" * 100] * n, "auto_map": {"AutoModel": "attacker/evil--modeling.Evil"}}
    )


@pytest.mark.parametrize("n", [21_000, 50_000])  # 2.2 MB (over the text cap), 5.2 MB
def test_a_cross_repository_reference_in_a_large_json_file_is_found(
    vet_repo: Callable[..., Report], n: int
) -> None:
    report = vet_repo({**README, "config.json": _big_config(n), "load.py": _LOAD})
    found = [r for r in _errors(report, "config.json") if r.kind == "remote-code"]
    assert found and "attacker/evil" in found[0].message, report.risks


def test_a_json_file_past_the_streaming_bound_fails_closed(
    vet_repo: Callable[..., Report], monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.vet import risks

    monkeypatch.setattr(risks, "_MAX_STREAMED_JSON", 1 << 20)
    report = vet_repo({**README, "config.json": _big_config(21_000), "load.py": _LOAD})
    found = [r for r in _errors(report, "config.json") if r.kind == "remote-code"]
    assert found and "NOT verified" in found[0].message, report.risks


# -- F6: chat templates past a bound, and templates kept as files --
_BAD_TEMPLATE = "{{ ''.__class__.__mro__[1].__subclasses__() }}"


def _template_errors(report: Report, path: str) -> list[Risk]:
    return [r for r in _errors(report, path) if r.kind == "code-in-data"]


@pytest.mark.parametrize("mib", [1.1, 9])
def test_a_large_chat_template_is_judged_or_not_verified(
    vet_repo: Callable[..., Report], mib: float
) -> None:
    pad = "{{ m.content }}" * int(mib * 1024 * 1024 // 15)
    doc = json.dumps({"chat_template": pad + _BAD_TEMPLATE})
    found = _template_errors(
        vet_repo({**README, "tokenizer_config.json": doc}), "tokenizer_config.json"
    )
    assert found and "NOT verified" in found[0].message, found


@pytest.mark.parametrize(
    "path",
    [
        "additional_chat_templates/tool_use.jinja",
        "model/additional_chat_templates/rag.jinja",
        "model/templates_x.jinja",
        "recipes/vllm/template_chatml.jinja",  # vllm serve --chat-template
    ],
)
def test_template_files_a_tokenizer_loads_are_judged(
    vet_repo: Callable[..., Report], path: str
) -> None:
    files = {**README, "tokenizer_config.json": "{}", "model/tokenizer.json": "{}"}
    found = _template_errors(vet_repo({**files, path: _BAD_TEMPLATE}), path)
    assert found and "__subclasses__" in found[0].message, found


def test_a_named_template_mapping_is_judged(vet_repo: Callable[..., Report]) -> None:
    doc = json.dumps({"chat_template": {"default": "{{ m }}", "tool_use": _BAD_TEMPLATE}})
    path = "tokenizer_config.json"
    assert _template_errors(vet_repo({**README, path: doc}), path)


def test_a_large_template_file_is_not_verified(vet_repo: Callable[..., Report]) -> None:
    text = "{{ m.content }}" * (300_000) + _BAD_TEMPLATE  # 4.5 MB: over the text cap
    found = _template_errors(
        vet_repo({**README, "chat_template.jinja": text}), "chat_template.jinja"
    )
    assert found and "NOT verified" in found[0].message, found


def test_a_plain_template_file_passes(vet_repo: Callable[..., Report]) -> None:
    text = (
        "{% for m in messages %}{{ m['role'] }}: {{ m.content }}{{ rows[loop.index0] }}{% endfor %}"
    )
    report = vet_repo({**README, "web/templates/page.jinja": text})
    assert not _template_errors(report, "web/templates/page.jinja"), report.risks


# -- F10: a native module named after the standard library or an installed module --
_ELF = b"\x7fELF\x02\x01\x01" + bytes(57)
_TRAIN = "import collections\nimport numpy\nprint(collections, numpy)\n"


@pytest.mark.parametrize(
    "path",
    [
        "collections.cpython-311-x86_64-linux-gnu.so",
        "argparse.abi3.so",
        "json.pyd",
        "tools/typing.so",  # beside tools/run.py, the folder that script starts in
        "enum/__init__.cpython-311-x86_64-linux-gnu.so",  # a compiled package
        "numpy.cpython-311-x86_64-linux-gnu.so",  # an installed module the code imports
        "collections.pyc",  # sourceless bytecode
    ],
)
def test_a_compiled_module_shadowing_the_stdlib_or_a_dependency_is_an_error(
    vet_repo: Callable[..., Report], path: str
) -> None:
    files = {**README, "train.py": _TRAIN, "tools/run.py": "print(1)\n", path: _ELF}
    found = [r for r in _errors(vet_repo(files), path) if r.kind == "compiled-shadow"]
    assert found and "instead of the" in found[0].message, found


def test_a_lone_compiled_module_of_its_own_name_stays_a_warning(
    vet_repo: Callable[..., Report],
) -> None:
    files = {
        **README,
        "train.py": "import fast_nms\n",
        "fast_nms.cpython-311-x86_64-linux-gnu.so": _ELF,
    }
    report = vet_repo(files)
    assert not _errors(report, "fast_nms.cpython-311-x86_64-linux-gnu.so"), report.risks
    assert not _errors(vet_repo({**README, "data/collections.so": _ELF}), "data/collections.so")
