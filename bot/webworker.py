"""gunicorn's gthread worker with a bound on what a slow client costs (round 18c F5).

A webhook's signature can only be checked once its whole body is in, so a thread of the
server reads every body, signed or forged. gthread gives a connection a thread as soon as its
first byte arrives and then reads headers and body with blocking reads that never time out:
a hundred clients trickling a body one byte every 2 s held every thread, and `/healthz` and
GitHub's deliveries timed out. Two bounds, at the server layer, hold whatever the thread count:

- a read deadline per request: everything a request sends (request line, headers, body) must
  arrive within `FORKVET_WEB_READ_S` seconds (default 20) of its first byte. A read that
  would wait past it ends the request as if the client had hung up (the App answers 408 for a
  body cut short; a request line or headers cut short are closed without an answer). So one
  slow client holds one thread at most that long;
- threads per peer: at most `FORKVET_WEB_PEER_THREADS` connections from one address hold a
  thread of a web worker at once (default: a quarter of its threads, at least 1). As many (at
  least 4) more wait for one of them to free, holding no thread and read by nobody
  (so a client that sends its next request a moment before its last one's thread is
  released is served, not refused); one more is answered 503 with `Retry-After` at once,
  from the worker's own loop. So clients from one address never hold more than that share of the
  threads, and the others (`/healthz` from the container itself, GitHub's deliveries) find a
  free one. Behind a reverse proxy every request comes from the proxy's address: set it to 0
  (no cap) there; a buffering proxy already sends each request whole.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.http import RequestParser  # type: ignore[import-untyped]
from gunicorn.workers.gthread import TConn, ThreadWorker  # type: ignore[import-untyped]

READ_S = float(os.environ.get("FORKVET_WEB_READ_S", "20"))
# Connections of one address that may wait (no thread, nothing read) for one of its threads
# to free: as many as it may hold threads, at least 4 (a keep-alive connection closed by its
# client also takes a turn, to read the end); more are refused.
_BUSY_BODY = b'{"error": "too many requests from this address at once"}'
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


def peer_threads(threads: int) -> int:
    """How many threads one address may hold at once (0: no cap)."""
    raw = os.environ.get("FORKVET_WEB_PEER_THREADS")
    if raw is not None and raw.strip():
        return max(0, int(raw))
    return max(1, threads // 4)


class DeadlineReader:
    """The socket as gunicorn's parser reads it: `recv` waits at most until the request's
    deadline, then answers b"" (end of input), so the parser and the body reader stop."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.deadline = time.monotonic() + READ_S
        self.expired = False
        # Round 22c L2: gunicorn answers `Expect: 100-continue` as soon as the headers are
        # parsed, inviting an unsigned client to send its 25 MB before the 401. The 100 is
        # sent here instead, when the application first reads the body (after the request's
        # headers, the signature's form among them, were accepted), never after a response.
        self.continue_pending = False

    def restart(self) -> None:
        self.deadline = time.monotonic() + READ_S
        self.expired = False
        self.continue_pending = False

    def recv(self, size: int) -> bytes:
        if self.continue_pending:
            self.continue_pending = False
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.expired = True
            return b""
        self.sock.settimeout(left)
        try:
            return self.sock.recv(size)
        except TimeoutError:
            self.expired = True
            return b""
        finally:
            self.sock.settimeout(None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class BoundedConn(TConn):  # type: ignore[misc]
    reader: DeadlineReader | None = None

    def init(self) -> None:
        if self.cfg.is_ssl:  # TLS ends at the proxy in front; not bounded here
            super().init()
            return
        self.initialized = True
        self.sock.setblocking(True)
        if self.reader is None:
            self.reader = DeadlineReader(self.sock)
            self.parser = RequestParser(self.cfg, self.reader, self.client)
        self.reader.restart()  # each request (keep-alive too) gets its own deadline


class BoundedThreadWorker(ThreadWorker):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._per_peer = peer_threads(self.cfg.threads)
        self._busy: dict[Any, int] = {}
        self._waiting: dict[Any, deque[Any]] = {}
        self._busy_lock = threading.Lock()

    def accept(self, server: Any, listener: socket.socket) -> None:
        # gthread's own accept, with our connection class.
        try:
            sock, client = listener.accept()
        except OSError:
            return  # gone before it was accepted (EAGAIN, ECONNABORTED): nothing to serve
        conn = BoundedConn(self.cfg, sock, client, server)
        self.nr_conns += 1
        with self._lock:
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
            )

    def handle_request(self, req: Any, conn: Any) -> Any:
        """gunicorn's, with `Expect: 100-continue` answered only when the body is read."""
        reader = getattr(conn, "reader", None)
        expects = [(k, v) for k, v in req.headers if k == "EXPECT" and v.lower() == "100-continue"]
        if reader is not None and expects:
            req.headers = [h for h in req.headers if h not in expects]
            reader.continue_pending = True
        try:
            return super().handle_request(req, conn)
        finally:
            if reader is not None:
                reader.continue_pending = False  # answered: never a 100 after a response

    def handle(self, conn: Any) -> tuple[bool, Any]:
        keepalive, conn = super().handle(conn)
        reader = getattr(conn, "reader", None)
        # A request that ran past its deadline is not kept alive for another one.
        return (keepalive and not (reader is not None and reader.expired)), conn

    def enqueue_req(self, conn: Any) -> None:
        peer = conn.client[0] if isinstance(conn.client, tuple) and conn.client else None
        conn.peer = peer
        with self._busy_lock:
            held = self._busy.get(peer, 0)
            waiting = self._waiting.setdefault(peer, deque())
            if not self._per_peer or held < self._per_peer:
                self._busy[peer] = held + 1
                action = "run"
            elif len(waiting) < max(4, self._per_peer):
                waiting.append(conn)  # no thread, no read: it waits for its address's turn
                action = "park"
            else:
                action = "refuse"
            if not waiting:
                del self._waiting[peer]
        if action == "run":
            super().enqueue_req(conn)
        elif action == "refuse":
            self._refuse(conn)

    def _refuse(self, conn: Any) -> None:
        with contextlib.suppress(OSError):  # non-blocking: a full buffer drops the answer
            conn.sock.send(BUSY)
        self.nr_conns -= 1
        conn.close()

    def finish_request(self, fs: Any) -> None:
        super().finish_request(fs)
        peer = getattr(fs.conn, "peer", None)
        with self._busy_lock:
            waiting = self._waiting.get(peer)
            following = waiting.popleft() if waiting else None
            if waiting is not None and not waiting:
                del self._waiting[peer]
            if following is None:
                held = self._busy.get(peer, 0) - 1
                if held > 0:
                    self._busy[peer] = held
                else:
                    self._busy.pop(peer, None)
        if following is not None:  # the freed thread goes to the next of the same address
            ThreadWorker.enqueue_req(self, following)
