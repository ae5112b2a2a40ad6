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
    assert found[-1].severity == "error" and "time" in found[-1].message


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
