"""weights.check's steps, alone: the link record and the notices."""

from __future__ import annotations

from forkvet.report import Weight
from forkvet.vet import weights


def test_links_keep_each_address_once_and_at_most_100_a_kind() -> None:
    links = weights._Links()
    for i in range(120):
        links.add("weight", Weight(f"https://w.example/m{i}.pt", None))
    links.add("weight", Weight("https://w.example/m0.pt", None))
    links.add("dataset", Weight("https://w.example/m1.pt", None))
    links.add(None, Weight("https://w.example/other.pt", None))
    assert len(links.found["weight"]) == 100
    assert links.found["dataset"] == []


def test_notices_say_scripts_skipped_inputs_and_cloud_drives() -> None:
    assert weights._scripts_notice([]) == []
    assert weights._scripts_notice(["get.sh"])[0].message.endswith(": get.sh")
    (skipped,) = weights._skipped_notice([("README.md:3", "RecursionError")])
    assert skipped.path == "README.md"
    drive = Weight("https://drive.example/x", None, "Google Drive")
    assert weights._drives_notice([Weight("https://x.example/m.pt", None, "x")]) == []
    assert weights._drives_notice([drive])[0].message.startswith("1 link(s)")
