"""The `forkvet vet` command as a user meets it: formats, exit codes, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forkvet.cli import main
from tests.conftest import MakeRepo, git, license_text

CODE = {"train.py": "import torch\nprint('x')\n", "LICENSE": license_text("MIT.txt")}
JSON_KEYS = {
    "schema_version",
    "repo",
    "license",
    "languages",
    "python",
    "frameworks",
    "dependencies",
    "entry_points",
    "weights",
    "citation",
    "risks",
    "checklist",
    "findings",
}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, needle: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("forkvet: error:") and needle in lines[0], lines[0]
    assert "Traceback" not in err


def test_json_report_has_the_stable_keys(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CODE)
    code, out, _ = run_cli(["vet", str(repo), "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 0 and set(data) >= JSON_KEYS
    assert next(iter(data)) == "schema_version"
    assert set(data["repo"]) >= {"name", "commit", "commit_date", "remote"}
    assert set(data["license"]) >= {
        "spdx",
        "name",
        "category",
        "commercial_use",
        "obligations",
        "files",
        "confidence",
    }
    assert set(data["python"]) >= {
        "majors",
        "recommended",
        "min_version",
        "max_version",
        "evidence",
    }
    assert set(data["dependencies"]) >= {"files", "declared", "imported", "missing", "unused"}
    assert set(data["entry_points"]) >= {"train", "test", "commands"}
    assert set(data["checklist"]) == {"score", "items"}
    assert len(data["repo"]["commit"]) == 40
    for f in data["findings"]:
        assert set(f) == {
            "check",
            "severity",
            "title",
            "message",
            "path",
            "line",
            "accepted",
            "pin",
        }


def test_markdown_starts_with_the_verdict(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["vet", str(make_repo(CODE)), "--format", "markdown"], capsys)
    first = out.splitlines()[0]
    assert code == 0 and "**forkvet**" in first and "MIT" in first
    assert "### License" in out


def test_text_output_and_file_output(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CODE)
    code, out, _ = run_cli(["vet", str(repo)], capsys)
    assert code == 0 and out.startswith("forkvet: ") and "MIT License" in out
    target = tmp_path / "out" / "report.json"
    code, out, _ = run_cli(["vet", str(repo), "--format", "json", "-o", str(target)], capsys)
    assert code == 0 and out == "" and json.loads(target.read_text())["license"]["spdx"] == "MIT"


def test_policy_violation_exits_1(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo({**CODE, "LICENSE": license_text("CC-BY-NC-4.0.txt")})
    policy = tmp_path / "policy.yml"
    policy.write_text("license:\n  require_commercial_use: true\n")
    code, out, _ = run_cli(["vet", str(repo), "--config", str(policy)], capsys)
    assert code == 1 and "Commercial use not allowed" in out


def test_repository_config_is_read(make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(
        {
            **CODE,
            "LICENSE": license_text("GPL-3.0-only.txt"),
            ".github/forkvet.yml": "license:\n  deny: [strong-copyleft]\n",
        }
    )
    code, _, _ = run_cli(["vet", str(repo)], capsys)
    assert code == 1


def test_broken_repository_config_is_a_visible_error_not_a_crash(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo({**CODE, ".github/forkvet.yml": "license: [oops\n"})
    code, out, _ = run_cli(["vet", str(repo)], capsys)
    assert code == 1 and "ERROR   Invalid .github/forkvet.yml" in out


def test_a_repository_typo_never_switches_the_operators_policy_off(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Action passes the operator's policy as --config; the vetted repository's file
    can only tighten it, and a typo in it (`licence:`) is an error, not a silent pass."""
    policy = tmp_path / "policy.yml"
    policy.write_text("license:\n  deny: [strong-copyleft]\n")
    gpl = {**CODE, "LICENSE": license_text("GPL-3.0-only.txt")}
    typo = make_repo(
        {**gpl, ".github/forkvet.yml": "licence:\n  allow: [GPL-3.0-only]\n"}, name="typo"
    )
    code, out, _ = run_cli(["vet", str(typo), "--config", str(policy)], capsys)
    assert code == 1 and "License denied by policy" in out and "Invalid .github" in out
    loosen = make_repo(
        {**gpl, ".github/forkvet.yml": "license:\n  deny: []\n  allow: [GPL-3.0-only]\n"},
        name="loosen",
    )
    code, out, _ = run_cli(["vet", str(loosen), "--config", str(policy)], capsys)
    assert code == 1 and "License denied by policy" in out
    mit = {**CODE, "LICENSE": license_text("MIT.txt")}
    tighter = make_repo({**mit, ".github/forkvet.yml": "license:\n  deny: [MIT]\n"}, name="t")
    code, out, _ = run_cli(["vet", str(tighter), "--config", str(policy)], capsys)
    assert code == 1 and "License denied by policy" in out
    plain = make_repo(mit, name="plain")
    assert run_cli(["vet", str(plain), "--config", str(policy)], capsys)[0] == 0


