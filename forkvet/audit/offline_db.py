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
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from forkvet.errors import ForkvetError, InputError

# OSV's public export of its database (a vulnerability database, not a package index);
# FORKVET_OSV_EXPORT_URL or --db-url point at a mirror of the same layout.
DEFAULT_EXPORT_URL = "https://osv-vulnerabilities.storage.googleapis.com"
EXPORT_PATH = "PyPI/all.zip"
DB_NAME = "osv-PyPI-all.zip"
META_NAME = "osv-PyPI-all.json"
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
    from forkvet.audit.sources import LocalDatabase

    url = export_url(base)
    folder = folder or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".zip", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest, size = _download(url, out)
        try:
            records = LocalDatabase(tmp).records
        except InputError as exc:  # not a zip, or no PyPI records in it
            raise ForkvetError(f"{url} is not an OSV export of PyPI advisories") from exc
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
    )
    meta_tmp = folder / (META_NAME + ".tmp")
    meta_tmp.write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    os.replace(meta_tmp, folder / META_NAME)
    return info


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
