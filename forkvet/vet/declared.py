"""Dependencies the authors declared: requirements files, setup metadata, pyproject, conda
environment files, Pipfile, and `pip install` / `conda install` lines in the README and
notebooks. All read statically."""

from __future__ import annotations

import codecs
import posixpath
import shlex
import time
import tomllib
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from itertools import islice

import yaml
from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement

from forkvet import limits, rx, safeparse, safeyaml
from forkvet.escape import terminal
from forkvet.vet import pipargs
from forkvet.vet.context import Context
from forkvet.vet.importmap import known_distributions, normalize
from forkvet.vet.metadata import PackageMeta, link_names, poetry_marker
from forkvet.vet.textnorm import line_of

_REQ_FILE = rx.compile(r"^(?:.*[-_])?requirements?(?:[-_.][\w.-]*)?\.(?:txt|in|pip)$", rx.I)
_ENV_FILE = rx.compile(r"^(?:[\w.-]*[-_])?env(?:ironment)?(?:[-_.][\w.-]*)?\.ya?ml$", rx.I)
_LOOSE = rx.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_DEV_HINT = rx.compile(r"dev|test|lint|doc|ci\b", rx.I)
CONDA_TO_PYPI = {
    "pytorch": "torch",
    "py-opencv": "opencv-python",
    "opencv": "opencv-python",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "tensorflow-gpu": "tensorflow-gpu",
    "pyyaml": "pyyaml",
    "scikit-learn": "scikit-learn",
    "py-xgboost": "xgboost",
    "pillow": "pillow",
    "faiss-gpu": "faiss-gpu",
    "faiss-cpu": "faiss-cpu",
    "pytables": "tables",
    # conda names of PyPI projects that PyPI knows under another name
    "matplotlib-base": "matplotlib",
    "pyqt": "pyqt5",
    "pytorch-scatter": "torch-scatter",
    "pytorch-sparse": "torch-sparse",
    "pytorch-cluster": "torch-cluster",
    "pyg": "torch-geometric",
    "python-lmdb": "lmdb",
    "pysoundfile": "soundfile",
    "msgpack-python": "msgpack",
    "ruamel_yaml": "ruamel.yaml",
    "pytorch-lightning": "pytorch-lightning",
    "tensorboardx": "tensorboardx",
}
CONDA_ONLY = frozenset(
    {
        "python",
        "cudatoolkit",
        "cudnn",
        "nccl",
        "pip",
        "mkl",
        "mkl-service",
        "blas",
        "libgcc",
        "libstdcxx-ng",
        "ca-certificates",
        "openssl",
        "cuda-toolkit",
        "pytorch-cuda",
        "cpuonly",
        "magma-cuda",
        "ninja",
        "intel-openmp",
        "_libgcc_mutex",
        "ld_impl_linux-64",
        "libffi",
        "ncurses",
        "readline",
        "sqlite",
        "tk",
        "xz",
        "zlib",
        "setuptools",
        "wheel",
        "certifi",
        "libgfortran",
        "libopenblas",
        "cudatoolkit-dev",
    }
)


@dataclass
class Declared:
    name: str  # normalised distribution name
    spec: str  # specifier as written ("" when unpinned), or a URL
    path: str
    line: int
    dev: bool = False
    raw: str = ""
    extra: str = ""  # the optional extra (extras_require key) it is declared under, if any
    # Where the authors install it from when that is not the package index ("a local path
    # libs/x", "the index 'corp'"): never resolved on the user's index under this name.
    source: str = ""
    # source is another index or a file on disk (not a URL or git): a public project
    # forkvet's import table knows keeps its name there, any other is dropped
    other_index: bool = False
    conda: bool = False  # a conda package that is no PyPI project forkvet knows (ffmpeg)
    # Its environment marker as packaging writes it (`python_version < "3"`), "" for none:
    # env leaves out what the marker excludes for the environment's Python and platform.
    marker: str = ""


@dataclass
class DeclaredSet:
    items: list[Declared] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    python: list[tuple[str, str]] = field(default_factory=list)  # (spec, where)
    notes: list[str] = field(default_factory=list)
    # Requirement files already read: each is read once (`-r` loops and fan-outs of 5,000
    # includes of itself were 5,000 ** 3 reads).
    read: set[str] = field(default_factory=set, repr=False)
    # Names only a constraints file (`-c constraints.txt`) gives: pip never installs them
    # for that; they only bound the version of a name something else requires.
    constraints: list[Declared] = field(default_factory=list)
    # Files named by `-r`/metadata (installed from) and by `-c` (constraints only).
    named_r: set[str] = field(default_factory=set, repr=False)
    named_c: set[str] = field(default_factory=set, repr=False)


def parse_requirement(text: str) -> tuple[str, str] | None:
    """(normalised name, specifier) of one requirement, tolerating old and sloppy syntax."""
    text = text.strip().strip("'\"")
    if len(text) > limits.MAX_LINE:  # no real requirement is 4 KB long; parsing 2 MB took s
        return None
    if local_install(text) is not None:
        return None
    if text.startswith(("-e ", "--editable ")):
        text = text.split(None, 1)[1].strip()
    if not text or text.startswith(("-", "#")):
        return None
    if "://" in text or text.startswith("git+"):
        named = _named_url(text)
        if named:
            return named
        if "egg=" in text:  # `#egg=corp-pydl-1.0` is corp-pydl, as setuptools reads it
            egg = link_names(text)
            if egg:
                return normalize(egg[0]), text
        m = rx.search(r"/([\w.-]+?)(?:\.git)?(?:@[\w./-]+)?/?$", text.split("#")[0])
        # an archive's file name gives the project (`…/y-1.0.tar.gz` is y, not y-1-0-tar-gz)
        return (normalize(local_install(m.group(1)) or m.group(1)), text) if m else None
    text = text.split(" #")[0].split(";")[0].strip()
    try:
        req = safeparse.requirement(text)
        return normalize(req.name), str(req.specifier)
    except InvalidRequirement:
        m = _LOOSE.match(text)
        if not m:
            return None
        spec = m.group(3).strip()
        if rx.fullmatch(r"\d[\w.*+]*", spec):
            spec = f"=={spec}"
        return normalize(m.group(1)), spec.replace(" ", "")


# What pip installs from disk rather than from an index: a folder, a wheel, a source archive.
# pip's ARCHIVE_EXTENSIONS (pip/_internal/utils/filetypes.py), every one of them.
_ARCHIVE = (
    ".whl",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
    ".tar",
    ".zip",
)


