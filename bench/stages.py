"""certdocs' own CPU per document, stage by stage, on documents LibreOffice made once.

    python bench/stages.py prepare DIR [--audits 12]   # real LibreOffice, once: the inputs
    python bench/stages.py measure DIR [--runs 3]      # no LibreOffice: CPU per stage

``prepare`` issues a synthetic decision meeting (the audits ``make bench`` uses) with the real
LibreOffice converter, keeping a copy of every .docx and of the PDF exactly as LibreOffice
wrote it, before certdocs touched it.

``measure`` issues the same meeting again through the real :class:`~certdocs.pipeline.Issuer`,
with a converter that hands back those stored PDFs for the .docx it is given (found by the
.docx's SHA-256: rendering is reproducible, so the same inputs give the same .docx). The
functions the pipeline calls are wrapped to add up the CPU time (user + system) spent in each:
render (context and template), QR, check (the converter's look at each PDF it made, done here
on the stored PDFs as LibreOfficeConverter does), normalise, merge, register (SQLite and the
hashes recorded in it), fsync (every ``os.fsync`` and directory sync, taken out of the stage
that called it; only their count and waiting are telling). A first run warms the caches, as
the first documents of a long batch do; the figures are the median of ``--runs`` measured
runs, per document. CPU time, unlike wall time, means something on a busy machine. Stage
figures are the CPU of the thread running the stage; the whole-batch figure is the process's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from _common import ROOT, STAGES, TODAY, StageClock, instrumented, synthetic_meeting, yardstick

from certdocs import convert
from certdocs._fs import atomic_write_bytes
from certdocs.batch import run_batch
from certdocs.decisions import load_meeting
from certdocs.errors import ConversionError, Problem
from certdocs.pipeline import Issuer, Workspace
from certdocs.register import Register


class _Replay:
    """A converter that returns the PDF LibreOffice made for the same .docx bytes in ``prepare``."""

    def __init__(self, folder: Path) -> None:
        self.pdfs = {p.stem: p for p in (folder / "raw").glob("*.pdf")}

    def convert(
        self, sources: Sequence[Path], *, outdir: Path, labels: Mapping[Path, str] | None = None
    ) -> dict[Path, Path]:
        done, problems = {}, []
        for source in sources:
            where = (labels or {}).get(source, source.name)
            stored = self.pdfs.get(hashlib.sha256(source.read_bytes()).hexdigest())
            if stored is None:
                problems.append(Problem(where, "no stored PDF for this .docx: run prepare again"))
                continue
            # What LibreOfficeConverter does with each PDF it made: look at it, write it atomically.
            data = stored.read_bytes()
            reason = convert.pdf_problem(data)
            if reason:
                problems.append(Problem(where, reason))
                continue
            out = outdir / f"{source.stem}.pdf"
            atomic_write_bytes(out, data)
            done[source] = out
        if problems:
            raise ConversionError(problems)
        return done


class _Keeping:
    """The real LibreOffice converter, keeping each .docx and its untouched PDF under their hash."""

    def __init__(self, inner: Any, folder: Path) -> None:
        self.inner, self.folder = inner, folder

    def convert(
        self, sources: Sequence[Path], *, outdir: Path, labels: Mapping[Path, str] | None = None
    ) -> dict[Path, Path]:
        done: dict[Path, Path] = self.inner.convert(sources, outdir=outdir, labels=labels)
        for source, pdf in done.items():
            digest = hashlib.sha256(source.read_bytes()).hexdigest()
            shutil.copyfile(source, self.folder / f"{digest}.docx")
            shutil.copyfile(pdf, self.folder / f"{digest}.pdf")
        return done


def _issue(folder: Path, out: Path, converter: Any) -> int:
    meeting = load_meeting(folder / "audits" / "meeting.json")
    ws = Workspace(output=out, register=out / "register.sqlite3", templates=ROOT / "templates")
    with Register.open(ws.register) as register:
        issuer = Issuer(ws, converter=converter, register=register, today=TODAY)
        summary = run_batch(meeting, issuer=issuer, register=register)
    result = summary.to_json()
    if result["failed"]:
        raise SystemExit(f"failed: {result['failed']}")
    return sum(len(i["documents"]) for i in result["issued"])


def prepare(folder: Path, audits: int) -> None:
    from certdocs.convert import LibreOfficeConverter

    (folder / "audits").mkdir(parents=True)
    (folder / "raw").mkdir()
    synthetic_meeting(folder / "audits", audits)
    with tempfile.TemporaryDirectory(prefix="certdocs-stages-") as tmp, LibreOfficeConverter() as converter:
        documents = _issue(folder, Path(tmp) / "out", _Keeping(converter, folder / "raw"))
    print(f"{audits} audits, {documents} documents: .docx and LibreOffice's PDFs in {folder / 'raw'}")


def measure(folder: Path, runs: int) -> dict[str, float]:
    converter = _Replay(folder)
    per_run: list[dict[str, float]] = []
    totals: list[float] = []
    syncs: list[tuple[float, float]] = []
    for run in range(runs + 1):
        clock = StageClock()
        with tempfile.TemporaryDirectory(prefix="certdocs-stages-") as tmp, instrumented(clock):
            start = time.process_time()
            documents = _issue(folder, Path(tmp) / "out", converter)
            total = time.process_time() - start
        if run == 0:
            continue  # warm-up: imports, compiled templates, fonts tables
        per_run.append(clock.per_document(documents))
        totals.append(total / documents * 1000)
        syncs.append((clock.calls["fsync"] / documents, clock.wall["fsync"] / documents * 1000))
    figures = {s: statistics.median(r[s] for r in per_run) for s in STAGES}
    figures["all stages"] = sum(figures[s] for s in STAGES)
    figures["whole batch"] = statistics.median(totals)
    print(f"machine yardstick (fixed Python and zlib work, CPU s, lower is faster): {yardstick():.3f}")
    print(f"certdocs CPU per document, median of {runs} runs, {documents} documents each (ms):")
    for name, value in figures.items():
        print(f"  {name:<12}{value:8.1f}")
    print("  (whole batch: process CPU, with reading and scoring audits and the replaying converter's copies)")
    calls, wall = statistics.median(c for c, _ in syncs), statistics.median(w for _, w in syncs)
    print(f"  fsync calls per document: {calls:.2f}, waiting {wall:.1f} ms (wall: meaningless on a busy machine)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="make the inputs once with real LibreOffice")
    p.add_argument("folder", type=Path)
    p.add_argument("--audits", type=int, default=12)
    m = sub.add_parser("measure", help="CPU per stage on prepared inputs (no LibreOffice)")
    m.add_argument("folder", type=Path)
    m.add_argument("--runs", type=int, default=3)
    m.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.folder, args.audits)
    else:
        figures = measure(args.folder, args.runs)
        if args.json:
            print(json.dumps(figures))


if __name__ == "__main__":
    main()
