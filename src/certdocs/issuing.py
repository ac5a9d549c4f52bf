"""What a program calls to issue: one certificate, a decision meeting's batch, a regeneration.

These functions carry the office's policies, so that a library caller gets what the command
line gets (the commands are thin layers over them):

- invalid input is refused before anything is written or reserved (exit status 2 from the
  command line): the audit result (for ``certificate``), the profiles, the dates
  (docs/dates.md), the Word templates (every problem at once);
- LibreOffice is looked for only once the input is accepted (and before any number is
  reserved), and closed afterwards. ``converter`` may be given instead: a converter (tests use
  :class:`certdocs.testing.FakeConverter`) or a function that makes one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from certdocs import _clock
from certdocs._issue_job import stored_audit_path
from certdocs._validate import line_problems
from certdocs.audit import load_audit
from certdocs.batch import BatchSummary, run_batch
from certdocs.convert import Converter, LibreOfficeConverter
from certdocs.decisions import Meeting
from certdocs.errors import CertdocsError, DateError, DecisionError, Problem, TemplateError
from certdocs.glyphcheck import check_audit_file
from certdocs.issuance import issue_date_problems, meeting_date_problems
from certdocs.pipeline import SINGLE_DECISION, Issuer, IssueRequest, Outcome, Workspace
from certdocs.profile import load_profiles, profile_for_scheme
from certdocs.regenerate import Change, plan, regenerate
from certdocs.register import Register

Progress = Callable[[str, int, int], None]


def check_templates(workspace: Workspace) -> None:
    """Refuse (:class:`TemplateError`, every problem at once) templates that cannot be rendered."""
    from certdocs.templatecheck import check_templates as problems_in

    problems = problems_in(workspace.templates, profiles=workspace.profiles)
    if problems:
        raise TemplateError(problems, source=str(workspace.templates))


ConverterOrFactory = Converter | Callable[[], Converter]


@contextlib.contextmanager
def _converter(given: ConverterOrFactory | None) -> Iterator[Converter]:
    """The converter given, else one made by the factory given (default LibreOffice), closed afterwards.

    Entered only once the input is validated: refused input never looks for LibreOffice, and a
    missing LibreOffice is reported before any number is reserved.
    """
    if given is not None and hasattr(given, "convert"):
        yield given
        return
    converter = (given or LibreOfficeConverter)()
    try:
        yield converter
    finally:
        close = getattr(converter, "close", None)
        if close is not None:
            close()


def issue_certificate(
    audit: Path,
    *,
    workspace: Workspace,
    today: date | None = None,
    issue_date: date | None = None,
    decision_meeting: str = SINGLE_DECISION,
    allow_future_date: bool = False,
    converter: ConverterOrFactory | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Score one audit result and issue its documents and issue pack (decided and issued on ``issue_date``).

    ``issue_date`` defaults to ``today`` (itself the clock's date by default). Raises
    :class:`InvalidAuditResult` for an invalid audit, :class:`DateError` for dates that break
    the rules (docs/dates.md) and :class:`TemplateError` for
    broken templates, before anything is written; otherwise the outcome says what happened
    (``issued``, ``unchanged``, ``refused`` or ``failed``).
    """
    today = today or _clock.today()
    day = issue_date or today
    result, scheme = load_audit(audit, schemes_dir=workspace.schemes)
    profile_for_scheme(scheme.id, folder=workspace.profiles)  # an invalid profile is invalid input too
    if problems := line_problems(("--decision-meeting", decision_meeting)):  # kept in the register, printed
        raise DecisionError(problems)
    check_audit_file(audit, schemes=workspace.schemes, profiles=workspace.profiles)  # glyphs, fields too long
    stored_audit_path(audit)
    problems = issue_date_problems(
        where=str(audit),
        audit_end=result.audit.end_date,
        decision_date=day,
        issue_date=day,
        today=today,
        allow_future=allow_future_date,
    )
    if problems:
        raise DateError(problems)
    check_templates(workspace)
    with _converter(converter) as conv, open_register(workspace) as register:
        issuer = Issuer(
            workspace,
            converter=conv,
            register=register,
            today=today,
            progress=progress,
            allow_future_date=allow_future_date,
        )
        (outcome,) = issuer.issue([IssueRequest(audit, decision_meeting, day, issue_date)])
    return outcome


