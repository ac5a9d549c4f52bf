"""QR codes for certificate verification, as PNG bytes ready to place in a Word template."""

from __future__ import annotations

import functools
import io
from itertools import chain

import qrcode
import qrcode.exceptions
from PIL import Image

from certdocs.errors import CertdocsError, Problem

# Error correction Q (25 % recoverable) survives a seal stamped over a corner and worn paper;
# the quiet zone of four modules is what ISO/IEC 18004 asks for.
_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
_BORDER_MODULES = 4
# Any of the eight masks makes a valid code; choosing the best means drawing and scoring all
# eight (most of the time a code takes). Mask 0 (a checkerboard) breaks up runs and blocks well
# enough for every verification URL: the tests decode it from the rendered page.
_MASK = 0
_LIGHT = bytes.maketrans(b"\x00\x01", b"\xff\x00")  # a dark module (True, 1) black, a light one white


def qr_png(url: str, *, module_px: int = 10) -> bytes:
    """The verification URL as a black-on-white QR code in PNG, ``module_px`` pixels a module.

    With the default of 10 pixels a module a typical verification URL (version 4–6, 41–49
    modules with the quiet zone) is about 450 pixels wide: above 400 dpi when printed at
    28 mm, so every module edge stays sharp after PDF conversion and printing.
    """
    if not url.strip():
        raise CertdocsError([Problem("二维码", "证书查验网址为空，无法生成二维码")])
    if module_px < 1:
        raise CertdocsError([Problem("二维码", f"每个模块的像素数必须至少为 1，收到 {module_px}")])
    return _png(url, module_px)


# By URL and module size, nothing else: the same inputs always give the same bytes. A
# regeneration or a reissue draws the same URL again (and a test process the same few, often).
@functools.lru_cache(maxsize=256)
def _png(url: str, module_px: int) -> bytes:
    code = qrcode.QRCode(
        error_correction=_ERROR_CORRECTION, box_size=module_px, border=_BORDER_MODULES, mask_pattern=_MASK
    )
    code.add_data(url)
    try:
        code.make(fit=True)
    except (qrcode.exceptions.DataOverflowError, ValueError) as exc:  # ValueError: beyond version 40
        raise CertdocsError([Problem("二维码", f"证书查验网址过长（{len(url)} 个字符），无法放入二维码")]) from exc
    # The module matrix as one byte a module, scaled up by Pillow: a few milliseconds, where
    # drawing module by module takes tens (a batch makes one code per certificate).
    matrix = code.get_matrix()
    height, width = len(matrix), len(matrix[0])
    light = bytes(chain.from_iterable(matrix)).translate(_LIGHT)
    modules = Image.frombytes("L", (width, height), light).convert("1", dither=Image.Dither.NONE)
    image = modules.resize((width * module_px, height * module_px), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    # A 1-bit PNG without a time chunk: the same URL always gives the same bytes.
    image.convert("1").save(buffer, format="PNG")
    return buffer.getvalue()


__all__ = ["qr_png"]
