"""The archive: identifying signed PDFs, write-once BagIt bags, the register, verification."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import os
import shutil
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bagit
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certdocs.archive import ArchiveResult, archive_files, refusals, url_candidates, verify_archive
from certdocs.errors import ArchiveError
from certdocs.qr import qr_png
from certdocs.register import CertificateFacts, NewDocument, Register

if TYPE_CHECKING:
    from pyhanko.sign import signers

# pyHanko, pypdf, PIL and numpy are imported in the helpers that use them, not here: every
# test worker imports this module when it collects, and those imports took half a second.

TODAY = dt.date(2026, 11, 25)
BODY = "杭州邦证认证有限公司"
ORG = "杭州某电器股份有限公司"
VERIFY_URL = "https://verify.example.cn/cert?no={number}"


# -- a throwaway CA and signer ------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """A signing key and certificate issued by a throwaway CA, and the CA's PEM file."""

    signer: signers.SimpleSigner
    ca_pem: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_signer(folder: Path, *, common_name: str = "测试签章人") -> Signer:
    """A fresh CA (saved as PEM in ``folder``) and a signer whose certificate it issued."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def certificate(subject: str, issuer: str, public: ec.EllipticCurvePublicKey, *, ca: bool) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(_name(issuer))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(_usage(ca=ca), critical=True)
            .sign(ca_key, hashes.SHA256())
        )

    ca = certificate(f"{common_name} CA", f"{common_name} CA", ca_key.public_key(), ca=True)
    leaf = certificate(common_name, f"{common_name} CA", key.public_key(), ca=False)
    folder.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    ca_pem, leaf_pem, key_pem = folder / "ca.pem", folder / "signer.pem", folder / "signer.key"
    ca_pem.write_bytes(ca.public_bytes(pem))
    leaf_pem.write_bytes(leaf.public_bytes(pem))
    key_pem.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    from pyhanko.sign import signers

    # pyHanko's loader is not annotated.
    signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
        str(key_pem), str(leaf_pem), ca_chain_files=(str(ca_pem),)
    )
    assert signer is not None
    return Signer(signer, ca_pem)


_SIGNED: dict[tuple[bytes, Signer], bytes] = {}


def sign(pdf: bytes, signer: Signer) -> bytes:
    """``pdf`` signed by ``signer`` as an incremental update (the original bytes stay a prefix).

    Signed once per module for the same bytes and signer (a tenth of a second of CPU each): the
    result is bytes, which no test can change, and no test here needs two signatures of one file.
    """
    signed = _SIGNED.get((pdf, signer))
    if signed is None:
        signed = _SIGNED[(pdf, signer)] = _sign(pdf, signer)
    return signed


def _sign(pdf: bytes, signer: Signer) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name="签章"),
        signer=signer.signer,
        output=out,
    )
    return out.getvalue()


# -- issued documents -----------------------------------------------------------------------------


def _to_unicode(lines: list[str]) -> bytes:
    """A ToUnicode CMap mapping each character used to itself (CID = Unicode), as a subset font has.

    Only the characters used, as LibreOffice writes it: a map of the whole 0000–FFFF range
    costs pypdf a third of a second to parse, each time a page's text is read.
    """
    codes = sorted({ord(c) for line in lines for c in line})
    blocks = [codes[at : at + 100] for at in range(0, len(codes), 100)]  # at most 100 a block
    return (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Identity-UCS def "
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange "
        + b"".join(
            b"%d beginbfchar " % len(block) + b"".join(b"<%04X> <%04X> " % (c, c) for c in block) + b"endbfchar "
            for block in blocks
        )
        + b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )


def text_pdf(lines: list[str], *, title: str = "", number: str = "", certdocs: bool = True) -> bytes:
    """A one-page PDF whose extractable text is ``lines`` (CID = Unicode, no font embedded)."""
    stream = (
        b"BT /F1 12 Tf 72 700 Td 14 TL "
        + b"".join(b"<" + line.encode("utf-16-be").hex().encode() + b"> Tj T* " for line in lines)
        + b"ET"
    )
    to_unicode = _to_unicode(lines)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H"
        b" /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /STSong-Light"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(to_unicode) + to_unicode + b"\nendstream",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 4 /FontBBox [0 0 1000 1000]"
        b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>",
    ]
    body = io.BytesIO()
    body.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, obj in enumerate(objects, 1):
        offsets.append(body.tell())
        body.write(b"%d 0 obj\n" % n + obj + b"\nendobj\n")
    xref = body.tell()
    body.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    body.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    body.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    from pypdf import PdfReader, PdfWriter

    # Round-trip through pypdf for the document information dictionary.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(body.getvalue())))
    info = {
        "/Title": title,
        "/Subject": number,
        "/Author": BODY if certdocs else "",
        "/Creator": "certdocs" if certdocs else "scanner",
    }
    writer.add_metadata({k: v for k, v in info.items() if v})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@functools.cache
def certificate_pdf(number: str, *, scope: str = "家用空调器产品的售后服务") -> bytes:
    """An issued certificate as certdocs writes it: number in /Subject, kind in /Title.

    Made once a module for the same number and scope, as the scans are: the bytes are the same
    each time (no date or random /ID), and bytes no test can change.
    """
    return text_pdf(["售后服务认证证书", f"证书编号：{number}", scope], title=f"认证证书：{ORG}", number=number)


@functools.cache
def scan_pdf(number: str, *, pages: int = 1, qr_page: int = 1) -> bytes:
    """A scanned certificate: image-only pages, page ``qr_page`` carrying the verification QR code."""
    from PIL import Image

    qr = Image.open(io.BytesIO(qr_png(VERIFY_URL.format(number=number)))).convert("L")
    sheets = []
    for n in range(1, pages + 1):
        page = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
        if n == qr_page:
            page.paste(qr, (700, 1150))
        sheets.append(page)
    out = io.BytesIO()
    sheets[0].save(out, format="PDF", resolution=150, save_all=True, append_images=sheets[1:])
    return out.getvalue()


@functools.cache
def barcode_scan_pdf(text: str) -> bytes:
    """A scanned page carrying ``text`` as a Code 128 barcode, not a QR code (needs zxing-cpp 3)."""
    import zxingcpp
    from PIL import Image

    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    page = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi
    # Pillow reads zxing-cpp's image through its array interface: no numpy (0.1 s to import for this alone).
    page.paste(Image.fromarray(code.to_image(scale=3)), (300, 1150))
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=150)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def facts(uscc: str = "91350200MA2YJ1XR9G") -> CertificateFacts:
    return CertificateFacts(
        organization_name=ORG,
        uscc=uscc,
        scheme="bz-ts1008-2025",
        grade="已定义级",
        stars=None,
        level=3,
        score=None,
        first_issue_date=dt.date(2026, 11, 22),
        issue_date=dt.date(2026, 11, 22),
        valid_until=dt.date(2029, 11, 21),
        decision_meeting="2026年第47次认证决定会议",
        decision_date=dt.date(2026, 11, 20),
        audit_path="audits/a.json",
        audit_sha256="a" * 64,
        audit_type="initial",
        audit_end_date=dt.date(2026, 11, 11),
        initial_person_days=Decimal("2.5"),
    )


def issue(register: Register, key: str, documents: dict[str, bytes]) -> str:
    """Reserve and complete a certificate whose issued documents are ``documents`` (kind → bytes)."""
    held = register.reserve(key, pattern="BZ{year}SC{serial:04d}", year=2026, facts=facts())
    register.complete(
        held.number,
        documents=[
            NewDocument(kind=f"{kind}.pdf", path=f"output/{kind}.pdf", sha256=sha(data), built_from={"audit": "a" * 64})
            for kind, data in documents.items()
        ],
    )
    return held.number


@pytest.fixture
def register(tmp_path: Path) -> Iterator[Register]:
    with Register.open(tmp_path / "r.sqlite3") as reg:
        yield reg


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return make_signer(tmp_path_factory.mktemp("ca"))


@dataclass(frozen=True)
class Issued:
    """One issued certificate: its number and the bytes of its issued certificate PDF."""

    number: str
    pdf: bytes


@pytest.fixture
def issued(register: Register) -> Issued:
    number = "BZ2026SC0001"  # the first number of the pattern: the PDF names it before issue
    pdf = certificate_pdf(number)
    assert issue(register, "k1", {"certificate": pdf}) == number
    return Issued(number, pdf)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def archive(
    register: Register, root: Path, *files: Path, signer: Signer, reason: str | None = None
) -> list[ArchiveResult]:
    return archive_files(
        list(files),
        register=register,
        archive_root=root,
        today=TODAY,
        supersede_reason=reason,
        trust_roots=[signer.ca_pem],
    )


# -- archiving -------------------------------------------------------------------------------------


def test_a_digitally_signed_certificate_is_archived_in_a_valid_read_only_bag(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer
) -> None:
    signed = sign(issued.pdf, signer)
    root = tmp_path / "archive"
    (result,) = archive(register, root, write(tmp_path / "in" / "签章证书.pdf", signed), signer=signer)

    assert result.status == "archived", result.problems
    assert (result.number, result.kind, result.signature) == (issued.number, "certificate", "digital")
    assert result.bag == root / issued.number / "certificate-1"
    bag = bagit.Bag(str(result.bag))
    assert bag.validate()
    assert set(bag.payload_entries()) == {"data/certificate.pdf", "data/certificate.json"}
    assert (result.bag / "data" / "certificate.pdf").read_bytes() == signed
    assert bag.info["External-Identifier"] == issued.number
    assert bag.info["Source-Organization"] == BODY
    assert bag.info["Bagging-Date"] == "2026-11-25"
    assert bag.info["Certdocs-Kind"] == "certificate"
    assert bag.info["Certdocs-Signature"] == "digital"
    assert bag.info["Certdocs-Original-SHA256"] == sha(issued.pdf)
    assert bag.info["Certdocs-Source-File"] == "签章证书.pdf"
    record = json.loads((result.bag / "data" / "certificate.json").read_text("utf-8"))
    assert (record["number"], record["facts"]["organization_name"], record["status"]) == (issued.number, ORG, "有效")
    assert record["documents"][0]["sha256"] == sha(issued.pdf)
    for path in [result.bag, *result.bag.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o555 if path.is_dir() else 0o444), path
    (entry,) = register.archive_entries(issued.number)
    assert (entry.kind, entry.bag_path, entry.sha256) == ("certificate", f"{issued.number}/certificate-1", sha(signed))
    assert not list(root.rglob("*.part"))
    assert verify_archive(root, register=register, trust_roots=[signer.ca_pem]) == []


def test_a_scanned_certificate_is_identified_by_its_qr_code(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer
) -> None:
    scan = write(tmp_path / "扫描件001.pdf", scan_pdf(issued.number))
    (result,) = archive(register, tmp_path / "archive", scan, signer=signer)

    assert result.status == "archived", result.problems
    assert (result.number, result.kind, result.signature) == (issued.number, "certificate", "scan")
    assert result.bag is not None
    info = bagit.Bag(str(result.bag)).info
    assert (info["Certdocs-Signature"], info["Certdocs-Identified-By"]) == ("scan", "qr")
    assert info["Certdocs-Issued-SHA256"] == sha(issued.pdf)


@pytest.mark.parametrize("missing", ["zxingcpp", "pdftoppm"])
def test_a_scan_is_still_read_without_zxing_cpp_or_poppler(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    if missing == "zxingcpp":
        if shutil.which("zbarimg") is None:
            pytest.skip("zbar-tools not installed")
        monkeypatch.setitem(sys.modules, "zxingcpp", None)  # import now fails: zbarimg takes over
    else:
        real = shutil.which
        monkeypatch.setattr(shutil, "which", lambda name: None if name == "pdftoppm" else real(name))
    (result,) = archive(
        register, tmp_path / "archive", write(tmp_path / "s.pdf", scan_pdf(issued.number)), signer=signer
    )
    assert (result.status, result.number) == ("archived", issued.number), result.problems


def test_a_multi_page_scan_with_the_qr_code_is_the_issue_pack(
    tmp_path: Path, register: Register, signer: Signer
) -> None:
    number = issue(register, "k1", {"certificate": certificate_pdf("BZ2026SC0001"), "issue_pack": b"pack"})
    (result,) = archive(
        register, tmp_path / "archive", write(tmp_path / "s.pdf", scan_pdf(number, pages=3)), signer=signer
    )
    assert (result.status, result.kind) == ("archived", "issue_pack")


def test_a_scan_whose_qr_code_is_on_its_second_page_is_identified_by_it(
    tmp_path: Path, register: Register, signer: Signer
) -> None:
    number = issue(register, "k1", {"certificate": certificate_pdf("BZ2026SC0001"), "issue_pack": b"pack"})
    scan = write(tmp_path / "s.pdf", scan_pdf(number, pages=3, qr_page=2))
    (result,) = archive(register, tmp_path / "archive", scan, signer=signer)
    assert (result.status, result.number, result.kind) == ("archived", number, "issue_pack"), result.problems
    assert result.bag is not None
    assert bagit.Bag(str(result.bag)).info["Certdocs-Identified-By"] == "qr"


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")
def test_no_page_after_one_whose_qr_code_names_an_issued_certificate_is_rendered(
    tmp_path: Path, register: Register, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    number = issue(register, "k1", {"certificate": certificate_pdf("BZ2026SC0001"), "issue_pack": b"pack"})
    rendered: list[str] = []
    real = subprocess.run

    def counted(args: list[str], **kwargs: Any) -> Any:
        if args[0] == "pdftoppm":
            rendered.append(args[args.index("-f") + 1])
        return real(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counted)
    scan = write(tmp_path / "s.pdf", scan_pdf(number, pages=3))
    (result,) = archive(register, tmp_path / "archive", scan, signer=signer)
    assert (result.status, result.number) == ("archived", number), result.problems
    assert rendered == ["1"]


@pytest.mark.parametrize("missing", ["", "zxingcpp"])
def test_a_barcode_that_is_not_a_qr_code_is_not_read(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    import zxingcpp

    if not hasattr(zxingcpp, "create_barcode"):
        pytest.skip("zxing-cpp before 3.0 cannot draw a barcode")
    scan = barcode_scan_pdf(issued.number)  # a number a QR code would give
    if missing:
        if shutil.which("zbarimg") is None:
            pytest.skip("zbar-tools not installed")
        monkeypatch.setitem(sys.modules, "zxingcpp", None)  # zbarimg reads the page
    (result,) = archive(register, tmp_path / "archive", write(tmp_path / "s.pdf", scan), signer=signer)
    assert result.status == "refused"
    assert "无法识别证书编号" in result.problems[0].rule


def test_a_register_failing_while_a_scan_is_read_is_not_blamed_on_the_scan(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("登记簿连接中断")

    monkeypatch.setattr(Register, "get", broken)
    scan = write(tmp_path / "扫描件.pdf", scan_pdf(issued.number))  # no number in its name to try
    with pytest.raises(RuntimeError, match="登记簿连接中断"):
        archive(register, tmp_path / "archive", scan, signer=signer)


def test_a_signed_report_is_identified_by_the_number_in_its_text(
    tmp_path: Path, register: Register, signer: Signer
) -> None:
    report = text_pdf(["售后服务认证审核报告", "证书编号： BZ2026SC0001", "审核结论：推荐发证"], certdocs=False)
    number = issue(register, "k1", {"certificate": certificate_pdf("BZ2026SC0001"), "report": report})
    (result,) = archive(register, tmp_path / "archive", write(tmp_path / "r.pdf", sign(report, signer)), signer=signer)
    assert result.status == "archived", result.problems
    assert (result.number, result.kind) == (number, "report")
    assert result.bag is not None
    assert result.bag.name == "report-1"


def test_a_pdf_whose_metadata_names_number_and_kind_is_identified_without_reading_its_pages(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PageObject

    read: list[int] = []
    real = PageObject.extract_text

    def counted(page: PageObject, *args: Any, **kwargs: Any) -> str:
        read.append(1)
        return real(page, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", counted)
    (result,) = archive(
        register, tmp_path / "archive", write(tmp_path / "c.pdf", sign(issued.pdf, signer)), signer=signer
    )
    assert result.status == "archived", result.problems
    assert result.bag is not None
    assert bagit.Bag(str(result.bag)).info["Certdocs-Identified-By"] == "metadata"
    assert read == []


def test_a_pdf_whose_metadata_names_only_the_number_takes_its_kind_from_its_text(
    tmp_path: Path, register: Register, signer: Signer
) -> None:
    report = text_pdf(["售后服务认证审核报告", "审核结论：推荐发证"], number="BZ2026SC0001")
    number = issue(register, "k1", {"certificate": certificate_pdf("BZ2026SC0001"), "report": report})
    (result,) = archive(register, tmp_path / "archive", write(tmp_path / "r.pdf", sign(report, signer)), signer=signer)
    assert result.status == "archived", result.problems
    assert (result.number, result.kind) == (number, "report")
    assert result.bag is not None
    assert bagit.Bag(str(result.bag)).info["Certdocs-Identified-By"] == "metadata"


def test_a_signed_pdf_whose_original_is_not_the_issued_one_is_refused(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer
) -> None:
    forged = certificate_pdf(issued.number, scope="全部产品的售后服务")
    root = tmp_path / "archive"
    (result,) = archive(register, root, write(tmp_path / "f.pdf", sign(forged, signer)), signer=signer)

    assert result.status == "refused"
    message = str(refusals([result]))
    assert "签名的不是登记簿记录的发证文件" in message
    assert sha(forged) in message
    assert sha(issued.pdf) in message
    assert register.archive_entries(issued.number) == ()
    assert not (root / issued.number).exists() or not any((root / issued.number).iterdir())


def test_a_signature_from_an_untrusted_ca_is_refused(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer
) -> None:
    stranger = make_signer(tmp_path / "stranger", common_name="冒名签章人")
    (result,) = archive(
        register, tmp_path / "archive", write(tmp_path / "x.pdf", sign(issued.pdf, stranger)), signer=signer
    )
    assert result.status == "refused"
    assert "数字签名无效或签名证书不受信任" in str(refusals([result]))


def test_an_unsigned_pdf_written_by_certdocs_is_refused(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer
) -> None:
    (result,) = archive(register, tmp_path / "archive", write(tmp_path / "c.pdf", issued.pdf), signer=signer)
    assert result.status == "refused"
    assert "未签名" in result.problems[0].rule


def test_one_unidentifiable_file_does_not_stop_the_others(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer
) -> None:
    stray = write(tmp_path / "stray.pdf", text_pdf(["会议纪要"], certdocs=False))
    broken = write(tmp_path / "broken.pdf", b"not a pdf at all")
    good = write(tmp_path / "good.pdf", sign(issued.pdf, signer))
    results = archive(register, tmp_path / "archive", stray, broken, tmp_path / "missing.pdf", good, signer=signer)

    assert [r.status for r in results] == ["refused", "refused", "refused", "archived"]
    assert "无法识别证书编号" in results[0].problems[0].rule
    error = refusals(results)
    assert isinstance(error, ArchiveError)
    assert error.exit_code == 1
    assert len(error.problems) >= 3
    assert str(broken) in str(error)


def test_problems_of_the_call_itself_are_raised_together(tmp_path: Path, register: Register) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArchiveError) as caught:
        archive_files([], register=register, archive_root=tmp_path / "file", today=TODAY, supersede_reason="  ")
    assert len(caught.value.problems) == 3


def test_a_source_file_name_that_would_not_print_as_it_reads_is_kept_escaped(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer
) -> None:
    # bag-info.txt is one line per tag: the line break was folded into a space, the override kept.
    path = write(tmp_path / "in" / "签章\n证书\u202e.pdf", sign(issued.pdf, signer))
    (result,) = archive(register, tmp_path / "archive", path, signer=signer)
    assert result.status == "archived", result.problems
    assert bagit.Bag(str(result.bag)).info["Certdocs-Source-File"] == "签章\\n证书\\u202e.pdf"


def test_a_supersede_reason_with_a_line_break_or_bidirectional_control_is_refused(
    tmp_path: Path, register: Register
) -> None:
    # bag-info.txt holds the reason on one line: the line break was folded into a space unannounced.
    for reason in ("原件损坏\nCertdocs-Certificate: X", "\u202e坏损件原"):
        with pytest.raises(ArchiveError, match="打印出来与看到的不同") as caught:
            archive_files(
                [tmp_path / "a.pdf"],
                register=register,
                archive_root=tmp_path / "archive",
                today=TODAY,
                supersede_reason=reason,
            )
        assert [p.where for p in caught.value.problems] == ["替换原因"]
    assert not (tmp_path / "archive").exists()


# -- one document, archived twice ----------------------------------------------------------------


def test_archiving_the_same_file_again_changes_nothing(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer
) -> None:
    path = write(tmp_path / "c.pdf", sign(issued.pdf, signer))
    first, again = archive(register, tmp_path / "archive", path, path, signer=signer)
    assert (again.status, again.already_archived, again.bag) == ("archived", True, first.bag)
    assert len(register.archive_entries(issued.number)) == 1


def test_a_second_file_of_an_archived_document_needs_a_reason_and_then_keeps_both(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer
) -> None:
    root = tmp_path / "archive"
    (first,) = archive(register, root, write(tmp_path / "d.pdf", sign(issued.pdf, signer)), signer=signer)
    scan = write(tmp_path / "s.pdf", scan_pdf(issued.number))

    (refused,) = archive(register, root, scan, signer=signer)
    assert refused.status == "refused"
    assert "已归档" in refused.problems[-1].rule
    assert "--supersede" in refused.problems[-1].rule
    assert not (root / issued.number / "certificate-2").exists()

    (second,) = archive(register, root, scan, signer=signer, reason="原件盖章不清，重新扫描")
    assert second.status == "archived", second.problems
    assert first.bag is not None
    assert second.bag == root / issued.number / "certificate-2"
    assert first.bag.is_dir()
    entries = register.archive_entries(issued.number)
    assert [(e.bag_path.rsplit("/", 1)[1], e.superseded, e.supersede_reason) for e in entries] == [
        ("certificate-1", True, "原件盖章不清，重新扫描"),
        ("certificate-2", False, None),
    ]
    assert bagit.Bag(str(second.bag)).info["Certdocs-Supersedes"] == f"{issued.number}/certificate-1"
    assert verify_archive(root, register=register, trust_roots=[signer.ca_pem]) == []


# -- crash safety ----------------------------------------------------------------------------------


def test_a_run_failing_while_bagging_leaves_no_half_bag(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bagit, "make_bag", broken)
    root = tmp_path / "archive"
    (result,) = archive(register, root, write(tmp_path / "c.pdf", sign(issued.pdf, signer)), signer=signer)
    assert result.status == "refused"
    assert "无法写入归档包" in result.problems[0].rule
    assert list((root / issued.number).iterdir()) == []
    assert register.archive_entries(issued.number) == ()


def test_a_bag_placed_by_a_killed_run_is_recorded_by_the_next(
    tmp_path: Path, register: Register, issued: Issued, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Killed(BaseException):
        pass

    def killed(*args: object, **kwargs: object) -> None:
        raise Killed

    path = write(tmp_path / "c.pdf", sign(issued.pdf, signer))
    root = tmp_path / "archive"
    with monkeypatch.context() as patch:
        patch.setattr(Register, "record_archive", killed)
        with pytest.raises(Killed):
            archive(register, root, path, signer=signer)
    assert verify_archive(root, register=register, trust_roots=[signer.ca_pem])[0].rule == "归档包未记录在登记簿中"

    (result,) = archive(register, root, path, signer=signer)
    assert result.bag == root / issued.number / "certificate-1"
    assert [p.name for p in (root / issued.number).iterdir()] == ["certificate-1"]
    assert verify_archive(root, register=register, trust_roots=[signer.ca_pem]) == []


# -- verification ----------------------------------------------------------------------------------


@pytest.fixture
def archived(tmp_path: Path, register: Register, issued: Issued, signer: Signer) -> Path:
    """The bag of the signed certificate of ``issued``."""
    (result,) = archive(
        register, tmp_path / "archive", write(tmp_path / "c.pdf", sign(issued.pdf, signer)), signer=signer
    )
    assert result.bag is not None
    return result.bag


def writable(path: Path) -> None:
    os.chmod(path, 0o644 if path.is_file() else 0o755)


def test_a_pdf_altered_by_one_byte_fails_verification(
    tmp_path: Path, register: Register, issued: Issued, archived: Path, signer: Signer
) -> None:
    pdf = archived / "data" / "certificate.pdf"
    writable(pdf)
    data = bytearray(pdf.read_bytes())
    data[len(issued.pdf) // 2] ^= 0x01  # inside the signed original
    pdf.write_bytes(bytes(data))

    problems = verify_archive(tmp_path / "archive", register=register, trust_roots=[signer.ca_pem])
    wheres = {p.where for p in problems}
    assert str(pdf) in wheres
    assert any("文件内容已被改动" in p.rule for p in problems)
    assert any("与登记簿记录不一致" in p.rule for p in problems)


def test_a_deleted_bag_is_reported_with_its_path(
    tmp_path: Path, register: Register, archived: Path, signer: Signer
) -> None:
    for path in [archived, *archived.rglob("*")]:
        writable(path)
    for path in sorted(archived.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    archived.rmdir()

    (problem,) = verify_archive(tmp_path / "archive", register=register, trust_roots=[signer.ca_pem])
    assert problem.where == str(archived)
    assert "归档包不存在" in problem.rule


def test_an_extra_file_in_a_bag_is_reported(tmp_path: Path, register: Register, archived: Path, signer: Signer) -> None:
    writable(archived / "data")
    (archived / "data" / "note.txt").write_text("补充说明")
    problems = verify_archive(tmp_path / "archive", register=register, trust_roots=[signer.ca_pem])
    note = str(archived / "data" / "note.txt")
    assert [(p.where, p.rule) for p in problems] == [(note, "归档包中有多余的文件（不在清单中）")]


def test_a_folder_the_register_does_not_know_is_reported(
    tmp_path: Path, register: Register, archived: Path, signer: Signer
) -> None:
    stray = archived.parent / "report-1"
    stray.mkdir()
    problems = verify_archive(tmp_path / "archive", register=register, trust_roots=[signer.ca_pem])
    assert [(p.where, p.rule) for p in problems] == [(str(stray), "归档包未记录在登记簿中")]


# -- verification URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "candidates"),
    [
        ("https://verify.example.cn/cert?no=BZ2026SC0001", ["BZ2026SC0001", "cert"]),
        ("http://www.xbht.cn/q.html?type=cert&certNo=XBHT-2026-0012", ["cert", "XBHT-2026-0012", "q"]),
        ("https://kb.example.com/verify/KB%2F2026%2F007", ["KB/2026/007", "verify"]),
        ("http://www.bozrz.com/cert/BZ-SC-2026-0001.html", ["BZ-SC-2026-0001", "cert"]),
    ],
)
def test_a_verification_url_yields_its_query_values_then_its_path_segments(url: str, candidates: list[str]) -> None:
    assert url_candidates(url) == candidates


# -- the archive command, as an office runs it -------------------------------------------------------


def _cli(*args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from certdocs import cli

    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def records_register(tmp_path: Path) -> Iterator[Register]:
    """The register of the test's records folder (CERTDOCS_RECORDS, set in conftest)."""
    with Register.open(tmp_path / "records" / "register.sqlite3") as reg:
        yield reg


