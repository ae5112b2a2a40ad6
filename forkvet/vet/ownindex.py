"""Where a repository says that its authors install from a package index or link source of
their own: the net beneath the precise per-line rules of `declared` (issue 17).

Anyone may register on the user's index a name the authors install from their own index, so
once the repository says it uses one, anywhere and in any form, no declared name the
repository does not provide and forkvet's import table does not know is pinned on the user's
index (`forkvet env` writes it as a comment). The forms are not listed file by file: every
text file is read (bounded) for

- the PIP_*/UV_* index variables given a value in any syntax (`VAR=`, `VAR:`, `ENV VAR v`,
  `%env VAR=v`, `os.environ['VAR'] = v`, `setdefault("VAR", v)`), in any file;
- pip's configuration keys (`pip config set global.index-url URL`, in any file) and the bare
  keys (`index-url`, `extra-index-url`, `find-links`, `index_url`, `no-index`, ...) of
  configuration files (uv.toml, pip.conf/.ini, setup.cfg, any .toml/.cfg/.conf/.ini), also
  in what a command writes into such a file (a heredoc's body, an `echo`/`printf` payload),
  and `poetry config repositories.NAME URL`; a file of the repository that
  `PIP_CONFIG_FILE`/`UV_CONFIG_FILE` names (in any syntax above), whatever its name, is read
  with those keys and source tables;
- the index options of pip and uv anywhere on a command line (`--index-url`, their optparse
  abbreviations, `-i`/`-f` in a cluster, after `=` or the next word, a `\\` continuation
  joined), in any file: scripts, Makefiles, Dockerfiles, CI workflows, READMEs, notebooks,
  Python lists of words;
- the package sources of TOML files (`[[index]]`, `[[tool.uv.index]]`, `[[tool.rye.sources]]`,
  `[[tool.pdm.source]]`, `[[tool.poetry.source]]`, a Pipfile's `[[source]]`);
- where lock files record a package came from (round 12b F4): uv.lock `source = { registry
  | url }`, poetry.lock `[package.source]`, PEP 751 pylock.toml `index` and archive URLs,
  pixi.lock `indexes` and `pypi` URLs, conda-lock.yml pip `url`s. An entry counts when its
  package is not a public project forkvet's import table knows (a framework's wheel index
  serves only those) and its source is neither the user's index nor pip's default (file
  URLs: their hosts);
- other clients' index settings: tox 3's `indexserver` (`default = URL`, on its line or the
  indented ones under it, and named servers for `:NAME:pkg` deps), `devpi use URL|INDEX`;
- an index named in words, in any text file: a URL shaped like a package index (a PEP 503
  `/simple` or devpi `/+simple` ending its path, an index server's API path such as
  Artifactory's `/api/pypi/`, GitLab's `/packages/pypi`, Azure's `/_packaging/`, or a host
  named for one, `pypi.*`, `devpi.*`, CodeArtifact, `*-python.pkg.dev`) that is not the value
  of an index option or variable on a command line (the rules above judge those) and not on
  pip's default hosts; a sentence calling packages not public ("internal packages",
  "private wheels"), or putting a word that says so (internal, private, proprietary,
  corporate, company, self-hosted, our, VPN, credentials ...) in the sentence of a package
  source (package/pip/PyPI/wheel index, server, registry, feed, mirror, never "the Python
  Package Index"), or an index server's product name (Artifactory, devpi, Nexus Repository,
  Gemfury, CodeArtifact ...) in a sentence about pip, packages or an index. The rule is the
  shape of the claim "our packages come from a place that is not the public index", not a
  list of sentences; code words ("internal libraries", "internal dependencies", "private
  repository") are not packages or package sources.

A URL that is the user's configured index or pip's default is not a source of their own. A
command line whose every named package is a public project forkvet's import table knows
(`pip install torch --index-url <a framework's wheel index>`) changes nothing for other
names, and neither does an explicit uv/Poetry index only such projects are routed to.
Everything is read through the snapshot (never a link out of the tree), with linear-time
regular expressions, within a file count, a byte budget and a per-file prefix.
"""

from __future__ import annotations

import posixpath
import tomllib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar

import yaml

from forkvet import rx, safeparse, safeyaml
from forkvet.escape import terminal
from forkvet.snapshot import FileEntry, Snapshot
from forkvet.vet import indexconf, pipargs
from forkvet.vet.importmap import known_distributions, normalize
from forkvet.vet.indexconf import USER_VARIABLES as _USER_VARIABLES
from forkvet.vet.indexconf import counts as _counts

# Bounds: files read, bytes read in all, and the prefix of one file read (an honest
# statement is never past the first MiB of a file; a 50 MB data file costs only that much).
MAX_FILES = 20_000
MAX_BYTES = 32 << 20
FILE_PREFIX = 1 << 20
LOCK_PREFIX = 8 << 20  # a lock file is parsed whole (a cut one is not valid TOML/YAML)
MAX_LOGICAL = 4096  # characters of one command line, continuations joined
MAX_CANDIDATES = 2000  # matches of one kind looked at in one file (real files have a few)
NOTEBOOK_PREFIX = 16 << 20  # a notebook is read further: its images are dropped before a look
# Files an installer or a reader takes install settings from (round 16c E3): configuration,
# scripts, CI, containers, requirements, notebooks, code and documentation. One read only in
# part, or with more matches of one kind than MAX_CANDIDATES, is unread: the scan fails
# closed on it as on its whole budget. A cut data file (a table, a corpus, a vocabulary, a
# tokenizer, a file list) is not: no one installs from a setting written there.
_SETTINGS_SUFFIXES = frozenset({".py", ".md", ".rst", ".in", ".pip", ".mdx", ".markdown"})
# A base64 run in a notebook's JSON (an image or other binary output), up to its closing
# quote: dropped before the notebook is read (line numbers kept: JSON strings hold no newline).
_BASE64_RUN = rx.compile(r"[A-Za-z0-9+/=]{512}[A-Za-z0-9+/=]*(?:\\n[A-Za-z0-9+/=]+)*")
MAX_PLACES = 3  # statements kept (one is enough to decide)

_BINARY = frozenset(
    {
      ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ico", ".svg", ".pdf",
      ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".lz4", ".7z", ".rar", ".tar", ".whl", ".egg",
      ".so", ".pyd", ".dll", ".dylib", ".o", ".a", ".exe", ".bin", ".pt", ".pth", ".ckpt", ".pkl",
      ".pickle", ".npy", ".npz", ".h5", ".hdf5", ".onnx", ".tflite", ".pb", ".safetensors",
      ".msgpack", ".mp3", ".mp4", ".wav", ".flac", ".avi", ".mov", ".mkv", ".ttf", ".otf", ".woff",
      ".woff2", ".jar", ".class", ".parquet", ".arrow", ".feather", ".db", ".sqlite", ".pyc",
      ".lmdb", ".mdb", ".tfrecord", ".idx", ".data-00000-of-00001", ".index",
    }
)  # fmt: skip
# Files read first: where install settings live (configuration, scripts, CI, containers).
_FIRST_NAMES = frozenset(
    {"dockerfile", "containerfile", "makefile", "gnumakefile", "justfile", "pipfile", ".envrc",
     ".env", "jenkinsfile", "procfile", "vagrantfile", "taskfile"}
)  # fmt: skip
_FIRST_SUFFIXES = frozenset(
    {
      ".toml", ".cfg", ".conf", ".ini", ".yml", ".yaml", ".sh", ".bash", ".zsh", ".ps1", ".bat",
      ".cmd", ".mk", ".dockerfile", ".env", ".ipynb",
    }
)  # fmt: skip
_SECOND_SUFFIXES = frozenset({".py", ".md", ".rst", ".txt", ".in", ".json", ".cfg", ".xml"})
_CONFIG_SUFFIXES = frozenset({".toml", ".cfg", ".conf", ".ini"})
_CONFIG_NAMES = frozenset({"pipfile", "pip.conf", "pip.ini", ".pydistutils.cfg", "setup.py"})
_ENV_FILE = rx.compile(r"^(?:[\w.-]*[-_])?env(?:ironment)?(?:[-_.][\w.-]*)?\.ya?ml$", rx.I)
_REQ_FILE = rx.compile(r"^(?:.*[-_])?requirements?(?:[-_.][\w.-]*)?\.(?:txt|in|pip)$", rx.I)

