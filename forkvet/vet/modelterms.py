"""Terms that cover the models rather than the code: model catalogues (a JSON/YAML list of
models with a license each, model-zoo pages), model cards ("intended use: research only"),
adapters and fine-tunes of a research-only base model, and data sets' research-only terms.

The license check turns the first three into restrictions on the weights (commercial use is
then never a plain "yes"); data-set terms are reported apart and decide nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from forkvet import rx, safeparse, safeyaml
from forkvet.snapshot import FileEntry
from forkvet.vet import modelsearch, prosebases
from forkvet.vet.context import Context
from forkvet.vet.licenseterms import BASE_MODELS, clauses
from forkvet.vet.textnorm import fold

MAX_CATALOGUE_BYTES = 512 * 1024
MAX_CATALOGUES = 30


@dataclass
class ModelTerms:
    path: str
    what: str  # what the finding says, e.g. "model catalogue: 3 model(s) under CC-BY-NC-4.0"
    licenses: list[str]  # license names or ids the source gives (to classify), may be empty
    research_only: bool  # the source itself says research / non-commercial only
    # The weights derive from a base model: its license binds them even where it grants
    # commercial use only under a condition (a user threshold), so never a plain yes.
    base_model: bool = False
    # Terms forkvet cannot read offline (weights downloaded from a hub by an id no table
    # knows): commercial use is unclear, naming them (round 20, 19c L2).
    unverified: bool = False


_RESEARCH_ONLY = rx.compile(
    r"(?i)\bnon[- ]?commercial\b|\bresearch[- ](?:purposes?[- ])?only\b|"
    r"\bfor\s+(?:academic\s+|non[- ]?commercial\s+)?research\s+(?:purposes?\s+)?only\b|"
    r"\bcc[- ]by[- ]nc\b|\bnot\s+for\s+commercial\b|"
    # "Non-Production License", "Research License", "academic use only": no commercial use.
    r"\bnon[- ]?production\b|\bresearch\s+licen[cs]e\b|\bacademic\s+(?:use|purposes?)\s+only\b"
)
_MODEL_KEYS = frozenset(
    {
        "model",
        "models",
        "name",
        "model_name",
        "model_id",
        "repo_id",
        "checkpoint",
        "weights",
        "url",
        "ckpt",
        "hf_repo",
        "hub_id",
        "arch",
        "architecture",
    }
)
# A license key by its shape: `license`, `licence`, `license_name`, `model_license`,
# `weights-license`, `LicenseId` (round 20, 19c L11: not a list of spellings).
LICENSE_KEY = rx.compile(
    r"(?i)^(?:[a-z0-9]+[_-]?)*?licen[cs]es?(?:[_-]?(?:name|id|type|spdx|expression))?$"
)
# Files whose license fields have their own reader (package metadata): not read again here.
_METADATA_FILES = frozenset([".zenodo.json", "codemeta.json", "meta.yaml", "meta.yml"])
_CATALOGUE_NAME = rx.compile(
    r"(?i)(?:models?|zoo|catalog(?:ue)?|checkpoints?|weights|registry|hub|pretrained|cards?)"
)
_MODEL_CONFIG = rx.compile(
    r"(?i)^(?:[\w.-]*[-_.])?(?:config|adapter_config|model_index|params)\.(?:json|ya?ml)$"
)
MAX_MODEL_CONFIGS = 10


def research_only_text(text: str) -> bool:
    """The text says research / non-commercial use only."""
    return bool(_RESEARCH_ONLY.search(fold(text)))


def _model_config(fe: FileEntry) -> bool:
    return bool(_MODEL_CONFIG.match(fe.name)) and "data" not in fe.path.lower()


_ZOO_PAGE = rx.compile(
    r"(?i)(?:^|/)(?:model[_-]?zoo|models?|pretrained(?:_models)?|checkpoints|model[_-]?cards?)"
    r"(?:/readme)?\.(?:md|rst)$"
)
_MODEL_CARD = rx.compile(r"(?i)(?:^|/)model[_-]?card[\w.-]*\.(?:md|txt)$")
_INTENDED_USE = rx.compile(
    r"(?is)intended\s+use[^\n]{0,40}\n?(.{0,800})",
)
# A model card's advice anywhere in it ("we advise against employing them for commercial
# purposes", "not intended to be commercially deployed", "we do not currently recommend it
# for commercial use", "not recommended for commercial use") restricts the weights as much.
_ADVISED_NOT_COMMERCIAL = rx.compile(
    r"(?i)\b(?:advise|recommend|caution)\s+against\b[^.\n]{0,80}\bcommercial|"
    r"\bnot\s+(?:intended|meant|suitable)\s+(?:to\s+be\s+|for\s+)?commercial(?:ly)?\b|"
    r"\b(?:do|does|would)\s*(?:not|n't)\s+(?:\w+\s+){0,2}(?:recommend|advise|endorse)\b"
    r"[^.\n]{0,80}\bcommercial|\bnot\s+(?:\w+\s+)?recommended\s+for\b[^.\n]{0,40}\bcommercial"
)
# "Checkpoints should comply with the base LLM's license", "subject to ... the licenses for
# base language models": the weights follow a license that is not the repository's.
_FOLLOWS_BASE_LICENSE = rx.compile(
    r"(?i)\b(?:checkpoints?|weights|models?)\b[^.\n]{0,200}?"
    r"\b(?:comply\s+with|subject\s+to|governed\s+by|follow|inherit)\w*\b[^.\n]{0,200}?"
    r"(?:\bbase\b[^.\n]{0,40}?\blicen[cs]e|\blicen[cs]es?\s+(?:of|for)\s+(?:the\s+)?base\b)"
)
# Base models released for research only (LLaMA 1, OPT-175B, Galactica, Alpaca): weights
# derived from them inherit those terms. Llama 2/3/4 and Code Llama are other licenses.
_RESEARCH_BASE = rx.compile(
    r"(?i)\bllama(?:[-\s_]?(?:7|13|30|33|65)b)?\b|\bopt-(?:66|175)b\b|\bgalactica\b|\balpaca\b"
)
# After "llama": a newer generation, llama.cpp, LlamaIndex or a hub path (meta-llama/...).
_LATER_LLAMA = rx.compile(r"(?i)[-\s._]?(?:2|3|4|\.cpp|[-_]?index)\b|/")
# "LLaMA-Factory", "llama_recipes": a project named after the model, not the model ("LLaMA-7B",
# "LLaMA-based" and "llama-weights" are the model).
_NAMED_AFTER = rx.compile(r"[-_]([A-Za-z]{3,})")
_MODEL_WORDS = frozenset(
    {"model", "models", "weights", "base", "based", "checkpoint", "checkpoints"}
)


def _research_base(text: str) -> tuple[str, int] | None:
    """The research-only base model the text names and where, or None (Code Llama and Llama
    2/3/4 are other licenses: checked around the match, as RE2 has no look-arounds)."""
    for m in _RESEARCH_BASE.finditer(text):
        word = m.group(0)
        if word[:5].lower() == "llama":
            before = text[max(0, m.start() - 5) : m.start()]
            if before[:4].lower() == "code" and (before[4:].isspace() or before[4:] == "-"):
                continue
            if _LATER_LLAMA.match(text, m.start() + 5):
                continue
            project = _NAMED_AFTER.match(text, m.end())
            if project and project.group(1).lower() not in _MODEL_WORDS:
                continue
        return word, m.start()
    return None


def _restricted_base(text: str) -> tuple[str, int, str] | None:
    """A base model under a conditional license (forkvet/data/model_licenses.json): the name,
    where, and the license's key."""
    found = [(m.group(0), m.start(), key) for p, key in BASE_MODELS if (m := p.search(text))]
    return min(found, key=lambda f: f[1]) if found else None


