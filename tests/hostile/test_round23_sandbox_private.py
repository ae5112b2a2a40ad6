"""Round 22b's runtime findings on what the command can read or steer, closed in round 23:
secret names under a passed prefix (F2), a wheel's `bin/python._pth` (F4), a script path that
breaks out of a notebook's Markdown cell (F6), the `.git` clean-up past its entry bound (F9),
private folders shared when `TMPDIR` is not `/tmp` (F10), and `forkvet report`'s step
outputs (F14)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import venv
from pathlib import Path

import pytest

from forkvet.runtime import process, venvstart

# --- F2: the environment passes settings by exact name, never by prefix ------------------------

# The tester's synonyms, short enough that no value rule catches them.
_SYNONYMS = {
    "TORCH_HUB_PASSCODE": "hunter2x",
    "NVIDIA_LICENSE_TICKET": "hunter7x",
    "TORCH_NONCE": "hunter5x",
    "CUDA_USERPASS": "hunter10",
    "CUDA_PSWD": "hunter14",
    "XDG_PWORD": "hunter13",
    "XDG_MACAROON": "hunter6x",
    "NCCL_PASSCODE": "hunter9x",
    "OMP_VOUCHER": "hunter8x",
    "PYTHON_LICENSE": "hunter3x",
    "LC_SIGIL": "hunter4x",
    "XDG_RUNTIME_DIR": "/run/user/1000",  # sockets: D-Bus, agents, container engines
}


@pytest.mark.parametrize(("name", "value"), sorted(_SYNONYMS.items()))
def test_a_name_under_a_libraries_prefix_passes_only_when_a_library_reads_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """F2: `TORCH_*`, `CUDA_*`, `XDG_*` ... passed every name but those with a secret word;
    synonyms nobody listed (PASSCODE, PSWD, TICKET, NONCE, MACAROON) reached the command."""
    for other in _SYNONYMS:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(name, value)
    assert name not in process.scrubbed_env()
    assert process.scrubbed_env(pass_env=[name])[name] == value  # the operator's choice


def test_the_settings_table_holds_the_names_training_jobs_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = {
        "CUDA_VISIBLE_DEVICES": "0,1",
        "NCCL_DEBUG": "INFO",
        "OMP_NUM_THREADS": "4",
        "PYTHONHASHSEED": "0",
        "LC_ALL": "C.UTF-8",
        "TORCH_HOME": "/data/torch",
        "XDG_CACHE_HOME": "/data/cache",
        "PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    for k, v in kept.items():
        monkeypatch.setenv(k, v)
    env = process.scrubbed_env()
    assert {k: env.get(k) for k in kept} == kept
    assert not [n for n in process.library_settings() if process.secret_name(n)]


# --- F4: a wheel's `bin/python._pth` decides every start of the environment's interpreter -------


def _sys_path(python: Path) -> list[str]:
    out = subprocess.run(
        [str(python), "-I", "-S", "-c", "import sys, json; print(json.dumps(sys.path))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return list(json.loads(out.stdout))


def test_a_pth_file_beside_the_interpreter_is_removed_and_fingerprinted(tmp_path: Path) -> None:
    """F4: CPython's getpath reads `<executable>._pth` (a wheel's `data/bin/python._pth`);
    it replaced `sys.path` under `-I -S` and was in no digest. A real venv shows the loader's
    side; forkvet removes every `._pth` of `bin/` after an install, and an environment whose
    `bin/` gained one is not reused."""
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env)
    cfg = venvstart.read_cfg(env)
    recorded = venvstart.record(env)
    (tmp_path / "boot").mkdir()
    pth = env / "bin" / "python._pth"
    pth.write_text(f"{tmp_path / 'boot'}\n" + "\n".join(_sys_path(env / "bin" / "python")))
    (env / "bin" / "pybuilddir.txt").write_text("build\n")
    assert _sys_path(env / "bin" / "python")[0] == str(tmp_path / "boot")  # the loader obeys it
    assert not venvstart.matches(env, recorded["startup"])
    assert "bin/python._pth" in venvstart.fingerprint(env)
    venvstart.restore_cfg(env, cfg)  # what forkvet does after every install
    assert not pth.exists() and not (env / "bin" / "pybuilddir.txt").exists()
    assert str(tmp_path / "boot") not in _sys_path(env / "bin" / "python")
    assert venvstart.matches(env, recorded["startup"])
    assert (env / "bin" / "python").exists()  # the interpreter itself is kept


# --- F6: a script path with line breaks broke out of the notebook's Markdown title cell --------

_TRAIN = """import argparse
import torch

