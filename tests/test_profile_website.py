"""Where a profile's QR code points: its own verification site when it names a website."""

from __future__ import annotations

from typing import Any

import pytest

from certdocs.errors import ProfileError
from certdocs.profile import NATIONAL_VERIFY_URL, load_profiles, parse_profile


def profile_data(**changes: Any) -> dict[str, Any]:
    data = {
        "id": "test",
        "name": "测试认证有限公司",
        "scheme": "xbht-s04-2025",
        "certificate_title": "认证证书",
        "scope_template": "{scope}（{grade}）",
        "number_pattern": "T-{year}-{serial:04d}",
        "validity_statement": "本证书有效期为三年。",
        "templates": {
            kind: f"{kind}.docx"
            for kind in ("audit_plan", "scoresheet", "report", "certificate", "surveillance_notice")
        },
    }
    return data | changes


def test_a_profile_with_a_website_points_its_qr_code_at_the_sites_certificate_page() -> None:
    profile = parse_profile(profile_data(website="https://www.example.cn/"), source="test")
    assert profile.verification_url("T-2026-0001") == "https://www.example.cn/cert/T-2026-0001.html"


def test_a_profile_without_a_website_points_at_the_national_query_site() -> None:
    profile = parse_profile(profile_data(), source="test")
    assert profile.verification_url("T-2026-0001") == NATIONAL_VERIFY_URL.format(number="T-2026-0001")


def test_a_verify_url_given_in_the_profile_wins_over_the_website() -> None:
    data = profile_data(website="https://www.example.cn", verify_url="https://q.example.cn/?no={number}")
    assert parse_profile(data, source="test").verification_url("T-1") == "https://q.example.cn/?no=T-1"


def test_a_website_without_http_is_refused_when_the_qr_code_would_use_it() -> None:
    with pytest.raises(ProfileError, match="website"):
        parse_profile(profile_data(website="www.example.cn"), source="test")


def test_a_website_with_braces_cannot_smuggle_a_placeholder_into_the_url() -> None:
    profile = parse_profile(profile_data(website="https://example.cn/{year}"), source="test")
    assert profile.verification_url("T-1") == "https://example.cn/{year}/cert/T-1.html"


def test_bangzheng_points_at_its_own_website() -> None:
    assert load_profiles()["bangzheng"].verification_url("BZ-SC-2026-0001") == (
        "http://www.bozrz.com/cert/BZ-SC-2026-0001.html"
    )
