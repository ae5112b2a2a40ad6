"""Shared fixtures: real git repositories written into temp folders."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from forkvet.config import Config
from forkvet.report import Report
from forkvet.snapshot import load
from forkvet.vet import vet

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _no_public_vulnerability_service(monkeypatch: pytest.MonkeyPatch) -> None:
    # forkvet env audits its pins online by default: tests never reach a public service
    # (a test that wants one starts its own OSV server on 127.0.0.1 and sets this itself).
    monkeypatch.setenv("FORKVET_OSV_URL", "http://127.0.0.1:9")
    # nor the public OSV export, nor a database the developer cached with --update-db
    monkeypatch.setenv("FORKVET_OSV_EXPORT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("FORKVET_VULN_DB_DIR", "/nonexistent/forkvet-test-vuln-db")


@pytest.fixture(autouse=True)
def _not_in_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    # Run in GitHub Actions, forkvet stops the runner's command processing on stderr
    # (forkvet.cmdgate): the suite runs the same in CI and on a laptop (a test that wants
    # Actions sets GITHUB_ACTIONS itself, as tests/action_runner.py does).
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture(autouse=True)
def _no_index_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # forkvet keeps index answers in the user's cache folder: tests leave it alone (the
    # cache's own tests point XDG_CACHE_HOME at a temporary folder and turn it on).
    monkeypatch.setenv("FORKVET_INDEX_CACHE", "0")


@pytest.fixture(autouse=True)
def _own_environments_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Environments built by a test never land in the user's ~/.cache/forkvet/envs (a test
    # that wants another folder sets FORKVET_ENV_DIR or passes --env-dir itself).
    monkeypatch.setenv("FORKVET_ENV_DIR", str(tmp_path_factory.mktemp("envs")))


@pytest.fixture(autouse=True)
def _fresh_index_reads() -> None:
    # forkvet remembers index pages and metadata for the process: each test's own index (a
    # new server, perhaps on a port an earlier test used) is read afresh.
    from forkvet.envgen.index import forget

    forget()


LICENSES = DATA / "licenses"


def license_text(name: str) -> str:
    return (LICENSES / name).read_text(encoding="utf-8")


def git(cwd: Path, *args: str, date: str | None = None) -> str:
    env = dict(os.environ)
    env.update(
        {
            "GIT_AUTHOR_NAME": "Ada Author",
            "GIT_AUTHOR_EMAIL": "ada@example.org",
            "GIT_COMMITTER_NAME": "Ada Author",
            "GIT_COMMITTER_EMAIL": "ada@example.org",
        }
    )
    if date:
        env.update({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    proc = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


MakeRepo = Callable[..., Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """Create a repository from {path: content}; a real git repo with one commit by default."""

    def _make(
        files: dict[str, str | bytes],
        name: str = "model-repo",
        use_git: bool = True,
        date: str = "2019-03-01T12:00:00+00:00",
    ) -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        write_files(root, files)
        if use_git:
            git(root, "init", "-q")
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", "initial import", date=date)
        return root

    return _make


@pytest.fixture
def vet_repo(make_repo: MakeRepo) -> Callable[..., Report]:
    def _vet(files: dict[str, str | bytes], config: Config | None = None, **kw: object) -> Report:
        return vet(load(make_repo(files, **kw)), config)

    return _vet


@pytest.fixture
def github(tmp_path: Path) -> Iterator[Any]:
    from tests.app_fixtures import APP_ID, keypair, trimmed_spec
    from tests.github.emulator import GitHubEmulator

    (tmp_path / "gh").mkdir()
    with GitHubEmulator(
        tmp_path / "gh", trimmed_spec(tmp_path.parent), APP_ID, keypair()[1]
    ) as emu:
        yield emu
    assert emu.errors == [], "\n".join(emu.errors)


# Files whose tests build environments, train, run the App's worker and emulator, or feed
# bombs: marked `slow`, so `pytest -m "not slow"` is a quick edit-test loop (the whole suite
# stays the definition of done; scripts/test.sh runs it all).
SLOW_FILES = frozenset(
    {
        "test_runtime_path.py",
        "test_tracking_app.py",
        "test_actions.py",
        "test_app.py",
        "test_app_accept.py",
        "test_app_hostile.py",
        "test_bombs.py",
        "test_bombs_outsider.py",
        "test_train_check.py",
        "test_smoke.py",
        "test_notebooks.py",
        "test_baseline.py",
        "test_env.py",
        "test_env_old.py",
        "test_isolation.py",
        "test_pickle_differential.py",
        "test_seams.py",
        "test_outsider.py",
        # measured over 5 s a file: forked parse workers, git bombs, real installs, runs,
        # folder chains past the recursion limit, git repositories with the emulator
        "test_parallel_parse.py",
        "test_git_bombs.py",
        "test_env_config.py",
        "test_run_limits.py",
        "test_walk_depth_and_names.py",
        "test_giveback.py",
        "test_sbom.py",
    }
)


# Single tests of over 2 s in otherwise quick files: a loader started in a child to prove a
# fixture really runs code, timing loops, 50,000 files, real training.
SLOW_TESTS = frozenset(
    {
        "test_fifty_thousand_files",
        "test_python_side_checks_are_linear",
        "test_the_fixtures_really_run_code",
        "test_the_disguised_fixtures_really_run_code",
        "test_a_zstd_bomb_stops_at_the_bound",
        "test_gpu_utilisation_from_nvidia_smi_and_an_idle_gpu_warning",
        "test_a_working_model_overfits_one_batch",
        "test_pickle_hidden_past_the_scan_budget_is_an_error",
        "test_a_hundred_thousand_files_stay_fast",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = getattr(item, "originalname", None) or item.name
        if item.path.name in SLOW_FILES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