def test_tighten_keeps_what_both_policies_allow() -> None:
    from forkvet.config import Config, LicensePolicy, RiskPolicy, tighten

    floor = Config(license=LicensePolicy(allow=["permissive"]), source="operator.yml")
    repo = Config(
        license=LicensePolicy(allow=["MIT", "GPL-3.0-only"], require_commercial_use=True),
        risks=RiskPolicy(fail_on_dangerous_pickle=False),
        source=".github/forkvet.yml",
    )
    both = tighten(floor, repo)
    assert both.license.allow == ["MIT"]
    assert both.license.require_commercial_use and both.risks.fail_on_dangerous_pickle


def test_a_repository_file_silent_on_pickles_keeps_the_operators_downgrade() -> None:
    """The App calls tighten() directly: a fork's forkvet.yml that only sets run settings must
    not turn the operator's `fail_on_dangerous_pickle: false` back into errors (its default
    is no restriction the fork asked for); one that names the key still tightens."""
    from forkvet.config import parse_config, tighten

    operator = parse_config({"risks": {"fail_on_dangerous_pickle": False}}, "FORKVET_POLICY")
    silent = parse_config({"smoke": {"command": "python demo.py"}}, ".github/forkvet.yml")
    asks = parse_config({"risks": {"fail_on_dangerous_pickle": True}}, ".github/forkvet.yml")
    assert tighten(operator, silent).risks.fail_on_dangerous_pickle is False
    assert tighten(operator, silent).smoke.command == "python demo.py"
    assert tighten(operator, asks).risks.fail_on_dangerous_pickle is True


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("license: [oops\n", "not valid YAML"),
        ("licence:\n  allow: [MIT]\n", "unknown section 'licence'"),
        ("license:\n  allow: permisive\n", "'permisive'"),
        ("license:\n  require_commercial_use: maybe\n", "must be true or false"),
    ],
)
def test_bad_config_file(
    make_repo: MakeRepo,
    tmp_path: Path,
    content: str,
    needle: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = tmp_path / "bad.yml"
    cfg.write_text(content)
    code, _, err = run_cli(["vet", str(make_repo(CODE)), "--config", str(cfg)], capsys)
    assert_one_line_error(code, err, needle)


def test_missing_path_file_and_empty_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["vet", str(tmp_path / "nope")], capsys)
    assert_one_line_error(code, err, "no such directory")
    f = tmp_path / "file.py"
    f.write_text("x = 1\n")
    code, _, err = run_cli(["vet", str(f)], capsys)
    assert_one_line_error(code, err, "is a file, not a directory")
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(["vet", str(tmp_path / "empty")], capsys)
    assert_one_line_error(code, err, "empty directory")


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["vet", "x", "--format", "yaml"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "invalid choice" in err
    assert main([]) == 2


def test_output_to_a_directory_is_refused(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["vet", str(make_repo(CODE)), "-o", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "is a directory")


def test_folder_that_is_not_a_git_repository(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(CODE, use_git=False)
    code, out, _ = run_cli(["vet", str(repo), "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["repo"]["commit"] is None and data["license"]["spdx"] == "MIT"


def test_git_url_is_cloned_shallowly_and_removed(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo(CODE)
    git(repo, "tag", "v1")
    (repo / "extra.py").write_text("import numpy\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second", date="2020-01-01T00:00:00+00:00")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    url = f"file://{repo}"
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "vet", url, "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["repo"]["remote"] == url
    assert "numpy" in data["dependencies"]["imported"]
    assert list(scratch.iterdir()) == []  # the clone is gone
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "vet", url, "--ref", "v1", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert "numpy" not in json.loads(proc.stdout)["dependencies"]["imported"]


def test_local_ref_and_bad_ref(make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(CODE)
    first = git(repo, "rev-parse", "HEAD")
    (repo / "extra.py").write_text("import scipy\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    code, out, _ = run_cli(["vet", str(repo), "--ref", first[:10], "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["repo"]["commit"] == first
    code, _, err = run_cli(["vet", str(repo), "--ref", "no-such-branch"], capsys)
    assert_one_line_error(code, err, "no ref 'no-such-branch'")


def test_unreachable_git_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["vet", "http://127.0.0.1:9/nobody/nothing.git"], capsys)
    assert_one_line_error(code, err, "could not clone http://127.0.0.1:9/nobody/nothing.git")
    code, _, err = run_cli(["vet", "https://user:s3cret@127.0.0.1:9/x.git"], capsys)
    assert code == 2 and "s3cret" not in err


def test_binary_undecodable_oversize_and_symlinks(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("import secretpkg\n")
    repo = make_repo(
        {
            **CODE,
            "blob.bin": bytes(range(256)) * 10,
            "latin.py": "# caf\xe9\nimport scipy\n".encode("latin-1"),
            "big.py": "x = 1\n" * 400_000,
        },
        use_git=False,
    )
    (repo / "link_out").symlink_to(outside)
    (repo / "link_file.py").symlink_to(outside / "secret.py")
    code, out, err = run_cli(["vet", str(repo), "--format", "json"], capsys)
    # A module (or folder) linked from outside the tree is code forkvet never saw: an
    # unverified error, whatever its name (round 18a F9), and never read.
    assert code == 1 and err == ""
    data = json.loads(out)
    titles = {f["title"]: f["message"] for f in data["findings"]}
    assert "link_file.py" in titles["Symlinks leaving the repository"]
    assert "link_file.py" in titles["Link outside"] and "NOT verified" in titles["Link outside"]
    assert "big.py" in titles["Large files skipped"]
    assert "latin.py" in titles["Files with unknown encoding"]
    assert "scipy" in data["dependencies"]["imported"]
    assert "secretpkg" not in data["dependencies"]["imported"]


def test_large_texts_are_read_again_not_held_and_noticed_once(make_repo: MakeRepo) -> None:
    """A tree of large files is not held in memory for the checks that read it again, and
    re-reading gives the same text and no second notice."""
    from forkvet.snapshot import TEXT_CACHE_FILE_CHARS, load

    big_latin = ("# caf\xe9\n" + "x = 1\n" * (TEXT_CACHE_FILE_CHARS // 6)).encode("latin-1")
    repo = make_repo({**CODE, "big_latin.py": big_latin, "small.py": "import numpy\n"})
    snap = load(repo)
    first, again = snap.read_text("big_latin.py"), snap.read_text("big_latin.py")
    assert first is not None and first == again and len(first) > TEXT_CACHE_FILE_CHARS
    assert first is not again  # read from the file again, not kept
    assert snap.read_text("small.py") is snap.read_text("small.py")  # kept
    notices = [f for f in snap.access_notices() if "Latin-1" in f.message]
    assert len(notices) == 1 and notices[0].message.count("big_latin.py") == 1


def test_fifty_thousand_files(make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(CODE, use_git=False)
    for d in range(50):
        sub = repo / "data" / f"shard{d}"
        sub.mkdir(parents=True)
        for i in range(1000):
            (sub / f"img{i}.txt").write_text("0 0 1 1\n")
    code, out, _ = run_cli(["vet", str(repo), "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["license"]["spdx"] == "MIT"


def test_vet_imports_no_other_command(tmp_path: Path) -> None:
    """`forkvet vet` starts without the other commands' modules (environments, runs,
    audits): CI pays their import time on every pull request otherwise."""
    (tmp_path / "train.py").write_text(CODE["train.py"])
    others = ("forkvet.runtime", "forkvet.envgen", "forkvet.environments", "forkvet.audit")
    args = ["vet", str(tmp_path), "--format", "json", "-o", str(tmp_path / "r.json")]
    script = (
        f"import sys\nfrom forkvet.cli import main\nmain({args!r})\n"
        f"print(sorted(m for m in sys.modules if m.startswith({others!r})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert proc.stdout.strip() == "[]"
    assert json.loads((tmp_path / "r.json").read_text())["repo"]
