"""Check 7: pretrained-weight and dataset links (README and code), weight files in the tree,
and download scripts."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any
from urllib.parse import ParseResult, urlparse

from forkvet import rx
from forkvet.report import Finding, Weight
from forkvet.snapshot import FileEntry
from forkvet.vet.context import Context
from forkvet.vet.textnorm import line_of

CHECK = "weights"
WEIGHT_EXT = (
    ".pth",
    ".pt",
    ".ckpt",
    ".h5",
    ".hdf5",
    ".pb",
    ".caffemodel",
    ".t7",
    ".npz",
    ".pkl",
    ".pickle",
    ".bin",
    ".onnx",
    ".safetensors",
    ".tflite",
    ".params",
    ".mat",
    ".weights",
    ".model",
    ".tar",
    ".joblib",
    ".msgpack",
    ".gguf",
    ".keras",
)
_URL = rx.compile(r"https?://[^\s<>\"'`)\]}]+")
_HOSTS = {
    "drive.google.com": "Google Drive",
    "docs.google.com": "Google Drive",
    "dropbox.com": "Dropbox",
    "dl.dropboxusercontent.com": "Dropbox",
    "huggingface.co": "Hugging Face",
    "hf.co": "Hugging Face",
    "onedrive.live.com": "OneDrive",
    "1drv.ms": "OneDrive",
    "sharepoint.com": "OneDrive",
    "pan.baidu.com": "Baidu Pan",
    "zenodo.org": "Zenodo",
    "figshare.com": "figshare",
    "download.pytorch.org": "PyTorch",
    "storage.googleapis.com": "Google Cloud Storage",
    "amazonaws.com": "Amazon S3",
    "modelscope.cn": "ModelScope",
    "kaggle.com": "Kaggle",
    "mega.nz": "MEGA",
    "box.com": "Box",
    "tfhub.dev": "TensorFlow Hub",
    "github.com": "GitHub",
    "githubusercontent.com": "GitHub",
    "dl.fbaipublicfiles.com": "Meta",
}
_MODEL_WORDS = rx.compile(
    r"(?i)pre-?trained|checkpoint|ckpt|weights?\b|\bmodels?\b|model[_-]?zoo|snapshot|"
    r"\.pth\b|\bnet[_-]G\b|_models?\b|models?[_/-]"
)
_DATA_WORDS = rx.compile(
    r"(?i)datasets?\b|\bdata\b|_data\b|data[_/-]|corpus|annotations?|\bimages\b|"
    r"train(?:ing)?[ _-]?set|test[ _-]?set|val(?:idation)?[ _-]?set|devkit|benchmark data|"
    r"trainval|\bsplits?\b|\blmdb\b|tfrecords?"
)
# A GitHub repository's releases page (the list, a tag's page, the latest): "All models can
# be downloaded from the releases page" under "Pretrained models" is a weight, a bare "see
# the releases" is not.
_RELEASES_PAGE = rx.compile(r"/[^/]+/[^/]+/releases(?:/tag/[^/]+|/latest)?/?$")
# Pages about a project, not files of it.
_DOC_HOSTS = (
    "shields.io",
    "badge.fury.io",
    "readthedocs.io",
    "readthedocs.org",
    "arxiv.org",
    "paperswithcode.com",
    "colab.research.google.com",
    "openreview.net",
    "doi.org",
    "twitter.com",
    "x.com",
    "youtube.com",
    "youtu.be",
    "wikipedia.org",
    "medium.com",
    "travis-ci.org",
    "travis-ci.com",
    "codecov.io",
    "pypi.org",
    "aclanthology.org",
    "openaccess.thecvf.com",
    "proceedings.neurips.cc",
    "papers.nips.cc",
    "creativecommons.org",
    "opensource.org",
    "gnu.org",
    "github.io",
    "gist.github.com",
    "wixsite.com",
)
_DOC_PATH = rx.compile(
    r"(?i)(?:^/(?:spaces|docs|papers|blog|login|join|pricing|tasks)(?:/|$)|/badge|\.svg$|"
    r"\.(?:html?|pdf|md|php)$|/(?:blob|tree|issues|pull|wiki|actions)/|^/?$)"
)
_DATASET_HOSTS = (
    "host.robots.ox.ac.uk",
    "image-net.org",
    "cocodataset.org",
    "yann.lecun.com",
    "places2.csail.mit.edu",
    "cs.toronto.edu",
    "lsun.cs.princeton.edu",
    "mmlab.ie.cuhk.edu.hk",
)
_ARCHIVE = (
    ".tar",
    ".tar.gz",
    ".tgz",
    ".zip",
    ".7z",
    ".gz",
    ".rar",
    ".tar.bz2",
    ".bz2",
    ".xz",
    ".zst",
    ".zstd",  # GPT-J's step_383500_slim.tar.zstd
    ".lz4",
)
# Weight files committed to the tree: binary, or arrays under a models/weights folder.
_ARRAY_EXT = (".npy", ".npz")
_MODEL_DIR = rx.compile(
    r"(?i)(?:^|/)(?:models?|weights?|pretrained|checkpoints?|ckpts?|snapshots?)/"
)
_CODE_LOADERS = rx.compile(
    r"(?:load_state_dict_from_url|model_zoo\.load_url|load_url|hf_hub_download|"
    r"snapshot_download|get_file|urlretrieve|download_url|gdown\.download)\s*\(\s*"
    r"(?:[\w_]+\s*=\s*)?[\"']([^\"']+)[\"']"
)
# A hub id passed to a loader: org/name, or a bare canonical name (gpt2, bert-base-uncased,
# t5-small) that has a digit or a hyphen, unlike a local folder name (output, checkpoints).
_HUB_ID = r"(?:[A-Za-z0-9][\w.-]*/[\w.-]+|[A-Za-z][A-Za-z]*(?:[\d-][\w.-]*))"
_FROM_PRETRAINED = rx.compile(rf"from_pretrained\(\s*[\"']({_HUB_ID})[\"']")
# nanoGPT's `--init_from=gpt2-xl` / `init_from = 'gpt2'`, the transformers examples'
# `--model_name_or_path bert-base-uncased`: a checkpoint fetched by name at run time.
_INIT_FROM = rx.compile(
    rf"(?:--?|\b)(?:init_from|model_name_or_path|pretrained_model_name_or_path)"
    rf"(?:[ \t]*=[ \t]*|[ \t]+)[\"']?({_HUB_ID})\b"
)
# ... unless the value goes on into a file name (`--init_from=configs/x.yaml`): checked from
# the match's end (RE2 has no look-ahead).
_CONFIG_TAIL = rx.compile(r"[\w/.-]*\.(?:py|ya?ml|json)\b")
# from_pretrained(model_type) with `model_type = 'gpt2'` or `assert model_type in {'gpt2', …}`
# in the same file (minGPT): the first literal it is given names the checkpoint.
_FROM_PRETRAINED_VAR = rx.compile(r"from_pretrained\(\s*([A-Za-z_]\w*)\s*[,)]")
# torch.hub.load('pytorch/vision', 'wide_resnet50_2', pretrained=True): a hub repository's
# entry point, whose checkpoint is fetched at run time.
_TORCH_HUB = rx.compile(
    r"\bhub\.load\(\s*(?:repo_or_dir\s*=\s*)?[\"']([\w.-]+/[\w.-]+)(?::[\w.-]+)?[\"']\s*,"
    r"\s*(?:model\s*=\s*)?[\"']([\w.-]+)[\"']"
)
# models.vgg16(pretrained=True), timm.create_model('resnet50', pretrained=True): a library's
# pretrained checkpoint, downloaded when the call runs (a `def f(pretrained=True)` is not one).
_PRETRAINED_CALL = rx.compile(
    r"([A-Za-z_][\w.]*)\((?:[^()\n]|\([^()\n]*\)){0,300}?\bpretrained\s*=\s*True\b"
)
_NAMED_NEEDLES = (
    "from_pretrained",
    "hub.load",
    "pretrained=True",
    "pretrained = True",
    "init_from",
    "model_name_or_path",
    "kagglehub",
    "gs://",
)
_NOT_HUB_NAMES = frozenset({"scratch", "resume", "none", "null", "true", "false"})
_KAGGLEHUB = rx.compile(r"kagglehub\.model_download\(\s*[\"']([\w.-]+(?:/[\w.-]+)+)[\"']")
_GCS_CHECKPOINT = rx.compile(
    r"gs://[\w.-]+/[^\s\"'`]*?(?:checkpoints?|ckpts?|pretrained|weights|models?)/[^\s\"'`]*"
)
_ZOO_DOC = rx.compile(
    r"(?i)model[_-]?zoo|(?:^|/)(?:pretrained|models?|weights|checkpoints)/readme|"
    r"(?:^|/)(?:models|pretrained|weights|checkpoints)\.(?:md|rst)$"
)
# A text file named for the links it holds: model_download_link.txt, weights_urls.txt.
_LINK_LIST = rx.compile(r"(?i)(?:^|[_-])(?:download[_-]?)?(?:links?|urls?)\.txt$")
_AMBIGUOUS_EXT = (".tar", ".mat", ".bin", ".model", ".pkl", ".pickle", ".npz", ".json")
_DOWNLOADER = rx.compile(r"(?i)^(?:download|fetch|get)[-_]?\w*\.(?:sh|py)$")
_WEIGHT_FILE = rx.compile(
    r"\.(?:pth|pt|ckpt|h5|hdf5|caffemodel|t7|safetensors|onnx|tflite|pb|params)\b|"
    r"(?i:model\.ckpt|checkpoint)"
)
# Files that are never checkpoints, whatever the words around them: licenses, fonts (YOLOv5's
# Arial.ttf), tokenizer and vocabulary files, data tables, and unformatted templates
# ("{:s}/{:s}", "%s") whose real address is only known at run time (a shell script's $FILE
# is kept: the script says which files it fetches).
_NOT_CHECKPOINT = rx.compile(
    r"(?i)(?:^|/)(?:licen[cs]e|copying|notice)(?:[._-][\w.-]*)?$|"
    r"\.(?:ttf|otf|woff2?|ttc|fon|png|jpe?g|gif|svg|webp|bmp|mp4|webm|txt|csv|tsv|jsonl?|parquet|tfrecords?|arrow|xml|ya?ml|"
    r"vocab|merges|spm|bpe|tiktoken)$|"
    r"(?:^|/)(?:tokenizer(?:_config)?(?:\.\w+)?|vocab(?:ulary)?[\w.-]*|merges[\w.-]*|"
    r"special_tokens_map\.json|sentencepiece[\w.-]*|spiece\.model|\w*\.?bpe(?:\.\w+)?|"
    r"encoder\.json)$|"
    r"(?:^|[^$])\{[^{}]*\}|%[sd]"
)
_PRETRAINED_LINK = rx.compile(
    r"(?i)\bpre-?trained[ _-]+(?:models?|weights|checkpoints?|networks?)\b|"
    r"\b(?:download|get)[ _-]+(?:the[ _-]+)?(?:models?|weights|checkpoints?)\b"
)
_HEADING = rx.compile(r"^\s{0,3}(?:(#{1,6})\s+(.+)|(.+)\n([=-])[=-]{2,}\s*$)", rx.M)


def _parse(url: str) -> ParseResult:
    """urlparse, but a malformed address (an unclosed IPv6 literal `http://[::1`, which the
    link pattern stops at the `]`) parses as a link with no host instead of raising: one bad
    link must never cost the rest of the section."""
    try:
        return urlparse(url)
    except ValueError:
        return urlparse("")


def _readable(url: str) -> bool:
    try:
        urlparse(url)
    except ValueError:
        return False
    return True


def _host(url: str) -> str | None:
    netloc = _parse(url).netloc.lower()
    for host, label in _HOSTS.items():
        if netloc == host or netloc.endswith("." + host):
            return label
    return None


def _on(netloc: str, hosts: tuple[str, ...]) -> bool:
    return any(netloc == h or netloc.endswith("." + h) for h in hosts)


_FILE_EXT = WEIGHT_EXT + _ARCHIVE + (".npy", ".json", ".txt", ".csv", ".h5", ".lmdb", ".parquet")
_STRONG_MODEL_PATH = rx.compile(
    r"(?i)(?:^|/)(?:models?|weights?|checkpoints?|ckpts?|pretrained(?:_models?)?|"
    r"\w*_models)(?:/|$)|model[_-]?zoo"
)
_DOWNLOAD_HOSTS = (
    "drive.google.com",
    "docs.google.com",
    "dropbox.com",
    "dl.dropboxusercontent.com",
    "onedrive.live.com",
    "1drv.ms",
    "sharepoint.com",
    "pan.baidu.com",
    "zenodo.org",
    "figshare.com",
    "download.pytorch.org",
    "storage.googleapis.com",
    "amazonaws.com",
    "modelscope.cn",
    "mega.nz",
    "box.com",
    "tfhub.dev",
    "dl.fbaipublicfiles.com",
    "raw.githubusercontent.com",
    "media.githubusercontent.com",
    # Other cloud drives and object stores research code shares checkpoints from.
    "yadi.sk",
    "disk.yandex.ru",
    "disk.yandex.com",
    "cloud.mail.ru",
    "mediafire.com",
    "blob.core.windows.net",
    "aliyuncs.com",
    "bcebos.com",
    "myqcloud.com",
    "r2.dev",
    "backblazeb2.com",
    "digitaloceanspaces.com",
    "osf.io",
    "cloud.tsinghua.edu.cn",
    "share.weiyun.com",
    "drive.usercontent.google.com",
)


def _decide(texts: tuple[str, ...]) -> str | None:
    for text in texts:
        model, data = _MODEL_WORDS.search(text), _DATA_WORDS.search(text)
        if model and not data:
            return "weight"
        if data and not model:
            return "dataset"
    return None


def classify_url(
    url: str, line: str = "", heading: str = "", label: str = "", near: str = ""
) -> str | None:
    """ "weight", "dataset" or None (documentation, badges, papers, project pages).

    `heading`: the link's section heading, then the headings that enclose it, one a line
    ("ImageNet" under "Pretrained models").

    Only downloadable things count: files, cloud-drive and storage links, hub ids, model zoos.
    The file name speaks first, then its folder, then the line around the link, then the
    section heading.
    """
    parsed = _parse(url)
    if not parsed.netloc:
        return None  # not an address urllib can read
    netloc, path = parsed.netloc.lower().split(":")[0], parsed.path
    if _on(netloc, ("huggingface.co", "hf.co")):
        path = rx.sub(r"/(?:tree|blob)/.*$", "", path)  # a model repository's file browser
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    bucket, folder = _bucket_and_folder(netloc, low)
    zoo = rx.search(r"(?i)model[_-]?zoo", path)
    if _on(netloc, _DOC_HOSTS) or (
        _DOC_PATH.search(path) and not zoo and not (path in ("", "/") and parsed.fragment)
    ):
        return None
    if _on(netloc, ("huggingface.co", "hf.co", "kaggle.com")):
        return _hub_kind(netloc, low)
    if zoo:
        return "weight"
    github = _on(netloc, ("github.com",))
    release = github and rx.search(r"/(?:releases/download|raw|lfs)/", low)
    is_file = name.endswith(_FILE_EXT) or name.endswith(".t7")
    downloadable = is_file or release or _on(netloc, _DOWNLOAD_HOSTS)
    if github and _RELEASES_PAGE.match(low):
        # Where checkpoints are published: a weight when the link's words or section say so.
        words = (label, near, line, *heading.split("\n"))
        return "weight" if _decide(words) == "weight" else None
    if github and not release:
        # A repository link: a data set's repository says so in its name.
        return "dataset" if _DATA_WORDS.search(name.replace("-", "_")) else None
    if not downloadable:
        # A web page: a folder of models, or a data set's page by its address, or one the
        # link's own words call the pretrained model ("[pretrained model](http://host/x)").
        if _STRONG_MODEL_PATH.search(low) or _PRETRAINED_LINK.search(f"{label} {near}"):
            return "weight"
        return "dataset" if _DATA_WORDS.search(f"{netloc} {low}".replace("-", "_")) else None
    for text in (name, label.lower()):
        if text.endswith(WEIGHT_EXT) and not _ambiguous_file(text):
            return "weight"
    # near: the words just before the link ("Pre-trained: [BtoA](…)") outrank the whole line.
    kind = _decide((label, name, folder, near, line))
    if kind:
        return kind
    if _on(netloc, _DATASET_HOSTS):
        return "dataset"
    if release or _on(netloc, ("download.pytorch.org", "dl.fbaipublicfiles.com")):
        return "weight"
    return _decide((*heading.split("\n"), bucket))


def _hub_kind(netloc: str, low: str) -> str | None:
    """A Hugging Face or Kaggle address: a hub id (org/name, or a file under it) is a model
    repository; their data sets are data."""
    if _on(netloc, ("kaggle.com",)):
        return "dataset" if "/datasets/" in low else None
    if low.startswith("/datasets/"):
        return "dataset"
    segments = [p for p in low.split("/") if p]
    return "weight" if len(segments) >= 2 and segments[0] != "models" else None


def _bucket_and_folder(netloc: str, path: str) -> tuple[str, str]:
    """A storage bucket (`storage.googleapis.com/electra-data/…`) holds everything a project
    stores, its checkpoints too: its name is the weakest evidence, after the section heading.
    Returns (bucket, the folders below it)."""
    folder = path.rsplit("/", 1)[0]
    if netloc == "storage.googleapis.com" or rx.match(r"s3[.-][\w.-]*amazonaws\.com$", netloc):
        parts = folder.lstrip("/").split("/", 1)
        return parts[0], "/" + (parts[1] if len(parts) > 1 else "")
    return "", folder


def _ambiguous_file(name: str) -> bool:
    """An extension that holds weights or anything else (`.tar`, `.mat`), or arrays and pickles
    whose name says data (`tiny_data.npz`, `train_data.pkl`): the words around decide."""
    if name.endswith((".tar", ".mat", ".bin", ".model")):
        return True
    return name.endswith((".npz", ".npy", ".pkl", ".pickle")) and bool(_DATA_WORDS.search(name))


def _looks_binary(ctx: Context, path: str) -> bool:
    try:
        head = ctx.snap.read_bytes(path, 512)
    except OSError:
        return False
    # Text (a prototxt saved as *.pt, a config) has no control bytes but tab and newlines.
    return not head or bool(rx.search(rb"[\x00-\x08\x0e-\x1f]", head))


Add = Callable[[str | None, Weight], None]


def _isolated(
    skipped: list[tuple[str, str]], path: str, step: Callable[..., None], *args: Any
) -> None:
    """Run one file's step: a file this check cannot read (a parser bug, a pathological
    link) becomes a notice, and the links of every other file are still reported."""
    try:
        step(*args)
    except (Exception, RecursionError) as exc:
        skipped.append((path, type(exc).__name__))


def _doc_links(
    doc_path: str, text: str, zoo_page: bool, add: Add, skipped: list[tuple[str, str]]
) -> None:
    """Checkpoint and data links of one README or model-zoo page."""
    headings = _heading_chains(text)
    heading_at = [pos for pos, _ in headings]
    lines = line_of(text)
    ref_uses: dict[str, list[tuple[str, str, str, int]]] = {}  # reference name -> its uses
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:")
        if not _readable(url):
            skipped.append((f"{doc_path}:{lines(m.start())}", "malformed address"))
            continue
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        line = text[start : end if end >= 0 else len(text)].replace(url, " ")
        # The last heading before the link (bisect: a README of 50,000 links and headings).
        before = bisect.bisect_left(heading_at, m.start())
        heading = headings[before - 1][1] if before else ""
        # A Markdown link's text names the file better than a drive id does.
        label = ""
        if text[max(0, m.start() - 2) : m.start()] == "](":
            open_at = text.rfind("[", max(0, m.start() - 300), m.start())
            label = text[open_at + 1 : m.start() - 2] if open_at >= 0 else ""
        link_at = m.start() - len(label) - 3 if label else m.start()
        near = text[max(start, link_at - 40) : max(start, link_at)]
        near = near.rsplit(")", 1)[-1]  # not the previous link's words
        ref = _REF_DEF.match(text[start : m.start()])
        default = heading or ("models" if zoo_page else "")
        kind = classify_url(url, line.replace(label, " "), default, label, near)
        # `[Tacotron 2]: https://drive…` defines a link that "Download our published
        # [Tacotron 2] model" uses: the words are where it is used.
        if ref and ref.group(1) not in ref_uses and len(ref_uses) < 200:
            ref_uses[ref.group(1)] = _ref_uses(text, ref.group(1))
        for use_line, use_label, use_near, at in ref_uses.get(ref.group(1), []) if ref else []:
            before = bisect.bisect_left(heading_at, at)
            use_heading = headings[before - 1][1] if before else default
            kind = classify_url(url, use_line, use_heading, use_label, use_near) or kind
            if kind:
                break
        add(kind, Weight(url, None, _host(url), f"{doc_path}:{lines(m.start())}"))
    _named_checkpoints(doc_path, text, add)


def _heading_chains(text: str) -> list[tuple[int, str]]:
    """(position, the heading and those enclosing it, nearest first, one a line) of every
    Markdown heading; a setext `===` heading is level 1, `---` level 2."""
    chains: list[tuple[int, str]] = []
    open_: list[tuple[int, str]] = []  # (level, title) of the headings enclosing this point
    for m in _HEADING.finditer(text):
        level = len(m.group(1)) if m.group(1) else (1 if m.group(4) == "=" else 2)
        title = (m.group(2) or m.group(3) or "").replace("\n", " ")
        open_ = [*[h for h in open_ if h[0] < level][:5], (level, title)]
        chains.append((m.start(), "\n".join(t for _, t in reversed(open_))))
    return chains


# A Markdown reference definition `[name]: <address>` (the address is matched on its own).
_REF_DEF = rx.compile(r"^[ \t]{0,3}\[([^\]\n]{1,100})\]:[ \t]*<?$")


def _ref_uses(text: str, ref: str) -> list[tuple[str, str, str, int]]:
    """The places a reference definition is used (`[label][ref]`, `[ref][]`, `[ref]`), at
    most 5: (the line without the link, the link's label, the words just before it, where)."""
    needle = f"[{ref}]"
    out: list[tuple[str, str, str, int]] = []
    at = text.find(needle)
    for _ in range(50):  # a page repeating one reference thousands of times: 50 looks
        if at < 0 or len(out) >= 5:
            break
        end = at + len(needle)
        if text[end : end + 1] not in (":", "("):
            label, link_at = ref, at
            if at > 0 and text[at - 1] == "]":  # [label][ref]
                link_at = max(0, text.rfind("[", max(0, at - 300), at - 1))
                label = text[link_at + 1 : at - 1]
            start = text.rfind("\n", 0, link_at) + 1
            stop = text.find("\n", end)
            line = text[start : stop if stop >= 0 else len(text)]
            near = text[max(start, link_at - 40) : link_at].rsplit(")", 1)[-1]
            out.append((line.replace(text[link_at:end], " "), label, near, at))
        at = text.find(needle, end)
    return out


def _code_links(path: str, text: str, add: Add) -> None:
    """Checkpoints a Python file downloads: URLs of weight files, loader calls, hub ids."""
    flines = line_of(text)
    # A checkpoint URL in a string (CLIP's _MODELS table, a download helper's list).
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:")
        url_path = _parse(url).path.lower()
        name = url_path.rsplit("/", 1)[-1]
        if (name.endswith(WEIGHT_EXT) and not name.endswith(_AMBIGUOUS_EXT)) or _model_file_url(
            url_path, name
        ):
            add("weight", Weight(url, None, _host(url) or "code", f"{path}:{flines(m.start())}"))
    _helper_roots(path, text, add)
    for m in _CODE_LOADERS.finditer(text):
        at = flines(m.start())
        url = m.group(1)
        kind = "dataset" if _DATA_WORDS.search(url.rsplit("/", 1)[-1]) else "weight"
        add(kind, Weight(url, None, _host(url) or "code", f"{path}:{at}"))
    _named_checkpoints(path, text, add)


def _model_file_url(url_path: str, name: str) -> bool:
    """A file under a models/checkpoints/pretrained folder of a download address, packed or in
    a format of its own (`…/models/image/imagenet/inception-2015-12-05.tgz`,
    `…/cadl/models/vgg16.tfmodel`); data, text and pages are not checkpoints."""
    if "." not in name or not _STRONG_MODEL_PATH.search(url_path.rsplit("/", 1)[0] + "/"):
        return False
    if _NOT_CHECKPOINT.search(url_path) or _DATA_WORDS.search(name.replace("-", "_")):
        return False
    # Pages, code and model definitions (Caffe's .prototxt, a label map's .pbtxt) are no weights.
    return not name.endswith(_NOT_MODEL_FILES)


_NOT_MODEL_FILES = (
    ".html",
    ".htm",
    ".md",
    ".rst",
    ".py",
    ".ipynb",
    ".pdf",
    ".git",
    ".sh",
    ".pbtxt",
    ".prototxt",
    ".cfg",
    ".c",
    ".h",
    ".cpp",
)


# A pretrained-model download helper (demucs/pretrained.py, hubconf.py, model_zoo.py) and
# address constants named for checkpoints (MODEL_URL, CHECKPOINT_ROOT).
_HELPER_MODULE = rx.compile(r"(?i)^(?:pretrained\w*|hubconf|model_?zoo|download\w*)\.py$")
_CHECKPOINT_CONST = rx.compile(
    r"(?i)(?:model|weight|checkpoint|ckpt|pretrained)s?_?(?:\w+_)?(?:urls?|root|base|prefix)$"
)


def _helper_roots(path: str, text: str, add: Add) -> None:
    """The address a download helper builds checkpoint links from (`ROOT_URL =
    "https://host/demucs/"` joined to names read at run time): a checkpoint source, unless
    it is a page or data."""
    if "http" not in text:
        return  # memchr-speed test first: most modules hold no address
    module = path.rsplit("/", 1)[-1]
    if _DATA_WORDS.search(module.replace("-", "_")):
        return  # download_dataset.py: its addresses are data
    helper = _HELPER_MODULE.search(module) is not None
    flines = line_of(text)
    for m in _PY_URL_CONST.finditer(text):
        if not (helper or _CHECKPOINT_CONST.search(m.group(1))):
            continue
        url = m.group(2)
        parsed = _parse(url)
        netloc = parsed.netloc.lower().split(":")[0]
        if (
            not netloc
            or _on(netloc, _DOC_HOSTS)
            or _DATA_WORDS.search(f"{m.group(1)} {parsed.path}".replace("-", "_"))
            or not (_on(netloc, _DOWNLOAD_HOSTS) or _MODEL_WORDS.search(parsed.path))
        ):
            continue
        add("weight", Weight(url, None, _host(url) or "code", f"{path}:{flines(m.start())}"))


# A shell variable holding an address (`URL=http://host/models`) and its uses
# (`wget ${URL}/x/model.ckpt-0.index`), and a Python constant holding one
# (`PREFIX = 'https://host/'`) joined to a file name (`PREFIX + 'm/prior.pth.tar'`).
_SH_URL_VAR = rx.compile(r"(?m)^\s*(?:export\s+)?([A-Za-z_]\w*)=[\"']?(https?://[^\s\"'`$]+)")
_SH_VAR_USE = rx.compile(r"\$\{?([A-Za-z_]\w*)\}?(/[^\s\"'`;|&>)]+)")
_PY_URL_CONST = rx.compile(r"(?m)^([A-Za-z_]\w*)\s*=\s*[\"'](https?://[^\"'\s]+)[\"']")
_PY_JOINED = rx.compile(r"\b([A-Za-z_]\w*)\s*\+\s*[\"']([^\"'\s]{1,300})[\"']")


def _script_checkpoints(path: str, text: str, add: Add) -> None:
    """Checkpoint files a shell script fetches: an address naming a weight file, whole or
    built from a variable that holds the host's address."""
    slines = line_of(text)
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:")
        name = _parse(url).path.lower().rsplit("/", 1)[-1]
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start : m.start()].lstrip().startswith("#"):
            continue  # `# wget http://…/x.weights`: commented out, not fetched
        if name.endswith(WEIGHT_EXT) and not name.endswith(_AMBIGUOUS_EXT):
            add("weight", Weight(url, None, _host(url) or "script", f"{path}:{slines(m.start())}"))
    prefixes = {m.group(1): m.group(2).rstrip("/") for m in _SH_URL_VAR.finditer(text)}
    if not prefixes:
        return
    for m in _SH_VAR_USE.finditer(text):
        base = prefixes.get(m.group(1))
        name = m.group(2).rsplit("/", 1)[-1]
        if base and _WEIGHT_FILE.search(name) and not _DATA_WORDS.search(name):
            url = base + m.group(2)
            add("weight", Weight(url, None, _host(url) or "script", f"{path}:{slines(m.start())}"))


