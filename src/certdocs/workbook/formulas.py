"""The workbook's live formulas, written so binary floating point still rounds as the standard does.

Spreadsheets (Excel, WPS 表格, LibreOffice Calc) compute in binary doubles: 1.125 may be held
as 1.12499999…, and a naive ``ROUND(points*ratio, 2)`` then rounds a true tie down where
certdocs (``decimal``, half-up) rounds it up. So every figure is carried in whole hundredths of
a point, and each rounding is ``ROUND(ROUND(x, 9), 0)``: the inner ROUND removes the float noise
(about 1e-12 here) and leaves an exact .5 where the decimal value is a tie, which binary holds
exactly; any non-tie is far more than 1e-9 away from .5 for the numbers an audit has (points in
hundredths, ratios of up to seven decimals, samples below a million). Sums of whole hundredths
are exact. The score is then ``earned × 1000 ÷ applicable`` in tenths, rounded the same way, and
grades compare whole tenths with whole thresholds. Only ROUND, INT, IF, AND, OR, N, SUMIF, SUM,
COUNT, MIN, CHOOSE are used: functions every one of the three has under the same name.
"""

from __future__ import annotations

from decimal import Decimal

from certdocs.scheme import Scheme
from certdocs.workbook.layout import (
    FORM_LABELS,
    ITEMS,
    PREREQUISITES,
    Layout,
)


def _q(text: str) -> str:
    """A string literal inside a formula."""
    return '"' + text.replace('"', '""') + '"'


def _round(expr: str) -> str:
    """Half-up to a whole number of ``expr``, immune to binary noise (see the module docstring)."""
    return f"ROUND(ROUND({expr},9),0)"


def points_c(layout: Layout, row: int) -> str:
    """The item's points in whole hundredths."""
    return f"ROUND({layout.col('points')}{row}*100,0)"


def item_formulas(layout: Layout, row: int, *, veto: bool) -> dict[str, str]:
    """The formulas of one items-sheet row of a points scheme, by column key."""
    c = layout.col
    form = f"{c('form')}{row}"
    if veto:
        ok = f"{c('compliant')}{row}"
        out = {
            "earned": f'=IF({ok}="是","符合",IF({ok}="否","一票否决",""))',
            "earned_c": "=0",
            "applicable_c": "=0",
            "pending": f'=IF({ok}="",1,0)',
            "veto_fail": f'=IF({ok}="否",1,0)',
            "note": f'=IF({ok}="","未评价；",IF({ok}="否","否决项不符合：无论得分均不予通过；",""))',
        }
        if layout.has("band"):
            out["band"] = '=""'
        return out
    score, ratio, n, k, pop = (f"{c(key)}{row}" for key in ("score", "ratio", "sampled", "nonconforming", "population"))
    all_sites = f"{c('covers_all_sites')}{row}"
    pc = points_c(layout, row)
    points = f"{c('points')}{row}"
    lab = {key: _q(text) for key, text in FORM_LABELS.items()}
    by_score = _round(f"N({score})*100")
    by_ratio = _round(f"{points}*N({ratio})*100")
    by_sample = _round(f"{pc}*(N({n})-N({k}))/N({n})")
    earned_c = (
        f"=IF({form}={lab['score']},{by_score},"
        f"IF({form}={lab['ratio']},{by_ratio},"
        f"IF(AND({form}={lab['sampled']},N({n})>=1),{by_sample},0)))"
    )
    na = lab["not_applicable"]
    out = {
        "earned_c": earned_c,
        "applicable_c": f"=IF({form}={na},0,{pc})",
        "pending": f'=IF({form}="",1,0)',
        "veto_fail": "=0",
        "earned": f'=IF({form}={na},"不适用",IF({form}="","",{c("earned_c")}{row}/100))',
    }
    notes = [f'IF({form}="","未评价；","")']
    fraction = layout.scheme.sampling_min_fraction
    if fraction is not None:
        num, den = fraction.numerator, fraction.denominator
        need = f"INT(({num}*N({pop})+{den - 1})/{den})"  # ⌈N·num/den⌉ in whole numbers
        notes.append(
            f'IF(AND({form}={lab["sampled"]},N({pop})>=N({n}),{all_sites}<>"是",N({n})<{need}),'
            f'"抽样不足：总体 "&N({pop})&" 至少抽 "&{need}&"，或声明覆盖全部网点；","")'
        )
    notes += [
        f'IF(AND({form}={lab["sampled"]},N({k})>N({n})),"不符合数大于抽样数；","")',
        f'IF(AND({form}={lab["sampled"]},N({pop})>0,N({pop})<N({n})),"总体小于抽样数；","")',
        f'IF(AND({form}={lab["score"]},N({score})>{c("points")}{row}),"得分超过分值；","")',
        f'IF(AND({form}={lab["ratio"]},N({ratio})>1),"比例超过 1；","")',
    ]
    if layout.has("not_applicable"):
        notes.append(f'IF(AND({form}={na},{c("not_applicable")}{row}=""),"须写明不适用理由；","")')
    out["note"] = "=" + "&".join(notes)
    if layout.has("band"):
        out["band"] = band_formula(layout, row)
    return out


