"""certdocs._soffice_uno: long-lived LibreOffice processes fed through UNO (real LibreOffice)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from certdocs._soffice_uno import PROFILE_SETTINGS, build_id, find_uno_python, seed_profile
from certdocs.convert import UNO_HINT, LibreOfficeConverter, find_soffice
from certdocs.errors import ConversionError
from tests.test_convert import TITLE, certificate_docx, wait_until_gone

HAS_UNO = find_uno_python(find_soffice()) is not None if os.environ.get("PATH") else False
needs_uno = pytest.mark.skipif(not HAS_UNO, reason="LibreOffice's Python (python3-uno) not installed")
pytestmark = [pytest.mark.libreoffice, needs_uno]


def documents(folder: Path, count: int, *, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [certificate_docx(folder / f"证书{n}.docx", n) for n in range(start, start + count)]


def office_processes(converter: LibreOfficeConverter) -> list[int]:
    """Process ids of the soffice.bin processes the converter's bridges started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "soffice.bin":
                continue
            environ = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(converter._root).encode() in environ:
            found.append(int(entry.name))
    return found


def test_the_auto_driver_is_uno_where_libreoffices_python_is_installed() -> None:
    with LibreOfficeConverter() as converter:
        assert converter.driver == "uno"


def test_libreoffice_starts_once_per_worker_however_many_calls_with_the_worker_profile(tmp_path: Path) -> None:
    from pypdf import PdfReader

    with LibreOfficeConverter(workers=1) as converter:
        seed_profile(converter._root / "profile-0", converter.soffice)
        marker = converter._root / "profile-0" / "user" / "extensions" / "buildid"
        seeded = marker.stat().st_mtime_ns
        for n in range(3):
            result = converter.convert(documents(tmp_path / f"in{n}", 2, start=2 * n), outdir=tmp_path / "out")
            assert len(result) == 2
        assert converter._pool is not None
        assert converter._pool.starts == 1
        settings = (converter._root / "profile-0" / "user" / "registrymodifications.xcu").read_text(encoding="utf-8")
        # soffice rewrites the build id (and starts itself again) when it finds a wrong one.
        rewritten = marker.stat().st_mtime_ns != seeded
        synchronized = (converter._root / "profile-0" / "user" / "extensions" / "bundled" / "lastsynchronized").exists()
    for n in range(6):
        text = PdfReader(tmp_path / "out" / f"证书{n}.pdf").pages[0].extract_text()
        assert f"{TITLE} {n}" in text
    # LibreOffice rewrites its profile with what it read: the caps survive its own save.
    assert "TextRunsCacheSize" in settings
    assert "GraphicMemoryLimit" in settings
    assert not rewritten
    assert synchronized  # the bundled extensions are registered all the same


def test_a_new_profile_gets_the_installations_build_id_and_a_used_one_is_left_alone(tmp_path: Path) -> None:
    soffice = find_soffice()
    seed_profile(tmp_path / "new", soffice)
    used = tmp_path / "used" / "user" / "extensions"
    used.mkdir(parents=True)
    seed_profile(tmp_path / "used", soffice)
    assert (tmp_path / "new" / "user" / "extensions" / "buildid").read_text(encoding="utf-8") == build_id(soffice)
    assert list(used.iterdir()) == []


def test_an_installation_without_a_readable_build_id_leaves_the_profile_to_soffice(tmp_path: Path) -> None:
    fake = tmp_path / "program" / "soffice"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n")
    (tmp_path / "program" / "versionrc").write_text("[Version]\nbuildid=\n")
    seed_profile(tmp_path / "profile", fake)
    assert build_id(fake) is None
    assert not (tmp_path / "profile").exists()


def test_calls_from_several_threads_share_the_workers_and_close_leaves_none_running(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    batches = [documents(tmp_path / f"in{n}", 2, start=2 * n) for n in range(3)]
    converter = LibreOfficeConverter(workers=2)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda b: converter.convert(b, outdir=tmp_path / "out"), batches))
    assert converter._pool is not None
    assert converter._pool.starts == 2
    offices = office_processes(converter)
    assert len(offices) == 2
    converter.close()
    assert [len(r) for r in results] == [2, 2, 2]
    assert all(wait_until_gone(pid) for pid in offices)
    assert not converter._root.exists()


def test_a_soffice_killed_mid_batch_is_restarted_and_the_document_retried(tmp_path: Path) -> None:
    with LibreOfficeConverter(workers=1) as converter:
        converter.convert(documents(tmp_path / "first", 1), outdir=tmp_path / "out")
        (office,) = office_processes(converter)
        os.kill(office, signal.SIGKILL)
        result = converter.convert(documents(tmp_path / "second", 2, start=1), outdir=tmp_path / "out")
        assert converter._pool is not None
        assert converter._pool.starts == 2
    assert sorted(p.name for p in result.values()) == ["证书1.pdf", "证书2.pdf"]


