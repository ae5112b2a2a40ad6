"""Execute a notebook with a per-cell timeout in the chosen interpreter (nbclient), keeping
the executed notebook — outputs up to the failure — as an artifact."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forkvet import rx
from forkvet.errors import InputError
from forkvet.runtime import sandbox
from forkvet.runtime.process import _children_now, isolate_self, kill_tree, scrubbed_env
from forkvet.safe_write import OutputDir

KERNEL_NAME = "forkvet-target"
_ANSI = rx.compile(r"\x1b\[[0-9;]*m")


@dataclass
class NotebookRun:
    path: str
    executed: str
    ok: bool
    cells: int
    failed_cell: int | None = None
    error: str | None = None
    isolation: str | None = None  # how the kernel ran: bubblewrap | none


def _no_ipykernel(python: str, env: dict[str, str], cwd: Path) -> str | None:
    """One line when the interpreter cannot start a kernel (no ipykernel), before nbclient
    waits for a kernel that dies at start and answers with a traceback.

    The probe imports a module with the repository on PYTHONPATH, in an interpreter the
    repository's code may have changed: it runs in the sandbox, like the kernel itself."""
    import shlex

    from forkvet.runtime.capture import run_capped

    readable = sandbox.environment_mounts(env)
    probe = [python, "-c", "import ipykernel_launcher"]
    try:
        with sandbox.sandboxed(probe, cwd, (), readable) as (argv, _):
            proc = run_capped(argv, cwd=cwd, env=env, timeout=120)  # bounded output
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python} cannot be started ({type(exc).__name__})"
    if proc.returncode == 0:
        return None
    return (
        f"{python} has no ipykernel, which runs notebooks: install it with "
        f"{shlex.quote(python)} -m pip install ipykernel"
    )


MAX_NOTEBOOK_BYTES = 64 << 20


def _read(notebook: Path, repo: Path | None) -> Any:
    """The notebook, read without following a link the repository planted (a committed
    `demo.ipynb -> ~/.git-credentials`, a linked folder above it: outside attack, round 16b)
    and bounded. The error never quotes the file: nbformat's own message starts with it."""
    import nbformat

    from forkvet.userfile import read_regular

    data = read_regular(str(notebook), MAX_NOTEBOOK_BYTES, "notebook", repo=repo)
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)  # type: ignore[no-untyped-call]
    except Exception as exc:  # nbformat raises several unrelated types on bad JSON
        raise InputError(f"{notebook} is not a notebook ({type(exc).__name__})") from exc


def _write_kernelspec(tmp: str, argv: list[str], env: dict[str, str]) -> None:
    """A kernelspec for the chosen interpreter (it needs ipykernel), found via JUPYTER_PATH."""
    spec_dir = Path(tmp) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    (Path(tmp) / "runtime").mkdir()
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "display_name": "forkvet target",
                "language": "python",
                # a signal would reach bwrap, not the kernel: interrupt by message
                "interrupt_mode": "message",
                "env": env,
            }
        )
    )


@contextlib.contextmanager
def _jupyter_paths(tmp: str) -> Iterator[None]:
    """Jupyter finds the kernelspec and writes its runtime files under `tmp`, for this run."""
    old = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR")}
    os.environ["JUPYTER_PATH"] = tmp
    os.environ["JUPYTER_RUNTIME_DIR"] = str(Path(tmp) / "runtime")
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _kill_leftovers(before: set[int]) -> None:
    """Whatever the client did not shut down (a kernel that never answered) dies here."""
    for pid in _children_now() - before:
        kill_tree(pid, before)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _explain_failure(
    exc: Exception, nb: Any, code_cells: list[int], running: list[int], python: str
) -> tuple[int | None, str]:
    """(the cell that failed, one line saying how): the first cell with an error output,
    else the last cell started when a cell timed out."""
    from nbclient.exceptions import CellTimeoutError

    failed = [
        i
        for i in code_cells
        if any(o.get("output_type") == "error" for o in nb.cells[i].get("outputs", []))
    ]
    cell = failed[0] if failed else None
    if cell is None and isinstance(exc, CellTimeoutError):
        cell = running[-1] if running else None
    if "No module named 'ipykernel" in str(exc) or "ipykernel_launcher" in str(exc):
        return cell, f"{python} has no ipykernel: pip install ipykernel there"
    text = _ANSI.sub("", str(exc)).strip().splitlines()
    kind = "timed out" if isinstance(exc, CellTimeoutError) else "failed"
    return cell, f"cell {cell} {kind}: " + (text[-1] if text else type(exc).__name__)


