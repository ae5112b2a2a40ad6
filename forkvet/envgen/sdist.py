"""The requirements of a source-only release, read statically — its code never runs.

Many small packages of 2015–2019 (gast 0.2.2, termcolor 1.1.0) published only source releases.
uv must build one to learn its requirements, and building runs its setup.py; with builds off it
refuses the release, and a whole TensorFlow 1.x stack fails to resolve. The requirements are
readable without running anything: the archive's PKG-INFO (`Requires-Dist`), its
`*.egg-info/requires.txt`, its setup.cfg or pyproject.toml, or its setup.py parsed as a syntax
tree (as `vet` reads a repository's). forkvet downloads the archive (bounded), reads those few
members in memory (regular files only, bounded; nothing is extracted, no link is followed) and
hands uv a metadata-only wheel of that release in a private find-links folder, so uv resolves
with wheels only, as before. Installing the pin later builds the real source release: that is
disclosed (`builds_from_source`), and happens where builds are allowed (the sandbox, or opt-in).
"""

from __future__ import annotations

import base64
import bz2
import email.parser
import hashlib
import io
import json
import lzma
import tarfile
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import cast

from packaging.requirements import InvalidRequirement
from packaging.specifiers import InvalidSpecifier
from packaging.version import InvalidVersion, Version

from forkvet import rx, safeparse
from forkvet.envgen import index, indexcache
from forkvet.envgen.index import IndexError_, IndexFile, project_files
from forkvet.envgen.metadata_fix import sanitize
from forkvet.envgen.wheeltags import installs_on
from forkvet.vet import containers
from forkvet.vet.metadata import parse_setup_cfg, parse_setup_py

MAX_ARCHIVE = 16 * 1024 * 1024  # old pure-Python sdists are KiBs; numpy's is 5 MiB
MAX_MEMBER = 1024 * 1024
MAX_MEMBERS = 5000
# A zip's central directory: 46 bytes and the name per entry, ~200 for MAX_MEMBERS real paths.
MAX_ZIP_DIRECTORY = 1024 * 1024
MAX_UNPACKED = 64 * 1024 * 1024  # what scanning an archive may decompress (or read, for zip)
# The text kept of one archive's wanted members: a real one's are KiBs; 62 top-level `.txt`
# files of 1 MiB each (a hostile release) were 62 MiB, times 16 archives read side by side.
MAX_KEPT = 2 * 1024 * 1024
# One read tarfile may ask of the decompressed stream: a header that declares more (a GNU
# long name of 4 GiB) would otherwise be read whole inside tarfile.next().
MAX_READ = 16 * 1024 * 1024
VERSIONS_PER_PACKAGE = 6
_SDIST = (".tar.gz", ".tgz", ".tar.bz2", ".zip")


@dataclass
class StaticMetadata:
    name: str
    version: str
    requires: list[str] = field(default_factory=list)
    requires_python: str | None = None
    source: str = ""  # which member the requirements came from

    def entry(self) -> dict[str, object]:
        """uv's `dependency-metadata` entry."""
        out: dict[str, object] = {
            "name": self.name,
            "version": self.version,
            "requires-dist": self.requires,
        }
        if self.requires_python:
            out["requires-python"] = self.requires_python
        return out


def _cutoff(as_of: date) -> datetime:
    return datetime(as_of.year, as_of.month, as_of.day, 23, 59, 59, tzinfo=UTC)


