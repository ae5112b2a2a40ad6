"""Loaders and address forms the loader-argument reader does not follow (outside attack round
22d, F8, F10).

The design inverts the reading: an id-shaped string handed to any load is a download, whatever
the loader, and a load whose model is chosen at run time is a gap. So, besides hubweights' and
modelrefs' readers:

- an `hf://` address (huggingface_hub's file system, pandas/Polars/DuckDB readers) is the id
  it serves; transformers' remote-code reference `"org/name--module.Class"` (a config's
  `auto_map`) loads code and weights from `org/name`; llama.cpp's `-hf`/`--hf-repo` downloads
  its id;
- every string argument (positional, or a keyword naming a model, adapter or repository) of a
  Hugging Face loader (`PeftModel.from_pretrained(base, "org/adapter")`, `load_lora_weights`,
  `load_textual_inversion`, `load_adapter`, `load_ip_adapter`) is a load;
- an Ollama model given to Ollama's Python client or LangChain's Ollama classes
  (`ollama.chat(model="command-r")`) is that Ollama model, as `ollama pull` is;
- a loader given `"/".join([...])` is a computed id;
- a loader given `sys.argv`, `input()`, an environment variable without a default, or an
  argparse option without a default loads a model named at run time: a gap naming it.
"""

from __future__ import annotations

from collections.abc import Callable

from forkvet import rx
from forkvet.vet import modelsearch
from forkvet.vet.context import Context

_STR = r"[\"']([^\"'\n]{1,200})[\"']"
_HF_FS = rx.compile(r"\bhf://(?:models/)?([A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})")
_ID = r"([A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})"
_REMOTE_CODE = rx.compile(r"[\"']" + _ID + r"--[A-Za-z_][\w.]*[\"']")
_LLAMA_CPP_HF = rx.compile(
    r"(?:^|[\s\"'\[,])(?:-hf|-hfr|--hf-repo)(?:[ \t]+|=|[\"'],[ \t]*[\"'])[\"']?"
    r"([A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}?)(?::[\w.-]+)?(?:[\s\"']|$)"
)
_HF_LOADER = rx.compile(
    r"\b(?:\w*from_pretrained|load_lora_weights|load_textual_inversion|load_adapter|"
    r"load_ip_adapter|load_lora_adapter|hf_hub_download|snapshot_download)\s*\("
)
_ARG = rx.compile(r"^\s*(?:\w*(?:model|adapter|repo|lora|pretrained)\w*\s*=\s*)?" + _STR + r"\s*$")
_NOT_A_MODEL = rx.compile(r"(?i)repo[-_]type\s*=\s*[\"'](?:dataset|space)")
_OLLAMA_CLIENT = rx.compile(
    r"\b(?:ollama\.(?:chat|generate|pull|embed|embeddings|create|show|push)|"
    r"(?:Chat)?Ollama(?:LLM|Embeddings|Functions)?|Client\(\)\.(?:chat|generate))\s*\("
)
_OLLAMA_NAME = rx.compile(r"(?:^\s*|\bmodel\s*=\s*)" + _STR)
_JOIN = rx.compile(_STR.replace("{1,200}", "{0,5}") + r"\s*\.join\s*\(\s*[\[(]([^\])\n]{0,300})")
_LOAD_OPEN = (
    r"\b(?:\w*from_pretrained|snapshot_download|hf_hub_download|SentenceTransformer|"
    r"from_single_file|pipeline|load_state_dict_from_url|load_lora_weights|load_adapter)\s*\("
    r"(?:[^()\n]{0,200}?\b(?:model|repo_id|pretrained_model_name_or_path|model_id|model_name)"
    r"\s*=\s*)?\s*"
)
_AT_RUN_TIME = rx.compile(
    _LOAD_OPEN + r"(sys\.argv\b|input\s*\(|os\.environ\s*\[|(?:os\.)?(?:environ\.get|getenv)"
    r"\s*\(\s*[\"'][^\"'\n]*[\"']\s*\))"
)
_OPTION_ARG = rx.compile(_LOAD_OPEN + r"(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)\s*[,)]")


