"""Rendering the Word templates: complete, literal, sandboxed, reproducible, one-page certificate."""

from __future__ import annotations

import copy
import functools
import io
import os
import re
import runpy
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from certdocs.errors import TemplateError
from certdocs.qr import qr_png
from certdocs.render import document_bytes, normalise_docx, prepare_context, render_docx, render_docx_bytes
from tests.blank_docx import blank_document, shared_styles_unchanged  # noqa: F401  (the fixture guards the shared styles)
from tests.data.context_sample import sample_context
from tests.libreoffice import LentConverter

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
NAMES = ["audit_plan.docx", "scoresheet.docx", "report.docx", "certificate.docx", "surveillance_notice.docx"]
SCHEMES = ["xbht-s04-2025", "bz-ts1008-2025"]


# The QR code of a verification URL, made once a module (bytes; certdocs.qr is tested in test_qr).
_qr = functools.cache(qr_png)


def _render(name: str, context: dict[str, Any]) -> bytes:
    return render_docx_bytes(TEMPLATES / name, context, qr_png=_qr(context["certificate"]["verify_url"]))


@functools.cache
def _sample(name: str, scheme: str = "xbht-s04-2025") -> bytes:
    """The template ``name`` rendered with the unchanged sample context of ``scheme``, once a module.

    Many tests read what the same document says; each test that changes the context renders its own.
    """
    return _render(name, sample_context(scheme))


def _text(docx: bytes) -> str:
    """All visible text of a document (body, headers, footers), one line per paragraph."""
    lines = []
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        for name in sorted(package.namelist()):
            if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name):
                xml = package.read(name).decode()
                for paragraph in re.findall(r"<w:p[ >].*?</w:p>", xml, flags=re.S):
                    text = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", paragraph))
                    lines.append(
                        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
                    )
    return "\n".join(lines)


def _template(tmp_path: Path, *paragraphs: str) -> Path:
    document = blank_document()
    for text in paragraphs:
        document.add_paragraph(text)
    path = tmp_path / "测试模板.docx"
    path.write_bytes(document_bytes(document))  # as python-docx saves it and tools/build_templates.py normalises it
    return path


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", NAMES)
def test_every_template_renders_with_the_sample_context(name: str, scheme: str) -> None:
    context = sample_context(scheme)
    text = _text(_sample(name, scheme))
    assert context["org"]["name"] in text
    assert context["body"]["name"] in text


@pytest.mark.parametrize("name", NAMES)
def test_no_document_shows_none_null_or_a_raw_template_tag(name: str) -> None:
    for scheme in SCHEMES:
        text = _text(_sample(name, scheme))
        for leftover in ("None", "null", "{{", "}}", "{%", "%}", "{#"):
            assert leftover not in text, (name, scheme, leftover)


@pytest.mark.parametrize("name", NAMES)
def test_facts_a_body_profile_leaves_empty_leave_no_dangling_labels(name: str) -> None:
    # 新标恒通 (the sample context of xbht-s04-2025): no address, e-mail, website or signatory
    text = _text(_sample(name, "xbht-s04-2025"))
    assert "（）" not in text
    assert not re.search(r"(^|\n)(地址|地　　址|邮箱|电子邮箱|网址|网　　址)：[ 　]*(\n|$)", text)


def test_the_certificate_shows_organisation_number_grade_and_the_three_dates() -> None:
    context = sample_context()
    text = _text(_sample("certificate.docx"))
    certificate = context["certificate"]
    for value in (
        context["org"]["name"],
        context["org"]["uscc"],
        certificate["number"],
        context["result"]["grade"],
        context["result"]["stars"],
        certificate["first_issue_date"],
        certificate["issue_date"],
        certificate["expiry_date"],
        context["scheme"]["standard_full"],
        context["certified_scope"],
        "扫码验证",
    ):
        assert value in text


def test_the_certificate_carries_the_qr_code_at_least_25_mm_wide() -> None:
    with zipfile.ZipFile(io.BytesIO(_sample("certificate.docx"))) as package:
        xml = package.read("word/document.xml").decode()
        images = [n for n in package.namelist() if n.startswith("word/media/")]
    (width,) = re.findall(r'<wp:extent cx="(\d+)"', xml)
    assert int(width) >= 25 * 36000  # EMU per mm
    assert len(images) == 1


def test_the_scoresheet_lists_every_item_with_subtotals_and_excluded_reasons() -> None:
    context = sample_context()
    text = _text(_sample("scoresheet.docx"))
    for item in context["items"]:
        assert item["clause"] in text
    for category in context["categories"]:
        assert f"{category['name']}小计" in text
    assert "不适用：本企业不涉及废弃商品回收" in text
    assert context["result"]["score"] in text


