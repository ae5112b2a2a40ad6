"""What each entry-point rule contributes, measured on the development labels only.

    python benchmarks/ablate_entries.py /tmp/truth-clones [--rules NAME ...] [--only owner/name]

For every repository with split "dev" or no split (the first 57; never the held-out half), the
snapshot and its Python index are built once, then `entry_points.check` runs once with every
rule on and once per rule with that rule switched off (a monkeypatch of forkvet/vet/
entry_points.py made here: the product code has no switches). Printed per rule: the change in
train/test/prepare TP/FP/FN and precision/recall against all rules on, and how many
repositories the rule changes anything on. Scored as bench_truth.py scores the entry fields
(matched by path; `also_ok` paths count neither way).

Read the columns as what switching the rule OFF does: Δtp < 0, the rule finds true entries;
Δfp < 0, it adds false ones. `net` is the rule's worth when on: true entries it finds minus
false ones it adds, over train, test and prepare (negative: it does more harm than good).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_truth import PR, entries  # noqa: E402

from forkvet import rx  # noqa: E402
from forkvet.config import Config  # noqa: E402
from forkvet.snapshot import load  # noqa: E402
from forkvet.vet import Context  # noqa: E402
from forkvet.vet import entry_points as ep_mod  # noqa: E402

KINDS = ("train", "test", "prepare")
NEVER = rx.compile(r"\b\B")  # matches nothing


def _noop(*_a: Any, **_k: Any) -> None:
    return None


def _const(value: Any) -> Callable[..., Any]:
    return lambda *_a, **_k: value


def _never(name: str) -> dict[str, Any]:
    return {name: NEVER}


def _without(name: str, piece: str, by: str = "") -> dict[str, Any]:
    """The module's pattern `name` with one alternative taken out (a piece of its source)."""
    pat = getattr(ep_mod, name)
    if piece not in pat.pattern:
        raise SystemExit(f"ablate_entries: {piece!r} is no longer in {name}")
    return {name: rx.compile(pat.pattern.replace(piece, by, 1), pat.flags)}


def _doc_pages_without(which: str) -> dict[str, Any]:
    """doc_pages without one of its three sources: linked docs/ pages, pages named for
    running the code, or a folder's own README."""
    real = ep_mod.doc_pages

    def source(p: str, readme: str) -> str:
        parts = p.split("/")
        if len(parts) > 1 and parts[0].lower() in ("docs", "doc") and p in readme:
            return "linked"
        if len(parts) > 1 and parts[-1].lower() in ("readme.md", "readme.rst"):
            return "folder"
        return "named"

    def pages(ctx: Any) -> list[str]:
        return [p for p in real(ctx) if source(p, ctx.readme) != which]

    return {"doc_pages": pages}


def _file_kind_without(suffix: str) -> dict[str, Any]:
    real = ep_mod._file_script_kind

    def kind(ctx: Any, fe: Any) -> str | None:
        return None if fe.suffix == suffix else real(ctx, fe)

    return {"_file_script_kind": kind}


def _script_entry_code_rule() -> dict[str, Any]:
    """Unnamed scripts classified by their code (a training loop, a serving folder, a data
    folder, the folder's name): off, an unnamed script is never an entry by itself."""
    real = ep_mod._script_entry

    def entry(ep: Any, f: Any, *rest: Any) -> None:
        stem = ep_mod._stem(f.path)
        named = ep_mod.kind_of(stem) is not None or ep_mod._is_generic(stem)
        if named or ep_mod._offered_trainer(stem, f.text):
            real(ep, f, *rest)

    return {"_script_entry": entry}