Names = list[tuple[str, str, str]]


def loads(ctx: Context, is_hub: Callable[[str], bool]) -> tuple[Names, list[tuple[str, str]]]:
    """((id, path, how) for the ids these forms load, (what, path) for loads named at run time
    and computed ids)."""
    names: list[tuple[str, str, str]] = []
    gaps: list[tuple[str, str]] = []
    for fe, text in modelsearch.searched(ctx).texts:
        found = _ids(text)
        names += [(i, fe.path, how) for i, how in found if is_hub(i)][:20]
        if modelsearch.is_python(fe):
            names += [(i, fe.path, "runs") for i in _ollama(text)][:20]
            gaps += [(what, fe.path) for what in _run_time(text)][:5]
    return names[:200], gaps[:20]


def _ids(text: str) -> list[tuple[str, str]]:
    out = [(m.group(1), "reads the address of") for m in list(_HF_FS.finditer(text))[:50]]
    out += [(m.group(1), "runs remote code of") for m in list(_REMOTE_CODE.finditer(text))[:50]]
    out += [(m.group(1), "downloads") for m in list(_LLAMA_CPP_HF.finditer(text))[:50]]
    for m in list(_HF_LOADER.finditer(text))[:100]:
        args = _arguments(text, m.end() - 1)
        if _NOT_A_MODEL.search(args):  # a data set's or a Space's download: no weights
            continue
        found = [_ARG.match(part) for part in _flat(args).split(",")[:20]]
        out += [(a.group(1).strip(), "loads") for a in found if a]
    return out


def _ollama(text: str) -> list[str]:
    if "llama" not in text.lower():
        return []
    out = []
    for m in list(_OLLAMA_CLIENT.finditer(text))[:50]:
        for a in _OLLAMA_NAME.finditer(_arguments(text, m.end() - 1)):
            name = a.group(1).strip().split(":")[0]
            if name and "/" not in name.removeprefix("library/"):
                out.append("ollama:" + name.removeprefix("library/"))
            elif name.startswith(("hf.co/", "huggingface.co/")):
                out.append(name.split("/", 1)[1])
    return out


def _run_time(text: str) -> list[str]:
    """The loads whose model is named at run time (see the module's docstring)."""
    out = [
        f"a model named at run time ({m.group(1).strip()[:40]})"
        for m in list(_AT_RUN_TIME.finditer(text))[:5]
    ]
    for m in list(_OPTION_ARG.finditer(text))[:50]:
        option = _option(text, m.group(1))
        if option is not None and not rx.search(r"\bdefault\s*=\s*(?:[^N\s]|N[^o])", option):
            out.append(f"a model named on the command line (--{m.group(1)}, no default)")
    for m in list(_JOIN.finditer(text))[:20]:
        if rx.search(_LOAD_OPEN + r"$", text[max(0, m.start() - 300) : m.start()]):
            out.append(f"a computed id {m.group(0)[:60]!r}")
    return list(dict.fromkeys(out))


def _option(text: str, name: str) -> str | None:
    """The arguments of the argparse option of that name, or None when the file has none."""
    spelled = rx.escape(name).replace("_", "[_-]")
    m = rx.search(
        r"add_argument\(\s*(?:[\"']-\w?[\"']\s*,\s*)?[\"']-{1,2}" + spelled + "[\"']", text
    )
    return _arguments(text, text.find("(", m.start())) if m else None


def _flat(args: str) -> str:
    """Top-level arguments only: the text inside nested brackets dropped."""
    out, depth = [], 0
    for ch in args:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(ch, 0)
        if depth == 0 and ch not in ")]}":
            out.append(ch)
    return "".join(out)


def _arguments(text: str, opened: int) -> str:
    """A call's arguments: from the `(` at opened to the parenthesis closing it (at most 2,000
    characters on)."""
    depth = 0
    for i, ch in enumerate(text[opened : opened + 2000]):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return text[opened + 1 : opened + i]
    return text[opened + 1 : opened + 2000]
