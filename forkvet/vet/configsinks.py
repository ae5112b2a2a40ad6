"""Config values a library turns into an environment variable, an import, a factory call, an
eval or a credential route (outside attack, round 21a F8, F9, F10, F15, M1). The table of such
sinks is forkvet/data/config_sinks.json; each value is judged where the loader acts on it:

- Hydra's `hydra.job.env_set` (any mapping under an `env_set` key): Hydra puts it in
  `os.environ` before the task runs, so every child process inherits it. A variable that makes
  a loader, a shell or git load or run something (`LD_PRELOAD`, `GIT_CONFIG_*`, `PYTHONPATH`)
  or routes a client (`*_BASE_URL`) is an error; any variable not known inert is NOT verified.
- logging's `dictConfig` (Hydra's `hydra.job_logging` / `hydra_logging`, their config-group
  files `hydra/job_logging/*.yaml`, and any YAML/JSON document with `version: 1` and handlers,
  formatters or filters): a `()` factory and a `class` are imported and called, `ext://` values
  imported. They are judged as config targets are (the repository's own code or a known class:
  configtargets.allowed), plus logging's own stream and file handlers; a file handler's
  `filename` must stay in the run (relative, no `..`: a format string appended to `~/.bashrc`
  is a command). The values it judges are judged by this rule alone (claimed: not as Hydra
  1.0 `class` targets, nor as strings a YOLOv5 loader evaluates).
- logging's `fileConfig` INI (any configparser text with `handler_*`/`formatter_*` sections):
  `class`, `args` and `kwargs` are `eval`ed in logging's namespace; anything beyond literals,
  `sys.stdout`/`sys.stderr` and logging's own classes is an error.
- A committed `.env` (python-dotenv's `load_dotenv()`, docker compose, editors) setting a
  steering or routing variable, and `wandb/settings` (wandb reads it from the working
  directory) with a `base_url` other than W&B's: the user's key goes where the fork says.
- `${oc.env:NAME}` of a secret-looking variable in a config that names a server: a warning
  (M1: the value goes wherever the config hands it)."""

from __future__ import annotations

import ast
import configparser
import fnmatch
import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml

from forkvet import rx, safeparse
from forkvet.report import Risk
from forkvet.vet import configformats, configtargets

# What a sink needs in a text (searched window by window with risks.py's other needs).
# Written for every syntax a reader gives nodes for (`key: v`, `key = v`, `"key" = v`): the walk
# is over parsed nodes, whatever the format (round 22a F2: a dictConfig in TOML passed).
_NEED = rx.compile(
    r"env_set|job_logging|hydra_logging|launcher|(?:^|[\s{,\"'])\(\)[\"']?[ \t]*[:=]|ext://"
    r"|^[ \t]*\[(?:handler|formatter)_|oc\.env:"
    r"|(?:^|[\s{,])[\"']?(?:version|setup|srun_args)[\"']?[ \t]*[:=]",
    rx.M,
)
_MAX_NODES = 200_000
_SECTIONS = ("handlers", "formatters", "filters")


def need(window: str) -> bool:
    return bool(_NEED.search(window))


@cache
def data() -> dict[str, object]:
    """config_sinks.json (toolfiles reads its `tool_files` rows)."""
    text = resources.files("forkvet.data").joinpath("config_sinks.json").read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


def _list(key: str) -> list[str]:
    value = data().get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _matches(name: str, key: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in _list(key))


@dataclass
class Judged:
    """The risks of one text, and the (line, value) of each scalar a sink's rule judged: no
    other rule judges that value there (a dictConfig's `class` is no Hydra 1.0 target, its
    `filename` no string a YOLOv5 loader evaluates). Values, not lines or subtrees: a
    `_target_` beside them (`{class: logging.StreamHandler, _target_: os.system}`) is judged."""

    risks: list[Risk] = field(default_factory=list)
    claimed: set[tuple[int, str]] = field(default_factory=set)

    def judged(self, risk: Risk) -> bool:
        """Whether another rule's risk is about a value this rule judged (it quotes it)."""
        return any(
            line == risk.line and repr(value.strip()[:120]) in risk.message
            for line, value in self.claimed
        )


def named(path: str) -> bool:
    """A file a tool reads by its name from the working directory: a dotenv file,
    `wandb/settings`."""
    return is_dotenv(path) or any(_at(path, s) for s in _settings())


