"""A body that never arrives whole — a malformed chunked encoding, a client that hangs up
mid-body — is the client's fault: a 400 problem from a real `hamkari serve`, never a 500,
and nothing appended."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.conftest import LiveServer, hamkari

HEAD = (
    "POST /v1/events HTTP/1.1\r\nHost: hamkari\r\nAuthorization: Bearer {token}\r\n"
    "Content-Type: application/json\r\n"
)
BROKEN = {
    "a chunk size that is not hex": "Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
    "a chunk shorter than it says": "Transfer-Encoding: chunked\r\n\r\n10\r\nabc\r\n0\r\n\r\n",
    "hanging up mid-chunk": 'Transfer-Encoding: chunked\r\n\r\n5\r\n{"typ',
    "hanging up before Content-Length": 'Content-Length: 1000\r\n\r\n{"type": "Partner',
}


def exchange(server: LiveServer, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        # the client is done sending: for a body still owed, that is hanging up
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.fixture
def admin_token(cli_env: dict[str, str]) -> str:
    issued = hamkari("token", "issue", "--role", "admin", "--name", "bodies", env=cli_env)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


def test_a_body_that_never_arrives_whole_is_a_400(
    live_server: LiveServer, admin_token: str
) -> None:
    for why, rest in BROKEN.items():
        answer = exchange(live_server, (HEAD.format(token=admin_token) + rest).encode())
        status_line, _, rest_of_answer = answer.partition(b"\r\n")
        assert status_line.split()[1] == b"400", f"{why}: {answer[:400]!r}"
        assert b"application/problem+json" in rest_of_answer.lower(), why
    log = httpx.get(
        f"{live_server.url}/v1/events",
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=10,
    )
    assert log.status_code == 200 and log.json()["events"] == []
    assert '"status":500' not in live_server.output()
