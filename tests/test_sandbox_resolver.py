"""The sandbox's name resolution is a file forkvet writes, never a host folder (round 17b F5,
F5b): the bwrap arguments for resolver layouts made under a test folder that stands for /run."""

from __future__ import annotations

import os
from pathlib import Path

from forkvet.runtime.sandbox import resolver_mounts, resolver_text

COPY = "/private/resolv.conf"


def _layout(tmp_path: Path) -> tuple[Path, Path]:
    etc, run = tmp_path / "etc", tmp_path / "run"
    etc.mkdir()
    (run / "systemd" / "resolve").mkdir(parents=True)
    return etc, run


def _binds(argv: list[str]) -> list[tuple[str, str]]:
    """(source, destination) of every bind: sockets could only come with a folder's bind."""
    return [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]


def test_ubuntus_link_gets_the_copy_at_its_end_and_no_folder(tmp_path: Path) -> None:
    etc, run = _layout(tmp_path)
    stub = run / "systemd" / "resolve" / "stub-resolv.conf"
    stub.write_text("nameserver 127.0.0.53\n")
    (etc / "resolv.conf").symlink_to("../run/systemd/resolve/stub-resolv.conf")
    argv = resolver_mounts(COPY, str(etc / "resolv.conf"), str(run))
    assert _binds(argv) == [(COPY, str(stub))]
    assert argv[:2] == ["--dir", str(stub.parent)]


def test_a_link_straight_into_run_never_binds_run(tmp_path: Path) -> None:
    etc, run = _layout(tmp_path)
    (run / "resolv.conf").write_text("nameserver 10.0.0.2\n")
    (run / "docker.sock").write_text("")
    (etc / "resolv.conf").symlink_to(run / "resolv.conf")
    argv = resolver_mounts(COPY, str(etc / "resolv.conf"), str(run))
    assert argv == ["--ro-bind", COPY, str(run / "resolv.conf")]


def test_links_inside_run_are_made_again_and_a_plain_file_is_covered(tmp_path: Path) -> None:
    etc, run = _layout(tmp_path)
    (run / "nm").mkdir()
    (run / "nm" / "resolv.conf").write_text("nameserver 10.0.0.3\n")
    (run / "resolvconf").mkdir()
    (run / "resolvconf" / "resolv.conf").symlink_to("../nm/resolv.conf")
    (etc / "resolv.conf").symlink_to(run / "resolvconf" / "resolv.conf")
    argv = resolver_mounts(COPY, str(etc / "resolv.conf"), str(run))
    link = str(run / "resolvconf" / "resolv.conf")
    assert argv == [
        *["--dir", str(run / "resolvconf"), "--symlink", "../nm/resolv.conf", link],
        *["--dir", str(run / "nm"), "--ro-bind", COPY, str(run / "nm" / "resolv.conf")],
    ]
    plain = etc / "plain.conf"
    plain.write_text("nameserver 10.0.0.4\n")
    assert resolver_mounts(COPY, str(plain), str(run)) == ["--ro-bind", COPY, str(plain)]


def test_a_link_that_cannot_be_followed_binds_nothing(tmp_path: Path) -> None:
    etc, run = _layout(tmp_path)
    (etc / "loop").symlink_to("loop")
    (etc / "dangling").symlink_to(tmp_path / "elsewhere" / "resolv.conf")
    (etc / "folder").symlink_to(run / "systemd")
    for name in ("loop", "dangling", "folder"):
        assert resolver_mounts(COPY, str(etc / name), str(run)) == [], name


def test_the_copy_keeps_resolver_lines_only_and_none_without_network(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# comment\nnameserver 127.0.0.53\n  options edns0   trust-ad\nsearch a.example\n"
        "lookup file bind\nnameserver 10.0.0.1\x1b]0;x\x07\n" + "x" * 100_000
    )
    lines = [ln for ln in resolver_text(True, str(conf)).splitlines() if not ln.startswith("#")]
    assert lines == ["nameserver 127.0.0.53", "options edns0 trust-ad", "search a.example"]
    without = resolver_text(False, str(conf))
    assert all(ln.startswith("#") for ln in without.splitlines())
    os.mkfifo(tmp_path / "fifo")  # never read (it would stall), never copied
    assert all(
        ln.startswith("#") for ln in resolver_text(True, str(tmp_path / "fifo")).splitlines()
    )
