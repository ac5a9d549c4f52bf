"""The two pyHanko classes certdocs specialises for speed, imported only when a PDF is signed.

:class:`KeptKeySigner` signs with the private key already decrypted from the PKCS#12 file;
:func:`layout_free_accumulator` subsets the visible box's CJK font without first reading the
layout tables the subset leaves out. Both reach into pyHanko's internals (``SimpleSigner.sign_raw``,
``GlyphAccumulator._extract_subset``): ``pyproject.toml`` bounds pyHanko's version for that
reason, and tests/test_sign.py checks signatures and the embedded font after every change.
"""

from __future__ import annotations

import bisect
import io
import pickle
from dataclasses import dataclass
from functools import cache, lru_cache
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
    """pyHanko's glyph accumulator, reading the font's fixed facts once a process and subsetting less of it.

    What pyHanko's ``GlyphAccumulator`` does for each signature box, with three costs taken out
    (Noto Sans CJK, CPU of a box's font: a process's first box 0.48 → 0.38 s, each further box
    0.37 → 0.17 s; with the CFF table parsed once, each further box 0.13 → 0.07 s, the first as before):

    - the HarfBuzz face, the PostScript name and the advance widths of every glyph are read once
      a process for the same font bytes (:func:`_font_facts`), not parsed again for each box;
    - fontTools' subsetter changes the font it cuts, so each box cuts a font of its own: of a CFF
      font, a copy of the tables read once a process (:class:`_ParsedCff`), and only the tables
      that decide the embedded font program are cut: the PDF embeds the ``CFF`` table alone
      (``/FontFile3``), so the character map, metrics and other tables pyHanko subset as well
      never reached the PDF (a TrueType font is parsed afresh for each box and embedded whole);
    - the layout tables GDEF, GSUB and GPOS are removed before subsetting, as pyHanko's default
      subset options drop them anyway: fontTools decompiled them first, half a second for Noto
      Sans CJK's, and text is shaped by HarfBuzz from the font's bytes, not from these tables.

    The embedded subset, the widths and the text are those pyHanko's own accumulator makes
    (tests/test_sign.py compares them). Made on first use: the accumulator needs
    pyhanko[opentype] (fontTools, uharfbuzz), which an invisible signature does not.
    """
    import uharfbuzz as hb  # type: ignore[import-untyped]
    from fontTools import ttLib
    from pyhanko.pdf_utils.font.api import FontEngine
    from pyhanko.pdf_utils.font.opentype import CIDFontType0, CIDFontType2, GlyphAccumulator

    class LayoutFreeAccumulator(GlyphAccumulator):
        def __init__(self, writer: Any, font_handle: Any, font_size: Any, obj_stream: Any = None) -> None:
            # pyHanko's GlyphAccumulator.__init__ (0.25 to 0.38) with its default options, the
            # facts read once (see above): FontEngine's part, then the same attributes.
            font_handle.seek(0)
            facts = _font_facts(font_handle.read())
            font_handle.seek(0)
            self.hb_font = hb.Font(facts.face)
            self.tt = tt = facts.cff.copy() if facts.cff is not None else ttLib.TTFont(font_handle)
            FontEngine.__init__(
                self, writer, facts.postscript_name, embedded_subset=True, obj_stream=obj_stream, font_size=font_size
            )
            self._font_ref = writer.allocate_placeholder()
            try:
                self.cff_charset = tt["CFF "].cff[0].charset
                self.cidfont_obj = CIDFontType0(tt, facts.postscript_name, self.subset_prefix)
                self.use_raw_gids = self.cidfont_obj.use_raw_gids
            except KeyError:
                self.cff_charset = None
                self.use_raw_gids = True
                self.cidfont_obj = CIDFontType2(tt, facts.postscript_name, self.subset_prefix)
            self.features = None
            self.units_per_em = facts.units_per_em
            self._glyphs = {}
            self._glyph_set = facts.widths
            self._cid_to_unicode = {}
            self._GlyphAccumulator__reverse_cmap = None
            self.ot_language_tag = self.ot_script_tag = self.writing_direction = self.bcp47_lang_code = None
            self._subset_created = self._write_prepared = False

        def _extract_subset(self, options: Any = None) -> None:
            if options is not None:  # a CFF font's copy holds only the tables pyHanko's defaults need
                raise NotImplementedError("certdocs' accumulator subsets with pyHanko's default options only")
            cff = isinstance(self.cidfont_obj, CIDFontType0)  # a TrueType font is embedded whole
            for tag in list(self.tt.keys()):
                # pyHanko's default options drop the layout tables: none is kept.
                if tag in _LAYOUT_TABLES or (cff and tag not in _CFF_SUBSET_READS):
                    del self.tt[tag]
            super()._extract_subset(options)

    return LayoutFreeAccumulator


