"""The scoring sheets of the workbook: 打分表 (items with their live formulas and validation) and 汇总."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from certdocs.workbook import _style as st
from certdocs.workbook import formulas as fx
from certdocs.workbook.layout import (
    FORM_LABELS,
    ITEM_HEADER_ROW,
    ITEMS,
    SUMMARY,
    VETO_FORM_LABEL,
    Layout,
)

_RESULT_INPUTS = ("form", "score", "ratio", "sampled", "nonconforming", "population", "covers_all_sites")
_MAX_TEXT = 32767  # Excel's limit for one cell


def items_sheet(ws: Worksheet, layout: Layout) -> None:
    """The items in the scheme's order: fixed texts, input cells, formulas, validation, printing."""
    scheme = layout.scheme
    last = layout.columns[-1].letter if scheme.method == "levels" else layout.col("note")
    st.title(ws, "A1", f"{scheme.standard_full} 打分表", merge_to=f"{last}1")
    ws.row_dimensions[1].height = 24
    _score_banner(ws, layout)
    for c in layout.columns:
        st.label(st.at(ws, f"{c.letter}{ITEM_HEADER_ROW}"), c.label, header=True)
        ws.column_dimensions[c.letter].width = c.width
        ws.column_dimensions[c.letter].hidden = c.hidden
    ws.freeze_panes = f"B{ITEM_HEADER_ROW + 1}"
    for it in scheme.items:
        row = layout.item_rows[it.id]
        is_veto = scheme.veto is not None and scheme.veto.item == it.id
        fixed = {
            "id": it.id,
            "clause": it.clause,
            "category": it.category,
            "name": it.name,
            "requirement": it.requirement,
            "points": None if it.points is None else _number(it.points),
        }
        for key, value in fixed.items():
            if layout.has(key):
                st.label(st.at(ws, f"{layout.col(key)}{row}"), "" if value is None else value)  # type: ignore[arg-type]
                if value is None:
                    st.at(ws, f"{layout.col(key)}{row}").value = None
        if scheme.method == "levels":
            st.formula_cell(
                st.at(ws, f"{layout.col('level_name')}{row}"),
                fx.level_name_formula(scheme, f"{layout.col('level')}{row}"),
                result=True,
            )
            inputs = ["level", "evidence", "finding"]
        else:
            for key, formula in fx.item_formulas(layout, row, veto=is_veto).items():
                number_format = "0.00" if key == "earned" else None
                st.formula_cell(
                    st.at(ws, f"{layout.col(key)}{row}"), formula, number_format=number_format, result=key == "earned"
                )
            if is_veto:
                st.label(st.at(ws, f"{layout.col('form')}{row}"), VETO_FORM_LABEL)
                inputs = ["compliant", "evidence", "finding"]
                for key in (
                    "score",
                    "ratio",
                    "sampled",
                    "nonconforming",
                    "population",
                    "covers_all_sites",
                    "not_applicable",
                ):
                    if layout.has(key):
                        st.greyed(st.at(ws, f"{layout.col(key)}{row}"))
            else:
                inputs = [k for k in (*_RESULT_INPUTS, "not_applicable", "evidence", "finding") if layout.has(k)]
                if layout.has("compliant"):
                    st.greyed(st.at(ws, f"{layout.col('compliant')}{row}"))
        for key in inputs:
            number_format = "@" if key in ("evidence", "finding") else None
            st.input_cell(st.at(ws, f"{layout.col(key)}{row}"), number_format=number_format)
    _item_validations(ws, layout)
    if scheme.method == "points":
        note = layout.col("note")
        first, end = layout.first_item_row, layout.last_item_row
        ws.conditional_formatting.add(
            f"{note}{first}:{note}{end}",
            FormulaRule(
                formula=[f'AND({note}{first}<>"",{note}{first}<>"未评价；")'],
                font=Font(color="C00000", bold=True),
                fill=PatternFill("solid", fgColor="FCE4D6"),
            ),
        )
    sign = layout.last_item_row + 2
    ws[f"A{sign}"] = "审核组长（签字）：　　　　　　　　　审核员（签字）：　　　　　　　　　日期：　　　年　　月　　日"
    st.at(ws, f"A{sign}").font = Font(name=st.FONT, size=11)
    st.print_setup(ws, landscape=True, title_rows=f"{ITEM_HEADER_ROW}:{ITEM_HEADER_ROW}")


