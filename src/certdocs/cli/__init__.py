"""The ``certdocs`` command: parses arguments, calls one library function, prints.

Errors become Chinese messages on stderr and exit codes: 2 invalid input or usage, 1 some
records of a batch failed (or an outside tool failed). The commands live in ``_issue``
(score, certificate, batch, regenerate), ``_register`` (register, surveillance), ``_migrate``
(register migrate), ``_archive`` (templates, sign, archive), ``_workbook`` (workbook, import),
``_site`` (site build, site serve); ``_app`` holds the group and what they share.
"""

from certdocs.cli import _archive, _issue, _migrate, _register, _site, _workbook  # noqa: F401  (they attach their commands)
from certdocs.cli._app import main

__all__ = ["main"]
