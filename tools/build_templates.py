"""Build the Word templates in ``templates/`` (python-docx), reproducibly.

    python tools/build_templates.py [--out templates]

The output is an ordinary Word document that office staff then edit by hand in Word or
LibreOffice (see templates/README.md): styles carry the Chinese typography (宋体 body, 黑体
headings, ``w:eastAsia`` fonts, zh-CN language), tables carry their borders and column widths,
and the Jinja tags follow docs/TEMPLATE_CONTEXT.md. Core properties and zip entry times are
fixed, so building twice gives the same bytes. The python-docx helpers (styles, fonts, tables,
borders) are in ``tools/_docx_helpers.py``.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from _docx_helpers import (
    BLANK,
    HEI,
    LIGHT,
    RED,
    C,
    Doc,
    H,
    L,
    Row,
    heading,
    items_list,
    new_document,
    page,
    page_border,
    para,
    save,
    signatures,
    table,
    tag,
)
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn


def _team_inline() -> str:
    return "{% for m in audit.team %}{{ m.name }}（{{ m.role_name }}）{% if not loop.last %}、{% endif %}{% endfor %}"


def _contact(doc: Doc, *, keep_next: bool = False) -> None:
    """The body's contact lines; a fact the profile leaves empty leaves out its line.

    ``keep_next`` keeps them on the page of what follows (a letter's seal and date), so a page
    never holds the seal alone.
    """
    para(doc, "**认证机构：**{{ body.name }}", style="BodyIndent", keep_next=keep_next)
    for label, var in (("地　　址", "address"), ("电　　话", "phone"), ("电子邮箱", "email"), ("网　　址", "website")):
        tag(doc, f"{{%p if body.{var} %}}")
        para(doc, f"**{label}：**{{{{ body.{var} }}}}", style="BodyIndent", keep_next=keep_next)
        tag(doc, "{%p endif %}")


def build_audit_plan() -> Doc:
    """审核通知书及审核计划 (Zhongding 8.3, annex A for remote audits)."""
    doc = new_document("审核通知书及审核计划", header="审核通知书及审核计划")
    para(doc, "审核通知书及审核计划", style="Title")
    para(doc, "{{ scheme.standard_full }}　{{ audit.type_name }}", style="Subtitle")
    para(doc, "**致：{{ org.name }}**", after=6)
    para(
        doc,
        "根据贵组织与本机构签订的认证合同，本机构定于{{ audit.period }}对贵组织实施售后服务成熟度认证"
        "{{ audit.type_name }}（{{ audit.mode_name }}）。现将审核安排通知如下，请贵组织做好相关准备，"
        "并于审核前确认本计划。",
        style="BodyIndent",
    )
    heading(doc, "一、受审核组织及审核基本信息")
    table(
        doc,
        [34, 70, 24, 37],
        [
            [L("受审核组织"), C("{{ org.name }}", 3)],
            [
                L("统一社会信用代码"),
                "{{ org.uscc }}",
                L("法定代表人"),
                f'{{{{ org.legal_representative or "{BLANK}" }}}}',
            ],
            [L("注册地址"), C("{{ org.registered_address }}", 3)],
            [L("审核地址"), C("{{ org.audit_address }}", 3)],
            [
                L("联系人"),
                f'{{{{ org.contact_name or "{BLANK}" }}}}'
                "{% if org.contact_title %}（{{ org.contact_title }}）{% endif %}",
                L("联系电话"),
                f'{{{{ org.contact_phone or "{BLANK}" }}}}',
            ],
            [L("审核范围"), C("{{ scope }}", 3)],
            [L("认证依据标准"), C("{{ scheme.standard_full }}", 3)],
            [L("审核类型"), "{{ audit.type_name }}", L("审核方式"), "{{ audit.mode_name }}"],
            [L("审核日期"), "{{ audit.period }}", L("审核人日"), '{{ audit.person_days or "____" }} 人日'],
        ],
    )
    heading(doc, "二、审核目的")
    items_list(doc, "audit.objectives")
    heading(doc, "三、审核准则")
    items_list(doc, "audit.criteria")
    heading(doc, "四、审核组")
    table(
        doc,
        [14, 30, 30, 91],
        [
            [H("序号"), H("姓名"), H("组内职务"), H("资格/专业")],
            ["{%tr for m in audit.team %}"],
            [
                C("{{ loop.index }}", align="center"),
                C("{{ m.name }}", align="center"),
                C("{{ m.role_name }}", align="center"),
                "{{ m.qualification }}",
            ],
            ["{%tr endfor %}"],
        ],
        header_rows=1,
    )
    heading(doc, "五、审核日程安排")
    table(
        doc,
        [36, 27, 45, 29, 28],
        [
            [H("日期"), H("时间"), H("审核内容"), H("审核人员"), H("涉及部门/区域")],
            ["{%tr for row in audit.timetable %}"],
            [
                C("{{ row.date }}", align="center"),
                C("{{ row.time }}", align="center"),
                "{{ row.activity }}",
                C("{{ row.auditors }}", align="center"),
                C("{{ row.area }}", align="center"),
            ],
            ["{%tr endfor %}"],
        ],
        header_rows=1,
    )
    para(
        doc,
        "注：审核日程可根据现场情况在审核组与受审核方协商一致后调整；首次会议和末次会议请最高管理者"
        "或其授权代表及相关部门负责人参加。",
        style="Small",
        before=3,
    )
    heading(doc, "六、请受审核方准备的文件和资料")
    items_list(doc, "audit.documents_to_prepare")
    heading(doc, "七、审核方式说明")
    tag(doc, '{%p if audit.mode == "remote" %}')
    para(
        doc,
        "本次审核以远程方式实施，依据本机构远程审核实施规范执行。请贵组织在审核前确认："
        "具备视频会议系统（如腾讯会议）、稳定的网络和可移动的摄像设备；能够通过视频实时展示服务现场、"
        "服务网点和设施，并以电子方式共享文件和记录。审核当天如无法支持远程审核，审核组将终止审核并另行安排。",
        style="BodyIndent",
    )
    tag(doc, "{%p else %}")
    para(
        doc,
        "本次审核以现场方式实施。审核期间请安排熟悉售后服务工作的人员陪同，并确保审核组能够进入"
        "售后服务部门、服务网点、呼叫中心、仓储等相关场所，查阅相关文件和记录。",
        style="BodyIndent",
    )
    tag(doc, "{%p endif %}")
    heading(doc, "八、保密与公正性")
    para(
        doc,
        "本机构及审核组成员对审核中获知的受审核方信息（包括商业秘密和顾客个人信息）负有保密义务，"
        "除法律法规另有规定外，未经受审核方书面同意不向任何第三方披露。本机构承诺公正、独立地实施审核，"
        "审核组成员与受审核方不存在影响公正性的利益关系。如贵组织认为审核组成员存在利益冲突，"
        "或对审核安排有异议，请于收到本计划后3个工作日内书面提出，本机构将予以调整。",
        style="BodyIndent",
    )
    heading(doc, "九、联系方式")
    _contact(doc)
    signatures(doc, [f"审核组长（签字）：{BLANK}\n日期：{BLANK}", f"受审核方确认（签字/盖章）：{BLANK}\n日期：{BLANK}"])
    para(doc, "{{ body.name }}（盖章）", align="right", before=18)
    para(doc, f'{{{{ issued_on or "{BLANK}" }}}}', align="right")
    return doc


def _info_rows() -> list[Row]:
    return [
        [L("受审核组织"), C("{{ org.name }}", 3)],
        [L("审核范围"), C("{{ scope }}", 3)],
        [L("审核日期"), "{{ audit.period }}", L("审核类型"), "{{ audit.type_name }}"],
        [L("审核组长"), "{{ audit.leader }}", L("审核方式"), "{{ audit.mode_name }}"],
    ]


def build_scoresheet() -> Doc:
    """打分表: one table with a header row per category and a subtotal after it."""
    doc = new_document("打分表", header="打分表")
    para(doc, "售后服务成熟度评价打分表", style="Title")
    para(doc, "评价依据：{{ scheme.standard_full }}", style="Subtitle")
    table(doc, [34, 70, 24, 37], _info_rows())
    para(doc, "", after=6)
    tag(doc, "{%p if scheme.uses_points %}")
    table(
        doc,
        [11, 16, 47, 15, 15, 61],
        [
            [H("序号"), H("条款"), H("要求"), H("分值"), H("得分"), H("证据与说明")],
            ["{%tr for c in categories %}"],
            [C("{{ c.name }}（{{ c.points }}分）", 6, style="TableHead", align="left", shade=LIGHT)],
            ["{%tr for i in c.items %}"],
            [
                C("{{ i.no }}", align="center"),
                C("{{ i.clause }}", align="center"),
                C("{{ i.requirement }}", style="TableSmall"),
                C("{{ i.points }}", align="center"),
                C("{{ i.earned }}", align="center"),
                C(
                    "{% if i.excluded %}不适用：{{ i.reason }}{% else %}{{ i.evidence }}{% endif %}\n"
                    "{%p if i.finding and not i.excluded %}\n**扣分原因：**{{ i.finding }}\n{%p endif %}",
                    style="TableSmall",
                ),
            ],
            ["{%tr endfor %}"],
            [
                C("{{ c.name }}小计", 3, style="TableHead", align="right"),
                C("{{ c.applicable }}", align="center"),
                C("{{ c.earned }}", align="center"),
                C(
                    "{% if c.applicable != c.points %}本类满分{{ c.points }}分，适用分值{{ c.applicable }}分{% endif %}",  # noqa: E501
                    style="Small",
                ),
            ],
            ["{%tr endfor %}"],
            [
                C("合计", 3, style="TableHead", align="right"),
                C("{{ result.applicable }}", style="TableHead"),
                C("{{ result.earned }}", style="TableHead"),
                C("适用分值合计 / 实得分合计", style="Small"),
            ],
        ],
        header_rows=1,
    )
    para(
        doc,
        "**最终得分：**实得分 ÷ 适用分值 × 100 = {{ result.earned }} ÷ {{ result.applicable }} × 100 = "
        "**{{ result.score }}** 分",
        before=6,
    )
    para(doc, "**评价等级：**{{ result.grade }}{% if result.stars %}　{{ result.stars }}{% endif %}")
    tag(doc, "{%p else %}")
    table(
        doc,
        [12, 36, 36, 81],
        [
            [H("序号"), H("评价方面"), H("评定等级"), H("证据与说明")],
            ["{%tr for i in items %}"],
            [
                C("{{ i.no }}", align="center"),
                C("{{ i.name or i.requirement }}", align="center"),
                C("{{ i.level }}级 {{ i.level_name }}", align="center"),
                "{{ i.evidence }}{% if i.finding %}{% if i.evidence and not i.evidence.endswith('。') %}；{% endif %}"
                "{{ i.finding }}{% endif %}",
            ],
            ["{%tr endfor %}"],
            [
                C("组织成熟度等级", 2, style="TableHead", align="right"),
                C("{{ result.level }}级 {{ result.grade }}", style="TableHead"),
                C("取各评价方面的最低等级", style="Small"),
            ],
        ],
        header_rows=1,
    )
    tag(doc, "{%p endif %}")
    para(doc, "**评级规则：**{{ scheme.grading_rule }}", style="Small", before=3)
    signatures(doc, [f"审核组长：{BLANK}", f"受审核方代表：{BLANK}", f"日期：{BLANK}"])
    return doc


def build_report() -> Doc:
    """审核报告 (XBHT-S04 7.1, ISO 19011 6.5.1)."""
    doc = new_document("审核报告", header="审核报告")
    para(doc, "售后服务成熟度认证审核报告", style="Title")
    para(doc, "{{ scheme.standard_full }}", style="Subtitle")
    heading(doc, "一、基本信息")
    table(
        doc,
        [34, 70, 24, 37],
        [
            [L("受审核组织"), C("{{ org.name }}", 3)],
            [L("统一社会信用代码"), "{{ org.uscc }}", L("审核类型"), "{{ audit.type_name }}"],
            [L("注册地址"), C("{{ org.registered_address }}", 3)],
            [L("审核地址"), C("{{ org.audit_address }}", 3)],
            [L("审核范围"), C("{{ scope }}", 3)],
            [L("审核准则"), C("{%p for x in audit.criteria %}\n{{ x }}\n{%p endfor %}", 3)],
            [L("审核日期"), "{{ audit.period }}", L("审核方式"), "{{ audit.mode_name }}"],
            [L("审核组"), C(_team_inline(), 3)],
            [L("审核组长"), "{{ audit.leader }}", L("审核人日"), '{{ audit.person_days or "____" }} 人日'],
        ],
        cant_split=False,
    )
    heading(doc, "二、审核过程概述")
    para(doc, "{{ report.overview }}", style="BodyIndent")
    heading(doc, "三、评分结果")
    tag(doc, "{%p if scheme.uses_points %}")
    para(doc, "各评价类别得分如下（各条款的得分和证据详见《打分表》）：", style="BodyIndent", after=3)
    table(
        doc,
        [14, 61, 30, 30, 30],
        [
            [H("序号"), H("评价类别"), H("满分"), H("适用分值"), H("实得分")],
            ["{%tr for c in categories %}"],
            [
                C("{{ loop.index }}", align="center"),
                "{{ c.name }}",
                C("{{ c.points }}", align="center"),
                C("{{ c.applicable }}", align="center"),
                C("{{ c.earned }}", align="center"),
            ],
            ["{%tr endfor %}"],
            [
                C("合计", 3, style="TableHead"),
                C("{{ result.applicable }}", style="TableHead"),
                C("{{ result.earned }}", style="TableHead"),
            ],
        ],
        header_rows=1,
    )
    para(
        doc,
        "**最终得分：**{{ result.earned }} ÷ {{ result.applicable }} × 100 = **{{ result.score }}** 分；"
        "**评价等级：**{{ result.grade }}{% if result.stars %}（{{ result.stars }}）{% endif %}",
        before=6,
    )
    tag(doc, "{%p else %}")
    table(
        doc,
        [14, 30, 36, 85],
        [
            [H("序号"), H("评价方面"), H("评定等级"), H("证据与说明")],
            ["{%tr for i in items %}"],
            [
                C("{{ i.no }}", align="center"),
                C("{{ i.name or i.requirement }}", align="center"),
                C("{{ i.level }}级 {{ i.level_name }}", align="center"),
                "{{ i.evidence }}{% if i.finding %}{% if i.evidence and not i.evidence.endswith('。') %}；{% endif %}"
                "{{ i.finding }}{% endif %}",
            ],
            ["{%tr endfor %}"],
        ],
        header_rows=1,
    )
    para(doc, "**组织成熟度等级：**{{ result.level }}级（{{ result.grade }}），取各评价方面的最低等级。", before=6)
    tag(doc, "{%p endif %}")
    para(doc, "**评级规则：**{{ scheme.grading_rule }}", style="Small", before=3)
    heading(doc, "四、扣分条款及扣分原因")
    tag(doc, "{%p if deductions %}")
    table(
        doc,
        [16, 46, 13, 14, 14, 62],
        [
            [H("条款"), H("要求"), H("分值"), H("得分"), H("扣分"), H("扣分原因")],
            ["{%tr for d in deductions %}"],
            [
                C("{{ d.clause or d.id }}", align="center"),
                C("{{ d.requirement }}", style="TableSmall"),
                C("{{ d.points }}", align="center"),
                C("{{ d.earned }}", align="center"),
                C("{{ d.lost }}", align="center"),
                C("{{ d.finding }}", style="TableSmall"),
            ],
            ["{%tr endfor %}"],
        ],
        header_rows=1,
    )
    tag(doc, "{%p else %}")
    para(doc, "本次审核无扣分条款。", style="BodyIndent")
    tag(doc, "{%p endif %}")
    heading(doc, "五、不适用条款及理由")
    tag(doc, "{%p if excluded %}")
    table(
        doc,
        [17, 70, 14, 64],
        [
            [H("条款"), H("要求"), H("分值"), H("不适用理由")],
            ["{%tr for e in excluded %}"],
            [
                C("{{ e.clause or e.id }}", align="center"),
                "{{ e.requirement }}",
                C("{{ e.points }}", align="center"),
                "{{ e.reason }}",
            ],
            ["{%tr endfor %}"],
        ],
        header_rows=1,
    )
    tag(doc, "{%p else %}")
    para(doc, "本次审核无不适用条款。", style="BodyIndent")
    tag(doc, "{%p endif %}")
    heading(doc, "六、审核结论")
    para(doc, "{{ result.conclusion }}", style="BodyIndent")
    heading(doc, "七、优势")
    items_list(doc, "report.strengths", empty="无。")
    heading(doc, "八、不足")
    items_list(doc, "report.weaknesses", empty="无。")
    heading(doc, "九、改进建议")
    items_list(doc, "report.recommendations", empty="无。")
    heading(doc, "十、审核组推荐意见")
    para(doc, "{{ report.team_recommendation }}", style="BodyIndent")
    heading(doc, "十一、说明")
    para(
        doc,
        "本次审核是基于抽样进行的，审核结论依据审核期间获得的客观证据作出。由于抽样的局限性，"
        "受审核方可能存在未被发现的不符合。受审核方对所提供信息和资料的真实性、完整性负责。"
        "本报告的评分结果和推荐意见须经本机构认证决定后方为有效。",
        style="BodyIndent",
    )
    signatures(doc, [f"审核组长（签字）：{BLANK}\n日期：{BLANK}", f"受审核方代表（签字）：{BLANK}\n日期：{BLANK}"])
    return doc


def build_certificate() -> Doc:
    """证书: one A4 page with every field of seed 000 and Zhongding 5.5."""
    doc = new_document("认证证书")
    page(doc, top=22, bottom=18, left=24, right=24)
    page_border(doc)
    mark = table(doc, [44], [[C("{{ body.short_name }}", style="TableHead", size=14, color=RED)]], grid=False)
    mark._tbl.tblPr.find(qn("w:tblBorders")).getparent().replace(
        mark._tbl.tblPr.find(qn("w:tblBorders")),
        parse_xml(
            f"<w:tblBorders {nsdecls('w')}>"
            + "".join(
                f'<w:{s} w:val="double" w:sz="6" w:space="0" w:color="{RED}"/>'
                for s in ("top", "left", "bottom", "right")
            )
            + "</w:tblBorders>"
        ),
    )
    para(doc, "{{ body.name }}", align="center", font=HEI, size=15, before=6)
    para(
        doc,
        "{{ body.name_en }}{% if body.name_en and body.approval_no %}　{% endif %}"
        "{% if body.approval_no %}批准号：{{ body.approval_no }}{% endif %}",
        align="center",
        size=9,
    )
    para(doc, "{{ body.certificate_title }}", align="center", font=HEI, size=26, color=RED, before=14, after=4)
    para(doc, "证书编号：{{ certificate.number }}", align="center", size=12, after=10)
    para(doc, "{{ org.name }}", align="center", font=HEI, size=17)
    para(doc, "统一社会信用代码：{{ org.uscc }}", align="center", size=11, before=4, after=8)
    para(doc, "经审核，该组织建立的售后服务体系成熟度认证符合标准：", align="center", size=12)
    para(doc, "{{ scheme.standard_full }}", align="center", size=12, bold=True, after=10)
    table(
        doc,
        [24, 126],
        [
            [C("注册地址：", align="right", size=11), C("{{ org.registered_address }}", size=11)],
            [C("审核地址：", align="right", size=11), C("{{ org.audit_address }}", size=11)],
            [C("认证范围：", align="right", size=11), C("{{ certified_scope }}", size=11)],
        ],
        grid=False,
        valign="top",
    )
    para(doc, "认证等级", align="center", size=11, before=8)
    para(
        doc,
        "{{ result.grade }}{% if result.level %}（{{ result.level }}级）{% endif %}"
        "{% if result.stars %}　{{ result.stars }}{% endif %}",
        align="center",
        font=HEI,
        size=22,
        color=RED,
        after=8,
    )
    table(
        doc,
        [54, 54, 54],
        [
            [
                C("首次发证日期", align="center", size=10.5),
                C("本次发证日期", align="center", size=10.5),
                C("有效期至", align="center", size=10.5),
            ],
            [
                C("{{ certificate.first_issue_date }}", style="TableHead", size=11.5),
                C("{{ certificate.issue_date }}", style="TableHead", size=11.5),
                C("{{ certificate.expiry_date }}", style="TableHead", size=11.5),
            ],
        ],
        grid=False,
    )
    para(doc, "", size=6)
    # QR code, validity and verification text, and the signatory side by side: one row of
    # height instead of three keeps long names and addresses on one page.
    table(
        doc,
        [32, 74, 56],
        [
            [
                C("{{ certificate.qr }}\n扫码验证", style="Picture"),
                # The profile's validity statement often says where to look the certificate up already.
                C(
                    "{{ body.validity_statement }}"
                    "{% if body.cnca_site and body.cnca_site not in body.validity_statement %}"
                    "本证书信息可在国家认证认可监督管理委员会网站（{{ body.cnca_site }}）查询。{% endif %}"
                    "{% if body.website and body.website not in body.validity_statement %}"
                    "本机构网站：{{ body.website }}。{% endif %}扫描左侧二维码可验证本证书。",
                    style="Small",
                ),
                C(
                    f'签发：{{{{ body.signatory_name or "{BLANK}" }}}}\n{{{{ body.signatory_title }}}}\n\n{{{{ body.name }}}}',  # noqa: E501
                    align="center",
                    size=11,
                ),
            ],
        ],
        grid=False,
        valign="bottom",
    )
    foot = doc.sections[0].footer
    para(foot, "{% if body.address %}地址：{{ body.address }}{% endif %}", style="Footer", first=True)
    para(
        foot,
        "{% if body.phone %}电话：{{ body.phone }}　{% endif %}{% if body.email %}邮箱：{{ body.email }}　"
        "{% endif %}{% if body.website %}网址：{{ body.website }}{% endif %}",
        style="Footer",
    )
    return doc


def build_surveillance_notice() -> Doc:
    """监督审核通知书 (Zhongding 5.6, XBHT-S04 7.2.3)."""
    doc = new_document("监督审核通知书", header="监督审核通知书")
    para(doc, "监督审核通知书", style="Title")
    para(doc, "（{{ surveillance.ordinal }}监督审核）", style="Subtitle")
    para(doc, "**致：{{ org.name }}**", after=6)
    para(
        doc,
        "贵组织持有的本机构售后服务成熟度认证证书（证书编号：{{ certificate.number }}）依据"
        "{{ scheme.standard_full }}颁发，有效期至{{ certificate.expiry_date }}。根据本机构"
        "{{ body.rules }}和认证合同的约定，获证组织在证书有效期内应接受监督审核，经审核合格后方可保持"
        "认证证书的有效性。现将贵组织{{ surveillance.ordinal }}监督审核的安排通知如下：",
        style="BodyIndent",
        after=6,
    )
    table(
        doc,
        [38, 127],
        [
            [L("获证组织"), "{{ org.name }}"],
            [L("审核地址"), "{{ org.audit_address }}"],
            [L("证书编号"), "{{ certificate.number }}"],
            [L("认证标准"), "{{ scheme.standard_full }}"],
            [L("认证范围"), "{{ certified_scope }}"],
            [L("认证等级"), "{{ result.grade }}{% if result.stars %}　{{ result.stars }}{% endif %}"],
            [L("监督审核"), "{{ surveillance.ordinal }}监督审核"],
            [
                L("应完成期间"),
                "{{ surveillance.window_start }}至{{ surveillance.window_end }}"
                "（最迟不晚于{{ surveillance.due_date }}）",
            ],
            [L("拟定审核日期"), f'{{{{ surveillance.proposed_dates or "{BLANK}（请在回执中确认）" }}}}'],
            [L("审核人日"), "{{ surveillance.person_days }} 人日"],
        ],
    )
    heading(doc, "一、监督审核内容")
    items_list(doc, "surveillance.checks")
    heading(doc, "二、请准备的文件和资料")
    items_list(doc, "surveillance.documents_to_prepare")
    heading(doc, "三、注意事项")
    para(
        doc,
        "1．监督审核须在上述期间内完成。贵组织无正当理由逾期未接受监督审核的，本机构将暂停认证证书；"
        "暂停期间不得使用认证证书和认证标志。暂停期满仍未完成监督审核或监督审核不合格的，本机构将撤销"
        "认证证书，并按规定报送国家认证认可监督管理委员会。",
        style="ListItem",
    )
    para(
        doc,
        "2．贵组织的名称、地址、法定代表人、组织机构或售后服务体系发生重大变化的，请在审核前书面告知本机构。",
        style="ListItem",
    )
    para(doc, "3．对审核日期或审核组成员有异议的，请于收到本通知后5个工作日内与本机构联系。", style="ListItem")
    heading(doc, "四、联系方式")
    _contact(doc)
    para(doc, "{{ body.name }}（盖章）", align="right", before=24)
    para(doc, f'{{{{ issued_on or "{BLANK}" }}}}', align="right")
    para(
        doc,
        "- - - - - - - - - - - - - - - - - - - - 沿此线剪下 - - - - - - - - - - - - - - - - - - - -",
        style="Small",
        align="center",
        before=18,
        after=6,
    )
    para(doc, "回　执", style="Heading2", align="center")
    table(
        doc,
        [38, 127],
        [
            [L("获证组织"), "{{ org.name }}"],
            [L("证书编号"), "{{ certificate.number }}"],
            [L("确认审核日期"), "______年____月____日 至 ______年____月____日"],
            [L("联系人 / 电话"), f"联系人：{BLANK}　　电话：{BLANK}"],
            [L("获证组织（盖章）"), "\n\n日期：______年____月____日"],
        ],
    )
    return doc


# The four status letters share one layout; what differs is said here (and in letter.obligations).
_LETTERS = {
    "suspension": (
        "认证证书暂停通知书",
        "经本机构评定，决定自{{ letter.decision_date }}起暂停贵组织的认证证书，暂停期为"
        "{{ letter.period_start }}至{{ letter.period_end }}。",
    ),
    "restoration": (
        "认证证书恢复通知书",
        "贵组织的认证证书自{{ letter.period_start }}起暂停。经本机构审核确认，暂停原因已消除，"
        "决定自{{ letter.decision_date }}起恢复贵组织的认证证书。",
    ),
    "withdrawal": (
        "认证证书撤销通知书",
        "经本机构评定，决定自{{ letter.decision_date }}起撤销贵组织的认证证书。",
    ),
    "cancellation": (
        "认证证书注销通知书",
        "经本机构评定，决定自{{ letter.decision_date }}起注销贵组织的认证证书。",
    ),
}


def build_status_letter(kind: str) -> Doc:
    """认证证书暂停/恢复/撤销/注销通知书 (the certificate, the decision, reason, duties, appeal)."""
    title, decision = _LETTERS[kind]
    doc = new_document(title, header=title)
    para(doc, title, style="Title")
    para(doc, "编号：{{ letter.reference }}", style="Subtitle")
    para(doc, "**致：{{ org.name }}**", after=6)
    para(
        doc,
        "贵组织持有的本机构认证证书（证书编号：{{ certificate.number }}）依据{{ scheme.standard_full }}颁发，"
        "有效期至{{ certificate.expiry_date }}。" + decision + "现将有关事项通知如下：",
        style="BodyIndent",
        after=6,
    )
    rows: list[list[C | str]] = [
        [L("获证组织"), "{{ org.name }}"],
        [L("统一社会信用代码"), "{{ org.uscc }}"],
        [L("证书编号"), "{{ certificate.number }}"],
        [L("认证依据"), "{{ scheme.standard_full }}"],
        [L("认证范围"), "{{ certified_scope }}"],
        [L("认证等级"), "{{ result.grade }}{% if result.stars %}　{{ result.stars }}{% endif %}"],
        [L("决定"), "{{ letter.decision }}认证证书"],
        [L("决定日期"), "{{ letter.decision_date }}"],
    ]
    if kind == "suspension":
        period = "{{ letter.period_start }}至{{ letter.period_end }}（最长{{ letter.max_months }}个月）"
        rows.append([L("暂停期"), period])
    if kind == "restoration":
        rows.append([L("暂停期"), "{{ letter.period_start }}至{{ letter.period_end }}"])
    table(doc, [38, 127], rows)
    heading(doc, "一、" + ("恢复" if kind == "restoration" else "") + "原因")
    para(doc, "{{ letter.reason }}", style="BodyIndent")
    heading(doc, "二、贵组织应当")
    items_list(doc, "letter.obligations")
    heading(doc, "三、申诉")
    para(doc, "{{ letter.appeal }}", style="BodyIndent")
    heading(doc, "四、联系方式")
    _contact(doc, keep_next=True)
    para(doc, "{{ body.name }}（盖章）", align="right", before=24, keep_next=True)
    para(doc, "{{ letter.decision_date }}", align="right")
    return doc


BUILDERS: dict[str, Callable[[], Doc]] = {
    "audit_plan.docx": build_audit_plan,
    "scoresheet.docx": build_scoresheet,
    "report.docx": build_report,
    "certificate.docx": build_certificate,
    "surveillance_notice.docx": build_surveillance_notice,
    **{f"letter_{kind}.docx": functools.partial(build_status_letter, kind) for kind in _LETTERS},
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成 templates/ 下的 Word 模板")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "templates")
    args = parser.parse_args(argv)
    for name, build in BUILDERS.items():
        save(build(), args.out / name)
        print(args.out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
