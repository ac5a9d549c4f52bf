"""tools/system-deps.sh: each Debian dependency detected reliably, installed only when really missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "tools" / "system-deps.sh"

pytestmark = pytest.mark.skipif(
    subprocess.run(["bash", str(SCRIPT), "--check", "runtime"], capture_output=True).returncode != 0,
    reason="the runtime Debian packages are not installed here (make system-deps installs them)",
)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env or dict(os.environ), timeout=60
    )


def shims(folder: Path, **scripts: str) -> dict[str, str]:
    """An environment whose PATH finds these little scripts before the real commands."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in scripts.items():
        path = folder / name.replace("_", "-")
        path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
        path.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def test_installed_packages_are_found_every_time() -> None:
    # The old check piped fc-list into grep -q and judged the fonts missing on 19 runs of 20.
    results = [run("--check", "runtime").returncode for _ in range(20)]
    assert results == [0] * 20


def test_a_machine_with_many_fonts_is_still_judged_complete(tmp_path: Path) -> None:
    real = shutil.which("fc-list")
    assert real is not None
    # fc-list that lists 100,000 more fonts, after the real ones, whenever it is asked for a listing.
    env = shims(
        tmp_path / "bin",
        fc_list=f'"{real}" "$@"; status=$?; yes "Fake Sans:style=Regular" | head -n 100000\nexit $status',
    )
    assert run("--check", "runtime", env=env).returncode == 0


def test_nothing_is_installed_when_nothing_is_missing(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    refuse = f'echo "$0 $*" >> "{calls}"; exit 97'
    env = shims(tmp_path / "bin", apt_get=refuse, apt=refuse, dpkg=refuse, pip=refuse, pip3=refuse)
    done = run("runtime", env=env)
    assert done.returncode == 0
    assert not calls.exists()


def test_a_missing_font_is_named_with_its_package(tmp_path: Path) -> None:
    empty = tmp_path / "fonts.conf"
    empty.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig/>', encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(empty)}
    done = run("--check", "runtime", env=env)
    assert done.returncode == 1
    assert "fonts-noto-cjk" in done.stderr
    assert "fonts-hanazono" in done.stderr


def path_without_zbar(folder: Path) -> dict[str, str]:
    """An environment whose PATH has what the script and the runtime set need, except zbarimg."""
    folder.mkdir()
    for name in ("bash", "dirname", "readlink", "fc-list", "soffice", "pdftoppm"):
        found = shutil.which(name)
        assert found is not None, name
        (folder / name).symlink_to(found)
    return {**os.environ, "PATH": str(folder)}


def test_a_missing_command_is_named_and_nothing_else_is(tmp_path: Path) -> None:
    env = path_without_zbar(tmp_path / "bin")
    (tmp_path / "bin" / "id").symlink_to(shutil.which("id") or "/usr/bin/id")
    done = run("--check", "runtime", env=env)
    assert done.returncode == 1
    assert "缺少系统软件包：zbar-tools。" in done.stderr


def test_without_root_the_exact_install_command_is_printed(tmp_path: Path) -> None:
    env = path_without_zbar(tmp_path / "bin")
    shims(tmp_path / "bin", id="echo 1000")  # an office user, not root
    done = run("runtime", env=env)
    assert done.returncode == 1
    assert "sudo apt-get install -y --no-install-recommends zbar-tools" in done.stderr