# A quick test before a file is read closely.
_HINT = rx.compile(
    r"(?i)index|find.?links|dependency.?links|pypi.?(?:url|mirror)|\bpip|\buv\b|easy_install"
    r"|source\s+add|devpi|poetry\s+config|pip\.(?:conf|ini)|uv\.toml|\.pypirc|config_file"
    r"|--source\b|setup\.py[ \t]+(?:install|develop)|looking in (?:indexes|links)"
    r"|session\.(?:run_)?install"
)
_VALUE = r"(?P<val>[^\s'\"\\,\]\)]+)"
# An index variable given a value, in any syntax: the name, then quotes or brackets closing
# it and `=`, `:` or `,`, or blanks alone (`ENV VAR value`, `%env VAR value`).
_VAR_NAMES = (
    r"PIP_(?:EXTRA_INDEX_URL|INDEX_URL|PYPI_URL|FIND_LINKS|NO_INDEX)"
    r"|UV_(?:EXTRA_INDEX_URL|INDEX_URL|DEFAULT_INDEX|FIND_LINKS|NO_INDEX|INDEX)"
    r"|PDM_PYPI_URL|PIPENV_PYPI_MIRROR"
)
# make's `:=`, `?=`, `+=` assign too (round 16c E4).
_VAR_SYNTAX = (
    r"(?:^|[^\w])(?P<key>" + _VAR_NAMES + r")"
    r"(?P<sep>[\]'\"\\]*[ \t]*(?:[:?+!]?=|[:,])[ \t]*|[ \t]+)[\[({]?[ \t]*[\\'\"]*" + _VALUE
)
_VAR = rx.compile(_VAR_SYNTAX)
# Windows variables are case-insensitive (`set pip_extra_index_url=URL` in a .bat, `$env:` in
# PowerShell, round 16c E5): pip sees them as its own.
_VAR_ANY_CASE = rx.compile("(?i)" + _VAR_SYNTAX)
_WINDOWS_SUFFIXES = frozenset({".bat", ".cmd", ".ps1", ".psm1"})
# What an _IMPLIED match needs in the text (a 1 MiB file without any is not looked through).
_IMPLIED_WORDS = ("PIP_", "UV_", "PDM_PYPI", "PIPENV_PYPI", "pip.conf", "pip.ini", "uv.toml",
                  "pypirc", "pip-config", "print-settings", "Looking in")  # fmt: skip
