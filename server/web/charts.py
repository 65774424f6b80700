"""Charts drawn on the server as SVG: no script, nothing fetched, and they print. Bars
grow from the reader's start side (the right in Persian), with every value written out.

Each chart is an image with a text alternative listing its values, for screen readers;
the charts with axes (`lines`, `grouped_bars`) are drawn above a table of their values."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from server.projections.periods import GREGORIAN_MONTHS_EN, JALALI_MONTHS_FA, persian_digits
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


# --- charts with axes: trends over months, money side by side --------------------

#: series colours, each at least 3:1 against white (WCAG's contrast for graphics), and a
#: dash pattern each, so series differ without colour too
PALETTE = ("#0b5d6b", "#a84d00", "#5b3c99", "#1d6b35", "#a11d2b", "#2f5597", "#7a5c00", "#555f6b")
DASHES = ("", "7 4", "2 3", "10 3 2 3")
AXIS = "#4a5563"
GRID = "#c9d3da"
TEXT_PX = 7.2  # about the width of a character at 13 px, for laying labels out


def _colour(i: int) -> tuple[str, str]:
    return PALETTE[i % len(PALETTE)], DASHES[(i // len(PALETTE) + i) % len(DASHES)]


def ticks(top: float, count: int = 4) -> list[float]:
    """Round gridline values from 0 to at least `top`: steps of 1, 2, 2.5 or 5 × 10^k."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [step * i for i in range(math.ceil(top / step - 1e-9) + 1)]


def compact(ui: Locale, value: float) -> str:
    """An axis value in few characters (12k, 3.5M; ۱۲ هزار): the exact values are in the
    bars' labels and in the table under the chart."""
    units = (
        (1e9, "میلیارد", "B"),
        (1e6, "میلیون", "M"),
        (1e3, "هزار", "k"),
    )
    for size, fa, en in units:
        if abs(value) >= size:
            number = f"{value / size:.1f}".removesuffix(".0")
            if ui.lang == "fa":
                return f"{persian_digits(number.replace('.', '٫'))} {fa}"
            return f"{number}{en}"
    return ui.num(round(value)) if value == round(value) else ui.digits(f"{value:g}")


