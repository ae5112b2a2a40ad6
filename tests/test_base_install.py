"""`pip install forkvet` without extras must vet (the Quick start); commands that need an extra
say which one, in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'github', 'github_action_utils', 'matplotlib',
                                  'pymannkendall', 'jupytext', 'nbclient', 'flask', 'huey'}:
            raise ImportError(f'blocked {name}')
sys.meta_path.insert(0, Block())
from forkvet.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK, *args], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_vet_and_help_work_without_extras() -> None:
    proc = run("vet", "examples/tiny-model")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("forkvet: PASS")
    assert run("--help").returncode == 0


def test_commands_needing_an_extra_say_which(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text("".join(f"loss: {1 / (i + 1)}\n" for i in range(20)))
    proc = run("train-check", str(tmp_path), "--log", str(log))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "forkvet: error: this command needs pymannkendall: pip install 'forkvet[runtime]'"
    )