def marker_of(text: str) -> str:
    """The environment marker of one requirement (`x; sys_platform == "win32"`) as packaging
    writes it, or "" (none, or one packaging cannot read: such a line fails in pip too)."""
    text = text.strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":  # a quoted shell word
        text = text[1:-1]
    text = text.split(" #")[0]
    if ";" not in text or len(text) > limits.MAX_LINE:
        return ""
    try:  # the whole requirement first: a URL may hold a `;` of its own
        req = safeparse.requirement(text)
        return str(req.marker) if req.marker else ""
    except InvalidRequirement:
        pass
    try:  # an old or sloppy requirement packaging refuses, with a marker it reads
        return str(safeparse.marker(text.split(";", 1)[1]))
    except InvalidMarker:
        return ""


def local_install(text: str) -> str | None:
    """The distribution name a requirement line that installs from disk would give (`mylib/`,
    `./libs/x`, `wheels/x-1.0-py3-none-any.whl`, `x-1.0.tar.gz`, `x.zip` → x), "" for the
    repository itself (`.`, `.[dev]`); None if the line is no path (a name, a URL, `x @ url`).
    pip reads these from disk: the name is never one to look up on an index."""
    text = text.strip().strip("'\"")
    editable = text.startswith(("-e ", "--editable "))  # pip edits only folders and VCS URLs
    if editable:
        text = text.split(None, 1)[1].strip()
    text = text.split(" #")[0].split(";")[0].strip()
    if not text or "://" in text or text.startswith("git+") or "@" in text:
        return None
    lower = text.lower()
    is_path = (
        editable
        or text.startswith((".", "/", "~"))
        or "/" in text
        or "\\" in text
        or lower.endswith(_ARCHIVE)
    )
    if not is_path:
        return None
    last = rx.split(r"[/\\]", text.rstrip("/\\"))[-1]
    last = rx.sub(r"\[[^\]]*\]$", "", last)  # `./pkg[extra]`
    for suffix in _ARCHIVE:
        if last.lower().endswith(suffix):
            # a wheel's or source archive's file name: name-version[-tags]
            last = last[: -len(suffix)]
            version = rx.search(r"-\d", last)
            last = last[: version.start()] if version else last
            break
    return normalize(last) if rx.fullmatch(r"[A-Za-z0-9][\w.-]*", last) else ""


def _named_url(text: str) -> tuple[str, str] | None:
    """(name, URL) of a PEP 508 `name @ URL` requirement: the name is the one written, never
    a guess from the URL's last part (`y.whl`)."""
    try:
        req = safeparse.requirement(text.split(" #")[0].split(";")[0].strip())
    except InvalidRequirement:
        return None
    return (normalize(req.name), req.url) if req.url else None


# Declared requirements read in one run: real projects declare tens; a README of
# "pip install a a a ..." declaring 100,000 made every later check quadratic.
MAX_DECLARED = 2000


def _full(out: DeclaredSet, path: str) -> bool:
    if len(out.items) < MAX_DECLARED:
        return False
    note = f"{path}: over {MAX_DECLARED} declared requirements in all; the rest were not read"
    if note not in out.notes:
        out.notes.append(note)
    return True


def in_tree(beside: str, rel: str) -> str | None:
    """The snapshot path of `rel` named by the file `beside`, or None when it leaves the tree
    (an absolute path, `..` above the root)."""
    if not rel or rel.startswith(("/", "\\")) or "\x00" in rel:
        return None
    base = beside.rsplit("/", 1)[0] if "/" in beside else ""
    path = posixpath.normpath(posixpath.join(base, rel))
    return None if path == ".." or path.startswith("../") or path == "." else path


_COMMENT = rx.compile(r"(?:^|\s+)#.*$")