def is_dotenv(path: str) -> bool:
    """A dotenv file by the names the loaders and their users give one: `.env`, `.env.local`
    and every `.env.*`, `prod.env` and every `*.env`, Flask's `.flaskenv` (round 22a F13: only
    `.env` was read, while `load_dotenv(".env.local")` and compose's `env_file:` take any)."""
    name = path.rsplit("/", 1)[-1]
    return name in (".env", ".flaskenv") or name.startswith(".env.") or name.endswith(".env")


def _at(path: str, setting: dict[str, object]) -> bool:
    where = str(setting.get("path", ""))
    return bool(where) and (path == where or path.endswith("/" + where))


def _settings() -> list[dict[str, object]]:
    value = data().get("settings_files")
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


# -- HyperPyYAML `!include:` (round 22a F21) ------------------------------------------------------
_INCLUDE = "!include:"


def include_risk(path: str, tag: str, line: int | None) -> Risk | None:
    """A HyperPyYAML `!include:` tag whose file is outside the tree: load_hyperpyyaml opens it
    (joined to the including file's folder when it knows it, else from the working folder)
    and copies what it holds into the hyperparameters, which runs log and save. Absolute,
    `~`, a drive or `..` leaving the tree from either folder is an error; an in-tree file is
    a config vetted by its content like any other."""
    if not tag.startswith(_INCLUDE):
        return None
    target = tag[len(_INCLUDE) :].strip()
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    inside = all(
        _stays(posixpath.normpath(posixpath.join(base, target.replace("\\", "/"))))
        for base in {folder, ""}
    )
    if inside and target and not target.startswith(("/", "~")) and ":" not in target:
        return None
    return Risk(
        "code-in-data",
        "error",
        f"Config includes a file outside the repository: HyperPyYAML `!include:{target[:120]}` — "
        "load_hyperpyyaml reads that file (any YAML the user can read: a cloud CLI's or a "
        "token's config) into the hyperparameters, which the run copies into its folder and "
        "loggers. Read it before loading this config.",
        path,
        line,
    )


def _stays(normed: str) -> bool:
    return normed != ".." and not normed.startswith(("../", "/"))


# -- INI files in absent submodules -------------------------------------------------------------
_INI = (".ini", ".cfg")


def acts_on_ini(named: str, texts: list[str]) -> bool:
    """Whether a named file is one a loader acts on: an INI/.cfg file only where the tree's
    Python names a loader that acts on its values (config_sinks.json `ini_loaders`: fileConfig
    evaluates them, Hydra's instantiate calls a `_target_`); any other file always."""
    if not named.lower().endswith(_INI):
        return True
    return any(_ini_loaders().search(t) for t in texts)


@cache
def _ini_loaders() -> rx.Pattern[str]:
    words = "|".join(rx.escape(w) for w in _list("ini_loaders"))
    return rx.compile(rf"(?:^|[^A-Za-z0-9_])(?:{words})(?:[^A-Za-z0-9_]|$)")


# -- environment variables ----------------------------------------------------------------------


def env_why(name: str, value: str, strict: bool) -> str:
    """Why setting a variable is a risk ("" when it is not); strict: any variable not known
    inert is NOT verified (Hydra's env_set reaches every child process)."""
    if _matches(name, "env_inert"):
        return ""
    if _matches(name, "env_steering"):
        return (
            f"sets {name}, which makes the dynamic loader, Python, a shell, git or a tool "
            "load or run what it names"
        )
    if _matches(name, "env_routing") and value.strip():
        return (
            f"sets {name} to {value.strip()[:80]!r}: clients send their requests, and the "
            "user's key, there"
        )
    if strict:
        return f"sets {name}, a variable forkvet does not know to be inert (NOT verified)"
    return ""


def _env_risk(path: str, how: str, why: str, line: int | None) -> Risk:
    return Risk(
        "code-in-data",
        "error",
        f"Config sets an environment variable: {how} {why}. Every process the run starts "
        "inherits it; read it before running anything that loads this config.",
        path,
        line,
    )


