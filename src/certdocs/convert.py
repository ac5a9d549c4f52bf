"""Word documents to PDF: the :class:`Converter` interface, LibreOffice behind it, and a fake.

LibreOffice needs about a second of CPU to start (two with a fresh profile), so
:class:`LibreOfficeConverter` never starts one process per document. Where LibreOffice's own
Python (Debian's python3-uno) is installed it keeps one soffice per worker alive for as long
as the converter lives and feeds it one document at a time through UNO from a shared queue
(``_soffice_uno``); otherwise it splits the documents into chunks and converts each chunk
with one ``soffice --convert-to`` call, a few such calls side by side, each with a profile of
its own. The fast double for unit tests of the layers above is
:class:`certdocs.testing.FakeConverter`.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import weakref
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from certdocs._fs import atomic_write_bytes
from certdocs._soffice_uno import UnoPool, find_uno_python, seed_profile
from certdocs.errors import ConversionError, Problem

INSTALL_HINT = "apt-get install -y libreoffice-writer-nogui fonts-noto-cjk"
UNO_HINT = "apt-get install -y python3-uno"
FONTS_CONF = Path(__file__).resolve().parent / "fonts" / "fonts.conf"

#: writer_pdf_Export settings; LibreOffice 7.4 takes them as JSON after the filter name.
PDF_EXPORT_OPTIONS: Mapping[str, bool | int] = {
    # PDF/A-2b: every font embedded (even the 14 standard ones), sRGB output intent.
    "SelectPdfVersion": 2,
    "EmbedStandardFonts": True,
    # Keep images as the template made them: a QR code downsampled to 300 dpi and
    # JPEG-compressed (LibreOffice's defaults) prints with blurred modules.
    "ReduceImageResolution": False,
    "UseLosslessCompression": True,
}


class Converter(Protocol):
    """Turns Word documents into PDFs.

    Only :meth:`convert` is required. Two optional members are used where present (looked up
    with ``getattr``, so a converter written for an older certdocs still works): ``group_size``,
    how many documents the document stage hands over at a time (default 40), and ``warm_up()``,
    called once the first audit needs documents written, to start ahead of the work.
    """

    def convert(
        self, sources: Sequence[Path], *, outdir: Path, labels: Mapping[Path, str] | None = None
    ) -> dict[Path, Path]:
        """Map each source to ``outdir / (stem + ".pdf")``; :class:`ConversionError` if any fails.

        Each PDF is written atomically (temporary file and rename) but not synced: a converted
        PDF is an intermediate the caller normalises and makes durable where it keeps it.

        ``labels`` name the sources for office staff (for example "audits/a.json 的认证证书"):
        a failure is reported under its source's label rather than a temporary file's name.
        """
        ...


def pdf_export_filter(options: Mapping[str, bool | int | str]) -> str:
    """The ``--convert-to`` argument for writer_pdf_Export with ``options``."""
    typed = {}
    for name, value in options.items():
        if isinstance(value, bool):
            typed[name] = {"type": "boolean", "value": "true" if value else "false"}
        elif isinstance(value, int):
            typed[name] = {"type": "long", "value": str(value)}
        else:
            typed[name] = {"type": "string", "value": value}
    return "pdf:writer_pdf_Export:" + json.dumps(typed, ensure_ascii=False, separators=(",", ":"))


def find_soffice(soffice: str | Path | None = None) -> Path:
    """The LibreOffice executable: ``soffice`` as given, else ``soffice``/``libreoffice`` on PATH."""
    candidates = [str(soffice)] if soffice is not None else ["soffice", "libreoffice"]
    for name in candidates:
        found = shutil.which(name)
        if found:
            return Path(found)
    where = str(soffice) if soffice is not None else "soffice"
    raise ConversionError([Problem(where, f"找不到 LibreOffice，请先安装：{INSTALL_HINT}")])


@dataclass(frozen=True)
class _Call:
    """What one soffice call did."""

    returncode: int | None
    timed_out: bool
    stderr: str

    @property
    def crashed(self) -> bool:
        return not self.timed_out and self.returncode != 0


class LibreOfficeConverter:
    """Converts with LibreOffice headless: a few soffice processes, many documents each.

    Each worker owns a profile directory (``-env:UserInstallation``) that lives as long as
    the converter, so only the first call of a worker pays for creating it. ``driver``
    chooses how soffice is driven: ``"uno"`` (long-lived processes, needs python3-uno),
    ``"command"`` (one ``--convert-to`` call per chunk) or ``"auto"`` (UNO when available).
    A long-lived soffice is restarted once its resident memory passes ``recycle_above``
    bytes (0: never).
    Use it as a context manager, or call :meth:`close`, to stop LibreOffice and remove the
    profiles.
    """

    def __init__(
        self,
        *,
        soffice: str | Path | None = None,
        workers: int | None = None,
        chunk_size: int = 20,
        timeout: float = 300.0,
        export_options: Mapping[str, bool | int | str] | None = None,
        driver: Literal["auto", "uno", "command"] = "auto",
        recycle_above: int = 480 * 2**20,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.soffice = find_soffice(soffice)
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.chunk_size = chunk_size
        self.timeout = timeout  # seconds per soffice call; with UNO, per document
        options = PDF_EXPORT_OPTIONS if export_options is None else export_options
        self.export_filter = pdf_export_filter(options)
        python = find_uno_python(self.soffice) if driver != "command" else None
        if driver == "uno" and python is None:
            problem = Problem(str(self.soffice), f"找不到 LibreOffice 的 Python（UNO），请先安装：{UNO_HINT}")
            raise ConversionError([problem])
        self.driver: Literal["uno", "command"] = "uno" if python is not None else "command"
        self._root = Path(tempfile.mkdtemp(prefix="certdocs-soffice-"))
        # LibreOffice's own temporary folders (lu*.tmp) inside ours: a soffice killed on a time-out
        # cannot remove its own, and ours goes with close().
        self._tmp = self._root / "tmp"
        self._tmp.mkdir()
        self._pool: UnoPool | None = None
        if python is not None:
            self._pool = UnoPool(
                python=python,
                soffice=self.soffice,
                workers=self.workers,
                root=self._root,
                options=json.dumps(dict(options), ensure_ascii=False),
                timeout=lambda: self.timeout,
                env={"FONTCONFIG_FILE": str(FONTS_CONF), "TMPDIR": str(self._tmp)},
                recycle_above=recycle_above,
            )
        self._cleanup = weakref.finalize(self, _shut_down, self._pool, self._root)
        self._profiles: queue.SimpleQueue[Path] = queue.SimpleQueue()
        for n in range(self.workers):
            self._profiles.put(self._root / f"profile-{n}")

    def warm_up(self) -> None:
        """Start LibreOffice now, in the background, so that it is ready when the first document is."""
        if self._pool is not None:
            self._pool.warm_up()

    @property
    def group_size(self) -> int:
        """How many documents one :meth:`convert` call should bring to keep every worker busy."""
        return 2 * self.workers if self._pool is not None else self.chunk_size * self.workers

    def __enter__(self) -> LibreOfficeConverter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop LibreOffice and remove the worker profiles."""
        self._cleanup()

    def convert(
        self, sources: Sequence[Path], *, outdir: Path, labels: Mapping[Path, str] | None = None
    ) -> dict[Path, Path]:
        """Convert every source into ``outdir``; all failures are reported together, by label."""
        if not self._cleanup.alive:
            raise ValueError("the converter is closed")
        sources = list(dict.fromkeys(Path(s) for s in sources))
        _check_sources(sources, labels)
        if not sources:
            return {}
        outdir.mkdir(parents=True, exist_ok=True)
        if self._pool is not None:
            return self._convert_uno(sources, outdir=outdir, labels=labels)
        chunks = _split(sources, chunk_size=self.chunk_size, workers=self.workers)
        converted: dict[Path, Path] = {}
        problems: list[Problem] = []
        with ThreadPoolExecutor(max_workers=min(self.workers, len(chunks))) as pool:
            for done, failed in pool.map(lambda c: self._convert_chunk(c, outdir), chunks):
                converted.update(done)
                problems.extend(failed)
        if problems:
            raise ConversionError([Problem(_label(Path(p.where), labels), p.rule) for p in problems])
        return {source: converted[source] for source in sources}

    def _convert_uno(self, sources: list[Path], *, outdir: Path, labels: Mapping[Path, str] | None) -> dict[Path, Path]:
        assert self._pool is not None
        converted: dict[Path, Path] = {}
        problems: list[Problem] = []
        for source, answer in zip(sources, self._pool.convert(sources), strict=True):
            reason = answer.reason if answer.pdf is None else pdf_problem(answer.pdf)
            if reason or answer.pdf is None:
                problems.append(Problem(_label(source, labels), reason or "LibreOffice 未生成 PDF"))
                continue
            target = outdir / f"{source.stem}.pdf"
            atomic_write_bytes(target, answer.pdf, durable=False)
            converted[source] = target
        if problems:
            raise ConversionError(problems)
        return converted

    def _convert_chunk(self, chunk: list[Path], outdir: Path) -> tuple[dict[Path, Path], list[Problem]]:
        profile = self._profiles.get()
        try:
            with tempfile.TemporaryDirectory(prefix="out-", dir=self._root) as tmp:
                done: dict[Path, Path] = {}
                pending, reasons = chunk, dict[Path, str]()
                # A fresh profile sometimes makes soffice crash on its first start: retry once.
                for _attempt in range(2):
                    call = self._run(pending, profile=profile, tmpdir=Path(tmp))
                    ok, reasons = _collect(pending, Path(tmp), outdir, call)
                    done.update(ok)
                    pending = [s for s in pending if s in reasons]
                    if not pending or not call.crashed:
                        break
                return done, [Problem(str(s), reasons[s]) for s in pending]
        finally:
            self._profiles.put(profile)

    def _run(self, chunk: list[Path], *, profile: Path, tmpdir: Path) -> _Call:
        # The profile is ours alone; a lock left by a killed run would only get in the way.
        with contextlib.suppress(FileNotFoundError):
            (profile / ".lock").unlink()
        seed_profile(profile, self.soffice)
        command = [
            str(self.soffice),
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            self.export_filter,
            "--outdir",
            str(tmpdir),
            *(str(s.resolve()) for s in chunk),
        ]
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "TMPDIR": str(self._tmp)}
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # soffice forks soffice.bin: kill them as one group
        )
        try:
            _, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            _, err = process.communicate()
            return _Call(None, True, err.decode("utf-8", "replace"))
        finally:
            if process.poll() is None:  # interrupted: leave no soffice behind
                _kill_group(process)
                process.wait()
        return _Call(process.returncode, False, err.decode("utf-8", "replace"))