#: What decides a CFF font's embedded program when fontTools subsets it: the CFF table itself,
#: the tables its subsetter needs to run, and those it takes further glyphs from (its closure).
#: The character map adds glyphs only for characters asked for, and pyHanko asks for glyphs.
_CFF_SUBSET_READS = frozenset({"GlyphOrder", "CFF ", "head", "maxp", "COLR", "MATH"})
#: What a box's font engine reads of a CFF font besides: its font descriptor's metrics (pyHanko's ``FontDescriptor``).
_CFF_DESCRIPTOR_READS = frozenset({"hhea", "OS/2", "post"})


@dataclass(frozen=True)
class _Advances:
    """A glyph's advance width, as fontTools' glyph set gives it (``.width``)."""

    width: int


@dataclass(frozen=True)
class _Widths:
    """The advance widths of a font's glyphs by glyph name, answering ``get`` as a fontTools glyph set."""

    advances: dict[str, tuple[int, int]]

    def get(self, name: str) -> _Advances | None:
        found = self.advances.get(name)
        return None if found is None else _Advances(found[0])


@dataclass(frozen=True)
class _FontFacts:
    """What a font says the same way for every signature box: read once a process."""

    face: Any  # uharfbuzz.Face: immutable, shared by each box's hb.Font
    postscript_name: str
    units_per_em: int
    widths: _Widths
    cff: _ParsedCff | None  # None for a TrueType font


@dataclass(frozen=True)
class _ParsedCff:
    """The tables a box's font engine reads of a CFF font, parsed once a process, copied for each box.

    fontTools' subsetter cuts the font it is given (the glyph list, the glyph programs and
    subroutines it keeps, the .notdef outline), so every box needs a font no other box has cut.
    Parsing Noto Sans CJK's CFF table again for each box (the charset, glyph offsets and font
    selector of 65,535 glyphs; the offsets of some 60,000 subroutines) took more than half of a
    box's font CPU; unpickling a pickle of the parse makes a copy in a fraction of that. The glyph
    programs stay unread in the 15 MB CFF table until a box's subset reads them: the pickle leaves
    those bytes out, and every copy's file reads the same bytes object, which cannot change.
    Pickled and unpickled here only: no outside data.
    """

    pickled: bytes
    files: tuple[bytes, ...]

    @classmethod
    def of(cls, tt: Any) -> _ParsedCff:
        """The parse of ``tt`` (a font just read, which this changes and which is not to be used after)."""
        for tag in list(tt.keys()):
            if tag not in _CFF_SUBSET_READS | _CFF_DESCRIPTOR_READS:
                del tt[tag]
        for tag in list(tt.keys()):
            tt[tag]  # parses the table
        top = tt["CFF "].cff[0]
        for name in ("charset", "CharStrings", "GlobalSubrs", "FDSelect", "FDArray", "Private"):
            getattr(top, name, None)  # fontTools parses a CFF table's parts when first asked for
        for font_dict in getattr(top, "FDArray", None) or ():
            getattr(font_dict.Private, "Subrs", None)
        tt.reader = None  # every table is parsed: nothing more is read from the font file
        values: dict[int, bytes] = {}  # every part of a CFF table reads the same file: its bytes taken once
        files: list[Any] = []  # the bytes objects themselves, in the order the pickle refers to them

        def shared(file: io.BytesIO) -> tuple[type[io.BytesIO], tuple[pickle.PickleBuffer]]:
            if id(file) not in values:
                values[id(file)] = file.getvalue()
            return io.BytesIO, (pickle.PickleBuffer(values[id(file)]),)  # out of the pickle (buffer_callback)

        out = io.BytesIO()
        pickler = pickle.Pickler(out, protocol=5, buffer_callback=lambda buffer: files.append(buffer.raw().obj))
        pickler.dispatch_table = {io.BytesIO: shared}  # looked up in C: no Python call for every object
        pickler.dump(tt)
        return cls(out.getvalue(), tuple(files))

    def copy(self) -> Any:
        """A fontTools ``TTFont`` of these tables, as parsed, shared with no other."""
        return pickle.loads(self.pickled, buffers=self.files)  # made by :meth:`of`, in this process


