"""Bounds on what the package index says (outside attack round 8): a hostile or broken index
must cost a bounded amount of memory and never crash `env`."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from forkvet.envgen import index
from forkvet.envgen.metadata_fix import uv_toml_text
from forkvet.envgen.sdist import MAX_KEPT, members

BIG = index.MAX_METADATA_BYTES + 10


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

    def page(name: str, entries: list[dict[str, object]]) -> bytes:
        return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": entries}).encode()

    good = {"filename": "broken-1.0-py3-none-any.whl", "url": "/files/broken.whl", "hashes": {}}
    pages = {
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
