"""The template checker's entry points: one template, or a folder of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from certdocs._kept import Kept, digest
from certdocs.errors import CertdocsError, Problem, os_error_text
from certdocs.templatecheck._assets import check_fonts, check_images, check_languages
from certdocs.templatecheck._jinja import PartChecker
from certdocs.templatecheck._source import read_template

# Results of templates already checked in this process, by file name and digest of the bytes
# checked: every issuing run checks the whole folder first, and the same unchanged templates
# cost ~0.1 s each to parse and walk. The name is in the key because problems name the file.
# What else a check reads is fixed for the process and cached where it is read (the context
# shape of the bundled schemes, fontconfig's answers, certdocs' fonts.conf), so the bytes decide.
_memo: Kept[tuple[Problem, ...]] = Kept(entries=64)
_UNFINISHED = "模板检查未能完成"


def check_template(path: Path) -> list[Problem]:
    """Every problem found in one Word template (empty when it is fit to render)."""
    if not path.is_file():
        return [Problem(str(path), "模板文件不存在")]
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [Problem(path.name, f"无法读取模板文件：{os_error_text(exc)}")]
    key = (path.name, digest(data))
    known = _memo.get(key)
    if known is not None:
        return list(known)
    problems = _check(path.name, data)
    # A check that broke off is not kept: the next call tries again and says so again.
    if not any(p.rule.startswith(_UNFINISHED) for p in problems):
        _memo.put(key, tuple(problems))
    return problems


def _check(name: str, data: bytes) -> list[Problem]:
    """Every problem in the template file ``name`` whose bytes are ``data``."""
    problems: list[Problem] = []

    def report(problem: Problem) -> None:
        if problem not in problems:  # a text box is in the document twice (Word's fallback copy)
            problems.append(problem)

    read = read_template(name, data, problems)
    if read is None:
        return problems
    parts, xml = read
    stages: list[Callable[[], None]] = [PartChecker(name, part, report).run for part in parts]
    stages += [
        lambda: check_images(name, parts, xml, report),
        lambda: check_fonts(name, parts, xml, report),
        lambda: check_languages(name, parts, xml, report),
    ]
    for stage in stages:
        try:
            stage()
        except Exception as exc:  # an odd template must not stop the check of the others
            report(Problem(name, f"{_UNFINISHED}（{type(exc).__name__}: {exc}），请把该模板交给技术人员查看"))
    return problems


def check_templates(folder: Path, *, names: Sequence[str] | None = None, profiles: Path | None = None) -> list[Problem]:
    """Every problem in the templates of ``folder`` (all ``*.docx``, or the given file names).

    Checking the whole folder also reports a template a profile names (bundled profiles, or those
    in ``profiles``) that the folder does not have: issuing would stop there after reserving a number.
    """
    if not folder.is_dir():
        # A relative folder is looked for where the command runs: say where that was.
        where = "" if folder.is_absolute() else f"（即 {folder.absolute()}）"
        return [Problem(str(folder), f"模板文件夹不存在{where}，可用 --templates 指定模板文件夹")]
    if names is None:
        # ~$name.docx is Word's lock file for a document open in Word, not a template.
        paths = sorted(p for p in folder.glob("*.docx") if not p.name.startswith("~$"))
        if not paths:
            return [Problem(str(folder), "文件夹中没有 .docx 模板")]
        missing = missing_templates(folder, profiles=profiles)
    else:
        paths, missing = [folder / name for name in names], []
    return [problem for path in paths for problem in check_template(path)] + missing


def missing_templates(folder: Path, *, profiles: Path | None = None) -> list[Problem]:
    """Templates the profiles name that ``folder`` does not have, one problem per file."""
    from certdocs.profile import DOCUMENT_TITLES, load_profiles

    try:
        loaded = load_profiles(profiles)
    except CertdocsError as exc:
        return list(exc.problems)
    wanted: dict[str, list[str]] = {}
    for profile in loaded.values():
        for kind, name in profile.templates.items():
            if not (folder / name).is_file():
                wanted.setdefault(name, []).append(f"{profile.id}（{DOCUMENT_TITLES.get(kind, kind)}）")
    return [
        Problem(str(folder / name), f"模板文件不存在：认证机构配置 {'、'.join(users)} 使用该模板")
        for name, users in sorted(wanted.items())
    ]
