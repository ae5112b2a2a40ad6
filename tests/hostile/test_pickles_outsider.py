"""An outside reviewer's pickle bypasses (the `attack` branch's test_outsider.py), and their
neighbours: every pickle that imports or runs code is an error (exit 1), none is unpickled.

Each hostile file is proven to run its payload under the ordinary loader in a throwaway child
(so a pass of forkvet's scan would be a real miss, not a broken file).
"""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.config import Config, RiskPolicy
from forkvet.report import Report
from tests.hostile import payloads as P
from tests.hostile.child import forkvet, run_bounded

Vet = Callable[..., Report]


def touch_pickle(flag: Path) -> bytes:
    """Protocol 0: os.system('touch MARKER') when loaded."""
    return f"cos\nsystem\n(S'touch {flag}'\ntR.".encode()


def assert_pickle_is_an_error(repo: Path, flag: Path, *args: str) -> dict[str, object]:
    proc = forkvet("vet", str(repo), "--format", "json", *args)
    assert not flag.exists(), "forkvet itself unpickled the file"
    assert proc.returncode == 1, f"exit {proc.returncode}: {proc.stderr[-500:]}"
    report: dict[str, object] = json.loads(proc.stdout)
    kinds = {r["kind"] for r in report["risks"]}  # type: ignore[attr-defined]
    assert kinds & {"dangerous-pickle", "unsafe-pickle"}, kinds
    return report


def each_runs(cases: dict[str, bytes], flag: Path, loader: str = "pickle.load(fh)") -> None:
    """loads_and_runs for many files in one child: each one alone creates the flag."""
    folder = flag.parent / "proof"
    folder.mkdir()
    for i, data in enumerate(cases.values()):
        (folder / str(i)).write_bytes(data)
    code = (
        "import os, pickle, sys\n"
        f"flag, out = {str(flag)!r}, []\n"
        f"for i in range({len(cases)}):\n"
        f"    fh = open(os.path.join({str(folder)!r}, str(i)), 'rb')\n"
        f"    try:\n        {loader}\n    except Exception:\n        pass\n"
        "    out.append(os.path.exists(flag))\n"
        "    if os.path.exists(flag):\n        os.unlink(flag)\n"
        "print(''.join('1' if x else '0' for x in out))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], timeout=120, check=False, capture_output=True, text=True
    )
    ran = dict(zip(cases, proc.stdout.strip()))
    assert [name for name in cases if ran.get(name) != "1"] == [], "not working payloads"


def loads_and_runs(data: bytes, flag: Path, loader: str = "pickle.load(fh)") -> None:
    """Prove, in a throwaway child, that the ordinary loader really runs the payload."""
    payload = flag.parent / "payload.bin"
    payload.write_bytes(data)
    code = (
        f"import gzip, pickle\nfh = open({str(payload)!r}, 'rb')\n"
        f"try:\n    {loader}\nexcept Exception:\n    pass\n"
    )
    subprocess.run([sys.executable, "-c", code], timeout=60, check=False, cwd=flag.parent)
    assert flag.exists(), "the hostile file is not a working payload"
    flag.unlink()
    payload.unlink()


def _su(text: str) -> bytes:
    """SHORT_BINUNICODE."""
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def _one_file_repo(tmp_path: Path, name: str, data: bytes) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / name).write_bytes(data)
    return repo


# -- the reviewer's cases (tests/hostile/test_outsider.py on the attack branch) ------------------
def test_pickle_behind_a_long_protocol0_line_is_an_error(tmp_path: Path) -> None:
    """A protocol-0 STRING longer than the 4 KiB head: pickle.load reads any line length."""
    flag = tmp_path / "MARKER"
    data = b"S'" + b"A" * 5000 + b"'\n0" + touch_pickle(flag)
    loads_and_runs(data, flag)
    assert_pickle_is_an_error(_one_file_repo(tmp_path, "model.pkl", data), flag)


def test_pickle_starting_with_a_hex_int_is_an_error(tmp_path: Path) -> None:
    """INT is read by C strtol(base 0): `I0x10` is a valid opcode."""
    flag = tmp_path / "MARKER"
    data = b"I0x10\n0" + touch_pickle(flag)
    loads_and_runs(data, flag)
    assert_pickle_is_an_error(_one_file_repo(tmp_path, "weights.pt", data), flag)


