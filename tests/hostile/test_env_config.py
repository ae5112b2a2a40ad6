"""Hostile repositories against `forkvet env`: the repository must not choose the index, the
uv configuration, or a build; everything runs against the real local package index."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from tests.conftest import MakeRepo
from tests.pkgindex import Dist, PackageIndex

pytest.importorskip("uv")

DATE = "2019-12-01T10:00:00+00:00"


class Recorder:
    """An index the repository names: any request it gets is a failure."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_error(404)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def builder(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').write('built')\n"


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "MARKER-code-ran"


@pytest.fixture
def index(tmp_path: Path, marker: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    dists = [
        Dist("numpy", "1.17.4", "2019-11-10T00:00:00Z"),
        # only a source release by the date; its build writes the marker
        Dist("srconly", "1.0", "2019-01-01T00:00:00Z", sdist=True, build_code=builder(marker)),
        # a wheel at 0.5, only a source release at 1.0
        Dist("mixed", "0.5", "2018-01-01T00:00:00Z"),
        Dist("mixed", "1.0", "2019-01-01T00:00:00Z", sdist=True, build_code=builder(marker)),
    ]
    with PackageIndex(dists) as idx:
        # The user's own configuration: uv's user-level uv.toml (not UV_INDEX_URL, which would
        # hide whether a repository uv.toml is read) and pip's env for forkvet's own look-ups.
        (tmp_path / "xdg" / "uv").mkdir(parents=True)
        (tmp_path / "xdg" / "uv" / "uv.toml").write_text(f'index-url = "{idx.url}"\n')
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
        for var in ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("PIP_INDEX_URL", idx.url)
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
        yield idx


def env(
    repo: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(["env", str(repo), "--out", str(out), "--format", "json", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {"stderr": captured.err}


def test_repository_uv_and_pip_config_are_never_read(
    index: PackageIndex,
    recorder: Recorder,
    make_repo: MakeRepo,
    marker: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evil_index = f'index-url = "{recorder.url}"\n'
    repo = make_repo(
        {
            "m.py": "import numpy\n",
            "requirements.txt": (
                f"--index-url {recorder.url}\n--extra-index-url {recorder.url}\n"
                f"--find-links {recorder.url}\n-e .\n./local-pkg\nnumpy\n"
            ),
            "uv.toml": evil_index + "no-build = false\n",
            "pyproject.toml": f"[project]\nname = 'm'\nversion = '1'\n[tool.uv]\n{evil_index}",
            "pip.conf": f"[global]\nindex-url = {recorder.url}\n",
            ".python-version": "3.6\n",
            "setup.py": builder(marker),
            "local-pkg/setup.py": builder(marker),
        },
        date=DATE,
    )
    monkeypatch.chdir(repo)  # `forkvet env .` from inside the checkout
    code, data = env(Path("."), tmp_path / "out", capsys)
    assert code == 0, data
    assert {r["name"]: r["version"] for r in data["requirements"]} == {"numpy": "1.17.4"}
    assert recorder.hits == []  # the repository's index was never contacted
    assert not marker.exists()  # and nothing of it was built or run
    assert index.requests  # the user's own uv configuration was used
    written = (tmp_path / "out" / "requirements.txt").read_text()
    assert recorder.url not in written and "-e" not in written.split()


def test_a_newline_in_a_pipfile_spec_cannot_smuggle_an_option(
    index: PackageIndex,
    recorder: Recorder,
    make_repo: MakeRepo,
    marker: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = make_repo(
        {
            "m.py": "import numpy\n",
            "Pipfile": (
                '[packages]\nnumpy = "==1.17.4\\n-e ./evil\\n--index-url '
                f'{recorder.url}"\n"bad\\nname" = "*"\n'
            ),
            "evil/setup.py": builder(marker),
        },
        date=DATE,
    )
    code, data = env(repo, tmp_path / "out", capsys)
    assert code == 0, data
    assert not marker.exists() and recorder.hits == []
    problems = data["problems"]
    assert any(p.startswith("numpy (Pipfile): a URL") for p in problems)
    assert any(p.startswith("bad\\nname (Pipfile): not a package name") for p in problems)
    written = (tmp_path / "out" / "requirements.txt").read_text()
    for line in written.splitlines():
        assert not line.startswith(("-", "./")), line
    # The authors declared numpy as something other than an index release (the spec does not
    # parse): their import is not resolved on the user's index under that name either.
    assert not any(line.startswith("numpy") for line in written.splitlines())


def test_source_releases_are_not_built_unless_allowed(
    index: PackageIndex,
    make_repo: MakeRepo,
    marker: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = make_repo(
        {"m.py": "import numpy\n", "requirements.txt": "numpy\nsrconly\nmixed==1.0\n"},
        date=DATE,
    )
    code, data = env(repo, tmp_path / "out", capsys)
    # Resolved without building: the source releases' requirements are read from their
    # archives, never run; the pins that will build when installed are said (issue 18).
    assert code == 0 and data["complete"] is True, data
    assert not marker.exists()  # no build ran
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    assert pins == {"numpy": "1.17.4", "srconly": "1.0", "mixed": "1.0"}
    assert sorted(data["builds_from_source"]) == ["mixed==1.0", "srconly==1.0"]
    assert data["needs_build"] == [] and data["dropped"] == []

    code, data = env(repo, tmp_path / "out2", capsys, "--allow-build")
    assert code == 0, data
    assert marker.exists()  # the opt-in really builds
    pins = {r["name"]: r["version"] for r in data["requirements"]}
    assert pins == {"numpy": "1.17.4", "srconly": "1.0", "mixed": "1.0"}
    assert data["needs_build"] == []


def test_file_names_with_newlines_do_not_inject_requirement_lines(
    index: PackageIndex,
    recorder: Recorder,
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    evil = f"a\n--index-url {recorder.url}\nsrconly\n.py"
    repo = make_repo(
        {
            evil: "import numpy\n",
            "opt.py": "try:\n    import numpy\nexcept ImportError:\n    pass\n",
            "uni.py": "import naïve\n",  # an identifier no distribution can be named
        },
        date=DATE,
    )
    for extra in ((), ("--offline",)):
        out = tmp_path / f"out{len(extra)}"
        code, data = env(repo, out, capsys, *extra)
        # --offline leaves the imported names unpinned: written, but never "complete"
        assert code == (1 if extra else 0), data
        lines = (out / "requirements.txt").read_text().splitlines()
        assert not [ln for ln in lines if ln.startswith("-") or ln.startswith("srconly")], lines
        assert any(ln.startswith("numpy") and "a\\n--index-url" in ln for ln in lines), lines
        assert any(p.startswith("naïve (imported)") for p in data["problems"])
        yml = (out / "environment.yml").read_text().splitlines()
        assert all(ln.startswith(("name:", "channels:", "dependencies:", "  ")) for ln in yml)
    assert recorder.hits == []


def test_action_install_ignores_the_checkouts_uv_config(
    recorder: Recorder, tmp_path: Path, make_repo: MakeRepo
) -> None:
    import os
    import shutil
    import subprocess
    import sys

    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    root = Path(__file__).resolve().parents[2]
    evil = f'index-url = "{recorder.url}"\n'
    checkout = make_repo(
        {
            "uv.toml": evil,
            "pyproject.toml": f"[project]\nname = 'x'\nversion = '1'\n[tool.uv]\n{evil}",
            "m.py": "",
        }
    )
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    # The runner's index, from pip's variable (which uv itself does not read): it has nothing,
    # so the install fails; what matters is which index was asked.
    with PackageIndex([]) as runner_index:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))},
            "PATH": f"{Path(uv).parent}{os.pathsep}{os.environ['PATH']}",
            "RUNNER_TEMP": str(temp),
            "GITHUB_PATH": str(temp / "path"),
            "PIP_INDEX_URL": runner_index.url,
            "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never",
            "FORKVET_PYTHON": f"{sys.version_info.major}.{sys.version_info.minor}",
        }
        proc = subprocess.run(
            ["bash", str(root / "actions" / "install.sh")],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode != 0  # nothing to install from an empty index
        assert runner_index.requests, proc.stderr
    assert recorder.hits == [], proc.stderr


def test_python2_pins_that_need_a_build_are_named(
    index: PackageIndex,
    make_repo: MakeRepo,
    marker: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # declared: env writes an import neither declared nor known only as a comment
    readme = "```\npip install srconly\n```\n"
    repo = make_repo({"old.py": "import srconly\nprint 'hello'\n", "README.md": readme}, date=DATE)
    code, data = env(repo, tmp_path / "out", capsys)
    # Resolved from its source release's metadata, read without running it; the pin that
    # will build when installed is named (issue 18), and no build ran.
    assert data["python"] == "2.7", data
    names = {r["name"] for r in data["requirements"]}
    assert "srconly" in names or "srconly" in data["dropped"], data
    if "srconly" in names:
        assert code == 0 and any("srconly" in b for b in data.get("builds_from_source", []))
    else:
        assert code == 1 and any("srconly" in p for p in data["problems"])
    assert not marker.exists()