_SENTENCE_END = rx.compile(r"[.!?]\s+|\n\s*\n")


def sentences(text: str) -> list[str]:
    """Sentences: cut after . ! ? and whitespace, or at a blank line."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        end = m.start() + 1 if text[m.start()] in ".!?" else m.start()
        out.append(text[start:end])
        start = m.end()
    out.append(text[start:])
    return out


_DERIVED = rx.compile(
    r"(?i)\b(?:fine[- ]?tun\w*|adapters?|lora|peft|delta\s+weights|instruction[- ]tuned|"
    r"trained\s+on\s+top\s+of|built\s+on|based\s+on|initiali[sz]ed\s+from|derived\s+from)\b"
)
# "based on X", "initialized from X": the base is what follows. "Both Yi and Llama are based
# on the Transformer" derives nothing from Llama.
_DERIVED_BEFORE_BASE = rx.compile(r"(?i)^(?:trained|built|based|initiali[sz]ed|derived)\b")


def _derives_from(sentence: str, base_at: int) -> bool:
    """Whether the sentence says weights derive from the base model named at base_at: a
    fine-tune, adapter or delta beside it, or "based on / built on / derived from" before it."""
    for m in _DERIVED.finditer(sentence):
        if not _DERIVED_BEFORE_BASE.match(m.group(0)) or m.start() < base_at:
            return True
    return False


_DATASET_TERMS = rx.compile(
    r"(?i)(?:data\s*sets?|corpus|images|annotations)\b[^.\n]{0,200}?"
    r"(?:research\s+(?:purposes?\s+)?only|non[- ]?commercial(?:\s+research)?\s+(?:use|purposes?)"
    r"|not\s+for\s+commercial)"
)


def catalogues(ctx: Context) -> list[ModelTerms]:
    """Model lists in JSON/YAML files and model-zoo pages that give each model a license."""
    out: list[ModelTerms] = []
    candidates = [f for f in ctx.snap.files if _is_catalogue_candidate(f)]
    files = candidates[:MAX_CATALOGUES]
    files += [f for f in candidates[MAX_CATALOGUES:] if _model_config(f)][:MAX_MODEL_CONFIGS]
    for fe in files:
        text = ctx.snap.read_text(fe.path)
        if not text:
            continue
        try:
            data = json.loads(text) if fe.suffix == ".json" else safeyaml.load(text)
        except (ValueError, RecursionError, yaml.YAMLError):
            continue
        if fe.suffix == ".cff" and isinstance(data, dict):
            # CITATION.cff: its own license and the preferred citation's, never the
            # licenses of the works it references.
            data = {"license": data.get("license"), "pc": data.get("preferred-citation")}
        licenses = _entry_licenses(data)
        top = _top_licenses(data, fe)
        if (
            len(licenses) >= 2
            or top
            or (licenses and (_CATALOGUE_NAME.search(fe.name) or _model_config(fe)))
        ):
            licenses = licenses + [t for t in top if t not in licenses]
            restricted = sorted({lic for lic in licenses if _RESEARCH_ONLY.search(lic)})
            out.append(
                ModelTerms(
                    fe.path,
                    f"model catalogue {fe.path}: {len(licenses)} model(s) with a license each",
                    sorted(set(licenses)),
                    bool(restricted),
                )
            )
    out += readme_model_table(ctx)
    for fe in ctx.snap.files:
        if fe.suffix not in (".md", ".rst") or fe.vendored or fe.path.count("/") > 2:
            continue
        if _ZOO_PAGE.search(fe.path) or _MODEL_CARD.search(fe.path):
            out += _page_terms(fe.path, ctx.snap.read_text(fe.path) or "")
    return out + _project_readmes(ctx)


MAX_PROJECT_READMES = 30
_README_NAME = rx.compile(r"(?i)^readme(?:\.(?:md|rst|txt))?$")
_WEIGHTS_FOLDER = rx.compile(r"(?i)model|weight|checkpoint|ckpt|pretrained")
_MODEL_SUBJECT = rx.compile(r"(?i)\b(?:the\s+)?(?:models?|weights|checkpoints?)\b")
_DATA_WORDS = rx.compile(r"(?i)\b(?:data\s*sets?|corpus|corpora|annotations)\b")


def _project_readmes(ctx: Context) -> list[ModelTerms]:
    """A sub-project's README (`projects/x/README.md`) that licenses its models for research
    or non-commercial use only: the repository ships or runs those models too."""
    out: list[ModelTerms] = []
    readmes = [
        f
        for f in ctx.snap.files
        if _README_NAME.match(f.name)
        and not f.vendored
        # Sub-projects two folders down; a folder of weights at any depth up to six is the
        # weights' card whatever its headings (round 16).
        and (
            1 <= f.path.count("/") <= 2
            or (f.path.count("/") <= 6 and _WEIGHTS_FOLDER.search(f.path.rsplit("/", 1)[0]))
        )
    ]
    readmes.sort(key=lambda f: (not _WEIGHTS_FOLDER.search(f.path.rsplit("/", 1)[0]), f.path))
    for fe in readmes[:MAX_PROJECT_READMES]:
        text = fold((ctx.snap.read_text(fe.path) or "")[:100_000])
        if "licen" not in text.lower():
            continue
        # A heading or a BibTeX block runs into the next sentence without a blank line.
        lines = [line for sent in sentences(text)[:2000] for line in sent.split("\n")]
        for sentence in lines[:5000]:
            if (
                len(sentence) < 400
                and "licen" in sentence.lower()
                and _MODEL_SUBJECT.search(sentence)
                and not _DATA_WORDS.search(sentence)
                and {"non-commercial", "research-only"} & set(clauses(sentence))
            ):
                said = " ".join(sentence.split())[:160]
                what = f"{fe.path} licenses its models for research only: {said!r}"
                out.append(ModelTerms(fe.path, what, [], True))
                break
        if out:
            return out
    return out


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def readme_model_table(ctx: Context) -> list[ModelTerms]:
    """A README table of models with a License column: a row under research-only or
    non-production terms restricts the weights the repository runs."""
    path = ctx.snap.readme.path if ctx.snap.readme else "README"
    column: int | None = None
    named: list[str] = []
    found: ModelTerms | None = None
    for line in ctx.readme[:200_000].splitlines()[:5000]:
        if not line.lstrip().startswith("|"):
            column = None  # the table ended
            continue
        cells = _cells(line)
        if column is None:
            column = next((i for i, c in enumerate(cells) if _TABLE_LICENSE.fullmatch(c)), None)
            continue
        cell = _cell_text(cells[column]) if column < len(cells) else ""
        if not cell:
            continue
        model = " ".join(cells[0].split())[:60]
        what = f"{path}: the model table puts {model!r} under {cell[:80]!r}"
        if _RESEARCH_ONLY.search(fold(cell)):
            return [ModelTerms(path, what, [cell[:200]], True)]
        # Every other cell is a license name the license check must know ("NC", "Llama 2",
        # "Academic": not a known grant, so commercial use is unclear; round 19c, L16).
        if cell not in named:
            named.append(cell[:200])
            found = found or ModelTerms(path, what, named, False)
    return [found] if found else []


_LINK_TEXT = rx.compile(r"\[([^\]\n]{0,200})\]\([^)\n]{0,500}\)")
_NO_VALUE = rx.compile(r"(?i)[-–—/.*_` ]*|n/?a|none|tbd|see\s+(?:above|below)")


def _cell_text(cell: str) -> str:
    """A table cell's text: a link's text, no emphasis; "" for an empty or "-" cell."""
    text = _LINK_TEXT.sub(lambda m: m.group(1), cell).strip(" *_`")
    return "" if _NO_VALUE.fullmatch(text) else text


# The header cell of a table's license column ("License", "**Licence**", "Model license").
_TABLE_LICENSE = rx.compile(
    r"(?i)[*_` ]*(?:model\s+|weights?\s+)?(?:licen[cs]es?|usage|terms(?:\s+of\s+use)?)[*_` ]*"
)


def _top_licenses(data: Any, fe: FileEntry) -> list[str]:
    """A config's own top-level license keys (a Hugging Face `config.json`, a Lightning
    `hparams.yaml`, `"model_license": …`): the weights' license (round 18 F4, round 20 L11);
    a data set's metadata and package metadata (read elsewhere) are not."""
    if not isinstance(data, dict) or "data" in fe.path.lower() or fe.name in _METADATA_FILES:
        return []
    return [v[:200] for k, v in data.items() if LICENSE_KEY.match(str(k)) and isinstance(v, str)][
        :5
    ]