# name -> (what the rule does, the module attributes that switch it off)
RULES: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    # ---- README and doc-page commands
    "readme_commands": (
        "README/doc commands make entries (all of them)",
        lambda: {"_add_readme_entries": _noop},
    ),
    "doc_pages": ("commands of doc pages beside the README", lambda: {"doc_pages": _const([])}),
    "doc_pages.linked": ("docs/ pages the README links", lambda: _doc_pages_without("linked")),
    "doc_pages.named": ("TRAINING.md, get_started.md...", lambda: _doc_pages_without("named")),
    "doc_pages.folder_readme": (
        "a folder's README.md",
        lambda: _doc_pages_without("folder"),
    ),
    "cmd.indented_blocks": (
        "indented code blocks hold commands",
        lambda: {"_blocks": _blocks_without("indented")},
    ),
    "cmd.inline_code": (
        "inline `code` holds commands",
        lambda: {"_blocks": _blocks_without("inline")},
    ),
    "cmd.quoted": ("> python x.py quoted commands", lambda: _never("_QUOTED_COMMAND")),
    "cmd.run_word_bare_py": ("Run `x.py` is a command", lambda: _never("_RUN_WORD")),
    "cmd.shell_vars": ("$VAR substituted in commands", lambda: {"_substitute": lambda c, a, t: c}),
    "cmd.other_by_code": (
        "an unnamed README script: its code decides",
        lambda: {"_other_command_kind": lambda ctx, c, bp: c.kind},
    ),
    "cmd.prepare_context": ("words before say it prepares", lambda: {"_prepares": _const(False)}),
    "cmd.section_prepares": (
        "a Data-preparation heading over it",
        lambda: {"_section_prepares": _const(False)},
    ),
    "cmd.two_weight_files": ("x.py in.ckpt out.ckpt prepares", lambda: _never("_WEIGHT_FILE")),
    "cmd.prepare_verb": ("x.py download ... prepares", lambda: _never("_PREPARE_VERB")),
    "cmd.subcommand": ("x.py train / x.py eval", lambda: {"_SUBCOMMAND": {}}),
    "cmd.arg_train": ("--do_train, --mode train, --lr args", lambda: _never("_ARG_TRAIN")),
    "cmd.arg_test": ("--do_eval, --mode test args", lambda: _never("_ARG_TEST")),
    "cmd.loads_trained": ("--checkpoint x.pth: a demo", lambda: _never("_LOADS_TRAINED")),
    "cmd.context_trains": ("the sentence before says train", lambda: _never("_TRAINS_WORD")),
    "cmd.usage_heading": ("the one script of ## Usage", lambda: _never("_USAGE_HEADING")),
    "cmd.made_before_training": (
        "generate_x.py before train.py prepares",
        lambda: {"_made_before_training": _noop},
    ),
    "cmd.launched_config": (
        "python -m launcher --cfg x.py: the config",
        lambda: {"_add_launched_config": _const(False)},
    ),
    "cmd.main_module": ("-m pkg runs pkg/__main__'s main", lambda: {"_main_module": _const(None)}),
    "cmd.train_switch": (
        "a trainer run without --train is a demo",
        lambda: {"_has_train_switch": _const(False), "_TRAIN_FLAG": NEVER},
    ),
    "cmd.documented_folders": (
        "drop folder-only entries of a folder the README runs",
        lambda: {"_documented_folders": _noop},
    ),
    "configs.from_commands": (
        "configs a training command hands over",
        lambda: {"_Configs.add_from": _noop},
    ),
    "configs.siblings": ("the folder's other configs", lambda: {"_Configs.add_siblings": _noop}),
    "configs.tested": ("eval configs beside training ones", lambda: {"_Configs.add_tested": _noop}),
    "configs.runs_training": (
        "an unnamed launcher of a training config",
        lambda: {"_Configs.runs_training": _const(False)},
    ),
    "hydra_configs": ("a Hydra trainer's config", lambda: {"_hydra_configs": _noop}),
    "readme_notebooks": ("notebooks the README links", lambda: {"_readme_notebooks": _noop}),
    "tool_commands": ("console scripts / bin/ run by README", lambda: {"_tool_commands": _noop}),
    "example_folders": ("a README-named folder of examples", lambda: {"_example_folders": _noop}),
    "cog_predictor": ("cog.yaml's predictor", lambda: {"_cog_predictor": _noop}),
    # ---- Python files by name, folder and code
    "py.code_kind_unnamed": ("unnamed scripts by code/folder", _script_entry_code_rule),
    "py.generic_entry": ("main.py/run.py at the top by options", lambda: {"_generic_entry": _noop}),
    "py.offered_trainer": (
        "example.py with a training loop",
        lambda: {"_offered_trainer": _const(False)},
    ),
    "py.library_module": (
        "drop imported package modules",
        lambda: {"_is_library_module": _const(False)},
    ),
    "py.imported_names": (
        "drop unnamed scripts other files import",
        lambda: {"_ImportedNames.__contains__": _const(False)},
    ),
    "py.unit_test": ("drop test_x.py unit tests", lambda: {"_is_unit_test": _const(False)}),
    "py.docs_notebook": ("named notebooks in docs/", lambda: {"_docs_notebook": _const(False)}),
    "dir.helper": ("drop utils/ helpers/ lib/ files", lambda: _never("_HELPER_DIR")),
    "dir.not_entry": ("drop docs/ dev/ .github/ playground/", lambda: {"_NOT_ENTRY_DIRS": ()}),
    "dir.data": ("data/ features/ folders make data", lambda: _never("_DATA_DIR")),
    "dir.serve": ("bin/ server/ apps/ scripts are demos", lambda: _never("_SERVE_DIR")),
    "dir.kind": ("train/ eval/ demos/ folder says kind", lambda: {"_dir_kind": _const(None)}),
    "dir.framework_examples": (
        "a forked Caffe's examples/ dropped",
        lambda: {"_framework_examples": _const(())},
    ),
    "nb.example_dir": (
        "notebooks in colabs/ notebooks/ are demos",
        lambda: _without("_EXAMPLE_DIR", "|colabs?|notebooks?"),
    ),
    "nb.infer_cell": ("a notebook loading a model is a demo", lambda: _never("_INFER_CELL")),
    "nb.train_cell": ("a notebook with a training step trains", lambda: _never("_TRAIN_CELL")),
    # ---- names
    "name.library_suffix": ("drop x_utils.py x_helpers.py", lambda: _never("_LIBRARY_NAME")),
    "name.dataset_labels": ("voc_label.py prepares", lambda: _never("_DATASET_LABELS")),
    "name.gen_camel": ("genLMDB.m prepares", lambda: _never("_GEN_CAMEL")),
    "name.agent_noun": ("detector_train trains", lambda: {"_agent_noun": _const(False)}),
    "name.pretrained_demo": (
        "load_pretrained.py is a demo",
        lambda: _never("_PRETRAINED"),
    ),
    "name.train_short": (
        "ft/sft/dpo/rlhf/ppo names train",
        lambda: _without("_TRAIN", r"|(?:^|[-_])(?:ft|sft|dpo|rlhf|ppo)(?:[-_]|$)"),
    ),
    "name.test_apply": (
        "separate/denoise/upscale/inpaint/super-res",
        lambda: _without("_TEST", r"separate\b|denoise|upscale|inpaint|super[-_]?resol|", ""),
    ),
    "name.test_metric": (
        "fid/kid/ppl/lpips/bleu... names",
        lambda: _without(
            "_TEST",
            r"(?:^|_)(?:fid|kid|ppl|lpips|bleu|rouge|perplexity|nll|bpd|psnr|ssim)(?:_|$)|",
        ),
    ),
    "name.test_x2y": (
        "txt2img, img2img, text2speech",
        lambda: _without("_TEST", r"|[a-z]2(?:img|image|video|vid|audio|speech|text|txt|mesh)"),
    ),
    "name.test_serve": (
        "serve/server/chat/gradio/streamlit/webui",
        lambda: _without("_TEST", r"serve\b|server\b|chat\b|gradio|streamlit|webui|"),
    ),
    "name.test_misc": (
        "detect/translate/classify/caption/apply/... names",
        lambda: _without(
            "_TEST",
            r"detect|translate|synthesi[sz]e|run_model|apply|interactive|webcam|",
        ),
    ),
    "name.test_more": (
        "stylize/colorize/extract_feat/metrics/decode/transcribe",
        lambda: _without(
            "_TEST",
            r"classify|caption|stylize|colori[sz]e|extract[-_]?feat|metrics?\b|decode|transcribe|",
        ),
    ),
    "name.prepare_download_models": (
        "get_/fetch_ models|weights prepare",
        lambda: _without(
            "_PREPARE",
            r"download|(?:get|fetch)[-_]\w*(?:models?|weights?|checkpoints?|ckpts?|pretrained\w*)\d*$|",
            "download|",
        ),
    ),
    "name.prepare_download": (
        "download* prepares",
        lambda: _without("_PREPARE", "|download|", "|"),
    ),
    "name.prepare_setup": (
        "setup_x prepares",
        lambda: _without("_PREPARE", r"get_data|setup_\w+|", "get_data|"),
    ),
    "name.prepare_stats": (
        "calc_/compute_ stats prepare",
        lambda: _without(
            "_PREPARE", r"(?:calc|compute)_\w*(?:stats?|statistics|mean|std|inception|weights?)$|"
        ),
    ),
    "name.prepare_crop_prep": (
        "crop_, prep_ prepare",
        lambda: _without("_PREPARE", "split_data|crop_|prep_|", "split_data|"),
    ),
    "name.prepare_convert_weights": (
        "convert_ weights / x_to_y prepare",
        lambda: _without(
            "_PREPARE",
            r"convert_\w*(?:weights?|models?|checkpoints?|ckpt)$|convert_\w+_to_\w+$|",
        ),
    ),
    "name.prepare_export": (
        "export_ weights/onnx prepare",
        lambda: _without(
            "_PREPARE", r"export_\w*(?:weights?|models?|checkpoints?|ckpts?|state_dict|onnx)$|"
        ),
    ),
    "name.prepare_annotations": (
        "x_annotation(s) prepares",
        lambda: _without("_PREPARE", r"|(?:^|_)annotations?$"),
    ),
    "name.prepare_suffix": (
        "x_prep / x_preprocess suffixes",
        lambda: _without(
            "_PREPARE", r"|_(?:prep|preprocess|preprocessing|prepare)$|_preprocess(?:ing)?_"
        ),
    ),
    # ---- shell, Lua, MATLAB, big notebooks
    "other_files": ("shell/Lua/MATLAB/large notebooks", lambda: {"_other_file_entries": _noop}),
    "sh.files": ("shell scripts as entries", lambda: _file_kind_without(".sh")),
    "lua.files": ("Lua scripts as entries", lambda: _file_kind_without(".lua")),
    "m.files": ("MATLAB scripts as entries", lambda: _file_kind_without(".m")),
    "sh.fetches_only": (
        "a shell script that only downloads",
        lambda: {"_fetches_only": _const(False)},
    ),
    "sh.shell_kind": (
        "a shell script by the Python it runs",
        lambda: {"_shell_kind": _const(None)},
    ),
    "sh.too_deep": ("drop deep shell/Lua/MATLAB files", lambda: {"_too_deep": _const(False)}),
    "lua.parses_args": (
        "a Lua file parsing its args is a script",
        lambda: _never("_LUA_PARSES_ARGS"),
    ),
    "lua.module": ("drop Lua modules", lambda: {"_lua_module": _const(False)}),
    "m.entry": ("drop MATLAB functions in folders", lambda: {"_matlab_entry": _const(True)}),
    "sh.doc_examples": ("docs/*examples*/x.sh", lambda: _never("_DOC_EXAMPLES")),
}


