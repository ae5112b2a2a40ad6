"""`forkvet notebooks`: starter notebooks that run as generated."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forkvet.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_from_the_example_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    repo = tmp_path / "tiny-model"
    shutil.copytree(ROOT / "examples" / "tiny-model", repo)
    out = repo / "notebooks"
    assert main(["notebooks", str(repo), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in printed) == [
        "testing_test.ipynb",
        "testing_test.py",
        "training_train.ipynb",
        "training_train.py",
    ]
    nb = json.loads((out / "training_train.ipynb").read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and "steps = 10" in "".join(tagged[0]["source"])
    # The generated training notebook runs as is, for `steps` steps, from the repo's folder.
    proc = subprocess.run(
        [sys.executable, str(out / "training_train.py")],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("step 10 loss:")


def test_notebook_opened_from_notebooks_folder_finds_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Jupyter starts the kernel in notebooks/: the script's sibling modules must import,
    files it reads must be found, and `steps` must reach --steps, never --epochs."""
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "classes.txt").write_text("cat\ndog\n")
    (repo / "dataset.py").write_text(
        "def load(path='data/classes.txt'):\n    return open(path).read().split()\n"
    )
    (repo / "train.py").write_text(
        "import argparse\n\nfrom dataset import load\n\nSEED = 1\nNAME = 'toy'\n"
        "LR = 0.1\n\n\ndef main():\n    p = argparse.ArgumentParser()\n"
        "    p.add_argument('--epochs', type=int, default=100)\n"
        "    p.add_argument('--steps', type=int, default=1000)\n"
        "    p.add_argument('--batch-size', type=int, default=64)\n"
        "    a = p.parse_args()\n"
        "    print('epochs', a.epochs, 'steps', a.steps, 'batch', a.batch_size, load())\n\n\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    out = repo / "notebooks"
    assert main(["notebooks", str(repo), "--out", str(out)]) == 0
    capsys.readouterr()
    proc = subprocess.run(
        [sys.executable, str(out / "training_train.py")],
        cwd=out,  # where Jupyter starts a notebook's kernel
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "epochs 1 steps 10 batch 2 ['cat', 'dog']"
    nb = json.loads((out / "training_train.ipynb").read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    # Parameters, set-up, imports, the constants together, main(), the main block, and the
    # closing metrics plot.
    assert len(code) == 7, code
    assert "train-check.json" in code[-1] and "plt.subplots" in code[-1]
    assert any("SEED = 1" in c and "LR = 0.1" in c for c in code)


DEMO = """import argparse


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--image", required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--batch-size", type=int, default=64)
    a = p.parse_args()
    print("demo on", a.image, a.device, a.batch_size)


if __name__ == "__main__":
    main()
"""


def _run_script(path: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "MPLBACKEND": "Agg", **env},
    )


def test_testing_notebook_runs_the_demo_on_one_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    (repo / "assets").mkdir(parents=True)
    (repo / "assets" / "dog.png").write_bytes(b"\x89PNG\r\n")
    (repo / "README.md").write_text("A demo.\n")
    (repo / "demo.py").write_text(DEMO)
    assert main(["notebooks", str(repo), "--out", str(repo / "notebooks")]) == 0
    capsys.readouterr()
    script = repo / "notebooks" / "testing_demo.py"
    text = script.read_text()
    assert "The demo runs on one input: `--image` = `assets/dog.png`." in text
    assert 'demo_input = "assets/dog.png"' in text
    proc = _run_script(script, repo / "notebooks")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "demo on assets/dog.png cpu 2"


def test_a_demo_whose_input_is_unknown_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "demo.py").write_text(DEMO.replace('"--image"', '"--weights"'))
    assert main(["notebooks", str(repo), "--out", str(repo / "notebooks")]) == 0
    capsys.readouterr()
    nb = json.loads((repo / "notebooks" / "testing_demo.ipynb").read_text())
    first = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown"
    assert "forkvet could not tell which input the demo takes" in first


def test_each_notebook_ends_with_the_metrics_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    from forkvet.runtime.train_check import check

    repo = tmp_path / "repo"
    (repo / "assets").mkdir(parents=True)
    (repo / "assets" / "cat.jpg").write_bytes(b"\xff\xd8")
    (repo / "demo.py").write_text(DEMO)
    (repo / "train.py").write_text(
        "import argparse\np = argparse.ArgumentParser()\n"
        "p.add_argument('--epochs', type=int, default=100)\na = p.parse_args()\n"
        "for e in range(a.epochs):\n    print(f'epoch {e} loss {1 / (e + 1)} val_acc 0.5')\n"
    )
    assert main(["notebooks", str(repo), "--out", str(repo / "notebooks")]) == 0
    capsys.readouterr()
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {s} loss {2 / (s + 1)} val_acc {s / 10}\n" for s in range(9)))
    result = tmp_path / "train-check.json"
    result.write_text(json.dumps(check(log=log, out_dir=tmp_path / "out").to_dict()))
    for name in ("testing_demo", "training_train"):
        nb = json.loads((repo / "notebooks" / f"{name}.ipynb").read_text())
        assert "## Metrics" in "".join(nb["cells"][-2]["source"])
        assert '"metrics"' in "".join(nb["cells"][-1]["source"])
        missing = _run_script(repo / "notebooks" / f"{name}.py", repo)
        assert missing.returncode == 0 and "no training-check result" in missing.stderr
        shown = _run_script(repo / "notebooks" / f"{name}.py", repo, FORKVET_RESULT=str(result))
        assert shown.returncode == 0 and "no training-check result" not in shown.stderr


def test_no_scripts_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lib.py").write_text("X = 1\n")
    assert main(["notebooks", str(tmp_path)]) == 2
    assert "no Python test or training script" in capsys.readouterr().err


def _notebook(path: Path, cells: list[str]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))


