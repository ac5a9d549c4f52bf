"""What ``certdocs.workbook.recalc`` refuses before it starts LibreOffice (no LibreOffice needed)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

from certdocs.errors import ConversionError
from certdocs.workbook.recalc import recalculated_results


def _named(path: Path, target: str) -> Path:
    wb = openpyxl.Workbook()
    wb.defined_names["SCORE"] = DefinedName("SCORE", attr_text=target)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def test_every_workbook_it_cannot_read_results_from_is_named_at_once_and_nothing_is_written(tmp_path: Path) -> None:
    text = tmp_path / "text.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    ranged = _named(tmp_path / "ranged.xlsx", "Sheet!$A$1:$A$2")
    twins = [_named(tmp_path / "a" / "twin.xlsx", "Sheet!$A$1"), _named(tmp_path / "b" / "twin.xlsx", "Sheet!$A$1")]
    with pytest.raises(ConversionError) as caught:
        recalculated_results([text, ranged, *twins], outdir=tmp_path / "out")
    assert [p.where for p in caught.value.problems] == [str(text), f"{ranged}!SCORE", str(tmp_path / "out")]
    assert not (tmp_path / "out").exists()


def test_no_workbooks_have_no_results_and_start_nothing(tmp_path: Path) -> None:
    assert recalculated_results([], outdir=tmp_path / "out") == []
    assert not (tmp_path / "out").exists()
