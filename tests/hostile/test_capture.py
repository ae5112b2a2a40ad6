"""What a child that runs the repository's code prints is kept bounded in forkvet's memory
(outside attack, round 3: a module printing 1.5 GB at import took forkvet to 4.6 GB)."""

from __future__ import annotations

import sys
from pathlib import Path

from forkvet.runtime.capture import run_capped
from tests.conftest import MakeRepo

FLOOD = (
    "import sys\n"
    "sys.stdout.write('first\\n')\n"
    "chunk = 'x' * (1 << 20)\n"
    "for _ in range(64):\n"
    "    sys.stdout.write(chunk)\n"
    "sys.stdout.write('\\nlast\\n')\n"
)


def test_a_flood_keeps_its_head_and_tail_only(tmp_path: Path) -> None:
    proc = run_capped(
        [sys.executable, "-c", FLOOD], cwd=tmp_path, env=None, timeout=60, cap=1 << 20
    )
    assert proc.returncode == 0
    assert len(proc.stdout) < (1 << 20) + 200
    assert proc.stdout.startswith("first") and proc.stdout.rstrip().endswith("last")
    assert "bytes not kept" in proc.stdout


def test_the_import_check_survives_a_module_that_floods_stdout(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    from forkvet.runtime.imports import check_imports
    from forkvet.snapshot import load

    repo = make_repo({"loud.py": FLOOD, "quiet.py": "x = 1\n"})
    result = check_imports(load(repo), sys.executable, timeout=60)
    assert result.ok and result.modules >= 1, result
