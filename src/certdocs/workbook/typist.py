"""Typing into a workbook through LibreOffice Calc's own API, headless, and reading the live result.

There is no Python-UNO here (``python3-uno`` is not installed), so a small Basic routine does
the typing. It lives in the private profile of one soffice run, never in the workbook (which
stays macro-free): it opens the workbook hidden, sets input cells one by one as a user would,
reads named results (``SCORE``, ``GRADE`` …) between keystrokes with Calc's automatic
recalculation (no explicit recalculation call), and saves the workbook again as .xlsx.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from certdocs.errors import ConversionError, Problem
from certdocs.workbook.recalc import make_profile, run_soffice


@dataclass(frozen=True)
class Type:
    """Type ``value`` into ``sheet!cell`` (``None`` clears it)."""

    sheet: str
    cell: str
    value: str | float | None


@dataclass(frozen=True)
class Read:
    """Read the text a workbook-level name (``SCORE``) or a cell (``打分表!S16``) shows now."""

    name: str


_BASIC = """Sub TypeInto(sJobs As String)
    iJobs = FreeFile
    Open sJobs For Input As #iJobs
    Do While Not EOF(iJobs)
        Line Input #iJobs, sJob
        aJob = Split(sJob, Chr(9))
        TypeOne(aJob(0), aJob(1), aJob(2), aJob(3))
    Loop
    Close #iJobs
End Sub

Sub TypeOne(sIn As String, sOut As String, sSteps As String, sReport As String)
    Dim aLoad(0) As New com.sun.star.beans.PropertyValue
    aLoad(0).Name = "Hidden"
    aLoad(0).Value = True
    oDoc = StarDesktop.loadComponentFromURL(ConvertToURL(sIn), "_blank", 0, aLoad())
    iIn = FreeFile
    Open sSteps For Input As #iIn
    iOut = FreeFile
    Open sReport For Output As #iOut
    Do While Not EOF(iIn)
        Line Input #iIn, sLine
        aParts = Split(sLine, Chr(9))
        If aParts(0) = "?" Then
            oCell = oDoc.NamedRanges.getByName(aParts(1)).getReferredCells().getCellByPosition(0, 0)
            Print #iOut, oCell.getString()
        ElseIf aParts(0) = "@" Then
            oCell = oDoc.Sheets.getByName(aParts(1)).getCellRangeByName(aParts(2))
            Print #iOut, oCell.getString()
        Else
            oCell = oDoc.Sheets.getByName(aParts(1)).getCellRangeByName(aParts(2))
            If aParts(0) = "n" Then
                oCell.setValue(CDbl(aParts(3)))
            ElseIf aParts(0) = "s" Then
                oCell.setString(aParts(3))
            Else
                oCell.setString("")
            End If
        End If
    Loop
    Close #iIn
    Close #iOut
    Dim aSave(0) As New com.sun.star.beans.PropertyValue
    aSave(0).Name = "FilterName"
    aSave(0).Value = "Calc MS Excel 2007 XML"
    oDoc.storeToURL(ConvertToURL(sOut), aSave())
    oDoc.close(True)
End Sub
"""

_LIBRARIES = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:libraries PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "libraries.dtd">
<library:libraries xmlns:library="http://openoffice.org/2000/library" xmlns:xlink="http://www.w3.org/1999/xlink">
 <library:library library:name="Standard" library:link="false"/>
</library:libraries>
"""
_SCRIPT_LIBRARY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard"
 library:readonly="false" library:passwordprotected="false">
 <library:element library:name="Typist"/>
</library:library>
"""
_DIALOG_LIBRARY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard"
 library:readonly="false" library:passwordprotected="false"/>
"""
_MODULE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Typist"
 script:language="StarBasic">{}</script:module>