def test_stack_global_after_pops_is_seen_as_what_it_imports(tmp_path: Path) -> None:
    """push 'os', 'system', 'torch._utils', '_rebuild_tensor_v2', POP, POP, STACK_GLOBAL:
    pickle imports os.system, not torch's rebuild function."""
    flag = tmp_path / "MARKER"
    data = (
        b"\x80\x04"
        + b"".join(map(_su, ("os", "system", "torch._utils", "_rebuild_tensor_v2")))
        + b"00\x93"
        + _su(f"touch {flag}")
        + b"\x85R."
    )
    loads_and_runs(data, flag)
    report = assert_pickle_is_an_error(_one_file_repo(tmp_path, "model.pt", data), flag)
    messages = " ".join(r["message"] for r in report["risks"])  # type: ignore[attr-defined]
    assert "os.system" in messages


def test_repository_config_cannot_switch_off_the_pickle_error(tmp_path: Path) -> None:
    """The fork's own .github/forkvet.yml says `fail_on_dangerous_pickle: false`."""
    flag = tmp_path / "MARKER"
    repo = tmp_path / "repo"
    (repo / ".github").mkdir(parents=True)
    (repo / ".github" / "forkvet.yml").write_text("risks:\n  fail_on_dangerous_pickle: false\n")
    (repo / "model.pkl").write_bytes(touch_pickle(flag))
    assert_pickle_is_an_error(repo, flag)


def test_pickle_hidden_past_the_scan_budget_is_an_error(tmp_path: Path) -> None:
    """Millions of harmless opcodes in a gzip, then os.system: the budget runs out."""
    flag = tmp_path / "MARKER"
    raw = b"N0" * 3_000_000 + touch_pickle(flag)
    repo = _one_file_repo(tmp_path, "model.pkl.gz", gzip.compress(raw))
    assert (repo / "model.pkl.gz").stat().st_size < 64 * 1024
    loads_and_runs(raw, flag)
    proc = forkvet("vet", str(repo), "--format", "json", env={"FORKVET_VET_SECONDS": "2"})
    assert not flag.exists()
    assert proc.returncode == 1, f"exit {proc.returncode}: an unverified pickle passed"
    risks = json.loads(proc.stdout)["risks"]
    assert any(r["kind"] == "pickle-unverified" and r["severity"] == "error" for r in risks)


def test_a_run_out_of_time_before_the_pickle_scan_still_fails(tmp_path: Path) -> None:
    """Vetting spends its whole budget on other files first: the risks check still runs (the
    other checks that did not start are notices), and the pickle it had no time for is an
    unverified error, never an exit 0."""
    flag = tmp_path / "MARKER"
    repo = _one_file_repo(tmp_path, "model.pkl", touch_pickle(flag))
    for i in range(200):
        (repo / f"mod{i}.py").write_text("import os\n" * 300)
    proc = forkvet("vet", str(repo), "--format", "json", env={"FORKVET_VET_SECONDS": "0.05"})
    assert not flag.exists()
    assert proc.returncode == 1, f"exit {proc.returncode}: a pickle passed unscanned"
    report = json.loads(proc.stdout)
    assert any(f["title"] == "Check not run: time limit" for f in report["findings"])
    assert any(r["kind"] in ("pickle-unverified", "dangerous-pickle") for r in report["risks"])


