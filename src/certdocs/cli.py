"""The ``certdocs`` command: parses arguments, calls one library function, prints.

Errors become Chinese messages on stderr and exit codes: 2 invalid input or usage, 1 some
records of a batch failed (or an outside tool failed).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from certdocs import __version__
from certdocs.audit import load_audit
from certdocs.errors import CertdocsError
from certdocs.scoring import score_audit
from certdocs.textreport import score_table

F = TypeVar("F", bound=Callable[..., Any])


def _reports_errors(func: F) -> F:
    """Turn CertdocsError into its Chinese message and exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CertdocsError as exc:
            click.echo(exc.render(), err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="certdocs")
def main() -> None:
    """售后服务成熟度认证文件流水线：评分、出具文件、批量发证、监督、归档。"""


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text：中文评分表；json：CONTRACT 第 3 节的 JSON 对象。")
@_reports_errors
def score(file: Path, fmt: str) -> None:
    """按审核结果文件所用的评价方案评分。"""
    audit, scheme = load_audit(file)
    result = score_audit(audit, scheme)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        click.echo(score_table(result, audit, scheme))
