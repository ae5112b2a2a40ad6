"""Hostile repositories against every writer: committed symlinks must never choose where
forkvet writes, outputs stay out of the checkout unless asked, and refusals are one line, exit 2.

The stand-in for the user's `~/.bashrc` is a file outside every output folder: each attack
points a symlink at it and the test asserts it is unchanged."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.safe_write import OutputDir, UnsafeOutput, check_name, default_out, write_file
from tests.conftest import MakeRepo, git

BASHRC = "export PATH=/usr/bin\n"
CODE = {
    "train.py": "import argparse\nimport torch\n\ndef main():\n    pass\n\n"
    "if __name__ == '__main__':\n    main()\n",
    "test.py": "import torch\n\ndef test_model():\n    assert True\n",
    "LICENSE": "MIT License\n\nCopyright (c) 2019 Someone\n",
}


@pytest.fixture
def bashrc(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    target = home / ".bashrc"
    target.write_text(BASHRC)
    return target


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("forkvet: error: "), err
    return err


def hostile_repo(make_repo: MakeRepo, links: dict[str, Path], name: str = "model-repo") -> Path:
    """A real git repository whose commit holds symlinks (git stores them as links)."""
    repo = make_repo(CODE, use_git=False, name=name)
    for path, target in links.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, repo / path)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fork")
    return repo


def test_env_into_a_committed_symlinked_folder_or_file_is_refused(
    make_repo: MakeRepo,
    bashrc: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `forkvet env . --out forkvet-env` inside the checkout (as the env action did)
    repo = hostile_repo(
        make_repo,
        {
            "forkvet-env": bashrc.parent,  # the folder itself is a link to $HOME
            "out2/requirements.txt": bashrc,  # a real folder holding a link to ~/.bashrc
            "deep/link": bashrc.parent,  # a link in the middle of the path
        },
    )
    monkeypatch.chdir(repo)
    for out in ("forkvet-env", "out2", "deep/link/sub"):
        assert main(["env", ".", "--offline", "--out", out]) == 2
        err = one_line_error(capsys)
        assert "symbolic link" in err, err
    assert bashrc.read_text() == BASHRC
    assert sorted(p.name for p in bashrc.parent.iterdir()) == [".bashrc"]


@pytest.mark.parametrize(
    ("link", "flags"),
    [
        (".python-version", []),
        ("uv.toml", []),
        ("sbom.cdx.json", ["--sbom"]),
    ],
)
def test_env_refuses_a_link_before_writing_any_output(
    make_repo: MakeRepo,
    bashrc: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    link: str,
    flags: list[str],
) -> None:
    """A link where the last output would go is refused before the first is written: no half
    set of outputs that looks complete is left behind."""
    repo = hostile_repo(make_repo, {link: bashrc})
    monkeypatch.chdir(repo)
    assert main(["env", ".", "--offline", "--out", ".", *flags]) == 2
    assert "symbolic link" in one_line_error(capsys)
    for name in ("requirements.txt", "environment.yml", ".python-version", "sbom.cdx.json"):
        assert name == link or not (repo / name).exists(), name
    assert bashrc.read_text() == BASHRC


def test_container_outputs_are_checked_before_anything_is_written(
    make_repo: MakeRepo, bashrc: Path, tmp_path: Path
) -> None:
    from forkvet.envgen import container, outputs
    from forkvet.safe_write import check_outputs

    out = tmp_path / "out"
    out.mkdir()
    os.symlink(bashrc.parent, out / ".devcontainer")
    with pytest.raises(UnsafeOutput, match="symbolic link"):
        check_outputs(out, [*outputs.FILES, *container.FILES])
    assert sorted(p.name for p in out.iterdir()) == [".devcontainer"]
    check_outputs(tmp_path / "missing" / "deeper", [*outputs.FILES, *container.FILES])
    assert not (tmp_path / "missing").exists()


def test_default_outputs_never_land_in_the_checkout(
    make_repo: MakeRepo,
    bashrc: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = hostile_repo(make_repo, {"forkvet-env": bashrc.parent, "notebooks": bashrc.parent})
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.chdir(repo)
    assert main(["env", ".", "--offline"]) in (0, 1)  # offline: written, partial when unpinned
    (repo / "src").mkdir()
    monkeypatch.chdir(repo / "src")  # anywhere inside the checkout
    assert main(["notebooks", ".."]) == 0
    out = capsys.readouterr().out
    env_dir = default_out("forkvet-env", repo)
    assert env_dir.is_relative_to(cache) and (env_dir / "requirements.txt").is_file()
    assert str(env_dir / "requirements.txt") in out  # the user is told where it went
    assert any(p.suffix == ".ipynb" for p in default_out("notebooks", repo).iterdir())
    assert bashrc.read_text() == BASHRC and len(list(bashrc.parent.iterdir())) == 1
    assert not [p for p in repo.rglob("*") if p.is_file() and p.suffix in (".txt", ".ipynb")]
    # from outside the checkout the default is the current folder, as before
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["env", str(repo), "--offline"]) in (0, 1)  # offline: partial when unpinned
    assert (elsewhere / "forkvet-env" / "requirements.txt").is_file()


def test_vet_attribution_notebooks_smoke_outputs_refuse_links(
    make_repo: MakeRepo,
    bashrc: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = hostile_repo(
        make_repo,
        {
            "report.json": bashrc,
            "ATTRIBUTION.md": bashrc,
            "nb": bashrc.parent,
            "forkvet-out": bashrc.parent,
        },
    )
    monkeypatch.chdir(repo)
    assert main(["vet", ".", "--format", "json", "--output", "report.json"]) == 2
    assert "symbolic link" in one_line_error(capsys)
    assert main(["attribution", ".", "--out", "."]) == 2
    assert "symbolic link" in one_line_error(capsys)
    assert main(["notebooks", ".", "--out", "nb"]) == 2
    assert "symbolic link" in one_line_error(capsys)
    python = str(Path(sys.executable))
    assert main(["smoke", ".", "--python", python, "--cmd", "true", "--out", "forkvet-out"]) == 2
    assert "symbolic link" in one_line_error(capsys)
    assert bashrc.read_text() == BASHRC and len(list(bashrc.parent.iterdir())) == 1
    # asked for explicitly, a real folder in the checkout is fine
    assert main(["attribution", ".", "--out", "docs"]) == 0
    assert (repo / "docs" / "ATTRIBUTION.md").is_file()


def test_output_dir_rules(tmp_path: Path, bashrc: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "real").mkdir(parents=True)
    # a hard link to a file outside: truncating it would change the outside file
    os.link(bashrc, repo / "real" / "hard.txt")
    with OutputDir(repo / "real", repo=repo) as out:
        with pytest.raises(UnsafeOutput, match="hard link"):
            out.write_text("hard.txt", "x")
        os.mkfifo(repo / "real" / "fifo")
        with pytest.raises(UnsafeOutput, match="not a regular file"):
            out.write_text("fifo", "x")
        out.write_text("new.txt", "one")
        out.write_text("new.txt", "two")  # a regular file of ours is replaced
        assert (repo / "real" / "new.txt").read_text() == "two"
    for bad in ("a/b", "..", ".", "line\nbreak", "esc\x1b[31m", "", "x" * 300):
        with pytest.raises(UnsafeOutput):
            check_name(bad)
    with pytest.raises(UnsafeOutput, match="not a folder"):
        OutputDir(bashrc / "sub")
    # a link the repository holds is refused however the repository's path is spelled
    alias = tmp_path / "alias"
    os.symlink(repo, alias)
    os.symlink(bashrc.parent, repo / "inlink")
    for out_path, root in ((repo / "inlink" / "sub", alias), (alias / "inlink" / "sub", repo)):
        with pytest.raises(UnsafeOutput, match="symbolic link"):
            OutputDir(out_path, repo=root)
    # the user's own links outside the repository are followed
    (tmp_path / "disk").mkdir()
    os.symlink(tmp_path / "disk", tmp_path / "mine")
    with OutputDir(tmp_path / "mine" / "out", repo=repo) as mine:
        mine.write_text("r.txt", "ok")
    assert (tmp_path / "disk" / "out" / "r.txt").read_text() == "ok"
    write_file(tmp_path / "fresh" / "a" / "b.json", "{}")  # missing folders are created
    assert (tmp_path / "fresh" / "a" / "b.json").read_text() == "{}"
    assert bashrc.read_text() == BASHRC


def test_a_symlinked_repository_config_is_refused_not_followed(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "operator-policy.yml"
    secret.write_text("license:\n  allow: [proprietary]\n")  # would loosen the policy
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "forkvet.yml").write_text("license:\n  allow: [proprietary]\n")
    cases = {
        "file": {".github/forkvet.yml": secret},
        "folder": {".github": elsewhere},
    }
    for name, links in cases.items():
        repo = hostile_repo(make_repo, links, name=f"repo-{name}")
        assert main(["vet", str(repo), "--format", "json"]) == 1
        out = capsys.readouterr().out
        assert "symbolic link" in out and "Invalid .github/forkvet.yml" in out, out
        assert "proprietary" not in out
    fifo_repo = make_repo(CODE, use_git=False, name="repo-fifo")
    (fifo_repo / ".github").mkdir()
    os.mkfifo(fifo_repo / ".github" / "forkvet.yml")  # reading it would block forever
    assert main(["vet", str(fifo_repo), "--format", "json"]) == 1
    assert "not a regular file" in capsys.readouterr().out


def test_env_action_writes_outside_the_checkout(
    make_repo: MakeRepo, bashrc: Path, tmp_path: Path
) -> None:
    from tests.action_runner import run_action

    root = Path(__file__).resolve().parents[2]
    checkout = hostile_repo(make_repo, {"forkvet-env": bashrc.parent})
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    outputs, _, procs = run_action(
        root / "actions" / "env" / "action.yml", {"offline": "true"}, checkout, temp
    )
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    requirements = Path(outputs["requirements"])
    assert requirements.is_relative_to(temp) and requirements.is_file()
    assert bashrc.read_text() == BASHRC and len(list(bashrc.parent.iterdir())) == 1
