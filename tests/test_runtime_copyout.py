"""The output folder the Actions upload is one the repository's command never sees, and what
the command leaves on the host is repaired (outside attack, round 16b: C1, C2, H2, L2).

The command plants links to a stand-in for the runner's `.credentials` under every name the
workflow template uploads, then forkvet dies (a write error, SIGKILL) or the job is cancelled
(the runner signals the step's shell only): the output folder must hold nothing but regular
files forkvet wrote, whatever happens to forkvet.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from forkvet.runtime.sandbox import probe
from tests.conftest import MakeRepo

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

ROOT = Path(__file__).resolve().parents[1]
UPLOADED = ["smoke.log", "executed.ipynb", "executed-x.ipynb", "train.log", "loss.png"]

# Plants a link under every uploaded name in what it sees as the output folder, says so in
# the checkout, then keeps the run going (prints, or sleeps).
PLANT = r"""
import os, sys, time
out, secret, mode = sys.argv[1], sys.argv[2], sys.argv[3]
for name in NAMES:
    path = os.path.join(out, name)
    try:
        os.unlink(path)
    except OSError:
        pass
    os.symlink(secret, path)
os.mkfifo(os.path.join(out, "pipe.log"))
open("planted", "w").write("yes")
print("planted", flush=True)
if mode == "print":
    for i in range(20000):
        print("x" * 200, flush=True)
elif mode == "sleep":
    time.sleep(120)
""".replace("NAMES", repr(UPLOADED))


def _needs_sandbox() -> None:
    if not probe().ok:
        pytest.skip(f"no sandbox on this machine: {probe().reason}")


def _only_forkvets_regular_files(out: Path) -> list[str]:
    found = []
    for path in sorted(out.rglob("*")):
        mode = path.lstat().st_mode
        assert stat.S_ISREG(mode), f"{path} is not a regular file ({stat.filemode(mode)})"
        assert path.lstat().st_nlink == 1, path
        assert "SECRET" not in path.read_text(errors="replace"), path
        found.append(path.name)
    return found


def _setup(make_repo: MakeRepo, tmp_path: Path) -> tuple[Path, Path, Path]:
    secret = tmp_path / "credentials"
    secret.write_text("SECRET-RUNNER-CREDENTIALS-MARKER\n")
    repo = make_repo({"plant.py": PLANT})
    out = tmp_path / "runner" / "forkvet" / "smoke"
    out.parent.mkdir(parents=True)
    return repo, out, secret


def _smoke_argv(repo: Path, out: Path, secret: Path, mode: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "forkvet",
        "smoke",
        str(repo),
        "--python",
        sys.executable,
        "--no-import-check",
        "--format",
        "json",
        "--timeout",
        "60",
        "--out",
        str(out),
        "--cmd",
        f"python plant.py {out} {secret} {mode}",
    ]


def _wait_for(path: Path, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, "forkvet ended before the command planted its links"
        assert time.monotonic() < deadline, "the command never planted its links"
        time.sleep(0.1)


def _alive(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text()
        except OSError:
            continue
        if marker.encode() in cmdline and state[state.rindex(")") + 2] != "Z":
            found.append(int(entry.name))
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _sleeping_smoke(
    make_repo: MakeRepo, tmp_path: Path
) -> tuple[Path, Path, subprocess.Popen[bytes]]:
    """(repo, output folder, forkvet smoke) once the command has planted its links and sleeps."""
    repo, out, secret = _setup(make_repo, tmp_path)
    proc = subprocess.Popen(
        _smoke_argv(repo, out, secret, "sleep"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(repo / "planted", proc)
    except BaseException:
        proc.kill()
        raise
    return repo, out, proc


def test_links_planted_in_the_output_folder_never_reach_it_when_forkvet_is_killed(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """C2: SIGKILL of forkvet (no sweep can run): the real output folder was never the
    command's, so it holds only forkvet's own log."""
    _needs_sandbox()
    repo, out, proc = _sleeping_smoke(make_repo, tmp_path)
    try:
        proc.kill()
        proc.wait(timeout=30)
        # bwrap --die-with-parent: the sandbox goes with forkvet
        deadline = time.monotonic() + 20
        while _alive(str(repo)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _alive(str(repo)) == []
    finally:
        _kill(_alive(str(repo)))
    assert _only_forkvets_regular_files(out) == ["smoke.log"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_command_ends_with_forkvet_when_forkvet_is_stopped(
    make_repo: MakeRepo, tmp_path: Path, sig: signal.Signals
) -> None:
    """Round 23b F1: a cancelled job's SIGTERM (or Ctrl-C) unwound forkvet, which removed its
    private folders and exited while the repository's command ran on, unbounded."""
    _needs_sandbox()
    repo, _, proc = _sleeping_smoke(make_repo, tmp_path)
    try:
        proc.send_signal(sig)
        proc.wait(timeout=60)
        assert _alive(str(repo)) == [], "the command outlived forkvet"
    finally:
        proc.kill()
        _kill(_alive(str(repo)))


