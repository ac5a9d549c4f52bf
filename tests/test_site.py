"""The verification site as files: one page per certificate, the index, reproducible, escaped."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from certdocs.cli import main
from certdocs.errors import CertdocsError
from certdocs.register import CertificateFacts, Register
from certdocs.site import build_site, page_file, site_files
from tests.test_register import facts, issue

ROOT = Path(__file__).resolve().parent.parent
BZ_AUDIT = str(ROOT / "fixtures" / "bz-ts1008-2025" / "pass.json")
XBHT_AUDIT = str(ROOT / "fixtures" / "xbht-s04-2025" / "pass.json")
TODAY = date(2027, 1, 1)
HOSTILE = "<script>alert(\"x\")</script> A&B '引号' \u202e司公限有\u202c 测试"


def bz(register: Register, key: str, **changes: object) -> str:
    """An issued bz-ts1008-2025 certificate (邦证: a website, so the QR points at the site)."""
    facts: dict[str, object] = {
        "scheme": "bz-ts1008-2025",
        "organization_name": "四川蜀联家电连锁有限公司",
        "uscc": "91510104MA6CK4R275",
        "grade": "已定义级",
        "stars": None,
        "level": 3,
        "score": None,
        "audit_path": BZ_AUDIT,
    }
    return issue(register, key, **(facts | changes))


@pytest.fixture
def register() -> Iterator[Register]:
    with Register.open(":memory:") as reg:
        yield reg


def build(register: Register, site: Path, today: date = TODAY) -> set[str]:
    return set(build_site(register, site=site, today=today).written)


def text(site: Path, number: str) -> str:
    return (site / page_file(number)).read_text(encoding="utf-8")


def visible(html: str) -> str:
    """The page's text without tags, style and script (what a person reads, roughly)."""
    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", html, flags=re.S)
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


# -- what is written ---------------------------------------------------------------------------


def test_every_issued_certificate_gets_its_page_the_index_and_the_json_list(register: Register, tmp_path: Path) -> None:
    first = bz(register, "k1")
    second = issue(register, "k2", audit_path=XBHT_AUDIT)
    assert build(register, tmp_path) == {page_file(first), page_file(second), "index.html", "certificates.json"}


def test_a_page_shows_number_organisation_uscc_standard_scope_grade_dates_and_body(
    register: Register, tmp_path: Path
) -> None:
    number = bz(register, "k1")
    build(register, tmp_path)
    page = visible(text(tmp_path, number))
    for fact in (
        number,
        "四川蜀联家电连锁有限公司",
        "91510104MA6CK4R275",
        "CTSBZ-TS1008-2025《售后服务体系成熟度等级评价》",
        "所销售的各类家用电器商品所涉及的售后服务体系成熟度认证（已定义级）",
        "已定义级（3级）",
        "首次发证日期2026年11月22日",
        "本次发证日期2026年11月22日",
        "有效期至2029年11月21日",
        "杭州邦证认证有限公司",
    ):
        assert fact in page, fact


def test_a_valid_certificate_says_so_in_words_and_colour(register: Register, tmp_path: Path) -> None:
    number = bz(register, "k1")
    build(register, tmp_path)
    assert '<section class="status status-valid"' in text(tmp_path, number)
    assert "证书状态：有效" in visible(text(tmp_path, number))


def test_a_suspended_certificate_shows_its_period(register: Register, tmp_path: Path) -> None:
    number = bz(register, "k1")
    register.suspend(number, reason="逾期未接受监督审核", actor="张三", on=date(2026, 12, 1), until=date(2027, 5, 31))
    build(register, tmp_path)
    page = visible(text(tmp_path, number))
    assert "证书状态：暂停" in page
    assert "暂停期：2026年12月1日至2027年5月31日" in page


@pytest.mark.parametrize(
    ("action", "word", "css"), [("withdraw", "撤销", "withdrawn"), ("cancel", "注销", "cancelled")]
)
def test_a_withdrawn_or_cancelled_certificate_says_it_is_no_longer_valid(
    register: Register, tmp_path: Path, action: str, word: str, css: str
) -> None:
    number = bz(register, "k1")
    getattr(register, action)(number, reason="企业申请", actor="张三", on=date(2026, 12, 1))
    build(register, tmp_path)
    assert f"证书状态：{word}" in visible(text(tmp_path, number))
    assert f"本证书已于2026年12月1日{word}，不再有效" in visible(text(tmp_path, number))
    assert f"status-{css}" in text(tmp_path, number)


