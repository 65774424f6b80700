"""Two workers, each with its own cache of aggregates, over one database: what one
worker appends must count in the other's next decision, whether that decision would
accept (the append's expected versions catch a stale cache) or refuse (a refusal is
decided again from the store before the client hears it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.config import Settings
from tests.api.conftest import Api, ev
from tests.api.test_bad_input import assert_problem


@pytest.fixture
async def other(settings: Settings, tokens: dict[str, str]) -> AsyncIterator[Api]:
    """A second worker: another app, with its own cache, on the same database."""
    async with AsyncTestClient(create_app(settings)) as client:
        yield Api(client, tokens)


async def test_a_suspension_by_another_worker_stops_the_next_post(api: Api, other: Api) -> None:
    await api.setup_world()
    assert (await api.post("nrc", ev("ChallengeReported"))).status_code == 201  # nrc cached
    assert (await other.post("admin", ev("PartnerSuspended", partner_id="nrc"))).status_code == 201
    before = await api.count()

    problem = assert_problem(await api.post("nrc", ev("ChallengeReported")), 422)

    assert problem["type"].endswith("/rules/partner-suspended"), problem
    assert await api.count() == before


async def test_a_reinstatement_by_another_worker_lets_the_next_post_in(
    api: Api, other: Api
) -> None:
    await api.setup_world()
    assert (await api.post("admin", ev("PartnerSuspended", partner_id="nrc"))).status_code == 201
    assert_problem(await api.post("nrc", ev("ChallengeReported")), 422)  # cached: suspended
    assert (await other.post("admin", ev("PartnerReinstated", partner_id="nrc"))).status_code == 201

    response = await api.post("nrc", ev("ChallengeReported"))

    assert response.status_code == 201, response.text


async def test_a_site_registered_by_another_worker_is_known_at_once(api: Api, other: Api) -> None:
    await api.setup_world()
    at_new_site = ev("ServiceDelivered", site_id="khalij-fars")
    problem = assert_problem(await api.post("nrc", at_new_site), 422)  # cached: no such site
    assert problem["type"].endswith("/rules/unknown-site"), problem
    registered = await other.post("admin", ev("SiteRegistered", site_id="khalij-fars"))
    assert registered.status_code == 201, registered.text

    response = await api.post("nrc", at_new_site)

    assert response.status_code == 201, response.text