def test_the_level_scheme_scoresheet_shows_levels_instead_of_points() -> None:
    text = _text(_sample("scoresheet.docx", "bz-ts1008-2025"))
    assert "3级 已定义级" in text
    assert "战略性" in text
    assert "分值" not in text


def test_markup_characters_in_values_render_literally() -> None:
    context = sample_context()
    context["org"]["name"] = 'A&B <测试> "公司"'
    data = _render("certificate.docx", context)
    assert 'A&B <测试> "公司"' in _text(data)
    Document(io.BytesIO(data))  # still a valid Word document


def test_an_unknown_variable_names_the_template_and_the_variable(tmp_path: Path) -> None:
    template = _template(tmp_path, "证书编号：{{ certificate.number }}", "有效期至：{{ certificate.expiry }}")
    with pytest.raises(TemplateError) as caught:
        render_docx_bytes(template, sample_context())
    message = str(caught.value)
    assert "测试模板.docx" in message
    assert "certificate.expiry" in message
    assert "未定义" in message
    assert "有效期至" in message  # the place in the template


def test_an_unknown_top_level_name_is_reported_by_name(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="变量 organisation 未定义"):
        render_docx_bytes(_template(tmp_path, "{{ organisation }}"), sample_context())


def test_a_syntax_error_names_the_template_and_the_place(tmp_path: Path) -> None:
    template = _template(tmp_path, "开头", "{% if result.passed %}通过", "结尾")
    with pytest.raises(TemplateError, match=r"测试模板\.docx.*语法错误"):
        render_docx_bytes(template, sample_context())


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ body.name.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_the_sandbox_refuses_python_internals(tmp_path: Path, expression: str) -> None:
    with pytest.raises(TemplateError, match="安全"):
        render_docx_bytes(_template(tmp_path, expression), sample_context())


def test_a_template_printing_none_is_refused(tmp_path: Path) -> None:
    context = sample_context()
    context["org"]["legal_representative"] = None
    with pytest.raises(TemplateError, match="None"):
        render_docx_bytes(_template(tmp_path, "法定代表人：{{ org.legal_representative }}"), context)


@pytest.mark.parametrize(("mode", "mode_name", "remote"), [("remote", "远程审核", True), ("onsite", "现场审核", False)])
def test_the_audit_plan_states_remote_audit_requirements_only_for_remote_audits(
    mode: str, mode_name: str, remote: bool
) -> None:
    context = sample_context()
    context["audit"].update(mode=mode, mode_name=mode_name)
    text = _text(_render("audit_plan.docx", context))
    assert ("视频会议系统" in text) is remote
    assert mode_name in text


def test_a_blank_optional_value_prints_a_line_for_handwriting() -> None:
    context = sample_context()
    context["org"]["legal_representative"] = ""
    assert "法定代表人\n________" in _text(_render("audit_plan.docx", context))


def test_a_mapping_key_wins_over_a_dict_method_of_the_same_name(tmp_path: Path) -> None:
    template = _template(tmp_path, "{% for i in categories[0].items %}{{ i.clause }} {% endfor %}")
    assert "5.1.1.1" in _text(render_docx_bytes(template, sample_context()))


def test_a_missing_template_is_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="模板文件不存在"):
        render_docx_bytes(tmp_path / "nope.docx", sample_context())


def test_two_renders_of_the_same_inputs_are_byte_identical(tmp_path: Path) -> None:
    context = sample_context()
    first = render_docx(
        TEMPLATES / "certificate.docx",
        context,
        out=tmp_path / "a.docx",
        qr_png=_qr(context["certificate"]["verify_url"]),
    )
    second = render_docx(
        TEMPLATES / "certificate.docx",
        context,
        out=tmp_path / "b.docx",
        qr_png=_qr(context["certificate"]["verify_url"]),
    )
    assert first.read_bytes() == second.read_bytes()


@functools.cache
def _reference_environment() -> Any:
    """certdocs' sandbox as docxtpl is handed it, compiling each Jinja source once a module.

    Compiled by jinja2 itself and kept in a dict of this test's own, not by certdocs' cache of
    compiled sources (``render._Environment.from_string``), which the reference must not share:
    each template part is the same source for every scheme and context, and compiling it is
    most of a reference render. A compiled template keeps nothing of a render.
    """
    import jinja2

    from certdocs import render

    compiled: dict[str, Any] = {}

    class Reference(render._Environment):
        def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Any:
            if globals is not None or template_class is not None or not isinstance(source, str):
                return jinja2.Environment.from_string(self, source, globals, template_class)
            if source not in compiled:
                compiled[source] = jinja2.Environment.from_string(self, source)
            return compiled[source]

    return Reference(
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        finalize=render._refuse_none,
        keep_trailing_newline=True,
    )


