"""The handoff summary: what a supervisor reads in the seconds before joining.

Why it needs a person first (in plain words, strongest reason first), then
what the customer wants, what the AI tried, how the customer's mood went, and
who they are: at 80x24 the whole summary of a typical escalation fits
without scrolling. The summary comes from
``hitl_console.engine.handoff.build_handoff`` (the same one ``analyze``
prints); it is rendered field by field as plain ``Content``, because every
value in it may quote the customer.

``ctrl+y`` joins (the caller sends the takeover), ``escape`` cancels. Opened
with ``join=False`` it is a read-only view of the same summary.
"""

from __future__ import annotations

import logging

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup, Vertical, VerticalScroll
from textual.events import Resize
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from hitl_console.engine.handoff import (
    NO_MOOD,
    NO_WARNING,
    NOTHING_TRIED,
    HandoffSummary,
    build_handoff,
    escalation_words,
    mood_words,
    profile_words,
)
from hitl_console.engine.state import ConversationState
from hitl_console.text import one_line
from hitl_console.tui import formatting, glyphs
from hitl_console.tui.screens.dialogs import confirm_binding, deliberate_keys, enter_does_not_confirm
from hitl_console.tui.widgets.conversation_header import WHY_STYLE, holder_content

log = logging.getLogger(__name__)

Line = str | tuple[str, str]

ANSWERS_SHOWN = 2
"""The AI's last answers in the summary (the transcript behind has them all):
with the why first, a typical escalation then fits 80x24 without scrolling."""
ANSWER_CHARS = 150
"""An answer is cut to about two lines at 80 columns."""

Row = tuple[str, Content]
"""A line of the summary: ``("section" | "bullet" | "line" | "gap", content)``.
A bullet's text wraps under itself, not under its bullet."""


def _section(title: str, note: str = "") -> Row:
    return ("section", Content.assemble((title, "bold $text-primary"), (note, "dim")))


def _item(*parts: Line | Content) -> Row:
    return ("bullet", Content.assemble(*parts))


_GAP: Row = ("gap", Content(""))



def title_content(state: ConversationState, summary: HandoffSummary, me: str, now: float, *, join: bool) -> Content:
    """One line: which conversation, whose, who holds it (and how long the customer has waited)."""
    c = summary.customer
    return Content.assemble(
        ("Handoff" if join else "Summary", "bold $text-primary"),
        ("  ", ""),
        (one_line(summary.conversation_id, 40), "bold"),
        "  ",
        one_line(c.get("name") or c.get("id") or "?", 40),
        (f" ({one_line(c['tier'], 16)})" if c.get("tier") else "", "$text-accent"),
        "  ",
        holder_content(state, me, now),
    )


def render_handoff(state: ConversationState, summary: HandoffSummary, me: str, now: float) -> list[Row]:
    """The summary as rows, the why first. Every string from the summary is
    feed text or derived from it, so it goes in as plain text (``one_line``),
    never markup."""
    c = summary.customer
    meta = [f"risk {summary.risk:.2f}"]
    escalated = escalation_words(summary.escalation_turns, summary.time_to_escalation_s) if summary.escalated_at_seq is not None else ""
    if escalated:
        meta.insert(0, escalated)
    rows: list[Row] = [_section("Why it needs a person", "  " + " · ".join(meta))]
    why = [w for w in summary.why if w.get("kind") != "waiting"]  # the title line says who waits, and since when
    if not why and not summary.pending_approvals:
        rows.append(_item((NO_WARNING, "dim")))
    for reason in why:
        rows.append(_item((one_line(str(reason.get("text") or ""), 300), WHY_STYLE.get(str(reason.get("kind")), ""))))
    for approval in summary.pending_approvals:
        expires = approval.get("expires_ts")
        left = formatting.time_left(None if expires is None else expires - now)
        parts: list[Line] = [("Approval waiting: ", "$text-warning bold"), (one_line(approval.get("action") or "?", 60), "bold")]
        money = formatting.money(approval.get("amount"), approval.get("currency"))
        if money:
            parts += [" ", (money, "$text-accent bold")]
        parts += [(f" ({left} left)" if expires is not None and left != "expired" else f" ({left})", "dim")]
        if approval.get("rationale"):
            parts += [": ", one_line(approval["rationale"], 160)]
        rows.append(_item(*parts))

    rows += [_GAP, _section("What the customer wants")]
    rows.append(_item(("“" + one_line(summary.need, 400) + "”", "italic")) if summary.need else _item(("not stated yet", "dim")))
    facts: list[Line] = []
    if summary.about:
        facts += [("about ", "dim"), one_line(", ".join(summary.about), 120)]
    for kind, values in summary.entities.items():
        if values:
            facts += [("  " if facts else "", ""), (f"{kind} ", "dim"), one_line(", ".join(values), 160)]
    if facts:
        rows.append(_item(*facts))

    answers = summary.answers[-ANSWERS_SHOWN:]
    left_out = len(summary.answers) - len(answers)
    rows += [_GAP, _section("What the AI tried", f"  (the last {len(answers)}; the transcript has all)" if left_out else "")]
    if not summary.actions and not summary.answers:
        rows.append(_item((NOTHING_TRIED, "dim")))
    for action in summary.actions:
        style = {"ok": "$text-success", "failed": "$text-error bold", "pending": "$text-warning"}.get(action.get("status"), "")
        parts: list[Line] = [("⚙ ", "dim"), (one_line(action.get("name") or "?", 60), "bold"), " ", (str(action.get("status")), style)]
        money = formatting.money(action.get("amount"), action.get("currency"))
        if money:
            parts += ["  ", (money, "$text-accent")]
        if action.get("detail"):
            parts += [("  " + one_line(action["detail"], 120), "dim")]
        rows.append(_item(*parts))
    for answer in answers:
        confidence = answer.get("confidence")
        parts = [("said", "dim")]
        if confidence is not None:
            low = confidence < 0.55
            parts += [(" (confidence ", "dim"), (f"{confidence:.2f}", "$text-error bold" if low else ""), (")", "dim")]
        parts += [": ", one_line(answer.get("text") or "", ANSWER_CHARS)]
        rows.append(_item(*parts))

    rows.append(_GAP)
    s = summary.sentiment
    if s.get("start") is None:
        rows.append(("line", Content.assemble(("Mood ", "bold $text-primary"), (NO_MOOD, "dim"))))
    else:
        trend_style = {"worsening": "$text-error bold", "improving": "$text-success", "recovering": "$text-success"}.get(s.get("trend"), "")
        rows.append(
            (
                "line",
                Content.assemble(
                    ("Mood ", "bold $text-primary"),
                    (glyphs.sparkline(state.sentiments(), width=min(16, max(1, len(state.sentiments())))), "bold"),
                    "  ",
                    f"{mood_words(s)}  ",
                    (str(s.get("trend")), trend_style),
                    (" (estimated)" if s.get("estimated") else "", "dim"),
                ),
            )
        )
    profile = profile_words(c)
    if not c.get("name") and c.get("id"):
        profile.append(f"id {one_line(c['id'], 40)}")  # otherwise the title names them
    if profile:  # nothing known: no line (not "Customer" and a blank)
        rows.append(("line", Content.assemble(("Customer ", "bold $text-primary"), " · ".join(profile))))

    return rows


