"""Text the log accepts: the one definition of the characters a free-text field refuses,
the pattern the contract's text types carry, and the storable form of any stored text.

Refused: U+0000 and the other C0 controls but TAB, LF and CR; DEL and the C1 controls
(U+007F-U+009F); the noncharacters (U+FDD0-U+FDEF, and U+xFFFE, U+xFFFF in all 17
planes); the bidi overrides U+202D and U+202E. ZWNJ, ZWJ, LRM and RLM are Persian text."""

from __future__ import annotations

import re

# The class is written with \x and \u escapes, which Python's `re` and ECMA-262 (the
# JSON Schema dialect) read alike; the planes above the BMP have no escape both read,
# so their noncharacters are the characters themselves (ECMA-262 with the `u` flag, as
# JSON Schema validators use it, and Python agree on those).
_SUPPLEMENTARY_NONCHARACTERS = "".join(
    f"{chr(plane << 16 | 0xFFFE)}-{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17)
)

#: The body of a regex character class of every refused character.
REFUSED_CLASS = (
    r"\x00-\x08\x0B\x0C\x0E-\x1F"  # C0 controls but TAB, LF, CR
    r"\x7F-\x9F"  # DEL, C1 controls
    r"\u202D\u202E"  # LEFT-TO-RIGHT OVERRIDE, RIGHT-TO-LEFT OVERRIDE
    r"\uFDD0-\uFDEF\uFFFE\uFFFF" + _SUPPLEMENTARY_NONCHARACTERS  # noncharacters
)

#: Non-blank text without a refused character: spaces, a first visible character, the
#: rest. The three parts cannot overlap, so a match or a refusal takes linear time (an
#: overlapping form took 0.2 s on 4,000 spaces). `(?!\n)$` because Python's `$` also
#: matches before a final newline; ECMA-262's never does, so both read it the same.
TEXT_PATTERN = rf"^[^{REFUSED_CLASS}\S]*[^{REFUSED_CLASS}\s][^{REFUSED_CLASS}]*(?!\n)$"

TEXT_RULE = (
    "Non-blank Unicode text without U+0000, other C0 controls than TAB, LF and CR, "
    "DEL and C1 controls (U+007F-U+009F), noncharacters (U+FDD0-U+FDEF, U+xFFFE, "
    "U+xFFFF) or the bidi overrides U+202D and U+202E."
)
"""The rule in words, for JSON Schema descriptions and problem details."""

_REFUSED = re.compile(f"[{REFUSED_CLASS}]")

#: What a refused character reads as wherever stored text is shown or kept outside the
#: log (read models, reports, pages): U+FFFD REPLACEMENT CHARACTER.
REPLACEMENT = "\ufffd"


def refused_characters(text: str) -> list[str]:
    """The refused characters in `text`, in order, as `U+XXXX`."""
    return [f"U+{ord(match.group()):04X}" for match in _REFUSED.finditer(text)]


def storable(text: str) -> str:
    """`text` with each refused character replaced by U+FFFD: what PostgreSQL's `text`
    can hold (never U+0000) and what the API would accept, character for character."""
    return _REFUSED.sub(REPLACEMENT, text)
