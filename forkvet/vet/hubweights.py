"""Weights the repository downloads from a hub by name (round 20, 19c L2/L13/L14).

A Hugging Face id the code loads (`from_pretrained`, `pipeline`, `snapshot_download`,
`hf_hub_download`, `SentenceTransformer`, timm's and open_clip's `hf-hub:`, a model-name
setting or argument), one a README or script command downloads (`huggingface-cli download`,
`hf download`), a model card's `base_model` (scalar, block or flow list), an Ollama model
(`ollama run/pull NAME`, a Modelfile's `FROM`) and a torch.hub repository are weights whose
terms live on the hub, which forkvet cannot read offline. Only a data table
(`forkvet/data/hub_models.json`, each entry with its license and where it was read) knows an
id's license: a known id is judged by that license, an unknown one leaves commercial use
"unclear", naming it. A name only mentioned in prose is not loaded and does not count.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import yaml

from forkvet import rx, safeyaml
from forkvet.vet import deplicenses, libraryzoos, modelcalls, modelrefs, modelsearch, weightsmeta
from forkvet.vet.context import Context
from forkvet.vet.modelterms import (
    ModelTerms,
    base_terms,
    research_only_text,
)


def _load_table() -> tuple[dict[str, str], dict[str, str], frozenset[str]]:
    raw = resources.files("forkvet.data").joinpath("hub_models.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(raw)
    known = {m["id"].lower(): m["license"] for m in data["models"]}
    legacy = {k.lower(): v.lower() for k, v in data["legacy"].items()}
    fixtures = frozenset(o["org"].lower() for o in data["fixture_orgs"])
    return known, legacy, fixtures


KNOWN, LEGACY, FIXTURE_ORGS = _load_table()

# The Hub's repository id: a namespace and a name, letters, digits, `-`, `_`, `.`.
_HUB_ID = rx.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")
# A name ending like a file (`checkpoints/model.pth`) is a path, not a repository.
_FILE_END = rx.compile(
    r"(?i)\.(?:pth?|ckpt|bin|safetensors|json|ya?ml|txt|pkl|npz?|h5|onnx|tar|zip|gz|gguf|pb|"
    r"tflite|model|py|csv|jpe?g|png|wav|mp4)$"
)
_STR = r"[\"']([^\"'\n]{1,200})[\"']"
# A loader's call whose first argument is a string: it names the repository (`pipeline`'s
# second positional argument is the model).
_LOADER_CALL = rx.compile(
    r"\b(?:from_pretrained|snapshot_download|hf_hub_download|SentenceTransformer|CrossEncoder|"
    r"from_single_file|load_from_hub|hf_hub_url|pipeline\s*\(\s*" + _STR + r"\s*,)\s*\(?\s*"
    r"[\"']([^\"'\n]{1,200})[\"']"
)
# A download of a data set or a Space (`repo_type="dataset"`, `--repo-type dataset`): no weights.
_NOT_A_MODEL = rx.compile(r"(?i)repo[-_]type[\"']?\s*[=:]?\s*[\"']?(?:dataset|space)")
# `pipeline("task", model="org/name")`, `repo_id="org/name"`: keyword arguments naming a model.
_MODEL_KEYWORD = rx.compile(
    r"\b(?:model|repo_id|pretrained_model_name_or_path|model_id|model_name)\s*=\s*" + _STR
)
# A loader given a variable (`from_pretrained(MODEL_ID)`, `model=args.model`): the string the
# file assigns to that name, or the default of the option of that name, is what it loads.
_LOADER_VAR = rx.compile(
    r"\b(?:(?:from_pretrained|snapshot_download|hf_hub_download|SentenceTransformer|CrossEncoder|"
    r"from_single_file)\s*\(\s*|(?:model|repo_id|pretrained_model_name_or_path|model_id)\s*=\s*)"
    r"(?:[A-Za-z_]\w*(?:\(\))?\.)*([A-Za-z_]\w*)\s*[,)\n]"
)
_ASSIGNED = rx.compile(
    r"(?m)\b([A-Za-z_]\w*)\s*(?::[^=\n]{0,80})?=\s*(?:field\(\s*default\s*=\s*)?"
    r"[\"']([^\"'\n]{1,200})[\"']"
)
_OPTION_DEFAULT = rx.compile(
    r"add_argument\(\s*[\"']-{1,2}([\w-]+)[\"'][^)]{0,300}?\bdefault\s*=\s*"
    r"[\"']([^\"'\n]{1,200})[\"']"
)
_HF_HUB_PREFIX = rx.compile(r"\bhf-hub:([\w.-]+/[\w.-]+)")
_CLI_DOWNLOAD = rx.compile(
    r"\b(?:huggingface-cli|hf)[ \t]+download[ \t]+(?:--?[\w-]+[ \t]+)*([\w.-]+/[\w.-]+)"
)
# A clone of the Hub's repository (`git clone https://huggingface.co/org/name ckpt`) and a
# server started on a Hub id (`vllm serve org/name`) download it too (round 20c, F5).
_HUB_CLONE = rx.compile(
    r"\bgit[ \t]+(?:lfs[ \t]+)?clone[ \t]+(?:--?[\w=.-]+[ \t]+)*https?://"
    + modelrefs.HUB_HOSTS
    + r"/(?:models/)?"
    r"([\w.-]+/[\w-]+(?:\.[\w-]+)*?)(?:\.git)?(?:[\s/\"')]|$)"
)
_SERVE = rx.compile(
    r"\b(?:vllm|sglang|lmdeploy|text-generation-launcher|mlx_lm\.server)[ \t]+"
    r"(?:serve|launch_server)?[ \t]*(?:--?[\w-]+[ \t]+)*([\w.-]+/[\w.-]+)"
)
_TORCH_HUB = rx.compile(r"\bhub\.(?:load|list|help)\s*\(\s*(?:repo_or_dir\s*=\s*)?" + _STR)
# A setting or argument whose key names a model by name or id (`model_name_or_path`,
# `base_model`, `--model_id`); a key naming a path (`model_path`, `ckpt_dir`) is a local path.
_SETTING = rx.compile(
    r"(?im)(?:^|[\s\"'{,(])(-{0,2})([\w-]*(?:model|base)[\w-]*)[\"']?([ \t]*[=: \t])[ \t]*"
    r"([\"']?)([\w.-]+/[\w.-]+)(?:[\"'\s,)}]|$)"
)
_NAME_KEY = rx.compile(r"(?i)name|id\b|_id|repo|hub|^-*(?:base_?model|model)$")
_OLLAMA = rx.compile(r"\bollama[ \t]+(?:run|pull)[ \t]+([\w./:-]+)")
_MODELFILE_FROM = rx.compile(r"(?im)^FROM[ \t]+(\S+)")
_MODELFILE_LICENSE = rx.compile(r'(?ism)^LICENSE[ \t]+(?:"""(.*?)"""|([^\n]+))')
# The Hub's own front-matter block (huggingface_hub.repocard.REGEX_YAML_BLOCK): leading blank
# lines allowed, `---` then a line break, the block, a line break and `---`.
_FRONT_MATTER = rx.compile(
    r"\A\ufeff?\s*---(?:\r\n|\r|\n)((?s:.*?))(?:\r\n|\r|\n)---[ \t]*(?:\r\n|\n|\z)"
)
_CARD = rx.compile(r"(?i)^(?:readme|model[-_ ]?card[\w.-]*)\.(?:md|markdown|txt)$")
MAX_IDS = 200
MAX_CARDS = 2000  # cards at any depth (21d F12: a bound hit is a gap, below)


def _strings(text: str, tree: frozenset[str], python: bool = False) -> list[str]:
    """The hub ids a code text or command text loads or downloads, in order. In Python a
    setting's value is a string literal (`model = a/b` is arithmetic)."""
    out: list[str] = []
    for pattern in (
        _LOADER_CALL,
        _MODEL_KEYWORD,
        _HF_HUB_PREFIX,
        _CLI_DOWNLOAD,
        _HUB_CLONE,
        _SERVE,
    ):
        out += [
            m.group(m.lastindex or 1).strip()
            for m in list(pattern.finditer(text))[:100]
            if not _NOT_A_MODEL.search(_call(text, m.start(), m.end()))
        ]
    for m in list(_SETTING.finditer(text))[:100]:
        # `model_name_or_path`: a name; `model_path`: a path
        # `model_name_or_path`: a name; `model_path`: a path. "the model acme/x" is prose:
        # a value after a space only follows an option (`--model_id acme/x`).
        option = m.group(1) or m.group(3).strip()
        if _NAME_KEY.search(m.group(2)) and option and (m.group(4) or not python):
            out.append(m.group(5))
    out += _variables(text) if python else []
    out += ["github:" + m.group(1).split(":")[0] for m in list(_TORCH_HUB.finditer(text))[:20]]
    for m in list(_OLLAMA.finditer(text))[:20]:
        out.append(_ollama(m.group(1)))
    return [i for i in out if i and _is_hub(i, tree)]