def _is_catalogue_candidate(fe: FileEntry) -> bool:
    return (
        fe.suffix in (".json", ".yaml", ".yml", ".cff")
        and 0 < fe.size <= MAX_CATALOGUE_BYTES
        and not fe.vendored
        and fe.path.count("/") <= 3
        and not fe.path.startswith((".github/", "node_modules/"))
        and fe.name not in ("package.json", "package-lock.json", "tsconfig.json")
    )


def _entry_licenses(data: Any, depth: int = 0) -> list[str]:
    """The license of each model-like entry (a mapping with a license key and a model key)."""
    if depth > 6:
        return []
    out: list[str] = []
    if isinstance(data, dict):
        keys = {str(k).lower() for k in data}
        lic = next((v for k, v in data.items() if LICENSE_KEY.match(str(k))), None)
        if isinstance(lic, str) and (keys & _MODEL_KEYS or depth > 0):
            out.append(lic[:200])
        for value in list(data.values())[:2000]:
            if isinstance(value, dict | list):
                out += _entry_licenses(value, depth + 1)
    elif isinstance(data, list):
        for item in data[:2000]:
            out += _entry_licenses(item, depth + 1)
    return out[:500]


def _page_terms(path: str, text: str) -> list[ModelTerms]:
    text = fold(text[:200_000])  # a look-alike "nоn-commercial" reads as written
    if _MODEL_CARD.search(path):
        m = _INTENDED_USE.search(text)
        if m and _RESEARCH_ONLY.search(m.group(1)):
            return [ModelTerms(path, f"model card {path}: intended use is research only", [], True)]
        advice = _ADVISED_NOT_COMMERCIAL.search(text)
        if advice:
            what = f"model card {path} advises against commercial use: {advice.group(0)!r}"
            return [ModelTerms(path, what, [], True)]
        return []
    m = _RESEARCH_ONLY.search(text)
    if m:
        line = text[text.rfind("\n", 0, m.start()) + 1 : text.find("\n", m.end())]
        what = f"model docs {path} mark models {m.group(0).strip()}: {' '.join(line.split())[:120]}"
        return [ModelTerms(path, what, [], True)]
    return []