def _score_banner(ws: Worksheet, layout: Layout) -> None:
    """Row 2 of the items sheet: the live result, so the auditor sees it while typing."""
    if layout.scheme.method == "levels":
        cells = [("A2", "成熟度等级"), ("B2", "=LEVEL"), ("C2", "等级名称"), ("D2", "=GRADE"), ("E2", "=STATUS")]
    else:
        cells = [("A2", "得分"), ("B2", "=SCORE"), ("C2", "等级"), ("D2", "=GRADE"), ("E2", "=STATUS")]
    for ref, value in cells:
        if value.startswith("="):
            st.formula_cell(st.at(ws, ref), value, number_format="0.0" if value == "=SCORE" else None, result=True)
        else:
            st.label(st.at(ws, ref), value, bold=True)
    ws.merge_cells("E2:F2") if layout.scheme.method == "levels" else ws.merge_cells("E2:G2")


def _item_validations(ws: Worksheet, layout: Layout) -> None:
    scheme = layout.scheme
    first, end = layout.first_item_row, layout.last_item_row
    veto_row = layout.item_rows[scheme.veto.item] if scheme.veto is not None else None

    def cells(key: str) -> str:
        c = layout.col(key)
        if veto_row is None or key in ("evidence", "finding", "compliant"):
            return f"{c}{first}:{c}{end}" if key != "compliant" else f"{c}{veto_row}"
        parts = [f"{c}{a}:{c}{b}" for a, b in ((first, veto_row - 1), (veto_row + 1, end)) if a <= b]
        return " ".join(parts)

    specs: list[tuple[str, Any]] = []
    if scheme.method == "levels":
        specs.append(
            (
                "level",
                st.validation(
                    kind="whole",
                    operator="between",
                    formula1="1",
                    formula2="5",
                    title="成熟度等级",
                    prompt=f"填写本维度的成熟度等级 1—5（1 {scheme.level_name(1)} … 5 {scheme.level_name(5)}）。"
                    "组织等级取六个维度的最低等级。",
                ),
            )
        )
    else:
        forms = [FORM_LABELS[k] for k in ("score", "ratio", "sampled")]
        if scheme.exclusions_allowed:
            forms.append(FORM_LABELS["not_applicable"])
        # A relative reference in a validation formula is relative to the first cell of its range,
        # which is the row after the veto item when the veto item comes first (bjkb 4.1.1).
        top = first + 1 if veto_row == first else first
        pts = f"{layout.col('points')}{top}"
        samp = f"{layout.col('sampled')}{top}"
        specs += [
            (
                "form",
                st.choice_validation(
                    forms,
                    title="评价方式",
                    prompt="选择本条目的评价方式，再在对应列填写：得分＝实得分；比例＝符合程度 0—1；"
                    "抽样＝抽样数、不符合数（可填总体数）"
                    + ("；不适用＝写明理由" if scheme.exclusions_allowed else "")
                    + "。",
                ),
            ),
            (
                "score",
                st.validation(
                    kind="decimal",
                    operator="between",
                    formula1="0",
                    formula2=pts,
                    title="得分",
                    prompt="评价方式为“得分”时填写：0 至本条目分值，最多两位小数。",
                ),
            ),
            (
                "ratio",
                st.validation(
                    kind="decimal",
                    operator="between",
                    formula1="0",
                    formula2="1",
                    title="比例",
                    prompt="评价方式为“比例”时填写：符合程度 0—1（如 0.8）。"
                    + ("按第 5 章百分比档确定。" if scheme.ratio_bands else ""),
                ),
            ),
            (
                "sampled",
                st.validation(
                    kind="whole",
                    operator="greaterThanOrEqual",
                    formula1="1",
                    title="抽样数",
                    prompt="评价方式为“抽样”时填写：抽查的样本数（至少 1）。",
                ),
            ),
            (
                "nonconforming",
                st.validation(
                    kind="whole",
                    operator="between",
                    formula1="0",
                    formula2=samp,
                    title="不符合数",
                    prompt="抽样中不符合的样本数，0 至抽样数（先填抽样数）。",
                ),
            ),
            (
                "population",
                st.validation(
                    kind="whole",
                    operator="greaterThanOrEqual",
                    formula1="1",
                    title="总体数",
                    prompt="可选：样本总体数量。抽样数须不少于总体的 2/3（向上取整），除非覆盖全部服务网点。",
                ),
            ),
            (
                "covers_all_sites",
                st.choice_validation(
                    ["是", "否"],
                    title="覆盖全部网点",
                    prompt="抽样覆盖全部服务网点时选“是”，此时不要求抽样达到总体的 2/3。",
                ),
            ),
        ]
        if scheme.veto is not None:
            specs.append(
                (
                    "compliant",
                    st.choice_validation(
                        ["是", "否"], title="否决项", prompt=f"{scheme.veto.basis}。选“否”则一票否决，无论得分。"
                    ),
                )
            )
        if scheme.exclusions_allowed:
            specs.append(
                (
                    "not_applicable",
                    st.validation(
                        kind="textLength",
                        operator="lessThanOrEqual",
                        formula1=str(_MAX_TEXT),
                        title="不适用理由",
                        prompt=f"评价方式为“不适用”时必须写明理由。{scheme.exclusions_basis}",
                    ),
                )
            )
    specs += [
        (
            "evidence",
            st.validation(
                kind="textLength",
                operator="lessThanOrEqual",
                formula1=str(_MAX_TEXT),
                title="审核证据",
                prompt="可选：查看的文件、记录、现场观察。",
            ),
        ),
        (
            "finding",
            st.validation(
                kind="textLength",
                operator="lessThanOrEqual",
                formula1=str(_MAX_TEXT),
                title="审核发现",
                prompt="可选：扣分理由或不符合事实。",
            ),
        ),
    ]
    for key, dv in specs:
        dv.add(cells(key))
        ws.add_data_validation(dv)


