"""LibreOffice Calc, headless, as the auditor's office suite: recalculate workbooks, render them to PDF.

A workbook written by certdocs carries formulas but no computed values. LibreOffice recalculates
an .xlsx on load only when its profile says so (``OOXMLRecalcMode`` 0, "always"), so every call
runs with a private profile that sets it; several workbooks go through one ``soffice`` call,
since starting LibreOffice is what costs (about two seconds with a fresh profile).

Where only the result is wanted, :func:`recalculated_results` has Calc export the sheets as CSV
instead of saving the workbook again: Calc still loads and recalculates every formula, but
writing CSV costs about half of what writing .xlsx does (0.19 s against 0.37 s of CPU a workbook).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from openpyxl import load_workbook

from certdocs._soffice_uno import seed_profile
from certdocs.convert import FONTS_CONF
from certdocs.errors import ConversionError, Problem

#: Names a workbook defines for its result (``docs/workbook.md``, "Workbook-level names").
RESULT_NAMES = ("SCORE", "GRADE", "LEVEL", "PASSED", "STATUS")

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""

XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"
PDF_FILTER = "pdf:calc_pdf_Export"
#: Every sheet to ``<stem>-<sheet>.csv``: UTF-8, comma, double quotes, values as computed (not as
#: formatted: a SCORE of 94 is ``94``, not ``94.0``), no formulas.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]+)$")


def convert(sources: Sequence[Path], *, outdir: Path, target: str = XLSX_FILTER, timeout: float = 300.0) -> list[Path]:
    """Open each workbook in LibreOffice Calc (recalculating every formula) and save it into ``outdir``.

    ``target`` is a ``--convert-to`` argument: the default saves .xlsx again (as an auditor's
    LibreOffice would); :data:`PDF_FILTER` prints to PDF. One soffice call for all sources.
    """
    stems = [s.stem for s in sources]
    if len(set(stems)) != len(stems):
        raise ConversionError([Problem(str(outdir), "同一批次中有同名工作簿，输出会互相覆盖")])
    outdir.mkdir(parents=True, exist_ok=True)
    suffix = "." + target.split(":")[0]
    with tempfile.TemporaryDirectory(prefix="certdocs-calc-") as tmp:
        profile = make_profile(Path(tmp))
        err = run_soffice(
            ["--convert-to", target, "--outdir", str(outdir), *(str(s.resolve()) for s in sources)],
            profile=profile,
            timeout=timeout,
        )
    outputs = [outdir / f"{s.stem}{suffix}" for s in sources]
    missing = [
        Problem(str(s), f"LibreOffice 未生成输出：{err.decode('utf-8', 'replace')[-200:]}")
        for s, o in zip(sources, outputs, strict=True)
        if not o.is_file()
    ]
    if missing:
        raise ConversionError(missing)
    return outputs


def make_profile(folder: Path) -> Path:
    """A private LibreOffice profile under ``folder`` that recalculates every workbook on load."""
    profile = folder / "profile"
    (profile / "user").mkdir(parents=True)
    found = shutil.which("soffice")
    if found is not None:  # soffice then starts once, not twice (see seed_profile)
        seed_profile(profile, Path(found))
    (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
    return profile


def run_soffice(arguments: Sequence[str], *, profile: Path, timeout: float) -> bytes:
    """Run one headless soffice with ``profile``; returns its stderr. Never leaves a process behind."""
    command = [
        "soffice",
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        *arguments,
    ]
    # LibreOffice's own temporary folders (lu*.tmp) beside the profile, so that they go with it
    # even when soffice is killed on a time-out.
    tmp = profile.with_name(f"{profile.name}-tmp")
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "TMPDIR": str(tmp)}
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # soffice forks soffice.bin: kill them as one group
        )
    except FileNotFoundError as exc:
        raise ConversionError([Problem("soffice", "未找到 LibreOffice（libreoffice-calc-nogui）")]) from exc
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        err = b"timeout"
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return err


def result_values(path: Path) -> dict[str, Any]:
    """The values the workbook's defined names (SCORE, GRADE, LEVEL, …) show, as last computed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(io.BytesIO(path.read_bytes()), data_only=True)
    out: dict[str, Any] = {}
    for name in RESULT_NAMES:
        if name not in wb.defined_names:
            continue
        for sheet, ref in wb.defined_names[name].destinations:
            value = wb[sheet][ref.replace("$", "")].value
            out[name] = None if value == "" else value
    return out


