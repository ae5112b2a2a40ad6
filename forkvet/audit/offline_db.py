"""An offline vulnerability database: OSV's PyPI export, cached with its age and checksum.

`forkvet audit --update-db` downloads the export (one zip of every PyPI advisory, as OSV
publishes it per ecosystem) into the user cache; `audit` then reads it when it is fresh
enough, and `--offline` always (saying how stale it is). Air-gapped runners copy the cache
folder, or the zip (`--vuln-db`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from packaging.utils import canonicalize_name
from packaging.version import Version

from forkvet.audit.osv import Advisory
from forkvet.errors import ForkvetError, InputError

# OSV's public export of its database (a vulnerability database, not a package index);
# FORKVET_OSV_EXPORT_URL or --db-url point at a mirror of the same layout.
DEFAULT_EXPORT_URL = "https://osv-vulnerabilities.storage.googleapis.com"
EXPORT_PATH = "PyPI/all.zip"
DB_NAME = "osv-PyPI-all.zip"
META_NAME = "osv-PyPI-all.json"
INDEX_NAME = "osv-PyPI-index.json"
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024  # the real export is tens of MiB
DEFAULT_MAX_AGE_DAYS = 7.0
TIMEOUT_S = 60


@dataclass
class DbInfo:
    path: str
    url: str
    sha256: str
    size: int
    downloaded_at: str  # ISO 8601, UTC
    records: int
    index_sha256: str = ""

    def age_days(self, now: datetime | None = None) -> float:
        then = datetime.fromisoformat(self.downloaded_at)
        return max(0.0, ((now or datetime.now(UTC)) - then).total_seconds() / 86400)

    def describe(self) -> str:
        return (
            f"OSV export cached {self.downloaded_at[:10]} ({_age(self.age_days())} old, "
            f"{self.records} records, sha256 {self.sha256[:12]})"
        )


def _age(days: float) -> str:
    if days < 1:
        return f"{days * 24:.0f} hours"
    return f"{days:.1f} days"


def cache_dir() -> Path:
    if os.environ.get("FORKVET_VULN_DB_DIR"):
        return Path(os.environ["FORKVET_VULN_DB_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "forkvet" / "osv"


def export_url(base: str | None = None) -> str:
    root = base or os.environ.get("FORKVET_OSV_EXPORT_URL") or DEFAULT_EXPORT_URL
    if not root.startswith(("https://", "http://")):
        raise InputError(f"--db-url {root!r}: give an http(s) URL")
    return root.rstrip("/") + "/" + EXPORT_PATH


def max_age_days(value: float | None = None) -> float:
    if value is not None:
        return value
    raw = os.environ.get("FORKVET_VULN_DB_MAX_AGE_DAYS")
    try:
        return float(raw) if raw else DEFAULT_MAX_AGE_DAYS
    except ValueError as exc:
        raise InputError(f"FORKVET_VULN_DB_MAX_AGE_DAYS={raw!r} is not a number") from exc


def update(base: str | None = None, folder: Path | None = None) -> DbInfo:
    """Download the export, check that it holds OSV records, then replace the cached one
    (the old database stays in place until the new one is known good)."""
    url = export_url(base)
    folder = folder or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".zip", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest, size = _download(url, out)
        records, index = build_index(tmp)
        if not records:  # not a zip, or no PyPI records in it
            raise ForkvetError(f"{url} is not an OSV export of PyPI advisories")
        index_text = json.dumps(index, sort_keys=True)
        _write_atomic(folder / INDEX_NAME, index_text)
        os.replace(tmp, folder / DB_NAME)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    info = DbInfo(
        path=str(folder / DB_NAME),
        url=url,
        sha256=digest,
        size=size,
        downloaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        records=records,
        index_sha256=hashlib.sha256(index_text.encode()).hexdigest(),
    )
    _write_atomic(folder / META_NAME, json.dumps(asdict(info), indent=2) + "\n")
    return info


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build_index(path: Path) -> tuple[int, dict[str, list[str]]]:
    """(PyPI records, canonical package -> zip members naming it): read once at download, so
    that an audit parses only the records of the packages it pins, not the whole export."""
    from forkvet.audit.osv import parse_record
    from forkvet.audit.sources import MAX_RECORD_BYTES, MAX_RECORDS

    index: dict[str, list[str]] = {}
    records = 0
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return 0, {}
    with zf:
        members = [
            i
            for i in zf.infolist()
            if i.filename.endswith(".json") and i.file_size <= MAX_RECORD_BYTES
        ]
        for info in members[:MAX_RECORDS]:
            try:
                with zf.open(info) as fh:
                    adv = parse_record(json.loads(fh.read(MAX_RECORD_BYTES + 1)))
            except (ValueError, RecursionError, zipfile.BadZipFile, OSError):
                continue  # one broken record does not hide the others
            if adv is None:
                continue
            records += 1
            for name in sorted({a.package for a in adv.affected}):
                index.setdefault(name, []).append(info.filename)
    return records, index


class CachedDatabase:
    """The cached export, read through its package index: only the pinned packages' records
    are parsed (once each)."""

    def __init__(self, info: DbInfo, index: dict[str, list[str]]) -> None:
        self.description = info.describe()
        self._zip = zipfile.ZipFile(info.path)
        self._index = index
        self._lock = threading.Lock()
        self._parsed: dict[str, list[Advisory]] = {}

    def advisories(self, package: str, version: Version) -> list[Advisory]:
        from forkvet.audit.osv import parse_record
        from forkvet.audit.sources import MAX_RECORD_BYTES

        name = canonicalize_name(package)
        with self._lock:  # audit asks for packages side by side; one zip reader
            if name not in self._parsed:
                found = []
                for member in self._index.get(name, []):
                    try:
                        with self._zip.open(member) as fh:
                            adv = parse_record(json.loads(fh.read(MAX_RECORD_BYTES + 1)))
                    except (KeyError, ValueError, RecursionError, zipfile.BadZipFile):
                        continue
                    if adv is not None:
                        found.append(adv)
                self._parsed[name] = found
            return list(self._parsed[name])


def _download(url: str, out: BinaryIO) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            while chunk := resp.read(1 << 20):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise ForkvetError(
                        f"{url} is larger than {MAX_DOWNLOAD_BYTES >> 20} MiB: not an OSV export"
                    )
                digest.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        raise ForkvetError(
            f"the vulnerability database download failed: {url} answered {exc.code}"
        ) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ForkvetError(
            f"the vulnerability database could not be downloaded from {url} ({reason})"
        ) from exc
    return digest.hexdigest(), size


def cached(folder: Path | None = None) -> DbInfo | None:
    """The cached database, its checksum verified; None when there is none."""
    folder = folder or cache_dir()
    meta = folder / META_NAME
    if not meta.is_file():
        return None
    try:
        info = DbInfo(**json.loads(meta.read_text(encoding="utf-8")))
        datetime.fromisoformat(info.downloaded_at)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{meta}: unreadable; run forkvet audit --update-db") from exc
    db = folder / DB_NAME
    if not db.is_file() or db.is_symlink():
        return None
    digest = hashlib.sha256()
    with db.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != info.sha256:
        raise InputError(
            f"{db}: its sha256 does not match the one recorded at download (changed or "
            f"damaged); run forkvet audit --update-db"
        )
    info.path = str(db)
    return info


def open_cached(info: DbInfo, folder: Path | None = None) -> CachedDatabase | None:
    """The cached database through its index (checksum verified); None without an index
    (read the whole zip instead)."""
    path = (folder or cache_dir()) / INDEX_NAME
    if not info.index_sha256 or not path.is_file() or path.is_symlink():
        return None
    text = path.read_text(encoding="utf-8")
    if hashlib.sha256(text.encode()).hexdigest() != info.index_sha256:
        raise InputError(
            f"{path}: its sha256 does not match the one recorded at download (changed or "
            f"damaged); run forkvet audit --update-db"
        )
    return CachedDatabase(info, json.loads(text))
