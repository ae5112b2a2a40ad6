"""The import check's results come on a channel of their own, each row checked (round 17,
tester 17b F3), and the check as a whole has one deadline, kept from outside the child
(F2)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from forkvet.runtime.imports import _results, check_imports
from forkvet.snapshot import load
from tests.conftest import MakeRepo

FORGE = (
    "import json, sys\n"
    "def _forge():\n"
    "    for row in ({'module': 'b', 'error': ['forged'], 'seconds': 0},\n"
    "                {'module': 'zz', 'error': 'Forged: no', 'seconds': 0}):\n"
    "        sys.stdout.write('\\n' + json.dumps(row) + '\\n')\n"
    "    sys.stdout.flush()\n"
    "CONFIG = _forge()\n"
)


def test_rows_printed_by_the_imported_code_are_not_results(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.py": FORGE, "b.py": "import missing_pkg_qq\n", "c.py": "X = 1\n"})
    checked = check_imports(load(repo), sys.executable, timeout=30)
    failed = {f["module"]: f["reason"] for f in checked.failures}
    assert set(failed) == {"b"} and "missing_pkg_qq" in failed["b"], failed
    assert checked.modules == 3


def test_a_malformed_row_fails_its_module_never_forkvet() -> None:
    mods = [("a", "/r"), ("b", "/r"), ("c", "/r"), ("d", "/r")]
    rows = [
        json.dumps({"module": "a", "error": ["forged"], "seconds": 0}),  # wrong type
        json.dumps({"module": "x", "error": None, "seconds": 0}),  # not the next module
        "[" * 100_000,  # not JSON that parses
        json.dumps({"module": "d", "error": "ImportError: x", "seconds": True}),
        json.dumps({"module": "e", "error": None, "seconds": 0}),  # past the last module
    ]
    failures, seen = _results("\n".join(rows), mods, 60, set())
    assert seen == 4 and [f["module"] for f in failures] == ["a", "b", "c", "d"]
    assert all(isinstance(v, str) for f in failures for v in f.values())
    ok, seen = _results(json.dumps({"module": "a", "error": None, "seconds": 1.5}), mods, 60, set())
    assert ok == [] and seen == 1


def test_the_whole_check_has_one_deadline_the_module_cannot_disarm(make_repo: MakeRepo) -> None:
    slow = "import time\nWAIT = time.sleep(4)\n"
    deaf = (
        "import signal, time\n"
        "X = signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "Y = time.sleep(60)\n"
    )
    repo = make_repo({"m1.py": slow, "m2.py": slow, "m3.py": deaf, "m4.py": slow})
    start = time.monotonic()
    checked = check_imports(load(repo), sys.executable, timeout=60, budget=6)
    took = time.monotonic() - start
    assert took < 40, took  # not 4 + 4 + 60 + 4 s (a loaded machine is slow to start)
    failed = {f["module"]: f["reason"] for f in checked.failures}
    assert not checked.ok and "ran out of its 6 s" in failed.get("m2", ""), failed


def test_smoke_timeout_bounds_the_import_check(make_repo: MakeRepo, tmp_path: Path) -> None:
    slow = "import time\nWAIT = time.sleep(25)\n"  # 75 s in all without the deadline
    repo = make_repo({"m1.py": slow, "m2.py": slow, "m3.py": slow, "run.py": "X = 1\n"})
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "smoke", str(repo), "--python", sys.executable,
         "--cmd", "python run.py", "--timeout", "3", "--format", "json",
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    took = time.monotonic() - start
    result = json.loads(proc.stdout)
    assert proc.returncode == 1 and took < 60, (took, proc.stderr)
    assert any("ran out of its 3 s" in r for r in result["reasons"]), result["reasons"]
