"""The on-disk cache of index answers (forkvet/envgen/indexcache.py): real files in a temporary
XDG_CACHE_HOME, hostile entries, and a real index on 127.0.0.1 that must not be asked again."""

from __future__ import annotations

import json
import os
import random
import stat
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from forkvet.envgen import index, indexcache
from forkvet.envgen.sdist import static_metadata
from tests.pkgindex import Dist, PackageIndex


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cache turned on, in a temporary cache folder; returns the pages folder's parent."""
    base = tmp_path / "xdg-cache"
    base.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(base))
    monkeypatch.setenv("FORKVET_INDEX_CACHE", "1")
    monkeypatch.setitem(indexcache._written, "pages", 0)
    monkeypatch.setitem(indexcache._written, "metadata", 0)
    return base / "forkvet" / "index" / "v1"


def _entry(root: Path, kind: str, key: str) -> Path:
    return root / kind / indexcache._digest(kind, key)


def test_an_entry_reads_back_as_written_private_to_the_user(cache: Path) -> None:
    indexcache.put("metadata", "https://files/a.whl\nabc", b"Name: a\n")
    assert indexcache.get("metadata", "https://files/a.whl\nabc") == b"Name: a\n"
    assert indexcache.get("metadata", "https://files/a.whl\nabd") is None
    path = _entry(cache, "metadata", "https://files/a.whl\nabc")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # the key itself (an index URL may carry a token) is never written, only its digest
    assert b"files/a.whl" not in path.read_bytes()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_an_entry_under_another_key_s_name_is_a_miss(cache: Path) -> None:
    indexcache.put("metadata", "key-a", b"body of a")
    indexcache.put("metadata", "key-b", b"body of b")
    a, b = _entry(cache, "metadata", "key-a"), _entry(cache, "metadata", "key-b")
    b.write_bytes(a.read_bytes())  # a copied (or planted) entry of another key
    assert indexcache.get("metadata", "key-b") is None
    assert indexcache.get("metadata", "key-a") == b"body of a"


def test_a_link_is_never_followed(cache: Path, tmp_path: Path) -> None:
    indexcache.put("metadata", "real", b"real body")
    real = _entry(cache, "metadata", "real")
    linked = _entry(cache, "metadata", "linked")
    # a link to an intact entry of the same key elsewhere: still a miss
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(real.read_bytes().replace(real.name.encode(), linked.name.encode()))
    linked.symlink_to(elsewhere)
    assert indexcache.get("metadata", "linked") is None
    # a write of that key replaces the link itself, never the file it points to
    before = elsewhere.read_bytes()
    indexcache.put("metadata", "linked", b"new")
    assert elsewhere.read_bytes() == before
    assert not linked.is_symlink()
    assert indexcache.get("metadata", "linked") == b"new"


def test_a_linked_cache_folder_is_not_used(cache: Path, tmp_path: Path) -> None:
    target = tmp_path / "somewhere-else"
    target.mkdir()
    (cache.parent.parent).mkdir(parents=True)
    (cache.parent).symlink_to(target)  # forkvet/index -> somewhere else
    indexcache.put("pages", "k", b"body")
    assert list(target.iterdir()) == []
    assert indexcache.get("pages", "k", max_age=600) is None


def test_folders_others_can_write_are_not_used(cache: Path) -> None:
    forkvet = cache.parent.parent
    forkvet.mkdir(mode=0o775)
    os.chmod(forkvet, 0o775)  # a private group's umask (the environments' folder beside it)
    indexcache.put("metadata", "k", b"body")
    assert indexcache.get("metadata", "k") == b"body"
    os.chmod(forkvet, 0o777)
    assert indexcache.get("metadata", "k") is None
    os.chmod(forkvet, 0o775)
    os.chmod(cache / "metadata", 0o770)  # below it: the user's alone
    assert indexcache.get("metadata", "k") is None
    indexcache.put("metadata", "k2", b"body")
    os.chmod(cache / "metadata", 0o700)
    assert indexcache.get("metadata", "k2") is None


def test_the_user_s_own_cache_folder_may_be_a_link(cache: Path, tmp_path: Path) -> None:
    real = tmp_path / "real-cache"
    real.mkdir()
    base = cache.parent.parent.parent
    base.rmdir()
    base.symlink_to(real)  # XDG_CACHE_HOME -> elsewhere: the user's choice
    indexcache.put("metadata", "k", b"body")
    assert indexcache.get("metadata", "k") == b"body"
    assert (real / "forkvet" / "index").is_dir()


