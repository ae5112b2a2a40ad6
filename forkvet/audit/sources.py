"""Where advisories come from: an OSV-format export on disk (air-gapped runners, tests), or the
OSV service through pip-audit's client (online, the default)."""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from packaging.utils import canonicalize_name
from packaging.version import Version

from forkvet import fstree
from forkvet.audit.osv import Advisory, parse_record
from forkvet.errors import ForkvetError, InputError
from forkvet.extras import require

MAX_RECORD_BYTES = 4 * 1024 * 1024  # the largest real OSV records are a few hundred KiB
MAX_RECORDS = 500_000


class AdvisorySource(Protocol):
    description: str

    def advisories(self, package: str, version: Version) -> list[Advisory]:
        """Every advisory that names this package (matching is done by the caller)."""
        ...


class LocalDatabase:
    """A folder or a zip of OSV JSON files, as OSV publishes per ecosystem (`PyPI/all.zip`)."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise InputError(f"--vuln-db {path}: no such file or folder")
        self.path = path
        self.description = f"OSV export {path}"
        self._by_package: dict[str, list[Advisory]] = defaultdict(list)
        self.records = 0
        for raw in self._raw_records():
            try:
                data = json.loads(raw)
            except (ValueError, RecursionError):
                continue  # one broken record does not hide the others
            adv = parse_record(data)
            if adv is None:
                continue
            self.records += 1
            for name in {a.package for a in adv.affected}:
                self._by_package[name].append(adv)
        if self.records == 0:
            raise InputError(f"--vuln-db {path}: no OSV records for PyPI packages found there")

    def _raw_records(self) -> Iterator[bytes]:
        count = 0
        if self.path.is_dir():
            for root, _dirs, files in fstree.walk(self.path, followlinks=False):
                for name in sorted(files):
                    p = Path(root) / name
                    if not name.endswith(".json") or p.is_symlink():
                        continue
                    if p.stat().st_size <= MAX_RECORD_BYTES:
                        count += 1
                        if count > MAX_RECORDS:
                            return
                        yield p.read_bytes()
            return
        try:
            zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"--vuln-db {self.path}: not a folder or a zip of OSV JSON") from exc
        with zf:
            for info in zf.infolist():
                if not info.filename.endswith(".json") or info.file_size > MAX_RECORD_BYTES:
                    continue
                count += 1
                if count > MAX_RECORDS:
                    return
                with zf.open(info) as fh:
                    yield fh.read(MAX_RECORD_BYTES + 1)

    def advisories(self, package: str, version: Version) -> list[Advisory]:
        return list(self._by_package.get(canonicalize_name(package), []))


class OnlineOSV:
    """The OSV service, queried with pip-audit's client; each hit's full record is then read
    once (severity and ranges are not in pip-audit's result)."""

    def __init__(self, url: str | None = None, timeout: int = 15) -> None:
        service = require("pip_audit._service", "audit")
        OsvService = service.OsvService

        kwargs: dict[str, Any] = {"timeout": timeout}
        if url:
            kwargs["osv_url"] = url.rstrip("/") + "/v1/query"
        self._service = OsvService(**kwargs)
        self._vulns_url = self._service.osv_url.rsplit("/", 1)[0] + "/vulns/"
        self.description = "OSV (online)"
        self._records: dict[str, Advisory | None] = {}
        # The first failure to reach the service answers every later query at once: without
        # it, each of the pins (asked side by side) waited for its own DNS or connect timeout.
        self._unreachable: ForkvetError | None = None

    def advisories(self, package: str, version: Version) -> list[Advisory]:
        from pip_audit._service import ConnectionError as AuditConnectionError
        from pip_audit._service import ResolvedDependency, ServiceError

        if self._unreachable is not None:
            raise self._unreachable
        try:
            _, results = self._service.query(ResolvedDependency(package, version))
        except (ServiceError, AuditConnectionError, OSError) as exc:
            self._unreachable = ForkvetError(
                f"the vulnerability service could not be reached ({_short_reason(exc)}); use "
                f"--vuln-db PATH with an OSV export for offline runners"
            )
            raise self._unreachable from exc
        out = []
        for result in results:
            adv = self._record(result.id)
            if adv is None:
                continue
            out.append(adv)
            if adv.severity == "unknown":
                # pip-audit collapses aliases; PYSEC records carry no rating, their GHSA
                # twins do: read those too (merged again by the caller)
                for alias in [a for a in adv.aliases if a.startswith("GHSA-")][:3]:
                    twin = self._record(alias)
                    if twin is not None:
                        out.append(twin)
        return out

    def _record(self, vuln_id: str) -> Advisory | None:
        if vuln_id not in self._records:
            try:
                resp = self._service.session.get(
                    self._vulns_url + vuln_id, timeout=self._service.timeout
                )
                resp.raise_for_status()
                if len(resp.content) > MAX_RECORD_BYTES:
                    raise ValueError("record too large")
                self._records[vuln_id] = parse_record(resp.json())
            except Exception:  # a record we cannot read is skipped, the query hit is kept
                self._records[vuln_id] = None
        return self._records[vuln_id]


def _short_reason(exc: BaseException) -> str:
    """ "Connection refused", "timed out": not urllib3's 300-character retry chain."""
    text = str(exc)
    at = text.find("[Errno ")
    if at >= 0:
        after = text[text.find("]", at) + 1 :].strip()
        reason = after.split("'")[0].split('"')[0].split(")")[0].strip()
        if reason:
            return reason[:80]
    for words in ("timed out", "Name or service not known", "certificate verify failed"):
        if words in text:
            return words
    return type(exc).__name__
