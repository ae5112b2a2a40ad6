"""Weights, data sets, and the documentation links that are neither."""

from __future__ import annotations

from collections.abc import Callable

from forkvet.report import Report
from forkvet.vet.weights import classify_url

Vet = Callable[..., Report]
NPY = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4'}" + b"\x00" * 64

README = """# SegNet [![PyPI](https://img.shields.io/pypi/v/segnet.svg)](https://pypi.org/project/segnet/)

Paper: https://arxiv.org/abs/1511.00561 ([PDF](https://example.org/papers/segnet.pdf)).
Project page: https://segnet.example.org/ and docs at https://huggingface.co/docs/transformers/index

## Pretrained models

| Model | Link |
|---|---|
| SegNet-VGG | [segnet_vgg.pth](https://github.com/org/segnet/releases/download/v1/segnet_vgg.pth) |
| SegNet-Res | [Google Drive](https://drive.google.com/file/d/1AbC/view) |

Also on the hub: https://huggingface.co/org/segnet-base and in the
[model zoo](https://github.com/org/segnet/blob/master/MODEL_ZOO.md).

## Data

Download the training data from [Google Drive](https://drive.google.com/file/d/9XyZ/view),
the VOC images (http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar)
and https://huggingface.co/datasets/org/camvid.
"""


def test_weights_and_datasets_apart_and_no_docs(vet_repo: Vet) -> None:
    report = vet_repo({"README.md": README, "train.py": "import torch\n"})
    weights = {w.url for w in report.weights}
    datasets = {w.url for w in report.datasets}
    assert weights == {
        "https://github.com/org/segnet/releases/download/v1/segnet_vgg.pth",
        "https://drive.google.com/file/d/1AbC/view",
        "https://huggingface.co/org/segnet-base",
        "https://github.com/org/segnet/blob/master/MODEL_ZOO.md",
    }
    assert datasets == {
        "https://drive.google.com/file/d/9XyZ/view",
        "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
        "https://huggingface.co/datasets/org/camvid",
    }


def test_committed_weight_files(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "models/vgg16.npy": NPY,
            "trained_net.pkl": b"\x80\x02}q\x00.",
            "cv/lm_lstm.t7": b"\x04\x00\x00\x00\x00\x00\x00\x00",
            # Caffe's solver and net definitions are text saved as *.pt: not weights.
            "models/VGG16/solver.pt": 'train_net: "train.prototxt"\nbase_lr: 0.001\n',
            # A small array outside a models folder is data, not a checkpoint.
            "data/mean.npy": NPY,
        }
    )
    assert sorted(w.path for w in report.weights if w.path) == [
        "cv/lm_lstm.t7",
        "models/vgg16.npy",
        "trained_net.pkl",
    ]


def test_download_script_links_follow_the_script(vet_repo: Vet) -> None:
    report = vet_repo(
        {
            "datasets/download_dataset.sh": "wget http://example.org/pix/$FILE.tar.gz\n",
            "models/download_models.sh": "wget http://example.org/pix/$FILE.t7\n",
        }
    )
    assert [w.url for w in report.weights] == ["http://example.org/pix/$FILE.t7"]
    assert [w.url for w in report.datasets] == ["http://example.org/pix/$FILE.tar.gz"]


def test_checkpoints_named_in_code_and_fetched_by_scripts(vet_repo: Vet) -> None:
    readme = (
        "| Dataset | Weights |\n|---|---|\n"
        "| 400 images from the [Facades dataset](http://example.org/facades/) "
        "(31MB) <br> Pre-trained: [BtoA](https://mega.nz/#!H0AmER7Y!pBHcH4M11) |\n"
    )
    report = vet_repo(
        {
            "README.md": readme,
            "clip/clip.py": '_MODELS = {\n    "RN50": "https://example.org/clip/models/'
            'RN50.pt",\n}\n',
            "download.sh": 'wget ${PRESIGNED_URL/"*"/"${MODEL}/consolidated.00.pth"}\n',
        }
    )
    weights = {w.url or w.path: w.source for w in report.weights}
    assert weights["https://example.org/clip/models/RN50.pt"] == "clip/clip.py:2"
    assert weights["download.sh"] == "download script"
    assert "https://mega.nz/#!H0AmER7Y!pBHcH4M11" in weights
    assert [w.url for w in report.datasets] == []


