"""What the benchmarks share: the synthetic decision meeting, and CPU time per pipeline stage."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from stdnum.cn import uscc

from certdocs import _fs, _issue_job, documents, pipeline

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 22)
SOURCES = ["fw01-2021/pass.json", "xbht-s04-2025/pass.json", "bjkb-006-2026/pass.json", "bz-ts1008-2025/pass.json"]
CITIES = ["杭州", "宁波", "苏州", "无锡", "合肥", "南昌", "长沙", "武汉", "成都", "重庆"]


def synthetic_meeting(folder: Path, count: int) -> Path:
    """``count`` approved audits made from the bundled fixtures, each a different organisation."""
    decisions = []
    for n in range(count):
        doc = json.loads((ROOT / "fixtures" / SOURCES[n % len(SOURCES)]).read_text(encoding="utf-8"))
        base = f"913301{n:04d}MA2CF{n % 10}Y8"[:17]
        doc["organization"]["uscc"] = base + uscc.calc_check_digit(base)
        doc["organization"]["name"] = f"{CITIES[n % len(CITIES)]}第{n + 1}号售后服务示范有限公司"
        path = folder / f"audit-{n:03d}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        decisions.append({"audit": path.name, "decision": "approve"})
    meeting = folder / "meeting.json"
    meeting.write_text(
        json.dumps(
            {"meeting": "基准测试认证决定会议", "date": "2026-11-20", "decisions": decisions}, ensure_ascii=False
        ),
        encoding="utf-8",
    )
    return meeting


STAGES = ("render", "qr", "check", "glyphs", "normalise", "merge", "register", "fsync")


class StageClock:
    """CPU seconds of the calling thread per stage; an inner stage is taken out of the outer one.

    Thread time, not process time: the converter's thread runs beside the stages.
    """

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.wall = dict.fromkeys(STAGES, 0.0)  # wall seconds, inner stages included (fsync's waiting)
        self.calls = dict.fromkeys(STAGES, 0)
        self._lock = threading.Lock()
        self._local = threading.local()  # each thread's stack: [stage, CPU start, wall start, inner CPU]

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        stack: list[list[Any]] = self._local.__dict__.setdefault("stack", [])
        frame: list[Any] = [name, time.thread_time(), time.perf_counter(), 0.0]
        stack.append(frame)
        try:
            yield
        finally:
            stack.pop()
            spent = time.thread_time() - frame[1]
            with self._lock:
                self.seconds[name] += spent - frame[3]
                self.wall[name] += time.perf_counter() - frame[2]
                self.calls[name] += 1
            if stack:
                stack[-1][3] += spent

    def per_document(self, documents: int) -> dict[str, float]:
        """Milliseconds per document, stage by stage."""
        return {s: self.seconds[s] / documents * 1000 for s in STAGES}

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return function(*args, **kwargs)

        return timed


def instrumented(clock: StageClock) -> contextlib.ExitStack:
    """Wrap what the pipeline calls, by stage; undone when the stack closes."""
    from certdocs.register import Register as RegisterClass

    stack = contextlib.ExitStack()

    def patch(owner: Any, attribute: str, stage: str) -> None:
        original = getattr(owner, attribute)
        setattr(owner, attribute, clock.wrap(stage, original))
        stack.callback(setattr, owner, attribute, original)

    from certdocs import convert

    patch(convert, "pdf_problem", "check")  # the converter's look at each PDF it made
    for attribute, stage in (
        ("build_context", "render"),
        ("render_docx", "render"),
        ("qr_png", "qr"),
        ("check_printable", "glyphs"),  # the glyph and one-page checks, where the pipeline has them
        ("check_pdfs", "glyphs"),
        ("normalize_pdf", "normalise"),
        ("merge_issue_pack", "merge"),
        ("sha256_file", "register"),  # the hashes recorded with each document
    ):
        # Issuing calls these from the pipeline, its jobs and the one document stage.
        for module in (pipeline, _issue_job, documents):
            if hasattr(module, attribute):
                patch(module, attribute, stage)
    for attribute in ("reserve", "get", "complete", "find_by_key", "find_current", "documents_of", "supersede"):
        patch(RegisterClass, attribute, "register")
    patch(os, "fsync", "fsync")
    for attribute in ("sync_files", "fsync_directory"):  # grouped durability, once the pipeline uses it
        if hasattr(_fs, attribute):
            patch(_fs, attribute, "fsync")
    return stack


def yardstick() -> float:
    """CPU seconds of a fixed piece of Python and zlib work: how fast this machine is right now.

    A shared host's speed moves by a third between runs; CPU per document is comparable between
    runs only next to this figure.
    """
    data = bytes(range(256)) * 4096
    start = time.process_time()
    total = 0
    for n in range(3_000_000):
        total += n & 7
    for _ in range(20):
        zlib.compress(data, 6)
    return time.process_time() - start