"""


def _line(step: Type | Read) -> str:
    if isinstance(step, Read):
        if "!" in step.name:
            sheet, cell = step.name.split("!")
            return f"@\t{sheet}\t{cell}"
        return f"?\t{step.name}"
    if step.value is None:
        return f"c\t{step.sheet}\t{step.cell}\t"
    if isinstance(step.value, int | float):
        return f"n\t{step.sheet}\t{step.cell}\t{step.value!r}"
    return f"s\t{step.sheet}\t{step.cell}\t{step.value}"


class Typist:
    """A private LibreOffice profile under ``folder`` with the typing routine installed, for several runs.

    Installing the routine costs a start of LibreOffice of its own (about two seconds); each
    :meth:`type_into` is one more start, one after another (never two at once on one profile).
    """

    def __init__(self, folder: Path, *, timeout: float = 120.0) -> None:
        self.folder, self.timeout = folder, timeout
        self.profile = make_profile(folder)
        # A first start writes the default Basic library over whatever is there: start once, then add ours.
        run_soffice(["--terminate_after_init"], profile=self.profile, timeout=timeout)
        library = {
            "script.xlc": _LIBRARIES,
            "dialog.xlc": _LIBRARIES,
            "Standard/script.xlb": _SCRIPT_LIBRARY,
            "Standard/dialog.xlb": _DIALOG_LIBRARY,
            "Standard/Typist.xba": _MODULE.format(escape(_BASIC)),
        }
        for name, text in library.items():
            (self.profile / "user" / "basic" / name).write_text(text, encoding="utf-8")

    def type_into(self, workbook: Path, *, output: Path, steps: Sequence[Type | Read]) -> list[str]:
        """Type ``steps`` into ``workbook`` in LibreOffice Calc, save it as ``output``; the texts read.

        Values must not contain tabs or line breaks (this is a test instrument, not an input path).
        """
        return self.type_into_each([(workbook, output, steps)])[0]

    def type_into_each(self, jobs: Sequence[tuple[Path, Path, Sequence[Type | Read]]]) -> list[list[str]]:
        """:meth:`type_into` for each (workbook, output, steps), one workbook after another in one start."""
        if not jobs:
            return []
        for workbook, output, steps in jobs:
            for step in steps:
                if isinstance(step, Type) and any(ch in str(step.value) for ch in "\t\r\n"):
                    raise ValueError(step)
            if any(ch in str(p.resolve()) for p in (workbook, output) for ch in '\t\r\n"'):
                raise ValueError(f"{workbook} → {output}")
        with tempfile.TemporaryDirectory(prefix="certdocs-typist-", dir=self.folder) as tmp:
            lines, reports = [], []
            for n, (workbook, output, steps) in enumerate(jobs):
                steps_file, report = Path(tmp) / f"steps{n}.txt", Path(tmp) / f"report{n}.txt"
                steps_file.write_text("\n".join(_line(s) for s in steps) + "\n", encoding="utf-8")
                lines.append("\t".join(str(p) for p in (workbook.resolve(), output.resolve(), steps_file, report)))
                reports.append(report)
            jobs_file = Path(tmp) / "jobs.txt"
            jobs_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
            macro = f'macro:///Standard.Typist.TypeInto("{jobs_file}")'
            err = run_soffice([macro], profile=self.profile, timeout=self.timeout)
            unfinished = [
                Problem(str(workbook), f"LibreOffice 未能完成输入：{err.decode('utf-8', 'replace')[-200:]}")
                for (workbook, output, _), report in zip(jobs, reports, strict=True)
                if not output.is_file() or not report.is_file()
            ]
            if unfinished:
                raise ConversionError(unfinished)
            return [report.read_text(encoding="utf-8").splitlines() for report in reports]


def type_into(workbook: Path, *, output: Path, steps: Sequence[Type | Read], timeout: float = 120.0) -> list[str]:
    """Type ``steps`` into ``workbook`` in LibreOffice Calc, save it as ``output``; the texts read.

    A :class:`Typist` of its own (two starts of LibreOffice); several workbooks share one Typist.
    """
    with tempfile.TemporaryDirectory(prefix="certdocs-typist-") as tmp:
        return Typist(Path(tmp), timeout=timeout).type_into(workbook, output=output, steps=steps)