def test_an_expired_certificate_shows_expired_from_the_day_after_its_last_day(
    register: Register, tmp_path: Path
) -> None:
    number = bz(register, "k1")
    build(register, tmp_path, today=date(2029, 11, 22))
    assert "证书状态：过期失效" in visible(text(tmp_path, number))
    assert "本页信息更新于2029年11月22日" in visible(text(tmp_path, number))


def test_a_superseded_certificate_links_to_the_one_that_replaced_it(register: Register, tmp_path: Path) -> None:
    old = bz(register, "k1")
    new = bz(
        register, "k2", issue_date=date(2029, 10, 1), decision_date=date(2029, 9, 30), valid_until=date(2032, 11, 21)
    )
    register.supersede(old, new_number=new, on=date(2029, 10, 1))
    build(register, tmp_path, today=date(2029, 10, 2))
    assert f'换发的新证书：<a href="../{page_file(new)}">{new}</a>' in text(tmp_path, old)
    assert f'<a href="../{page_file(old)}">{old}</a>' in text(tmp_path, new)


def test_the_public_history_leaves_out_who_made_a_change(register: Register, tmp_path: Path) -> None:
    number = bz(register, "k1")
    register.suspend(number, reason="逾期未接受监督审核", actor="经办人王五", on=date(2026, 12, 1))
    build(register, tmp_path)
    assert "王五" not in text(tmp_path, number)
    assert "逾期未接受监督审核" in text(tmp_path, number)


# -- reproducible, incremental -----------------------------------------------------------------


def test_the_same_register_gives_byte_identical_sites(register: Register, tmp_path: Path) -> None:
    bz(register, "k1")
    issue(register, "k2", audit_path=XBHT_AUDIT)
    build(register, tmp_path / "a")
    build(register, tmp_path / "b")
    assert site_files(tmp_path / "a") == site_files(tmp_path / "b")


def test_the_date_on_a_page_comes_from_the_register_not_the_clock(register: Register, tmp_path: Path) -> None:
    number = bz(register, "k1")
    build(register, tmp_path, today=date(2027, 6, 1))
    assert "本页信息更新于2026年11月22日" in visible(text(tmp_path, number))
    assert "2027年6月1日" not in text(tmp_path, number)


def test_a_rebuild_rewrites_only_the_pages_whose_certificate_changed(register: Register, tmp_path: Path) -> None:
    first = bz(register, "k1")
    bz(register, "k2", uscc="91330106MA2CFXY80X", organization_name="另一家公司")
    build(register, tmp_path)
    register.suspend(first, reason="逾期", actor="张三", on=date(2026, 12, 1))
    assert build(register, tmp_path) == {page_file(first), "index.html", "certificates.json"}


