"""The review queue: conversations people should look at again, worst first.

Ended conversations that the AI was unsure about, that a trigger flagged,
that were escalated, or that were sampled
(:func:`~hitl_console.analysis.review.build_queues`) are put in the review
store (:class:`~hitl_console.store.reviews.ReviewStore`, in the journal's
file) with a snapshot of their transcript. The store, not this screen, is
the source of truth: another reviewer's console sees the same items, and
the claim (``c``) is one SQLite statement, so two reviewers never hold one
item; a refusal names who does. On a team's NATS (``[team]``, or a
``nats://`` feed) the item is claimed in the shared ``hitl-claims`` bucket
first (``LiveSession.claim_review``), so reviewers on other machines are
kept apart too; this screen only shows the answer.

What a reviewer concludes goes back into the store: a verdict (``1``-``4``,
with an optional note) closes the item; a corrected AI answer (``x`` on an
AI turn of the transcript) and edge-case tags (``g``) become the labelled
examples of ``hitl-console review export``.

Everything from the feed (transcripts, trigger reasons, topics, ids) is
untrusted: it reaches the terminal through :func:`~hitl_console.text.printable`
/ :func:`~hitl_console.text.one_line` and ``rich.text.Text`` or ``Content``
built from plain strings, never markup, so ``[@click=app.quit]x[/]`` in a
message is shown as exactly that.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from hitl_console.analysis.review import build_queues, enqueue, queue_specs, snapshot
from hitl_console.config import Config
from hitl_console.engine.state import ConversationState
from hitl_console.store.journal import JournalError
from hitl_console.store.reviews import ClaimError, ReviewItem, ReviewStore, Verdict, find_conversation
from hitl_console.text import one_line, printable
from hitl_console.tui import formatting
from hitl_console.tui.palette import Palette
from hitl_console.tui.screens.base import TableScreen
from hitl_console.tui.screens.dialogs import NoteDialog
from hitl_console.tui.screens.metrics import is_visible
from hitl_console.tui.widgets.status_line import StatusLine

log = logging.getLogger(__name__)

REFRESH_S = 5.0
"""How often a visible review screen looks for newly ended conversations and
for claims and verdicts made by other reviewers."""

VERDICTS: dict[str, tuple[Verdict, str, str]] = {
    "1": (Verdict.ESCALATION_NEEDED, "Needed", "a human was needed"),
    "2": (Verdict.ESCALATION_NOT_NEEDED, "Not needed", "no human was needed"),
    "3": (Verdict.AI_RIGHT, "AI right", "the AI handled it right"),
    "4": (Verdict.AI_WRONG, "AI wrong", "the AI got it wrong"),
}
"""Verdict keys: the first two answer "was a human needed?" (escalation
accuracy), the last two "was the AI right?" (training examples)."""

COLUMNS = (
    ("score", "Score", 5),
    ("conversation", "Conversation", 14),
    ("queue", "Queue", 11),
    ("reason", "Reason", 14),
    ("claim", "Claim", 12),
    ("why", "Why", 60),
    ("triggers", "Triggers", 22),
    ("role", "Role", 10),
)
"""Most useful first: at 80 columns score, conversation, queue, reason, claim
and the start of "why" are in view; the rest scrolls."""
CLAIM_COLUMN = 4

ROLE_LABEL = {"customer": "Customer", "ai": "AI", "human": "Agent", "system": "System"}


# ---------------------------------------------------------------- plain helpers


def score_why(snap: Mapping[str, Any] | None, limit: int = 3) -> str:
    """What made the score low, from a snapshot's score: its notes, else the weakest criteria
    (the same rule as :meth:`~hitl_console.analysis.scorecard.Score.why`)."""
    score = (snap or {}).get("score") or {}
    notes = [one_line(str(n), 80) for n in score.get("notes") or []]
    if notes:
        return "; ".join(notes[:limit])
    criteria = score.get("criteria") or {}
    weakest = sorted(((str(k), float(v)) for k, v in criteria.items()), key=lambda kv: kv[1])[:limit]
    return ", ".join(f"{one_line(k, 30)} {v:.2f}" for k, v in weakest)


def trigger_kinds(snap: Mapping[str, Any] | None) -> str:
    kinds = sorted({one_line(str(h.get("kind", "?")), 20) for h in (snap or {}).get("triggers") or []})
    return ",".join(kinds) or formatting.DASH


def claim_label(item: ReviewItem, me: str, now: float) -> str:
    """``you``, ``rita 25m`` (another reviewer, time left on the claim) or empty."""
    if not item.claimed(now):
        return ""
    if item.claimed_by == me:
        return "you"
    left = formatting.duration((item.claim_expires or now) - now)
    return f"{one_line(item.claimed_by or '?', 16)} {left}"


def refusal(item: ReviewItem | None, now: float) -> str:
    """Why a claim was refused, in words a reviewer can act on."""
    if item is None:
        return "That item is no longer in the review queue."
    if item.status == "done":
        return f"{one_line(item.conversation_id, 40)} has already been reviewed."
    if item.claimed(now):
        until = formatting.clock_time(item.claim_expires)
        return f"{one_line(item.claimed_by or '?', 32)} is reviewing {one_line(item.conversation_id, 40)} (claimed until {until})."
    return f"Could not claim {one_line(item.conversation_id, 40)}; try again."


@dataclass(slots=True)
class QueueFeeder:
    """Puts ended conversations of the live engine into the review store.

    Each conversation is offered again only when its state changed (its
    ``version``): scoring and snapshotting thousands of conversations on every
    refresh would be wasted work, and the store ignores items it already has,
    so a claim or a finished review is never reset.
    """

    seen: dict[str, int] = field(default_factory=dict)
    """Conversation id -> the version last offered to the store."""

    def feed(self, store: ReviewStore, conversations: Mapping[str, ConversationState], config: Config) -> int:
        """Queue what is new; return how many items were added."""
        fresh = [s for s in conversations.values() if s.ended and self.seen.get(s.conversation_id) != s.version]
        for gone in [cid for cid in self.seen if cid not in conversations]:
            del self.seen[gone]
        if not fresh:
            return 0
        entries = build_queues(fresh, config)
        added = enqueue(store, entries)
        for state in fresh:
            self.seen[state.conversation_id] = state.version
        return added


def timeline_options(
    snap: Mapping[str, Any],
    *,
    low_confidence: float,
    corrections: Mapping[int, Sequence[tuple[str, str]]] | None = None,
) -> list[Option]:
    """The transcript as options: one per turn (id ``turn:SEQ``), with each
    trigger (a disabled option) where it fired, and the corrections made to
    a turn under it. Text is feed text: plain strings into ``Content`` only."""
    corrections = corrections or {}
    triggers = sorted(snap.get("triggers") or [], key=lambda h: h.get("seq", 0))
    out: list[Option] = []
    ti = 0

    def trigger_option(hit: Mapping[str, Any], n: int) -> Option:
        return Option(
            Content.assemble(
                ("⚑ ", "$text-warning bold"),
                (one_line(str(hit.get("kind", "?")), 30).replace("_", " ").upper(), "$text-warning bold"),
                "  ",
                one_line(str(hit.get("reason", "")), 300),
            ),
            id=f"trigger:{n}",
            disabled=True,
        )

    for turn in snap.get("turns") or []:
        seq = int(turn.get("seq", 0))
        while ti < len(triggers) and triggers[ti].get("seq", 0) < seq:
            out.append(trigger_option(triggers[ti], ti))
            ti += 1
        role = str(turn.get("role", "system"))
        head: list[str | tuple[str, str]] = [(ROLE_LABEL.get(role, "System"), "bold")]
        if turn.get("author"):
            head += [" ", (one_line(str(turn["author"]), 32), "bold")]
        head += [(f"  #{seq}", "dim"), ("  " + formatting.clock_time(turn.get("ts")), "dim")]
        confidence = turn.get("confidence")
        if role == "ai" and confidence is not None:
            style = "$text-error bold" if float(confidence) < low_confidence else "dim"
            head += [("  confidence ", "dim"), (f"{float(confidence):.2f}", style)]
        sentiment = turn.get("sentiment")
        if role == "customer" and sentiment is not None:
            value = float(sentiment)
            style = "$text-error" if value <= -0.5 else "$text-warning" if value < -0.1 else "dim"
            head += [("  sentiment ", "dim"), (f"{value:+.2f}", style)]
        body = printable(str(turn.get("text", ""))).rstrip("\n") or " "
        parts: list[str | tuple[str, str]] = [*head, "\n", body]
        for reviewer, text in corrections.get(seq, ()):
            parts += ["\n", (f"✎ corrected by {one_line(reviewer, 32)}: ", "$text-success bold"), printable(text).rstrip("\n")]
        out.append(Option(Content.assemble(*parts), id=f"turn:{seq}"))
    for n, hit in enumerate(triggers[ti:], start=ti):
        out.append(trigger_option(hit, n))
    return out


# ---------------------------------------------------------------- dialogs


class CorrectionDialog(ModalScreen[str | None]):
    """A better answer for one AI turn, in a multi-line editor that starts with
    the AI's text (most corrections are edits, not rewrites, and answers have
    paragraphs). ``enter`` is a new line; ``ctrl+s`` saves, ``escape``
    cancels, an empty answer is refused."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    MAX_LENGTH = 4000

    def __init__(self, conversation_id: str, turn_seq: int, original: str) -> None:
        super().__init__(classes="dialog", id="correction-dialog")
        self.conversation_id = conversation_id
        self.turn_seq = turn_seq
        self.original = original

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Content("Correct the AI's answer"), classes="dialog-title")
            yield Static(
                Content.assemble(
                    (f"{one_line(self.conversation_id, 40)} · turn #{self.turn_seq} · the AI said:", "dim"),
                    "\n",
                    printable(self.original).rstrip("\n") or " ",
                ),
                classes="dialog-text",
                markup=False,
            )
            yield TextArea(
                printable(self.original).rstrip("\n"),
                id="correction",
                soft_wrap=True,
                show_line_numbers=False,
                tab_behavior="focus",
            )
            yield Label(
                Content.assemble(
                    ("ctrl+s", "bold"), " save · ", ("enter", "bold"), " new line · ", ("escape", "bold"), " cancel"
                ),
                classes="dialog-keys",
            )

    def on_mount(self) -> None:
        editor = self.query_one(TextArea)
        editor.focus()
        editor.move_cursor(editor.document.end)

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def action_save(self) -> None:
        text = self.text.strip()
        if not text:
            self.notify("A correction needs text (escape cancels).", severity="warning", markup=False)
            return
        if len(text) > self.MAX_LENGTH:
            self.notify(
                f"A correction holds at most {self.MAX_LENGTH} characters ({len(text)} now).", severity="warning", markup=False
            )
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------- shared actions