def source_only_versions(
    name: str,
    python: str,
    as_of: date,
    skip: set[str] | frozenset[str] = frozenset(),
    pinned: set[str] | frozenset[str] = frozenset(),
    limit: int = VERSIONS_PER_PACKAGE,
    wanted: list[str] | None = None,
    yanked: bool = False,
) -> list[tuple[str, IndexFile]]:
    """Releases up to the date with a source archive but no wheel for this Python, each with
    its archive: the pinned ones, then the newest final releases not in skip (read
    already) — those within a wanted specifier (what uv said a dependant asks for) first —
    at most limit of them. yanked: the yanked ones only (installable when pinned exactly)."""

    specs = []
    for text in wanted or []:
        try:
            specs.append(safeparse.specifiers(text))
        except InvalidSpecifier:
            continue
    cutoff = _cutoff(as_of)
    archives: dict[str, IndexFile] = {}
    wheels: set[str] = set()
    for f in project_files(name):
        if not f.version or (f.upload_time and f.upload_time > cutoff):
            continue
        if f.filename.endswith(".whl"):
            if installs_on(f.filename, python):
                wheels.add(f.version)
        elif (
            f.filename.endswith(_SDIST)
            and (f.yanked == yanked or f.version in pinned)
            and supports(f.requires_python, python)
        ):
            archives.setdefault(f.version, f)
    found = []
    for version, f in archives.items():
        if version in wheels or version in skip:
            continue
        try:
            parsed = safeparse.version(version)
        except InvalidVersion:
            continue
        if version in pinned or not parsed.is_prerelease:
            found.append((version not in pinned, parsed, version, f))
    first = [t for t in found if not t[0]]
    rest = sorted(
        (t for t in found if t[0]),
        key=lambda t: (any(s.contains(t[1]) for s in specs), t[1]),
        reverse=True,
    )
    asked = [t for t in rest if any(s.contains(t[1]) for s in specs)]
    if first or asked:
        # The release pinned or asked for is usually the one uv needs: read just those now
        # (an archive is a download: numpy's is 4 MiB), the newest others if uv asks again.
        return [(v, f) for _, _, v, f in (first + asked)[: len(first) + limit]]
    return [(v, f) for _, _, v, f in rest[: max(1, limit // 2)]]


def newest_needs_source(name: str, spec: str, python: str, as_of: date) -> bool:
    """Whether the newest release up to the date that spec allows (final, not yanked) has a
    source archive but no wheel for this Python: the release uv would stop on."""

    try:
        allowed = safeparse.specifiers(spec)
    except InvalidSpecifier:
        return False
    cutoff = _cutoff(as_of)
    kinds: dict[Version, set[str]] = {}
    for f in project_files(name):
        if not f.version or f.yanked or (f.upload_time and f.upload_time > cutoff):
            continue
        try:
            version = safeparse.version(f.version)
        except InvalidVersion:
            continue
        if not allowed.contains(version, prereleases=bool(spec.strip().startswith("=="))):
            continue
        if f.filename.endswith(".whl"):
            if installs_on(f.filename, python):
                kinds.setdefault(version, set()).add("wheel")
        elif f.filename.endswith(_SDIST) and supports(f.requires_python, python):
            kinds.setdefault(version, set()).add("sdist")
    if not kinds:
        return False
    return kinds[max(kinds)] == {"sdist"}


def source_pin(name: str, spec: str, python: str, as_of: date) -> str:
    """The newest release up to the date matching spec that only a source archive provides
    for this Python (chainer and Theano published nothing else), or ""."""

    try:
        allowed = safeparse.specifiers(spec)
    except InvalidSpecifier:
        return ""
    pinned = {m.group(1) for m in [rx.fullmatch(r"\s*===?\s*([\w.+!-]+)\s*", spec)] if m}
    for version, f in source_only_versions(name, python, as_of, pinned=pinned, limit=50):
        if not allowed.contains(version, prereleases=bool(pinned)):
            continue
        if f.requires_python:
            try:
                if not safeparse.specifiers(f.requires_python).contains(python + ".0"):
                    continue
            except InvalidSpecifier:
                pass
        return version
    return ""


def supports(requires_python: str | None, python: str) -> bool:
    """Whether a Requires-Python admits this Python (X.Y); unreadable ones do."""

    if not requires_python:
        return True
    try:
        return safeparse.specifiers(requires_python).contains(f"{python}.0")
    except InvalidSpecifier:
        return True


# The whole download, not each read: a host that sends a byte every few seconds would pass
# any per-read timeout (outside attack round 9).
DOWNLOAD_S = 60.0


def _download(url: str) -> bytes:
    req = index.request(url.split("#", 1)[0])
    deadline = time.monotonic() + DOWNLOAD_S
    try:
        with index.urlopen(req) as resp:
            size = resp.headers.get("Content-Length")
            if size and (not size.isdigit() or len(size) > 12 or int(size) > MAX_ARCHIVE):
                raise ValueError("archive too large")
            data = bytearray()
            while len(data) <= MAX_ARCHIVE:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not downloaded within {DOWNLOAD_S:g} s")
                chunk = resp.read1(64 * 1024)
                if not chunk:
                    break
                data += chunk
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise IndexError_(f"could not download {index.redact(url)}: {exc}") from exc
    if len(data) > MAX_ARCHIVE:
        raise ValueError("archive too large")
    return bytes(data)


def _wanted(path: str) -> bool:
    """PKG-INFO, setup.py/cfg, pyproject.toml and requirements files at the archive's top
    folder, and an egg-info's requires.txt one level below."""
    parts = path.split("/")
    if len(parts) == 2:
        return parts[1] in ("PKG-INFO", "setup.py", "setup.cfg", "pyproject.toml") or parts[
            1
        ].endswith(".txt")
    return len(parts) == 3 and parts[1].endswith(".egg-info") and parts[2] == "requires.txt"


class ArchiveTooLarge(ValueError):
    """The archive asks for more than forkvet reads: not read."""


class _Bounded(io.RawIOBase):
    """A decompressed stream that refuses to give more than MAX_UNPACKED bytes in all (plus
    room for headers), or more than MAX_READ in one read: tarfile then fails early."""

    def __init__(self, inner: io.BufferedIOBase | io.BytesIO) -> None:
        self._inner = inner
        self._read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > MAX_READ:
            raise ArchiveTooLarge("a read over forkvet's limit")
        try:
            data = self._inner.read(size)
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            raise tarfile.ReadError(f"archive not readable: {exc}") from exc
        self._read += len(data)
        if self._read > MAX_UNPACKED + MAX_READ:
            raise ArchiveTooLarge("over forkvet's limit unpacked")
        return data


def _decompressed(data: bytes) -> io.BufferedIOBase | io.BytesIO:
    raw = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        # not gzip.GzipFile: it reads a header's name a byte at a time (round 16a)
        return cast(io.BytesIO, containers.GzipMembers(raw.read, lambda: None))
    if data[:3] == b"BZh":
        return bz2.BZ2File(raw)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.LZMAFile(raw)
    return raw


def members(data: bytes, filename: str) -> dict[str, str]:
    """The wanted members of an archive as text, keyed by their path below the top folder
    (`PKG-INFO`, `x.egg-info/requires.txt`); only regular files, each bounded, and at most
    MAX_UNPACKED bytes read in all (ArchiveTooLarge where tarfile would read more)."""
    if filename.endswith(".zip"):
        return _zip_members(data)
    try:
        return _tar_members(data)
    except containers.ContainerBound as exc:  # a pax header tarfile's regexes would choke on
        raise ArchiveTooLarge(str(exc)) from None


def _tar_members(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    unpacked = 0
    # A stream ("r|"): tarfile only reads forward, every byte through the bounded reader.
    bounded = _Bounded(_decompressed(data))
    with tarfile.open(fileobj=bounded, mode="r|", tarinfo=containers.CheckedTarInfo) as tf:
        for _ in range(MAX_MEMBERS):
            member = tf.next()
            if member is None:
                break
            unpacked += member.size
            if unpacked > MAX_UNPACKED:
                break
            # Regular files only: a link's target is never read.
            if not member.isreg() or not _wanted(member.name) or member.size > MAX_MEMBER:
                continue
            handle = tf.extractfile(member)
            if handle is not None:
                text = handle.read(MAX_MEMBER).decode("utf-8", "replace")
                if not _keep(out, member.name.split("/", 1)[1], text):
                    break
    return out


def _keep(out: dict[str, str], path: str, text: str) -> bool:
    """Keep one member's text unless the archive's kept text would pass MAX_KEPT (False:
    stop reading members)."""
    if sum(len(t) for t in out.values()) + len(text) > MAX_KEPT:
        return False
    out[path] = text
    return True


def _zip_directory_bounded(raw: io.BytesIO) -> None:
    """Refuse a zip whose end record announces more than MAX_MEMBERS entries or a central
    directory over MAX_ZIP_DIRECTORY bytes: ZipFile() builds every entry's ZipInfo (~500
    bytes) before a single member is read (190,000 empty members: 100 MB per archive), and
    it reads entries until the stated directory size, whatever count the record gives."""
    endrec = getattr(zipfile, "_EndRecData")(raw)  # noqa: B009 (the record ZipFile() uses)
    if not endrec:
        raise zipfile.BadZipFile("no end of central directory record")
    entries, size = int(endrec[4]), int(endrec[5])  # _ECD_ENTRIES_TOTAL, _ECD_SIZE
    if entries > MAX_MEMBERS or size > MAX_ZIP_DIRECTORY:
        raise ArchiveTooLarge(f"a zip of {entries:,} entries ({size:,} bytes of directory)")
    problem = containers.zip_directory_problem(raw)  # extra fields zipfile is quadratic on
    if problem is not None:
        raise ArchiveTooLarge(problem)


def _zip_members(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    unpacked = 0
    raw = io.BytesIO(data)
    _zip_directory_bounded(raw)
    with zipfile.ZipFile(raw) as zf:
        for entry in zf.infolist()[:MAX_MEMBERS]:
            if entry.is_dir() or not _wanted(entry.filename) or entry.file_size > MAX_MEMBER:
                continue
            # zipfile stops at the declared size, so declared sizes bound what is read.
            unpacked += entry.file_size
            if unpacked > MAX_UNPACKED:
                break
            text = zf.read(entry).decode("utf-8", "replace")
            if not _keep(out, entry.filename.split("/", 1)[1], text):
                break
    return out


def egg_requires(text: str) -> list[str]:
    """setuptools' requires.txt: plain lines, then `[extra]`, `[:marker]` or `[extra:marker]`
    sections; the plain lines and marker-only sections are what installing needs."""
    out: list[str] = []
    marker: str | None = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            extra, _, cond = section.partition(":")
            marker = None if extra else cond.strip()
            continue
        if marker is None:
            continue  # an extra: optional
        out.append(f"{line}; {marker}" if marker else line)
    return out


def _requirements_lines(text: str) -> list[str]:
    return [
        ln.split("#", 1)[0].strip()
        for ln in text.splitlines()
        if ln.split("#", 1)[0].strip() and not ln.strip().startswith("-")
    ]


def read_static(name: str, version: str, files: dict[str, str]) -> StaticMetadata:
    meta = StaticMetadata(name, version)
    info = email.parser.Parser().parsestr(files.get("PKG-INFO", ""))
    meta.requires_python = info.get("Requires-Python") or None
    found: list[tuple[str, list[str]]] = [("PKG-INFO", list(info.get_all("Requires-Dist") or []))]
    found += [(p, egg_requires(t)) for p, t in sorted(files.items()) if p.endswith("requires.txt")]
    if "setup.cfg" in files:
        cfg = parse_setup_cfg("setup.cfg", files["setup.cfg"])
        if cfg:
            found.append(("setup.cfg", cfg.requires))
            meta.requires_python = meta.requires_python or cfg.python_requires
    if "pyproject.toml" in files:
        try:
            project = safeparse.toml_loads(files["pyproject.toml"]).get("project")
        except (tomllib.TOMLDecodeError, ValueError):
            project = None
        if isinstance(project, dict) and isinstance(project.get("dependencies"), list):
            found.append(("pyproject.toml", [str(d) for d in project["dependencies"]]))
    if "setup.py" in files:
        setup = parse_setup_py("setup.py", files["setup.py"])
        if setup:
            reqs = list(setup.requires)
            for path in setup.requirement_files:
                reqs += _requirements_lines(files.get(path.removeprefix("./"), ""))
            found.append(("setup.py", reqs))
            meta.requires_python = meta.requires_python or setup.python_requires
    source, reqs = next(((s, r) for s, r in found if r), ("PKG-INFO", []))
    meta.source = source
    meta.requires = [r for r in (sanitize(x) for x in reqs) if r and _named(r)]
    if meta.requires_python and not _specifier(meta.requires_python):
        meta.requires_python = None  # unreadable (>=3.999...): uv would reject the release
    return meta


def _specifier(text: str) -> bool:
    try:
        safeparse.specifiers(text)
    except InvalidSpecifier:
        return False
    return True


def _named(text: str) -> bool:
    try:
        return not safeparse.requirement(text).url
    except InvalidRequirement:
        return False


@lru_cache(maxsize=256)
def static_metadata(name: str, version: str, file: IndexFile) -> StaticMetadata | None:
    """The requirements of this source release, or None when its archive cannot be read
    (remembered: each Python tried reads the same archives)."""
    try:
        files = _members_of(file)
    except (ValueError, OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, IndexError_):
        return None
    return read_static(name, version, files)


def _members_of(file: IndexFile) -> dict[str, str]:
    """The wanted members of a source release. Kept on disk (indexcache) under the archive's
    URL, its sha256 on the index — checked against the download — and this module's own code
    (another forkvet may read other members), so an archive is downloaded once."""
    url = file.url.split("#", 1)[0]
    key = f"{url}\n{file.sha256}\n{_reader()}" if file.sha256 else ""
    kept = _kept_members(indexcache.get("metadata", key)) if key else None
    if kept is not None:
        return kept
    data = _download(file.url)
    # Checked before anything is parsed: an archive other than the one the page names is
    # not read at all (a mirror's or a hostile index's swap), nor kept.
    if file.sha256 and hashlib.sha256(data).hexdigest() != file.sha256:
        raise IndexError_(f"{url}: the archive's sha256 is not the one the index gives")
    found = members(data, file.filename)
    if key:
        indexcache.put("metadata", key, json.dumps(found, ensure_ascii=False).encode())
    return found


def _kept_members(raw: bytes | None) -> dict[str, str] | None:
    try:
        value = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return value
    return None


@lru_cache(maxsize=1)
def _reader() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def metadata_wheel(folder: Path, meta: StaticMetadata) -> Path:
    """A wheel that holds only this release's metadata: uv reads it to resolve, and never
    installs it (requirements.txt names the release; installing builds the real one)."""
    stem = f"{rx.sub(r'[-_.]+', '_', meta.name)}-{meta.version}"
    distinfo = f"{stem}.dist-info"
    lines = ["Metadata-Version: 2.1", f"Name: {meta.name}", f"Version: {meta.version}"]
    if meta.requires_python:
        lines.append(f"Requires-Python: {meta.requires_python}")
    lines += [f"Requires-Dist: {r}" for r in meta.requires]
    files = {
        f"{distinfo}/METADATA": "\n".join(lines) + "\n",
        f"{distinfo}/WHEEL": "Wheel-Version: 1.0\nGenerator: forkvet\nRoot-Is-Purelib: true\n"
        "Tag: py2-none-any\nTag: py3-none-any\n",
    }
    record = []
    for member, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{member},sha256={digest.decode()},{len(text.encode())}")
    files[f"{distinfo}/RECORD"] = "\n".join([*record, f"{distinfo}/RECORD,,"]) + "\n"
    path = folder / f"{stem}-py2.py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path
