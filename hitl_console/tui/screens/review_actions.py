"""Claim, verdict and tag: the reviewer's keys, shared by the queue and the item screens."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from textual.binding import Binding

from hitl_console.store.journal import JournalError
from hitl_console.store.reviews import ClaimError, ReviewItem, ReviewStore
from hitl_console.text import one_line
from hitl_console.tui.screens.dialogs import NoteDialog
from hitl_console.tui.screens.review_labels import VERDICT_HINT, VERDICTS, refusal
from hitl_console.tui.session import ConsoleSession

log = logging.getLogger(__name__)





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
    def session(self) -> ConsoleSession:
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




def verdict_bindings() -> list[Binding]:
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
