"""The documented template context as a shape: the keys, lists and leaf types templates may use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from certdocs.errors import CertdocsError


@dataclass(frozen=True)
class ListShape:
    """The shape of a list in the context: the merged shape of its elements."""

    item: Any  # the shape of each element


ANY = "any"  # a value whose inside is not known (loop helpers, set variables, the QR image)


def known_context() -> dict[str, Any]:
    """The documented context as a key tree: dicts of keys, ``[element]`` for lists, type names for leaves.

    Built by :func:`certdocs.context.build_context` on sample audits of every bundled scheme
    (so it is the real context, not a copy of the docs), plus ``certificate.qr`` that rendering adds.
    """
    tree: dict[str, Any] = _plain(context_shape())
    return tree


def _plain(shape: Any) -> Any:
    if isinstance(shape, dict):
        return {key: _plain(value) for key, value in shape.items()}
    if isinstance(shape, ListShape):
        return [] if shape.item == ANY else [_plain(shape.item)]
    return shape


def _shape_of(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _shape_of(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        shape: Any = ANY
        for element in value:
            shape = _merge(shape, _shape_of(element))
        return ListShape(shape)
    return "bool" if isinstance(value, bool) else "str" if isinstance(value, str) else ANY


def _merge(a: Any, b: Any) -> Any:
    if a == ANY:
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _merge(a.get(k, ANY), b.get(k, ANY)) for k in sorted(a.keys() | b.keys())}
    if isinstance(a, ListShape) and isinstance(b, ListShape):
        return ListShape(_merge(a.item, b.item))
    return a if a == b else ANY


@cache
def context_shape() -> dict[str, Any]:
    from certdocs.letters import sample_letter_context
    from certdocs.scheme import get_scheme, scheme_ids

    shape: Any = ANY
    for scheme_id in scheme_ids():
        shape = _merge(shape, _shape_of(_sample_context(get_scheme(scheme_id))))
    if not isinstance(shape, dict):  # pragma: no cover - there are always bundled schemes
        raise CertdocsError("没有可用的评价方案，无法确定模板变量")
    shape["certificate"]["qr"] = ANY  # an InlineImage, added by certdocs.render
    shape["letter"] = _shape_of(sample_letter_context())  # a status letter's own variables, certdocs.letters
    return dict(shape)


def _sample_context(scheme: Any) -> dict[str, Any]:
    """A context with every list filled: one deduction, one exclusion, report lists, a full team."""
    from dataclasses import fields

    from certdocs.audit import parse_audit
    from certdocs.context import PrintedCertificate, SurveillanceFacts, build_context
    from certdocs.dates import SurveillanceWindow
    from certdocs.profile import Profile, profile_for_scheme
    from certdocs.scoring import score_audit

    items: dict[str, Any] = {}
    for n, item in enumerate(scheme.items):
        if scheme.veto is not None and item.id == scheme.veto.item:
            items[item.id] = {"compliant": True}
        elif scheme.method == "levels":
            items[item.id] = {"level": 3, "evidence": "示例", "finding": "示例"}
        elif n == 1 and scheme.exclusions_allowed:
            items[item.id] = {"not_applicable": "示例理由"}
        else:
            items[item.id] = {"score": 0 if n == 0 else item.points or 0, "evidence": "示例", "finding": "示例"}
    team = [
        {"name": name, "role": role, "qualification": "示例"}
        for name, role in (("甲", "leader"), ("乙", "member"), ("丙", "expert"), ("丁", "observer"))
    ]
    doc = {
        "scheme": scheme.id,
        "scope": "示例",
        "items": items,
        "organization": {
            "name": "示例",
            "uscc": "91110108MA01HT5W3Y",
            "registered_address": "示例",
            "audit_address": "示例",
            "legal_representative": "示例",
            "contact": {"name": "示例", "title": "示例", "phone": "示例", "email": "示例"},
        },
        "audit": {
            "type": "initial",
            "start_date": "2026-11-10",
            "end_date": "2026-11-11",
            "mode": "onsite",
            "person_days": 3,
            "team": team,
            "documents_to_prepare": ["示例"],
        },
        "report": {"overview": "示例", "strengths": ["示例"], "weaknesses": ["示例"], "recommendations": ["示例"]},
    }
    if scheme.prerequisites:
        doc["prerequisites"] = {p.field: p.value for p in scheme.prerequisites}
    audit = parse_audit(doc, scheme=scheme, source="sample")
    try:
        profile = profile_for_scheme(scheme.id)
    except CertdocsError:  # no bundled body for this scheme: the key tree does not depend on it
        placeholder: dict[str, Any] = {f.name: {} if f.name == "templates" else "{scope}" for f in fields(Profile)}
        profile = Profile(**placeholder)
    day = date(2026, 11, 22)
    return build_context(
        audit=audit,
        scheme=scheme,
        score=score_audit(audit, scheme),
        profile=profile,
        certificate=PrintedCertificate("示例", day, day, day, "示例"),
        issued_on=day,
        surveillance=SurveillanceFacts(SurveillanceWindow(1, day, day), Decimal(1), "示例"),
    )
