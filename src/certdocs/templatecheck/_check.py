"""The template checker's entry points: one template, or a folder of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from certdocs.errors import CertdocsError, Problem
from certdocs.templatecheck._assets import check_fonts, check_images, check_languages
from certdocs.templatecheck._jinja import PartChecker
from certdocs.templatecheck._source import read_template


def check_template(path: Path) -> list[Problem]:
    """Every problem found in one Word template (empty when it is fit to render)."""
    problems: list[Problem] = []

    def report(problem: Problem) -> None:
        if problem not in problems:  # a text box is in the document twice (Word's fallback copy)
            problems.append(problem)

    if not path.is_file():
        return [Problem(str(path), "模板文件不存在")]
    read = read_template(path, problems)
    if read is None:
        return problems
    parts, xml = read
    stages: list[Callable[[], None]] = [PartChecker(path.name, part, report).run for part in parts]
    stages += [
        lambda: check_images(path.name, parts, xml, report),
        lambda: check_fonts(path.name, parts, xml, report),
        lambda: check_languages(path.name, parts, xml, report),
    ]
    for stage in stages:
        try:
            stage()
        except Exception as exc:  # an odd template must not stop the check of the others
            report(Problem(path.name, f"模板检查未能完成（{type(exc).__name__}: {exc}），请把该模板交给技术人员查看"))
    return problems


def check_templates(folder: Path, *, names: Sequence[str] | None = None, profiles: Path | None = None) -> list[Problem]:
    """Every problem in the templates of ``folder`` (all ``*.docx``, or the given file names).

    Checking the whole folder also reports a template a profile names (bundled profiles, or those
    in ``profiles``) that the folder does not have: issuing would stop there after reserving a number.
    """
    if not folder.is_dir():
        return [Problem(str(folder), "模板文件夹不存在")]
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
