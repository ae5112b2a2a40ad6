"""Bounds on what the package index says (outside attack round 8): a hostile or broken index
must cost a bounded amount of memory and never crash `env`."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from forkvet.envgen import index, sdist
from forkvet.envgen.metadata_fix import uv_toml_text
from forkvet.envgen.sdist import MAX_KEPT, members

BIG = index.MAX_METADATA_BYTES + 10
LONG_PY = ">=3." + "9" * 5000
DEEP_TOML = "[project]\nname = 'x'\ndependencies = " + "[" * 100_000 + "]" * 100_000 + "\n"


def _wheel(metadata: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pkg/__init__.py", "")
        zf.writestr("pkg-1.0.dist-info/METADATA", metadata)
    return buf.getvalue()


@pytest.fixture
def hostile_index() -> Iterator[str]:
    """A PEP 691 index: `bomb` has a wheel whose METADATA (deflated to KiBs) is over the bound
    and no PEP 658 file; `bomb658` a PEP 658 file over it; `broken` a malformed entry beside a
    good one."""
    files = {"/files/bomb-1.0-py3-none-any.whl": _wheel(b"\n" * BIG)}
    files["/files/bomb658-1.0-py3-none-any.whl.metadata"] = b"Name: bomb658\n" + b"x" * BIG

    def page(name: str, entries: list[Any]) -> bytes:
        return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": entries}).encode()

    good: dict[str, Any] = {
        "filename": "broken-1.0-py3-none-any.whl",
        "url": "/files/broken.whl",
        "hashes": {},
    }
    files["/files/swap-1.0.tar.gz"] = _sdist("swap-1.0", "Requires-Dist: fromswap\n")
    other = hashlib.sha256(b"another archive").hexdigest()
    deep = b"[" * 200_000 + b"]" * 200_000
    pages = {
        # nested past the stack, and a Requires-Python past int()'s digit limit
        "/simple/deep/": b'{"meta": {"api-version": "1.1"}, "name": "deep", "files": '
        + deep
        + b"}",
        "/simple/longpy/": page(
            "longpy", [dict(good, filename="longpy-1.0.tar.gz", **{"requires-python": LONG_PY})]
        ),
        # what the index names must be fetched over http(s), and be the archive it says
        "/simple/local/": page(
            "local",
            [
                dict(good, filename="local-1.0.tar.gz", url="file:///etc/hostname"),
                dict(good, filename="local-0.9.tar.gz", url="FILE:///dev/zero"),
                dict(good, filename="local-0.8.tar.gz", url="ftp://127.0.0.1:1/x.tar.gz"),
                dict(good, filename="local-0.7.tar.gz", url="data:,x"),
                dict(good, filename="local-0.6.tar.gz"),
            ],
        ),
        "/simple/swap/": page(
            "swap",
            [
                {
                    "filename": "swap-1.0.tar.gz",
                    "url": "/files/swap-1.0.tar.gz",
                    "hashes": {"sha256": other},
                }
            ],
        ),
        "/simple/bomb/": page(
            "bomb",
            [
                {
                    "filename": "bomb-1.0-py3-none-any.whl",
                    "url": "/files/bomb-1.0-py3-none-any.whl",
                    "hashes": {},
                }
            ],
        ),
        "/simple/bomb658/": page(
            "bomb658",
            [
                {
                    "filename": "bomb658-1.0-py3-none-any.whl",
                    "url": "/files/bomb658-1.0-py3-none-any.whl",
                    "hashes": {},
                    "core-metadata": True,
                }
            ],
        ),
        "/simple/broken/": page(
            "broken",
            [
                {
                    "filename": "broken-0.9.tar.gz",
                    "url": "/files/b.tgz",
                    "upload-time": "not a date",
                },
                {"filename": 7},
                "x",
                good,
            ],
        ),
    }

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _body(self) -> bytes | None:
            return pages.get(self.path) or files.get(self.path)

        def do_GET(self) -> None:
            if self.path.startswith("/redirect/"):  # to another scheme: never followed
                self.send_response(302)
                self.send_header("Location", self.path.removeprefix("/redirect/"))
                self.end_headers()
                return
            body = self._body()
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            start, end = 0, len(body) - 1
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes="):
                a, _, b = rng[6:].partition("-")
                start = int(a) if a else max(0, len(body) - int(b))
                end = min(int(b), len(body) - 1) if a and b else len(body) - 1
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
            else:
                self.send_response(200)
            chunk = body[start : end + 1]
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            self.wfile.write(chunk)

        def do_HEAD(self) -> None:
            body = self._body()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    index.forget()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/simple/"
    finally:
        httpd.shutdown()
        index.forget()


def _sdist(top: str, pkg_info: str, **extra: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, text in {"PKG-INFO": pkg_info, **extra}.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _only(name: str, base: str) -> index.IndexFile:
    (f,) = index.project_files(name, base)
    return f


def test_metadata_over_the_bound_is_not_read(hostile_index: str) -> None:
    for name in ("bomb", "bomb658"):
        f = _only(name, hostile_index)
        assert index.core_metadata(f) is None, name  # unknown, never read whole


def test_a_malformed_page_entry_is_skipped_not_a_crash(hostile_index: str) -> None:
    files = index.project_files("broken", hostile_index)
    assert [f.filename for f in files] == ["broken-1.0-py3-none-any.whl"]


def test_an_archive_keeps_a_bounded_amount_of_text() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for i in range(12):
            data = ("\U0001f600" * (2**18)).encode()  # 1 MiB of text each
            info = tarfile.TarInfo(f"pkg-1.0/notes{i}.txt")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    kept = members(buf.getvalue(), "pkg-1.0.tar.gz")
    assert 0 < sum(len(t) for t in kept.values()) <= MAX_KEPT


def test_uv_toml_holds_any_character_as_valid_toml() -> None:
    import tomllib

    value = ['x; extra == "\U0001f600"', 'y\x7f"\\\n']
    text = uv_toml_text([{"name": "p", "version": "1", "requires-dist": value}])
    assert tomllib.loads(text)["dependency-metadata"][0]["requires-dist"] == value


def test_a_page_nested_past_the_stack_is_an_index_error(hostile_index: str) -> None:
    with pytest.raises(index.IndexError_):
        index.project_files("deep", hostile_index)


def test_a_requires_python_past_the_digit_limit_is_unreadable_not_a_crash(
    hostile_index: str,
) -> None:
    f = _only("longpy", hostile_index)
    assert f.requires_python == LONG_PY
    assert sdist.supports(f.requires_python, "3.12") in (True, False)


def test_an_sdist_with_deep_or_long_metadata_is_read_without_a_crash() -> None:
    pkg_info = f"Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Python: {LONG_PY}\n"
    meta = sdist.read_static("x", "1", {"PKG-INFO": pkg_info, "pyproject.toml": DEEP_TOML})
    assert meta.requires_python is None and meta.requires == []
    long_dep = {"pyproject.toml": f"[project]\ndependencies = ['numpy>=1.{'9' * 5000}', 'six']\n"}
    assert sdist.read_static("x", "1", long_dep).requires == ["six"]


def test_only_http_urls_of_an_index_answer_are_fetched(hostile_index: str) -> None:
    files = index.project_files("local", hostile_index)
    assert [f.filename for f in files] == ["local-0.6.tar.gz"]
    base = hostile_index.removesuffix("simple/")
    for url in (
        "file:///etc/hostname",
        f"{base}redirect/file:///etc/hostname",
        f"{base}redirect/ftp://127.0.0.1:1/x",
    ):
        with pytest.raises(urllib.error.URLError):
            index.urlopen(urllib.request.Request(url))


def test_an_archive_whose_hash_differs_is_not_parsed(
    hostile_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = _only("swap", hostile_index)

    def parsed(data: bytes, filename: str) -> dict[str, str]:
        raise AssertionError("a swapped archive was parsed")

    monkeypatch.setattr(sdist, "members", parsed)
    with pytest.raises(index.IndexError_, match="sha256"):
        sdist._members_of(f)
    assert sdist.static_metadata("swap", "1.0", f) is None


def _zip(names: list[str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("p-1.0/PKG-INFO", "Name: p\nVersion: 1.0\nRequires-Dist: six\n")
        for name in names:
            zf.writestr(name, "")
    return buf.getvalue()


def test_a_zip_announcing_too_many_entries_is_refused_before_its_directory_is_read() -> None:
    assert members(_zip([str(i) for i in range(10)]), "p-1.0.zip") == {
        "PKG-INFO": "Name: p\nVersion: 1.0\nRequires-Dist: six\n"
    }
    with pytest.raises(sdist.ArchiveTooLarge):
        members(_zip([format(i, "x") for i in range(sdist.MAX_MEMBERS)]), "p-1.0.zip")
    # few entries, a directory of long names over the bound
    with pytest.raises(sdist.ArchiveTooLarge):
        members(_zip([f"{i}" + "n" * 60_000 for i in range(20)]), "p-1.0.zip")


def test_a_download_that_drips_stops_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside attack round 9 (F14): a host that sends one byte every half second passes
    every per-read timeout; the whole download has a deadline."""
    import time

    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.5)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setattr(sdist, "DOWNLOAD_S", 1.5)
    started = time.monotonic()
    try:
        with pytest.raises(index.IndexError_, match="not downloaded within"):
            sdist._download(f"http://127.0.0.1:{httpd.server_address[1]}/x-1.0.tar.gz")
    finally:
        httpd.shutdown()
    assert time.monotonic() - started < 5
