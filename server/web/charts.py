"""Charts drawn on the server as SVG: no script, nothing fetched, and they print. Bars
grow from the reader's start side (the right in Persian), with every value written out.

Each chart is an image with a text alternative listing its values, for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from server.web.i18n import Locale

WIDTH = 640
ROW = 26
LABEL = 210
VALUE = 90


def _svg(width: int, height: int, title: str, alt: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" direction="ltr"'
        f' aria-label="{escape(title)}: {escape(alt)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _x(ui: Locale, x: float, w: float = 0) -> float:
    """A box from `x` of width `w`, measured from the reader's start side."""
    return WIDTH - x - w if ui.dir == "rtl" else x


def _anchor(ui: Locale, start: bool) -> str:
    return "start" if start == (ui.dir == "ltr") else "end"


def _semicolon(ui: Locale) -> str:
    return "؛ " if ui.lang == "fa" else "; "


def _fit(label: str, chars: int = 30) -> str:
    """A label that fits its column (about 7 px a character at 12 px)."""
    return label if len(label) <= chars else label[: chars - 1].rstrip() + "…"


def _hbars(items: Sequence[tuple[str, float, str]], ui: Locale, title: str, scale: float) -> Markup:
    """Horizontal bars: (label, length as a share of the widest, value text)."""
    room = WIDTH - LABEL - VALUE
    body: list[str] = []
    for i, (label, share, text) in enumerate(items):
        y = i * ROW
        length = max(0.0, min(1.0, share / scale if scale else 0.0)) * room
        body.append(
            f'<text x="{_x(ui, 4):.1f}" y="{y + 17}" text-anchor="{_anchor(ui, True)}"'
            f' class="chart-label"><title>{escape(label)}</title>{escape(_fit(label))}</text>'
            f'<rect x="{_x(ui, LABEL, length):.1f}" y="{y + 5}" width="{length:.1f}"'
            f' height="{ROW - 10}" class="chart-bar"/>'
            f'<text x="{_x(ui, LABEL + length + 6):.1f}" y="{y + 17}"'
            f' text-anchor="{_anchor(ui, True)}" class="chart-value">{escape(text)}</text>'
        )
    alt = _semicolon(ui).join(f"{label} {text}" for label, _, text in items)
    return _svg(WIDTH, max(ROW, len(items) * ROW), title, alt, body)


def bars(items: Sequence[tuple[str, int]], ui: Locale, title: str) -> Markup:
    """One bar per label, lengths proportional to the values."""
    widest = max((v for _, v in items), default=0)
    return _hbars([(label, v, ui.num(v)) for label, v in items], ui, title, widest)


def fulfilment(items: Sequence[tuple[str, str | None]], ui: Locale, title: str) -> Markup:
    """Fulfilment bars on a 0-100 % scale."""
    rows = [(label, float(Decimal(p)) if p else 0.0, ui.percent(p)) for label, p in items]
    return _hbars(rows, ui, title, 100.0)


def columns(items: Sequence[tuple[str, int]], ui: Locale, title: str) -> Markup:
    """Vertical columns, one per month, oldest at the reader's start side."""
    height, base, top = 200, 170, 20
    widest = max((v for _, v in items), default=0)
    step = WIDTH / max(1, len(items))
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        h = (value / widest) * (base - top) if widest else 0
        w = step * 0.6
        x = _x(ui, i * step + step * 0.2, w)
        middle = x + w / 2
        body.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{w:.1f}" height="{h:.1f}"'
            f' class="chart-bar"/>'
            f'<text x="{middle:.1f}" y="{base - h - 5:.1f}" text-anchor="middle"'
            f' class="chart-value">{escape(ui.num(value))}</text>'
            f'<text x="{middle:.1f}" y="{base + 18}" text-anchor="middle"'
            f' class="chart-label"><title>{escape(label)}</title>{escape(_fit(label))}</text>'
        )
    alt = _semicolon(ui).join(f"{label} {ui.num(v)}" for label, v in items)
    return _svg(WIDTH, height, title, alt, body)