# -- neighbours: the stack model ---------------------------------------------------------------
def _stack_cases(cmd: str) -> dict[str, bytes]:
    arg = _su(cmd) + b"\x85R."
    safe = _su("torch._utils") + _su("_rebuild_tensor_v2")
    return {
        # POP_MARK drops the decoys pushed after a MARK
        "pop_mark.pt": b"\x80\x04" + _su("os") + _su("system") + b"(" + safe + b"1\x93" + arg,
        # the decoys are packed into a tuple and dropped
        "tuple_pop.pt": b"\x80\x04" + _su("os") + _su("system") + safe + b"\x860\x93" + arg,
        # a list built from the decoys (MARK ... LIST), dropped
        "list_pop.pt": b"\x80\x04" + _su("os") + _su("system") + b"(" + safe + b"l0\x93" + arg,
        # the real names come back from the memo after decoys were on top
        "memo.pt": b"\x80\x04"
        + _su("os")
        + b"\x94"
        + _su("system")
        + b"\x94"
        + b"00"
        + safe
        + b"00h\x00h\x01\x93"
        + arg,
        # PUT overwrites a memo slot that first held a safe name
        "memo_overwrite.pt": b"\x80\x02"
        + _su("torch._utils")
        + b"q\x00"
        + _su("_rebuild_tensor_v2")
        + b"q\x010"
        + b"0"
        + _su("os")
        + b"q\x000"
        + _su("system")
        + b"q\x010"
        + b"h\x00h\x01\x93"
        + arg,
        # a PUT key written as 70,000 digits: the walker cannot keep it, so the memo is unknown
        "long_put_key.pt": b"\x80\x02"
        + _su("torch._utils")
        + b"q\x000"
        + _su("os")
        + b"p"
        + b" " * 70_000
        + b"0\n0h\x00"
        + _su("system")
        + b"\x93"
        + arg,
        # DUP of a name, then the decoy dropped
        "dup.pt": b"\x80\x04" + _su("os") + _su("system") + b"2" + b"0" + b"\x93" + arg,
        # the module name is built at load time (builtins.str('os')): unknown, never safe
        "built_name.pt": b"\x80\x04"
        + _su("builtins")
        + _su("str")
        + b"\x93"
        + _su("os")
        + b"\x85R"
        + _su("system")
        + b"\x93"
        + arg,
    }


def test_stack_global_sees_the_names_pickle_load_uses(tmp_path: Path, vet_repo: Vet) -> None:
    flag = tmp_path / "MARKER"
    cases = _stack_cases(f"touch {flag}")
    each_runs(cases, flag)
    report = vet_repo(cases)
    flagged = {
        r.path
        for r in report.risks
        if r.severity == "error" and r.kind in ("dangerous-pickle", "unsafe-pickle")
    }
    assert sorted(set(cases) - flagged) == []
    # the rebuild function of torch is never what hides the payload
    assert not any(r.kind == "pickle-checkpoint" for r in report.risks)
    assert not flag.exists()


# -- neighbours: what pickle.load accepts as arguments -----------------------------------------
def _arg_cases(flag: Path) -> dict[str, bytes]:
    evil = touch_pickle(flag)
    return {
        "octal.pkl": b"I010\n0" + evil,  # strtol: a leading 0 is octal
        "spaces.pkl": b"I  12\n0" + evil,
        "nul.pkl": b"I1\x00junk\n0" + evil,  # C strtol stops at the NUL
        "underscore.pkl": b"I1_000\n0" + evil,  # Python's int() fallback
        "binary.pkl": b"I0b101\n0" + evil,
        "long_hex.pkl": b"L0x10L\n0" + evil,
        "float_nan.pkl": b"Fnan\n0" + evil,
        "escaped_string.pkl": b"S'\\x41\\n'\n0" + evil,
        "huge_line.pkl": b"V" + b"A" * 100_000 + b"\n0" + evil,  # past the 64 KiB window
        "long_string.pkl": b"S'" + b"B" * 70_000 + b"'\n0" + evil,
    }


def test_arguments_pickle_load_accepts_do_not_stop_the_scan(tmp_path: Path, vet_repo: Vet) -> None:
    flag = tmp_path / "MARKER"
    cases = _arg_cases(flag)
    each_runs(cases, flag)
    report = vet_repo(cases)
    flagged = {
        r.path
        for r in report.risks
        if r.kind == "dangerous-pickle" and r.severity == "error" and "os.system" in r.message
    }
    assert sorted(set(cases) - flagged) == []


def test_text_files_with_long_lines_are_not_pickles(vet_repo: Vet) -> None:
    """The longer probe window does not turn text into pickles."""
    report = vet_repo(
        {
            "notes.txt": "Some notes " + "x" * 10_000 + "\nmore text\n",
            "data.csv": "I,am,a,header\n" + "1,2,3,4\n" * 2000,
            "long.txt": "V" + "y" * 100_000 + "\nplain words follow here\n",
            "S.txt": "S'" + "z" * 6_000 + "\nno closing quote\n",
        }
    )
    assert [r for r in report.risks if "pickle" in r.kind] == []


