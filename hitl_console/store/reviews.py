"""Review items, claims, verdicts, corrections, tags and takeover verdicts.

Stored in the journal's SQLite file through its extension point
(:meth:`Journal.register_schema`, extension ``"reviews"``), so that one file
holds what happened and what people concluded about it, a backup copies
both, and a review screen in another process (another reviewer's console)
sees the same queue. SQLite's write lock is what keeps two reviewers from
holding one item: a claim is a single ``UPDATE ... WHERE claimed_by IS NULL
OR claim_expires <= now`` and only one of two racing statements can match.

Tables (version 1):

``review_items``
    one row per (conversation, review queue): the reason it was selected,
    its score, the claim (who, until when), its status (``open`` / ``done``)
    and a JSON *snapshot* of the conversation (ids, topics, transcript,
    triggers) taken when it was queued. The snapshot lets a review and the
    export outlive the journal's event retention.
``review_verdicts``
    a reviewer's :class:`Verdict` on an item, with an optional note.
``review_corrections``
    a better text for one AI turn (by its ``seq``).
``review_tags``
    edge-case tags on a conversation (``refund-policy-gap``, ...).
``takeover_verdicts``
    the supervisor's answer, when a takeover ends, to "was the escalation
    needed?". The console asks it; metrics turn it into escalation accuracy.

Retention: open items that nobody reviewed are pruned with the journal's
retention (they hold customer text and are no use once stale); verdicts,
corrections, tags and reviewed items are kept, because they are the
labelled examples the export feeds back into training and configuration.
"""

from __future__ import annotations

import enum
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hitl_console.store.journal import Journal, JournalError

EXTENSION = "reviews"
VERSION = 1
DEFAULT_CLAIM_TTL_S = 1800.0

DDL = """
CREATE TABLE IF NOT EXISTS review_items (
    item_id         TEXT PRIMARY KEY,          -- '<queue>:<conversation_id>'
    conversation_id TEXT    NOT NULL,
    queue           TEXT    NOT NULL,          -- the review queue (compliance, qa, ...)
    role            TEXT    NOT NULL,
    feed            TEXT    NOT NULL DEFAULT '',
    reason          TEXT    NOT NULL,          -- why it was selected
    score           REAL    NOT NULL,
    created_ts      REAL    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'open',   -- open | done
    claimed_by      TEXT,
    claimed_at      REAL,
    claim_expires   REAL,
    done_ts         REAL,
    snapshot        TEXT                       -- JSON, see hitl_console.analysis.review.snapshot
);
CREATE INDEX IF NOT EXISTS review_items_queue ON review_items (queue, status, score);
CREATE INDEX IF NOT EXISTS review_items_conversation ON review_items (conversation_id);
CREATE TABLE IF NOT EXISTS review_verdicts (
    id              INTEGER PRIMARY KEY,
    item_id         TEXT,
    conversation_id TEXT    NOT NULL,
    queue           TEXT    NOT NULL DEFAULT '',
    reviewer        TEXT    NOT NULL,
    verdict         TEXT    NOT NULL,
    note            TEXT,
    ts              REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS review_verdicts_conversation ON review_verdicts (conversation_id);
CREATE INDEX IF NOT EXISTS review_verdicts_ts ON review_verdicts (ts);
CREATE TABLE IF NOT EXISTS review_corrections (
    id              INTEGER PRIMARY KEY,
    item_id         TEXT,
    conversation_id TEXT    NOT NULL,
    turn_seq        INTEGER NOT NULL,
    original_text   TEXT,
    corrected_text  TEXT    NOT NULL,
    reviewer        TEXT    NOT NULL,
    ts              REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS review_corrections_conversation ON review_corrections (conversation_id);
CREATE TABLE IF NOT EXISTS review_tags (
    conversation_id TEXT    NOT NULL,
    tag             TEXT    NOT NULL,
    reviewer        TEXT    NOT NULL,
    ts              REAL    NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);
CREATE TABLE IF NOT EXISTS takeover_verdicts (
    id                INTEGER PRIMARY KEY,
    conversation_id   TEXT    NOT NULL,
    agent             TEXT    NOT NULL,
    escalation_needed INTEGER NOT NULL,
    note              TEXT,
    ts                REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS takeover_verdicts_conversation ON takeover_verdicts (conversation_id);
"""

