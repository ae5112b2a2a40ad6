"""A real package index for the tests: small real wheels built here, served on 127.0.0.1
through the simple API as PEP 691 JSON (with PEP 700 upload times and PEP 658 core metadata)
and as HTML, so real uv and pip resolve and install from it."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import tarfile
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Dist:
    name: str
    version: str
    uploaded: str  # ISO date-time
    requires: list[str] = field(default_factory=list)
    requires_python: str | None = None
    tag: str = "py3-none-any"
    license: str | None = None  # License-Expression
    modules: list[str] = field(default_factory=list)  # top-level modules it provides
    code: str = ""  # body of the first module's __init__.py
    # A source release instead of a wheel: building it runs build_code (an in-tree PEP 517
    # backend that needs nothing from the index), then yields a wheel.
    sdist: bool = False
    build_code: str = ""
    # Members of the source release written instead of the generated PKG-INFO (old
    # releases: PKG-INFO without Requires-Dist, an egg-info/requires.txt, a setup.py), and
    # symbolic links (member -> target) it also holds.
    sdist_files: dict[str, str] = field(default_factory=dict)
    sdist_links: dict[str, str] = field(default_factory=dict)
    yanked: bool = False  # PEP 592: installs only when pinned exactly

    @property
    def filename(self) -> str:
        if self.sdist:
            return f"{re.sub(r'[-.]', '_', self.name)}-{self.version}.tar.gz"
        return f"{re.sub(r'[-.]', '_', self.name)}-{self.version}-{self.tag}.whl"

    def metadata(self) -> str:
        lines = ["Metadata-Version: 2.1", f"Name: {self.name}", f"Version: {self.version}"]
        if self.requires_python:
            lines.append(f"Requires-Python: {self.requires_python}")
        if self.license:
            lines.append(f"License-Expression: {self.license}")
        lines += [f"Requires-Dist: {r}" for r in self.requires]
        return "\n".join(lines) + "\n"

    def wheel(self) -> bytes:
        if self.sdist:
            return self.source_release()
        distinfo = f"{re.sub(r'[-.]', '_', self.name)}-{self.version}.dist-info"
        files = {
            f"{m}/__init__.py": f"__version__ = {self.version!r}\n"
            for m in (self.modules or [re.sub(r"[-.]", "_", self.name)])
        }
        first = next(iter(files))
        files[first] = self.code + files[first]
        files[f"{distinfo}/METADATA"] = self.metadata()
        files[f"{distinfo}/WHEEL"] = (
            f"Wheel-Version: 1.0\nGenerator: forkvet-tests\n"
            f"Root-Is-Purelib: true\nTag: {self.tag}\n"
        )
        record = []
        for path, text in files.items():
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
            record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
        record.append(f"{distinfo}/RECORD,,")
        files[f"{distinfo}/RECORD"] = "\n".join(record) + "\n"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for path, text in files.items():
                zf.writestr(path, text)
        return buf.getvalue()

    def source_release(self) -> bytes:
        base = f"{re.sub(r'[-.]', '_', self.name)}-{self.version}"
        module = re.sub(r"[-.]", "_", self.name)
        backend = (
            "import os, zipfile\n"
            + self.build_code
            + "\nMETA = "
            + repr(self.metadata())
            + "\nDI = "
            + repr(f"{module}-{self.version}.dist-info")
            + "\ndef get_requires_for_build_wheel(config_settings=None):\n    return []\n"
            "def prepare_metadata_for_build_wheel(d, config_settings=None):\n"
            "    os.makedirs(os.path.join(d, DI))\n"
            "    open(os.path.join(d, DI, 'METADATA'), 'w').write(META)\n"
            "    return DI\n"
            "def build_wheel(d, config_settings=None, metadata_directory=None):\n"
            f"    name = {module + '-' + self.version + '-py3-none-any.whl'!r}\n"
            "    with zipfile.ZipFile(os.path.join(d, name), 'w') as z:\n"
            f"        z.writestr({module + '/__init__.py'!r}, '')\n"
            "        z.writestr(DI + '/METADATA', META)\n"
            "        z.writestr(DI + '/WHEEL', 'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\n"
            "Tag: py3-none-any\\n')\n"
            "        z.writestr(DI + '/RECORD', '')\n"
            "    return name\n"
        )
        files = {
            "PKG-INFO": self.metadata(),
            **self.sdist_files,
            "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
            'backend-path = ["."]\n',
            "backend.py": backend,
        }
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tf:
            for path, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(f"{base}/{path}")
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            for path, target in self.sdist_links.items():
                info = tarfile.TarInfo(f"{base}/{path}")
                info.type = tarfile.SYMTYPE
                info.linkname = target
                tf.addfile(info)
        return buf.getvalue()


class PackageIndex:
    """Start with `with PackageIndex(dists) as index:`; index.url is the simple API root."""

    def __init__(self, dists: list[Dist]) -> None:
        self.dists = dists
        self.wheels = {d.filename: d.wheel() for d in dists}
        self.requests: list[str] = []
        # (User-Agent, path) of each request: which client (uv or forkvet) asked for what.
        self.agents: list[tuple[str, str]] = []
        index = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                index.requests.append(self.path)
                index.agents.append((self.headers.get("User-Agent", ""), self.path))
                path = self.path.split("?", 1)[0]
                if path.startswith("/files/"):
                    name = path[len("/files/") :]
                    meta = name.endswith(".metadata")
                    whl = name[: -len(".metadata")] if meta else name
                    dist = next((d for d in index.dists if d.filename == whl), None)
                    if dist is None:
                        self.send_error(404)
                        return
                    if meta and dist.sdist:
                        self.send_error(404)
                        return
                    body = dist.metadata().encode() if meta else index.wheels[whl]
                    self._send(body, "application/octet-stream")
                    return
                m = re.fullmatch(r"/simple/([^/]+)/?", path)
                if not m:
                    self.send_error(404)
                    return
                project = _norm(m.group(1))
                dists = [d for d in index.dists if _norm(d.name) == project]
                if not dists:
                    self.send_error(404)
                    return
                if "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", ""):
                    files = []
                    for d in dists:
                        whl = index.wheels[d.filename]
                        files.append(
                            {
                                "filename": d.filename,
                                "url": f"/files/{d.filename}",
                                "hashes": {"sha256": hashlib.sha256(whl).hexdigest()},
                                "requires-python": d.requires_python,
                                "upload-time": d.uploaded,
                                "yanked": d.yanked,
                                "core-metadata": False
                                if d.sdist
                                else {"sha256": hashlib.sha256(d.metadata().encode()).hexdigest()},
                            }
                        )
                    body = json.dumps(
                        {
                            "meta": {"api-version": "1.1"},
                            "name": project,
                            "versions": sorted({d.version for d in dists}),
                            "files": files,
                        }
                    ).encode()
                    self._send(body, "application/vnd.pypi.simple.v1+json")
                    return
                links = "".join(
                    f'<a href="/files/{d.filename}#sha256='
                    f'{hashlib.sha256(index.wheels[d.filename]).hexdigest()}"'
                    + (
                        f' data-requires-python="{html.escape(d.requires_python)}"'
                        if d.requires_python
                        else ""
                    )
                    + (' data-yanked=""' if d.yanked else "")
                    + f">{d.filename}</a>\n"
                    for d in dists
                )
                self._send(f"<html><body>{links}</body></html>".encode(), "text/html")

            def _send(self, body: bytes, ctype: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PackageIndex:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_dists(folder: Path, dists: list[Dist]) -> None:
    for d in dists:
        (folder / d.filename).write_bytes(d.wheel())