# A value no reader can see: a code or make variable (`os.environ["PIP_FIND_LINKS"] = WHEELS`,
# round 16c E4); its value is the authors' own, as a secret's is.
_IDENTIFIER = rx.compile(r"^[A-Za-z_][\w.]{0,100}(?:\[[^\]]{0,100}\])?$")
_NOT_A_VALUE = frozenset({"none", "null", "nil", "true", "false", "undefined", "to", "is"})
# Set-ups that say an index of the authors' own is configured without naming it in the tree
# (round 16c E5): a build argument or a container's variable given no value here (`ARG
# PIP_EXTRA_INDEX_URL`, a Kubernetes `- name: PIP_INDEX_URL`), uv's credentials of a named
# index, a secret mounted as pip's or uv's configuration (`--mount=type=secret,target=
# /etc/pip.conf`, `env=PIP_INDEX_URL`), a registry's command writing pip's configuration (JFrog
# `jf pip-config`, `gcloud artifacts print-settings python`), pip's own output naming where it
# looked (`Looking in indexes: URL`, in a notebook's output).
_IMPLIED = rx.compile(
    r"(?im)^[ \t]*ARG[ \t]+(?P<arg>" + _VAR_NAMES + r")[ \t]*$"
    r"|^[ \t-]*name:[ \t]*['\"]?(?P<k8s>" + _VAR_NAMES + r")['\"]?[ \t]*$"
    r"|(?P<cred>\bUV_INDEX_\w{1,100}_(?:USERNAME|PASSWORD))\b['\"]?[ \t]*[=:][ \t]*['\"]?[^\s'\"]"
    r"|(?P<secret>--mount=[^\s]{0,300}type=secret[^\s]{0,300}"
    r"(?:pip\.(?:conf|ini)|uv\.toml|pypirc|env=(?:" + _VAR_NAMES + r")))"
    r"|(?P<secret2>--mount=[^\s]{0,300}(?:pip\.(?:conf|ini)|uv\.toml|pypirc)[^\s]{0,300}type=secret)"
    r"|(?P<tool>\bjf(?:rog)?[ \t]+(?:rt[ \t]+)?pip-config\b"
    r"|\bgcloud[ \t]+(?:beta[ \t]+)?artifacts[ \t]+print-settings[ \t]+python\b)"
    r"|(?P<looking>Looking in (?:indexes|links):[ \t]*)(?P<urls>[^\n\\\"]{1,1000})"
)
# pip's and uv's variables naming a configuration file (`export PIP_CONFIG_FILE=ci/piprc`,
# `UV_CONFIG_FILE: ci/uvsettings`, round 15a F3): a file of the repository named so is read
# as that configuration whatever its name (`$PWD/`, `$(pwd)/`, `./` before it are the tree).
_CONFIG_FILE_VAR = rx.compile(
    r"(?i)(?:^|[^\w])(?P<key>PIP_CONFIG_FILE|UV_CONFIG_FILE)"
    r"(?P<sep>[\]'\"\\]*[ \t]*(?:[:?+!]?=|[:,])[ \t]*|[ \t]+)[\[({]?[ \t]*[\\'\"]*"
    r"(?:\$\(pwd\)[/\\])?" + _VALUE
)
_HERE = rx.compile(r"^(?:\$\{?(?:PWD|GITHUB_WORKSPACE|CI_PROJECT_DIR)\}?|%CD%|\.)[/\\]+")
MAX_NAMED_CONFIGS = 16  # configuration files read because a variable names them, per scan
# pip's own configuration keys (`pip config set global.index-url URL`) and PDM's (`pdm config
# pypi.url URL`), in any file.
_PIP_CONFIG = rx.compile(
    r"(?i)\b(?:global|install|download|wheel|pypi)\."
    r"(?P<key>(?:extra-)?index-url|find-links|no-index|url)"
    r"['\"]?(?:[ \t]*[=:][ \t]*|[ \t]+)['\"]?" + _VALUE
)
# A configuration file's own keys (pip.conf, uv.toml, setup.cfg [easy_install], pixi).
_CONFIG_KEY = rx.compile(
    r"(?im)^[ \t]*['\"]?(?P<key>(?:extra[-_]?)?index[-_]?urls?|find[-_]?links|default[-_]?index"
    r"|no[-_]?index|dependency[-_]?links)['\"]?[ \t]*[=:][\s\[]*['\"]?" + _VALUE
)
# The same keys in YAML, spelt as pip spells them (`index_url:` may be a data set's).
_YAML_KEY = rx.compile(
    r"(?im)^[ \t-]*(?P<key>(?:extra-)?index-url|find-links)[ \t]*:[ \t]*['\"]?" + _VALUE
)
# setuptools' `dependency_links=[URL]` in a setup() call (not at a line's start).
_LINKS_ARGUMENT = rx.compile(r"(?P<key>dependency_links)['\"]?[ \t]*[=:][\s\[(]*['\"]?" + _VALUE)
# tox 3's `indexserver` key (`[tox]`): `NAME = URL` entries on its line and the indented
# lines under it; every `deps` install comes from `default`, a `:NAME:pkg` from NAME.
_TOX_INDEXSERVER = rx.compile(r"(?im)^[ \t]*indexserver[ \t]*=(?P<body>[^\n]*(?:\n[ \t]+[^\n]*)*)")
# A command writing one of pip's, uv's, Poetry's or twine's configuration files (`cat >
# ~/.pip/pip.conf <<EOF`, `echo "[global]\nindex-url = URL" > pip.conf`, `tee /etc/pip.conf`):
# what it writes is that file's content, read with the configuration keys' rule.
_CONFIG_TARGET = rx.compile(
    r"(?i)(?:^|[/\s'\"~=>(])(?:pip\.(?:conf|ini)|uv\.toml|\.pypirc|\.pydistutils\.cfg"
    r"|pypoetry/(?:config|auth)\.toml)\b"
)
_HEREDOC = rx.compile(r"<<-?[ \t]*['\"]?([A-Za-z_]\w{0,63})['\"]?")
# The keys of those files in a written payload: at a line's start (a heredoc's body, an
# `echo -e` payload once its `\n` are newlines) or after a blank or quote (`echo
# "index-url = URL"`); uv.toml's and Poetry's `url`, .pypirc's `repository` besides.
_WRITTEN_KEY = rx.compile(
    r"(?im)(?:^|[\s'\"])(?P<key>(?:extra[-_]?)?index[-_]?urls?|find[-_]?links|default[-_]?index"
    r"|no[-_]?index|url|repository)[\\'\"]*[ \t]*[=:][ \t\[]*[\\'\"]*" + _VALUE
)
MAX_HEREDOC = 64 * 1024  # a heredoc's body looked at (a configuration file is a few lines)
# Where a command line may name an index option: looked at closely only on such spots.
_OPTION_SPOT = rx.compile(
    r"(?i)--(?:ind|ext|fi|no-ind|default-i|pypi-m|source\b)|(?:^|[\s'\"\[(,`])-[a-z]*[if]"
    r"|source\s+add|devpi\s+(?:use|install)|poetry\s+config"
    r"|[*?][^\s'\"]{0,200}\.(?:whl|tar\.gz|tgz|zip)\b|keyrings?[.-]|artifacts-keyring"
    r"|/archive/|/v?\d[\w.+-]{0,100}\.(?:whl|tar\.gz|tgz|zip)\b"
    r"|setup\.py[ \t]+(?:install|develop)|\b(?:cd|pushd)[ \t]+\.\./|(?:^|[ \t=])\.\./[\w.-]"
)
# A CI step using an Action that signs pip in to or sets up a package index (`uses:
# acme-corp/setup-private-pypi@v2`, round 15a F4): its name says both (setup/login/auth and
# pypi/pip/index/CodeArtifact/Artifactory); publishing and auditing actions are not.
_INDEX_ACTION = rx.compile(r"(?im)^[ \t-]*uses:[ \t]*['\"]?(?P<act>[\w.-]{1,100}/[\w./-]{1,200})@")
_ACTION_SETUP = rx.compile(r"(?i)(?:^|[/_.-])(?:setup|login|auth|configure)(?:$|[/_.-])")
_ACTION_INDEX = rx.compile(
    r"(?i)(?:^|[/_.-])(?:pypi|pip|index|codeartifact|artifactory)(?:$|[/_.-])"
)
# `cd ../NAME && python setup.py install` (round 15a F4): a folder beside the repository, not
# in it, installed; whatever it provides comes from the authors' own copy, not the index.
_OUTSIDE_DIR = rx.compile(r"^(?:\.\./)+[\w.-]*[A-Za-z0-9][\w./-]*$")
# A file pattern an install line takes its packages from (`pip install wheelhouse/*.whl`,
# round 15a F4): wheels or archives whose names are not written, fetched by the authors from
# a source of their own (a bucket, a release page); `dist/` is the repository's own build.
_GLOB_ARCHIVE = rx.compile(r"(?i)[*?\[][^/\\]*\.(?:whl|tar\.gz|tgz|zip)$")
# An archive URL whose file name names no project (`…/archive/refs/tags/v2.3.1.zip`, a
# commit's or branch's archive, round 15a F2): what it installs is not written.
_UNNAMED_ARCHIVE = rx.compile(
    r"(?i)^https?://[^\s@]*/(?:archive/[^\s]*|v?\d[\w.+-]*\.(?:whl|tar\.gz|tgz|zip))$"
)
# A keyring plugin that signs pip in to a private registry (Artifact Registry, CodeArtifact,
# Azure Artifacts): installed only to reach an index of one's own.
_REGISTRY_KEYRING = rx.compile(
    r"(?i)^(?:keyrings[.-](?:google-artifactregistry-auth|codeartifact|artifactory)"
    r"|artifacts-keyring)(?:[=<>!~;\[].*)?$"
)
_WORD = rx.compile(r"[^\s'\"`,\[\](){}]+")
# A requirement's extras (`"jax[cuda12_pip]"`): one word with its name, not two names.
_EXTRAS = rx.compile(r"([A-Za-z0-9])\[[\w,. -]*\]")
_SEPARATOR = rx.compile(r"&&|\|\||[;|\n]")
# pip's front-ends take its index options too (round 16c E7): pip-tools, pipx, `pip.main([...])`,
# nox's `session.install(...)`.
_TOOL = rx.compile(
    r"(?i)^[!%$]*(?:[\w./-]*/)?(?:pip[\d.]*|uv|easy_install|pipenv|pdm|rye|pip-sync|pip-compile"
    r"|piptools|pipx)(?:\.exe)?$|^(?:pip\.main|session\.(?:install|run_install))$"
)
# An index option whose value is an expression (`"--find-links", WHEELS`, `"pip install -f " +
# WHEELS`, `f"... -i {URL}"`, round 16c E4): a value no reader can see is the authors' own.
_EXPRESSION_VALUE = rx.compile(
    r"(?i)(?P<opt>--[a-z][a-z-]{1,30}|-[a-z]{0,8}[if])[ \t]*['\"][ \t]*[,+][ \t]*"
    r"(?P<expr>[A-Za-z_][\w.]{0,100}(?:\[[^\]\n]{0,100}\])?)(?P<after>[ \t]*=?)"
    r"|(?P<opt2>--[a-z][a-z-]{1,30}|-[a-z]{0,8}[if])(?:[ \t]+|=)\{(?P<expr2>[^{}\n]{0,100})\}"
)
# The user's own index settings: passing one on (`UV_INDEX="$PIP_EXTRA_INDEX_URL"`) is no
# source of the authors'.
# Index options of pip and uv by the full name; an abbreviation (pip's optparse takes any
# unambiguous prefix) counts where a pip or uv word is on the same command.
_LONG = {
    "index-url": "index",
    "extra-index-url": "index",
    "default-index": "index",
    "index": "index",
    "pypi-url": "index",
    "pypi-mirror": "index",
    "find-links": "links",
    "no-index": "none",
}
_PREFIX_MIN = {"index-url": 3, "extra-index-url": 3, "find-links": 2, "no-index": 6}


@dataclass
class Found:
    """What the scan found: the places (`file:line (what)`), and whether it stopped early."""

    places: list[str] = field(default_factory=list)
    cut: str = ""  # why not every text file was read ("" when all were)


def statements(snap: Snapshot) -> Found:
    """Where the repository says its authors install from an index or link source of their
    own (see the module's docstring)."""
    out = Found()
    public = _PublicIndex()
    looks = _Looks()
    named = _NamedConfig(snap)
    budget = MAX_BYTES
    unread: list[str] = []  # files read only in part (past a prefix or a match cap), unparsed
    files = sorted((f for f in snap.files if f.suffix not in _BINARY), key=_order)
    for count, entry in enumerate(files):
        if count >= MAX_FILES or budget <= 0:
            out.cut = f"only the first {count} text files were read for index settings"
            break
        prefix = _prefix(entry)
        text, whole = _read_part(snap, entry, prefix)
        if text is None:
            continue
        if entry.suffix == ".ipynb":
            text = _BASE64_RUN.sub("", text)
        budget -= len(text)
        why: list[str] = []
        token = _CAP_HIT.set(why)
        try:
            for line, what in _in_file(entry, text, public, looks, named, why):
                out.places.append(f"{terminal(entry.path)}:{line}: {terminal(what[:80])}")
                if len(out.places) >= MAX_PLACES:
                    return out
        finally:
            _CAP_HIT.reset(token)
        if not whole:
            why.append(f"read only up to {prefix >> 20} MiB")
        if why and _settings_file(entry):
            unread.append(f"{terminal(entry.path)} {why[0]}")
    if looks.left < 0:
        unread.append("the close looks' budget was spent")
    if out.places:
        out.cut = ""  # what was read decides already
    elif unread and not out.cut:
        more = f" and {len(unread) - 1} more" if len(unread) > 1 else ""
        out.cut = f"{unread[0]}{more}: index settings there were not all read"
    return out


T = TypeVar("T")
# The reasons the file being read is read only in part (a match cap reached), for `_upto`.
_CAP_HIT: ContextVar[list[str] | None] = ContextVar("_CAP_HIT", default=None)


