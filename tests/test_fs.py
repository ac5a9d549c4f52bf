"""certdocs._fs: safe_name (the one way input text becomes a file or folder name), grouped durability."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certdocs import _fs
from certdocs._fs import atomic_write_bytes, move_durably, safe_name, staging_dir
from tests.forkserver import CONTEXT
from tests.fs_writer import WORDS, write_groups_until_killed

WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10)), *(f"LPT{n}" for n in range(10))}


def assert_one_plain_component(name: str, *, max_length: int = 120) -> None:
    assert name
    assert name not in (".", "..")
    assert not name.startswith((".", " "))
    assert not name.endswith((".", " "))
    assert PurePosixPath(name).name == name
    assert PureWindowsPath(name).name == name
    assert not PureWindowsPath(name).drive
    assert not any(ch in name for ch in '/\\\x00:*?"<>|')
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F for ch in name)
    assert name.split(".")[0].upper() not in WINDOWS_DEVICES
    assert len(name.encode("utf-8")) <= max_length


@pytest.mark.parametrize(
    "text",
    [
        "..",
        ".",
        "../../../../tmp/x",
        "/",
        "/etc/passwd",
        "\\",
        "..\\..\\Windows",
        "C:\\Windows",
        "C:",
        "a\x00b",
        "\x00",
        "",
        " ",
        ". .",
        ".hidden",
        "trailing. ",
        "CON",
        "con.txt",
        "Nul",
        "COM1",
        "lpt9.pdf",
        "a" * 1000,
        "中" * 400,
        "\u202egpj.exe",
        "\ud800",
        "x\ny",
    ],
)
def test_safe_name_gives_one_plain_path_component(text: str, tmp_path: Path) -> None:
    name = safe_name(text)
    assert_one_plain_component(name)
    (tmp_path / name).mkdir()  # and the file system agrees
    assert [p.name for p in tmp_path.iterdir()] == [name]


@given(st.text(max_size=400))
@settings(max_examples=500)
def test_safe_name_of_any_text_is_one_plain_path_component(text: str) -> None:
    assert_one_plain_component(safe_name(text))


@given(st.text(max_size=300), st.integers(min_value=16, max_value=255))
def test_safe_name_respects_the_length_limit_in_bytes(text: str, limit: int) -> None:
    assert len(safe_name(text, max_length=limit).encode("utf-8")) <= limit


@given(st.text(max_size=300))
def test_safe_name_is_idempotent(text: str) -> None:
    assert safe_name(safe_name(text)) == safe_name(text)


@pytest.mark.parametrize("plain", ["XBHT-SH-2026-0001", "BZ-SC-2026-0012", "914406067545128624_2026-11-10", "中文名"])
def test_a_plain_name_is_kept_as_it_is(plain: str) -> None:
    assert safe_name(plain) == plain


def test_two_long_names_that_differ_only_at_the_end_stay_distinct() -> None:
    assert safe_name("a" * 300 + "1") != safe_name("a" * 300 + "2")


def test_a_separator_cannot_leave_the_folder(tmp_path: Path) -> None:
    target = tmp_path / safe_name("../../../../tmp/x")
    assert target.resolve().parent == tmp_path.resolve()


# --- grouped durability ---------------------------------------------------------------


def test_a_write_without_fsync_is_still_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "a.pdf", b"%PDF-1.7 new", durable=False)
    assert (tmp_path / "a.pdf").read_bytes() == b"%PDF-1.7 new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.pdf"]


def test_moving_a_group_puts_every_file_in_place(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    moves = []
    for number in ("A-1", "A-2"):
        (tmp_path / number).mkdir()
        for kind in ("certificate", "report"):
            atomic_write_bytes(staging / f"{number}-{kind}.pdf", f"{number} {kind}".encode(), durable=False)
            moves.append((staging / f"{number}-{kind}.pdf", tmp_path / number / f"{kind}.pdf"))
    (tmp_path / "A-1" / "report.pdf").write_bytes(b"old")

    move_durably(moves)

    assert (tmp_path / "A-1" / "report.pdf").read_bytes() == b"A-1 report"
    assert (tmp_path / "A-2" / "certificate.pdf").read_bytes() == b"A-2 certificate"
    assert list(staging.iterdir()) == []


def test_a_group_costs_one_sync_per_file_and_one_per_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    moves = []
    for n in range(3):
        (tmp_path / f"C-{n}").mkdir()
        for kind in ("certificate", "report", "scoresheet"):
            source = tmp_path / f"{n}-{kind}.pdf"
            atomic_write_bytes(source, b"x", durable=False)
            moves.append((source, tmp_path / f"C-{n}" / f"{kind}.pdf"))
    assert synced == []  # nothing synced while writing

    move_durably(moves)

    assert len(synced) == 9 + 3 + 1  # the nine files, the three folders, the folder holding them


def test_a_missing_source_stops_the_move_before_anything_is_renamed(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "here.pdf", b"x", durable=False)
    with pytest.raises(FileNotFoundError):
        move_durably([(tmp_path / "here.pdf", tmp_path / "out.pdf"), (tmp_path / "gone.pdf", tmp_path / "out2.pdf")])
    assert (tmp_path / "here.pdf").exists()
    assert not (tmp_path / "out.pdf").exists()


@pytest.mark.parametrize("after", [0.05, 0.2, 0.4])
def test_a_killed_group_leaves_each_destination_whole(tmp_path: Path, after: float) -> None:
    (tmp_path / "out").mkdir()
    # A process of its own, forked from the warmed fork server; the seconds count from its first write.
    started = CONTEXT.Event()
    child = CONTEXT.Process(target=write_groups_until_killed, args=(tmp_path, started), daemon=True)
    child.start()
    assert started.wait(timeout=60)
    time.sleep(after)
    child.kill()  # SIGKILL
    child.join()
    assert child.exitcode == -signal.SIGKILL
    for path in (tmp_path / "out").iterdir():
        words = path.read_bytes().split()
        assert len(words) == WORDS, path.name
        assert len(set(words)) == 1, path.name  # one whole version


# -- staging folders in an output folder several computers share ----------------------------------


def _dead_pid() -> int:
    """A process id no process has now (a child that has ended)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_staging_leaves_another_computers_live_folder_and_removes_this_computers_ended_ones(tmp_path: Path) -> None:
    # A process id means nothing on another computer: its folder is kept while it is in use.
    dead = _dead_pid()
    theirs = tmp_path / f".staging-{dead}@0badc0de-abc123"
    mine = tmp_path / f".staging-{dead}@{_fs._HOST}-def456"
    older = tmp_path / f".staging-{dead}-ghi789"  # named before computers were told apart
    for folder in (theirs, mine, older):
        folder.mkdir()
        (folder / "证书.pdf.part").write_bytes(b"%PDF")
    with staging_dir(tmp_path) as staging:
        assert staging.name.startswith(f".staging-{os.getpid()}@{_fs._HOST}-")
        assert sorted(p.name for p in tmp_path.glob(".staging-*") if p != staging) == [theirs.name]


def test_another_computers_staging_folder_idle_for_a_day_is_removed(tmp_path: Path) -> None:
    theirs = tmp_path / f".staging-{os.getpid()}@0badc0de-abc123"  # a live process here: ignored for theirs
    theirs.mkdir()
    day_ago = time.time() - 24 * 3600 - 60
    os.utime(theirs, (day_ago, day_ago))
    with staging_dir(tmp_path):
        assert not theirs.exists()