def joined_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) of a requirements file with a line ending in `\\` joined to
    the next, as pip joins them before parsing (`./my\\` + `lib` is the path `./mylib`)."""
    out: list[tuple[int, str]] = []
    parts: list[str] = []
    first = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.endswith("\\") and not _COMMENT.search(line):
            first = first if parts else lineno
            parts.append(line.strip("\\"))
            continue
        if _COMMENT.search(line):
            line = " " + line  # pip's way to keep a comment a comment once joined
        if parts:
            out.append((first, "".join(parts) + line))
            parts = []
        else:
            out.append((lineno, line))
    if parts:
        out.append((first, "".join(parts)))
    return out


def _requirements_file(
    ctx: Context, path: str, out: DeclaredSet, depth: int = 0, extra: str = ""
) -> list[str]:
    """Read one requirements file (and those it includes); returns the options in them that
    point pip at another index or a folder. pip applies such an option to the whole
    install, so every package of the file is then marked as from elsewhere."""
    if path in out.read or depth > 3:
        return []
    out.read.add(path)
    text = pip_text(ctx, path)
    if text is None:
        return []
    if path not in out.files:
        out.files.append(path)
    start = len(out.items)
    sources = _requirement_lines(ctx, path, text, out, depth, extra)
    mark_elsewhere(out.items[start:], sources)
    return sources


_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_PIP_CODING = rx.compile(rb"coding[:=]\s*([-\w.]+)")


def pip_text(ctx: Context, path: str) -> str | None:
    """A requirements file decoded as pip decodes it (pip's auto_decode): by a byte-order mark,
    else by a `# coding: X` comment in its first two lines, else as text. A file that says
    `# coding: utf-7` hides lines from any UTF-8 reader that pip reads (outside attack, round
    14a). None when the file is not text, or pip could not decode it either."""
    try:
        raw = ctx.snap.read_bytes(path, ctx.snap.max_text_bytes + 1)
    except OSError:
        return None
    if len(raw) > ctx.snap.max_text_bytes:
        return None
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            return _decoded(raw[len(bom) :], codec)
    for line in raw.split(b"\n", 2)[:2]:
        found = _PIP_CODING.search(line) if line[:1] == b"#" else None
        if found:
            return _decoded(raw, found.group(1).decode("ascii"))
    return ctx.snap.read_text(path)


def _decoded(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except (LookupError, UnicodeDecodeError, ValueError):
        return None  # pip fails on it too


def mark_elsewhere(items: list[Declared], sources: list[str]) -> None:
    """Mark packages as installed from the other index or folder `sources` name."""
    if not sources:
        return
    said = "; ".join(terminal(s[:200]) for s in sources[:3])
    for item in items:
        # a git or URL requirement names where it comes from already; an index changes nothing
        if not item.source and "://" not in item.spec:
            item.source = f"another index or folder ({said})"
            item.other_index = True


def index_options(line: str) -> list[str]:
    """The options of a requirements file's option line that point pip at another index or a
    folder (`--index-url URL`, `-f ./wheels`, `--no-index`)."""
    if not line.startswith("-"):
        return []
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = line.split()
    return _sources(pipargs.parse(words))


def _sources(parsed: pipargs.PipLine) -> list[str]:
    """The sources of a requirements file's option line; an option forkvet does not know may
    be an index option (pip and uv apply those to the whole file): said as one."""
    unknown = parsed.unknown
    said = f"an option forkvet does not know: {terminal(unknown[:80])}" if unknown else ""
    return parsed.sources + ([said] if said else [])


_PER_REQUIREMENT = rx.compile(r"\s--(?:hash|config-settings|global-option|install-option)\b")


def _requirement_lines(
    ctx: Context, path: str, text: str, out: DeclaredSet, depth: int, extra: str
) -> list[str]:
    sources: list[str] = []
    dev = bool(_DEV_HINT.search(path.rsplit("/", 1)[-1]))
    for lineno, raw in joined_lines(text):
        if _full(out, path):
            return sources
        # pip's per-requirement options (`x==1.0 --hash=sha256:…`) are no part of it
        line = _PER_REQUIREMENT.split(raw.split(" #")[0], maxsplit=1)[0].strip()
        if line.startswith("-") and not line.startswith(("-e", "--editable")):
            # an option line (`-f ./wheels`, `-r more.txt`, `-c pins.txt`): its argument is
            # no package or path
            sources += _option_line(ctx, path, line, out, depth, extra)
            continue
        sources += index_options(line)
        if line.startswith("-e ") and "egg=" in line:
            line = line[3:]
        if _from_disk(line, path, lineno, out):
            continue
        parsed = parse_requirement(line)
        if parsed:
            out.items.append(
                Declared(
                    parsed[0],
                    parsed[1],
                    path,
                    lineno,
                    dev,
                    raw.strip(),
                    extra=extra,
                    marker=marker_of(line),
                )
            )
    return sources


def _option_line(
    ctx: Context, path: str, line: str, out: DeclaredSet, depth: int, extra: str
) -> list[str]:
    """Follow the files an option line includes, as pip reads them: `-r` files are installed
    from, `-c` files only constrain (their names are sorted out once all files are read)."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = line.split()
    parsed = pipargs.parse(words)
    sources = _sources(parsed)
    for include, named in [(f, out.named_r) for f in parsed.requirements[:8]] + [
        (f, out.named_c) for f in parsed.constraints[:8]
    ]:
        target = in_tree(path, include.strip())
        if target and ctx.snap.get(target):
            named.add(target)
            sources += _requirements_file(ctx, target, out, depth + 1, extra)
    return sources


def split_constraints(out: DeclaredSet) -> None:
    """Move what only constraints files declare (named by `-c`, or called so:
    `requirements-constraints.txt`) out of the requirements (pip installs a name of a `-c`
    file only when something else requires it); a file also named by `-r` or by the package
    metadata stays a requirements file."""
    only = out.named_c - out.named_r
    if not only:
        return
    out.constraints += [d for d in out.items if d.path in only]
    out.items = [d for d in out.items if d.path not in only]
    out.files = [f for f in out.files if f not in only]


def _from_disk(line: str, path: str, lineno: int, out: DeclaredSet) -> bool:
    """A line that installs from disk (a folder, wheel or archive in the tree): declared as
    installed from there, so that env drops and names it and never looks its name up."""
    name = local_install(line)
    if name is None:
        return False
    if name:  # "" is the repository itself (`.`, `-e .[dev]`)
        out.items.append(
            Declared(
                name,
                "",
                path,
                lineno,
                raw=line,
                source=f"a local path or file ({terminal(line[:200])})",
                # a local build of a public project forkvet knows (wheels/torch-…whl) stays
                # that project, like one from another index; any other name is dropped
                other_index=True,
            )
        )
    return True


class _LineFinder:
    """Line numbers of the entries of a YAML file, found in one forward pass: entries come in
    the order they are written, so each is searched from where the previous one was found,
    within a window (a search of every line for every entry was quadratic: 33 s for 2 MB)."""

    WINDOW = 64 * 1024

    def __init__(self, text: str) -> None:
        self.text = text
        # From the dependencies key on (`name: numpy-env` is not where numpy is declared).
        start = rx.search(r"^dependencies\s*:", text, rx.M)
        self.cursor = start.start() if start else 0
        self.line = text.count("\n", 0, self.cursor) + 1

    def __call__(self, needle: str) -> int:
        if not needle:
            return 0
        pos = self.text.find(needle, self.cursor, self.cursor + self.WINDOW)
        if pos < 0:  # written differently (quoted, escaped): no line rather than a guess
            return 0
        self.line += self.text.count("\n", self.cursor, pos)
        end = self.text.find("\n", pos)
        end = len(self.text) if end < 0 else end
        self.cursor = end
        return self.line


def _conda_env(ctx: Context, path: str, out: DeclaredSet) -> None:
    text = ctx.snap.read_text(path)
    if not text:
        return
    try:
        data = safeyaml.load(text)
    except safeyaml.YamlLimitError as exc:
        out.notes.append(f"{path}: YAML over forkvet's limits ({exc}), skipped")
        return
    except yaml.YAMLError:
        out.notes.append(f"{path}: not valid YAML, skipped")
        return
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        return
    out.files.append(path)
    line_of = _LineFinder(text)
    channels = data.get("channels")
    listed = channels[:50] if isinstance(channels, list) else []
    private = [str(c) for c in listed if _private_channel(str(c))]
    for dep in data["dependencies"]:
        if _full(out, path):
            return
        if isinstance(dep, dict):
            pip = dep.get("pip", []) or []
            start = len(out.items)
            pip = pip if isinstance(pip, list) else []
            sources = [s for item in pip for s in index_options(str(item))]
            for item in pip:
                if _full(out, path):
                    break
                if _from_disk(str(item), path, line_of(str(item)), out):
                    continue
                parsed = parse_requirement(str(item))
                if parsed:
                    out.items.append(
                        Declared(
                            parsed[0],
                            parsed[1],
                            path,
                            line_of(str(item)),
                            raw=str(item),
                            marker=marker_of(str(item)),
                        )
                    )
            mark_elsewhere(out.items[start:], sources)
            continue
        channel, _, spec = str(dep).rpartition("::")
        spec = spec.strip()
        name, conda_spec = _conda_match_spec(spec)
        if name == "python":
            out.python.append((conda_spec.removeprefix("=="), f"{path}:{line_of(spec)}"))
            continue
        if name in CONDA_ONLY or not name:
            continue
        item = _conda_package(name, conda_spec, path, line_of(spec), str(dep))
        if item.conda and channel and _private_channel(channel):
            item = _from_channel(item, channel)
        elif item.conda and private:
            # The file's own channel list reaches a channel of the authors': its conda-only
            # packages may come from there.
            item = _from_channel(item, private[0])
        out.items.append(item)


# Conda packages whose name is also a PyPI project's that is not the same software (the
# graphviz program, not the Python bindings).
_CONDA_NOT_PYPI = frozenset({"graphviz", "hdf5", "protobuf-c", "jpeg", "libprotobuf"})


def pypi_name_of_conda(name: str) -> str | None:
    """The PyPI project a conda package is, when forkvet knows it is the same one
    (CONDA_TO_PYPI, or a distribution of forkvet's import table under the same name); None
    for the rest (ffmpeg, make, git, openmpi, libsndfile, compilers): a name on PyPI that
    anyone may have registered, not what the authors meant."""
    name = name.lower()
    if name in CONDA_TO_PYPI:
        return CONDA_TO_PYPI[name]
    if name in _CONDA_NOT_PYPI or normalize(name) not in known_distributions():
        return None
    return name


def _conda_package(name: str, spec: str, path: str, line: int, raw: str) -> Declared:
    """A conda dependency: its PyPI project, or a conda-only package named as such."""
    pypi = pypi_name_of_conda(name)
    if pypi is not None:
        return Declared(normalize(pypi), spec, path, line, raw=raw)
    return Declared(
        name.lower(),  # conda's own spelling (gcc_linux-64), for environment.yml
        spec,
        path,
        line,
        raw=raw,
        source="conda (not a PyPI project forkvet knows to be the same; install it with conda)",
        conda=True,
    )


def _conda_match_spec(spec: str) -> tuple[str, str]:
    """(name, PEP 440 specifier) of a conda match spec: `pytorch=1.7.1=py3.8_0` → ==1.7.1,
    `pytorch >= 1.13` and `pytorch>=1.13,<2` as written, `numpy 1.19.*` → ==1.19.*."""
    m = rx.match(r"^([A-Za-z0-9_.-]+)\s*(.*)$", spec)
    if not m:
        return "", ""
    name, rest = m.group(1).lower(), rx.sub(r"\s+", "", m.group(2))
    if not rest:
        return name, ""
    if rx.match(r"^(?:>=|<=|==|!=|~=|>|<)", rest):
        return name, rest
    version = rest.lstrip("=").split("=", 1)[0]  # a build string follows a second `=`
    return name, f"=={version}" if version else ""


def _pipfile(ctx: Context, path: str, out: DeclaredSet) -> None:
    text = ctx.snap.read_text(path)
    if not text:
        return
    try:
        data = safeparse.toml_loads(text)
    except tomllib.TOMLDecodeError:
        out.notes.append(f"{path}: not valid TOML, skipped")
        return
    out.files.append(path)
    start = len(out.items)
    _pipfile_packages(data, path, out)
    mark_elsewhere(out.items[start:], _pipfile_index(data))
    py = (data.get("requires") or {}).get("python_version")
    if py:
        out.python.append((str(py), path))


def _pipfile_index(data: dict[str, object]) -> list[str]:
    """pipenv installs a package with no `index` from the first `[[source]]`: when that is
    not the user's index, every such package is from elsewhere."""
    from forkvet.envgen.index import is_public_index

    sources = data.get("source")
    first = sources[0] if isinstance(sources, list) and sources else None
    url = str(first.get("url") or "") if isinstance(first, dict) else ""
    return [f"the Pipfile source {url[:200]}"] if url and not is_public_index(url) else []


def _pipfile_packages(data: dict[str, object], path: str, out: DeclaredSet) -> None:
    for section, dev in (("packages", False), ("dev-packages", True)):
        table = data.get(section)
        for name, spec in (table if isinstance(table, dict) else {}).items():
            if isinstance(spec, dict):
                origin = _pipfile_origin(str(name), spec)
                if origin is not None:
                    origin.path, origin.dev = path, dev
                    out.items.append(origin)
                    continue
                marker = poetry_marker(spec).removeprefix(" ; ")
                spec = spec.get("version", "")
            else:
                marker = ""
            spec = "" if spec in ("*", None) else str(spec)
            out.items.append(Declared(normalize(name), spec, path, 0, dev, marker=marker))


def _pipfile_origin(name: str, spec: dict[str, object]) -> Declared | None:
    """A Pipfile entry installed from git (a `git+https://…` spec), a path, a file or URL, or
    an index it names (`index = "corp"`: a source forkvet cannot tell from the user's index
    without trusting the repository's URL); None for the default index."""
    for key, what in (("path", "a local path"), ("file", "a file or URL")):
        if key in spec:
            return Declared(
                normalize(name), "", "", 0, raw=name, source=f"{what} ({str(spec[key])[:200]})"
            )
    if "git" in spec:
        url = str(spec["git"]).removeprefix("git+")
        ref = str(spec.get("ref") or "")
        if url.startswith("https://") and "subdirectory" not in spec:
            return Declared(
                normalize(name), f"git+{url}" + (f"@{ref}" if ref else ""), "", 0, raw=name
            )
        return Declared(normalize(name), "", "", 0, raw=name, source=f"git ({url[:200]})")
    index = spec.get("index")
    if index is not None:
        return Declared(
            normalize(name),
            "",
            "",
            0,
            raw=name,
            source=f"the package source {str(index)[:80]!r}",
            other_index=True,
        )
    return None


_PIP_LINE = rx.compile(r"(?:^|[\s`$>(])(?:python3?\s+-m\s+)?pip3?\s+install\s+([^\n`|&;]+)")
_CONDA_LINE = rx.compile(r"(?:^|[\s`$>(])(?:micro)?(?:conda|mamba)\s+install\s+([^\n`|&;]+)")
# Channels anyone resolving a conda environment reaches by name: a package the authors take
# from any other (`corpchan::x`, `-c https://conda.corp/…`, a channel URL) is theirs, not
# the one another project may publish under that name on these.
_PUBLIC_CHANNELS = frozenset({"conda-forge", "defaults", "main", "anaconda", "pytorch", "nvidia"})


def _private_channel(channel: str) -> bool:
    return channel.strip().lower() not in _PUBLIC_CHANNELS


def _from_channel(item: Declared, channel: str) -> Declared:
    """A conda package the authors install from a channel of their own: named, never
    resolved by its name elsewhere."""
    item.other_index = True
    item.source = f"another conda channel ({channel[:80]})"
    return item


_FENCE = rx.compile(r"^\s*(?:```|~~~)")  # any indent: fences inside list items


def _continued(line: str) -> bool:
    """Whether the shell continues this line on the next: it ends in an odd run of
    backslashes (`\\\\` is one escaped backslash) outside a comment."""
    run = len(line) - len(line.rstrip("\\"))
    return run % 2 == 1 and not _COMMENT.search(line)


def shell_joined(text: str) -> str:
    """text with each line that ends in `\\` (CRLF too) joined to the next, as the shell
    joins them, inside fenced code blocks only (in prose a trailing backslash is Markdown's
    line break). The newlines taken out are put back after the joined line, so every line
    keeps its number. A line with a comment is not continued (the backslash is part of the
    comment)."""
    pieces: list[str] = []
    joined: list[str] = []  # the parts of the line being joined
    fenced = False
    for line in text.split("\n"):
        if ("```" in line or "~~~" in line) and _FENCE.match(line):
            fenced = not fenced
        body = line.removesuffix("\r")
        if fenced and _continued(body):
            joined.append(body[:-1])
            continue
        pieces.append("".join(joined) + line + "\n" * len(joined))
        joined = []
    if joined:
        pieces.append("".join(joined) + "\n" * (len(joined) - 1))
    return "\n".join(pieces)


# Install lines read in one file, and the length of one once joined (a long list of packages
# is a few kilobytes).
MAX_INSTALL_LINES = 2000
MAX_INSTALL_LINE = 16 * limits.MAX_LINE


@dataclass
class Places:
    """What install lines need besides their words: the folders of the tree's own packages
    and their project names, the repository's own names (a clone of itself is no other
    project), and whether the file only marks names (a script: its names are not declared
    requirements, but what it installs from git or a path is never an index name)."""

    folders: dict[str, list[str]] = field(default_factory=dict)
    own: frozenset[str] = frozenset()
    mark_only: bool = False


def install_commands(
    text: str, path: str, out: DeclaredSet, offset: int = 0, places: Places | None = None
) -> None:
    """Requirements named on `pip install` / `conda install` lines of a README or notebook
    (only what comes from git or a path, for `places.mark_only`: a script's)."""
    places = places or Places()
    text = shell_joined(text)
    lines = line_of(text)
    clones = git_clones(text, places.own) if "clone" in text else {}
    # where each `cd` of the text goes (offset, folder), once: the last before an install
    # is found by bisection
    cds = [
        (c.start(), c.group("dir").rstrip("/").rsplit("/", 1)[-1])
        for c in islice(_CD.finditer(text), MAX_CDS if clones else 0)
    ]
    for regex, conda in ((_PIP_LINE, False), (_CONDA_LINE, True)):
        if conda and places.mark_only:
            continue
        for count, m in enumerate(regex.finditer(text)):
            line = lines(m.start(1)) + offset  # m.start() may be the newline before
            if count >= MAX_INSTALL_LINES or len(m.group(1)) > MAX_INSTALL_LINE:
                # no real README has such lines; shlex takes seconds on a joined megabyte
                _note(out, f"{path}:{line}: install lines past forkvet's limits; not read")
                if count >= MAX_INSTALL_LINES:
                    break
                continue
            unreadable = ""
            try:
                words = shlex.split(m.group(1), comments=True)
            except ValueError:  # a quote the line does not close (`"x; os_name == 'nt'"`)
                words = m.group(1).split()
                unreadable = "its quoting is not closed on the line"
            if conda:
                _conda_words(words, path, line, out)
                continue
            if _continued(m.group(1).rstrip("\r")):
                unreadable = "it continues past a `\\` outside a code block"
            start = len(out.items)
            cwd = _cwd_clone(text, m.start(1), clones, cds)
            disk = _Disk(path, clones, cwd, places.folders)
            _pip_words(words, path, line, out, _pip_environment(text, m.start(1)), unreadable, disk)
            if places.mark_only:  # a script's index names are no declaration of the authors'
                out.items[start:] = [i for i in out.items[start:] if _not_from_an_index(i)]
            if _full(out, path):
                return


def _not_from_an_index(item: Declared) -> bool:
    """Installed from git, a URL, a folder or a file (not from an index, another one too)."""
    return "://" in item.spec or item.source.startswith(("git ", "a local path"))


# `git clone [options] URL [DIR]`: the folder a later `pip install DIR`, `pip install -e DIR`
# or `cd DIR` then `pip install .` installs holds that repository, from git.
_GIT_CLONE = rx.compile(r"\bgit[ \t]+clone\b(?P<rest>[^\n;&|`)]*)")
_CLONE_VALUE = frozenset(
    {
        "-b",
        "--branch",
        "--depth",
        "-o",
        "--origin",
        "-c",
        "--config",
        "--reference",
        "--reference-if-able",
        "-j",
        "--jobs",
        "--separate-git-dir",
        "--template",
        "--shallow-since",
        "--shallow-exclude",
        "-u",
        "--upload-pack",
        "--bundle-uri",
        "--filter",
        "--server-option",
    }
)
_CD = rx.compile(r"(?:^|[\s;&(`!%])cd[ \t]+['\"]?(?P<dir>[^\s'\";&|`)]+)")
MAX_CLONES = 200


def git_clones(text: str, own: frozenset[str] = frozenset()) -> dict[str, str]:
    """{the folder's name (normalised): URL} of the `git clone` commands of a text, clones
    of the repository itself (`own`) left out."""
    out: dict[str, str] = {}
    for m in islice(_GIT_CLONE.finditer(text), MAX_CLONES):
        positional: list[str] = []
        skip = False
        for word in m.group("rest").split()[:32]:
            if skip:
                skip = False
            elif word.startswith("-"):
                skip = word in _CLONE_VALUE
            else:
                positional.append(word.strip("'\""))
        if not positional or ("://" not in positional[0] and "@" not in positional[0]):
            continue
        url = positional[0]
        # git's own folder: the URL's last part without `.git`, or the one given
        folder = positional[1] if len(positional) > 1 else url.rstrip("/").rsplit("/", 1)[-1]
        folder = folder.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
        key = normalize(folder) if rx.fullmatch(r"[A-Za-z0-9][\w.-]*", folder) else ""
        if key and key not in own:
            out.setdefault(key, url)
    return out


MAX_CDS = 20_000


def _cwd_clone(text: str, at: int, clones: dict[str, str], cds: list[tuple[int, str]]) -> str:
    """The cloned folder the last `cd` before the `pip install` at `at` went into, in the
    same code block (a script has no fences: the 8 KiB before it), or ""."""
    if not clones:
        return ""
    floor = max(0, at - _ENV_WINDOW)
    fence = text.rfind("```", floor, at)
    start = fence if fence >= 0 else floor
    before = bisect_left(cds, (at, "")) - 1
    if before < 0 or cds[before][0] < start:
        return ""
    key = normalize(cds[before][1])
    return key if key in clones else ""


@dataclass
class _Disk:
    """Where a `pip install` line's paths lead: its file, the folders cloned in that file,
    the clone the command runs in, the tree's own package folders."""

    path: str = ""
    clones: dict[str, str] = field(default_factory=dict)
    cwd: str = ""
    folders: dict[str, list[str]] = field(default_factory=dict)

    def origin(self, word: str, editable: bool) -> list[tuple[str, str]] | None:
        """(name, where from) for a word that installs a folder or file (a cloned folder is
        from git; the folder's own project name besides, when it is in the tree); [] for the
        repository itself; None when the word is no path (a name, a URL)."""
        text = word.strip().strip("'\"")
        if "://" in text or text.startswith(("git+", "hg+", "svn+", "bzr+")) or "@" in text:
            return None
        name = local_install(f"-e {text}" if editable else text)
        if name is None:
            return None
        if not name:  # `.`, `./`, `.[dev]`: the folder the command runs in
            if self.cwd:
                url = terminal(self.clones[self.cwd][:200])
                return [(self.cwd, f"git ({url}), cloned and installed from its folder")]
            return []
        if name in self.clones:
            source = f"git ({terminal(self.clones[name][:200])}), cloned into {terminal(text[:80])}"
        else:
            source = f"a local path or file ({terminal(text[:200])})"
        found = [(name, source)]
        rel = rx.sub(r"\[[^\]]*\]$", "", text).rstrip("/\\")
        for target in {in_tree(self.path, rel), in_tree("", rel)}:
            for project in self.folders.get(target or "", [])[:4]:
                if normalize(project) not in (n for n, _ in found):
                    found.append((normalize(project), source))
        return found


# pip's environment-variable spellings of its index options (`PIP_INDEX_URL=… pip install x`)
_PIP_ENV = rx.compile(r"\bPIP_(?:INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|NO_INDEX)\s*=\s*[^\s;&|`]*")
_ENV_WINDOW = 8192


def _pip_environment(text: str, at: int) -> list[str]:
    """pip index variables set before the `pip install` at `at`: on its line, or on an
    earlier line of the same fenced code block (`export PIP_INDEX_URL=…`)."""
    floor = max(0, at - _ENV_WINDOW)
    fence = text.rfind("```", floor, at)
    start = fence if fence >= 0 else text.rfind("\n", floor, at) + 1
    return [m.group(0) for m in _PIP_ENV.finditer(text[start:at])][:3]


def _pip_words(
    words: list[str],
    path: str,
    line: int,
    out: DeclaredSet,
    environment: list[str],
    unreadable: str = "",
    disk: _Disk | None = None,
) -> None:
    """The packages of one `pip install` line, split by pip's option table (an option's
    argument is never a package); those it installs from another index or a folder (an
    option, a PIP_INDEX_URL-like variable) are marked so, and so are those of the
    requirements files it names with `-r`. A line forkvet cannot read to its end (an option
    it does not know, a continuation outside a code block) may name another index for every
    package of it: all its names are marked not read, never taken as index names."""
    parsed = pipargs.parse(words)
    parsed.sources += environment
    # a word the shell expands (`$PIP_ARGS`, `${EXTRA}`) may hold any option, an index too
    expanded = next((w for w in words if "$" in w), "")
    unread = _unread(parsed.unknown, expanded) or unreadable
    if unread:
        _note(
            out,
            f"{path}:{line}: a `pip install` line not read ({unread}); its names are "
            "never taken as index names",
        )
        parsed.sources.insert(0, f"a `pip install` line forkvet did not read: {unread}")
    if parsed.sources:
        for rf in parsed.requirements:
            target = in_tree(path, rf)
            mark_elsewhere([d for d in out.items if d.path == target], parsed.sources)
    source = "; ".join(terminal(s[:200]) for s in parsed.sources)
    disk = disk or _Disk(path)
    words_of = [(w, False) for w in parsed.packages] + [(w, True) for w in parsed.editables]
    for word, editable in words_of:
        if _full(out, path):
            return
        # a folder, a clone, a wheel or archive: installed from there, never an index name
        # (dropped and named wherever else the name is declared)
        from_disk = disk.origin(word, editable)
        if from_disk is not None:
            out.items += [
                Declared(name, "", path, line, raw=word, source=where, other_index=True)
                for name, where in from_disk
            ]
            continue
        if (
            word in (".", "..", "\\")
            or ("/" in word and "://" not in word)
            # a wheel or archive URL is read below: installed from that URL (round 15a F2)
            or (word.lower().endswith((".txt", *_ARCHIVE)) and "://" not in word)
        ):
            continue
        req = parse_requirement(word)
        if req and rx.fullmatch(r"[a-z0-9][a-z0-9._-]*", req[0]):
            out.items.append(
                Declared(
                    req[0],
                    req[1],
                    path,
                    line,
                    raw=word,
                    source=f"another index or folder ({source})" if source else "",
                    other_index=bool(source),
                    marker=marker_of(word),
                )
            )


def _unread(unknown: str, expanded: str) -> str:
    """Why a `pip install` line's words cannot be read safely, or ""."""
    if unknown:
        return (
            f"option {terminal(unknown[:80])} is not one forkvet knows (it may take an "
            f"argument or name another index)"
        )
    if expanded:
        return f"{terminal(expanded[:80])} is expanded by the shell (it may hold any option)"
    return ""


def _note(out: DeclaredSet, note: str) -> None:
    if note not in out.notes and len(out.notes) < 100:
        out.notes.append(note)


def _conda_words(words: list[str], path: str, line: int, out: DeclaredSet) -> None:
    skip_next = False
    private = ""
    for i, word in enumerate(words[:2000]):
        opt, eq, value = word.partition("=")
        if opt in ("-c", "--channel") and (value or i + 1 < len(words)):
            channel = value if eq else words[i + 1]
            private = private or (channel if _private_channel(channel) else "")
    start = len(out.items)
    for word in words:
        if _full(out, path):
            break
        if skip_next:
            skip_next = False
            continue
        if word in ("-c", "-n", "--channel", "--name", "-p", "--prefix", "--file"):
            skip_next = True
            continue
        if word.startswith("-") or word in (".", "..") or "/" in word:
            continue
        name, _, ver = word.partition("=")
        name = name.split("::")[-1].lower()
        if name in CONDA_ONLY or not rx.fullmatch(r"[\w.-]+", name):
            continue
        ver = ver.lstrip("=")
        channel = word.rpartition("::")[0]
        item = _conda_package(name, f"=={ver}" if ver else "", path, line, word)
        if item.conda and channel and _private_channel(channel):
            item = _from_channel(item, channel)
        out.items.append(item)
    if private:
        # `-c` applies to every package of the command; one forkvet knows to be a PyPI
        # project is that project wherever it comes from.
        for item in out.items[start:]:
            if item.conda:
                _from_channel(item, private)


def collect(ctx: Context) -> DeclaredSet:
    """Declared requirements from requirement, conda and Pipfile files, package metadata, the
    README's install commands and notebooks' shell lines."""
    out = DeclaredSet()
    late = _declaration_files(ctx, out)
    for meta in ctx.packages:
        _package_metadata(ctx, meta, out)
    places = _places(ctx)
    if ctx.snap.readme:
        # The README's `pip install x` lines name packages (kept in the declared list), but a
        # README is no dependency file: `files` lists only files a tool can install from.
        install_commands(ctx.readme, ctx.snap.readme.path, out, places=places)
    for path, lines in ctx.py.notebook_shell.items():
        install_commands("\n".join(lines), path, out, places=places)
    # scripts, Dockerfiles, CI and other documents: only what they install from git or a path
    scripts = replace(places, mark_only=True)
    for path in _install_scripts(ctx):
        text = ctx.snap.read_text(path) or ""
        if "install" in text:
            install_commands(text, path, out, places=scripts)
    if late:
        out.notes.append(
            f"{len(late)} dependency file(s) not read, e.g. {late[0]}: the vetting time limit "
            "was reached"
        )
    _outside_channels(ctx, out)
    split_constraints(out)
    out.files = sorted(set(out.files))
    return out


def _places(ctx: Context) -> Places:
    """The tree's package folders with their project names, and the repository's names."""
    folders: dict[str, list[str]] = {}
    for meta in ctx.packages[:MAX_DECLARED]:
        if meta.name:
            folder = meta.path.rsplit("/", 1)[0] if "/" in meta.path else ""
            folders.setdefault(folder, []).append(meta.name)
    own = {normalize(ctx.snap.name.rsplit("/", 1)[-1])} | {
        normalize(n) for n in folders.get("", [])
    }
    return Places(folders, frozenset(own))


def _install_scripts(ctx: Context) -> list[str]:
    """Scripts, Dockerfiles, Makefiles, CI files and documents besides the README (three
    levels deep, the first MAX_CHANNEL_SCRIPTS), read for what they install from git or a
    path."""
    readme = ctx.snap.readme.path if ctx.snap.readme else ""
    found: list[str] = []
    for f in ctx.snap.files:
        if len(found) >= MAX_CHANNEL_SCRIPTS:
            break
        name = f.name.lower()
        if len(f.parts) > 3 or f.vendored or f.path == readme:
            continue
        if (
            f.suffix in _CHANNEL_SCRIPT_SUFFIXES
            or name in _CHANNEL_SCRIPT_NAMES
            or name.startswith("dockerfile")
        ):
            found.append(f.path)
    return found


# A channel set outside environment.yml (round 12b F6): `conda config --add channels X`
# (`--append`, `--prepend`; options may come between) in any script, README or notebook.
_CONDA_CONFIG = rx.compile(
    r"(?:micro)?(?:conda|mamba)[ \t]+config(?:[ \t]+--?[\w-]+(?:=\S+)?)*?[ \t]+"
    r"--(?:add|append|prepend)[ \t]+channels[ \t]+['\"]?(?P<channel>[^\s'\"`;&|]+)"
)
# A channel option on a conda-like command whose packages are not read one by one
# (`micromamba create -c X`, `pixi add --channel X`, `conda env create -c X`; an install
# line's `-c` marks its own packages): the channel reaches the repository's packages.
_CHANNEL_COMMAND = rx.compile(
    r"(?:conda|mamba|pixi)(?:[ \t]+env)?[ \t]+(?:create|add)\b(?P<rest>[^\n`;&|]*)"
)
_CHANNEL_OPTION = rx.compile(
    r"(?:^|[ \t])(?:-c|--channel)(?:[ \t]+|=)['\"]?(?P<channel>[^\s'\"`;&|]+)"
)
_CHANNEL_SCRIPT_SUFFIXES = frozenset(
    {".sh", ".bash", ".zsh", ".md", ".rst", ".yml", ".yaml", ".ps1", ".bat", ".cmd", ".mk"}
)
MAX_CHANNEL_SCRIPTS = 500  # scripts and documents read for a channel (a data folder of text)
_CHANNEL_SCRIPT_NAMES = frozenset({"dockerfile", "containerfile", "makefile", "justfile"})


def _outside_channels(ctx: Context, out: DeclaredSet) -> None:
    """A conda channel of the authors' own set outside environment.yml (a repository
    `.condarc`, `conda config --add channels X`, pixi's `channels`) reaches every conda-only
    package the repository names, as environment.yml's own channel list does: those are
    left out and named, never resolved by their names on the user's channels."""
    channel = _outside_channel(ctx)
    # A package taken from the authors' channel in one place (`conda install
    # corpchan::corpzeta` in the README) is theirs wherever else it is named.
    theirs = {
        i.name: i.source for i in out.items if i.conda and i.source.startswith("another conda")
    }
    for item in out.items:
        if not item.conda or item.other_index:
            continue
        if item.name in theirs:
            item.other_index, item.source = True, theirs[item.name]
        elif channel:
            _from_channel(item, channel)


def _outside_channel(ctx: Context) -> str:
    """`file:line` and the first channel of the authors' own set outside environment.yml,
    or ""."""
    texts = [(ctx.snap.readme.path, ctx.readme)] if ctx.snap.readme else []
    texts += [(path, "\n".join(lines)) for path, lines in ctx.py.notebook_shell.items()]
    for f in ctx.snap.files:
        if len(f.parts) > 3 or f.vendored:
            continue
        name = f.name.lower()
        if name in (".condarc", "condarc", ".mambarc"):
            found = _condarc_channel(ctx, f.path)
        elif name == "pixi.toml" or name == "pyproject.toml":
            found = _pixi_channel(ctx, f.path)
        elif _CONDA_LOCK_NAME.search(name):
            found = _conda_lock_channel(ctx, f.path)
        elif (
            f.suffix in _CHANNEL_SCRIPT_SUFFIXES
            or name in _CHANNEL_SCRIPT_NAMES
            or name.startswith("dockerfile")
        ) and not (ctx.snap.readme and f.path == ctx.snap.readme.path):
            if len(texts) < MAX_CHANNEL_SCRIPTS:
                texts.append((f.path, ctx.snap.read_text(f.path) or ""))
            continue
        else:
            continue
        if found:
            return found
    for path, text in texts:
        if "channel" not in text and "-c" not in text:
            continue
        in_text = _channel_in_text(text)
        if in_text:
            channel, at = in_text
            return f"{channel[:200]}, {path}:{line_of(text)(at)}"
    return ""


def _channel_in_text(text: str) -> tuple[str, int] | None:
    """(the first channel of the authors' own a script sets or installs from, its offset)."""
    for m in islice(_CONDA_CONFIG.finditer(text), 200):
        if _private_channel(m.group("channel")):
            return m.group("channel"), m.start()
    for m in islice(_CHANNEL_COMMAND.finditer(text), 200):
        for option in islice(_CHANNEL_OPTION.finditer(m.group("rest")), 50):
            if _private_channel(option.group("channel")):
                return option.group("channel"), m.start()
    return None


# conda-lock's unified file and its explicit per-platform files (`conda-linux-64.lock`,
# `*.conda-lock.yml`), and `conda list --explicit` output saved as `*explicit*.txt`.
_CONDA_LOCK_NAME = rx.compile(r"conda-lock\.ya?ml$|^conda-.*\.lock$|explicit.*\.txt$")
# conda-lock.yml's `metadata: channels:` entries are the only list items keyed `url:`.
_LOCK_CHANNEL = rx.compile(r"(?m)^[ \t]*-[ \t]*url:[ \t]*['\"]?([^\s'\"#]{1,300})")
# An explicit file's package URL: <channel URL>/<subdir>/<file>.
_EXPLICIT_URL = rx.compile(
    r"(?m)^([a-z][a-z0-9+.-]*://\S{1,400}?)/[\w.-]+/[^/\s]+\.(?:conda|tar\.bz2)\b"
)


def _conda_lock_channel(ctx: Context, path: str) -> str:
    """The first channel of the authors' own a conda lock records: the channels listed in
    conda-lock.yml's metadata, or those its explicit files download from."""
    text = ctx.snap.read_text(path) or ""
    if "@EXPLICIT" in text[:8192]:
        urls = (m.group(1) for m in islice(_EXPLICIT_URL.finditer(text), 5000))
        channels = [u for u in urls if _private_channel(u.rstrip("/").rsplit("/", 1)[-1])]
        return f"{channels[0][:200]}, {path}" if channels else ""
    listed = [m.group(1) for m in islice(_LOCK_CHANNEL.finditer(text), 50)]
    private = [c for c in listed if _private_channel(c.rstrip("/").rsplit("/", 1)[-1])]
    return f"{private[0][:200]}, {path}" if private else ""


def _condarc_channel(ctx: Context, path: str) -> str:
    text = ctx.snap.read_text(path) or ""
    try:
        data = safeyaml.load(text)
    except (yaml.YAMLError, safeyaml.YamlLimitError):
        return ""
    listed = data.get("channels") if isinstance(data, dict) else None
    return _first_private(listed, path)


def _pixi_channel(ctx: Context, path: str) -> str:
    text = ctx.snap.read_text(path) or ""
    if "channels" not in text:
        return ""
    try:
        data = safeparse.toml_loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return ""
    tool = data.get("tool")
    pixi = tool.get("pixi") if isinstance(tool, dict) else None
    root = pixi if isinstance(pixi, dict) else data
    for table in ("workspace", "project"):
        value = root.get(table)
        if isinstance(value, dict):
            found = _first_private(value.get("channels"), path)
            if found:
                return found
    return ""


def _first_private(listed: object, path: str) -> str:
    for channel in listed[:50] if isinstance(listed, list) else []:
        if isinstance(channel, dict):  # pixi's `{ channel = "x", priority = 1 }`
            channel = channel.get("channel")
        if isinstance(channel, str) and channel and _private_channel(channel):
            return f"{channel[:200]}, {path}"
    return ""


def _declaration_files(ctx: Context, out: DeclaredSet) -> list[str]:
    """Read requirement, conda environment and Pipfile files (three levels deep, not
    vendored); returns those not read because the run's deadline had passed."""
    late: list[str] = []
    for f in ctx.snap.files:
        if len(f.parts) > 3 or f.vendored:
            continue
        if (_REQ_FILE.match(f.name) or _ENV_FILE.match(f.name) or f.name == "Pipfile") and (
            late or time.monotonic() > ctx.deadline
        ):
            late.append(f.path)
        elif _REQ_FILE.match(f.name):
            if "constraint" in f.name.lower():  # requirements-constraints.txt: pins only
                out.named_c.add(f.path)
            _requirements_file(ctx, f.path, out)
        elif _ENV_FILE.match(f.name):
            _conda_env(ctx, f.path, out)
        elif f.name == "Pipfile":
            _pipfile(ctx, f.path, out)
    return late


def _package_metadata(ctx: Context, meta: PackageMeta, out: DeclaredSet) -> None:
    """One package's install_requires, extras (dev extras marked), requirement files it
    reads, and python_requires."""
    out.notes += [n for n in meta.notes if n not in out.notes]
    start = len(out.items)
    _metadata_items(ctx, meta, out)
    if meta.index_source:
        mark_elsewhere(out.items[start:], [meta.index_source])


def _metadata_items(ctx: Context, meta: PackageMeta, out: DeclaredSet) -> None:
    if meta.requires or meta.extras:
        out.files.append(meta.path)
    for req in meta.requires[:MAX_DECLARED]:
        if _full(out, meta.path):  # the cap is for the run: 3,000 pyproject files share it
            break
        parsed = parse_requirement(req)
        if parsed:
            out.items.append(
                Declared(parsed[0], parsed[1], meta.path, 0, raw=req, marker=marker_of(req))
            )
    for extra, reqs in meta.extras.items():
        dev = bool(_DEV_HINT.search(extra))
        for req in reqs:
            if _full(out, meta.path):
                break
            parsed = parse_requirement(req)
            if parsed:
                out.items.append(
                    Declared(
                        parsed[0],
                        parsed[1],
                        meta.path,
                        0,
                        dev=dev,
                        raw=req,
                        extra=extra,
                        marker=marker_of(req),
                    )
                )
    for item in meta.elsewhere[:MAX_DECLARED]:
        if _full(out, meta.path):
            break
        out.items.append(
            Declared(
                normalize(item.name),
                "",
                meta.path,
                0,
                dev=bool(item.extra and _DEV_HINT.search(item.extra)),
                raw=item.name,
                extra=item.extra,
                source=item.source,
                other_index=item.other_index,
            )
        )
    for rf in meta.requirement_files:
        target = in_tree(meta.path, rf)
        if target and ctx.snap.get(target):
            out.named_r.add(target)
            _requirements_file(ctx, target, out)
    for extra, files in meta.extra_files.items():
        for rf in files:
            target = in_tree(meta.path, rf)
            if target and ctx.snap.get(target):
                out.named_r.add(target)
                _requirements_file(ctx, target, out, extra=extra)
            else:
                out.notes.append(
                    f"{meta.path}: `file: {terminal(rf[:200])}` is not a file in the "
                    f"repository; not read"
                )
    if meta.python_requires:
        out.python.append((meta.python_requires, meta.path))
