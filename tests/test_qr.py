"""QR codes for certificate verification: they decode back to the URL and print sharply."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from certdocs import qr
from certdocs.errors import CertdocsError
from certdocs.qr import qr_png

URL = "http://www.bozrz.com/cert/verify?no=BZ-SC-2026-0001"


def _decode(png: bytes) -> list[zxingcpp.Barcode]:
    return list(zxingcpp.read_barcodes(Image.open(io.BytesIO(png))))


def test_it_decodes_back_to_the_url() -> None:
    (code,) = _decode(qr_png(URL))
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert code.text == URL


def test_it_uses_error_correction_q_for_worn_or_stamped_paper() -> None:
    (code,) = _decode(qr_png(URL))
    assert code.ec_level == "Q"


def test_it_is_a_png_of_whole_modules_with_a_four_module_quiet_zone() -> None:
    image = Image.open(io.BytesIO(qr_png(URL, module_px=10)))
    assert image.format == "PNG"
    width, height = image.size
    assert width == height
    assert width % 10 == 0
    modules = width // 10 - 8
    assert (modules - 17) % 4 == 0  # a real QR version: 21, 25, 29 … modules
    quiet = image.convert("L").crop((0, 0, width, 40))
    assert quiet.getextrema() == (255, 255)


def test_it_is_sharp_enough_to_print_at_25_mm() -> None:
    width, _ = Image.open(io.BytesIO(qr_png(URL))).size
    assert width / (25 / 25.4) >= 300  # at least 300 dpi at 25 mm


def test_the_same_url_gives_the_same_bytes() -> None:
    first = qr_png(URL)
    qr._png.cache_clear()  # drawn again, not recalled

    assert qr_png(URL) == first


def test_a_recalled_code_is_the_one_drawn_for_that_url_and_size() -> None:
    qr._png.cache_clear()
    drawn = {(url, px): qr_png(url, module_px=px) for url in (URL, URL + "2") for px in (3, 10)}

    assert {(url, px): qr_png(url, module_px=px) for url, px in drawn} == drawn
    assert qr._png.cache_info().hits == len(drawn)


def test_it_refuses_an_empty_url_in_chinese() -> None:
    with pytest.raises(CertdocsError, match="网址为空"):
        qr_png("  ")


def test_it_refuses_a_url_too_long_for_any_qr_code() -> None:
    with pytest.raises(CertdocsError, match="过长"):
        qr_png("http://example.com/" + "x" * 5000)