def named_risks(path: str, text: str | None) -> list[Risk]:
    """A file read by its name (named()): `.env` or a settings file; None: not readable as
    text (binary, too large), NOT verified."""
    if text is None:
        how = "a settings file a tool reads from the working directory"
        return [_env_risk(path, how, "could not be read as text (NOT verified)", None)]
    if is_dotenv(path):
        return dotenv_risks(path, text)
    return settings_risks(path, text)


def dotenv_risks(path: str, text: str) -> list[Risk]:
    """A committed `.env`'s assignments (python-dotenv's grammar: `[export ]KEY=VALUE`)."""
    out: list[Risk] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        why = env_why(key.strip().strip("'\""), value.strip().strip("'\""), strict=False)
        if why:
            out.append(
                _env_risk(path, "a committed .env (load_dotenv(), docker compose, editors)", why, n)
            )
    return out[:3]


def settings_risks(path: str, text: str) -> list[Risk]:
    """A tool's settings file that routes credentials (`wandb/settings` `base_url`)."""
    parser = safeparse.ini_parser()
    try:
        parser.read_string(text)
    except (configparser.Error, RecursionError, ValueError):
        # not read as the tool reads it: NOT verified where it may hold a routing key
        routing = [str(k) for s in _settings() if _at(path, s) for k in _keys(s)]
        if any(k in text.lower() for k in routing):
            return [_route_risk(path, "a file configparser cannot read (NOT verified)")]
        return []
    out: list[Risk] = []
    for s in _settings():
        if not _at(path, s):
            continue
        keys, official = s.get("keys") or [], s.get("official") or []
        for section in parser.sections():
            for key, value in parser.items(section, raw=True):
                if (
                    isinstance(keys, list)
                    and key in keys
                    and isinstance(official, list)
                    and value.strip() not in official
                ):
                    out.append(_route_risk(path, f"[{section}] {key} = {value.strip()[:80]}"))
    return out[:3]


def _keys(setting: dict[str, object]) -> list[object]:
    keys = setting.get("keys")
    return keys if isinstance(keys, list) else []


def _route_risk(path: str, what: str) -> Risk:
    return Risk(
        "code-in-data",
        "error",
        f"Settings file routes credentials: {what} — the tool reads this file from the working "
        "directory and sends its requests, with the user's API key, to that server. Delete it "
        "before running anything from this repository.",
        path,
        None,
    )


# -- YAML / JSON: Hydra env_set, logging dictConfig ---------------------------------------------


def risks(path: str, text: str, own: configtargets.OwnModules) -> Judged:
    """What the sinks of one config text do: Hydra env_set, dictConfig, fileConfig INI,
    `${oc.env:SECRET}` beside a server (three risks of each at most)."""
    out = Judged()
    root = _root_kind(path, text)
    others, unread = configformats.read_other(text)
    bounds = [unread]
    for doc in [*_documents(text, bounds), *(configformats.as_node(d) for d in others)]:
        for kind, node in _sink_nodes(doc, root):
            if kind == "env":
                out.risks += _env_node(path, node)
            elif kind == "launcher":
                out.risks += _launcher_node(path, node)
            else:
                _dictconfig(path, node, own, out)
    if "[" in text:
        out.risks += fileconfig_risks(path, text, own)
    out.risks += secret_risks(path, text)
    unread = next((b for b in bounds if b), "")
    if unread and not configtargets.SPELLED_NEED.search(text):  # else the target rule says it
        out.risks.append(configtargets.bound_risk(path, unread))
    out.risks = list({(r.line, r.message): r for r in out.risks}.values())
    return out


# A Hydra config's header puts its root at a node (`# @package hydra.job_logging`): the root
# is what the node's last key makes it (round 22a F16: `# @package hydra.job.env_set`).
_PACKAGE = rx.compile(r"(?m)^#[ \t]*@package[ \t]+([\w.]+)[ \t]*$")
_ROOT_KINDS = {
    "env_set": "env",
    "job_logging": "logging",
    "hydra_logging": "logging",
    "launcher": "launcher",
}


def _root_kind(path: str, text: str) -> str | None:
    """ "env", "logging" or "launcher" when the document's root is such a node: by its
    `@package` header, or as a Hydra config-group file (`hydra/job_logging/custom.yaml`,
    `hydra/launcher/slurm.yaml`)."""
    if "hydra/job_logging/" in path or "hydra/hydra_logging/" in path:
        return "logging"
    if "hydra/launcher/" in path:
        return "launcher"
    found = _PACKAGE.search(text)
    return _ROOT_KINDS.get(found.group(1).rsplit(".", 1)[-1]) if found else None