def _plain_docxtpl(template: Path, context: dict[str, Any], qr: bytes) -> bytes:
    """The document as docxtpl renders it by itself: the template opened afresh, nothing of certdocs' kept."""
    from docxtpl import DocxTemplate

    from certdocs import render
    from certdocs._fitdocx import apply_sizes

    class Plain(DocxTemplate):  # type: ignore[misc]
        def render_xml_part(self, src_xml: str, part: Any, context: Any, jinja_env: Any = None) -> str:
            return str(super().render_xml_part(apply_sizes(src_xml, context.get("fit")), part, context, jinja_env))

    tpl = Plain(str(template))
    tpl.init_docx()
    tpl.render(render._prepare(context, tpl, qr), _reference_environment(), autoescape=True)
    buffer = io.BytesIO()
    tpl.save(buffer)
    return render.normalise_docx(buffer.getvalue())


@pytest.mark.parametrize("listing", [False, True], ids=["plain", "tabs-and-newlines"])
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", NAMES)
def test_every_template_renders_to_the_bytes_docxtpl_alone_makes(name: str, scheme: str, listing: bool) -> None:
    context = sample_context(scheme)
    context["fit"] = {"org.name": "12.5"}
    if listing:  # what docxtpl turns into markup: tab, line break, new paragraph, page break
        context["org"]["name"] += "\t第二段\n第三行"
        context["report"]["overview"] = "第一段\a第二段\f新的一页\n一行"
    qr = _qr(context["certificate"]["verify_url"])
    rendered = render_docx_bytes(TEMPLATES / name, context, qr_png=qr)
    assert rendered == render_docx_bytes(TEMPLATES / name, context, qr_png=qr)  # from what was kept
    assert rendered == _plain_docxtpl(TEMPLATES / name, context, qr)


def test_images_and_fields_in_headers_footers_and_properties_render_as_docxtpl_alone_would(tmp_path: Path) -> None:
    document = blank_document()
    document.sections[0].header.paragraphs[0].text = "页眉 {{ org.name }} {{ certificate.qr }}"
    document.sections[0].footer.paragraphs[0].text = "页脚 {{ certificate.number }}\t{{ org.name }}"
    document.add_paragraph("正文 {{ certificate.qr }} {{ org.name }}")
    document.core_properties.title = "{{ org.name }}"
    document.core_properties.subject = "甲\r\n乙"  # no tag, but Jinja makes the line end "\n"
    document.core_properties.comments = "没有标签的备注"
    template = tmp_path / "页眉有二维码.docx"
    document.save(str(template))
    context = sample_context()
    context["org"]["name"] = "甲\n乙\t丙 <&>"
    qr = _qr(context["certificate"]["verify_url"])
    rendered = render_docx_bytes(template, context, qr_png=qr)
    assert rendered == render_docx_bytes(template, context, qr_png=qr)
    assert rendered == _plain_docxtpl(template, context, qr)