# "Before you can use the model go to hf.co/org/model and accept the agreement", "request
# access and accept the license": gated weights, under terms the repository does not state.
_GATED = rx.compile(
    r"(?i)\baccept(?:ing)?\s+(?:the|our|its|their|a)\s+(?:[a-z0-9-]+[ \t\n]+){0,3}"
    r"(?:agreement|licen[cs]e|terms)\b"
)
_GATED_SUBJECT = rx.compile(r"(?i)\b(?:models?|weights|checkpoints?)\b")


def gated_weights(ctx: Context) -> ModelTerms | None:
    """The README saying the weights can be had only after accepting an agreement or license:
    their terms are not the code's, so commercial use is not a plain yes."""
    path = ctx.snap.readme.path if ctx.snap.readme else "README"
    for sentence in sentences(ctx.readme[:100_000])[:3000]:
        if len(sentence) < 600 and _GATED.search(sentence) and _GATED_SUBJECT.search(sentence):
            said = " ".join(sentence.split())[:160]
            return ModelTerms(path, f"{path}: the weights are gated ({said!r})", [], False)
    return None


def research_base(ctx: Context) -> ModelTerms | None:
    """Weights that adapt or fine-tune a research-only base model (a PEFT adapter_config.json
    naming one, or the README saying the model is fine-tuned from one)."""
    for fe in ctx.snap.files:
        if fe.name == "adapter_config.json" and fe.size <= MAX_CATALOGUE_BYTES:
            try:
                cfg = safeparse.json_loads(ctx.snap.read_text(fe.path) or "")
            except ValueError:
                continue
            base = cfg.get("base_model_name_or_path") if isinstance(cfg, dict) else None
            if isinstance(base, str) and _research_base(base):
                what = f"{fe.path}: an adapter of {base}, a research-only base model"
                return ModelTerms(fe.path, what, [], True)
            restricted = _restricted_base(base) if isinstance(base, str) else None
            if restricted:
                what = f"{fe.path}: an adapter of {base}"
                return ModelTerms(fe.path, what, [restricted[2]], False, base_model=True)
    readme = ctx.readme[:100_000]
    path = ctx.snap.readme.path if ctx.snap.readme else "README"
    conditional: ModelTerms | None = None
    for sentence in sentences(readme):
        derived = prosebases.derivation(sentence)  # whatever the verb (round 22d F13)
        if len(sentence) >= 600 or not (derived or _DERIVED.search(sentence)):
            continue
        base = _research_base(sentence)
        if base and (derived or _derives_from(sentence, base[1])):
            what = f"{path}: the weights derive from {base[0]}, a research-only base model"
            return ModelTerms(path, what, [], True)
        restricted = _restricted_base(sentence) or prosebases.named_base(sentence)
        if (
            conditional is None
            and restricted
            and (derived or _derives_from(sentence, restricted[1]))
        ):
            what = f"{path}: the weights derive from {restricted[0]}"
            conditional = ModelTerms(path, what, [restricted[2]], False, base_model=True)
    return _base_license(ctx) or conditional or _loaded_base(readme, path) or _code_base(ctx)


