"""Giving back, with real git: an upstream and a fork with a mix of commits."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.giveback.drafts import compare_url, github_slug
from tests.conftest import git, license_text, write_files

UPSTREAM_FILES = {
    "LICENSE": license_text("Apache-2.0.txt"),
    "NOTICE": "DeepNet\nCopyright 2019 The DeepNet Authors\n",
    "README.md": (
        "# DeepNet\n\nA tipo in the readme.\n\n```bibtex\n@inproceedings{deepnet2019,\n"
        "  title={DeepNet: Deep Networks},\n  author={Doe, Jane and Roe, Rick},\n"
        "  year={2019}\n}\n```\n"
    ),
    "model.py": (
        "# Copyright 2019 The DeepNet Authors\nimport torch\n\n\ndef loss(x):\n"
        "    return x.sum() / len(x)\n"
    ),
    "train.py": "EPOCHS = 10\nfor epoch in range(EPOCHS):\n    print(epoch)\n",
    "data.py": "ROOT = '/datasets/imagenet'\n",
}


def commit(repo: Path, files: dict[str, str], message: str, author: str = "Ada Author") -> str:
    write_files(repo, files)
    git(repo, "add", "-A")
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            f"user.name={author}",
            "-c",
            f"user.email={author.split()[0].lower()}@example.org",
            "commit",
            "-q",
            "-m",
            message,
        ],
        check=True,
    )
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repos(tmp_path: Path) -> dict[str, Path]:
    up = tmp_path / "upstream"
    up.mkdir()
    git(up, "init", "-q")
    commit(up, UPSTREAM_FILES, "DeepNet release", "Jane Doe")
    fork = tmp_path / "fork"
    subprocess.run(["git", "clone", "-q", str(up), str(fork)], check=True)
    git(fork, "config", "user.name", "Fork Owner")
    git(fork, "config", "user.email", "owner@example.org")
    commit(
        fork,
        {
            "model.py": UPSTREAM_FILES["model.py"].replace(
                "return x.sum() / len(x)", "return x.sum() / max(len(x), 1)"
            )
        },
        "Fix NaN in loss when the batch is empty",
        "Bea Fixer",
    )
    commit(
        fork,
        {"data.py": "ROOT = '/mnt/our-cluster/imagenet'\n"},
        "Point the dataset path to our cluster",
    )
    commit(
        fork,
        {"seg_head.py": "class SegHead:\n    pass\n"},
        "Add support for our new segmentation head",
    )
    commit(
        fork,
        {"README.md": UPSTREAM_FILES["README.md"].replace("tipo", "typo")},
        "Fix typo in README",
    )
    commit(
        fork,
        {"train.py": "EPOCHS = 10\nfor epoch in range(EPOCHS + 1):\n    print(epoch)\n"},
        "Fix off-by-one in the training loop",
    )
    # Upstream moves on: the same README fix, and a different change to the same loop.
    commit(
        up,
        {"README.md": UPSTREAM_FILES["README.md"].replace("tipo", "typo")},
        "Fix typo in README",
        "Jane Doe",
    )
    commit(
        up,
        {"train.py": "EPOCHS = 20\nfor epoch in range(1, EPOCHS):\n    print(epoch)\n"},
        "Train longer",
        "Jane Doe",
    )
    return {"upstream": up, "fork": fork}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_classification_branches_conflicts(
    repos: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fork, up = repos["fork"], repos["upstream"]
    code, out, _ = run(["upstream", str(fork), "--upstream", str(up), "--format", "json"], capsys)
    data = json.loads(out)
    kinds = {c["subject"]: c["classification"] for c in data["commits"]}
    assert kinds == {
        "Fix NaN in loss when the batch is empty": "fix",
        "Point the dataset path to our cluster": "fork-specific",
        "Add support for our new segmentation head": "fork-specific",
        "Fix typo in README": "already-upstream",
        "Fix off-by-one in the training loop": "fix",
    }
    assert code == 1  # one draft conflicts
    drafts = {d["title"]: d for d in data["drafts"]}
    nan = drafts["Fix NaN in loss when the batch is empty"]
    assert nan["status"] == "drafted"
    assert nan["branch"].startswith("forkvet/fix-") and nan["branch"].endswith(
        "-fix-nan-in-loss-when-the-batch-is-empty"
    )
    msg = git(fork, "log", "-1", "--format=%B", nan["branch"])
    assert "(cherry picked from commit" in msg
    assert "Co-authored-by: Bea Fixer <bea@example.org>" in msg
    assert git(fork, "log", "-1", "--format=%an", nan["branch"]) == "Bea Fixer"
    # The branch starts at the fork point (the newest upstream commit the fork has), never
    # at upstream's tip: it is pushed to the fork, and holds nothing the fork lacks but the fix.
    assert git(fork, "rev-parse", f"{nan['branch']}~1") == git(
        fork, "merge-base", "HEAD", "refs/forkvet/upstream"
    )
    assert git(fork, "rev-list", "--count", nan["branch"], "^HEAD") == "1"
    loop = drafts["Fix off-by-one in the training loop"]
    assert loop["status"] == "conflict" and "git cherry-pick -x" in loop["message"]
    branches = git(fork, "branch", "--list", "forkvet/*")
    assert "off-by-one" not in branches  # nothing half-made is left
    assert git(fork, "status", "--porcelain") == ""  # the user's checkout is untouched
    assert "Fix NaN" in nan["body"] and nan["compare_url"] is None  # local upstream


def test_chosen_commits_and_bad_input(
    repos: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fork, up = repos["fork"], repos["upstream"]
    data_sha = git(fork, "log", "--format=%H", "-1", "--grep", "dataset path")
    code, out, _ = run(
        [
            "upstream",
            str(fork),
            "--upstream",
            str(up),
            "--commits",
            data_sha[:8],
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0 and [d["commits"] for d in json.loads(out)["drafts"]] == [[data_sha]]
    code, _, err = run(
        ["upstream", str(fork), "--upstream", str(up), "--commits", "deadbeef"], capsys
    )
    assert code == 2 and "no such commit" in err
    code, _, err = run(["upstream", str(fork), "--upstream", str(tmp_path / "gone")], capsys)
    assert code == 2 and "cannot be reached" in err
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    git(stranger, "init", "-q")
    commit(stranger, {"x.py": "x = 1\n"}, "unrelated")
    code, _, err = run(["upstream", str(fork), "--upstream", str(stranger)], capsys)
    assert code == 2 and "not an ancestor" in err
    same = tmp_path / "same"
    subprocess.run(["git", "clone", "-q", str(up), str(same)], check=True)
    code, _, err = run(["upstream", str(same), "--upstream", str(up)], capsys)
    assert code == 2 and "no commits that upstream lacks" in err
    code, _, err = run(["upstream", str(fork), "--upstream", str(up), "--open"], capsys)
    assert code == 2 and "FORKVET_USER_TOKEN" in err


def test_compare_link() -> None:
    assert github_slug("https://github.com/NVlabs/stylegan2.git") == (
        "github.com",
        "NVlabs/stylegan2",
    )
    assert github_slug("git@github.com:NVlabs/stylegan2.git") == ("github.com", "NVlabs/stylegan2")
    assert github_slug("/local/path") is None
    url = compare_url(
        "https://github.com/up/model", "main", "acme", "forkvet/fix-1-x", "Fix x", "Body text"
    )
    assert url is not None and url.startswith(
        "https://github.com/up/model/compare/main...acme:forkvet/fix-1-x?expand=1&title=Fix+x"
    )


def test_attribution(
    repos: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fork, up = repos["fork"], repos["upstream"]
    out_dir = tmp_path / "attr"
    code, out, _ = run(
        ["attribution", str(fork), "--upstream", str(up), "--out", str(out_dir)], capsys
    )
    assert code == 0
    assert "Apache License 2.0 (`Apache-2.0`)" in out
    assert "State the changes you made to the files" in out
    assert "Copyright 2019 The DeepNet Authors" in out
    assert "@inproceedings{deepnet2019" in out
    assert "- modified: `model.py`" in out and "- added: `seg_head.py`" in out
    assert (out_dir / "NOTICE").read_text().startswith("DeepNet")  # Apache + NOTICE upstream
    assert (out_dir / "ATTRIBUTION.md").read_text() == out


def test_open_dedupe_closed_and_caps(
    github,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream = github.add_repo("upstream-org", "model", UPSTREAM_FILES, fork=False, parent=None)
    fork_remote = github.add_repo("acme", "model", UPSTREAM_FILES)
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", f"file://{fork_remote.bare}", str(work)], check=True)
    git(work, "config", "user.name", "Fork Owner")
    git(work, "config", "user.email", "owner@example.org")
    commit(
        work,
        {"model.py": UPSTREAM_FILES["model.py"].replace("len(x)", "max(len(x), 1)")},
        "Fix NaN in loss when the batch is empty",
        "Bea Fixer",
    )
    monkeypatch.setenv("FORKVET_USER_TOKEN", github.user_token("owner"))
    args = [
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
    ]

    def status() -> str:
        code, out, err = run(args, capsys)
        assert code == 0, err
        return str(json.loads(out)["drafts"][0]["status"])

    assert status() == "opened"
    pull = upstream.pulls[0]
    assert pull["_head"].startswith("acme:forkvet/fix-") and pull["_base"] == "main"
    assert github.sha(fork_remote, pull["_head"].split(":", 1)[1])  # the branch was pushed
    assert status() == "updated" and len(upstream.pulls) == 1  # never a second pull request
    pull["state"] = "closed"  # a maintainer closes it
    assert status() == "closed-by-maintainer" and pull["state"] == "closed"
    upstream.pulls.clear()
    args += ["--max-open", "0"]
    assert status() == "capped" and upstream.pulls == []


def test_thank_you_is_opt_in_once_and_respects_archives(
    github,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    repos: dict[str, Path],
) -> None:
    upstream = github.add_repo("upstream-org", "model", UPSTREAM_FILES, fork=False, parent=None)
    fork = repos["fork"]
    monkeypatch.setenv("FORKVET_USER_TOKEN", github.user_token("owner"))
    args = [
        "thank",
        str(fork),
        "--upstream",
        "https://github.com/upstream-org/model",
        "--upstream-repo",
        "upstream-org/model",
        "--api-url",
        github.base_url,
        "--open",
        "--purpose",
        "defect detection",
        "--format",
        "json",
    ]
    code, _, err = run(args, capsys)
    assert code == 2 and "opt-in" in err
    write_files(fork, {".github/forkvet.yml": "upstream:\n  thank_you: true\n"})
    code, out, _ = run(args, capsys)
    assert code == 0 and json.loads(out)["status"] == "opened"
    assert "defect detection" in upstream.issues[0]["body"]
    assert "DeepNet: Deep Networks" in upstream.issues[0]["body"]
    code, out, _ = run(args, capsys)
    assert json.loads(out)["status"] == "exists" and len(upstream.issues) == 1
    upstream.archived = True
    upstream.issues.clear()
    code, out, _ = run(args, capsys)
    assert json.loads(out)["status"] == "archived" and upstream.issues == []
    code, out, _ = run(["thank", str(fork), "--upstream", "x", "--format", "json"], capsys)
    assert json.loads(out)["status"] == "drafted"  # the default: a draft, nothing sent


def test_upstream_and_attribution_actions(repos: dict[str, Path], tmp_path: Path) -> None:
    from tests.action_runner import run_action

    root = Path(__file__).resolve().parents[1]
    temp = tmp_path / "runner"
    temp.mkdir()
    outputs, summary, procs = run_action(
        root / "actions" / "upstream-pr" / "action.yml",
        {"path": str(repos["fork"]), "upstream": str(repos["upstream"])},
        repos["fork"],
        temp,
    )
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    assert outputs["drafts"] == "2"
    assert "**already-upstream**" in summary and "draft **Fix NaN in loss" in summary
    outputs, summary, procs = run_action(
        root / "actions" / "attribution" / "action.yml",
        {
            "path": str(repos["fork"]),
            "upstream": str(repos["upstream"]),
            "out": str(tmp_path / "attr"),
        },
        repos["fork"],
        temp,
    )
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    assert Path(outputs["attribution"]).read_text().startswith("# Attribution")


@pytest.mark.parametrize("detached", [False, True])
def test_an_upstream_whose_default_branch_is_master(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], detached: bool
) -> None:
    """Most 2015-2020 research repositories use `master`; a local upstream checkout may also
    have a detached HEAD (no symbolic HEAD to read)."""
    up = tmp_path / "upstream"
    up.mkdir()
    git(up, "init", "-q", "-b", "master")
    commit(up, UPSTREAM_FILES, "DeepNet release", "Jane Doe")
    if detached:
        clone = tmp_path / "upstream-checkout"
        subprocess.run(["git", "clone", "-q", str(up), str(clone)], check=True)
        git(clone, "checkout", "-q", "--detach")
        up = clone
    fork = tmp_path / "fork"
    subprocess.run(["git", "clone", "-q", str(up), str(fork)], check=True)
    commit(fork, {"seg_head.py": "class SegHead:\n    pass\n"}, "Add a segmentation head")
    code, out, _ = run(
        ["attribution", str(fork), "--upstream", str(up), "--out", str(tmp_path / "a")], capsys
    )
    assert code == 0 and "- added: `seg_head.py`" in out
    code, out, _ = run(
        ["upstream", str(fork), "--upstream", str(up), "--dry-run", "--format", "json"], capsys
    )
    assert code == 0, out
    assert json.loads(out)["base_branch"] == "master"


def test_a_fork_of_many_fixes_drafts_a_bounded_number(
    repos: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Round 12: every "fix:" commit became a branch, with no cap (a hostile fork's history
    # of thousands of them made thousands of branches and git calls).
    from forkvet.giveback import drafts, gitops

    monkeypatch.setattr(gitops, "MAX_FORK_COMMITS", 30)
    fork, up = repos["fork"], repos["upstream"]
    for i in range(40):
        commit(fork, {"model.py": f"# {i}\n"}, f"Fix bug {i} in the model")
    _, out, _ = run(["upstream", str(fork), "--upstream", str(up), "--format", "json"], capsys)
    data = json.loads(out)
    assert len(data["commits"]) == 30  # the newest 30, oldest first
    assert data["commits"][-1]["subject"] == "Fix bug 39 in the model"
    made = [d for d in data["drafts"] if d["status"] in ("drafted", "conflict")]
    capped = [d for d in data["drafts"] if d["status"] == "capped"]
    assert len(made) == drafts.MAX_DRAFTS and len(capped) == 30 - drafts.MAX_DRAFTS
    assert "--commits" in capped[0]["message"] and capped[0]["branch"] == ""
    branches = git(fork, "branch", "--list", "forkvet/*").split()
    assert len(branches) <= drafts.MAX_DRAFTS
