"""`hamkari serve`'s projector: `hamkari projections run` as a child process, started
again if it dies, stopped with SIGTERM when the server stops."""

from __future__ import annotations

import logging
import os
import subprocess
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
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._run, name="hamkari-projector", daemon=True)
        self.starts = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """SIGTERM, then wait for it to finish its batch (SIGKILL past the timeout)."""
        with self._lock:
            self._stopping.set()
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                log.warning("projector still running after %.0f s; killed", self._stop_timeout)
                proc.kill()
                proc.wait()
        self._thread.join(timeout=self._stop_timeout)

    def _run(self) -> None:
        # it stops by itself once this process is gone, even killed by SIGKILL
        command = [sys.executable, "-m", "server.cli", "projections", "run"]
        command += ["--parent", str(os.getpid())]
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                self._proc = subprocess.Popen(command, env=self._env)
                self.starts += 1
            code = self._proc.wait()
            # 0: it stopped as asked (SIGTERM, or the terminal's SIGINT to the group)
            if code == 0 or self._stopping.is_set():
                return
            log.error("projector exited with %s; starting it again", code)
            if self._stopping.wait(RESTART_DELAY):
                return
