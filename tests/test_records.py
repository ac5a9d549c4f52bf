"""The records folder, driven from the command line as an office uses it: the register and the
archive outlive `make clean`, move once out of an older office's output/, back up and check."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from certdocs import cli
from certdocs.cli import _app
from certdocs.records import _folder
from certdocs.register import Register
from certdocs.testing import FakeConverter
from tests.forkserver_cli import run_certdocs
from tests.issued import IssuedFolders
from tests.test_archive import Signer, make_signer, sign

ROOT = Path(__file__).resolve().parent.parent
AUDIT = str(ROOT / "fixtures" / "xbht-s04-2025" / "pass.json")
NUMBER = "XBHT-SH-2026-0001"
TODAY = date(2026, 11, 25)
NOBODY = 65534  # the user and group ids of nobody and nogroup


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return make_signer(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An office's folder as the working folder, with the default records/ and output/."""
    folder = tmp_path / "office"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("CERTDOCS_RECORDS", raising=False)
    monkeypatch.delenv("CERTDOCS_OUTPUT", raising=False)
    monkeypatch.setenv("CERTDOCS_TEMPLATES", str(ROOT / "templates"))
    monkeypatch.setattr(_app, "LibreOfficeConverter", FakeConverter)
    monkeypatch.setattr(_app, "today", lambda: TODAY)
    return folder


def issue_and_archive(office: Path, signer: Signer, folders: IssuedFolders, *extra: str) -> None:
    """Issue the example audit, sign its certificate and archive the signed copy.

    Done once per test process (and signer, and options) and copied into ``office``.
    """
    key = hashlib.sha256(repr((str(signer.ca_pem), extra)).encode()).hexdigest()[:12]

    def build(folder: Path) -> None:
        where = folder / office.name
        where.mkdir()
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(where)
            _issue_and_archive(where, signer, *extra)

    folders.copy(f"records-{key}", office.parent, build)


def _issue_and_archive(office: Path, signer: Signer, *extra: str) -> None:
    code, text = run("certificate", AUDIT, "--issue-date", "2026-11-22", *extra)
    assert code == 0, text
    signed = office / "signed" / "certificate.pdf"
    signed.parent.mkdir(exist_ok=True)
    signed.write_bytes(sign((office / "output" / NUMBER / "certificate.pdf").read_bytes(), signer))
    code, text = run("archive", str(signed), "--trust-root", str(signer.ca_pem), *extra)
    assert code == 0, text


def assert_every_record_is_there(signer: Signer) -> None:
    code, text = run("register", "list")
    assert code == 0, text
    assert NUMBER in text
    assert "共 1 张证书" in text
    code, text = run("archive", "verify", "--trust-root", str(signer.ca_pem))
    assert code == 0, text
    assert f"证书 {NUMBER} certificate" in text


# -- make clean ----------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_clean_removes_output_and_leaves_every_record(
    office: Path, signer: Signer, issued_folders: IssuedFolders
) -> None:
    issue_and_archive(office, signer, issued_folders)
    assert (office / "records" / "register.sqlite3").is_file()
    # The Makefile's own clean target, run in the office's folder.
    subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "clean"], cwd=office, check=True)
    assert not (office / "output").exists()
    assert_every_record_is_there(signer)
    code, text = run("register", "check", "--trust-root", str(signer.ca_pem))
    assert code == 0, text
    assert "份登记的文件不在输出文件夹中" in text
    assert "检查通过" in text


def _make_clean(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The Makefile's clean target run in ``folder``, without what an outer make passes down."""
    base = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), "clean", *args],
        cwd=folder,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["OUTPUT=records"], "证书记录 records 在它里面"),
        (["OUTPUT=.", "RECORDS=elsewhere"], "它就是当前文件夹"),
        (["OUTPUT=.."], "不在当前文件夹"),
        (["OUTPUT={outside}"], "不在当前文件夹"),
        (["RECORDS=output/records"], "证书记录 output/records 在它里面"),
    ],
    ids=["records-as-output", "the-folder-itself", "its-parent", "elsewhere", "records-inside-output"],
)
def test_make_clean_removes_nothing_that_holds_records_or_lies_outside_the_folder(
    tmp_path: Path, args: list[str], why: str
) -> None:
    office, outside = tmp_path / "office", tmp_path / "outside"
    for folder in (office / "output" / "records", office / "records", outside):
        folder.mkdir(parents=True)
        (folder / "keep.txt").write_text("x", encoding="utf-8")
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    done = _make_clean(office, *(arg.format(outside=outside) for arg in args))
    assert done.returncode == 2
    assert why in done.stderr
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_clean_leaves_an_older_certdocs_register_in_output_for_the_next_command_to_move(tmp_path: Path) -> None:
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "register.sqlite3").write_bytes(b"SQLite format 3\x00")
    done = _make_clean(tmp_path)
    assert done.returncode == 2
    assert "旧版 certdocs 留下的 register.sqlite3" in done.stderr
    assert (tmp_path / "output" / "register.sqlite3").is_file()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_an_output_variable_in_the_environment_does_not_change_what_make_clean_removes(tmp_path: Path) -> None:
    # OUTPUT is a common name: another program's setting must not point make clean at its folder.
    office, theirs = tmp_path / "office", tmp_path / "office" / "theirs"
    (office / "output").mkdir(parents=True)
    theirs.mkdir()
    done = _make_clean(office, env={"OUTPUT": str(theirs)})
    assert done.returncode == 0, done.stderr
    assert (not (office / "output").exists(), theirs.is_dir()) == (True, True)


