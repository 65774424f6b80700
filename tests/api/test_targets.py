"""Targets over HTTP: a partner sets and replaces its own, never another's; a coordinator
sets any partner's; an auditor none. The replacement is a second version of one stream."""

from __future__ import annotations

from tests.api.conftest import Api, ev
from tests.api.test_bad_input import assert_problem

TARGET = "5e7d9c3b-1a2f-4e6d-8c0b-9a8f7e6d5c4b"


async def test_a_partner_sets_and_replaces_its_own_target(api: Api) -> None:
    await api.setup_world()
    first = await api.post("nrc", ev("TargetSet", target_id=TARGET))
    assert first.status_code == 201, first.text
    again = await api.post("nrc", ev("TargetSet", target_id=TARGET, reason="Revised upwards"))
    assert again.status_code == 201, again.text
    assert (first.json()["stream"], again.json()["version"]) == (f"target-{TARGET}", 2)


async def test_a_partner_cannot_set_or_replace_another_partners_target(api: Api) -> None:
    await api.setup_world()
    before = await api.count()
    assert_problem(await api.post("nrc", ev("TargetSet", partner_id="ayandeh")), 403)
    made = ev("TargetSet", target_id=TARGET, partner_id="ayandeh", site_id=None)
    assert (await api.post("coordinator", made)).status_code == 201
    # nrc naming itself cannot take over ayandeh's target either
    taken = ev("TargetSet", target_id=TARGET)
    assert_problem(await api.post("nrc", taken), 403)
    assert_problem(await api.post("auditor", taken), 403)
    assert await api.count() == before + 1


async def test_a_coordinator_cannot_move_a_target_to_another_partner(api: Api) -> None:
    await api.setup_world()
    assert (await api.post("coordinator", ev("TargetSet", target_id=TARGET))).status_code == 201
    moved = ev("TargetSet", target_id=TARGET, partner_id="ayandeh", site_id=None)
    problem = assert_problem(await api.post("coordinator", moved), 422)
    assert problem["type"].endswith("rules/target-partner-changed")
