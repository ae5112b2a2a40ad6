"""Where the parts meet: what one part hands to the next, run end to end with the real parts
(the App against the GitHub emulator, the CLI, the runtime steps)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.web import create_app
from forkvet.cli import main
from forkvet.snapshot import load
from forkvet.vet import vet
from tests import test_app, test_giveback
from tests.conftest import git, license_text, write_files
from tests.github.emulator import GitHubEmulator, RepoState
from tests.test_app import done, fork_payload, post, wait_for

# The App tests' fixtures, shared as they are.
emulator = test_app.emulator
settings = test_app.settings
worker = test_app.worker
no_package_index = test_app.no_package_index
repos = test_giveback.repos

# A StyleGAN2-ADA-like fork: its own paper is the bare arXiv link under the bold title and the
# BibTeX (which names no arXiv id); the metrics references link other papers; torch and click
# are declared only by a README `pip install` line and the imports.
GAN_README = """## GAN-ADA &mdash; Official PyTorch implementation

**Training Generative Adversarial Networks with Limited Data**<br>
Tero Karras, Miika Aittala, Janne Hellsten<br>
https://arxiv.org/abs/2006.06676<br>

## Requirements

* Python libraries: `pip install click tqdm`.

## Projecting images to latent space

```.bash
python projector.py --outdir=out --target=<path/to/image.png> \\
    --network=https://example.org/pretrained/ffhq.pkl
```

## Training new networks

```.bash
python train.py --outdir=~/training-runs --data=~/mydataset.zip --gpus=1
```

## Quality metrics