def _variables(text: str) -> list[str]:
    """The strings a Python file assigns to the names its loaders are given (a constant, a
    dataclass field's default, an argparse option's default)."""
    names = {m.group(1) for m in list(_LOADER_VAR.finditer(text))[:100]}
    if not names:
        return []
    values = [(m.group(1), m.group(2)) for m in list(_ASSIGNED.finditer(text))[:5000]]
    values += [(m.group(1).replace("-", "_"), m.group(2)) for m in _OPTION_DEFAULT.finditer(text)]
    return [value for name, value in values if name in names][:100]


def _call(text: str, start: int, end: int) -> str:
    """The call (or command line) around a match: from its `(`, at most 300 characters
    before, to the first `)` or line end after it."""
    opened = text.rfind("(", max(0, start - 300), start)
    ends = [i for i in (text.find(")", end), text.find("\n", end)) if i >= 0]
    return text[opened if opened >= 0 else start : min(ends, default=len(text)) + 1]


def _ollama(name: str) -> str:
    """An Ollama model name as a table id: `hf.co/org/name` is a Hugging Face id; a library
    name loses its tag (`llama3.1:8b` → `ollama:llama3.1`)."""
    for prefix in ("hf.co/", "huggingface.co/"):
        if name.startswith(prefix):
            return name[len(prefix) :].split(":")[0]
    return "ollama:" + name.split(":")[0].removeprefix("library/")


