"""How `hamkari serve`'s child processes stop: by themselves once the process that
started them is gone, and, for the HTTP workers, once it has begun to stop.

One mechanism for the projector and the workers: a thread that watches the parent's
pid (PR_SET_PDEATHSIG would fire when the parent's *thread* that forked us ends, and
granian starts workers from more than one thread)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# how often a child looks for its parent: about the longest it outlives it
PARENT_CHECK_INTERVAL = 0.5
# `hamkari serve` tells its workers its pid, and the file it creates when it begins to
# stop (server/cli/serve.py)
SERVER_PID_ENV = "HAMKARI_SERVER_PID"
STOPPING_FILE_ENV = "HAMKARI_SERVER_STOPPING_FILE"


def watch_parent(
    parent: int,
    on_gone: Callable[[], None],
    *,
    stopping: Callable[[], bool] = lambda: False,
    every: float = PARENT_CHECK_INTERVAL,
) -> threading.Thread:
    """Call `on_gone` once, from a daemon thread, when `parent` is no longer this
    process's parent (it died, even by SIGKILL, and we were handed on) or `stopping()`
    says it is on its way out."""

    def watch() -> None:
        while os.getppid() == parent and not stopping():
            time.sleep(every)
        on_gone()

    thread = threading.Thread(target=watch, name="hamkari-parent-watch", daemon=True)
    thread.start()
    return thread


# set by the worker's app once its lifespan has started (server/app.py), with when
_serving = threading.Event()
_serving_since = [0.0]


def now_serving() -> None:
    """The worker's lifespan has started: granian's own signal handling is in place."""
    _serving_since[0] = time.time()
    _serving.set()


def stop_worker_with_server(grace: float, every: float = PARENT_CHECK_INTERVAL) -> None:
    """In an HTTP worker: once `hamkari serve` (granian's main process) is gone or has
    begun to stop, make sure this worker stops as on SIGTERM (finish the requests, close
    the pool), and exit regardless after `grace` seconds.

    The SIGTERM granian's main process sends is not always enough. Its workers are
    forked, and until a worker serves (after its imports, the app factory and the
    lifespan's start-up: seconds on a loaded machine) a SIGTERM is lost: it runs the
    handler inherited from the main process, or sets a flag that granian's server only
    starts watching once it serves. The worker went on to serve with no main process
    (issue 14). So a worker that learns of the stop before it serves, or whose main
    process is gone, sends itself SIGTERM once it serves. Only then, and only once: a
    second SIGTERM makes granian drop the requests in flight."""
    expected = os.environ.get(SERVER_PID_ENV)
    parent = int(expected) if expected else os.getppid()
    stopping_file = os.environ.get(STOPPING_FILE_ENV)

    def server_stopping() -> bool:
        return stopping_file is not None and Path(stopping_file).exists()

    def signal_lost() -> bool:
        """The main process is gone, or began to stop (and sent its SIGTERM) before
        this worker served."""
        if os.getppid() != parent or not _serving.is_set():
            return True
        assert stopping_file is not None
        return Path(stopping_file).stat().st_mtime <= _serving_since[0]

    def stop() -> None:
        deadline = time.monotonic() + grace
        if signal_lost():
            log.info("the server is stopping or gone; this worker stops", extra=_pid())
            if _serving.wait(max(0.0, deadline - time.monotonic())):
                time.sleep(every)  # granian's server starts right after the lifespan
                os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(max(0.0, deadline - time.monotonic()))
        log.error("the worker did not stop within %.0f s; exiting", grace, extra=_pid())
        os._exit(1)

    watch_parent(parent, stop, stopping=server_stopping, every=every)


def _pid() -> dict[str, dict[str, int]]:
    return {"fields": {"pid": os.getpid()}}
