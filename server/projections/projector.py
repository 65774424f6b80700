"""The projector: a process that runs the projections and nothing else.

`hamkari serve` starts one next to its HTTP workers (`hamkari projections run`), so
that folding the log into the read models never takes the CPU a request is waiting
for; the workers stand by and take a projection over only if no projector holds it
(docs/operator-guide.md). It stops at a batch boundary on SIGTERM or SIGINT, and when
the process that started it is gone (even killed by SIGKILL)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from server.config import Settings
from server.database.pool import create_pool
from server.memory import settle_after_start
from server.projections.host import ProjectionHost
from server.stopping import watch_parent

log = logging.getLogger(__name__)


async def run_projector(dsn: str, settings: Settings, *, parent: int | None = None) -> None:
    """Run every projection this process can lock until told to stop.

    `parent`: the pid of the process that started this one; once it is no longer
    this process's parent (it died), the projector stops too."""
    pool = await create_pool(dsn, settings)
    host = ProjectionHost.configured(pool, dsn, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if parent is not None:

        def orphaned() -> None:
            log.warning("the process that started the projector is gone; stopping")
            loop.call_soon_threadsafe(stop.set)

        watch_parent(parent, orphaned)
    try:
        await host.start()
        settle_after_start()
        log.info("projector running", extra={"fields": {"pid": os.getpid()}})
        await stop.wait()
    finally:
        await host.close(grace=settings.shutdown_timeout)
        try:
            await asyncio.wait_for(pool.close(), settings.shutdown_timeout)
        except TimeoutError:
            pool.terminate()
    log.info("projector stopped", extra={"fields": {"pid": os.getpid()}})
