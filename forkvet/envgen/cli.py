"""`forkvet env`: pinned requirements and a conda environment, as of the code's date."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forkvet import rx
from forkvet.errors import InputError
from forkvet.escape import terminal

if TYPE_CHECKING:
    from forkvet.config import Config
    from forkvet.envgen.generate import EnvResult
    from forkvet.envgen.verify import Verification
    from forkvet.report import Report
    from forkvet.snapshot import Snapshot


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from exc


def cmd_env(args: argparse.Namespace) -> int:
    _check_args(args)
    out = _out_folder(args)
    _check_outputs(args, out)
    audited: list[dict[str, Any] | None] = []
    result, report, verification, root = _generate(args, out, audited)
    # Without --verify the audit ran beside the license check, on these same pins.
    audit = audited[0] if audited else _audit(args, result, out)
    if args.sbom:
        # after the audit: with --safe, the SBOM names the safe pins written
        from forkvet.envgen.sbom import write_sbom

        result.files.append(write_sbom(result, report, out))
    data = result.to_dict()
    data["out"] = str(out)  # the commands run there (uv finds the env's uv.toml in it)
    if audit is not None:
        data["audit"] = audit
    if args.container:
        data["container"] = _container(data, out, root)
    _print(data, args.format)
    failed = not result.complete or (verification is not None and not verification.ok)
    return 1 if failed else 0


def _check_args(args: argparse.Namespace) -> None:
    if args.as_of:
        _date(args.as_of)
    if args.python and not rx.fullmatch(r"[23]\.\d{1,2}", args.python):
        raise InputError(f"--python {args.python!r}: give a version like 3.7")
    if args.safe and (args.offline or args.no_audit):
        raise InputError("--safe needs the vulnerability audit: drop --offline / --no-audit")
    if args.container and args.offline:
        raise InputError("--container installs pinned versions: it cannot run with --offline")


def _out_folder(args: argparse.Namespace) -> Path:
    from forkvet.safe_write import default_out
    from forkvet.source import local_target

    out = Path(args.out) if args.out else default_out("forkvet-env", local_target(args.target))
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file; give a folder")
    return out


def _check_outputs(args: argparse.Namespace, out: Path) -> None:
    """Refuse a link (or a foreign container file) where any output would go before the first
    is written: a refusal leaves no half set of outputs that looks complete."""
    from forkvet.envgen import container, outputs
    from forkvet.envgen.sbom import SBOM_NAME
    from forkvet.safe_write import check_outputs
    from forkvet.source import local_target

    names = list(outputs.FILES)
    if args.sbom:
        names.append(SBOM_NAME)
    if args.container:
        names += container.FILES
    check_outputs(out, names, repo=local_target(args.target))
    if args.container:
        container.refuse_foreign(out)


def _generate(
    args: argparse.Namespace, out: Path, audited: list[dict[str, Any] | None]
) -> tuple[EnvResult, Report, Verification | None, Path]:
    """(result, report, verification or None, the repository's folder). Without --verify the
    audit runs while the dependency licenses are read (its answer goes into audited); with it,
    the pins may still change, so the caller audits the final ones."""
    from forkvet.config import config_for
    from forkvet.envgen.generate import generate
    from forkvet.envgen.uv import allow_builds
    from forkvet.source import is_git_url, open_target

    if args.verify and not is_git_url(args.target):
        from forkvet.userfile import refuse_linked_target

        refuse_linked_target(args.target)  # its import check writes the folder
    with allow_builds(args.allow_build), open_target(args.target, args.ref) as snap:
        _require_python(snap)
        config, _ = config_for(args.config, snap.root)
        if args.verify:
            _require_sandbox(args, config)
        gen = {
            "as_of": _date(args.as_of) if args.as_of else None,
            "python": args.python,
            "offline": args.offline,
            "config": config,
            "device": args.device,
            "sources": _sources(args),
        }

        def audit(requirements: list[dict[str, str]], python: str) -> None:
            audited.append(_audit_pins(args, requirements, python, out))

        result, report = generate(snap, out=out, alongside=None if args.verify else audit, **gen)
        verification = None
        if args.verify:
            if args.offline:
                raise InputError("--verify installs packages: it cannot run with --offline")
            from forkvet.envgen.verify import verify

            result, verification = verify(snap, result, out, **gen)
            result.verify = asdict(verification)
        return result, report, verification, snap.root


def _require_python(snap: Snapshot) -> None:
    from forkvet.vet.languages import has_python

    if not has_python(snap):
        # A Lua Torch, MATLAB or C repository: a Python environment would be invented.
        raise InputError(
            f"{snap.name} has no Python code (no .py, .ipynb or Python packaging files): "
            f"no Python environment to generate"
        )


def _require_sandbox(args: argparse.Namespace, config: Config) -> None:
    # --verify runs builds and imports the repository's modules: in the sandbox, or
    # not at all unless the operator opted out (forkvet.runtime.sandbox)
    from forkvet.runtime import sandbox

    if args.allow_unsandboxed or not config.runtime.require_sandbox:
        sandbox.allow_unsandboxed()
    sandbox.require()


def _sources(args: argparse.Namespace) -> list[str]:
    return [x for url in args.find_links or [] for x in ("--find-links", url)] + [
        x for url in args.extra_index_url or [] for x in ("--extra-index-url", url)
    ]


def _audit(args: argparse.Namespace, result: EnvResult, out: Path) -> dict[str, Any] | None:
    return _audit_pins(args, result.requirements, result.python, out)


def _audit_pins(
    args: argparse.Namespace, requirements: list[dict[str, Any]], python: str, out: Path
) -> dict[str, Any] | None:
    if args.offline or args.no_audit:
        return None
    # Pinning "as the authors had it" pins old releases: say which carry known
    # vulnerabilities (and with --safe, pin the nearest safe release instead).
    from forkvet.audit.envaudit import audit_env

    return audit_env(requirements, python, out, args.vuln_db, args.safe)


def _container(data: dict[str, Any], out: Path, root: Path) -> dict[str, Any]:
    """Dockerfile and devcontainer for the environment just written (after --safe's pins)."""
    from forkvet.envgen import container
    from forkvet.envgen.device import gpu_capability

    capability = gpu_capability() if data["device"] == "cuda" else None
    plan = container.plan(data, capability)
    data["files"] += container.write(out, plan, data["repo"], repo=root)
    return asdict(plan)


def _print(data: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(_text(data))


def _text(d: dict[str, Any]) -> str:
    """The text report. Nearly every field comes from the repository (problems, notes,
    sources, package names, the repository's name in the commands): each line goes through
    `terminal` here, the one place text output is made, so no field can write a control
    character (ESC, CR, a C1 code, a bidi override) to the terminal, whatever its way in."""
    return "".join(terminal(line) + "\n" for line in _text_lines(d))


def _text_lines(d: dict[str, Any]) -> list[str]:
    status = "complete" if d["complete"] else "PARTIAL"
    lines = [
        f"forkvet env: {status} — Python {d['python']}, versions as of {d['as_of']}"
        + (" (offline)" if d["offline"] else "")
    ]
    if d["framework"]:
        fw = d["framework"]
        lines.append(f"  framework  {fw['dist']}=={fw['version']} (pinned first)")
    lines.append(f"  packages   {len(d['requirements'])} pinned")
    for p in d["problems"]:
        lines.append(f"  ! {p}")
    if d["needs_build"]:
        lines.append(
            f"  ! needs a source build (off; --allow-build): {', '.join(d['needs_build'])}"
        )
    if d.get("builds_from_source"):
        lines.append(
            f"  builds     from source when installed: {', '.join(d['builds_from_source'])}"
        )
    for c in d["conflicts"]:
        lines.append(f"  ! conflicting declared pins: {c}")
    flagged = [x for x in d["licenses"] if x["verdict"] in ("warning", "error")]
    for x in flagged:
        lines.append(
            f"  ! license {x['verdict']}: {x['name']}=={x['version']} is {x['license']}"
            f" ({x['note']})"
        )
    lines += _text_checks(d) + _text_container(d.get("container"))
    lines += [f"  wrote      {f}" for f in d["files"]]
    if d["commands"] and d.get("out"):
        lines.append(f"  commands to run in {d['out']}:")
    lines += [f"  {k:<10} {v}" for k, v in d["commands"].items()]
    return lines


def _text_checks(d: dict[str, Any]) -> list[str]:
    """The --verify and audit lines."""
    lines: list[str] = []
    if d.get("verify"):
        v = d["verify"]
        lines.append(
            f"  verify     {'ok' if v['ok'] else 'FAILED'} after {v['rounds']} "
            f"round(s)" + (f"; added {', '.join(v['added'])}" if v["added"] else "")
        )
        lines += [f"    - {f['module']}: {f['reason']}" for f in v["failures"]]
    if d.get("audit"):
        a = d["audit"]
        lines.append(f"  audit      {a['summary']}")
        lines += [
            f"  ! {v['severity']} {v['package']}=={v['version']}: "
            f"{v['id']} (nearest safe {v['nearest_safe'] or 'none'})"
            for v in a.get("vulnerabilities", [])[:20]
        ]
        lines += [f"  safe       {c}" for c in a.get("changed", [])]
    return lines


def _text_container(c: dict[str, Any] | None) -> list[str]:
    if not c:
        return []
    cuda = (
        f", CUDA {c['cuda']}" + (f" / cuDNN {c['cudnn']}" if c["cudnn"] else "")
        if c["cuda"]
        else ""
    )
    where = {"uv": "uv's build", "conda-forge": "conda-forge", "image": "the image's"}
    lines = [
        f"  container  {c['base']}{cuda}; Python {c['python']} "
        f"({where.get(c['python_from'], c['python_from'])})"
        + ("; GPUs passed through" if c["gpu"] else "")
    ]
    return lines + [f"  ! container: {n}" for n in c["notes"]]


def register(sub: Any) -> None:
    e = sub.add_parser(
        "env",
        help="pinned requirements.txt and environment.yml as of the code's date",
        description="Generate a reproducible environment: the framework pinned first, then "
        "every dependency resolved with uv as of the date the code was last "
        "changed, for the newest Python the code and the framework support. "
        "Python 2 code gets a conda environment. Uses your own pip/uv index "
        "configuration.",
    )
    _add_target_args(e)
    _add_resolution_args(e)
    _add_source_args(e)
    _add_policy_args(e)
    _add_output_args(e)
    e.set_defaults(func=cmd_env)


def _add_target_args(e: argparse.ArgumentParser) -> None:
    """What to read and where to write."""
    e.add_argument("target", metavar="TARGET", help="a local folder or a git URL")
    e.add_argument("--ref", help="branch, tag or commit")
    e.add_argument(
        "--as-of",
        metavar="DATE",
        help="resolve as of this date (default: the last commit that touched code)",
    )
    e.add_argument("--python", metavar="X.Y", help="target Python (default: chosen)")
    e.add_argument(
        "--out",
        metavar="DIR",
        help="folder for requirements.txt, environment.yml, .python-version (default "
        "./forkvet-env, or ~/.cache/forkvet/REPO-HASH/forkvet-env when the current folder "
        "is inside the repository)",
    )


def _add_resolution_args(e: argparse.ArgumentParser) -> None:
    """How to resolve: offline, verified, builds, device."""
    e.add_argument(
        "--offline",
        action="store_true",
        help="no index: names, Python version and declared pins only",
    )
    e.add_argument(
        "--verify",
        action="store_true",
        help="create the environment, import every "
        "module, repair and retry (runners "
        "only: installs packages)",
    )
    e.add_argument(
        "--allow-unsandboxed",
        action="store_true",
        help="with --verify, where no sandbox is available (bubblewrap, user namespaces), "
        "build and import anyway, without one (only on a machine you throw away)",
    )
    e.add_argument(
        "--allow-build",
        action="store_true",
        help="let uv build source releases (runs their build code) when a package has no "
        "wheel at the date; default: wheels only, and the result names what needed a build",
    )
    e.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        help="build the environment for CPU or CUDA (default: cuda when nvidia-smi is found)",
    )


def _add_source_args(e: argparse.ArgumentParser) -> None:
    """Extra package sources the user chooses (never the repository)."""
    e.add_argument(
        "--find-links",
        action="append",
        metavar="URL",
        help="an extra source of releases (a find-links page, e.g. a framework's archive of "
        "old releases the index lacks); repeatable. Only what you pass is used.",
    )
    e.add_argument(
        "--extra-index-url",
        action="append",
        metavar="URL",
        help="an extra package index, used with yours; repeatable",
    )


def _add_policy_args(e: argparse.ArgumentParser) -> None:
    """Policy and the vulnerability audit."""
    e.add_argument("--config", metavar="FILE", help="policy file (.github/forkvet.yml format)")
    e.add_argument(
        "--safe",
        action="store_true",
        help="pin the nearest safe release of each pin with a known vulnerability (same "
        "major line where one exists) and say what changed",
    )
    e.add_argument(
        "--vuln-db", metavar="PATH", help="audit against an OSV export (folder or zip) offline"
    )
    e.add_argument("--no-audit", action="store_true", help="skip the vulnerability audit")


def _add_output_args(e: argparse.ArgumentParser) -> None:
    """Extra outputs beside requirements.txt, and the format."""
    e.add_argument(
        "--sbom",
        action="store_true",
        help="also write sbom.cdx.json (CycloneDX 1.6): every pin with its purl, license and "
        "the index's hashes, the CUDA build with --device cuda, the repository as the root",
    )
    e.add_argument(
        "--container",
        action="store_true",
        help="also write a Dockerfile (base image: the CUDA/cuDNN build of the pinned "
        "framework with --device cuda, else python:X-slim; the same pins installed with the "
        "same uv command, as a non-root user), .dockerignore and .devcontainer/devcontainer.json",
    )
    e.add_argument("--format", choices=("text", "json"), default="text", help="output format")
