"""A template's images (missing or only linked) and Chinese fonts the server cannot show."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from certdocs.errors import Problem
from certdocs.templatecheck._source import FOOTER, HEADER, R_NS, Part, w_tag

# East Asian language tags whose glyph forms differ from Simplified Chinese.
_OTHER_CJK_LANGUAGES = ("ja", "ko", "zh-tw", "zh-hk", "zh-mo", "zh-hant")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_LATIN_NAMES = {
    "simsun",
    "nsimsun",
    "simhei",
    "fangsong",
    "fangsong_gb2312",
    "kaiti",
    "kaiti_gb2312",
    "microsoft yahei",
    "dengxian",
    "stsong",
    "stzhongsong",
    "stkaiti",
    "stfangsong",
    "stheiti",
    "mingliu",
    "pmingliu",
    "ms mincho",
    "ms gothic",
    "yu mincho",
    "yu gothic",
    "malgun gothic",
}


def check_images(file: str, parts: list[Part], xml: dict[str, Any], report: Callable[[Problem], None]) -> None:
    """Reports relationships whose parts are missing, and images that are broken or only linked."""
    rels, names, main = xml["\x00rels"], xml["\x00names"], xml["\x00main"]
    labels = {main: ""} | {
        t: p.name + " "
        for p in parts
        for _, k, t, _ in rels.get(main, [])
        if p.name and p.name.startswith(("页眉", "页脚")) and k in (HEADER, FOOTER)
    }
    where_of = {k: v for p in parts for k, v in p.where_of.items()}
    for part, part_rels in rels.items():
        known = {rid: (kind, target, external) for rid, kind, target, external in part_rels}
        for rid, kind, target, external in part_rels:
            if not external and target not in names and not kind.endswith("/hyperlink"):
                report(
                    Problem(
                        f"{file}（{part}）",
                        f"文件内缺少 {target}（关系 {rid}），Word 文件已损坏；请重新插入该图片或对象后另存",
                    )
                )
        root = xml[part]
        # Only the image elements, in any namespace (DrawingML's blip, VML's imagedata): lxml
        # finds them in C instead of every element of the part coming through Python.
        for el in root.iter("{*}blip", "{*}imagedata"):
            for attr in (f"{{{R_NS}}}embed", f"{{{R_NS}}}link", f"{{{R_NS}}}id"):
                rid = el.get(attr)
                if rid is None:
                    continue
                p = next(el.iterancestors(w_tag("p")), None)
                where = f"{file} " + (where_of.get(p) or labels.get(part, f"（{part}）").strip())
                if rid not in known:
                    report(Problem(where, f"图片引用的 {rid} 不存在，图片无法显示；请重新插入该图片"))
                elif known[rid][2]:
                    report(
                        Problem(
                            where,
                            f"图片只是链接到外部文件 {known[rid][1]}，生成的文件中不会有这张图片；"
                            "请用「插入 → 图片」把图片嵌入文档",
                        )
                    )


def _fonts_conf() -> Path | None:
    with resources.as_file(resources.files("certdocs") / "fonts" / "fonts.conf") as conf:
        return Path(conf) if Path(conf).is_file() else None


@cache
def _aliases() -> frozenset[str]:
    """Family names certdocs' fonts.conf maps to installed Chinese faces (lower case)."""
    conf = _fonts_conf()
    if conf is None:
        return frozenset()
    try:
        root = etree.parse(str(conf)).getroot()
    except (OSError, etree.XMLSyntaxError):
        return frozenset()
    return frozenset((f.text or "").strip().lower() for f in root.iterfind("alias/family"))


@cache
def _font_found(name: str) -> bool | None:
    """Whether fontconfig has ``name`` installed, or certdocs aliases it to a face with Chinese glyphs.

    Anything else is a fallback, whatever face the fallback happens to be (with certdocs'
    configuration every unknown name lands on Noto Sans CJK SC, so the face alone says nothing).
    ``None`` when fontconfig is not installed.
    """
    env = dict(os.environ)
    conf = _fonts_conf()
    if conf is not None:
        env["FONTCONFIG_FILE"] = str(conf)
    try:
        done = subprocess.run(
            ["fc-match", "-f", "%{family}\n%{lang}", name],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    family, _, langs = done.stdout.partition("\n")
    if name.lower() in (f.strip().lower() for f in family.split(",")):
        return True
    return name.lower() in _aliases() and "zh-cn" in langs.split("|")


def check_fonts(file: str, parts: list[Part], xml: dict[str, Any], report: Callable[[Problem], None]) -> None:
    """Reports Chinese fonts (styles, body, headers, footers) fontconfig has not and certdocs does not alias."""
    rels, main = xml["\x00rels"], xml["\x00main"]
    sources = ["word/styles.xml", main, *(t for _, k, t, _ in rels.get(main, []) if k in (HEADER, FOOTER))]
    where_of = {k: v for p in parts for k, v in p.where_of.items()}
    used: dict[str, str] = {}
    for source in sources:
        root = xml.get(source)
        for fonts in root.iter(w_tag("rFonts")) if root is not None else ():
            for attr in ("ascii", "hAnsi", "eastAsia"):
                name = (fonts.get(w_tag(attr)) or "").strip()
                if not name or name in used or not (_CJK.search(name) or name.lower() in _CJK_LATIN_NAMES):
                    continue
                style = next(fonts.iterancestors(w_tag("style")), None)
                p = next(fonts.iterancestors(w_tag("p")), None)
                used[name] = (
                    f"样式「{style.find(w_tag('name')).get(w_tag('val'))}」"
                    if style is not None and style.find(w_tag("name")) is not None
                    else where_of.get(p, "默认字体")
                )
    for name, where in used.items():
        found = _font_found(name)
        if found is None:
            report(Problem(file, "无法检查字体：服务器未安装 fontconfig（fc-match）"))
            return
        if not found:
            report(
                Problem(
                    f"{file} 字体「{name}」（用于{where}）",
                    f"中文字体「{name}」在服务器上没有安装，certdocs 的字体别名（fonts/fonts.conf）中也没有，"
                    "PDF 中会换成其他字体甚至显示为方框；请改用宋体、黑体、仿宋或楷体，或请管理员为它添加别名",
                )
            )


def check_languages(file: str, parts: list[Part], xml: dict[str, Any], report: Callable[[Problem], None]) -> None:
    """Reports Chinese text tagged with another language: LibreOffice would draw it in that language's glyphs.

    Text pasted from a Japanese or traditional-Chinese document keeps its tag (ja-JP, zh-TW), and the
    PDF then shows Japanese or traditional forms of the same characters.
    """
    where_of = {k: v for p in parts for k, v in p.where_of.items()}
    for name, root in xml.items():
        if name.startswith("\x00") or not name.endswith(".xml") or not hasattr(root, "iter"):
            continue
        for el in root.iter(w_tag("lang")):
            lang = el.get(w_tag("eastAsia")) or ""
            if not lang.lower().startswith(_OTHER_CJK_LANGUAGES):
                continue
            p = next(el.iterancestors(w_tag("p")), None)
            where = f"{file} " + (where_of.get(p) or f"（{name}）")
            report(
                Problem(
                    where.strip(),
                    f"文字的东亚语言标记为 {lang}，PDF 中会显示成该语言的字形；"
                    "请选中后在「审阅 → 语言」中设为中文(中国)",
                )
            )
