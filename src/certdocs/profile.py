"""Certification-body profiles (认证机构配置): who issues, how numbers and scopes read, which templates.

A profile is a JSON file in ``certdocs/profiles/`` (or a folder given by the caller), validated
completely on load. Office staff change a phone number or a signatory here, not in code.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from certdocs._fs import read_json_object, safe_name
from certdocs._paths import jp
from certdocs._validate import Checker
from certdocs.errors import Problem, ProfileError
from certdocs.fitting import DEFAULT_LIMITS, FieldLimit, parse_limits

DOCUMENT_KINDS = ("audit_plan", "scoresheet", "report", "certificate", "surveillance_notice")
DOCUMENT_TITLES = {
    "audit_plan": "审核计划",
    "scoresheet": "打分表",
    "report": "审核报告",
    "certificate": "认证证书",
    "surveillance_notice": "监督审核通知书",
}


@dataclass(frozen=True)
class Profile:
    """One certification body's facts and settings."""

    id: str
    name: str
    name_en: str
    short_name: str
    approval_no: str
    address: str
    phone: str
    email: str
    website: str
    cnca_site: str
    rules_code: str
    rules_title: str
    rules_edition: str
    scheme: str
    certificate_title: str
    scope_template: str
    number_pattern: str
    verify_url: str
    signatory_name: str
    signatory_title: str
    validity_statement: str
    templates: Mapping[str, str]
    digest: str = ""
    certificate_fit: Mapping[str, FieldLimit] = field(default_factory=lambda: dict(DEFAULT_LIMITS))  # fitting.py
    suspension_max_months: int = 6  # the longest suspension the body's rules allow
    appeal_days: int = 30  # days after receiving a decision within which the organisation may appeal

    @property
    def rules(self) -> str:
        """The implementation rules as documents cite them: BZ-SC-R-055《…》."""
        if not self.rules_title:
            return self.rules_code
        return f"{self.rules_code}《{self.rules_title}》".strip()

    def certified_scope(self, *, organization: str, scope: str, grade: str) -> str:
        """The scope as the certificate words it, with the grade."""
        return self.scope_template.format(organization=organization, scope=scope, grade=grade)

    def certificate_number(self, *, year: int, serial: int) -> str:
        """The certificate number for a year and serial."""
        return self.number_pattern.format(year=year, serial=serial)

    def verification_url(self, number: str) -> str:
        """Where the QR code points for this certificate."""
        return self.verify_url.format(number=number)


NATIONAL_VERIFY_URL = "http://cx.cnca.cn/CertECloud/index/index/page?certNo={number}"


def default_verify_url(website: str) -> str:
    """The QR pattern of a profile that names none: the body's own verification site, else the national one.

    ``{website}/cert/{number}.html`` is the page ``certdocs site build`` writes for a certificate.
    """
    if not website:
        return NATIONAL_VERIFY_URL
    return website.rstrip("/").replace("{", "{{").replace("}", "}}") + "/cert/{number}.html"


def _verify_url(c: Checker, data: Mapping[str, Any], website: str) -> str:
    """The QR code's URL pattern: ``verify_url`` when given, else :func:`default_verify_url`."""
    if data.get("verify_url") in (None, ""):
        if website and not website.startswith(("http://", "https://")):
            c.bad("website", "机构网址须以 http:// 或 https:// 开头（二维码默认指向本站证书页）")
        return default_verify_url(website)
    verify = _pattern(c, data, "verify_url", {"number"}, {"number"})
    if verify and not verify.startswith(("http://", "https://")):
        c.bad("verify_url", "验证网址须以 http:// 或 https:// 开头")
    return verify


def _bounded(c: Checker, data: Mapping[str, Any], key: str, *, default: int, top: int) -> int:
    value = c.integer(data, key, key)
    if value is None:
        return default
    if not 1 <= value <= top:
        c.bad(key, f"应为 1 至 {top} 的整数，实为 {value}")
        return default
    return value


def _fields(pattern: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}


_NUMBER = re.compile(r"[A-Za-z0-9_\-（）()]+")


def _pattern(c: Checker, data: Mapping[str, Any], key: str, allowed: set[str], needed: set[str]) -> str:
    value = c.text(data, key, key)
    try:
        found = _fields(value)
    except ValueError as exc:
        c.bad(key, f"格式串无效：{exc}")
        return ""
    if found - allowed:
        c.bad(key, f"未知占位符 {sorted(found - allowed)}，可用：{sorted(allowed)}")
    if needed - found:
        c.bad(key, f"缺少占位符 {sorted(needed - found)}")
    return value


