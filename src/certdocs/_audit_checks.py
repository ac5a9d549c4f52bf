"""The audit result's validators: one per section, each reporting every problem with its JSON path."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from certdocs._audit_model import (
    AUDIT_TYPES,
    MODES,
    ROLES,
    AuditInfo,
    Contact,
    ItemResult,
    Organization,
    ReportText,
    ResultForm,
    TeamMember,
    TimetableEntry,
)
from certdocs._paths import jp
from certdocs._scheme_model import Item
from certdocs._validate import Checker, printable
from certdocs.scheme import Scheme

_FORMS: tuple[ResultForm, ...] = ("score", "ratio", "sampled", "not_applicable", "compliant", "level")
_ITEM_EXTRA = {"evidence", "finding", "nonconforming", "population", "covers_all_sites"}
_ITEM_KEYS = frozenset(_FORMS) | _ITEM_EXTRA
_CENT = Decimal("0.01")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# GB 32100-2015: registration authority (1 digit or A/N/Y), organisation kind, six-digit region,
# nine-character organisation code, check character; the letters I, O, S, V and Z never occur.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC = re.compile(rf"[1-9ANY][{_USCC_CHARS}]\d{{6}}[{_USCC_CHARS}]{{10}}")


def uscc_problem(code: str, *, override: str) -> str:
    """Why ``code`` is not a 统一社会信用代码, or ``""``; ``override`` lifts the check character only."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实为 {len(code)} 位"
    if not _USCC.fullmatch(code):
        bad = next((n for n, ch in enumerate(code, 1) if ch not in _USCC_CHARS), 0)
        where = (
            f"第 {bad} 位 {printable(code[bad - 1])!r} 不是可用字符（数字和除 I、O、S、V、Z 外的大写字母）"
            if bad
            else ("第 1 位（登记管理部门代码）应为 1—9、A、N 或 Y，第 3—8 位（行政区划码）应为数字")
        )
        return f"统一社会信用代码 {printable(code)} 格式不正确（GB 32100-2015）：{where}"
    # python-stdnum imports pydoc and ssl with it (50 ms): only for a code of the right form.
    from stdnum.cn import uscc

    if not override and code[-1] != uscc.calc_check_digit(code[:17]):
        return (
            f"统一社会信用代码 {code} 校验码不正确（GB 32100-2015）；"
            "如确认无误，请在 organization.uscc_checksum_override 中说明理由"
        )
    return ""


def organization(c: Checker, data: Mapping[str, Any]) -> Organization:
    """The ``organization`` section; the USCC checked against GB 32100 unless an override says why."""
    org = c.obj(data, "organization", "organization")
    c.unknown(
        org,
        {
            "name",
            "uscc",
            "registered_address",
            "audit_address",
            "uscc_checksum_override",
            "contact",
            "legal_representative",
            "employees",
        },
        "organization",
    )
    override = c.text(
        org, "uscc_checksum_override", "organization.uscc_checksum_override", required=False, multiline=True
    )
    code = c.text(org, "uscc", "organization.uscc").upper()
    rule = uscc_problem(code, override=override) if code else ""
    if rule:
        c.bad("organization.uscc", rule)
    contact = c.obj(org, "contact", "organization.contact", required=False)
    c.unknown(contact, {"name", "title", "phone", "email"}, "organization.contact")
    employees = c.integer(org, "employees", "organization.employees")
    if employees is not None and employees < 1:
        c.bad("organization.employees", "人数应为正整数")
    return Organization(
        name=c.text(org, "name", "organization.name"),
        uscc=code,
        registered_address=c.text(org, "registered_address", "organization.registered_address"),
        audit_address=c.text(org, "audit_address", "organization.audit_address"),
        uscc_checksum_override=override,
        contact=Contact(
            *(
                c.text(contact, k, f"organization.contact.{k}", required=False)
                for k in ("name", "title", "phone", "email")
            )
        ),
        legal_representative=c.text(org, "legal_representative", "organization.legal_representative", required=False),
        employees=employees,
    )


def _person_days(c: Checker, audit: Mapping[str, Any], key: str) -> Decimal | None:
    value = c.number(audit, key, f"audit.{key}")
    if value is not None and (value <= 0 or (value * 2) % 1 != 0):
        c.bad(f"audit.{key}", "人日数应为正数，以半天（0.5）为单位")
    return value


