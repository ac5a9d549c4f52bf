"""openpyxl's workbook writer with each distinct stylesheet made once: the same bytes.

openpyxl builds the stylesheet part (``xl/styles.xml``) at every save from the workbook's style
lists, through ``Serialisable.to_tree`` for every font, fill, border and cell style: a tenth of
making a workbook, more of saving one already made. The workbooks certdocs makes for a scheme have
the same few style lists, and so do the copies the tests type into; :class:`PackageWriter` keeps
the part's XML by what decides it, the lists' contents pickled, and makes it only for lists not
seen before. ``tests/test_workbook_package.py`` compares the kept XML with openpyxl's.
"""

from __future__ import annotations

import pickle
from typing import Any

from openpyxl import Workbook
from openpyxl.packaging.extended import ExtendedProperties
from openpyxl.styles.stylesheet import write_stylesheet
from openpyxl.workbook._writer import WorkbookWriter
from openpyxl.writer.excel import ExcelWriter
from openpyxl.writer.theme import theme_xml
from openpyxl.xml.constants import (
    ARC_APP,
    ARC_CORE,
    ARC_CUSTOM,
    ARC_ROOT_RELS,
    ARC_STYLE,
    ARC_THEME,
    ARC_WORKBOOK,
    ARC_WORKBOOK_RELS,
    CPROPS_TYPE,
)
from openpyxl.xml.functions import tostring

from certdocs._kept import Kept

_STYLESHEETS: Kept[bytes] = Kept(entries=32, budget=4 << 20)


def stylesheet_xml(wb: Workbook) -> bytes:
    """``xl/styles.xml`` as openpyxl writes it for ``wb`` now (``tostring(write_stylesheet(wb))``)."""
    key = _styles(wb)
    if key is None:
        return bytes(tostring(write_stylesheet(wb)))
    xml = _STYLESHEETS.get(key)
    if xml is None:
        xml = bytes(tostring(write_stylesheet(wb)))
        _STYLESHEETS.put(key, xml, size=len(key) + len(xml))
    return xml


def _styles(wb: Workbook) -> bytes | None:
    """Everything ``write_stylesheet`` reads of ``wb``, pickled; ``None`` when some of it does not pickle.

    Pickling keeps every attribute of every object, so the same bytes mean the same lists, and
    ``write_stylesheet`` writes the same XML for them. (The converse need not hold: lists that are
    equal but pickle differently only cost a stylesheet made again.) A cell style is an array of
    indices, which openpyxl changes in place when a cell's number format changes, hence its bytes
    now rather than the object; a named style is taken only for what the stylesheet writes of it
    (it refers to its workbook).
    """
    named = [(s.name, s.builtinId, s.hidden, s._style.tobytes(), s.alignment, s.protection) for s in wb._named_styles]
    what: tuple[Any, ...] = (
        [style.tobytes() for style in wb._cell_styles],
        list(wb._fonts),
        list(wb._fills),
        list(wb._borders),
        list(wb._alignments),
        list(wb._protections),
        list(wb._number_formats),
        named,
        list(wb._differential_styles.styles),
        wb._colors,
        wb._table_styles,
    )
    try:
        return pickle.dumps(what, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


class PackageWriter(ExcelWriter):  # type: ignore[misc]
    """openpyxl's ``ExcelWriter`` (3.1), its stylesheet from :func:`stylesheet_xml`."""

    def write_data(self) -> None:
        # ExcelWriter.write_data (openpyxl 3.1) but for where the stylesheet's XML comes from.
        archive = self._archive
        archive.writestr(ARC_APP, tostring(ExtendedProperties().to_tree()))
        archive.writestr(ARC_CORE, tostring(self.workbook.properties.to_tree()))
        archive.writestr(ARC_THEME, self.workbook.loaded_theme or theme_xml)
        if len(self.workbook.custom_doc_props) >= 1:
            archive.writestr(ARC_CUSTOM, tostring(self.workbook.custom_doc_props.to_tree()))
            self.manifest.append(_CustomOverride())
        self._write_worksheets()
        self._write_chartsheets()
        self._write_images()
        self._write_charts()
        self._write_external_links()
        archive.writestr(ARC_STYLE, stylesheet_xml(self.workbook))
        writer = WorkbookWriter(self.workbook)
        archive.writestr(ARC_ROOT_RELS, writer.write_root_rels())
        archive.writestr(ARC_WORKBOOK, writer.write())
        archive.writestr(ARC_WORKBOOK_RELS, writer.write_rels())
        self._merge_vba()
        self.manifest._write(archive, self.workbook)


class _CustomOverride:
    """The manifest's entry for the custom document properties, as openpyxl makes it."""

    path = "/" + ARC_CUSTOM
    mime_type = CPROPS_TYPE
