"""A real PostgreSQL server for the tests: a copy of an ``initdb`` result kept between runs
(:func:`template_folder`) in a temporary folder (in memory where possible, :func:`scratch_folder`),
stopped and removed after.

One server per test process (each pytest-xdist worker starts its own, in its own folder).

The server listens on a Unix socket in its own folder and on 127.0.0.1 at a free port, nowhere
else. Local (socket) connections are trusted; TCP connections need a password (SCRAM), so the
tests can try passwords from the URL, ``PGPASSWORD`` and ``~/.pgpass``. PostgreSQL refuses to
run as root: as root ``initdb`` and the server run as the ``postgres`` system user.

The server is the test process's own child, started and stopped without ``pg_ctl``: ``pg_ctl``
looks at the server every 0.1 s, so each start and each stop waited 0.1-0.2 s more than the
server took (20-60 ms to start, 5-15 ms to stop). Here a start waits for the server's own word
that it accepts connections (``READY=1``, the systemd notification Debian's PostgreSQL sends to
``NOTIFY_SOCKET``; without it, ``postmaster.pid`` saying ``ready``), and a stop is the signal
``pg_ctl`` would send, then a wait for the process to end.

Without PostgreSQL's binaries the tests that need the server are skipped, saying so.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import os
import pwd
import select
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SUPERUSER = "certdocs"
PASSWORD_USER = "office"
PASSWORD = "s3cret-Pässwort"


# The signal ``pg_ctl stop -m MODE`` sends the server (PostgreSQL's documented shutdown modes).
SHUTDOWN_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


def postgres_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: ``$PG_BIN``, ``pg_config --bindir``, else Debian's newest."""
    candidates = [os.environ.get("PG_BIN", "")]
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        candidates.append(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout)
    candidates += sorted((str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")), reverse=True)
    for candidate in candidates:
        folder = Path(candidate.strip())
        if candidate.strip() and (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def scratch_folder() -> Path:
    """Where the servers' data folders go: ``/dev/shm`` (memory) when there is room, else the temp folder.

    On this project's disk, ``CREATE DATABASE`` (a file copy and two checkpoints) took 0.18 s and
    on ``/dev/shm`` 0.02 s; ``initdb`` 3.3 s against 1.2 s. fsync is off on the test server either
    way: a test server never outlives its machine, so memory loses nothing the tests rely on
    (a server killed with ``stop("immediate")`` keeps every committed transaction: its WAL was
    handed to the kernel at commit).
    """
    shm = Path("/dev/shm")
    try:
        stats = os.statvfs(shm)
    except OSError:
        return Path(tempfile.gettempdir())
    room = stats.f_bavail * stats.f_frsize
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) and room >= 2 * 1024**3:
        return shm
    return Path(tempfile.gettempdir())


def _run_pid() -> int:
    """The pytest process that started this test run (the xdist controller, for a worker)."""
    return os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()


# How the tests' data folder is made (the server's own options come at start: PostgresServer.start).
INITDB_ARGS = ("-U", SUPERUSER, "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256")


def template_folder(pg_bin: Path) -> Path:
    """Where one ``initdb`` result is kept that every server of every test run copies (initdb costs
    0.65 s of CPU, about a second; a copy 30 ms).

    Kept between runs, in memory where :func:`scratch_folder` is ``/dev/shm`` (39 MB, gone at the
    next restart): a data folder ``initdb`` has just made and no server has run on is the same
    whichever run made it. Named after what makes it: the ``initdb`` and ``postgres`` programs
    (their path, size and time: another PostgreSQL makes another folder), :data:`INITDB_ARGS`,
    and the user the tests run as. :meth:`PostgresServer.init` uses it only when it belongs to
    that user (or to ``postgres``) and no one else may write to it, and makes it again otherwise.
    """
    marks: list[object] = [INITDB_ARGS, os.geteuid()]
    for program in ("initdb", "postgres"):
        info = (pg_bin / program).stat()
        marks += [str(pg_bin / program), info.st_size, info.st_mtime_ns]
    key = hashlib.sha256(repr(marks).encode()).hexdigest()[:16]
    return scratch_folder() / f"certdocs-pginit-{key}"


_OWNER = "owner"  # in a server's folder: the pid of the test run it belongs to


def remove_stale_folders(pg_bin: Path | None, *, as_postgres: bool) -> list[Path]:
    """Stop the servers and remove the folders of test runs that were killed (their process is gone).

    A run killed with kill -9 never reaches its clean-up: its server keeps running and its
    folders stay, in memory when they are in /dev/shm. Folders of runs still alive (another
    pytest at the same time) and folders without an owner are left alone. Returns what it removed.
    """
    removed: list[Path] = []
    for where in dict.fromkeys((scratch_folder(), Path(tempfile.gettempdir()))):
        for entry in sorted(where.glob("certdocs-pg-*")):
            owner = _owner_of(entry)
            if owner is None or _alive(owner):
                continue
            if pg_bin is not None:
                stop_server_of(entry / "data", "immediate")
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def stop_server_of(data: Path, mode: str) -> None:
    """Stop the server running on ``data`` (as ``pg_ctl stop -m MODE -w`` would), if one is.

    The server is found by its ``postmaster.pid``, and signalled only if that process is a
    PostgreSQL server of this data folder (a stale file's pid may be anyone's by now).
    """
    try:
        pid = int((data / "postmaster.pid").read_text(encoding="utf-8").split("\n", 1)[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return
    if not command[0].endswith(b"postgres") or os.fsencode(data) not in command:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, SHUTDOWN_SIGNALS[mode])
        _wait_for_exit(pid, timeout=60)


def _wait_for_exit(pid: int, *, timeout: float) -> None:
    """Wait until process ``pid`` (any process, not only a child) has ended."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        if not select.select([handle], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired(f"PostgreSQL server {pid}", timeout)
    finally:
        os.close(handle)


def _owner_of(entry: Path) -> int | None:
    name = entry.name.removesuffix(".lock").removesuffix(".building")
    if name.startswith("certdocs-pg-initdb-"):
        tail = name.removeprefix("certdocs-pg-initdb-")
        return int(tail) if tail.isdigit() else None
    try:
        text = (entry / _OWNER).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_template_folder() -> None:
    """What an ``initdb`` that failed in this run left (its ``.building`` folders); the result itself is kept.

    For the process that started the run, at its end. The ``initdb`` result is kept for the next
    runs (:func:`template_folder`).
    """
    if (pg_bin := postgres_bin()) is None:
        return
    template = template_folder(pg_bin)
    if not (template.parent / f"{template.name}.lock").exists():
        return
    with _lock_file(template) as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another run is making it now
        shutil.rmtree(template.parent / f"{template.name}.building", ignore_errors=True)


def _lock_file(template: Path) -> Any:
    """The lock file beside ``template``, opened without truncating it or following a link someone put there."""
    fd = os.open(template.parent / f"{template.name}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    return os.fdopen(fd, "r+b")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that no one listens on now (another process may take it before us)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerStartFailed(RuntimeError):
    """The server ended (or never said it was ready) instead of starting; the message is its log."""


@dataclass
class PostgresServer:
    """One running test server, and the databases made on it."""

    bin: Path
    folder: Path
    port: int
    as_postgres: bool
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _register_template: str = ""
    _process: subprocess.Popen[bytes] | None = None  # the server, while this object runs it
    _admin: Any = None  # one superuser connection to ``postgres`` for admin() and new_database(), kept

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    def _as_owner(self) -> dict[str, Any]:
        """How a process of the server's is started: as the ``postgres`` user when the tests run as root."""
        if not self.as_postgres:
            return {}
        return {"user": "postgres", "group": "postgres", "extra_groups": [], "cwd": self.folder}

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / argv[0]), *argv[1:]]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120, **self._as_owner())

    def init(self) -> None:
        """A new data folder: a copy of the kept ``initdb`` result (made if missing: :func:`template_folder`)."""
        self.socket_dir.mkdir()
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        template = template_folder(self.bin)
        with _lock_file(template) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # other test processes wait for the one making it
            if not self._trusted(template):
                self._initdb(template)
        # cp -a keeps the owner (postgres, when run as root) and the 0700 PostgreSQL insists on.
        subprocess.run(["cp", "-a", str(template / "data"), str(self.data)], check=True, timeout=120)

    def _trusted(self, template: Path) -> bool:
        """Whether ``template`` is a whole ``initdb`` result that only this user (or ``postgres``) could have made.

        ``/dev/shm`` and the temp folder are everyone's: a folder of that name someone else made,
        or may still change, could hold a configuration that runs commands as the server's user.
        """
        owners = {os.geteuid()} | ({pwd.getpwnam("postgres").pw_uid} if self.as_postgres else set())
        for path in (template, template / "data"):
            try:
                info = os.lstat(path)
            except OSError:
                return False
            if not stat.S_ISDIR(info.st_mode) or info.st_uid not in owners or info.st_mode & 0o022:
                return False
        return (template / "data" / "global" / "pg_control").is_file()

    def _initdb(self, template: Path) -> None:
        if template.is_symlink() or template.exists():
            # Not trusted (see _trusted): out of the way, whoever made it.
            if template.is_dir() and not template.is_symlink():
                shutil.rmtree(template)
            else:
                template.unlink()
        building = template.parent / f"{template.name}.building"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(mode=0o700)
        if self.as_postgres:
            shutil.chown(building, "postgres", "postgres")
        self._run("initdb", "-D", str(building / "data"), *INITDB_ARGS)
        building.rename(template)

    def start(self) -> None:
        """Start the server and wait until it accepts connections; :class:`ServerStartFailed` if it ends first."""
        # fsync off, as nothing here outlives the machine; synchronous_commit stays on, so a commit
        # is in the kernel's hands when the client hears of it and a killed server loses none.
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "fsync": "off",
            "max_connections": "40",
            "shared_buffers": "16MB",
        }
        command = [str(self.bin / "postgres"), "-D", str(self.data)]
        for name, value in options.items():
            command += ["-c", f"{name}={value}"]
        # An abstract socket (Linux): the postgres user may send to it, and it leaves no file.
        name = f"certdocs-pg-notify-{os.getpid()}-{self.port}-{time.monotonic_ns()}"
        with (
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify,
            (self.folder / "log").open("ab") as log,
        ):
            notify.bind(f"\0{name}")
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NOTIFY_SOCKET": f"@{name}"},
                start_new_session=True,  # as pg_ctl's server: no terminal's Ctrl+C reaches it
                **self._as_owner(),
            )
            try:
                self._wait_until_ready(process, notify)
            except BaseException:
                process.kill()
                process.wait()
                raise
        self._process = process

    def _wait_until_ready(self, process: subprocess.Popen[bytes], notify: socket.socket, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        ended = os.pidfd_open(process.pid)
        try:
            while (left := deadline - time.monotonic()) > 0:
                # Without the systemd notification (a PostgreSQL built without it), look at
                # postmaster.pid every 10 ms instead; the server's end wakes this up at once either way.
                ready, _, _ = select.select([notify.fileno(), ended], [], [], min(left, 0.01))
                if ended in ready:
                    process.wait()
                    raise ServerStartFailed((self.folder / "log").read_text(errors="replace"))
                if notify.fileno() in ready and b"READY=1" in notify.recv(4096).split(b"\n"):
                    return
                if self._says_ready(process.pid):
                    return
        finally:
            os.close(ended)
        raise ServerStartFailed(f"PostgreSQL did not start within {timeout} s")

    def _says_ready(self, pid: int) -> bool:
        """Whether server ``pid``'s ``postmaster.pid`` says ``ready`` (its status line, the eighth)."""
        try:
            lines = (self.data / "postmaster.pid").read_text(encoding="utf-8").splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"

    def stop(self, mode: str = "fast") -> None:
        """Stop the server as ``pg_ctl stop -m MODE -w`` does (nothing to do when it is not running).

        ``mode="immediate"`` is a crash: no shutdown checkpoint, clients cut.
        """
        self._close_admin()
        process, self._process = self._process, None
        if process is None:
            stop_server_of(self.data, mode)
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(SHUTDOWN_SIGNALS[mode])
        process.wait(timeout=60)

    def url(self, database: str, *, user: str = SUPERUSER) -> str:
        """A ``postgresql://`` URL of ``database`` over the Unix socket."""
        return f"postgresql://{user}@/{database}?host={self.socket_dir}&port={self.port}"

    def tcp_url(self, database: str, *, user: str = PASSWORD_USER, password: str | None = None) -> str:
        """A ``postgresql://`` URL of ``database`` over TCP on 127.0.0.1 (password authentication)."""
        secret = f":{password}" if password is not None else ""
        return f"postgresql://{user}{secret}@127.0.0.1:{self.port}/{database}"

    def _admin_connection(self) -> Any:
        """The superuser's connection to ``postgres``, opened again after a restart.

        Kept for the session: a connection costs the server 4-5 ms of CPU (a backend started),
        about as much as the ``CREATE DATABASE`` each test's new database is.
        """
        import psycopg

        if self._admin is None or self._admin.closed or self._admin.broken:
            self._close_admin()
            self._admin = psycopg.connect(self.url("postgres"), autocommit=True)
        return self._admin

    def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                admin.close()

    def admin(self, *statements: str) -> None:
        """Run statements as the superuser in the ``postgres`` database, one by one."""
        conn = self._admin_connection()
        for statement in statements:
            conn.execute(statement)

    def new_database(self, *, template: str = "template0") -> str:
        """A new UTF-8 database (owned by the password user too), a copy of ``template``, by name."""
        name = f"register_{next(self._names)}"
        conn = self._admin_connection()
        # From PostgreSQL 15 on, copying template0's few files is about twice as quick as the
        # default (writing it all through the WAL); fsync is off on the test server.
        strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
        conn.execute(f"CREATE DATABASE {name} OWNER {PASSWORD_USER} ENCODING 'UTF8' TEMPLATE {template}{strategy}")
        return name

    def new_register(self) -> str:
        """A new database holding an empty register at the newest version, by name.

        A copy of one database this server migrated once: for the tests of what a register does,
        which need not watch every migration run again (tests/test_register_migrations.py and
        ``new_database`` do). Copying costs a fifth of migrating.
        """
        if not self._register_template:
            from certdocs.register import Register

            template = self.new_database()
            Register.open(self.url(template)).close()
            self._register_template = template
        return self.new_database(template=self._register_template)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session (skips the test without PostgreSQL)."""
    pg_bin = postgres_bin()
    if pg_bin is None:
        pytest.skip("PostgreSQL 未安装（需要 initdb 与 pg_ctl，Debian 软件包 postgresql）")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg 未安装（pip install 'certdocs[postgresql]'）")
    as_postgres = os.geteuid() == 0
    if as_postgres:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("以 root 运行测试时需要系统用户 postgres 来运行 PostgreSQL")
    remove_stale_folders(pg_bin, as_postgres=as_postgres)
    folder = Path(tempfile.mkdtemp(prefix="certdocs-pg-", dir=scratch_folder()))
    (folder / _OWNER).write_text(str(_run_pid()), encoding="ascii")
    server = PostgresServer(pg_bin, folder, free_port(), as_postgres)
    try:
        server.init()
        for attempt in range(3):
            try:
                server.start()
                break
            except ServerStartFailed:
                # Another test worker's server may have taken the free port first.
                if attempt == 2:
                    raise RuntimeError((folder / "log").read_text(errors="replace")) from None
                server.port = free_port()
        server.admin(f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'")
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database on the test server."""
    return postgres_server.url(postgres_server.new_database())


def postgres_register_url(request: pytest.FixtureRequest) -> str:
    """The URL of a new database holding an empty, up-to-date register (:meth:`PostgresServer.new_register`).

    Called from a fixture parametrised over the backends, so the server starts only when a
    PostgreSQL case runs.
    """
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.url(server.new_register())
