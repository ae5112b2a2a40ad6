"""Runtime isolation: what the repository's code can reach when forkvet runs it.

forkvet runs as its own process here (as on a runner), with secrets in the environment it was
started with; the repository's code tries what a hostile fork would try.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from forkvet.errors import InputError
from forkvet.runtime.process import scrubbed_env
from forkvet.runtime.sandbox import probe
from tests.conftest import MakeRepo, git

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")

# Walks up from its parent, reading every ancestor's /proc/<pid>/environ it can read.
READER = r"""
import json, os, sys
planted = sys.argv[1]
pid, seen = os.getppid(), []
while pid > 1:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            env = fh.read()
        seen.append({"pid": pid, "bytes": len(env.strip(b"\0")), "found": planted.encode() in env})
    except OSError as exc:
        seen.append({"pid": pid, "error": exc.strerror})
    with open(f"/proc/{pid}/stat") as fh:
        stat = fh.read()
    pid = int(stat[stat.rindex(")") + 2 :].split()[1])
print("ANCESTORS " + json.dumps(seen))
"""

# Double fork + setsid: the grandchild leaves the process group and is orphaned.
ESCAPER = r"""
import os, sys, time
marker = sys.argv[1]
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", marker])
    os._exit(0)
print("started", flush=True)
time.sleep(float(sys.argv[2]))
"""


def forkvet(
    args: list[str], env: dict[str, str], cwd: Path, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or (sys.executable,)), "-m", "forkvet", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def smoke(
    repo: Path,
    cmd: str,
    tmp_path: Path,
    env: dict[str, str],
    *extra: str,
    prefix: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`forkvet smoke --format json` of one command, as a user runs it."""
    args = [
        "smoke",
        str(repo),
        "--python",
        prefix[-1] if prefix else sys.executable,  # the interpreter forkvet runs on
        "--no-import-check",
        "--format",
        "json",
        "--out",
        str(tmp_path / "o"),
        "--cmd",
        cmd,
        *extra,
    ]
    proc = forkvet(args, env, tmp_path, prefix)
    assert proc.stdout.startswith("{"), proc.stderr[-2000:]
    return dict(json.loads(proc.stdout))


def alive(marker: str) -> list[str]:
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
            found.append(entry.name)
    return found


def available() -> bool:
    return probe().ok


@pytest.mark.parametrize("sandbox", ["bubblewrap", "off"])
def test_child_cannot_read_forkvets_environment_through_proc(
    make_repo: MakeRepo, tmp_path: Path, sandbox: str
) -> None:
    """Two layers, each tested alone: the sandbox's PID namespace (ancestors invisible), and
    without it (the operator's opt-out) forkvet's own wiped, non-dumpable environment."""
    if sandbox == "bubblewrap" and not available():
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    planted = f"ghp_planted{uuid.uuid4().hex}"
    repo = make_repo({"reader.py": READER})
    data = smoke(
        repo,
        f"python reader.py {planted}",
        tmp_path,
        {
            "GH_PAT": planted,
            "DATABASE_URL": f"postgres://u:{planted}@db/x",
            **({"FORKVET_NO_SANDBOX": "1"} if sandbox == "off" else {}),
        },
        *(["--allow-unsandboxed"] if sandbox == "off" else []),
    )
    line = next(t for t in data["tail"] if t.startswith("ANCESTORS "))
    ancestors = json.loads(line[len("ANCESTORS ") :])
    if sandbox == "bubblewrap":
        # its own PID namespace: only bwrap's init (the scrubbed environment) is above it
        assert data["isolation"] == "bubblewrap", data
        assert not any(a.get("found") for a in ancestors) and len(ancestors) <= 1, ancestors
        return
    assert data["isolation"] == "none"
    assert ancestors, data["tail"]
    assert not any(a.get("found") for a in ancestors), ancestors
    # Not vacuous: the reader reached forkvet's own process (the shell's parent), and what
    # /proc shows of forkvet's environment is empty (wiped) or unreadable (not dumpable).
    shell, me = ancestors[0], ancestors[1]
    assert "bytes" in shell and shell["bytes"] > 0  # the shell's scrubbed environment
    assert me.get("bytes", 0) == 0 or "error" in me, me


def test_a_setsid_grandchild_is_killed_at_the_timeout(make_repo: MakeRepo, tmp_path: Path) -> None:
    marker = f"forkvet-escape-{uuid.uuid4().hex}"
    repo = make_repo({"escape.py": ESCAPER})
    data = smoke(repo, f"python escape.py {marker} 300", tmp_path, {}, "--timeout", "3")
    assert data["timed_out"] is True and "started" in data["tail"]
    assert alive(marker) == []


def test_a_daemon_left_by_a_finished_command_is_killed(make_repo: MakeRepo, tmp_path: Path) -> None:
    marker = f"forkvet-daemon-{uuid.uuid4().hex}"
    repo = make_repo({"escape.py": ESCAPER})
    data = smoke(repo, f"python escape.py {marker} 0.5", tmp_path, {})
    assert data["verdict"] == "pass" and data["exit_code"] == 0
    assert alive(marker) == []


