"""Round 21b's runtime isolation findings, closed in round 22: the job token in the
checkout's git config (F3), a wheel's `pyvenv.cfg` (F4), a `.git` the command planted in a
subfolder (F5), and notebook kernels on loopback TCP (F7, F8)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from forkvet.runtime import notebook_run, sandbox


def _sandbox_ok() -> None:
    if not sandbox.probe().ok:
        pytest.skip("needs bubblewrap")


def _notebook(path: Path, cells: list[str]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))


def _outputs(executed: str) -> str:
    cells = json.loads(Path(executed).read_text())["cells"]
    return "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))


_CONNECTION = (
    "import json, ipykernel.connect\n"
    "info = json.loads(ipykernel.connect.get_connection_info())\n"
    "print('TRANSPORT', info['transport'], info['ip'])"
)


@pytest.mark.parametrize("network", ["shared", "none"])
def test_a_notebook_kernel_speaks_over_private_unix_sockets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, network: str
) -> None:
    """F8: the kernel's channels were TCP on host loopback, where another fork's sandboxed
    command subscribed to IOPub and read the notebook's output live; F7: under --no-network
    the kernel's loopback was its own and every notebook failed. Now UNIX sockets in a
    folder under the host's /tmp, which every other sandbox covers with its private /tmp."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    _sandbox_ok()
    monkeypatch.setattr(sandbox, "_NETWORK_CUT", [True] if network == "none" else [])
    repo = tmp_path / "repo"
    repo.mkdir()
    _notebook(repo / "nb.ipynb", [_CONNECTION, "print(6 * 7)"])
    run = notebook_run.run_notebook(repo / "nb.ipynb", sys.executable, repo, tmp_path / "out")
    assert run.ok, run.error
    printed = _outputs(run.executed)
    assert "42" in printed
    words = printed.split("TRANSPORT", 1)[1].split()
    assert words[0] == "ipc" and words[1].startswith("/tmp/forkvet-kernel-")


def test_the_kernels_folder_is_under_the_hosts_tmp_whatever_tmpdir_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TMPDIR outside /tmp is visible (read-only) to other sandboxes, and a UNIX socket on
    a read-only mount still connects: the kernel's folders never go there."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with notebook_run._kernel_folders() as (spec, ipc):
        assert spec.startswith("/tmp/forkvet-kernel-") and ipc.startswith("/tmp/forkvet-kernel-")
        assert Path(spec).parent == Path(ipc).parent
