"""Tests for the template checker, on deliberately broken templates built with python-docx."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm
from PIL import Image

from certdocs.errors import Problem
from certdocs.render import document_bytes, render_docx_bytes
from certdocs.templatecheck import check_template, check_templates, known_context
from tests.blank_docx import blank_document, shared_styles_unchanged  # noqa: F401  (the fixture guards the shared styles)

ROOT = Path(__file__).resolve().parent.parent
Build = Callable[[Any], None]


def _template(tmp_path: Path, build: Build, name: str = "t.docx") -> Path:
    doc = blank_document()
    build(doc)
    path = tmp_path / name
    path.write_bytes(document_bytes(doc))  # as python-docx saves it and tools/build_templates.py normalises it
    return path


def _check(tmp_path: Path, build: Build) -> list[Problem]:
    return check_template(_template(tmp_path, build))


def _table(doc: Any, rows: list[list[str]]) -> Any:
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    return table


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def _clean(doc: Any) -> None:
    doc.sections[0].header.paragraphs[0].text = "{{ body.name }} {{ certificate.number }}"
    doc.add_paragraph("{{ org.name }}（{{ org.uscc }}）{% if result.stars %}{{ result.stars }}{% endif %}")
    doc.add_paragraph("{%p for x in audit.objectives %}")
    doc.add_paragraph("{{ loop.index }}．{{ x }}")
    doc.add_paragraph("{%p endfor %}")
    _table(
        doc,
        [
            ["序号", "条款"],
            ["{%tr for i in items %}", ""],
            ["{{ i.no }}", "{{ i.requirement }}"],
            ["{%tr endfor %}", ""],
        ],
    )
    doc.add_paragraph('{{ certificate.qr }} {{ org.contact_name or "________" }} {{ items|length }}')
    run = doc.add_paragraph().add_run("{{ body.signatory_name }}")
    run.font.name = "宋体"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "黑体")


def test_a_clean_template_has_no_problems(tmp_path: Path) -> None:
    assert _check(tmp_path, _clean) == []


@pytest.mark.skipif(not (ROOT / "templates").is_dir(), reason="no bundled templates")
def test_every_bundled_template_has_no_problems() -> None:
    assert check_templates(ROOT / "templates") == []


def test_it_reports_a_syntax_error_with_its_paragraph(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("标题")
        doc.add_paragraph("组织名称：{{ org.name + }}")

    [problem] = _check(tmp_path, build)

    assert problem.where.startswith("t.docx 第2段「组织名称：{{ org.name + }}」")
    assert "模板语法错误" in problem.rule


def test_it_explains_full_width_symbols_and_spaced_braces(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("{{ org.name。upper() }}")
        doc.add_paragraph("{{ org.name } } 与 { { org.uscc }}")

    problems = _check(tmp_path, build)

    assert [p.where.split("「")[0] for p in problems] == ["t.docx 第1段", "t.docx 第2段"]
    assert "全角符号「。」" in problems[0].rule
    assert "括号之间有空格" in problems[1].rule


def test_a_tag_split_over_differently_formatted_runs_is_repaired_by_docxtpl(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        p = doc.add_paragraph()
        p.add_run("名称：{{ org.")
        p.add_run("na").bold = True
        p.add_run("me }}").font.name = "黑体"

    path = _template(tmp_path, build)

    assert check_template(path) == []
    assert "杭州某电器".encode() in zipfile.ZipFile(
        io.BytesIO(render_docx_bytes(path, {"org": {"name": "杭州某电器"}}))
    ).read("word/document.xml")


def test_it_reports_a_tag_split_across_a_hyperlink_that_docxtpl_cannot_repair(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("第一段")
        p = doc.add_paragraph()
        link = f'<w:hyperlink {nsdecls("w")} w:anchor="a"><w:r><w:t>{{{{ org.</w:t></w:r></w:hyperlink>'
        p._p.append(parse_xml(link))
        p.add_run("name }} 之后的文字")

    [problem] = _check(tmp_path, build)

    assert problem.where.startswith("t.docx 第2段")
    assert "被 Word 拆开" in problem.rule


def test_it_reports_a_tag_split_across_a_tracked_insertion_in_the_header(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        p = doc.sections[0].header.paragraphs[0]
        p.add_run("{{ org.")
        p._p.append(
            parse_xml(
                f'<w:ins {nsdecls("w")} w:id="1" w:author="a" w:date="2026-01-01T00:00:00Z">'
                "<w:r><w:t>name }}</w:t></w:r></w:ins>"
            )
        )

    [problem] = _check(tmp_path, build)

    assert problem.where.startswith("t.docx 页眉 第1段")


def test_curly_quotes_in_pairs_are_fine_but_mismatched_ones_are_reported(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("{{ org.legal_representative or “——” }}")  # docxtpl straightens these
        doc.add_paragraph("{{ org.contact_name or ‘——” }}")

    [problem] = _check(tmp_path, build)

    assert problem.where.startswith("t.docx 第2段")
    assert "弯引号" in problem.rule


def test_it_reports_a_tr_loop_without_its_end(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        _table(doc, [["序号"], ["{%tr for m in audit.team %}"], ["{{ m.name }}"]])

    [problem] = _check(tmp_path, build)

    assert problem.where.startswith("t.docx 表格1 第2行第1列")
    assert "没有对应的结束标签 {%tr endfor %}" in problem.rule


def test_a_misspelt_end_tag_is_one_problem(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        _table(doc, [["{%tr for m in audit.team %}"], ["{{ m.name }}"], ["{%tr endfr %}"]])
        doc.add_paragraph("{% if org.name %}{{ org.name }}{% edif %}")

    problems = _check(tmp_path, build)

    assert [(p.where.split("「")[0], p.rule) for p in problems] == [
        ("t.docx 表格1 第3行第1列", "「{%tr endfr %}」不是有效的结束标签，应为 {%tr endfor %}"),
        ("t.docx 第1段", "「{% edif %}」不是有效的结束标签，应为 {% endif %}"),
    ]


def test_it_reports_a_tr_loop_closed_in_another_table(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        _table(doc, [["{%tr for m in audit.team %}"], ["{{ m.name }}"]])
        doc.add_paragraph("两表之间")
        _table(doc, [["{%tr endfor %}"]])

    [problem] = _check(tmp_path, build)

    assert problem.where.startswith("t.docx 表格1 第1行第1列")
    assert "不在同一个表格中" in problem.rule
    assert "表格2 第1行第1列" in problem.rule


def test_it_reports_a_p_block_opened_in_a_cell_and_closed_outside(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        _table(doc, [["{%p if org.contact_name %}", "联系人"]])
        doc.add_paragraph("{{ org.contact_name }}")
        doc.add_paragraph("{%p endif %}")

    [problem] = _check(tmp_path, build)

    assert problem.where.startswith("t.docx 表格1 第1行第1列")
    assert "第2段" in problem.rule
    assert "不在同一位置" in problem.rule


def test_it_reports_an_inline_if_closed_in_another_paragraph(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("{% if org.contact_name %}联系人：")
        doc.add_paragraph("{{ org.contact_name }}{% endif %}")

    [problem] = _check(tmp_path, build)

    assert problem.where.startswith("t.docx 第1段")
    assert "{%p if %}" in problem.rule


def test_it_reports_unknown_variables_with_suggestions(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("{{ org.nmae }}")
        doc.add_paragraph("{% for x in items %}{{ x.requirment }}{% endfor %}")
        doc.add_paragraph("{{ orgs.name }} {{ audit.team.name }}")
        doc.add_paragraph("{% if org.fax is defined %}{{ org.fax|default('') }}{% endif %}")

    problems = _check(tmp_path, build)

    assert [p.where.split("「")[0] for p in problems] == [
        "t.docx 第1段",
        "t.docx 第2段",
        "t.docx 第3段",
        "t.docx 第3段",
    ]
    assert "未定义的变量 org.nmae（是否应为 org.name？可用：org." in problems[0].rule
    assert "x.requirment（x 是 items 中的一项；是否应为 x.requirement？" in problems[1].rule
    assert "未定义的变量 orgs" in problems[2].rule
    assert "audit.team 是列表" in problems[3].rule


def test_it_reports_text_that_a_p_tag_would_delete(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("{%p if org.contact_name %}联系人：{{ org.contact_name }}")
        doc.add_paragraph("{%p endif %}")

    [problem] = _check(tmp_path, build)

    assert problem.where.startswith("t.docx 第1段")
    assert "会被删除" in problem.rule


def _drop_from_zip(path: Path, prefix: str) -> None:
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist() if not info.filename.startswith(prefix)]
    with zipfile.ZipFile(path, "w") as dst:
        for info, data in entries:
            dst.writestr(info, data)


def test_it_reports_an_image_whose_part_is_missing(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("标题")
        doc.add_paragraph().add_run().add_picture(io.BytesIO(_png()), width=Mm(20))

    path = _template(tmp_path, build)
    _drop_from_zip(path, "word/media/")

    problems = check_template(path)

    assert any("缺少 word/media/image1.png" in p.rule for p in problems)


def test_it_reports_an_image_linked_to_an_outside_file(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("标题")
        doc.add_paragraph().add_run().add_picture(io.BytesIO(_png()), width=Mm(20))

    path = _template(tmp_path, build)
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w") as dst:
        for info, data in entries:
            if info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b'Target="media/image1.png"', b'Target="file:///C:/logo.png" TargetMode="External"')
            dst.writestr(info, data)

    [problem] = check_template(path)

    assert problem.where == "t.docx 第2段"
    assert "外部文件 file:///C:/logo.png" in problem.rule


def test_it_reports_an_old_word_vml_image_whose_relationship_is_missing(tmp_path: Path) -> None:
    # Word 2003 documents (and some converters) keep pictures as VML <v:imagedata>, not <a:blip>.
    def build(doc: Any) -> None:
        doc.add_paragraph("标题")
        run = doc.add_paragraph().add_run()._element
        run.append(
            parse_xml(
                f'<w:pict {nsdecls("w", "r")} xmlns:v="urn:schemas-microsoft-com:vml">'
                '<v:shape style="width:40pt;height:40pt"><v:imagedata r:id="rId999"/></v:shape></w:pict>'
            )
        )

    [problem] = check_template(_template(tmp_path, build))

    assert problem.where == "t.docx 第2段"
    assert "图片引用的 rId999 不存在" in problem.rule


def test_it_reports_a_chinese_font_the_server_does_not_have(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("正文")
        run = doc.add_paragraph().add_run("认证证书")
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "方正超粗黑简体")

    [problem] = _check(tmp_path, build)

    assert problem.where == "t.docx 字体「方正超粗黑简体」（用于第2段）"
    assert "没有安装" in problem.rule


def test_it_reports_every_problem_of_one_file_at_once(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.sections[0].footer.paragraphs[0].text = "第 {{ page }} 页"
        doc.add_paragraph("{{ org.name + }}")
        doc.add_paragraph("{{ org.nmae }}")
        doc.add_paragraph("{{ org.uscc or ‘—” }}")
        _table(doc, [["{%tr for m in audit.team %}"], ["{{ m.name }}"]])
        doc.add_paragraph().add_run("证书").font.name = "方正超粗黑简体"

    problems = _check(tmp_path, build)

    wheres = [p.where.split("「")[0] for p in problems]
    assert wheres == [
        "t.docx 第1段",
        "t.docx 第3段",
        "t.docx 表格1 第1行第1列",
        "t.docx 第2段",
        "t.docx 页脚 第1段",
        "t.docx 字体",
    ]
    keys = ["语法错误", "弯引号", "{%tr endfor %}", "org.nmae", "未定义的变量 page", "方正超粗黑简体"]
    assert all(key in p.where + p.rule for key, p in zip(keys, problems, strict=True))


def test_check_templates_reports_missing_and_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "report.docx").write_bytes(b"not a zip")
    _template(tmp_path, _clean, "certificate.docx")
    (tmp_path / "~$certificate.docx").write_bytes(b"Word lock file")

    assert [p.where for p in check_templates(tmp_path)] == ["report.docx"] + [
        str(tmp_path / name) for name in ("audit_plan.docx", "scoresheet.docx", "surveillance_notice.docx")
    ]
    assert [p.rule for p in check_templates(tmp_path, names=["certificate.docx", "plan.docx"])] == ["模板文件不存在"]
    assert check_templates(tmp_path / "nowhere")[0].rule == "模板文件夹不存在，可用 --templates 指定模板文件夹"


def test_known_context_is_the_real_context_key_tree() -> None:
    tree = known_context()

    assert {"name", "uscc", "legal_representative"} <= set(tree["org"])
    assert {"requirement", "earned", "excluded"} <= set(tree["items"][0])
    assert tree["items"][0]["excluded"] == "bool"
    assert set(tree["categories"][0]["items"][0]) == set(tree["items"][0])
    assert "qr" in tree["certificate"]
    assert "clause" in tree["deductions"][0]


def test_chinese_text_tagged_japanese_is_reported(tmp_path: Path) -> None:
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = Document()
    run = document.add_paragraph().add_run("骨直令 {{ org.name }}")
    lang = OxmlElement("w:lang")
    lang.set(qn("w:eastAsia"), "ja-JP")
    run._element.get_or_add_rPr().append(lang)
    path = tmp_path / "ja.docx"
    document.save(str(path))
    problems = check_template(path)
    assert any("ja-JP" in p.rule and "第1段" in p.where for p in problems), problems


# -- what would stop a render after a number is reserved ------------------------------------


def test_unknown_filters_and_tests_are_all_reported_with_their_paragraphs(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("{{ org.name|uper }}")
        doc.sections[0].header.paragraphs[0].text = "{% if org.name is emtpy %}无{% endif %}"
        doc.add_paragraph("{{ org.uscc|trim|nosuchfilter }}")

    problems = _check(tmp_path, build)

    assert [(p.where.split("「")[0], p.rule.split("（")[0]) for p in problems] == [
        ("t.docx 第1段", "未知的过滤器 |uper"),
        ("t.docx 第2段", "未知的过滤器 |nosuchfilter"),
        ("t.docx 页眉 第1段", "未知的测试 is emtpy"),
    ]


def test_an_unknown_filter_suggests_the_close_one(tmp_path: Path) -> None:
    [problem] = _check(tmp_path, lambda doc: doc.add_paragraph("{{ org.name|uper }}"))
    assert "是否应为 |upper" in problem.rule


SANDBOX_REFUSES = [
    "{{ org.__class__ }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ org['__class__'] }}",
    "{{ '{0.__class__}'.format(org) }}",
    "{{ range(200000)|length }}",
]


@pytest.mark.parametrize("tag", SANDBOX_REFUSES)
def test_what_the_sandbox_refuses_is_reported_before_a_render(tmp_path: Path, tag: str) -> None:
    problems = _check(tmp_path, lambda doc: doc.add_paragraph(f"名称：{tag}"))
    assert [p.where.split("「")[0] for p in problems] == ["t.docx 第1段"]


@pytest.mark.parametrize("tag", SANDBOX_REFUSES)
def test_what_the_checker_reports_as_refused_really_fails_to_render(tmp_path: Path, tag: str) -> None:
    from certdocs.errors import TemplateError
    from tests.data.context_sample import sample_context

    template = _template(tmp_path, lambda doc: doc.add_paragraph(f"名称：{tag}"))
    with pytest.raises(TemplateError):
        render_docx_bytes(template, sample_context())


def test_a_format_string_from_the_audit_is_reported_as_it_may_reach_for_internals(tmp_path: Path) -> None:
    from certdocs.errors import TemplateError
    from tests.data.context_sample import sample_context

    build: Build = lambda doc: doc.add_paragraph("{{ org.name.format(1) }}")  # noqa: E731
    [problem] = _check(tmp_path, build)
    context = sample_context()
    context["org"]["name"] = "{0.__class__}"
    with pytest.raises(TemplateError):
        render_docx_bytes(_template(tmp_path, build, "u.docx"), context)
    assert ".format()" in problem.rule


def test_a_method_printed_without_its_call_is_reported(tmp_path: Path) -> None:
    [problem] = _check(tmp_path, lambda doc: doc.add_paragraph("{{ ''.format }}"))
    assert ".format" in problem.rule


def test_a_constant_format_string_is_fine(tmp_path: Path) -> None:
    assert _check(tmp_path, lambda doc: doc.add_paragraph("{{ '{}年'.format(org.name) }}")) == []


@pytest.mark.skipif(not (ROOT / "templates").is_dir(), reason="no bundled templates")
def test_a_template_a_profile_names_but_the_folder_lacks_is_reported(tmp_path: Path) -> None:
    import shutil

    for name in ("audit_plan.docx", "scoresheet.docx", "report.docx", "certificate.docx"):
        shutil.copy(ROOT / "templates" / name, tmp_path / name)

    [problem] = check_templates(tmp_path)

    assert problem.where == str(tmp_path / "surveillance_notice.docx")
    assert "模板文件不存在" in problem.rule
    assert "xbht（监督审核通知书）" in problem.rule


# -- checking the same templates again ------------------------------------------------------------


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates really read (parsed) from now on."""
    from certdocs.templatecheck._source import read_template as real

    reads: list[str] = []

    def counted(name: str, data: bytes, problems: list[Problem]) -> Any:
        reads.append(name)
        return real(name, data, problems)

    monkeypatch.setattr("certdocs.templatecheck._check.read_template", counted)
    return reads


