"""Run by LibreOffice's own Python (python3-uno), never imported by certdocs.

    python3 _uno_bridge.py SOFFICE PROFILE_URL PIPE_NAME FILTER_DATA_JSON

Starts one headless soffice listening on a private pipe, connects to it through UNO and then
converts documents one at a time for as long as it lives: one JSON object per line on stdin
(``{"source": path, "target": path}``), one answer per line on stdout:
``{"ok": true, "rss": bytes, "cpu": seconds}`` (soffice's memory, the bridge's own CPU) or
``{"ok": false, "error": text, "fatal": bool}``. The first line it writes says whether
LibreOffice is ready; so does its answer to ``{"restart": true}``, which replaces soffice with
a fresh one (its memory grows with every document). End of input closes LibreOffice.
Standard library and ``uno`` only: this file runs under LibreOffice's interpreter, not
certdocs' virtual environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]
from com.sun.star.lang import DisposedException  # type: ignore[import-not-found]
from com.sun.star.uno import RuntimeException  # type: ignore[import-not-found]

START_SECONDS = 120.0  # a first start creates the profile; on a loaded machine that takes a while


def _property(name: str, value: Any) -> Any:
    found = PropertyValue()
    found.Name, found.Value = name, value
    return found


def _say(**answer: Any) -> None:
    sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _start(soffice: str, profile: str, pipe: str) -> tuple[subprocess.Popen[bytes], Any]:
    """Start soffice on ``pipe`` and return it with its desktop, once it answers."""
    office = subprocess.Popen(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            # A first start with a new profile exits once (code 81) and is restarted by oosplash,
            # so an exit of the launcher alone is not failure; a long silence is.
            if time.monotonic() > deadline:
                raise RuntimeError(f"LibreOffice 在 {START_SECONDS:.0f} 秒内没有启动") from None
            time.sleep(0.05)
    desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
    return office, desktop


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
    return found


_office_processes: list[int] = []


def _resident_bytes(launcher: int) -> int:
    """Resident memory of the launcher's children (soffice.bin), from /proc; 0 if unknown."""
    for _attempt in range(2):
        try:
            pages = sum(int(Path(f"/proc/{pid}/statm").read_text().split()[1]) for pid in _office_processes)
            if _office_processes:
                return pages * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            pass
        _office_processes[:] = _children(launcher)  # looked up once: /proc is large
    return 0


def _convert(desktop: Any, source: str, target: str, filter_data: Any) -> None:
    document = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(source),
        "_blank",
        0,
        (
            _property("Hidden", True),
            _property("ReadOnly", True),
            _property("MacroExecutionMode", 0),  # never run macros of a document
            _property("UpdateDocMode", 0),  # never update links to other files
        ),
    )
    if document is None:
        raise ValueError("LibreOffice 无法打开该文件，文件可能已损坏或不是 Word 文档")
    try:
        arguments = (_property("FilterName", "writer_pdf_Export"), _property("FilterData", filter_data))
        uno.invoke(document, "storeToURL", (uno.systemPathToFileUrl(target), arguments))
    finally:
        document.close(True)


def _kill(office: subprocess.Popen[bytes]) -> None:
    """Kill soffice.bin and its launcher at once: the memory goes, nothing of ours is open."""
    for pid in [*(_office_processes or _children(office.pid)), office.pid]:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    office.wait()
    _office_processes.clear()


def main() -> int:
    soffice, profile, pipe, options = sys.argv[1:5]
    filter_data = uno.Any(
        "[]com.sun.star.beans.PropertyValue",
        tuple(_property(name, value) for name, value in json.loads(options).items()),
    )
    try:
        office, desktop = _start(soffice, profile, pipe)
    except Exception as exc:  # any failure to start is reported, not raised
        _say(ready=False, error=str(exc))
        return 1
    code = 4
    try:
        _say(ready=True, pid=office.pid)
        code = _serve(office, desktop, soffice, profile, pipe, filter_data)
    except BrokenPipeError:  # certdocs is gone (killed mid-document): LibreOffice must go too
        pass
    finally:
        _close(_current[0] if _current else office, graceful=code == 0)
    return code


_current: list[subprocess.Popen[bytes]] = []  # the soffice running now, for the final close


def _serve(  # what main() parsed, passed on once
    office: subprocess.Popen[bytes], desktop: Any, soffice: str, profile: str, pipe: str, filter_data: Any
) -> int:
    """Answer requests until end of input (0) or until LibreOffice is lost (3) or fails to restart (1)."""
    _current[:] = [office]
    starts = 1
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("restart"):  # a fresh soffice, this bridge staying (its start is not free either)
            _kill(office)
            with contextlib.suppress(FileNotFoundError):
                Path(uno.fileUrlToSystemPath(profile), ".lock").unlink()
            starts += 1
            try:
                # A new pipe name: the old soffice's pipe may linger, and a connection made to it
                # is disposed under us.
                office, desktop = _start(soffice, profile, f"{pipe}-{starts}")
            except Exception as exc:  # reported; certdocs then ends this bridge
                _say(ready=False, error=str(exc))
                return 1
            _current[:] = [office]
            _say(ready=True, pid=office.pid)
            continue
        try:
            _convert(desktop, request["source"], request["target"], filter_data)
        except (DisposedException, RuntimeException) as exc:  # the office went away: this bridge is done
            _say(ok=False, fatal=True, error=f"{type(exc).__name__}: {exc.Message}")
            return 3
        except Exception as exc:  # one bad document must not end the others
            message = getattr(exc, "Message", None) or str(exc)
            _say(ok=False, fatal=False, error=f"{type(exc).__name__}: {message}")
        else:
            _say(ok=True, rss=_resident_bytes(office.pid), cpu=time.process_time())
    with contextlib.suppress(Exception):  # it is closing either way
        desktop.terminate()
    return 0


def _close(office: subprocess.Popen[bytes], *, graceful: bool) -> None:
    """However the bridge ends, its soffice ends with it: asked to close (end of input), else killed."""
    if graceful:
        try:
            office.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            pass
    _kill(office)


if __name__ == "__main__":
    sys.exit(main())