References:
1. [A Style-Based Generator Architecture for Generative Adversarial Networks](
https://arxiv.org/abs/1812.04948), Karras et al. 2018

## Citation

```
@inproceedings{Karras2020ada,
  title     = {Training Generative Adversarial Networks with Limited Data},
  author    = {Tero Karras and Miika Aittala and Janne Hellsten},
  booktitle = {Proc. NeurIPS},
  year      = {2020}
}
```
"""
GAN_FILES = {
    "LICENSE": license_text("MIT.txt"),
    "README.md": GAN_README,
    "train.py": (
        "import click\nimport torch\n\n@click.command()\n@click.option('--outdir')\n"
        "@click.option('--data')\ndef main(outdir, data):\n"
        "    for step in range(5):\n        print(f'step {step} loss {1.0 / (step + 1)}')\n\n"
        "if __name__ == '__main__':\n    main()\n"
    ),
    # Optimises a latent with a loss and an optimizer: vet counts it as training too.
    "projector.py": (
        "import pickle\nimport click\nimport torch\n\n@click.command()\n"
        "@click.option('--network')\n@click.option('--target')\ndef run(network, target):\n"
        "    with open(network, 'rb') as f:\n        G = pickle.load(f)\n"
        "    w = torch.zeros(1, requires_grad=True)\n    opt = torch.optim.Adam([w])\n"
        "    for step in range(100):\n        loss = (G(w) - 1).square().sum()\n"
        "        loss.backward()\n        opt.step()\n\n"
        "if __name__ == '__main__':\n    run()\n"
    ),
}
OWN, OTHER = "2006.06676", "1812.04948"


def _show(repo: RepoState, ref_path: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo.bare), "show", ref_path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_app_setup_pr_ships_the_environment_and_cites_the_bibtex_paper(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    """README-only dependencies: the setup PR carries requirements.txt and environment.yml
    (as its body says), and every citing output names the BibTeX's paper."""
    repo = emulator.add_repo("acme", "deepnet", GAN_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    reqs = _show(repo, "forkvet/setup:requirements.txt")
    assert "torch" in reqs and "click" in reqs
    assert "dependencies:" in _show(repo, "forkvet/setup:environment.yml")
    body = repo.pulls[0]["body"]
    assert "`requirements.txt` and `environment.yml`" in body
    attribution = _show(repo, "forkvet/setup:ATTRIBUTION.md")
    issue = repo.issues[0]["body"]
    for text in (attribution, issue):
        assert OWN in text and OTHER not in text.split("BibTeX")[0], text


def test_app_setup_pr_with_a_requirements_file_says_why_it_adds_none(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo(
        "acme", "deepnet", {**GAN_FILES, "requirements.txt": "click\ntorch==1.7.1\n"}
    )
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    body = repo.pulls[0]["body"]
    assert "No `requirements.txt` or `environment.yml` added" in body
    assert "`requirements.txt` and `environment.yml` (pinned" not in body
    files = _show(repo, "forkvet/setup:").split()
    assert "environment.yml" not in files


def test_cli_citing_outputs_agree_with_the_bibtex(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """vet (all formats), attribution and the thank-you draft name the BibTeX's paper, never
    the one from the metrics references."""
    write_files(tmp_path, dict(GAN_FILES))
    outputs = []
    for args in (
        ["vet", str(tmp_path), "--format", "json"],
        ["vet", str(tmp_path), "--format", "markdown"],
        ["vet", str(tmp_path)],
        ["attribution", str(tmp_path), "--format", "text"],
        ["thank", str(tmp_path), "--upstream", "https://github.com/o/gan"],
    ):
        main(args)
        outputs.append(capsys.readouterr().out)
    assert json.loads(outputs[0])["citation"]["arxiv"] == OWN
    for out in outputs:
        assert OWN in out and OTHER not in out.split("@inproceedings")[0].split("mentioned")[0]
    assert "— —" not in outputs[1]


@pytest.mark.parametrize(
    ("readme", "arxiv"),
    [
        # A link labelled "Paper" is the repository's own, whatever the BibTeX title says.
        ("# TinyNet\n[Paper](https://arxiv.org/abs/2101.00001)\n", "2101.00001"),
        # The only link, labelled with another paper's title: no arXiv id at all.
        ("# TinyNet\nSee [Deep Residual Learning](https://arxiv.org/abs/1512.03385)\n", None),
    ],
)
def test_arxiv_agreement_keeps_the_own_link_and_drops_another_papers(
    tmp_path: Path, readme: str, arxiv: str | None
) -> None:
    bib = "\n## Citation\n\n```\n@article{t,\n  title = {Tiny Networks for Tiny Data},\n}\n```\n"
    files: dict[str, str | bytes] = {"README.md": readme + bib, "train.py": "print(1)\n"}
    write_files(tmp_path, files)
    citation = vet(load(tmp_path)).citation or {}
    assert citation.get("arxiv") == arxiv


# -- vet -> train-check: the default command is a training command ------------------------
NANO_README = """# nanoGPT-like

```sh
python train.py config/train_char.py
```

No GPU? Then:

```sh
python train.py config/train_char.py --device=cpu --compile=False --max_iters=2000
```
"""
NANO_TRAIN = "import torch\nimport sys\nfor a in sys.argv[1:]:\n    print(a)\nloss.backward()\n"


def _dry_run_command(repo: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["train-check", str(repo), "--dry-run", "--python", sys.executable]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "command" in ln)
    return line.split("command", 1)[1].strip()


def test_train_check_prefers_train_py_over_a_projector_with_placeholders_and_pickles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, dict(GAN_FILES))
    command = _dry_run_command(tmp_path, capsys)
    assert command.startswith("python train.py --outdir=~/training-runs"), command
    assert "projector.py --" not in command


def test_train_check_on_a_cpu_runner_takes_the_readmes_cpu_variant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, {"README.md": NANO_README, "train.py": NANO_TRAIN})
    command = _dry_run_command(tmp_path, capsys)
    assert "--device=cpu --compile=False" in command, command


def test_a_cuda_failure_says_cuda_is_unavailable_not_set_a_pattern(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "train.py").write_text(
        "raise AssertionError('Torch not compiled with CUDA enabled')\n"
    )
    out = tmp_path / "result.json"
    args = ["train-check", str(tmp_path), "--cmd", "python train.py", "--python", sys.executable]
    code = main([*args, "--out", str(tmp_path / "o"), "--format", "json", "-o", str(out)])
    reasons = json.loads(out.read_text())["reasons"]
    assert code == 1 and any("CUDA is unavailable" in r for r in reasons), reasons
    assert not any("train.pattern" in r for r in reasons), reasons


# -- notebooks: the parameters reach the script --------------------------------------------
CONFIGURATOR = (
    "import sys\nfrom ast import literal_eval\nfor arg in sys.argv[1:]:\n"
    "    key, val = arg[2:].split('=')\n    try:\n        val = literal_eval(val)\n"
    "    except ValueError:\n        pass\n    globals()[key] = val\n"
)
NANO_STYLE_TRAIN = (
    "max_iters = 600000\nbatch_size = 12\ndevice = 'cuda'\ncompile = True\nlr = 6e-4\n"
    "exec(open('configurator.py').read())\n"
    "print('run', max_iters, batch_size, device, compile)\n"
)


def _run_notebook_script(path: Path, cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, str(path)], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_notebook_parameters_reach_a_key_value_configurator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("jupytext")
    write_files(tmp_path, {"train.py": NANO_STYLE_TRAIN, "configurator.py": CONFIGURATOR})
    out = tmp_path / "notebooks"
    assert main(["notebooks", str(tmp_path), "--out", str(out)]) == 0
    capsys.readouterr()
    printed = _run_notebook_script(out / "training_train.py", out)
    assert printed.strip().splitlines()[-1] == "run 10 2 cpu False", printed
    assert "Parameters passed to the script" in (out / "training_train.py").read_text()


def test_notebook_warns_when_the_parameters_cannot_reach_the_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("jupytext")
    write_files(tmp_path, {"train.py": "steps = 1000\nloss.backward()\nprint(steps)\n"})
    out = tmp_path / "notebooks"
    assert main(["notebooks", str(tmp_path), "--out", str(out)]) == 0
    capsys.readouterr()
    assert "does not reach this script" in (out / "training_train.py").read_text()


def test_fire_scripts_get_key_value_parameters(tmp_path: Path) -> None:
    from forkvet.report import ScriptEntry
    from forkvet.runtime.notebooks import parameters

    source = (
        "import fire\n\ndef main(max_steps=100, lr=0.1, device='cuda'):\n    pass\n\n"
        "fire.Fire(main)\n"
    )
    argv, note = parameters(ScriptEntry("train.py", "train"), source)
    assert argv == 'sys.argv = ["train.py", "--max_steps=" + str(steps), "--device=" + str(device)]'
    assert "steps → --max_steps" in note


def test_a_training_script_after_notebooks_still_gets_a_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """minGPT-like: vet lists notebooks first; the scripts behind them still get notebooks."""
    pytest.importorskip("jupytext")
    nb = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    adder = (
        "import sys\nfrom mingpt.trainer import Trainer\n\nif __name__ == '__main__':\n"
        "    trainer = Trainer(sys.argv[1:])\n    trainer.run()\n"
    )
    write_files(
        tmp_path,
        {
            "train.ipynb": nb,
            "demo.ipynb": nb,
            "mingpt/__init__.py": "",
            "mingpt/trainer.py": "class Trainer:\n    def run(self):\n        pass\n",
            "projects/adder/adder.py": adder,
        },
    )
    out = tmp_path / "notebooks"
    assert main(["notebooks", str(tmp_path), "--out", str(out)]) == 0
    written = capsys.readouterr().out
    assert "training_adder.ipynb" in written, written


# -- the terminal and Markdown reports ------------------------------------------------------
def test_text_report_groups_identical_warnings_shows_notices_and_counts_what_it_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files: dict[str, str | bytes] = {
        f"m{i}.py": f"import torch\nimport pickle\nm = torch.load('c{i}.pt')\np = pickle.load(f)\n"
        for i in range(10)
    }
    files.update({f"train_{i}.py": f"import torch\nloss{i}.backward()\n" for i in range(6)})
    files["requirements.txt"] = "torch\nrequests\n"
    write_files(tmp_path, files)
    assert main(["vet", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    torch_lines = [ln for ln in text.splitlines() if "torch.load without" in ln]
    assert len(torch_lines) == 1 and "10 places: m0.py:3, m1.py:3, m2.py:3 +7 more" in text
    pickle_line = next(ln for ln in text.splitlines() if "pickle.load executes" in ln)
    assert pickle_line.strip().startswith("WARNING"), pickle_line
    assert "NOTICE" in text and "see --format markdown" not in text  # notices are shown
    assert "+2 more" in next(ln for ln in text.splitlines() if ln.strip().startswith("Train"))
    assert main(["vet", str(tmp_path), "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    findings = md.split("### Findings")[-1]
    assert "torch.load without" in md.split("### Findings")[0]
    assert "torch.load without" not in findings  # once, in the Risks table


# -- upstream: drafts, dry runs and errors ----------------------------------------------------
def test_upstream_dry_run_leaves_no_branch_or_ref_and_links_with_upstream_repo(
    repos: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fork, up = repos["fork"], repos["upstream"]
    refs_before = git(fork, "for-each-ref", "--format=%(refname)")
    args = ["upstream", str(fork), "--upstream", str(up), "--dry-run", "--format", "json"]
    main([*args, "--fork-owner", "acme", "--upstream-repo", "upstream-org/deepnet"])
    data = json.loads(capsys.readouterr().out)
    assert git(fork, "for-each-ref", "--format=%(refname)") == refs_before
    drafts = {d["status"]: d for d in data["drafts"]}
    link = drafts["drafted"]["compare_url"]
    assert link.startswith("https://github.com/upstream-org/deepnet/compare/master...acme:") or (
        link.startswith("https://github.com/upstream-org/deepnet/compare/main...acme:")
    ), link
    recipe = drafts["conflict"]["message"]
    assert f"git fetch {up}" in recipe and "UPSTREAM_URL" not in recipe, recipe


def test_upstream_without_fork_owner_says_why_there_is_no_link(
    repos: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    fork, up = repos["fork"], repos["upstream"]
    main(["upstream", str(fork), "--upstream", str(up), "--format", "json"])
    drafted = [d for d in json.loads(capsys.readouterr().out)["drafts"] if d["status"] == "drafted"]
    assert drafted[0]["compare_url"] is None and "--upstream-repo" in drafted[0]["message"]


def test_unreachable_upstream_is_one_clean_line(
    repos: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["upstream", str(repos["fork"]), "--upstream", f"file://{tmp_path}/nonexist"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "repository exists" not in err and "['" not in err, err


def test_attribution_text_is_text_not_markdown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, {**GAN_FILES, "my_model.py": "import torch\n"})
    assert main(["attribution", str(tmp_path), "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "Training Generative Adversarial Networks" in text and "ATTRIBUTION" in text
    for mark in ("**", "`", "## ", "\\_", "&lt;", "\u200b"):
        assert mark not in text, mark


def test_notebook_smoke_with_an_interpreter_without_ipykernel_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("nbclient")
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = str(bare / "bin" / "python")
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": "print(1)",
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "demo.ipynb").write_text(json.dumps(nb))
    args = ["smoke", str(tmp_path / "repo"), "--python", python, "--no-import-check"]
    notebook = str(tmp_path / "repo" / "demo.ipynb")
    code = main([*args, "--notebook", notebook, "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert code == 1
    assert "None" not in captured.out and "Traceback" not in captured.err, captured
    reasons = [ln for ln in captured.out.splitlines() if "ipykernel" in ln]
    assert len(reasons) == 1 and f"{python} -m pip install ipykernel" in reasons[0], captured.out


def test_python_by_name_is_found_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from forkvet.environments import given_interpreter
    from forkvet.errors import InputError

    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    env = given_interpreter(Path(sys.executable).name, tmp_path)
    assert env.python == str(Path(sys.executable).absolute())
    with pytest.raises(InputError, match="no such interpreter on PATH"):
        given_interpreter("python-that-does-not-exist-3.99", tmp_path)


def test_the_workflow_templates_company_line_fails_a_non_commercial_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = (Path(__file__).parent.parent / "workflows" / "forkvet.yml").read_text()
    line = next(ln for ln in template.splitlines() if "require_commercial_use" in ln)
    policy = line.strip().removeprefix("#").strip()
    files: dict[str, str | bytes] = {
        "LICENSE": license_text("CC-BY-NC-4.0.txt"),
        "train.py": "import torch\n",
    }
    write_files(tmp_path, files)
    assert main(["vet", str(tmp_path)]) == 0  # green without the policy
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "forkvet.yml").write_text(policy + "\n")
    assert main(["vet", str(tmp_path)]) == 1, capsys.readouterr().out


# -- bad input: one line, exit 2 ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vet", ""], "TARGET is empty"),
        (["train-check", ".", "--max-steps", "-3"], "give 0 (no limit) or more"),
        (["train-check", ".", "--timeout", "-1"], "give seconds above 0"),
        (["smoke", ".", "--timeout", "0"], "give seconds above 0"),
    ],
)
def test_bad_numbers_and_empty_targets_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:  # argparse's own exit, or forkvet's
        raise SystemExit(main(args))
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_deprecated_gpl_id_in_a_policy_suggests_the_spdx_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("license:\n  deny: [GPL-3.0]\n")
    assert main(["vet", str(tmp_path), "--config", str(policy)]) == 2
    assert "did you mean GPL-3.0-only or GPL-3.0-or-later?" in capsys.readouterr().err


def test_output_file_extension_chooses_the_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path / "repo", {"train.py": "import torch\n"})
    main(["vet", str(tmp_path / "repo"), "-o", str(tmp_path / "r.json")])
    assert json.loads((tmp_path / "r.json").read_text())["schema_version"]
    main(["vet", str(tmp_path / "repo"), "-o", str(tmp_path / "r.md")])
    assert (tmp_path / "r.md").read_text().startswith(("✅", "⚠️", "❌"))
    main(["vet", str(tmp_path / "repo"), "-o", str(tmp_path / "r.txt")])
    assert (tmp_path / "r.txt").read_text().startswith("forkvet: ")


# -- rendering the training check -------------------------------------------------------------
def test_rising_loss_says_rose_and_a_blow_up_is_a_factor() -> None:
    pytest.importorskip("pymannkendall")
    from forkvet.runtime.decide import decide

    rising = decide([1.0 + 0.2 * i for i in range(20)])
    assert rising.verdict == "fail" and any("rose " in r for r in rising.reasons)
    assert not any("-" in r.split(":")[-1] and "%" in r for r in rising.reasons), rising.reasons
    blown = decide([1.0] * 10 + [1e29] * 10)
    line = next(r for r in blown.reasons if "rose" in r)
    assert "rose 1e+29×" in line and len(line) < 120, line


def test_wide_loss_ranges_get_a_log_axis() -> None:
    from forkvet.runtime.plot import axis_scale

    assert axis_scale([2.3, 1.9, 1.5]) == "linear"
    assert axis_scale([1e29, 1e5, 3.0, 2.0]) == "log"
    assert axis_scale([5000.0, -2.0, 1.0]) == "symlog"


def test_gan_plot_draws_and_labels_both_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.axes

    from forkvet.runtime.plot import plot_png

    labels: list[str] = []
    legends: list[bool] = []
    plot = matplotlib.axes.Axes.plot
    legend = matplotlib.axes.Axes.legend

    def spy_plot(self: Any, *a: Any, **k: Any) -> Any:
        labels.append(k.get("label", ""))
        return plot(self, *a, **k)

    def spy_legend(self: Any, *a: Any, **k: Any) -> Any:
        legends.append(True)
        return legend(self, *a, **k)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", spy_plot)
    monkeypatch.setattr(matplotlib.axes.Axes, "legend", spy_legend)
    gen, disc = [3.0, 2.5, 2.0], [0.7, 0.6, 0.65]
    plot_png(gen, tmp_path / "loss.png", "GAN", series={"generator": gen, "discriminator": disc})
    assert labels == ["generator", "discriminator"] and legends == [True]
    assert (tmp_path / "loss.png").stat().st_size > 0


def test_markdown_keeps_vcs_requirements_apart_and_copyable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(
        tmp_path,
        {
            "requirements.txt": "torch>=1.7\nclip @ git+https://github.com/openai/CLIP.git\n",
            "a.py": "import torch\nimport clip\n",
        },
    )
    main(["vet", str(tmp_path), "--format", "markdown"])
    row = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| Declared |"))
    assert "clip (`clip @ git+https://github.com/openai/CLIP.git`)" in row, row
    assert "torch&gt;=1.7" in row and "\u200b" not in row


def test_attribution_names_a_copyright_holder_once_whatever_the_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mit = license_text("MIT.txt")
    write_files(
        tmp_path,
        {
            "LICENSE": "Copyright (c) 2019 ACME Research\n\n" + mit,
            "LICENSE-weights": "copyright (C) 2019 Acme Research\n\n" + mit,
            "a.py": "import torch\n",
        },
    )
    main(["attribution", str(tmp_path)])
    out = capsys.readouterr().out.casefold()
    assert out.count("2019 acme research") == 1, out


def test_dry_run_labels_say_what_will_be_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORKVET_ENV_DIR", str(tmp_path / "envs"))
    write_files(tmp_path / "tf", {"train.py": "import tensorflow as tf\nprint(tf.__version__)\n"})
    assert main(["smoke", str(tmp_path / "tf"), "--dry-run", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "torch-backend" not in out and "tensorflow: no torch backend" in out, out
    assert "uv default" not in out and "vet's choice" in out, out
    write_files(tmp_path / "pkg", {"setup.py": "from setuptools import setup\nsetup()\n"})
    assert main(["smoke", str(tmp_path / "pkg"), "--dry-run"]) == 0
    assert "if it fails, the code goes on PYTHONPATH" in capsys.readouterr().out


def test_git_errors_are_git_reason_not_its_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["vet", f"file://{tmp_path}/nonexist"]) == 2
    err = capsys.readouterr().err
    assert "repository exists" not in err and "does not appear to be a git repository" in err
    write_files(tmp_path / "plain", {"a.py": "x = 1\n"})
    assert main(["vet", str(tmp_path / "plain"), "--ref", "main"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("is not a git repository, so --ref cannot be used"), err


def test_every_option_of_every_command_has_help() -> None:
    import argparse

    from forkvet.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, command in sub.choices.items()
        for action in command._actions
        if not action.help and not isinstance(action, argparse._HelpAction)
    ]
    assert missing == [], missing


def test_overfit_one_batch_passes_a_learning_linear_model_with_a_short_repr() -> None:
    torch = pytest.importorskip("torch")
    from forkvet import sanity

    torch.manual_seed(0)
    x = torch.randn(32, 10)
    y = x.sum(1, keepdim=True) + 2 * torch.randn(32, 1)  # a noise floor no line can fit
    model = torch.nn.Linear(10, 1)
    result = sanity.overfit_one_batch(model, (x, y), torch.nn.MSELoss(), steps=300, lr=0.05)
    first, last = result.losses[0], result.losses[-1]
    assert last / first > 0.1 and last / first <= 0.5, (first, last)  # learns, cannot memorise
    assert result and "learns one batch" in result.message
    assert len(repr(result)) < 300, repr(result)


def test_app_setup_pr_is_one_commit(
    settings: Settings, emulator: GitHubEmulator, worker: None
) -> None:
    repo = emulator.add_repo("acme", "deepnet", GAN_FILES)
    client = create_app(settings).test_client()
    post(client, fork_payload(), "repository")
    wait_for(lambda: done(emulator, repo))
    commits = subprocess.run(
        ["git", "--git-dir", str(repo.bare), "rev-list", "main..forkvet/setup"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(commits) == 1, commits
    files = _show(repo, "forkvet/setup:").split()
    assert {"ATTRIBUTION.md", "requirements.txt", "environment.yml", ".github/"} <= set(files)


def test_gunicorn_access_and_error_lines_are_json(capsys: pytest.CaptureFixture[str]) -> None:
    import logging
    import logging.config

    from bot import gunicorn_conf

    before = logging.getLogger().handlers[:]
    try:
        logging.config.dictConfig(gunicorn_conf.logconfig_dict)
        logging.getLogger("gunicorn.access").info('127.0.0.1 "GET /healthz HTTP/1.1" 200 15 1ms')
        logging.getLogger("gunicorn.error").warning("Worker timeout (pid:42)")
    finally:
        logging.getLogger().handlers[:] = before
    lines = capsys.readouterr().err.strip().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["logger"] for r in records] == ["gunicorn.access", "gunicorn.error"]
    assert "GET /healthz" in records[0]["message"]


def test_vet_never_recommends_a_python_nothing_installs(tmp_path: Path) -> None:
    setup = (
        "from setuptools import setup\nsetup(name='old', classifiers=["
        "'Programming Language :: Python :: 3.3'])\n"
    )
    write_files(tmp_path, {"setup.py": setup, "old.py": "print('hello')\n"})
    python = vet(load(tmp_path)).python
    assert python.recommended == "3.6", python
    assert any("no longer installable" in e for e in python.evidence)


@pytest.mark.parametrize(
    ("cmd", "why"),
    [
        ("python demo.py --img <path/to/img.png>", "placeholder"),
        ("python demo.py --data path/to/data", "placeholder"),
        ("python demo.py --ckpt=/path/to/ckpt.pth", "placeholder"),
        ("python demo.py --key YOUR_KEY", "placeholder"),
        ("python gen.py --network=https://host.example/ffhq.pkl", "pickle"),
        ("python gen.py --weights https://host.example/m.pth?dl=1", "pickle"),
        ("python train.py --data ~/datasets/x.zip --lr 1e-3", None),
        ("python train.py config/train_char.py --out_dir=out", None),
    ],
)
def test_readme_commands_that_cannot_be_the_default(cmd: str, why: str | None) -> None:
    from forkvet.runtime.commands import unrunnable

    found = unrunnable(cmd)
    assert (found is None) if why is None else (why in (found or "")), found


@pytest.mark.parametrize(
    "cmd",
    [
        "python train.py --device=cpu",
        "python train.py --device cpu",
        "python train.py --device='cpu'",
        "python train.py --gpus 0",
        "python train.py --no-cuda",
        "python train.py --accelerator=cpu",
    ],
)
def test_cpu_variants_are_recognised(cmd: str) -> None:
    from forkvet.runtime.commands import _preference

    assert _preference(cmd, "train.py", "train", gpu=False) == (False, False, False)
    assert _preference(cmd, "train.py", "train", gpu=True)[2]  # not preferred on a GPU


def test_app_setup_pr_says_why_when_no_environment_could_be_made(
    settings: Settings,
    emulator: GitHubEmulator,
    worker: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Jobs run in a child process: the test job module breaks env generation on a marker.
    from bot import queue
    from tests.slow_job import BREAK_ENV

    broken = dataclasses.replace(settings, job_module="tests.slow_job")
    repo = emulator.add_repo("acme", "deepnet", {**GAN_FILES, BREAK_ENV: "1\n"})
    before = queue._state["settings"]  # the in-process worker reads its settings here
    queue._state["settings"] = broken
    try:
        client = create_app(broken).test_client()
        post(client, fork_payload(), "repository")
        wait_for(lambda: done(emulator, repo))
    finally:
        queue._state["settings"] = before
    body = repo.pulls[0]["body"]
    assert "could not generate them here (ForkvetError" in body and "/secret" not in body
    assert "`requirements.txt` and `environment.yml` (pinned" not in body


def test_pickle_load_is_a_warning_in_python_2_code_too(tmp_path: Path) -> None:
    write_files(tmp_path, {"old.py": "import cPickle\nprint 'loading'\nm = cPickle.load(f)\n"})
    risks = [r for r in vet(load(tmp_path)).risks if r.kind == "pickle-load"]
    assert risks and all(r.severity == "warning" for r in risks), risks