# A README that loads a model by its hub name: `from_pretrained("meta-llama/Llama-2-7b-hf")`,
# `pipeline(model="org/name")`, `hf_hub_download(repo_id="org/name", ...)`.
_LOADS = rx.compile(
    r"(?:from_pretrained|pipeline|snapshot_download|hf_hub_download|load_model)\s*\("
    r"[^)\n]*?[\"']([\w.-]+/[\w.-]+)[\"']"
)


# Round 16: the model the repository's own code runs, named where it is set: a model-path
# setting or constant (`BASE = "org/name"`, `model_name_or_path: org/name`, `"base_model":
# "org/name"`), a command's model argument (`--model_name_or_path org/name`), or an argparse
# default of a model argument. A name listed elsewhere (a table of supported models, a
# tokenizer file) is not what the code runs.
_MODEL_SETTING = rx.compile(
    r"(?i)(?:^|[\s\"'{,(])(?:\w*(?:model|base|ckpt|checkpoint)\w*)[\"']?[ \t]*[=:][ \t]*"
    r"[\"']?([\w.-]+/[\w.-]+)"
)
_MODEL_ARGUMENT = rx.compile(
    r"(?i)--[\w-]*(?:model|base|ckpt|checkpoint)[\w-]*(?:[ \t]+|=)[\"']?([\w.-]+/[\w.-]+)"
)
_MODEL_DEFAULT = rx.compile(
    r"(?i)add_argument\(\s*[\"']--?[\w-]*(?:model|base|ckpt|checkpoint)[\w-]*[\"'][^)\n]*?"
    r"default\s*=\s*[\"']([\w.-]+/[\w.-]+)[\"']"
)