def audit_info(c: Checker, data: Mapping[str, Any]) -> AuditInfo:
    """The ``audit`` section: type, dates, mode, team (one leader), timetable within the audit dates."""
    audit = c.obj(data, "audit", "audit")
    c.unknown(
        audit,
        {
            "type",
            "start_date",
            "end_date",
            "team",
            "mode",
            "person_days",
            "initial_person_days",
            "previous_certificate",
            "timetable",
            "documents_to_prepare",
        },
        "audit",
    )
    kind = audit.get("type")
    if kind not in AUDIT_TYPES:
        c.bad("audit.type", f"审核类型 {kind!r} 无效，应为 initial、surveillance 或 recertification")
    start = c.day(audit, "start_date", "audit.start_date")
    end = c.day(audit, "end_date", "audit.end_date")
    if start and end and end < start:
        c.bad("audit.end_date", f"结束日期 {end} 早于开始日期 {start}")
    mode = audit.get("mode", "onsite")
    if mode not in MODES:
        c.bad("audit.mode", f"审核方式 {mode!r} 无效，应为 onsite（现场）或 remote（远程）")
    team: list[TeamMember] = []
    raw_team = audit.get("team")
    if not isinstance(raw_team, list) or not raw_team:
        c.bad("audit.team", "审核组不能为空")
        raw_team = []
    for where, m in c.entries(raw_team, "audit.team", {"name", "role", "qualification"}):
        role = m.get("role")
        if role not in ROLES:
            c.bad(f"{where}.role", f"角色 {role!r} 无效，应为 leader、member、expert 或 observer")
            role = "member"
        team.append(
            TeamMember(
                c.text(m, "name", f"{where}.name"),
                str(role),
                c.text(m, "qualification", f"{where}.qualification", required=False),
            )
        )
    if raw_team and sum(1 for m in team if m.role == "leader") != 1:
        c.bad("audit.team", "审核组须有且只有一名组长（role: leader）")
    timetable: list[TimetableEntry] = []
    for where, row in c.entries(
        audit.get("timetable") or [], "audit.timetable", {"date", "start", "end", "activity", "auditors", "area"}
    ):
        day = c.day(row, "date", f"{where}.date")
        if day and start and end and start <= end and not start <= day <= end:  # a bad range is reported once
            c.bad(f"{where}.date", f"日程日期 {day} 不在审核日期 {start} 至 {end} 之内")
        times = [c.text(row, k, f"{where}.{k}") for k in ("start", "end")]
        for k, t in zip(("start", "end"), times, strict=True):
            if t and not _TIME.match(t):
                c.bad(f"{where}.{k}", f"时间 {t!r} 格式应为 HH:MM")
        if all(times) and times[1] <= times[0]:
            c.bad(f"{where}.end", "结束时间应晚于开始时间")
        timetable.append(
            TimetableEntry(
                day or date.min,
                times[0],
                times[1],
                c.text(row, "activity", f"{where}.activity"),
                c.texts(row, "auditors", f"{where}.auditors"),
                c.text(row, "area", f"{where}.area", required=False),
            )
        )
    return AuditInfo(
        type=kind if kind in AUDIT_TYPES else "initial",
        start_date=start or date.min,
        end_date=end or date.min,
        team=tuple(team),
        mode=mode if mode in MODES else "onsite",
        person_days=_person_days(c, audit, "person_days"),
        initial_person_days=_person_days(c, audit, "initial_person_days"),
        previous_certificate=c.text(audit, "previous_certificate", "audit.previous_certificate", required=False),
        timetable=tuple(timetable),
        documents_to_prepare=c.texts(audit, "documents_to_prepare", "audit.documents_to_prepare"),
    )


