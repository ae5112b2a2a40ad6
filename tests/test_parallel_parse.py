"""Parsing in forked worker processes: the same report as one process, and no hang when the
process that forks has its own signal handlers (an App, a test runner)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _repo(tmp_path: Path) -> Path:
    """~150 KiB of varied Python: enough for the worker pool, one file above the pooled size."""
    repo = tmp_path / "repo"
    (repo / "lib").mkdir(parents=True)
    (repo / "train.py").write_text(
        "import argparse\nimport torch\n\nparser = argparse.ArgumentParser()\n"
        "parser.add_argument('--lr', type=float, default=0.1)\n"
        "if __name__ == '__main__':\n    args = parser.parse_args()\n"
        "    net = torch.load(args.resume)\n    print(f'{args.lr=}')\n"
    )
    (repo / "old.py").write_text("import cPickle\nprint 'py2'\nx = cPickle.load(open('a'))\n")
    for i in range(40):
        body = "".join(
            f"def f{i}_{j}(x, *, k={j}):\n    if (y := x + k) > 3:\n        return y\n"
            f"    return undefined_{j}\n\n"
            for j in range(30)
        )
        (repo / "lib" / f"m{i}.py").write_text(f"import numpy as np\n\n{body}")
    (repo / "lib" / "generated.py").write_text(
        "import os\n" + "".join(f"V{i} = os.path.join('a', '{i}')\n" for i in range(9000))
    )
    return repo


_VET = textwrap.dedent(
    """
    import json, os, signal, sys
    if sys.argv[2] == "handler":  # what an App's supervisor or a test runner installs
        signal.signal(signal.SIGTERM, lambda *a: None)
    if sys.argv[2] == "thread":  # an App's queue worker, a test's HTTP server
        import threading, time
        threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
    from forkvet.vet import pysource
    calls = []
    pooled = pysource._analyze_in_pool
    pysource._analyze_in_pool = lambda *a, **k: calls.append(1) or pooled(*a, **k)
    from forkvet.source import open_target
    from forkvet.vet import vet
    with open_target(sys.argv[1], None) as snap:
        report = json.loads(vet(snap).to_json())
    report.pop("findings")  # notices name timings; the answers are what must agree
    print(json.dumps({"pooled": bool(calls), "report": report}))
    """
)


def _vet(repo: Path, jobs: str, mode: str = "") -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _VET, str(repo), mode],
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a speed check
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "FORKVET_JOBS": jobs},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out: dict[str, object] = json.loads(proc.stdout)
    return out


def test_workers_give_the_same_report_as_one_process(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    parallel, single = _vet(repo, "2"), _vet(repo, "1")
    assert parallel["pooled"] and not single["pooled"]
    assert parallel["report"] == single["report"]
    python = parallel["report"]["python"]  # type: ignore[index]
    assert python["min_version"] == "3.8"  # f"{x=}" and := seen in the pooled files


def test_a_process_with_its_own_sigterm_handler_does_not_hang(tmp_path: Path) -> None:
    """Workers inherit the parent's handlers through fork; one that ignores SIGTERM kept them
    alive when the pool stopped them, and the vet waited forever."""
    out = _vet(_repo(tmp_path), "2", "handler")
    assert out["pooled"]


def test_a_process_with_other_threads_parses_in_one_thread(tmp_path: Path) -> None:
    """Forking while another thread may hold a lock can leave a worker waiting on it forever
    (seen: a test suite that had run a web server hung here): such a process does not fork,
    and gets the same report."""
    repo = _repo(tmp_path)
    threaded = _vet(repo, "2", "thread")
    assert not threaded["pooled"]
    assert threaded["report"] == _vet(repo, "1")["report"]


def test_every_node_is_walked_as_ast_walk_does() -> None:
    """The analyzers see all_nodes(), a faster ast.walk: the same nodes in the same order,
    also where list fields hold None (`**` in a dict, keyword-only arguments without a default)
    or identifiers (global, match class keywords)."""
    import ast

    from forkvet.vet.pysource import all_nodes

    source = textwrap.dedent(
        """
        def f(a, /, b, *args, c, d=1, e, **kw) -> int:
            global g
            return {**x, 'k': 1, **y}[lambda *, z: z]
        match p:
            case {'a': 1, **rest}: pass
            case C(1, x=2, y=[3, *others]) | None: pass
        async def h():
            async with a as b, c:
                yield [i async for i in it if await i]
        print(f"{x!r:>{w}}", (y := 2), *z, **q)
        """
    )
    tree = ast.parse(source)
    assert [id(n) for n in all_nodes(tree)] == [id(n) for n in ast.walk(tree)]
