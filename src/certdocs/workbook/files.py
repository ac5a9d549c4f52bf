"""The workbook's two file jobs: make a workbook (blank or from an audit result), import one to JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from certdocs._fs import atomic_write_bytes, read_json_object
from certdocs.audit import AuditResult, load_audit
from certdocs.errors import InvalidAuditResult, Problem, SchemeError, os_error_text
from certdocs.scheme import Scheme, get_scheme
from certdocs.workbook.layout import build_layout, capacity_for
from certdocs.workbook.reader import read_workbook, to_json_text, validate
from certdocs.workbook.writer import build_workbook

SUFFIX = ".xlsx"


def _usage(where: str, rule: str) -> InvalidAuditResult:
    return InvalidAuditResult([Problem(where, rule)])


def make_workbook(
    scheme_id: str, *, output: Path, source: Path | None = None, schemes_dir: Path | None = None
) -> Scheme:
    """Write the auditor's workbook for ``scheme_id`` to ``output``, pre-filled from ``source`` if given.

    ``source`` is an audit result (.json, or a workbook to carry into the current layout); it is
    validated completely first, and nothing is written when it is invalid.
    """
    if output.suffix.lower() != SUFFIX:
        raise _usage(str(output), "输出文件须以 .xlsx 结尾")
    try:
        scheme = get_scheme(scheme_id, extra_dir=schemes_dir)
    except SchemeError as exc:
        raise InvalidAuditResult(exc.problems) from exc
    data: dict[str, Any] | None = None
    if source is not None:
        if source.resolve() == output.resolve():
            raise _usage(str(output), "输出文件不能覆盖作为来源的审核结果")
        data = _source_document(source, scheme, schemes_dir=schemes_dir)
    layout = build_layout(scheme, capacity_for(data) if data else None)
    body, problems = build_workbook(layout, data)
    if problems:
        raise InvalidAuditResult(problems, source=str(source))
    try:
        atomic_write_bytes(output, body)
    except OSError as exc:
        raise _usage(str(output), f"无法写入：{os_error_text(exc)}") from exc
    return scheme


def _source_document(source: Path, scheme: Scheme, *, schemes_dir: Path | None) -> dict[str, Any]:
    """The validated audit-result document of ``source`` (JSON or workbook)."""
    if source.suffix.lower() == SUFFIX:
        content = read_workbook(source, schemes_dir=schemes_dir)
        validate(content, source=str(source))
        found, data = content.scheme, content.data
    else:
        _, found = load_audit(source, schemes_dir=schemes_dir)
        # The raw document, not the parsed one: the workbook must give back the same JSON value.
        data, _ = read_json_object(source, InvalidAuditResult)
    if found.id != scheme.id:
        raise _usage(str(source), f"审核结果属于评价方案 {found.id}，与所要求的工作簿方案 {scheme.id} 不一致")
    document: dict[str, Any] = _without_comments(data)
    return document


def _without_comments(value: Any) -> Any:
    """The document without ``_`` comment keys, which a workbook has no cell for."""
    if isinstance(value, dict):
        return {k: _without_comments(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_without_comments(v) for v in value]
    return value


def import_workbook(
    path: Path, *, output: Path, schemes_dir: Path | None = None, scheme_id: str | None = None
) -> AuditResult:
    """Read and validate a filled workbook and write its audit result to ``output`` (JSON).

    Every problem is reported at once, located by sheet and cell; nothing is written when there is any.
    """
    if output.suffix.lower() != ".json":
        raise _usage(str(output), "输出文件须以 .json 结尾")
    if output.resolve() == path.resolve():
        raise _usage(str(output), "输出文件不能覆盖工作簿本身")
    content = read_workbook(path, schemes_dir=schemes_dir, scheme_id=scheme_id)
    audit = validate(content, source=str(path))
    try:
        atomic_write_bytes(output, to_json_text(content.data).encode())
    except OSError as exc:
        raise _usage(str(output), f"无法写入：{os_error_text(exc)}") from exc
    return audit