def _set_names(text: str) -> list[str]:
    """The org/name models a text loads or sets (see _MODEL_SETTING), in order, at most 50."""
    out: list[str] = []
    for pattern in (_LOADS, _MODEL_SETTING, _MODEL_ARGUMENT, _MODEL_DEFAULT):
        out += [m.group(1) for m in list(pattern.finditer(text))[:50]]
    return out[:200]


def base_terms(name: str, path: str, how: str, sized: bool = False) -> ModelTerms | None:
    """A loaded or set name's base model terms. sized (the code's settings, where a folder may
    be called `llama` or `alpaca`): a research-only base only by a sized or unique name
    (`llama-7b`, `opt-175b`, `galactica`)."""
    research = _research_base(name)
    if research and (not sized or research[0].lower() not in ("llama", "alpaca")):
        return ModelTerms(path, f"{path}: {how} {name}, a research-only base model", [], True)
    restricted = _restricted_base(name)
    if restricted:
        return ModelTerms(path, f"{path}: {how} {name}", [restricted[2]], False, base_model=True)
    return None


def _code_base(ctx: Context) -> ModelTerms | None:
    """A research-only or conditionally licensed base model the repository's own code, configs,
    scripts or notebooks load or set (round 16): counted as one the README's code loads. The
    texts are the one model search's (modelsearch: its bound is a gap of its own)."""
    for fe, text in modelsearch.searched(ctx).texts:
        if "/" not in text:
            continue
        for name in _set_names(text):
            found = base_terms(name, fe.path, "the code loads", sized=True)
            if found:
                return found
    return None


def _loaded_base(readme: str, path: str) -> ModelTerms | None:
    """The model the README's own code loads or its commands set, when it is a research-only
    or conditionally licensed base: the code runs weights under that license."""
    for name in _set_names(readme)[:100]:
        found = base_terms(name, path, "the README loads")
        if found:
            return found
    return None


def _base_license(ctx: Context) -> ModelTerms | None:
    """The README or a model-zoo page saying the checkpoints follow their base model's
    license: the repository's license does not answer for the weights."""
    pages = [ctx.snap.readme.path] if ctx.snap.readme else []
    pages += [
        f.path
        for f in ctx.snap.files
        if f.suffix in (".md", ".rst") and not f.vendored and _ZOO_PAGE.search(f.path)
    ]
    for path in pages[:10]:
        text = ctx.readme if ctx.snap.readme and path == ctx.snap.readme.path else None
        m = _FOLLOWS_BASE_LICENSE.search((text or ctx.snap.read_text(path) or "")[:200_000])
        if m:
            said = " ".join(m.group(0).split())[:160]
            what = f"{path}: the weights follow their base model's license ({said!r})"
            return ModelTerms(path, what, [], True)
    return None


def dataset_terms(ctx: Context) -> list[str]:
    """Sentences of the README that put a data set under research-only terms."""
    found: list[str] = []
    for m in _DATASET_TERMS.finditer(ctx.readme[:200_000]):
        found.append(" ".join(m.group(0).split())[:200])
        if len(found) >= 3:
            break
    return found
