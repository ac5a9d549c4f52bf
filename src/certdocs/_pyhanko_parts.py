"""The two pyHanko classes certdocs specialises for speed, imported only when a PDF is signed.

:class:`KeptKeySigner` signs with the private key already decrypted from the PKCS#12 file;
:func:`layout_free_accumulator` subsets the visible box's CJK font without first reading the
layout tables the subset leaves out. Both reach into pyHanko's internals (``SimpleSigner.sign_raw``,
``GlyphAccumulator._extract_subset``): ``pyproject.toml`` bounds pyHanko's version for that
reason, and tests/test_sign.py checks signatures and the embedded font after every change.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

#: The tables pyHanko's default subset options drop (``options.drop_tables``).
_LAYOUT_TABLES = ("GDEF", "GSUB", "GPOS")


class KeptKeySigner(SimpleSigner):
    """A pyHanko signer holding the decrypted private key as a ``cryptography`` key object.

    pyHanko's ``SimpleSigner`` parses its key again for every signature it makes, and it makes
    two per PDF (the first to size the space the signature takes): each parse checks an RSA key
    again, tens of milliseconds. RSA PKCS#1 v1.5 and ECDSA, the mechanisms a PKCS#12 file from a
    CA uses, sign with the kept key; any other mechanism goes to pyHanko's own code.
    """

    def __init__(self, *, key: Any, **options: Any) -> None:
        super().__init__(**options)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """The raw signature of ``data`` (as pyHanko's ``SimpleSigner.sign_raw``)."""
        try:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        except ValueError:  # an algorithm asn1crypto cannot name: pyHanko's code decides
            mechanism = ""
        key = self._key
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if mechanism == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
            return key.sign(data, ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        return bytes(super().sign_raw(data, digest_algorithm))


@cache
def layout_free_accumulator() -> type[Any]:
    """pyHanko's glyph accumulator, with the font's layout tables removed before subsetting.

    pyHanko's subset drops GDEF, GSUB and GPOS, but fontTools decompiles them before it prunes
    anything: half a second for Noto Sans CJK's, for tables that never reach the PDF. Text is
    shaped by HarfBuzz from the font's bytes, not from these tables, so the PDF is the same.
    Made on first use: the accumulator needs pyhanko[opentype] (fontTools, uharfbuzz), which an
    invisible signature does not.
    """
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator

    class LayoutFreeAccumulator(GlyphAccumulator):
        def _extract_subset(self, options: Any = None) -> None:
            if options is None:  # pyHanko's default options, which drop exactly these tables
                for tag in _LAYOUT_TABLES:
                    if tag in self.tt:
                        del self.tt[tag]
            super()._extract_subset(options)

    return LayoutFreeAccumulator