def _upto(items: Iterator[T]) -> Iterator[T]:
    """The first MAX_CANDIDATES matches; one more makes the file being read unread."""
    yield from islice(items, MAX_CANDIDATES)
    if next(items, None) is not None:
        hit = _CAP_HIT.get()
        if hit is not None:
            hit.append(f"has more than {MAX_CANDIDATES} matches of one kind")


def _prefix(entry: FileEntry) -> int:
    if _lock_kind(entry.name):
        return LOCK_PREFIX
    return NOTEBOOK_PREFIX if entry.suffix == ".ipynb" else FILE_PREFIX


def _settings_file(entry: FileEntry) -> bool:
    """A file an installer or reader takes install settings from (_SETTINGS_SUFFIXES)."""
    name = entry.name.lower()
    return (
        name in _FIRST_NAMES
        or entry.suffix in _FIRST_SUFFIXES
        or entry.suffix in _SETTINGS_SUFFIXES
        or name.startswith(("dockerfile", "containerfile", ".env", "readme"))
        or bool(_REQ_FILE.match(name))
        or indexconf.structured_name(name)
    )


def _order(entry: FileEntry) -> tuple[int, int, str]:
    """Where install settings live first (configuration, scripts, CI, containers,
    requirements, the README, notebooks), then code and documents, then the rest; shallow
    before deep."""
    name = entry.name.lower()
    if (
        name in _FIRST_NAMES
        or entry.suffix in _FIRST_SUFFIXES
        or name.startswith(("dockerfile", ".env", "readme"))
        or _REQ_FILE.match(name)
    ):
        tier = 0
    else:
        tier = 1 if entry.suffix in _SECOND_SUFFIXES else 2
    return (tier, entry.path.count("/"), entry.path)


def _read(snap: Snapshot, entry: FileEntry, prefix: int = FILE_PREFIX) -> str | None:
    """The first `prefix` bytes as text, or None for a binary or unreadable file."""
    return _read_part(snap, entry, prefix)[0]


def _read_part(snap: Snapshot, entry: FileEntry, prefix: int) -> tuple[str | None, bool]:
    """(the first `prefix` bytes as text or None for a binary or unreadable file, whether
    that is the whole file)."""
    try:
        raw = snap.read_bytes(entry.path, prefix + 1)
    except OSError:
        return None, True
    whole = len(raw) <= prefix
    raw = raw[:prefix]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16, as Windows scripts may be saved
        return raw.decode("utf-16", "replace"), whole
    if b"\x00" in raw[:8192]:
        return None, True
    return raw.decode("utf-8", "replace"), whole


class _NamedConfig:
    """The text of a repository file a PIP_CONFIG_FILE/UV_CONFIG_FILE variable names (at most
    MAX_NAMED_CONFIGS read in a scan), or None for a path outside the tree or no file."""

    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap
        self._seen: dict[str, str | None] = {}

    def __call__(self, beside: str, value: str) -> tuple[str, str] | None:
        rel = _HERE.sub("", value.strip().strip("'\"")).replace("\\", "/")
        if not rel or rel.startswith("/") or "\x00" in rel:
            return None
        base = beside.rsplit("/", 1)[0] if "/" in beside else ""
        for path in dict.fromkeys((posixpath.normpath(posixpath.join(base, rel)), rel)):
            if path.startswith("../") or path in ("..", "."):
                continue
            if path not in self._seen:
                if len(self._seen) >= MAX_NAMED_CONFIGS:
                    return None
                entry = self._snap.get(path)
                self._seen[path] = _read(self._snap, entry) if entry is not None else None
            text = self._seen[path]
            if text is not None:
                return path, text
        return None


def _config_file_vars(
    entry: FileEntry, text: str, lines: _LineOf, public: _PublicIndex, named: _NamedConfig
) -> Iterator[tuple[int, str]]:
    """A PIP_CONFIG_FILE/UV_CONFIG_FILE variable naming a file of the repository whose keys
    (pip.conf's, uv.toml's, its source tables) set an index other than the user's."""
    for m in _upto(_CONFIG_FILE_VAR.finditer(text)):
        found = named(entry.path, m.group("val"))
        if found is None:
            # a configuration outside the tree (a CI secret's file, the authors' home, a path
            # the build writes): what it sets cannot be read, so it is theirs (round 16c E5)
            value = m.group("val").strip("'\"")
            if _unread_config(m.group("sep"), value, text, m.start()):
                yield lines(m.start("key")), f"{m.group('key')}={value[:60]} (not in the tree)"
                return
            continue
        path, config = found
        keys = (
            k.group("key")
            for k in _upto(_CONFIG_KEY.finditer(config))
            if _counts(_key_kind(k.group("key")), k.group("val"), public)
        )
        key = next(keys, "") or next(
            (what for _, what in _toml_sources(config, _LineOf(config), public)), ""
        )
        if key:
            yield lines(m.start("key")), f"{m.group('key')}={path}: {key}"
            return


_NO_FILE = frozenset({"/dev/null", "nul", "os.devnull", "$null", "none", "null", "''", '""'})


def _unread_config(sep: str, value: str, text: str, at: int) -> bool:
    """Whether PIP_CONFIG_FILE/UV_CONFIG_FILE is set (with `=` or `:`, or by ENV/export on
    its line) to a file this scan cannot read: not the null device, not the user's own."""
    line = _logical_line(text, at)[1].lstrip(" \t-!%$").lower()
    assigned = "=" in sep or ":" in sep or line.startswith(("env ", "export ", "set "))
    if not assigned or not value or value.lower() in _NO_FILE:
        return False
    if value.upper().lstrip("${%(").startswith(("PIP_CONFIG_FILE", "UV_CONFIG_FILE")):
        return False  # the user's own setting passed on
    return bool(rx.match(r"[\w$%{~./\\-]", value)) and value.lower() not in _NOT_A_VALUE


class _PublicIndex:
    """is_public_index, asked once per URL (it reads the user's configuration)."""

    def __init__(self) -> None:
        self._seen: dict[str, bool] = {}

    def __call__(self, url: str) -> bool:
        from forkvet.envgen.index import is_public_index

        if url not in self._seen:
            self._seen[url] = is_public_index(url)
        return self._seen[url]


def _in_file(
    entry: FileEntry,
    text: str,
    public: _PublicIndex,
    looks: _Looks | None = None,
    named: _NamedConfig | None = None,
    why: list[str] | None = None,
) -> Iterator[tuple[int, str]]:
    """(line, what) of each statement in one file; why the file is unread goes to `why`."""
    lines = _LineOf(text)
    kind = _lock_kind(entry.name)
    if kind:
        yield from _lock_sources(kind, text, lines, public)
        return
    read = indexconf.structured(entry.name, text, public, lambda d: _exempt(d, public))
    if read is not None:
        found, unread = read
        if unread and why is not None:
            why.append(unread)
        for value, what in found[:1]:
            at = text.find(value) if value else -1
            key = text.rfind(what.rsplit(".", 1)[-1].split(" ", 1)[0], 0, max(at, 0))
            at = key if key >= 0 and text.count("\n", key, at) <= 2 else at
            yield lines(at if at >= 0 else 0), f"{what} {value}".strip()
    if entry.suffix in (".yml", ".yaml") and "uses:" in text:
        for m in _upto(_INDEX_ACTION.finditer(text)):
            act = m.group("act").split("/", 1)[1]
            if _ACTION_SETUP.search(act) and _ACTION_INDEX.search(act):
                yield lines(m.start("act")), f"uses {m.group('act')[:80]}"
    if _HINT.search(text) or _REQ_FILE.match(entry.name):
        # a requirements file's `-i URL` line needs no other word
        yield from _settings(entry, text, lines, public)
        if named is not None:
            yield from _config_file_vars(entry, text, lines, public, named)
    toml = entry.suffix == ".toml" or entry.name == "Pipfile"
    yield from _said(text, lines, public, looks or _Looks(), toml)


