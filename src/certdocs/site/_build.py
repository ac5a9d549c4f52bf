"""Writing the verification site: one page per certificate, a searchable index, a JSON list.

Pages are Jinja2 templates shipped with the package (``certdocs/site/templates``) rendered with
autoescape on, so an organisation called ``<script>`` prints as text. The CSS and the search
script are inline and allowed by a Content-Security-Policy naming their hashes: the pages work
from ``file://``, from any web host as uploaded, and fetch nothing from anywhere.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

from certdocs._fs import atomic_write_bytes, read_json_object
from certdocs.dates import chinese_date
from certdocs.errors import CertdocsError, Problem, os_error_text
from certdocs.profile import Profile, profile_for_scheme
from certdocs.register import CertificateRecord, Register, Status
from certdocs.scheme import get_scheme
from certdocs.site._pages import (
    Body,
    CertificatePage,
    certificate_page,
    index_entries,
    last_change,
    script_json,
    served_path,
)

if TYPE_CHECKING:
    from jinja2 import Environment


@dataclass(frozen=True)
class QrMismatch:
    """A certificate whose QR code opens something the site does not serve."""

    number: str
    url: str
    page: str


@dataclass(frozen=True)
class SiteReport:
    """What a build wrote: files rewritten, files already right, QR codes pointing elsewhere."""

    site: Path
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    qr_elsewhere: tuple[QrMismatch, ...]
    warnings: tuple[Problem, ...] = field(default=())
    certificates: int = 0


@cache
def _environment() -> Environment:
    # Jinja imported here: a command that only names the site (or changes a status without one) skips it.
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("certdocs.site", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cn_date"] = chinese_date
    return env


def _asset(name: str) -> str:
    source = _environment().loader
    assert source is not None
    text, _, _ = source.get_source(_environment(), name)
    return text


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@cache
def _page_assets(*, script: bool) -> dict[str, object]:
    css = _asset("site.css")
    js = _asset("search.js") if script else ""
    policy = (
        "default-src 'none'; img-src 'self'; base-uri 'none'; form-action 'none'; "
        f"style-src {_csp_hash(css)}; script-src {_csp_hash(js) if js else chr(39) + 'none' + chr(39)}"
    )
    return {"css": Markup(css), "script": Markup(js), "csp": policy}


def render_certificate(page: CertificatePage) -> bytes:
    """The HTML of one certificate's page."""
    html = _environment().get_template("cert.html.j2").render(page=page, root="../", **_page_assets(script=False))
    return html.encode("utf-8")


def render_index(entries: list[dict[str, str]], *, updated: date | None, bodies: list[str]) -> bytes:
    """The HTML of the search page, its index embedded (so it also works opened from disk)."""
    html = (
        _environment()
        .get_template("index.html.j2")
        .render(
            data=Markup(script_json(entries)),
            count=len(entries),
            updated=updated,
            bodies=bodies,
            root="",
            **_page_assets(script=True),
        )
    )
    return html.encode("utf-8")


def _machine_entry(record: CertificateRecord, page: CertificatePage) -> dict[str, object]:
    suspended = last_change(record, Status.SUSPENDED) if record.status == Status.SUSPENDED else None
    return {
        "number": record.number,
        "organization": record.facts.organization_name,
        "uscc": record.facts.uscc,
        "standard": page.standard,
        "scope": page.scope,
        "grade": record.facts.grade,
        "first_issue_date": record.facts.first_issue_date.isoformat(),
        "issue_date": record.facts.issue_date.isoformat(),
        "valid_until": record.facts.valid_until.isoformat(),
        "status": str(record.status),
        "suspended_until": suspended.until.isoformat() if suspended and suspended.until else None,
        "superseded_by": record.superseded_by,
        "body": page.body.name,
        "page": page.file_name,
        "updated": page.updated.isoformat(),
    }


# A temporary file of a build killed half-way (atomic_write_bytes names them .<name>.<random>.part);
# one a minute old cannot belong to a build still running.
_STALE_PART_SECONDS = 60  # one file is written in milliseconds