p = argparse.ArgumentParser()
p.add_argument("--epochs", type=int, default=10)
p.add_argument("--lr", type=float, default=0.1)
a = p.parse_args()
model = torch.nn.Linear(2, 1)
opt = torch.optim.SGD(model.parameters(), lr=a.lr)
for epoch in range(a.epochs):
    loss = model(torch.randn(4, 2)).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print("loss", loss.item())
"""
_INJECTED = 'import os; os.system("touch NBINJECT")'


def test_a_script_path_never_starts_a_cell_of_the_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """F6: the folder `proj⏎# %%⏎import os; os.system(...)⏎# %% x` holding train.py made the
    injected line the generated notebook's first code cell, ahead of forkvet's set-up."""
    pytest.importorskip("jupytext")
    from forkvet.cli import main

    repo = tmp_path / "repo"
    folder = repo / f"proj\n# %%\n{_INJECTED}\n# %% x"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text(_TRAIN)
    out = tmp_path / "nb"
    assert main(["notebooks", str(repo), "--out", str(out)]) == 0
    capsys.readouterr()
    script = out / "training_train.py"
    lines = script.read_text().splitlines()
    assert _INJECTED not in lines and lines[0] == "# %% [markdown]"
    assert lines[1].startswith("# # Training notebook: `proj\\n# %%\\nimport os")
    cells = json.loads((out / "training_train.ipynb").read_text())["cells"]
    assert cells[0]["cell_type"] == "markdown" and cells[1]["metadata"].get("tags") == [
        "parameters"
    ]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert not [c for c in code if c.startswith(_INJECTED)]


def test_a_markdown_cell_shows_every_line_break_left_in_a_line() -> None:
    from forkvet.runtime.notebooks import markdown_cell

    cell = markdown_cell("a\n%%\nb\u2028c\rd", "", "e")
    assert cell == "# %% [markdown]\n# a\\n%%\\nb\\u2028c\\rd\n#\n# e\n"


# --- F14: `forkvet report` reads train.json as untrusted: outputs are typed -------------------


def _outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT's `name<<DELIMITER` blocks (github-action-utils' form) and `name=value`."""
    found: dict[str, str] = {}
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        name, sep, rest = lines[i].partition("<<")
        if sep:
            end = lines.index(rest, i + 1)
            found[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        else:
            key, _, value = lines[i].partition("=")
            found[key] = value
            i += 1
    return found


@pytest.mark.parametrize(
    ("plot", "speed", "shown_plot", "shown_speed"),
    [
        ("{secret}", "1e999", "", ""),  # the tester's train.json: any file, a string "number"
        ("{own}", 2.5, "{own}", "2.5"),  # forkvet's own loss.png below the result's folder
        ("{elsewhere}", float("nan"), "", ""),  # a loss.png outside the result's folder
        ("{fake}", True, "", ""),  # named loss.png, not a PNG; a bool is no number
    ],
)
def test_report_publishes_only_forkvets_plot_and_numbers_as_numbers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    plot: str,
    speed: object,
    shown_plot: str,
    shown_speed: str,
) -> None:
    """F14: a train.json naming `"plot": "/…/secret.txt"` and `"steps_per_second": "1e999"`
    had both copied into GITHUB_OUTPUT; a workflow uploading the plot output published the
    file."""
    from forkvet.cli import main

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    paths = {
        "secret": tmp_path / "secret.txt",
        "own": tmp_path / "run" / "train" / "loss.png",
        "elsewhere": tmp_path / "other" / "loss.png",
        "fake": tmp_path / "run" / "fake" / "loss.png",
    }
    for name, where in paths.items():
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_bytes(b"not a png\n" if name in ("secret", "fake") else png)
    fill = {k: str(v) for k, v in paths.items()}
    result = tmp_path / "run" / "train.json"
    data = {"verdict": "pass", "losses": [2.0, None, 0.5], "plot": plot.format(**fill)}
    result.write_text(json.dumps({**data, "steps_per_second": speed}))
    out, summary = tmp_path / "gout", tmp_path / "summary"
    out.write_text("")
    summary.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["report", "--train", str(result)]) == 0
    capsys.readouterr()
    got = _outputs(out)
    assert got["plot"] == shown_plot.format(**fill)
    assert got["steps-per-second"] == shown_speed
    assert json.loads(got["losses"]) == [2.0, None, 0.5]
    assert "1e999" not in summary.read_text() and "inf" not in summary.read_text()


# --- F9: past the entry bound the planted-.git clean-up stopped -------------------------------


