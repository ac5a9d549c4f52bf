"""PAdES signatures on issued PDFs (pyHanko), and checking them again at archive time.

Signing is always the last change to a file: pyHanko appends the signature as an incremental
update, so the bytes before it are exactly the document that was issued, and
:func:`verify_pdf_signature` gives their SHA-256 (``original_sha256``) for comparison with the
register. A visible signature box prints Chinese text in a subset of Noto Sans CJK SC embedded
in the PDF (the box's font, text check and style: :mod:`certdocs._signbox`; the key and trust
roots: :mod:`certdocs._signkeys`).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from certdocs._clock import BEIJING, now
from certdocs._fs import atomic_write_bytes
from certdocs._quiet import quiet_libraries
from certdocs._signbox import CJK_FONT_FAMILY, PT_PER_MM, box_problems, cjk_font_bytes, find_cjk_font, stamp_style
from certdocs._signkeys import load_root, load_signer
from certdocs._validate import text_problem
from certdocs.errors import Problem, SigningError, SigningInputError, os_error_text

quiet_libraries()

#: The visible box's text when none is given: the body's name, then the signing time.
DEFAULT_BOX_TEXT = "{body}\n签发：%(ts)s"

_FIELD_PREFIX = "certdocs-signature-"


@dataclass(frozen=True)
class VisibleBox:
    """A visible signature: a box on one page, in millimetres from the page's top-left corner.

    ``text`` may contain ``%(ts)s``, the signing time in Beijing time (2026年11月22日 10:30);
    empty, the box shows the certification body's name and the signing time
    (:data:`DEFAULT_BOX_TEXT`). ``page`` counts from 1; -1 is the last page.
    """

    left_mm: float
    top_mm: float
    width_mm: float
    height_mm: float
    text: str = ""
    page: int = -1
    font_size: int = 10


@dataclass(frozen=True)
class SignatureCheck:
    """What a PDF's signature says about the file.

    ``intact``: the signed bytes are unchanged (every signature); ``valid``: intact, and the
    signer's certificate chains to one of the given trust roots; ``covers_whole_file``: nothing
    was appended after the last signature. ``signer``, ``signed_at`` and the hashes describe the
    first (issuing) signature: ``signed_revision_sha256`` hashes the bytes its ByteRange covers,
    ``original_sha256`` the file as it was before signing ("" when not determinable).
    """

    signed: bool
    intact: bool
    valid: bool
    signer: str
    signed_at: datetime | None
    covers_whole_file: bool
    signed_revision_sha256: str
    original_sha256: str
    signatures: int = 0


_UNSIGNED = SignatureCheck(
    signed=False,
    intact=False,
    valid=False,
    signer="",
    signed_at=None,
    covers_whole_file=False,
    signed_revision_sha256="",
    original_sha256="",
)


def sign_pdf(
    src: Path,
    *,
    out: Path,
    pkcs12: Path,
    passphrase: bytes | None,
    reason: str = "认证证书签发",
    location: str = "",
    visible: VisibleBox | None = None,
    allow_additional: bool = False,
) -> Path:
    """``src`` signed (PAdES baseline, SHA-256) with the body's certificate, written atomically to ``out``.

    Refuses a PDF that is already signed unless ``allow_additional``. Returns ``out``.
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError as PyHankoSigningError
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata

    # Readers show the reason and location in their signature panel: they must read as typed.
    typed = (("--reason", "签名理由", reason), ("location", "签名地点", location))
    problems = [
        Problem(option, f"{what}：{rule}")
        for option, what, text in typed
        if (rule := text_problem(text, multiline=False))
    ]
    if problems:
        raise SigningInputError(problems, source=str(src))
    data = _read_pdf(src)
    writer = _incremental_writer(data, src)
    existing = _signature_count(writer.prev)
    if existing and not allow_additional:
        raise SigningError([Problem(str(src), "文件已经签名，不能再次签名（签名须是文件的最后一次改动）")])
    # The box is checked before the PKCS#12 file is decrypted (its key derivation and RSA key
    # check are the dear part of signing): a refused box text costs none of it.
    signer: Any = None
    field_name = f"{_FIELD_PREFIX}{existing + 1}"
    field_spec, style, text_params = None, None, None
    if visible is not None:
        page, box = _box_on_page(data, visible, src)
        field_spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=page, box=box)
        if visible.text:
            text, where = visible.text, "签名框文字"
        else:
            body, where = _body_name(writer.prev)
            if not body:  # the signing certificate's organisation, once the file is decrypted
                signer = load_signer(pkcs12, passphrase)
                body, where = _organisation_name(signer)
            text = DEFAULT_BOX_TEXT.format(body=body.replace("%", "%%"))  # pyHanko fills the text with %
        # pyHanko fills ``%(ts)s`` in the machine's time zone; the box shows Beijing time instead.
        text_params = {"beijing_ts": now().strftime("%Y年%m月%d日 %H:%M")}
        problems = box_problems(
            text,
            where=where,
            given=bool(visible.text),
            font_size=visible.font_size,
            box=box,
            ts=text_params["beijing_ts"],
        )
        if problems:
            raise SigningInputError(problems, source=str(src))
        style = stamp_style(text, font_size=visible.font_size)
    if signer is None:
        signer = load_signer(pkcs12, passphrase)
    meta = PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason or None,
        location=location or None,
    )
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style, new_field_spec=field_spec)
    buffer = io.BytesIO()
    try:
        pdf_signer.sign_pdf(writer, output=buffer, appearance_text_params=text_params)
    except (PdfError, PyHankoSigningError, ValueError, KeyError) as exc:
        raise SigningError([Problem(str(src), f"签名失败：{exc}")]) from exc
    atomic_write_bytes(out, buffer.getvalue())
    return out


