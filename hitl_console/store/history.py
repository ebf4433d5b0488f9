"""The team's history as this console's local cache.

A floor of consoles publishes what its people did (commands, takeover
verdicts, review verdicts, alerts) to a JetStream stream
(:mod:`hitl_console.feeds.history`). Each console reads the whole stream
back and keeps it here, in its journal's file (extension ``"team_history"``):
one row per stream message, so a restart resumes after the newest one
(:meth:`HistoryCache.cursor`) and a new console catches up from the start.

The records of *other* consoles that change figures are applied to the
review store as they arrive, in the same transaction as their row (so a
crash never applies one twice): takeover verdicts and reviewers' verdicts,
which is what makes this console's escalation accuracy count the whole
team. A console's own records come back from the stream too; they are
stored (they move the cursor) but not applied again. A floor alert that
another console raised too (same key, within ``SAME_ALERT_S``) is stored
once: the cursor moves, no second row (see ``feeds.history``).

``origin`` names this journal (a random id made once and kept in the file),
not the process: a restarted console still recognises its own records.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hitl_console.feeds.history import SAME_ALERT_S, shared_alert_id
from hitl_console.store.journal import Journal, JournalError
from hitl_console.store.reviews import ReviewStore, Verdict

log = logging.getLogger(__name__)

EXTENSION = "team_history"
VERSION = 1
KINDS = ("command", "takeover_verdict", "review_verdict", "alert")

DDL = """
CREATE TABLE IF NOT EXISTS team_history (
    stream_seq  INTEGER PRIMARY KEY,        -- the message's sequence in the history stream
    kind        TEXT    NOT NULL,           -- command | takeover_verdict | review_verdict | alert
    origin      TEXT    NOT NULL,           -- the journal (console) that published it
    agent       TEXT    NOT NULL DEFAULT '',
    ts          REAL    NOT NULL,
    record      TEXT    NOT NULL            -- the record as published (JSON)
);
CREATE INDEX IF NOT EXISTS team_history_kind ON team_history (kind, ts);
CREATE TABLE IF NOT EXISTS team_history_meta (
    key         TEXT    PRIMARY KEY,
    value       TEXT    NOT NULL
);
"""

_MOVE_CURSOR = (
    "INSERT INTO team_history_meta (key, value) VALUES ('cursor', ?) "
    "ON CONFLICT (key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))"
)

PRUNE = "DELETE FROM team_history WHERE ts < :cutoff"
"""Rows go with the journal's retention; the cursor (in ``team_history_meta``) stays."""


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    stream_seq: int
    kind: str
    origin: str
    agent: str
    ts: float
    record: dict[str, Any]


class HistoryCache:
    """The ``team_history`` tables of a journal. Same thread as the journal."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        journal.register_schema(EXTENSION, VERSION, DDL, prune=PRUNE)
        self._origin: str | None = None

    def _meta(self, key: str) -> str | None:
        row = self.journal.connection.execute("SELECT value FROM team_history_meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    @property
    def origin(self) -> str:
        """This journal's id in the records it publishes (made on first use, then kept)."""
        if self._origin is None:
            origin = self._meta("origin")
            if origin is None:
                origin = uuid.uuid4().hex
                try:
                    with self.journal.transaction() as conn:
                        conn.execute("INSERT OR IGNORE INTO team_history_meta (key, value) VALUES ('origin', ?)", (origin,))
                except sqlite3.Error as error:
                    raise JournalError(f"team history in {self.journal.path}: {error}") from error
                origin = self._meta("origin") or origin
            self._origin = origin
        return self._origin

    def cursor(self) -> int | None:
        """The newest stream sequence stored (None: nothing yet): resume after it."""
        value = self._meta("cursor")
        return int(value) if value is not None else None

    def apply(self, stream_seq: int, record: Mapping[str, Any], reviews: ReviewStore) -> bool:
        """Store one message of the stream and, if another console published it,
        apply it to ``reviews``; False when it was stored already (nothing done)."""
        kind = str(record.get("kind", ""))
        origin = str(record.get("origin", ""))
        try:
            with self.journal.transaction() as conn:
                if kind == "alert" and self._same_alert(conn, record):
                    conn.execute(_MOVE_CURSOR, (str(int(stream_seq)),))
                    return False
                cur = conn.execute(
                    "INSERT OR IGNORE INTO team_history (stream_seq, kind, origin, agent, ts, record) VALUES (?, ?, ?, ?, ?, ?)",
                    (int(stream_seq), kind, origin, str(record.get("agent") or ""), float(record.get("ts") or 0.0),
                     json.dumps(record, separators=(",", ":"), ensure_ascii=False)),
                )
                conn.execute(_MOVE_CURSOR, (str(int(stream_seq)),))
                if cur.rowcount != 1:
                    return False
                if origin != self.origin:
                    try:
                        _apply(record, reviews)
                    except (KeyError, ValueError, TypeError) as error:  # kept, so it is not read again and again
                        log.warning("team history #%d (%s) not applied: %s", stream_seq, kind, error)
        except sqlite3.Error as error:
            raise JournalError(f"team history in {self.journal.path}: {error}") from error
        return True

    @staticmethod
    def _same_alert(conn: sqlite3.Connection, record: Mapping[str, Any]) -> bool:
        """Whether a floor alert (``feeds.history.SHARED_ALERT_KINDS``) with this key is
        cached already within ``SAME_ALERT_S``: another console raised the same one."""
        key = record.get("key")
        if shared_alert_id(str(record.get("alert_kind", "")), str(key or "")) is None:
            return False
        try:
            ts = float(record.get("ts") or 0.0)
        except (TypeError, ValueError):
            return False
        row = conn.execute(
            "SELECT 1 FROM team_history WHERE kind = 'alert' AND ts BETWEEN ? AND ? "
            "AND json_extract(record, '$.key') = ? LIMIT 1",
            (ts - SAME_ALERT_S, ts + SAME_ALERT_S, str(key)),
        ).fetchone()
        return row is not None

    def records(self, kind: str | None = None, since: float | None = None) -> list[HistoryRecord]:
        """The cached records, oldest first (by stream sequence)."""
        where: list[str] = []
        params: list[Any] = []
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if since is not None:
            where.append("ts >= ?")
            params.append(since)
        sql = "SELECT stream_seq, kind, origin, agent, ts, record FROM team_history"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows: Iterable[tuple] = self.journal.connection.execute(sql + " ORDER BY stream_seq", params).fetchall()
        return [HistoryRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]


def _apply(record: Mapping[str, Any], reviews: ReviewStore) -> None:
    """Another console's verdict into this console's review store (the figures read it there)."""
    kind = record.get("kind")
    if kind == "takeover_verdict":
        reviews.record_takeover_verdict(
            str(record["conversation_id"]),
            str(record.get("agent") or "?"),
            bool(record["escalation_needed"]),
            record.get("note"),
            feed=str(record.get("feed") or ""),
            now=float(record["ts"]),
        )
    elif kind == "review_verdict":
        reviews.import_verdict(
            str(record["item_id"]),
            str(record["conversation_id"]),
            str(record.get("queue") or ""),
            str(record.get("agent") or "?"),
            Verdict(str(record["verdict"])),
            record.get("note"),
            ts=float(record["ts"]),
            feed=str(record.get("feed") or ""),
        )
