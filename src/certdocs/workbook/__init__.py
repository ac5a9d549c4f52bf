"""The auditor's workbook (.xlsx): made by certdocs, filled on site in Excel, WPS 表格 or LibreOffice
Calc with live scoring formulas, and read back exactly.

``layout`` says where everything sits, ``formulas`` computes the live score, ``writer`` makes the
workbook, ``reader`` reads it back (located by sheet and cell) through the one audit validator,
``files`` ties them to files, ``recalc`` has LibreOffice recalculate a workbook headless.
"""

import sys

if "openpyxl" not in sys.modules and "numpy" not in sys.modules:
    # openpyxl imports numpy, when it is installed, only to accept numpy's numbers as cell values;
    # certdocs never writes them, and numpy took 0.2–0.3 s of every workbook command's start.
    sys.modules["numpy"] = None  # type: ignore[assignment]  # "import numpy" fails, as if absent
    try:
        import openpyxl  # noqa: F401
    finally:
        del sys.modules["numpy"]

from certdocs.workbook.files import SUFFIX, import_workbook, make_workbook
from certdocs.workbook.reader import WorkbookContent, load_workbook_audit, read_workbook, validate

__all__ = [
    "SUFFIX",
    "WorkbookContent",
    "import_workbook",
    "load_workbook_audit",
    "make_workbook",
    "read_workbook",
    "validate",
]
