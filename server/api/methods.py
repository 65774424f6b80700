"""`OPTIONS` and `Allow` name every method a path has (RFC 9110).

litestar answers OPTIONS with a handler that closes over the route it was made for; when
a second handler for the same path (GET and POST /v1/events) makes litestar re-make the
route, that handler keeps the first route and its methods. Pointing it at the route it
now serves fixes the `Allow` it sends."""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute


def options_name_every_method(app: Litestar) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fn = handler.fn
            if handler.http_methods != {"OPTIONS"} or fn.__name__ != "options_handler":
                continue
            for cell in fn.__closure__ or ():
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route
