"""Audit results (审核结果): the input format of docs/audit-result.md, parsed and validated.

:func:`parse_audit` checks a whole document against the format *and* the scheme's rules and
reports every problem at once, each with its JSON path (``items["5.1.2.2"].score``) and the
rule it breaks, in Chinese. Nothing here reads or writes files except :func:`load_audit`.
The dataclasses live in ``_audit_model``, the per-section validators in ``_audit_checks``;
this module is their public face.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from certdocs import _audit_checks as checks
from certdocs._audit_model import (
    AUDIT_TYPES,
    MODES,
    ROLES,
    AuditInfo,
    AuditResult,
    AuditType,
    Contact,
    ItemResult,
    Organization,
    ReportText,
    ResultForm,
    TeamMember,
    TimetableEntry,
)
from certdocs._fs import read_json_object
from certdocs._paths import jp
from certdocs._validate import Checker, printable
from certdocs.errors import InvalidAuditResult, Problem, SchemeError
from certdocs.scheme import Scheme, get_scheme


def parse_audit(data: Any, *, scheme: Scheme, source: str = "", digest: str = "") -> AuditResult:
    """Validate a parsed audit-result document against the format and ``scheme``.

    Raises :class:`InvalidAuditResult` listing every problem found.
    """
    c = Checker()
    if not isinstance(data, dict):
        raise InvalidAuditResult([Problem("$", "顶层须为 JSON 对象")], source=source)
    c.unknown(data, {"scheme", "organization", "scope", "audit", "items", "report", "prerequisites"}, "")
    if data.get("scheme") != scheme.id:
        c.bad("scheme", f"方案 {data.get('scheme')!r} 与所用方案 {scheme.id} 不一致")
    organization = checks.organization(c, data)
    scope = c.text(data, "scope", "scope")
    audit = checks.audit_info(c, data)
    raw_items = c.obj(data, "items", "items")
    known = {it.id for it in scheme.items}
    for item_id in raw_items:
        if item_id not in known:
            c.bad(jp("items", printable(item_id)), f"不是方案 {scheme.id} 的条目")
    items: dict[str, ItemResult] = {}
    for it in scheme.items:
        if it.id not in raw_items:
            if raw_items or "items" in data:
                c.bad(jp("items", it.id), f"缺少该条目的评价结果（{it.clause} {it.requirement[:20]}）")
            continue
        result = checks.item_result(c, scheme, it, raw_items[it.id])
        if result is not None:
            items[it.id] = result
    if (
        scheme.method == "points"
        and items
        and len(items) == len(scheme.items)
        and all(r.form in ("not_applicable", "compliant") for r in items.values())
    ):
        c.bad("items", "所有计分条目均被删减，无法评分")
    prerequisites = checks.prerequisites(c, scheme, data)
    report = checks.report_text(c, data)
    if c.problems:
        raise InvalidAuditResult(c.problems, source=source)
    return AuditResult(
        scheme_id=scheme.id,
        organization=organization,
        scope=scope,
        audit=audit,
        items=items,
        report=report,
        prerequisites=prerequisites,
        digest=digest,
    )


def load_audit(path: Path, *, schemes_dir: Path | None = None) -> tuple[AuditResult, Scheme]:
    """Read, parse and validate an audit-result file (.json, or an auditor's .xlsx workbook)."""
    if path.suffix.lower() == ".xlsx":
        # The workbook reader builds the same JSON document and validates it with parse_audit.
        from certdocs.workbook import load_workbook_audit

        return load_workbook_audit(path, schemes_dir=schemes_dir)
    source = str(path)
    # The one JSON reader: duplicate keys, NaN, deep nesting, encodings refused; fractions as Decimal.
    data, digest = read_json_object(path, InvalidAuditResult)
    scheme_id = data.get("scheme")
    if not isinstance(scheme_id, str):
        raise InvalidAuditResult([Problem("scheme", "缺少评价方案编号（如 xbht-s04-2025）")], source=source)
    try:
        scheme = get_scheme(scheme_id, extra_dir=schemes_dir)
    except SchemeError as exc:
        if exc.source:  # the scheme file itself is broken: name it, not the audit
            raise
        raise InvalidAuditResult(exc.problems, source=source) from exc
    return parse_audit(data, scheme=scheme, source=source, digest=digest), scheme


__all__ = [
    "AUDIT_TYPES",
    "MODES",
    "ROLES",
    "AuditInfo",
    "AuditResult",
    "AuditType",
    "Contact",
    "ItemResult",
    "Organization",
    "ReportText",
    "ResultForm",
    "TeamMember",
    "TimetableEntry",
    "load_audit",
    "parse_audit",
]