# -- neighbours: numpy and joblib --------------------------------------------------------------
def _npy(descr: str, body: bytes) -> bytes:
    header = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': (1,), }}".encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + body


def test_object_npy_with_code_is_an_error(tmp_path: Path, vet_repo: Vet) -> None:
    pytest.importorskip("numpy")
    flag = tmp_path / "MARKER"
    evil = P.os_system(f"touch {flag}", 2)
    cases = {f"arr{i}.npy": _npy(d, evil) for i, d in enumerate(["|O", "<O", "O", "object"])}
    each_runs(cases, flag, "import numpy as np; np.load(fh, allow_pickle=True)")
    report = vet_repo(cases)
    flagged = {r.path for r in report.risks if r.kind == "dangerous-pickle"}
    assert sorted(set(cases) - flagged) == []


def _joblib_file(tmp_path: Path, cmd: str, object_array: bool) -> bytes:
    """A real joblib.dump: an array written inline in the pickle stream, then os.system."""
    code = (
        "import io, os, sys, joblib, numpy as np\n"
        "class R:\n"
        f"    def __reduce__(self): return (os.system, ({cmd!r},))\n"
        "arr = np.array([1, 'x'], dtype=object) if sys.argv[1] == '1' else np.arange(5000.0)\n"
        "buf = io.BytesIO()\n"
        "joblib.dump({'weights': arr, 'hook': R()}, buf)\n"
        "sys.stdout.buffer.write(buf.getvalue())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, "1" if object_array else "0"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return out.stdout


@pytest.mark.parametrize("object_array", [False, True])
def test_joblib_inline_array_does_not_hide_what_follows(
    tmp_path: Path, object_array: bool, vet_repo: Vet
) -> None:
    pytest.importorskip("joblib")
    flag = tmp_path / "MARKER"
    data = _joblib_file(tmp_path, f"touch {flag}", object_array)
    loads_and_runs(data, flag, "import joblib; joblib.load(fh)")
    report = vet_repo({"model.joblib": data})
    errors = [r for r in report.risks if r.severity == "error"]
    assert any(r.kind == "dangerous-pickle" and "system" in r.message for r in errors), [
        r.message for r in report.risks
    ]
    assert not flag.exists()


# -- the policy: the operator decides, never the vetted repository -----------------------------
def test_only_the_operators_config_downgrades_pickle_errors(tmp_path: Path) -> None:
    flag = tmp_path / "MARKER"
    repo = _one_file_repo(tmp_path, "model.pkl", touch_pickle(flag))
    policy = tmp_path / "policy.yml"
    policy.write_text("risks:\n  fail_on_dangerous_pickle: false\n")
    proc = forkvet("vet", str(repo), "--format", "json", "--config", str(policy))
    assert proc.returncode == 0, proc.stderr[-500:]
    findings = json.loads(proc.stdout)["findings"]
    assert any(f["title"] == "Dangerous pickle" and f["severity"] == "warning" for f in findings)
    assert not flag.exists()
    # a repository file that does not mention the key leaves the operator's choice alone;
    # one that asks for the error gets it
    (repo / ".github").mkdir()
    (repo / ".github" / "forkvet.yml").write_text("smoke:\n  command: python demo.py\n")
    proc = forkvet("vet", str(repo), "--format", "json", "--config", str(policy))
    assert proc.returncode == 0, proc.stderr[-500:]
    (repo / ".github" / "forkvet.yml").write_text("risks:\n  fail_on_dangerous_pickle: true\n")
    proc = forkvet("vet", str(repo), "--format", "json", "--config", str(policy))
    assert proc.returncode == 1, proc.stderr[-500:]


def test_repository_config_still_tightens_and_sets_run_settings(tmp_path: Path) -> None:
    from forkvet.cli import config_for

    repo = tmp_path / "repo"
    (repo / ".github").mkdir(parents=True)
    (repo / ".github" / "forkvet.yml").write_text(
        "risks:\n  fail_on_dangerous_pickle: false\n"
        "license:\n  deny: [non-commercial]\n"
        "smoke:\n  command: python demo.py\n"
        "runtime:\n  pass_env: [AWS_SECRET_ACCESS_KEY]\n"
    )
    config, notes = config_for(None, repo)
    assert notes == []
    assert config.risks.fail_on_dangerous_pickle is True  # cannot loosen
    assert "non-commercial" in config.license.deny  # can tighten
    assert config.smoke.command == "python demo.py"  # run settings are the repository's
    assert config.runtime.pass_env == []  # secrets only from the operator
    floor = tmp_path / "policy.yml"
    floor.write_text("runtime:\n  pass_env: [HF_TOKEN]\nlicense:\n  allow: [permissive]\n")
    config, _ = config_for(str(floor), repo)
    assert config.runtime.pass_env == ["HF_TOKEN"]
    assert config.license.allow == ["permissive"]


def test_unverified_pickles_follow_the_operators_policy(
    vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.vet import pickles

    monkeypatch.setattr(pickles, "MAX_OPS", 1000)
    flood = P.opcode_flood(50_000)[:-1] + b"0" + P.os_system("true", 0)
    relaxed = Config(risks=RiskPolicy(fail_on_dangerous_pickle=False))
    report = vet_repo({"big.pkl": flood}, relaxed)
    assert [f.severity for f in report.findings if f.title == "Pickle unverified"] == ["warning"]
    assert not report.has_errors


def test_a_stream_of_text_is_not_buffered_whole(tmp_path: Path) -> None:
    """A 64 MiB single line after a PUT opcode is skipped, not held."""
    from forkvet.vet import pickles

    path = tmp_path / "big.pkl"
    with open(path, "wb") as fh:
        fh.write(b"\x80\x02Np")
        fh.write(b"1" * (64 << 20))
        fh.write(b"\n0" + P.os_system("true", 0))
    import time
    import tracemalloc

    tracemalloc.start()
    scan = pickles.scan_path(str(path), "big.pkl", time.monotonic() + 60)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert scan is not None and ("os", "system") in scan.imports[""]
    assert peak < 8 << 20, peak


def _torchscript_like(data_pkl: bytes) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", data_pkl)
        zf.writestr("archive/constants.pkl", b"\x80\x02).")
        zf.writestr(
            "archive/code/torch/nn/modules/linear.py",
            "class Linear(Module):\n  def __setstate__(self, state):\n    pass\n",
        )
        zf.writestr("archive/version", "1\n")
    return buf.getvalue()


def test_a_torchscript_archive_is_code_whatever_its_pickles_name(vet_repo: Vet) -> None:
    """Round 13a F1: torch.load hands a zip with a constants.pkl record to torch.jit.load,
    which compiles the archive's own code/ (here a `torch.nn.modules.linear.Linear` whose
    __setstate__ wrote files) and runs it. Its data.pkl named only that safe-listed class,
    and the report said PASS."""
    linear = b"\x80\x02ctorch.nn.modules.linear\nLinear\n)\x81}b."
    report = vet_repo({"pytorch_model.bin": _torchscript_like(linear), "LICENSE": "MIT"})
    errors = [r for r in report.risks if r.severity == "error"]
    # round 17a: torch.jit.load runs the archive's code, no model class: dangerous
    assert [(r.path, r.kind) for r in errors] == [("pytorch_model.bin", "dangerous-pickle")]
    assert "torch.jit.load (in archive/constants.pkl)" in errors[0].message
    # a plain checkpoint of the same class, without the TorchScript record, stays safe
    plain = vet_repo({"layers.pt": linear}, name="plain")
    assert not [r for r in plain.risks if r.severity == "error"]


def _hdf5(body: bytes, user_block: int = 0) -> bytes:
    # The superblock signature, then what the file holds (forkvet reads no further structure).
    return b"\0" * user_block + b"\x89HDF\r\n\x1a\n" + b"\x00\x00\x00\x00" + body


@pytest.mark.parametrize("user_block", [0, 512, 4096])
def test_an_hdf5_file_pytables_would_unpickle_is_unverified(vet_repo: Vet, user_block: int) -> None:
    """Round 13a F9: pandas' to_hdf stores an object column as a PyTables VLArray of pickles
    (and PyTables unpickles any attribute value ending in "."); pd.read_hdf ran one. forkvet
    does not walk HDF5: a file marked for PyTables is an error, NOT verified."""
    floats = struct.pack("<256f", *range(256))
    marked = _hdf5(floats + b"PSEUDOATOM\0object\0" + floats, user_block)
    pandas_attr = _hdf5(floats * 5000 + b"pandas_type\0series\0", user_block)  # past 1 MiB
    report = vet_repo({"features.h5": marked, "frame.h5": pandas_attr, "weights.h5": _hdf5(floats)})
    unverified = {r.path for r in report.risks if r.kind == "pickle-unverified"}
    assert unverified == {"features.h5", "frame.h5"}, report.risks
    assert all(r.severity == "error" for r in report.risks if r.kind == "pickle-unverified")
    assert not [r for r in report.risks if r.kind == "pickle-checkpoint"]  # not "known-safe"


class _System:
    """Pickles as os.system(cmd) (never loaded here)."""

    def __init__(self, cmd: str) -> None:
        self.cmd = cmd

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (self.cmd,))


@pytest.mark.parametrize("folder", ["", ".cache/"])
def test_every_value_of_a_shelve_is_scanned_where_shelve_reads_it(
    tmp_path: Path, vet_repo: Vet, folder: str
) -> None:
    """Round 13a F10: shelve over dbm.dumb keeps X.dir (offsets) and X.dat (a pickle per
    value at 512-byte boundaries). The first value starts the file and walks clean; the one
    at byte 512 ran os.system under `shelve.open("cache")["model"]` and was never read."""
    import dbm.dumb
    import shelve

    made = tmp_path / "made"
    made.mkdir()
    with shelve.Shelf(dbm.dumb.open(str(made / "cache"), "c"), protocol=2) as db:
        db["config"] = {"lr": 0.1}
        db["model"] = _System(f"touch {tmp_path / 'ran'}")
    files = {f"{folder}cache.{ext}": (made / f"cache.{ext}").read_bytes() for ext in ("dir", "dat")}
    report = vet_repo({**files, "train.py": "import shelve\n"})
    flagged = [r for r in report.risks if r.path == f"{folder}cache.dat"]
    assert [r.kind for r in flagged] == ["dangerous-pickle"], report.risks
    # since round 17a the file's own walk skips the NUL padding and reaches the value at
    # byte 512 (the shelve reader names it "at byte 512" when the walk cannot)
    assert "posix.system" in flagged[0].message or "at byte 512" in flagged[0].message
    assert not (tmp_path / "ran").exists()


def test_a_shelve_in_a_database_is_read_or_unverified(tmp_path: Path, vet_repo: Vet) -> None:
    """shelve over dbm.sqlite3 (Python 3.13's default) or gdbm keeps each pickle where the
    database's own index puts it: NOT verified, an error. Other SQLite files are data."""
    import pickle
    import sqlite3

    def db(name: str, table: str) -> bytes:
        path = tmp_path / name
        with sqlite3.connect(path) as con:  # dbm.sqlite3's own table, and another
            con.execute(f"CREATE TABLE {table} (key BLOB UNIQUE NOT NULL, value BLOB NOT NULL)")
            con.execute(f"INSERT INTO {table} VALUES (?, ?)", (b"m", pickle.dumps({"w": 1})))
        con.close()
        return path.read_bytes()

    shelf = db("cache.db", "Dict")
    other = db("index.db", "Items")
    gdbm = b"\xcf\x9a\x57\x13" + bytes(4092)
    wal = b"\x37\x7f\x06\x82" + bytes(4092)  # round 15a F7: pages a normal open reads
    report = vet_repo(
        {"cache.db": shelf, "index.sqlite": other, "state.gdbm": gdbm, "cache.db-wal": wal}
    )
    unverified = {r.path for r in report.risks if r.kind == "pickle-unverified"}
    assert unverified == {"state.gdbm", "cache.db-wal"}
    # a SQLite database's values are each scanned (dbm.sqlite3, diskcache): plain ones pass
    assert not [r for r in report.risks if r.severity == "error" and r.path not in unverified]


def test_a_safe_name_the_repository_shadows_is_an_error(vet_repo: Vet) -> None:
    """Round 13a F13: `argparse.Namespace` is safe-listed, but loaded from the repository's
    folder (`python -c`, a notebook, a script there) `__import__("argparse")` finds the
    repository's own argparse.py first and runs it. So does a `numpy/__init__.py`."""
    import argparse
    import collections
    import pickle

    ckpt = pickle.dumps({"args": argparse.Namespace(lr=0.1)}, protocol=2)
    report = vet_repo({"checkpoint.pkl": ckpt, "argparse.py": "import os\n"})
    (risk,) = [r for r in report.risks if r.severity == "error"]
    assert risk.path == "checkpoint.pkl" and "argparse.py" in risk.message
    # a package in a folder a script runs from shadows too
    od = pickle.dumps(collections.OrderedDict(a=1), protocol=2)
    nested = vet_repo(
        {
            "tools/run.py": "if __name__ == '__main__':\n    pass\n",
            "tools/collections/__init__.py": "",
            "tools/state.pkl": od,
        },
        name="nested",
    )
    assert [r.path for r in nested.risks if r.severity == "error"] == ["tools/state.pkl"]
    # round 15a: a sourceless package, and a folder whose files run without a main guard
    sourceless = vet_repo(
        {"checkpoint.pkl": ckpt, "argparse/__init__.pyc": b"\x00" * 16}, name="pyc"
    )
    assert [r.path for r in sourceless.risks if r.kind == "unsafe-pickle"] == ["checkpoint.pkl"]
    app = vet_repo(
        {"demo/app.py": "import gradio\n", "demo/collections.py": "", "demo/s.pkl": od},
        name="app",
    )
    assert "demo/s.pkl" in [r.path for r in app.risks if r.kind == "unsafe-pickle"]
    # a module named like one where no Python file runs shadows nothing
    library = vet_repo(
        {"pkg/utils/torch.py": "x = 1\n", "pkg/__init__.py": "", "state.pkl": od},
        name="library",
    )
    assert not [r for r in library.risks if r.kind == "unsafe-pickle"]


def test_arrays_saved_one_after_another_are_each_read(tmp_path: Path, vet_repo: Vet) -> None:
    """Round 13a F15: np.save to one open file, twice (numpy's documented pattern): the second
    array, an object array, ran os.system under a second np.load(f, allow_pickle=True). After
    a plain array's data, what the next np.load reads is scanned: an array or a pickle."""
    import io
    import pickle

    np = pytest.importorskip("numpy")

    def saved(*arrays: object) -> bytes:
        buf = io.BytesIO()
        for a in arrays:
            np.save(buf, a, allow_pickle=True)
        return buf.getvalue()

    evil = np.array([_System(f"touch {tmp_path / 'ran'}")], dtype=object)
    plain = np.arange(16, dtype=np.float32).reshape(4, 4)
    fields = np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8", (2,)), ("c", "S5")])
    after_pickle = saved(plain) + pickle.dumps(_System("true"), protocol=2)
    benign = np.array([1, "x", None], dtype=object)
    report = vet_repo(
        {
            "seq.npy": saved(plain, evil),
            "after_object.npy": saved(benign, evil),  # round 15a F12: after an object array
            "fields.npy": saved(fields, plain, evil),
            "then_pickle.npy": after_pickle,
            "plain.npy": saved(plain, plain, fields),
        }
    )
    flagged = {r.path for r in report.risks if r.severity == "error"}
    assert flagged == {"seq.npy", "after_object.npy", "fields.npy", "then_pickle.npy"}, report.risks


def test_pickles_stored_as_sqlite_values_are_scanned(tmp_path: Path, vet_repo: Vet) -> None:
    """Round 13a F10: diskcache (and shelve over dbm.sqlite3) keeps each value's pickle in a
    SQLite row; `Cache(dir)["model"]` unpickled os.system. Every value of every table is
    scanned, through the descriptor the walk opened, read-only."""
    import pickle
    import sqlite3

    path = tmp_path / "cache.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE Cache (rowid INTEGER PRIMARY KEY, key BLOB, mode INT, value BLOB)"
        )
        con.execute('CREATE TABLE "we""ird" (v TEXT)')  # a name that needs quoting
        con.execute("INSERT INTO Cache VALUES (1, ?, 4, ?)", (b"cfg", pickle.dumps({"lr": 1})))
        con.execute("INSERT INTO Cache VALUES (2, ?, 4, ?)", (b"m", pickle.dumps(_System("true"))))
    con.close()
    data = path.read_bytes()
    report = vet_repo({"cache/cache.db": data})
    (risk,) = [r for r in report.risks if r.severity == "error"]
    assert risk.kind == "dangerous-pickle" and risk.path == "cache/cache.db"
    assert "Cache[" in risk.message
    assert (tmp_path / "cache.db").read_bytes() == data  # nothing written to it