def _number_pattern(c: Checker, data: Mapping[str, Any]) -> str:
    """The certificate-number pattern; a number names a folder, so it can never hold a path."""
    before = len(c.problems)
    pattern = _pattern(c, data, "number_pattern", {"year", "serial"}, {"year", "serial"})
    if not pattern or len(c.problems) > before:
        return pattern
    if ".." in pattern or "/" in pattern or "\\" in pattern:
        c.bad("number_pattern", "证书编号用作文件夹名，不能含 ..、/ 或 \\")
        return pattern
    try:
        sample = pattern.format(year=2026, serial=1)
    except (ValueError, IndexError, KeyError) as exc:
        c.bad("number_pattern", f"格式串无效：{exc}")
        return pattern
    if not _NUMBER.fullmatch(sample) or safe_name(sample) != sample:
        c.bad("number_pattern", f"证书编号 {sample!r} 含不适合作文件夹名的字符（只可用字母、数字、-、_ 和括号）")
    return pattern


def _templates(c: Checker, data: Mapping[str, Any]) -> dict[str, str]:
    templates = c.obj(data, "templates", "templates")
    out: dict[str, str] = {}
    for kind, name in templates.items():
        where = jp("templates", kind)
        if not isinstance(name, str) or not name.endswith(".docx"):
            c.bad(where, "应为 .docx 模板文件名")
        elif safe_name(name) != name:  # a file in the templates folder, never a path out of it
            c.bad(where, f"模板文件名 {name!r} 须为 templates 文件夹中的文件名，不能含路径")
        else:
            out[kind] = name
    for kind in DOCUMENT_KINDS:
        if kind not in templates:
            c.bad(f"templates.{kind}", f"须指定{DOCUMENT_TITLES[kind]}的 .docx 模板文件名")
    return out


def parse_profile(data: Mapping[str, Any], *, source: str, digest: str = "") -> Profile:
    """Build a :class:`Profile` from parsed JSON, reporting every problem at once."""
    c = Checker()
    rules = c.obj(data, "rules", "rules", required=False)
    signatory = c.obj(data, "signatory", "signatory", required=False)
    templates = _templates(c, data)
    number_pattern = _number_pattern(c, data)

    def text(key: str, *, required: bool = False, multiline: bool = False) -> str:
        return c.text(data, key, key, required=required, multiline=multiline)

    website = text("website")
    verify = _verify_url(c, data, website)
    profile = Profile(
        id=text("id", required=True),
        name=text("name", required=True),
        name_en=text("name_en"),
        short_name=text("short_name"),
        approval_no=text("approval_no"),
        address=text("address"),
        phone=text("phone"),
        email=text("email"),
        website=website,
        cnca_site=text("cnca_site") or "http://www.cnca.gov.cn",
        rules_code=c.text(rules, "code", "rules.code", required=False),
        rules_title=c.text(rules, "title", "rules.title", required=False),
        rules_edition=c.text(rules, "edition", "rules.edition", required=False),
        scheme=text("scheme", required=True),
        certificate_title=text("certificate_title", required=True),
        scope_template=_pattern(c, data, "scope_template", {"organization", "scope", "grade"}, {"scope", "grade"}),
        number_pattern=number_pattern,
        verify_url=verify,
        signatory_name=c.text(signatory, "name", "signatory.name", required=False),
        signatory_title=c.text(signatory, "title", "signatory.title", required=False),
        validity_statement=text("validity_statement", required=True, multiline=True),
        templates=templates,
        digest=digest,
        certificate_fit=parse_limits(data.get("certificate_fit"), c.problems),
        suspension_max_months=_bounded(c, data, "suspension_max_months", default=6, top=12),
        appeal_days=_bounded(c, data, "appeal_days", default=30, top=365),
    )
    if c.problems:
        raise ProfileError(c.problems, source=source)
    return profile


def load_profile_file(path: Path) -> Profile:
    """Read and validate one profile file."""
    data, digest = read_json_object(path, ProfileError)
    return parse_profile(data, source=str(path), digest=digest)


def load_profiles(folder: Path | None = None) -> dict[str, Profile]:
    """Every profile in ``folder`` (default: the bundled ones), by id."""
    if folder is None:
        return dict(_bundled())
    return _load_folder(folder)


def _load_folder(folder: Path) -> dict[str, Profile]:
    out: dict[str, Profile] = {}
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.json")):
        try:
            profile = load_profile_file(path)
        except ProfileError as exc:
            problems += [Problem(f"{path.name}: {p.where}", p.rule) for p in exc.problems]
            continue
        out[profile.id] = profile
    if problems:
        raise ProfileError(problems, source=str(folder))
    return out


@cache
def _bundled() -> dict[str, Profile]:
    with resources.as_file(resources.files("certdocs") / "profiles") as folder:
        return _load_folder(Path(folder))


def profile_for_scheme(scheme_id: str, *, folder: Path | None = None) -> Profile:
    """The body that certifies under ``scheme_id``."""
    matches = [p for p in load_profiles(folder).values() if p.scheme == scheme_id]
    if len(matches) != 1:
        rule = "没有认证机构配置使用该方案" if not matches else "有多个认证机构配置使用该方案，请用 --profile 指定"
        raise ProfileError([Problem(f"scheme {scheme_id}", rule)])
    return matches[0]
