"""Hostile audit-result files, as bytes: each must be refused with exit 2 and nothing written.

Shared by ``test_cli_input`` and the before/after table of the input rules (docs/input.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASS = ROOT / "fixtures" / "xbht-s04-2025" / "pass.json"


def audit() -> dict[str, Any]:
    """The bundled passing audit, parsed (a fresh copy)."""
    data: dict[str, Any] = json.loads(PASS.read_text(encoding="utf-8"))
    return data


def _dumped(change: Callable[[dict[str, Any]], None]) -> bytes:
    data = audit()
    change(data)
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _org(key: str, value: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["organization"][key] = value

    return change


def _traversal(data: dict[str, Any]) -> None:
    data["organization"]["uscc"] = "../../../../tmp/x"
    data["organization"]["uscc_checksum_override"] = "营业执照复印件核对无误"


def _duplicate_key() -> bytes:
    text = PASS.read_text(encoding="utf-8")
    # The same item again, later in the file, with a lower score: json kept the last one silently.
    first = text.index('"5.1.1.1"')
    return (text[:first] + '"5.1.1.1": {"score": 0},\n    ' + text[first:]).encode("utf-8")


def _replace(old: str, new: str) -> bytes:
    text = PASS.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1).encode("utf-8")


CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    # name: (file bytes, a fragment the refusal must contain)
    "uscc_path_with_override": (lambda: _dumped(_traversal), "organization.uscc"),
    "uscc_17_chars_with_override": (
        lambda: _dumped(
            lambda d: d["organization"].update(uscc="91440606754512862", uscc_checksum_override="核对无误")
        ),
        "18 位",
    ),
    "uscc_letter_O_with_override": (
        lambda: _dumped(
            lambda d: d["organization"].update(uscc="9144060675451286O4", uscc_checksum_override="核对无误")
        ),
        "格式不正确",
    ),
    "duplicate_item_key": (_duplicate_key, 'items["5.1.1.1"]'),
    "nan_score": (lambda: _replace('"score": 1,', '"score": NaN,'), "NaN"),
    "infinity_score": (lambda: _replace('"score": 1,', '"score": Infinity,'), "Infinity"),
    "minus_infinity_score": (lambda: _replace('"score": 1,', '"score": -Infinity,'), "Infinity"),
    "nested_100000_deep": (lambda: b"[" * 100_000 + b"]" * 100_000, "嵌套"),
    "nested_60_deep_in_a_comment": (
        lambda: _dumped(lambda d: d.update(_note=json.loads("[" * 60 + "]" * 60))),
        "嵌套",
    ),
    "huge_integer": (lambda: _replace('"employees": 2380', '"employees": ' + "9" * 5000), "数字"),
    "syntax_unterminated_string": (lambda: _replace('"scope": "', '"scope": "\n'), "第"),
    "syntax_trailing_comma": (lambda: _replace('"scope"', ',,"scope"'), "语法"),
    "bidi_override_in_name": (lambda: _dumped(_org("name", "广东澜禾\u202e司公限有\u202c电器")), "organization.name"),
    "bidi_isolate_in_address": (
        lambda: _dumped(_org("audit_address", "佛山\u2067市\u2069顺德区")),
        "organization.audit_address",
    ),
    "rtl_mark_in_name": (lambda: _dumped(_org("name", "广东澜禾\u200f电器")), "U+200F"),
    "vertical_tab_in_name": (lambda: _dumped(_org("name", "广东澜禾\v电器股份有限公司")), "U+000B"),
    "nul_in_name": (lambda: _dumped(_org("name", "广东澜禾\x00电器股份有限公司")), "U+0000"),
    "c1_control_in_scope": (lambda: _dumped(lambda d: d.update(scope="家用\x85空调器")), "scope"),
    "newline_in_name": (lambda: _dumped(_org("name", "广东澜禾\n电器股份有限公司")), "换行"),
    "lone_surrogate_in_name": (lambda: _replace('"name": "广东澜禾', '"name": "\\ud800广东澜禾'), "U+D800"),
    "lone_surrogate_in_key": (lambda: _replace('"scope"', '"\\udfffscope": "x", "scope"'), "\\udfff"),
    "bidi_in_evidence": (
        lambda: _dumped(lambda d: d["items"]["5.1.1.1"].update(evidence="营业执照\u202e公示")),
        'items["5.1.1.1"].evidence',
    ),
    "gbk_file": (lambda: PASS.read_text(encoding="utf-8").encode("gb18030"), "GBK"),
    "utf16_file": (lambda: PASS.read_text(encoding="utf-8").encode("utf-16"), "UTF-16"),
}