def band_formula(layout: Layout, row: int) -> str:
    """Chapter-5 percentage band of Q/BJKB 006-2026 from the earned hundredths (lower bound inclusive)."""
    bands = layout.scheme.ratio_bands
    e = f"{layout.col('earned_c')}{row}"
    pc = points_c(layout, row)
    scale = next(s for s in (1, 10, 100, 1000, 10**4, 10**6) if all(b.lower * s == int(b.lower * s) for b in bands))
    expr = _q(bands[0].label)
    for band in bands[1:]:
        lower = int(band.lower * scale)
        expr = f"IF({e}*{scale}>={lower}*{pc},{_q(band.label)},{expr})"
    form = f"{layout.col('form')}{row}"
    return f'=IF(OR({form}="",{form}={_q(FORM_LABELS["not_applicable"])},{pc}=0),"",{expr})'


def grade_formula(scheme: Scheme, tenths: str, veto: str | None) -> str:
    """The grade's text from the score in whole tenths (and the veto count, where there is a veto)."""
    bands = scheme.grades
    expr = _q(bands[0].grade)
    for band in bands[1:]:
        expr = f"IF({tenths}>={_tenths(band.min)},{_q(band.grade)},{expr})"
    if veto is not None and scheme.veto is not None:
        expr = f"IF({veto}>0,{_q(scheme.veto.grade)},{expr})"
    return f'=IF({tenths}="","",{expr})'


def passed_formula(scheme: Scheme, tenths: str, veto: str | None) -> str:
    """通过 / 不通过 from the score in tenths and the veto."""
    passing = [b for b in scheme.grades if b.passed]
    test = f"{tenths}>={_tenths(passing[0].min)}" if passing else "FALSE()"
    expr = f'IF({test},"通过","不通过")'
    if veto is not None and scheme.veto is not None:
        expr = f'IF({veto}>0,"不通过",{expr})'
    return f'=IF({tenths}="","",{expr})'


def _tenths(value: Decimal) -> str:
    scaled = value * 10
    return str(int(scaled)) if scaled == scaled.to_integral_value() else str(scaled)


def score_tenths_formula(earned_c: str, applicable_c: str) -> str:
    """earned ÷ applicable × 100, half-up, in whole tenths: ROUND(ROUND(E×1000÷A, 9), 0)."""
    return f'=IF(N({applicable_c})=0,"",{_round(f"{earned_c}*1000/{applicable_c}")})'


def level_name_formula(scheme: Scheme, level: str) -> str:
    """The maturity level's name, or a warning outside 1—5."""
    names = ",".join(_q(scheme.level_name(n)) for n in range(1, 6))
    outside = f"OR(N({level})<1,N({level})>5,N({level})<>INT(N({level})))"
    return f'=IF({level}="","",IF({outside},"等级应为 1—5",CHOOSE({level},{names})))'


def prerequisite_formula(kind: str, value: int | bool, cell: str) -> str:
    """满足 / 不满足 / 未填写 for one prerequisite."""
    if kind == "min":
        return f'=IF({cell}="","未填写",IF(N({cell})>={int(value)},"满足","不满足"))'
    want = "是" if value else "否"
    return f'=IF({cell}="","未填写",IF({cell}="{want}","满足","不满足"))'


def prerequisites_range(layout: Layout) -> str:
    rows = list(layout.prerequisite_rows.values())
    return f"'{PREREQUISITES}'!$C${rows[0]}:$C${rows[-1]}"


def sumif(layout: Layout, category: str, key: str) -> str:
    """Σ of a hidden hundredths column over one category's items."""
    return f"SUMIF({layout.item_range('category')},{category},{layout.item_range(key)})"


__all__ = [
    "ITEMS",
    "band_formula",
    "grade_formula",
    "item_formulas",
    "level_name_formula",
    "passed_formula",
    "prerequisite_formula",
    "score_tenths_formula",
    "sumif",
]
