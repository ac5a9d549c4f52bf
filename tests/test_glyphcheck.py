"""Characters the fonts cannot draw: refused before reservation, and caught in the PDF if they slip by."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from certdocs import cli
from certdocs._soffice_uno import seed_profile
from certdocs.audit import load_audit
from certdocs.convert import find_soffice
from certdocs.errors import CertdocsError
from certdocs.glyphcheck import check_pdfs, input_texts, notdef_characters, uncovered_characters
from certdocs.pdf import pdf_text
from certdocs.pipeline import Issuer, IssueRequest, Workspace
from certdocs.render import render_docx
from tests.conftest import full_marks_audit
from tests.libreoffice import LentConverter

ROOT = Path(__file__).resolve().parent.parent
FONTS_CONF = ROOT / "src/certdocs/fonts/fonts.conf"
RARE = "𠀀𪚥"  # CJK extension B (U+20000, U+2A6A5): in real company and place names
NO_FONT = "\U00030000"  # CJK extension G: no installed font has it

fontconfig = pytest.mark.skipif(shutil.which("fc-list") is None, reason="needs fontconfig")
hanazono = pytest.mark.skipif(
    shutil.which("fc-list") is None
    or "HanaMinB" not in subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout,
    reason="needs fonts-hanazono",
)
libreoffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")


def write_audit(tmp_path: Path, **organization: str) -> Path:
    doc = full_marks_audit("xbht-s04-2025")
    doc["organization"].update(organization)
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_every_text_of_an_audit_is_found_with_its_json_path(tmp_path: Path) -> None:
    audit, _ = load_audit(write_audit(tmp_path))
    paths = dict(input_texts(audit))
    assert paths["organization.name"] == "杭州某电器股份有限公司"
    assert paths['items["5.1.1.1"].evidence'] == "抽查记录完整"
    assert paths["audit.team[0].name"] == "王立新"


@fontconfig
def test_a_character_no_font_has_is_named_with_its_field() -> None:
    (problem,) = uncovered_characters([("organization.name", f"杭州{NO_FONT}电器")])
    assert problem.where == "organization.name"
    assert "U+30000" in problem.rule


@fontconfig
def test_a_private_use_character_is_refused_too() -> None:
    (problem,) = uncovered_characters([("scope", "\ue000售后服务")])
    assert "U+E000" in problem.rule


@fontconfig
def test_each_text_names_only_its_own_missing_characters_in_its_order() -> None:
    texts = [("a", f"x{NO_FONT}y\ue000{NO_FONT}"), ("b", "售后服务"), ("c", f"\ue000z{NO_FONT}")]
    problems = uncovered_characters(texts)
    assert [p.where for p in problems] == ["a", "c"]
    assert problems[0].rule.index("U+30000") < problems[0].rule.index("U+E000")
    assert problems[1].rule.index("U+E000") < problems[1].rule.index("U+30000")
    assert problems[0].rule.count("U+30000") == 1


@hanazono
def test_extension_b_characters_are_covered_by_hanazono() -> None:
    assert uncovered_characters([("organization.name", f"杭州{RARE}电器 ABC ★")]) == []


@fontconfig
def test_an_audit_with_a_character_no_font_has_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    audit = write_audit(tmp_path, registered_address=f"福建省{NO_FONT}市")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli.main, ["certificate", str(audit), "--output", str(out), "--register", str(out / "r.sqlite3")]
    )
    assert result.exit_code == 2
    assert "organization.registered_address" in result.output
    assert "U+30000" in result.output
    assert not out.exists()


@pytest.mark.libreoffice
@libreoffice
@hanazono
def test_extension_b_characters_print_on_every_document(tmp_path: Path, libreoffice_converter: LentConverter) -> None:
    from certdocs.register import Register

    audit = write_audit(tmp_path, name=f"杭州{RARE}电器股份有限公司", audit_address=f"福建省{RARE}市某路1号")
    ws = Workspace(output=tmp_path / "out", register=tmp_path / "r.sqlite3", templates=ROOT / "templates")
    with Register.open(ws.register) as register:
        (outcome,) = Issuer(ws, converter=libreoffice_converter, register=register, today=date(2026, 11, 22)).issue(
            [IssueRequest(audit, "会议", date(2026, 11, 20), date(2026, 11, 22))]
        )
    assert outcome.status == "issued", outcome.errors
    assert RARE in pdf_text(outcome.documents["certificate"]).replace("\n", "")
    assert all(notdef_characters(pdf) == set() for pdf in outcome.documents.values())


def _convert_without_hanazono(docxs: list[Path], folder: Path) -> None:
    """Converts as a server without fonts-hanazono would: every document in one soffice call."""
    conf = folder / "no-hanazono.conf"
    conf.write_text(
        f'<?xml version="1.0"?><fontconfig><include ignore_missing="no">{FONTS_CONF}</include>'
        "<selectfont><rejectfont><glob>*hanazono*</glob><glob>*japanese-mincho*</glob></rejectfont>"
        "</selectfont></fontconfig>",
        encoding="utf-8",
    )
    env = dict(os.environ, HOME=str(folder), FONTCONFIG_FILE=str(conf))
    profile = folder / "profile"
    seed_profile(profile, find_soffice())  # one start, not two
    options = [f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf"]
    subprocess.run(
        ["soffice", *options, "--outdir", str(docxs[0].parent), *(str(docx) for docx in docxs)],
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )


REFUSED = {"box": (f"杭州{RARE}电器股份有限公司", "𠀀"), "left-out": (f"杭州{NO_FONT}电器有限公司", NO_FONT)}


@pytest.fixture(scope="module")
def without_hanazono(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Each refused name's audit and certificate, converted (one LibreOffice start) without fonts-hanazono."""
    from tests.data.context_sample import sample_context

    docs = tmp_path_factory.mktemp("docs")
    made: dict[str, tuple[Path, Path]] = {}
    for key, (name, _char) in REFUSED.items():
        context = sample_context()
        context["org"]["name"] = name
        docx = render_docx(ROOT / "templates/certificate.docx", context, out=docs / f"{key}-certificate.docx")
        made[key] = (write_audit(tmp_path_factory.mktemp(key), name=name), docx)
    _convert_without_hanazono([docx for _, docx in made.values()], tmp_path_factory.mktemp("no-hanazono"))
    return made


@pytest.mark.libreoffice
@libreoffice
@pytest.mark.parametrize("key", list(REFUSED))
def test_a_character_drawn_as_an_empty_box_or_left_out_stops_the_document(
    without_hanazono: dict[str, tuple[Path, Path]], key: str
) -> None:
    audit_path, docx = without_hanazono[key]
    audit, _ = load_audit(audit_path)
    char = REFUSED[key][1]
    with pytest.raises(CertdocsError) as refused:
        check_pdfs({"certificate": docx}, audit=audit)
    assert any("organization.name" in p.where and f"U+{ord(char):04X}" in p.rule for p in refused.value.problems)


def test_fonts_inherited_from_the_page_tree_are_checked_too(tmp_path: Path) -> None:
    import pikepdf

    from certdocs.glyphcheck import _font_facts

    document = pikepdf.new()
    document.add_blank_page()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    document.Root.Pages.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    if "/Resources" in document.pages[0].obj:
        del document.pages[0].obj["/Resources"]
    path = tmp_path / "inherited.pdf"
    document.save(path)
    _notdef, _shown, embedded = _font_facts(path)
    assert not embedded  # the inherited font has no ToUnicode map: it was found and judged
