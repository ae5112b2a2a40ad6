"""Round 23 (outside attack round 22d, F1, F5, F8, F9, F10, F13): a commercial "yes" needs every
download explained. A model a library picks itself, a dependency fetched from a version-control
address, a model named at run time, terms inside other weights formats, loaders and address
forms the one search did not know, and base models in prose each once answered MIT, commercial
use yes; each is a gap or a restriction now, and the controls stay "yes"."""

from __future__ import annotations

import io
import itertools
import json
import struct
import tarfile
import zipfile
from collections.abc import Callable

import pytest

from forkvet.report import Report
from tests.conftest import license_text

Vet = Callable[..., Report]
CODE = {"train.py": "import torch\n", "README.md": "# TinyNet\n\nTrain with train.py.\n"}
MIT = license_text("MIT.txt").replace("<year> <copyright holders>", "2024 Example Labs")
_RUNS = itertools.count()


def _answer(vet_repo: Vet, files: dict[str, str | bytes]) -> bool | None:
    """The commercial-use answer for MIT code plus the files (a fresh repository each call)."""
    lic = vet_repo({"LICENSE": MIT, **CODE, **files}, name=f"r23m{next(_RUNS)}").license
    assert lic.spdx == "MIT"
    return lic.commercial_use


# -- F1: models a library picks itself ---------------------------------------------------------
@pytest.mark.parametrize(
    "code",
    [
        'from transformers import pipeline\np = pipeline("video-classification")\n',
        'from transformers import pipeline\np = pipeline(task="video-classification")\n',
        'from transformers import pipeline\nTASK = "video-classification"\np = pipeline(TASK)\n',
        'from transformers import pipeline\np = pipeline("ner", device=0)\n',
        'import torchvision\nm = torchvision.models.vit_h_14(weights="DEFAULT")\n',
        "from torchvision.models import regnet_y_128gf, RegNet_Y_128GF_Weights\n"
        "m = regnet_y_128gf(weights=RegNet_Y_128GF_Weights.DEFAULT)\n",
        "import torchvision\n"
        'm = torchvision.models.get_model("regnet_y_128gf", weights="DEFAULT")\n',
        'from TTS.api import TTS\ntts = TTS("tts_models/multilingual/multi-dataset/xtts_v2")\n',
        'from TTS.api import TTS\ntts = TTS("tts_models/en/ljspeech/vits")\n',
        'from audiocraft.models import MusicGen\nm = MusicGen.get_pretrained("melody")\n',
        "import torchaudio\nbundle = torchaudio.pipelines.MMS_FA\nm = bundle.get_model()\n",
        'from gpt4all import GPT4All\nm = GPT4All("orca-mini-3b-gguf2-q4_0.gguf")\n',
        'import torch\nm = torch.hub.load("pytorch/vision", "vit_h_14", weights="DEFAULT")\n',
    ],
)
def test_library_picks_the_model(vet_repo: Vet, code: str) -> None:
    assert _answer(vet_repo, {"infer.py": code}) is not True


def test_library_command_line_picks_the_model(vet_repo: Vet) -> None:
    run = "tts --text hi --model_name tts_models/multilingual/multi-dataset/xtts_v2\n"
    assert _answer(vet_repo, {"run.sh": run}) is not True


@pytest.mark.parametrize(
    "code",
    [
        'from transformers import pipeline\np = pipeline("sentiment-analysis")\n',
        'from transformers import pipeline\np = pipeline("text-generation", model="gpt2")\n',
        'import torchvision\nm = torchvision.models.resnet50(weights="DEFAULT")\n',
        "import torchvision\nm = torchvision.models.vit_b_16(weights=None)\n",
        "import torchaudio\nbundle = torchaudio.pipelines.WAV2VEC2_ASR_BASE_960H\n",
    ],
)
def test_library_documented_permissive_stays_yes(vet_repo: Vet, code: str) -> None:
    assert _answer(vet_repo, {"infer.py": code}) is True


# -- F10: loaders and address forms the one search did not know --------------------------------
NC = "facebook/musicgen-melody"  # CC-BY-NC-4.0 in forkvet/data/hub_models.json