def _settings(
    entry: FileEntry, text: str, lines: _LineOf, public: _PublicIndex
) -> Iterator[tuple[int, str]]:
    """Index settings: variables, configuration keys, tox's servers, command-line options."""
    for m in _upto(_TOX_INDEXSERVER.finditer(text)):
        if any(_counts("index", value, public) for value in _tox_servers(m.group("body"))):
            yield lines(m.start()), "tox indexserver"
    var = _VAR_ANY_CASE if entry.suffix in _WINDOWS_SUFFIXES else _VAR
    for m in _upto(var.finditer(text)):
        key = m.group("key")
        kind = _VAR_KIND[key.upper().split("_", 1)[1]]
        if (
            _counts(kind, m.group("val"), public)
            or _variable_value(key, m.group("sep"), m.group("val"), text, m.start("key"))
        ) and not _known_command(text, m.start("key"), key):
            yield lines(m.start("key")), key
    implied = any(word in text for word in _IMPLIED_WORDS)
    for m in _upto(_IMPLIED.finditer(text) if implied else iter(())):
        what = _implied(m, public)
        if what:
            yield lines(m.start()), what
    for m in _upto(_PIP_CONFIG.finditer(text)):
        if _counts(_key_kind(m.group("key")), m.group("val"), public):
            yield lines(m.start("key")), f"pip config {m.group('key')}"
    if entry.suffix in (".yml", ".yaml"):  # an Action's `index-url:` input; dashes only
        for m in _upto(_YAML_KEY.finditer(text)):
            if _counts(_key_kind(m.group("key")), m.group("val"), public):
                yield lines(m.start("key")), m.group("key")
    if entry.suffix in _CONFIG_SUFFIXES or entry.name.lower() in _CONFIG_NAMES:
        for m in _upto(_LINKS_ARGUMENT.finditer(text)):
            if _counts("links", m.group("val"), public):
                yield lines(m.start("key")), m.group("key")
        for m in _upto(_CONFIG_KEY.finditer(text)):
            if _counts(_key_kind(m.group("key")), m.group("val"), public):
                yield lines(m.start("key")), m.group("key")
    yield from _config_writes(text, lines, public)
    yield from _command_lines(entry, text, lines, public)


def _variable_value(key: str, sep: str, value: str, text: str, at: int) -> bool:
    """An index variable assigned a code or make variable (`VAR = WHEELS`, `VAR := $(X)`):
    upper-case, with `=`, and not the user's own setting passed on."""
    if not key.isupper() or "=" not in sep or not _IDENTIFIER.match(value):
        return False
    if value.lower() in _NOT_A_VALUE or value.isdigit():
        return False
    line = _logical_line(text, at)[1].upper()
    return not any(name in line.replace(key.upper(), "", 1) for name in _USER_VARIABLES)


def _implied(m: rx.Match[str], public: _PublicIndex) -> str:
    """What an _IMPLIED match says, or "" (pip's output naming only the user's index)."""
    if m.group("looking"):
        urls = [u.strip().rstrip(",") for u in m.group("urls").split(",")[:16]]
        return next((f"pip: {m.group('looking')}{u}" for u in urls if u and not public(u)), "")
    for name in ("arg", "k8s", "cred"):
        if m.group(name):
            return f"{m.group(name)} set outside the tree"
    if m.group("secret") or m.group("secret2"):
        return "a secret mounted as the package configuration"
    return _squeeze(m.group("tool"))


def _config_writes(text: str, lines: _LineOf, public: _PublicIndex) -> Iterator[tuple[int, str]]:
    """Index settings written into a configuration file by a command (a README's code block,
    a script, a Dockerfile's RUN, a notebook's shell line): a heredoc's body up to its
    delimiter, or the command line's own payload (`echo`/`printf` text with its `\\n` read
    as newlines)."""
    done_until = -1
    for m in _upto(_CONFIG_TARGET.finditer(text)):
        if m.start() < done_until:
            continue
        done_until, line = _logical_line(text, m.start())
        target = m.group(0).lstrip("/ \t'\"~=>(").lower()
        heredoc = _HEREDOC.search(line)
        if heredoc:
            body_start = min(len(text), done_until + 1)
            stop, at = min(len(text), body_start + MAX_HEREDOC), body_start
            while at < stop:  # up to the delimiter's line: each line looked at once
                newline = text.find("\n", at, stop)
                newline = stop if newline < 0 else newline
                # a notebook keeps each line as a JSON string (`"EOF\n",`)
                bare = text[at:newline].strip().rstrip(",").strip('"').removesuffix("\\n")
                if bare.strip() == heredoc.group(1):
                    break
                at = newline + 1
            payload = text[body_start:at]
            done_until = at
        else:
            payload = line.replace("\\n", "\n").replace("\\r", "")
        for k in _upto(_WRITTEN_KEY.finditer(payload)):
            key, value = k.group("key"), k.group("val")
            if key.lower() in ("url", "repository") and _pypi_host(value):
                continue  # twine's upload URL, a source named pypi.org
            if _counts(_key_kind(key), value, public):
                yield lines(m.start()), f"{target} written: {key}"
                break


def _pypi_host(url: str) -> bool:
    host = url.split("://", 1)[-1].split("/", 1)[0].split("@")[-1].split(":")[0].lower()
    return host in _PUBLIC_HOSTS or host.endswith(".pypi.org")


_VAR_KIND = {
    "PYPI_URL": "index",
    "PYPI_MIRROR": "index",
    "INDEX_URL": "index",
    "EXTRA_INDEX_URL": "index",
    "DEFAULT_INDEX": "index",
    "INDEX": "index",
    "FIND_LINKS": "links",
    "NO_INDEX": "none",
}


def _key_kind(key: str) -> str:
    key = key.lower().replace("_", "-")
    if "no-index" in key or key == "noindex":
        return "none"
    if "find" in key or "links" in key:
        return "links"
    return "index"