def recalculated_results(sources: Sequence[Path], *, outdir: Path, timeout: float = 300.0) -> list[dict[str, Any]]:
    """For each workbook, the values its result names show once LibreOffice Calc has recalculated it.

    The same values as :func:`result_values` of the workbook :func:`convert` saves, read from a
    CSV export of the names' sheets (one soffice call for all sources): a number as a number
    (``int`` if whole), a text as text, an empty result as ``None``.
    """
    if not sources:
        return []
    problems: list[Problem] = []
    places = [_result_places(source, problems) for source in sources]
    stems = [s.stem for s in sources]
    if len(set(stems)) != len(stems):
        problems.append(Problem(str(outdir), "同一批次中有同名工作簿，输出会互相覆盖"))
    if problems:
        raise ConversionError(problems)
    outdir.mkdir(parents=True, exist_ok=True)
    for source, wanted in zip(sources, places, strict=True):
        for sheet in {sheet for sheet, _, _ in wanted.values()}:  # never read an earlier run's export
            (outdir / f"{source.stem}-{sheet}.csv").unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="certdocs-calc-") as tmp:
        err = run_soffice(
            ["--convert-to", CSV_FILTER, "--outdir", str(outdir), *(str(s.resolve()) for s in sources)],
            profile=make_profile(Path(tmp)),
            timeout=timeout,
        )
    results: list[dict[str, Any]] = []
    missing: list[Problem] = []
    for source, wanted in zip(sources, places, strict=True):
        sheets: dict[str, list[list[str]]] = {}
        for sheet in {sheet for sheet, _, _ in wanted.values()}:
            exported = outdir / f"{source.stem}-{sheet}.csv"
            if not exported.is_file():
                missing.append(Problem(str(source), f"LibreOffice 未生成输出：{err.decode('utf-8', 'replace')[-200:]}"))
                break
            sheets[sheet] = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8"))))
        else:
            results.append({name: _cell_value(sheets[sheet], row, col) for name, (sheet, row, col) in wanted.items()})
    if missing:
        raise ConversionError(missing)
    return results


def _result_places(book: Path, problems: list[Problem]) -> dict[str, tuple[str, int, int]]:
    """Where each result name of ``book`` points: its sheet, row and column (counted from 0).

    What is wrong (not a workbook, a name for more than one cell) goes to ``problems``.
    """
    try:
        with zipfile.ZipFile(book) as archive:
            root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        problems.append(Problem(str(book), f"不是可读的工作簿：{exc}"))
        return {}
    places: dict[str, tuple[str, int, int]] = {}
    for defined in root.iter(f"{_MAIN}definedName"):
        name, target = defined.get("name"), (defined.text or "")
        if name not in RESULT_NAMES or "!" not in target or defined.get("localSheetId") is not None:
            continue
        sheet, ref = target.rsplit("!", 1)
        cell = _CELL.match(ref)
        if cell is None:
            problems.append(Problem(f"{book}!{name}", f"结果名称须指向单个单元格：{target}"))
            continue
        letters, row = cell.groups()
        col = 0
        for letter in letters:
            col = col * 26 + ord(letter) - ord("A") + 1
        places[name] = (sheet.strip("'").replace("''", "'"), int(row) - 1, col - 1)
    return places


def _cell_value(rows: list[list[str]], row: int, col: int) -> Any:
    text = rows[row][col] if row < len(rows) and col < len(rows[row]) else ""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text