SECRETS = {
    "GITHUB_TOKEN": "ghs_x",
    "GH_PAT": "ghp_x",
    "MY_ORG_PAT": "x",
    "KAGGLE_KEY": "x",
    "KAGGLE_USERNAME": "someone",
    "OPENAI_KEY": "x",
    "DATABASE_URL": "postgres://app:hunter2@db.internal/prod",
    "CACHE_BACKEND": "redis://:hunter2@cache.internal:6379/0",
    "NETRC": "/home/runner/.netrc",
    "GOOGLE_CREDENTIALS": "{}",
    "DOCKER_AUTH_CONFIG": "{}",
    "X_AUTHORIZATION": "Bearer x",
    "AZURE_CLIENT_SECRET": "x",
    "GOOGLE_CLOUD_PROJECT": "p",
    "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": "/t",
    "HF_TOKEN": "hf_x",
    # Names no pattern of secret-looking names knew (outside attack, round 4): an allow-list
    # drops them, and any other name nobody listed, by construction.
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "http.extraHeader",
    "GIT_CONFIG_VALUE_0": "AUTHORIZATION: basic Zm9vOmJhcg==",
    "APIKEY": "k",
    "BEARER": "k",
    "PGPASS": "k",
    "DSN": "k",
    "SAS": "k",
    "CONN_STR": "k",
    "TORCH_HUB_TOKEN": "k",  # an allowed prefix still never carries a secret-looking name
    "PYTHON_SECRET": "k",
    "XDG_SESSION_COOKIE": "k",
    "ZZ_ANYTHING_AT_ALL": "k",
}
RUNNER_FILES = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")
KEPT = {
    "CUDA_VISIBLE_DEVICES": "0",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "OMP_NUM_THREADS": "4",
    "NCCL_DEBUG": "INFO",
    "HF_HOME": "/cache/hf",
    "TORCH_HOME": "/cache/torch",
    "XDG_CACHE_HOME": "/cache",
    "PYTHONHASHSEED": "0",
    "TOKENIZERS_PARALLELISM": "false",
    "CI": "true",
    "GITHUB_REPOSITORY": "acme/deepnet",
    "RUNNER_OS": "Linux",
}


