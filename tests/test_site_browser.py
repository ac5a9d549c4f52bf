"""The verification site in a real browser: Debian's Chromium, headless, driven by Playwright.

One module-scoped run issues the bundled 邦证 example with real LibreOffice (its profile names a
website, so the QR code points at the site), builds the site and serves it from 127.0.0.1 only.
The tests then read the QR code off the certificate's PDF, open the page that URL maps to and
check what a person sees; every request the browser makes is recorded and must stay on the site.
Screenshots go to ``tmp_path`` (or to ``$CERTDOCS_SCREENSHOTS`` when set, to look at them).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from certdocs.pipeline import Issuer, IssueRequest, Workspace
from certdocs.profile import profile_for_scheme
from certdocs.register import Register
from certdocs.site import build_site
from certdocs.site._pages import served_path
from tests.libreoffice import LentConverter

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "fixtures" / "bz-ts1008-2025" / "pass.json"
ORGANIZATION = "四川蜀联家电连锁有限公司"
ISSUED = date(2026, 11, 22)
TODAY = date(2026, 12, 1)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _playwright_missing() -> bool:
    # Found, not imported: every test worker collects this module, and importing Playwright took
    # a sixth of a second in each. A broken install then fails the browser fixture, not skips.
    try:
        return importlib.util.find_spec("playwright.sync_api") is None
    except ImportError:  # no playwright package at all
        return True


pytestmark = [
    pytest.mark.browser,
    pytest.mark.libreoffice,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason="Chromium is not installed (Debian package chromium)"),
    pytest.mark.skipif(_playwright_missing(), reason="the playwright package is not installed"),
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"),
    pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed"),
]


@dataclass
class Site:
    folder: Path
    register: Path
    base: str  # http://127.0.0.1:<port>/
    number: str
    certificate_pdf: Path
    requests: list[str]

    def rebuild(self) -> None:
        with Register.open(self.register) as register:
            build_site(register, site=self.folder, today=TODAY)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, libreoffice_converter: LentConverter) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("site")
    ws = Workspace(output=tmp / "out", register=tmp / "out" / "register.sqlite3", templates=ROOT / "templates")
    with Register.open(ws.register) as register:
        (outcome,) = Issuer(ws, converter=libreoffice_converter, register=register, today=ISSUED).issue(
            [IssueRequest(AUDIT, "2026年第47次认证决定会议", date(2026, 11, 20), ISSUED)]
        )
        assert outcome.status == "issued", outcome.errors
        build_site(register, site=ws.output / "site", today=TODAY)
    handler = functools.partial(_QuietHandler, directory=str(ws.output / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(
            folder=ws.output / "site",
            register=Path(ws.register),
            base=f"http://127.0.0.1:{server.server_address[1]}/",
            number=outcome.number,
            certificate_pdf=outcome.documents["certificate"],
            requests=[],
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=ARGS, locale="zh-CN"
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    tab = browser.new_page()
    site.requests.clear()
    tab.on("request", lambda request: site.requests.append(request.url))
    try:
        yield tab
    finally:
        tab.close()


def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CERTDOCS_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def qr_url(pdf: Path, tmp_path: Path) -> str:
    import zxingcpp
    from PIL import Image

    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(tmp_path / "page")], check=True)
    (code,) = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    return str(code.text)


def local_url(site: Site, qr: str) -> str:
    """The served address of the page a QR URL opens once the site is uploaded to the body's website."""
    path = served_path(qr, website=profile_for_scheme("bz-ts1008-2025").website)
    assert path is not None, qr
    return site.base + path


def stays_on_site(site: Site) -> bool:
    return all(urlsplit(url).netloc == urlsplit(site.base).netloc for url in site.requests)