def plain_text(rows: list[Row]) -> str:
    """The rows as plain text, one per line (logs and tests)."""
    return "\n".join(("  • " if kind == "bullet" else "") + content.plain for kind, content in rows)


class HandoffScreen(ModalScreen[bool]):
    """The summary before a takeover; :data:`CONFIRM_KEY` joins, ``escape`` cancels.

    Joining moves ownership of a customer, so ``enter`` (which a stray
    sentence ends with) only says which key joins."""

    SHORT_BELOW = 32
    """Terminals shorter than this give the summary the whole screen (80x24 is
    the aim; ``-short`` in app.tcss). Set on mount and on resize: a pushed
    modal does not always get the first Resize that breakpoints rely on."""

    BINDINGS = [
        confirm_binding("Join"),
        Binding("enter", "explain", "", show=False),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, state: ConversationState, me: str, now: float, *, join: bool = True) -> None:
        super().__init__(classes="dialog")
        self.state = state
        self.me = me
        self.now = now
        self.join = join

    def compose(self) -> ComposeResult:
        try:
            summary = build_handoff(self.state, self.now)
            title = title_content(self.state, summary, self.me, self.now, join=self.join)
            rows = render_handoff(self.state, summary, self.me, self.now)
        except Exception:  # the modal must open even if the summary cannot be built
            log.exception("building the handoff summary of %s", self.state.conversation_id)
            title = Content("Handoff summary" if self.join else "Summary")
            rows = [
                (
                    "line",
                    Content.assemble(
                        ("The summary could not be built (see the log). ", "$text-error"),
                        "The transcript behind this window has everything.",
                    ),
                )
            ]
        with Vertical(classes="dialog-box handoff-box"):
            yield Label(title, markup=False, classes="dialog-title", id="handoff-title")
            with VerticalScroll(id="handoff-body"):
                for kind, content in rows:
                    if kind == "bullet":
                        with HorizontalGroup(classes="handoff-bullet"):
                            yield Static("  • ", markup=False, classes="handoff-mark")
                            yield Static(content, markup=False, classes="handoff-item")
                    else:
                        yield Static(content, markup=False, classes=f"handoff-{kind}")
            if self.join:
                keys = deliberate_keys("join and reply", ("↑↓", "scroll"))
            else:
                keys = Content.assemble(("escape", "bold"), " close · ", ("↑↓", "bold"), " scroll")
            yield Label(keys, id="dialog-keys", classes="dialog-keys")

    def on_mount(self) -> None:
        self._fit(self.app.size.height)
        self.query_one("#handoff-body").focus()

    def on_resize(self, event: Resize) -> None:
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        self.set_class(height < self.SHORT_BELOW, "-short")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("confirm", "explain"):
            return self.join
        return True

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_explain(self) -> None:
        self.query_one("#dialog-keys", Label).update(enter_does_not_confirm("join"))

    def action_cancel(self) -> None:
        self.dismiss(False)
