"""The offline vulnerability database: `audit --update-db` downloads a (small, built here) OSV
PyPI export from a real HTTP server on 127.0.0.1 into the user cache, with its checksum and
age; `audit` then works with the server gone and OSV unreachable, and says how stale it is."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from forkvet.audit.offline_db import DB_NAME, INDEX_NAME, META_NAME, cached, open_cached
from forkvet.cli import main
from tests.test_audit import RECORDS, REQUIREMENTS


def export_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rec in RECORDS:
            zf.writestr(f"{rec['id']}.json", json.dumps(rec))
    return buf.getvalue()


class ExportServer:
    """Serves /PyPI/all.zip as OSV's export bucket does; counts requests."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.hits.append(self.path)
                if self.path != "/PyPI/all.zip":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("FORKVET_VULN_DB_DIR", raising=False)
    monkeypatch.delenv("FORKVET_VULN_DB_MAX_AGE_DAYS", raising=False)
    # OSV online is unreachable in every test here: a closed port
    monkeypatch.setenv("FORKVET_OSV_URL", "http://127.0.0.1:9")
    return tmp_path / "cache" / "forkvet" / "osv"


@pytest.fixture
def export() -> Iterator[ExportServer]:
    server = ExportServer(export_zip())
    yield server
    server.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["audit", *args])
    out = capsys.readouterr()
    data = json.loads(out.out) if out.out.strip().startswith("{") else {}
    return code, data, out.err


def age(folder: Path, days: float) -> None:
    meta = json.loads((folder / META_NAME).read_text())
    when = datetime.now(UTC) - timedelta(days=days)
    meta["downloaded_at"] = when.isoformat(timespec="seconds")
    (folder / META_NAME).write_text(json.dumps(meta))


def test_update_then_audit_offline_with_the_server_gone(
    cache: Path, export: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(REQUIREMENTS)
    code, _, err = run(capsys, "--update-db", "--db-url", export.url)
    assert code == 0 and export.hits == ["/PyPI/all.zip"]
    assert "updated the vulnerability database" in err
    meta = json.loads((cache / META_NAME).read_text())
    assert meta["sha256"] == hashlib.sha256(export.body).hexdigest()
    assert (
        meta["size"] == len(export.body) and meta["records"] == len(RECORDS) - 2
    )  # npm and withdrawn left out
    assert meta["url"] == export.url + "/PyPI/all.zip"
    # the package index written at download: an audit parses only its pins' records
    index = json.loads((cache / INDEX_NAME).read_text())
    assert index["torch"] == ["GHSA-53q9-r3pm-6pq6.json"] and "npm-1" not in str(index).lower()
    info = cached()
    assert info is not None
    db = open_cached(info)
    assert db is not None and db.advisories("PyYAML", Version("5.3.1"))[0].id in (
        "PYSEC-2021-142",
        "GHSA-8q59-q68h-6hv4",
    )
    assert sorted(db._parsed) == ["pyyaml"]
    export.close()  # the network is gone from here on

    code, data, err = run(capsys, str(reqs), "--offline", "--format", "json")
    assert code == 0, err
    assert {v["package"] for v in data["vulnerabilities"]} == {
        "torch",
        "pyyaml",
        "pillow",
        "numpy",
        "six",
    }
    assert data["source"].startswith("OSV export cached ") and meta["sha256"][:12] in data["source"]
    assert data["source_age_days"] < 0.01 and not data["notes"]
    # a fresh cache is used without --offline too (OSV online is unreachable here)
    code, data, err = run(capsys, str(reqs), "--no-index", "--format", "json")
    assert code == 0 and data["source"].startswith("OSV export cached "), err


def test_a_stale_cache_says_how_stale(
    cache: Path, export: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(REQUIREMENTS)
    assert run(capsys, "--update-db", "--db-url", export.url)[0] == 0
    age(cache, 12)
    code, data, _ = run(capsys, str(reqs), "--offline", "--format", "json")
    assert code == 0 and 11.9 < data["source_age_days"] < 12.1
    assert data["notes"][0].startswith("STALE: the cached vulnerability database is 12.0 days old")
    # the text output says it in its first line, too
    code = main(["audit", str(reqs), "--offline"])
    first = capsys.readouterr().out.splitlines()[0]
    assert "days old]" in first and "12.0" in first
    # without --offline a stale cache is not used: OSV online is asked (and is unreachable)
    code, _, err = run(capsys, str(reqs), "--no-index")
    assert code == 2 and "could not be reached" in err
    # unless the operator allows older databases
    code, data, _ = run(capsys, str(reqs), "--no-index", "--max-db-age", "30", "--format", "json")
    assert code == 0 and data["source"].startswith("OSV export cached ")


def test_missing_damaged_and_bad_downloads_are_one_line_errors(
    cache: Path, export: ExportServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(REQUIREMENTS)
    code, _, err = run(capsys, str(reqs), "--offline")
    assert code == 2 and "no cached vulnerability database" in err and "--update-db" in err
    # a server that is not OSV's export: the old database (none) is left alone
    code, _, err = run(capsys, "--update-db", "--db-url", export.url + "/nothing")
    assert code == 2 and "answered 404" in err and not (cache / DB_NAME).exists()
    export.body = b"not a zip"
    code, _, err = run(capsys, "--update-db", "--db-url", export.url)
    assert code == 2 and "not an OSV export" in err and not (cache / DB_NAME).exists()
    assert [p.name for p in cache.iterdir()] == []  # no partial download left behind
    # a good one, then damaged on disk: the checksum catches it
    export.body = export_zip()
    assert run(capsys, "--update-db", "--db-url", export.url)[0] == 0
    with (cache / DB_NAME).open("ab") as fh:
        fh.write(b"x")
    code, _, err = run(capsys, str(reqs), "--offline")
    assert code == 2 and "sha256 does not match" in err
    assert "Traceback" not in err
    # so is an index changed on disk (it would hide a package's advisories)
    assert run(capsys, "--update-db", "--db-url", export.url)[0] == 0
    (cache / INDEX_NAME).write_text("{}")
    code, _, err = run(capsys, str(reqs), "--offline")
    assert code == 2 and "osv-PyPI-index.json: its sha256 does not match" in err
    code, _, err = run(capsys)
    assert code == 2 and "give a TARGET" in err
