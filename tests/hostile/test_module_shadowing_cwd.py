"""`python -m forkvet vet .` run from inside a fork: the fork's folder is first on sys.path, so
its yaml.py or numpy.py would be imported by forkvet itself (outside attack 16a, L1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import MakeRepo

ROOT = Path(__file__).resolve().parents[2]


def test_python_m_forkvet_inside_a_fork_imports_none_of_its_modules(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    marker = tmp_path / "imported"
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    repo = make_repo({"README.md": "# x\n", "yaml.py": payload, "numpy.py": payload})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "vet", ".", "--format", "json"],
        cwd=repo,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr.decode()[-2000:]
    assert not marker.exists()
