"""Plain-string formatting of figures: durations, money, percentages, times.

Pure functions with no Textual in them, so the floor, the conversation
screen, the approvals queue and the help text agree on how a number looks.
"""

from __future__ import annotations


from hitl_console.durations import DASH, clock_time, duration  # noqa: F401 (re-exported: screens read them here)
from hitl_console.text import amount as amount_text, number, one_line


ESCALATION_READING: dict[str, tuple[str, str]] = {
    "too_low": ("LOW", "$text-error bold"),
    "low": ("low", "$text-warning"),
    "typical": ("typical", "$text-success"),
    "high": ("high", "$text-warning"),
    "too_high": ("HIGH", "$text-error bold"),
    "too_few": ("too few", "dim"),
    "warming_up": ("warming up", "dim"),
    "unknown": ("", "dim"),
}
"""Word and style of each ``analysis.metrics.judge_escalation`` status: the
floor's header and the metrics screen say the same thing about the same rate."""
ESCALATION_WORD_WIDTH = max(len(word) for word, _ in ESCALATION_READING.values())
"""The header keeps this much room for the word, so it does not jump a line when the word changes."""



def age(seconds: float | None) -> str:
    """A coarse age for the floor table, which changes at most once a minute
    after the first minute (so that the table does not repaint every second)."""
    if seconds is None:
        return DASH
    s = max(0, int(seconds))
    if s < 60:
        return "<1m"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}"
    return f"{s // 86400}d"


def percent(value: float | None, digits: int = 0) -> str:
    return DASH if value is None else f"{value * 100:.{digits}f}%"


def escalation_percent(value: float | None) -> str:
    """The escalation rate as the floor's header and the metrics screen both show
    it (they said "2%" and "2.4%" at the same moment): one decimal under 10%,
    where the band's edges (3%) are, none above; never wider than 4 characters."""
    if value is None:
        return DASH
    pct = value * 100
    return f"{pct:.1f}%" if round(pct, 1) < 10 else f"{pct:.0f}%"


def signed(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else number(value, f"+.{digits}f")


def money(amount: float | None, currency: str | None) -> str:
    """Printable and bounded (``hitl_console.text.amount``): both come from the feed."""
    return "" if amount is None else amount_text(amount, currency)


def time_left(seconds: float | None) -> str:
    if seconds is None:
        return "no limit"
    if seconds <= 0:
        return "expired"
    return duration(seconds)


def count(value: int) -> str:
    return f"{value:,}"


def extra_evidence(reason: str, evidence: str | None, limit: int = 160) -> str | None:
    """A trigger's evidence as one line, or None when its reason already quotes it.

    Most reasons quote what fired them ("customer sentiment -0.60 ...:
    “Unbelievable...”"); repeating the same words beside them only costs a
    line at 80 columns. Evidence that adds something (the phrase matched in a
    long message, cut from the reason's quote) is kept.
    """
    if not evidence:
        return None
    shown = one_line(evidence, limit)
    if shown[:60] in one_line(reason):
        return None
    return shown
