"""How a Hamkari process uses Python's garbage collector.

Reference counting frees almost everything; the cyclic collector only has to find
cycles. With CPython's default thresholds (a young collection every 700 container
allocations) a report of 8,604 rows or a batch of 100 events sets off collections of
every generation while it is being answered, and a full one walks the whole heap: the
largest report's p99 was twice its median, each slow answer with a full collection
inside (docs/benchmarks.md). So a server process, once started:

- freezes what it allocated while starting (modules, the app, its routes): those live
  as long as the process and no collection need walk them again;
- collects the young generation every 50,000 allocations, and the older ones 20 and
  100 times less often: a few MB more of young objects between collections.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)


def settle_after_start() -> None:
    """Call once a server process has started (the app's lifespan, the projector)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