def test_oversize_entries_are_neither_written_nor_read(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexcache, "MAX_ENTRY", 100)
    indexcache.put("metadata", "big", b"x" * 101)
    assert not _entry(cache, "metadata", "big").exists()
    indexcache.put("metadata", "ok", b"x" * 100)
    path = _entry(cache, "metadata", "ok")
    assert indexcache.get("metadata", "ok") == b"x" * 100
    # grown past the limit on disk (with a header that still matches): not read
    body = b"y" * 5000
    header = json.loads(path.read_bytes().split(b"\n", 1)[0])
    header |= {"size": len(body), "sha256": __import__("hashlib").sha256(body).hexdigest()}
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)
    assert indexcache.get("metadata", "ok") is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) - 3],  # truncated body
        lambda data: data[:10],  # truncated header (unparsable JSON)
        lambda data: b"not json\n" + data.split(b"\n", 1)[1],
        lambda data: b"[1, 2]\n" + data.split(b"\n", 1)[1],  # JSON, but not a header
        lambda data: data.replace(b"page body", b"page bodY"),  # altered body
        lambda data: b"",
    ],
)
def test_damaged_entries_are_misses(cache: Path, damage: object) -> None:
    indexcache.put("pages", "https://index/simple/a/", b"page body")
    path = _entry(cache, "pages", "https://index/simple/a/")
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert indexcache.get("pages", "https://index/simple/a/", max_age=600) is None


def test_a_fifo_or_folder_in_an_entry_s_place_is_a_miss_without_blocking(cache: Path) -> None:
    indexcache.put("metadata", "seed", b"seed")  # makes the folders
    os.mkfifo(_entry(cache, "metadata", "fifo"))
    _entry(cache, "metadata", "folder").mkdir()
    done: list[object] = []
    reader = threading.Thread(
        target=lambda: done.extend(
            [indexcache.get("metadata", "fifo"), indexcache.get("metadata", "folder")]
        ),
        daemon=True,
    )
    reader.start()
    reader.join(10)
    assert done == [None, None]


def test_pages_expire_and_forget_drops_them(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    indexcache.put("pages", "p", b"page")
    assert indexcache.get("pages", "p", max_age=600) == b"page"
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 601)
    assert indexcache.get("pages", "p", max_age=600) is None
    assert indexcache.get("pages", "p") == b"page"  # metadata-style reads have no age limit
    monkeypatch.setattr(time, "time", lambda: now)
    index.forget()
    assert indexcache.get("pages", "p", max_age=600) is None


def test_an_entry_from_the_future_is_a_miss(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3600)
    indexcache.put("pages", "p", b"page")
    monkeypatch.setattr(time, "time", lambda: now)
    assert indexcache.get("pages", "p", max_age=600) is None