@pytest.mark.parametrize(
    "files",
    [
        {
            "load.py": f'from huggingface_hub import HfFileSystem\nHfFileSystem().open("hf://{NC}/x.bin")\n'
        },
        {"load.py": f'import pandas as pd\ndf = pd.read_json("hf://{NC}/config.json")\n'},
        {"chat.py": 'import ollama\nr = ollama.chat(model="command-r", messages=[])\n'},
        {"chat.py": 'from langchain_community.llms import Ollama\nm = Ollama(model="command-r")\n'},
        {"run.sh": "llama-cli -hf acme-lab/tiny-GGUF -p hi\n"},
        {"load.py": 'm = AutoModel.from_pretrained("/".join(["facebook", "musicgen-melody"]))\n'},
        {"load.py": 'm = PeftModel.from_pretrained(base, "acme-lab/tiny-adapter")\n'},
        {"load.py": 'pipe.load_lora_weights("acme-lab/tiny-style-lora")\n'},
        {"load.py": 'pipe.load_textual_inversion("sd-concepts-library/cat-toy")\n'},
        {
            "model/config.json": json.dumps(
                {"auto_map": {"AutoModel": "acme-lab/tiny-nc--m.TinyModel"}}
            )
        },
    ],
)
def test_loader_forms_are_loads(vet_repo: Vet, files: dict[str, str | bytes]) -> None:
    assert _answer(vet_repo, files) is not True


def test_loader_local_arguments_stay_yes(vet_repo: Vet) -> None:
    code = (
        'pipe.load_lora_weights("./loras", weight_name="style.safetensors")\n'
        'm = PeftModel.from_pretrained(base, "outputs/adapter.bin")\n'
        "import ollama\n"
    )
    assert _answer(vet_repo, {"load.py": code}) is True


# -- F8: a model named at run time --------------------------------------------------------------
@pytest.mark.parametrize(
    "code",
    [
        "import sys\nm = AutoModel.from_pretrained(sys.argv[1])\n",
        'import os\nm = AutoModel.from_pretrained(os.environ["MODEL_ID"])\n',
        'import os\nm = AutoModel.from_pretrained(os.getenv("MODEL_ID"))\n',
        "m = AutoModel.from_pretrained(input())\n",
        "import sys\np = snapshot_download(repo_id=sys.argv[1])\n",
        "import argparse\np = argparse.ArgumentParser()\n"
        'p.add_argument("--model", type=str)\nargs = p.parse_args()\n'
        "m = AutoModel.from_pretrained(args.model)\n",
    ],
)
def test_model_named_at_run_time_is_a_gap(vet_repo: Vet, code: str) -> None:
    assert _answer(vet_repo, {"infer.py": code}) is not True


def test_option_with_a_permissive_default_stays_yes(vet_repo: Vet) -> None:
    code = (
        "import argparse\np = argparse.ArgumentParser()\n"
        'p.add_argument("--model", default="openai-community/gpt2")\nargs = p.parse_args()\n'
        "m = AutoModel.from_pretrained(args.model)\n"
    )
    assert _answer(vet_repo, {"infer.py": code}) is True


# -- F5: code fetched from a version-control address -------------------------------------------
_3DGS = "https://github.com/graphdeco-inria/diff-gaussian-rasterization"


@pytest.mark.parametrize(
    "files",
    [
        {".gitmodules": f'[submodule "r"]\n\tpath = r\n\turl = {_3DGS}\n'},
        {"requirements.txt": f"torch\ngit+{_3DGS}.git\n"},
        {
            ".gitmodules": '[submodule "s"]\n\tpath = s\n\turl = https://github.com/NVlabs/SegFormer\n'
        },
        {"requirements.txt": "git+https://github.com/facebookresearch/mae.git\n"},
        {"requirements.txt": "torch\nsmplx\n"},
        # a dependency no table names: its license is not seen, a gap
        {"requirements.txt": "git+https://github.com/acme-lab/tiny-ops.git@v1\n"},
        {".gitmodules": '[submodule "o"]\n\tpath = o\n\turl = git@gitlab.com:acme/ops.git\n'},
        {"setup.sh": "pip install git+https://github.com/acme-lab/tiny-ops\n"},
    ],
)
def test_vcs_dependency_without_a_known_license(
    vet_repo: Vet, files: dict[str, str | bytes]
) -> None:
    assert _answer(vet_repo, files) is not True


