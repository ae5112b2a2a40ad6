"""An index URL with credentials (`https://user:token@mirror/simple/`, as pip and uv take it):
forkvet's own index reads send them to that host only, never in a message, never on a
redirect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from forkvet.envgen import index

TOKEN = "Basic dXNlcjpzM2NyZXQ="  # user:s3cret


@pytest.fixture()
def servers() -> Iterator[tuple[str, list[str | None]]]:
    """A mirror that wants the token, and another host it redirects one page to; the
    Authorization header each request to the other host carried is recorded."""
    seen_elsewhere: list[str | None] = []

    class Other(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen_elsewhere.append(self.headers.get("Authorization"))
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), Other)
    threading.Thread(target=other.serve_forever, daemon=True).start()

    class Mirror(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != TOKEN:
                self.send_response(401)
                self.end_headers()
                return
            if self.path.startswith("/simple/moved/"):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{other.server_address[1]}/x/")
                self.end_headers()
                return
            body = json.dumps(
                {
                    "meta": {"api-version": "1.0"},
                    "name": "demo",
                    "files": [{"filename": "demo-1.0-py3-none-any.whl", "url": "x", "hashes": {}}],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    mirror = ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
    threading.Thread(target=mirror.serve_forever, daemon=True).start()
    try:
        yield f"http://user:s3cret@127.0.0.1:{mirror.server_address[1]}/simple/", seen_elsewhere
    finally:
        mirror.shutdown()
        other.shutdown()


def test_credentials_in_the_index_url_reach_that_host_only(
    servers: tuple[str, list[str | None]],
) -> None:
    base, seen_elsewhere = servers
    files = index.project_files("demo", base)
    assert [f.filename for f in files] == ["demo-1.0-py3-none-any.whl"]
    assert index.project_files("moved", base) == []  # redirected to a host that has nothing
    assert seen_elsewhere == [None]  # the redirect did not carry the token


def test_credentials_never_appear_in_a_message(servers: tuple[str, list[str | None]]) -> None:
    base, _ = servers
    wrong = base.replace("s3cret", "wrong")
    with pytest.raises(index.IndexError_) as err:
        index.project_files("demo", wrong)
    assert "wrong" not in str(err.value) and "***@" in str(err.value)