def _joined_checkpoints(files: list[tuple[str, str]], add: Add) -> None:
    """`PREFIX + 'models/5b/vqvae.pth.tar'` where PREFIX is an address constant of the
    repository's code (often set in another module than the one that joins it)."""
    prefixes: dict[str, str] = {}
    for _, text in files:
        for m in _PY_URL_CONST.finditer(text):
            prefixes.setdefault(m.group(1), m.group(2))
    if not prefixes:
        return
    for path, text in files:
        if not any(name in text for name in prefixes):
            continue
        flines = line_of(text)
        for m in _PY_JOINED.finditer(text):
            base = prefixes.get(m.group(1))
            name = m.group(2).rsplit("/", 1)[-1]
            if base and _WEIGHT_FILE.search(name):
                url = base + m.group(2)
                add(
                    "weight", Weight(url, None, _host(url) or "code", f"{path}:{flines(m.start())}")
                )


def _variable_value(text: str, var: str) -> str | None:
    """The first hub id a variable is set to (or checked against) in the same file."""
    m = rx.search(
        rf"\b{rx.escape(var)}\s*(?:=|\bin\s*[\[{{(])\s*[\"']({_HUB_ID})[\"']", text[:200_000]
    )
    return m.group(1) if m else None


def _named_checkpoints(path: str, text: str, add: Add) -> None:
    """Checkpoints fetched by name, not by address: hub ids given to from_pretrained or an
    --init_from option, Kaggle models, and checkpoint folders on Google Cloud Storage."""
    if not any(n in text for n in _NAMED_NEEDLES):
        return  # memchr-speed test first: the patterns cost ~0.3 s per MB of code otherwise
    flines = line_of(text)
    values: dict[str, str | None] = {}  # one search per variable name, whatever the calls
    by_variable = []
    for m in _FROM_PRETRAINED_VAR.finditer(text):
        if m.group(1) not in values and len(values) < 20:
            values[m.group(1)] = _variable_value(text, m.group(1))
        by_variable.append((m, values.get(m.group(1))))
    for pattern in (_FROM_PRETRAINED, _INIT_FROM):
        for m, name in [(m, m.group(1)) for m in pattern.finditer(text)] + (
            by_variable if pattern is _FROM_PRETRAINED else []
        ):
            if name is None:
                continue
            if pattern is _INIT_FROM and _CONFIG_TAIL.match(text, m.end()):
                continue
            if name.lower() in _NOT_HUB_NAMES or name.startswith(("http", "gs")):
                continue
            at = f"{path}:{flines(m.start())}"
            add("weight", Weight(f"https://huggingface.co/{name}", None, "Hugging Face", at))
    for m in _TORCH_HUB.finditer(text):
        at = f"{path}:{flines(m.start())}"
        hub = f"https://github.com/{m.group(1)} ({m.group(2)})"
        add("weight", Weight(hub, None, "PyTorch Hub", at))
    for m in _PRETRAINED_CALL.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[line_start : m.start()]
        if m.group(1).endswith("hub.load") or rx.search(r"\b(?:def|class)\s*$", before):
            continue
        at = f"{path}:{flines(m.start())}"
        add("weight", Weight(f"{m.group(1)}(pretrained=True)", None, "library", at))
    for m in _KAGGLEHUB.finditer(text):
        at = f"{path}:{flines(m.start())}"
        add("weight", Weight(f"https://www.kaggle.com/models/{m.group(1)}", None, "Kaggle", at))
    for m in _GCS_CHECKPOINT.finditer(text):
        at = f"{path}:{flines(m.start())}"
        add("weight", Weight(m.group(0).rstrip(".,;:)"), None, "Google Cloud Storage", at))