MAX_KEPT_OUTPUT = 64 << 20  # bytes of cell output held in forkvet's memory during a run


def _bounded_client(base: Any) -> Any:
    """nbclient's client, keeping at most MAX_KEPT_OUTPUT bytes of outputs: it holds every
    output of the run in forkvet's memory, outside the sandbox, and a notebook printing a
    gigabyte took forkvet to 3.5 GB (outside attack, round 15b). Past the cap the outputs are
    read and dropped, and one line says so."""

    class Bounded(base):  # type: ignore[misc]
        kept = 0
        dropped = False

        def output(self, outs: Any, msg: Any, display_id: Any, cell_index: int) -> Any:
            size = len(json.dumps(msg.get("content", {}), default=str))
            if self.kept + size > MAX_KEPT_OUTPUT:
                if not self.dropped:
                    self.dropped = True
                    note = f"[forkvet: outputs past {MAX_KEPT_OUTPUT >> 20} MiB were not kept]\n"
                    outs.append(_note_output(note))
                return None
            self.kept += size
            return super().output(outs, msg, display_id, cell_index)

    return Bounded


def _note_output(text: str) -> Any:
    import nbformat

    return nbformat.v4.new_output("stream", name="stderr", text=text)  # type: ignore[no-untyped-call]


def _execute(
    nb: Any,
    result: NotebookRun,
    python: str,
    tmp: str,
    cwd: Path,
    cell_timeout: int,
    kernel_env: dict[str, str],
) -> None:
    """Run every cell in the sandboxed kernel of `tmp`'s kernelspec; record a failure on
    `result`. kernel_env is the kernel's whole environment: jupyter_client starts a kernel
    with this process's own environment unless it is given one (outside attack, round 15b:
    the kernel printed GITHUB_TOKEN)."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    # The connection file where the sandboxed kernel reads it; UNIX sockets (`_kernel_folders`)
    connection = {"connection_file": str(Path(tmp) / "runtime" / "kernel.json")}
    ipc = {"transport": "ipc", "ip": str(Path(tmp).parent / IPC / "kernel")}
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, **connection, **ipc)
    before = _children_now()
    running: list[int] = []  # the cells started, in order: the last one timed out
    client = _bounded_client(NotebookClient)(
        nb,
        km=km,
        on_cell_execute=lambda cell, cell_index: running.append(cell_index),
        timeout=cell_timeout,
        timeout_func=_shared_timeout(cell_timeout),
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(cwd)}},
        startup_timeout=120,
    )
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    try:
        # The kernel's own stdin/stdout/stderr are /dev/null: ipykernel echoes what a cell
        # writes to fd 1/2 there, and every child of a cell inherits them. With forkvet's own
        # descriptors the notebook wrote raw, unbounded text (workflow commands, terminal
        # escapes) to the CI log, and into a host file when forkvet's stdout was one (outside
        # attack, round 16b). What a cell prints still reaches the notebook through the kernel's
        # messages, read bounded. No other descriptor is inherited (Popen's close_fds).
        client.execute(
            env=dict(kernel_env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as exc:
        result.ok = False
        result.failed_cell, result.error = _explain_failure(exc, nb, code_cells, running, python)
    except Exception as exc:
        # The kernel's messages are the notebook's code speaking (a 5,000-digit number, a
        # flood of output): whatever reading them raises fails this notebook, never forkvet.
        result.ok = False
        result.failed_cell = running[-1] if running else None
        result.error = f"forkvet could not read the kernel's output ({type(exc).__name__})"
    finally:
        _kill_leftovers(before)


IPC = "ipc"
# The kernel's folders lie under the host's /tmp, whatever TMPDIR says: every sandbox of
# forkvet has a private /tmp of its own over it, so no other run's code sees them.
_KERNEL_ROOT = "/tmp"


@contextlib.contextmanager
def _kernel_folders() -> Iterator[tuple[str, str]]:
    """(the kernelspec's folder, read-only to the kernel; the folder of the kernel's sockets,
    writable to it), side by side in a private folder. The kernel speaks ZeroMQ over UNIX
    sockets there (`ipc://`), never TCP: on host loopback another fork's sandboxed command
    subscribed to the kernel's IOPub and read the notebook's output live (outside attack,
    round 21b F8), and under --no-network the kernel's loopback was its own, which forkvet's
    client outside could not reach, so every notebook failed (F7). A socket file crosses
    the network namespace; the folder is hidden from every other sandbox by its private
    /tmp."""
    with tempfile.TemporaryDirectory(prefix="forkvet-kernel-", dir=_KERNEL_ROOT) as base:
        tmp, ipc = os.path.join(base, "spec"), os.path.join(base, IPC)
        os.mkdir(tmp, 0o700)
        os.mkdir(ipc, 0o700)
        yield tmp, ipc


def _shared_timeout(cell_timeout: int) -> Callable[[object], int]:
    """nbclient's per-cell timeout, so that all the cells together also keep to --timeout: N
    cells each just under it held the runner N times as long and passed (outside attack,
    round 22b F7). The clock starts with the first cell (the kernel's start has its own
    bound, startup_timeout)."""
    started: list[float] = []

    def left(cell: object) -> int:
        started[:] = started or [time.monotonic()]
        return max(1, min(cell_timeout, int(started[0] + cell_timeout - time.monotonic())))

    return left


def run_notebook(
    notebook: Path,
    python: str,
    cwd: Path,
    out_dir: Path,
    cell_timeout: int = 300,
    env: dict[str, str] | None = None,
    pass_env: list[str] | None = None,
) -> NotebookRun:
    import nbformat

    nb = _read(notebook, cwd)
    OutputDir(out_dir, repo=cwd).close()
    isolate_self()  # before the first child (sandboxed() does it too)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    missing = _no_ipykernel(python, scrubbed_env(env, pass_env or ()), cwd)
    if missing:
        return NotebookRun(str(notebook), "", False, code_cells, error=missing)
    # a name forkvet chooses, never the notebook's: the Actions upload it by its exact name
    executed = out_dir / EXECUTED
    result = NotebookRun(str(notebook), str(executed), True, code_cells)
    kernel = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    readable = sandbox.environment_mounts(env)
    with (
        _kernel_folders() as (tmp, ipc),
        # the kernel runs the notebook's code: in the sandbox, like the smoke command; it
        # reads its connection file from `tmp` (read-only there), and its environment; it
        # makes its sockets in `ipc`
        sandbox.sandboxed(kernel, cwd, [ipc], [tmp, *readable]) as (argv, isolation),
    ):
        result.isolation = isolation
        kernel_env = scrubbed_env(env, pass_env or ())
        _write_kernelspec(tmp, argv, kernel_env)
        with _jupyter_paths(tmp):
            _execute(nb, result, python, tmp, cwd, cell_timeout, kernel_env)
    text = nbformat.writes(nb)  # type: ignore[no-untyped-call]
    if len(text) > MAX_EXECUTED_BYTES:  # kept as an artifact: the outputs go, the code stays
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
        said = f"forkvet: the outputs were over {MAX_EXECUTED_BYTES >> 20} MiB and were not kept."
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(said))  # type: ignore[no-untyped-call]
        text = nbformat.writes(nb)  # type: ignore[no-untyped-call]
    with OutputDir(out_dir, repo=cwd) as folder:
        folder.write_text(executed.name, text)
    return result


MAX_EXECUTED_BYTES = 64 << 20
EXECUTED = "executed.ipynb"