class _LineOf:
    """Line number of an offset, counted only for what is found (a newline index of every
    file read cost seconds)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __call__(self, at: int) -> int:
        return self._text.count("\n", 0, max(at, 0)) + 1


def _logical_line(text: str, at: int, marks: str = "\\") -> tuple[int, str]:
    """(where it ends, the command line around `at`) with its continuations joined (`\\`; also
    `^` and `` ` `` in Windows scripts: `marks`)."""

    def continued(newline: int) -> bool:  # the line ending at `newline` goes on
        before = newline - 1 if newline > 0 and text[newline - 1] != "\r" else newline - 2
        return before >= 0 and text[before] in marks

    start = text.rfind("\n", max(0, at - MAX_LOGICAL), at) + 1
    while start > 1 and continued(start - 1) and at - start < MAX_LOGICAL:
        start = text.rfind("\n", max(0, start - MAX_LOGICAL), start - 1) + 1
    end = text.find("\n", at, at + MAX_LOGICAL)
    end = end if end >= 0 else min(len(text), at + MAX_LOGICAL)
    while 0 < end < len(text) and text[end] == "\n" and continued(end) and end - at < MAX_LOGICAL:
        nxt = text.find("\n", end + 1, end + MAX_LOGICAL)
        end = nxt if nxt >= 0 else min(len(text), end + MAX_LOGICAL)
    joined = text[start:end]
    for mark in marks:
        joined = joined.replace(mark + "\r\n", " ").replace(mark + "\n", " ")
    return end, joined


def _command_lines(
    entry: FileEntry, text: str, lines: _LineOf, public: _PublicIndex
) -> Iterator[tuple[int, str]]:
    """Index options on command lines (each command line looked at once)."""
    # a requirements file's or a conda environment's pip lines need no pip word
    requirements = bool(_REQ_FILE.match(entry.name) or _ENV_FILE.match(entry.name))
    marks = "\\^`" if entry.suffix in (".bat", ".cmd", ".ps1") else "\\"
    done_until = -1
    for m in _upto(_OPTION_SPOT.finditer(text)):
        if m.start() < done_until:
            continue
        # each command line once: its other spots are skipped
        done_until, line = _logical_line(text, m.start(), marks)
        what = _command_index(line, requirements, public, entry.path, text)
        if what:
            yield lines(m.start()), what


def _command_index(
    line: str, requirements: bool, public: _PublicIndex, path: str = "", text: str = ""
) -> str:
    """The index option one command line uses for packages not all known, or ""."""
    outside = ""  # a folder beside the tree a `cd` of this line went into
    for segment in _SEPARATOR.split(line)[:64]:
        words = _words(segment)
        lowered = [w.lower() for w in words]
        if len(words) == 2 and lowered[0] in ("cd", "pushd"):
            outside = words[1] if _outside(path, words[1]) else ""
        elif outside and _installs_here(lowered):
            return f"install in {outside[:80]}"
        added = _source_add(words, public)
        if added:
            return added
        tool = requirements or any(_TOOL.match(w) for w in words)
        if tool and "install" in (w.lower() for w in words):
            for before, word in zip(["", *words], words, strict=False):
                if (
                    _outside(path, word)
                    and (not before.startswith("-") or before in ("-e", "--editable"))
                    and not word.lower().endswith((".txt", ".in", ".cfg", ".toml"))
                ):
                    return f"install of {word[:80]}"
                if _UNNAMED_ARCHIVE.match(word):
                    return f"install of an archive naming no project {word[:80]}"
                if _GLOB_ARCHIVE.search(word) and not word.startswith(("dist/", "./dist/")):
                    return f"install of {word[:80]}"
                if _REGISTRY_KEYRING.match(word):
                    return f"registry credentials {word[:80]}"
        found, rest = _index_words(words, tool, public)
        found = found or _expression_option(segment, tool, text)
        if found and not (tool and _all_known(rest)):
            return found
    return ""


def _expression_option(segment: str, tool: bool, text: str = "") -> str:
    """An index option given an expression for its value, or ""."""
    if "'" not in segment and '"' not in segment and "{" not in segment:
        return ""  # no string literal ends before it, no placeholder
    for m in islice(_EXPRESSION_VALUE.finditer(segment), 16):
        opt = m.group("opt") or m.group("opt2")
        expr = (m.group("expr") or m.group("expr2") or "").strip()
        if m.group("after") and m.group("after").strip() == "=":
            continue  # a keyword argument (`add_argument("--index", type=int)`): no value
        if not tool and opt.lstrip("-").lower() not in _PIP_ONLY_OPTIONS:
            continue  # `--index` of another program
        kind = _option(opt, "x", tool)[0]
        if (
            kind in ("index", "links")
            and expr.lower() not in _NOT_A_VALUE
            and not any(name in expr.upper() for name in _USER_VARIABLES)
            and not _from_environment(expr, text)
        ):
            return f"{opt} {{{expr[:40]}}}"
    return ""


_PIP_ONLY_OPTIONS = frozenset({"index-url", "extra-index-url", "find-links", "default-index"})


def _from_environment(expr: str, text: str) -> bool:
    """Whether the file assigns the variable from the environment with no URL of its own
    (`index_url = os.environ.get('INDEX_URL', "")`): the user's setting passed on."""
    name = rx.match(r"[A-Za-z_]\w{0,100}", expr)
    if not name or not text:
        return False
    assigned = rx.search(r"(?m)^[ \t]*" + rx.escape(name.group(0)) + r"[ \t]*=[^=\n]{0,300}", text)
    line = assigned.group(0) if assigned else ""
    return ("environ" in line or "getenv" in line) and "://" not in line


def _outside(path: str, rel: str) -> bool:
    """Whether `../x` leaves the tree both from its root and from the folder of the file
    naming it (`examples/README.md`'s `../mypkg` is the tree's own)."""
    if not _OUTSIDE_DIR.match(rel):
        return False
    base = path.rsplit("/", 1)[0] if "/" in path else ""
    joined = posixpath.normpath(posixpath.join(base, rel))
    return joined == ".." or joined.startswith("../")


def _installs_here(lowered: list[str]) -> bool:
    """`python setup.py install|develop`, `pip install .` / `-e .`: the current folder."""
    for i, word in enumerate(lowered[:-1]):
        if word.endswith("setup.py") and lowered[i + 1] in ("install", "develop"):
            return True
    at = lowered.index("install") if "install" in lowered else -1
    tool = at > 0 and any(_TOOL.match(w) for w in lowered[:at])
    return tool and any(w in (".", "./") for w in lowered[at + 1 :])


def _tox_servers(body: str) -> list[str]:
    """The values of tox's `indexserver` entries (`NAME = URL`, one a line)."""
    return [part.partition("=")[2].strip() for part in body.split("\n")[:64] if "=" in part]


def _source_add(words: list[str], public: _PublicIndex) -> str:
    """`poetry source add NAME URL` / `pdm source add …`: a source for the project;
    `devpi use URL|INDEX`: devpi-client's current index, which `devpi install` (and pip, once
    devpi writes it into pip's configuration) installs from; `devpi install` and `poetry add
    --source NAME` themselves (round 15a F9), unless every package they name is a public
    project forkvet's import table knows (`poetry add --source pytorch torch`)."""
    lowered = [w.lower() for w in words]
    for i in range(len(lowered) - 1):
        if lowered[i] == "devpi" and lowered[i + 1] == "use":
            given = [w for w in words[i + 2 :] if not w.startswith("-")]
            return "devpi use" if given and not public(given[0]) else ""
        if lowered[i] == "devpi" and lowered[i + 1] == "install":
            return "" if _all_known(words[i + 1 :]) else "devpi install"
        if lowered[i] == "poetry" and lowered[i + 1] == "add":
            rest = words[i + 1 :]
            at = next((j for j, w in enumerate(rest) if w.lower().startswith("--source")), -1)
            if at >= 0:
                # the source's name, unless attached with `=`, is the next word
                took = 1 if "=" in rest[at] else 2
                if not _all_known(rest[:at] + rest[at + took :]):
                    return "poetry add --source"
    for i in range(len(lowered) - 2):
        if lowered[i] == "poetry" and lowered[i + 1] == "config":
            # `poetry config repositories.NAME URL`: a source Poetry may install from
            named = [w for w in lowered[i + 2 :] if w.startswith("repositories.")]
            urls = [w for w in words[i + 2 :] if "://" in w and not public(w)]
            if named and urls:
                return "poetry config repositories"
        if lowered[i] in ("poetry", "pdm") and lowered[i + 1 : i + 3] == ["source", "add"]:
            urls = [w for w in words[i + 3 :] if "://" in w and not public(w)]
            return f"{lowered[i]} source add" if urls else ""
    return ""


def _words(segment: str) -> list[str]:
    """The words of one command: split at blanks, quotes, commas and brackets (a Python list
    of arguments reads like a shell line), a requirement's extras dropped."""
    return _WORD.findall(_EXTRAS.sub(r"\1", segment))[:512]


def _index_words(words: list[str], tool: bool, public: _PublicIndex) -> tuple[str, list[str]]:
    """(the first index option that counts, the words without the index options)."""
    found = ""
    rest: list[str] = []
    i = 0
    while i < len(words):
        word, following = words[i], words[i + 1] if i + 1 < len(words) else ""
        i += 1
        kind, value, took = _option(word, following, tool)
        if not kind:
            rest.append(word)
            continue
        i += took
        usable = tool or "://" in value or value.startswith("$")
        if not found and usable and ((kind == "none" and tool) or _counts(kind, value, public)):
            found = word.split("=", 1)[0]
    return found, rest


def _option(word: str, following: str, tool: bool) -> tuple[str, str, int]:
    """(kind of index option, its value, words taken after it) or ("", "", 0)."""
    if word.startswith("--"):
        name, eq, attached = word[2:].partition("=")
        kind = _long_kind(name.lower(), tool)
        if not kind:
            return "", "", 0
        if kind == "none":
            return kind, "1", 0
        return (kind, attached, 0) if eq else (kind, following, 1)
    if not tool or len(word) < 2 or word[0] != "-" or not word[1].isalpha():
        return "", "", 0
    # A short cluster (`-qi URL`, `-ihttps://…`): flags go on, an option with a value ends it.
    for pos, char in enumerate(word[1:], 1):
        if char in "if":
            rest = word[pos + 1 :]
            kind = "index" if char == "i" else "links"
            return (kind, rest, 0) if rest else (kind, following, 1)
        if char not in pipargs.FLAG_SHORT:
            break
    return "", "", 0


def _long_kind(name: str, tool: bool) -> str:
    if name in _LONG:
        return _LONG[name]
    if not tool:
        return ""
    for full, least in _PREFIX_MIN.items():
        if len(name) >= least and full.startswith(name):
            return _LONG[full]
    return ""


def _all_known(words: list[str]) -> bool:
    """Whether the packages of an install command are all public projects forkvet's import
    table knows (an index on that line is then for those: a framework's wheel index)."""
    if not words:
        return False
    lowered = [w.lower() for w in words]
    at = next((i for i, w in enumerate(lowered) if w in ("install", "add")), -1)
    if at < 0:
        return False
    parsed = pipargs.parse(words[at + 1 :])
    if parsed.unknown or parsed.requirements or parsed.constraints or not parsed.packages:
        return False
    known = known_distributions()
    for word in parsed.packages:
        name = rx.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", word)
        if not name or "/" in word or "://" in word or normalize(name.group(0)) not in known:
            return False
    return True


def _known_command(text: str, at: int, key: str) -> bool:
    """A variable set on the command it applies to only (`VAR=URL pip install torch`), whose
    packages are all known: no source of their own for other names."""
    for segment in _SEPARATOR.split(_logical_line(text, at)[1]):
        if key in segment:
            words = _words(segment)
            if segment.lstrip().startswith(("export", "ENV", "set", "%env")):
                return False
            return any(_TOOL.match(w) for w in words) and _all_known(words)
    return False


# -- what the text says ----------------------------------------------------------------------

# A URL in any text (prose, a comment, a link): looked at when its shape is a package index's.
_PROSE_URL = rx.compile(r"(?i)\bhttps?://[^\s'\"<>()\[\]{}`|\\,;*]+")
# Index-server API paths that need no `/simple` (Artifactory, GitLab, Azure Artifacts).
_INDEX_PATH = rx.compile(r"(?i)/api/pypi/|/packages/pypi(?:/|$)|/_packaging/")
# Where a code host shows a folder: `…/tree/main/examples/simple` is no index.
_BROWSE_PATH = rx.compile(r"(?i)/(?:tree|blob|src|raw|edit)/")
_KEY_VALUE = rx.compile(r"[=:][ \t]*\[?[ \t]*['\"]$")  # `url = "` right before a URL
_INDEX_HINT = rx.compile(r"(?i)simple|pypi|_packaging|codeartifact|python\.pkg\.dev")
_PUBLIC_HOSTS = frozenset({"pypi.org", "pypi.python.org", "files.pythonhosted.org"})

# A sentence putting a non-public word on a package source says the authors' packages come
# from somewhere else. A source: pip/PyPI/package/wheel + index, server, registry, feed,
# mirror (not "the Python Package Index" alone), or an index server by its product name.
_SOURCE = (
    r"(?:pip|pypi|package|wheel)s?[ \t]*(?:\n[ \t]*)?[- ]?[ \t]*(?:index|indexes|indices"
    r"|servers?|registry|registries|feeds?|mirrors?)\b"
    r"|(?:pip|pypi|wheel)[ \t]+(?:repository|repositories|repo)\b"
)
_PRODUCT = (
    r"artifactory|jfrog|devpi|gemfury|codeartifact|cloudsmith|packagecloud|pypiserver|proget"
    r"|nexus[ \t]+repository|azure[ \t]+artifacts"
)
_SOURCE_SPOT = rx.compile(r"(?i)\b(?P<src>" + _SOURCE + r")|\b(?P<product>" + _PRODUCT + r")\b")
# Words that say "ours, not public" in the sentence of a source.
_NOT_PUBLIC = rx.compile(
    r"(?i)\b(?:internal|private|proprietary|in-house|inhouse|corporate|company|enterprise"
    r"|self-hosted|on-prem(?:ise)?s?|intranet|vpn|credentials|our|organi[sz]ation's)\b"
)
# A product name counts in a sentence about Python packages.
_PACKAGE_WORD = rx.compile(r"(?i)\b(?:pip|pypi|packages?|wheels?|index)\b")
# "internal packages", "private Python wheels": the unit an index serves, called not public
# ("internal libraries", "internal dependencies" are about code: a C++ library, pylint's
# import graph).
_PACKAGES = rx.compile(
    r"(?i)\b(?:internal|private|proprietary|in-house|inhouse|corporate)[ \t]+(?:[\w-]+[ \t]+)?"
    r"(?:packages|wheels|distributions)\b"
)
_SENTENCE_END = rx.compile(r"(?m)[.!?][ \t\n]|\n[ \t]*\n|^[ \t]*[-*#>|][ \t]")
MAX_SENTENCE = 300  # characters looked at either side of a source word
MAX_LOOKS = 20_000  # sentences and command lines read closely in the whole scan


class _Looks:
    """The scan's budget of close looks (a sentence read around a source word, a command
    line read around an index URL): MAX_LOOKS in all, so a tree of decoys costs no more."""

    def __init__(self) -> None:
        self.left = MAX_LOOKS

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _said(
    text: str, lines: _LineOf, public: _PublicIndex, looks: _Looks, toml: bool = False
) -> Iterator[tuple[int, str]]:
    """Statements made in words, in any text: a URL shaped like a package index, a sentence
    calling packages or a package source internal, private or the like (see below). A TOML
    key's URL value is left to the source tables' rule (an explicit index routed to known
    projects only is no statement)."""
    for m in _upto(_PROSE_URL.finditer(text)):
        url = m.group(0).rstrip(".:!?'")
        if not _INDEX_HINT.search(url) or not _index_shaped(url):
            continue
        if toml and _KEY_VALUE.search(text[max(0, m.start() - 80) : m.start()]):
            continue
        if not looks.take():
            break
        if not _on_command_line(text, m.start(), url, public):
            yield lines(m.start()), f"index URL {url}"
            return
    for m in _upto(_PACKAGES.finditer(text)):
        yield lines(m.start()), _squeeze(m.group(0))
        return
    for m in _upto(_SOURCE_SPOT.finditer(text)):
        if not looks.take():
            return
        sentence = _sentence(text, m.start(), m.end())
        if m.group("src"):
            source = _squeeze(m.group("src")).lower()
            before = text[max(0, m.start() - 8) : m.start()].lower()
            if source.startswith("package ind") and before.rstrip().endswith("python"):
                continue  # the Python Package Index: the public one
            said = _NOT_PUBLIC.search(sentence)
        else:
            said = _PACKAGE_WORD.search(sentence)
        if said:
            yield lines(m.start()), _squeeze(f"{said.group(0)} ... {m.group(0)}")
            return


def _index_shaped(url: str) -> bool:
    """A URL whose shape is a package index's: a PEP 503 `/simple` (devpi's `/+simple`) at
    the end of its path, an index server's API path (`/api/pypi/`, `/packages/pypi`,
    `/_packaging/`), or a host named for one (`pypi.`, `devpi.`, CodeArtifact, Artifact
    Registry's `-python.pkg.dev`); never pip's default index or its file host."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if not host or host in _PUBLIC_HOSTS:
        return False
    path = parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1].lower()
    if last in ("simple", "+simple") and not _BROWSE_PATH.search(path):
        return True
    if _INDEX_PATH.search(path + "/"):
        return True
    labels = host.split(".")
    return (
        labels[0] in ("pypi", "devpi")
        or any(label.endswith("codeartifact") for label in labels)
        or host.endswith("-python.pkg.dev")
    )


def _on_command_line(text: str, at: int, url: str, public: _PublicIndex) -> bool:
    """Whether the URL is the value of an index option or variable on a command line, or the
    user's own index: the precise rules decide those (a framework's wheel index for known
    packages only is no statement)."""
    if public(url):
        return True
    line = _logical_line(text, at)[1]
    for segment in _SEPARATOR.split(line)[:64]:
        if url not in segment:
            continue
        if _VAR.search(segment) or _PIP_CONFIG.search(segment):
            return True
        words = _words(segment)
        for i, word in enumerate(words):
            following = words[i + 1] if i + 1 < len(words) else ""
            kind, value, _ = _option(word, following, True)
            if kind and url in value:
                return True
    return False


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around text[start:end] (up to MAX_SENTENCE characters either side): from
    the last sentence end, blank line or list mark before it to the next after it."""
    lo = max(0, start - MAX_SENTENCE)
    before = text[lo:start]
    ends = [m.end() for m in _SENTENCE_END.finditer(before)]
    begin = lo + (ends[-1] if ends else 0)
    after = text[end : end + MAX_SENTENCE]
    stop = _SENTENCE_END.search(after)
    return text[begin : end + (stop.start() if stop else len(after))]