def test_vcs_dependency_known_permissive_stays_yes(vet_repo: Vet) -> None:
    req = (
        "git+https://github.com/openai/CLIP.git\ngit+https://github.com/huggingface/transformers\n"
    )
    assert _answer(vet_repo, {"requirements.txt": req}) is True


# -- F9: terms in other weights formats ---------------------------------------------------------
def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _safetensors(meta: dict[str, str]) -> bytes:
    header = json.dumps(
        {"__metadata__": meta, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    )
    raw = header.encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0\0\0\0"


def _pb(number: int, raw: bytes) -> bytes:
    """One length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(raw)) + raw


def _varint(n: int) -> bytes:
    out = b""
    while True:
        out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            return out


def _coreml(license_: str) -> bytes:
    metadata = _pb(1, b"tiny") + _pb(4, license_.encode())
    return b"\x08\x04" + _pb(2, _pb(100, metadata))


@pytest.mark.parametrize(
    "files",
    [
        {"weights/tiny.nemo": _tar({"./model_config.yaml": b"license: CC-BY-NC-4.0\nname: t\n"})},
        {
            "weights/tiny.mar": _zip(
                {"MAR-INF/MANIFEST.json": b'{"model": {"license": "CC-BY-NC-4.0"}}'}
            )
        },
        {
            "weights/tiny.zip": _zip(
                {"tiny/LICENSE.txt": b"CC-BY-NC-4.0. Non-commercial research use only."}
            )
        },
        {
            "weights/tiny.safetensors": _safetensors(
                {"description": "Tiny. Non-commercial research use only."}
            )
        },
        {"weights/tiny.safetensors": _safetensors({"terms": "CC-BY-NC-4.0"})},
        {"weights/tiny.mlmodel": _coreml("CC-BY-NC-4.0")},
    ],
)
def test_terms_in_other_weights_formats(vet_repo: Vet, files: dict[str, str | bytes]) -> None:
    assert _answer(vet_repo, files) is not True


def test_permissive_weights_archives_stay_yes(vet_repo: Vet) -> None:
    files: dict[str, str | bytes] = {
        "weights/tiny.nemo": _tar({"./model_config.yaml": b"license: apache-2.0\nname: t\n"}),
        "weights/tiny.mlmodel": _coreml("MIT"),
        "weights/tiny.safetensors": _safetensors(
            {"description": "Tiny weights, trained on MNIST."}
        ),
        "data/images.zip": _zip({"a.txt": b"x"}),
    }
    assert _answer(vet_repo, files) is True


# -- F13: base models in prose ------------------------------------------------------------------
def _readme(body: str) -> dict[str, str | bytes]:
    return {"README.md": f"# TinyNet\n\nTrain with train.py.\n\n## Model\n\n{body}\n"}


@pytest.mark.parametrize(
    "sentence",
    [
        "We continue pre-training LLaMA-7B on our corpus.",
        "We continue pre-training OPT-66B on our corpus.",
        "We start from the LLaMA-7B checkpoint.",
        "We distil LLaMA-7B into a 1B student.",
        "Our model is fine-tuned from FLUX.1-dev.",
        "Our model is fine-tuned from SDXL-Turbo.",
        "Our model is trained on top of Stable Diffusion 3 Medium.",
        "Our model is fine-tuned from Command R+.",
        "Our model is fine-tuned from Vicuna-7B v1.3.",
        "Our model is fine-tuned from Koala-13B.",
        "Our model is fine-tuned from WizardLM-13B.",
        "Our model is fine-tuned from LLaVA-1.5-7B.",
    ],
)
def test_base_model_in_prose(vet_repo: Vet, sentence: str) -> None:
    assert _answer(vet_repo, _readme(sentence)) is not True


@pytest.mark.parametrize(
    "sentence",
    [
        "Our 1B model outperforms LLaMA-7B on every benchmark.",
        "Compared with Vicuna-13B, TinyNet answers faster.",
        "We fine-tune TinyNet from scratch on CIFAR-10.",
    ],
)
def test_base_model_compared_stays_yes(vet_repo: Vet, sentence: str) -> None:
    assert _answer(vet_repo, _readme(sentence)) is True


def test_vcs_dependency_of_the_documentation_stays_yes(vet_repo: Vet) -> None:
    req = "sphinx\ngit+https://github.com/acme-lab/sphinx-theme.git\n"
    assert _answer(vet_repo, {"docs/requirements.txt": req}) is True