class ReviewActions:
    """Claim, verdict and tag, shared by the queue and the transcript screens.

    The host screen provides :meth:`current_item` and :meth:`reviews_changed`.
    Store errors (a full disk, a locked file) become notifications: the
    reviewer must know their verdict was not kept, and the console must stay up.
    """

    app: Any

    def current_item(self) -> ReviewItem | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def reviews_changed(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def session(self) -> Any:
        return self.app.session

    @property
    def reviewer(self) -> str:
        return str(self.session.agent)

    @property
    def store(self) -> ReviewStore:
        return self.session.reviews

    def now(self) -> float:
        return time.time()  # claims are wall-clock leases, even in a replay

    def _store_call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        try:
            return True, fn(*args, **kwargs)
        except ClaimError as error:
            self.app.notify(f"{what}: {error}", severity="warning", timeout=8, markup=False)
        except (JournalError, ValueError) as error:
            log.error("%s failed: %s", what, error)
            self.app.notify(f"{what} failed: {error}", severity="error", timeout=10, markup=False)
        return False, None

    async def claim(self, item: ReviewItem, *, quiet: bool = False) -> bool:
        """Claim ``item`` for this reviewer (``session.claim_review``: the team's
        bucket first when there is one, then the store); on refusal, say who holds it."""
        try:
            claim = await self.session.claim_review(item.item_id)
        except (JournalError, ValueError) as error:
            log.error("Claim failed: %s", error)
            self.app.notify(f"Claim failed: {error}", severity="error", timeout=10, markup=False)
            return False
        if not claim.ok:
            self.app.notify(self._refusal(item, claim), title="Not claimed", severity="warning", timeout=8, markup=False)
            self.reviews_changed()
            return False
        if not quiet:
            minutes = self.store.claim_ttl_s / 60
            self.app.notify(
                f"You are reviewing {one_line(item.conversation_id, 40)} ({item.queue}) for the next {minutes:.0f} min.",
                timeout=3,
                markup=False,
            )
        self.reviews_changed()
        return True

    def _refusal(self, item: ReviewItem, claim: Any) -> str:
        """Why a claim was refused: by this file's store (:func:`refusal`) or by the team's bucket."""
        name = one_line(item.conversation_id, 40)
        holder = one_line(claim.holder or "?", 32)
        if claim.done:
            return f"{holder} has already reviewed {name} (team claim)."
        fresh = self._store_call("Claim", self.store.item, item.item_id)[1]
        now = self.now()
        if fresh is None or fresh.status == "done" or (fresh.claimed(now) and fresh.claimed_by != self.reviewer):
            return refusal(fresh, now)
        if claim.holder:
            return f"{holder} is reviewing {name} (team claim)."
        return f"Could not claim {name}: {one_line(claim.error or 'try again', 120)}."

    def action_claim(self) -> None:
        item = self.current_item()
        if item is not None:
            self.run_worker(self.claim(item), group="review-claim", exclusive=True)

    def action_unclaim(self) -> None:
        item = self.current_item()
        if item is not None:
            self.run_worker(self._unclaim(item), group="review-claim", exclusive=True)

    async def _unclaim(self, item: ReviewItem) -> None:
        try:
            released = await self.session.release_review(item.item_id)
        except (JournalError, ValueError) as error:
            log.error("Release failed: %s", error)
            self.app.notify(f"Release failed: {error}", severity="error", timeout=10, markup=False)
            return
        self.app.notify("Back in the queue." if released else "You did not hold that item.", timeout=3, markup=False)
        self.reviews_changed()

    def action_verdict(self, key: str) -> None:
        """Claim if needed, ask for a note, record the verdict (which closes the item)."""
        item = self.current_item()
        if item is not None and key in VERDICTS:
            self.run_worker(self._verdict(item, key), group="review-claim", exclusive=True)

    async def _verdict(self, item: ReviewItem, key: str) -> None:
        verdict, _, words = VERDICTS[key]
        now = self.now()
        held_before = item.claimed_by == self.reviewer and item.claimed(now)
        if not await self.claim(item, quiet=True):  # held already: renewed (and the team's claim checked)
            return
        dialog = NoteDialog(
            "Record a verdict",
            f"{one_line(item.conversation_id, 40)} ({item.queue}): {words}.",
            placeholder="note (optional): what should change?",
            confirm="record",
        )

        def answered(note: str | None) -> None:
            if note is None:
                if not held_before:  # the claim was only for this verdict: give it back
                    self.run_worker(self.session.release_review(item.item_id), group="review-release")
                self.reviews_changed()
                return
            ok, _ = self._store_call("Verdict", self.session.record_review_verdict, item.item_id, verdict, note or None)
            if ok:
                self.app.notify(f"Recorded: {words} ({one_line(item.conversation_id, 40)}).", timeout=3, markup=False)
                self.run_worker(self.session.review_done(item.item_id), group="review-release")
            self.reviews_changed()

        self.app.push_screen(dialog, answered)

    def action_tag(self) -> None:
        item = self.current_item()
        if item is None:
            return
        dialog = NoteDialog(
            "Tag an edge case",
            f"A tag for {one_line(item.conversation_id, 40)}, e.g. refund-policy-gap.",
            placeholder="tag",
            confirm="tag",
        )

        def answered(tag: str | None) -> None:
            tag = one_line(tag or "", 60)
            if not tag:
                return
            ok, added = self._store_call("Tag", self.store.add_tag, item.conversation_id, tag, self.reviewer, feed=item.feed)
            if ok:
                self.app.notify(f"Tagged {tag}." if added else f"Already tagged {tag}.", timeout=3, markup=False)
                self.reviews_changed()

        self.app.push_screen(dialog, answered)


VERDICT_HINT = " · ".join(f"{key} {label.lower()}" for key, (_, label, _) in VERDICTS.items())


def _verdict_bindings() -> list[Binding]:
    """The four verdict keys, shown in the footer as one "1-4 Verdict" (four
    entries pushed the rest of the footer off an 80-column screen; ``?`` lists
    each)."""
    return [
        Binding(
            key,
            f"verdict('{key}')",
            "Verdict" if first else label,
            key_display="1-4" if first else None,
            show=first,
            tooltip=VERDICT_HINT if first else f"Verdict: {words} (optional note)",
            id=f"review.verdict_{key}",
        )
        for first, (key, (_, label, words)) in ((i == 0, item) for i, item in enumerate(VERDICTS.items()))
    ]


# ---------------------------------------------------------------- the queue


class ReviewScreen(ReviewActions, TableScreen):
    """The review queue of the chosen role, lowest score first."""

    CSS_PATH = "review.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Open", tooltip="Read the transcript with its triggers", id="review.open"),
        Binding("c", "claim", "Claim", tooltip="Take the selected item (nobody else can while you hold it)", id="review.claim"),
        Binding("u", "unclaim", "Unclaim", tooltip="Give the selected item back to the queue", id="review.unclaim"),
        *_verdict_bindings(),
        Binding("g", "tag", "Tag", tooltip="Tag the conversation as an edge case", id="review.tag"),
        Binding("r", "cycle_role", "Role", tooltip="Show one role's queues at a time (cycles)", id="review.cycle_role"),
    ]

    def __init__(self, role: str | None = None) -> None:
        super().__init__(id="review")
        self.role = role
        self.feeder = QueueFeeder()
        self._items: dict[str, ReviewItem] = {}
        self._cells: list[tuple[str, tuple[str, ...]]] = []
        self._problem: str | None = None
        self._data_version: int | None = None
        self._minute: int | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine(id="review-status")
        table: DataTable[Text] = DataTable(id="review-table", cursor_type="row", zebra_stripes=False)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.set_interval(REFRESH_S, self._poll, name="review-poll")
        self.reload()
        table.focus()

    # ------------------------------------------------------------ data

    @property
    def palette(self) -> Palette:
        return getattr(self.app, "palette", None) or Palette.plain()

    def roles(self) -> list[str]:
        """Roles of the configured queues, plus any role already in the store."""
        config: Config = self.session.config
        roles = {spec.role for spec in queue_specs(config)}
        roles |= {item.role for item in self._items.values()}
        return sorted(roles)

    def mark_dirty(self, changed: Iterable[str] = (), *, figures: bool = False, approvals: bool = False) -> None:  # type: ignore[override]
        """Not per event: the queue only grows when conversations end, and other
        reviewers change it through the store. :meth:`_poll` looks every few seconds."""

    def flush(self) -> None:
        self.clean()

    def on_screen_resume(self) -> None:
        self.reload()

    def _poll(self) -> None:
        """Queue newly ended conversations; read the items again only when
        something could have changed: new items, another connection's commit
        to the file (another reviewer's claim or verdict: ``PRAGMA
        data_version``), or a new minute (claim times left). Reading every
        item parses every snapshot, which is not free on a long queue."""
        if not is_visible(self):
            return
        try:
            added = self.feeder.feed(self.store, self.session.engine.conversations, self.session.config)
            version = self.store.journal.connection.execute("PRAGMA data_version").fetchone()[0]
        except (JournalError, sqlite3.Error) as error:
            log.error("review queue: %s", error)
            self.reload()
            return
        minute = int(self.now() // 60)
        if added or version != self._data_version or minute != self._minute:
            self._data_version = version
            self._minute = minute
            self.reload()

    def reviews_changed(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Queue newly ended conversations, read the open items and redraw what changed."""
        try:
            store = self.store
            self.feeder.feed(store, self.session.engine.conversations, self.session.config)
            items = store.items(role=self.role, status="open")
            self._problem = None
        except JournalError as error:
            log.error("review queue: %s", error)
            self._problem = str(error)
            items = list(self._items.values())
        self._show(items)

    def _row(self, item: ReviewItem, now: float) -> tuple[str, ...]:
        return (
            f"{item.score:.2f}",
            one_line(item.conversation_id, 40),
            one_line(item.queue, 20),
            one_line(item.reason, 20),
            claim_label(item, self.reviewer, now),
            score_why(item.snapshot),
            trigger_kinds(item.snapshot),
            one_line(item.role, 20),
        )

    def _show(self, items: list[ReviewItem]) -> None:
        now = self.now()
        table = self.query_one(DataTable)
        cells = [(item.item_id, self._row(item, now)) for item in items]
        self._items = {item.item_id: item for item in items}
        if cells != self._cells:
            keep = self.selected_id
            index = table.cursor_row
            palette = self.palette
            with self.app.batch_update():
                table.clear()
                for item_id, values in cells:
                    item = self._items[item_id]
                    mine = values[CLAIM_COLUMN] == "you"
                    taken = bool(values[CLAIM_COLUMN]) and not mine
                    score_style = palette.error + palette.strong if item.score < 0.4 else palette.warning if item.score < 0.6 else palette.muted
                    styles = [
                        score_style,
                        palette.strong if not taken else palette.muted,
                        palette.strong,
                        palette.accent,
                        palette.success + palette.strong if mine else palette.muted,
                        palette.muted,
                        palette.warning,
                        palette.muted,
                    ]
                    table.add_row(
                        *(Text(v, style=s, no_wrap=True, end="") for v, s in zip(values, styles)),
                        key=item_id,
                        height=1,
                    )
                if keep is not None and keep in self._items:
                    table.move_cursor(row=table.get_row_index(keep), scroll=True)
                elif table.row_count:
                    table.move_cursor(row=min(index, table.row_count - 1), scroll=True)
            self._cells = cells
        self._show_status(items, now)
        self.refresh_bindings()

    def _show_status(self, items: list[ReviewItem], now: float) -> None:
        mine = sum(1 for i in items if i.claimed(now) and i.claimed_by == self.reviewer)
        others = sum(1 for i in items if i.claimed(now) and i.claimed_by != self.reviewer)
        parts: list[str | tuple[str, str]] = [
            ("Review  ", "bold"),
            ("role ", "dim"),
            (self.role or "all", "$text-accent bold"),
            (" (r)", "dim"),
            f"  ·  {formatting.count(len(items))} open, lowest score first",
            (f"  ·  {mine} yours", "$text-success") if mine else "",
            (f"  ·  {others} held by others", "dim") if others else "",
            ("  ·  reviewer ", "dim"),
            (one_line(self.reviewer, 24), "bold"),
        ]
        if self._problem:
            parts += ["  ", (f"store error: {one_line(self._problem, 80)}", "$text-error bold")]
        self.query_one("#review-status", StatusLine).show(Content.assemble(*parts))

    # ------------------------------------------------------------ selection

    def current_item(self) -> ReviewItem | None:
        return self.selected_in(self._items)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "claim", "unclaim", "verdict", "tag"):
            return self.current_item() is not None
        return True

    # ------------------------------------------------------------ actions

    def action_open(self) -> None:
        item = self.current_item()
        if item is not None:
            self.app.push_screen(ReviewItemScreen(item.item_id))

    def action_cycle_role(self) -> None:
        roles: list[str | None] = [None, *self.roles()]
        position = roles.index(self.role) if self.role in roles else 0
        self.role = roles[(position + 1) % len(roles)]
        self._cells = []  # a different list: redraw even if it happens to look the same
        self.reload()
        self.query_one(DataTable).move_cursor(row=0)


# ---------------------------------------------------------------- one item


class ReviewItemScreen(ReviewActions, Screen[None]):
    """One item: its transcript with the triggers where they fired, and the
    reviewer's keys. ``↑``/``↓`` select a turn; ``x`` corrects a selected AI turn."""

    CSS_PATH = "review.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "claim", "Claim", tooltip="Take this item (nobody else can while you hold it)", id="review_item.claim"),
        *_verdict_bindings(),
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
            (f"{item.queue} ({item.role})", "$text-accent"),
            ("  reason ", "dim"),
            one_line(item.reason, 20),
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
                self.notify(f"Correction of turn #{seq} saved.", timeout=3, markup=False)
                self.reload()

        self.app.push_screen(CorrectionDialog(item.conversation_id, seq, original), answered)

    def action_back(self) -> None:
        self.dismiss()
