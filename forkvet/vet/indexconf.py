"""Package-manager configuration files read as data (round 16c E1, E2, E5): the own-index net's
rule for structured files, beside ownindex's rules for free text.

A TOML, INI, YAML or JSON file that configures a package manager is parsed with a real parser
(tomllib, configparser, the bounded YAML and JSON readers) and every value in it is walked, so
no spelling the format allows (an inline table, a dotted key, an array of tables, a key with
pip's dashes) hides a source. A string counts as a source of the authors' own when

- its key is an index setting (`index-url`, `extra-index-url`, `default-index`, `index`,
  `find-links`, `dependency-links`, `registryUrls`, `trusted-host`, pip's and uv's variable
  names `PIP_INDEX_URL` ..., whatever the case, `-`/`_` and leading dashes), and its value is
  any URL but the user's index (any scheme), a host, a variable or secret (a value that cannot
  be read), or a folder for links; or
- a key above it names a package source (`index`, `source(s)`, `pypi`, `repositories`,
  `indexserver`, Dependabot's python-index `registries`) and it is a URL but the user's.

Project metadata (`[project]`, `urls`, a package's direct reference under dependencies or
`tool.uv.sources`) is no source, nor an explicit index only projects forkvet's import table
knows are routed to (a framework's wheel index). A package manager's own configuration file
that does not parse is unread: the scan fails closed on it as on a file past its budget.
"""

from __future__ import annotations

import configparser
import json
import tomllib
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from forkvet import rx, safeparse, safeyaml

MAX_LEAVES = 20_000  # strings looked at in one file
MAX_DEPTH = 32

# Package managers' configuration files, by name: one that does not parse is unread.
TOML_CONFIGS = frozenset(
    {"pyproject.toml", "uv.toml", "poetry.toml", "pdm.toml", ".pdm.toml", "pixi.toml", "pipfile"}
)
INI_CONFIGS = frozenset(
    {"setup.cfg", "tox.ini", "pip.conf", "pip.ini", ".pypirc", ".pydistutils.cfg"}
)
_DEPENDABOT = rx.compile(r"^dependabot\.ya?ml$")
# Renovate's files, JSON5 ones included: a JSON5 file that is not also plain JSON does not
# parse here, so it is unread and the scan fails closed on it (no JSON5 parser is trusted
# with repository text); `package.json` may carry Renovate's configuration under "renovate".
_RENOVATE = rx.compile(
    r"^(?:renovate(?:-config)?\.json5?|\.renovaterc(?:\.json5?)?|package\.json)$"
)

# Leaf keys, normalized (lower case, `_` as `-`, leading dashes and a tool's variable prefix
# dropped): the kind of index setting they are.
_LEAF = {
    "index-url": "index",
    "index-urls": "index",
    "extra-index-url": "index",
    "extra-index-urls": "index",
    "default-index": "index",
    "index": "index",
    "indexes": "index",
    "pypi-url": "index",
    "pypi-mirror": "index",
    "registry-url": "index",
    "registry-urls": "index",
    "registryurls": "index",
    "trusted-host": "host",
    "trusted-hosts": "host",
    "find-links": "links",
    "dependency-links": "links",
    "no-index": "none",
}
# The keys only pip's and uv's settings have (a data set's `index` is not one).
_PIP_KEYS = frozenset({"index-url", "extra-index-url", "default-index", "find-links"})
_VAR_PREFIX = rx.compile(r"^(?:pip|uv|pdm|pipenv|poetry)-")
# Keys of a table or array of package sources: a URL anywhere under them is one.
_SOURCES = frozenset(
    {"index", "indexes", "indices", "source", "sources", "pypi", "repositories", "indexserver"}
)
# Keys whose values are project metadata or a package's own reference, never a source.
_NOT_SOURCES = frozenset(
    {
        "project", "urls", "dependencies", "dev-dependencies", "optional-dependencies",
        "dependency-groups", "pypi-dependencies", "packages", "dev-packages", "homepage",
        "repository", "documentation", "scripts", "tasks", "extras", "readme", "authors",
    }
)  # fmt: skip
# uv.toml's `[[index]]` and pyproject's `tool.uv.sources`: the routing table, not a source.
_ROUTING = (("tool", "uv", "sources"),)
_URL = rx.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,20}://\S")
_HOST = rx.compile(r"^[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}(?::\d{1,5})?/?$")
_PUBLIC_HOSTS = frozenset({"pypi.org", "pypi.python.org", "files.pythonhosted.org"})
# Renovate: a rule about Python packages (its datasource or manager).
_PY_RENOVATE = rx.compile(r"(?i)pypi|pip|pep621|pep723|poetry|pipenv|setup-cfg|pixi|\buv\b")

Found = tuple[str, str]  # (the value found, what it is)


