"""Issue 19, round 4 (dev half): the own paper named by reference links, HTML anchors and
"our paper:" paragraphs, never by a news list or a software BibTeX's implemented paper;
checkpoints behind reference links, link-list files and download helpers; holders of copied
files; `from __future__` under a stated Python 3; README install lines are no dependency file.
Each fixture is written here, never copied from a repository."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from forkvet.citing import agree
from forkvet.report import Report
from forkvet.vet.citation import own_arxiv

Vet = Callable[..., Report]


def _arxiv(vet_repo: Vet, files: Mapping[str, str | bytes]) -> str | None:
    c = vet_repo({"train.py": "import torch\n", **files}).citation
    return c.get("arxiv") if c else None


# ---- own paper --------------------------------------------------------------------------


def test_a_reference_style_link_labelled_our_paper_is_the_own_paper() -> None:
    readme = (
        "# Widget\n\nThe v2 model is a [Fast Widget][fw] built on [Old Widget][ow].\n\n"
        "Check out [our paper][fw] for details.\n\n## Links\n\n"
        "[ow]: https://arxiv.org/abs/1801.00001\n[fw]: https://arxiv.org/abs/2201.00002\n"
    )
    assert own_arxiv(readme, "Widget", None) == "2201.00002"


def test_an_html_anchor_beats_the_papers_a_news_list_announces() -> None:
    readme = (
        '<div align="center">\n<a href="https://example.org/docs">Documentation</a>,\n'
        '<a href="https://arxiv.org/abs/2209.00001">Technical Report</a>\n</div>\n\n'
        "# Widget Library\n\n## What's New\n"
        "  * [Model Release] released implementation of **A** <br>\n"
        "  [Paper](https://arxiv.org/abs/2301.00002), [Project](https://example.org/a)\n"
        "  * [Model Release] released implementation of **B** <br>\n"
        "  [Paper](https://arxiv.org/abs/2302.00003), [Project](https://example.org/b)\n\n"
        "## Technical Report\nMore details are in our [technical report]"
        "(https://arxiv.org/abs/2209.00001).\n"
    )
    assert own_arxiv(readme, "Widget Library", None) == "2209.00001"


def test_a_news_list_alone_names_no_paper_of_several() -> None:
    readme = (
        "# Zoo\n\n## News\n- released implementation of A [Paper](https://arxiv.org/abs/2301.00002)\n"
        "- released implementation of B [Paper](https://arxiv.org/abs/2302.00003)\n"
    )
    assert own_arxiv(readme, "Zoo", None) is None


def test_our_paper_colon_then_a_title_link_after_a_blank_line() -> None:
    readme = (
        "## Introduction\n\nWidgetNet uses [Transformer-Z](https://arxiv.org/abs/1901.00001) as "
        "its backbone.\n\nFor the details, please refer to our paper:\n\n\u200b        "
        "[WidgetNet: Generalized Widget Pretraining](https://arxiv.org/abs/1906.00002)\n\n"
        "## Results\n"
    )
    assert own_arxiv(readme, "Introduction", None) == "1906.00002"


def test_a_software_bibtex_does_not_make_an_implemented_paper_own(vet_repo: Vet) -> None:
    readme = (
        "# Neural Widget\n\nAn implementation of [neural widget][paper] in TensorFlow.\n\n"
        "## Citation\n\n```\n@misc{doe2015widget,\n  author = {Jane Doe},\n"
        "  title = {Neural Widget},\n  year = {2015},\n"
        "  howpublished = {\\url{https://github.com/example/neural-widget}},\n}\n```\n\n"
        "[paper]: http://arxiv.org/pdf/1508.00001v2.pdf\n"
        "[fast-neural-widget]: https://arxiv.org/pdf/1603.00002v1.pdf\n"
    )
    assert _arxiv(vet_repo, {"README.md": readme}) is None


def test_a_papers_bibtex_with_its_code_url_still_takes_the_implemented_title(
    vet_repo: Vet,
) -> None:
    readme = (
        "# WidgetNet\n\nPyTorch implementation of [WidgetNet: Fast Widget Segmentation]"
        "(https://arxiv.org/abs/2104.00004).\n\n## Citation\n\n```\n@inproceedings{doe2021,\n"
        "  title = {WidgetNet: Fast Widget Segmentation},\n  booktitle = {CVPR},\n"
        "  url = {https://github.com/example/widgetnet},\n  year = {2021},\n}\n```\n"
    )
    assert _arxiv(vet_repo, {"README.md": readme}) == "2104.00004"


def test_the_docs_bibtex_of_the_same_title_gives_the_arxiv_id(vet_repo: Vet) -> None:
    readme = (
        "# WidgetCraft\n\n## Citation\n\nPlease cite the following.\n```\n"
        "@inproceedings{doe2023simple,\n    title={Simple and Controllable Widget Generation},\n"
        "    author={Jane Doe},\n    booktitle={NeurIPS},\n    year={2023},\n}\n```\n"
    )
    page = (
        "# WidgetGen\n\n## Citation\n```\n@article{other2022,\n    title={Another Widget Paper},\n"
        "    journal={arXiv preprint arXiv:2209.00009},\n}\n```\n```\n@article{doe2023simple,\n"
        "    title={Simple and Controllable Widget Generation},\n"
        "    journal={arXiv preprint arXiv:2306.00005},\n}\n```\n"
    )
    files = {"README.md": readme, "docs/WIDGETGEN.md": page}
    assert _arxiv(vet_repo, files) == "2306.00005"


def test_a_reference_list_sharing_title_words_does_not_agree_with_the_bibtex() -> None:
    bib = (
        "@article{tut2017,\n  title = {Neural Widget Translation (seq2seq) Tutorial},\n"
        "  journal = {https://github.com/example/nwt},\n  year = {2017},\n}"
    )
    readme = (
        "# NWT\n\n## References\n\n- Jane Doe. 2015.[ Neural widget translation by jointly "
        "learning to align and translate](https://arxiv.org/abs/1409.00001). ICLR.\n"
    )
    citation = {"bibtex": bib, "title": "Neural Widget Translation (seq2seq) Tutorial"}
    out = agree(citation, readme)
    assert out is not None and "arxiv" not in out


def test_a_two_word_title_does_not_agree_with_any_nearby_link() -> None:
    bib = "@misc{w,\n  title = {Neural Widget},\n  year = {2015},\n}"
    readme = "# Neural Widget\n\n[fast-neural-widget]: https://arxiv.org/pdf/1603.00002v1.pdf\n"
    out = agree({"bibtex": bib, "title": "Neural Widget"}, readme)
    assert out is not None and "arxiv" not in out


def test_many_reference_definitions_and_uses_stay_fast(vet_repo: Vet) -> None:
    import time

    uses = "See [our paper][p] and [x].\n" * 20_000
    defs = "".join(f"[r{i}]: https://arxiv.org/abs/2101.{i:05d}\n" for i in range(3_000))
    readme = "# Big\n\n" + uses + "[p]: https://arxiv.org/abs/2201.00002\n" + defs
    readme += "[x]: https://drive.google.com/file/d/1abc/view\n" * 300
    started = time.monotonic()
    report = vet_repo({"README.md": readme, "m.py": "x = 1\n"})
    assert time.monotonic() - started < 10
    assert report.citation is not None and report.citation.get("arxiv") == "2201.00002"


# ---- weights ----------------------------------------------------------------------------


def _weights(vet_repo: Vet, files: Mapping[str, str | bytes]) -> list[str]:
    return [w.url or w.path or "" for w in vet_repo(dict(files)).weights]


def test_a_reference_link_takes_the_words_of_the_line_that_uses_it(vet_repo: Vet) -> None:
    readme = (
        "# Speech\n\nSamples of our published [Speaker] and\n[Vocoder] models.\n\n"
        "## Inference\n1. Download our published [Speaker] model\n\n## Related\n\n"
        "[Vocoder]: https://drive.google.com/open?id=1abcVOCODER\n"
        "[Speaker]: https://drive.google.com/file/d/1abcSPEAKER/view?usp=sharing\n"
        "[LJ]: https://drive.google.com/file/d/1abcDATA/view\n\nThe [LJ] dataset is used.\n"
    )
    urls = _weights(vet_repo, {"README.md": readme, "train.py": "import torch\n"})
    assert "https://drive.google.com/file/d/1abcSPEAKER/view?usp=sharing" in urls
    assert "https://drive.google.com/open?id=1abcVOCODER" in urls
    assert not any("DATA" in u for u in urls)


def test_a_models_download_link_file_is_read_like_a_zoo_page(vet_repo: Vet) -> None:
    links = (
        "You can get the model at\n\nGoogle\nhttps://drive.google.com/file/d/1abcNET/view\n\n"
        "Mirror\nhttps://files.example.org/data/5849/net_iter_320000.caffemodel\n"
    )
    files = {
        "README.md": "# Nets\n\nThe pre-trained models: see `model_download_link.txt`.\n",
        "NetA/model_download_link.txt": links,
        "NetA/deploy.prototxt": "name: 'NetA'\n",
        "data/download_links.txt": "https://drive.google.com/file/d/1abcIMAGES/view\n",
    }
    urls = _weights(vet_repo, files)
    assert "https://drive.google.com/file/d/1abcNET/view" in urls
    assert "https://files.example.org/data/5849/net_iter_320000.caffemodel" in urls
    assert not any("IMAGES" in u for u in urls)


def test_a_download_helpers_root_address_is_a_checkpoint_source(vet_repo: Vet) -> None:
    helper = (
        '"""Loading pretrained models."""\nROOT_URL = "https://dl.fbaipublicfiles.com/widget/"\n'
        "DOCS = 'https://widget.readthedocs.io/en/latest/'\n\n"
        "def get_model(name):\n    return ROOT_URL + name\n"
    )
    data = 'DATA_URL = "https://storage.googleapis.com/widget-data/"\n'
    files = {
        "README.md": "# Widget\n",
        "widget/pretrained.py": helper,
        "widget/download_data.py": data,
        "widget/download_dataset.py": 'URL = "https://storage.googleapis.com/widget-set/"\n',
        "widget/config.py": 'MODEL_URLS = "https://files.example.org/widget/checkpoints/"\n',
    }
    urls = _weights(vet_repo, files)
    assert "https://dl.fbaipublicfiles.com/widget/" in urls
    assert "https://files.example.org/widget/checkpoints/" in urls
    assert not any("readthedocs" in u or "widget-data" in u or "widget-set" in u for u in urls)


# ---- copyright --------------------------------------------------------------------------

APACHE_HEAD = (
    '#    Licensed under the Apache License, Version 2.0 (the "License");\n'
    "#    you may not use this file except in compliance with the License.\n\n"
)


def test_headers_of_copied_files_are_not_the_repositorys_holders(vet_repo: Vet) -> None:
    copied = (
        "# This code is based on example/alpaca. Below is the original copyright:\n#\n"
        "#    Copyright 2023 Ann Lee, Bo Chen, Cy Diaz\n#\n" + APACHE_HEAD + "import torch\n"
    )
    library = "# coding=utf-8\n# Copyright 2023 The HuggingFace Team. All rights reserved.\n"
    joint = "# Copyright 2023 The Widget & HuggingFace Inc. teams. All rights reserved.\n"
    files = {
        "README.md": "# Chat\n",
        "train/a.py": copied,
        "train/b.py": copied,
        "chat/x.py": library + "import os\n",
        "chat/y.py": joint + "import os\n",
        "serve.py": "import os\n",
    }
    assert vet_repo(files).copyright["holders"] == []


def test_a_modifications_notice_in_the_license_is_a_holder(vet_repo: Vet) -> None:
    lic = (
        "Copyright 2017 The Widget Authors.  All rights reserved.\n"
        "Modifications Copyright 2017 Jane Doe\n\n\n                Apache License\n"
    )
    files = {"LICENSE.txt": lic, "model.py": "import os\n"}
    assert vet_repo(files).copyright["holders"] == ["The Widget Authors", "Jane Doe"]


# ---- python majors ----------------------------------------------------------------------

FUTURE = "from __future__ import print_function\nimport os\n\nos.makedirs('o', exist_ok=True)\n"


def test_future_imports_under_a_stated_python_3_are_python_3(vet_repo: Vet) -> None:
    readme = "# Vocoder\n\n## Requirements\n1. Python >= 3.6\n"
    files = {"README.md": readme, "infer.py": FUTURE, "train.py": FUTURE}
    assert vet_repo(files).python.majors == [3]


def test_six_or_no_statement_keeps_future_code_on_both_majors(vet_repo: Vet) -> None:
    readme = "# Vocoder\n\n## Requirements\n1. Python >= 3.6\n"
    with_six = FUTURE + "import six\n"
    assert vet_repo({"README.md": readme, "infer.py": with_six}).python.majors == [2, 3]
    assert vet_repo({"README.md": "# Vocoder\n", "infer.py": FUTURE}).python.majors == [2, 3]


# ---- declared requirements --------------------------------------------------------------


def test_readme_install_lines_are_no_dependency_file(vet_repo: Vet) -> None:
    readme = "# Net\n\n```\npip install easydict opencv-python\n```\n"
    report = vet_repo({"README.md": readme, "net.py": "import easydict\nimport cv2\n"})
    deps = report.dependencies
    assert deps.files == [] and "easydict" in deps.declared
    titles = [f.title for f in report.findings if f.check == "dependencies"]
    assert "No dependency file" in titles
    item = next(i for i in report.checklist.items if i.name == "dependencies")
    assert item.present
