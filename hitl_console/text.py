"""Making untrusted text safe to put on a terminal, and numbers safe to read.

Customer and AI messages arrive from the feed and may hold terminal escape
sequences (ESC, CSI, OSC, BEL, C1 controls). Rich and Textual do not strip
them from plain text, so every renderer passes text through ``printable``
first. Markup is a separate danger, handled by rendering text as
``rich.text.Text`` / ``Content`` rather than as markup.
"""

from __future__ import annotations

import math
import re

# CSI / OSC / other ESC sequences, then any remaining C0 (except tab/newline) and C1 controls.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC ... ST
    r"|\x1b[@-Z\\-_]?"  # other two-byte escapes, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Invisible characters that change what a reader sees without showing
# themselves: bidi embeddings, overrides and isolates (a "Trojan Source"
# reversal of an amount or a link), zero-width spaces and joiners used to
# hide words from keyword rules, invisible operators, and the Unicode tag
# block that can smuggle a whole hidden sentence. They are shown as
# <U+XXXX>. ZWJ and ZWNJ are kept: emoji sequences and Persian and Indic
# scripts need them and they cannot reorder or hide text.
_INVISIBLE = re.compile("[\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")


def _visible(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group()):04X}>"


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` without escape sequences or control characters.

    Sequences are removed whole; a stray control character becomes U+FFFD so
    that a reader sees something was there, and an invisible bidi or
    zero-width character is spelled out as ``<U+202E>``. Newlines and tabs survive unless
    ``keep_newlines`` is false (one-line cells), when they become spaces.
    """
    if not text:
        return text
    if text.isprintable() and "\x1b" not in text:
        return text
    text = _ESCAPES.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("\N{REPLACEMENT CHARACTER}", text)
    text = _LINE_SEPARATORS.sub("\n", text)
    text = _INVISIBLE.sub(_visible, text)
    if not keep_newlines:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def one_line(text: str, limit: int | None = None) -> str:
    """Printable, on one line, optionally cut to ``limit`` characters with an ellipsis."""
    text = " ".join(printable(text, keep_newlines=False).split())
    if limit is not None and len(text) > limit:
        return text[: max(0, limit - 1)] + "\N{HORIZONTAL ELLIPSIS}"
    return text


def number(value: float, spec: str = ".2f") -> str:
    """``format(value, spec)`` without a negative zero: a value that rounds to
    zero prints as ``0.00`` (or ``+0.00`` with a ``+`` spec), never ``-0.00``,
    which reads as a negative threshold."""
    text = format(value, spec)
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        text = ("+" if "+" in spec else "") + text[1:]
    return text


AMOUNT_PLAIN_MAX = 1e15
"""Amounts at or above this (a quadrillion) are shown as ``1.000e+308``: a feed
sent 1e308 and the approval strip filled with 300 digits."""
CURRENCY_CHARS = 12


def amount(value: float, currency: str | None = None) -> str:
    """An amount of money as a supervisor reads it before approving it.

    The currency comes from the feed like any text and went to the terminal
    raw (an ESC sequence or a bidi override in ``currency`` reached it), so it
    is made printable and cut; an absurd value stays one short word, and a
    value that is not a number at all (an old journal row) is ``?``.
    """
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not math.isfinite(value):
        text = "?"
    elif abs(value) >= AMOUNT_PLAIN_MAX:
        text = f"{value:.3e}"
    else:
        text = number(value, ",.2f")
    unit = one_line(currency, CURRENCY_CHARS) if isinstance(currency, str) else ""
    return f"{text} {unit}" if unit else text


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def terminal_safe_json(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with the characters a
    terminal would act on or hide escaped as ``\\uXXXX``: JSON escapes C0
    controls itself but leaves DEL, the C1 controls (U+009B is a CSI) and bidi
    overrides raw. Outside strings JSON is ASCII, so this only touches strings."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