def summary_sheet(wb: Workbook, ws: Worksheet, layout: Layout) -> None:
    """Category subtotals and the result, with the workbook-level names SCORE, GRADE, LEVEL."""
    scheme = layout.scheme
    st.title(ws, "A1", f"{scheme.standard_full} 评分汇总", merge_to="D1")
    names: dict[str, str] = {}
    if scheme.method == "levels":
        for n, label in enumerate(("维度", "等级", "等级名称")):
            st.label(ws.cell(3, n + 1), label, header=True)
        row = 4
        level_col = layout.col("level")
        for it in scheme.items:
            r = layout.item_rows[it.id]
            st.label(ws.cell(row, 1), it.name or it.id)
            st.formula_cell(ws.cell(row, 2), f"=IF('{ITEMS}'!{level_col}{r}=\"\",\"\",'{ITEMS}'!{level_col}{r})")
            st.formula_cell(ws.cell(row, 3), f"='{ITEMS}'!{layout.col('level_name')}{r}")
            row += 1
        levels = f"$B$4:$B${row - 1}"
        n_items = len(scheme.items)
        rows = {
            "LEVEL": ("成熟度等级（最低维度等级）", f'=IF(COUNT({levels})<{n_items},"",MIN({levels}))'),
            "GRADE": ("等级名称", ""),
            "PASSED": (
                "结论",
                f'=IF(COUNTIF({fx.prerequisites_range(layout)},"满足")={len(scheme.prerequisites)},"满足认证前提条件","前提条件未满足，不予认证")',
            ),
            "STATUS": (
                "评价进度",
                f'=IF(COUNT({levels})<{n_items},"尚有 "&({n_items}-COUNT({levels}))&" 个维度未评价","全部维度已评价")',
            ),
            "SCORE": ("得分（本方案按等级评价，不计分）", ""),
        }
        row += 1
        for name, (text, formula) in rows.items():
            st.label(ws.cell(row, 1), text, bold=True)
            names[name] = f"'{SUMMARY}'!$B${row}"
            if name == "GRADE":
                formula = fx.level_name_formula(scheme, names["LEVEL"].split("!")[1])
            if formula:
                st.formula_cell(ws.cell(row, 2), formula, result=True)
            row += 1
    else:
        for n, label in enumerate(("类别", "分值", "涉及分值", "实得分", "涉及×100", "实得×100")):
            st.label(ws.cell(3, n + 1), label, header=True)
        row = 4
        for cat in scheme.categories:
            st.label(ws.cell(row, 1), cat.name)
            st.label(ws.cell(row, 2), _number(cat.points) if cat.points is not None else "")  # type: ignore[arg-type]
            st.formula_cell(ws.cell(row, 5), "=" + fx.sumif(layout, f"$A{row}", "applicable_c"))
            st.formula_cell(ws.cell(row, 6), "=" + fx.sumif(layout, f"$A{row}", "earned_c"))
            st.formula_cell(ws.cell(row, 3), f"=E{row}/100", number_format="0.00")
            st.formula_cell(ws.cell(row, 4), f"=F{row}/100", number_format="0.00")
            row += 1
        total = row
        st.label(ws.cell(total, 1), "合计", bold=True)
        st.label(ws.cell(total, 2), _number(scheme.total_points) if scheme.total_points is not None else "")  # type: ignore[arg-type]
        st.formula_cell(ws.cell(total, 5), f"=SUM(E4:E{total - 1})")
        st.formula_cell(ws.cell(total, 6), f"=SUM(F4:F{total - 1})")
        st.formula_cell(ws.cell(total, 3), f"=E{total}/100", number_format="0.00", result=True)
        st.formula_cell(ws.cell(total, 4), f"=F{total}/100", number_format="0.00", result=True)
        row = total + 2
        tenths = f"$E${row}"
        veto = f"$F${row}"
        pending = f"SUM({layout.item_range('pending')})"
        st.formula_cell(st.at(ws, tenths.replace("$", "")), fx.score_tenths_formula(f"F{total}", f"E{total}"))
        st.formula_cell(st.at(ws, veto.replace("$", "")), f"=SUM({layout.item_range('veto_fail')})")
        rows = {
            "SCORE": ("得分（实得分 ÷ 涉及分值 × 100，保留一位小数）", f'=IF({tenths}="","",{tenths}/10)'),
            "GRADE": ("等级", fx.grade_formula(scheme, tenths, veto)),
            "PASSED": ("结论", fx.passed_formula(scheme, tenths, veto)),
            "STATUS": ("评价进度", f'=IF({pending}>0,"尚有 "&{pending}&" 项未评价（按 0 分计）","全部条目已评价")'),
        }
        for name, (text, formula) in rows.items():
            st.label(ws.cell(row, 1), text, bold=True)
            st.formula_cell(ws.cell(row, 2), formula, number_format="0.0" if name == "SCORE" else None, result=True)
            names[name] = f"'{SUMMARY}'!$B${row}"
            row += 1
        ws.column_dimensions["E"].hidden = True
        ws.column_dimensions["F"].hidden = True
        st.label(ws.cell(row + 1, 1), scheme.grading_rule or "")
        ws.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=4)
    for name, ref in names.items():
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    ws.column_dimensions["A"].width = 44
    for letter in "BCD":
        ws.column_dimensions[letter].width = 14
    st.print_setup(ws, landscape=False)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)