@pytest.mark.parametrize(
    ("cells", "verdict", "failed_cell", "needle"),
    [
        (["x = 2", "print(x * 21)"], "pass", None, None),
        (
            ["x = 1", "raise ValueError('bad data path')", "print('never')"],
            "fail",
            1,
            "ValueError: bad data path",
        ),
        (["import time", "time.sleep(60)"], "fail", 1, "timed out"),
        # Round 13b F9: the kernel's messages are the notebook speaking; a number past
        # Python's digit limit in one ended forkvet itself (exit 3)
        (
            [
                "import sys\nsys.set_int_max_str_digits(0)\n"
                "from IPython.display import publish_display_data\n"
                "publish_display_data({'text/plain': 'x'}, metadata={'n': int('9' * 5000)})",
                "print('after')",
            ],
            "fail",
            0,
            "could not read the kernel's output",
        ),
    ],
)
def test_smoke_executes_notebooks_with_a_per_cell_timeout(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    cells: list[str],
    verdict: str,
    failed_cell: int | None,
    needle: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    repo = tmp_path / "repo"
    repo.mkdir()
    _notebook(repo / "demo.ipynb", cells)
    out = tmp_path / "smoke.json"
    monkeypatch.chdir(repo)  # --notebook is relative to where the user types it
    code = main(
        [
            "smoke",
            str(repo),
            "--python",
            sys.executable,
            "--notebook",
            "demo.ipynb",
            "--timeout",
            "5",
            "--no-import-check",
            "--out",
            str(tmp_path / "out"),
            "--format",
            "json",
            "-o",
            str(out),
        ]
    )
    capsys.readouterr()
    data = json.loads(out.read_text())
    assert data["verdict"] == verdict and code == (0 if verdict == "pass" else 1)
    run = data["notebook"]
    assert run["failed_cell"] == failed_cell and Path(run["executed"]).is_file()
    executed = json.loads(Path(run["executed"]).read_text())
    if verdict == "pass":
        assert "".join(executed["cells"][1]["outputs"][0]["text"]) == "42\n"
    else:
        assert needle in run["error"]


def test_the_notebook_kernel_gets_no_secret_of_forkvets_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round 15b F6: jupyter_client starts a kernel with the launching process's whole
    environment; the kernel (the notebook's code) printed GITHUB_TOKEN and AWS keys."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    secret = "ghs_" + "k" * 36
    monkeypatch.setenv("GITHUB_TOKEN", secret)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    repo = tmp_path / "repo"
    repo.mkdir()
    _notebook(repo / "demo.ipynb", ["import os\nprint(sorted(os.environ))"])
    out = tmp_path / "smoke.json"
    monkeypatch.chdir(repo)
    main(
        [
            *("smoke", str(repo), "--python", sys.executable, "--notebook", "demo.ipynb"),
            *("--no-import-check", "--out", str(tmp_path / "out"), "--format", "json"),
            *("-o", str(out)),
        ]
    )
    capsys.readouterr()
    executed = json.loads(out.read_text())["notebook"]["executed"]
    printed = "".join(
        "".join(o.get("text", ""))
        for c in json.loads(Path(executed).read_text())["cells"]
        for o in c.get("outputs", [])
    )
    assert "PATH" in printed  # the cell ran and printed its environment's names
    assert json.loads(out.read_text())["isolation"] in ("bubblewrap", "none")  # round 15b F4
    assert "GITHUB_TOKEN" not in printed and "AWS_SECRET_ACCESS_KEY" not in printed


def test_a_flood_of_notebook_output_is_not_held_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round 15b F3: every output of the run was held in forkvet's memory, outside the sandbox
    (1 GiB of prints: 3.5 GB). Past the cap outputs are dropped, with one line saying so."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from forkvet.runtime import notebook_run

    monkeypatch.setattr(notebook_run, "MAX_KEPT_OUTPUT", 200_000)
    repo = tmp_path / "repo"
    repo.mkdir()
    _notebook(repo / "demo.ipynb", ["for i in range(3000):\n    print('x' * 1000, flush=True)"])
    out = tmp_path / "smoke.json"
    monkeypatch.chdir(repo)
    main(
        [
            *("smoke", str(repo), "--python", sys.executable, "--notebook", "demo.ipynb"),
            *("--no-import-check", "--out", str(tmp_path / "out"), "--format", "json"),
            *("-o", str(out)),
        ]
    )
    capsys.readouterr()
    data = json.loads(out.read_text())
    assert data["verdict"] == "pass", data
    executed = Path(data["notebook"]["executed"]).read_text()
    assert len(executed) < 1_000_000 and "were not kept" in executed


H1_CELL = r"""import os, subprocess, sys
os.write(1, b"::stop-commands::h1-marker-out\n")
os.write(2, b"\x1b]0;TITLE\x07h1-marker-err\n")
subprocess.run(["sh", "-c", "echo h1-marker-child; echo h1-marker-child-err >&2"])
sys.__stdout__.write("h1-marker-dunder\n"); sys.__stdout__.flush()
"""


def test_the_notebook_kernel_writes_nothing_to_forkvets_own_stdout_or_stderr(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round 16b H1: the kernel started with forkvet's own fds 1 and 2; a cell (and every
    child it starts) wrote raw, unbounded text to the CI log (workflow commands, escapes), and
    into a host file when forkvet's stdout was one. The kernel's stdio is /dev/null: what a
    cell prints reaches only the notebook, through the kernel's messages."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    repo = tmp_path / "repo"
    repo.mkdir()
    _notebook(repo / "demo.ipynb", [H1_CELL])
    out = tmp_path / "smoke.json"
    monkeypatch.chdir(repo)
    main(
        [
            *("smoke", str(repo), "--python", sys.executable, "--notebook", "demo.ipynb"),
            *("--no-import-check", "--out", str(tmp_path / "out"), "--format", "json"),
            *("-o", str(out)),
        ]
    )
    captured = capfd.readouterr()
    assert "h1-marker" not in captured.out + captured.err
    data = json.loads(out.read_text())
    assert data["verdict"] == "pass", data
    printed = "".join(
        "".join(o.get("text", ""))
        for c in json.loads(Path(data["notebook"]["executed"]).read_text())["cells"]
        for o in c.get("outputs", [])
    )
    assert "h1-marker-child" in printed  # the notebook still gets what its cells print


@pytest.mark.parametrize("layout", ["file-link", "folder-link"])
def test_a_notebook_behind_a_link_of_the_repository_is_refused_and_never_quoted(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    layout: str,
) -> None:
    """Round 16b M1: `--notebook notebooks/demo.ipynb`, a committed link (or a linked folder
    above it) to a file outside the checkout, was read outside the sandbox and the error line
    quoted its first 40 bytes."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "creds.ipynb").write_text("SECRET-RUNNER-CREDENTIALS-MARKER\n")
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "train.py").write_text("print('hi')\n")
    if layout == "file-link":
        (repo / "notebooks" / "demo.ipynb").symlink_to(outside / "creds.ipynb")
        name = "notebooks/demo.ipynb"
    else:
        (repo / "notebooks" / "runner").symlink_to(outside)
        name = "notebooks/runner/creds.ipynb"
    monkeypatch.chdir(repo)
    code = main(
        [
            *("smoke", str(repo), "--python", sys.executable, "--notebook", name),
            *("--no-import-check", "--out", str(tmp_path / "out"), "--format", "json"),
            *("-o", str(tmp_path / "smoke.json")),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "symbolic link" in err, err
    assert "SECRET" not in err


def test_a_file_that_is_no_notebook_is_never_quoted(tmp_path: Path) -> None:
    from forkvet.errors import InputError
    from forkvet.runtime.notebook_run import _read

    (tmp_path / "x.ipynb").write_text("SECRET-MARKER not json\n")
    with pytest.raises(InputError) as caught:
        _read(tmp_path / "x.ipynb", tmp_path)
    assert "is not a notebook" in str(caught.value) and "SECRET" not in str(caught.value)


def test_the_timeout_bounds_all_the_cells_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round 22b F7: each cell under --timeout, together far past it — the run held the
    runner N times as long and passed. The cells share one --timeout."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    repo = tmp_path / "repo"
    repo.mkdir()
    _notebook(repo / "slow.ipynb", ["import time"] + ["time.sleep(2)"] * 6)
    out = tmp_path / "smoke.json"
    monkeypatch.chdir(repo)
    args = ["smoke", str(repo), "--python", sys.executable, "--notebook", "slow.ipynb"]
    args += ["--timeout", "5", "--no-import-check", "--out", str(tmp_path / "out")]
    code = main([*args, "--format", "json", "-o", str(out)])
    capsys.readouterr()
    data = json.loads(out.read_text())
    assert code == 1 and data["verdict"] != "pass", data
    assert data["notebook"]["failed_cell"] is not None