PRUNE = "DELETE FROM review_items WHERE status = 'open' AND created_ts < :cutoff"


class Verdict(str, enum.Enum):
    """What a reviewer concludes about a conversation.

    Two questions, kept apart because they feed different things: was a human
    needed (escalation accuracy, the trigger thresholds) and was the AI's
    handling right (training examples, the AI's own configuration).
    """

    ESCALATION_NEEDED = "escalation_needed"
    ESCALATION_NOT_NEEDED = "escalation_not_needed"
    AI_RIGHT = "ai_right"
    AI_WRONG = "ai_wrong"

    @property
    def escalation_needed(self) -> bool | None:
        """True/False for the escalation verdicts, None for the AI-handling ones."""
        if self is Verdict.ESCALATION_NEEDED:
            return True
        if self is Verdict.ESCALATION_NOT_NEEDED:
            return False
        return None


class ClaimError(Exception):
    """The reviewer does not hold the item (someone else does, or the claim expired)."""


@dataclass(slots=True)
class NewItem:
    """An item to queue (see :func:`hitl_console.analysis.review.enqueue`)."""

    conversation_id: str
    queue: str
    role: str
    reason: str
    score: float
    feed: str = ""
    snapshot: dict[str, Any] | None = None


@dataclass(slots=True)
class ReviewItem:
    item_id: str
    conversation_id: str
    queue: str
    role: str
    feed: str
    reason: str
    score: float
    created_ts: float
    status: str
    claimed_by: str | None
    claimed_at: float | None
    claim_expires: float | None
    done_ts: float | None
    snapshot: dict[str, Any] | None = None

    def claimed(self, now: float | None = None) -> bool:
        """Held by someone right now (an expired claim does not count)."""
        now = time.time() if now is None else now
        return self.claimed_by is not None and self.claim_expires is not None and self.claim_expires > now


@dataclass(slots=True)
class ReviewVerdict:
    id: int
    item_id: str | None
    conversation_id: str
    queue: str
    reviewer: str
    verdict: Verdict
    note: str | None
    ts: float


@dataclass(slots=True)
class Correction:
    id: int
    item_id: str | None
    conversation_id: str
    turn_seq: int
    original_text: str | None
    corrected_text: str
    reviewer: str
    ts: float


@dataclass(slots=True)
class TakeoverVerdict:
    id: int
    conversation_id: str
    agent: str
    escalation_needed: bool
    note: str | None
    ts: float


@dataclass(slots=True)
class ConversationReview:
    """Everything people said about one conversation (for the export)."""

    conversation_id: str
    verdicts: list[ReviewVerdict] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    takeover: list[TakeoverVerdict] = field(default_factory=list)


def item_id_for(queue: str, conversation_id: str) -> str:
    return f"{queue}:{conversation_id}"


_ITEM_COLUMNS = (
    "item_id, conversation_id, queue, role, feed, reason, score, created_ts, status, "
    "claimed_by, claimed_at, claim_expires, done_ts, snapshot"
)


def _item(row: tuple) -> ReviewItem:
    snap = json.loads(row[13]) if row[13] else None
    return ReviewItem(*row[:13], snapshot=snap)


def _where(*, since: float | None = None, **equal: Any) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause (or "") and its parameters: ``ts >= since`` and
    ``column = value`` for every value given. Column names come from this
    module's own keyword arguments, never from outside."""
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append("ts >= ?")
        params.append(since)
    for column, value in equal.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


