"""Long-lived LibreOffice processes driven through UNO, one per worker, fed from one queue.

Each worker owns a bridge (``_uno_bridge.py`` under LibreOffice's own Python) that starts one
headless soffice with the worker's profile and converts one document at a time. LibreOffice
starts once per worker, not once per call, and a worker takes the next document the moment it
is free, whoever asked for it: calls made from several threads share the workers in order.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from pathlib import Path

BRIDGE = Path(__file__).resolve().parent / "_uno_bridge.py"
START_SECONDS = 180.0  # the bridge gives LibreOffice 120 s; this is the outer limit
# LibreOffice runs a little below certdocs' own priority: on a machine with as many workers as
# cores, certdocs' short bursts of work (render, PDF edits) then run when they are due instead
# of waiting for a time slice, and LibreOffice still has every cycle they leave.
NICENESS = int(os.environ.get("CERTDOCS_SOFFICE_NICE", "5"))
STOP_SECONDS = 15.0

_PROBE = "import os, sys, uno; print(os.path.realpath(os.path.dirname(sys.modules['pyuno'].__file__)))"


@functools.lru_cache(maxsize=8)
def find_uno_python(soffice: Path) -> Path | None:
    """A Python whose ``uno`` module belongs to this soffice's own installation, or ``None``.

    Looked for in ``$CERTDOCS_UNO_PYTHON``, next to soffice (LibreOffice's own builds ship
    ``program/python``) and as the system's ``python3`` (Debian's python3-uno).
    """
    program = soffice.resolve().parent
    candidates = [os.environ.get("CERTDOCS_UNO_PYTHON"), str(program / "python"), "/usr/bin/python3"]
    for candidate in dict.fromkeys(c for c in candidates if c):
        if not Path(candidate).is_file():
            continue
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run(
                [candidate, "-c", _PROBE], capture_output=True, text=True, timeout=30, env=_bridge_env({})
            )
            if found.returncode == 0 and Path(found.stdout.strip()) == program:
                return Path(candidate)
    return None


def _bridge_env(extra: Mapping[str, str]) -> dict[str, str]:
    # LibreOffice's Python must not see certdocs' virtual environment.
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


def _setting(path: str, name: str, value: int) -> str:
    return (
        f'<item oor:path="/org.openoffice.Office.Common/{path}">'
        f'<prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
    )


#: A long-lived soffice keeps what it laid out for every document it converted: text runs (up
#: to 100,000 by default) and their glyphs (20 MB), and images (300 MB). Each document is closed
#: after export, so these only grow: about 4.5 MB a certificate. Small caches keep each worker
#: near its starting size (measured: flat at ~340 MiB over 100 certificates instead of 644 MiB
#: and growing) and convert no slower.
PROFILE_SETTINGS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    + _setting("Cache/GraphicManager", "GraphicMemoryLimit", 20_000_000)
    + "\n"
    + _setting("Cache/GraphicManager", "TotalCacheSize", 20_000_000)
    + "\n"
    + _setting("Cache/GraphicManager", "GraphicAllowedIdleTime", 1)
    + "\n"
    + _setting("Cache/Font", "TextRunsCacheSize", 500)
    + "\n"
    + _setting("Cache/Font", "GlyphsCacheSize", 2_000_000)
    + "\n</oor:items>\n"
)


def build_id(soffice: Path) -> str | None:
    """The build id of this soffice's installation (``buildid=`` of ``program/versionrc``), or ``None``."""
    try:
        text = (soffice.resolve().parent / "versionrc").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "buildid" and value.strip():
            return value.strip()
    return None


def seed_profile(profile: Path, soffice: Path) -> None:
    """Prepare a profile folder LibreOffice has not used yet so that its first start is its only one.

    A new profile has no record of the build its extensions were registered for, so soffice
    clears the (empty) extension cache, registers the bundled extensions and exits with code
    81 for oosplash to start it again: 0.3 s more CPU and wall for every new profile. Writing
    the installation's build id first (what soffice itself writes there) skips the clearing and
    the second start; the bundled extensions are still registered. A profile already used, or
    an installation whose build id cannot be read, is left as it is: soffice then does as before.
    """
    marker = profile / "user" / "extensions" / "buildid"
    if (profile / "user" / "extensions").exists():
        return
    found = build_id(soffice)
    if found is None:
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(found, encoding="utf-8")