def test_links_planted_in_the_output_folder_never_reach_it_when_forkvets_writes_fail(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """C1: the command makes forkvet's own writes fail (a full disk; here a file size limit,
    EFBIG, the same OSError): forkvet still ends with a result, and the output folder holds
    only its own (cut) log."""
    _needs_sandbox()
    repo, out, secret = _setup(make_repo, tmp_path)
    limit = ["prlimit", f"--fsize={256 << 10}", "--"]
    proc = subprocess.run(
        [*limit, *_smoke_argv(repo, out, secret, "print")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (repo / "planted").exists(), proc.stderr[-2000:]
    assert _only_forkvets_regular_files(out) == ["smoke.log"], proc.stderr[-2000:]
    assert "internal error" not in proc.stderr, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert data["exit_code"] == 0 and data["isolation"] == "bubblewrap"


def test_what_the_command_writes_into_the_output_folder_stays_private(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """The command may write where it sees the output folder (a metrics file): that works,
    and none of it is in the real folder afterwards, nor in the scratch folder's place."""
    _needs_sandbox()
    repo, out, secret = _setup(make_repo, tmp_path)
    proc = subprocess.run(
        _smoke_argv(repo, out, secret, "done"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    data = json.loads(proc.stdout)
    assert data["exit_code"] == 0, data["tail"]
    assert _only_forkvets_regular_files(out) == ["smoke.log"]
    assert "planted" in (out / "smoke.log").read_text()


SETUID = r"""
import os, shutil, sys
shutil.copy(sys.argv[1], "helper")
os.chmod("helper", 0o4755)
shutil.copy(sys.argv[1], "group-helper")
os.chmod("group-helper", 0o2755)
os.makedirs("build/cache/deep")
open("build/cache/deep/blob", "w").write("x")
os.chmod("build/cache/deep", 0o555)
os.chmod("build/cache", 0o000)
os.symlink(sys.argv[2], "link-to-outside")
print("modes", oct(os.stat("helper").st_mode))
"""


def test_setuid_files_and_locked_folders_left_by_the_command_are_repaired(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """H2, L2: a setuid/setgid program the command leaves in the checkout loses the bits (as
    root it would be setuid-root on the host); a folder it made read-only (or 0) is its
    owner's to write again; a link to a setuid file outside is never followed."""
    _needs_sandbox()
    outside = tmp_path / "outside-tool"
    outside.write_text("")
    outside.chmod(0o4755)
    repo = make_repo({"plant.py": SETUID})
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "forkvet",
            "smoke",
            str(repo),
            "--python",
            sys.executable,
            "--no-import-check",
            "--format",
            "json",
            "--out",
            str(tmp_path / "o"),
            "--cmd",
            f"python plant.py /bin/true {outside}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    data = json.loads(proc.stdout)
    assert data["exit_code"] == 0, data["tail"]
    assert any("0o104755" in line for line in data["tail"]), data["tail"]  # it was setuid
    for name in ("helper", "group-helper"):
        mode = (repo / name).lstat().st_mode
        assert not mode & (stat.S_ISUID | stat.S_ISGID), (name, oct(mode))
        assert mode & 0o755 == 0o755
    for folder in (repo / "build" / "cache", repo / "build" / "cache" / "deep"):
        assert folder.stat().st_mode & 0o700 == 0o700, folder
    assert outside.stat().st_mode & stat.S_ISUID  # not the command's: left alone


def test_repair_modes_follows_no_link(tmp_path: Path) -> None:
    from forkvet.runtime.sandbox import repair_modes

    target = tmp_path / "target"
    target.mkdir()
    tool = target / "tool"
    tool.write_text("")
    tool.chmod(0o4755)
    locked = target / "locked"
    locked.mkdir(mode=0o500)
    work = tmp_path / "work"
    work.mkdir()
    (work / "tool-link").symlink_to(tool)
    (work / "dir-link").symlink_to(target)
    mine = work / "mine"
    mine.write_text("")
    mine.chmod(0o6750)
    assert repair_modes([work, work / "dir-link"]) == 1
    assert stat.S_IMODE(mine.stat().st_mode) == 0o750
    assert tool.stat().st_mode & stat.S_ISUID and stat.S_IMODE(locked.stat().st_mode) == 0o500
    locked.chmod(0o700)


# --- the Actions: cancellation, and the upload step of the workflow template ---


def _step_script(action: str, step_id: str) -> tuple[str, dict[str, str]]:
    spec = yaml.safe_load((ROOT / "actions" / action / "action.yml").read_text())
    (step,) = [s for s in spec["runs"]["steps"] if s.get("id") == step_id]
    return step["run"], dict(step.get("env") or {})


def test_a_cancelled_smoke_step_stops_forkvet_and_its_sandbox(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """C2: the runner cancels a step by signalling its shell only (SIGINT, then SIGTERM, then
    SIGKILL of that one process). The step forwards the signal: forkvet stops the command and
    ends; nothing of the run outlives the step; the output folder holds forkvet's files."""
    _needs_sandbox()
    secret = tmp_path / "credentials"
    secret.write_text("SECRET-RUNNER-CREDENTIALS-MARKER\n")
    repo = make_repo({"plant.py": PLANT}, name=f"repo-{uuid.uuid4().hex[:8]}")
    temp = tmp_path / "runner"
    (temp / "forkvet").mkdir(parents=True)
    out = temp / "forkvet" / "smoke"
    script, _ = _step_script("smoke-test", "run")
    output = temp / "out-step"
    output.touch()
    env = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_ACTIONS": "true",
        "RUNNER_TRACKING_ID": "github_" + uuid.uuid4().hex,
        "TARGET": str(repo),
        "COMMAND": f"python plant.py {out} {secret} sleep",
        "PYTHON_PATH": sys.executable,
        "FORKVET_PROGRAM": str(Path(sys.executable).parent / "forkvet"),  # as install.sh sets
        "TIMEOUT": "120",
        "NETWORK": "shared",
        "INSTALL_TIMEOUT": "",
    }
    step = subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the runner starts each step in a group of its own
    )
    try:
        _wait_for(repo / "planted", step)
        step.send_signal(signal.SIGINT)  # the runner: kill(pid), not the group
        try:
            step.wait(timeout=7.5)
        except subprocess.TimeoutExpired:
            step.send_signal(signal.SIGTERM)
            try:
                step.wait(timeout=2.5)
            except subprocess.TimeoutExpired:
                step.kill()
                step.wait()
        # what the step started is gone once it has ended (a moment for the last reaping)
        deadline = time.monotonic() + 5
        while _alive(str(repo)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _alive(str(repo)) == [], "forkvet or its sandbox outlived the cancelled step"
    finally:
        _kill(_alive(str(repo)))
        with contextlib.suppress(ProcessLookupError):
            step.kill()
    assert _only_forkvets_regular_files(out) == ["smoke.log"]


def test_the_sandbox_keeps_the_runners_tracking_id() -> None:
    """The runner's end-of-job clean-up finds a cancelled job's processes by this id."""
    from forkvet.runtime.process import scrubbed_env

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUNNER_TRACKING_ID", "github_4c0e2b1a-7f53-4d5e-9f1c-2b8f0a6d9e11")
        assert scrubbed_env()["RUNNER_TRACKING_ID"].startswith("github_4c0e2b1a")


def _upload_guard() -> str:
    wf = yaml.safe_load((ROOT / "workflows" / "forkvet.yml").read_text())
    steps = wf["jobs"]["gpu"]["steps"]
    (upload,) = [i for i, s in enumerate(steps) if "upload-artifact" in s.get("uses", "")]
    guard = steps[upload - 1]
    assert guard["if"] == "always()" and "run" in guard
    paths = steps[upload]["with"]["path"]
    assert "*" not in paths and "?" not in paths  # exact names only
    return str(guard["run"])


def test_the_templates_upload_takes_only_regular_files(tmp_path: Path) -> None:
    """Defence in depth: whatever stands under an uploaded name and is not a regular file with
    one link is deleted before upload-artifact (which follows links) reads it."""
    secret = tmp_path / "credentials"
    secret.write_text("SECRET\n")
    temp = tmp_path / "runner"
    base = temp / "forkvet"
    (base / "smoke").mkdir(parents=True)
    (base / "train").mkdir()
    (base / "smoke.json").write_text("{}")
    (base / "smoke" / "smoke.log").write_text("log\n")
    (base / "smoke" / "executed.ipynb").symlink_to(secret)
    (base / "train.json").symlink_to(secret)
    os.mkfifo(base / "train" / "train.log")
    (base / "train" / "loss.png").mkdir()
    (base / "train" / "loss.png" / "inside").write_text("x")
    proc = subprocess.run(
        ["bash", "-e", "-c", _upload_guard()],
        env={**os.environ, "RUNNER_TEMP": str(temp)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    left = sorted(p.relative_to(base).as_posix() for p in base.rglob("*"))
    assert left == ["smoke", "smoke.json", "smoke/smoke.log", "train"], left
    assert proc.stdout.count("::warning::") == 4
    # a linked output folder goes as a whole
    (base / "smoke").rename(tmp_path / "elsewhere")
    (base / "smoke").symlink_to(tmp_path / "elsewhere")
    subprocess.run(
        ["bash", "-e", "-c", _upload_guard()],
        env={**os.environ, "RUNNER_TEMP": str(temp)},
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert not (base / "smoke").exists() and (tmp_path / "elsewhere" / "smoke.log").exists()


TRAIN = r"""
import os, sys
out = sys.argv[1]
with open(os.path.join(out, "metrics.csv"), "w") as fh:
    fh.write("step,val_acc\n")
    for s in range(8):
        fh.write(f"{s},{0.5 + s / 20}\n")
os.symlink("/etc/hostname", os.path.join(out, "loss.png"))
for s in range(12):
    print(f"step {s} loss {2 / (s + 1):.4f}", flush=True)
"""


def test_train_check_reads_the_metrics_the_command_wrote_where_it_saw_the_output_folder(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """A metrics file written into `--out` (as the command sees it: the scratch folder) is
    still read; the real folder holds forkvet's log and plot, the plot its own, not a link."""
    _needs_sandbox()
    repo = make_repo({"train.py": TRAIN})
    out = tmp_path / "o"
    result = tmp_path / "train.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "forkvet",
            "train-check",
            str(repo),
            "--python",
            sys.executable,
            "--cmd",
            f"python train.py {out}",
            "--out",
            str(out),
            "-o",
            str(result),
            "--max-steps",
            "0",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.exists(), proc.stderr[-2000:]
    data = json.loads(result.read_text())
    assert "val_acc" in data["metrics"], data["metrics"].keys()
    assert _only_forkvets_regular_files(out) == ["loss.png", "train.log"]
    assert (out / "loss.png").read_bytes().startswith(b"\x89PNG")


def test_forkvets_wiped_environment_block_keeps_only_the_tracking_id() -> None:
    from forkvet.runtime.selfisolate import _kept

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUNNER_TRACKING_ID", "github_abc")
        block = _kept(64)
        kept = b"RUNNER_TRACKING_ID=github_abc\0"
        assert block == kept + b"\0" * (64 - len(kept))
        assert _kept(10) == b"\0" * 10  # no room: nothing kept
        mp.delenv("RUNNER_TRACKING_ID")
        assert _kept(8) == b"\0" * 8


OUT_INSIDE = r"""
import os, sys
secret = sys.argv[1]
for step in (lambda: os.rename("results", "results-moved"),
             lambda: os.rename("results/o", "results/o-moved")):
    try:
        step()
        print("renamed")
    except OSError as exc:
        print("refused", exc.errno)
os.makedirs("results/o", exist_ok=True)
os.symlink(secret, "results/o/smoke.log.tmp")
os.replace("results/o/smoke.log.tmp", "results/o/smoke.log")
"""


def test_an_output_folder_inside_the_checkout_cannot_be_moved_and_replanted(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """With `--out` inside the checkout, the folders above it are mount points: the real
    folder cannot be renamed away (with forkvet's log in it) and a planted one put in its
    place."""
    _needs_sandbox()
    secret = tmp_path / "credentials"
    secret.write_text("SECRET-RUNNER-CREDENTIALS-MARKER\n")
    repo = make_repo({"plant.py": OUT_INSIDE, "results/.keep": ""})
    out = repo / "results" / "o"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "forkvet",
            "smoke",
            str(repo),
            "--python",
            sys.executable,
            "--no-import-check",
            "--format",
            "json",
            "--out",
            str(out),
            "--cmd",
            f"python plant.py {secret}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    data = json.loads(proc.stdout)
    assert not [t for t in data["tail"] if t == "renamed"], data["tail"]
    assert not (repo / "results-moved").exists() and not (repo / "results" / "o-moved").exists()
    assert _only_forkvets_regular_files(out) == ["smoke.log"]
