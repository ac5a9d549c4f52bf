"""The workbook in LibreOffice Calc: its live SCORE, GRADE and LEVEL equal ``certdocs score``.

LibreOffice (headless, recalculating on load) stands in for the auditor's office suite. Each
group of workbooks goes through one soffice call, so the whole file costs a handful of starts.
Where a test reads only the result, Calc exports CSV (``recalculated_results``, half the cost of
saving .xlsx again); the fixtures' workbooks are saved as .xlsx, since tests import those again.
"""

from __future__ import annotations

import json
import math
import shutil
import warnings
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certdocs.audit import load_audit
from certdocs.scheme import Scheme, get_scheme, scheme_ids
from certdocs.scoring import item_earned, score_audit
from certdocs.workbook import import_workbook, make_workbook
from certdocs.workbook.layout import build_layout
from certdocs.workbook.recalc import PDF_FILTER, convert, recalculated_results, result_values
from certdocs.workbook.typist import Read, Type, Typist
from tests.conftest import full_marks_audit
from tests.test_workbook import AUDITS, comparable

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"),
]


def expected(audit: Path) -> dict[str, Any]:
    """What the workbook's names must show: ``certdocs score`` of the same audit."""
    result = score_audit(*load_audit(audit)).to_json()
    out = {"SCORE": result["score"], "GRADE": result["grade"]}
    if result["level"] is not None:
        out["LEVEL"] = result["level"]
    return out


def shown(book: Path | dict[str, Any]) -> dict[str, Any]:
    """SCORE, GRADE (and LEVEL) of a workbook LibreOffice saved, or of its recalculated results."""
    values = result_values(book) if isinstance(book, Path) else book
    return {k: values.get(k) for k in ("SCORE", "GRADE", "LEVEL") if k != "LEVEL" or "LEVEL" in values}