def meeting_problems(meeting: Meeting, *, workspace: Workspace, today: date, allow_future_date: bool) -> list[Problem]:
    """The date problems of a decision meeting: its own date, and each approved record's issue date.

    An audit result that cannot be read is left to its record (it fails alone when issued).
    """
    audits: list[tuple[str, date]] = []
    problems: list[Problem] = []
    for n, d in enumerate(meeting.decisions):
        where = f"decisions[{n}]（{d.audit_as_written}）"
        try:
            result, _ = load_audit(d.audit, schemes_dir=workspace.schemes)
        except CertdocsError:
            continue
        end = result.audit.end_date
        audits.append((where, end))
        if d.decision == "approve":
            problems += issue_date_problems(
                where=where,
                audit_end=end,
                decision_date=meeting.date,
                issue_date=d.issue_date or meeting.date,
                today=today,
                allow_future=allow_future_date,
            )
    dated = meeting_date_problems(
        meeting=meeting.name, meeting_date=meeting.date, audits=audits, today=today, allow_future=allow_future_date
    )
    return dated + problems


def issue_batch(
    meeting: Meeting,
    *,
    workspace: Workspace,
    today: date | None = None,
    allow_future_date: bool = False,
    converter: ConverterOrFactory | None = None,
    progress: Progress | None = None,
) -> BatchSummary:
    """Record every decision of a meeting and issue the approved audits, all in one run.

    Raises :class:`DateError` for dates that break the rules (docs/dates.md) and
    :class:`TemplateError` for broken templates, before anything is recorded or written. A
    record that fails later (an invalid audit, a document LibreOffice cannot convert) fails
    alone and is listed in the summary's ``failed``.
    """
    today = today or _clock.today()
    load_profiles(workspace.profiles)  # an invalid profile is invalid input: refused before anything is recorded
    problems = meeting_problems(meeting, workspace=workspace, today=today, allow_future_date=allow_future_date)
    if problems:
        raise DateError(problems, source=str(meeting.source))
    check_templates(workspace)
    with _converter(converter) as conv, open_register(workspace) as register:
        issuer = Issuer(
            workspace,
            converter=conv,
            register=register,
            today=today,
            progress=progress,
            allow_future_date=allow_future_date,
        )
        return run_batch(meeting, issuer=issuer, register=register)


@dataclass(frozen=True)
class Regeneration:
    """What a regeneration found out of date, and (unless a dry run) what became of each rebuild."""

    changes: tuple[Change, ...]
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> tuple[Outcome, ...]:
        """The certificates whose documents could not be rebuilt."""
        return tuple(o for o in self.outcomes if o.status == "failed")


def regenerate_documents(
    *,
    workspace: Workspace,
    today: date | None = None,
    dry_run: bool = False,
    converter: ConverterOrFactory | None = None,
    progress: Progress | None = None,
) -> Regeneration:
    """Rebuild the issued documents whose inputs changed (numbers and dates kept); ``dry_run`` only plans.

    Raises :class:`TemplateError` for broken templates before anything is written.
    """
    today = today or _clock.today()
    check_templates(workspace)
    with open_register(workspace) as register:
        changes = plan(workspace=workspace, register=register, today=today)
        if dry_run or not changes:
            return Regeneration(tuple(changes), ())
        with _converter(converter) as conv:
            issuer = Issuer(workspace, converter=conv, register=register, today=today, progress=progress)
            return Regeneration(tuple(changes), tuple(regenerate(changes, issuer=issuer)))


def open_register(workspace: Workspace) -> Register:
    """The workspace's register, to query (``with open_register(ws) as register: register.list(today=…)``).

    The one place the library opens a register (issuing, batches and regeneration use it too).
    """
    return Register.open(workspace.register, documents_root=workspace.output)


__all__ = [
    "Regeneration",
    "check_templates",
    "issue_batch",
    "issue_certificate",
    "meeting_problems",
    "open_register",
    "regenerate_documents",
]