def item_result(c: Checker, scheme: Scheme, item: Item, raw: Any) -> ItemResult | None:  # noqa: C901  (one branch per result form and rule, read top to bottom like the standard)
    """One item's result in the one form the scheme allows it; ``None`` when it cannot be read."""
    item_id = item.id
    where = jp("items", item_id)
    if not isinstance(raw, dict):
        c.bad(where, '应为 JSON 对象，如 {"score": 1}')
        return None
    # This runs for every item of every audit: the usual case (known keys, no evidence or finding)
    # is answered by set and dict look-ups, and the Checker is asked only where there is something
    # to read or to report. The problems and the result are the same either way.
    if not raw.keys() <= _ITEM_KEYS:
        c.unknown(raw, _ITEM_KEYS, where)
    forms = [f for f in _FORMS if f in raw]
    is_veto = scheme.veto is not None and scheme.veto.item == item_id
    if len(forms) > 1:
        c.bad(where, f"只能有一种评价结果形式，却同时给出了 {'、'.join(forms)}")
        return None
    if not forms:
        expected = (
            "compliant"
            if is_veto
            else "level"
            if scheme.method == "levels"
            else "score、ratio、sampled 或 not_applicable"
        )
        c.bad(where, f"缺少评价结果（应为 {expected}）")
        return None
    form = forms[0]
    ev = fd = ""  # what c.text gives an absent (or null) optional field, without the call
    if raw.get("evidence") is not None:
        ev = c.text(raw, "evidence", f"{where}.evidence", required=False, multiline=True)
    if raw.get("finding") is not None:
        fd = c.text(raw, "finding", f"{where}.finding", required=False, multiline=True)
    here = f"{where}.{form}"  # the forms are identifiers: jp would write the same
    if is_veto and form != "compliant":
        c.bad(here, f"否决项 {item_id} 必须以 compliant: true/false 评价")
        return None
    if scheme.method == "levels" and form != "level":
        c.bad(here, f"方案 {scheme.id} 按成熟度等级评价，应为 level: 1—5")
        return None
    if form == "compliant":
        if not is_veto:
            c.bad(here, "compliant 只用于否决项")
            return None
        ok = c.boolean(raw, "compliant", here)
        return ItemResult(item_id, "compliant", compliant=ok, evidence=ev, finding=fd)
    if form == "level":
        if scheme.method != "levels":
            c.bad(here, "level 只用于成熟度等级方案")
            return None
        lv = c.integer(raw, "level", here)
        if lv is not None and not 1 <= lv <= 5:
            c.bad(here, f"成熟度等级 {lv} 超出 1—5")
        return ItemResult(item_id, "level", level=lv, evidence=ev, finding=fd)
    if form == "not_applicable":
        if not scheme.exclusions_allowed:
            c.bad(here, f"方案 {scheme.id} 不允许删减条目（{scheme.exclusions_basis}）")
            return None
        reason = c.text(raw, "not_applicable", here, required=False, multiline=True)
        if not reason:
            c.bad(here, "删减条目须写明不适用的理由")
        return ItemResult(item_id, "not_applicable", reason=reason, evidence=ev, finding=fd)
    points = item.points or Decimal(0)
    if form == "score":
        score = c.number(raw, "score", here)
        if score is not None and not 0 <= score <= points:
            c.bad(here, f"得分 {score} 超出 0—{points}（该条目分值 {points}）")
        elif score is not None and score != score.quantize(_CENT):
            c.bad(here, f"得分 {score} 最多保留两位小数")
        return ItemResult(item_id, "score", score=score, evidence=ev, finding=fd)
    if form == "ratio":
        ratio = c.number(raw, "ratio", here)
        if ratio is not None and not 0 <= ratio <= 1:
            c.bad(here, f"得分比例 {ratio} 超出 0—1")
        return ItemResult(item_id, "ratio", ratio=ratio, evidence=ev, finding=fd)
    k_at, pop_at = f"{where}.nonconforming", f"{where}.population"
    n = c.integer(raw, "sampled", here)
    k = c.integer(raw, "nonconforming", k_at)
    pop = c.integer(raw, "population", pop_at)
    all_sites = c.boolean(raw, "covers_all_sites", f"{where}.covers_all_sites") or False
    if k is None and "nonconforming" not in raw:
        c.bad(k_at, "抽样结果须给出不符合数 nonconforming")
    if n is not None and n < 1:
        c.bad(here, "抽样数应至少为 1")
    elif n is not None and k is not None and not 0 <= k <= n:
        c.bad(k_at, f"不符合数 {k} 超出 0—{n}（抽样数）")
    if pop is not None and n is not None and n >= 1:
        if pop < n:
            c.bad(pop_at, f"总体 {pop} 小于抽样数 {n}")
        elif scheme.sampling_min_fraction is not None and not all_sites:
            need = math.ceil(pop * scheme.sampling_min_fraction)
            if n < need:
                c.bad(
                    here,
                    f"抽样数 {n} 少于总体 {pop} 的 {scheme.sampling_min_fraction}（至少 {need}），"
                    f"且未声明覆盖全部服务网点（{scheme.sampling_basis}）",
                )
    return ItemResult(
        item_id,
        "sampled",
        sampled=n,
        nonconforming=k,
        population=pop,
        covers_all_sites=all_sites,
        evidence=ev,
        finding=fd,
    )


def prerequisites(c: Checker, scheme: Scheme, data: Mapping[str, Any]) -> dict[str, int | bool]:
    """The scheme's certification prerequisites, required exactly when the scheme has them."""
    raw = data.get("prerequisites")
    if not scheme.prerequisites:
        if raw is not None:
            c.bad("prerequisites", f"方案 {scheme.id} 没有认证前提条件，不应填写")
        return {}
    if not isinstance(raw, dict):
        c.bad("prerequisites", "缺少认证前提条件（" + "、".join(p.field for p in scheme.prerequisites) + "）")
        return {}
    c.unknown(raw, {p.field for p in scheme.prerequisites}, "prerequisites")
    out: dict[str, int | bool] = {}
    for p in scheme.prerequisites:
        where = f"prerequisites.{p.field}"
        if p.field not in raw:
            c.bad(where, f"缺少必填字段（{p.text}）")
            continue
        value = c.integer(raw, p.field, where) if p.kind == "min" else c.boolean(raw, p.field, where)
        if p.kind == "min" and value is not None and value < 0:
            c.bad(where, "不能为负数")
        if value is not None:
            out[p.field] = value
    return out


def report_text(c: Checker, data: Mapping[str, Any]) -> ReportText:
    """The optional ``report`` section: the audit team's narrative."""
    rep = c.obj(data, "report", "report", required=False)
    c.unknown(rep, {"overview", "strengths", "weaknesses", "recommendations", "team_recommendation"}, "report")
    return ReportText(
        overview=c.text(rep, "overview", "report.overview", required=False, multiline=True),
        strengths=c.texts(rep, "strengths", "report.strengths", multiline=True),
        weaknesses=c.texts(rep, "weaknesses", "report.weaknesses", multiline=True),
        recommendations=c.texts(rep, "recommendations", "report.recommendations", multiline=True),
        team_recommendation=c.text(
            rep, "team_recommendation", "report.team_recommendation", required=False, multiline=True
        ),
    )