def _documents(text: str, bounds: list[str] | None = None) -> Iterator[yaml.Node]:
    """The YAML documents of a text, up to an error (what was composed before it is judged);
    bounds: gets why the composer stopped at forkvet's or libyaml's depth bound."""
    try:
        for doc in configformats.compose_all(text):
            if doc is not None:
                yield doc
    except (yaml.YAMLError, RecursionError, MemoryError, ValueError) as exc:
        bound = not isinstance(exc, (yaml.YAMLError, ValueError))
        if bounds is not None and (bound or configtargets.nesting_bound(exc)):
            bounds.append("YAML nested deeper than forkvet reads")


def _sink_nodes(root: yaml.Node, kind: str | None) -> Iterator[tuple[str, yaml.MappingNode]]:
    """("env", mapping) under an `env_set` key; ("logging", mapping) for a dictConfig: under
    `job_logging`/`hydra_logging`, a logging group file's root, a `version: 1` mapping with
    handlers, formatters or filters; ("launcher", mapping) under a `launcher` key; the root
    itself as `kind` says (`_root_kind`)."""
    if kind and isinstance(root, yaml.MappingNode):
        yield kind, root
    for node in _nodes(root, with_keys=False):
        if not isinstance(node, yaml.MappingNode):
            continue
        keys = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        if not (kind == "logging" and node is root) and _dictconfig_root(keys):
            yield "logging", node
        for key, value in keys.items():
            if isinstance(value, yaml.MappingNode):
                if key == "env_set":
                    yield "env", value
                elif key in ("job_logging", "hydra_logging"):
                    yield "logging", value
                elif key == "launcher":
                    yield "launcher", value


def _dictconfig_root(keys: dict[str, yaml.Node]) -> bool:
    version = keys.get("version")
    return (
        isinstance(version, yaml.ScalarNode)
        and _is_one(version.value)
        and any(isinstance(keys.get(s), yaml.MappingNode) for s in _SECTIONS)
    )


def _is_one(value: str) -> bool:
    """Whether a version value equals 1 as dictConfig compares it (`!= 1`: `1.0` and `true` pass
    too), in any syntax's spelling."""
    v = value.strip().replace("_", "").lower()
    if v in ("true", "yes", "on", "y"):
        return True
    for number in (float, lambda x: int(x, 0)):
        try:
            if number(v) == 1:
                return True
        except ValueError:
            pass
    return False


def line_of(node: yaml.Node) -> int | None:
    """A node's line (None for one a TOML/INI/JSON reader made: configformats.as_node)."""
    mark = node.start_mark
    return None if mark is None else mark.line + 1


def _env_node(path: str, node: yaml.MappingNode) -> list[Risk]:
    out: list[Risk] = []
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            continue
        value = v.value if isinstance(v, yaml.ScalarNode) else ""
        why = env_why(k.value, value if isinstance(value, str) else "", strict=True)
        if why:
            how = "Hydra's hydra.job.env_set (applied to os.environ before the task runs)"
            out.append(_env_risk(path, how, why, line_of(k)))
    return out[:3]


# A Slurm launcher's values that submitit writes into the sbatch script, which a shell runs on
# the cluster node with the user's credentials (round 22a F4): config_sinks.json `launcher`.
_PLAIN_ARG = rx.compile(r"[A-Za-z0-9_=,.:/+%@-]*")


def _launcher_node(path: str, node: yaml.MappingNode) -> list[Risk]:
    """A Hydra launcher's `setup` lines (shell, any entry), `srun_args` beyond plain words and
    `additional_parameters` holding a line break (each becomes an `#SBATCH` line)."""
    table = data().get("launcher")
    fields = table if isinstance(table, dict) else {}
    out: list[Risk] = []
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            continue
        kind = next((str(c) for c, keys in fields.items() if k.value in keys), "")
        for item in _launcher_values(v):
            text = item.value
            if (
                (kind == "shell" and text.strip())
                or (kind == "args" and not _PLAIN_ARG.fullmatch(text))
                or (kind == "lines" and ("\n" in text or "\r" in text))
            ):
                out.append(_launcher_risk(path, k.value, text, line_of(item)))
    return out[:3]


