"""One real LibreOffice converter per test process, lent to the tests that only convert.

Starting LibreOffice costs about 2 s of CPU; the modules whose fixtures issue documents with
real LibreOffice share this one (a long-lived UNO worker, its caches capped as in a batch)
instead of each starting their own. Tests about the converter itself (starts, kills,
timeouts, separate runs) still make their own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from certdocs.convert import LibreOfficeConverter


class LentConverter:
    """The session's converter as a borrower sees it: closing it is the session's job, not theirs."""

    def __init__(self, converter: LibreOfficeConverter) -> None:
        self.converter = converter

    def convert(
        self, sources: Sequence[Path], *, outdir: Path, labels: Mapping[Path, str] | None = None
    ) -> dict[Path, Path]:
        return self.converter.convert(sources, outdir=outdir, labels=labels)

    @property
    def group_size(self) -> int:
        return self.converter.group_size

    def warm_up(self) -> None:
        self.converter.warm_up()

    def close(self) -> None:
        """Does nothing: the converter outlives the borrower."""

    def __enter__(self) -> LentConverter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.fixture(scope="session")
def libreoffice_converter() -> Iterator[LentConverter]:
    """This test process's LibreOffice converter (one worker: pytest-xdist runs one process per core)."""
    from certdocs.convert import LibreOfficeConverter

    converter = LibreOfficeConverter(workers=1)
    try:
        yield LentConverter(converter)
    finally:
        converter.close()
