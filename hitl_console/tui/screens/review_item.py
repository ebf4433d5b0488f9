"""One review item: its transcript with the triggers where they fired, and the reviewer's keys."""

from __future__ import annotations

import logging
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from hitl_console.analysis.review import reason_words, role_words, snapshot
from hitl_console.store.journal import JournalError
from hitl_console.store.reviews import ReviewItem, find_conversation
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.screens.correction import CorrectionDialog
from hitl_console.tui.screens.review_actions import ReviewActions, verdict_bindings
from hitl_console.tui.screens.review_labels import (
    claim_label,
    score_why,
    timeline_options,
    trigger_kinds,
    turn_number,
)

log = logging.getLogger(__name__)





class ReviewItemScreen(ReviewActions, Screen[None]):
    """One item: its transcript with the triggers where they fired, and the
    reviewer's keys. ``↑``/``↓`` select a turn; ``x`` corrects a selected AI turn."""

    CSS_PATH = "review.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "claim", "Claim", tooltip="Take this item (nobody else can while you hold it)", id="review_item.claim"),
        *verdict_bindings(),
        Binding("x", "correct", "Correct", tooltip="Write a better answer for the selected AI turn", id="review_item.correct"),
        Binding("g", "tag", "Tag", tooltip="Tag the conversation as an edge case", id="review_item.tag"),
    ]

    def __init__(self, item_id: str) -> None:
        super().__init__(id="review-item")
        self.item_id = item_id
        self.item: ReviewItem | None = None
        self.snap: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="review-item-header", markup=False)
        yield OptionList(id="review-transcript", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        transcript = self.query_one(OptionList)
        transcript.focus()
        first = next((i for i, o in enumerate(transcript.options) if not o.disabled), None)
        if first is not None:
            transcript.highlighted = first

    def current_item(self) -> ReviewItem | None:
        return self.item

    def reviews_changed(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the item, its corrections and tags again, and redraw."""
        try:
            store = self.store
            self.item = store.item(self.item_id)
            corrections: dict[int, list[tuple[str, str]]] = {}
            tags: list[str] = []
            if self.item is not None:
                for c in store.corrections(conversation_id=self.item.conversation_id, feed=self.item.feed):
                    corrections.setdefault(c.turn_seq, []).append((c.reviewer, c.corrected_text))
                tags = store.tags(self.item.conversation_id, feed=self.item.feed)
        except JournalError as error:
            self.notify(f"Review store: {error}", severity="error", markup=False)
            return
        item = self.item
        if item is None:
            self.query_one("#review-item-header", Static).update(Content("This item is no longer in the review store."))
            return
        snap = item.snapshot
        if not snap:
            state = find_conversation(self.session.engine.conversations, item.feed, item.conversation_id)
            snap = snapshot(state) if state is not None else {"id": item.conversation_id}
        self.snap = dict(snap)
        self.query_one("#review-item-header", Static).update(self._header(item, tags))
        transcript = self.query_one(OptionList)
        highlighted = transcript.highlighted
        low = float(self.session.config.thresholds.low_confidence)
        options = timeline_options(self.snap, low_confidence=low, corrections=corrections)
        transcript.set_options(options)
        if not options:
            transcript.add_option(Option(Content("No transcript was kept for this conversation."), disabled=True))
        elif highlighted is not None:
            transcript.highlighted = min(highlighted, len(options) - 1)

    def _header(self, item: ReviewItem, tags: list[str]) -> Content:
        snap = self.snap
        now = self.now()
        claim = claim_label(item, self.reviewer, now)
        status = "reviewed" if item.status == "done" else ("held by " + claim if claim and claim != "you" else "yours" if claim == "you" else "open")
        topics = ", ".join(one_line(str(t), 30) for t in snap.get("topics") or []) or formatting.DASH
        return Content.assemble(
            (one_line(item.conversation_id, 40), "bold"),
            ("  ", ""),
            (item.queue if role_words(item.role) == item.queue else f"{item.queue} ({role_words(item.role)})", "$text-accent"),
            ("  reason ", "dim"),
            one_line(reason_words(item.reason), 20),
            ("  score ", "dim"),
            (f"{item.score:.2f}", "$text-error bold" if item.score < 0.4 else "bold"),
            ("  ", ""),
            (status, "$text-success bold" if claim == "you" else "$text-warning" if claim else "dim"),
            "\n",
            ("why ", "dim"),
            score_why(snap) or formatting.DASH,
            ("  triggers ", "dim"),
            trigger_kinds(snap),
            "\n",
            ("outcome ", "dim"),
            one_line(str(snap.get("outcome") or "open"), 20),
            ("  topics ", "dim"),
            topics,
            ("  tags ", "dim"),
            ", ".join(one_line(t, 30) for t in tags) or formatting.DASH,
        )

    # ------------------------------------------------------------ actions

    def selected_turn(self) -> dict[str, Any] | None:
        transcript = self.query_one(OptionList)
        if transcript.highlighted is None:
            return None
        option = transcript.get_option_at_index(transcript.highlighted)
        if not option.id or not option.id.startswith("turn:"):
            return None
        seq = int(option.id.split(":", 1)[1])
        return next((t for t in self.snap.get("turns") or [] if int(t.get("seq", -1)) == seq), None)

    def action_correct(self) -> None:
        item = self.item
        turn = self.selected_turn()
        if item is None:
            return
        if turn is None or turn.get("role") != "ai":
            self.notify("Select an AI turn first (↑ ↓), then x.", severity="warning", timeout=4, markup=False)
            return
        seq = int(turn["seq"])
        original = str(turn.get("text", ""))
        number = turn_number(self.snap, seq)
        which = f"turn {number} ({formatting.clock_time(turn.get('ts'))})" if number is not None else formatting.clock_time(turn.get("ts"))

        def answered(text: str | None) -> None:
            if text is None:
                return
            ok, _ = self._store_call(
                "Correction",
                self.store.add_correction,
                item.conversation_id,
                seq,
                text,
                self.reviewer,
                feed=item.feed,
                item_id=item.item_id,
                original_text=original,
            )
            if ok:
                self.notify(f"Correction of {which} saved.", timeout=3, markup=False)
                self.reload()

        self.app.push_screen(CorrectionDialog(item.conversation_id, seq, original, which), answered)

    def action_back(self) -> None:
        self.dismiss()
