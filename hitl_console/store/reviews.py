"""Review items, claims, verdicts, corrections, tags and takeover verdicts.

Stored in the journal's SQLite file through its extension point
(:meth:`Journal.register_schema`, extension ``"reviews"``), so that one file
holds what happened and what people concluded about it, a backup copies
both, and a review screen in another process (another reviewer's console)
sees the same queue. SQLite's write lock is what keeps two reviewers from
holding one item: a claim is a single ``UPDATE ... WHERE claimed_by IS NULL
OR claim_expires <= now`` and only one of two racing statements can match.

Every row names its conversation by **feed and the feed's own id**
(:data:`ConversationKey`, :func:`conversation_key`): two platforms may both
number a conversation ``c-1042``, and a demo's ``c-1042`` is not a customer's.
A verdict, a tag or a correction given on one never applies to the other.

Tables (version 2; version 1 keyed everything but items by conversation id
alone and is migrated in place, see :func:`_migrate_v2`):

``review_items``
    one row per (feed, conversation, review queue): the reason it was selected,
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
import logging
import sqlite3
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitl_console.store.journal import Journal, JournalError, JournalOutdated, split_sql

if TYPE_CHECKING:
    from hitl_console.engine.state import ConversationState

log = logging.getLogger(__name__)

EXTENSION = "reviews"
VERSION = 2
DEFAULT_CLAIM_TTL_S = 1800.0

ConversationKey = tuple[str, str]
"""``(feed, the feed's conversation id)``: what identifies a conversation across
feeds and journals (the console's own key may be ``id@feed``, and only for
as long as it runs)."""


def conversation_key(state: "ConversationState") -> ConversationKey:
    """The store's key of a conversation the engine keeps."""
    return (state.feed, state.feed_id)


def find_conversation(
    conversations: Mapping[str, "ConversationState"], feed: str, conversation_id: str
) -> "ConversationState | None":
    """The engine's state for ``(feed, conversation_id)``: the engine keys it by the
    feed's id, or by ``id@feed`` when another feed used that id first."""
    for key in (conversation_id, f"{conversation_id}@{feed}"):
        state = conversations.get(key)
        if state is not None and state.feed == feed and state.feed_id == conversation_id:
            return state
    return None

DDL = """
CREATE TABLE IF NOT EXISTS review_items (
    item_id         TEXT PRIMARY KEY,          -- see item_id_for
    conversation_id TEXT    NOT NULL,          -- the feed's id
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
CREATE INDEX IF NOT EXISTS review_items_conversation ON review_items (feed, conversation_id);
CREATE TABLE IF NOT EXISTS review_verdicts (
    id              INTEGER PRIMARY KEY,
    item_id         TEXT,
    conversation_id TEXT    NOT NULL,
    queue           TEXT    NOT NULL DEFAULT '',
    reviewer        TEXT    NOT NULL,
    verdict         TEXT    NOT NULL,
    note            TEXT,
    ts              REAL    NOT NULL,
    feed            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS review_verdicts_conversation ON review_verdicts (feed, conversation_id);
CREATE INDEX IF NOT EXISTS review_verdicts_ts ON review_verdicts (ts);
CREATE TABLE IF NOT EXISTS review_corrections (
    id              INTEGER PRIMARY KEY,
    item_id         TEXT,
    conversation_id TEXT    NOT NULL,
    turn_seq        INTEGER NOT NULL,
    original_text   TEXT,
    corrected_text  TEXT    NOT NULL,
    reviewer        TEXT    NOT NULL,
    ts              REAL    NOT NULL,
    feed            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS review_corrections_conversation ON review_corrections (feed, conversation_id);
CREATE TABLE IF NOT EXISTS review_tags (
    feed            TEXT    NOT NULL DEFAULT '',
    conversation_id TEXT    NOT NULL,
    tag             TEXT    NOT NULL,
    reviewer        TEXT    NOT NULL,
    ts              REAL    NOT NULL,
    PRIMARY KEY (feed, conversation_id, tag)
);
CREATE TABLE IF NOT EXISTS takeover_verdicts (
    id                INTEGER PRIMARY KEY,
    conversation_id   TEXT    NOT NULL,
    agent             TEXT    NOT NULL,
    escalation_needed INTEGER NOT NULL,
    note              TEXT,
    ts                REAL    NOT NULL,
    feed              TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS takeover_verdicts_conversation ON takeover_verdicts (feed, conversation_id);
"""

_V2_COLUMNS = """
ALTER TABLE review_verdicts ADD COLUMN feed TEXT NOT NULL DEFAULT '';
ALTER TABLE review_corrections ADD COLUMN feed TEXT NOT NULL DEFAULT '';
ALTER TABLE takeover_verdicts ADD COLUMN feed TEXT NOT NULL DEFAULT '';
CREATE TABLE review_tags_v2 (
    feed            TEXT    NOT NULL DEFAULT '',
    conversation_id TEXT    NOT NULL,
    tag             TEXT    NOT NULL,
    reviewer        TEXT    NOT NULL,
    ts              REAL    NOT NULL,
    PRIMARY KEY (feed, conversation_id, tag)
);
DROP INDEX IF EXISTS review_items_conversation;
DROP INDEX IF EXISTS review_verdicts_conversation;
DROP INDEX IF EXISTS review_corrections_conversation;
DROP INDEX IF EXISTS takeover_verdicts_conversation;
CREATE INDEX review_items_conversation ON review_items (feed, conversation_id);
CREATE INDEX review_verdicts_conversation ON review_verdicts (feed, conversation_id);
CREATE INDEX review_corrections_conversation ON review_corrections (feed, conversation_id);
CREATE INDEX takeover_verdicts_conversation ON takeover_verdicts (feed, conversation_id);
"""


def _split_alias(conn: sqlite3.Connection, feed: str, key: str) -> str:
    """The feed's own id for a version-1 key: ``c-5@other`` of feed ``other``
    was the console's key for the feed's ``c-5`` when the journal holds events
    of ``c-5`` (and none of ``c-5@other``) from that feed."""
    suffix = f"@{feed}"
    if not feed or not key.endswith(suffix):
        return key
    wire = key[: -len(suffix)]

    def known(cid: str) -> bool:
        return conn.execute("SELECT 1 FROM events WHERE feed = ? AND conversation_id = ? LIMIT 1", (feed, cid)).fetchone() is not None

    return wire if known(wire) and not known(key) else key


def _feed_of(conn: sqlite3.Connection, key: str, before: float) -> tuple[str, str]:
    """``(feed, id)`` for a version-1 conversation key with no feed of its own.

    Best evidence first: the feed a supervisor's command for that conversation
    went to (the latest at or before ``before``, the time of the verdict: the
    takeover it answers); then the feed whose events carry the id, latest
    received before ``before`` first, else the one feed that has the id at
    all. An alias ``id@feed`` is tried as the feed's ``id`` first. ``("",
    key)`` when nothing in the file tells the conversation apart (nothing
    knows it, or only several feeds received it after the verdict): a row
    under no feed matches no conversation, which is better than the wrong one.

    Runs after the journal's pruning at open, so evidence older than the
    retention window is gone; such old verdicts then keep feed ``""``.
    """
    candidates: list[tuple[str, str | None]] = [(key, None)]
    if "@" in key:
        wire, _, feed = key.rpartition("@")
        candidates.insert(0, (wire, feed))
    queries = (
        ("SELECT feed FROM commands WHERE conversation_id = ?", " AND ts <= ?", "ts DESC"),
        ("SELECT feed FROM events WHERE conversation_id = ?", " AND received_at <= ?", "id DESC"),
    )
    for select, when, order in queries:
        for cid, feed in candidates:
            sql, params = select, [cid]
            if feed is not None:
                sql += " AND feed = ?"
                params.append(feed)
            if when:
                sql += when
                params.append(before)
            row = conn.execute(f"{sql} ORDER BY {order} LIMIT 1", params).fetchone()
            if row is not None:
                return row[0], cid
    for cid, feed in candidates:
        feeds = [r[0] for r in conn.execute("SELECT DISTINCT feed FROM events WHERE conversation_id = ?", (cid,))]
        if feed is not None:
            feeds = [f for f in feeds if f == feed]
        if len(feeds) == 1:
            return feeds[0], cid
    return "", key


def _migrate_v2(conn: sqlite3.Connection) -> None:
    """Version 1 -> 2: every row gets the feed of its conversation, in place.

    Items already had a feed (their id ``c-5@other`` becomes ``c-5``); verdicts
    and corrections of an item take the item's feed; takeover verdicts and
    tags take the feed found by :func:`_feed_of`. Rows are never dropped: a
    conversation no table knows keeps feed ``""``. Item ids stay as they were
    (they are opaque keys).
    """
    for statement in split_sql(_V2_COLUMNS):
        conn.execute(statement)
    items: dict[str, tuple[str, str]] = {}
    for item_id, cid, feed in conn.execute("SELECT item_id, conversation_id, feed FROM review_items").fetchall():
        wire = _split_alias(conn, feed, cid)
        items[item_id] = (feed, wire)
        if wire != cid:
            conn.execute("UPDATE review_items SET conversation_id = ? WHERE item_id = ?", (wire, item_id))
    for table in ("review_verdicts", "review_corrections"):
        for row_id, item_id, cid, ts in conn.execute(f"SELECT id, item_id, conversation_id, ts FROM {table}").fetchall():
            feed, wire = items[item_id] if item_id in items else _feed_of(conn, cid, ts)
            conn.execute(f"UPDATE {table} SET feed = ?, conversation_id = ? WHERE id = ?", (feed, wire, row_id))
    for row_id, cid, ts in conn.execute("SELECT id, conversation_id, ts FROM takeover_verdicts").fetchall():
        feed, wire = _feed_of(conn, cid, ts)
        conn.execute("UPDATE takeover_verdicts SET feed = ?, conversation_id = ? WHERE id = ?", (feed, wire, row_id))
    for cid, tag, reviewer, ts in conn.execute("SELECT conversation_id, tag, reviewer, ts FROM review_tags").fetchall():
        feed, wire = _feed_of(conn, cid, ts)
        queued = [
            (f, w)
            for f, w in set(items.values())
            if (w == cid and f) or (f and cid == f"{w}@{f}")
        ]
        if len(queued) == 1:  # the item a reviewer tagged from names the feed for sure
            feed, wire = queued[0]
        conn.execute(
            "INSERT OR IGNORE INTO review_tags_v2 (feed, conversation_id, tag, reviewer, ts) VALUES (?, ?, ?, ?, ?)",
            (feed, wire, tag, reviewer, ts),
        )
    conn.execute("DROP TABLE review_tags")
    conn.execute("ALTER TABLE review_tags_v2 RENAME TO review_tags")


MIGRATIONS = {2: _migrate_v2}

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
    """An item to queue (see :func:`hitl_console.analysis.review.enqueue`).

    ``conversation_id`` is the feed's own id (``ConversationState.feed_id``)."""

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
    feed: str = ""


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
    feed: str = ""


@dataclass(slots=True)
class TakeoverVerdict:
    id: int
    conversation_id: str
    agent: str
    escalation_needed: bool
    note: str | None
    ts: float
    feed: str = ""


@dataclass(slots=True)
class ConversationReview:
    """Everything people said about one conversation (for the export)."""

    conversation_id: str
    feed: str = ""
    verdicts: list[ReviewVerdict] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    takeover: list[TakeoverVerdict] = field(default_factory=list)

    @property
    def key(self) -> ConversationKey:
        return (self.feed, self.conversation_id)


def item_id_for(queue: str, conversation_id: str, feed: str = "") -> str:
    """The item's key: ``queue:id`` for a conversation of no named feed (a
    recording), ``queue:feed:id`` otherwise, each part with ``:`` and ``%``
    percent-encoded so that no two (queue, feed, id) give the same key."""
    parts = [queue, feed, conversation_id] if feed else [queue, conversation_id]
    return ":".join(urllib.parse.quote(part, safe="@/ ") for part in parts)


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
    block the queue. On a read-only journal whose file never had review
    tables, every read is empty (and writes fail like the journal's).
    """

    def __init__(self, journal: Journal, *, claim_ttl_s: float = DEFAULT_CLAIM_TTL_S, owns_journal: bool = False) -> None:
        if claim_ttl_s <= 0:
            raise ValueError("claim_ttl_s must be positive")
        self.journal = journal
        self.claim_ttl_s = float(claim_ttl_s)
        self._owns = owns_journal
        self._writes = 0
        """Commits through this store (``PRAGMA data_version`` sees only other connections')."""
        journal.register_schema(EXTENSION, VERSION, DDL, migrations=MIGRATIONS, prune=PRUNE)
        self._absent = not journal.has_extension(EXTENSION)

    @classmethod
    def open(
        cls,
        path: Path | str | None = None,
        *,
        claim_ttl_s: float = DEFAULT_CLAIM_TTL_S,
        retention_days: float = 30.0,
        readonly: bool = False,
    ) -> "ReviewStore":
        """Open the journal at ``path`` (default: the XDG one) and its review tables.

        ``readonly``: for reading only (``report``, ``review export``): the
        journal is opened read-only, after an upgrade in place when its review
        tables are older and the file may be written (see :meth:`Journal.for_reading`).
        """
        if readonly:
            try:
                return cls._open(Journal.for_reading(path, retention_days=retention_days), claim_ttl_s)
            except JournalOutdated:
                cls.open(path, claim_ttl_s=claim_ttl_s, retention_days=retention_days).close()  # migrates
                return cls._open(Journal.for_reading(path, retention_days=retention_days), claim_ttl_s)
        return cls._open(Journal(path, retention_days=retention_days), claim_ttl_s)

    @classmethod
    def _open(cls, journal: Journal, claim_ttl_s: float) -> "ReviewStore":
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
        self._writes += 1

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        if self._absent:
            return []
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as error:
            raise JournalError(f"reviews in {self.journal.path}: {error}") from error

    def version(self) -> tuple[int, int]:
        """Changes whenever the store may hold something new: a commit by another
        connection to the file (another reviewer's claim or verdict: SQLite's
        ``PRAGMA data_version``) or through this store (the session queueing
        ended conversations). A screen compares it to tell whether the queue is
        worth reading again. Raises :class:`~hitl_console.store.journal.JournalError`
        like every read."""
        try:
            other = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as error:
            raise JournalError(f"reviews in {self.journal.path}: {error}") from error
        return other, self._writes

    # ------------------------------------------------------------ items and claims

    def add_items(self, items: Iterable[NewItem], now: float | None = None) -> int:
        """Queue items; one already queued (same queue, feed and conversation) is left
        as it is, so that re-running the selection never resets a claim or a finished
        review. Returns how many were new."""
        now = time.time() if now is None else now
        added = 0
        with self._write() as conn:
            for it in items:
                cur = conn.execute(
                    f"INSERT OR IGNORE INTO review_items ({_ITEM_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, NULL, NULL, NULL, ?)",
                    (
                        item_id_for(it.queue, it.conversation_id, it.feed),
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
        feed: str | None = None,
        limit: int | None = None,
    ) -> list[ReviewItem]:
        """Items, lowest score first (then oldest first)."""
        where, params = _where(queue=queue, role=role, status=status, conversation_id=conversation_id, feed=feed)
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
                "RETURNING conversation_id, queue, feed",
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
            conversation_id, queue, feed = row
            vid = conn.execute(
                "INSERT INTO review_verdicts (item_id, conversation_id, queue, reviewer, verdict, note, ts, feed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (item_id, conversation_id, queue, reviewer, verdict.value, note, now, feed),
            ).lastrowid
        return ReviewVerdict(int(vid or 0), item_id, conversation_id, queue, reviewer, verdict, note, now, feed)

    def import_verdict(
        self,
        item_id: str,
        conversation_id: str,
        queue: str,
        reviewer: str,
        verdict: Verdict | str,
        note: str | None,
        *,
        ts: float,
        feed: str,
    ) -> None:
        """Another console's verdict (the team's history): stored as it was given,
        and this file's open item for it, if any, is closed (no claim needed: the
        team's claims bucket kept the two reviewers apart)."""
        verdict = Verdict(verdict)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO review_verdicts (item_id, conversation_id, queue, reviewer, verdict, note, ts, feed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (item_id, conversation_id, queue, reviewer, verdict.value, note, ts, feed),
            )
            conn.execute(
                "UPDATE review_items SET status = 'done', done_ts = ?, claim_expires = NULL WHERE item_id = ? AND status = 'open'",
                (ts, item_id),
            )

    def add_correction(
        self,
        conversation_id: str,
        turn_seq: int,
        corrected_text: str,
        reviewer: str,
        *,
        feed: str,
        item_id: str | None = None,
        original_text: str | None = None,
        now: float | None = None,
    ) -> Correction:
        """A better text for the AI turn with ``seq == turn_seq`` of ``(feed, conversation_id)``."""
        if not corrected_text.strip():
            raise ValueError("a correction needs text")
        now = time.time() if now is None else now
        with self._write() as conn:
            cid = conn.execute(
                "INSERT INTO review_corrections (item_id, conversation_id, turn_seq, original_text, corrected_text, "
                "reviewer, ts, feed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (item_id, conversation_id, int(turn_seq), original_text, corrected_text, reviewer, now, feed),
            ).lastrowid
        return Correction(
            int(cid or 0), item_id, conversation_id, int(turn_seq), original_text, corrected_text, reviewer, now, feed
        )

    def add_tag(self, conversation_id: str, tag: str, reviewer: str, *, feed: str, now: float | None = None) -> bool:
        """Tag an edge case of ``(feed, conversation_id)``; False when it already had the tag."""
        tag = tag.strip()
        if not tag:
            raise ValueError("empty tag")
        now = time.time() if now is None else now
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO review_tags (feed, conversation_id, tag, reviewer, ts) VALUES (?, ?, ?, ?, ?)",
                (feed, conversation_id, tag, reviewer, now),
            )
            return cur.rowcount == 1

    def remove_tag(self, conversation_id: str, tag: str, *, feed: str) -> bool:
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM review_tags WHERE feed = ? AND conversation_id = ? AND tag = ?", (feed, conversation_id, tag)
            ).rowcount == 1

    def tags(self, conversation_id: str, *, feed: str) -> list[str]:
        return [
            r[0]
            for r in self._read(
                "SELECT tag FROM review_tags WHERE feed = ? AND conversation_id = ? ORDER BY tag", (feed, conversation_id)
            )
        ]

    # ------------------------------------------------------------ takeover verdicts

    def record_takeover_verdict(
        self,
        conversation_id: str,
        agent: str,
        escalation_needed: bool,
        note: str | None = None,
        *,
        feed: str,
        now: float | None = None,
    ) -> TakeoverVerdict:
        """The supervisor's answer when a takeover of ``(feed, conversation_id)`` ends: was a human needed?"""
        now = time.time() if now is None else now
        with self._write() as conn:
            tid = conn.execute(
                "INSERT INTO takeover_verdicts (conversation_id, agent, escalation_needed, note, ts, feed) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, agent, int(bool(escalation_needed)), note, now, feed),
            ).lastrowid
        return TakeoverVerdict(int(tid or 0), conversation_id, agent, bool(escalation_needed), note, now, feed)

    def takeover_verdicts(self, since: float | None = None) -> list[TakeoverVerdict]:
        where, params = _where(since=since)
        sql = (
            "SELECT id, conversation_id, agent, escalation_needed, note, ts, feed "
            f"FROM takeover_verdicts{where} ORDER BY ts, id"
        )
        return [TakeoverVerdict(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]) for r in self._read(sql, params)]

    # ------------------------------------------------------------ reading back

    def verdicts(
        self, since: float | None = None, conversation_id: str | None = None, *, feed: str | None = None
    ) -> list[ReviewVerdict]:
        where, params = _where(since=since, conversation_id=conversation_id, feed=feed)
        rows = self._read(
            "SELECT id, item_id, conversation_id, queue, reviewer, verdict, note, ts, feed "
            f"FROM review_verdicts{where} ORDER BY ts, id",
            params,
        )
        return [ReviewVerdict(r[0], r[1], r[2], r[3], r[4], Verdict(r[5]), r[6], r[7], r[8]) for r in rows]

    def corrections(
        self, since: float | None = None, conversation_id: str | None = None, *, feed: str | None = None
    ) -> list[Correction]:
        where, params = _where(since=since, conversation_id=conversation_id, feed=feed)
        rows = self._read(
            "SELECT id, item_id, conversation_id, turn_seq, original_text, corrected_text, reviewer, ts, feed "
            f"FROM review_corrections{where} ORDER BY ts, id",
            params,
        )
        return [Correction(*r) for r in rows]

    def escalation_verdicts(self, since: float | None = None) -> dict[ConversationKey, bool]:
        """``(feed, conversation id)`` -> "a human was really needed", for escalation accuracy.

        Takeover verdicts first, then reviewers' escalation verdicts over them
        (a reviewer judges with the whole conversation and time to think);
        within each, the latest wins.
        """
        out: dict[ConversationKey, bool] = {}
        for tv in self.takeover_verdicts(since):
            out[(tv.feed, tv.conversation_id)] = tv.escalation_needed
        for rv in self.verdicts(since):
            needed = rv.verdict.escalation_needed
            if needed is not None:
                out[(rv.feed, rv.conversation_id)] = needed
        return out

    def reviewed(self, since: float | None = None) -> list[ConversationReview]:
        """Every conversation with a verdict, correction or takeover verdict at or after
        ``since``, with all that was said about it (tags included), oldest activity first."""
        by_key: dict[ConversationKey, ConversationReview] = {}

        def get(feed: str, cid: str) -> ConversationReview:
            if (feed, cid) not in by_key:
                by_key[(feed, cid)] = ConversationReview(cid, feed)
            return by_key[(feed, cid)]

        for v in self.verdicts(since):
            get(v.feed, v.conversation_id).verdicts.append(v)
        for c in self.corrections(since):
            get(c.feed, c.conversation_id).corrections.append(c)
        for t in self.takeover_verdicts(since):
            get(t.feed, t.conversation_id).takeover.append(t)
        for review in by_key.values():
            review.tags = self.tags(review.conversation_id, feed=review.feed)
        return list(by_key.values())

    def snapshot(self, conversation_id: str, *, feed: str) -> dict[str, Any] | None:
        """The newest snapshot queued for the conversation, if any."""
        rows = self._read(
            "SELECT snapshot FROM review_items WHERE feed = ? AND conversation_id = ? AND snapshot IS NOT NULL "
            "ORDER BY created_ts DESC LIMIT 1",
            (feed, conversation_id),
        )
        return json.loads(rows[0][0]) if rows else None

    def queue_of(self, conversation_id: str, *, feed: str) -> str | None:
        """The review queue whose verdict came last (else any item's queue)."""
        rows = self._read(
            "SELECT queue FROM review_verdicts WHERE feed = ? AND conversation_id = ? ORDER BY ts DESC, id DESC LIMIT 1",
            (feed, conversation_id),
        ) or self._read("SELECT queue FROM review_items WHERE feed = ? AND conversation_id = ? LIMIT 1", (feed, conversation_id))
        return rows[0][0] if rows else None