def _squeeze(words: str) -> str:
    return " ".join(words.split())


# -- TOML package sources ------------------------------------------------------------------


def _toml_sources(text: str, lines: _LineOf, public: _PublicIndex) -> Iterator[tuple[int, str]]:
    """A package source table of a TOML file whose URL is not the user's index."""
    if "[[" not in text:
        return
    try:
        data = safeparse.toml_loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return
    routed = _routed(data)
    for table, entry in _source_tables(data):
        url = entry.get("url")
        if not isinstance(url, str) or not url or public(url):
            continue
        if _explicit(table, entry, data) and _only_known(routed.get(str(entry.get("name")), [])):
            continue
        at = text.find(url)
        yield lines(at if at >= 0 else 0), f"[[{table}]] {url}"


def _exempt(data: dict[str, Any], public: _PublicIndex) -> set[int]:
    """The source tables (by id) an explicit index only known projects are routed to is
    (a framework's wheel index), and those naming the user's own index: no source of theirs."""
    routed = _routed(data)
    out: set[int] = set()
    for table, entry in _source_tables(data):
        url = entry.get("url")
        if (isinstance(url, str) and public(url)) or (
            _explicit(table, entry, data) and _only_known(routed.get(str(entry.get("name")), []))
        ):
            out.add(id(entry))
    return out


