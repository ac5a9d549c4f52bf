"""The document context: everything a template prints, formatted, from the audit and its score.

Pure: no files, no clock. Every value is a string, a list or dict of strings, or a boolean;
absent optional facts are ``""`` so templates can print a blank line for handwriting. The
variables are documented in docs/TEMPLATE_CONTEXT.md; the template checker learns the key tree
by building a context here (``certdocs.templatecheck.known_context``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from certdocs.audit import AUDIT_TYPES, MODES, AuditResult
from certdocs.dates import SurveillanceWindow, chinese_date, format_days
from certdocs.fitting import Fitting, fit_certificate
from certdocs.profile import Profile
from certdocs.scheme import Scheme
from certdocs.scoring import ItemScore, Score
from certdocs.textreport import fmt, stars_text, verdict

SURVEILLANCE_CHECKS = (
    "监督周期内商品售后服务的任何变更，包括组织机构变更、体系文件修改、主要负责人更换、场所范围的变化情况",
    "组织的内部监督审查活动及改进的效果",
    "组织代表性区域和活动",
    "相关方/顾客的投诉、申诉、争议的处理，确认组织采取纠正及纠正措施的有效性以及重大投诉对认证保持的影响",
    "认证证书、标志的使用",
)
DEFAULT_DOCUMENTS = (
    "营业执照及相关许可资质证书（复印件或扫描件）",
    "售后服务手册、程序文件、作业指导书及管理制度",
    "组织机构图、售后服务部门及岗位职责说明",
    "服务网点清单及网点管理记录",
    "售后服务人员名单、资质证书、培训与考核记录",
    "近一年的安装、维修、保养工单及服务记录",
    "顾客投诉、回访及满意度调查记录",
    "内部监督检查、数据分析及改进记录",
    "服务承诺、保修卡及对外宣传资料",
)
SURVEILLANCE_DOCUMENTS = (
    "上次审核以来售后服务体系的变更说明（组织机构、体系文件、主要负责人、场所）",
    "内部监督检查记录及改进效果证据",
    "上次审核发现问题的纠正及纠正措施实施记录",
    "顾客投诉、申诉、争议处理记录及满意度调查结果",
    "认证证书及认证标志的使用情况",
)


@dataclass(frozen=True)
class PrintedCertificate:
    """The certificate the documents speak of (number and dates from the register)."""

    number: str
    first_issue_date: date
    issue_date: date
    expiry_date: date
    verify_url: str


@dataclass(frozen=True)
class SurveillanceFacts:
    """The surveillance audit a notice announces."""

    window: SurveillanceWindow
    person_days: Decimal
    proposed_dates: str = ""


def certificate_fitting(*, audit: AuditResult, score: Score, profile: Profile) -> Fitting:
    """The type size of each long certificate field, and the fields that cannot fit (see certdocs.fitting)."""
    org, grade = audit.organization, score.grade + stars_text(score.stars)
    scope = profile.certified_scope(organization=org.name, scope=audit.scope, grade=grade)
    # The profile's wording around the scope, so a refusal can say how long the scope may be.
    marker = "\x00"
    around = profile.certified_scope(organization=org.name, scope=marker, grade=grade).split(marker, 1)
    values = {
        "org.name": org.name,
        "org.registered_address": org.registered_address,
        "org.audit_address": org.audit_address,
        "certified_scope": scope,
    }
    return fit_certificate(values, limits=profile.certificate_fit, scope_around=(around[0], around[-1]))


def _period(start: date, end: date) -> str:
    if start == end:
        return chinese_date(start)
    return f"{chinese_date(start)}至{chinese_date(end)}"


def _result_text(s: ItemScore, scheme: Scheme) -> str:
    r = s.result
    if r.form in ("not_applicable", "compliant", "level"):
        return verdict(s, scheme)
    if r.form == "sampled":
        return f"抽样{r.sampled}，不符合{r.nonconforming}"
    if r.form == "ratio":
        return f"得分比例 {(r.ratio or Decimal(0)) * 100:.0f}%"
    return "评分"


def _items(score: Score, scheme: Scheme) -> list[dict[str, Any]]:
    rows = []
    for n, s in enumerate(score.items, 1):
        it, r = s.item, s.result
        rows.append(
            {
                "no": it.id if scheme.item_numbering == "id" else str(n),
                "id": it.id,
                "clause": it.clause,
                "category": it.category,
                "group": it.group,
                "name": it.name or it.clause,
                "requirement": it.name or it.requirement,
                "points": fmt(it.points) if it.points is not None else ("否决项" if r.form == "compliant" else ""),
                "earned": (
                    "不适用"
                    if r.form == "not_applicable"
                    else _result_text(s, scheme)
                    if s.earned is None
                    else fmt(s.earned)
                ),
                "result": _result_text(s, scheme),
                "excluded": r.form == "not_applicable",
                "reason": r.reason,
                "evidence": r.evidence,
                "finding": r.finding,
                "band": s.band,
                "level": str(r.level) if r.level is not None else "",
                "level_name": scheme.level_name(r.level) if r.level is not None else "",
            }
        )
    return rows


def _default_timetable(audit: AuditResult, scheme: Scheme) -> list[dict[str, str]]:
    """A plan from the scheme's categories, spread over the audit days (08:30—17:30, lunch 12:00—13:30)."""
    info = audit.audit
    days = [info.start_date + timedelta(days=n) for n in range((info.end_date - info.start_date).days + 1)]
    team = [m.name for m in info.team if m.role in ("leader", "member", "expert")] or [info.leader.name]
    everyone = "全体审核组成员"
    names = (
        [c.name for c in scheme.categories] if scheme.method == "points" else [it.name or it.id for it in scheme.items]
    )
    fixed = 30 + 90 + 60 + 30 + 30
    # Spread the site work over the days available, in quarter hours, half an hour to 3 hours each.
    share = (450 * len(days) - fixed) // max(1, len(names))
    minutes = max(30, min(180, share // 15 * 15))
    slots = [("首次会议", 30, everyone), ("文件审查：售后服务手册、程序文件、制度与记录", 90, info.leader.name)]
    slots += [(f"现场观察、人员访谈与记录抽查：{name}", minutes, team[n % len(team)]) for n, name in enumerate(names)]
    slots += [
        ("顾客访谈与服务回访抽查", 60, team[-1]),
        ("审核组内部会议，汇总审核发现并评分", 30, everyone),
        ("末次会议", 30, everyone),
    ]
    rows: list[dict[str, str]] = []
    day, clock = 0, 8 * 60 + 30
    for activity, length, who in slots:
        left = length
        while left > 0:  # a long activity runs on after lunch or into the next day
            if 12 * 60 <= clock < 13 * 60 + 30:
                clock = 13 * 60 + 30
            if clock >= 17 * 60 + 30 and day < len(days) - 1:
                day, clock = day + 1, 8 * 60 + 30
            room = (12 * 60 if clock < 12 * 60 else 17 * 60 + 30) - clock
            take = left if room <= 0 else min(left, room)
            start, clock, left = clock, clock + take, left - take
            rows.append(
                {
                    "date": chinese_date(days[day]),
                    "time": f"{start // 60:02d}:{start % 60:02d}—{clock // 60:02d}:{clock % 60:02d}",
                    "activity": activity,
                    "auditors": who,
                    "area": "",
                }
            )
    return rows


def build_context(
    *,
    audit: AuditResult,
    scheme: Scheme,
    score: Score,
    profile: Profile,
    certificate: PrintedCertificate | None,
    issued_on: date,
    surveillance: SurveillanceFacts | None = None,
) -> dict[str, Any]:
    """The context every template is rendered with (docs/TEMPLATE_CONTEXT.md)."""
    org, info = audit.organization, audit.audit
    items = _items(score, scheme)
    points = scheme.method == "points"
    stars = stars_text(score.stars)
    grade_with_stars = score.grade
    if score.passed:
        conclusion = (
            f"最终得分 {score.score} 分，评定为{score.grade}{stars}。"
            if points
            else f"各维度最低等级为 {score.level} 级，评定为{score.grade}。"
        )
    elif score.veto:
        conclusion = f"否决项 {scheme.veto.item if scheme.veto else ''} 不符合，一票否决，不予推荐认证。"
    elif score.unmet_prerequisites:
        conclusion = "未满足认证前提条件：" + "；".join(score.unmet_prerequisites) + "。不予推荐认证。"
    else:
        conclusion = f"最终得分 {score.score} 分，未达到合格线，评定为{score.grade}，不予推荐认证。"
    n_excluded = sum(1 for i in items if i["excluded"])
    overview = audit.report.overview or (
        f"审核组于{_period(info.start_date, info.end_date)}依据{scheme.standard_full}对{org.name}的"
        f"{audit.scope}实施了{AUDIT_TYPES[info.type]}（{MODES[info.mode]}）。审核采用文件审查、现场观察、"
        f"人员访谈、记录抽查与顾客回访相结合的方式，共评价 {len(items)} 个条目"
        + (f"，其中删减不适用条目 {n_excluded} 个" if n_excluded else "")
        + "。"
    )
    recommendation = audit.report.team_recommendation or (
        f"审核组推荐{org.name}通过{AUDIT_TYPES[info.type]}，评定为{grade_with_stars}。"
        if score.passed
        else f"审核组不推荐{org.name}通过本次{AUDIT_TYPES[info.type]}。"
    )
    categories = []
    for cat, sub in zip(scheme.categories, score.categories, strict=True):
        categories.append(
            {
                "name": cat.name,
                "points": fmt(cat.points),
                "earned": fmt(sub.earned),
                "applicable": fmt(sub.applicable),
                "items": [i for i in items if i["category"] == cat.name],
            }
        )
    timetable = [
        {
            "date": chinese_date(t.date),
            "time": f"{t.start}—{t.end}",
            "activity": t.activity,
            "auditors": "、".join(t.auditors),
            "area": t.area,
        }
        for t in info.timetable
    ] or _default_timetable(audit, scheme)
    cert: dict[str, Any] = {"number": "", "first_issue_date": "", "issue_date": "", "expiry_date": "", "verify_url": ""}
    if certificate is not None:
        cert = {
            "number": certificate.number,
            "first_issue_date": chinese_date(certificate.first_issue_date),
            "issue_date": chinese_date(certificate.issue_date),
            "expiry_date": chinese_date(certificate.expiry_date),
            "verify_url": certificate.verify_url,
        }
    surv: dict[str, Any] = {
        "number": "",
        "ordinal": "",
        "window_start": "",
        "window_end": "",
        "due_date": "",
        "proposed_dates": "",
        "person_days": "",
        "checks": list(SURVEILLANCE_CHECKS),
        "documents_to_prepare": list(SURVEILLANCE_DOCUMENTS),
    }
    if surveillance is not None:
        w = surveillance.window
        surv.update(
            number=str(w.number),
            ordinal=w.ordinal,
            window_start=chinese_date(w.start),
            window_end=chinese_date(w.end),
            due_date=chinese_date(w.end),
            proposed_dates=surveillance.proposed_dates,
            person_days=format_days(surveillance.person_days),
        )
    return {
        "body": {
            "name": profile.name,
            "name_en": profile.name_en,
            "short_name": profile.short_name,
            "approval_no": profile.approval_no,
            "address": profile.address,
            "phone": profile.phone,
            "email": profile.email,
            "website": profile.website,
            "cnca_site": profile.cnca_site,
            "rules": profile.rules,
            "signatory_name": profile.signatory_name,
            "signatory_title": profile.signatory_title,
            "certificate_title": profile.certificate_title,
            "validity_statement": profile.validity_statement,
        },
        "scheme": {
            "id": scheme.id,
            "standard": scheme.standard_code,
            "title": scheme.standard_title,
            "standard_full": scheme.standard_full,
            "uses_points": points,
            "grading_rule": scheme.grading_rule,
            "category_names": [c.name for c in scheme.categories],
        },
        "org": {
            "name": org.name,
            "uscc": org.uscc,
            "registered_address": org.registered_address,
            "audit_address": org.audit_address,
            "contact_name": org.contact.name,
            "contact_title": org.contact.title,
            "contact_phone": org.contact.phone,
            "contact_email": org.contact.email,
            "legal_representative": org.legal_representative,
        },
        "scope": audit.scope,
        "certified_scope": profile.certified_scope(organization=org.name, scope=audit.scope, grade=score.grade + stars),
        "audit": {
            "type": info.type,
            "type_name": AUDIT_TYPES[info.type],
            "mode": info.mode,
            "mode_name": MODES[info.mode],
            "start_date": chinese_date(info.start_date),
            "end_date": chinese_date(info.end_date),
            "period": _period(info.start_date, info.end_date),
            "person_days": format_days(info.person_days) if info.person_days is not None else "",
            "leader": info.leader.name,
            "team": [
                {"name": m.name, "role": m.role, "role_name": m.role_name, "qualification": m.qualification}
                for m in info.team
            ],
            "objectives": [
                f"确认受审核方售后服务体系与{scheme.standard_full}的符合程度",
                "评价受审核方售后服务成熟度水平，评定" + ("星级" if points else "成熟度等级"),
                f"确定是否推荐{AUDIT_TYPES[info.type].removesuffix('审核')}注册",
            ],
            "criteria": [
                scheme.standard_full,
                *([profile.rules] if profile.rules else []),
                *scheme.standard_basis,
                "相关法律法规及受审核方的售后服务体系文件",
            ],
            "timetable": timetable,
            "documents_to_prepare": list(info.documents_to_prepare or DEFAULT_DOCUMENTS),
        },
        "result": {
            "earned": fmt(score.earned),
            "applicable": fmt(score.applicable),
            "score": str(score.score) if score.score is not None else "",
            "grade": score.grade,
            "stars": stars,
            "level": str(score.level) if score.level is not None else "",
            "passed": score.passed,
            "veto": score.veto,
            "conclusion": conclusion,
        },
        "categories": categories,
        "items": items,
        "deductions": [
            {
                "id": i["id"],
                "clause": i["clause"],
                "requirement": i["requirement"],
                "points": i["points"],
                "earned": i["earned"],
                "lost": fmt(s.lost),
                "finding": i["finding"] or i["evidence"],
            }
            for i, s in zip(items, score.items, strict=True)
            if s.lost > 0
        ],
        "excluded": [
            {
                "id": i["id"],
                "clause": i["clause"],
                "requirement": i["requirement"],
                "points": i["points"],
                "reason": i["reason"],
            }
            for i in items
            if i["excluded"]
        ],
        "report": {
            "overview": overview,
            "strengths": list(audit.report.strengths),
            "weaknesses": list(audit.report.weaknesses),
            "recommendations": list(audit.report.recommendations),
            "team_recommendation": recommendation,
        },
        "certificate": cert,
        "surveillance": surv,
        "issued_on": chinese_date(issued_on),
        # Sizes certdocs applies itself to the runs printing these fields (render.py); not for templates.
        "fit": {
            key: f"{size.normalize():f}"
            for key, size in certificate_fitting(audit=audit, score=score, profile=profile).sizes.items()
        },
    }