def test_the_register_lives_in_the_records_folder_not_in_output(
    office: Path, signer: Signer, issued_folders: IssuedFolders
) -> None:
    issue_and_archive(office, signer, issued_folders)
    assert sorted(p.name for p in (office / "records").iterdir() if not p.name.startswith(".")) == [
        "archive",
        "register.sqlite3",
    ]
    assert not (office / "output" / "register.sqlite3").exists()
    assert not (office / "output" / "archive").exists()


# -- moving an older office's records -----------------------------------------------------------


@pytest.fixture
def older_office(office: Path, signer: Signer, issued_folders: IssuedFolders) -> Path:
    """An office as an older certdocs left it: register and archive inside output/."""
    issue_and_archive(office, signer, issued_folders, "--register", "output/register.sqlite3")
    assert (office / "output" / "register.sqlite3").is_file()
    assert (office / "output" / "archive").is_dir()
    assert not (office / "records").exists()
    return office


def test_an_older_office_records_are_moved_once_with_one_line(older_office: Path, signer: Signer) -> None:
    code, text = run("register", "list")
    assert code == 0, text
    moved = [line for line in text.splitlines() if line.startswith("已将证书记录")]
    assert len(moved) == 1
    assert "records/register.sqlite3" in moved[0]
    assert "1 个归档包" in moved[0]
    assert not (older_office / "output" / "register.sqlite3").exists()
    assert not (older_office / "output" / "archive").exists()
    assert (older_office / "output" / NUMBER / "certificate.pdf").is_file()  # output itself stays
    code, text = run("register", "list")
    assert "已将证书记录" not in text
    assert_every_record_is_there(signer)


def test_a_register_with_unsaved_log_pages_moves_whole(older_office: Path, signer: Signer) -> None:
    # A register another process still holds open keeps its latest writes in the -wal file.
    old = older_office / "output" / "register.sqlite3"
    holder = sqlite3.connect(old)
    holder.execute("PRAGMA wal_autocheckpoint = 0")
    holder.execute("INSERT INTO settings (name, value) VALUES ('note', 'only in the log')")
    holder.commit()
    assert (older_office / "output" / "register.sqlite3-wal").stat().st_size > 0
    code, text = run("register", "list")
    holder.close()
    assert code == 0, text
    with Register.open(older_office / "records" / "register.sqlite3") as register:
        assert register.setting("note") == "only in the log"