def verify_pdf_signature(path: Path, *, trust_roots: Sequence[Path] = ()) -> SignatureCheck:
    """The signature check of the PDF at ``path`` (see :class:`SignatureCheck`).

    A file without a signature gives ``signed=False``; a damaged signed file gives
    ``intact=False`` rather than an error. ``valid`` needs ``trust_roots`` (PEM or DER CA
    certificates): the operating system's list is never used.
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    data = _read_pdf(path)
    roots = [load_root(root) for root in trust_roots]
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        if b"/ByteRange" not in data:
            raise SigningError([Problem(str(path), f"PDF 文件已损坏，无法读取：{exc}")]) from exc
        return SignatureCheck(
            signed=True,
            intact=False,
            valid=False,
            signer="",
            signed_at=None,
            covers_whole_file=False,
            signed_revision_sha256="",
            original_sha256="",
        )
    if not embedded:
        return _UNSIGNED
    embedded.sort(key=lambda sig: sig.signed_revision)
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    intact = valid = True
    covers_whole_file = False
    for sig in embedded:
        try:
            status = validate_pdf_signature(sig, signer_validation_context=context)
        except Exception:  # any failure to validate means "not intact"
            intact = valid = covers_whole_file = False
            continue
        intact = intact and bool(status.intact)
        valid = valid and bool(status.bottom_line)
        covers_whole_file = str(getattr(status.coverage, "name", "")) == "ENTIRE_FILE"
    first = embedded[0]
    return SignatureCheck(
        signed=True,
        intact=intact,
        valid=valid and intact,
        signer=_signer_name(first),
        signed_at=_self_reported_time(first),
        covers_whole_file=covers_whole_file and intact,
        signed_revision_sha256=_byte_range_sha256(data, first.byte_range),
        original_sha256=_original_sha256(data, reader, first.signed_revision),
        signatures=len(embedded),
    )


# ---------------------------------------------------------------- reading inputs


def _read_pdf(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError([Problem(str(path), f"无法读取文件：{os_error_text(exc)}")]) from exc
    if b"%PDF-" not in data[:1024]:
        raise SigningError([Problem(str(path), "不是 PDF 文件")])
    return data


def _incremental_writer(data: bytes, src: Path) -> Any:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError

    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise SigningError([Problem(str(src), f"PDF 文件已损坏，无法签名：{exc}")]) from exc
    if writer.prev.encrypted:
        raise SigningError([Problem(str(src), "PDF 文件已加密，不能签名")])
    return writer


def _signature_count(reader: Any) -> int:
    try:
        return len(reader.embedded_signatures)
    except Exception:  # a broken signature dictionary still counts as a signature
        return 1


# ---------------------------------------------------------------- the visible box


def _box_on_page(data: bytes, visible: VisibleBox, src: Path) -> tuple[int, tuple[int, int, int, int]]:
    """The 0-based page index and the box in PDF points (lower-left, upper-right)."""
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(data)).pages
    count = len(pages)
    index = count - 1 if visible.page == -1 else visible.page - 1
    if not 0 <= index < count:
        raise SigningError([Problem(str(src), f"签名框所在页 {visible.page} 不存在（共 {count} 页）")])
    media = pages[index].mediabox
    left, top = float(media.left) + visible.left_mm * PT_PER_MM, float(media.top) - visible.top_mm * PT_PER_MM
    right, bottom = left + visible.width_mm * PT_PER_MM, top - visible.height_mm * PT_PER_MM
    if (
        visible.width_mm <= 0
        or visible.height_mm <= 0
        or left < float(media.left)
        or bottom < float(media.bottom)
        or right > float(media.right)
        or top > float(media.top)
    ):
        raise SigningError([Problem(str(src), f"签名框超出第 {index + 1} 页的范围")])
    return index, (round(left), round(bottom), round(right), round(top))


def _body_name(reader: Any) -> tuple[str, str]:
    """The certification body certdocs wrote as the PDF's /Author, and where it is from ("" when it wrote none)."""
    try:
        info = reader.trailer_view["/Info"]
        creator = str(info["/Creator"]) if "/Creator" in info else ""
        author = str(info["/Author"]) if "/Author" in info else ""
    except Exception:  # a PDF without a readable information dictionary
        creator = author = ""
    if creator == "certdocs" and author.strip():
        return author.strip(), "PDF 文档信息中的认证机构名称（/Author）"
    return "", ""


