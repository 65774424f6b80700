"""Long tables are drawn a page at a time; the page links keep the other filters."""

from __future__ import annotations

from typing import Any

from litestar import Request

from server.web.frame import paginate


def request_for(query: str) -> Request[Any, Any, Any]:
    scope: Any = {
        "type": "http",
        "method": "GET",
        "path": "/commitments",
        "query_string": query.encode(),
        "headers": [],
    }
    return Request(scope)


def test_rows_are_shown_a_page_at_a_time_with_links_that_keep_the_filters() -> None:
    rows = list(range(250))
    shown, pager = paginate(request_for("status=overdue&page=2"), rows, size=100)
    assert shown == list(range(100, 200))
    assert (pager.page, pager.pages, pager.total, pager.first, pager.last) == (2, 3, 250, 101, 200)
    assert pager.link(3) == "?status=overdue&page=3"


def test_a_page_past_the_end_or_unreadable_shows_the_nearest() -> None:
    rows = list(range(250))
    assert paginate(request_for("page=9"), rows, size=100)[0] == list(range(200, 250))
    assert paginate(request_for("page=x"), rows, size=100)[0] == list(range(100))
    shown, pager = paginate(request_for(""), [], size=100)
    assert shown == [] and (pager.pages, pager.first, pager.last) == (1, 0, 0)