def _is_hub(name: str, tree: frozenset[str]) -> bool:
    """A hub id, not a local path: the id's shape, not a file name, and not a file or folder
    of the tree (transformers loads a folder that exists). A name under a folder a run writes
    into (`checkpoints/best`) is a local path, but for an id the table or the base-model names
    know; any other folder named like the id's owner hides no download (round 21d, F14). A
    unit-test fixture org's random weights are no weights; a bare name is a hub id only as the
    Hub's legacy ids are."""
    if name.startswith(("ollama:", "github:")):
        return len(name) > 8 and ".." not in name
    if "/" not in name:
        return name.lower() in LEGACY or name.lower() in KNOWN
    if not _HUB_ID.fullmatch(name) or ".." in name or _FILE_END.search(name) or name in tree:
        return False
    if name.split("/")[0] in ("datasets", "spaces"):  # a data set's or a Space's address
        return False
    if name.split("/")[0].lower() in FIXTURE_ORGS:  # random weights a unit test builds on
        return False
    if name.split("/")[0] in tree and modelrefs.OUTPUT_FOLDER.fullmatch(name.split("/")[0]):
        return name.lower() in KNOWN or base_terms(name, "", "") is not None
    return True


def _judge(name: str, path: str, how: str) -> ModelTerms | str | None:
    """The terms of a downloaded id: a base model's (research-only or conditional), the
    table's license, None for a known grant is left to the license check, or the id itself
    when forkvet cannot know its terms."""
    found = base_terms(name.removeprefix("ollama:"), path, how)
    if found:
        return found
    key = LEGACY.get(name.lower(), name.lower())
    lic = KNOWN.get(key)
    if lic is None:
        return name
    what = f"{path}: {how} {name}, weights under {lic}"
    return ModelTerms(path, what, [lic], research_only_text(lic), base_model=True)


def _tree(ctx: Context) -> frozenset[str]:
    """Every name and every `folder/name` pair of the tree, as seen from any folder (a script
    run there): a hub id has two parts."""
    if "hubweights.tree" not in ctx.memo:
        ctx.memo["hubweights.tree"] = frozenset(
            "/".join(parts[i : i + n])
            for f in ctx.snap.files
            for parts in [f.path.split("/")[:12]]
            for n in (1, 2)
            for i in range(len(parts) - n + 1)
        )
    tree: frozenset[str] = ctx.memo["hubweights.tree"]
    return tree


def _known(name: str) -> bool:
    """The table or the base-model names know the id (or the literal part of a computed id)."""
    key = LEGACY.get(name.lower(), name.lower())
    return key in KNOWN or base_terms(name, "", "", sized=True) is not None


def _loaded(ctx: Context) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(id, path, how) for every hub id the README, code, configs and scripts load, and how
    the code files a bound left unsearched (modelsearch.MAX_FILES files, MAX_BYTES in all)."""
    tree = _tree(ctx)
    readme = ctx.snap.readme.path if ctx.snap.readme else "README"
    out = [(i, readme, "loads") for i in _strings(ctx.readme[:200_000], tree)]
    found = modelsearch.searched(ctx)
    for fe, text in found.texts:
        if len(out) >= MAX_IDS:
            break
        if modelsearch.modelfile(fe):
            out += [
                (_modelfile_from(m.group(1)), fe.path, "runs")
                for m in list(_MODELFILE_FROM.finditer(text))[:5]
                if _modelfile_from(m.group(1))
            ]
        elif "/" in text or "ollama" in text:
            out += [(i, fe.path, "loads") for i in _strings(text, tree, modelsearch.is_python(fe))]
    return out + _card_bases(ctx), found.left


def _modelfile_from(name: str) -> str:
    """A Modelfile's `FROM`: a library model or a Hub id; a local file (`./x.gguf`) is ""."""
    if name.startswith((".", "/", "~")) or _FILE_END.search(name):
        return ""
    return _ollama(name)


