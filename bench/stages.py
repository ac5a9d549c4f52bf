"""certdocs' own CPU per document, stage by stage, on documents LibreOffice made once.

    python bench/stages.py prepare DIR [--audits 12]   # real LibreOffice, once: the inputs
    python bench/stages.py measure DIR [--runs 3]      # no LibreOffice: CPU per stage

``prepare`` issues a synthetic decision meeting (the audits ``make bench`` uses) with the real
LibreOffice converter, keeping a copy of every .docx and of the PDF exactly as LibreOffice
wrote it, before certdocs touched it.

``measure`` issues the same meeting again through the real :class:`~certdocs.pipeline.Issuer`,
with a converter that hands back those stored PDFs for the .docx it is given (found by the
.docx's SHA-256: rendering is reproducible, so the same inputs give the same .docx). The
functions the pipeline calls are wrapped to add up the process CPU time (user + system) spent
in each: render (context and template), QR, normalise, merge, register (SQLite and the hashes
recorded in it), fsync (every ``os.fsync`` and directory sync, taken out of the stage that
called it; only their count and waiting are telling). A first run warms the caches, as the
first documents of a long batch do; the figures are the median of ``--runs`` measured runs,
per document. CPU time, unlike wall time, means something on a busy machine. Stage figures are
the CPU of the thread running the stage; the whole-batch figure is the process's.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import ROOT, TODAY, synthetic_meeting

from certdocs import _fs, pipeline
from certdocs.batch import run_batch
from certdocs.decisions import load_meeting
from certdocs.errors import ConversionError, Problem
from certdocs.pipeline import Issuer, Workspace
from certdocs.register import Register

STAGES = ("render", "qr", "normalise", "merge", "register", "fsync")


class _Clock:
    """CPU seconds of the calling thread per stage; an inner stage is taken out of the outer one.

    Thread time, not process time: the converter's thread runs beside the stages.
    """

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.wall = dict.fromkeys(STAGES, 0.0)  # wall seconds, inner stages included (fsync's waiting)
        self.calls = dict.fromkeys(STAGES, 0)
        self._stack: list[list[Any]] = []  # [stage, CPU start, wall start, CPU spent in inner stages]

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        frame: list[Any] = [name, time.thread_time(), time.perf_counter(), 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            spent = time.thread_time() - frame[1]
            self.seconds[name] += spent - frame[3]
            self.wall[name] += time.perf_counter() - frame[2]
            self.calls[name] += 1
            if self._stack:
                self._stack[-1][3] += spent

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return function(*args, **kwargs)

        return timed


class _Replay:
    """A converter that returns the PDF LibreOffice made for the same .docx bytes in ``prepare``."""

    def __init__(self, folder: Path) -> None:
        self.pdfs = {p.stem: p for p in (folder / "raw").glob("*.pdf")}

    def convert(self, sources: Sequence[Path], *, outdir: Path) -> dict[Path, Path]:
        done, problems = {}, []
        for source in sources:
            stored = self.pdfs.get(hashlib.sha256(source.read_bytes()).hexdigest())
            if stored is None:
                problems.append(Problem(source.name, "no stored PDF for this .docx: run prepare again"))
                continue
            out = outdir / f"{source.stem}.pdf"
            shutil.copyfile(stored, out)
            done[source] = out
        if problems:
            raise ConversionError(problems)
        return done


class _Keeping:
    """The real LibreOffice converter, keeping each .docx and its untouched PDF under their hash."""

    def __init__(self, inner: Any, folder: Path) -> None:
        self.inner, self.folder = inner, folder

    def convert(self, sources: Sequence[Path], *, outdir: Path) -> dict[Path, Path]:
        done: dict[Path, Path] = self.inner.convert(sources, outdir=outdir)
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


def _instrumented(clock: _Clock) -> contextlib.ExitStack:
    """Wrap what the pipeline calls, by stage; undone when the stack closes."""
    from certdocs.register import Register as RegisterClass

    stack = contextlib.ExitStack()

    def patch(owner: Any, attribute: str, stage: str) -> None:
        original = getattr(owner, attribute)
        setattr(owner, attribute, clock.wrap(stage, original))
        stack.callback(setattr, owner, attribute, original)

    for attribute, stage in (
        ("build_context", "render"),
        ("render_docx", "render"),
        ("qr_png", "qr"),
        ("normalize_pdf", "normalise"),
        ("merge_issue_pack", "merge"),
        ("sha256_file", "register"),  # the hashes recorded with each document
    ):
        if hasattr(pipeline, attribute):
            patch(pipeline, attribute, stage)
    for attribute in ("reserve", "get", "complete", "find_by_key", "find_current", "documents_of", "supersede"):
        patch(RegisterClass, attribute, "register")
    patch(os, "fsync", "fsync")
    for attribute in ("fsync_directory", "sync_group"):  # grouped durability, where the pipeline uses it
        if hasattr(_fs, attribute):
            patch(_fs, attribute, "fsync")
    return stack


def measure(folder: Path, runs: int) -> dict[str, float]:
    converter = _Replay(folder)
    per_run: list[dict[str, float]] = []
    totals: list[float] = []
    syncs: list[tuple[float, float]] = []
    for run in range(runs + 1):
        clock = _Clock()
        with tempfile.TemporaryDirectory(prefix="certdocs-stages-") as tmp, _instrumented(clock):
            start = time.process_time()
            documents = _issue(folder, Path(tmp) / "out", converter)
            total = time.process_time() - start
        if run == 0:
            continue  # warm-up: imports, compiled templates, fonts tables
        per_run.append({s: clock.seconds[s] / documents * 1000 for s in STAGES})
        totals.append(total / documents * 1000)
        syncs.append((clock.calls["fsync"] / documents, clock.wall["fsync"] / documents * 1000))
    figures = {s: statistics.median(r[s] for r in per_run) for s in STAGES}
    figures["all stages"] = sum(figures[s] for s in STAGES)
    figures["whole batch"] = statistics.median(totals)
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