def test_a_file_that_is_not_a_word_document_fails_alone(tmp_path: Path) -> None:
    sources = documents(tmp_path / "in", 2)
    broken = tmp_path / "in" / "损坏.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip" * 50)
    with LibreOfficeConverter(workers=1) as converter:
        with pytest.raises(ConversionError) as caught:
            converter.convert([sources[0], broken, sources[1]], outdir=tmp_path / "out", labels={broken: "损坏的报告"})
        assert converter._pool is not None
        starts = converter._pool.starts
    assert [p.where for p in caught.value.problems] == ["损坏的报告"]
    assert "未生成 PDF" in caught.value.problems[0].rule
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["证书0.pdf", "证书1.pdf"]
    assert starts <= 2  # at most one restart (a crash on the broken file), never one per document


def test_a_timeout_kills_soffice_and_the_next_document_gets_a_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"  # the temporary folder of this process and the soffice it starts
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    sources = documents(tmp_path / "in", 2)
    with LibreOfficeConverter(workers=1, timeout=120) as converter:
        converter.convert(sources[:1], outdir=tmp_path / "warm")
        (office,) = office_processes(converter)
        converter.timeout = 0.001
        with pytest.raises(ConversionError, match="超时"):
            converter.convert(sources[1:], outdir=tmp_path / "out")
        assert wait_until_gone(office)
        assert list((tmp_path / "out").iterdir()) == []
        converter.timeout = 120
        result = converter.convert(sources[1:], outdir=tmp_path / "out")
    assert [p.name for p in result.values()] == ["证书1.pdf"]
    # Nothing left behind, not even the temporary folder (lu*.tmp) of the soffice that was killed.
    assert list(scratch.iterdir()) == []


def test_a_worker_past_its_memory_limit_is_restarted_between_documents(tmp_path: Path) -> None:
    with LibreOfficeConverter(workers=1, recycle_above=1) as converter:
        result = converter.convert(documents(tmp_path / "in", 2), outdir=tmp_path / "out")
        assert converter._pool is not None
        first = office_processes(converter)
    # close() waits for the worker, which restarts soffice after handing back each document.
    assert converter._pool.recycled == 2
    assert converter._pool.starts == 3  # one start, two restarts by the same bridge
    assert len(result) == 2
    assert all(wait_until_gone(pid) for pid in first)


def test_the_profile_caps_libreoffices_layout_and_graphic_caches() -> None:
    assert '"GraphicMemoryLimit" oor:op="fuse"><value>20000000<' in PROFILE_SETTINGS
    assert '"TextRunsCacheSize" oor:op="fuse"><value>500<' in PROFILE_SETTINGS
    assert '"GlyphsCacheSize" oor:op="fuse"><value>2000000<' in PROFILE_SETTINGS


def test_a_killed_certdocs_takes_its_libreoffice_with_it(tmp_path: Path) -> None:
    source = documents(tmp_path / "in", 1)[0]
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from certdocs.convert import LibreOfficeConverter
        converter = LibreOfficeConverter(workers=1)
        converter.convert([Path({str(source)!r})], outdir=Path({str(tmp_path / "out")!r}))
        print(converter._root, flush=True)
        while True:  # busy converting when killed: the bridge finds certdocs gone as it answers
            converter.convert([Path({str(source)!r})], outdir=Path({str(tmp_path / "out")!r}))
        """
    )
    # Its converter's folder in tmp_path: killed, it cannot remove the folder itself.
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    root = child.stdout.readline().strip()
    offices = [
        int(e.name)
        for e in Path("/proc").iterdir()
        if e.name.isdigit() and root.encode() in _cmdline(e) and _comm(e) == "soffice.bin"
    ]
    assert len(offices) == 1
    time.sleep(0.5)
    child.kill()  # kill -9 mid-conversion: no close(), no finaliser
    child.wait()
    child.stdout.close()
    # The bridge reads end of input, or fails to write its answer, and closes LibreOffice either way.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Path(f"/proc/{offices[0]}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{offices[0]}").exists() or _comm(Path(f"/proc/{offices[0]}")) == "zombie"


def _cmdline(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""


def _comm(entry: Path) -> str:
    try:
        state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        return "zombie" if state == "Z" else (entry / "comm").read_text().strip()
    except OSError:
        return ""


def test_asking_for_uno_without_libreoffices_python_names_the_package(tmp_path: Path) -> None:
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    with pytest.raises(ConversionError) as caught:
        LibreOfficeConverter(soffice=fake, driver="uno")
    assert UNO_HINT in str(caught.value)
    assert LibreOfficeConverter(soffice=fake).driver == "command"


def test_a_bridge_killed_between_documents_is_replaced_and_nothing_is_left(tmp_path: Path) -> None:
    with LibreOfficeConverter(workers=1) as converter:
        converter.convert(documents(tmp_path / "first", 1), outdir=tmp_path / "out")
        (bridge,) = [
            int(e.name)
            for e in Path("/proc").iterdir()
            if e.name.isdigit() and b"_uno_bridge" in _cmdline(e) and str(converter._root).encode() in _cmdline(e)
        ]
        os.kill(bridge, signal.SIGKILL)
        result = converter.convert(documents(tmp_path / "second", 2, start=1), outdir=tmp_path / "out")
        assert converter._pool is not None
        assert converter._pool.starts == 2
    assert sorted(p.name for p in result.values()) == ["证书1.pdf", "证书2.pdf"]
    assert not [e for e in Path("/proc").iterdir() if e.name.isdigit() and str(converter._root).encode() in _cmdline(e)]
