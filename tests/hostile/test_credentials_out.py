"""The user's index credentials never leave forkvet in what it writes: every file `forkvet env`
writes (SBOM, requirements.txt, container files, stamps), what it prints in every format, and
what the App commits to a fork, all run against a real local index reached with credentials
(real uv), then grepped for the secret whole."""

# The App's fixtures (emulator, settings, worker) come from tests/test_app.py.
# ruff: noqa: F811
from __future__ import annotations

import ast
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import JsonFormatter
from bot.settings import Settings
from bot.web import create_app
from forkvet.cli import main
from forkvet.redact import redact
from forkvet.safe_write import OutputDir, open_text_log
from tests.conftest import MakeRepo
from tests.github.emulator import GitHubEmulator, RepoState
from tests.pkgindex import PackageIndex
from tests.test_app import (  # noqa: F401  (pytest fixtures)
    done,
    emulator,
    fork_payload,
    no_package_index,
    post,
    settings,
    wait_for,
    worker,
)
from tests.test_env import DISTS, TF1

SECRET = "S3CRETTOKEN"
EXTRA_SECRET = "XTRATOKEN"


def with_credentials(url: str, user: str, secret: str) -> str:
    return url.replace("http://", f"http://{user}:{secret}@", 1)


@pytest.fixture(params=["environment", "uv.toml"])
def index(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[PackageIndex]:
    """A local index the user reaches with credentials, as pip and uv take them (its file
    URLs are relative to the page, so a client joins them onto the credentialed URL): in
    UV_DEFAULT_INDEX / UV_INDEX_URL, or the default index of the user's own uv.toml."""
    from forkvet.envgen.index import forget

    forget()
    with PackageIndex(DISTS) as idx:
        url = with_credentials(idx.url, "alice", SECRET)
        for var in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL", "UV_EXTRA_INDEX_URL"):
            monkeypatch.delenv(var, raising=False)
        if request.param == "environment":
            monkeypatch.setenv("UV_DEFAULT_INDEX", url)
            monkeypatch.setenv("UV_INDEX_URL", url)
        else:
            config = tmp_path / "config"
            (config / "uv").mkdir(parents=True)
            (config / "uv" / "uv.toml").write_text(
                f'[[index]]\nurl = "{url}"\ndefault = true\n', encoding="utf-8"
            )
            monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
        monkeypatch.setenv("UV_HTTP_RETRIES", "0")
        yield idx
    forget()


def leaks(folder: Path, *secrets: str) -> list[str]:
    """Every file under folder (hidden ones too) that holds one of the secrets."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {s}" for s in secrets if s.encode() in data]
    return found


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_env_writes_no_index_credentials_anywhere(
    index: PackageIndex,
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    repo = make_repo(TF1, date="2019-12-01T10:00:00+00:00")
    out = tmp_path / "out"
    extra = with_credentials(index.url, "bob", EXTRA_SECRET)
    argv = ["env", str(repo), "--out", str(out), "--format", fmt, "--no-audit"]
    argv += ["--device", "cuda", "--sbom", "--container", "--extra-index-url", extra]
    code = main(argv)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    # the run did reach the index with the credentials: pins, and the files' hashes in the
    # SBOM, each named by its purl, never by an address derived from the index (round 12: a
    # hosted index may carry its token in the path)
    reqs = (out / "requirements.txt").read_text(encoding="utf-8")
    assert "tensorflow-gpu==1.15.0" in reqs
    sbom = json.loads((out / "sbom.cdx.json").read_text(encoding="utf-8"))
    urls = [r["url"] for c in sbom["components"] for r in c.get("externalReferences", [])]
    assert urls and all(u.startswith("pkg:pypi/") for u in urls)
    host = index.url.split("//", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    assert host not in (out / "sbom.cdx.json").read_text(encoding="utf-8")
    # nothing written or printed holds either secret (or the user names with them)
    assert leaks(out, SECRET, EXTRA_SECRET, "alice:", "bob:") == []
    for stream in (printed.out, printed.err):
        assert SECRET not in stream and EXTRA_SECRET not in stream
    # requirements.txt keeps the extra index, without its credentials, and says so
    assert f"--extra-index-url {index.url}\n" in reqs
    assert "# credentials in these URLs were left out" in reqs
    assert (out / "Dockerfile").is_file() and (out / ".devcontainer/devcontainer.json").is_file()


def test_setup_pr_commits_no_index_credentials(
    index: PackageIndex,
    settings: Settings,
    emulator: GitHubEmulator,
    worker: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The worker's own index has a token (a company mirror): the setup pull request's
    SBOM, pins, body, the check run and the report issue never carry it."""
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2019-12-01T10:00:00+00:00")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2019-12-01T10:00:00+00:00")
    repo = emulator.add_repo("acme", "tf1", TF1)
    with caplog.at_level(logging.INFO):
        post(create_app(settings).test_client(), fork_payload("acme", "tf1"), "repository")
        wait_for(lambda: done(emulator, repo), timeout=120)
    files = setup_branch_files(repo)
    assert "tensorflow-gpu==1.15.0" in files["requirements.txt"] or (
        "tensorflow==1.15.0" in files["requirements.txt"]
    )
    sbom = json.loads(files["sbom.cdx.json"])
    urls = [r["url"] for c in sbom["components"] for r in c.get("externalReferences", [])]
    assert urls  # the index was asked (with the credentials) for each pin's files
    assert [p for p, text in files.items() if SECRET in text or "alice:" in text] == []
    github_text = json.dumps([repo.pulls, repo.issues, repo.check_runs], default=str)
    assert SECRET not in github_text
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert SECRET not in logged


