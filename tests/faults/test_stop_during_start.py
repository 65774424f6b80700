"""A stop at any moment of start-up stops every process of the server: a supervisor that
stops a service it has just restarted must not leave a worker behind holding the port."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer
from tests.waiting import wait_until

SHUTDOWN_TIMEOUT = 5.0
# the moments of start-up to stop at, in seconds after launch: the embedded database
# and the migration (~0.1-0.3 s), the projector and granian starting (~0.5 s), workers
# booting and running their lifespan (~1-2 s); "served": just after /health said 200
MOMENTS: list[float | str] = [0.1, 0.3, 0.5, 1.0, 2.0, "served"]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _health(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _stop_at(server: LiveServer, moment: float | str, signum: signal.Signals) -> None:
    """Launch the server, and send `signum` to its main process at `moment`."""
    server.launch()
    assert server.process is not None
    if moment == "served":
        wait_until(lambda: _health(server.url), 60, what="/health 200")
    else:
        # the moment itself is what is under test, not a wait for something
        time.sleep(float(moment))
    # to the main process only, as a supervisor signals the service's main pid
    server.process.send_signal(signum)


def _assert_all_gone(server: LiveServer, within: float) -> None:
    wait_until(lambda: not server.group(), within, what="every process of the server gone")
    wait_until(lambda: _port_free(server.port), 2, what="the port free")


@pytest.mark.slow
@pytest.mark.parametrize("moment", MOMENTS)
def test_sigterm_at_any_moment_of_start_up_stops_every_process(
    cli_env: dict[str, str], tmp_path: Path, moment: float | str
) -> None:
    env = {**cli_env, "HAMKARI_SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT)}
    server = LiveServer(env, "--workers", "2", log_dir=tmp_path)
    try:
        _stop_at(server, moment, signal.SIGTERM)
        assert server.process is not None
        server.process.wait(timeout=SHUTDOWN_TIMEOUT + 15)
        _assert_all_gone(server, SHUTDOWN_TIMEOUT)
        # and gracefully: no worker went on serving until granian killed it
        assert "refused to gracefully stop" not in server.output()
    except BaseException:
        print(server.output()[-6000:])
        raise
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("moment", [0.5, 1.0, 2.0, "served"])
def test_workers_and_projector_stop_once_the_main_process_is_killed(
    cli_env: dict[str, str], tmp_path: Path, moment: float | str
) -> None:
    env = {**cli_env, "HAMKARI_SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT)}
    server = LiveServer(env, "--workers", "2", log_dir=tmp_path)
    try:
        _stop_at(server, moment, signal.SIGKILL)
        assert server.process is not None
        server.process.wait(timeout=5)
        # they notice within half a second, then stop as on SIGTERM (a worker forked
        # just before the kill notices once its imports are done: slower when loaded)
        _assert_all_gone(server, SHUTDOWN_TIMEOUT + 10)
    except BaseException:
        print(server.output()[-6000:])
        raise
    finally:
        server.stop()