@lru_cache(maxsize=2)
def _font_facts(font: bytes) -> _FontFacts:
    """The facts of the font whose bytes are ``font``.

    Kept by the bytes themselves: the caller passes the same bytes object each time
    (:func:`certdocs._signbox.cjk_font_bytes`), whose hash Python keeps, so a lookup costs nothing.
    """
    import uharfbuzz as hb
    from fontTools import ttLib
    from pyhanko.pdf_utils.font.opentype import _read_ps_name

    tt = ttLib.TTFont(io.BytesIO(font))
    postscript_name, units_per_em, widths = _read_ps_name(tt), tt["head"].unitsPerEm, dict(tt["hmtx"].metrics)
    return _FontFacts(
        face=hb.Face(font),
        postscript_name=postscript_name,
        units_per_em=units_per_em,
        widths=_Widths(widths),
        cff=_ParsedCff.of(tt) if "CFF " in tt else None,
    )


def line_advances(font: bytes, lines: list[str]) -> list[float]:
    """How far each line's text advances, in ems of the font whose bytes are ``font``.

    Shaped by HarfBuzz as pyHanko shapes a signature box's text (``put_string_line``): pyHanko
    lays the box out from these widths, one line under another, and shrinks what does not fit.
    """
    import uharfbuzz as hb

    facts = _font_facts(font)
    hb_font = hb.Font(facts.face)
    return [
        sum(position.x_advance for position in _shaped(hb_font, line).glyph_positions or ()) / facts.units_per_em
        for line in lines
    ]


def _shaped(hb_font: Any, line: str) -> Any:
    """HarfBuzz's buffer of ``line`` shaped in ``hb_font``, as pyHanko's accumulator shapes it (no features)."""
    import uharfbuzz as hb

    buffer = hb.Buffer()
    buffer.add_str(line)
    buffer.guess_segment_properties()
    hb.shape(hb_font, buffer, None)
    return buffer


def notdef_characters(font: bytes, text: str) -> list[str]:
    """The characters of ``text`` the font whose bytes are ``font`` would draw as its empty glyph, each once, in order.

    Shaped line by line by HarfBuzz as pyHanko shapes a signature box's text: a character that
    reaches glyph 0 (``.notdef``) there makes pyHanko's accumulator fail ("invalid literal for
    int()": it reads the CID from the glyph's name) or print an empty box.
    """
    import uharfbuzz as hb

    hb_font = hb.Font(_font_facts(font).face)

    def shaped(line: str) -> list[tuple[int, int]]:
        return [(info.codepoint, info.cluster) for info in _shaped(hb_font, line).glyph_infos]

    found: dict[str, int] = {}  # each character and where it first is, as lines are shaped
    offset = 0
    for line in text.split("\n"):
        glyphs = shaped(line) if line else []
        starts = [*sorted({cluster for _, cluster in glyphs}), len(line)]
        for glyph, cluster in glyphs:
            if glyph != 0:
                continue
            chars = line[cluster : starts[bisect.bisect_right(starts, cluster)]]
            # A cluster of several characters (a letter and its accent): the ones the font lacks alone.
            alone = [char for char in chars if len(chars) > 1 and shaped(char)[0][0] == 0]
            for char in alone or chars:
                found[char] = min(found.get(char, offset + cluster), offset + cluster)
        offset += len(line) + 1
    return sorted(found, key=found.__getitem__)  # a right-to-left run is shaped in visual order
