"""Build forkvet/data/spdx_licenses.json.gz from the SPDX license list (CC0-1.0).

Source: the npm package `spdx-license-list` (its `spdx-full.json` holds every license text):

    npm pack spdx-license-list@6.12.0 && tar xzf spdx-license-list-6.12.0.tgz
    python scripts/build_license_data.py package/spdx-full.json
    python scripts/build_license_data.py --index    # only the word index, from the data file

Deprecated identifiers are dropped: their texts duplicate current ids (GPL-2.0 = GPL-2.0-only).
Texts are stored normalised (see forkvet/vet/textnorm.py), which is all the matcher needs.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from forkvet.vet.textnorm import normalize_tokens

DEPRECATED = {
    "AGPL-1.0",
    "AGPL-3.0",
    "BSD-2-Clause-FreeBSD",
    "BSD-2-Clause-NetBSD",
    "bzip2-1.0.5",
    "eCos-2.0",
    "GFDL-1.1",
    "GFDL-1.2",
    "GFDL-1.3",
    "GPL-1.0",
    "GPL-1.0+",
    "GPL-2.0",
    "GPL-2.0+",
    "GPL-2.0-with-autoconf-exception",
    "GPL-2.0-with-bison-exception",
    "GPL-2.0-with-classpath-exception",
    "GPL-2.0-with-font-exception",
    "GPL-2.0-with-GCC-exception",
    "GPL-3.0",
    "GPL-3.0+",
    "GPL-3.0-with-autoconf-exception",
    "GPL-3.0-with-GCC-exception",
    "LGPL-2.0",
    "LGPL-2.0+",
    "LGPL-2.1",
    "LGPL-2.1+",
    "LGPL-3.0",
    "LGPL-3.0+",
    "Net-SNMP",
    "Nunit",
    "StandardML-NJ",
    "wxWindows",
}


def main(src: str, dest: str = "forkvet/data/spdx_licenses.json.gz") -> None:
    data = json.loads(Path(src).read_text(encoding="utf-8"))
    out = {}
    for spdx_id, meta in sorted(data.items()):
        if spdx_id in DEPRECATED or not meta.get("licenseText"):
            continue
        out[spdx_id] = {
            "name": meta["name"],
            "osi": bool(meta.get("osiApproved")),
            "tokens": " ".join(normalize_tokens(meta["licenseText"])),
        }
    raw = json.dumps(out, separators=(",", ":"), sort_keys=True).encode()
    Path(dest).write_bytes(gzip.compress(raw, 9, mtime=0))
    print(f"{len(out)} licenses -> {dest} ({Path(dest).stat().st_size // 1024} KiB)")
    write_index(out, str(Path(dest).with_name(INDEX_NAME)))


INDEX_NAME = "spdx_words.json.gz"


def word_index(licenses: dict[str, dict[str, object]]) -> dict[str, object]:
    """Which licenses use each word: the matcher's first pass counts shared words per license
    from this instead of splitting ~700 texts into sets on every run (~0.15 s saved)."""
    ids = sorted(licenses)
    words: dict[str, list[int]] = {}
    sizes = []
    for i, spdx in enumerate(ids):
        tokens = str(licenses[spdx]["tokens"]).split()
        unique = sorted(set(tokens))
        sizes.append([len(tokens), len(unique)])
        for w in unique:
            words.setdefault(w, []).append(i)
    return {"ids": ids, "sizes": sizes, "words": words}


def write_index(licenses: dict[str, dict[str, object]], dest: str) -> None:
    raw = json.dumps(word_index(licenses), separators=(",", ":"), sort_keys=True).encode()
    Path(dest).write_bytes(gzip.compress(raw, 9, mtime=0))
    print(f"word index -> {dest} ({Path(dest).stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--index"]:
        data_file = Path("forkvet/data/spdx_licenses.json.gz")
        write_index(
            json.loads(gzip.decompress(data_file.read_bytes())),
            str(data_file.with_name(INDEX_NAME)),
        )
    else:
        main(*sys.argv[1:])