def test_an_unchanged_template_is_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _template(tmp_path, lambda doc: doc.add_paragraph("{{ org.nmae }}"), "memo-unchanged.docx")
    reads = _counting_reads(monkeypatch)
    first = check_template(path)
    again = check_template(path)
    assert again == first
    assert reads == ["memo-unchanged.docx"]


def _stored(path: Path) -> bytes:
    """The template's bytes with every part stored uncompressed (equal texts, equal sizes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info), compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def test_a_template_changed_on_disk_is_checked_again(tmp_path: Path) -> None:
    path = tmp_path / "memo-changed.docx"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    wrong = _stored(_template(tmp_path / "a", lambda doc: doc.add_paragraph("{{ org.nmae }}"), path.name))
    right = _stored(_template(tmp_path / "b", lambda doc: doc.add_paragraph("{{ org.name }}"), path.name))
    assert len(wrong) == len(right)
    path.write_bytes(wrong)
    stat = path.stat()
    assert [p.where for p in check_template(path)] == ["memo-changed.docx 第1段「{{ org.nmae }}」"]
    path.write_bytes(right)
    # Neither the size nor the time stamp tells the change: the bytes do.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert check_template(path) == []
    path.write_bytes(b"not a zip")
    assert [p.rule.startswith("不是有效的 Word（.docx）文件") for p in check_template(path)] == [True]


def test_the_same_bytes_under_another_name_are_reported_under_that_name(tmp_path: Path) -> None:
    first = _template(tmp_path, lambda doc: doc.add_paragraph("{{ org.nmae }}"), "memo-a.docx")
    second = tmp_path / "memo-b.docx"
    second.write_bytes(first.read_bytes())
    assert check_template(first)[0].where.startswith("memo-a.docx ")
    assert check_template(second)[0].where.startswith("memo-b.docx ")


def test_changing_the_returned_list_does_not_change_the_next_answer(tmp_path: Path) -> None:
    path = _template(tmp_path, lambda doc: doc.add_paragraph("{{ org.nmae }}"), "memo-list.docx")
    problems = check_template(path)
    problems.clear()
    assert len(check_template(path)) == 1


def test_a_check_that_broke_off_is_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from certdocs.templatecheck._assets import check_fonts as real

    path = _template(tmp_path, _clean, "memo-broke-off.docx")
    calls: list[int] = []

    def fails_once(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("fc-match 被终止")
        real(*args)

    monkeypatch.setattr("certdocs.templatecheck._check.check_fonts", fails_once)
    [problem] = check_template(path)
    assert problem.rule.startswith("模板检查未能完成（OSError: fc-match 被终止）")
    assert check_template(path) == []
    assert len(calls) == 2


def _with_part(path: Path, member: str, data: bytes, out: Path) -> Path:
    """A copy of the template ``path`` at ``out`` whose part ``member`` is ``data``."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, data if info.filename == member else source.read(info))
    return out


