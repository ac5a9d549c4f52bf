"""`make bench`: the speed and memory of batch issuing, measured in one run.

1. A decision meeting of 100 synthetic approved audits (all four schemes, four documents each)
   is issued into a temporary folder with the real LibreOffice converter: documents per second
   and the peak memory of certdocs and its LibreOffice processes together.
2. A sample of the same .docx files converted one soffice call per document.
3. All the same .docx files converted raw, in parallel, with nothing else around it: two
   ``soffice --convert-to`` calls side by side (the issue's measure), and the batch's own
   driver alone (long-lived LibreOffice processes fed through UNO).
4. The regeneration check over 1,000 registered certificates with nothing changed.
5. certdocs' own CPU per document during the batch, stage by stage (render, QR, normalise,
   merge, register, fsync): see bench/stages.py, which measures the same without LibreOffice.

    python bench/run.py [--audits 100] [--sample 8] [--register-size 1000] [--register postgresql://…]

With ``--register postgresql://…`` parts 1 and 4 keep their registers in that PostgreSQL
database, each in a scratch schema made for the run and dropped after it (the database's own
tables are not touched); otherwise in SQLite files in the temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import ROOT, STAGES, TODAY, StageClock, instrumented, synthetic_meeting, yardstick

from certdocs._fs import sha256_file
from certdocs.batch import run_batch
from certdocs.convert import LibreOfficeConverter
from certdocs.decisions import load_meeting
from certdocs.pipeline import Issuer, Workspace
from certdocs.regenerate import plan
from certdocs.register import CertificateFacts, NewDocument, Register


class PeakMemory:
    """Samples the resident memory of this process and all its descendants (from /proc)."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval, self.peak, self.peak_pss = interval, 0, 0
        self.cpu = 0.0  # the sampler's own CPU, to take out of the batch's
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss = _tree_memory(os.getpid())
            self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)
            self.cpu = time.thread_time()
            time.sleep(self.interval)


def _tree_memory(root: int) -> tuple[int, int]:
    """Resident memory of ``root`` and its descendants: summed RSS, and summed PSS.

    RSS counts the pages two processes share (LibreOffice's libraries, the fonts) in each of
    them; PSS divides them among their users, so the PSS sum is what the tree takes from the
    machine.
    """
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(stat[1]), []).append(int(entry.name))
    rss = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return rss, pss


@contextlib.contextmanager
def scratch_register(folder: Path, url: str | None) -> Iterator[Path | str]:
    """An empty register for one part: an SQLite file in ``folder``, or a scratch schema at ``url``."""
    if url is None:
        yield folder / "register.sqlite3"
        return
    import psycopg

    schema = f"certdocs_bench_{folder.name}_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def bench_batch(tmp: Path, audits: int, register_url: str | None = None) -> dict[str, Any]:
    (tmp / "audits").mkdir()
    meeting = load_meeting(synthetic_meeting(tmp / "audits", audits))
    clock = StageClock()
    with (
        scratch_register(tmp / "out", register_url) as target,
        PeakMemory() as memory,
        LibreOfficeConverter() as converter,
        Register.open(target, documents_root=tmp / "out") as register,
        instrumented(clock),
    ):
        ws = Workspace(output=tmp / "out", register=target, templates=ROOT / "templates")
        start, cpu = time.perf_counter(), time.process_time()
        summary = run_batch(
            meeting, issuer=Issuer(ws, converter=converter, register=register, today=TODAY), register=register
        )
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    # The bridges (certdocs' code in LibreOffice's Python) report their CPU when they end.
    bridges = converter._pool.bridge_seconds if converter._pool is not None else 0.0
    starts = converter._pool.starts if converter._pool is not None else 0
    result = summary.to_json()
    assert not result["failed"], result["failed"]
    documents = sum(len(i["documents"]) for i in result["issued"])
    return {
        "documents": documents,
        "seconds": seconds,
        "peak_bytes": memory.peak,
        "peak_pss": memory.peak_pss,
        "stages": clock.per_document(documents),
        # Everything certdocs' process did during the batch (every thread, audits read and scored,
        # the stages), less this benchmark's memory sampler, plus the bridges.
        "all_ms": (cpu - memory.cpu + bridges) / documents * 1000,
        "bridge_ms": bridges / documents * 1000,
        "starts": starts,
    }


