"""Fitting the certificate on one page: measuring, choosing the size, refusing what cannot fit."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from certdocs import cli
from certdocs.errors import Problem, ProfileError
from certdocs.fitting import (
    DEFAULT_LIMITS,
    FieldLimit,
    fit_certificate,
    fitted_size,
    line_capacity,
    line_count,
    longest_fitting,
    parse_limits,
)
from certdocs.pdf import page_count
from certdocs.pipeline import Issuer, IssueRequest, Outcome, Workspace
from certdocs.profile import load_profiles, parse_profile, profile_for_scheme
from certdocs.textreport import stars_text
from tests.conftest import full_marks_audit
from tests.libreoffice import LentConverter

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = ("xbht-s04-2025", "fw01-2021", "bjkb-006-2026", "bz-ts1008-2025")
NAME = DEFAULT_LIMITS["org.name"]


def test_chinese_text_takes_one_em_a_character() -> None:
    assert line_count("国" * 30, width_em=Decimal(10)) == 3


def test_closing_punctuation_never_starts_a_line() -> None:
    assert line_count("国" * 30 + "，", width_em=Decimal(10)) == 4


def test_a_latin_word_is_not_broken_between_lines() -> None:
    assert line_count("aa Haichuan", width_em=Decimal(5)) == 2


def test_a_word_longer_than_the_line_is_broken_anywhere() -> None:
    assert line_count("W" * 40, width_em=Decimal(10)) == 5  # 1.1 em each: 9 a line


def test_a_short_name_prints_at_the_full_size() -> None:
    assert fitted_size("杭州某电器股份有限公司", NAME) == Decimal(17)


def test_a_long_name_shrinks_but_not_below_the_smallest_size() -> None:
    size = fitted_size("国" * 60, NAME)
    assert size is not None
    assert NAME.min_size <= size < NAME.size


def test_a_name_too_long_at_the_smallest_size_does_not_fit() -> None:
    assert fitted_size("国" * 150, NAME) is None


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="国A a，（）W1", max_size=120), st.text(alphabet="国A a，W", min_size=1, max_size=20))
def test_a_longer_text_never_prints_larger(text: str, more: str) -> None:
    shorter, longer = fitted_size(text, NAME), fitted_size(text + more, NAME)
    assert longer is None or (shorter is not None and longer <= shorter)


def test_the_longest_fitting_name_fits_and_one_more_character_does_not() -> None:
    n = longest_fitting(NAME)
    assert fitted_size("国" * n, NAME) is not None
    assert fitted_size("国" * (n + 1), NAME) is None


def test_a_name_that_cannot_fit_is_refused_with_its_path_and_the_length_allowed() -> None:
    (problem,) = fit_certificate({"org.name": "国" * 150}).problems
    assert problem.where == "organization.name"
    assert f"最多约 {longest_fitting(NAME)} 个汉字" in problem.rule


def test_a_scope_that_cannot_fit_is_blamed_on_the_audit_scope() -> None:
    around = ("", "（四星级★★★★）")
    scope = "国" * 500 + around[1]
    (problem,) = fit_certificate({"certified_scope": scope}, scope_around=around).problems
    assert problem.where == "scope"
    assert "（500 个字符）" in problem.rule


def test_a_profile_without_limits_gets_the_defaults() -> None:
    assert dict(parse_limits(None, [])) == dict(DEFAULT_LIMITS)


def test_a_profile_may_set_one_limit_and_keep_the_others() -> None:
    limits = parse_limits({"org.name": {"min_size": 14}}, [])
    assert limits["org.name"] == FieldLimit(Decimal(162), Decimal(17), Decimal(14), 2)


def test_bad_limits_are_all_reported() -> None:
    problems: list[Problem] = []
    parse_limits({"org.nmae": {}, "org.name": {"size": "big", "max_lines": 1.5, "min_size": 12.3}}, problems)
    assert [p.where for p in problems] == [
        "certificate_fit.org.nmae",
        "certificate_fit.org.name.size",
        "certificate_fit.org.name.max_lines",
        "certificate_fit.org.name.min_size",
    ]


def test_a_profile_with_a_smallest_size_above_its_size_is_invalid() -> None:
    data = json.loads((ROOT / "src/certdocs/profiles/xbht.json").read_text(encoding="utf-8"))
    data["certificate_fit"] = {"org.name": {"size": 12, "min_size": 14}}
    with pytest.raises(ProfileError):
        parse_profile(data, source="xbht.json")


@pytest.mark.parametrize(
    "fit",
    [{"org.nmae": {}}, {"org.name": {"min_size": 12.3}}, {"org.name": {"max_lines": 0}}, {"org.name": {"sizes": 3}}],
)
def test_the_published_profile_schema_refuses_what_the_loader_refuses(fit: dict[str, Any]) -> None:
    from tests.test_schemas import validator

    data = json.loads((ROOT / "src/certdocs/profiles/xbht.json").read_text(encoding="utf-8"))
    data["certificate_fit"] = fit
    assert list(validator("profile").iter_errors(data)) != []
    with pytest.raises(ProfileError):
        parse_profile(data, source="xbht.json")


def test_every_bundled_profile_uses_the_default_limits() -> None:
    assert all(dict(p.certificate_fit) == dict(DEFAULT_LIMITS) for p in load_profiles().values())


# -- through the command line and the real LibreOffice ---------------------------------------


def _extreme_audit(scheme_id: str, case: str) -> dict[str, Any]:
    """The longest accepted texts (``longest``: smallest size, most lines) or the tallest (full size)."""
    profile = profile_for_scheme(scheme_id)
    limits = profile.certificate_fit

    def n(limit: FieldLimit) -> int:
        return longest_fitting(limit) if case == "longest" else line_capacity(limit, limit.size) * limit.max_lines

    doc = full_marks_audit(scheme_id)
    org = doc["organization"]
    org["name"] = "国" * n(limits["org.name"])
    org["registered_address"] = "址" * n(limits["org.registered_address"])
    org["audit_address"] = "审" * n(limits["org.audit_address"])
    grade = "优化级" if scheme_id == "bz-ts1008-2025" else "五星级" + stars_text(5)  # full marks
    marker = "\x00"
    before, after = profile.certified_scope(organization=org["name"], scope=marker, grade=grade).split(marker)
    scope_limit = limits["certified_scope"]
    if case == "longest":
        doc["scope"] = "范" * longest_fitting(scope_limit, around=(before, after))
    else:
        total = line_capacity(scope_limit, scope_limit.size) * scope_limit.max_lines
        doc["scope"] = "范" * max(1, total - len(before) - len(after))
    return doc


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "浙江" + "海川智能家电" * 24 + "有限公司"), ("name", "国" * 2000), ("registered_address", "址" * 300)],
)
def test_a_certificate_field_too_long_is_refused_before_anything_is_written(
    tmp_path: Path, field: str, value: str
) -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["organization"][field] = value
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    code, output = run("certificate", str(audit), "--output", str(out), "--register", str(out / "r.sqlite3"))
    assert code == 2
    assert f"organization.{field}" in output
    assert "最多约" in output
    assert not out.exists()


def test_the_longest_accepted_name_passes_the_check(tmp_path: Path) -> None:
    from certdocs.glyphcheck import check_audit_file

    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps(_extreme_audit("xbht-s04-2025", "longest"), ensure_ascii=False), encoding="utf-8")
    check_audit_file(audit)


def test_the_fitted_size_is_put_on_the_certificate_runs(tmp_path: Path) -> None:
    from certdocs.register import Register
    from certdocs.testing import FakeConverter

    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps(_extreme_audit("xbht-s04-2025", "longest"), ensure_ascii=False), encoding="utf-8")
    ws = Workspace(output=tmp_path / "out", register=tmp_path / "r.sqlite3", templates=ROOT / "templates")
    with Register.open(ws.register) as register:
        (outcome,) = Issuer(ws, converter=FakeConverter(), register=register, today=date(2026, 11, 22)).issue(
            [IssueRequest(audit, "会议", date(2026, 11, 20), date(2026, 11, 22))]
        )
    xml = zipfile.ZipFile(io.BytesIO(outcome.word["certificate"].read_bytes())).read("word/document.xml").decode()
    run_of_name = re.search(r"<w:r>(?:(?!</w:r>).)*国国国(?:(?!</w:r>).)*</w:r>", xml)
    assert run_of_name is not None
    assert '<w:sz w:val="24"/>' in run_of_name.group(0)


@pytest.fixture(scope="module")
def extremes(
    tmp_path_factory: pytest.TempPathFactory, libreoffice_converter: LentConverter
) -> dict[tuple[str, str], Outcome]:
    from certdocs.register import Register

    tmp = tmp_path_factory.mktemp("fitting")
    paths: dict[tuple[str, str], Path] = {}
    for scheme_id in SCHEMES:
        for case in ("longest", "tallest"):
            path = tmp / f"{scheme_id}-{case}.json"
            path.write_text(json.dumps(_extreme_audit(scheme_id, case), ensure_ascii=False), encoding="utf-8")
            paths[scheme_id, case] = path
    ws = Workspace(output=tmp / "out", register=tmp / "r.sqlite3", templates=ROOT / "templates")
    with Register.open(ws.register) as register:
        outcomes = Issuer(ws, converter=libreoffice_converter, register=register, today=date(2026, 11, 22)).issue(
            [IssueRequest(p, "会议", date(2026, 11, 20), date(2026, 11, 22)) for p in paths.values()]
        )
    return dict(zip(paths, outcomes, strict=True))


libreoffice: Callable[[Any], Any] = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)


@pytest.mark.libreoffice
@libreoffice
@pytest.mark.parametrize("case", ["longest", "tallest"])
@pytest.mark.parametrize("scheme_id", SCHEMES)
def test_the_certificate_with_the_longest_accepted_fields_is_one_page(
    extremes: dict[tuple[str, str], Outcome], scheme_id: str, case: str
) -> None:
    outcome = extremes[scheme_id, case]
    assert outcome.status == "issued", outcome.errors
    assert page_count(outcome.documents["certificate"]) == 1


@pytest.mark.libreoffice
@libreoffice
@pytest.mark.parametrize("scheme_id", SCHEMES)
def test_the_other_documents_take_the_longest_fields_too(
    extremes: dict[tuple[str, str], Outcome], scheme_id: str
) -> None:
    outcome = extremes[scheme_id, "longest"]
    assert all(page_count(outcome.documents[kind]) >= 1 for kind in ("audit_plan", "scoresheet", "report"))