def test_zstd_archives_on_a_plain_web_server_are_files() -> None:
    url = "https://files.example.org/public/AI/net-6B/step_383500_slim.tar.zstd"
    assert classify_url(url, label="Download slim weights (bf16, for inference, 9GB)") == "weight"
    data = "https://files.example.org/public/pile/train.jsonl.zst"
    assert classify_url(data, label="Download the training data") == "dataset"


def test_a_releases_page_is_a_weight_where_its_words_or_section_say_models() -> None:
    page = "https://github.com/acme/detector/releases"
    assert classify_url(page, "All models can be downloaded from the releases page.") == "weight"
    assert classify_url(page, label="releases page", heading="Pretrained models") == "weight"
    assert classify_url(page + "/tag/v2.1", label="COCO weights") == "weight"
    assert classify_url(page, "See the releases for the changelog.", heading="Changes") is None
    assert classify_url("https://github.com/acme/detector/issues", heading="Models") is None


CODE = """
import kagglehub
from transformers import GPT2LMHeadModel, AutoTokenizer

model = GPT2LMHeadModel.from_pretrained('gpt2')
tok = AutoTokenizer.from_pretrained("bert-base-uncased")
local = GPT2LMHeadModel.from_pretrained('output')
path = kagglehub.model_download("google/gemma/flax/2b")
CKPT = "gs://big-bucket/vit_models/checkpoints/ViT-B_16.npz"
FONT = "https://example.org/assets/Arial.ttf"
URL_FMT = "https://example.org/{:s}/{:s}.pth"
"""

NAMED_README = """# tinygpt

Fine-tune from the largest released model:

```
python train.py --init_from=gpt2-xl --out_dir=out
python train.py --init_from=resume
```

The [pretrained model](http://models.example.org/tinygpt/) is on our server.
License: [LICENSE.txt](https://example.org/releases/LICENSE.txt), fonts from
[here](https://github.com/org/fonts/releases/download/v1/Arial.ttf), and the
[tokenizer](https://dl.fbaipublicfiles.com/tinygpt/tokenizer.model).
"""


def test_checkpoints_named_in_code_are_weights_and_other_files_are_not(vet_repo: Vet) -> None:
    report = vet_repo({"README.md": NAMED_README, "train.py": "import torch\n", "sample.py": CODE})
    weights = {w.url for w in report.weights}
    assert weights == {
        "https://huggingface.co/gpt2",
        "https://huggingface.co/bert-base-uncased",
        "https://huggingface.co/gpt2-xl",
        "https://www.kaggle.com/models/google/gemma/flax/2b",
        "gs://big-bucket/vit_models/checkpoints/ViT-B_16.npz",
        "http://models.example.org/tinygpt/",
    }


def test_a_checkpoint_named_through_a_variable(vet_repo: Vet) -> None:
    model = (
        "class GPT:\n"
        "    @classmethod\n"
        "    def from_pretrained(cls, model_type):\n"
        "        assert model_type in {'gpt2', 'gpt2-medium'}\n"
        "        return GPT2LMHeadModel.from_pretrained(model_type)\n"
    )
    banner = "![logo](https://github.com/org/assets/raw/main/logo.png)\n"
    report = vet_repo({"README.md": "# g\n" + banner, "tinygpt/model.py": model})
    assert [w.url for w in report.weights] == ["https://huggingface.co/gpt2"]


