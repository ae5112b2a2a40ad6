"""Places a model is named that the loader-argument reader (hubweights) does not follow
(outside attack round 21d, F3, F4, F10, F12).

The loader-argument reader follows value flows (a literal, a constant, an option's default);
a value-flow enumeration cannot be complete. So, besides it:

- a known id (`forkvet/data/hub_models.json`, or a base-model name) is judged wherever it is
  a string of the code, a config or a notebook — whatever its key (`backbone:`, `vae:`,
  `"translator":`), in a dict of choices, as an environment variable's default;
- a Hub address (`huggingface.co`, `hf.co`, the `hf-mirror.com` mirror, ModelScope) is the
  id it serves: a known id wherever it is linked (a README, a model-zoo page), any id where
  a file of it is fetched (`/resolve/`, `/blob/`), cloned (a command, a `.gitmodules`
  submodule) or named by code;
- a config's `_name_or_path` (what transformers saves: the model it was loaded from) and a
  Hugging Face Space card's `models:` are loads;
- a loader given a computed id (`f"meta-llama/Llama-2-{size}-hf"`, `"org/" + name`,
  `"org/{}".format(x)`) loads a model forkvet cannot name: a gap, unless the literal part
  already names a base model whose terms are known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from forkvet import rx
from forkvet.vet import modelsearch
from forkvet.vet.context import Context

MAX_DOCS = 1000
MAX_DOC_BYTES = 1 << 20
MAX_NAMES = 200

# An id-shaped token with a non-id character (or the text's end) on either side: a path's
# part (`a/b/c`) or an address's (`//host/org/name`) is not one.
_TOKEN = rx.compile(r"(?:^|[^\w./-])([A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})(?:[^\w/-]|$)")
# The Hub's hosts: the Hub, its short host, the hf-mirror.com mirror, ModelScope (`/models/`).
HUB_HOSTS = r"(?:[\w-]+\.)*(?:huggingface\.co|hf\.co|hf-mirror\.com|modelscope\.(?:cn|ai))"
# A Hub address on one of them.
_HUB_URL = rx.compile(
    r"(?i)\bhttps?://"
    + HUB_HOSTS
    + r"/(?:models/)?([A-Za-z0-9][\w.-]{0,95})/([A-Za-z0-9][\w-]{0,95}(?:\.[\w-]+)*?)"
    r"(?:\.git)?(?:[\s/\"'<>)\]#?,;`]|$)"
)
# Folders a run writes into or keeps weights in (`checkpoints/best`, `outputs/run-3`): a name
# under one is a local path, whether or not the folder is committed.
OUTPUT_FOLDER = rx.compile(
    r"(?i)\.?(?:checkpoints?|ckpts?|outputs?|runs?|logs?|results?|weights?|models?|"
    r"pretrained(?:[_-]models?)?|saved?(?:[_-]models?)?|exp(?:eriments?|s)?|work[_-]dirs?|"
    r"snapshots?|lightning_logs|wandb|cache|tmp|artifacts?)"
)
_TEST_FILE = rx.compile(
    r"(?i)(?:^|/)(?:tests?|testing)/|(?:^|/)(?:test_[^/]*|[^/]*_test\.py|conftest\.py)$"
)
_FILE_KINDS = (".git", "/resolve/", "/blob/", "/raw/", "/tree/")
# Pages of the Hub that are not a model's (its documentation, data sets, Spaces, ...).
_NOT_A_MODEL_PAGE = frozenset(
    [
        "datasets",
        "spaces",
        "docs",
        "papers",
        "blog",
        "collections",
        "api",
        "settings",
        "join",
        "login",
        "organizations",
        "tasks",
        "learn",
        "pricing",
        "models",
        "posts",
        "new",
        "search",
        "enterprise",
    ]
)
_NAME_OR_PATH = rx.compile(r"[\"']?_name_or_path[\"']?\s*[:=]\s*[\"']([^\"'\n]{1,200})[\"']")
_LOADER_OPEN = (
    r"\b(?:from_pretrained|snapshot_download|hf_hub_download|SentenceTransformer|CrossEncoder|"
    r"from_single_file|pipeline)\s*\((?:[^()\n]{0,200}?\b(?:model|repo_id|"
    r"pretrained_model_name_or_path|model_id)\s*=\s*)?\s*"
)
# A literal part that names an org, then a computed rest: an f-string, a concatenation, a
# `%` or `.format` template.
_COMPUTED = rx.compile(
    _LOADER_OPEN + r"(?:[fF][\"']([A-Za-z0-9][\w.-]*/[^\"'\n]{0,200}\{[^\"'\n]{0,200})[\"']|"
    r"[\"']([A-Za-z0-9][\w.-]*/[^\"'\n]{0,200})[\"']\s*(?:\+|%|\.format\b))"
)
_ENV_DEFAULT = rx.compile(
    r"(?i)\b(?:environ\.get|getenv)\s*\(\s*[\"']([\w.-]{1,80})[\"']\s*,\s*[\"']"
    r"([^\"'\n]{1,200})[\"']"
)
_IN_LOADER = rx.compile(_LOADER_OPEN + r"(?:os\.)?$")
_MODEL_VAR = rx.compile(r"(?i)model|repo|ckpt|checkpoint|base|weights|hub")
_PATH_VAR = rx.compile(r"(?i)dir|path|folder|root|file|cache|home|url")
_SUBSCRIPT = rx.compile(_LOADER_OPEN + r"(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)\s*\[")
_GITMODULE_URL = rx.compile(r"(?m)^[ \t]*url[ \t]*=[ \t]*(\S+)")


@dataclass(frozen=True)
class Refs:
    names: list[tuple[str, str, str]]  # (id, path, how)
    computed: list[tuple[str, str]]  # (path, the computed id's template)


def code_names(ctx: Context, is_hub: Callable[[str], bool], known: Callable[[str], bool]) -> Refs:
    """(id, path, how) for the models the code, configs and notebooks name outside a loader's
    literal argument, and (path, what) for the loads whose model cannot be named."""
    names: list[tuple[str, str, str]] = []
    computed: list[tuple[str, str]] = []
    judged: dict[str, bool] = {}
    for fe, text in modelsearch.searched(ctx).texts:
        if "/" not in text or len(names) >= MAX_NAMES:
            continue
        # A test's parameter list names the models the library is checked against, not one
        # the repository runs for its users; its loader calls are read like any code's.
        tokens = [] if _TEST_FILE.search(fe.path) else _tokens(text)
        found = [t for t in dict.fromkeys(tokens) if _cached(judged, t, is_hub, known)]
        names += [(t, fe.path, "names") for t in found[:20]]
        names += [(i, fe.path, "names as its base") for i in _name_or_path(text) if is_hub(i)]
        names += [(i, fe.path, "fetches") for i in _hub_urls(text, known, code=True)]
        if modelsearch.is_python(fe):
            names += [(i, fe.path, "loads") for i in _env_defaults(text) if is_hub(i)]
            names += [(i, fe.path, "loads") for i in _choices(text) if is_hub(i)]
            computed += [(fe.path, c) for c in _computed(text, is_hub)]
    names += _submodules(ctx)
    names += _doc_links(ctx, known)
    return Refs(names[:MAX_NAMES], computed[:20])


def _cached(
    judged: dict[str, bool], token: str, is_hub: Callable[[str], bool], known: Callable[[str], bool]
) -> bool:
    """A token that is a known hub id (each token judged once per repository)."""
    if token not in judged:
        judged[token] = known(token) and is_hub(token)
    return judged[token]


def _tokens(text: str) -> list[str]:
    return [m.group(1).rstrip(".") for m in list(_TOKEN.finditer(text))[:5000]]


def _name_or_path(text: str) -> list[str]:
    return [m.group(1).strip() for m in list(_NAME_OR_PATH.finditer(text))[:10]]


def _hub_urls(text: str, known: Callable[[str], bool], code: bool) -> list[str]:
    """The ids of Hub addresses in a text: every one in code (a script fetches what it names),
    in a document a known id, or any id whose file it fetches or whose repository it clones."""
    out: list[str] = []
    for m in list(_HUB_URL.finditer(text))[:500]:
        org, name = m.group(1), m.group(2)
        if org.lower() in _NOT_A_MODEL_PAGE:
            continue
        ident = f"{org}/{name}"
        after = text[m.end(2) : m.end(2) + 9].lower()
        kind = next((k for k in _FILE_KINDS if after.startswith(k)), "")
        cloned = kind == ".git" or rx.search(r"\bclone\b[^\n]{0,200}$", text[: m.start()][-300:])
        if code or known(ident) or kind in ("/resolve/", "/blob/", "/raw/") or cloned:
            out.append(ident)
    return out


def hub_ids(text: str) -> list[str]:
    """The ids of every Hub address in a text (a weights header's `repo_url`)."""
    return _hub_urls(text, lambda _: True, code=True)


def _env_defaults(text: str) -> list[str]:
    """An environment variable's default where the variable names a model (`MT_MODEL`), or
    where a loader reads it: what the code loads when the variable is unset."""
    out = []
    for m in list(_ENV_DEFAULT.finditer(text))[:100]:
        inside = _IN_LOADER.search(text[max(0, m.start() - 300) : m.start()])
        named = _MODEL_VAR.search(m.group(1)) and not _PATH_VAR.search(m.group(1))
        value = m.group(2).strip()
        if (inside or named) and not OUTPUT_FOLDER.fullmatch(value.split("/")[0]):
            out.append(value)
    return out


def _choices(text: str) -> list[str]:
    """A loader given `NAME[key]`: every string value of the dict the file assigns to NAME."""
    out: list[str] = []
    for name in {m.group(1) for m in list(_SUBSCRIPT.finditer(text))[:50]}:
        m = rx.search(
            r"(?m)^[ \t]*" + rx.escape(name) + r"\s*(?::[^=\n]{0,80})?=\s*(?:dict\()?[{(]?", text
        )
        if m:
            body = text[m.end() : m.end() + 5000]
            body = body[: body.find("\n\n")] if "\n\n" in body else body
            out += [v.group(1) for v in rx.finditer(r"[\"']([^\"'\n]{1,200})[\"']", body)]
    return out[:100]


def _computed(text: str, is_hub: Callable[[str], bool]) -> list[str]:
    out = []
    for m in list(_COMPUTED.finditer(text))[:50]:
        template = m.group(1) or m.group(2)
        org = template.split("/")[0]
        if is_hub(org + "/x") and not OUTPUT_FOLDER.fullmatch(org):
            out.append(template)
    return out


def _submodules(ctx: Context) -> list[tuple[str, str, str]]:
    """A `.gitmodules` submodule on the Hub: cloning it downloads the model."""
    out: list[tuple[str, str, str]] = []
    for fe in [f for f in ctx.snap.files if f.name == ".gitmodules" and f.size < 1 << 20][:5]:
        urls = " ".join(
            m.group(1) + " " for m in _GITMODULE_URL.finditer(ctx.snap.read_text(fe.path) or "")
        )
        out += [
            (i, fe.path, "clones as a submodule") for i in _hub_urls(urls, lambda _: True, True)
        ]
    return out


def _doc_links(ctx: Context, known: Callable[[str], bool]) -> list[tuple[str, str, str]]:
    """Hub addresses in the README and the Markdown/reST/text pages (a model zoo's links)."""
    readme = ctx.snap.readme.path if ctx.snap.readme else "README"
    out = [(i, readme, "links") for i in _hub_urls(ctx.readme[:200_000], known, code=False)]
    docs = [
        f
        for f in ctx.snap.files
        if f.suffix.lower() in (".md", ".rst", ".txt", ".markdown")
        and not f.vendored
        and f.size <= MAX_DOC_BYTES
        and (ctx.snap.readme is None or f.path != ctx.snap.readme.path)
    ]
    for fe in docs[:MAX_DOCS]:
        text = (ctx.snap.read_text(fe.path) or "")[:200_000]
        if "http" in text:
            out += [(i, fe.path, "links") for i in _hub_urls(text, known, code=False)]
    return out
