"""Terms on the models, not the code: catalogues, model cards, research-only base models and
data sets. Commercial use is then never a plain yes; data-set terms are reported apart."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
APACHE = license_text("Apache-2.0.txt")
CODE = {"LICENSE": APACHE, "train.py": "import torch\n"}


def test_apache_code_alone_is_yes(vet_repo: Vet) -> None:
    assert vet_repo(CODE).license.commercial_use is True


def test_a_catalogue_with_non_commercial_models_is_unclear(vet_repo: Vet) -> None:
    catalogue = [
        {"name": "tiny-base", "url": "https://example.org/base.pt", "license": "Apache-2.0"},
        {"name": "tiny-large", "url": "https://example.org/large.pt", "license": "CC-BY-NC-4.0"},
    ]
    report = vet_repo({**CODE, "configs/models.json": json.dumps(catalogue)})
    assert report.license.spdx == "Apache-2.0"
    assert report.license.commercial_use is None
    assert "configs/models.json" in report.license.governs_reason


def test_a_catalogue_of_permissive_models_stays_yes(vet_repo: Vet) -> None:
    catalogue = {"models": [{"name": "a", "license": "MIT"}, {"name": "b", "license": "MIT"}]}
    report = vet_repo({**CODE, "models.yaml": json.dumps(catalogue)})
    assert report.license.commercial_use is True


def test_a_model_card_for_research_only(vet_repo: Vet) -> None:
    card = "# Model card\n\n## Intended use\n\nThe model is intended for research purposes only.\n"
    report = vet_repo({**CODE, "MODEL_CARD.md": card})
    assert report.license.commercial_use is None
    assert "intended use is research only" in report.license.governs_reason


def test_an_adapter_of_a_research_only_base_model(vet_repo: Vet) -> None:
    adapter = {"base_model_name_or_path": "huggyllama/llama-7b", "r": 8}
    report = vet_repo({**CODE, "lora/adapter_config.json": json.dumps(adapter)})
    assert report.license.commercial_use is None
    assert "research-only base model" in report.license.governs_reason
    readme = "# tinychat\n\nLoRA weights fine-tuned from LLaMA-7B on our chat data.\n"
    report = vet_repo({**CODE, "README.md": readme}, name="readme")
    assert report.license.commercial_use is None


@pytest.mark.parametrize(
    "readme",
    [
        "# tinychat\n\nLoRA weights fine-tuned from Llama-2-7b on our chat data.\n",
        "# tinychat\n\nOur chat model is based on meta-llama/Llama-3.1-8B-Instruct.\n",
        "# tinychat\n\nWe release adapters for Code Llama 7B.\n",
    ],
)
def test_a_fine_tune_of_a_conditionally_licensed_base_is_never_yes(
    vet_repo: Vet, readme: str
) -> None:
    # Llama 2/3/4 grant commercial use only under a user threshold and a use policy: weights
    # derived from them follow that license (forkvet/data/model_licenses.json base_models).
    report = vet_repo({**CODE, "README.md": readme})
    assert report.license.spdx == "Apache-2.0"
    assert report.license.commercial_use is None
    assert "Llama" in report.license.governs_reason


def test_an_adapter_config_of_a_conditionally_licensed_base_is_never_yes(vet_repo: Vet) -> None:
    adapter = {"base_model_name_or_path": "meta-llama/Llama-2-7b-hf", "r": 8}
    report = vet_repo({**CODE, "lora/adapter_config.json": json.dumps(adapter)})
    assert report.license.commercial_use is None
    assert "adapter of meta-llama/Llama-2-7b-hf" in report.license.governs_reason


@pytest.mark.parametrize(
    "readme",
    [
        # The base model is the subject of "based on", not what the weights derive from.
        "# Tiny\n\nBoth Tiny and Llama are based on the Transformer architecture.\n",
        "# Tiny\n\nTiny and LLaMA 2 are built on the same decoder design.\n",
        # A project named after the model is not the model.
        "# Tiny\n\nFine-tuning frameworks such as [LLaMA-Factory](https://example.org) work.\n",
        # Named, but nothing derives from it.
        "# Tiny\n\nTiny beats Llama-2-70B and LLaMA-65B on MMLU.\n",
    ],
)
def test_a_base_model_named_without_deriving_from_it_changes_nothing(
    vet_repo: Vet, readme: str
) -> None:
    assert vet_repo({**CODE, "README.md": readme}).license.commercial_use is True


def test_data_set_terms_are_reported_apart(vet_repo: Vet) -> None:
    readme = "# seg\n\nThe dataset is available for non-commercial research purposes only.\n"
    report = vet_repo({**CODE, "README.md": readme})
    assert report.license.commercial_use is True
    assert [f for f in report.findings if f.title == "Data set terms"]


def test_a_model_card_advising_against_commercial_use(vet_repo: Vet) -> None:
    card = (
        "# Model card: tinygen\n\n# Evaluated use\n\nWe release the models to further research; "
        "we advise against using them for commercial purposes for now.\n"
    )
    report = vet_repo({**CODE, "model-card.md": card})
    assert report.license.commercial_use is None
    assert "advises against commercial use" in report.license.governs_reason
    plain = "# Model card: tinygen\n\n# Uses\n\nGenerating small images.\n"
    assert vet_repo({**CODE, "model-card.md": plain}, name="p").license.commercial_use is True


@pytest.mark.parametrize(
    "advice",
    [
        "Due to its limitations, we do not currently recommend it for commercial use.",
        "We don't recommend these models for commercial deployment.",
        "The checkpoints are not recommended for commercial use.",
    ],
)
def test_a_model_card_not_recommending_commercial_use(vet_repo: Vet, advice: str) -> None:
    """GLIDE's and Point-E's cards (round-9 dev): advice against commercial use, in any of its
    forms, leaves the answer unclear; a recommendation for it does not."""
    card = f"# Model card\n\n# Intended use\n\nWe release these models for research. {advice}\n"
    report = vet_repo({**CODE, "model-card.md": card})
    assert report.license.commercial_use is None
    fine = "# Model card\n\n# Uses\n\nWe recommend it for commercial use and research alike.\n"
    assert vet_repo({**CODE, "model-card.md": fine}, name="f").license.commercial_use is True


def test_weights_that_follow_their_base_models_license(vet_repo: Vet) -> None:
    zoo = (
        "# Model zoo\n\nThese are merged weights. Use of the tinychat checkpoints must comply "
        "with the base language model's license.\n"
    )
    report = vet_repo({**CODE, "docs/MODEL_ZOO.md": zoo})
    assert report.license.commercial_use is None
    assert "base model's license" in report.license.governs_reason
    readme = (
        "# tinychat\n\nThe checkpoints are subject to the licenses for base models they were "
        "trained from.\n"
    )
    assert vet_repo({**CODE, "README.md": readme}, name="r").license.commercial_use is None
    own = "# tinychat\n\nThe checkpoints are released under the same license as the code.\n"
    assert vet_repo({**CODE, "README.md": own}, name="o").license.commercial_use is True


def test_a_readme_model_table_with_a_non_production_row_is_unclear(vet_repo: Vet) -> None:
    readme = (
        "# Tiny LMs\n\n| Model | Download | License |\n|---|---|---|\n"
        "| tiny-7b | [link](https://example.org/7b.tar) | Apache 2.0 |\n"
        "| tiny-code | [link](https://example.org/code.tar) | Tiny AI Non-Production License |\n"
    )
    report = vet_repo({**CODE, "README.md": readme})
    assert report.license.commercial_use is None
    assert "README.md" in report.license.governs_reason


def test_a_readme_model_table_of_open_licenses_stays_yes(vet_repo: Vet) -> None:
    readme = (
        "# Tiny LMs\n\n| Model | **License** |\n|---|---|\n| tiny-7b | Apache 2.0 |\n"
        "| tiny-1b | MIT |\n\nAll models run on one GPU.\n"
    )
    assert vet_repo({**CODE, "README.md": readme}).license.commercial_use is True


def test_a_conditional_weights_license_beside_an_open_code_license_is_unclear(
    vet_repo: Vet,
) -> None:
    report = vet_repo(
        {**CODE, "MODEL_LICENSE": license_text("llama-2-community-license-excerpt.txt")}
    )
    assert report.license.spdx == "Apache-2.0"
    assert report.license.commercial_use is None
    assert "MODEL_LICENSE" in report.license.governs_reason


def test_a_weights_license_the_readme_retires_decides_nothing(vet_repo: Vet) -> None:
    readme = (
        "# Tiny\n\n## License\n\nThe code and weights of the Tiny series models are distributed "
        "under the Apache 2.0 license, free for commercial use.\n\nThe previous license, "
        "MODEL_LICENSE.txt, no longer applies.\n"
    )
    files = {
        **CODE,
        "MODEL_LICENSE.txt": license_text("llama-2-community-license-excerpt.txt"),
        "README.md": readme,
    }
    report = vet_repo(files)
    assert (report.license.spdx, report.license.commercial_use) == ("Apache-2.0", True)
    assert [f for f in report.findings if f.title == "Superseded license"]
    assert "MODEL_LICENSE.txt" in {m.path for m in report.license.all}
    # Retired, but the README puts only the code under Apache: the weights stay unclear.
    code_only = readme.replace("code and weights of the Tiny series models are", "code is")
    report = vet_repo({**files, "README.md": code_only}, name="code-only")
    assert report.license.commercial_use is None
    # The README puts the weights under Apache but never retires the file: unclear.
    kept = readme.replace("The previous license, MODEL_LICENSE.txt, no longer applies.", "")
    assert vet_repo({**files, "README.md": kept}, name="kept").license.commercial_use is None


def test_gated_weights_are_never_a_plain_yes(vet_repo: Vet) -> None:
    readme = (
        "# tinycoder\n\nBefore you can use the model go to hf.co/example/tinycoder and accept "
        "the agreement.\n"
    )
    report = vet_repo({**CODE, "README.md": readme})
    assert (report.license.spdx, report.license.commercial_use) == ("Apache-2.0", None)
    assert "gated" in report.license.governs_reason
    # Under a model license of its own, the agreement is that license: it alone decides.
    rail = {"LICENSE": license_text("creativeml-openrail-m.txt"), "README.md": readme}
    assert vet_repo(rail, name="rail").license.commercial_use is True
    # Accepting a pull request is no agreement on weights.
    plain = "# tinycoder\n\nWe accept the pull requests that add a model test.\n"
    assert vet_repo({**CODE, "README.md": plain}, name="p").license.commercial_use is True


def test_a_readme_that_loads_a_conditionally_licensed_model_is_never_yes(vet_repo: Vet) -> None:
    readme = (
        "# tinyeval\n\n```python\nfrom transformers import AutoModelForCausalLM\n"
        'model = AutoModelForCausalLM.from_pretrained("meta-llama/Llama-2-7b-hf")\n```\n'
    )
    report = vet_repo({**CODE, "README.md": readme})
    assert report.license.commercial_use is None
    assert "loads meta-llama/Llama-2-7b-hf" in report.license.governs_reason
    # Round 20 (19c L2): a hub model whose terms no table knows is not verified offline.
    own = readme.replace("meta-llama/Llama-2-7b-hf", "example/tiny-open-7b")
    report = vet_repo({**CODE, "README.md": own}, name="own")
    assert report.license.commercial_use is None
    assert "example/tiny-open-7b" in report.license.governs_reason
    known = readme.replace("meta-llama/Llama-2-7b-hf", "mistralai/Mistral-7B-v0.1")
    assert vet_repo({**CODE, "README.md": known}, name="known").license.commercial_use is True


def test_a_sub_project_readme_licensing_its_models_for_research_only(vet_repo: Vet) -> None:
    project = (
        "# TinyBLIP\n\n## Usage and License\n\nThe model is intended and licensed for research "
        "use only. It was trained on a dataset for non-commercial use.\n"
    )
    report = vet_repo({**CODE, "projects/tinyblip/README.md": project})
    assert report.license.commercial_use is None
    assert "projects/tinyblip/README.md" in report.license.governs_reason
    # A data set's terms in a sub-project README are the data's, not the models'.
    data_only = "# TinyBLIP\n\nThe dataset is licensed for non-commercial research use only.\n"
    files = {**CODE, "projects/tinyblip/README.md": data_only}
    assert vet_repo(files, name="data").license.commercial_use is True
    # Vendored code's README is that library's business.
    files = {**CODE, "third_party/blip/README.md": project}
    assert vet_repo(files, name="vendored").license.commercial_use is True


NC_SENTENCE = (
    "The pretrained model weights and this code may be used for non-commercial research "
    "purposes only. Commercial use is strictly prohibited."
)


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("MODEL_CARD.md", NC_SENTENCE),
        ("model_card.md", NC_SENTENCE),
        ("models/tiny/MODEL_CARD.md", NC_SENTENCE),
        ("models/tiny/MODEL_CARD.md", "CC BY-NC 4.0"),
        ("weights/README.md", "The weights are released under CC-BY-NC-4.0."),
        ("pretrained/README.md", "The checkpoints are under the Llama 2 Community License."),
        ("docs/model-card-v2.md", "For academic research only."),
        ("hub/README.md", "---\ntags: [vision]\npipeline_tag: image-classification\n---\n"),
    ],
)
def test_a_model_cards_license_section_limiting_use_is_unclear(
    vet_repo: Vet, path: str, section: str
) -> None:
    # Round 14, F4: a model card's License section is read like a README's.
    if section.startswith("---"):  # the Hub's front matter makes a README a model card
        section, card = NC_SENTENCE, section
    else:
        card = ""
    card += f"# Model card\n\n## License\n\n{section}\n\n## Citation\n\nTBD\n"
    lic = vet_repo({**CODE, path: card}).license
    assert (lic.spdx, lic.commercial_use) == ("Apache-2.0", None)
    assert path in lic.governs_reason


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("MODEL_CARD.md", "The model and code are released under the Apache 2.0 license."),
        ("MODEL_CARD.md", "MIT. Commercial use is permitted."),
        ("models/tiny/README.md", "Apache-2.0"),
        ("checkpoints/README.md", "The same as the code: see the LICENSE file at the root."),
    ],
)
def test_a_model_cards_license_section_granting_use_keeps_yes(
    vet_repo: Vet, path: str, section: str
) -> None:
    card = f"# Model card\n\n## License\n\n{section}\n"
    assert vet_repo({**CODE, path: card}).license.commercial_use is True


def test_a_documentation_page_is_no_model_card(vet_repo: Vet) -> None:
    # A Jekyll page's front matter (Caffe's examples) makes no README a model card: its
    # License section speaks of a data set's images. (A sentence restricting the weights would
    # restrict them in any document since round 18: tests/test_license_round18.py.)
    page = (
        "---\ntitle: Fine-tuning for style recognition\ncategory: example\n---\n\n# Style\n\n"
        "## License\n\nThe Flickr images are licensed for non-commercial research purposes "
        "only. Commercial use is strictly prohibited.\n"
    )
    assert vet_repo({**CODE, "examples/style/readme.md": page}).license.commercial_use is True