def test_every_planted_git_is_removed_whatever_the_tree_holds_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F9: 2.1 million hard links, then `sNN/.git`: the walk stopped at 2,000,000 entries and
    the plants after it survived, keying a later step on `SUB` by a planted remote. The bound
    is lowered here (an older forkvet's name for it) so a small tree crosses it: nothing
    bounds the walk now."""
    from forkvet.runtime import gitplants

    monkeypatch.setattr(gitplants, "MAX_ENTRIES", 20, raising=False)
    repo = tmp_path / "ws"
    (repo / "vendor" / ".git").mkdir(parents=True)  # there before the run: kept
    before = gitplants.record([repo])
    big = repo / "big"
    big.mkdir()
    for i in range(60):
        (big / f"f{i}").write_text("")
    for sub in ("big/zz", "big/zz/deeper/x", "s01"):
        (repo / sub / ".git" / "refs").mkdir(parents=True)
        (repo / sub / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / "big" / "gitfile").mkdir()
    (repo / "big" / "gitfile" / ".git").write_text("gitdir: /elsewhere\n")
    said = gitplants.planted(before)
    wanted = ["big/gitfile/.git", "big/zz/.git", "big/zz/deeper/x/.git", "s01/.git"]
    assert sorted(said) == wanted, said
    assert sorted(str(p.relative_to(repo)) for p in repo.rglob(".git")) == ["vendor/.git"]


def test_a_folder_the_walk_cannot_vouch_for_is_said(tmp_path: Path) -> None:
    from forkvet.runtime import gitplants

    repo = tmp_path / "ws"
    repo.mkdir()
    said = gitplants.planted({str(repo): None})
    assert said and "not checked" in said[0]


# --- F10: private folders shared when TMPDIR is not /tmp --------------------------------------

_PEEK = (
    "echo mine > /tmp/mine && echo home > $HOME/h && cat /tmp/mine $HOME/h; "
    "ls -A {parent} | tr '\\n' ' '; echo; cat {other}/tmp/home/secret.txt 2>&1 || echo NOREAD"
)


def test_a_sandbox_never_sees_another_runs_private_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F10: with TMPDIR on a disk other than /tmp (or the /var/tmp fallback), each sandbox
    covered only `/tmp`; a concurrent run of the same user read another's `/tmp`, `HOME` and
    scratch in `$TMPDIR/forkvet-sandbox-*` and connected to its sockets. Every private
    folder is now in `forkvet-private-<uid>`, which every sandbox covers."""
    import tempfile

    from forkvet.runtime import sandbox, tmpstore

    if not sandbox.probe().ok:
        pytest.skip("needs bubblewrap")
    disk = tempfile.mkdtemp(prefix="fix23priv-tmpdir-", dir=tmpstore.FALLBACK)
    try:
        if not tmpstore.disk(disk):
            pytest.skip(f"{tmpstore.FALLBACK} is not on a disk here")
        monkeypatch.setattr(tempfile, "tempdir", disk)
        parent = tmpstore.parent()
        assert parent is not None and os.path.dirname(parent) == disk
        assert stat.S_IMODE(os.lstat(parent).st_mode) == 0o700
        other = Path(tempfile.mkdtemp(prefix="forkvet-sandbox-", dir=parent))  # a run beside
        (other / "tmp" / "home").mkdir(parents=True)
        (other / "tmp" / "home" / "secret.txt").write_text("tenantA-private-data\n")
        repo = tmp_path / "ws"
        repo.mkdir()
        script = _PEEK.format(parent=parent, other=other)
        with sandbox.sandboxed(["/bin/sh", "-c", script], repo) as (argv, _):
            out = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=repo)
        lines = out.stdout.splitlines()
        assert lines[:2] == ["mine", "home"], out.stdout + out.stderr
        assert lines[2].strip() == "" and "tenantA" not in out.stdout and lines[-1] == "NOREAD"
        assert [p.name for p in Path(parent).iterdir()] == [other.name]  # its own is gone
    finally:
        import shutil

        shutil.rmtree(disk, ignore_errors=True)


def test_a_private_parent_someone_else_could_open_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.runtime import tmpstore

    monkeypatch.setattr(tmpstore, "place", lambda: (str(tmp_path), "ext4"))
    made = tmp_path / tmpstore.PARENT.format(uid=os.geteuid())
    made.mkdir(mode=0o755)
    made.chmod(0o755)
    with pytest.raises(tmpstore.NoDiskFolder, match="only it may open"):
        tmpstore.private_folder("forkvet-out-")
    made.rmdir()
    made.symlink_to(tmp_path)
    with pytest.raises(tmpstore.NoDiskFolder, match="only it may open"):
        tmpstore.parent()