def bench_one_per_document(docx: list[Path], tmp: Path) -> float:
    """Seconds per document with one soffice call per document (a warm profile, as a user would have)."""
    with LibreOfficeConverter(driver="command", workers=1, chunk_size=1) as converter:
        converter.convert(docx[:1], outdir=tmp / "warm")
        start = time.perf_counter()
        converter.convert(docx, outdir=tmp / "single")
        return (time.perf_counter() - start) / len(docx)


def bench_raw_parallel(docx: list[Path], tmp: Path) -> float:
    """Seconds for the documents converted raw as the issue measures it: two soffice calls side by side.

    Two ``soffice --convert-to`` calls with their own new profiles, each with half of the files,
    the same PDF/A-2b export options; nothing of certdocs around them.
    """
    with LibreOfficeConverter(driver="command", workers=2, chunk_size=-(-len(docx) // 2)) as converter:
        start = time.perf_counter()
        converter.convert(docx, outdir=tmp / "raw")
        return time.perf_counter() - start


def bench_raw_uno(docx: list[Path], tmp: Path) -> float:
    """Seconds for the documents converted raw by the batch's own driver (long-lived soffice, one per core)."""
    with LibreOfficeConverter() as converter:
        start = time.perf_counter()
        converter.convert(docx, outdir=tmp / "raw-uno")
        return time.perf_counter() - start


def bench_regeneration_check(tmp: Path, size: int, template_folder: Path, register_url: str | None = None) -> float:
    """Seconds for the regeneration check over ``size`` registered certificates, nothing changed."""
    with scratch_register(tmp / "reg", register_url) as target:
        ws = Workspace(output=tmp / "reg", register=target, templates=template_folder)
        return _regeneration_check(ws, tmp, size, template_folder)


def _regeneration_check(ws: Workspace, tmp: Path, size: int, template_folder: Path) -> float:
    audit = ROOT / "fixtures" / "xbht-s04-2025" / "pass.json"
    from certdocs.profile import profile_for_scheme
    from certdocs.scheme import get_scheme

    profile, scheme = profile_for_scheme("xbht-s04-2025"), get_scheme("xbht-s04-2025")
    built = {"audit": sha256_file(audit), "scheme": scheme.digest, "profile": profile.digest, "certdocs": "bench"}
    placeholder = tmp / "reg" / "doc.pdf"
    placeholder.parent.mkdir(parents=True)
    placeholder.write_bytes(b"%PDF-1.7\n")
    digest = sha256_file(placeholder)
    with Register.open(ws.register, documents_root=ws.output) as register:
        for n in range(size):
            facts = CertificateFacts(
                f"组织{n}",
                f"91330100MA{n:07d}",
                "xbht-s04-2025",
                "四星级",
                4,
                None,
                None,
                TODAY,
                TODAY,
                date(2029, 11, 21),
                "基准",
                TODAY,
                audit,
                built["audit"],
                "initial",
                TODAY,
                Decimal(3),
            )
            number = register.reserve(f"k{n}", pattern="BENCH-{year}-{serial:05d}", year=2026, facts=facts).number
            docs = [
                NewDocument(
                    f"{k}.{s}",
                    placeholder,
                    digest,
                    built | {"template": sha256_file(template_folder / profile.templates[k])},
                )
                for k in ("audit_plan", "scoresheet", "report", "certificate")
                for s in ("docx", "pdf")
            ]
            register.complete(number, documents=[*docs, NewDocument("issue_pack.pdf", placeholder, digest, built)])
        start = time.perf_counter()
        changes = plan(workspace=ws, register=register, today=TODAY)
        seconds = time.perf_counter() - start
    assert changes == [], changes[:1]
    return seconds


@dataclass(frozen=True)
class Goals:
    """One batch's figures against issue 13's goals."""

    audits: int
    ratio: float  # the batch's time over the raw two-call conversion of the same files
    stages_ms: float  # certdocs' CPU a document, the stages
    all_ms: float  # certdocs' CPU a document, everything (threads, reading, bridges)
    peak_mib: float  # summed RSS of certdocs and its LibreOffice processes

    def line(self) -> str:
        """The goals, each with this batch's figure and whether it is met."""

        def mark(met: bool) -> str:
            return "达到" if met else "未达到"

        return (
            f"  {self.audits} 份审核结果：批量为原始并行转换的 {self.ratio:.3f} 倍"
            f"（目标 ≤ 1.1，{mark(self.ratio <= 1.1)}）；"
            f"certdocs CPU 各阶段 {self.stages_ms:.1f} 毫秒/份（目标 ≤ 30，{mark(self.stages_ms <= 30)}），"
            f"全部 {self.all_ms:.1f}（{mark(self.all_ms <= 30)}）；内存峰值 {self.peak_mib:.0f} MiB"
            f"（目标 < 1024，{mark(self.peak_mib < 1024)}）"
        )


def report(audits: int, args: argparse.Namespace, tmp: Path) -> Goals:
    """Issue ``audits`` synthetic audits, convert the same .docx raw and one call each; print the figures."""
    batch = bench_batch(tmp, audits, args.register)
    docx = sorted((tmp / "out").glob("*/*.docx"))
    copies = tmp / "docx"
    copies.mkdir()
    raw_sources = [Path(shutil.copy(p, copies / f"{p.parent.name}-{p.name}")) for p in docx]
    per_doc_single = bench_one_per_document(raw_sources[:: max(1, len(raw_sources) // args.sample)][: args.sample], tmp)
    raw = bench_raw_parallel(raw_sources, tmp)
    raw_uno = bench_raw_uno(raw_sources, tmp)
    per_doc = batch["seconds"] / batch["documents"]
    print(
        f"批量发证：{audits} 份审核结果，{batch['documents']} 份文件，用时 {batch['seconds']:.1f} 秒，"
        f"{batch['documents'] / batch['seconds']:.2f} 份/秒（{per_doc:.3f} 秒/份）"
    )
    print(f"  LibreOffice 启动次数（含因内存超限的重启）：{batch['starts']}")
    print(
        f"  内存峰值（certdocs 与 LibreOffice 进程合计）：RSS 之和 {batch['peak_bytes'] / 2**20:.0f} MiB，"
        f"PSS 之和（共享页只计一次）{batch['peak_pss'] / 2**20:.0f} MiB"
    )
    print(
        f"  逐份调用 soffice（抽样 {args.sample} 份）：{per_doc_single:.3f} 秒/份"
        f" → 流水线快 {per_doc_single / per_doc:.1f} 倍"
    )
    print(
        f"  同一批 .docx 直接并行转换（两个 soffice --convert-to 并行，各转一半）：{raw:.1f} 秒"
        f" → 流水线为其 {batch['seconds'] / raw:.2f} 倍"
    )
    print(
        f"  同一批 .docx 由同样的常驻 LibreOffice（UNO，每核一个）直接转换：{raw_uno:.1f} 秒"
        f" → 流水线为其 {batch['seconds'] / raw_uno:.2f} 倍"
    )
    stages = batch["stages"]
    print(
        "  certdocs 自身 CPU（毫秒/份，不含 LibreOffice）："
        + "，".join(f"{name} {stages[name]:.1f}" for name in STAGES)
        + f"；合计 {sum(stages.values()):.1f}"
    )
    print(
        f"  certdocs 全部 CPU（毫秒/份：进程内所有线程，含读取与评分，另加 UNO 桥接进程 {batch['bridge_ms']:.1f}）："
        f"{batch['all_ms']:.1f}"
    )
    return Goals(
        audits=audits,
        ratio=batch["seconds"] / raw,
        stages_ms=sum(stages.values()),
        all_ms=batch["all_ms"],
        peak_mib=batch["peak_bytes"] / 2**20,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audits", type=int, nargs="+", default=[40, 100], help="batch sizes, one run each")
    parser.add_argument("--sample", type=int, default=8, help="documents converted one soffice call each")
    parser.add_argument("--register-size", type=int, default=1000)
    parser.add_argument("--register", default=None, help="postgresql://… to measure with a PostgreSQL register")
    args = parser.parse_args()
    print(f"登记簿：{'PostgreSQL' if args.register else 'SQLite'}")
    print(f"本机速度基准（固定的 Python 与 zlib 计算，CPU 秒，越小越快）：{yardstick():.3f}")
    goals = []
    for audits in args.audits:
        with tempfile.TemporaryDirectory(prefix="certdocs-bench-") as name:
            goals.append(report(audits, args, Path(name)))
    with tempfile.TemporaryDirectory(prefix="certdocs-bench-") as name:
        check = bench_regeneration_check(Path(name), args.register_size, ROOT / "templates", args.register)
    print(f"重新生成检查（{args.register_size} 张证书，无改动）：{check:.3f} 秒")
    print(f"本机速度基准（结束时）：{yardstick():.3f}")
    print("issue 13 的目标：")
    for batch in goals:
        print(batch.line())


if __name__ == "__main__":
    main()
