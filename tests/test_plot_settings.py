"""forkvet's plots use matplotlib's own settings only: a `matplotlibrc` in the current folder
(on a runner, the repository's checkout) configured them, and its `figure.hooks` made forkvet
import and call a function the repository named, outside the sandbox (round 14b F7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")


def test_a_repositorys_matplotlibrc_configures_nothing(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    marker = tmp_path / "hook-ran"
    (repo / "evilhook.py").write_text(f"def run(fig):\n    open({str(marker)!r}, 'w')\n")
    (repo / "matplotlibrc").write_text("figure.hooks: evilhook:run\nfigure.dpi: 5000\n")
    png = tmp_path / "loss.png"
    code = (
        "import sys; sys.path.insert(0, '.')\n"  # as `python -m` would have it, cwd first
        "from pathlib import Path\n"
        "from forkvet.runtime.plot import plot_png\n"
        f"plot_png([3.0, 2.0, 1.0], Path({str(png)!r}), 'loss')\n"
        "import matplotlib; print(matplotlib.rcParams['figure.dpi'])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not marker.exists()
    assert float(proc.stdout.strip().splitlines()[-1]) < 1000
    assert png.stat().st_size < 2_000_000
