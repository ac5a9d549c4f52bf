"""Certification-body profiles: validated on load, and never a way to steer a path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from certdocs.errors import ProfileError
from certdocs.profile import load_profiles, parse_profile

BUNDLED = Path(__file__).resolve().parent.parent / "src" / "certdocs" / "profiles"


def xbht() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BUNDLED / "xbht.json").read_text(encoding="utf-8"))
    return data


def refusal(data: dict[str, Any]) -> str:
    with pytest.raises(ProfileError) as info:
        parse_profile(data, source="x.json")
    return info.value.render()


def test_the_four_bundled_profiles_load() -> None:
    assert sorted(load_profiles()) == ["bangzheng", "kunbiao", "xbht", "zhongding"]


@pytest.mark.parametrize(
    "pattern",
    ["XBHT/{year}/{serial:04d}", "../{year}-{serial:04d}", "XBHT..{year}-{serial:04d}", "XBHT\\{year}-{serial:04d}"],
)
def test_a_number_pattern_with_a_path_in_it_is_refused(pattern: str) -> None:
    data = xbht()
    data["number_pattern"] = pattern
    assert "number_pattern：" in refusal(data)


def test_a_number_pattern_with_a_bidi_override_is_refused() -> None:
    data = xbht()
    data["number_pattern"] = "XBHT-\u202e{year}-{serial:04d}"
    assert "number_pattern：第 6 个字符是 U+202E" in refusal(data)


@pytest.mark.parametrize("name", ["../certificate.docx", "/etc/certificate.docx", "sub\\certificate.docx"])
def test_a_template_name_with_a_path_in_it_is_refused(name: str) -> None:
    data = xbht()
    data["templates"]["certificate"] = name
    assert "templates.certificate：" in refusal(data)


def test_every_problem_of_a_profile_is_reported_at_once() -> None:
    data = xbht()
    data["name"] = 1
    data["verify_url"] = "ftp://x/{number}"
    data["scope_template"] = "{scope}"
    data["signatory"] = "张三"
    assert "共 4 处问题" in refusal(data)


def test_a_newline_is_allowed_in_the_validity_statement_only() -> None:
    data = xbht()
    data["validity_statement"] = "本证书有效期为三年。\n逾期未接受监督审核的，本证书自动失效。"
    assert parse_profile(data, source="x.json").validity_statement.count("\n") == 1
    data["name"] = "北京新标恒通\n认证有限公司"
    assert "name：" in refusal(data)
