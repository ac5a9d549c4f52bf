"""safe_name: the one way input text becomes a file or folder name."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certdocs._fs import safe_name

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
