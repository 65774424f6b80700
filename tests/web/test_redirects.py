"""After switching the language the browser goes back where it was, and only there:
never to another site, whatever the form says."""

from __future__ import annotations

import pytest

from server.web.access import safe_next


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "evil.example",
        "",
    ],
)
def test_only_paths_on_this_site_are_followed(target: str) -> None:
    assert safe_next(target) == "/"


def test_the_page_and_its_filters_are_kept_but_not_its_months() -> None:
    assert safe_next("/pledges?partner=nrc") == "/pledges?partner=nrc"
    assert safe_next("/?month=1405-07") == "/"
    assert (
        safe_next("/who-what-where?sector=health&from=1405-01&to=1405-06&site=care-camp")
        == "/who-what-where?sector=health&site=care-camp"
    )
