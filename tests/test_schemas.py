"""The published JSON Schemas of schemes and profiles: the bundled files fit them, and they agree
with the loaders on files the loaders refuse."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from certdocs.errors import ProfileError, SchemeError
from certdocs.profile import parse_profile
from certdocs.scheme import parse_scheme

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "certdocs"


@functools.cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """The validator of the published ``<name>.schema.json``, the schema checked against its meta-schema.

    Made once per test process: checking a schema against the 2020-12 meta-schema (20–40 ms) is the
    same work for every test, and a validator keeps no state between validations.
    """
    schema = json.loads((PACKAGE / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("path", sorted((PACKAGE / "schemes").glob("*.json")), ids=lambda p: p.stem)
def test_every_bundled_scheme_fits_the_scheme_schema(path: Path) -> None:
    assert list(validator("scheme").iter_errors(load(path))) == []


@pytest.mark.parametrize("path", sorted((PACKAGE / "profiles").glob("*.json")), ids=lambda p: p.stem)
def test_every_bundled_profile_fits_the_profile_schema(path: Path) -> None:
    assert list(validator("profile").iter_errors(load(path))) == []


SCHEME_BREAKS = {
    "category not an object": lambda d: d["categories"].__setitem__(0, "售后服务体系"),
    "prerequisite without field": lambda d: d["rules"].__setitem__("prerequisites", [{"kind": "min", "value": 3}]),
    "months as strings": lambda d: d["surveillance"].__setitem__("months", ["9", "12"]),
    "basis as one string": lambda d: d["standard"].__setitem__("basis", "GB/T 27922"),
    "unknown method": lambda d: d.__setitem__("method", "stars"),
    "misspelt field": lambda d: d.__setitem__("grade", []),
    "bidi in a title": lambda d: d["standard"].__setitem__("title", "评价\u202e规范"),
}


@pytest.mark.parametrize("case", sorted(SCHEME_BREAKS))
def test_the_scheme_schema_and_the_loader_both_refuse(case: str) -> None:
    data = load(PACKAGE / "schemes" / "fw01-2021.json")
    SCHEME_BREAKS[case](data)
    assert list(validator("scheme").iter_errors(data)) != []
    with pytest.raises(SchemeError):
        parse_scheme(data, source="x.json")


def _website_makes_the_qr_url(data: dict[str, Any], website: str) -> None:
    del data["verify_url"]
    data["website"] = website


PROFILE_BREAKS: dict[str, Callable[[dict[str, Any]], object]] = {
    "number pattern with a slash": lambda d: d.__setitem__("number_pattern", "ZD/{year}/{serial:04d}"),
    "number pattern with dots": lambda d: d.__setitem__("number_pattern", "..{year}-{serial:04d}"),
    "template with a path": lambda d: d["templates"].__setitem__("report", "../report.docx"),
    "missing template": lambda d: d["templates"].pop("certificate"),
    "verify url not http": lambda d: d.__setitem__("verify_url", "ftp://x/{number}"),
    "website not http where it makes the qr url": lambda d: _website_makes_the_qr_url(d, "www.x.cn"),
    "name not text": lambda d: d.__setitem__("name", 12),
    "nul in a name": lambda d: d.__setitem__("name", "中鼎\x00国际"),
}


@pytest.mark.parametrize("case", sorted(PROFILE_BREAKS))
def test_the_profile_schema_and_the_loader_both_refuse(case: str) -> None:
    data = load(PACKAGE / "profiles" / "zhongding.json")
    PROFILE_BREAKS[case](data)
    assert list(validator("profile").iter_errors(data)) != []
    with pytest.raises(ProfileError):
        parse_profile(data, source="x.json")


def test_the_audit_schema_and_the_loader_both_refuse_a_path_as_uscc_whatever_the_override() -> None:
    from certdocs.audit import parse_audit
    from certdocs.errors import InvalidAuditResult
    from certdocs.scheme import get_scheme

    data = load(PACKAGE.parent.parent / "fixtures" / "xbht-s04-2025" / "pass.json")
    data["organization"].update(uscc="../../../../tmp/xy", uscc_checksum_override="核对无误")
    assert list(validator("audit-result").iter_errors(data)) != []
    with pytest.raises(InvalidAuditResult):
        parse_audit(data, scheme=get_scheme("xbht-s04-2025"))