def _launcher_values(node: yaml.Node) -> list[yaml.ScalarNode]:
    """The scalars of a launcher field: itself, a list's items, a mapping's keys and values."""
    if isinstance(node, yaml.ScalarNode):
        return [node]
    if isinstance(node, yaml.SequenceNode):
        return [n for n in node.value if isinstance(n, yaml.ScalarNode)]
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair if isinstance(n, yaml.ScalarNode)]
    return []


def _launcher_risk(path: str, key: str, text: str, line: int | None) -> Risk:
    return Risk(
        "code-in-data",
        "error",
        f"Config hands the cluster a shell line: hydra.launcher `{key}` {text[:120]!r} — the "
        "submitit Slurm launcher writes it into the sbatch script, which a shell runs on the "
        "cluster node with the user's credentials (`python train.py -m`). Read it before "
        "launching this config.",
        path,
        line,
    )


_HOW_LOGGING = (
    "logging.config.dictConfig (Hydra's job_logging/hydra_logging, or a dictConfig file) "
    "imports it and calls it with the entry's other keys"
)


def _dictconfig(
    path: str, node: yaml.MappingNode, own: configtargets.OwnModules, out: Judged
) -> None:
    """A dictConfig's handlers, formatters and filters: `()` and `class` imported and called,
    a file handler's `filename`, every `ext://` value imported; each value is claimed."""
    found: list[Risk] = []
    keys = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    for section in _SECTIONS:
        entries = keys.get(section)
        if not isinstance(entries, yaml.MappingNode):
            continue
        for _, entry in entries.value:
            if isinstance(entry, yaml.MappingNode):
                found += _entry(path, entry, own, out.claimed)
    for scalar in _scalars(node):
        name = scalar.value.strip()
        if not name.startswith("ext://"):
            continue
        out.claimed.add((line_of(scalar) or 0, scalar.value))
        if not _logging_allowed(name[6:].strip(), own, refs=True):
            found.append(_logging_risk(path, "ext://", name[6:].strip(), line_of(scalar)))
    out.risks += found[:3]


def _entry(
    path: str,
    entry: yaml.MappingNode,
    own: configtargets.OwnModules,
    claimed: set[tuple[int, str]],
) -> list[Risk]:
    fields = {k.value: v for k, v in entry.value if isinstance(k, yaml.ScalarNode)}
    out: list[Risk] = []
    for key in ("()", "class", "filename"):
        value = fields.get(key)
        if isinstance(value, yaml.ScalarNode):
            claimed.add((line_of(value) or 0, value.value))
    for key in ("()", "class"):
        value = fields.get(key)
        if not isinstance(value, yaml.ScalarNode):
            continue
        target = value.value.strip()
        line = line_of(value)
        if not _logging_allowed(target, own):
            out.append(_logging_risk(path, key, target, line))
        elif target in _list("file_handlers"):
            name = fields.get("filename")
            where = name.value if isinstance(name, yaml.ScalarNode) else ""
            if not _in_run(where):
                out.append(_logging_file_risk(path, target, where, line))
    return out


def _scalars(root: yaml.Node) -> Iterator[yaml.ScalarNode]:
    return (node for node in _nodes(root, with_keys=True) if isinstance(node, yaml.ScalarNode))


def _nodes(root: yaml.Node, with_keys: bool) -> Iterator[yaml.Node]:
    """Every node under `root` once (aliases make a graph), at most _MAX_NODES; a mapping's
    keys too when `with_keys`."""
    todo: list[yaml.Node] = [root]
    seen: set[int] = set()
    while todo and len(seen) < _MAX_NODES:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            todo.extend(x for k, v in node.value for x in ((k, v) if with_keys else (v,)))


def _logging_allowed(target: str, own: configtargets.OwnModules, refs: bool = False) -> bool:
    return (
        target in _list("logging_classes")
        or (refs and target in _list("logging_refs"))
        or configtargets.allowed(target, own)
    )


# Hydra's own run-folder interpolations in a log file's name (its default job_logging's).
_RUN_DIR = rx.compile(r"\$\{hydra[.:](?:runtime\.output_dir|job\.name|run\.dir|sweep\.dir)\}")