def no_sideways_overflow(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


# -- the QR code opens the certificate's page ---------------------------------------------------------


def test_the_qr_code_of_an_issued_certificate_opens_its_page_showing_it_is_valid(
    site: Site, page: Any, tmp_path: Path
) -> None:
    qr = qr_url(site.certificate_pdf, tmp_path)
    assert qr == f"http://www.bozrz.com/cert/{site.number}.html"
    page.goto(local_url(site, qr))
    assert page.locator("h1").inner_text() == "认证证书查验结果"
    body = page.locator("main").inner_text()
    assert site.number in body
    assert ORGANIZATION in body
    assert page.locator(".badge").inner_text().endswith("有效")
    assert stays_on_site(site), site.requests


def test_the_valid_badge_is_green_with_white_text(site: Site, page: Any) -> None:
    page.goto(f"{site.base}cert/{site.number}.html")
    colours = page.locator(".badge").evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert colours == ["rgb(255, 255, 255)", "rgb(26, 127, 55)"]  # contrast 5.1 : 1


def test_a_phone_sees_the_whole_page_without_scrolling_sideways(site: Site, browser: Any, tmp_path: Path) -> None:
    phone = browser.new_page()
    phone.set_viewport_size({"width": 360, "height": 740})
    try:
        for name, path in (("phone-certificate", f"cert/{site.number}.html"), ("phone-index", "index.html")):
            phone.goto(site.base + path)
            if name == "phone-index":
                phone.fill("#q", "蜀联")
            phone.screenshot(path=str(screenshots(tmp_path) / f"{name}.png"), full_page=True)
            assert no_sideways_overflow(phone), name
    finally:
        phone.close()


def test_a_desktop_screenshot_of_the_certificate_page(site: Site, browser: Any, tmp_path: Path) -> None:
    desktop = browser.new_page()
    desktop.set_viewport_size({"width": 1280, "height": 900})
    try:
        desktop.goto(f"{site.base}cert/{site.number}.html")
        desktop.screenshot(path=str(screenshots(tmp_path) / "desktop-certificate.png"), full_page=True)
        assert no_sideways_overflow(desktop)
    finally:
        desktop.close()


# -- search -----------------------------------------------------------------------------------------


def test_searching_part_of_the_name_finds_the_certificate_and_follows_to_its_page(site: Site, page: Any) -> None:
    page.goto(site.base + "index.html")
    page.get_by_label("证书编号、组织名称或统一社会信用代码").fill("蜀联家电")
    page.get_by_role("button", name="查询").click()
    assert page.locator("#result-count").inner_text() == "找到 1 张证书"
    page.get_by_role("link", name=ORGANIZATION).click()
    page.wait_for_url(f"**/cert/{site.number}.html")
    assert site.number in page.locator("main").inner_text()
    assert stays_on_site(site), site.requests


def test_searching_by_number_in_lower_case_finds_the_certificate(site: Site, page: Any) -> None:
    page.goto(site.base + "index.html")
    page.get_by_label("证书编号、组织名称或统一社会信用代码").fill(site.number.lower())
    assert page.locator("#results li").count() == 1
    page.locator("#results a").click()
    page.wait_for_url(f"**/cert/{site.number}.html")


def test_searching_for_an_unknown_certificate_says_nothing_was_found(site: Site, page: Any) -> None:
    page.goto(site.base + "index.html")
    page.get_by_label("证书编号、组织名称或统一社会信用代码").fill("不存在的公司")
    assert page.locator("#result-count").inner_text().startswith("没有找到相符的证书")
    assert page.locator("#results li").count() == 0


def test_the_index_opened_from_disk_shows_the_certificate_and_finds_it_by_name(site: Site, page: Any) -> None:
    page.goto((site.folder / "index.html").as_uri())
    assert page.locator("#results a").first.inner_text() == ORGANIZATION
    page.get_by_label("证书编号、组织名称或统一社会信用代码").fill("蜀联")
    assert page.locator("#results a").inner_text() == ORGANIZATION


# -- a status change shows ------------------------------------------------------------------------


def test_a_suspended_certificate_shows_suspended_with_its_period(site: Site, page: Any, tmp_path: Path) -> None:
    with Register.open(site.register) as register:
        register.suspend(site.number, reason="逾期未接受监督审核", actor="张三", on=TODAY, until=date(2027, 5, 31))
    site.rebuild()
    try:
        page.goto(f"{site.base}cert/{site.number}.html")
        assert page.locator(".badge").inner_text().endswith("暂停")
        assert "暂停期：2026年12月1日至2027年5月31日" in page.locator(".status").inner_text()
        page.set_viewport_size({"width": 360, "height": 740})
        page.screenshot(path=str(screenshots(tmp_path) / "phone-suspended.png"), full_page=True)
        assert stays_on_site(site), site.requests
    finally:
        with Register.open(site.register) as register:
            register.restore(site.number, reason="已完成监督审核", actor="张三", on=TODAY)
        site.rebuild()


def test_an_organisation_named_like_a_script_is_shown_as_text_and_runs_nothing(site: Site, page: Any) -> None:
    from tests.test_register import facts

    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> \u202e司公限有\u202c' + "W" * 120
    with Register.open(site.register) as register:
        held = register.reserve(
            "hostile",
            pattern="HX-{year}-{serial:04d}",
            year=2026,
            facts=facts(
                scheme="bz-ts1008-2025",
                grade="已定义级",
                stars=None,
                level=3,
                score=None,
                audit_path=str(AUDIT),
                organization_name=hostile,
                uscc="91330106MA2CFXY80X",
            ),
        )
        register.complete(held.number, documents=[])
    site.rebuild()
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{site.base}cert/{held.number}.html")
    assert hostile in page.locator(".facts").inner_text()
    assert no_sideways_overflow(page)  # a long unbroken name wraps
    page.goto(site.base + "index.html")
    page.get_by_label("证书编号、组织名称或统一社会信用代码").fill("<script>")
    assert page.locator("#results a").inner_text() == hostile
    assert dialogs == []
    assert stays_on_site(site), site.requests