def test_a_rebuild_of_an_unchanged_register_writes_nothing(register: Register, tmp_path: Path) -> None:
    bz(register, "k1")
    build(register, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    assert build(register, tmp_path) == set()
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


# -- escaping, names, requests ------------------------------------------------------------------


def test_an_organisation_name_is_text_on_the_page_never_markup(register: Register, tmp_path: Path) -> None:
    number = bz(register, "k1", organization_name=HOSTILE)
    build(register, tmp_path)
    html = text(tmp_path, number)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; A&amp;B &#39;引号&#39;" in html
    assert "<bdi>&lt;script&gt;" in html  # right-to-left marks stay inside the name


def test_an_organisation_name_cannot_break_out_of_the_embedded_index(register: Register, tmp_path: Path) -> None:
    bz(register, "k1", organization_name=HOSTILE)
    build(register, tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    embedded = re.search(r'<script type="application/json" id="certificates">(.*?)</script>', index, re.S)
    assert embedded is not None
    assert json.loads(embedded.group(1))[0]["organization"] == HOSTILE
    assert index.count("<script") == 2  # the data and the search script, nothing injected


def test_no_page_loads_anything_from_another_host(register: Register, tmp_path: Path) -> None:
    bz(register, "k1")
    build(register, tmp_path)
    for name, data in site_files(tmp_path).items():
        html = data.decode("utf-8")
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), name
        assert "@import" not in html, name
        assert "url(" not in html, name


def test_a_number_that_is_no_file_name_gets_a_safe_page_name_inside_cert() -> None:
    for number in ("KB/2026/007", "../../etc/passwd", ".hidden", "A\\B"):
        name = page_file(number).removeprefix("cert/")
        assert "/" not in name, number
        assert "\\" not in name, number
        assert not name.startswith("."), number
    assert page_file("ZD（2026）0001") == "cert/ZD（2026）0001.html"


# -- QR codes ------------------------------------------------------------------------------------


def test_certificates_whose_qr_code_opens_another_site_are_reported(register: Register, tmp_path: Path) -> None:
    mine = bz(register, "k1")
    national = issue(register, "k2", audit_path=XBHT_AUDIT)
    report = build_site(register, site=tmp_path, today=TODAY)
    assert [m.number for m in report.qr_elsewhere] == [national]
    assert mine not in [m.number for m in report.qr_elsewhere]


def test_a_number_whose_page_name_differs_from_its_qr_path_is_reported(register: Register, tmp_path: Path) -> None:
    register.reserve("k1", pattern="BZ/{year}/{serial:04d}", year=2026, facts=_bz_facts())
    register.complete("BZ/2026/0001", documents=[])
    report = build_site(register, site=tmp_path, today=TODAY)
    assert [(m.number, m.page) for m in report.qr_elsewhere] == [("BZ/2026/0001", "cert/BZ_2026_0001.html")]


def _bz_facts() -> CertificateFacts:
    return facts(scheme="bz-ts1008-2025", grade="已定义级", stars=None, level=3, score=None, audit_path=BZ_AUDIT)


def test_a_missing_audit_file_leaves_out_the_scope_with_a_warning(register: Register, tmp_path: Path) -> None:
    number = bz(register, "k1", audit_path=str(tmp_path / "gone.json"))
    report = build_site(register, site=tmp_path / "site", today=TODAY)
    assert [w.where for w in report.warnings] == [f"证书 {number}"]
    assert "认证范围" not in text(tmp_path / "site", number)


# -- command -------------------------------------------------------------------------------------


def test_site_build_writes_the_site_and_names_certificates_whose_qr_points_elsewhere(tmp_path: Path) -> None:
    with Register.open(tmp_path / "register.sqlite3") as register:
        bz(register, "k1")
        national = issue(register, "k2", audit_path=XBHT_AUDIT)
    result = CliRunner().invoke(
        main,
        ["site", "build", "--output", str(tmp_path / "site"), "--register", str(tmp_path / "register.sqlite3")],
    )
    assert result.exit_code == 0, result.output
    assert "2 张证书；重写 4 个文件" in result.stdout
    assert f"{national}：二维码为 http://cx.cnca.cn/" in result.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_two_numbers_with_the_same_page_name_are_refused_before_anything_is_written(
    register: Register, tmp_path: Path
) -> None:
    register.reserve("k1", pattern="BZ/{year}/{serial:04d}", year=2026, facts=_bz_facts())
    register.complete("BZ/2026/0001", documents=[])
    register.reserve("k2", pattern="BZ_{year}_{serial:04d}", year=2026, facts=_bz_facts())
    register.complete("BZ_2026_0001", documents=[])
    with pytest.raises(CertdocsError, match="页面文件名相同"):
        build_site(register, site=tmp_path / "site", today=TODAY)
    assert not (tmp_path / "site").exists()


def test_a_site_folder_that_cannot_be_written_is_reported_in_chinese(register: Register, tmp_path: Path) -> None:
    bz(register, "k1")
    (tmp_path / "site").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(CertdocsError) as caught:
        build_site(register, site=tmp_path / "site", today=TODAY)
    assert str(tmp_path / "site") in str(caught.value)


def test_temporary_files_left_by_a_killed_build_are_removed(register: Register, tmp_path: Path) -> None:
    bz(register, "k1")
    (tmp_path / "cert").mkdir()
    stale = tmp_path / "cert" / ".x.html.abc123.part"
    stale.write_bytes(b"half a page")
    os.utime(stale, (0, 0))
    fresh = tmp_path / ".index.html.def456.part"  # perhaps a build running now: left alone
    fresh.write_bytes(b"")
    build(register, tmp_path)
    assert not stale.exists()
    assert fresh.exists()


def test_site_serve_serves_the_site_on_the_loopback_address_only(register: Register, tmp_path: Path) -> None:
    bz(register, "k1")
    build(register, tmp_path)
    certdocs = str(Path(sys.executable).parent / "certdocs")
    command = [certdocs, "site", "serve", "--output", str(tmp_path), "--port", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as server:
        _fetch_index(server, tmp_path)


def _fetch_index(server: subprocess.Popen[str], tmp_path: Path) -> None:
    import urllib.request

    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/index\.html", first)
        assert url is not None, first
        with urllib.request.urlopen(url.group(0), timeout=10) as response:
            assert response.read() == (tmp_path / "index.html").read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=10)
