"""The user's package index, read through its simple API (PEP 691 JSON, PEP 700 upload times,
PEP 658/714 core metadata). The index URL comes from the user's own uv/pip configuration —
never from this code — so company mirrors work as they are."""

from __future__ import annotations

import base64
import email.parser
import io
import json
import os
import string
import threading
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion

from forkvet import rx, safeparse
from forkvet.envgen import indexcache
from forkvet.envgen.wheeltags import installs_on
from forkvet.errors import ForkvetError
from forkvet.snapshot import redact_url

ACCEPT = "application/vnd.pypi.simple.v1+json"
TIMEOUT_S = float(os.environ.get("FORKVET_INDEX_TIMEOUT", "30"))
# Index look-ups are round trips, not work: this many go out side by side.
WORKERS = 16


class IndexError_(ForkvetError):
    """The index could not be reached or answered badly (exit 2, suggests --offline)."""


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    version: str | None
    requires_python: str | None
    upload_time: datetime | None
    core_metadata: bool
    yanked: bool
    # the index's sha256 of the file, when it gives one (the SBOM's hashes)
    sha256: str | None = None


def _pip_default_index() -> str:
    # pip's own default, so the host is never written here.
    from pip._internal.models.index import PyPI

    return str(PyPI.simple_url).rstrip("/") + "/"


def index_url() -> str:
    """The index the user's tools use: uv's env, uv's own configuration file, pip's env,
    pip's config, pip's default."""
    for var in ("UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        if os.environ.get(var):
            return os.environ[var].rstrip("/") + "/"
    from_uv = uv_config_index()
    if from_uv:
        return from_uv.rstrip("/") + "/"
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].rstrip("/") + "/"
    return _configured_index()


def is_public_index(url: str) -> bool:
    """Whether a URL a repository's file names is the index the user configured (or pip's
    default): any other one replaces it for that file's packages."""
    wanted = url.strip().rstrip("/").lower() + "/"
    return wanted in {index_url().lower(), _pip_default_index().lower()}


def is_public_file(url: str) -> bool:
    """Whether a file URL (a wheel or sdist a lock file records) is served by pip's default
    index's file host or the user's index host: else it came from a source of the authors'."""
    from urllib.parse import urlsplit

    from pip._internal.models.index import PyPI

    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
        user = (urlsplit(index_url()).hostname or "").lower()
    except ValueError:
        return False
    return bool(host) and host in {str(PyPI.file_storage_domain).lower(), user}


def uv_config_index() -> str:
    """The default index of the user's (else the system's) uv.toml, as uv reads it: the
    `[[index]]` marked `default = true`, else `index-url`; "" when neither names one."""
    import tomllib

    home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    system = (os.environ.get("XDG_CONFIG_DIRS") or "/etc").split(":")
    for folder in [home, *system]:
        path = Path(folder) / "uv" / "uv.toml"
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        default = [i for i in data.get("index") or [] if isinstance(i, dict) and i.get("default")]
        url = default[0].get("url") if default else data.get("index-url")
        if isinstance(url, str) and url:
            return url
    return ""


def _configured_index() -> str:
    # Look-ups run side by side: one `pip config` run for all of them, not one each.
    with _CONFIG_LOCK:
        return _pip_config_index()


_CONFIG_LOCK = threading.Lock()


@cache
def _pip_config_index() -> str:
    """`pip config get global.index-url`, read in this process: starting pip for it cost
    0.5 s idle and 4-8 s on a loaded machine, on every run."""
    try:
        from pip._internal.configuration import Configuration

        config = Configuration(isolated=False)
        config.load()
        value = str(config.get_value("global.index-url") or "").strip()
    except Exception:  # no such key, or a config file pip itself could not read
        value = ""
    return value.rstrip("/") + "/" if value else _pip_default_index()


# An index answer is read up to a bound, like uv does: a project page (torch's lists tens of
# thousands of files: a few MiB) and a release's METADATA (kilobytes) never come near these.
MAX_PAGE_BYTES = 64 * 2**20
MAX_METADATA_BYTES = 2**20