def _organisation_name(signer: Any) -> tuple[str, str]:
    """The signing certificate's organisation (the box's body when the PDF names none), and where it is from."""
    try:
        subject = signer.signing_cert.subject.native
    except Exception:
        return "数字签名", ""
    name = subject.get("organization_name") or subject.get("common_name") or "数字签名"
    return str(name), "签名证书中的机构名称"


# ---------------------------------------------------------------- reading a signature


def _signer_name(sig: Any) -> str:
    try:
        subject = sig.signer_cert.subject.native
    except Exception:
        return ""
    return str(subject.get("common_name") or subject.get("organization_name") or "")


def _self_reported_time(sig: Any) -> datetime | None:
    try:
        value = sig.self_reported_timestamp
    except Exception:
        return None
    return value if isinstance(value, datetime) else None


def _byte_range_sha256(data: bytes, byte_range: Any) -> str:
    try:
        a, b, c, d = (int(x) for x in byte_range)
    except (TypeError, ValueError):
        return ""
    digest = hashlib.sha256(data[a : a + b])
    digest.update(data[c : c + d])
    return digest.hexdigest()


def _original_sha256(data: bytes, reader: Any, revision: int) -> str:
    """SHA-256 of the revision a signature was applied to: the file before the signing update.

    An incremental update is written right after the old file's last byte, so the old file is
    everything before the lowest offset the signing revision's cross-reference section uses.
    """
    if revision < 1:
        return ""  # the signature was not added incrementally: no earlier document to hash
    try:
        xrefs = reader.xrefs
        section = xrefs.get_xref_data(revision)
        offsets = [offset for _, offset in section.standard_xrefs.values()]
        if section.hybrid is not None:
            offsets += [offset for _, offset in section.hybrid.xref_data.standard_xrefs.values()]
        offsets.append(xrefs.get_xref_container_info(revision).start_location)
    except Exception:
        return ""
    start = min(offsets)
    # Only a cut right after the previous revision's end-of-file marker is a whole document.
    if not data[:start].rstrip(b"\r\n\t \x00").endswith(b"%%EOF"):
        return ""
    return hashlib.sha256(data[:start]).hexdigest()


__all__ = [
    "BEIJING",
    "CJK_FONT_FAMILY",
    "DEFAULT_BOX_TEXT",
    "SignatureCheck",
    "VisibleBox",
    "cjk_font_bytes",
    "find_cjk_font",
    "sign_pdf",
    "verify_pdf_signature",
]