def _num(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# -- boundary audits: totals at x.x5 and items whose earned points are decimal ties ------------


def _tie_ratio(points: Decimal) -> Decimal | None:
    """A ratio whose earned points end in exactly 0.005 (a half-up tie a double misses)."""
    for lost in ("0.005", "0.015", "0.035", "0.145"):
        ratio = (points - Decimal(lost)) / points
        if 0 < ratio <= 1 and ratio == ratio.quantize(Decimal("0.0000001")):
            return ratio
    return None


def _tie_sample(points: Decimal) -> tuple[int, int] | None:
    for n in range(400, 1, -1):  # the largest sample loses the least
        if (points * 100 * (n - 1) / n) % 1 == Decimal("0.5"):
            return n, 1
    return None


def boundary_audit(scheme: Scheme, target: Decimal) -> dict[str, Any]:
    """Every item applicable, some at float traps, the rest trimmed so the earned total is ``target``."""
    doc = full_marks_audit(scheme.id)
    earned = Decimal(0)
    scored = [it for it in scheme.items if it.points]
    traps = 0
    for it in scored:
        assert it.points is not None
        result: dict[str, Any] | None = None
        if traps < 3 and (ratio := _tie_ratio(it.points)) is not None:
            result = {"ratio": float(ratio)}
        elif traps < 5 and (sample := _tie_sample(it.points)) is not None:
            result = {"sampled": sample[0], "nonconforming": sample[1]}
        if result is not None:
            traps += 1
            doc["items"][it.id] = result
    from certdocs.audit import parse_audit

    parsed = parse_audit(doc, scheme=scheme)
    for it in scored:
        earned += item_earned(it, parsed.items[it.id]) or Decimal(0)
    excess = earned - target
    for it in scored:
        if excess <= 0:
            break
        if "score" not in doc["items"][it.id]:
            continue
        assert it.points is not None
        cut = min(it.points, excess)
        doc["items"][it.id] = {"score": _num(it.points - cut)}
        excess -= cut
    assert excess == 0
    return doc


def boundary_targets(scheme: Scheme) -> list[Decimal]:
    """Totals just at and just below each grade line (of 100 applicable points)."""
    out = []
    for band in scheme.grades[1:]:
        out += [band.min - Decimal("0.05"), band.min - Decimal("0.06")]
    return out


EDITED = "xbht-s04-2025_pass_edited"  # the fixture's workbook LibreOffice saved, then changed by openpyxl


@dataclass(frozen=True)
class Recalculated:
    """Workbooks recalculated by LibreOffice, made once for the module.

    ``saved``: every fixture audit's workbook as LibreOffice saved it again (.xlsx); ``results``:
    the result names of every fixture and boundary audit's workbook (``…_boundary_…``), and of
    :data:`EDITED`, after Calc recalculated them. Each value pairs the audit (``None`` for EDITED)
    with its book or results.
    """

    saved: dict[str, tuple[Path, Path]]
    results: dict[str, tuple[Path | None, dict[str, Any]]]


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory) -> Recalculated:
    """Every fixture audit's workbook saved again by LibreOffice (one call), then those, every
    boundary audit's workbook and the edited one recalculated into CSV (a second call)."""
    folder = tmp_path_factory.mktemp("books")
    made: dict[str, tuple[Path, Path]] = {}
    for audit in AUDITS:
        name = f"{audit.parent.name}_{audit.stem}"
        scheme = json.loads(audit.read_text(encoding="utf-8"))["scheme"]
        make_workbook(scheme, output=folder / f"{name}.xlsx", source=audit)
        made[name] = (audit, folder / f"{name}.xlsx")
    outs = convert([book for _, book in made.values()], outdir=folder / "calc")
    saved = {name: (audit, out) for (name, (audit, _)), out in zip(made.items(), outs, strict=True)}

    to_csv: dict[str, tuple[Path | None, Path]] = dict(made)
    for sid in scheme_ids():
        scheme = get_scheme(sid)
        if scheme.method != "points":
            continue
        for target in boundary_targets(scheme):
            name = f"{sid}_boundary_{target}"
            audit = folder / f"{name}.json"
            audit.write_text(json.dumps(boundary_audit(scheme, target), ensure_ascii=False), encoding="utf-8")
            make_workbook(sid, output=folder / f"{name}.xlsx", source=audit)
            to_csv[name] = (audit, folder / f"{name}.xlsx")
    # Another program (openpyxl) changes the workbook LibreOffice saved: 5.1.3.1 scored 0.
    lay = build_layout(get_scheme("xbht-s04-2025"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(saved["xbht-s04-2025_pass"][1])
    wb["打分表"][f"{lay.col('score')}{lay.item_rows['5.1.3.1']}"] = 0
    wb.save(folder / f"{EDITED}.xlsx")
    to_csv[EDITED] = (None, folder / f"{EDITED}.xlsx")
    results = recalculated_results([book for _, book in to_csv.values()], outdir=folder / "csv")
    return Recalculated(
        saved=saved,
        results={name: (audit, values) for (name, (audit, _)), values in zip(to_csv.items(), results, strict=True)},
    )


@dataclass(frozen=True)
class Typed:
    """What the typing tests typed, all in one start of LibreOffice: each job's texts read, and its workbook."""

    read: dict[str, list[str]]
    books: dict[str, Path]


def _typing_jobs(saved: dict[str, tuple[Path, Path]], folder: Path) -> dict[str, tuple[Path, Path, list[Type | Read]]]:
    x = build_layout(get_scheme("xbht-s04-2025"))
    c, r = x.col, x.item_rows
    note = f"打分表!{c('note')}{r['5.1.1.1']}"
    lb, lz = build_layout(get_scheme("bjkb-006-2026")), build_layout(get_scheme("bz-ts1008-2025"))
    return {
        "live": (
            saved["xbht-s04-2025_pass"][1],
            folder / "typed.xlsx",
            [
                Read("SCORE"),
                # 5.1.3.1 (3.5 points) scored 0 instead of 3: earned 84.17 of 99
                Type("打分表", f"{c('score')}{r['5.1.3.1']}", 0),
                Read("SCORE"),
                Read("GRADE"),
                # … then excluded: 84.17 of 95.5 (the exclusion renormalises)
                Type("打分表", f"{c('form')}{r['5.1.3.1']}", "不适用"),
                Type("打分表", f"{c('score')}{r['5.1.3.1']}", None),
                Type("打分表", f"{c('not_applicable')}{r['5.1.3.1']}", "本企业不涉及"),
                Read("SCORE"),
                # a sample of 10 of 30 with one nonconforming: too small unless it covers all sites
                Type("打分表", f"{c('form')}{r['5.1.1.1']}", "抽样"),
                Type("打分表", f"{c('score')}{r['5.1.1.1']}", None),
                Type("打分表", f"{c('sampled')}{r['5.1.1.1']}", 10),
                Type("打分表", f"{c('nonconforming')}{r['5.1.1.1']}", 1),
                Type("打分表", f"{c('population')}{r['5.1.1.1']}", 30),
                Read(note),
                Type("打分表", f"{c('covers_all_sites')}{r['5.1.1.1']}", "是"),
                Read(note),
                Read("SCORE"),
                Read("GRADE"),
            ],
        ),
        "veto": (
            saved["bjkb-006-2026_pass"][1],
            folder / "veto.xlsx",
            [Type("打分表", f"{lb.col('compliant')}{lb.item_rows['4.1.1']}", "否"), Read("SCORE"), Read("GRADE")],
        ),
        "level": (
            saved["bz-ts1008-2025_pass"][1],
            folder / "level.xlsx",
            [Type("打分表", f"{lz.col('level')}{lz.item_rows['normative']}", 2), Read("LEVEL"), Read("GRADE")],
        ),
    }


@pytest.fixture(scope="module")
def typed(recalculated: Recalculated, tmp_path_factory: pytest.TempPathFactory) -> Typed:
    """Every typing test's job typed in LibreOffice in one start (the routine installed once, as before).

    Each job types into a workbook of its own, so one job cannot change what another reads.
    """
    folder = tmp_path_factory.mktemp("typist")
    jobs = _typing_jobs(recalculated.saved, folder)
    read = Typist(folder).type_into_each(list(jobs.values()))
    return Typed(read=dict(zip(jobs, read, strict=True)), books={name: job[1] for name, job in jobs.items()})


def test_the_boundary_audits_do_sit_on_the_half_tenths(recalculated: Recalculated) -> None:
    audits = [a for n, (a, _) in recalculated.results.items() if "_boundary_" in n and a is not None]
    scores = {score_audit(*load_audit(a)).score for a in audits}
    assert {s % 1 for s in scores if s is not None} >= {Decimal("0.0"), Decimal("0.9")}


@pytest.mark.parametrize("name", [f"{a.parent.name}_{a.stem}" for a in AUDITS])
def test_libreoffice_shows_the_score_and_grade_certdocs_gives_for_every_fixture(
    name: str, recalculated: Recalculated
) -> None:
    audit, book = recalculated.saved[name]
    assert shown(book) == expected(audit)


def test_libreoffice_shows_the_score_and_grade_certdocs_gives_at_every_grade_line(
    recalculated: Recalculated,
) -> None:
    wrong = {
        name: (shown(values), expected(audit))
        for name, (audit, values) in recalculated.results.items()
        if "_boundary_" in name and audit is not None and shown(values) != expected(audit)
    }
    assert wrong == {}


def test_the_csv_export_shows_what_the_workbook_libreoffice_saves_holds(recalculated: Recalculated) -> None:
    # The boundary and hypothesis tests read results from CSV: it must say what the .xlsx says.
    from_csv = {name: recalculated.results[name][1] for name in recalculated.saved}
    assert from_csv == {name: result_values(book) for name, (_, book) in recalculated.saved.items()}


@pytest.mark.parametrize("name", [f"{a.parent.name}_{a.stem}" for a in AUDITS])
def test_a_workbook_saved_again_by_libreoffice_still_imports_to_the_same_json(
    name: str, recalculated: Recalculated, tmp_path: Path
) -> None:
    audit, book = recalculated.saved[name]
    import_workbook(book, output=tmp_path / "back.json")
    assert comparable(tmp_path / "back.json") == comparable(audit)


def test_a_workbook_changed_by_another_program_recalculates_in_libreoffice(recalculated: Recalculated) -> None:
    _, values = recalculated.results[EDITED]
    assert shown(values) == {"SCORE": 85.0, "GRADE": "四星级"}


# -- typing into the workbook -------------------------------------------------------------------


def test_typing_into_the_workbook_in_libreoffice_updates_the_live_score(typed: Typed, tmp_path: Path) -> None:
    import_workbook(typed.books["live"], output=tmp_path / "typed.json")
    final = score_audit(*load_audit(tmp_path / "typed.json"))
    assert typed.read["live"] == [
        "88.1",
        "85.0",
        "四星级",
        "88.1",
        "抽样不足：总体 30 至少抽 20，或声明覆盖全部网点；",
        "",
        str(final.score),
        final.grade,
    ]


def test_a_failed_veto_item_and_a_lower_aspect_show_at_once_in_libreoffice(typed: Typed) -> None:
    assert (typed.read["veto"], typed.read["level"]) == (["90.0", "一票否决"], ["2", "可重复级"])


def test_the_workbook_prints_to_pdf_with_the_items_sheet_on_landscape_pages(
    recalculated: Recalculated, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    _, book = recalculated.saved["xbht-s04-2025_pass"]
    (pdf,) = convert([book], outdir=tmp_path, target=PDF_FILTER)
    pages = PdfReader(pdf).pages
    landscape = [p for p in pages if p.mediabox.width > p.mediabox.height]
    assert len(landscape) >= 2


# -- hypothesis: generated audits, recalculated in one batch -------------------------------------


@st.composite
def audits(draw: st.DrawFn) -> dict[str, Any]:
    scheme = get_scheme(draw(st.sampled_from(scheme_ids())))
    doc = full_marks_audit(scheme.id)
    for it in scheme.items:
        if scheme.veto is not None and it.id == scheme.veto.item:
            doc["items"][it.id] = {"compliant": draw(st.booleans())}
            continue
        if scheme.method == "levels":
            doc["items"][it.id] = {"level": draw(st.integers(1, 5))}
            continue
        assert it.points is not None
        forms = ["score", "ratio", "sampled"] + (["not_applicable"] if scheme.exclusions_allowed else [])
        form = draw(st.sampled_from(forms))
        if form == "score":
            result: dict[str, Any] = {"score": _num(Decimal(draw(st.integers(0, int(it.points * 100)))) / 100)}
        elif form == "ratio":
            result = {"ratio": _num(Decimal(draw(st.integers(0, 10_000))) / 10_000)}
        elif form == "sampled":
            n = draw(st.integers(1, 60))
            result = {"sampled": n, "nonconforming": draw(st.integers(0, n))}
            if draw(st.booleans()):
                fraction = scheme.sampling_min_fraction or Fraction(1)
                result["population"] = draw(st.integers(n, max(n, math.floor(n / fraction))))
            elif draw(st.booleans()):
                result |= {"population": n * 5, "covers_all_sites": True}
        else:
            result = {"not_applicable": "不涉及"}
        doc["items"][it.id] = result
    if scheme.method == "points" and all("not_applicable" in r or "compliant" in r for r in doc["items"].values()):
        first = next(it for it in scheme.items if it.points)
        doc["items"][first.id] = {"score": 0}
    if scheme.prerequisites:
        doc["prerequisites"] = {
            "operating_months": draw(st.integers(0, 40)),
            "major_incident": draw(st.booleans()),
            "accepts_onsite_review": draw(st.booleans()),
        }
    return doc


def test_generated_audits_come_back_the_same_and_libreoffice_scores_them_as_certdocs(tmp_path: Path) -> None:
    generated: list[tuple[Path, Path]] = []

    # Hypothesis drives the round trip; the LibreOffice check runs once over every example it made
    # (one soffice call), so the inner test is self-contained and safe under pytest-xdist.
    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(doc=audits())
    def round_trip(doc: dict[str, Any]) -> None:
        n = len(generated)
        audit = tmp_path / f"g{n}.json"
        audit.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        book = tmp_path / f"g{n}.xlsx"
        make_workbook(doc["scheme"], output=book, source=audit)
        import_workbook(book, output=tmp_path / f"g{n}.back.json")
        assert json.loads((tmp_path / f"g{n}.back.json").read_text(encoding="utf-8")) == doc
        assert score_audit(*load_audit(book)).to_json() == score_audit(*load_audit(audit)).to_json()
        generated.append((audit, book))

    round_trip()
    results = recalculated_results([book for _, book in generated], outdir=tmp_path / "calc")
    wrong = {
        str(audit): (shown(values), expected(audit))
        for (audit, _), values in zip(generated, results, strict=True)
        if shown(values) != expected(audit)
    }
    assert (len(generated) >= 10, wrong) == (True, {})