def test_a_module_under_a_layer_name_is_not_safe(vet_repo: Vet) -> None:
    """Round 14a F9: `torch.nn.modules.linear.F` is the module torch.nn.functional; a BUILD on
    it replaced F.relu for the whole process on load. Layer classes stay safe."""
    alias = b"\x80\x02ctorch.nn.modules.linear\nF\n}X\x04\x00\x00\x00reluNsb0}."
    layer = b"\x80\x02ctorch.nn.modules.activation\nReLU\n)\x81}b."
    report = vet_repo({"alias.pkl": alias, "layer.pkl": layer})
    errors = {r.path: r for r in report.risks if r.severity == "error"}
    assert set(errors) == {"alias.pkl"}
    assert "torch.nn.modules.linear.F" in errors["alias.pkl"].message


def test_a_shelve_directory_is_read_as_dbm_dumb_reads_it(tmp_path: Path, vet_repo: Vet) -> None:
    """Round 15a F11: dbm.dumb reads each .dir line with ast.literal_eval: offsets in hex, with
    `_`, in extra parentheses or before a comment were not read, and the value there ran."""
    import pickle
    import shelve

    evil = pickle.dumps(_System(f"touch {tmp_path / 'ran'}"), protocol=2)
    dat = pickle.dumps({"lr": 1}, protocol=2).ljust(512, b"\0") + evil
    for i, line in enumerate(
        [
            f"'model', (0x200, {len(evil)})",
            f"'model', (5_12, {len(evil)}) # moved",
            f"('model', ((512), {len(evil)}))",
        ]
    ):
        folder = tmp_path / f"s{i}"
        folder.mkdir()
        (folder / "cache.dat").write_bytes(dat)
        (folder / "cache.dir").write_text(f"'cfg', (0, 20)\n{line}\n", encoding="latin-1")
        with shelve.open(str(folder / "cache"), "r") as db:
            assert set(db.keys()) == {"cfg", "model"}  # dbm.dumb takes the line: the test is real
        report = vet_repo(
            {"cache.dat": dat, "cache.dir": (folder / "cache.dir").read_text()}, name=f"r{i}"
        )
        assert [r.kind for r in report.risks if r.path == "cache.dat"] == ["dangerous-pickle"], line
    assert not (tmp_path / "ran").exists()


def test_computed_sqlite_columns_are_never_read(tmp_path: Path) -> None:
    """Round 15a F19: an 8 KiB database whose generated columns each compute a 900 MB blob
    took `vet` to 5.3 GB. Only stored values are read: bounded by the file itself."""
    import sqlite3

    db = tmp_path / "repo" / "cache.db"
    db.parent.mkdir()
    with sqlite3.connect(db) as con:
        cols = ", ".join(
            f"g{i} BLOB GENERATED ALWAYS AS (zeroblob(300000000)) VIRTUAL" for i in range(8)
        )
        con.execute(f"CREATE TABLE t (k INTEGER, {cols})")
        con.executemany("INSERT INTO t (k) VALUES (?)", [(i,) for i in range(4)])
    con.close()
    assert db.stat().st_size < 64 * 1024
    rc, wall, peak, _ = run_bounded("vet", str(db.parent), "--format", "json", seconds=90)
    assert rc in (0, 1) and peak < 1 << 30 and wall < 60, (rc, wall, peak)