class _Links:
    """Weights and data set links in the order found: each address once, at most 100 a kind."""

    def __init__(self) -> None:
        self.found: dict[str, list[Weight]] = {"weight": [], "dataset": []}
        self.seen: set[str] = set()
        # (path, why) of inputs that could not be read
        self.skipped: list[tuple[str, str]] = []

    def add(self, kind: str | None, w: Weight) -> None:
        key = w.url or w.path or ""
        if kind == "weight" and w.url and _NOT_CHECKPOINT.search(_parse(w.url).path or w.url):
            return
        if kind in self.found and key not in self.seen and len(self.found[kind]) < 100:
            self.seen.add(key)
            self.found[kind].append(w)


# Hosts of personal cloud drives, whose links often expire.
_PERSONAL_DRIVES = ("Google Drive", "Baidu Pan", "Dropbox", "OneDrive", "MEGA", "Box")


def check(ctx: Context) -> tuple[list[Weight], list[Weight], list[Finding]]:
    """(weights, datasets, findings): links in the README and the pages it leads to, then in
    the code, then weight files and download scripts in the tree; then notices."""
    links = _Links()
    _read_docs(ctx, _docs(ctx), links)
    own_code = [(f.path, f.text) for f in ctx.py.files if not f.copy_of]
    for path, text in own_code:
        _isolated(links.skipped, path, _code_links, path, text, links.add)
    _isolated(links.skipped, "code", _joined_checkpoints, own_code, links.add)
    scripts: list[str] = []
    for fe in ctx.snap.files:
        _weight_file(ctx, fe, links.add)
        _download_script(ctx, fe, links.add)
        if fe.suffix == ".sh" and not fe.vendored and 0 < fe.size <= 256 * 1024:
            body = ctx.snap.read_text(fe.path) or ""
            _isolated(links.skipped, fe.path, _script_checkpoints, fe.path, body, links.add)
        if fe.suffix == ".sh" and rx.search(r"download|fetch|get_|weights|models?", fe.name, rx.I):
            scripts.append(fe.path)
            _download_script_links(ctx, fe, links.add)
    out, datasets = links.found["weight"], links.found["dataset"]
    findings = _scripts_notice(scripts) + _skipped_notice(links.skipped) + _drives_notice(out)
    return out, datasets, findings


