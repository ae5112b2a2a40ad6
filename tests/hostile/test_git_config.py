"""Hostile repositories against forkvet's git: a `.git/config` that names programs (fsmonitor,
gpg with showSignature on a signed-looking commit, pager, hooks, external diff, textconv and
filter drivers, sshCommand, uploadpack, credential helper) runs none of them while forkvet vets
it, drafts upstream fixes or attribution; a folder owned by another user is refused, not read;
tokens never appear on a git command line."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from forkvet.cli import main
from tests.conftest import MakeRepo, git

FILES = {
    "model.py": "import torch\n\ndef forward(x):\n    return x\n",
    "README.md": "# model\n",
    ".gitattributes": "* diff=evil filter=evil merge=evil\n",
}


def script(markers: Path, name: str) -> str:
    """A program that leaves a marker if anything runs it."""
    path = markers.parent / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"#!/bin/sh\ntouch {markers / name}\ncat\n")
    path.chmod(0o755)
    return str(path)


def arm(repo: Path, markers: Path) -> None:
    """Every .git/config key that names a program, plus hooks and a signed-looking HEAD."""
    markers.mkdir(exist_ok=True)
    keys = {
        "core.fsmonitor": script(markers, "fsmonitor"),
        "core.pager": script(markers, "pager"),
        "core.sshCommand": script(markers, "ssh"),
        "core.editor": script(markers, "editor"),
        "core.askPass": script(markers, "askpass"),
        "gpg.program": script(markers, "gpg"),
        "gpg.ssh.program": script(markers, "gpg-ssh"),
        "log.showSignature": "true",
        "diff.external": script(markers, "external-diff"),
        "diff.evil.textconv": script(markers, "textconv"),
        "diff.evil.command": script(markers, "diff-command"),
        "filter.evil.smudge": script(markers, "smudge"),
        "filter.evil.clean": script(markers, "clean"),
        "filter.evil.required": "true",
        "merge.evil.driver": script(markers, "merge-driver"),
        "credential.helper": "!" + script(markers, "credential"),
        "remote.upstream.uploadpack": script(markers, "uploadpack"),
        "remote.origin.url": "ssh://git@example.invalid/org/model.git",
        "core.hooksPath": str(markers.parent / "hooks"),
        "commit.gpgSign": "true",
    }
    for key, value in keys.items():
        git(repo, "config", key, value)
    hooks = [markers.parent / "hooks", repo / ".git" / "hooks"]
    for folder in hooks:
        folder.mkdir(exist_ok=True)
        for hook in (
            "post-checkout",
            "pre-commit",
            "post-commit",
            "reference-transaction",
            "pre-push",
            "post-rewrite",
            "prepare-commit-msg",
            "commit-msg",
        ):
            (folder / hook).write_text(f"#!/bin/sh\ntouch {markers / ('hook-' + hook)}\n")
            (folder / hook).chmod(0o755)
    # A commit carrying a PGP signature header: log.showSignature makes git verify it with
    # gpg.program on every `git log`.
    head = git(repo, "rev-parse", "HEAD")
    raw = subprocess.run(
        ["git", "cat-file", "commit", head], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    header, _, message = raw.partition("\n\n")
    tree, _, rest = header.partition("\n")
    signed = (
        f"{tree}\nparent {head}\n{rest}"
        + "\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE"
        + "\n -----END PGP SIGNATURE-----"
        + "\n\n"
        + message
    )
    sha = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin", "--literally"],
        cwd=repo,
        input=signed,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(
        ["git", "update-ref", "HEAD", sha],
        cwd=repo,
        check=True,
        env={**os.environ, "GIT_CONFIG_PARAMETERS": "'core.hooksPath'='/dev/null'"},
    )


def fired(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir())


@pytest.fixture
def armed(make_repo: MakeRepo, tmp_path: Path) -> tuple[Path, Path]:
    upstream = make_repo(FILES, name="upstream")
    repo = tmp_path / "fork"
    subprocess.run(["git", "clone", "-q", str(upstream), str(repo)], check=True)
    markers = tmp_path / "markers"
    arm(repo, markers)
    # The attack is live: plain git in this repository runs the programs.
    subprocess.run(["git", "log", "-1"], cwd=repo, capture_output=True, check=False)
    subprocess.run(["git", "status"], cwd=repo, capture_output=True, check=False)
    assert {"gpg", "fsmonitor"} <= set(fired(markers)), fired(markers)
    for p in markers.iterdir():
        p.unlink()
    return repo, markers


def test_vetting_runs_nothing_from_git_config(
    armed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, markers = armed
    assert main(["vet", str(repo), "--format", "json"]) in (0, 1)
    out = capsys.readouterr().out
    assert '"commit_date"' in out  # git metadata was still read
    assert main(["vet", str(repo), "--ref", "HEAD", "--format", "json"]) in (0, 1)
    # --offline leaves imported names unpinned: written (exit 1, partial), nothing run
    assert main(["env", str(repo), "--offline", "--out", str(markers.parent / "env")]) in (0, 1)
    assert fired(markers) == []


def test_upstream_and_attribution_run_nothing_from_git_config(
    make_repo: MakeRepo, armed: tuple[Path, Path], tmp_path: Path
) -> None:
    fork, markers = armed
    upstream = tmp_path / "upstream"
    # the fork gets a fix upstream lacks (committed without forkvet, hooks off)
    (fork / "model.py").write_text(FILES["model.py"] + "\n# fix nan in forward\n")
    plain = {
        **os.environ,
        "GIT_CONFIG_PARAMETERS": "'core.hooksPath'='/dev/null' "
        "'commit.gpgSign'='false' 'core.fsmonitor'='false' 'filter.evil.clean'='' "
        "'filter.evil.required'='false'",
    }
    subprocess.run(
        ["git", "commit", "-qam", "Fix NaN in forward"],
        cwd=fork,
        env=plain,
        check=True,
        capture_output=True,
    )
    for p in markers.iterdir():
        p.unlink()
    assert (
        main(
            ["attribution", str(fork), "--upstream", str(upstream), "--out", str(tmp_path / "attr")]
        )
        == 0
    )
    assert main(["upstream", str(fork), "--upstream", str(upstream), "--format", "json"]) in (0, 1)
    assert fired(markers) == []


def test_a_repository_owned_by_another_user_is_refused_not_read(
    armed: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give the copy to another user")
    repo, markers = armed
    theirs = tmp_path / "theirs"
    shutil.copytree(repo, theirs, symlinks=True)
    nobody = 65534
    for root, dirs, files in os.walk(theirs):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), nobody, nobody)
    os.chown(theirs, nobody, nobody)
    code = main(["vet", str(theirs)])
    err = capsys.readouterr().err
    assert code == 2 and "another user" in err and err.count("\n") == 1, err
    assert fired(markers) == []
    # The user's own trust decision (safe.directory in their global config) still counts,
    # and the repository's programs still do not run.
    from forkvet.gitrun import _user_safe_directories

    gitconfig = tmp_path / "user.gitconfig"
    gitconfig.write_text(f"[safe]\n\tdirectory = {theirs}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    _user_safe_directories.cache_clear()
    try:
        assert main(["vet", str(theirs), "--format", "json"]) in (0, 1)
        assert '"commit_date": "20' in capsys.readouterr().out
    finally:
        _user_safe_directories.cache_clear()
    assert fired(markers) == []


def test_tokens_never_reach_a_git_command_line(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.giveback.publish import push_branch
    from forkvet.source import clone

    # git behind a wrapper that records its argv and whether the header came by environment
    real = shutil.which("git")
    assert real
    bindir = tmp_path / "wrap"
    bindir.mkdir()
    log = tmp_path / "argv.log"
    wrapper = bindir / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'echo "ARGV $*" >> {log}\n'
        f'env | grep "^GIT_CONFIG_VALUE_.*Authorization" >> {log}\n'
        f'exec {real} "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    token = "ghs_SECRETTOKEN123"
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    source = make_repo(FILES, name="src")
    dest = tmp_path / "clone"
    clone(f"file://{source}", dest, depth=None, token=token)
    git(dest, "branch", "forkvet/fix")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    push_branch(dest, f"file://{bare}", "forkvet/fix", token, "HEAD", [])
    assert git(bare, "rev-parse", "forkvet/fix")  # the push really happened
    lines = log.read_text().splitlines()
    argv = [ln for ln in lines if ln.startswith("ARGV")]
    assert any(" clone " in ln for ln in argv) and any(" push " in ln for ln in argv)
    assert not [ln for ln in argv if token in ln or basic in ln]
    assert sum(basic in ln for ln in lines if ln.startswith("GIT_CONFIG_VALUE")) == 2