def _card_bases(ctx: Context) -> list[tuple[str, str, str]]:
    """A model card's front matter `base_model` (a README, `MODEL_CARD.md`, a weights folder's
    card, at any depth): the Hub's scalar, block list or flow list, read as YAML (19c L13),
    and a Space card's `models:`."""
    out: list[tuple[str, str, str]] = []
    cards = [f for f in ctx.snap.files if _CARD.match(f.name) and not f.vendored]
    cards.sort(key=lambda f: f.path.count("/"))
    for fe in cards[:MAX_CARDS]:
        if fe.size > 1 << 20:
            continue
        fm = _FRONT_MATTER.match((ctx.snap.read_text(fe.path) or "")[:100_000])
        try:
            data = safeyaml.load(fm.group(1)) if fm else None
        except (ValueError, RecursionError, yaml.YAMLError):
            data = None  # read by pattern elsewhere; nothing to add here
        # `base_model`, and a Space card's `models:` (the models the Space runs; 21d F4).
        for key, how in (("base_model", "names as its base model"), ("models", "runs")):
            base = data.get(key) if isinstance(data, dict) else None
            names = base if isinstance(base, list) else [base]
            out += [
                (n.strip(), fe.path, how) for n in names[:20] if isinstance(n, str) and n.strip()
            ]
    if len(cards) > MAX_CARDS:  # judged as an id no table knows: a gap naming the bound
        out.append(
            (
                f"{len(cards) - MAX_CARDS} model cards past {MAX_CARDS} unread",
                cards[MAX_CARDS].path,
                "",
            )
        )
    return out


def downloads(ctx: Context) -> list[ModelTerms]:
    """Terms of the weights the repository downloads: one ModelTerms per known restricted
    id (its license decides) and one naming every id forkvet cannot judge ("unverified")."""
    if "hubweights" in ctx.memo:
        return list(ctx.memo["hubweights"])
    out: list[ModelTerms] = []
    unknown: list[tuple[str, str]] = []
    seen: set[str] = set()
    loaded, left = _loaded(ctx)
    refs = modelrefs.code_names(ctx, lambda n: _is_hub(n, _tree(ctx)), _known)
    computed = [(t, p, "loads the computed id") for p, t in refs.computed]
    named = [c for c in computed if _known(c[0])]  # its literal part names known terms
    forms, run_time = modelcalls.loads(ctx, lambda n: _is_hub(n, _tree(ctx)))  # 22d F8, F10
    unknown += [(what, path) for what, path in run_time]
    for name, path, how in loaded[:MAX_IDS] + refs.names + named + forms:
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        judged = _judge(name, path, how)
        if isinstance(judged, str):
            unknown.append((judged, path))
        elif judged is not None:
            out.append(judged)
    out += _modelfile_licenses(ctx)
    zoo, zoo_unknown = libraryzoos.zoo_loads(ctx)  # models a library names (21d F2)
    out += zoo + weightsmeta.metadata_terms(ctx, _judge)  # weights files' own metadata (F1)
    unknown += zoo_unknown
    out += deplicenses.dependency_terms(ctx)  # code it cannot run without (21d F8)
    unknown += [(f"a computed id {t!r}", p) for t, p, _ in computed if not _known(t)]
    if unknown:
        ids = ", ".join(f"{n} ({p})" for n, p in unknown[:8])
        more = f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
        what = f"weights it downloads: {ids}{more} — terms not verified offline"
        out.append(ModelTerms(unknown[0][1], what, [], False, unverified=True))
    if left:  # a bound that is hit fails closed, and says so
        what = (
            f"{len(left)} code file(s) past the bound ({modelsearch.MAX_FILES} files, "
            f"{modelsearch.MAX_BYTES >> 20} MiB) not searched for weights it downloads, "
            f"from {left[0]}"
        )
        out.append(ModelTerms(left[0], what, [], False, unverified=True))
    ctx.memo["hubweights"] = out
    return list(out)


def _modelfile_licenses(ctx: Context) -> list[ModelTerms]:
    """A Modelfile's `LICENSE` directive: the weights' license in Ollama's own field (19c L14)."""
    out: list[ModelTerms] = []
    for fe in [f for f in ctx.snap.files if modelsearch.modelfile(f) and f.size <= 512 * 1024][:10]:
        for m in list(_MODELFILE_LICENSE.finditer(ctx.snap.read_text(fe.path) or ""))[:3]:
            text = " ".join((m.group(1) or m.group(2) or "").split())
            if text:
                what = f"{fe.path}: the Modelfile's LICENSE says {text[:120]!r}"
                out.append(ModelTerms(fe.path, what, [text[:200]], research_only_text(text)))
    return out
