"""Base models named in prose (outside attack round 22d, F13).

The README reader took a sentence as deriving weights from a base model only with one of a few
verbs ("fine-tuned from", "based on", "initialised from"), and knew the bases by a few names.
Training from a base is training from it whatever the verb: a sentence that names a restricted
base model and speaks of training, starting from, distilling, merging or converting weights is
a derivation unless it compares (a benchmark table's "outperforms LLaMA-7B"). "Based on",
"built on" and "derived from" keep their order rule (modelterms: the base follows them).
The base names beyond the research-only and conditional licenses are
`library_models.json`'s `base_names`
(FLUX.1-dev, SDXL-Turbo, SD3, Command R, Vicuna, Koala, WizardLM, LLaVA ...), each with where
its license was read.
"""

from __future__ import annotations

import json
from importlib import resources

from forkvet import rx


def _base_names() -> list[tuple[rx.Pattern[str], str]]:
    raw = resources.files("forkvet.data").joinpath("library_models.json").read_text("utf-8")
    return [(rx.compile(b["pattern"]), b["license"]) for b in json.loads(raw)["base_names"]]


# (name pattern, license) of `library_models.json`'s base names; libraryzoos reads them here
# (libraryzoos reads modelterms, which reads this module: no circle).
BASE_NAMES = _base_names()

_TRAINED = rx.compile(
    r"(?i)\b(?:(?:pre-?|re-?|post-?)?train\w*|tun\w*|distil\w*|start\w*\s+(?:from|with)|"
    r"initiali[sz]\w*|warm[- ]?start\w*|continu\w*|extend\w*|adapt\w*|merg\w*|quantiz\w*|"
    r"convert\w*|bootstrap\w*|checkpoints?|weights|"
    r"instruct\w*|align\w*|RLHF|DPO|SFT)\b"
)
_COMPARED = rx.compile(
    r"(?i)\b(?:outperform\w*|compar\w*|vs|versus|than|beat\w*|surpass\w*|rival\w*|"
    r"competitive|benchmark\w*|evaluat\w*|baselines?|like|such\s+as|e\.g|including|support\w*)\b"
)


def derivation(sentence: str) -> bool:
    """A sentence that speaks of training from or reusing weights and compares nothing."""
    return bool(_TRAINED.search(sentence)) and not _COMPARED.search(sentence)


def named_base(sentence: str) -> tuple[str, int, str] | None:
    """A base model of `base_names` the sentence names: (name, where, license)."""
    found = [(m.group(0), m.start(), lic) for p, lic in BASE_NAMES if (m := p.search(sentence))]
    return min(found, key=lambda f: f[1]) if found else None