def _blocks_without(which: str) -> Callable[..., list[tuple[str, str, str]]]:
    """_blocks without one source of code: the README's indented blocks or inline code."""
    real = ep_mod._blocks

    def blocks(text: str, bare: bool = True) -> list[tuple[str, str, str]]:
        fenced = {c for _s, _e, c in ep_mod.fences(text)}
        keep = []
        for code, context, section in real(text, bare):
            source = (
                "fenced"
                if code in fenced
                else "indented"
                if code.startswith((" ", "\t"))
                else "inline"
            )
            if source != which:
                keep.append((code, context, section))
        return keep

    return blocks


@contextlib.contextmanager
def switched_off(rule: str) -> Iterator[None]:
    patches = RULES[rule][1]()
    with contextlib.ExitStack() as stack:
        for name, value in patches.items():
            owner: Any = ep_mod
            if "." in name:
                cls, name = name.split(".", 1)
                owner = getattr(ep_mod, cls)
            stack.enter_context(mock.patch.object(owner, name, value))
        yield


@dataclass
class Tally:
    prs: dict[str, PR]
    changed: set[str]


def found_entries(ctx: Context) -> dict[str, set[str]]:
    ep, _ = ep_mod.check(ctx)
    report = {"entry_points": asdict(ep)}
    return {k: entries(report, k) for k in KINDS}


