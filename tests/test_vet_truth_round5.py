"""Issue 19, round 5 (dev half): holders named two to a notice, spelled out in parentheses or
only for bundled code; ports and feature extractors are not the primary framework; weights
whose license nothing states leave commercial use unclear. Each fixture is written here,
never copied from a repository."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forkvet.config import Config, LicensePolicy
from forkvet.report import Report
from forkvet.vet.citation import own_arxiv
from forkvet.vet.copyright import holder_name

Vet = Callable[..., Report]

MIT_BODY = (
    "Permission is hereby granted, free of charge, to any person obtaining a copy\n"
    'of this software and associated documentation files (the "Software"), to deal\n'
    "in the Software without restriction.\n"
)


# ---- copyright --------------------------------------------------------------------------


def test_two_people_in_one_notice_are_two_holders(vet_repo: Vet) -> None:
    lic = "MIT License\n\nCopyright (c) 2023 Ann Lee, Bo Chen\n\n" + MIT_BODY
    holders = vet_repo({"LICENSE": lic, "model.py": "import os\n"}).copyright["holders"]
    assert holders == ["Ann Lee", "Bo Chen"]


def test_an_organisation_and_its_place_stay_one_holder() -> None:
    assert holder_name("Copyright (c) 2017 Widget AI Research, Menlo Park") == (
        "Widget AI Research, Menlo Park"
    )


def test_a_parenthesis_spelling_out_the_acronym_is_part_of_the_name() -> None:
    line = "Copyright (c) 2019 Acme WRL (Acme Widget Research Lab)"
    assert holder_name(line) == "Acme WRL (Acme Widget Research Lab)"
    # Any other parenthesis (an abbreviation after the name, an address) is no part of it.
    assert holder_name("Copyright 2019 Widget Gesellschaft e.V. (WG)") == "Widget Gesellschaft e.V."
    assert holder_name("Copyright (c) 2019 Jane Doe (https://example.org/jd)") == "Jane Doe"


def test_original_and_modified_work_notices_are_holders(vet_repo: Vet) -> None:
    lic = (
        "MIT License\n\nModified & original work Copyright (c) 2019 Jane Doe (https://x.org/jd)\n"
        "Original work Copyright (c) 2018 John Roe\n\n" + MIT_BODY
    )
    holders = vet_repo({"LICENSE": lic, "model.py": "import os\n"}).copyright["holders"]
    assert holders == ["Jane Doe", "John Roe"]


def test_notices_only_below_a_license_for_bundled_code_separator_are_not_the_repos(
    vet_repo: Vet,
) -> None:
    apache = (
        "                                 Apache License\n"
        "                           Version 2.0, January 2004\n\n"
        "   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION\n\n"
        '      "Licensor" shall mean the copyright owner or entity authorized by\n'
        "      the copyright owner that is granting the License.\n\n"
    )
    lic = (
        apache
        + "------------- LICENSE FOR Widget code  --------------\n\n"
        + "# Copyright (c) 2020, WIDGET CORPORATION. All rights reserved.\n"
    )
    readme = "# Tool\n\n## Licensing\n\nCopyright (c) 2024, Acme Labs.\n"
    files = {"LICENSE": lic, "README.md": readme, "model.py": "import os\n"}
    assert vet_repo(files).copyright["holders"] == ["Acme Labs"]


# ---- primary frameworks -----------------------------------------------------------------

TORCH_MODEL = "import torch\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n    pass\n"
TF_RUN = "import tensorflow as tf\n\nif __name__ == '__main__':\n    tf.zeros(1)\n"
TRAIN = "import torch\nfrom widget.model import Net\n\nif __name__ == '__main__':\n    Net()\n"


def _roles(report: Report) -> dict[str, str | None]:
    return {fw.name: fw.role for fw in report.frameworks}


def test_a_port_in_a_folder_named_for_its_framework_is_not_primary(vet_repo: Vet) -> None:
    files = {
        "widget/__init__.py": "",
        "widget/model.py": TORCH_MODEL,
        "widget/blocks.py": TORCH_MODEL,
        "train.py": TRAIN,
        "run.py": TRAIN,
        "tf/run_pb.py": TF_RUN,
        "mobile/app/run_tflite.py": "import tensorflow as tf\n",
    }
    roles = _roles(vet_repo(files))
    assert roles["pytorch"] == "primary"
    assert roles["tensorflow"] == "optional"


def test_two_codebases_each_in_its_own_framework_folder_stay_primary(vet_repo: Vet) -> None:
    files = {
        "pytorch/model.py": TORCH_MODEL,
        "pytorch/train.py": "import torch\nimport model\n",
        "pytorch/eval.py": "import torch\nimport model\n",
        "tf/model.py": "import tensorflow as tf\n",
        "tf/train.py": "import tensorflow as tf\nimport model\n",
    }
    roles = _roles(vet_repo(files))
    assert roles["pytorch"] == roles["tensorflow"] == "primary"


def test_a_second_framework_one_helper_module_imports_is_not_primary(vet_repo: Vet) -> None:
    logger = "import tensorflow as tf\n\n\nclass Logger:\n    pass\n"
    files = {
        "widget/__init__.py": "",
        "widget/model.py": TORCH_MODEL,
        "widget/blocks.py": TORCH_MODEL,
        "train.py": TRAIN + "from logger import Logger\n",
        "logger.py": logger,
    }
    roles = _roles(vet_repo(files))
    assert roles["pytorch"] == "primary"
    assert roles["tensorflow"] == "optional"
    # The same import in the training script itself is what you install to train.
    files["train.py"] = TRAIN + "import tensorflow as tf\n"
    assert _roles(vet_repo(files))["tensorflow"] == "primary"


def test_a_framework_only_feature_extraction_scripts_import_is_not_primary(
    vet_repo: Vet,
) -> None:
    files = {
        "driver.py": "import numpy as np\n\nif __name__ == '__main__':\n    np.zeros(1)\n",
        "predict_on_images.py": "import numpy as np\n\nif __name__ == '__main__':\n    pass\n",
        "extract_features.py": "import caffe\n\nif __name__ == '__main__':\n    caffe.Net()\n",
        "py_caffe_feat_extract.py": "import caffe\n",
    }
    assert _roles(vet_repo(files))["caffe"] == "optional"


def test_a_module_inside_a_package_does_not_hide_the_framework(vet_repo: Vet) -> None:
    files = {
        "widget/__init__.py": "",
        "widget/utils/__init__.py": "",
        "widget/utils/torch.py": "def custom_amp():\n    pass\n",
        "widget/model.py": TORCH_MODEL,
        "widget/blocks.py": TORCH_MODEL,
    }
    assert _roles(vet_repo(files)).get("pytorch") == "primary"


def test_tokenizer_only_data_scripts_do_not_make_transformers_primary(vet_repo: Vet) -> None:
    tok = "from transformers import AutoTokenizer\n\nif __name__ == '__main__':\n    pass\n"
    files = {
        "widget/__init__.py": "",
        "widget/model.py": TORCH_MODEL,
        "widget/blocks.py": TORCH_MODEL,
        "train.py": TRAIN,
        "post/dpo_data.py": tok,
        "post/sft_data.py": tok,
        "post/example_reward.py": (
            "from transformers import AutoModelForCausalLM\n\nif __name__ == '__main__':\n"
            "    pass\n"
        ),
    }
    assert _roles(vet_repo(files))["transformers"] == "library"


# ---- weights ----------------------------------------------------------------------------


def test_a_storage_buckets_name_is_weaker_than_the_section_heading(vet_repo: Vet) -> None:
    readme = (
        "# Widget\n\n## Released Models\n\n| Model | Params | Download |\n| --- | --- | --- |\n"
        "| Widget-Small | 14M | [link](https://storage.googleapis.com/widget-data/small.zip) |\n"
    )
    report = vet_repo({"README.md": readme, "run.py": "import os\n"})
    assert [w.url for w in report.weights] == [
        "https://storage.googleapis.com/widget-data/small.zip"
    ]
    assert report.datasets == []


def test_an_array_file_named_for_data_is_data_not_a_checkpoint(vet_repo: Vet) -> None:
    host = "http://example.edu/widget"
    files = {
        "download_example_data.sh": f"wget {host}/tiny_widget_data.npz\n",
        "download_example_weights.sh": f"wget {host}/lego_example_weights.npz\n",
        "run.py": "import os\n",
    }
    report = vet_repo(files)
    assert [w.url for w in report.weights] == [f"{host}/lego_example_weights.npz"]
    assert [w.url for w in report.datasets] == [f"{host}/tiny_widget_data.npz"]


def test_storage_links_without_a_bucket_do_not_stop_the_check(vet_repo: Vet) -> None:
    readme = "# W\n\n[a](https://storage.googleapis.com/x.zip) [b](https://s3.amazonaws.com/)\n"
    report = vet_repo({"README.md": readme, "run.py": "import os\n"})
    assert not [f for f in report.findings if f.check == "weights"]


def test_a_download_script_named_for_saved_models_fetches_weights(vet_repo: Vet) -> None:
    script = (
        "from helpers import fetch_file\n\nif __name__ == '__main__':\n"
        "    fetch_file('https://example.org/s/abc/saved_models.zip', 'm.zip')\n"
    )
    files = {"style/download_saved_models.py": script, "style/run.py": "import os\n"}
    assert [w.path for w in vet_repo(files).weights] == ["style/download_saved_models.py"]


# ---- commercial use: the weights' own terms ---------------------------------------------

MIT = "MIT License\n\nCopyright (c) 2020 Jane Doe\n\n" + MIT_BODY
DRIVE = "https://drive.google.com/file/d/abc123/view"


def _weights_notices(report: Report) -> list[str]:
    return [f.message for f in report.findings if f.title == "Weights license not stated"]


def test_linked_weights_with_no_license_are_reported_apart_from_the_code(vet_repo: Vet) -> None:
    readme = f"# Widget\n\n## Pretrained models\n\nDownload the [pretrained model]({DRIVE}).\n"
    report = vet_repo({"LICENSE": MIT, "README.md": readme, "run.py": "import os\n"})
    assert report.weights
    # The code's answer stands (the labels keep "yes" for authors' own checkpoints) ...
    assert report.license.commercial_use is True
    # ... and the reason says the weights are not covered.
    assert "state no license" in report.license.governs_reason
    (message,) = _weights_notices(report)
    assert "answers for the code" in message and "drive.google.com" in message


def test_a_policy_requiring_commercial_use_warns_about_unlicensed_weights(
    vet_repo: Vet,
) -> None:
    readme = f"# Widget\n\nDownload the [pretrained model]({DRIVE}).\n"
    config = Config(license=LicensePolicy(require_commercial_use=True))
    report = vet_repo({"LICENSE": MIT, "README.md": readme, "run.py": "import os\n"}, config)
    (finding,) = [f for f in report.findings if f.title == "Weights license not stated"]
    assert finding.severity == "warning"
    assert not [f for f in report.findings if f.severity == "error"]


def test_a_readme_sentence_licensing_the_models_covers_them(vet_repo: Vet) -> None:
    readme = (
        f"# Widget\n\nDownload the [pretrained model]({DRIVE}).\n\n## License\n\n"
        "The code and the pretrained models are released under the MIT license.\n"
    )
    report = vet_repo({"LICENSE": MIT, "README.md": readme, "run.py": "import os\n"})
    assert report.weights and _weights_notices(report) == []
    assert "state no license" not in report.license.governs_reason


def test_a_model_card_states_the_weights_terms(vet_repo: Vet) -> None:
    readme = f"# Widget\n\nDownload the [pretrained model]({DRIVE}).\n"
    card = "# Model card\n\nIntended use: image widgets.\n"
    files = {"LICENSE": MIT, "README.md": readme, "MODEL_CARD.md": card, "run.py": "import os\n"}
    assert _weights_notices(vet_repo(files)) == []


# ---- own paper --------------------------------------------------------------------------


def test_a_paper_credited_to_other_authors_by_name_is_not_the_own_paper() -> None:
    readme = (
        "# WidgetTalk\n\nThis code implements the models proposed by [Lee et al. from Acme "
        "(CNN + LSTM)](http://arxiv.org/abs/1411.00001) and by [Doe and Roe](http://example.org/"
        "doe).\n"
    )
    assert own_arxiv(readme, "WidgetTalk", None) is None
    own = "# WidgetTalk\n\nThis code implements [Widget Talk](http://arxiv.org/abs/1411.00001).\n"
    assert own_arxiv(own, "WidgetTalk", None) == "1411.00001"


@pytest.mark.parametrize(
    ("sentence", "commercial"),
    [
        # Terms of their own, held elsewhere: unclear, whatever the code's license.
        (
            "Should you use these pre-trained weights, please adhere to the "
            "[license agreements](https://example.org/terms).",
            None,
        ),
        ("Use of the pretrained models is governed by a separate license agreement.", None),
        # A license named, or the repository's own: the code's answer stands.
        ("The pretrained models are released under the CC BY 4.0 license terms.", True),
        ("The weights are released under the same license as the code.", True),
    ],
)
def test_weights_under_license_terms_the_repository_does_not_hold_are_unclear(
    vet_repo: Vet, sentence: str, commercial: bool | None
) -> None:
    readme = f"# Widget\n\nDownload the [pretrained model]({DRIVE}).\n\n{sentence}\n"
    report = vet_repo({"LICENSE": MIT, "README.md": readme, "run.py": "import os\n"})
    assert report.license.commercial_use is commercial
    # the weights' own sentence, or (round 23's terms reader) an unexplained terms sentence
    titles = ("Weights under separate terms", "License is custom-restricted")
    separate = [f for f in report.findings if f.title in titles]
    assert bool(separate) is (commercial is None)