def _docs(ctx: Context) -> list[tuple[str, str]]:
    """(path, text) of the README, model-zoo pages and documentation pages the README links."""
    docs: list[tuple[str, str]] = []
    if ctx.snap.readme:
        docs.append((ctx.snap.readme.path, ctx.readme))
    # Model-zoo pages (MODEL_ZOO.md, pretrained/README.md) list the checkpoints.
    for fe in ctx.snap.files:
        if (
            fe.suffix in (".md", ".rst")
            and fe.path.count("/") <= 2
            and _ZOO_DOC.search(fe.path)
            and not fe.vendored
            and len(docs) < 6
        ):
            docs.append((fe.path, ctx.snap.read_text(fe.path) or ""))
    # Text files that hold a model's download links (a Caffe zoo's per-model
    # model_download_link.txt), read like a model-zoo page.
    lists = [
        fe
        for fe in ctx.snap.files
        if fe.suffix == ".txt"
        and _LINK_LIST.search(fe.name)
        and _MODEL_WORDS.search(fe.name)
        and not _DATA_WORDS.search(fe.name)
        and not fe.vendored
        and fe.size <= 64 * 1024
    ]
    docs += [(fe.path, ctx.snap.read_text(fe.path) or "") for fe in lists[:10]]
    # Documentation pages the README links (docs/koala.md: "the weights can be downloaded
    # from …"), read like the README itself.
    for fe in ctx.snap.files:
        if (
            fe.suffix in (".md", ".rst")
            and len(fe.parts) == 2
            and fe.parts[0].lower() in ("docs", "doc")
            and not fe.vendored
            and fe.size <= 200_000
            and fe.path in ctx.readme
            and all(fe.path != p for p, _ in docs)
            and len(docs) < 10
        ):
            docs.append((fe.path, ctx.snap.read_text(fe.path) or ""))
    return docs


