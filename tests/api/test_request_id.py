"""New request ids: version-4 UUIDs, never the same twice, another prefix in each worker."""

from __future__ import annotations

import os
import uuid

from server.api.request_id import new_request_id


def test_new_request_ids_are_distinct_version_4_uuids() -> None:
    ids = [new_request_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert {uuid.UUID(i).version for i in ids} == {4}
    assert all(str(uuid.UUID(i)) == i for i in ids)


def test_a_forked_worker_draws_its_own_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a granian worker is forked the same way
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    parent = new_request_id()
    assert uuid.UUID(child).version == 4
    assert child[:24] != parent[:24]