class _Writer:
    """Writes files of the site whose bytes differ from what is there (atomically)."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.written: list[str] = []
        self.unchanged: list[str] = []
        now = time.time()
        for folder in (site, site / "cert"):
            for part in folder.glob(".*.part") if folder.is_dir() else ():
                with contextlib.suppress(OSError):
                    if now - part.stat().st_mtime > _STALE_PART_SECONDS:
                        part.unlink()

    def put(self, relative: str, data: bytes) -> None:
        path = self.site / relative
        try:
            same = path.read_bytes() == data
        except OSError:
            same = False
        if same:
            self.unchanged.append(relative)
        else:
            atomic_write_bytes(path, data)
            self.written.append(relative)


def build_site(
    register: Register,
    *,
    site: Path,
    today: date,
    profiles_dir: Path | None = None,
    schemes_dir: Path | None = None,
) -> SiteReport:
    """Write the verification site of every issued certificate into ``site``; rewrite only what changed.

    The status of each certificate is the one shown on ``today``; every date the pages print
    comes from the register, so the same register on the same day gives byte-identical files.
    """
    records = register.list(today=today)
    profiles: dict[str, Profile] = {}
    standards: dict[str, str] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for scheme_id in sorted({r.facts.scheme for r in records}):
        try:
            profiles[scheme_id] = profile_for_scheme(scheme_id, folder=profiles_dir)
            standards[scheme_id] = get_scheme(scheme_id, extra_dir=schemes_dir).standard_full
        except CertdocsError as exc:
            problems += exc.problems
    if problems:
        raise CertdocsError(problems)
    replaces = {r.superseded_by: r.number for r in records if r.superseded_by}
    pages: list[tuple[CertificateRecord, CertificatePage]] = []
    mismatches: list[QrMismatch] = []
    for record in records:
        profile = profiles[record.facts.scheme]
        scope = _scope(record, profile, warnings=warnings)
        body = Body(profile.name, profile.approval_no, profile.website, profile.phone)
        page = certificate_page(
            record,
            body=body,
            standard=standards[record.facts.scheme],
            scope=scope,
            replaces=replaces.get(record.number, ""),
            today=today,
        )
        pages.append((record, page))
        url = profile.verification_url(record.number)
        if served_path(url, website=profile.website) != page.file_name:
            mismatches.append(QrMismatch(record.number, url, page.file_name))
    owners: dict[str, str] = {}
    for record, page in pages:
        other = owners.setdefault(page.file_name, record.number)
        if other != record.number:
            rule = f"与证书 {other} 的页面文件名相同（{page.file_name}）：编号中含有不能作文件名的字符，请调整编号规则"
            problems.append(Problem(f"证书 {record.number}", rule))
    if problems:
        raise CertdocsError(problems, source=str(site))
    writer = _Writer(site)
    updated = max((p.updated for _, p in pages), default=None)
    bodies = sorted({p.body.name for _, p in pages})
    machine = {
        "updated": updated.isoformat() if updated else None,
        "certificates": [_machine_entry(r, p) for r, p in pages],
    }
    try:
        for _, page in pages:
            writer.put(page.file_name, render_certificate(page))
        writer.put("index.html", render_index(index_entries(p for _, p in pages), updated=updated, bodies=bodies))
        data = json.dumps(machine, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        writer.put("certificates.json", data.encode("utf-8"))
    except OSError as exc:
        raise CertdocsError([Problem(str(exc.filename or site), os_error_text(exc))], source=str(site)) from exc
    return SiteReport(
        site=site,
        written=tuple(writer.written),
        unchanged=tuple(writer.unchanged),
        qr_elsewhere=tuple(mismatches),
        warnings=tuple(warnings),
        certificates=len(pages),
    )


def _scope(record: CertificateRecord, profile: Profile, *, warnings: list[Problem]) -> str:
    """The certified scope as the certificate words it, from the audit result the register names.

    Only ``scope`` is read (the file was validated when the certificate was issued): a thousand
    pages rebuild in a second or two.
    """
    try:
        data, _ = read_json_object(Path(record.facts.audit_path), CertdocsError)
    except CertdocsError as exc:
        warnings.append(
            Problem(f"证书 {record.number}", f"读不到审核结果文件，页面不显示认证范围（{exc.problems[0]}）")
        )
        return ""
    scope = data.get("scope")
    if not isinstance(scope, str) or not scope.strip():
        warnings.append(
            Problem(f"证书 {record.number}", f"审核结果文件 {record.facts.audit_path} 没有 scope，页面不显示认证范围")
        )
        return ""
    return profile.certified_scope(
        organization=record.facts.organization_name, scope=scope.strip(), grade=record.facts.grade
    )


def site_files(site: Path) -> Mapping[str, bytes]:
    """Every file of a built site by its path inside it (for comparisons and tests)."""
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}