def request(
    url: str, headers: dict[str, str] | None = None, method: str | None = None
) -> urllib.request.Request:
    """A request for `url`. Credentials in it (`https://user:token@mirror/simple/`, as pip and
    uv accept in an index URL) go in an Authorization header to that URL's own host, never
    in the address (urllib would take `user:token@mirror` for the host name); file URLs on
    other hosts carry none, so they never reach another host."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return urllib.request.Request(url, headers=headers or {}, method=method)
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    req = urllib.request.Request(
        urllib.parse.urlunsplit(parts._replace(netloc=netloc)), headers=headers or {}, method=method
    )
    user = urllib.parse.unquote(parts.username or "")
    secret = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
    # Unredirected: a redirect (to a CDN, or anywhere a hostile mirror says) never carries it.
    req.add_unredirected_header("Authorization", f"Basic {token}")
    return req


def redact(url: str) -> str:
    """`url` without its credentials, for messages (snapshot's rule, saying some were there)."""
    return redact_url(url, "***@")


def _http_only() -> urllib.request.OpenerDirector:
    """urlopen's opener less its file:, ftp: and data: handlers. A page names its files' URLs
    (a hostile index or mirror): `file:///etc/...` would be a local read, a FIFO a hang, and
    an http answer may redirect to ftp:. Any other scheme is a URLError, as is a redirect to it."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_OPENER = _http_only()


def urlopen(req: urllib.request.Request, timeout: float = TIMEOUT_S) -> Any:
    """urllib.request.urlopen over http(s) only: every request to an index or for what it names."""
    return _OPENER.open(req, timeout=timeout)


def _get(url: str, accept: str | None = None, limit: int = MAX_PAGE_BYTES) -> bytes:
    req = request(url, {"Accept": accept} if accept else {})
    try:
        with urlopen(req) as resp:
            data = bytes(resp.read(limit + 1))
            if len(data) > limit:
                raise IndexError_(f"{redact(url)}: the index's answer is over {limit // 2**20} MiB")
            return data
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise LookupError(redact(url)) from exc
        raise IndexError_(f"the package index answered {exc.code} for {redact(url)}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise IndexError_(
            f"could not reach the package index ({reason}); use --offline to "
            f"generate names, Python version and declared pins only"
        ) from exc


def _version_from_filename(filename: str) -> str | None:
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) >= 5 else None
    for ext in (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".egg"):
        if filename.endswith(ext):
            stem = rx.sub(r"-py\d[\d.]*$", "", filename[: -len(ext)])
            # name-1.2.3: the version starts at the first dash followed by a digit from which
            # the rest is a version; `functools32-3.2.3-2` is 3.2.3.post2 (PEP 440), not 2.
            for dash in rx.finditer(r"-\d", stem):
                try:
                    return str(safeparse.version(stem[dash.start() + 1 :]))
                except InvalidVersion:
                    continue
            m = rx.match(r"^(.+?)-(\d[^-]*)$", stem)
            return m.group(2) if m else None
    return None


def project_files(name: str, base: str | None = None) -> list[IndexFile]:
    """Every file of a project; [] when the index has no such project."""
    return list(_project_files(rx.sub(r"[-_.]+", "-", name).lower(), base or index_url()))


@lru_cache(maxsize=4096)
def _project_files(name: str, base: str) -> tuple[IndexFile, ...]:
    url = f"{base}{rx.sub(r'[-_.]+', '-', name).lower()}/"
    # Kept on disk for minutes (indexcache): the next forkvet run on this machine (smoke
    # after env, another repository) does not ask again. Only an answer that parsed is kept.
    key = f"{url}\n{ACCEPT}"
    kept = indexcache.get("pages", key, max_age=indexcache.PAGE_TTL_S)
    try:
        raw = kept if kept is not None else _get(url, ACCEPT)
        data: dict[str, Any] = safeparse.json_loads(raw)
    except LookupError:
        return ()
    except json.JSONDecodeError as exc:
        raise IndexError_(f"{url} did not answer with the JSON simple API (PEP 691)") from exc
    files = [entry for f in _entries(data) if (entry := _file_entry(url, f)) is not None]
    if kept is None:
        indexcache.put("pages", key, raw)
    return tuple(files)


def _entries(data: Any) -> list[Any]:
    files = data.get("files") if isinstance(data, dict) else None
    return files if isinstance(files, list) else []


def _file_entry(page: str, f: Any) -> IndexFile | None:
    """One file of a page, or None when the entry is malformed (an index's or a mirror's
    error, or a hostile index): skipped, never a crash."""
    try:
        uploaded = f.get("upload-time")
        requires_python = f.get("requires-python")
        url = _absolute(page, str(f["url"]))
        if not url.startswith(("https://", "http://")):
            return None  # file:, ftp:, data:...: never fetched (see _http_only)
        return IndexFile(
            filename=str(f["filename"]),
            url=url,
            version=_version_from_filename(str(f["filename"])),
            requires_python=requires_python if isinstance(requires_python, str) else None,
            upload_time=datetime.fromisoformat(uploaded.replace("Z", "+00:00"))
            if uploaded
            else None,
            core_metadata=bool(f.get("core-metadata") or f.get("dist-info-metadata")),
            yanked=bool(f.get("yanked")),
            sha256=_sha256(f.get("hashes")),
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


_PLAIN_URL_CHARS = frozenset(string.ascii_letters + string.digits + "-._~:/@!$&'()*+,=%")


def _absolute(page: str, url: str) -> str:
    """urljoin(page, url), without its cost for the common case (a page lists tens of
    thousands of files): an absolute http(s) URL of plain characters, which urljoin returns
    unchanged (a host, and nothing to strip, split off or normalise: no query, fragment,
    parameters, brackets, spaces or control characters)."""
    if url.startswith(("https://", "http://")) and _PLAIN_URL_CHARS.issuperset(url):
        host = url.split("://", 1)[1][:1]
        if host and host != "/":  # "https:///x" has no host: relative to the page's
            return url
    return urllib.parse.urljoin(page, url)


def _sha256(hashes: Any) -> str | None:
    value = hashes.get("sha256") if isinstance(hashes, dict) else None
    # 64 hex digits (checked without a regular expression: once per file of a page)
    if isinstance(value, str) and len(value) == 64 and not value.strip(string.hexdigits):
        return value.lower()
    return None


def forget() -> None:
    """Read the index afresh next time (a test's index on a reused port, a long process)."""
    _project_files.cache_clear()
    _metadata_bytes.cache_clear()
    indexcache.forget_pages()


def core_metadata(file: IndexFile) -> email.message.Message | None:
    """A wheel's METADATA: through PEP 658 when the index serves it, else read out of the
    wheel with HTTP range requests (a few KiB instead of the whole wheel). Remembered for
    the process: the build-tool limits, the metadata checks and the licenses read the same
    releases."""
    raw = _metadata_bytes(file.url.split("#", 1)[0], file.core_metadata, file.filename, file.sha256)
    return None if raw is None else email.parser.Parser().parsestr(raw.decode("utf-8", "replace"))


@lru_cache(maxsize=4096)
def _metadata_bytes(url: str, pep658: bool, filename: str, sha256: str | None) -> bytes | None:
    # A file the index names by its sha256 never changes, nor its METADATA: kept on disk.
    key = f"{url}\n{sha256}" if sha256 else ""
    kept = indexcache.get("metadata", key) if key else None
    if kept is not None:
        return kept
    try:
        if pep658:
            raw = _get(url + ".metadata", limit=MAX_METADATA_BYTES)
        elif filename.endswith(".whl"):
            raw = _metadata_from_remote_wheel(url)
        else:
            return None
    except (LookupError, zipfile.BadZipFile, KeyError, ValueError, IndexError_):
        return None  # unreadable or over the bound: this release's metadata is not known
    if key:
        indexcache.put("metadata", key, raw)
    return raw


def release_metadata(
    name: str, version: str, python: str | None = None
) -> email.message.Message | None:
    """The core metadata of one release: from a wheel that installs on `python` when there is
    one (its requirements may differ by Python), PEP 658 first; None without a wheel."""
    wheels = [
        f for f in project_files(name) if f.version == version and f.filename.endswith(".whl")
    ]
    if not wheels:
        return None
    best = min(
        wheels,
        key=lambda f: (
            python is not None and not installs_on(f.filename, python),
            not f.core_metadata,
        ),
    )
    return core_metadata(best)


class _RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file, fetched in blocks by Range requests."""

    BLOCK = 256 * 1024

    def __init__(self, url: str) -> None:
        self.url = url
        req = request(url, method="HEAD")
        with urlopen(req) as resp:
            self.size = int(resp.headers["Content-Length"])
        self.pos = 0
        self.blocks: dict[int, bytes] = {}

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def _block(self, index: int) -> bytes:
        if index not in self.blocks:
            start = index * self.BLOCK
            end = min(self.size, start + self.BLOCK) - 1
            req = request(self.url, {"Range": f"bytes={start}-{end}"})
            with urlopen(req) as resp:
                self.blocks[index] = resp.read()
        return self.blocks[index]

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = self.size - self.pos
        out = bytearray()
        while size > 0 and self.pos < self.size:
            block = self._block(self.pos // self.BLOCK)
            offset = self.pos % self.BLOCK
            chunk = block[offset : offset + size]
            if not chunk:
                break
            out += chunk
            self.pos += len(chunk)
            size -= len(chunk)
        return bytes(out)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _metadata_from_remote_wheel(url: str) -> bytes:
    try:
        with zipfile.ZipFile(_RangeFile(url)) as zf:
            info = next(
                i
                for i in zf.infolist()
                if i.filename.count("/") == 1 and i.filename.endswith(".dist-info/METADATA")
            )
            with zf.open(info) as fh:  # the size the archive claims is not trusted either
                data = fh.read(MAX_METADATA_BYTES + 1)
            if len(data) > MAX_METADATA_BYTES:
                raise ValueError(f"{info.filename} is over {MAX_METADATA_BYTES} bytes")
            return data
    except StopIteration as exc:
        raise KeyError("METADATA") from exc
    except (urllib.error.URLError, OSError, KeyError) as exc:
        raise ValueError(str(exc)) from exc