def _in_run(filename: str) -> bool:
    """A log file's name that stays in the run's folder: relative, no `..`, no `~`, no drive,
    nothing computed but Hydra's run folder (its default config's)."""
    name = _RUN_DIR.sub("run", filename.strip())
    if not name or "${" in name or "\\" in name or ":" in name:
        return False
    return not name.startswith(("/", "~")) and ".." not in name.split("/")


def _logging_risk(path: str, key: str, target: str, line: int | None) -> Risk:
    return Risk(
        "code-in-data",
        "error",
        f"Config names a callable to run: {target[:120]!r} as a logging `{key}` "
        f"({_HOW_LOGGING}); it is neither the repository's own code nor one of logging's own "
        "stream and file handlers. Loading the config runs it; read it before running "
        "anything that loads this config.",
        path,
        line,
    )


def _logging_file_risk(path: str, target: str, filename: str, line: int | None) -> Risk:
    return Risk(
        "code-in-data",
        "error",
        f"Config points a log file outside the run: {target} appends to {filename[:120]!r} "
        "(absolute, `~`, `..` or computed). Log lines the config formats, appended to a "
        "startup file (`~/.bashrc`), are commands; read it before running anything that "
        "loads this config.",
        path,
        line,
    )


# -- logging.config.fileConfig INI --------------------------------------------------------------
_LEVELS = frozenset({"CRITICAL", "FATAL", "ERROR", "WARNING", "WARN", "INFO", "DEBUG", "NOTSET"})
_LITERALS = (
    ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.USub, ast.UAdd,
    ast.Load, ast.Expression,
)  # fmt: skip
_HOW_INI = "logging.config.fileConfig evaluates it with eval() in logging's namespace"


def fileconfig_risks(path: str, text: str, own: configtargets.OwnModules) -> list[Risk]:
    """An INI text's `handler_*` and `formatter_*` sections as fileConfig reads them (its
    ConfigParser interpolates): `class` imported (a handler's eval'd first), and the keys
    config_sinks.json `fileconfig_eval` names eval'd (a handler's `args`/`kwargs`, a
    formatter's `defaults` on Python 3.12+: round 22a F12)."""
    parser = safeparse.ini_parser(interpolation=True)
    try:
        parser.read_string(text)
    except (configparser.Error, RecursionError, ValueError):
        return []
    table = data().get("fileconfig_eval")
    evals = table if isinstance(table, dict) else {}
    out: list[Risk] = []
    for section in parser.sections():
        prefix = next((str(p) for p in evals if section.startswith(str(p))), "")
        if not prefix:
            continue
        handler = prefix == "handler_"
        for key in ("class", *evals[prefix]):
            value = _ini_value(parser, section, key, raw=key in _list("fileconfig_raw"))
            if value is None:
                continue
            if key != "class":
                why = _literal_why(value)
            elif handler:
                why = _handler_class_why(value, own)
            else:
                ok = _logging_allowed(value.strip(), own)
                why = (
                    "" if ok else "is imported and called, and it is neither own code nor logging's"
                )
            if why:
                out.append(_ini_risk(path, section, key, value, why))
        where = _ini_file_why(parser, section) if handler else ""
        if where:
            out.append(_ini_risk(path, section, "args", where, "appends outside the run"))
    return out[:3]


