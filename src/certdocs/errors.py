"""The one exception tree of certdocs.

Every error a user can meet is a :class:`CertdocsError` carrying one or more
:class:`Problem` s, each saying *where* (a file, a JSON path, a template location)
and *which rule* was broken, in Chinese for office staff. The CLI prints them all
and exits with :attr:`CertdocsError.exit_code`.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: where it is and what is wrong, in Chinese."""

    where: str
    rule: str

    def __str__(self) -> str:
        return f"{self.where}：{self.rule}" if self.where else self.rule


_OS_ERRORS = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有读取或写入权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "这是一个文件夹，不是文件",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "文件系统只读",
}


def os_error_text(exc: OSError) -> str:
    """An operating-system error in Chinese for office staff (the system's own words otherwise)."""
    return _OS_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))


class CertdocsError(Exception):
    """Base of every error certdocs raises on purpose."""

    exit_code = 2
    title = "处理失败"

    def __init__(self, problems: Iterable[Problem] | str, *, source: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        """All problems as one Chinese message, one line each."""
        head = f"{self.title}（{self.source}）" if self.source else self.title
        if len(self.problems) == 1:
            return f"{head}：{self.problems[0]}"
        lines = [f"{head}，共 {len(self.problems)} 处问题："]
        lines += [f"  {n}. {p}" for n, p in enumerate(self.problems, 1)]
        return "\n".join(lines)


class InvalidAuditResult(CertdocsError):
    """The audit-result file breaks the format or the scheme's rules."""

    title = "审核结果文件无效"


class SchemeError(CertdocsError):
    """A scheme data file is malformed or inconsistent."""

    title = "评价方案文件无效"


class ProfileError(CertdocsError):
    """A certification-body profile is malformed or inconsistent."""

    title = "认证机构配置无效"


class DecisionError(CertdocsError):
    """A decision-meeting file is malformed."""

    title = "认证决定文件无效"


class DateError(CertdocsError):
    """An issue date or a decision meeting's date breaks the rules (docs/dates.md)."""

    title = "日期不符合规则"


class TemplateError(CertdocsError):
    """A Word template cannot be rendered."""

    title = "模板错误"


class ConversionError(CertdocsError):
    """LibreOffice did not produce the expected PDF."""

    exit_code = 1
    title = "PDF 转换失败"


class DocumentError(CertdocsError):
    """A document could not be written (rendered, converted, placed or recorded)."""

    exit_code = 1
    title = "文件生成失败"


class RegisterError(CertdocsError):
    """The certificate register refused an operation."""

    exit_code = 1
    title = "证书登记簿错误"


class UnknownCertificate(RegisterError):
    """A certificate number the register does not hold: an input error (exit 2)."""

    exit_code = 2


class RecordsError(CertdocsError):
    """The records folder cannot be used as asked (a move that cannot be made, two registers)."""

    exit_code = 1
    title = "证书记录错误"


class OutputMismatch(RecordsError):
    """The output folder given is not the one the register knows: a usage error (exit 2)."""

    exit_code = 2


class SigningError(CertdocsError):
    """A PDF could not be signed."""

    exit_code = 1
    title = "签名失败"


class SigningInputError(SigningError):
    """The signing certificate file or its passphrase is wrong: an input error (exit 2)."""

    exit_code = 2


class ArchiveError(CertdocsError):
    """A file could not be archived, or the archive failed verification."""

    exit_code = 1
    title = "归档失败"


__all__ = [
    "ArchiveError",
    "CertdocsError",
    "ConversionError",
    "DateError",
    "DecisionError",
    "DocumentError",
    "InvalidAuditResult",
    "OutputMismatch",
    "Problem",
    "ProfileError",
    "RecordsError",
    "RegisterError",
    "SchemeError",
    "SigningError",
    "SigningInputError",
    "TemplateError",
    "UnknownCertificate",
    "os_error_text",
]
