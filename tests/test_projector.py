"""`hamkari serve` runs the projections in a process of their own (the projector), so
that folding the log never takes a request worker's CPU: started with the server,
started again if it dies, stopped with it, and never left behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.builders import partner_registered
from tests.conftest import LiveServer
from tests.test_live_server import tokens_for

pytestmark = pytest.mark.slow


def projectors() -> set[int]:
    """The pids of every running `hamkari projections run`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"projections" in command and b"run" in command and b"server.cli" in command:
            found.add(int(entry.name))
    return found


def projector_of(server: LiveServer) -> int:
    """The one projector whose process group is the server's."""
    ours = {pid for pid in projectors() if _group(pid) == server.pid}
    assert len(ours) == 1, ours
    return ours.pop()


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def wait_for(
    condition: object, what: str, timeout: float = 30, server: LiveServer | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            seen = {pid: _group(pid) for pid in projectors()}
            output = server.output()[-3000:] if server is not None else ""
            raise AssertionError(f"not within {timeout} s: {what}; projectors {seen}\n{output}")
        time.sleep(0.1)


def register_and_read(server: LiveServer, token: str, partner: str) -> None:
    """Post an event, then read a report that must reflect it (`min_position`)."""
    headers = {"Authorization": f"Bearer {token}"}
    posted = httpx.post(
        f"{server.url}/v1/events",
        json={"type": "PartnerRegistered", "data": partner_registered(partner)},
        headers=headers,
        timeout=10,
    )
    assert posted.status_code == 201, posted.text
    position = posted.json()["position"]
    report = httpx.get(
        f"{server.url}/v1/reports/partners/{partner}?min_position={position}",
        headers=headers,
        timeout=20,
    )
    assert report.status_code == 200, report.text
    assert report.json()["as_of_position"] >= position


def standing(server: LiveServer, token: str) -> dict[str, object]:
    answer = httpx.get(
        f"{server.url}/v1/admin/projections",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def all_running(server: LiveServer, token: str) -> bool:
    return all(p["running"] for p in standing(server, token)["projections"])  # type: ignore[attr-defined]


async def test_the_projections_run_in_their_own_process(
    live_server: LiveServer, database_url: str
) -> None:
    token = (await tokens_for(database_url))["admin"]
    projector_of(live_server)
    wait_for(lambda: all_running(live_server, token), "every projection running")

    # the worker that answers holds none of them: the projector does
    assert standing(live_server, token)["this_process"] == []
    register_and_read(live_server, token, "p-own-process")


async def test_a_killed_projector_is_started_again(
    live_server: LiveServer, database_url: str
) -> None:
    token = (await tokens_for(database_url))["admin"]
    first = projector_of(live_server)

    os.kill(first, signal.SIGKILL)

    def restarted() -> bool:
        # (a killed process has no command line, so `projectors` leaves it out even
        # before it is reaped)
        ours = {pid for pid in projectors() if _group(pid) == live_server.pid}
        return first not in ours and len(ours) == 1

    wait_for(restarted, "a new projector in the server's process group", server=live_server)
    second = projector_of(live_server)
    assert second != first
    wait_for(lambda: all_running(live_server, token), "every projection running again")
    register_and_read(live_server, token, "p-after-restart")


def test_the_projector_stops_with_the_server(cli_env: dict[str, str]) -> None:
    server = LiveServer(cli_env)
    server.start()
    try:
        projector = projector_of(server)
        # (a projector still starting has no handler yet: SIGTERM simply ends it)
        wait_for(lambda: "projector running" in server.output(), "the projector running")
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)  # the server alone, as systemd does
        server.process.wait(timeout=40)
        wait_for(lambda: _group(projector) is None, "the projector gone")
        assert "projector stopped" in server.output()
    finally:
        server.stop()


def test_the_projector_is_not_left_behind_by_a_killed_server(cli_env: dict[str, str]) -> None:
    server = LiveServer(cli_env)
    server.start()
    try:
        projector = projector_of(server)
        os.kill(server.pid, signal.SIGKILL)  # the server alone, not its group

        wait_for(lambda: _group(projector) is None, "the orphaned projector gone", timeout=15)
    finally:
        server.stop()
