"""Check 7: pretrained-weight and dataset links (README and code), weight files in the tree,
and download scripts."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from forkvet.report import Finding, Weight
from forkvet.vet.context import Context

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
_URL = re.compile(r"https?://[^\s<>\"'`)\]}]+")
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
_WEIGHT_WORDS = re.compile(r"pretrain|checkpoint|weights?\b|model[s]?\b|ckpt|download", re.I)
_CODE_LOADERS = re.compile(
    r"(?:load_state_dict_from_url|model_zoo\.load_url|load_url|hf_hub_download|"
    r"snapshot_download|get_file|urlretrieve|download_url|gdown\.download)\s*\(\s*"
    r"(?:[\w_]+\s*=\s*)?[\"']([^\"']+)[\"']"
)
_FROM_PRETRAINED = re.compile(r"from_pretrained\(\s*[\"']([\w.-]+/[\w.-]+)[\"']")


def _host(url: str) -> str | None:
    netloc = urlparse(url).netloc.lower()
    for host, label in _HOSTS.items():
        if netloc == host or netloc.endswith("." + host):
            return label
    return None


def _is_weight_url(url: str, context: str) -> bool:
    path = urlparse(url).path.lower()
    host = _host(url)
    if path.endswith(WEIGHT_EXT) or "/releases/download/" in path:
        return True
    if host in (None, "GitHub"):
        return False
    # A cloud-drive link counts when the sentence around it talks about weights or models.
    return bool(_WEIGHT_WORDS.search(context)) or host in ("Hugging Face", "PyTorch", "Zenodo")


def check(ctx: Context) -> tuple[list[Weight], list[Finding]]:
    out: list[Weight] = []
    seen: set[str] = set()

    def add(w: Weight) -> None:
        key = w.url or w.path or ""
        if key not in seen and len(out) < 100:
            seen.add(key)
            out.append(w)

    if ctx.snap.readme:
        text = ctx.readme
        for m in _URL.finditer(text):
            url = m.group(0).rstrip(".,;:")
            context = text[max(0, m.start() - 200) : m.end() + 100]
            if _is_weight_url(url, context):
                line = text.count("\n", 0, m.start()) + 1
                add(Weight(url, None, _host(url), f"{ctx.snap.readme.path}:{line}"))
    for f in ctx.py.files:
        for m in _CODE_LOADERS.finditer(f.text):
            line = f.text.count("\n", 0, m.start()) + 1
            add(Weight(m.group(1), None, _host(m.group(1)) or "code", f"{f.path}:{line}"))
        for m in _FROM_PRETRAINED.finditer(f.text):
            line = f.text.count("\n", 0, m.start()) + 1
            add(
                Weight(
                    f"https://huggingface.co/{m.group(1)}", None, "Hugging Face", f"{f.path}:{line}"
                )
            )
    scripts: list[str] = []
    for fe in ctx.snap.files:
        if (
            fe.suffix in WEIGHT_EXT
            and fe.size > 0
            and fe.suffix not in (".tar", ".bin", ".mat", ".model")
        ) or (fe.suffix in (".bin", ".mat", ".model", ".tar") and fe.size > 1024 * 1024):
            add(Weight(None, fe.path, None, "repository"))
        if fe.suffix == ".sh" and re.search(r"download|fetch|get_|weights|models?", fe.name, re.I):
            text = ctx.snap.read_text(fe.path) or ""
            scripts.append(fe.path)
            for m in _URL.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                add(Weight(m.group(0), None, _host(m.group(0)), f"{fe.path}:{line}"))
    findings: list[Finding] = []
    if scripts:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "Download scripts",
                f"Weights or data are fetched by: {', '.join(scripts[:5])}",
            )
        )
    drives = [
        w
        for w in out
        if w.host in ("Google Drive", "Baidu Pan", "Dropbox", "OneDrive", "MEGA", "Box")
    ]
    if drives:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "Weights on personal cloud drives",
                f"{len(drives)} link(s) point to personal cloud drives, which often expire; mirror "
                f"the files you need.",
            )
        )
    return out, findings