def norm_key(key: object) -> str:
    """A key as compared: lower case, `_` as `-`, leading dashes and a tool's variable prefix
    (`PIP_`, `UV_` ...) dropped."""
    text = str(key).strip().lower().replace("_", "-").lstrip("-")
    return _VAR_PREFIX.sub("", text)


def leaf_kind(key: object) -> str:
    """The kind of index setting a key is ("index", "links", "none", "host"), or ""."""
    return _LEAF.get(norm_key(key), "")


def is_url(value: str) -> bool:
    return bool(_URL.match(value.strip()))


def _host_counts(value: str, public: Callable[[str], bool]) -> bool:
    host = value.strip().split("/", 1)[0].split(":", 1)[0].lower()
    return bool(_HOST.match(value.strip())) and host not in _PUBLIC_HOSTS and not public(value)


def _walk(
    value: Any, path: tuple[str, ...], skip: set[int], out: list[tuple[tuple[str, ...], str]]
) -> None:
    """Every string under `value` with the keys above it (a list item keeps its list's key),
    except under a skipped table (by id) and project metadata; bounded."""
    if len(out) >= MAX_LEAVES or len(path) > MAX_DEPTH or id(value) in skip:
        return
    if isinstance(value, str):
        out.append((path, value))
    elif isinstance(value, dict):
        for key, sub in list(value.items())[:MAX_LEAVES]:
            key = str(key)
            if norm_key(key) in _NOT_SOURCES or (*path, key) in _ROUTING:
                continue
            _walk(sub, (*path, key), skip, out)
    elif isinstance(value, list):
        for sub in value[:MAX_LEAVES]:
            _walk(sub, path, skip, out)


# The user's own index settings, passed on by name: never the authors' source.
USER_VARIABLES = frozenset(
    f"{tool}_{name}"
    for tool in ("PIP", "UV")
    for name in ("INDEX_URL", "EXTRA_INDEX_URL", "DEFAULT_INDEX", "INDEX", "FIND_LINKS")
)
_TRUE = frozenset({"1", "true", "yes", "on"})


def counts(kind: str, value: str | None, public: Callable[[str], bool]) -> bool:
    """Whether an index setting's value names a source other than the user's index: any URL
    but that one (or pip's default), a reference to a variable or secret, a placeholder, a
    folder for links; `no-index` when turned on."""
    value = (value or "").strip()
    if not value:
        return False
    if kind == "none":
        return value.lower().strip("'\"") in _TRUE
    if "=" in value.split("://", 1)[0]:  # uv's `--index name=URL`
        value = value.split("=", 1)[1]
    if "://" in value:
        return not public(value)
    if value.startswith(("$", "%", "<", "{")):
        # a secret or a variable of the authors', not the user's own setting passed on
        named = rx.match(r"[$%{(<\s]*(?:env:)?([A-Za-z_]\w*)", value)
        return not (named and named.group(1) in USER_VARIABLES)
    return kind == "links" and (value.startswith((".", "~", "/")) or "/" in value)


def walk_values(
    data: Any, public: Callable[[str], bool], skip: set[int] | None = None
) -> Iterator[Found]:
    """The sources of the authors' own in parsed configuration data (module docstring)."""
    leaves: list[tuple[tuple[str, ...], str]] = []
    _walk(data, (), skip or set(), leaves)
    for path, value in leaves:
        value = value.strip()
        if not value or not path:
            continue
        kind = leaf_kind(path[-1])
        shown = ".".join(path)[:60]
        if kind == "host":
            if any(_host_counts(h, public) for h in value.split()[:64]):
                yield value, shown
        elif kind:
            # a key may hold several values (pip.conf's lines, a blank-separated list)
            parts = value.split() if kind != "none" else [value]
            if any(_value_counts(kind, part, public, counts) for part in parts[:64]):
                yield value, shown
        elif any(norm_key(k) in _SOURCES for k in path) and is_url(value) and not public(value):
            yield value, shown


def _value_counts(
    kind: str, value: str, public: Callable[[str], bool], counts: Callable[..., bool]
) -> bool:
    value = value.strip().strip(",")
    if kind == "index" and not is_url(value) and "=" in value and "://" in value:
        value = value.split("=", 1)[1]  # uv's `name=URL`
    return bool(counts(kind, value, public))


# -- the formats -----------------------------------------------------------------------------


def toml_file(
    name: str,
    text: str,
    public: Callable[[str], bool],
    skip_of: Callable[[dict[str, Any]], set[int]],
) -> tuple[list[Found], str]:
    """(sources found, "" or why the file is unread) for a TOML file. A package manager's own
    file is walked whole; any other TOML file only under its `tool` table and top-level
    index settings (a data set's `index` key is not pip's)."""
    try:
        data = safeparse.toml_loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        why = f"{name} is not valid TOML ({str(exc)[:60]})"
        return [], why if name.lower() in TOML_CONFIGS else ""
    skip = skip_of(data)
    if name.lower() in TOML_CONFIGS or name.lower().endswith((".pdm.toml", "uv.toml")):
        return list(walk_values(data, public, skip)), ""
    found = list(walk_values({"tool": data.get("tool")}, public, skip))
    top = {k: v for k, v in data.items() if norm_key(k) in _PIP_KEYS}
    return found + list(walk_values(top, public, skip)), ""