def _with_footnotes(template: Path, text: str) -> None:
    """Give ``template`` a footnotes part holding ``text``, as Word adds one: the part, its relationship, its type."""
    with zipfile.ZipFile(template) as package:
        entries = {info.filename: package.read(info) for info in package.infolist()}
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    entries["word/footnotes.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{w}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        f'<w:footnote w:id="1"><w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p></w:footnote></w:footnotes>'
    ).encode()
    rels = "word/_rels/document.xml.rels"
    entries[rels] = entries[rels].replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Target="footnotes.xml" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"/></Relationships>',
    )
    entries["[Content_Types].xml"] = entries["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/word/footnotes.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/></Types>',
    )
    with zipfile.ZipFile(template, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            package.writestr(name, data)


def test_a_footnote_renders_as_docxtpl_alone_would(tmp_path: Path) -> None:
    template = _template(tmp_path, "正文 {{ certificate.number }}")
    _with_footnotes(template, "脚注 {{ org.name }}")
    context = sample_context()
    qr = _qr(context["certificate"]["verify_url"])
    rendered = render_docx_bytes(template, context, qr_png=qr)
    with zipfile.ZipFile(io.BytesIO(rendered)) as package:
        assert f"脚注 {context['org']['name']}" in package.read("word/footnotes.xml").decode()
    assert rendered == _plain_docxtpl(template, context, qr)


def test_a_template_edited_between_renders_is_read_again(tmp_path: Path) -> None:
    template = _template(tmp_path, "第一版：{{ certificate.number }}")
    assert "第一版" in _text(render_docx_bytes(template, sample_context()))
    Document().save(str(tmp_path / "other.docx"))
    edited = Document()
    edited.add_paragraph("第二版，改过的模板：{{ certificate.number }}")
    edited.save(str(template))
    text = _text(render_docx_bytes(template, sample_context()))
    assert "第二版" in text
    assert "第一版" not in text


def _stored(path: Path) -> bytes:
    """The .docx at ``path`` zipped again without compression: its size follows its text's."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
    return out.getvalue()


def test_an_edit_keeping_the_size_and_time_stamp_of_a_template_is_rendered(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _stored(_template(tmp_path / "a", "第一版：{{ certificate.number }}"))
    second = _stored(_template(tmp_path / "b", "第二版：{{ certificate.number }}"))
    assert len(first) == len(second)
    template = tmp_path / "证书.docx"
    template.write_bytes(first)
    stat = template.stat()
    assert "第一版" in _text(render_docx_bytes(template, sample_context()))
    template.write_bytes(second)
    os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "第二版" in _text(render_docx_bytes(template, sample_context()))


def test_a_copy_of_a_template_elsewhere_renders_the_same_bytes(tmp_path: Path) -> None:
    copy = tmp_path / "模板副本" / "certificate.docx"
    copy.parent.mkdir()
    shutil.copyfile(TEMPLATES / "certificate.docx", copy)
    assert _render_from(copy) == _sample("certificate.docx")


def _render_from(template: Path) -> bytes:
    context = sample_context()
    return render_docx_bytes(template, context, qr_png=_qr(context["certificate"]["verify_url"]))


def test_a_render_does_not_leak_into_the_next_from_the_same_template() -> None:
    first, second = sample_context(), sample_context()
    second["org"]["name"] = "另一家公司"
    _render("certificate.docx", first)
    again = _text(_render("certificate.docx", first))
    other = _text(_render("certificate.docx", second))
    assert "另一家公司" in other
    assert "另一家公司" not in again


def test_renders_from_several_threads_give_the_same_bytes_as_one() -> None:
    from concurrent.futures import ThreadPoolExecutor

    context = sample_context()
    alone = {name: _render(name, context) for name in NAMES}
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda name: (name, _render(name, context)), NAMES * 3))
    for name, data in together:
        assert data == alone[name], name


def test_rendering_leaves_the_context_untouched() -> None:
    context = sample_context()
    before = copy.deepcopy(context)
    _render("certificate.docx", context)
    assert context == before


def test_a_failed_render_leaves_an_existing_document_in_place(tmp_path: Path) -> None:
    out = tmp_path / "证书.docx"
    out.write_bytes(b"previous")
    with pytest.raises(TemplateError):
        render_docx(_template(tmp_path, "{{ nosuch }}"), sample_context(), out=out)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["证书.docx", "测试模板.docx"])


def test_building_the_templates_twice_gives_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two builds with different hash seeds (set orders differ): one in a process of its own, with a
    # random seed whatever this process was given, and at the same time one here, which has
    # python-docx and certdocs loaded already (a process of its own spent a third of its time on that).
    # The child may keep compiled modules (tools/_docx_helpers) as tests/conftest.py lets this process.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONHASHSEED"] = "random"
    tools = ROOT / "tools"
    child = subprocess.Popen(
        [sys.executable, str(tools / "build_templates.py"), "--out", str(tmp_path / "a")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        monkeypatch.syspath_prepend(str(tools))  # as a script has its own folder first
        assert runpy.run_path(str(tools / "build_templates.py"))["main"](["--out", str(tmp_path / "b")]) == 0
    finally:
        _, err = child.communicate(timeout=300)
    assert child.returncode == 0, err.decode(errors="replace")
    built = sorted(path.name for path in (tmp_path / "a").iterdir())
    assert built == sorted(path.name for path in (tmp_path / "b").iterdir())
    assert built == sorted(path.name for path in TEMPLATES.glob("*.docx"))  # the letters too
    for name in built:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_document_is_written_as_python_docx_saves_it_and_normalise_docx_normalises_it() -> None:
    # document_bytes compresses a part once a process: the second document shares most parts
    # with the first (python-docx's blank template) and has a header, a picture and a title.
    documents = [Document(), blank_document()]
    documents[1].sections[0].header.paragraphs[0].text = "页眉 {{ certificate.number }}"
    documents[1].add_paragraph("第二份 {{ org.name }}")
    documents[1].add_picture(io.BytesIO(_qr("https://example.org/v/1")))
    documents[1].core_properties.title = "标题"
    for document in documents:
        saved = io.BytesIO()
        document.save(saved)
        assert document_bytes(document) == normalise_docx(saved.getvalue())


@pytest.mark.parametrize("name", NAMES)
def test_templates_carry_chinese_typography_and_neutral_properties(name: str) -> None:
    with zipfile.ZipFile(TEMPLATES / name) as package:
        styles = package.read("word/styles.xml").decode()
        core = package.read("docProps/core.xml").decode()
        assert "docProps/thumbnail.jpeg" not in package.namelist()
    assert 'w:eastAsia="zh-CN"' in styles
    assert 'w:eastAsia="宋体"' in styles
    assert 'w:eastAsia="黑体"' in styles
    assert "Theme" not in re.sub(r"<w:latentStyles.*</w:latentStyles>", "", styles, flags=re.S)
    assert "<dc:creator>certdocs</dc:creator>" in core
    assert "2026-01-01T00:00:00Z" in core


def _pdf_pages_and_png(docx: Path, tmp_path: Path, converter: LentConverter) -> tuple[int, Path]:
    pdf = converter.convert([docx], outdir=tmp_path)[docx]  # as certdocs prints it
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(tmp_path / docx.stem)],
        check=True,
    )
    return pages, tmp_path / f"{docx.stem}.png"


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None, reason="needs LibreOffice and poppler-utils"
)
@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("long_names", [False, True])
def test_the_certificate_prints_on_one_page_with_a_scannable_qr_code(
    tmp_path: Path, scheme: str, long_names: bool, libreoffice_converter: LentConverter
) -> None:
    import zxingcpp
    from PIL import Image

    context = sample_context(scheme, long_names=long_names)
    docx = render_docx(
        TEMPLATES / "certificate.docx",
        context,
        out=tmp_path / "certificate.docx",
        qr_png=_qr(context["certificate"]["verify_url"]),
    )
    pages, png = _pdf_pages_and_png(docx, tmp_path, libreoffice_converter)
    assert pages == 1
    codes = zxingcpp.read_barcodes(Image.open(png))
    assert [c.text for c in codes] == [context["certificate"]["verify_url"]]


def test_a_tag_that_cuts_the_xml_of_the_body_is_refused_not_repaired(tmp_path: Path) -> None:
    # The {% if %} opens in a table cell and closes in the paragraph after the table: rendered
    # false, it removes the end of the cell, row and table, which no parser can read whole.
    document = blank_document()
    document.add_table(rows=1, cols=1).cell(0, 0).text = "{% if false %}表内"
    document.add_paragraph("表后{% endif %}结尾")
    template = tmp_path / "测试模板.docx"
    document.save(str(template))
    with pytest.raises(TemplateError, match=r"测试模板\.docx（正文）.*不是有效的 XML"):
        render_docx_bytes(template, sample_context())


def test_a_column_loop_still_gets_its_table_grid_fixed(tmp_path: Path) -> None:
    document = blank_document()
    row = document.add_table(rows=1, cols=3).rows[0]
    row.cells[0].text = "{%tc for name in ['甲', '乙', '丙', '丁'] %}"
    row.cells[1].text = "{{ name }}"
    row.cells[2].text = "{%tc endfor %}"
    template = tmp_path / "列循环.docx"
    document.save(str(template))
    with zipfile.ZipFile(io.BytesIO(render_docx_bytes(template, sample_context()))) as package:
        body = package.read("word/document.xml").decode()
    assert (body.count("<w:gridCol "), body.count("<w:tc>")) == (4, 4)


def test_a_template_cannot_change_the_values_the_next_document_prints(tmp_path: Path) -> None:
    template = _template(tmp_path, "{{ items.append('多出的一项') }}")
    with pytest.raises(TemplateError, match="不得修改文档数据"):
        render_docx_bytes(template, sample_context())


def test_a_prepared_context_renders_as_the_context_and_ignores_later_changes(tmp_path: Path) -> None:
    context = sample_context()
    prepared = prepare_context(context)
    before = _render("certificate.docx", context)
    context["org"]["name"] = "改过的名称"
    after = render_docx_bytes(
        TEMPLATES / "certificate.docx", prepared, qr_png=_qr(context["certificate"]["verify_url"])
    )
    assert after == before
