"""`hamkari serve`'s projector: `hamkari projections run` as a child process, started
again if it dies, stopped with SIGTERM when the server stops.

It is started with posix_spawn, not subprocess.Popen: Popen waits on a pipe that the
child's exec closes, and granian forks its workers from another thread of this
process; a worker forked in that moment holds the pipe open, and Popen (and with it
every restart) waited until that worker exited."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping

log = logging.getLogger(__name__)

# a projector that exits by itself with a failure is started again after this long
RESTART_DELAY = 1.0


class ProjectorProcess:
    def __init__(self, env: Mapping[str, str], *, stop_timeout: float = 30.0) -> None:
        self._env = dict(env)
        self._stop_timeout = stop_timeout
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._exited = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hamkari-projector", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """SIGTERM, then wait for it to finish its batch (SIGKILL past the timeout)."""
        with self._lock:
            self._stopping.set()
            pid = None if self._exited.is_set() else self._pid
        if pid is not None:
            _signal(pid, signal.SIGTERM)
            if not self._exited.wait(self._stop_timeout):
                log.warning("projector still running after %.0f s; killed", self._stop_timeout)
                _signal(pid, signal.SIGKILL)
        self._thread.join(timeout=self._stop_timeout)

    def _run(self) -> None:
        # it stops by itself once this process is gone, even killed by SIGKILL
        argv = [sys.executable, "-m", "server.cli", "projections", "run"]
        argv += ["--parent", str(os.getpid())]
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                self._exited.clear()
                self._pid = os.posix_spawn(sys.executable, argv, self._env)
            _, status = os.waitpid(self._pid, 0)
            self._exited.set()
            code = os.waitstatus_to_exitcode(status)
            # 0: it stopped as asked (SIGTERM, or the terminal's SIGINT to the group)
            if code == 0 or self._stopping.is_set():
                return
            log.error("projector exited with %s; starting it again", code)
            if self._stopping.wait(RESTART_DELAY):
                return


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