def test_the_cache_stays_under_its_cap_oldest_first(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(indexcache.MAX_TOTAL, "metadata", 1000)
    for i in range(3):
        indexcache.put("metadata", f"k{i}", bytes(300))
        os.utime(_entry(cache, "metadata", f"k{i}"), (1000 + i, 1000 + i))
    indexcache.put("metadata", "k3", bytes(300))  # a quarter of the cap written: pruned
    kept = [i for i in range(4) if indexcache.get("metadata", f"k{i}") is not None]
    assert kept == [1, 2, 3] or kept == [2, 3]
    total = sum(p.stat().st_size for p in (cache / "metadata").iterdir())
    assert total <= 1000


def test_no_home_means_no_cache_and_no_relative_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORKVET_INDEX_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as the XDG spec says
    monkeypatch.setenv("HOME", "~")  # expanduser cannot expand it: "~/.cache" is relative
    assert indexcache.folder() is None
    indexcache.put("metadata", "k", b"body")
    indexcache.for_sandbox()
    assert list(tmp_path.iterdir()) == []


def test_turned_off_nothing_is_written(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORKVET_INDEX_CACHE", "0")
    indexcache.put("metadata", "k", b"body")
    assert not cache.exists()
    assert indexcache.get("metadata", "k") is None


def test_the_sandbox_mounts_the_cache_read_only(cache: Path) -> None:
    from forkvet.runtime.sandbox import protected_paths

    assert str(cache.parent.resolve()) in protected_paths()
    assert cache.parent.is_dir()  # made, so that it can be mounted


def _requests_to(idx: PackageIndex, part: str) -> int:
    return sum(part in r for r in idx.requests)


def test_a_second_run_reads_metadata_and_pages_from_disk_not_the_index(cache: Path) -> None:
    dists = [
        Dist("cachedpkg", "1.0", "2019-01-01T00:00:00Z", license="MIT"),
        Dist("cachedpkg", "1.1", "2019-02-01T00:00:00Z", license="MIT", requires=["six"]),
        Dist("srconly", "2.0", "2019-01-01T00:00:00Z", requires=["six>=1"], sdist=True),
    ]
    with PackageIndex(dists) as idx:
        os.environ["UV_DEFAULT_INDEX"] = idx.url
        try:
            first = index.release_metadata("cachedpkg", "1.1")
            sdist = next(f for f in index.project_files("srconly") if f.filename.endswith("gz"))
            source = static_metadata("srconly", "2.0", sdist)
            asked = len(idx.requests)
            # a new process: nothing remembered in memory (pages kept, not forgotten)
            index._project_files.cache_clear()
            index._metadata_bytes.cache_clear()
            static_metadata.cache_clear()
            again = index.release_metadata("cachedpkg", "1.1")
            sdist = next(f for f in index.project_files("srconly") if f.filename.endswith("gz"))
            source_again = static_metadata("srconly", "2.0", sdist)
        finally:
            del os.environ["UV_DEFAULT_INDEX"]
        assert len(idx.requests) == asked, idx.requests[asked:]
    assert first is not None and again is not None
    assert again.get_all("Requires-Dist") == ["six"] == first.get_all("Requires-Dist")
    assert source is not None and source_again is not None
    assert source_again.requires == source.requires == ["six>=1"]


def test_pages_are_asked_again_after_forget_and_bad_answers_are_not_kept(cache: Path) -> None:
    dists = [Dist("cachedpkg", "1.0", "2019-01-01T00:00:00Z")]
    with PackageIndex(dists) as idx:
        base = idx.url
        assert len(index.project_files("cachedpkg", base)) == 1
        index.forget()  # a test's new index on the same port, a long-lived process
        assert len(index.project_files("cachedpkg", base)) == 1
        assert _requests_to(idx, "/simple/cachedpkg/") == 2
        assert index.project_files("nosuchpkg", base) == []  # 404: nothing kept
    pages = cache / "pages"
    assert len(list(pages.iterdir())) == 1


def test_a_file_without_a_hash_on_the_index_is_not_kept(cache: Path) -> None:
    from dataclasses import replace

    with PackageIndex([Dist("cachedpkg", "1.0", "2019-01-01T00:00:00Z")]) as idx:
        file = index.project_files("cachedpkg", idx.url)[0]
        unhashed = replace(file, sha256=None)  # a mirror that names no hash
        assert index.core_metadata(unhashed) is not None
        assert indexcache.get("metadata", f"{file.url}\nNone") is None
        assert not (cache / "metadata").exists()
        assert index.core_metadata(file) is not None  # with its hash: kept
        assert len(list((cache / "metadata").iterdir())) == 1


def test_plain_absolute_urls_skip_urljoin_with_the_same_answer() -> None:
    page = "https://index.example/simple/pkg/"
    rng = random.Random(18)
    alphabet = "aZ09-._~:/@!$&'()*+,;=%?#[] \t\nÿ"
    samples = [
        "https://files.example/packages/ab/cd/pkg-1.0-py3-none-any.whl",
        "HTTPS://files.example/a.whl",
        "https://files.example/a.whl#sha256=00",
        "../../files/a.whl",
        "/files/a.whl",
        "//files.example/a.whl",
        "http://files.example/a.whl",
    ]
    for scheme in ("https://", "http://", "https:", "ftp://", ""):
        for _ in range(3000):
            tail = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
            samples.append(scheme + tail)

    def answer(join: object, url: str) -> object:
        try:
            return join(page, url)  # type: ignore[operator]
        except ValueError as exc:  # urljoin's own refusals (a bad IPv6 host) stay
            return type(exc)

    for url in samples:
        assert answer(index._absolute, url) == answer(urllib.parse.urljoin, url), url


def test_sandboxed_code_cannot_plant_entries_even_under_a_writable_cache_folder(
    cache: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from forkvet.runtime.sandbox import probe, sandboxed

    if not probe().ok:
        pytest.skip(f"no sandbox on this machine: {probe().reason}")
    forkvet = cache.parent.parent
    forkvet.mkdir(exist_ok=True)
    indexcache.put("metadata", "k", b"real")  # the folders exist before the sandbox starts
    repo = tmp_path / "repo"
    repo.mkdir()
    entry = _entry(cache, "metadata", "k")
    script = (
        "import sys\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        open(path, 'wb').write(b'planted')\n"
        "        print(path, 'written')\n"
        "    except OSError as exc:\n"
        "        print(path, exc.strerror)\n"
    )
    # an environment folder of the whole forkvet cache folder: writable, but not the index
    targets = [str(forkvet / "other"), str(entry), str(cache / "metadata" / "new")]
    with sandboxed([sys.executable, "-c", script, *targets], repo, writable=[forkvet]) as (
        argv,
        isolation,
    ):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert isolation == "bubblewrap"
    lines = proc.stdout.splitlines()
    assert lines == [
        f"{targets[0]} written",  # not vacuous: the folder around it is writable
        f"{targets[1]} Read-only file system",
        f"{targets[2]} Read-only file system",
    ], proc.stderr
    assert indexcache.get("metadata", "k") == b"real"