class ReviewStore:
    """Reviews in the journal's file. Open one per thread or process, like the journal.

    ``claim_ttl_s``: how long a claim holds before another reviewer may take
    the item (``ReviewConfig.claim_ttl_s``); a reviewer who went home does not
    block the queue.
    """

    def __init__(self, journal: Journal, *, claim_ttl_s: float = DEFAULT_CLAIM_TTL_S, owns_journal: bool = False) -> None:
        if claim_ttl_s <= 0:
            raise ValueError("claim_ttl_s must be positive")
        self.journal = journal
        self.claim_ttl_s = float(claim_ttl_s)
        self._owns = owns_journal
        journal.register_schema(EXTENSION, VERSION, DDL, prune=PRUNE)

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        claim_ttl_s: float = DEFAULT_CLAIM_TTL_S,
        retention_days: float = 30.0,
    ) -> "ReviewStore":
        """Open the journal at ``path`` (default: the XDG one) and its review tables."""
        journal = Journal(path, retention_days=retention_days)
        try:
            return cls(journal, claim_ttl_s=claim_ttl_s, owns_journal=True)
        except BaseException:
            journal.close()
            raise

    def close(self) -> None:
        """Close the journal if this store opened it."""
        if self._owns:
            self.journal.close()

    def __enter__(self) -> "ReviewStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ plumbing

    @property
    def _conn(self) -> sqlite3.Connection:
        return self.journal.connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            with self.journal.transaction() as conn:
                yield conn
        except sqlite3.Error as error:
            raise JournalError(f"reviews in {self.journal.path}: {error}") from error

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as error:
            raise JournalError(f"reviews in {self.journal.path}: {error}") from error

    # ------------------------------------------------------------ items and claims

    def add_items(self, items: Iterable[NewItem], now: float | None = None) -> int:
        """Queue items; one already queued (same queue and conversation) is left as it is,
        so that re-running the selection never resets a claim or a finished review.
        Returns how many were new."""
        now = time.time() if now is None else now
        added = 0
        with self._write() as conn:
            for it in items:
                cur = conn.execute(
                    f"INSERT OR IGNORE INTO review_items ({_ITEM_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, NULL, NULL, NULL, ?)",
                    (
                        item_id_for(it.queue, it.conversation_id),
                        it.conversation_id,
                        it.queue,
                        it.role,
                        it.feed,
                        it.reason,
                        float(it.score),
                        now,
                        json.dumps(it.snapshot, separators=(",", ":"), ensure_ascii=False) if it.snapshot else None,
                    ),
                )
                added += cur.rowcount
        return added

    def item(self, item_id: str) -> ReviewItem | None:
        rows = self._read(f"SELECT {_ITEM_COLUMNS} FROM review_items WHERE item_id = ?", (item_id,))
        return _item(rows[0]) if rows else None

    def items(
        self,
        *,
        queue: str | None = None,
        role: str | None = None,
        status: str | None = "open",
        conversation_id: str | None = None,
        limit: int | None = None,
    ) -> list[ReviewItem]:
        """Items, lowest score first (then oldest first)."""
        where, params = _where(queue=queue, role=role, status=status, conversation_id=conversation_id)
        sql = f"SELECT {_ITEM_COLUMNS} FROM review_items{where} ORDER BY score, created_ts, item_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_item(r) for r in self._read(sql, params)]

    def claim(self, item_id: str, reviewer: str, now: float | None = None) -> bool:
        """Take the item for ``reviewer``; False when someone else holds it or it is done.

        Claiming an item one already holds renews the claim.
        """
        if not reviewer:
            raise ValueError("a claim needs a reviewer name")
        now = time.time() if now is None else now
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE review_items SET claimed_by = ?, claimed_at = ?, claim_expires = ? "
                "WHERE item_id = ? AND status = 'open' "
                "AND (claimed_by IS NULL OR claim_expires <= ? OR claimed_by = ?)",
                (reviewer, now, now + self.claim_ttl_s, item_id, now, reviewer),
            )
            return cur.rowcount == 1

    def claim_next(
        self,
        reviewer: str,
        *,
        queue: str | None = None,
        role: str | None = None,
        now: float | None = None,
    ) -> ReviewItem | None:
        """Claim the lowest-scored free item of a queue (or role) in one statement; None when none is free."""
        if not reviewer:
            raise ValueError("a claim needs a reviewer name")
        now = time.time() if now is None else now
        filters = ""
        params: list[Any] = []
        if queue is not None:
            filters += " AND queue = ?"
            params.append(queue)
        if role is not None:
            filters += " AND role = ?"
            params.append(role)
        free = "status = 'open' AND (claimed_by IS NULL OR claim_expires <= ?)"
        with self._write() as conn:
            rows = conn.execute(
                "UPDATE review_items SET claimed_by = ?, claimed_at = ?, claim_expires = ? "
                f"WHERE item_id = (SELECT item_id FROM review_items WHERE {free}{filters} "
                "ORDER BY score, created_ts, item_id LIMIT 1) "
                f"AND {free} RETURNING item_id",
                (reviewer, now, now + self.claim_ttl_s, now, *params, now),
            ).fetchall()
        return self.item(rows[0][0]) if rows else None

    def release(self, item_id: str, reviewer: str) -> bool:
        """Give an item back to the queue; False when ``reviewer`` did not hold it."""
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE review_items SET claimed_by = NULL, claimed_at = NULL, claim_expires = NULL "
                "WHERE item_id = ? AND claimed_by = ? AND status = 'open'",
                (item_id, reviewer),
            )
            return cur.rowcount == 1

    # ------------------------------------------------------------ verdicts, corrections, tags

    def record_verdict(
        self,
        item_id: str,
        reviewer: str,
        verdict: Verdict | str,
        note: str | None = None,
        *,
        now: float | None = None,
    ) -> ReviewVerdict:
        """Record the verdict and close the item. The reviewer must hold an
        unexpired claim (:class:`ClaimError` otherwise): a verdict from someone
        whose claim lapsed and was taken over would race the new holder's."""
        verdict = Verdict(verdict)
        now = time.time() if now is None else now
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE review_items SET status = 'done', done_ts = ?, claim_expires = NULL "
                "WHERE item_id = ? AND status = 'open' AND claimed_by = ? AND claim_expires > ? "
                "RETURNING conversation_id, queue",
                (now, item_id, reviewer, now),
            )
            row = cur.fetchone()
            cur.fetchall()
            if row is None:
                current = conn.execute(
                    "SELECT status, claimed_by, claim_expires FROM review_items WHERE item_id = ?", (item_id,)
                ).fetchone()
                if current is None:
                    raise ClaimError(f"no review item {item_id!r}")
                if current[0] == "done":
                    raise ClaimError(f"{item_id} has already been reviewed")
                if current[1] and current[1] != reviewer and (current[2] or 0) > now:
                    raise ClaimError(f"{item_id} is claimed by {current[1]}")
                raise ClaimError(f"{reviewer} does not hold {item_id} (claim it first, or the claim expired)")
            conversation_id, queue = row
            vid = conn.execute(
                "INSERT INTO review_verdicts (item_id, conversation_id, queue, reviewer, verdict, note, ts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (item_id, conversation_id, queue, reviewer, verdict.value, note, now),
            ).lastrowid
        return ReviewVerdict(int(vid or 0), item_id, conversation_id, queue, reviewer, verdict, note, now)

    def add_correction(
        self,
        conversation_id: str,
        turn_seq: int,
        corrected_text: str,
        reviewer: str,
        *,
        item_id: str | None = None,
        original_text: str | None = None,
        now: float | None = None,
    ) -> Correction:
        """A better text for the AI turn with ``seq == turn_seq``."""
        if not corrected_text.strip():
            raise ValueError("a correction needs text")
        now = time.time() if now is None else now
        with self._write() as conn:
            cid = conn.execute(
                "INSERT INTO review_corrections (item_id, conversation_id, turn_seq, original_text, corrected_text, "
                "reviewer, ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (item_id, conversation_id, int(turn_seq), original_text, corrected_text, reviewer, now),
            ).lastrowid
        return Correction(int(cid or 0), item_id, conversation_id, int(turn_seq), original_text, corrected_text, reviewer, now)

    def add_tag(self, conversation_id: str, tag: str, reviewer: str, *, now: float | None = None) -> bool:
        """Tag an edge case; False when the conversation already had the tag."""
        tag = tag.strip()
        if not tag:
            raise ValueError("empty tag")
        now = time.time() if now is None else now
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO review_tags (conversation_id, tag, reviewer, ts) VALUES (?, ?, ?, ?)",
                (conversation_id, tag, reviewer, now),
            )
            return cur.rowcount == 1

    def remove_tag(self, conversation_id: str, tag: str) -> bool:
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM review_tags WHERE conversation_id = ? AND tag = ?", (conversation_id, tag)
            ).rowcount == 1

    def tags(self, conversation_id: str) -> list[str]:
        return [r[0] for r in self._read("SELECT tag FROM review_tags WHERE conversation_id = ? ORDER BY tag", (conversation_id,))]

    # ------------------------------------------------------------ takeover verdicts

    def record_takeover_verdict(
        self,
        conversation_id: str,
        agent: str,
        escalation_needed: bool,
        note: str | None = None,
        *,
        now: float | None = None,
    ) -> TakeoverVerdict:
        """The supervisor's answer when a takeover ends: was a human needed?"""
        now = time.time() if now is None else now
        with self._write() as conn:
            tid = conn.execute(
                "INSERT INTO takeover_verdicts (conversation_id, agent, escalation_needed, note, ts) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, agent, int(bool(escalation_needed)), note, now),
            ).lastrowid
        return TakeoverVerdict(int(tid or 0), conversation_id, agent, bool(escalation_needed), note, now)

    def takeover_verdicts(self, since: float | None = None) -> list[TakeoverVerdict]:
        where, params = _where(since=since)
        sql = f"SELECT id, conversation_id, agent, escalation_needed, note, ts FROM takeover_verdicts{where} ORDER BY ts, id"
        return [TakeoverVerdict(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in self._read(sql, params)]

    # ------------------------------------------------------------ reading back

    def verdicts(self, since: float | None = None, conversation_id: str | None = None) -> list[ReviewVerdict]:
        where, params = _where(since=since, conversation_id=conversation_id)
        rows = self._read(
            f"SELECT id, item_id, conversation_id, queue, reviewer, verdict, note, ts FROM review_verdicts{where} ORDER BY ts, id",
            params,
        )
        return [ReviewVerdict(r[0], r[1], r[2], r[3], r[4], Verdict(r[5]), r[6], r[7]) for r in rows]

    def corrections(self, since: float | None = None, conversation_id: str | None = None) -> list[Correction]:
        where, params = _where(since=since, conversation_id=conversation_id)
        rows = self._read(
            "SELECT id, item_id, conversation_id, turn_seq, original_text, corrected_text, reviewer, ts "
            f"FROM review_corrections{where} ORDER BY ts, id",
            params,
        )
        return [Correction(*r) for r in rows]

    def escalation_verdicts(self, since: float | None = None) -> dict[str, bool]:
        """Conversation id -> "a human was really needed", for escalation accuracy.

        Takeover verdicts first, then reviewers' escalation verdicts over them
        (a reviewer judges with the whole conversation and time to think);
        within each, the latest wins.
        """
        out: dict[str, bool] = {}
        for tv in self.takeover_verdicts(since):
            out[tv.conversation_id] = tv.escalation_needed
        for rv in self.verdicts(since):
            needed = rv.verdict.escalation_needed
            if needed is not None:
                out[rv.conversation_id] = needed
        return out

    def reviewed(self, since: float | None = None) -> list[ConversationReview]:
        """Every conversation with a verdict, correction or takeover verdict at or after
        ``since``, with all that was said about it (tags included), oldest activity first."""
        by_id: dict[str, ConversationReview] = {}

        def get(cid: str) -> ConversationReview:
            if cid not in by_id:
                by_id[cid] = ConversationReview(cid)
            return by_id[cid]

        for v in self.verdicts(since):
            get(v.conversation_id).verdicts.append(v)
        for c in self.corrections(since):
            get(c.conversation_id).corrections.append(c)
        for t in self.takeover_verdicts(since):
            get(t.conversation_id).takeover.append(t)
        for review in by_id.values():
            review.tags = self.tags(review.conversation_id)
        return list(by_id.values())

    def snapshot(self, conversation_id: str) -> dict[str, Any] | None:
        """The newest snapshot queued for the conversation, if any."""
        rows = self._read(
            "SELECT snapshot FROM review_items WHERE conversation_id = ? AND snapshot IS NOT NULL "
            "ORDER BY created_ts DESC LIMIT 1",
            (conversation_id,),
        )
        return json.loads(rows[0][0]) if rows else None

    def queue_of(self, conversation_id: str) -> str | None:
        """The review queue whose verdict came last (else any item's queue)."""
        rows = self._read(
            "SELECT queue FROM review_verdicts WHERE conversation_id = ? ORDER BY ts DESC, id DESC LIMIT 1",
            (conversation_id,),
        ) or self._read("SELECT queue FROM review_items WHERE conversation_id = ? LIMIT 1", (conversation_id,))
        return rows[0][0] if rows else None
