"""How long LibreOffice takes for N Chinese documents, batched three ways.

    python bench/bench_convert.py [-n 20]

1. one soffice process per document (command driver, chunk_size=1, one worker);
2. one soffice call for all documents (command driver, one worker, one chunk);
3. two soffice calls side by side, the documents split in two chunks (command driver);
4. two long-lived soffice processes fed one document at a time through UNO (the default).

Each way runs twice on the same converter: "cold" includes creating the workers'
LibreOffice profiles, "warm" reuses them (what a batch of many audits sees).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from certdocs.convert import LibreOfficeConverter


def make_documents(folder: Path, count: int) -> list[Path]:
    """``count`` one-page Chinese certificates in 宋体 and 黑体."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    paths = []
    for n in range(count):
        document = Document()
        for text, font, size in (
            (f"售后服务成熟度认证证书 测试 {n}", "宋体", 22),
            ("认证机构：北京新标恒通认证有限公司", "黑体", 12),
            ("兹证明杭州某电器股份有限公司的家用空调器产品售后服务符合标准要求。", "宋体", 12),
        ):
            run = document.add_paragraph().add_run(text)
            run.font.name, run.font.size = font, Pt(size)
            properties = run._element.get_or_add_rPr()
            properties.get_or_add_rFonts().set(qn("w:eastAsia"), font)
            lang = OxmlElement("w:lang")
            lang.set(qn("w:eastAsia"), "zh-CN")
            properties.append(lang)
        path = folder / f"证书{n:03d}.docx"
        document.save(str(path))
        paths.append(path)
    return paths


def timed(converter: LibreOfficeConverter, sources: list[Path], outdir: Path) -> float:
    start = time.perf_counter()
    converter.convert(sources, outdir=outdir)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="number of documents (default 20)")
    count = parser.parse_args().n
    ways = {
        "one soffice per document": {"driver": "command", "workers": 1, "chunk_size": 1},
        "one call with all": {"driver": "command", "workers": 1, "chunk_size": count},
        "2 calls, 2 chunks": {"driver": "command", "workers": 2, "chunk_size": -(-count // 2)},
        "2 UNO workers": {"driver": "uno", "workers": 2},
    }
    print(f"{count} documents, {os.cpu_count()} CPUs")
    print(f"{'way':<28}{'cold s':>8}{'warm s':>8}{'warm s/doc':>12}")
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        sources = make_documents(Path(tmp), count)
        for name, options in ways.items():
            with LibreOfficeConverter(**options) as converter:
                cold = timed(converter, sources, Path(tmp) / "cold")
                warm = timed(converter, sources, Path(tmp) / "warm")
            print(f"{name:<28}{cold:>8.1f}{warm:>8.1f}{warm / count:>12.2f}")


if __name__ == "__main__":
    main()
