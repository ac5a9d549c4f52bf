"""Plain-text presentations for the terminal: a score table office staff can read."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from certdocs.audit import AuditResult
from certdocs.dates import chinese_date
from certdocs.scheme import Scheme
from certdocs.scoring import ItemScore, Score


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cols: int, *, right: bool = False) -> str:
    """``text`` padded (or cut with …) to ``cols`` terminal columns."""
    if width(text) > cols:
        out = ""
        for ch in text:
            if width(out + ch) > cols - 1:
                break
            out += ch
        text = out + "…"
    fill = " " * (cols - width(text))
    return fill + text if right else text + fill


def fmt(value: Decimal | None) -> str:
    """A point figure as printed: 1, 1.5, 83.25."""
    if value is None:
        return ""
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}".rstrip("0")


def stars_text(stars: int | None) -> str:
    """★★★★ for four stars."""
    return "★" * stars if stars else ""


def verdict(s: ItemScore, scheme: Scheme) -> str:
    """What an item's result is when it is not points: 不适用, 符合/不符合, a level; else ""."""
    r = s.result
    if r.form == "not_applicable":
        return "不适用"
    if r.form == "compliant":
        return "符合" if r.compliant else "不符合（一票否决）"
    if r.form == "level":
        return f"{r.level}级 {scheme.level_name(r.level or 1)}"
    return ""


def _result_cell(s: ItemScore, scheme: Scheme) -> str:
    return verdict(s, scheme) or fmt(s.earned)


def score_table(score: Score, audit: AuditResult, scheme: Scheme) -> str:
    """The score as a Chinese table grouped by category, with subtotals and the grade."""
    lines = [
        f"评价方案：{scheme.standard_full}",
        f"受审核组织：{audit.organization.name}（{audit.organization.uscc}）",
        f"审核日期：{chinese_date(audit.audit.start_date)}至{chinese_date(audit.audit.end_date)}",
        "",
    ]
    for cat in scheme.categories:
        rows = [s for s in score.items if s.item.category == cat.name]
        sub = next(c for c in score.categories if c.name == cat.name)
        head = f"【{cat.name}】"
        if sub.earned is not None:
            head += f" 小计 {fmt(sub.earned)} / {fmt(sub.applicable)}（分值 {fmt(cat.points)}）"
        lines.append(head)
        points = scheme.method == "points"
        lines.append(
            "  "
            + pad("条款" if points else "维度", 12)
            + pad("要求", 44)
            + (pad("分值", 6, right=True) if points else "")
            + "  "
            + pad("结果", 14)
            + ("  比例档" if scheme.ratio_bands else "")
        )
        for s in rows:
            label = s.item.name or s.item.requirement
            line = (
                "  "
                + pad(s.item.clause if points else s.item.id, 12)
                + pad(label, 44)
                + (pad(fmt(s.item.points), 6, right=True) if points else "")
                + "  "
                + pad(_result_cell(s, scheme), 14)
            )
            if scheme.ratio_bands and s.band:
                line += "  " + s.band
            lines.append(line.rstrip())
            if s.result.form == "not_applicable":
                lines.append("  " + " " * 10 + f"删减理由：{s.result.reason}")
        lines.append("")
    if score.score is not None:
        lines.append(f"实际得分 {fmt(score.earned)}，涉及项总分值 {fmt(score.applicable)}，最终得分 {score.score}")
    if score.level is not None:
        lines.append(f"各维度最低等级：{score.level}级（渐进发展原则）")
    for text in score.unmet_prerequisites:
        lines.append(f"未满足认证前提条件：{text}")
    verdict = "通过" if score.passed else "未通过"
    lines.append(f"评定结果：{score.grade}{stars_text(score.stars)}（{verdict}）")
    return "\n".join(lines)
