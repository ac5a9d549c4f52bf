"""``certdocs score``: JSON per the contract, a Chinese table, exit 2 on invalid input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from certdocs.cli import main
from tests.conftest import full_marks_audit


def write(tmp_path: Path, doc: dict[str, object]) -> Path:
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_json_output_is_the_contract_object(tmp_path: Path) -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"]["5.1.3.1"] = {"score": 0}
    result = CliRunner().invoke(main, ["score", str(write(tmp_path, doc)), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["earned"], out["applicable"], out["score"], out["grade"], out["stars"]) == (
        96.5,
        100.0,
        96.5,
        "五星级",
        5,
    )


def test_text_output_is_a_chinese_table_with_subtotals(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["score", str(write(tmp_path, full_marks_audit("fw01-2021")))])
    assert result.exit_code == 0
    assert "【售后服务体系】 小计 40 / 40" in result.output
    assert "评定结果：五星级★★★★★（通过）" in result.output


def test_invalid_input_exits_2_with_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"]["5.1.1.1"] = {"score": 5}
    del doc["items"]["5.1.1.2"]
    path = write(tmp_path, doc)
    result = CliRunner().invoke(main, ["score", str(path)])
    assert result.exit_code == 2
    assert 'items["5.1.1.1"].score' in result.output
    assert 'items["5.1.1.2"]' in result.output
    assert "共 2 处问题" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["audit.json"]


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["score", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "无法读取" in result.output


def test_every_command_has_help_text() -> None:
    for name, command in main.commands.items():
        assert command.help, name