def _read_docs(ctx: Context, docs: list[tuple[str, str]], links: _Links) -> None:
    readme_path = ctx.snap.readme.path if ctx.snap.readme else ""
    for doc_path, text in docs:
        zoo_page = doc_path != readme_path
        args = (doc_path, text, zoo_page, links.add, links.skipped)
        _isolated(links.skipped, doc_path, _doc_links, *args)


def _weight_file(ctx: Context, fe: FileEntry, add: Add) -> None:
    """A checkpoint in the tree: a weight extension (large enough where the extension is
    ambiguous), or arrays in a model folder; binary, not text."""
    if not fe.size or not (
        (fe.suffix in WEIGHT_EXT and fe.suffix not in (".tar", ".bin", ".mat", ".model"))
        or (fe.suffix in (".bin", ".mat", ".model", ".tar") and fe.size > 1024 * 1024)
        or (fe.suffix in _ARRAY_EXT and (_MODEL_DIR.search(fe.path) or fe.size > 1024 * 1024))
    ):
        return
    # A text file with a weight extension (Caffe's *.pt prototxt, a config) is not one.
    if _looks_binary(ctx, fe.path):
        add("weight", Weight(None, fe.path, None, "repository"))


def _download_script(ctx: Context, fe: FileEntry, add: Add) -> None:
    """A script that fetches checkpoints (llama's download.sh, gpt-2's download_model.py)
    even when the address is built at run time."""
    if not (
        fe.suffix in (".sh", ".py")
        and _DOWNLOADER.search(fe.name)
        and not fe.vendored
        and fe.path.count("/") <= 2
    ):
        return
    body = ctx.snap.read_text(fe.path) or ""
    has_urls = fe.suffix == ".sh" and _URL.search(body) is not None
    if not has_urls and (_MODEL_WORDS.search(fe.name) or _WEIGHT_FILE.search(body)):
        add("weight", Weight(None, fe.path, None, "download script"))


