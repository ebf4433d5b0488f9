"""The handoff summary: what a supervisor reads in the seconds before joining.

What the customer wants, what the AI tried, why it escalates, how the
customer's mood went, and who they are. The summary comes from
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
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from hitl_console.engine.handoff import HandoffSummary, build_handoff
from hitl_console.engine.state import ConversationState
from hitl_console.text import one_line
from hitl_console.tui import formatting, glyphs
from hitl_console.tui.screens.dialogs import confirm_binding, deliberate_keys, enter_does_not_confirm
from hitl_console.tui.widgets.conversation_header import holder_content

log = logging.getLogger(__name__)

Line = str | tuple[str, str]


def _section(title: str) -> Content:
    return Content.styled(title, "bold $text-primary")


def _item(*parts: Line | Content) -> Content:
    return Content.assemble("  • ", *parts)


def render_handoff(state: ConversationState, summary: HandoffSummary, me: str, now: float) -> Content:
    """The summary as Content. Every string from the summary is feed text or
    derived from it, so it goes in as plain text (``one_line``), never markup."""
    c = summary.customer
    blocks: list[Content] = [
        Content.assemble(
            (one_line(summary.conversation_id, 40), "bold"),
            "  ",
            one_line(c.get("name") or c.get("id") or "?", 40),
            (f" ({one_line(c['tier'], 16)})" if c.get("tier") else "", "$text-accent"),
            "  ",
            holder_content(state, me),
        ),
        Content.styled(one_line(summary.headline, 300), "bold"),
        Content(""),
        _section("What the customer wants"),
        _item(("“" + one_line(summary.need, 400) + "”", "italic")) if summary.need else _item(("not stated yet", "dim")),
    ]
    if summary.intents:
        blocks.append(_item(("intent ", "dim"), one_line(", ".join(summary.intents), 120)))
    if summary.topics:
        blocks.append(_item(("topics ", "dim"), one_line(", ".join(summary.topics), 120)))
    for kind, values in summary.entities.items():
        if values:
            blocks.append(_item((f"{kind} ", "dim"), one_line(", ".join(values), 160)))

    blocks += [Content(""), _section("What the AI tried")]
    if not summary.actions and not summary.answers:
        blocks.append(_item(("nothing yet", "dim")))
    for action in summary.actions:
        style = {"ok": "$text-success", "failed": "$text-error bold", "pending": "$text-warning"}.get(action.get("status"), "")
        parts: list[Line] = [("⚙ ", "dim"), (one_line(action.get("name") or "?", 60), "bold"), " ", (str(action.get("status")), style)]
        money = formatting.money(action.get("amount"), action.get("currency"))
        if money:
            parts += ["  ", (money, "$text-accent")]
        if action.get("detail"):
            parts += [("  " + one_line(action["detail"], 160), "dim")]
        blocks.append(_item(*parts))
    for answer in summary.answers:
        confidence = answer.get("confidence")
        parts = [("said", "dim")]
        if confidence is not None:
            low = confidence < 0.55
            parts += [(" (confidence ", "dim"), (f"{confidence:.2f}", "$text-error bold" if low else ""), (")", "dim")]
        parts += [": ", one_line(answer.get("text") or "", 200)]
        blocks.append(_item(*parts))

    blocks += [Content(""), _section("Why it needs a person")]
    if not summary.triggers and not summary.routing_flags and not summary.loop_warning:
        blocks.append(_item(("no trigger fired", "dim")))
    for trigger in summary.triggers:
        kind = str(trigger.get("kind"))
        parts = [
            (glyphs.BADGES.get(kind, "??"), "reverse bold $text-warning" if trigger.get("active") else "reverse dim"),
            " ",
            (glyphs.TRIGGER_NAMES.get(kind, kind), "bold"),
            ("" if trigger.get("active") else " (cleared)", "dim"),
            ": ",
            one_line(formatting.reason_after_name(glyphs.TRIGGER_NAMES.get(kind, kind), str(trigger.get("reason") or "")), 240),
        ]
        evidence = formatting.extra_evidence(str(trigger.get("reason") or ""), trigger.get("evidence"))
        if evidence:
            parts += [("  “" + evidence + "”", "italic dim")]
        blocks.append(_item(*parts))
    for flag in summary.routing_flags:
        blocks.append(_item(("routing ", "$text-warning"), one_line(flag, 160)))
    if summary.loop_warning:
        blocks.append(_item(("loop ", "$text-warning"), one_line(summary.loop_warning, 200)))
    if summary.escalated_at_seq is not None:
        when = f", {formatting.duration(summary.time_to_escalation_s)} in" if summary.time_to_escalation_s is not None else ""
        blocks.append(_item(("escalated ", "dim"), f"after {summary.escalation_turns} turns{when}"))

    blocks += [Content(""), _section("Sentiment")]
    s = summary.sentiment
    if s.get("start") is None:
        blocks.append(_item(("no customer sentiment yet", "dim")))
    else:
        trend_style = {"worsening": "$text-error bold", "improving": "$text-success", "recovering": "$text-success"}.get(s.get("trend"), "")
        blocks.append(
            _item(
                (glyphs.sparkline(state.sentiments(), width=min(16, max(1, len(state.sentiments())))), "bold"),
                "  ",
                f"{s['start']:+.2f} → lowest {s['lowest']:+.2f} → now {s['now']:+.2f}  ",
                (str(s.get("trend")), trend_style),
                (" (estimated)" if s.get("estimated") else "", "dim"),
            )
        )

    blocks += [Content(""), _section("Customer")]
    profile = [
        f"id {one_line(c.get('id') or '?', 40)}",
        f"tier {one_line(c['tier'], 20)}" if c.get("tier") else "",
        f"lifetime value {c['lifetime_value']:,.0f}" if c.get("lifetime_value") is not None else "",
        f"{c['open_complaints']} open complaints" if c.get("open_complaints") is not None else "",
        f"locale {one_line(c['locale'], 12)}" if c.get("locale") else "",
    ]
    blocks.append(_item(", ".join(p for p in profile if p)))

    if summary.pending_approvals:
        blocks += [Content(""), _section("Pending approvals")]
        for approval in summary.pending_approvals:
            expires = approval.get("expires_ts")
            left = formatting.time_left(None if expires is None else expires - now)
            parts = [(one_line(approval.get("action") or "?", 60), "bold")]
            money = formatting.money(approval.get("amount"), approval.get("currency"))
            if money:
                parts += ["  ", (money, "$text-accent bold")]
            parts += [(f"  {left}", "dim")]
            if approval.get("rationale"):
                parts += [("  " + one_line(approval["rationale"], 160), "dim")]
            blocks.append(_item(*parts))

    blocks += [
        Content(""),
        Content.styled(f"Risk {summary.risk:.2f} (peak {summary.peak_risk:.2f}) · {summary.turns} turns · {summary.channel}", "dim"),
    ]
    return Content("\n").join(blocks)


class HandoffScreen(ModalScreen[bool]):
    """The summary before a takeover; :data:`CONFIRM_KEY` joins, ``escape`` cancels.

    Joining moves ownership of a customer, so ``enter`` (which a stray
    sentence ends with) only says which key joins."""

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
            body = render_handoff(self.state, build_handoff(self.state), self.me, self.now)
        except Exception:  # the modal must open even if the summary cannot be built
            log.exception("building the handoff summary of %s", self.state.conversation_id)
            body = Content.assemble(
                ("The summary could not be built (see the log). ", "$text-error"),
                "The transcript behind this window has everything.",
            )
        with Vertical(classes="dialog-box handoff-box"):
            yield Label(Content("Handoff summary" if self.join else "Summary"), classes="dialog-title")
            with VerticalScroll(id="handoff-body"):
                yield Static(body, markup=False, id="handoff-text")
            if self.join:
                keys = deliberate_keys("join and reply", ("↑↓", "scroll"))
            else:
                keys = Content.assemble(("escape", "bold"), " close · ", ("↑↓", "bold"), " scroll")
            yield Label(keys, id="dialog-keys", classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#handoff-body").focus()

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