def _shut_down(pool: UnoPool | None, root: Path) -> None:
    if pool is not None:
        pool.close()
    shutil.rmtree(root, ignore_errors=True)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # The leader is not yet reaped here, so its process group id cannot have been reused.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _label(source: Path, labels: Mapping[Path, str] | None) -> str:
    """How a failure names ``source``: its label when given, else its file name."""
    return labels.get(source, source.name) if labels else source.name


def _check_sources(sources: Sequence[Path], labels: Mapping[Path, str] | None = None) -> None:
    problems = [Problem(_label(s, labels), "源文件不存在") for s in sources if not s.is_file()]
    seen: dict[str, Path] = {}
    for source in sources:
        other = seen.setdefault(source.stem, source)
        if other != source:
            problems.append(Problem(_label(source, labels), f"与 {other} 同名，转换后的 PDF 会互相覆盖"))
    if problems:
        raise ConversionError(problems)


def _split(sources: list[Path], *, chunk_size: int, workers: int) -> list[list[Path]]:
    """Chunks of at most ``chunk_size``, at least one per worker, sizes as equal as can be."""
    count = min(len(sources), max(workers, math.ceil(len(sources) / chunk_size)))
    size, extra = divmod(len(sources), count)
    chunks, start = [], 0
    for n in range(count):
        end = start + size + (1 if n < extra else 0)
        chunks.append(sources[start:end])
        start = end
    return chunks


