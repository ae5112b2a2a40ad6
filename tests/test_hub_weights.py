"""Round 20 (19c L2, L11, L13, L14): weights the repository downloads from a hub by name.

Each case once answered MIT, commercial use yes. A hub id the code loads, a card's `base_model`,
an Ollama model or a torch.hub repository are weights whose terms forkvet cannot read offline:
only `forkvet/data/hub_models.json` knows an id's license; an unknown id is "unclear", a known
non-commercial one "no", a known permissive one stays "yes"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"model.py": "import torch\n", "README.md": "# Cool model\n\nTrain with model.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")


def _report(vet_repo: Vet, files: dict[str, str]) -> Report:
    return vet_repo({"LICENSE": MIT, **CODE, **files})


def _answer(vet_repo: Vet, files: dict[str, str]) -> bool | None:
    return _report(vet_repo, files).license.commercial_use


def _load(name: str) -> dict[str, str]:
    return {
        "train.py": f'from transformers import AutoModel\nm = AutoModel.from_pretrained("{name}")\n'
    }


# -- L2: an id no table knows is unclear, naming it --------------------------------------------
@pytest.mark.parametrize(
    "files",
    [
        _load("some-lab/unknown-model-7b"),
        {
            "train.py": "from diffusers import DiffusionPipeline\n"
            'p = DiffusionPipeline.from_pretrained(\n  "acme/x")\n'
        },
        {
            "demo.py": "from transformers import pipeline\n"
            'p = pipeline("text-generation", model="acme/gen-1")\n'
        },
        {
            "dl.py": "from huggingface_hub import snapshot_download\n"
            'snapshot_download(repo_id="acme/w")\n'
        },
        {"dl.py": 'hf_hub_download("acme/w", "model.safetensors")\n'},
        {
            "emb.py": "from sentence_transformers import SentenceTransformer\n"
            'm = SentenceTransformer("acme/emb")\n'
        },
        {"m.py": 'import timm\nm = timm.create_model("hf-hub:acme/vit", pretrained=True)\n'},
        {
            "m.py": "import open_clip\n"
            'm = open_clip.create_model_and_transforms("hf-hub:acme/clip")\n'
        },
        {"m.py": 'import torch\nm = torch.hub.load("acme/hubrepo", "net")\n'},
        {"configs/train.yaml": "model_name_or_path: acme/base-7b\nlr: 1e-4\n"},
        {"m.py": 'name = "acme/base-7b"\nm = AutoModel.from_pretrained(name)\n'},
        {
            "m.py": "p.add_argument('--ckpt', default='acme/base-7b')\na = p.parse_args()\n"
            "m = AutoModel.from_pretrained(a.ckpt, torch_dtype=t)\n"
        },
        {
            "m.py": "@dataclass\nclass A:\n    weights: str = field(default='acme/base-7b')\n"
            "pipe = pipeline('text-generation', model=A().weights)\n"
        },
        {"run.sh": "python train.py --model_name_or_path acme/base-7b\n"},
        {"README.md": "# X\n\n```\nhuggingface-cli download acme/base-7b --local-dir w\n```\n"},
        {"README.md": "# X\n\n```\nhf download acme/base-7b\n```\n"},
    ],
)
def test_weights_downloaded_by_an_unknown_id_are_unclear(
    vet_repo: Vet, files: dict[str, str]
) -> None:
    report = _report(vet_repo, files)
    assert report.license.commercial_use is None
    text = " ".join(m.name for m in report.license.all)
    assert "acme/" in text or "some-lab/" in text
    assert "not verified offline" in text


@pytest.mark.parametrize(
    "name", ["black-forest-labs/FLUX.1-dev", "CohereForAI/c4ai-command-r-v01", "coqui/XTTS-v2"]
)
@pytest.mark.parametrize("decoy", [False, True])
def test_a_known_non_commercial_download_is_non_commercial(
    vet_repo: Vet, name: str, decoy: bool
) -> None:
    # The code's MIT and the weights' non-commercial terms: never yes, and the weights'
    # restriction is a non-commercial finding (what `deny: [non-commercial]` fails on). A
    # folder named like the owner (`black-forest-labs/notes.txt`) does not make it local.
    files = {**_load(name), **({f"{name.split('/')[0]}/notes.txt": "x"} if decoy else {})}
    report = _report(vet_repo, files)
    assert report.license.commercial_use is not True
    assert any(f.title == "License is non-commercial" for f in report.findings)
    assert any(m.commercial_use is False and name in m.name for m in report.license.all)


@pytest.mark.parametrize(
    "name",
    ["bert-base-uncased", "google/flan-t5-base", "openai/clip-vit-base-patch32", "Qwen/Qwen2-7B"],
)
def test_a_known_permissive_download_stays_yes(vet_repo: Vet, name: str) -> None:
    assert _answer(vet_repo, _load(name)) is True


@pytest.mark.parametrize(
    "files",
    [
        # A mention in prose, a local folder, a path setting, a file path: nothing downloaded.
        {"README.md": "# X\n\nWe compare with acme/other-model in the paper.\n"},
        {"README.md": "# X\n\nOur model acme/other-model is better than the base acme/b.\n"},
        {
            "train.py": 'm = AutoModel.from_pretrained("checkpoints/best")\n',
            "checkpoints/x.txt": "x",
        },
        {"src/t.py": 'm = AutoModel.from_pretrained("ckpt/w")\n', "src/ckpt/w/config.json": "{}"},
        {"configs/a.yml": "model_path: runs/llama\n"},
        {"train.py": 'm = AutoModel.from_pretrained("./out/final")\n'},
        {"train.py": 'm = AutoModel.from_pretrained("weights/model.pth")\n'},
    ],
)
def test_nothing_downloaded_stays_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files) is True


# -- L13: a card's base_model as a list, and weights-folder cards --------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {
            "README.md": "---\nlicense: apache-2.0\nbase_model:\n"
            "- meta-llama/Llama-2-7b-hf\n---\n# X\n"
        },
        {"README.md": "---\nlicense: mit\nbase_model: [meta-llama/Llama-2-7b-hf]\n---\n# X\n"},
        {"MODEL_CARD.md": "---\nbase_model:\n  - meta-llama/Meta-Llama-3-8B\n---\n# Card\n"},
        {"checkpoints/README.md": "---\nbase_model: meta-llama/Llama-2-7b-hf\n---\n# W\n"},
        {"weights/README.md": "---\nbase_model:\n- meta-llama/Llama-2-7b-hf\n---\n# W\n"},
        {"weights/README.md": "---\nbase_model:\n- acme/unknown-base\n---\n# W\n"},
    ],
)
def test_a_card_base_model_in_any_form_is_read(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files) is None


# -- L14: Ollama and quantized re-uploads -------------------------------------------------------
@pytest.mark.parametrize(
    "files",
    [
        {"README.md": "# X\n\n```\nollama run llama2\n```\n"},
        {"README.md": "# X\n\n```\nollama pull llama3.1:8b\n```\n"},
        {"Modelfile": "FROM llama2:7b\nPARAMETER temperature 0.7\n"},
        {"Modelfile": "FROM acme-model\n"},
        {
            "README.md": "# X\n\n```\nhuggingface-cli download TheBloke/Llama-2-7B-GGUF "
            "x.Q4_K_M.gguf\n```\n"
        },
    ],
)
def test_ollama_and_quantized_downloads_follow_the_base(
    vet_repo: Vet, files: dict[str, str]
) -> None:
    assert _answer(vet_repo, files) is None


def test_a_modelfile_license_directive_is_read(vet_repo: Vet) -> None:
    files = {"Modelfile": 'FROM ./model.gguf\nLICENSE """Non-commercial use only."""\n'}
    assert _answer(vet_repo, files) is not True


def test_a_local_modelfile_with_a_permissive_license_stays_yes(vet_repo: Vet) -> None:
    assert _answer(vet_repo, {"Modelfile": 'FROM ./model.gguf\nLICENSE """MIT"""\n'}) is True


# -- L11: license keys anywhere in model metadata, by the key's shape ---------------------------
@pytest.mark.parametrize(
    "files",
    [
        {"checkpoints/hparams.yaml": "lr: 0.1\nlicense: cc-by-nc-4.0\n"},
        {"config.json": '{"hidden_size": 8, "model_license": "cc-by-nc-4.0"}\n'},
        {"configs/model.yaml": "layers: 4\nweights_license: CC-BY-NC-4.0\n"},
        {
            "debian/copyright": "Format: https://www.debian.org/doc/packaging-manuals/"
            "copyright-format/1.0/\n\nFiles: *\nLicense: MIT\n\n"
            "Files: weights/*\nLicense: CC-BY-NC-4.0\n"
        },
        {
            "CITATION.cff": "cff-version: 1.2.0\ntitle: X\nlicense: MIT\npreferred-citation:\n"
            "  type: article\n  title: X\n  license: CC-BY-NC-4.0\n"
        },
    ],
)
def test_license_keys_in_model_metadata_are_read(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files) is not True


@pytest.mark.parametrize(
    "files",
    [
        {"checkpoints/hparams.yaml": "lr: 0.1\nlicense: mit\n"},
        {"config.json": '{"hidden_size": 8, "model_license": "apache-2.0"}\n'},
        {
            "CITATION.cff": "cff-version: 1.2.0\ntitle: X\nlicense: MIT\nreferences:\n"
            "  - type: dataset\n    title: D\n    license: CC-BY-NC-4.0\n"
        },
        {"debian/copyright": "Files: *\nLicense: CC-BY-NC-4.0\n"},  # no DEP 5 header: prose
    ],
)
def test_permissive_metadata_keys_stay_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files) is True


def test_code_past_the_search_bound_is_never_yes(
    vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.vet import modelsearch

    monkeypatch.setattr(modelsearch, "MAX_FILES", 2)
    files = {f"pkg/m{i}.py": "x = 1\n" for i in range(4)}
    report = _report(
        vet_repo, {**files, "pkg/z.py": 'from_pretrained("mistralai/Mistral-7B-v0.1")'}
    )
    assert report.license.commercial_use is None
    assert "not searched for weights" in report.license.governs_reason


# -- differential: the Hub's own card reader (skips where huggingface_hub is not installed) ----
@pytest.mark.parametrize(
    "front",
    [
        "base_model: meta-llama/Llama-2-7b-hf\n",
        "base_model:\n- meta-llama/Llama-2-7b-hf\n- acme/other\n",
        "base_model: [meta-llama/Llama-2-7b-hf, acme/other]\n",
        "base_model:\n  - 'acme/quoted'\n",
    ],
)
@pytest.mark.parametrize("lead", ["", "\n\n", "  \n"])
def test_base_model_reads_as_the_hub_reads_it(
    vet_repo: Vet, front: str, lead: str, tmp_path: Path
) -> None:
    repocard = pytest.importorskip("huggingface_hub.repocard")
    from forkvet.snapshot import load
    from forkvet.vet.context import Context
    from forkvet.vet.hubweights import _card_bases

    text = f"{lead}---\nlicense: mit\n{front}---\n# Card\n"
    card = tmp_path / "README.md"
    card.write_text(text)
    hub = repocard.metadata_load(card)["base_model"]
    hub = hub if isinstance(hub, list) else [hub]
    report_root = tmp_path / "repo"
    report_root.mkdir()
    (report_root / "README.md").write_text(text)
    ours = [name for name, _, _ in _card_bases(Context(load(report_root)))]
    assert ours == hub


@pytest.mark.parametrize(
    "files",
    [
        # A data set or a Space downloaded, arithmetic named `model`, a later string argument.
        {"d.py": 'hf_hub_download(repo_id="acme/data", filename="x.csv", repo_type="dataset")\n'},
        {"README.md": "# X\n\n```\nhf download acme/data --repo-type dataset\n```\n"},
        {"m.py": "model = total/count\n"},
        {"m.py": 'out = "runs/x"\nname = "a/b"\nm = AutoModel.from_pretrained(path)\n'},
        {"m.py": 'm = AutoModel.from_pretrained(path, cache_dir="cachedir/x")\n'},
    ],
)
def test_no_model_downloaded_stays_yes(vet_repo: Vet, files: dict[str, str]) -> None:
    assert _answer(vet_repo, files) is True