def setup_branch_files(repo: RepoState) -> dict[str, str]:
    """Every file of the setup branch's commit, by path."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(repo.bare), *args], capture_output=True, text=True, check=True
        ).stdout

    paths = git("ls-tree", "-r", "--name-only", "forkvet/setup").split("\n")
    return {p: git("show", f"forkvet/setup:{p}") for p in paths if p}


# -- the one place: what any writer gives it ---------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://alice:S3CRET@127.0.0.1:8/files/x.whl", "http://127.0.0.1:8/files/x.whl"),
        (
            "--extra-index-url https://tok@mirror.test/simple/",
            "--extra-index-url https://mirror.test/simple/",
        ),
        ('{"url": "https://u:p@a@h.test/x"}', '{"url": "https://h.test/x"}'),
        ("git+https://u:S3CRET@g.test/o/r.git", "git+https://g.test/o/r.git"),
        ("redis://:S3CRET@cache:6379/0", "redis://cache:6379/0"),
        ("git+ssh://u:S3CRET@g.test/o/r", "git+ssh://g.test/o/r"),
        ("ssh://git@g.test/o/r.git", "ssh://git@g.test/o/r.git"),  # an account name
        ("https://h.test/x?X-Amz-Signature=S3CRET&v=1", "https://h.test/x?X-Amz-Signature=***&v=1"),
        ("https://h.test/x?a=1&access_token=S3CRET#f", "https://h.test/x?a=1&access_token=***#f"),
        ("https://h.test/x?sig=S3CRET", "https://h.test/x?sig=***"),
        ("mail me at someone@example.test", "mail me at someone@example.test"),
        ("x = a@b and y=2", "x = a@b and y=2"),
    ],
)
def test_redact_removes_credentials_from_any_url(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_every_output_writer_redacts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"https://alice:{SECRET}@mirror.test/simple/"
    with OutputDir(tmp_path / "out") as out:
        out.write_text("a.txt", f"index {url}\n")
        out.write_bytes("b.bin", f"\xff{url}".encode("utf-8", "surrogateescape"))
    with open_text_log(tmp_path / "out" / "run.log") as log:
        log.write(f"Looking in indexes: {url}\n")
    assert leaks(tmp_path / "out", SECRET) == []
    assert (tmp_path / "out" / "a.txt").read_text() == "index https://mirror.test/simple/\n"
    # the CLI's own messages (an error quoting the URL) are redacted too
    assert main(["vet", f"https://alice:{SECRET}@127.0.0.1:9/x.git"]) != 0
    printed = capsys.readouterr()
    assert SECRET not in printed.out + printed.err


# Files forkvet and the App write without safe_write: each is private working state, never an
# output handed to anyone (why, per entry). A new direct write must go through safe_write (and so
# through redact), or be added here with its reason.
PRIVATE_WRITES = {
    ("forkvet/audit/offline_db.py", "_write_atomic"),  # the vulnerability database cache
    ("forkvet/audit/offline_db.py", "update"),  # its download, to a temporary file
    ("forkvet/envgen/indexcache.py", "_write"),  # index answers cached under digested keys
    ("forkvet/envgen/metadata_fix.py", "write_uv_toml"),  # uv's own config, a temporary folder
    ("forkvet/uvbin.py", "private_workdir"),  # uv's private working folder: it needs the index
    ("forkvet/environments.py", "requirements_and_config"),  # a managed environment's record
    ("forkvet/environments.py", "_locked"),  # a lock file
    ("forkvet/environments.py", "prepare"),  # a managed environment's record
    ("forkvet/environments.py", "_build"),  # the names uv installs, inside the environment
    ("forkvet/runtime/notebook_run.py", "_write_kernelspec"),  # a kernel spec in a temp folder
    ("forkvet/runtime/plot.py", "plot_png"),  # image bytes, through safe_write.open_log
    ("forkvet/safe_write.py", "write_bytes"),  # the writer itself (redacts first)
    ("forkvet/safe_write.py", "open_text_log"),  # the text log (redacts each write)
    ("forkvet/runtime/selfisolate.py", "isolate_self"),  # its own memory, no file
    ("bot/jobchild.py", "main"),  # a job's outcome, read back by its worker
    ("forkvet/runtime/sandbox.py", "_private_folders"),  # the sandbox's resolv.conf copy
    ("forkvet/runtime/memcg.py", "_write"),  # a cgroup's control file (a number)
    ("forkvet/runtime/gitconfig.py", "_write"),  # the sandbox's scrubbed git config copies
    ("forkvet/runtime/venvstart.py", "restore_cfg"),  # an environment's own pyvenv.cfg
    ("forkvet/runtime/venvstart.py", "after_install"),  # a managed environment's record
    ("forkvet/vet/linkforms.py", "_write"),  # a link's target text, in a private temp folder
    ("forkvet/vet/linkforms.py", "form_errors"),  # an empty placeholder file there
    ("forkvet/vet/exportforms.py", "_archive"),  # git archive's tar, in a private temp folder
}


def direct_writes(root: Path) -> set[tuple[str, str]]:
    """(file, function) of every call that writes a file itself: Path.write_text/write_bytes
    (other than on a safe_write.OutputDir), open/os.fdopen for writing."""
    found = set()
    for path in sorted([*root.glob("forkvet/**/*.py"), *root.glob("bot/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and _writes(node):
                    found.add((str(path.relative_to(root)), fn.name))
    return found


def _writes(call: ast.Call) -> bool:
    f = call.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    if name in ("write_text", "write_bytes"):
        receiver = f.value if isinstance(f, ast.Attribute) else None
        # an OutputDir (safe_write): the names it is bound to in forkvet
        return not (isinstance(receiver, ast.Name) and receiver.id in ("folder", "out", "self"))
    if name in ("open", "fdopen"):
        modes = [a.value for a in call.args[1:2] if isinstance(a, ast.Constant)]
        modes += [
            k.value.value
            for k in call.keywords
            if k.arg == "mode" and isinstance(k.value, ast.Constant)
        ]
        return any(isinstance(m, str) and set(m) & set("wax+") for m in modes)
    return False


def test_every_output_goes_through_safe_write() -> None:
    root = Path(__file__).resolve().parents[2]
    assert direct_writes(root) - PRIVATE_WRITES == set()


def test_source_lines_never_carry_a_query_or_user() -> None:
    # Round 12: a token travels under any parameter name (pw, pat, passcode, ...).
    from forkvet.envgen.outputs import source_lines

    url = "http://u:p@127.0.0.1:8851/simple/?pw=A05&passcode=A20&pat=A19&otp=A21#frag"
    lines = source_lines(["--extra-index-url", url])
    written = "\n".join(lines)
    for secret in ("A05", "A20", "A19", "A21", "u:p", "frag"):
        assert secret not in written
    assert "--extra-index-url http://127.0.0.1:8851/simple/" in lines