def dev_labels(truth: Path, only: list[str] | None) -> list[dict[str, Any]]:
    """Development labels only: split "dev" or none; the held-out half is never loaded here."""
    labels = [
        lab
        for lab in json.loads(truth.read_text())["repos"]
        if lab.get("split", "unsplit") in ("dev", "unsplit")
    ]
    return [lab for lab in labels if not only or lab["repo"] in only]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clones", type=Path)
    ap.add_argument("--truth", type=Path, default=HERE / "repos_truth.json")
    ap.add_argument("--rules", nargs="*", default=None, help="only these rules")
    ap.add_argument("--only", nargs="*", default=None, help="only these repositories")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args()
    rules = args.rules or list(RULES)
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        print(f"ablate_entries: unknown rules {unknown}", file=sys.stderr)
        return 2
    labels = dev_labels(args.truth, args.only)
    tallies = {r: Tally({k: PR() for k in KINDS}, set()) for r in ["<all on>", *rules]}
    started = time.monotonic()
    for n, label in enumerate(labels, 1):
        repo = label["repo"]
        clone = args.clones / repo.replace("/", "+")
        head = subprocess.run(
            ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        if head != label["commit"]:
            print(f"  skipped {repo}: clone not at the labelled commit", file=sys.stderr)
            continue
        ctx = Context(load(clone), Config(), deadline=time.monotonic() + 600)
        ctx.index()
        base = found_entries(ctx)
        ok_paths = list(label.get("also_ok", []))
        for rule in ["<all on>", *rules]:
            if rule == "<all on>":
                got = base
            else:
                with switched_off(rule):
                    got = found_entries(ctx)
            t = tallies[rule]
            for k in KINDS:
                t.prs[k].add(repo, set(label[k]), got[k], ok_paths)
            if got != base:
                t.changed.add(repo)
        print(f"  [{n}/{len(labels)}] {repo} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    print_table(tallies, len(labels))
    if args.json:
        args.json.write_text(json.dumps(to_json(tallies), indent=1))
    return 0


def _f(x: float | None) -> str:
    return " n/a" if x is None else f"{x:4.2f}"


def print_table(tallies: dict[str, Tally], n: int) -> None:
    base = tallies["<all on>"]
    print(f"entry-point rule ablation: {n} development repositories (dev + unsplit)")
    print("all rules on:")
    for k in KINDS:
        p = base.prs[k]
        print(
            f"  {k:<8} tp {p.tp:>4} fp {p.fp:>4} fn {p.fn:>4}  P {_f(p.precision())} "
            f"R {_f(p.recall())}"
        )
    print(
        "\nper rule, switched OFF (Δ vs all on; Δtp<0: the rule finds true entries, Δfp<0 when"
        "\noff: it adds false ones; net = Δtp lost minus Δfp saved, over all three kinds)"
    )
    head = f"{'rule':<30} {'repos':>5} {'net':>4}"
    for k in KINDS:
        head += f" | {k[:5]:>5} Δtp Δfp Δfn   ΔP    ΔR"
    print(head)
    rows = []
    for rule, t in tallies.items():
        if rule == "<all on>":
            continue
        deltas = {k: _delta(base.prs[k], t.prs[k]) for k in KINDS}
        # What the rule is worth when on: true entries it finds minus false ones it adds.
        net = sum(-d["tp"] for d in deltas.values()) - sum(-d["fp"] for d in deltas.values())
        rows.append((net, rule, len(t.changed), deltas))
    rows.sort(key=lambda r: (r[0], r[1]))
    for net, rule, changed, deltas in rows:
        line = f"{rule:<30} {changed:>5} {net:>4}"
        for k in KINDS:
            d = deltas[k]
            line += f" | {'':>5} {d['tp']:>3} {d['fp']:>3} {d['fn']:>3} {d['dp']:>5} {d['dr']:>5}"
        print(line)
    print("\nwhat switching each rule off changes (at most 8 entries a rule):")
    for _net, rule, _changed, _deltas in rows:
        lines = _changes(base, tallies[rule])
        if lines:
            print(f"  {rule}")
            for line in lines[:8]:
                print(f"    {line}")
            if len(lines) > 8:
                print(f"    … {len(lines) - 8} more")
    print("\nrules:")
    for rule, (what, _p) in RULES.items():
        if rule in tallies:
            print(f"  {rule:<30} {what}")


def _changes(base: Tally, off: Tally) -> list[str]:
    """Entries found or lost when the rule is off: `+fp` a false entry it keeps out, `-tp` a
    true entry it finds, and so on."""
    out = []
    for k in KINDS:
        b, o = base.prs[k], off.prs[k]
        out += [f"-tp {k} {x}" for x in sorted(set(o.misses) - set(b.misses))]
        out += [f"+tp {k} {x}" for x in sorted(set(b.misses) - set(o.misses))]
        out += [f"+fp {k} {x}" for x in sorted(set(o.extras) - set(b.extras))]
        out += [f"-fp {k} {x}" for x in sorted(set(b.extras) - set(o.extras))]
    return out


def _delta(a: PR, b: PR) -> dict[str, Any]:
    def d(x: float | None, y: float | None) -> str:
        return "  n/a" if x is None or y is None else f"{y - x:+.2f}"

    return {
        "tp": b.tp - a.tp,
        "fp": b.fp - a.fp,
        "fn": b.fn - a.fn,
        "dp": d(a.precision(), b.precision()),
        "dr": d(a.recall(), b.recall()),
    }


def to_json(tallies: dict[str, Tally]) -> dict[str, Any]:
    return {
        rule: {
            "changed_repos": sorted(t.changed),
            **{
                k: {"tp": p.tp, "fp": p.fp, "fn": p.fn, "missed": p.misses, "extra": p.extras}
                for k, p in t.prs.items()
            },
        }
        for rule, t in tallies.items()
    }


if __name__ == "__main__":
    sys.exit(main())