def _damage(pdf: Path) -> None:
    os.chmod(pdf, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))


def test_archiving_again_a_file_whose_stored_copy_was_damaged_says_so(
    tmp_path: Path, records_register: Register, signer: Signer
) -> None:
    number = issue(records_register, "k1", {"certificate": certificate_pdf("BZ2026SC0001")})
    signed = write(tmp_path / "signed.pdf", sign(certificate_pdf(number), signer))
    code, text = _cli("archive", str(signed), "--trust-root", str(signer.ca_pem))
    assert code == 0, text
    _damage(next((tmp_path / "records" / "archive").rglob("data/certificate.pdf")))
    code, text = _cli("archive", str(signed), "--trust-root", str(signer.ca_pem))
    assert code == 1
    assert "归档中保存的副本已损坏" in text
    assert "--supersede" in text
    assert "已归档，未重复写入" not in text
    # With a reason, this intact file is archived afresh and the damaged copy superseded.
    code, text = _cli("archive", str(signed), "--trust-root", str(signer.ca_pem), "--supersede", "原归档副本损坏")
    assert code == 0, text
    assert "certificate-2" in text


def test_a_failed_verification_prints_no_english_log_line(
    tmp_path: Path, records_register: Register, signer: Signer
) -> None:
    number = issue(records_register, "k1", {"certificate": certificate_pdf("BZ2026SC0001")})
    signed = write(tmp_path / "signed.pdf", sign(certificate_pdf(number), signer))
    assert _cli("archive", str(signed), "--trust-root", str(signer.ca_pem))[0] == 0
    _damage(next((tmp_path / "records" / "archive").rglob("data/certificate.pdf")))
    code, text = _cli("archive", "verify", "--trust-root", str(signer.ca_pem))
    assert code == 1
    assert "文件内容已被改动" in text
    assert "validation failed" not in text
    assert "expected=" not in text


def test_a_signature_from_an_untrusted_signer_is_refused_without_a_traceback(
    tmp_path: Path, records_register: Register, signer: Signer
) -> None:
    number = issue(records_register, "k1", {"certificate": certificate_pdf("BZ2026SC0001")})
    stranger = make_signer(tmp_path / "stranger", common_name="别的机构")
    signed = write(tmp_path / "signed.pdf", sign(certificate_pdf(number), stranger))
    code, text = _cli("archive", str(signed), "--trust-root", str(signer.ca_pem))
    assert code == 1
    assert "签名证书不受信任" in text
    assert "Traceback" not in text
    assert "Failed to build path" not in text