def test_a_damaged_part_is_reported_after_a_template_with_that_part_intact(tmp_path: Path) -> None:
    intact = _template(tmp_path, _clean, "parts-intact.docx")
    assert check_template(intact) == []
    with zipfile.ZipFile(intact) as package:
        styles = package.read("word/styles.xml")
    damaged = _with_part(intact, "word/styles.xml", styles[: len(styles) // 2], tmp_path / "parts-damaged.docx")
    problems = check_template(damaged)
    assert [p.where for p in problems] == ["parts-damaged.docx（word/styles.xml）"]
    assert "文件内部的 XML 已损坏" in problems[0].rule
    assert check_template(intact) == []


def test_the_same_broken_tag_in_two_templates_is_reported_in_each(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph("{{ org.uscc or ‘—” }}")  # Word's curly quotes: the advice names them

    def build_later(doc: Any) -> None:
        doc.add_paragraph("开头")
        build(doc)

    first = _template(tmp_path, build, "tag-a.docx")
    second = _template(tmp_path, build_later, "tag-b.docx")
    (problem,) = check_template(first)
    assert problem.where == "tag-a.docx 第1段「{{ org.uscc or ‘—” }}」"
    assert "弯引号" in problem.rule
    assert [(p.where, p.rule) for p in check_template(second)] == [
        ("tag-b.docx 第2段「{{ org.uscc or ‘—” }}」", problem.rule)
    ]


# -- a template whose zip file is damaged ----------------------------------------------------------


def _rezipped(path: Path, out: Path, *, extra: tuple[tuple[str, bytes], ...] = (), stored: bool = True) -> Path:
    """A copy of the template ``path`` at ``out`` with ``extra`` parts added.

    ``stored``: the parts are not compressed, so a byte of a part is a byte of the file.
    """
    compression = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", compression) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        for name, data in extra:
            target.writestr(name, data)  # a name already written: zipfile warns, and writes it again
    return out


def _data_start(data: bytes, member: str) -> int:
    """Where the stored bytes of ``member`` start in the zip file ``data``."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    name_length = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_length = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    return info.header_offset + 30 + name_length + extra_length


def _with_byte(path: Path, at: int, value: int) -> Path:
    """``path`` with its byte at ``at`` made ``value`` (which must differ from the byte there)."""
    data = bytearray(path.read_bytes())
    assert data[at] != value
    data[at] = value
    path.write_bytes(bytes(data))
    return path


def _flipped(path: Path, at: int) -> Path:
    """``path`` with the lowest bit of its byte at ``at`` flipped."""
    return _with_byte(path, at, path.read_bytes()[at] ^ 0x01)


def _bundled(tmp_path: Path, name: str = "bad.docx", **options: Any) -> Path:
    return _rezipped(ROOT / "templates" / "certificate.docx", tmp_path / name, **options)


def test_a_part_whose_bytes_no_longer_match_their_crc_is_reported_as_a_damaged_file(tmp_path: Path) -> None:
    path = _bundled(tmp_path)
    _flipped(path, _data_start(path.read_bytes(), "word/document.xml") + 100)

    [problem] = check_template(path)

    assert problem.where == "bad.docx（word/document.xml）"
    assert problem.rule.startswith("文件已损坏：校验和（CRC-32）不符")
    assert "请用 Word 打开该模板后另存为 .docx，或从备份恢复该模板" in problem.rule


def test_compressed_data_that_does_not_unpack_is_reported_as_a_damaged_file(tmp_path: Path) -> None:
    path = _bundled(tmp_path, stored=False)
    # The first byte of a deflate stream names its block type; 0xFF names the reserved one.
    _with_byte(path, _data_start(path.read_bytes(), "word/styles.xml"), 0xFF)

    [problem] = check_template(path)

    assert problem.where == "bad.docx（word/styles.xml）"
    assert problem.rule.startswith("文件已损坏：压缩数据无法解压")


def test_a_relationships_part_that_is_not_xml_is_reported_not_raised(tmp_path: Path) -> None:
    intact = _bundled(tmp_path, "intact.docx")
    path = _with_part(intact, "_rels/.rels", b"not xml", tmp_path / "bad.docx")

    [problem] = check_template(path)

    assert problem.where == "bad.docx（_rels/.rels）"
    assert problem.rule.startswith("文件内部的 XML 已损坏")


def test_a_part_that_is_in_the_file_twice_is_reported_once_as_a_damaged_file(tmp_path: Path) -> None:
    with zipfile.ZipFile(ROOT / "templates" / "certificate.docx") as package:
        document = package.read("word/document.xml")
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = _bundled(tmp_path, extra=(("word/document.xml", document),))

    [problem] = check_template(path)

    assert problem.where == "bad.docx（word/document.xml）"
    assert problem.rule.startswith("文件已损坏：该部分在文件中出现了 2 次")


def test_a_document_part_without_a_body_is_reported_as_a_damaged_file(tmp_path: Path) -> None:
    intact = _bundled(tmp_path, "intact.docx")
    path = _with_part(intact, "word/document.xml", b"<x/>", tmp_path / "bad.docx")

    [problem] = check_template(path)

    assert problem.where == "bad.docx（word/document.xml）"
    assert problem.rule.startswith("文件已损坏：正文中没有 w:body 元素")


def test_a_damaged_image_is_reported_before_a_render_would_meet_it(tmp_path: Path) -> None:
    def build(doc: Any) -> None:
        doc.add_paragraph().add_run().add_picture(io.BytesIO(_png()), width=Mm(20))

    path = _rezipped(_template(tmp_path, build), tmp_path / "bad.docx")
    _flipped(path, _data_start(path.read_bytes(), "word/media/image1.png") + 20)

    [problem] = check_template(path)

    assert problem.where == "bad.docx（word/media/image1.png）"
    assert problem.rule.startswith("文件已损坏：校验和（CRC-32）不符")


def test_a_zip_directory_naming_an_unknown_zip_version_is_reported_not_raised(tmp_path: Path) -> None:
    path = _bundled(tmp_path)
    directory = path.read_bytes().index(b"PK\x01\x02")
    _with_byte(path, directory + 6, 200)  # "version needed to extract": 20.0, which no zip reader has

    [problem] = check_template(path)

    assert problem.where == "bad.docx"
    assert problem.rule.startswith("不是有效的 Word（.docx）文件：文件已损坏，文件目录无法读取")


def test_a_template_cut_short_is_reported_not_raised(tmp_path: Path) -> None:
    path = _bundled(tmp_path)
    path.write_bytes(path.read_bytes()[:-100])

    [problem] = check_template(path)

    assert problem.where == "bad.docx"
    assert problem.rule.startswith("不是有效的 Word（.docx）文件")


def test_a_file_that_is_not_a_zip_is_named_in_chinese_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 an old .doc renamed")

    [problem] = check_template(path)

    assert problem.where == "old.docx"
    assert problem.rule == (
        "不是有效的 Word（.docx）文件：不是 .docx 格式（.docx 是 zip 压缩包），可能文件不完整，"
        "或是 .doc 等其他文件改了扩展名；请用 Word 打开后另存为 .docx"
    )


def test_a_part_that_is_not_xml_is_located_by_line_and_column_in_chinese(tmp_path: Path) -> None:
    intact = _bundled(tmp_path, "intact.docx")
    path = _with_part(intact, "word/document.xml", b"<document>\n  <oops", tmp_path / "bad.docx")

    [problem] = check_template(path)

    assert problem.where == "bad.docx（word/document.xml）"
    assert problem.rule.startswith("文件内部的 XML 已损坏（第 2 行第 ")
    assert problem.rule.endswith("请用 Word 打开该模板后另存为 .docx，或从备份恢复该模板")


def test_a_template_the_system_cannot_read_names_the_reason_in_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _bundled(tmp_path, "locked.docx")
    real = Path.read_bytes

    def refused(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refused)

    [problem] = check_template(path)

    assert problem.where == "locked.docx"
    assert problem.rule.startswith("无法读取模板文件：")
    assert "Permission denied" not in problem.rule


def test_a_missing_relative_templates_folder_is_named_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (problem,) = check_templates(Path("templates"))
    assert problem.where == "templates"
    assert f"（即 {tmp_path / 'templates'}）" in problem.rule