def test_only_allowed_variables_pass_and_secrets_never(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {**SECRETS, **KEPT}.items():
        monkeypatch.setenv(k, v)
    for k in RUNNER_FILES:
        monkeypatch.setenv(k, f"/runner/_temp/{k}")
    monkeypatch.setenv("HTTPS_PROXY", "http://user:hunter2@proxy.internal:3128")
    monkeypatch.setenv("no_proxy", "localhost,.internal")
    env = scrubbed_env()
    assert not set(SECRETS) & set(env), set(SECRETS) & set(env)
    assert not set(RUNNER_FILES) & set(env)
    for k, v in KEPT.items():
        assert env[k] == v
    assert env["HTTPS_PROXY"] == "http://proxy.internal:3128"  # the proxy, not its password
    assert env["no_proxy"] == "localhost,.internal"
    # On purpose: the operator names what the repository's code may see.
    assert scrubbed_env(pass_env=["HF_TOKEN"])["HF_TOKEN"] == "hf_x"
    assert scrubbed_env(pass_env=["ZZ_ANYTHING_AT_ALL"])["ZZ_ANYTHING_AT_ALL"] == "k"
    # forkvet's own installs keep the package manager's settings, a mirror's password too.
    monkeypatch.setenv("UV_INDEX_URL", "https://u:p@mirror.internal/simple")
    assert "UV_INDEX_URL" not in scrubbed_env()
    assert scrubbed_env(keep_index_config=True)["UV_INDEX_URL"].startswith("https://u:p@")


def test_the_command_sees_only_allowed_variables(make_repo: MakeRepo, tmp_path: Path) -> None:
    """Round 4's reproduction, as a user runs it: the repository prints what it sees."""
    printer = "import json, os\nprint(json.dumps(sorted(os.environ)))\n"
    repo = make_repo({"show.py": printer})
    data = smoke(repo, "python show.py", tmp_path, {**SECRETS, **KEPT})
    seen = set(json.loads(data["tail"][-1]))
    assert not set(SECRETS) & seen, set(SECRETS) & seen
    assert {"CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "HF_HOME"} <= seen


def test_pass_env_from_the_operator_not_from_the_fork(make_repo: MakeRepo, tmp_path: Path) -> None:
    printer = "import os\nprint('HF', os.environ.get('HF_TOKEN'), 'GH', os.environ.get('GH_PAT'))\n"
    repo = make_repo(
        {
            "show.py": printer,
            # The fork asks for the runner's token in its own config: ignored.
            ".github/forkvet.yml": "runtime:\n  pass_env: [GH_PAT]\n",
        }
    )
    operator = tmp_path / "policy.yml"
    operator.write_text("runtime:\n  pass_env: [HF_TOKEN]\n")
    secrets = {"HF_TOKEN": "hf_gated", "GH_PAT": "ghp_runner"}
    plain = smoke(repo, "python show.py", tmp_path, secrets)
    assert plain["tail"] == ["HF None GH None"]
    # passed, and masked where the command prints it (round 23b F10): "***" is the value
    flag = smoke(repo, "python show.py", tmp_path, secrets, "--pass-env", "HF_TOKEN")
    assert flag["tail"] == ["HF *** GH None"]
    policy = smoke(repo, "python show.py", tmp_path, secrets, "--config", str(operator))
    assert policy["tail"] == ["HF *** GH None"]


# What a fork's command tries once it runs (issue 17): undo the sandbox's mounts, write the
# runner's command files, forkvet's own installation and the tool folders, gain privileges.
ATTACK = r"""
import ctypes, json, os, platform, sys
args = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
out = {}

def err():
    return os.strerror(ctypes.get_errno())

def write(path, text="FORKVET_NO_SANDBOX=1\n"):
    try:
        with open(path, "a") as fh:
            fh.write(text)
        return "written"
    except OSError as exc:
        return exc.strerror

def read(path):
    try:
        with open(path) as fh:
            return "read:" + fh.read(100)
    except OSError as exc:
        return exc.strerror

mounts = open("/proc/self/mountinfo").read()
for f in args["hidden"]:
    folder = os.path.dirname(f)
    out["named in mountinfo " + f] = f in mounts or folder in mounts
    for target in (f, folder):
        out["umount2 " + target] = libc.umount2(target.encode(), 2) == 0 or err()  # MNT_DETACH
        os.system(f"umount {target} 2>/dev/null")
    out["write " + f] = write(f)
    out["read " + f] = read(f)
for name in ("pth", "package", "tool", "action"):
    out["write " + name] = write(args[name])
out["write repo"] = write(args["repo_file"])
out["write out"] = write(args["out_file"])
out["write /tmp"] = write("/tmp/forkvet-attack-" + args["marker"])
out["write /etc"] = write("/etc/forkvet-attack")
out["tmpfs mount"] = libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0 or err()
MS_REMOUNT, MS_BIND = 32, 4096
out["remount / rw"] = libc.mount(None, b"/", None, MS_REMOUNT | MS_BIND, None) == 0 or err()
out["remount repo rw"] = (
    libc.mount(None, args["site"].encode(), None, MS_REMOUNT | MS_BIND, None) == 0 or err()
)
nr = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
if nr:
    out["pivot_root"] = libc.syscall(nr, b"/tmp", b"/tmp") == 0 or err()
out["unshare user+mount"] = libc.unshare(0x10000000 | 0x00020000) == 0 or err()
out["unshare mount"] = libc.unshare(0x00020000) == 0 or err()
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
out["CapEff"] = status["CapEff"].strip()
out["CapPrm"] = status["CapPrm"].strip()
out["NoNewPrivs"] = status["NoNewPrivs"].strip()
# The kernel's global knobs: as root, core_pattern would run a program as the host's root.
# access() answers for the mount without writing anything.
out["writable proc knobs"] = [
    p for p in ("/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe",
                "/proc/sys/vm/drop_caches", "/proc/sysrq-trigger")
    if os.path.exists(p) and os.access(p, os.W_OK)
]
out["kcore readable"] = os.path.exists("/proc/kcore") and os.path.getsize("/proc/kcore") > 0
found = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            if args["secret"].encode() in open(f"/proc/{pid}/environ", "rb").read():
                found.append(pid)
        except OSError:
            pass
out["secret in a /proc environ"] = found
out["secret in env"] = [k for k, v in os.environ.items() if args["secret"] in v]
out["/run"] = sorted(os.listdir("/run"))
print("ATTACK " + json.dumps(out))
"""


def _resolver_top() -> list[str]:
    """What the sandbox's /run shows where /etc/resolv.conf leads into it: its first name."""
    from forkvet.runtime.sandbox import resolver_mounts

    argv = resolver_mounts("/copy")
    inside = [a for a in argv if a.startswith("/run/")]
    return [inside[0].split("/")[2]] if inside else []


def _attack(
    make_repo: MakeRepo,
    tmp_path: Path,
    layout: str = "runner",
    user: int | None = None,
    python: tuple[str, ...] = (),
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Path]]:
    """Run ATTACK through `forkvet smoke` inside a runner-like layout; returns what it saw,
    forkvet's result and the runner's files."""
    import site

    import forkvet

    secret = f"ghs_{uuid.uuid4().hex}"
    runner = tmp_path / "runner"
    # The runner's own layout, or the files loose in RUNNER_TEMP (each covered alone).
    commands = runner / "_runner_file_commands" if layout == "runner" else runner
    commands.mkdir(parents=True)
    files = {
        name: commands / f"{name.lower()}_{uuid.uuid4().hex[:8]}"
        for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")
    }
    for path in files.values():
        path.write_text("")
    repo = make_repo({"attack.py": ATTACK})
    out = tmp_path / "o"
    # The tool folders inside writable ones: the sandbox must cover them read-only again.
    tools = out / "tool-cache"
    action = repo / "_actions" / "forkvet" / "forkvet" / "abc" / "actions" / "smoke-test"
    for folder in (tools, action):
        folder.mkdir(parents=True)
    site_packages = site.getsitepackages()[0]
    args = {
        "hidden": [str(p) for p in files.values()],
        "pth": os.path.join(site_packages, f"forkvet-attack-{uuid.uuid4().hex}.pth"),
        "package": str(Path(forkvet.__file__).parent / "attack.py"),
        "tool": str(tools / "attack"),
        "action": str(action / "attack"),
        "repo_file": str(repo / "written-by-attack"),
        "out_file": str(out / "written-by-attack"),
        "site": site_packages,
        "secret": secret,
        "marker": uuid.uuid4().hex,
    }
    env = {
        **{name: str(path) for name, path in files.items()},
        "RUNNER_TEMP": str(runner),
        "RUNNER_TOOL_CACHE": str(tools),
        "GITHUB_ACTION_PATH": str(action),
        "GITHUB_TOKEN": secret,
        "ACTIONS_RUNTIME_TOKEN": secret,
    }
    prefix: tuple[str, ...] = ()
    if user is not None:
        # forkvet itself as an unprivileged user, as on most runners
        for path in (tmp_path, *tmp_path.rglob("*")):
            os.chown(path, user, user, follow_symlinks=False)
        prefix = ("setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *python)
        env["HOME"] = str(tmp_path)
        env["PYTHONPATH"] = os.pathsep.join(sys.path[1:])
    data = smoke(repo, f"python attack.py '{json.dumps(args)}'", tmp_path, env, prefix=prefix)
    line = next((t for t in data["tail"] if t.startswith("ATTACK ")), None)
    assert line is not None, data
    saw = json.loads(line[len("ATTACK ") :])
    return saw, {**data, "args": args}, files


@pytest.mark.parametrize("layout", ["runner", "loose"])
def test_the_command_cannot_undo_the_sandbox_or_write_outside_it(
    make_repo: MakeRepo, tmp_path: Path, layout: str
) -> None:
    if not available():
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    saw, data, files = _attack(make_repo, tmp_path, layout)
    args = data["args"]
    assert data["isolation"] == "bubblewrap"
    for f in args["hidden"]:
        # the covering mount cannot be removed: no capability (EPERM); where the runner's
        # whole folder is covered, the file itself does not exist there (ENOENT)
        for target in (f, os.path.dirname(f)):
            assert saw["umount2 " + target] in (
                "Operation not permitted",
                "Invalid argument",
                "No such file or directory",
            ), (target, saw)
        assert saw["write " + f] != "written" and saw["read " + f] != "read:", saw
    folders = {os.path.dirname(f) for f in args["hidden"]}
    assert any(saw["umount2 " + d] == "Operation not permitted" for d in folders) or all(
        saw["umount2 " + f] == "Operation not permitted" for f in args["hidden"]
    ), saw
    # not vacuous: the runner's files were named in mountinfo, the writable folders written
    assert all(saw["named in mountinfo " + f] for f in args["hidden"])
    assert saw["write repo"] == saw["write out"] == saw["write /tmp"] == "written", saw
    for what in ("pth", "package", "tool", "action", "/etc"):
        assert saw["write " + what] == "Read-only file system", (what, saw)
    for what in ("tmpfs mount", "remount / rw", "remount repo rw", "pivot_root", "unshare mount"):
        assert saw.get(what, "Operation not permitted") == "Operation not permitted", (what, saw)
    # no further user namespace (bwrap --disable-userns: the limit is 0)
    assert saw["unshare user+mount"] in ("No space left on device", "Operation not permitted")
    assert int(saw["CapEff"], 16) == 0 and int(saw["CapPrm"], 16) == 0, saw
    assert saw["NoNewPrivs"] == "1"
    assert saw["writable proc knobs"] == [] and saw["kcore readable"] is False, saw
    assert saw["secret in a /proc environ"] == [] and saw["secret in env"] == []
    # no daemon's socket: at most the folder that leads to the resolver's copy
    assert saw["/run"] in ([], ["mount"], ["user"], _resolver_top()), saw
    # and on the host: nothing changed outside the repository and the output folder
    assert all(path.read_text() == "" for path in files.values())
    for what in ("pth", "package", "tool", "action"):
        assert not Path(args[what]).exists(), what
    assert not Path(f"/tmp/forkvet-attack-{args['marker']}").exists()  # its /tmp was private
    assert not Path("/etc/forkvet-attack").exists()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root")
def test_an_unprivileged_forkvet_gives_the_command_the_same_sandbox() -> None:
    """The attack of issue 17 also worked as an unprivileged user (root of its own user
    namespace): the same promises hold when forkvet runs as one."""
    if not available():
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    # An interpreter that user may run: this one, or the system's of the same version (the
    # test's packages then come from sys.path).
    python = _runnable_by(65534)
    if python is None:
        pytest.skip("no Python of this version that an unprivileged user can run")
    base = Path(tempfile.mkdtemp(prefix="forkvet-unprivileged-"))
    try:
        base.chmod(0o755)

        def make(files: dict[str, str | bytes], **_: object) -> Path:
            repo = base / "model-repo"
            repo.mkdir()
            for name, text in files.items():
                (repo / name).write_text(str(text))
            return repo

        saw, data, files = _attack(make, base, "runner", user=65534, python=python)
        assert data["isolation"] == "bubblewrap"
        assert int(saw["CapEff"], 16) == 0 and saw["NoNewPrivs"] == "1", saw
        assert saw["unshare user+mount"] in ("No space left on device", "Operation not permitted")
        for what in ("tmpfs mount", "remount / rw", "unshare mount"):
            assert saw[what] == "Operation not permitted", (what, saw)
        assert saw["write repo"] == "written" and saw["write tool"] == "Read-only file system"
        assert all(path.read_text() == "" for path in files.values())
        assert saw["secret in a /proc environ"] == [] and saw["secret in env"] == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _runnable_by(user: int) -> tuple[str, ...] | None:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    check = "import os, sys, yaml; assert os.access(sys.executable, os.X_OK)"
    for python in (sys.executable, f"/usr/bin/{version}"):
        probe = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", python]
        try:
            proc = subprocess.run(
                [*probe, "-c", check],
                env={"PYTHONPATH": os.pathsep.join(sys.path[1:])},
                capture_output=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        if proc.returncode == 0:
            return (python,)
    return None


def _refused(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr)
    assert "refusing to run the repository's code without a sandbox" in proc.stderr
    assert "FORKVET_NO_SANDBOX" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_without_a_sandbox_nothing_of_the_repository_runs(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """Fail closed: the probe says no (simulated by FORKVET_NO_SANDBOX, which can only make a
    run fail), so the command, the import check and the environment's build never start —
    even when the repository's own config asks to run without one."""
    marker = tmp_path / "ran"
    repo = make_repo(
        {
            "demo.py": f"open({str(marker)!r}, 'w').write('x')\n",
            "setup.py": f"open({str(marker)!r}, 'w').write('x')\n",
            ".github/forkvet.yml": "runtime:\n  require_sandbox: false\n",
        }
    )
    no = {"FORKVET_NO_SANDBOX": "1"}
    base = ["--format", "json", "--out", str(tmp_path / "o"), "--cmd", "python demo.py"]
    _refused(forkvet(["smoke", str(repo), "--python", sys.executable, *base], no, tmp_path))
    # the environment (its editable install runs setup.py) is not even built
    envs = ["--env-dir", str(tmp_path / "envs")]
    _refused(forkvet(["smoke", str(repo), *envs, *base], no, tmp_path))
    _refused(forkvet(["train-check", str(repo), "--python", sys.executable, *base], no, tmp_path))
    verify = ["env", str(repo), "--verify", "--out", str(tmp_path / "e")]
    _refused(forkvet(verify, no, tmp_path))
    assert not marker.exists() and not (tmp_path / "envs").exists()


def test_the_operator_can_opt_out_and_the_result_says_so(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    repo = make_repo({"demo.py": "print('ran')\n"})
    policy = tmp_path / "policy.yml"
    policy.write_text("runtime:\n  require_sandbox: false\n")
    no = {"FORKVET_NO_SANDBOX": "1"}
    for extra in (["--allow-unsandboxed"], ["--config", str(policy)]):
        data = smoke(repo, "python demo.py", tmp_path, no, *extra)
        assert data["verdict"] == "pass" and data["tail"] == ["ran"]
        assert data["isolation"] == "none"


def test_sandboxed_refuses_when_the_probe_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from forkvet.runtime import sandbox

    monkeypatch.setattr(sandbox, "probe", lambda: sandbox.Availability(False, "bwrap is gone"))
    monkeypatch.setattr(sandbox, "_allowed_without", False)
    with (
        pytest.raises(sandbox.SandboxUnavailable, match="bwrap is gone"),
        sandbox.sandboxed(["true"], tmp_path),
    ):
        pytest.fail("ran without a sandbox")
    sandbox.allow_unsandboxed()
    with sandbox.sandboxed(["true"], tmp_path) as (argv, isolation):
        assert argv == ["true"] and isolation == "none"


# A repository module named like the kernel's launcher: whatever imports it runs it.
LAUNCHER = r"""
import json, os
seen = {"NSpid": [ln for ln in open("/proc/self/status") if ln.startswith("NSpid")]}
try:
    seen["parent environ"] = open(f"/proc/{os.getppid()}/environ", "rb").read().decode("latin-1")
except OSError as exc:
    seen["parent environ"] = exc.strerror
open(os.environ["FORKVET_TEST_OUTSIDE"], "w").write(json.dumps(seen))
"""


def test_no_child_of_a_notebook_run_runs_the_repository_outside_the_sandbox(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """Finding 1 of the third attack round: the "has ipykernel?" probe imported
    `ipykernel_launcher` with the repository on PYTHONPATH, outside the sandbox, before
    forkvet wiped its own environment. Every child of a notebook run is sandboxed now: the
    repository's module cannot write a host folder, and no secret of forkvet is readable."""
    if not available():
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    pytest.importorskip("nbclient")
    planted = f"ghp_planted{uuid.uuid4().hex}"
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    repo = make_repo({"ipykernel_launcher.py": LAUNCHER, "demo.ipynb": json.dumps(nb)})
    outside = tmp_path / "host" / "written-outside-the-sandbox"
    outside.parent.mkdir()
    proc = forkvet(
        [
            "smoke",
            str(repo),
            "--python",
            sys.executable,
            "--notebook",
            str(repo / "demo.ipynb"),
            "--no-import-check",
            "--out",
            str(tmp_path / "o"),
        ],
        {"GH_PAT": planted, "FORKVET_TEST_OUTSIDE": str(outside)},
        tmp_path,
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert not outside.exists(), outside.read_text()[:500]
    # not vacuous: the module did run (in the sandbox), so the probe reported it as broken
    assert "ipykernel" in proc.stdout, proc.stdout


@pytest.mark.skipif(not shutil.which("bwrap"), reason="needs bubblewrap")
def test_the_command_cannot_plant_git_config_for_later_git_commands(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """core.fsmonitor or a hook written into .git would run in git commands outside the
    sandbox later (actions/checkout's clean-up): the repository's .git is read-only inside."""
    repo = make_repo({"plant.py": PLANT_GIT})
    data = smoke(repo, "python plant.py", tmp_path, {})
    assert "planted" not in data["tail"], data["tail"]
    assert "fsmonitor" not in (repo / ".git" / "config").read_text()
    assert not (repo / ".git" / "hooks" / "post-checkout").exists()


@pytest.mark.skipif(not shutil.which("bwrap"), reason="needs bubblewrap")
def test_the_command_cannot_plant_a_git_folder_in_a_submodule_path(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """Round 14b F1: with the submodule left unpopulated (checkout's default), the command made
    `vendor/lib/.git` with core.fsmonitor; `git submodule foreach --recursive` in checkout's
    clean-up then ran it outside the sandbox. Every submodule path is read-only inside."""
    plant = (
        "import os, pathlib\n"
        "for moved in ('vendor', 'vendor/lib'):\n"  # round 15b: the mount moves, the name stays
        "    try:\n"
        "        os.rename(moved, moved + '-moved')\n"
        "        print('planted: renamed', moved)\n"
        "    except OSError as exc:\n"
        "        print('refused', moved, exc.errno)\n"
        "for g in (pathlib.Path('vendor/lib/.git'), pathlib.Path('vendor/new/.git')):\n"
        "    try:\n"
        "        (g / 'objects').mkdir(parents=True)\n"
        "        (g / 'config').write_text('[core]\\n\\tfsmonitor = touch PWNED\\n')\n"
        "        print('planted', g)\n"
        "    except OSError as exc:\n"
        "        print('refused', g, exc.errno)\n"
    )
    repo = make_repo({"plant.py": plant, "README.md": "x\n"})
    oid = "1" * 40
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{oid},vendor/lib")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{oid},vendor/new")
    (repo / "vendor" / "lib").mkdir(parents=True)  # checkout leaves an empty folder
    data = smoke(repo, "python plant.py", tmp_path, {})
    assert not [line for line in data["tail"] if "planted" in line], data["tail"]
    assert not (repo / "vendor" / "lib" / ".git").exists()
    assert not (repo / "vendor" / "new" / ".git").exists()
    assert not (repo / "vendor-moved").exists()


PLANT_GIT = """
import pathlib
git = pathlib.Path(".git")
for target, text in ((git / "config", "[core]\\n\\tfsmonitor = touch PWNED\\n"),
                     (git / "hooks" / "post-checkout", "#!/bin/sh\\ntouch PWNED\\n")):
    try:
        with open(target, "a") as fh:
            fh.write(text)
        print("planted", target)
    except OSError as exc:
        print("refused", target, exc.errno)
"""


@pytest.mark.skipif(not shutil.which("bwrap"), reason="needs bubblewrap")
def test_links_and_fifos_left_in_the_output_folder_are_removed(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """What reads the output folder next runs unsandboxed (the artifact upload, `forkvet
    report`, the App): a link to /proc/self/environ or a FIFO left there must not survive.
    Since round 16b the command writes into a private scratch folder mounted where it sees
    the output folder: nothing it writes there, links or files, reaches the real one."""
    out = tmp_path / "o"
    script = (
        "import os, sys\n"
        "out = sys.argv[1]\n"
        "os.makedirs(os.path.join(out, 'sub'), exist_ok=True)\n"
        "os.symlink('/proc/self/environ', os.path.join(out, 'env.log'))\n"
        "os.symlink('/', os.path.join(out, 'sub', 'root.log'))\n"
        "os.mkfifo(os.path.join(out, 'pipe.log'))\n"
        "open(os.path.join(out, 'kept.txt'), 'w').write('x')\n"
    )
    repo = make_repo({"leave.py": script})
    data = smoke(repo, f"python leave.py {out}", tmp_path, {})
    assert data["exit_code"] == 0, data["tail"]
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_symlink())
    assert left == [] and not (out / "pipe.log").exists() and not (out / "env.log").exists()
    assert sorted(p.name for p in out.iterdir()) == ["smoke.log"]  # forkvet's own, only


# What the sandbox can reach over sockets (outside attack, round 4, F2): a stand-in daemon on
# a filesystem socket, an abstract socket and TCP on loopback; the command reports each.
SOCKETS = r"""
import socket, sys
for family, addr in ((socket.AF_UNIX, sys.argv[1]), (socket.AF_UNIX, "\0" + sys.argv[2]),
                     (socket.AF_INET, ("127.0.0.1", int(sys.argv[3])))):
    c = socket.socket(family)
    try:
        c.connect(addr)
        print("reached", c.recv(3).decode())
    except OSError as exc:
        print("refused", type(exc).__name__)
"""


@pytest.fixture
def daemons() -> Iterator[tuple[str, str, int]]:
    import socket
    import threading

    # Outside /tmp, which the sandbox replaces: where /var/lib's or /var/snap's daemons are.
    folder = Path(tempfile.mkdtemp(prefix="forkvet-daemon-", dir="/var/tmp"))
    path = str(folder / "daemon.sock")
    name = f"forkvet-test-{uuid.uuid4().hex}"
    listeners = [socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX), socket.socket()]
    listeners[0].bind(path)
    listeners[1].bind("\0" + name)
    listeners[2].bind(("127.0.0.1", 0))
    for reply, sock in zip(("FSS", "ABS", "TCP"), listeners, strict=True):
        sock.listen()

        def serve(sock: socket.socket = sock, reply: str = reply) -> None:
            with contextlib.suppress(OSError):
                while True:
                    conn, _ = sock.accept()
                    conn.sendall(reply.encode())
                    conn.close()

        threading.Thread(target=serve, daemon=True).start()
    yield path, name, listeners[2].getsockname()[1]
    for sock in listeners:
        sock.close()
    shutil.rmtree(folder, ignore_errors=True)


def test_the_network_is_shared_by_default_and_cut_on_the_operators_word(
    make_repo: MakeRepo,
    tmp_path: Path,
    daemons: tuple[str, str, int],
) -> None:
    if not available():
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    path, name, port = daemons
    repo = make_repo({"probe.py": SOCKETS})
    cmd = f"python probe.py {path} {name} {port}"
    shared = smoke(repo, cmd, tmp_path, {})
    assert shared["tail"] == ["reached FSS", "reached ABS", "reached TCP"], shared["tail"]
    cut = smoke(repo, cmd, tmp_path, {}, "--no-network")
    # A filesystem socket is a file: what the runner's user may connect to stays reachable
    # (docs/runtime.md says so); abstract sockets and TCP belong to the network namespace.
    assert cut["tail"][:2] == ["reached FSS", "refused ConnectionRefusedError"], cut["tail"]
    assert cut["tail"][2].startswith("refused"), cut["tail"]
    operator = tmp_path / "policy.yml"
    operator.write_text("runtime:\n  network: none\n")
    # The fork's own file cannot give the network back.
    (repo / ".github").mkdir()
    (repo / ".github" / "forkvet.yml").write_text("runtime:\n  network: shared\n")
    floor = smoke(repo, cmd, tmp_path, {}, "--config", str(operator))
    assert floor["tail"][1:] == cut["tail"][1:], floor["tail"]


def test_a_forks_file_can_cut_its_network_but_never_restore_it() -> None:
    from forkvet.config import parse_config, tighten

    shared, none = ({"runtime": {"network": v}} for v in ("shared", "none"))
    operator_none = parse_config(none, "operator")
    assert tighten(operator_none, parse_config(shared, "fork")).runtime.network == "none"
    assert tighten(parse_config({}, "operator"), parse_config(none, "fork")).runtime.network == (
        "none"
    )
    assert tighten(parse_config({}, "operator"), parse_config({}, "fork")).runtime.network == (
        "shared"
    )
    with pytest.raises(InputError, match=r"runtime\.network must be shared or none"):
        parse_config({"runtime": {"network": "host"}}, "operator")


def test_installs_from_the_index_keep_the_network_when_it_is_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.runtime import sandbox

    if not available():
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    monkeypatch.setattr(sandbox, "_NETWORK_CUT", [])
    with sandbox.sandboxed(["true"], tmp_path) as (argv, _):
        assert "--unshare-net" not in argv
    sandbox.cut_network()
    with sandbox.sandboxed(["true"], tmp_path) as (argv, _):
        assert "--unshare-net" in argv  # the repository's code: the import check, a kernel
    with sandbox.sandboxed(["true"], tmp_path, index=True) as (argv, _):
        assert "--unshare-net" not in argv  # uv, conda: the package index


@pytest.mark.skipif(not shutil.which("bwrap"), reason="needs bubblewrap")
def test_a_populated_submodule_cannot_be_renamed_away_and_replanted(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """Round 15b F2: `sub/.git` was read-only but `sub` could be renamed, and a new `sub/.git`
    with core.fsmonitor made; `git status` outside the sandbox then ran it."""
    lib = make_repo({"lib.py": "x = 1\n"}, name="lib")
    plant = (
        "import os\n"
        "try:\n"
        "    os.rename('sub', 'sub-moved')\n"
        "    os.makedirs('sub/.git/objects')\n"
        "    print('planted sub/.git')\n"
        "except OSError as exc:\n"
        "    print('refused', exc.errno)\n"
    )
    repo = make_repo({"plant.py": plant}, name="main")
    subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "sub"],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    data = smoke(repo, "python plant.py", tmp_path, {})
    assert not [line for line in data["tail"] if "planted" in line], data["tail"]
    assert (repo / "sub" / "lib.py").exists() and not (repo / "sub-moved").exists()


@pytest.mark.skipif(not shutil.which("bwrap"), reason="needs bubblewrap")
def test_the_folders_above_a_protected_path_cannot_be_renamed(tmp_path: Path) -> None:
    """Round 15b F7: forkvet's package, read-only inside a writable folder, could be moved away
    with its parent folder and made anew; the next step outside the sandbox ran it."""
    root = tmp_path / "work"
    protected = root / "tools" / "pkg" / "forkvet"
    protected.mkdir(parents=True)
    (protected / "__init__.py").write_text("")
    # a shell, not this interpreter: a checkout under /tmp is not visible in the sandbox
    inner = (
        "for p in tools tools/pkg; do "
        'if mv "$p" "$p-moved" 2>/dev/null; then echo "renamed $p"; else echo "refused $p"; fi; '
        "done"
    )
    # in a child: sandboxed() wipes the environment block of the process that calls it
    child = (
        "import subprocess, sys\n"
        "from pathlib import Path\n"
        "from forkvet.runtime import sandbox\n"
        f"sandbox.protected_paths = lambda: [{str(protected)!r}]\n"
        f"root = Path({str(root)!r})\n"
        f"command = ['/bin/sh', '-c', {inner!r}]\n"
        "with sandbox.sandboxed(command, root, [str(root)]) as (argv, _):\n"
        "    print(subprocess.run(argv, cwd=root, capture_output=True, text=True).stdout)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, check=False, timeout=120
    )
    assert "refused tools" in out.stdout, out.stdout + out.stderr[-2000:]
    assert "renamed" not in out.stdout and protected.is_dir()


# Ubuntu's resolver layout (systemd-resolved) and a link straight into /run, made in a private
# mount namespace (nothing on the host changes): a copy of /etc whose resolv.conf is the link,
# a tmpfs /run with the resolver's files and two stand-in daemons' sockets beside them.
RESOLV_LAYOUT = r"""
set -eu
mount --make-rprivate /
mkdir -p "$FV_W/etc"
cp -a /etc/. "$FV_W/etc/" 2>/dev/null || true
rm -f "$FV_W/etc/resolv.conf"
ln -s "$FV_LINK" "$FV_W/etc/resolv.conf"
mount --bind "$FV_W/etc" /etc
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/resolve
printf 'nameserver 127.0.0.53\nlookup file bind\noptions edns0 trust-ad\n' \
  > /run/systemd/resolve/stub-resolv.conf
printf 'nameserver 10.0.0.2\nsearch corp.example\n' > /run/resolv.conf
pids=""
for sock in /run/systemd/resolve/io.systemd.Resolve /run/docker.sock; do
  "$FV_PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8); time.sleep(300)' "$sock" &
  pids="$pids $!"
done
for _ in $(seq 50); do
  [ -S /run/docker.sock ] && [ -S /run/systemd/resolve/io.systemd.Resolve ] && break
  sleep 0.1
done
rc=0
"$@" || rc=$?
kill $pids
exit $rc
"""

RESOLV_PROBE = r"""
import json, os, socket
seen = []
for top, dirs, files in os.walk("/run"):
    seen += [os.path.join(top, n) for n in dirs + files]
print("RUN " + json.dumps(sorted(seen)))
with open("/etc/resolv.conf") as fh:
    print("RESOLV " + json.dumps(fh.read()))
for path in ("/run/systemd/resolve/io.systemd.Resolve", "/run/docker.sock"):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        print("reached " + path)
    except OSError as exc:
        print("refused " + path + " " + type(exc).__name__)
"""


def _private_namespace() -> tuple[str, ...] | None:
    """`unshare` with a private mount namespace (as root, or root of a user namespace)."""
    if not shutil.which("unshare"):
        return None
    for flags in (("-m",), ("-r", "-m")):
        try:
            ok = subprocess.run(["unshare", *flags, "true"], capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if ok.returncode == 0:
            return ("unshare", *flags)
    return None


@pytest.mark.parametrize(
    ("link", "files", "nameserver"),
    [
        # Ubuntu: resolved's folder holds its varlink socket (round 17b F5)
        (
            "../run/systemd/resolve/stub-resolv.conf",
            ["/run/systemd", "/run/systemd/resolve", "/run/systemd/resolve/stub-resolv.conf"],
            "nameserver 127.0.0.53\noptions edns0 trust-ad\n",
        ),
        # a link straight into /run: "its folder" was /run, Docker's socket too (round 17b F5b)
        ("/run/resolv.conf", ["/run/resolv.conf"], "nameserver 10.0.0.2\nsearch corp.example\n"),
    ],
)
def test_the_resolver_is_a_file_and_no_socket_beside_it_comes_along(
    make_repo: MakeRepo, tmp_path: Path, link: str, files: list[str], nameserver: str
) -> None:
    """/etc/resolv.conf links into /run: the sandbox's /run holds the one file it ends at (a
    copy forkvet wrote), never the host folder around it, with or without the network; the
    copy has the host's resolver lines only with the network."""
    if not available():
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    unshare = _private_namespace()
    if unshare is None:
        pytest.skip("no private mount namespace here (unshare)")
    script = tmp_path / "layout.sh"
    script.write_text(RESOLV_LAYOUT)
    repo = make_repo({"probe.py": RESOLV_PROBE})
    env = {"FV_W": str(tmp_path / "ns"), "FV_LINK": link, "FV_PY": sys.executable}
    prefix = (*unshare, "bash", str(script), sys.executable)
    for network in (False, True):
        extra = () if network else ("--no-network",)
        data = smoke(repo, "python probe.py", tmp_path, env, *extra, prefix=prefix)
        assert data["isolation"] == "bubblewrap", data
        tail = data["tail"]
        run = json.loads(next(t for t in tail if t.startswith("RUN "))[4:])
        resolv = json.loads(next(t for t in tail if t.startswith("RESOLV "))[7:])
        assert run == files, (network, tail)
        assert [t for t in tail if t.startswith("refused ")] == [
            "refused /run/systemd/resolve/io.systemd.Resolve FileNotFoundError",
            "refused /run/docker.sock FileNotFoundError",
        ], (network, tail)
        lines = [ln for ln in resolv.splitlines(keepends=True) if not ln.startswith("#")]
        assert "".join(lines) == (nameserver if network else ""), (network, resolv)
