"""Which certificate a signed PDF belongs to, and which of its documents it is.

In order: the PDF metadata certdocs writes (/Subject = number, /Title = "认证证书：…"), the
text after "证书编号", the verification QR code of a scan, and last the file name. Every
candidate number is confirmed by the register, so a stray match never files a document
under a certificate that does not exist. The pages' text is read only when the metadata
does not tell both the number and the kind.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from PIL import Image

from certdocs.errors import CertdocsError, Problem
from certdocs.profile import DOCUMENT_TITLES
from certdocs.register import Register, State

if TYPE_CHECKING:
    # Loaded when a file is archived, not with certdocs.archive: a program (or a test run) that
    # imports certdocs without archiving then does not spend a tenth of a second on pypdf.
    from pypdf import PdfReader

CREATOR = "certdocs"  # the /Creator of every PDF certdocs writes (certdocs.pdf.CREATOR)
TITLES: dict[str, str] = {**DOCUMENT_TITLES, "issue_pack": "发证资料包"}
# Pages rendered to look for a QR code: the certificate is the first page of an issue pack.
QR_PAGES = 2
QR_DPI = 200

_NUMBER = r"[A-Za-z0-9][A-Za-z0-9\-_/（）()]*"
_AFTER_LABEL = re.compile(r"证书编号\s*[:：]?\s*(" + _NUMBER + ")")
_TOKEN = re.compile(_NUMBER)


@dataclass(frozen=True)
class Identity:
    """What a file was found to be: certificate ``number``, document ``kind``, and how."""

    number: str
    kind: str
    found_by: str  # metadata / text / qr / filename
    body: str  # the certification body named in the metadata, "" when not given
    pages: int


def identify(path: Path, reader: PdfReader, *, register: Register, today: date) -> Identity | list[Problem]:
    """The certificate and document kind of ``path``, or every reason they cannot be told."""
    where = str(path)
    try:
        title, subject = metadata_text(reader, "/Title"), metadata_text(reader, "/Subject")
        body = metadata_text(reader, "/Author") if metadata_text(reader, "/Creator") == CREATOR else ""
        pages = len(reader.pages)
    except Exception as exc:  # pypdf raises many exception types on malformed files
        return [Problem(where, f"无法读取 PDF：{exc}")]

    def known(number: str) -> bool:
        with contextlib.suppress(CertdocsError):
            return register.get(number, today=today).state == State.ISSUED
        return False

    kind = _kind_from_title(title)
    number, found_by = "", ""
    if subject.strip() and known(subject.strip()):
        number, found_by = subject.strip(), "metadata"
    if not (kind and number):
        # The pages' text only when the metadata leaves the kind or the number open: extracting
        # it parses every font's ToUnicode map, by far the dearest step for a Chinese PDF.
        try:
            texts = [page.extract_text() or "" for page in reader.pages]
        except Exception as exc:  # pypdf raises many exception types on malformed files
            return [Problem(where, f"无法读取 PDF：{exc}")]
        kind = kind or _kind_from_text(texts)
        if not number:
            number = _first(_text_candidates("\n".join(texts)), known)
            found_by = "text" if number else ""
    problems: list[Problem] = []
    if not number:
        # A later page is rendered only when the earlier ones name no issued certificate.
        urls = qr_urls(path, pages=min(pages, QR_PAGES), enough=lambda found: bool(_first(_url_numbers(found), known)))
        if isinstance(urls, Problem):
            problems.append(urls)
        else:
            number = _first(_url_numbers(urls), known)
            found_by = "qr" if number else ""
            if urls and not number:
                problems.append(Problem(where, f"二维码网址中没有登记簿里已发证的证书编号：{'；'.join(urls)}"))
            # Only the certificate carries the QR code; several pages are the issue pack.
            kind = kind or (("certificate" if pages == 1 else "issue_pack") if number else "")
    if not number:
        number = _first(_TOKEN.findall(path.stem), known)
        found_by = "filename" if number else ""
    kind = kind or _kind_from_text([path.stem])
    if not number:
        problems.insert(
            0,
            Problem(
                where, "无法识别证书编号：元数据、文字（“证书编号”）、二维码和文件名中均未找到登记簿里已发证的证书编号"
            ),
        )
    if not kind:
        problems.append(Problem(where, f"无法识别文件类别（应为{'、'.join(TITLES.values())}之一）"))
    if problems:
        return problems
    return Identity(number=number, kind=kind, found_by=found_by, body=body.strip(), pages=pages)


def metadata_text(reader: PdfReader, key: str) -> str:
    """One entry of the document information dictionary as text ("" when absent)."""
    info = reader.metadata
    value = info.get(key) if info is not None else None
    return str(value).strip() if value is not None else ""


def url_candidates(url: str) -> list[str]:
    """Possible certificate numbers in a verification URL: query values, then path segments.

    The profiles' ``verify_url`` patterns put the number in the query (``?no={number}``) or
    the path (``/cert/{number}``, ``/cert/{number}.html``); the register decides which candidate is real.
    """
    parts = urlsplit(url.strip())
    found = [value for _, value in parse_qsl(parts.query)]
    for segment in reversed(parts.path.split("/")):
        # The verification site's page of a certificate is cert/<number>.html.
        found += [unquote(segment).removesuffix(".html")] if segment else []
    found += [value for _, value in parse_qsl(parts.fragment)]
    return [value.strip() for value in found if _TOKEN.fullmatch(value.strip())]


def qr_urls(
    path: Path, *, pages: int, enough: Callable[[list[str]], bool] = lambda _found: False
) -> list[str] | Problem:
    """The texts of the QR codes on the first ``pages`` pages, or why they cannot be read.

    Pages are read in order and no further once ``enough`` is true of the texts found so far.
    """
    decode = _decoder()
    if isinstance(decode, Problem):
        return decode
    found: list[str] = []
    with contextlib.closing(_page_images(path, pages=pages)) as images:
        while True:
            # Only rendering and decoding fail as the scan's problem; ``enough`` (the register)
            # raises to the caller, as it does everywhere else.
            try:
                image = next(images, None)
                texts = [] if image is None else decode(image)
            except (OSError, subprocess.SubprocessError) as exc:
                return Problem(str(path), f"无法将扫描页渲染为图像以读取二维码：{exc}")
            except Exception as exc:  # pypdf and the decoders raise many exception types on odd images
                return Problem(str(path), f"无法读取扫描页中的二维码：{exc}")
            if image is None:
                return found
            found += [text for text in texts if text not in found]
            if enough(found):
                return found


def _kind_from_title(title: str) -> str:
    head = title.split("：", 1)[0].split(":", 1)[0].strip()
    return next((kind for kind, name in TITLES.items() if head.endswith(name)), "")


def _kind_from_text(texts: list[str]) -> str:
    """The kind whose title comes first on the first page; certificate then report is a pack."""
    firsts = [_earliest_title(text) for text in texts]
    if not firsts or not firsts[0]:
        return ""
    if firsts[0] == "certificate" and any(kind in ("report", "scoresheet") for kind in firsts[1:]):
        return "issue_pack"
    return firsts[0]


def _earliest_title(text: str) -> str:
    compact = re.sub(r"\s+", "", text)
    hits = [(compact.find(name), kind) for kind, name in TITLES.items() if name in compact]
    return min(hits)[1] if hits else ""


def _text_candidates(text: str) -> list[str]:
    # Text extraction may break a number across a line or put spaces inside it.
    return _AFTER_LABEL.findall(text) + _AFTER_LABEL.findall(re.sub(r"\s+", "", text))


def _url_numbers(urls: list[str]) -> Iterator[str]:
    return (number for url in urls for number in url_candidates(url))


def _first(candidates: Iterator[str] | list[str], known: Callable[[str], bool]) -> str:
    return next((c for c in dict.fromkeys(candidates) if known(c)), "")


def _decoder() -> Callable[[Image.Image], list[str]] | Problem:
    try:
        import zxingcpp
    except ImportError:
        if shutil.which("zbarimg") is None:
            return Problem("二维码", "未安装二维码识别工具：请安装 zxing-cpp（pip）或 zbar-tools（apt）")
        return _zbar
    # QR codes only: the verification code certdocs prints. Looking for every symbology as well
    # took five times as long on an A4 page at 200 dpi.
    # (One format is what zxing-cpp 2 and 3 both take; 3's stubs want a BarcodeFormats.)
    qr: Any = zxingcpp.BarcodeFormat.QRCode
    return lambda image: [str(result.text) for result in zxingcpp.read_barcodes(image, formats=qr)]


def _zbar(image: Image.Image) -> list[str]:
    # Netpbm (PGM for a grey page) rather than PNG: nothing to compress here and to decompress in zbarimg.
    with tempfile.NamedTemporaryFile(suffix=".pnm") as pnm:
        image.save(pnm, format="PPM")
        pnm.flush()
        done = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", pnm.name], capture_output=True, timeout=60
        )
    # zbarimg exits 4 when it finds no symbol: that is an answer, not a failure.
    return [line for line in done.stdout.decode("utf-8", "replace").splitlines() if line.strip()]


def _page_images(path: Path, *, pages: int) -> Generator[Image.Image, None, None]:
    """Each page rendered by pdftoppm, else the images embedded in it (no poppler installed)."""
    if shutil.which("pdftoppm") is None:
        from pypdf import PdfReader

        reader = PdfReader(path)
        for page in reader.pages[:pages]:
            for embedded in page.images:
                if embedded.image is not None:
                    yield embedded.image
        return
    for number in range(1, pages + 1):
        # Grey, uncompressed (PGM on stdout): a QR decoder reads luminance only, and pdftoppm's
        # PNG encoding of an RGB A4 page at 200 dpi took three times the CPU of rendering it.
        done = subprocess.run(
            ["pdftoppm", "-gray", "-r", str(QR_DPI), "-f", str(number), "-l", str(number), str(path)],
            capture_output=True,
            check=True,
            timeout=120,
        )
        with Image.open(io.BytesIO(done.stdout)) as image:
            image.load()
            yield image
