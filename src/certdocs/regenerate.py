"""Regeneration: rebuild exactly the issued documents whose inputs changed since they were built.

Every document records what it was built from (:func:`certdocs.documents.built_from`: hashes of
the audit result, the template, the scheme and the profile; the version is recorded but does not
count). The check compares those with the inputs as they are now (the one comparison,
:func:`certdocs.documents.stale_inputs`) — one register query, one hash per template, audit file
and profile — and rebuilds only what differs,
keeping certificate numbers and dates from the register. Certificates in force (有效, 暂停)
are regenerated; withdrawn, cancelled, superseded and expired ones keep the documents they had.
Surveillance notices are dated letters already sent and are not regenerated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from certdocs._fs import sha256_file
from certdocs._issue_job import ISSUED_KINDS
from certdocs.documents import built_from, stale_inputs, stale_reasons
from certdocs.errors import CertdocsError, Problem, SchemeError
from certdocs.pipeline import Issuer, Outcome, Workspace
from certdocs.profile import load_profiles
from certdocs.register import CertificateRecord, DocumentRecord, Register
from certdocs.scheme import get_scheme


@dataclass(frozen=True)
class Change:
    """Documents of one certificate to rebuild, and why."""

    record: CertificateRecord
    kinds: tuple[str, ...]
    reasons: tuple[str, ...]


def plan(*, workspace: Workspace, register: Register, today: date) -> list[Change]:
    """What a regeneration would rebuild now (nothing is written).

    A document is rebuilt when it is missing or when :func:`~certdocs.documents.stale_inputs`
    finds one of the inputs it was built from changed, the same comparison ``certificate`` makes.
    """
    profiles = {p.scheme: p for p in load_profiles(workspace.profiles).values()}
    scheme_hash: dict[str, str] = {}
    missing_templates: dict[Path, None] = {}
    problems: list[Problem] = []
    changes: list[Change] = []
    for record in register.list_active(today):
        profile = profiles.get(record.facts.scheme)
        if profile is None:
            problems.append(Problem(f"证书 {record.number}", f"没有认证机构配置使用方案 {record.facts.scheme}"))
            continue
        if record.facts.scheme not in scheme_hash:
            try:
                scheme_hash[record.facts.scheme] = get_scheme(record.facts.scheme, extra_dir=workspace.schemes).digest
            except SchemeError as exc:
                problems += list(exc.problems)
                continue
        audit_path = Path(record.facts.audit_path)
        audit_hash = sha256_file(audit_path) if audit_path.is_file() else ""
        if not audit_hash:
            problems.append(Problem(f"证书 {record.number}", f"审核结果文件 {audit_path} 不存在，无法重新生成"))
            continue
        docs: dict[str, DocumentRecord] = {doc.kind: doc for doc in record.documents}
        kinds: list[str] = []
        reasons: list[str] = []
        for kind in ISSUED_KINDS:
            template = workspace.templates / profile.templates[kind]
            if not template.is_file():
                missing_templates[template] = None
                continue
            current = built_from(
                template, audit=audit_hash, scheme=scheme_hash[record.facts.scheme], profile=profile.digest
            )
            why = []
            for suffix in ("docx", "pdf"):
                found = docs.get(f"{kind}.{suffix}")
                if found is None or not Path(found.path).is_file():
                    why.append(f"{kind}.{suffix} 缺失")
                    continue
                names = stale_inputs(found.built_from, current)
                why += stale_reasons(names, template=template.name, scheme=record.facts.scheme, profile=profile.id)
            if why:
                kinds.append(kind)
                reasons += [w for w in dict.fromkeys(why) if w not in reasons]
        pack = docs.get("issue_pack.pdf")
        if not kinds and (pack is None or not Path(pack.path).is_file()):
            kinds, reasons = ["certificate"], ["issue_pack.pdf 缺失"]
        if kinds:
            changes.append(Change(record, tuple(kinds), tuple(reasons)))
    problems += [Problem(str(path), "模板文件不存在") for path in missing_templates]
    if problems:
        raise CertdocsError(problems)
    return changes


def regenerate(changes: list[Change], *, issuer: Issuer) -> list[Outcome]:
    """Rebuild the planned documents (and the issue pack where one of its parts changed)."""
    return issuer.rebuild([(c.record, c.kinds) for c in changes])


__all__ = ["Change", "plan", "regenerate"]