@dataclass(frozen=True)
class Answer:
    """What became of one document: a PDF's bytes, or why not."""

    pdf: bytes | None = None
    reason: str | None = None


@dataclass
class _Task:
    source: Path
    future: Future[Answer]


class _Office:
    """One bridge and its soffice, in a process group of their own."""

    def __init__(self, *, python: Path, soffice: Path, profile: Path, options: str, env: Mapping[str, str]) -> None:
        pipe = f"certdocs-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        nice = shutil.which("nice") if NICENESS else None
        lower = [nice, "-n", str(NICENESS)] if nice else []
        self.process = subprocess.Popen(
            [*lower, str(python), str(BRIDGE), str(soffice), profile.as_uri(), pipe, options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_bridge_env(env),
            start_new_session=True,  # bridge, soffice and soffice.bin die together
        )
        self._buffer = b""
        self.timed_out = False  # the last wait for an answer ran out of time (not: the bridge died)
        self.resident = 0  # soffice's resident memory after the last document, in bytes
        self.cpu = 0.0  # the bridge's own CPU seconds so far (not LibreOffice's)
        self.on_end: Callable[[float], None] | None = None  # told the bridge's CPU when it ends

    def restart(self) -> str | None:
        """Have the bridge replace its soffice with a fresh one; why it did not, or ``None``."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(b'{"restart": true}\n')
            self.process.stdin.flush()
        except OSError:
            return "LibreOffice 桥接进程已退出"
        self.resident = 0
        return self.start()

    def start(self) -> str | None:
        """Wait until LibreOffice answers; why it did not, or ``None``."""
        line = self._line(time.monotonic() + START_SECONDS)
        if line is None:
            return "LibreOffice 启动失败（进程退出或超时）"
        answer = json.loads(line)
        return None if answer.get("ready") else str(answer.get("error", "LibreOffice 启动失败"))

    def convert(self, source: Path, target: Path, *, timeout: float) -> dict[str, object] | None:
        """The bridge's answer for one document, or ``None`` when it died or ran out of time."""
        assert self.process.stdin is not None
        request = json.dumps({"source": str(source.resolve()), "target": str(target)}, ensure_ascii=False)
        try:
            self.process.stdin.write(request.encode("utf-8") + b"\n")
            self.process.stdin.flush()
        except OSError:
            return None
        line = self._line(time.monotonic() + timeout)
        if line is None:
            return None
        answer = dict(json.loads(line))
        self.resident = int(answer.get("rss", 0))
        self.cpu = float(answer.get("cpu", self.cpu))
        return answer

    def _line(self, deadline: float) -> str | None:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                self.timed_out = True
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("utf-8")

    def stop(self) -> None:
        """Ask LibreOffice to close (end of input), then make sure nothing of the group is left."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline and not self._exited():
            time.sleep(0.02)
        self.kill()

    def kill(self) -> None:
        """Kill the whole group at once (bridge, soffice, soffice.bin)."""
        if self.on_end is not None:
            self.on_end(self.cpu)
            self.on_end = None
        # The bridge is not reaped before this, so its process group id cannot have been reused.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _exited(self) -> bool:
        # WNOWAIT: look without reaping, so kill() can still name the group safely.
        found = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return found is not None


class UnoPool:
    """Worker threads, each with its own long-lived LibreOffice, taking documents from one queue."""

    def __init__(
        self,
        *,
        python: Path,
        soffice: Path,
        workers: int,
        root: Path,
        options: str,
        timeout: Callable[[], float],
        env: Mapping[str, str],
        recycle_above: int = 0,
    ) -> None:
        self._python, self._soffice, self._root = python, soffice, root
        self._options, self._timeout, self._env = options, timeout, env
        self._recycle_above = recycle_above  # bytes of soffice memory after which it is restarted
        self._workers = workers
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.starts = 0  # LibreOffice processes started (for tests and benchmarks)
        self.recycled = 0  # of which restarted because of their memory
        self.bridge_seconds = 0.0  # CPU the bridges themselves spent (certdocs' code, not LibreOffice)

    def convert(self, sources: Sequence[Path]) -> list[Answer]:
        """Each source's PDF bytes or the reason it has none, in order."""
        self._ensure_threads()
        tasks = [_Task(source, Future()) for source in sources]
        for task in tasks:
            self._tasks.put(task)
        wait([t.future for t in tasks])
        return [t.future.result() for t in tasks]

    def warm_up(self) -> None:
        """Start every worker's LibreOffice now, in the background, before the first document."""
        self._ensure_threads()

    def close(self) -> None:
        """Stop every worker and its LibreOffice."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._tasks.put(None)
        for thread in threads:
            thread.join()

    def _ensure_threads(self) -> None:
        with self._lock:
            while len(self._threads) < self._workers:
                n = len(self._threads)
                thread = threading.Thread(target=self._work, args=(n,), name=f"certdocs-office-{n}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _work(self, n: int) -> None:
        profile = self._root / f"profile-{n}"
        outdir = self._root / f"out-{n}"
        outdir.mkdir(parents=True, exist_ok=True)
        office: _Office | None = None
        started = self._start(profile)  # at once: the caller prepares its first documents meanwhile
        if not isinstance(started, str):
            office = started
        try:
            while (task := self._tasks.get()) is not None:
                if not task.future.set_running_or_notify_cancel():
                    continue
                try:
                    office, answer = self._one(office, task.source, profile=profile, outdir=outdir)
                except BaseException as exc:  # never leave a caller waiting
                    task.future.set_exception(exc)
                    raise
                task.future.set_result(answer)
                if office is not None and self._recycle_above and office.resident > self._recycle_above:
                    # soffice keeps growing with every document it has opened (about 4 MB per
                    # certificate, caches or not): a fresh one costs a second of CPU, the
                    # memory would cost the machine. Killing is safe: nothing of ours is open.
                    with self._lock:
                        self.recycled += 1
                        self.starts += 1
                    if office.restart() is not None:
                        office.kill()
                        office = None
        finally:
            if office is not None:
                office.stop()

    def _one(
        self, office: _Office | None, source: Path, *, profile: Path, outdir: Path
    ) -> tuple[_Office | None, Answer]:
        """Convert one document, starting LibreOffice when needed; a crash is retried once."""
        target = outdir / f"{source.stem}.pdf"
        reason = ""
        for _attempt in range(2):
            if office is None:
                started = self._start(profile)
                if isinstance(started, str):
                    reason = started
                    continue
                office = started
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            answer = office.convert(source, target, timeout=self._timeout())
            if answer is None:  # no answer: ran out of time, or LibreOffice died
                timed_out = office.timed_out
                office.kill()
                office = None
                if timed_out:
                    return None, Answer(reason=TIMEOUT_REASON)
                reason = "LibreOffice 异常退出，未生成 PDF"
                continue
            if not answer.get("ok"):
                detail = str(answer.get("error", "")).strip().splitlines()[:1]
                tail = f"（{detail[0]}）" if detail else ""
                if answer.get("fatal"):
                    office.kill()
                    office = None
                    reason = f"LibreOffice 异常退出，未生成 PDF{tail}"
                    continue
                return office, Answer(reason=f"LibreOffice 未生成 PDF，文件可能已损坏或不是 Word 文档{tail}")
            try:
                data = target.read_bytes()
            except FileNotFoundError:
                return office, Answer(reason="LibreOffice 未生成 PDF")
            target.unlink()
            return office, Answer(pdf=data)
        return office, Answer(reason=reason)

    def _start(self, profile: Path) -> _Office | str:
        # The profile is ours alone; a lock left by a killed run would only get in the way.
        with contextlib.suppress(FileNotFoundError):
            (profile / ".lock").unlink()
        seed_profile(profile, self._soffice)
        settings = profile / "user" / "registrymodifications.xcu"
        if not settings.exists():
            settings.parent.mkdir(parents=True, exist_ok=True)
            settings.write_text(PROFILE_SETTINGS, encoding="utf-8")
        with self._lock:
            self.starts += 1
        try:
            office = _Office(
                python=self._python, soffice=self._soffice, profile=profile, options=self._options, env=self._env
            )
        except OSError as exc:
            return f"无法启动 LibreOffice：{exc}"
        office.on_end = self._count_bridge
        problem = office.start()
        if problem is not None:
            office.kill()
            return problem
        return office

    def _count_bridge(self, seconds: float) -> None:
        with self._lock:
            self.bridge_seconds += seconds


TIMEOUT_REASON = "LibreOffice 超时未完成转换（已终止其进程），请重试；若一再超时，请检查该文档内容是否异常庞大"