def _ini_file_why(parser: configparser.ConfigParser, section: str) -> str:
    """A file handler's file name (its first argument or `filename`) when it leaves the run
    (absolute, `~`, `..`): log lines a format string writes into `~/.bashrc` are commands."""
    klass = (_ini_value(parser, section, "class") or "").strip()
    if f"logging.{klass}" not in _list("file_handlers") and klass not in _list("file_handlers"):
        return ""
    try:
        args = ast.literal_eval((_ini_value(parser, section, "args") or "()").strip())
        kwargs = ast.literal_eval((_ini_value(parser, section, "kwargs") or "{}").strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ""  # not literals: _literal_why names them
    name = kwargs.get("filename") if isinstance(kwargs, dict) else None
    if name is None and isinstance(args, (tuple, list)) and args:
        name = args[0]
    return name if isinstance(name, str) and not _in_run(name) else ""


def _ini_value(
    parser: configparser.ConfigParser, section: str, key: str, raw: bool = False
) -> str | None:
    try:
        return parser.get(section, key, raw=raw, fallback=None)
    except configparser.Error:
        return parser.get(section, key, raw=True, fallback=None)


def _literal_why(value: str) -> str:
    """Why an eval'd `args`/`kwargs` is more than data: literals, logging's level names and
    `sys.stdout`/`sys.stderr` only."""
    try:
        tree = ast.parse(value.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "does not parse as Python (NOT verified: a newer Python may read it)"
    refs = set(_list("logging_refs"))
    heads = {
        id(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and configformats.dotted_name(n) in refs
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if configformats.dotted_name(node) not in refs:
                return f"reaches {ast.unparse(node)[:80]!r}"
        elif isinstance(node, ast.Name):
            if node.id not in _LEVELS and id(node) not in heads:
                return f"names {node.id!r}"
        elif not isinstance(node, _LITERALS):
            return f"is more than data ({type(node).__name__})"
    return ""


def _handler_class_why(value: str, own: configtargets.OwnModules) -> str:
    """fileConfig's handler `class`: eval'd in logging's namespace (`StreamHandler`,
    `handlers.RotatingFileHandler`, and `os.system` too: logging imports os), else imported."""
    name = value.strip()
    if not configtargets.DOTTED.fullmatch(name) and not name.isidentifier():
        return "is an expression, not a class name"
    head = name.split(".", 1)[0]
    if head in _logging_namespace():
        return "" if f"logging.{name}" in _list("logging_classes") else "is no logging handler"
    return "" if _logging_allowed(name, own) else "is neither own code nor logging's"


@cache
def _logging_namespace() -> frozenset[str]:
    import logging

    return frozenset(vars(logging)) | {"handlers", "config"}


def _ini_risk(path: str, section: str, key: str, value: str, why: str) -> Risk:
    return Risk(
        "code-in-data",
        "error",
        f"Config text run as Python: [{section}] {key} = {value.strip()[:120]!r} — {_HOW_INI}, "
        f"and it {why}. Loading the config runs it; read it before running anything that "
        "loads this config.",
        path,
        None,
    )


# -- ${oc.env:SECRET} handed to a config that names a server (M1) --------------------------------
_OC_ENV = rx.compile(r"\$\{oc\.env:[ \t]*([A-Za-z_][A-Za-z0-9_]*)")
_SERVER = rx.compile(r"(?i)\b(?:https?|grpc|wss?|tcp|ftp)://[^\s\"'/]+")


def _own_service(server: str, services: set[str]) -> bool:
    """Whether a server's domain (the label before its top-level domain) is the secret's own
    service (`www.comet.ml` for `COMET_API_TOKEN`; not `hf.example.com` for `HF_TOKEN`)."""
    host = server.split("://", 1)[-1].split(":", 1)[0].lower()
    labels = host.split(".")
    domain = labels[-2] if len(labels) >= 2 else host
    return any(w and w in domain for w in services)


def secret_risks(path: str, text: str) -> list[Risk]:
    """A warning for a secret-looking variable read with `${oc.env:...}` in a config whose
    values name a server that is not the secret's own service (`COMET_API_TOKEN` beside
    comet.ml passes; `HF_TOKEN` beside 203.0.113.7 does not): the value goes wherever the
    config hands it (a logger, a run name). Comments are no values."""
    if "oc.env" not in text:
        return []
    words = set(_list("secret_words"))
    secrets = [
        m.group(1) for m in _OC_ENV.finditer(text) if words & set(m.group(1).upper().split("_"))
    ]
    if not secrets:
        return []
    services = {s.split("_", 1)[0].lower() for s in secrets}
    server = next(
        (
            m.group(0)
            for scalar in (s for doc in _documents(text) for s in _scalars(doc))
            for m in _SERVER.finditer(scalar.value)
            if not _own_service(m.group(0), services)
        ),
        None,
    )
    if server is None:
        return []
    return [
        Risk(
            "secret-to-server",
            "warning",
            f"Config reads secrets from the environment ({', '.join(sorted(set(secrets))[:3])}, "
            f"with OmegaConf's `${{oc.env:...}}`) and names a server ({server[:80]}): "
            "the resolved value goes wherever the config hands it (a logger's run name, a "
            "tracking URI). Check where before running with these variables set.",
            path,
            text.count("\n", 0, text.find("oc.env")) + 1,
        )
    ]
