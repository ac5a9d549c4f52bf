"""Tests for PAdES signing and signature checks, with a throwaway CA made in the test."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from certdocs.errors import SigningError, SigningInputError
from certdocs.sign import BEIJING, VisibleBox, sign_pdf, verify_pdf_signature

BODY = "杭州邦证认证有限公司"
PASSPHRASE = b"bangzheng-2026"


@dataclass(frozen=True)
class Keys:
    ca: Path
    p12: Path
    other_ca: Path


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, cn)])


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _pem(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("keys")
    ca_key, ca = _ca("测试认证根证书")
    signer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p12 = _p12(folder / "body.p12", signer_key, ca_key, ca)
    _, other = _ca("另一个根证书")
    return Keys(ca=_pem(folder / "ca.pem", ca), p12=p12, other_ca=_pem(folder / "other.pem", other))


def _p12(
    path: Path,
    signer_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
) -> Path:
    """A PKCS#12 file (passphrase :data:`PASSPHRASE`) of ``signer_key`` with a certificate ``ca`` issued."""
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(BODY))
        .issuer_name(ca.subject)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(usage, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"body", signer_key, cert, [ca], _AS_OPENSSL_EXPORTS))
    return path


#: How ``openssl pkcs12 -export`` (OpenSSL 3) encrypts a PKCS#12 file: key and certificates with
#: PBES2 (AES-256-CBC, PBKDF2 with HMAC-SHA256, 2048 iterations), a SHA-256 MAC of 2048 iterations.
#: cryptography's BestAvailableEncryption takes ten times the iterations, a few milliseconds more
#: for each decryption and for nothing a test checks.
_AS_OPENSSL_EXPORTS = (
    serialization.PrivateFormat.PKCS12.encryption_builder()
    .kdf_rounds(2048)
    .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
    .hmac_hash(hashes.SHA256())
    .build(PASSPHRASE)
)


def _blank_pdf(path: Path) -> Path:
    from pypdf import PdfWriter  # here, not at the top: each test worker imports this module

    writer = PdfWriter()
    writer.add_blank_page(width=595.28, height=841.89)  # A4
    writer.add_blank_page(width=595.28, height=841.89)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


@pytest.fixture
def unsigned(tmp_path: Path) -> Path:
    return _blank_pdf(tmp_path / "certificate.pdf")


