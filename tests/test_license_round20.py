"""Round 20 (outside attack round 19c, L9, L10, L11, L19): the weights' terms in formats,
places and spellings forkvet read past. Each case below once answered MIT, commercial use
yes; every one is "unclear" (or "no") now, and the controls stay "yes"."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"model.py": "import torch\n", "README.md": "# Cool model\n\nTrain with model.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")
NC = "The pretrained weights are for non-commercial use only."
DOWNLOAD = "wget https://example.org/ckpt/model.pth -O weights/model.pth\n"


def _commercial(vet_repo: Vet, files: dict[str, str]) -> bool | None:
    tree = {"LICENSE": MIT, **CODE, **files}
    lic = vet_repo(tree).license
    assert lic.spdx == "MIT"
    return lic.commercial_use


def _readme(section: str, heading: str = "License") -> dict[str, str]:
    return {"README.md": f"# Cool model\n\nTrain with model.py.\n\n## {heading}\n\n{section}\n"}


# -- L9: every format GitHub renders is read as the text it shows ---------------------------
@pytest.mark.parametrize(
    "files",
    [
        {"docs/weights.html": f"<html><body><p>{NC}</p></body></html>\n"},
        {"docs/notes.html": f"<p>Note: {NC}</p>\n"},
        {"docs/weights.textile": f"h1. Weights\n\np. {NC}\n"},
        {"docs/usage.org": f"* Weights\n{NC}\n"},
        {"docs/about.creole": f"= About =\n{NC}\n"},
        {"docs/about.mediawiki": f"== About ==\n{NC}\n"},
        {"docs/about.pod": f"=head1 ABOUT\n\n{NC}\n"},
        {"docs/about.rdoc": f"= About\n\n{NC}\n"},
        {"docs/about.asciidoc": f"= About\n\n{NC}\n"},
        {
            "docs/FAQ.txt": "Q: Can I use the model in my product?\nA: No, the weights are "
            "for non-commercial use only.\n"
        },
        {"NOTES": f"Some notes.\n\n{NC}\n"},
        {
            "docs/terms.svg": '<svg xmlns="http://www.w3.org/2000/svg"><text x="0" y="15">'
            "Weights: non-commercial use only</text></svg>\n"
        },
        {"scripts/download_weights.sh": f'#!/bin/sh\necho "{NC}"\n{DOWNLOAD}'},
        {"get_weights.bat": f"@echo off\r\necho {NC}\r\ncurl -o m.pth https://e.org/m.pth\r\n"},
        {
            "download.py": "import urllib.request\n"
            "print('NOTE: these pretrained weights are licensed CC BY-NC 4.0 "
            "(non-commercial use only).')\n"
            "urllib.request.urlretrieve('https://example.org/ckpt/model.pth', 'model.pth')\n"
        },
        {"configs/model.yaml": f"# {NC}\nbackbone: resnet50\nlr: 0.1\n"},
    ],
    ids=[
        "html",
        "html_any_name",
        "textile",
        "org",
        "creole",
        "mediawiki",
        "pod",
        "rdoc",
        "asciidoc",
        "faq_txt",
        "no_suffix",
        "svg",
        "download_echo",
        "download_echo_unquoted",
        "download_print",
        "config_comment",
    ],
)
def test_rendered_formats_are_read(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _commercial(vet_repo, files) is not True


def test_a_terms_document_past_the_depth_bound_fails_closed(vet_repo: Vet) -> None:
    deep = {"a/b/c/d/e/f/g/WEIGHTS.md": f"# Weights\n\n{NC}\n"}
    assert _commercial(vet_repo, deep) is None
    deep = {"a/b/c/d/e/f/g/h/notes.md": f"# Notes\n\n{NC}\n"}
    assert _commercial(vet_repo, deep) is None


@pytest.mark.parametrize(
    "files",
    [
        {"docs/index.html": "<p>The model reaches 81.2% top-1.</p>\n"},
        {"scripts/download_weights.sh": f'#!/bin/sh\necho "Downloading weights"\n{DOWNLOAD}'},
        {"configs/model.yaml": "# ResNet-50 backbone\nbackbone: resnet50\n"},
        {"a/b/c/d/e/f/g/h/notes.md": "# Notes\n\nThe model works on images.\n"},
        {"docs/FAQ.txt": "Q: Does it run on CPU?\nA: Yes, slowly.\n"},
    ],
    ids=["html", "download_echo", "config_comment", "deep_md", "faq_txt"],
)
def test_rendered_formats_without_terms_stay_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _commercial(vet_repo, files) is True


# -- L10: abbreviations and wraps read as the words a reader reads ---------------------------
@pytest.mark.parametrize(
    "section",
    [
        "Code: MIT. Weights: non-comm. use only.",
        "Code: MIT. Weights: non-comm. only.",
        "Code: MIT. Weights: research/non-comm.",
        "Code: MIT. Weights: private, non-profit use.",
        "Code: MIT. Weights: no lucrative use.",
        "Code: MIT. The weights are not for com-\nmer-\ncial use.",
        "Code: MIT. The weights are not for commer\ncial use.",
        "Code: MIT. The weights are not for commer cial use.",
    ],
    ids=[
        "non_comm_use",
        "non_comm_only",
        "research_non_comm",
        "non_profit_use",
        "lucrative",
        "double_hyphen_wrap",
        "newline_wrap",
        "space_split",
    ],
)
def test_abbreviations_and_wraps_restrict(vet_repo: Vet, section: str) -> None:
    assert _commercial(vet_repo, _readme(section)) is not True


@pytest.mark.parametrize(
    "section",
    [
        "Code and weights: MIT. Comm. channels: see the wiki.",
        "MIT. Commercial and non-profit use are both welcome.",
    ],
    ids=["comm_channels", "both_uses"],
)
def test_abbreviation_controls_stay_yes(vet_repo: Vet, section: str) -> None:
    assert _commercial(vet_repo, _readme(section)) is True


# -- L19: weights given on request are not a grant ---------------------------------------
@pytest.mark.parametrize(
    "section",
    [
        "The weights are available to academic researchers upon request: fill in "
        "[this form](https://forms.gle/x).",
        "Pretrained checkpoints are available on request. Please fill out "
        "[the form](https://forms.gle/x) to get access.",
        "To obtain the model weights, please fill in this form: https://forms.gle/x",
    ],
    ids=["academic_upon_request", "on_request_form", "fill_in_form"],
)
def test_weights_on_request_are_not_yes(vet_repo: Vet, section: str) -> None:
    assert _commercial(vet_repo, _readme(section, "Weights")) is None


# -- L12: text a reader does not see offers no choice ---------------------------------------
@pytest.mark.parametrize(
    "readme",
    [
        "# M\n\n<!-- This project is dual-licensed: you may choose either license. -->\n\n"
        "## License\n\nSee the license files.\n",
        '# M\n\n[d]: https://example.org "dual-licensed, at your option"\n\n'
        "## License\n\nSee the license files.\n",
    ],
    ids=["html_comment", "link_definition"],
)
def test_hidden_text_offers_no_choice(vet_repo: Vet, readme: str) -> None:
    nc = "Attribution-NonCommercial 4.0 International\n"
    tree = {"LICENSE-MIT": MIT, "LICENSE-CC-BY-NC": nc, "model.py": "x = 1\n", "README.md": readme}
    lic = vet_repo(tree).license
    assert lic.spdx is not None and " OR " not in lic.spdx
    assert lic.commercial_use is not True


def test_documents_past_the_total_read_fail_closed(vet_repo: Vet) -> None:
    page = "# Page\n\n" + "Our research model works on images of any kind. " * 4400 + "\n"
    files = {f"docs/p{i:02}.md": page for i in range(22)}
    assert _commercial(vet_repo, files) is True
    assert _commercial(vet_repo, {**files, "docs/zz.md": f"# Notes\n\n{NC}\n"}) is None
