"""Text the log accepts, over HTTP: each free-text field x each refused class is a 400
naming the field and the character, and appends nothing; each accepted oddity (ZWNJ,
RLM, Persian and Arabic script, emoji, long text) is appended as it was sent."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.text_cases import ACCEPTED, REFUSED, dotted, free_text_fields, visible, with_text
from tests.text_world import BASE, world

PROBLEM = "application/problem+json"
FIELDS = free_text_fields()


async def test_a_refused_character_in_any_free_text_field_is_a_400_naming_it(api: Api) -> None:
    """The table: every free-text field x every refused class (one app and database for
    all rows: a fresh one per row took 35 s more)."""
    for type_name, path in FIELDS:
        for kind, chars in REFUSED.items():
            char = chars[-1]
            case = (type_name, dotted(path), kind)
            body = {"type": type_name, "data": with_text(type_name, path, f"ok{char}ok")}
            response = await api.post("admin", body)
            assert response.status_code == 400, (case, response.text)
            assert response.headers["content-type"].startswith(PROBLEM), case
            (error,) = response.json()["errors"]
            assert error["path"] == dotted(path), case
            assert f"U+{ord(char):04X}" in error["message"], (case, visible(error["message"]))
    assert await api.count() == 0


async def test_a_refused_character_fails_the_whole_batch_and_names_the_item(api: Api) -> None:
    delivery = with_text("ServiceDelivered", ("activity",), "nul\x00byte")
    body = [
        {"type": "PartnerRegistered", "data": BASE[0][2]},
        {"type": "ServiceDelivered", "data": delivery},
    ]
    response = await api.post("admin", body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == [
        {"path": "[1].data.activity", "message": response.json()["errors"][0]["message"]}
    ]
    assert "U+0000" in response.json()["detail"]
    assert await api.count() == 0


async def test_blank_text_is_refused_as_blank(api: Api) -> None:
    body = {"type": "PartnerSuspended", "data": with_text("PartnerSuspended", ("reason",), " \t")}
    response = await api.post("admin", body)
    assert response.status_code == 400
    assert response.json()["errors"][0] == {"path": "data.reason", "message": "the text is blank"}


async def test_every_accepted_oddity_in_every_free_text_field_is_appended_as_sent(
    api: Api,
) -> None:
    for who, type_name, data in BASE:
        assert (await api.post(who, {"type": type_name, "data": data})).status_code == 201
    posted: dict[str, dict[str, Any]] = {}
    for index, (name, text) in enumerate(ACCEPTED.items()):
        for who, type_name, data, event_id in world(text, str(index)):
            response = await api.post(who, {"type": type_name, "id": event_id, "data": data})
            assert response.status_code == 201, (name, type_name, response.text)
            posted[event_id] = data
    log = (await api.get("auditor", "/v1/events?limit=10000")).json()["events"]
    stored = {event["id"]: event["data"] for event in log}
    for event_id, data in posted.items():
        assert {key: stored[event_id][key] for key in data} == data
    found = {value for event in log for value in _strings(event["data"])}
    assert set(ACCEPTED.values()) <= found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