def _download_script_links(ctx: Context, fe: FileEntry, add: Add) -> None:
    """Every address in a download script: a weight unless it or the script's name says
    data."""
    text = ctx.snap.read_text(fe.path) or ""
    script_words = fe.name.replace("_", " ")
    slines = line_of(text)
    for m in _URL.finditer(text):
        at = slines(m.start())
        url = m.group(0)
        kind = classify_url(url, "", script_words) or (
            "dataset" if _DATA_WORDS.search(script_words) else "weight"
        )
        add(kind, Weight(url, None, _host(url), f"{fe.path}:{at}"))


def _scripts_notice(scripts: list[str]) -> list[Finding]:
    if not scripts:
        return []
    return [
        Finding(
            CHECK,
            "notice",
            "Download scripts",
            f"Weights or data are fetched by: {', '.join(scripts[:5])}",
        )
    ]


def _skipped_notice(skipped: list[tuple[str, str]]) -> list[Finding]:
    if not skipped:
        return []
    shown = ", ".join(f"{p} ({why})" for p, why in skipped[:5])
    return [
        Finding(
            CHECK,
            "notice",
            "Links not read",
            f"{len(skipped)} link(s) or file(s) could not be read and were skipped: {shown}; "
            f"the other links are listed",
            skipped[0][0].rsplit(":", 1)[0],
        )
    ]


def _drives_notice(weights: list[Weight]) -> list[Finding]:
    drives = [w for w in weights if w.host in _PERSONAL_DRIVES]
    if not drives:
        return []
    return [
        Finding(
            CHECK,
            "notice",
            "Weights on personal cloud drives",
            f"{len(drives)} link(s) point to personal cloud drives, which often expire; mirror "
            f"the files you need.",
        )
    ]