def _source_tables(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted name, table) of every array of source tables: `index`, `source`, `sources` at
    the top or under `tool.<x>` (uv, rye, pdm, poetry, pixi ...)."""
    places: list[tuple[str, Any]] = [(k, data.get(k)) for k in ("index", "source", "sources")]
    tool = data.get("tool")
    if isinstance(tool, dict):
        for name, value in list(tool.items())[:64]:
            if isinstance(value, dict):
                places += [
                    (f"tool.{name}.{k}", value.get(k)) for k in ("index", "source", "sources")
                ]
    for name, value in places:
        if isinstance(value, list):
            for entry in value[:64]:
                if isinstance(entry, dict):
                    yield name, entry


def _explicit(table: str, entry: dict[str, Any], data: dict[str, Any]) -> bool:
    """A source used only for the packages routed to it by name (uv `explicit`, Poetry's
    `explicit` priority, a Pipfile source after the first)."""
    if entry.get("explicit") is True or entry.get("priority") == "explicit":
        return True
    sources = data.get("source")
    return (
        table == "source"
        and isinstance(sources, list)
        and bool(sources)
        and sources[0] is not entry
    )


def _routed(data: dict[str, Any]) -> dict[str, list[str]]:
    """Source name -> the packages routed to it (uv `{index = …}`, Poetry/Pipfile
    `{source = …}` / `{index = …}`)."""
    out: dict[str, list[str]] = {}
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    assert isinstance(tool, dict)
    uv = tool.get("uv") if isinstance(tool.get("uv"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    assert isinstance(uv, dict) and isinstance(poetry, dict)
    tables = [uv.get("sources"), poetry.get("dependencies"), data.get("packages")]
    tables += [data.get("dev-packages")]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        tables += [g.get("dependencies") for g in groups.values() if isinstance(g, dict)]
    for table in tables:
        if not isinstance(table, dict):
            continue
        for name, spec in list(table.items())[:4096]:
            for entry in spec if isinstance(spec, list) else [spec]:
                if isinstance(entry, dict):
                    source = entry.get("index") or entry.get("source")
                    if isinstance(source, str):
                        out.setdefault(source, []).append(str(name))
    return out


def _only_known(names: list[str]) -> bool:
    known = known_distributions()
    return all(normalize(n) in known for n in names)


# -- lock files ----------------------------------------------------------------------------

_PYLOCK = rx.compile(r"^pylock\.(?:[\w.-]+\.)?toml$")
_LOCK_KEY = rx.compile(
    r"(?m)^[ \t-]*(?:source[ \t]*=[ \t]*\{[ \t]*)?(?:registry|index|indexes)[ \t]*[=:]"
    r"[ \t\[-]*['\"]?(?P<val>[a-z][a-z0-9+.-]*://[^\s'\"\],}]+)"
)

_PIP_MANAGER = rx.compile(r"manager['\"]?[ \t]*:[ \t]*['\"]?pip\b")


def _lock_kind(name: str) -> str:
    lowered = name.lower()
    if lowered in ("uv.lock", "poetry.lock", "pixi.lock", "conda-lock.yml", "conda-lock.yaml"):
        return lowered.split(".")[0]
    return "pylock" if _PYLOCK.match(lowered) else ""


def _lock_sources(
    kind: str, text: str, lines: _LineOf, public: _PublicIndex
) -> Iterator[tuple[int, str]]:
    """Where a lock file records that a package forkvet's import table does not know came
    from a source other than the user's index (see the module's docstring)."""
    if (kind == "conda-lock" and not _PIP_MANAGER.search(text)) or (
        kind == "pixi" and "pypi" not in text
    ):
        return  # conda packages only: a YAML parse of megabytes saved
    try:
        if kind in ("pixi", "conda-lock"):
            data: Any = safeyaml.load(text)
        else:
            data = safeparse.toml_loads(text)
    except (tomllib.TOMLDecodeError, ValueError, yaml.YAMLError, safeyaml.YamlLimitError):
        # Too large or not valid: any registry or index URL but the user's counts (file URLs
        # are not read: a conda package's URL is a channel's).
        for m in _upto(_LOCK_KEY.finditer(text)):
            if not public(m.group("val")) and not _public_file(m.group("val")):
                yield lines(m.start("val")), f"{kind} lock source {m.group('val')}"
                return
        return
    if not isinstance(data, dict):
        return
    for url in _lock_urls(kind, data, public):
        at = text.find(url)
        yield lines(at if at >= 0 else 0), f"{kind} lock source {url}"
        return  # one is enough to decide


def _public_file(url: str) -> bool:
    from forkvet.envgen.index import is_public_file

    return is_public_file(url)


def _lock_urls(kind: str, data: dict[str, Any], public: _PublicIndex) -> Iterator[str]:
    """The sources of the lock's unknown packages that are not the user's."""
    known = known_distributions()
    for name, index, files in _lock_entries(kind, data):
        if normalize(name) in known:
            continue
        if index and not public(index):
            yield index
        for url in files:
            if url and not public(url) and not _public_file(url):
                yield url


def _lock_entries(kind: str, data: dict[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    """(package name, index URL or "", file URLs) of each package of a lock file."""
    if kind == "pixi":
        yield from _pixi_entries(data)
        return
    key = {"uv": "package", "poetry": "package", "pylock": "packages", "conda-lock": "package"}
    packages = data.get(key[kind])
    for pkg in packages[:20_000] if isinstance(packages, list) else []:
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        name = pkg["name"]
        source = pkg.get("source") if isinstance(pkg.get("source"), dict) else {}
        assert isinstance(source, dict)
        if kind == "uv":
            yield name, _text(source.get("registry")), [_text(source.get("url"))]
        elif kind == "poetry":
            url = _text(source.get("url"))
            typ = _text(source.get("type"))
            yield name, url if typ == "legacy" else "", [url] if typ == "url" else []
        elif kind == "pylock":
            urls = [_text(_sub(pkg, k).get("url")) for k in ("archive", "sdist")]
            yield name, _text(pkg.get("index")), urls
        elif pkg.get("manager") == "pip":
            yield name, "", [_text(pkg.get("url"))]


def _pixi_entries(data: dict[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    """pixi.lock: each pypi package with its URL; the environments' `indexes` with each
    unknown pypi package's name (any of them may come from any index)."""
    packages = data.get("packages")
    names: list[str] = []
    for pkg in packages[:20_000] if isinstance(packages, list) else []:
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            continue
        url = _text(pkg.get("pypi")) or (_text(pkg.get("url")) if pkg.get("kind") == "pypi" else "")
        if url:
            names.append(pkg["name"])
            yield pkg["name"], "", [url]
    envs = data.get("environments")
    for env in list(envs.values())[:64] if isinstance(envs, dict) else []:
        indexes = env.get("indexes") if isinstance(env, dict) else None
        for index in indexes[:64] if isinstance(indexes, list) else []:
            for name in names:
                yield name, _text(index), []


def _sub(pkg: dict[str, Any], key: str) -> dict[str, Any]:
    value = pkg.get(key)
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