def _legend(ui: Locale, names: Sequence[str], top: float) -> tuple[list[str], float]:
    """Swatches and names in two columns under the plot; returns the height used."""
    body: list[str] = []
    column = WIDTH / 2
    for i, name in enumerate(names):
        colour, dash = _colour(i)
        x0 = (i % 2) * column + 8
        y = top + (i // 2) * 22 + 12
        body.append(
            f'<line x1="{_x(ui, x0):.1f}" x2="{_x(ui, x0 + 26):.1f}" y1="{y:.1f}" y2="{y:.1f}"'
            f' stroke="{colour}" stroke-width="3" stroke-dasharray="{dash}"/>'
            f'<text x="{_x(ui, x0 + 32):.1f}" y="{y + 5:.1f}" text-anchor="{_anchor(ui, True)}"'
            f' class="chart-label"><title>{escape(name)}</title>'
            f"{escape(_fit(name, int((column - 44) / TEXT_PX)))}</text>"
        )
    return body, ((len(names) + 1) // 2) * 22 + 8


def _month_label(ui: Locale, key: int) -> tuple[str, str]:
    """(month, year) of a month key, short enough to sit under a column of the axis."""
    year, month = divmod(key, 100)
    name = JALALI_MONTHS_FA[month - 1] if ui.lang == "fa" else GREGORIAN_MONTHS_EN[month - 1][:3]
    return name, ui.digits(year)


def lines(
    months: Sequence[int],
    series: Sequence[tuple[str, Sequence[int]]],
    ui: Locale,
    title: str,
) -> Markup:
    """One line per series over the months (oldest at the reader's start side), with a
    y-axis of round values, gridlines, every month named under the axis (or every
    second, third... when they would touch) and a legend under the plot."""
    start, end, top, plot_h = 72.0, 24.0, 16.0, 200.0
    base = top + plot_h
    widest = max((v for _, values in series for v in values), default=0)
    marks = ticks(float(widest))
    scale = marks[-1] or 1.0
    step = (WIDTH - start - end) / max(1, len(months) - 1) if len(months) > 1 else 0.0
    body: list[str] = []
    for mark in marks:
        y = base - mark / scale * plot_h
        body.append(
            f'<line x1="{_x(ui, start):.1f}" x2="{_x(ui, WIDTH - end):.1f}" y1="{y:.1f}"'
            f' y2="{y:.1f}" stroke="{GRID if mark else AXIS}" stroke-width="1"/>'
            f'<text x="{_x(ui, start - 8):.1f}" y="{y + 4:.1f}" text-anchor="{_anchor(ui, False)}"'
            f' class="chart-value">{escape(compact(ui, mark))}</text>'
        )
    body.append(
        f'<line x1="{_x(ui, start):.1f}" x2="{_x(ui, start):.1f}" y1="{top:.1f}" y2="{base:.1f}"'
        f' stroke="{AXIS}" stroke-width="1"/>'
    )
    labels = [_month_label(ui, m) for m in months]
    room = max((len(name) for name, _ in labels), default=1) * TEXT_PX + 10
    every = max(1, math.ceil(room / step)) if step else 1
    for i, (name, year) in enumerate(labels):
        x = _x(ui, start + i * step) if len(months) > 1 else _x(ui, (WIDTH + start) / 2)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base:.1f}" y2="{base + 5:.1f}" stroke="{AXIS}"/>'
        )
        if i % every == 0:
            shown_year = i == 0 or labels[i - every][1] != year
            body.append(
                f'<text x="{x:.1f}" y="{base + 20:.1f}" text-anchor="middle"'
                f' class="chart-label">{escape(name)}</text>'
                + (
                    f'<text x="{x:.1f}" y="{base + 37:.1f}" text-anchor="middle"'
                    f' class="chart-label">{escape(year)}</text>'
                    if shown_year
                    else ""
                )
            )
    for n, (_, values) in enumerate(series):
        colour, dash = _colour(n)
        points = [
            (
                _x(ui, start + i * step) if len(months) > 1 else _x(ui, (WIDTH + start) / 2),
                base - v / scale * plot_h,
            )
            for i, v in enumerate(values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"'
            f' stroke-dasharray="{dash}"/>'
            + "".join(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points
            )
        )
    legend, height = _legend(ui, [name for name, _ in series], base + 46)
    body.extend(legend)
    alt = _semicolon(ui).join(
        f"{name}: "
        + ui.comma.join(f"{ui.month(m)} {ui.num(v)}" for m, v in zip(months, values, strict=True))
        for name, values in series
    )
    return _svg(WIDTH, int(base + 46 + height), title, alt, body)


def grouped_bars(
    groups: Sequence[tuple[str, Sequence[Decimal]]],
    measures: Sequence[str],
    ui: Locale,
    title: str,
    unit: str = "",
) -> Markup:
    """For each group (a partner), one bar per measure (pledged, committed, disbursed)
    on one scale, each with its exact value; the group's name on its own line above its
    bars, so no name is cut; an x-axis of round values with gridlines; a legend."""
    start, end, label_h, bar_h, gap = 8.0, 150.0, 24.0, 15.0, 12.0
    widest = max((float(v) for _, values in groups for v in values), default=0.0)
    marks = ticks(widest)
    scale = marks[-1] or 1.0
    room = WIDTH - start - end
    group_h = label_h + bar_h * len(measures) + gap
    axis_top = 22.0
    body: list[str] = []
    bottom = axis_top + group_h * len(groups)
    for mark in marks:
        x = _x(ui, start + mark / scale * room)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_top - 4:.1f}" y2="{bottom:.1f}"'
            f' stroke="{GRID if mark else AXIS}" stroke-width="1"/>'
            f'<text x="{x:.1f}" y="{axis_top - 8:.1f}" text-anchor="middle" class="chart-value">'
            f"{escape(compact(ui, mark))}</text>"
        )
    for g, (name, values) in enumerate(groups):
        y = axis_top + g * group_h
        body.append(
            f'<text x="{_x(ui, start):.1f}" y="{y + 15:.1f}" text-anchor="{_anchor(ui, True)}"'
            f' class="chart-label"><title>{escape(name)}</title>'
            f"{escape(_fit(name, int(WIDTH / TEXT_PX) - 2))}</text>"
        )
        for i, value in enumerate(values):
            colour, _ = _colour(i)
            length = max(0.0, float(value)) / scale * room
            top = y + label_h + i * bar_h
            text = ui.money(value, unit or None)
            body.append(
                f'<rect x="{_x(ui, start, length):.1f}" y="{top + 1:.1f}" width="{length:.1f}"'
                f' height="{bar_h - 3:.1f}" fill="{colour}"/>'
                f'<text x="{_x(ui, start + length + 5):.1f}" y="{top + 11:.1f}"'
                f' text-anchor="{_anchor(ui, True)}" class="chart-value">{escape(text)}</text>'
            )
    legend: list[str] = []
    for i, measure in enumerate(measures):
        colour, _ = _colour(i)
        x0 = start + i * (WIDTH / max(1, len(measures)))
        legend.append(
            f'<rect x="{_x(ui, x0, 14):.1f}" y="{bottom + 12:.1f}" width="14" height="12"'
            f' fill="{colour}"/><text x="{_x(ui, x0 + 20):.1f}" y="{bottom + 23:.1f}"'
            f' text-anchor="{_anchor(ui, True)}" class="chart-label">{escape(measure)}</text>'
        )
    body.extend(legend)
    alt = _semicolon(ui).join(
        f"{name}: "
        + ui.comma.join(
            f"{m} {ui.money(v, unit or None)}" for m, v in zip(measures, values, strict=True)
        )
        for name, values in groups
    )
    return _svg(WIDTH, int(bottom + 36), title, alt, body)
