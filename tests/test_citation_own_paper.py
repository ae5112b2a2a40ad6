"""Citation: the repository's own paper, never one it mentions; formal or not; and what
attribution and thank-you drafts make of it (real git for the upstream commit)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from forkvet.escape import md_inline
from forkvet.giveback.attribution import attribution_md, upstream_base
from forkvet.giveback.cli import thanks_text
from forkvet.giveback.gitops import fetch_upstream
from forkvet.report import Report
from forkvet.snapshot import load
from forkvet.vet import vet
from forkvet.vet.copyright import is_holder_notice
from tests.conftest import git, license_text, write_files

Vet = Callable[..., Report]

OTHER_BIB = """@article{vaswani2017,
  title={Attention Is All You Need},
  author={Vaswani, Ashish},
  year={2017}
}"""
OWN_BIB = """@inproceedings{doe2021segnet,
  title={SegNet Plus: Faster Segmentation},
  author={Doe, Jane and Roe, Rick},
  booktitle={CVPR},
  year={2021}
}"""

README = f"""# SegNet Plus

[[Paper]](https://arxiv.org/abs/2101.00001) [[Project]](https://example.org/segnet)

Our model builds on the [Transformer](https://arxiv.org/abs/1706.03762) and
[ResNet](https://arxiv.org/abs/1512.03385). If you use the attention layer, also cite their paper:

```bibtex
{OTHER_BIB}
```

## Citation

If you find this code useful, please cite:

```bibtex
{OWN_BIB}
```
"""


def test_own_bibtex_and_arxiv_not_the_mentioned_ones(vet_repo: Vet) -> None:
    c = vet_repo({"README.md": README, "m.py": "x = 1\n"}).citation
    assert c is not None
    assert c["title"] == "SegNet Plus: Faster Segmentation" and c["year"] == 2021
    assert c["arxiv"] == "2101.00001"
    assert c["mentioned_arxiv"] == ["1512.03385", "1706.03762"]
    assert c["formal"] is True


def test_only_mentioned_papers_give_no_own_paper(vet_repo: Vet) -> None:
    readme = (
        "# tinygpt\n\nA small re-implementation of "
        "[GPT](https://github.com/openai/gpt-2) with the "
        "[Transformer](https://arxiv.org/abs/1706.03762) architecture.\n\n"
        "## Acknowledgements\n\nThe attention code comes from another project; "
        f"also cite their paper:\n\n```\n{OTHER_BIB}\n```\n"
    )
    report = vet_repo({"README.md": readme, "m.py": "x = 1\n"})
    assert report.citation is None
    _, body = thanks_text(report, "org/tinygpt", None)
    assert "Attention Is All You Need" not in body and "1706" not in body


def test_arxiv_badge_without_bibtex_is_informal(vet_repo: Vet) -> None:
    readme = (
        "# FastDepth\n\n[![arXiv](https://img.shields.io/badge/arXiv-1903.03273-b31b1b.svg)]"
        "(https://arxiv.org/abs/1903.03273)\n\nWe compare with "
        "[MiDaS](https://arxiv.org/abs/1907.01341).\n"
    )
    c = vet_repo({"README.md": readme, "m.py": "x = 1\n"}).citation
    assert c is not None
    assert c["arxiv"] == "1903.03273" and c["formal"] is False
    assert "title" not in c


def test_thank_you_cites_the_own_paper(vet_repo: Vet) -> None:
    report = vet_repo({"README.md": README, "m.py": "x = 1\n"})
    _, body = thanks_text(report, "org/segnet", None)
    title = md_inline("SegNet Plus: Faster Segmentation")
    assert f"*{title}* (arXiv:{md_inline('2101.00001')})" in body
    assert "Attention Is All You Need" not in body and "1706" not in body


def test_copyright_holders_not_license_boilerplate() -> None:
    assert is_holder_notice("Copyright (c) 2020 Jane Doe")
    assert is_holder_notice("Copyright 2019 The DeepNet Authors. All rights reserved.")
    assert is_holder_notice("(c) Ada Lab")
    for boilerplate in (
        "copyright notice that is included in or attached to the work",
        "Copyright [yyyy] [name of copyright owner]",
        "Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>",
        'COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED',
        "copyright owner or by an individual or Legal Entity authorized to submit on behalf of",
        "Copyright (c) <year> <owner>",
    ):
        assert not is_holder_notice(boilerplate), boilerplate


def test_attribution_names_the_upstream_commit_the_fork_started_from(tmp_path: Path) -> None:
    up, fork = tmp_path / "up", tmp_path / "fork"
    up.mkdir()
    git(up, "init", "-q")
    write_files(
        up,
        {
            "README.md": README,
            "LICENSE": "MIT License\n\nCopyright (c) 2021 Jane Doe\n\nPermission is hereby "
            "granted ... The above copyright notice and this permission notice shall be\n"
            "included in all copies or substantial portions of the Software.\n",
            "model.py": "x = 1\n",
        },
    )
    git(up, "add", "-A")
    git(up, "commit", "-qm", "release")
    started_from = git(up, "rev-parse", "HEAD")
    subprocess.run(["git", "clone", "-q", str(up), str(fork)], check=True)
    write_files(fork, {"head.py": "y = 2\n"})
    git(fork, "add", "-A")
    git(fork, "commit", "-qm", "fork work")
    write_files(up, {"later.py": "z = 3\n"})
    git(up, "add", "-A")
    git(up, "commit", "-qm", "upstream moves on")
    fork_head, up_head = git(fork, "rev-parse", "HEAD"), git(up, "rev-parse", "HEAD")

    fetch_upstream(fork, str(up))
    base = upstream_base(fork)
    assert base == started_from
    snap = load(fork)
    md = attribution_md(vet(snap), snap, str(up), [("A", "head.py")], base)
    assert f"at commit `{started_from}`" in md
    assert fork_head not in md and up_head not in md
    holders = md.split("## Copyright", 1)[1].split("##", 1)[0]
    assert holders.strip() == "- Copyright (c) 2021 Jane Doe"
    assert f"arXiv: {md_inline('2101.00001')}" in md and "1706" not in md
    # An upstream without a known base: no commit is claimed (HEAD is the fork's).
    assert "at commit" not in attribution_md(vet(snap), snap, str(up), None)


def test_copyright_holders_from_the_license_grant(vet_repo: Vet) -> None:
    lic = (
        "Copyright (c) 2016, Phillip Isola and Jun-Yan Zhu\nAll rights reserved.\n\n"
        "Redistribution and use in source and binary forms ... THIS SOFTWARE IS PROVIDED BY THE\n"
        'COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"\n\n'
        "--------------------------- LICENSE FOR DCGAN --------------------------------\n"
        "Copyright (c) 2015, Facebook, Inc.\n"
    )
    report = vet_repo(
        {
            "LICENSE": lic,
            "NOTICE": "Copyright 2014-2017 Meta Platforms, Inc. "
            "and affiliates. All rights reserved.\n",
            "m.py": "x = 1\n",
        }
    )
    assert report.copyright["holders"] == [
        "Phillip Isola",
        "Jun-Yan Zhu",
        "Meta Platforms, Inc. and affiliates",
    ]
    # The appended third-party notice is listed as a notice, not as an owner of this code.
    assert "Copyright (c) 2015, Facebook, Inc." in report.copyright["notices"]


def test_copyright_holder_after_apache_terms_without_the_appendix(vet_repo: Vet) -> None:
    # Apache-2.0 section 4's "(b) ... carry prominent notices" ends a line on "notices" and
    # its "(c) You must retain" starts with "(c)": neither is a heading or a holder.
    terms = (
        "      (b) You must cause any modified files to carry prominent notices\n"
        "          stating that You changed the files; and\n\n"
        "      (c) You must retain, in the Source form of any Derivative Works\n"
        "          that You distribute, all copyright, patent, trademark, and\n"
        "          attribution notices from the Source form of the Work,\n"
    )
    # The fixture's clauses are one line each; these are wrapped as apache.org's file is.
    lic = (
        license_text("Apache-2.0.txt").split("APPENDIX:")[0]
        + terms
        + "\n   END OF TERMS AND CONDITIONS\n\n   Copyright 2021 Jane Researcher\n"
    )
    report = vet_repo({"LICENSE.txt": lic, "m.py": "x = 1\n"})
    assert report.copyright["holders"] == ["Jane Researcher"]


def test_copyright_notice_wrapped_onto_the_next_comment_line(vet_repo: Vet) -> None:
    header = (
        "# -*- coding: utf-8 -*-\n\n"
        "# Copyright©2019 Gesellschaft zur Förderung\n"
        "# der Wissenschaften e.V. (GFW). acting on behalf of its Institute\n"
        "# for Intelligent Systems. All rights reserved.\n\n"
        "import torch\n"
    )
    report = vet_repo({"LICENSE": "Non-commercial research use only.\n", "fit.py": header})
    assert report.copyright["holders"] == ["Gesellschaft zur Förderung der Wissenschaften e.V."]


def _arxiv(vet_repo: Vet, readme: str) -> str | None:
    c = vet_repo({"README.md": readme, "m.py": "x = 1\n"}).citation
    return None if c is None else c.get("arxiv")


def test_link_labelled_with_the_cited_title_beats_a_described_in_link(vet_repo: Vet) -> None:
    readme = (
        "# Graph Nets\n\nA TensorFlow implementation of graph nets, as described in our paper:\n"
        " \nJ. Doe, [Semi-Supervised Labelling with Graph Nets](http://arxiv.org/abs/1601.00001)"
        "\n\n## Models\n\n* `cheb`: a variant as described in (R. Roe, [Fast Spectral Filters on "
        "Graphs](https://arxiv.org/abs/1602.00002), 2016)\n\n## Cite\n\nPlease cite our paper:"
        "\n\n```\n@inproceedings{doe,\n  title={Semi-Supervised Labelling with Graph Nets},\n"
        "  author={Doe, J.},\n  year={2017}\n}\n```\n"
    )
    assert _arxiv(vet_repo, readme) == "1601.00001"


def test_a_part_the_code_implements_is_not_the_own_paper(vet_repo: Vet) -> None:
    readme = (
        "# Mesh Thing\n\nThe scheme is similar to the [original Big-LM](https://arxiv.org/abs/"
        "1603.00003), which is fast. There is also an experimental version which implements "
        "[ZeRO style\nsharding](https://arxiv.org/abs/1604.00004).\n\n## Citation\n\nTo cite:\n\n"
        "```\n@misc{mesh,\n  author = {Doe, Jane},\n  title = {{Mesh Thing: Model-Parallel "
        "Transformers}},\n  howpublished = {\\url{https://example.org/mesh}},\n"
        "  year = 2021\n}\n```\n"
    )
    assert _arxiv(vet_repo, readme) is None


def test_the_titles_short_name_and_our_paper_beat_a_follow_ups_paper_link(
    vet_repo: Vet,
) -> None:
    readme = (
        "## FooGAN\n\nWe extended FooGAN to Real-FooGAN, in another repository:\n\n"
        "> [[Paper](https://arxiv.org/abs/2107.00005)]\n\n#### BibTeX\n\n"
        "    @InProceedings{foogan,\n        title = {FooGAN: Enhanced Image Generators},\n"
        "        year = {2018}\n    }\n\n## Results\n\n| Data | [*FooGAN*](https://arxiv.org/abs/"
        "1809.00006) | [BarGAN](https://arxiv.org/abs/1609.00007) |\n|---|---|---|\n\n"
        "More details are in our [paper](https://arxiv.org/abs/1809.00006).\n"
    )
    assert _arxiv(vet_repo, readme) == "1809.00006"


def test_a_sentence_wrapped_before_the_link_still_names_the_implemented_paper(
    vet_repo: Vet,
) -> None:
    readme = (
        "# Face Recognition\n\nThis is a TensorFlow implementation of the recognizer described "
        'in the paper\n["BarNet: One Embedding for Faces"](http://arxiv.org/abs/1503.00008). It '
        "also uses ideas from [another paper](https://arxiv.org/abs/1504.00009).\n"
    )
    assert _arxiv(vet_repo, readme) == "1503.00008"


def test_copyright_title_and_notice_on_one_line(vet_repo: Vet) -> None:
    mit = (
        "The MIT License (MIT) Copyright (c) 2020 Jane Researcher\n\n"
        "Permission is hereby granted, free of charge, to any person obtaining a copy\n"
        "The above copyright notice and this permission notice shall be included in all\n"
    )
    report = vet_repo({"LICENSE": mit, "train.py": "import torch\n"})
    assert report.copyright["holders"] == ["Jane Researcher"]


def test_copyright_from_apache_appendix_without_a_year(vet_repo: Vet) -> None:
    apache = (
        "   APPENDIX: How to apply the Apache License to your work.\n\n"
        "   Copyright Jane Q Researcher\n\n"
        '   Licensed under the Apache License, Version 2.0 (the "License");\n'
    )
    report = vet_repo({"LICENSE": apache, "train.py": "import torch\n"})
    assert report.copyright["holders"] == ["Jane Q Researcher"]


def test_copyright_from_parts_readme_and_docs_before_source_headers(vet_repo: Vet) -> None:
    vendored = "# Copyright 2020 The Library Team. All rights reserved.\nimport os\n"
    part = "MIT License\n\nCopyright (c) 2016 Example Lab\n\nPermission is hereby granted\n"
    files = {"a/train.py": vendored, "b/trainer.py": vendored, "a/LICENSE": part}
    assert vet_repo(files, name="parts").copyright["holders"] == ["Example Lab"]
    readme = "# Tool\n\nCopyright (c) 2016 Jane Researcher. Contact me for commercial use.\n"
    files = {"README.md": readme, "x/trainer.py": vendored, "y/trainer.py": vendored}
    assert vet_repo(files, name="readme").copyright["holders"] == ["Jane Researcher"]
    conf = 'project = "tool"\ncopyright = "2021 Example Org, 2020 The Tool Authors"\n'
    files = {"README.md": "# Tool\n", "docs/conf.py": conf, "x/trainer.py": vendored}
    holders = vet_repo(files, name="docs").copyright["holders"]
    assert holders == ["Example Org", "The Tool Authors"]


ADA_LIKE = """## GANLite &mdash; Official implementation

**Training Generative Adversarial Networks on Tiny Budgets**<br>
Jane Researcher, John Scientist<br>
https://arxiv.org/abs/2101.00001<br>

## Metrics

1. [Improved Techniques for Training GANs](https://arxiv.org/abs/1606.03498), 2016
2. [A Style-Based Generator Architecture for Generative Adversarial Networks](
   https://arxiv.org/abs/1812.04948), 2018

## Citation

```
@inproceedings{ganlite,
  title     = {Training Generative Adversarial Networks on Tiny Budgets},
  author    = {Jane Researcher and John Scientist},
  year      = {2021}
}
```
"""


def test_the_link_under_the_title_beats_a_reference_list(vet_repo: Vet) -> None:
    report = vet_repo({"README.md": ADA_LIKE, "train.py": "import torch\n"})
    assert report.citation is not None and report.citation["arxiv"] == "2101.00001"


def test_this_is_the_codebase_for_a_paper(vet_repo: Vet) -> None:
    readme = (
        "# tinydiff\n\nThis is the codebase for [Diffusion Models Made Tiny]"
        "(https://arxiv.org/abs/2102.00002).\n\nWe build on [DDPM](https://arxiv.org/abs/2006.11239)"
        " and [Improved Techniques for Training Score-Based Models](https://arxiv.org/abs/2006.09011)"
        ".\n"
    )
    report = vet_repo({"README.md": readme, "train.py": "import torch\n"})
    assert report.citation is not None and report.citation["arxiv"] == "2102.00002"


def test_a_bibtex_title_rules_out_another_papers_link(vet_repo: Vet) -> None:
    readme = (
        "# tinyseg\n\nWe use the backbone of [Deep Residual Learning for Image Recognition]"
        "(https://arxiv.org/abs/1512.03385).\n\n## Citation\n\n```\n@article{tinyseg,\n"
        "  title = {Tiny Segmentation Networks for Phones},\n  author = {Jane Researcher},\n"
        "  year = {2021}\n}\n```\n"
    )
    report = vet_repo({"README.md": readme, "train.py": "import torch\n"})
    assert report.citation is not None and "arxiv" not in report.citation


def test_papers_the_code_builds_on_are_not_its_own(vet_repo: Vet) -> None:
    readme = (
        "# Fast Style Transfer\n\nOur implementation is based off of [A Neural Algorithm of "
        "Artistic Style](https://arxiv.org/abs/1508.06576) and Ulyanov's [Instance "
        "Normalization](https://arxiv.org/abs/1607.08022).\n\n## Citation\n\n```\n@misc{fst,\n"
        "  title = {Fast Style Transfer},\n  author = {Jane Researcher},\n  year = {2016}\n}\n```\n"
    )
    report = vet_repo({"README.md": readme, "style.py": "import tensorflow\n"})
    assert report.citation is not None and "arxiv" not in report.citation


def test_appended_library_license_holders_are_not_the_repositorys(vet_repo: Vet) -> None:
    part = (
        "The MIT License (MIT)\n\nCopyright (c) 2016 Example Lab\n\nPermission is hereby "
        "granted, free of charge, to any person obtaining a copy of this software.\n\n\n"
        "The MIT License (MIT)\n\nCopyright (c) 2014-2015 Bundled Library contributors\n"
    )
    report = vet_repo({"gan/LICENSE": part, "gan/train.py": "import theano\n"})
    assert report.copyright["holders"] == ["Example Lab"]


def test_own_paper_in_the_header_and_after_the_bibtex() -> None:
    from forkvet.vet.citation import own_arxiv

    header = (
        "# TinyCLIP\n\n[[Paper]](https://arxiv.org/abs/2101.00001) [[Colab]](https://x.org)\n\n"
        "## Usage\n\nFor int8 training see the tutorial or [paper](https://arxiv.org/abs/2102.00002).\n"
    )
    assert own_arxiv(header, "TinyCLIP", None) == "2101.00001"
    two = (
        "# TinyChat\n\n**TinyChat 1.5** [[Paper](https://arxiv.org/abs/2103.00003)]\n\n"
        "**TinyChat** [[Paper](https://arxiv.org/abs/2104.00004)]\n\n## Install\n"
    )
    assert own_arxiv(two, "TinyChat-Next: More", None) == "2103.00003"
    listed = (
        "# Zoo\n\n## Models\n\n* GAN [[Paper](https://arxiv.org/abs/2105.00005)]\n"
        "* VAE [[Paper](https://arxiv.org/abs/2106.00006)]\n"
    )
    assert own_arxiv(listed, "Zoo", None) is None
    after = "# Lib\n\n## Citing\n\n```\n@misc{x}\n```\n\nThe preprint can be found in arXiv: "
    assert own_arxiv(after + "https://arxiv.org/abs/2107.00007\n", "Lib", None) == "2107.00007"


def test_a_software_bibtex_does_not_overrule_the_header_paper(vet_repo: Vet) -> None:
    readme = (
        "# TinyCLIP\n\n[[Paper]](https://arxiv.org/abs/2101.00001)\n\n## Usage\n\n"
        "Studied in [scaling laws for tiny contrastive models](https://arxiv.org/abs/2101.00001)."
        "\n\nFor int8 see the [paper](https://arxiv.org/abs/2102.00002).\n\n## Citing\n\n"
        "```bibtex\n@software{tiny2021,\n  title = {TinyCLIP},\n  author = {Doe, Jane},\n"
        "  year = {2021}\n}\n```\n"
    )
    c = vet_repo({"README.md": readme, "m.py": "x = 1\n"}).citation
    assert c is not None and c["arxiv"] == "2101.00001"


def test_copyright_authors_wrapped_over_lines_and_a_dated_notice(vet_repo: Vet) -> None:
    mit = (
        "Copyright (c) 2019-2021 Ann Lee, Bo Chen, \nCy Diaz, Dee Evans-Fox,\nEd Gray\n\n"
        "Permission is hereby granted, free of charge, to any person obtaining a copy\n"
    )
    report = vet_repo({"LICENSE": mit, "train.py": "import torch\n"})
    assert report.copyright["holders"] == [
        "Ann Lee",
        "Bo Chen",
        "Cy Diaz",
        "Dee Evans-Fox",
        "Ed Gray",
    ]
    dated = "Copyright © March 3rd 2016 Tiny Robotics University\n\nAll rights reserved.\n"
    report = vet_repo({"LICENSE": dated, "train.py": "import torch\n"}, name="d")
    assert report.copyright["holders"] == ["Tiny Robotics University"]
    org = "Copyright (c) 2020 Vision and Learning Group, Tiny University, Somewhere\n"
    report = vet_repo({"LICENSE": org, "train.py": "import torch\n"}, name="o")
    assert report.copyright["holders"] == ["Vision and Learning Group, Tiny University, Somewhere"]


def test_holders_of_the_main_license_not_of_bundled_code(vet_repo: Vet) -> None:
    mit = "MIT License\n\nCopyright (c) 2019 Kim Author\n\nPermission is hereby granted\n"
    bundled = "Copyright (c) 2018, Big GPU Corporation. All rights reserved.\n\nRedistribution\n"
    notice = "---- LICENSE FOR Big GPU code ----\nCopyright (c) 2022, Big GPU Corporation.\n"
    report = vet_repo(
        {"LICENSE": mit, "LICENSE-BIGGPU": bundled, "NOTICE": notice, "train.py": "import torch\n"}
    )
    assert report.copyright["holders"] == ["Kim Author"]
    apache_notice = "Tiny Project\nCopyright 2020 Tiny Labs LLC\n"
    report = vet_repo(
        {"LICENSE": "Apache License\nVersion 2.0\n", "NOTICE": apache_notice, "m.py": "x = 1\n"},
        name="n",
    )
    assert report.copyright["holders"] == ["Tiny Labs LLC"]


def test_copyright_authors_with_affiliations_and_a_shared_model(vet_repo: Vet) -> None:
    lic = (
        "COPYRIGHT\n\nAll new contributions:\nCopyright (c) 2015, Ann Lee (UCLA), Bo Chen (Acme),"
        "\nCy Diaz (Acme), and Dee Fox (JHU)\nAll rights reserved.\n\n"
        "All other contributions:\nCopyright (c) 2014, 2015, the respective contributors\n"
        "All rights reserved.\n"
    )
    report = vet_repo({"LICENSE": lic, "train.py": "import torch\n"})
    assert report.copyright["holders"] == ["Ann Lee", "Bo Chen", "Cy Diaz", "Dee Fox"]


def test_source_holders_are_not_copied_files_owners(vet_repo: Vet) -> None:
    own = "# Copyright (c) 2021 Jane Doe\nimport torch\n"
    lib = "# Copyright (c) Big Lab. All rights reserved.\nimport os\n"
    adapted = "# Copyright 2022 The Hub Team. All rights reserved.\n# Copyright 2023 Jane Doe\n"
    files = {f"tiny/m{i}.py": own for i in range(3)}
    files |= {f"tiny/third/mmcv/ops/o{i}.py": lib for i in range(9)}
    files |= {"tiny/convert.py": adapted, "tiny/estimator.py": "# Copyright 2018 The X Authors.\n"}
    report = vet_repo({"LICENSE": "Apache License\nVersion 2.0\n", **files})
    assert report.copyright["holders"] == ["Jane Doe"]
    few = {"a.py": own, "b.py": "import os\n"}
    assert vet_repo(few, name="few").copyright["holders"] == ["Jane Doe"]


def test_a_method_the_code_uses_is_not_the_paper_it_is_for(vet_repo: Vet) -> None:
    readme = (
        "# Tiny-Chat-Adapters\n\nThis repository holds code for reproducing the TinyChat results "
        "using low-rank adaptation ([LoRA](https://arxiv.org/abs/2106.09685)).\n"
    )
    report = vet_repo({"README.md": readme, "finetune.py": "import torch\n"})
    assert report.citation is None or "arxiv" not in report.citation
    readme = (
        "# tinyvit\n\nOfficial PyTorch implementation of [Tiny Vision Transformers]"
        "(https://arxiv.org/abs/2203.00003), trained with mixed precision.\n"
    )
    report = vet_repo({"README.md": readme, "train.py": "import torch\n"})
    assert report.citation is not None and report.citation["arxiv"] == "2203.00003"


def test_the_bibtex_title_wins_over_an_unlabelled_link_below_the_header(vet_repo: Vet) -> None:
    readme = (
        "# tinygan\n\nSmall GANs.\n\n## Method\n\nThis code is an implementation of the method "
        "described in https://arxiv.org/abs/1812.04948\n\n## Citation\n\n```\n@inproceedings{tiny,"
        "\n  title = {Tiny Generative Networks for Phones},\n  author = {Jane Researcher},\n"
        "  year = {2022}\n}\n```\n"
    )
    report = vet_repo({"README.md": readme, "train.py": "import torch\n"})
    assert report.citation is not None and "arxiv" not in report.citation
    # The same link beside the BibTeX's title is the own paper.
    readme = readme.replace("the method described in", "Tiny Generative Networks for Phones,")
    report = vet_repo({"README.md": readme, "train.py": "import torch\n"})
    assert report.citation is not None and report.citation["arxiv"] == "1812.04948"


def test_a_patent_notice_is_no_part_of_the_holder() -> None:
    from forkvet.vet.copyright import holder_name

    assert holder_name("Copyright © Niantic, Inc. 2018. Patent Pending.") == "Niantic, Inc."
    assert holder_name("Copyright 2019 Acme Corp. Patents pending.") == "Acme Corp."