def ini_file(name: str, text: str, public: Callable[[str], bool]) -> tuple[list[Found], str]:
    """(sources found, "" or why unread) for pip.conf, setup.cfg, tox.ini, .pypirc and the like,
    parsed as pip and setuptools parse them (configparser, no interpolation)."""
    parser = safeparse.ini_parser(allow_no_value=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except (configparser.Error, ValueError) as exc:
        return [], f"{name} is not a readable configuration file ({str(exc)[:60]})"
    data: dict[str, dict[str, str]] = {}
    for section in parser.sections()[:256]:
        data[section] = {k: v or "" for k, v in list(parser.items(section))[:512]}
    found = list(walk_values(data, public))
    if name.lower() == ".pypirc":  # twine's repositories: a non-public one holds their packages
        for section, keys in data.items():
            url = keys.get("repository", "")
            host = url.split("://", 1)[-1].split("/", 1)[0].split(":")[0].lower()
            if is_url(url) and not (host in _PUBLIC_HOSTS or host.endswith(".pypi.org")):
                found.append((url, f"{section}.repository"))
    return found, ""


def dependabot_file(name: str, text: str) -> tuple[list[Found], str]:
    """Dependabot's `registries:` entry of a Python index (`type: python-index`)."""
    try:
        data = safeyaml.load(text)
    except (yaml.YAMLError, safeyaml.YamlLimitError, ValueError) as exc:
        return [], f"{name} is not valid YAML ({str(exc)[:60]})"
    registries = data.get("registries") if isinstance(data, dict) else None
    found: list[Found] = []
    for key, entry in list(registries.items())[:64] if isinstance(registries, dict) else []:
        if isinstance(entry, dict) and "python" in str(entry.get("type", "")).lower():
            found.append((str(entry.get("url", "")), f"registries.{key} (python-index)"))
    return found, ""


def renovate_file(name: str, text: str, public: Callable[[str], bool]) -> tuple[list[Found], str]:
    """Renovate's `registryUrls` of a rule about Python packages (its datasource or manager
    names one, or it sits under a Python manager's key), and `hostRules` of type pypi."""
    try:
        data = safeparse.json_loads(text)
    except (json.JSONDecodeError, ValueError) as exc:
        return [], f"{name} is not valid JSON ({str(exc)[:60]})"
    found: list[Found] = []

    def visit(value: Any, under: str, depth: int) -> None:
        if depth > MAX_DEPTH or len(found) >= 3:
            return
        if isinstance(value, list):
            for sub in value[:512]:
                visit(sub, under, depth + 1)
            return
        if not isinstance(value, dict):
            return
        about = (
            under
            + " "
            + " ".join(
                json.dumps(value.get(k))
                for k in ("matchDatasources", "matchManagers", "datasource", "hostType")
                if k in value
            )
        )
        python = bool(_PY_RENOVATE.search(about))
        urls = value.get("registryUrls") or []
        host = value.get("matchHost") or value.get("hostName")
        if python and isinstance(urls, list):
            for url in urls[:64]:
                if isinstance(url, str) and not public(url):
                    found.append((url, "registryUrls"))
        if python and value.get("hostType") and isinstance(host, str) and not public(host):
            found.append((host, "hostRules"))
        for key, sub in list(value.items())[:512]:
            visit(sub, str(key) if _PY_RENOVATE.search(str(key)) else under, depth + 1)

    visit(data, "", 0)
    return found, ""


def structured(
    name: str,
    text: str,
    public: Callable[[str], bool],
    skip_of: Callable[[dict[str, Any]], set[int]],
) -> tuple[list[Found], str] | None:
    """The structured reading of a file by its name, or None when it is not one read so."""
    lowered = name.lower()
    if lowered.endswith(".toml") or lowered == "pipfile":
        return toml_file(name, text, public, skip_of)
    if lowered in INI_CONFIGS:
        return ini_file(name, text, public)
    if _DEPENDABOT.match(lowered):
        return dependabot_file(name, text)
    if _RENOVATE.match(lowered):
        return renovate_file(name, text, public)
    return None


def structured_name(name: str) -> bool:
    """Whether a file of this (lower-case) name is read as structured configuration."""
    return (
        name.endswith(".toml")
        or name == "pipfile"
        or name in INI_CONFIGS
        or bool(_DEPENDABOT.match(name) or _RENOVATE.match(name))
    )