def _sign(src: Path, keys: Keys, **options: object) -> Path:
    return sign_pdf(src, out=src.with_name("signed.pdf"), pkcs12=keys.p12, passphrase=PASSPHRASE, **options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Signed:
    """A blank PDF's bytes and the bytes :func:`_sign` made of it."""

    unsigned: bytes
    signed: bytes


@pytest.fixture(scope="module")
def signed_once(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Signed:
    """One blank PDF signed once per module (at 杭州), for the tests that read a signed PDF, damage or sign their copy.

    Signed when the module's first test that needs it runs: minutes at most before any test reads its time.
    """
    unsigned = _blank_pdf(tmp_path_factory.mktemp("signed") / "certificate.pdf")
    return Signed(unsigned.read_bytes(), _sign(unsigned, keys, location="杭州").read_bytes())


@pytest.fixture
def signed(signed_once: Signed, tmp_path: Path) -> Path:
    """A copy of that signed PDF, the test's own."""
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed_once.signed)
    return path


def test_a_signed_pdf_is_intact_valid_and_covers_the_whole_file(signed: Path, keys: Keys) -> None:
    check = verify_pdf_signature(signed, trust_roots=[keys.ca])

    assert (check.signed, check.intact, check.valid, check.covers_whole_file) == (True, True, True, True)
    assert check.signer == BODY
    assert check.signed_at is not None
    assert abs(datetime.now(UTC) - check.signed_at) < timedelta(minutes=5)
    assert check.signatures == 1


def test_an_elliptic_curve_key_signs_a_valid_signature_too(unsigned: Path, tmp_path: Path) -> None:
    ca_key, ca = _ca("椭圆曲线测试根证书")
    p12 = _p12(tmp_path / "ec.p12", ec.generate_private_key(ec.SECP256R1()), ca_key, ca)

    signed = sign_pdf(unsigned, out=tmp_path / "ec-signed.pdf", pkcs12=p12, passphrase=PASSPHRASE)

    check = verify_pdf_signature(signed, trust_roots=[_pem(tmp_path / "ec-ca.pem", ca)])
    assert (check.intact, check.valid, check.covers_whole_file) == (True, True, True)


def test_original_sha256_is_the_hash_of_the_unsigned_input(signed: Path, signed_once: Signed) -> None:
    check = verify_pdf_signature(signed)

    assert check.original_sha256 == hashlib.sha256(signed_once.unsigned).hexdigest()
    assert check.signed_revision_sha256 not in ("", check.original_sha256)


def test_a_signature_is_not_valid_without_a_matching_trust_root(signed: Path, keys: Keys) -> None:
    assert verify_pdf_signature(signed).valid is False
    other = verify_pdf_signature(signed, trust_roots=[keys.other_ca])
    assert (other.intact, other.valid) == (True, False)


def test_a_one_byte_change_after_signing_breaks_integrity(signed: Path, keys: Keys) -> None:
    data = bytearray(signed.read_bytes())
    # A byte of the issued document itself (the page size), inside the signed byte range.
    at = data.index(b"841.89") + 1
    data[at] = ord("5")
    signed.write_bytes(bytes(data))

    check = verify_pdf_signature(signed, trust_roots=[keys.ca])

    assert check.signed is True
    assert (check.intact, check.valid) == (False, False)


def test_bytes_appended_after_signing_are_not_covered(signed: Path, keys: Keys) -> None:
    signed.write_bytes(signed.read_bytes() + b"\n% appended later\n")

    check = verify_pdf_signature(signed, trust_roots=[keys.ca])

    assert check.intact is True
    assert check.covers_whole_file is False


def _decryptions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gets an item each time the PKCS#12 file is decrypted from now on."""
    real = pkcs12.load_key_and_certificates
    calls: list[int] = []

    def counted(data: bytes, password: bytes | None, *args: object) -> object:
        calls.append(1)
        return real(data, password, *args)

    monkeypatch.setattr(pkcs12, "load_key_and_certificates", counted)
    return calls


def test_signing_decrypts_the_pkcs12_file_once(unsigned: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each decryption runs the passphrase's key derivation and checks the RSA key: the dear part of signing.
    calls = _decryptions(monkeypatch)
    signed = _sign(unsigned, keys)
    assert verify_pdf_signature(signed, trust_roots=[keys.ca]).valid is True
    assert len(calls) == 1


def test_an_unsigned_pdf_reports_not_signed(unsigned: Path) -> None:
    check = verify_pdf_signature(unsigned)

    assert (check.signed, check.intact, check.valid, check.original_sha256) == (False, False, False, "")


def test_it_refuses_a_wrong_passphrase(unsigned: Path, keys: Keys) -> None:
    with pytest.raises(SigningError, match="口令错误"):
        sign_pdf(unsigned, out=unsigned.with_name("x.pdf"), pkcs12=keys.p12, passphrase=b"wrong")
    with pytest.raises(SigningError, match="未提供口令"):
        sign_pdf(unsigned, out=unsigned.with_name("x.pdf"), pkcs12=keys.p12, passphrase=None)
    assert not unsigned.with_name("x.pdf").exists()


def test_it_refuses_a_file_that_is_not_pkcs12(unsigned: Path, tmp_path: Path) -> None:
    fake = tmp_path / "body.p12"
    fake.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")

    with pytest.raises(SigningError, match="不是 PKCS#12"):
        sign_pdf(unsigned, out=tmp_path / "x.pdf", pkcs12=fake, passphrase=PASSPHRASE)


def test_it_refuses_to_sign_something_that_is_not_a_pdf(tmp_path: Path, keys: Keys) -> None:
    doc = tmp_path / "certificate.pdf"
    doc.write_bytes(b"PK\x03\x04 a docx, not a pdf")

    with pytest.raises(SigningError, match="不是 PDF 文件"):
        sign_pdf(doc, out=tmp_path / "x.pdf", pkcs12=keys.p12, passphrase=PASSPHRASE)
    with pytest.raises(SigningError, match="不是 PDF 文件"):
        verify_pdf_signature(doc)


def test_it_refuses_to_sign_twice_unless_allowed(signed: Path, signed_once: Signed, keys: Keys) -> None:
    with pytest.raises(SigningError, match="已经签名"):
        sign_pdf(signed, out=signed.with_name("twice.pdf"), pkcs12=keys.p12, passphrase=PASSPHRASE)
    twice = sign_pdf(
        signed, out=signed.with_name("twice.pdf"), pkcs12=keys.p12, passphrase=PASSPHRASE, allow_additional=True
    )

    check = verify_pdf_signature(twice, trust_roots=[keys.ca])
    assert (check.signatures, check.intact, check.valid, check.covers_whole_file) == (2, True, True, True)
    # The first signature still tells what was issued.
    assert check.original_sha256 == hashlib.sha256(signed_once.unsigned).hexdigest()


def test_a_reason_or_location_with_a_bidirectional_control_or_line_break_is_refused_before_decrypting(
    unsigned: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A signature panel shows them: U+202E would show the reason reversed.
    monkeypatch.setattr("certdocs.sign.load_signer", lambda *a: pytest.fail("the key was decrypted"))
    before = unsigned.read_bytes()
    with pytest.raises(SigningInputError) as caught:
        sign_pdf(
            unsigned,
            out=unsigned,
            pkcs12=keys.p12,
            passphrase=PASSPHRASE,
            reason="认证证书\u202e签发",
            location="北京\n上海",
        )
    assert [p.where for p in caught.value.problems] == ["--reason", "location"]
    assert "U+202E" in caught.value.problems[0].rule
    assert unsigned.read_bytes() == before


def test_it_signs_in_place_atomically(unsigned: Path, keys: Keys) -> None:
    original = hashlib.sha256(unsigned.read_bytes()).hexdigest()

    sign_pdf(unsigned, out=unsigned, pkcs12=keys.p12, passphrase=PASSPHRASE)

    assert verify_pdf_signature(unsigned).original_sha256 == original
    assert [p.name for p in unsigned.parent.iterdir()] == [unsigned.name]


def test_a_box_outside_the_page_is_refused(unsigned: Path, keys: Keys) -> None:
    with pytest.raises(SigningError, match="超出"):
        _sign(unsigned, keys, visible=VisibleBox(left_mm=150, top_mm=250, width_mm=80, height_mm=30))
    with pytest.raises(SigningError, match="不存在"):
        _sign(unsigned, keys, visible=VisibleBox(left_mm=10, top_mm=10, width_mm=80, height_mm=30, page=3))


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("fc-match") is None, reason="needs poppler-utils and fontconfig"
)
def test_a_visible_box_prints_chinese_in_an_embedded_font(unsigned: Path, keys: Keys, tmp_path: Path) -> None:
    box = VisibleBox(left_mm=110, top_mm=240, width_mm=80, height_mm=25, text=f"{BODY}\n签发：%(ts)s", font_size=11)
    signed = _sign(unsigned, keys, visible=box)
    now = datetime.now(BEIJING)

    fonts = subprocess.run(["pdffonts", str(signed)], capture_output=True, text=True, check=True).stdout
    row = next(line for line in fonts.splitlines() if "NotoSansCJK" in line)
    assert row.split()[-5:-3] == ["yes", "yes"]  # embedded, subset
    text = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", str(signed), "-"], capture_output=True, text=True, check=True
    ).stdout
    printed = re.search(r"签发：(\d{4})年(\d{2})月(\d{2})日 (\d{2}):(\d{2})", text)
    assert BODY in text
    assert printed is not None
    year, month, day, hour, minute = (int(g) for g in printed.groups())
    shown = datetime(year, month, day, hour, minute, tzinfo=BEIJING)
    assert abs(now - shown) < timedelta(minutes=2)  # Beijing time, whatever the machine's zone
    assert verify_pdf_signature(signed, trust_roots=[keys.ca]).valid is True
    subprocess.run(
        ["pdftoppm", "-png", "-r", "100", "-f", "2", "-l", "2", str(signed), str(tmp_path / "page")], check=True
    )
    assert list(tmp_path.glob("page*.png"))


# -- the sign command, as an office runs it ---------------------------------------------------------


def _cli(*args: str, passphrase: bytes | None = PASSPHRASE) -> tuple[int, str]:
    from click.testing import CliRunner

    from certdocs import cli

    env = {"CERTDOCS_P12_PASSPHRASE": passphrase.decode()} if passphrase else {"CERTDOCS_P12_PASSPHRASE": ""}
    result = CliRunner().invoke(cli.main, list(args), env=env)
    return result.exit_code, result.output


def test_a_wrong_passphrase_is_an_input_error(unsigned: Path, keys: Keys) -> None:
    code, text = _cli("sign", str(unsigned), "--pkcs12", str(keys.p12), passphrase=b"wrong")
    assert code == 2
    assert str(keys.p12) in text
    assert "口令错误" in text
    assert not unsigned.with_name("certificate-signed.pdf").exists()


def test_a_missing_passphrase_is_an_input_error(unsigned: Path, keys: Keys) -> None:
    code, text = _cli("sign", str(unsigned), "--pkcs12", str(keys.p12), passphrase=None)
    assert code == 2
    assert "未提供口令" in text


def test_a_file_that_is_not_pkcs12_is_an_input_error(unsigned: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake.p12"
    fake.write_bytes(b"not a certificate")
    code, text = _cli("sign", str(unsigned), "--pkcs12", str(fake))
    assert code == 2
    assert "不是 PKCS#12" in text


def _written_by_certdocs(pdf: Path, *, author: str) -> None:
    """Give ``pdf`` the document information certdocs writes: /Creator certdocs, the body as /Author."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=pdf)
    writer.add_metadata({"/Creator": "certdocs", "/Author": author})
    with pdf.open("wb") as fh:
        writer.write(fh)


def _page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("fc-match") is None, reason="needs poppler-utils and fontconfig"
)
def test_the_visible_box_shows_the_body_named_in_the_pdf_and_the_signing_time(unsigned: Path, keys: Keys) -> None:
    # A PDF certdocs wrote names its certification body as /Author.
    _written_by_certdocs(unsigned, author="北京新标恒通认证有限公司")
    code, text = _cli("sign", str(unsigned), "--pkcs12", str(keys.p12), "--visible")
    assert code == 0, text
    shown = _page_text(unsigned.with_name("certificate-signed.pdf"), 2)
    assert "北京新标恒通认证有限公司" in shown
    assert re.search(r"签发：\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}", shown)
    assert "数字签名" not in shown


@pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("fc-match") is None, reason="needs poppler-utils and fontconfig"
)
def test_the_visible_box_of_another_pdf_shows_the_signing_certificate_organisation(
    unsigned: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _decryptions(monkeypatch)
    code, text = _cli("sign", str(unsigned), "--pkcs12", str(keys.p12), "--visible")
    assert code == 0, text
    shown = _page_text(unsigned.with_name("certificate-signed.pdf"), 2)
    assert BODY in shown
    assert "签发：" in shown
    assert len(calls) == 1  # the organisation is read from the one decryption that signs


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_the_face_taken_out_of_the_font_collection_has_every_table_of_that_face_unchanged() -> None:
    from fontTools import ttLib

    from certdocs._signbox import _face_of_collection, find_cjk_font

    file, index = find_cjk_font()
    if file.suffix.lower() not in (".ttc", ".otc"):
        pytest.skip("the CJK font here is not a collection")
    face = ttLib.TTFont(io.BytesIO(_face_of_collection(file.read_bytes(), index)))
    expected = ttLib.TTFont(str(file), fontNumber=index)

    assert sorted(face.reader.tables) == sorted(expected.reader.tables)
    assert all(face.reader[tag] == expected.reader[tag] for tag in expected.reader.tables)


def test_a_broken_font_collection_is_refused_not_read_past_its_end() -> None:
    from certdocs._signbox import _face_of_collection

    header = b"ttcf" + struct.pack(">HHI", 1, 0, 1) + struct.pack(">I", 16)
    face = b"OTTO" + struct.pack(">HHHH", 1, 16, 0, 0) + struct.pack(">4sIII", b"CFF ", 0, 10_000, 64)

    with pytest.raises(ValueError, match="超出文件末尾"):
        _face_of_collection(header + face, 0)
    with pytest.raises(ValueError, match="没有第 3 个字体"):
        _face_of_collection(header + face, 3)
    with pytest.raises(struct.error):
        _face_of_collection(header[:10], 0)


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_the_visible_box_font_is_what_pyhankos_own_accumulator_makes() -> None:
    # certdocs reads the font's fixed facts once a process, parses its CFF table once a process
    # for every box to cut a copy of, and subsets only what is embedded (certdocs._pyhanko_parts):
    # the shaped text, the widths, the ToUnicode map and the embedded font program must stay those
    # of pyHanko's own GlyphAccumulator, here for a box made after another box in the process.
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
    from pyhanko.pdf_utils.writer import PdfFileWriter

    from certdocs._pyhanko_parts import layout_free_accumulator
    from certdocs.sign import cjk_font_bytes

    lines = [BODY, "签发：2026年11月22日 10:30", "Certified Ａ１（）《》、。"]

    def made(accumulator: type[GlyphAccumulator], box: list[str] = lines) -> tuple[Any, list[object], bytes]:
        engine: Any = accumulator(writer=PdfFileWriter(), font_handle=io.BytesIO(cjk_font_bytes()), font_size=11)  # type: ignore[no-untyped-call]
        shaped: list[object] = [engine.shape(line) for line in box]
        engine.prepare_write()
        program = io.BytesIO()
        engine.cidfont_obj.cff.compile(program, engine.tt)
        return engine, shaped, program.getvalue()

    made(layout_free_accumulator(), ["北京新标恒通认证有限公司", "签发：2027年01月02日 08:05"])  # an earlier box
    ours, ours_shaped, ours_program = made(layout_free_accumulator())
    theirs, theirs_shaped, theirs_program = made(GlyphAccumulator)

    assert sorted(vars(ours)) == sorted(vars(theirs))
    assert ours_shaped == theirs_shaped
    assert ours._glyphs == theirs._glyphs  # CID and advance width of each glyph used
    assert ours._cid_to_unicode == theirs._cid_to_unicode
    # The subset's name starts with a random prefix (ABCDEF+NotoSansCJKsc-Regular).
    assert ours_program == theirs_program.replace(theirs.subset_prefix.encode(), ours.subset_prefix.encode())


# -- box text the box cannot print: refused before anything is written --------------------------------


def _refused(unsigned: Path, keys: Keys, text: str) -> SigningError:
    box = VisibleBox(left_mm=110, top_mm=240, width_mm=80, height_mm=25, text=text)
    with pytest.raises(SigningError) as raised:
        _sign(unsigned, keys, visible=box)
    return raised.value


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_character_the_box_font_lacks_is_an_input_error_naming_it(unsigned: Path, keys: Keys) -> None:
    error = _refused(unsigned, keys, f"{BODY}𠀀\n签发：%(ts)s")
    assert isinstance(error, SigningInputError)
    assert [p.where for p in error.problems] == ["签名框文字"]
    assert "「𠀀」（U+20000）" in error.problems[0].rule
    assert "请删除这些字符或改用常用字" in error.problems[0].rule
    assert error.source == str(unsigned)


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_refused_box_text_writes_nothing(unsigned: Path, keys: Keys) -> None:
    _refused(unsigned, keys, "签发😀")
    assert sorted(p.name for p in unsigned.parent.iterdir()) == [unsigned.name]


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_box_text_is_refused_before_the_pkcs12_file_is_decrypted(
    unsigned: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _decryptions(monkeypatch)
    _refused(unsigned, keys, "签发😀")
    assert calls == []


def test_a_box_outside_the_page_is_refused_before_the_pkcs12_file_is_decrypted(
    unsigned: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _decryptions(monkeypatch)
    with pytest.raises(SigningError, match="超出"):
        _sign(unsigned, keys, visible=VisibleBox(left_mm=150, top_mm=250, width_mm=80, height_mm=30))
    assert calls == []


# -- box text too long for its box: pyHanko would shrink it past reading ------------------------


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_box_text_shrunk_below_six_points_is_refused_with_what_fits(unsigned: Path, keys: Keys) -> None:
    # 80 mm (227 points) wide at 10 points: 35 characters a line fit at 6 points; 50 would print at 4.4.
    error = _refused(unsigned, keys, "某" * 50)
    assert isinstance(error, SigningInputError)
    assert [p.where for p in error.problems] == ["签名框文字"]
    assert "须缩小到 4.4 磅才能放进 80×25 毫米的签名框" in error.problems[0].rule
    assert "每行至多约 35 个汉字，至多 9 行" in error.problems[0].rule


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_box_text_shrunk_below_six_points_is_refused_before_the_pkcs12_file_is_decrypted(
    unsigned: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _decryptions(monkeypatch)
    _refused(unsigned, keys, "某\n" * 10)  # ten lines in a box 25 mm high
    assert calls == []


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_box_text_too_long_and_with_a_character_the_font_lacks_is_refused_for_both(
    unsigned: Path, keys: Keys
) -> None:
    error = _refused(unsigned, keys, "某" * 50 + "😀")
    assert len(error.problems) == 2


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_long_body_name_in_the_default_box_text_asks_for_a_box_text_of_its_own(unsigned: Path, keys: Keys) -> None:
    _written_by_certdocs(unsigned, author="某" * 40 + "认证有限公司")
    code, text = _cli("sign", str(unsigned), "--pkcs12", str(keys.p12), "--visible")
    assert (code, "请用签名框文字（--signer-text）分行" in text) == (2, True)


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_box_font_size_below_six_points_is_refused(unsigned: Path, keys: Keys) -> None:
    box = VisibleBox(left_mm=110, top_mm=240, width_mm=80, height_mm=25, text="签发：%(ts)s", font_size=5)
    with pytest.raises(SigningInputError, match="字号 5 磅小于 6 磅"):
        _sign(unsigned, keys, visible=box)


def test_a_doubled_percent_before_ts_is_text_not_a_lone_percent() -> None:
    from certdocs._signbox import box_text_problems

    # Python's % reads %%(ts)s as "%" and "(ts)s": the box prints "%(ts)s" as it is.
    assert box_text_problems("签发：%%(ts)s", where="签名框文字", given=True) == []


# Texts pyHanko shrinks to fit the box: one by its width (a long line), one by its height (lines).
SHRUNK = {"wide": "某" * 30, "tall": "某\n" * 7 + "某"}


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
@pytest.mark.parametrize("text", SHRUNK.values(), ids=SHRUNK.keys())
def test_the_size_a_box_text_is_checked_at_is_the_size_pyhanko_prints_it_at(
    unsigned: Path, keys: Keys, text: str
) -> None:
    from pypdf import PdfReader

    from certdocs._signbox import box_text_scale

    signed = _sign(unsigned, keys, visible=VisibleBox(left_mm=110, top_mm=240, width_mm=80, height_mm=25, text=text))
    annots: Any = PdfReader(signed).pages[-1]["/Annots"]
    annotation = annots[0].get_object()
    appearance = annotation["/AP"]["/N"].get_object().get_data()
    # The first transformation of the appearance scales the text box into the signature box.
    scaling = re.search(rb"([\d.]+) 0 0 [\d.]+ [\d.-]+ [\d.-]+ cm", appearance)
    assert scaling is not None
    printed = float(scaling.group(1))
    box = (312, 71, 539, 142)  # 110-190 mm from the left, 240-265 mm from the top of an A4 page, in points
    assert box_text_scale(text, font_size=10, width_pt=box[2] - box[0], height_pt=box[3] - box[1]) == pytest.approx(
        printed, abs=1e-4
    )


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_an_emoji_in_the_box_text_is_named_once_however_often_it_appears(unsigned: Path, keys: Keys) -> None:
    error = _refused(unsigned, keys, "😀签发😀")
    assert error.problems[0].rule.count("「😀」（U+1F600）") == 1


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_right_to_left_letters_the_box_font_lacks_are_named_in_the_order_written(unsigned: Path, keys: Keys) -> None:
    error = _refused(unsigned, keys, "\u0627\u0644")  # Arabic, shaped right to left
    assert "「\u0627」（U+0627）、「\u0644」（U+0644）" in error.problems[0].rule


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_right_to_left_override_in_the_box_text_is_refused(unsigned: Path, keys: Keys) -> None:
    error = _refused(unsigned, keys, "签发\u202e人")
    assert [p.rule.split("，")[0] for p in error.problems] == ["第 3 个字符是 U+202E（双向文本控制符"]


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_tab_in_the_box_text_is_refused_as_in_every_printed_text(unsigned: Path, keys: Keys) -> None:
    error = _refused(unsigned, keys, "签\t发\r\n%(ts)s")
    assert [p.rule for p in error.problems] == ["第 2 个字符是 U+0009（制表符），打印出来与看到的不同；请删除该字符"]


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_every_problem_of_a_box_text_is_reported_at_once(unsigned: Path, keys: Keys) -> None:
    error = _refused(unsigned, keys, "100%\t😀")
    assert len(error.problems) == 3


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_box_text_of_only_spaces_is_refused(unsigned: Path, keys: Keys) -> None:
    error = _refused(unsigned, keys, "   ")
    assert error.problems[0].rule.startswith("只有空白")


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_lone_percent_sign_in_the_box_text_is_refused_saying_how_to_write_it(unsigned: Path, keys: Keys) -> None:
    error = _refused(unsigned, keys, "合格率 100%")
    assert error.problems[0].rule == "含有单独的 %：百分号请写成 %%，签发时间写成 %(ts)s"


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_thousand_different_missing_characters_are_named_ten_at_a_time(unsigned: Path, keys: Keys) -> None:
    error = _refused(unsigned, keys, "".join(chr(0xE000 + n) for n in range(1000)))  # private use: in no font here
    assert "U+E008、U+E009 等共 1000 个" in error.problems[0].rule


@pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("fc-match") is None, reason="needs poppler-utils and fontconfig"
)
def test_a_body_name_with_a_percent_sign_is_printed_as_it_is(unsigned: Path, keys: Keys) -> None:
    _written_by_certdocs(unsigned, author="百分百%认证有限公司")
    signed = _sign(unsigned, keys, visible=VisibleBox(left_mm=110, top_mm=240, width_mm=80, height_mm=25))
    assert "百分百%认证有限公司" in _page_text(signed, 2)


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_the_sign_command_refuses_a_character_the_box_font_lacks_with_exit_2(unsigned: Path, keys: Keys) -> None:
    code, text = _cli("sign", str(unsigned), "--pkcs12", str(keys.p12), "--visible", "--signer-text", "签发😀")
    assert code == 2
    assert "签名框文字：含有签名框字体 Noto Sans CJK SC 没有的字符 「😀」（U+1F600）" in text
    assert not unsigned.with_name("certificate-signed.pdf").exists()


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="needs fontconfig")
def test_a_body_name_the_box_font_lacks_is_located_in_the_pdf_document_information(unsigned: Path, keys: Keys) -> None:
    _written_by_certdocs(unsigned, author="北京😀认证有限公司")
    with pytest.raises(SigningInputError) as raised:
        _sign(unsigned, keys, visible=VisibleBox(left_mm=110, top_mm=240, width_mm=80, height_mm=25))
    assert [p.where for p in raised.value.problems] == ["PDF 文档信息中的认证机构名称（/Author）"]