def _copy_then_stop(real: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    def copy(src: Path, dst: Path) -> None:
        real(src, dst)
        raise KeyboardInterrupt  # as if killed once the copy is made, before it is checked

    return copy


def _stop(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


def _half_register_then_stop(old: Path, new: Path) -> None:
    new.with_name(f".{new.name}.part").write_bytes(b"SQLite format 3\x00 half a copy")
    raise KeyboardInterrupt


def _remove_tree_halfway(real: Callable[[Path], None]) -> Callable[[Path], None]:
    def remove(path: Path) -> None:
        if path.name == "archive" and path.parent.name == "output":
            bag = next(path.rglob("certificate-1"))
            real(bag)
            raise KeyboardInterrupt
        real(path)

    return remove


def _remove_log_then_stop(path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.unlink(f"{path}{suffix}")
    raise KeyboardInterrupt  # the companions gone, the main file still there


INTERRUPTIONS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "while copying the archive": lambda mp: mp.setattr(_folder, "_copy_tree", _copy_then_stop(_folder._copy_tree)),
    "with the archive in place": lambda mp: mp.setattr(_folder, "_move_register", _stop),
    "while copying the register": lambda mp: mp.setattr(_folder, "backup_to", _half_register_then_stop),
    "while removing the old archive": lambda mp: mp.setattr(
        _folder, "_remove_tree", _remove_tree_halfway(_folder._remove_tree)
    ),
    "while removing the old register": lambda mp: mp.setattr(_folder, "remove_database", _remove_log_then_stop),
    "before the marker is removed": lambda mp: mp.setattr(_folder, "remember_output", _stop),
}


@pytest.mark.parametrize("moment", INTERRUPTIONS)
def test_a_move_interrupted_at_any_step_is_finished_by_the_next_run(
    older_office: Path, signer: Signer, moment: str
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        INTERRUPTIONS[moment](mp)
        with pytest.raises(KeyboardInterrupt):
            _folder.move_from_output(_folder.locate(), output=Path("output"))
    # Whatever the moment, one whole copy of the register holds the certificate.
    copies = [older_office / "output" / "register.sqlite3", older_office / "records" / "register.sqlite3"]
    whole = [c for c in copies if c.is_file() and _holds(c, NUMBER)]
    assert whole, f"no whole register after an interruption {moment}"
    code, text = run("register", "list")
    assert code == 0, text
    assert "已将证书记录" in text
    assert not (older_office / "records" / _folder.MARKER).exists()
    assert not list((older_office / "records").glob(".*.part"))
    assert not (older_office / "output" / "register.sqlite3").exists()
    assert not (older_office / "output" / "archive").exists()
    assert_every_record_is_there(signer)


def _holds(path: Path, number: str) -> bool:
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT 1 FROM certificates WHERE number = ?", (number,)).fetchone() is not None
    except sqlite3.Error:
        return False


def test_two_registers_are_never_merged_by_guesswork(older_office: Path) -> None:
    (older_office / "records").mkdir()
    Register.open(older_office / "records" / "register.sqlite3").close()
    code, text = run("register", "list")
    assert code == 1
    assert "output/register.sqlite3" in text
    assert "records/register.sqlite3" in text
    assert "不能自动合并" in text
    assert _holds(older_office / "output" / "register.sqlite3", NUMBER)


# -- the output folder the register remembers ---------------------------------------------------


def test_a_later_command_without_output_finds_the_output_folder(office: Path) -> None:
    code, text = run("certificate", AUDIT, "--issue-date", "2026-11-22", "--output", "elsewhere")
    assert code == 0, text
    code, text = run("certificate", str(ROOT / "fixtures" / "fw01-2021" / "pass.json"), "--issue-date", "2026-11-22")
    assert code == 0, text
    assert (office / "elsewhere" / "ZD-FW-2026-0001" / "certificate.pdf").is_file()
    assert not (office / "output").exists()


def test_an_output_folder_other_than_the_remembered_one_is_refused_clearly(office: Path) -> None:
    code, _ = run("certificate", AUDIT, "--issue-date", "2026-11-22")
    assert code == 0
    code, text = run("certificate", AUDIT, "--issue-date", "2026-11-22", "--output", "moved")
    assert code == 2
    assert "记录的输出文件夹是 output" in text
    assert "本次给出的是 moved" in text
    assert "register set-output" in text
    assert not (office / "moved").exists()
    shutil.move(office / "output", office / "moved")
    code, text = run("register", "set-output", "moved")
    assert code == 0, text
    code, text = run("regenerate", "--dry-run")
    assert code == 0, text


# -- backup -------------------------------------------------------------------------------------


def test_a_backup_taken_while_a_batch_writes_is_whole_and_verified(
    office: Path, signer: Signer, issued_folders: IssuedFolders
) -> None:
    issue_and_archive(office, signer, issued_folders)
    stop = threading.Event()

    def writer() -> None:
        with Register.open(office / "records" / "register.sqlite3") as register:
            n = 0
            while not stop.is_set():
                register.set_setting(f"busy-{n}", "x")
                n += 1

    busy = threading.Thread(target=writer)
    busy.start()
    try:
        code, text = run("register", "backup", str(office / "backup"))
    finally:
        stop.set()
        busy.join()
    assert code == 0, text
    assert "归档包 1 个" in text
    copy = office / "backup" / "register.sqlite3"
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _holds(copy, NUMBER)
    assert not (office / "backup" / "register.sqlite3-wal").exists()  # one self-contained file
    code, text = run("archive", "verify", "--register", str(copy), "--trust-root", str(signer.ca_pem))
    assert code == 0, text


def test_a_backup_never_overwrites_a_folder_in_use(office: Path, signer: Signer, issued_folders: IssuedFolders) -> None:
    issue_and_archive(office, signer, issued_folders)
    (office / "old-backup").mkdir()
    (office / "old-backup" / "keep.txt").write_text("x")
    code, text = run("register", "backup", str(office / "old-backup"))
    assert code == 1
    assert "不覆盖" in text
    assert sorted(p.name for p in (office / "old-backup").iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("dest", ["records/backup", "records/archive/backup", "records"])
def test_a_backup_inside_the_records_folder_is_refused(office: Path, dest: str) -> None:
    # Beside the originals it is lost with them; in the archive folder its bags would pass for archived ones.
    code, _ = run("certificate", AUDIT, "--issue-date", "2026-11-22")
    assert code == 0
    before = sorted(p.relative_to(office).as_posix() for p in (office / "records").rglob("*"))
    code, text = run("register", "backup", dest)
    assert code == 1
    assert "备份不能放在证书记录文件夹" in text
    assert sorted(p.relative_to(office).as_posix() for p in (office / "records").rglob("*")) == before


# -- check --------------------------------------------------------------------------------------


def test_check_passes_on_whole_records(office: Path, signer: Signer, issued_folders: IssuedFolders) -> None:
    issue_and_archive(office, signer, issued_folders)
    code, text = run("register", "check")
    assert code == 0, text
    assert "检查通过" in text


def test_check_names_an_issued_document_changed_since(
    office: Path, signer: Signer, issued_folders: IssuedFolders
) -> None:
    issue_and_archive(office, signer, issued_folders)
    report = office / "output" / NUMBER / "report.pdf"
    report.write_bytes(report.read_bytes() + b"%")
    code, text = run("register", "check")
    assert code == 1
    assert str(Path("output") / NUMBER / "report.pdf") in text
    assert "文件已被改动" in text


def test_check_names_a_damaged_archive_bag(office: Path, signer: Signer, issued_folders: IssuedFolders) -> None:
    issue_and_archive(office, signer, issued_folders)
    pdf = next((office / "records" / "archive").rglob("data/certificate.pdf"))
    os.chmod(pdf, stat.S_IRUSR | stat.S_IWUSR)
    pdf.write_bytes(pdf.read_bytes()[:-10])
    code, text = run("register", "check")
    assert code == 1
    assert "certificate-1" in text


def damage_an_index_page(register: Path) -> None:
    """Overwrite the page of an index that changing a certificate's status never reads."""
    with sqlite3.connect(register) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'certificates_by_organization'"
        ).fetchone()
    with open(register, "r+b") as fh:
        fh.seek((root - 1) * page_size + 8)
        fh.write(b"\xff" * 64)


def test_check_finds_a_damaged_register_page(office: Path, signer: Signer, issued_folders: IssuedFolders) -> None:
    issue_and_archive(office, signer, issued_folders)
    damage_an_index_page(office / "records" / "register.sqlite3")
    code, text = run("register", "check")
    assert code == 1
    assert "records/register.sqlite3" in text
    assert "完整性检查未通过" in text


def test_a_damaged_register_is_refused_before_any_write_naming_the_file(
    office: Path, signer: Signer, issued_folders: IssuedFolders
) -> None:
    issue_and_archive(office, signer, issued_folders)
    register = office / "records" / "register.sqlite3"
    damage_an_index_page(register)
    before = register.read_bytes()
    code, text = run("register", "suspend", NUMBER, "--reason", "监督审核逾期", "--by", "李文")
    assert code == 1
    assert "records/register.sqlite3" in text
    assert "已损坏" in text
    assert register.read_bytes() == before


# -- a register that cannot be written ----------------------------------------------------------


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder another user may enter (pytest's own are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix="certdocs-ro-"))
    os.chmod(folder, 0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_read_only_register_is_named_in_the_failure(shared_tmp: Path, tmp_path: Path) -> None:
    records = shared_tmp / "records"
    with Register.open(records / "register.sqlite3") as register:
        register.set_setting("output", str(shared_tmp / "output"))
    os.chmod(records, 0o777)
    os.chmod(records / "register.sqlite3", 0o444)
    done = run_certdocs(
        ["certificate", AUDIT, "--issue-date", "2026-11-22"],
        cwd=shared_tmp,
        env={
            **os.environ,
            "CERTDOCS_OUTPUT": str(shared_tmp / "output"),
            "CERTDOCS_RECORDS": str(records),
            "CERTDOCS_TEMPLATES": str(ROOT / "templates"),
            "HOME": str(shared_tmp),
        },
        folder=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert str(records / "register.sqlite3") in done.stderr
    assert "只读" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_output_folder_that_cannot_be_looked_into_is_reported_not_a_traceback(
    shared_tmp: Path, tmp_path: Path
) -> None:
    private = shared_tmp / "private"
    (private / "output").mkdir(parents=True)
    os.chmod(private, 0o700)
    if os.geteuid() == 0:  # another user's private folder (root's own it may still enter)
        os.chown(private, NOBODY, NOBODY)
    done = run_certdocs(
        ["register", "list"],
        cwd=shared_tmp,
        env={**os.environ, "CERTDOCS_OUTPUT": str(private / "output"), "CERTDOCS_RECORDS": str(shared_tmp / "records")},
        folder=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert str(private / "output") in done.stderr
    assert "没有" in done.stderr
    assert "Traceback" not in done.stderr
