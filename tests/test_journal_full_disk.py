"""Nothing is lost on a full disk (issue 9, item 3).

While journal writes fail, the console keeps supervising (the engine gets
every event), raises one critical alert naming the feed and the last seq
the journal holds, writes nothing newer (so the resume cursor never passes
a gap: a console restarted now resumes after the last *journaled* seq), and
once writes work again it fetches the feed again from there, so the journal
ends up with every event exactly once.

Only the disk is faked: the journal's SQLite connection is wrapped so that
its write statements raise what a full disk raises (SQLite's "database or
disk is full", or ENOSPC as an OSError); the feed is a real WebSocket server
on 127.0.0.1, the journal a real file.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from feedserver import WsFeedServer, make_events
from live_support import wait_until

from hitl_console.config import Config
from hitl_console.feeds.hub import FeedSpec
from hitl_console.session import LiveSession
from hitl_console.store.journal import Journal

T0 = 1_763_931_600.0
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class FullDisk:
    """A sqlite3 connection whose write statements fail while ``full``."""

    def __init__(self, conn: sqlite3.Connection, error: Exception) -> None:
        self._conn = conn
        self.error = error
        self.full = True
        self.refused = 0

    def execute(self, sql: str, *args: Any) -> Any:
        if self.full and sql.lstrip().upper().startswith(WRITES):
            self.refused += 1
            raise self.error
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


ERRORS = {
    "sqlite-full": sqlite3.OperationalError("database or disk is full"),
    "enospc": OSError(errno.ENOSPC, "No space left on device"),
}


def _seqs(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT seq FROM events WHERE feed = 'prod' ORDER BY seq")]


def _message(text: str) -> dict[str, Any]:
    return {"type": "message", "conversation_id": "c-1", "role": "customer", "text": text}


@pytest.mark.parametrize("kind", sorted(ERRORS))
async def test_a_full_disk_loses_nothing_once_space_returns(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "j.sqlite3"
    async with WsFeedServer(make_events(4, start_ts=T0)) as server:
        with Journal(path) as journal:
            session = LiveSession(Config(), [FeedSpec(server.url, name="prod")], agent="ana", journal=journal)
            await session.start()
            try:
                await wait_until(lambda: journal.last_seq("prod") == 4, 10, "the first events journaled")
                disk = FullDisk(journal._conn, ERRORS[kind])
                journal._conn = disk  # type: ignore[assignment]
                for i in range(4):
                    server.publish(_message(f"while full {i}"))
                await wait_until(lambda: session.statuses()[0].last_seq == 8, 10, "the events while the disk is full")

                # supervision goes on: the floor has them
                assert [t.text for t in session.engine.conversations["c-1"].turns][-4:] == [f"while full {i}" for i in range(4)]
                alerts = [a for a in session.alerts if a.key.startswith("journal_failed")]
                assert [a.key for a in alerts] == ["journal_failed:prod"] and alerts[0].level == "critical"
                assert "after seq 4" in alerts[0].text and "re-fetched" in alerts[0].text
                assert disk.refused >= 1
                assert journal.last_seq("prod") == 4  # the resume cursor stays on what is written

                disk.full = False  # space returns
                await wait_until(lambda: journal.last_seq("prod") == 8, 10, "the re-fetch after the next probe")
                assert server.connections[-1].since == 4
                assert any(a.key == "journal_recovered:prod" for a in session.alerts)
                server.publish(_message("after"))
                await wait_until(lambda: journal.last_seq("prod") == 9, 10, "a live event journaled")
                turns = [t.text for t in session.engine.conversations["c-1"].turns]
                assert len(turns) == 8 and turns.count("while full 0") == 1  # nothing applied twice
            finally:
                await session.stop()
    assert _seqs(path) == list(range(1, 10))


async def test_a_console_restarted_while_the_disk_was_full_resumes_after_the_last_journaled_seq(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    async with WsFeedServer(make_events(3, start_ts=T0)) as server:
        with Journal(path) as journal:
            session = LiveSession(Config(), [FeedSpec(server.url, name="prod")], agent="ana", journal=journal)
            await session.start()
            try:
                await wait_until(lambda: journal.last_seq("prod") == 3, 10, "the first events journaled")
                journal._conn = FullDisk(journal._conn, ERRORS["sqlite-full"])  # type: ignore[assignment]
                for i in range(3):
                    server.publish(_message(f"unsaved {i}"))
                await wait_until(lambda: session.statuses()[0].last_seq == 6, 10, "the events while the disk is full")
            finally:
                await session.stop()  # the console goes down before space returns
        assert _seqs(path) == [1, 2, 3]
        with Journal(path) as journal:
            session = LiveSession(Config(), [FeedSpec(server.url, name="prod")], agent="ana", journal=journal)
            assert session.specs[0].since == 3
            await session.start()
            try:
                await wait_until(lambda: journal.last_seq("prod") == 6, 10, "the unsaved events fetched again")
                assert [t.text for t in session.engine.conversations["c-1"].turns][-3:] == [f"unsaved {i}" for i in range(3)]
            finally:
                await session.stop()
    assert _seqs(path) == list(range(1, 7))
