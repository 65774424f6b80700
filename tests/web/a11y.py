"""Accessibility basics, checked on a live page: language and direction, a label for
every form field, headings in order, and WCAG contrast of the colours actually drawn."""

from __future__ import annotations

import itertools
import re
from typing import Any

from playwright.async_api import Page

# elements whose text colour against their background is checked on every page
CONTRAST_SELECTORS = (
    "body",
    "main p",
    "main a",
    "h1",
    "h2",
    ".top .brand",
    ".top .who",
    ".top button",
    ".sections a",
    '.sections a[aria-current="page"]',
    "thead th",
    "td",
    ".note",
    ".as-of",
    ".error",
    ".badge-overdue",
    ".filters label",
    ".filters button",
    ".sign-in button",
    "tr.overdue td",
    ".chart-label",
)

_COLOURS_JS = """
(selectors) => {
  const out = [];
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const bg = getComputedStyle(node).backgroundColor;
      if (bg && bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  for (const selector of selectors) {
    for (const el of Array.from(document.querySelectorAll(selector)).slice(0, 5)) {
      if (!el.textContent.trim() || el.getClientRects().length === 0) continue;
      const style = getComputedStyle(el);
      const fg = el instanceof SVGElement ? style.fill : style.color;
      out.push({selector, fg, bg: background(el), text: el.textContent.trim().slice(0, 30)});
    }
  }
  return out;
}
"""


def _rgb(text: str) -> tuple[float, float, float]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", text)[:3]]
    assert len(numbers) == 3, text
    return numbers[0], numbers[1], numbers[2]


def luminance(colour: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: tuple[float, float, float], bg: tuple[float, float, float]) -> float:
    lighter, darker = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


async def check_page(page: Page, lang: str) -> list[dict[str, Any]]:
    """Assert the basics on the page as shown; returns the colour pairs it checked."""
    html = page.locator("html")
    assert await html.get_attribute("lang") == lang
    assert await html.get_attribute("dir") == ("rtl" if lang == "fa" else "ltr")
    assert (await page.title()).strip()

    unlabelled = await page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea'))
            .filter(el => el.type !== 'hidden')
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby'))
            .map(el => el.outerHTML)"""
    )
    assert unlabelled == [], f"form fields without a label: {unlabelled}"
    unnamed = await page.evaluate(
        """() => Array.from(document.querySelectorAll('button, a[href]'))
            .filter(el => !el.textContent.trim() && !el.getAttribute('aria-label'))
            .map(el => el.outerHTML)"""
    )
    assert unnamed == [], f"buttons or links without a name: {unnamed}"

    levels = await page.evaluate(
        "() => Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6'))"
        ".map(h => Number(h.tagName[1]))"
    )
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}: {levels}"

    pairs: list[dict[str, Any]] = await page.evaluate(_COLOURS_JS, list(CONTRAST_SELECTORS))
    assert pairs
    for pair in pairs:
        ratio = contrast(_rgb(pair["fg"]), _rgb(pair["bg"]))
        assert ratio >= 4.5, f"contrast {ratio:.2f} < 4.5 for {pair}"
    return pairs