def test_checkpoints_built_from_an_address_variable(vet_repo: Vet) -> None:
    consts = "REMOTE = 'https://files.example.org/'\n"
    models = (
        "from .consts import REMOTE\n"
        "TINY = dict(restore=REMOTE + 'tinymusic/v1/decoder.pth.tar')\n"
        "NOTES = REMOTE + 'tinymusic/README.html'\n"
    )
    script = (
        "#!/bin/sh\nBASE=http://files.example.org/releases\n"
        "wget ${BASE}/lm/model/model.ckpt-10.index\nwget $BASE/lm/data/cache.pkl\n"
        "curl https://files.example.org/demo/graph_frozen.pb > graph_frozen.pb\n"
        "# wget https://files.example.org/old/retired.pth\n"
    )
    report = vet_repo(
        {
            "README.md": "# tinymusic\n",
            "tinymusic/consts.py": consts,
            "tinymusic/models.py": models,
            "sota/lm1b.sh": script,
            "demo/run.sh": "curl https://files.example.org/demo/graph_frozen.pb > g.pb\n",
        }
    )
    assert {w.url for w in report.weights} == {
        "https://files.example.org/tinymusic/v1/decoder.pth.tar",
        "http://files.example.org/releases/lm/model/model.ckpt-10.index",
        "https://files.example.org/demo/graph_frozen.pb",
    }


def test_weights_on_a_doc_page_the_readme_links(vet_repo: Vet) -> None:
    readme = "# tinychat\n\nTo chat locally, read [the guide](docs/chat.md).\n"
    guide = (
        "# Chat\n\n## The fine-tuned weights\n\nDownload them from:\n"
        "* [Hub](https://huggingface.co/someone/tinychat/tree/main)\n"
    )
    unlinked = "# Other\n\n* [Hub](https://huggingface.co/someone/other-model)\n"
    report = vet_repo({"README.md": readme, "docs/chat.md": guide, "docs/other.md": unlinked})
    assert [w.url for w in report.weights] == ["https://huggingface.co/someone/tinychat/tree/main"]
    assert classify_url("https://huggingface.co/docs/transformers/index") is None
    assert classify_url("https://huggingface.co/spaces/someone/demo/tree/main") is None


def test_checkpoints_of_hub_entry_points_and_pretrained_library_models(vet_repo: Vet) -> None:
    # torch.hub.load and a library model built with pretrained=True fetch a checkpoint when
    # they run; a function that merely defaults `pretrained=True` fetches nothing.
    code = (
        "import torch, torchvision\n"
        "net = torch.hub.load('pytorch/vision:v0.10.0', 'wide_resnet50_2', pretrained=True)\n"
        "vgg = torchvision.models.vgg16(num_classes=10, pretrained=True)\n"
        "def resnet(depth=50, pretrained=True):\n    return None\n"
        "class Net(pretrained=True):\n    pass\n"
    )
    report = vet_repo({"README.md": "# m\n", "demo.py": code})
    assert [w.url for w in report.weights] == [
        "https://github.com/pytorch/vision (wide_resnet50_2)",
        "torchvision.models.vgg16(pretrained=True)",
    ]


def test_a_download_link_takes_its_kind_from_the_enclosing_headings(vet_repo: Vet) -> None:
    # "## ImageNet" under "# Pretrained models": the nearest heading names a data set, the
    # one enclosing it says these are models; a Yandex Disk link is a cloud drive.
    readme = (
        "# WRN\n\n# Pretrained models\n\n## ImageNet\n\n"
        "Download (263MB): https://yadi.sk/d/abcDEF123\n\n"
        "# Data\n\n## CIFAR\n\nhttps://yadi.sk/d/xyz987\n"
    )
    report = vet_repo({"README.md": readme, "train.py": "import torch\n"})
    assert [w.url for w in report.weights] == ["https://yadi.sk/d/abcDEF123"]
    assert [d.url for d in report.datasets] == ["https://yadi.sk/d/xyz987"]
