"""A primary and a hot standby on one machine, from the embedded PostgreSQL's own
binaries (initdb, pg_basebackup -R, synchronous_standby_names): for the fault suite, and
for an operator to try a failover (`make replicated`, docs/operator-guide.md).

Both listen on 127.0.0.1, each on its own port, so the server's DATABASE_URL names
them as an operator's would: `postgresql://postgres@127.0.0.1:P1,127.0.0.1:P2/hamkari
?target_session_attrs=read-write`. The standby streams from the primary; when
`synchronous`, the primary's commits wait for it (`synchronous_commit` says how far)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

from server.database.embedded import SUPERUSER, EmbeddedPostgres, EmbeddedPostgresError
from server.database.runtime import ensure_database

PRIMARY_PORT = 54321
STANDBY_PORT = 54322


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


class ReplicatedPostgres:
    """Two clusters under `root` (`primary/`, `standby/`). `start` makes what is missing
    and waits until the standby streams (and, when synchronous, is the sync standby)."""

    def __init__(
        self,
        root: Path,
        *,
        primary_port: int = PRIMARY_PORT,
        standby_port: int = STANDBY_PORT,
        synchronous: bool = True,
        synchronous_commit: str = "on",
    ) -> None:
        self.root = root.resolve()
        self.synchronous = synchronous
        common = {"listen_addresses": "127.0.0.1", "wal_keep_size": "256MB"}
        primary_settings = dict(common)
        if synchronous:
            # any one standby acknowledges; on the command line, not in the data
            # directory, so a standby copied from it (and promoted) waits for nobody
            primary_settings["synchronous_standby_names"] = "*"
            primary_settings["synchronous_commit"] = synchronous_commit
        self.primary = EmbeddedPostgres(
            self.root / "primary", port=primary_port, server_settings=primary_settings
        )
        self.standby = EmbeddedPostgres(
            self.root / "standby",
            port=standby_port,
            server_settings={
                **common,
                "hot_standby": "on",
                # a promoted standby has no standby of its own: it must not wait for one
                "synchronous_standby_names": "",
                # the primary keeps rows a long report on the standby still reads,
                # rather than the standby cancelling the report
                "hot_standby_feedback": "on",
            },
        )

    # -- where they are -----------------------------------------------------------
    def dsn(self, database: str = "postgres") -> str:
        """Both hosts, primary first; a client takes whichever accepts writes."""
        hosts = f"127.0.0.1:{self.primary.port},127.0.0.1:{self.standby.port}"
        return f"postgresql://{SUPERUSER}@{hosts}/{database}?target_session_attrs=read-write"

    def primary_dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.primary.port}/{database}"

    def standby_dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.standby.port}/{database}"

    # -- lifecycle ----------------------------------------------------------------
    def start(self, timeout: float = 60) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.primary.start()
        if not self.standby.initialised():
            self._base_backup()
        self.standby.start()
        self.wait_streaming(timeout)

    def _base_backup(self) -> None:
        target = self.standby.pgdata
        target.mkdir(parents=True, exist_ok=True)
        self.standby._chown(target)
        target.chmod(0o700)
        # -R: the copy starts as a standby of the primary (standby.signal and
        # primary_conninfo); -X stream: with the WAL written while it copies
        self.standby._run(
            "pg_basebackup",
            "-D",
            str(target),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "-d",
            f"host=127.0.0.1 port={self.primary.port} user={SUPERUSER}"
            " application_name=hamkari_standby",
            timeout=300,
        )

    def replication(self) -> list[tuple[str, str]]:
        """(state, sync_state) of each standby the primary streams to."""
        out = self._psql(self.primary, "SELECT state || ' ' || sync_state FROM pg_stat_replication")
        return [tuple(line.split(" ", 1)) for line in out.splitlines() if line]  # type: ignore[misc]

    def wait_streaming(self, timeout: float = 60) -> None:
        wanted = ("streaming", "sync" if self.synchronous else "async")
        deadline = time.monotonic() + timeout
        while wanted not in self.replication():
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(
                    f"the standby is not {' and '.join(wanted)} after {timeout} s:"
                    f" {self.replication()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        # the primary first: a synchronous primary would wait for a stopped standby
        for cluster in (self.primary, self.standby):
            cluster.stop()

    def destroy(self) -> None:
        for cluster in (self.primary, self.standby):
            cluster.destroy()

    # -- faults -----------------------------------------------------------------
    def kill_primary(self) -> None:
        """SIGKILL the primary's postmaster and every process of it at once: the
        machine is gone, nothing is flushed or sent after this."""
        pid = _postmaster_pid(self.primary)
        victims = [pid, *_children(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{victim}").exists() and _alive(victim) for victim in victims):
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError("the primary's processes outlived SIGKILL")
            time.sleep(0.02)

    def promote(self) -> None:
        """What Patroni or the data centre's tooling does: the standby becomes the
        primary (pg_ctl promote waits until it accepts writes)."""
        self.standby._run("pg_ctl", "-D", str(self.standby.pgdata), "-w", "-t", "60", "promote")

    def cut_off_standby(self, unreachable_port: int, timeout: float = 30) -> None:
        """Point the standby's WAL receiver at a port nobody listens on, and wait until
        the primary streams to no one: a standby cut off from its primary (a network
        partition). What the primary commits from here on reaches the standby only if
        it is reconnected (stopping the receiver's process would not do: the kernel
        still takes the WAL into its socket, to be read once it runs again)."""
        self._psql(
            self.standby,
            "ALTER SYSTEM SET primary_conninfo ="
            f" 'host=127.0.0.1 port={unreachable_port} user={SUPERUSER}'",
        )
        self._psql(self.standby, "SELECT pg_reload_conf()")
        deadline = time.monotonic() + timeout
        while self.replication():
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError("the standby is still streaming")
            time.sleep(0.05)

    def _psql(self, cluster: EmbeddedPostgres, sql: str) -> str:
        result = cluster._run(
            "psql",
            "-X",
            "-At",
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-c",
            sql,
            timeout=30,
        )
        return result.stdout


def _postmaster_pid(cluster: EmbeddedPostgres) -> int:
    try:
        return int((cluster.pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, IndexError, ValueError) as exc:
        raise EmbeddedPostgresError(f"{cluster.pgdata} is not running") from exc


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def main(argv: list[str] | None = None) -> int:
    """`make replicated`: start the pair under ./var/replicated and keep it up until
    Ctrl-C; `promote`: promote its standby (after killing the primary, to try a
    failover; docs/operator-guide.md)."""
    parser = argparse.ArgumentParser(prog="python -m server.database.replicated")
    parser.add_argument("action", nargs="?", choices=["start", "promote"], default="start")
    parser.add_argument("--dir", default="var/replicated", help="where both data directories go")
    parser.add_argument("--asynchronous", action="store_true", help="no synchronous standby")
    args = parser.parse_args(argv)
    pair = ReplicatedPostgres(Path(args.dir), synchronous=not args.asynchronous)
    if args.action == "promote":
        pair.promote()
        print(f"promoted: {pair.standby_dsn()}")
        return 0
    pair.start()
    try:
        asyncio.run(ensure_database(pair.primary_dsn(), "hamkari"))
        print(
            "primary and hot standby streaming"
            f" ({'synchronous' if pair.synchronous else 'asynchronous'}); for `make run`:\n"
            f"  export DATABASE_URL='{pair.dsn('hamkari')}'\n"
            f"  export HAMKARI_READ_DATABASE_URL='{pair.standby_dsn('hamkari')}'\n"
            "Ctrl-C stops both.",
            flush=True,
        )
        stop = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop)
        signal.sigwait(stop)
    finally:
        pair.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
