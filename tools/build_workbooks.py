"""Write the blank auditor's workbook of every bundled scheme to fixtures/workbooks/ (`make workbooks`)."""

from __future__ import annotations

import sys
from pathlib import Path

from certdocs.scheme import scheme_ids
from certdocs.workbook import make_workbook

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    folder = ROOT / "fixtures" / "workbooks"
    for scheme in scheme_ids():
        out = folder / f"{scheme}.xlsx"
        make_workbook(scheme, output=out)
        print(out.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