def _collect(
    pending: Iterable[Path], tmpdir: Path, outdir: Path, call: _Call
) -> tuple[dict[Path, Path], dict[Path, str]]:
    """Check each expected PDF in ``tmpdir`` and move the good ones into ``outdir``."""
    done: dict[Path, Path] = {}
    reasons: dict[Path, str] = {}
    for source in pending:
        produced = tmpdir / f"{source.stem}.pdf"
        if not produced.exists():
            reasons[source] = _missing_reason(call)
            continue
        data = produced.read_bytes()
        produced.unlink()
        reason = pdf_problem(data)
        if reason:
            reasons[source] = reason
            continue
        target = outdir / produced.name
        atomic_write_bytes(target, data, durable=False)
        done[source] = target
    return done, reasons


def _missing_reason(call: _Call) -> str:
    detail = call.stderr.strip().splitlines()[-1:] if call.stderr.strip() else []
    tail = f"（{detail[0]}）" if detail else ""
    if call.timed_out:
        return "LibreOffice 超时未完成转换（已终止其进程），请重试；若一再超时，请检查该文档内容是否异常庞大"
    if call.crashed:
        return f"LibreOffice 异常退出（退出码 {call.returncode}），未生成 PDF{tail}"
    return f"LibreOffice 未生成 PDF，文件可能已损坏或不是 Word 文档{tail}"


def pdf_problem(data: bytes) -> str | None:
    """Why ``data`` is not a usable converted PDF, in Chinese; ``None`` when it is."""
    # Imported here, not at the top: qpdf and pypdf cost 0.3 s of CPU to import, which a command
    # that converts nothing should not pay, and pypdf only for a "no" from the quick look.
    from certdocs._pdftext import first_page_shows_text

    if not data:
        return "生成的 PDF 是空文件"
    with contextlib.suppress(Exception):  # qpdf's quick look says yes: done (≈2 ms instead of ≈30)
        if first_page_shows_text(data):
            return None
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        text = reader.pages[0].extract_text() if reader.pages else ""
    except Exception as exc:  # pypdf raises many exception types on malformed files
        return f"生成的 PDF 无法读取：{exc}"
    if not text.strip():
        return "生成的 PDF 第 1 页没有可提取的文字（字体未嵌入或文档为空）"
    return None


def __getattr__(name: str) -> Any:
    # The fake converter moved to certdocs.testing; older imports from here keep working.
    if name in ("FakeConverter", "docx_text", "text_pdf"):
        from certdocs import testing

        return getattr(testing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FONTS_CONF",
    "INSTALL_HINT",
    "PDF_EXPORT_OPTIONS",
    "UNO_HINT",
    "Converter",
    "LibreOfficeConverter",
    "find_soffice",
    "pdf_export_filter",
    "pdf_problem",
]
