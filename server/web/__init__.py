"""The coordinators' dashboard: server-rendered Persian/English pages over the same
projections as the JSON reports, behind a session cookie instead of a bearer token.

`web_routers(settings)` and `TEMPLATE_CONFIG` are what create_app wires in; `WEB_PATHS`
is the pattern the bearer-token middleware leaves to the dashboard's own sign-in."""

from server.web.setup import TEMPLATE_CONFIG, WEB_PATHS, web_routers

__all__ = ["TEMPLATE_CONFIG", "WEB_PATHS", "web_routers"]
