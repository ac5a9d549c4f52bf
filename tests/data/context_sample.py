"""Complete sample template contexts (docs/TEMPLATE_CONTEXT.md), with realistic Chinese values.

For the rendering tests and for looking at rendered documents. Organisations, people and
numbers are fictitious; the certification bodies' contact facts for 邦证 come from seed 000.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from certdocs.scheme import get_scheme

# The two bodies as their profiles describe them: 新标恒通 with only the facts its seeds give
# (empty strings elsewhere, as the context builder passes them), 邦证 complete (seed 000).
_BODIES: dict[str, dict[str, str]] = {
    "xbht-s04-2025": {
        "name": "北京新标恒通认证有限公司",
        "name_en": "",
        "short_name": "新标恒通认证",
        "approval_no": "",
        "address": "",
        "phone": "010-53678571",
        "email": "",
        "website": "",
        "cnca_site": "http://www.cnca.gov.cn",
        "rules": "XBHT-GZ-038《商品售后服务成熟度认证实施规则》",
        "signatory_name": "",
        "signatory_title": "总经理",
        "certificate_title": "商品售后服务成熟度认证证书",
        "validity_statement": (
            "本证书有效期为三年。自发证之日起每12个月内，获证组织必须接受监督审核并经审核合格，"
            "本证书与保持认证资格通知书一并使用方继续有效；逾期未接受监督审核的，本证书自动失效。"
            "本证书信息可在中国国家认证认可监督管理委员会官方网站（http://www.cnca.gov.cn）查询。"
        ),
        "number": "XBHT-SH-2026-0047",
        "verify": "http://cx.cnca.cn/CertECloud/index/index/page?certNo=XBHT-SH-2026-0047",
        "scope_template": "{scope}（{grade}）",
    },
    "bz-ts1008-2025": {
        "name": "杭州邦证认证有限公司",
        "name_en": "Hangzhou Bangzheng Certification Co., Ltd",
        "short_name": "邦证认证",
        "approval_no": "CNCA-R-2021-885",
        "address": "浙江省杭州市钱塘区白杨街道东部创智大厦1幢1007室",
        "phone": "0571-86821236",
        "email": "bang_zheng@yeah.net",
        "website": "http://www.bozrz.com",
        "cnca_site": "http://www.cnca.gov.cn",
        "rules": "BZ-SC-R-055《售后服务体系成熟度认证实施规则》",
        "signatory_name": "潘建国",
        "signatory_title": "总经理",
        "certificate_title": "售后服务体系成熟度认证证书",
        "validity_statement": (
            "本证书在国家规定的行政许可、资质许可有效期内有效。获证组织应按规定执行监督审核并经审核合格的情况下"
            "方可保持认证证书的有效性。本证书可通过以下方式查询：1. 本机构网站（http://www.bozrz.com）"
            "2. 中国国家认监委官方网站（http://www.cnca.gov.cn）"
        ),
        "number": "BZ-SC-2026-0001",
        "verify": "http://www.bozrz.com/cert/verify?no=BZ-SC-2026-0001",
        "scope_template": "{organization}{scope}所涉及的售后服务体系成熟度认证（{grade}）",
    },
}

# Points lost in the points sample: (item, points earned, finding).
_DEDUCTIONS = {
    "5.1.2.2": ("0.75", "售后服务管理师6人，占服务管理人员8.6%，低于10%的要求"),
    "5.1.3.1": ("2.5", "年度专项经费预算未覆盖配件应急储备"),
    "5.1.4.3": ("1.5", "部分上门维修单未编号，2025年第三季度记录不可追溯"),
    "5.1.6.3": ("0", "未提供通过国家认可的相关认证证书"),
    "5.1.6.4": ("0", "未参与国家、行业或团体标准的制定"),
    "5.1.7.3": ("1", "服务文化宣传仅限官网，未形成有效的顾客认知"),
    "5.2.1.1": ("2", "2家配件供应商年度评价记录缺失"),
    "5.2.3.2": ("2.5", "华东仓库温湿度记录有11天缺记"),
    "5.3.2.1": ("1", "偏远地区安装响应超过承诺的48小时"),
    "5.3.4.3": ("1.125", "抽查维修记录12份，3份未记录更换配件编号"),
    "5.3.5.4": ("0.5", "缺陷商品召回程序未经演练"),
    "5.4.1.4": ("1", "满意度调查未对低分项进行原因分析"),
    "5.4.2.1": ("0.5", "不具备英语、手语等特色服务条件"),
    "5.4.2.4": ("1.5", "辅助服务收费项目未在门店公示"),
    "5.4.3.2": ("2", "2026年第二季度投诉处理满意度为86%，低于95%的目标"),
    "5.4.4.2": ("0.5", "服务失误补救进展未及时告知顾客"),
}
_EXCLUDED = {"5.3.6.1": "本企业不涉及废弃商品回收", "5.3.6.2": "本企业不涉及废弃商品回收"}
_LEVELS = {"strategic": 4, "systematic": 3, "normative": 4, "effective": 3, "efficiency": 4, "improvement": 3}
_LEVEL_NAMES = {1: "初始级", 2: "可重复级", 3: "已定义级", 4: "已管理级", 5: "优化级"}


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def sample_context(scheme_id: str = "xbht-s04-2025", *, long_names: bool = False) -> dict[str, Any]:
    """A complete template context for one sample audit of ``scheme_id``.

    ``xbht-s04-2025`` is a points scheme (四星级, with deductions and excluded items);
    ``bz-ts1008-2025`` a level scheme (已定义级). ``long_names`` gives a 40-character
    organisation name, long addresses and a long scope, to check that the certificate stays on
    one page.
    """
    body = dict(_BODIES[scheme_id])
    number, verify, scope_template = body.pop("number"), body.pop("verify"), body.pop("scope_template")
    scheme = get_scheme(scheme_id)
    points_scheme = scheme.method != "levels"
    org = {
        "name": "杭州海川智能家电股份有限公司",
        "uscc": "91330106MA2CFXY80N",
        "registered_address": "浙江省杭州市西湖区文三路100号",
        "audit_address": "浙江省杭州市余杭区仓前街道文一西路1218号海川科技园3号楼",
        "contact_name": "周晓梅",
        "contact_title": "客户服务部经理",
        "contact_phone": "0571-88886666",
        "contact_email": "",
        "legal_representative": "陈海川",
    }
    if long_names:
        org["name"] = "浙江省杭州市海川智能家电与环境电器设备制造及售后服务集团股份有限公司"
        org["registered_address"] = "浙江省杭州市余杭区仓前街道文一西路1218号海川科技园3号楼东区12层1201室至1210室"
        org["audit_address"] = (
            "浙江省杭州市余杭区仓前街道文一西路1218号海川科技园3号楼东区12层；"
            "浙江省杭州市钱塘区白杨街道6号大街452号海川售后服务中心"
        )
    items, categories, deductions, excluded = _items(scheme_id, points_scheme)
    if points_scheme:
        earned = sum((Decimal(i["earned"]) for i in items if not i["excluded"]), Decimal(0))
        applicable = sum((Decimal(i["points"]) for i in items if not i["excluded"]), Decimal(0))
        score = (earned / applicable * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
        grade, stars = ("四星级", "★★★★") if score >= 80 else ("三星级", "★★★")
        result = {
            "earned": _fmt(earned),
            "applicable": _fmt(applicable),
            "score": str(score),
            "grade": grade,
            "stars": stars,
            "level": "",
            "passed": True,
            "veto": False,
            "conclusion": f"最终得分{score}分，评价等级为{grade}。",
        }
    else:
        level = min(_LEVELS.values())
        grade, stars = _LEVEL_NAMES[level], ""
        result = {
            "earned": "",
            "applicable": "",
            "score": "",
            "grade": grade,
            "stars": "",
            "level": str(level),
            "passed": True,
            "veto": False,
            "conclusion": f"各评价方面的最低成熟度等级为{level}级，评定为{grade}。",
        }
    scope = "家用空调器、空气净化器产品的售后服务"
    if long_names:
        scope = "家用空调器、空气净化器、除湿机、新风系统及商用中央空调产品的安装、维修、保养和技术支持等售后服务"
    team = [
        {
            "name": "王立新",
            "role": "leader",
            "role_name": "审核组长",
            "qualification": "CCAA服务认证审查员 2022-N1SC-1180456",
        },
        {
            "name": "陈静",
            "role": "member",
            "role_name": "审核员",
            "qualification": "CCAA服务认证审查员 2023-N1SC-1204417",
        },
        {"name": "刘振华", "role": "expert", "role_name": "技术专家", "qualification": "高级工程师（制冷空调）"},
    ]
    timetable = [
        {"date": "2026年11月10日", "time": "08:30—09:00", "activity": "首次会议", "auditors": "全体", "area": "管理层"},
        {
            "date": "2026年11月10日",
            "time": "09:00—12:00",
            "activity": "售后服务体系：组织架构、人员配置、资源配置",
            "auditors": "王立新",
            "area": "客户服务部、人力资源部",
        },
        {
            "date": "2026年11月10日",
            "time": "13:30—17:00",
            "activity": "商品管理：采购、运输、贮存质量管理",
            "auditors": "陈静、刘振华",
            "area": "采购部、物流部、华东仓库",
        },
        {
            "date": "2026年11月11日",
            "time": "08:30—12:00",
            "activity": "商品服务：安装、维修、质量保证；现场抽查服务网点",
            "auditors": "王立新、刘振华",
            "area": "售后服务中心、服务网点",
        },
        {
            "date": "2026年11月11日",
            "time": "13:30—16:00",
            "activity": "顾客服务：顾客关系、投诉处理、服务跟踪",
            "auditors": "陈静",
            "area": "呼叫中心",
        },
        {
            "date": "2026年11月11日",
            "time": "16:00—16:30",
            "activity": "审核组内部沟通，形成审核结论",
            "auditors": "全体",
            "area": "—",
        },
        {"date": "2026年11月11日", "time": "16:30—17:00", "activity": "末次会议", "auditors": "全体", "area": "管理层"},
    ]
    return {
        "body": body,
        "scheme": {
            "id": scheme_id,
            "standard": scheme.standard_code,
            "title": scheme.standard_title,
            "standard_full": f"{scheme.standard_code}《{scheme.standard_title}》",
            "uses_points": points_scheme,
            "grading_rule": scheme.grading_rule,
            "category_names": [c.name for c in scheme.categories],
        },
        "org": org,
        "scope": scope,
        "certified_scope": scope_template.format(organization=org["name"], scope=scope, grade=grade + stars),
        "audit": {
            "type": "initial",
            "type_name": "初次认证审核",
            "mode": "onsite",
            "mode_name": "现场审核",
            "start_date": "2026年11月10日",
            "end_date": "2026年11月11日",
            "period": "2026年11月10日至2026年11月11日",
            "person_days": "3",
            "leader": "王立新",
            "team": team,
            "objectives": [
                "确认受审核方售后服务体系与认证依据标准的符合程度；",
                "评价受审核方售后服务体系的成熟度水平，确定评价等级；",
                "识别售后服务体系中可改进的方面，为认证决定提供依据。",
            ],
            "criteria": [
                f"{scheme.standard_code}《{scheme.standard_title}》",
                *scheme.standard_basis,
                body["rules"],
                "受审核方的售后服务手册、程序文件及适用的法律法规",
            ],
            "timetable": timetable,
            "documents_to_prepare": [
                "营业执照及相关许可资质证书",
                "售后服务手册、程序文件、作业指导书及服务承诺",
                "售后服务组织机构图、岗位职责及人员资质证明",
                "近12个月的维修、投诉、回访及顾客满意度调查记录",
                "服务网点清单及对网点的管理和考核记录",
            ],
        },
        "result": result,
        "categories": categories,
        "items": items,
        "deductions": deductions,
        "excluded": excluded,
        "report": {
            "overview": (
                "审核组于2026年10月28日完成文件审查，确认受审核方售后服务文件基本完整适宜。"
                "现场审核期间召开了首、末次会议，审核组通过查阅文件和记录、访谈管理人员和服务人员、"
                "现场观察服务网点和呼叫中心运行、电话回访顾客等方式收集审核证据，"
                "共抽查维修记录12份、投诉记录20份、回访记录30份。"
            ),
            "team_recommendation": f"审核组推荐受审核方通过售后服务成熟度认证，评价等级为{grade}。",
            "strengths": [
                "建立了覆盖全国31个省份的服务网点体系，网点管理规范；",
                "呼叫中心7×24小时受理，报修响应及时，顾客信息系统完善。",
            ],
            "weaknesses": ["售后服务管理师配置比例不足；", "投诉处理满意度未达到企业目标。"],
            "recommendations": [
                "按服务管理人员总数的10%培养和配置售后服务管理师；",
                "对满意度调查中的低分项开展原因分析并制定改进措施；",
                "定期演练缺陷商品召回程序。",
            ],
        },
        "certificate": {
            "number": number,
            "first_issue_date": "2026年11月22日",
            "issue_date": "2026年11月22日",
            "expiry_date": "2029年11月21日",
            "verify_url": verify,
            "qr": "",
        },
        "surveillance": {
            "number": 1,
            "ordinal": "第一次",
            "window_start": "2027年8月22日",
            "window_end": "2027年11月21日",
            "due_date": "2027年11月21日",
            "proposed_dates": "",
            "person_days": "1",
            "checks": [
                "监督周期内商品售后服务的变更情况，包括组织机构变更、体系文件修改、主要负责人更换、场所范围的变化；",
                "组织的内部监督审核活动及改进的效果；",
                "组织代表性区域和活动；",
                "相关方和顾客的投诉、申诉、争议的处理，纠正及纠正措施的有效性，以及重大投诉对认证保持的影响；",
                "认证证书、标志的使用情况。",
            ],
            "documents_to_prepare": [
                "上次审核以来售后服务体系文件的修订记录",
                "内部监督审核报告及改进措施的实施记录",
                "顾客投诉、申诉及处理记录",
                "认证证书和认证标志的使用记录",
            ],
        },
        "issued_on": "2026年11月22日",
    }


def _items(scheme_id: str, points_scheme: bool) -> tuple[list[dict[str, Any]], ...]:
    """Items, categories, deductions and excluded items of the sample audit."""
    scheme = get_scheme(scheme_id)
    items: list[dict[str, Any]] = []
    deductions: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    for no, item in enumerate(scheme.items, 1):
        row: dict[str, Any] = {
            "no": str(no),
            "id": item.id,
            "clause": item.clause,
            "category": item.category,
            "group": item.group,
            "name": item.name or item.clause,
            "requirement": item.name or item.requirement,
            "points": "",
            "earned": "",
            "result": "",
            "excluded": False,
            "reason": "",
            "evidence": "",
            "finding": "",
            "band": "",
            "level": "",
            "level_name": "",
        }
        if points_scheme:
            points = item.points or Decimal(0)
            row["points"] = _fmt(points)
            if item.id in _EXCLUDED:
                row.update(excluded=True, earned="不适用", reason=_EXCLUDED[item.id], result="不适用")
                excluded.append(
                    {
                        "id": item.id,
                        "clause": item.clause,
                        "requirement": item.requirement,
                        "points": row["points"],
                        "reason": _EXCLUDED[item.id],
                    }
                )
            elif item.id in _DEDUCTIONS:
                earned, finding = _DEDUCTIONS[item.id]
                row.update(
                    earned=earned, finding=finding, result=f"得分{earned}", evidence="查阅相关制度和记录，访谈责任部门"
                )
                deductions.append(
                    {
                        "id": item.id,
                        "clause": item.clause,
                        "requirement": item.requirement,
                        "points": row["points"],
                        "earned": earned,
                        "lost": _fmt(points - Decimal(earned)),
                        "finding": finding,
                    }
                )
            else:
                row.update(earned=row["points"], result=f"得分{row['points']}", evidence="文件和记录齐全，现场抽查符合")
        else:
            level = _LEVELS[item.id]
            row.update(
                level=str(level),
                level_name=_LEVEL_NAMES[level],
                result=f"{level}级 {_LEVEL_NAMES[level]}",
                evidence=f"{item.name}方面：制度文件、运行记录及访谈结果表明已达到{_LEVEL_NAMES[level]}的核心特征",
            )
        items.append(row)
    categories = []
    for category in scheme.categories:
        members = [i for i in items if i["category"] == category.name]
        if points_scheme:
            cat_applicable = sum((Decimal(i["points"]) for i in members if not i["excluded"]), Decimal(0))
            cat_earned = sum((Decimal(i["earned"]) for i in members if not i["excluded"]), Decimal(0))
            totals = {
                "points": _fmt(category.points or Decimal(0)),
                "earned": _fmt(cat_earned),
                "applicable": _fmt(cat_applicable),
            }
        else:
            totals = {"points": "", "earned": "", "applicable": ""}
        categories.append({"name": category.name, **totals, "items": members})
    return items, categories, deductions, excluded
