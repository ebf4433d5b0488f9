"""A platform that restarts and loses its log must not leave the console blind
(issue 9, item 2): its seq numbering starts again, the console notices (a seq
reused by a different event, a jump far back, a new ``epoch``, a
``conversation.started`` for a conversation that is still open), raises a
critical alert, reconnects without ``since`` and shows the new events. The
journal keeps the old numbering and the new one apart (a generation per
numbering), and a restart of the console rebuilds the same floor and resumes
in the new numbering.

Everything runs against the real WebSocket server of ``feedserver`` on
127.0.0.1 and a real SQLite journal in ``tmp_path``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from feedserver import Collector, WsFeedServer, make_events, running
from live_support import wait_until

from hitl_console.config import Config
from hitl_console.feeds.client import FeedClient
from hitl_console.feeds.hub import FeedSpec
from hitl_console.feeds.websocket import WebSocketSource
from hitl_console.session import LiveSession, SessionChange
from hitl_console.store.journal import Journal

T0 = 1_763_931_600.0


def _with_epoch(events: list[dict[str, Any]], epoch: str) -> list[dict[str, Any]]:
    return [{**event, "epoch": epoch} for event in events]


def _rows(path: Path) -> list[tuple[int, int, str, str]]:
    """(generation, seq, conversation, type) of every journaled event, in journal order."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT generation, seq, conversation_id, type FROM events WHERE feed = 'prod' ORDER BY id").fetchall()


def _texts(session: LiveSession, cid: str) -> list[str]:
    return [turn.text for turn in session.engine.conversations[cid].turns]


def _restart_alerts(alerts: list[Any]) -> list[Any]:
    return [a for a in alerts if a.key.startswith("feed_restarted:")]


async def _live(server: WsFeedServer, journal: Journal) -> LiveSession:
    session = LiveSession(Config(), [FeedSpec(server.url, name="prod")], agent="ana", journal=journal)
    await session.start()
    return session


async def test_seq_from_1_again_is_a_critical_alert_and_the_console_resynchronises(tmp_path: Path) -> None:
    """The platform restarts with an empty log and numbers from 1: the console's
    cursor (6) is above every new seq, so without detection it would drop them
    all as out of order while the header says live."""
    path = tmp_path / "j.sqlite3"
    async with WsFeedServer(make_events(6, conversation="c-1", start_ts=T0)) as server:
        with Journal(path) as journal:
            session = await _live(server, journal)
            seen: list[SessionChange] = []
            session.add_listener(seen.append)
            try:
                await wait_until(lambda: session.hub.clients["prod"].last_seq == 6, 10, "the first numbering")
                server.restart([])
                await wait_until(lambda: len(server.connections) == 2, 10, "the reconnect after the drop")
                assert server.connections[1].since == 6  # the restarted platform has nothing above 6
                for event in make_events(3, conversation="c-2", start_ts=T0 + 100):
                    server.publish({k: v for k, v in event.items() if k not in ("seq", "ts")} | {"ts": event["ts"]})
                await wait_until(lambda: "c-2" in session.engine.conversations and len(_texts(session, "c-2")) == 2, 10, "c-2")

                assert server.connections[-1].since is None  # resynchronised from the feed's start
                status = session.statuses()[0]
                assert status.restarts == 1 and status.state.value == "live" and status.last_seq == 3
                assert status.out_of_order == 0  # nothing of the new numbering was dropped
                alerts = _restart_alerts(list(session.alerts))
                assert len(alerts) == 1 and alerts[0].level == "critical"
                assert "restarted its event numbering" in alerts[0].text and "seq 1 arrived again" in alerts[0].text
                # the floor is told on the session's next flush (coalesced): wait for it, do not race it
                await wait_until(lambda: any(_restart_alerts(change.new_alerts) for change in seen), 10, "the floor told")
                assert [a.key for a in _restart_alerts(journal.alerts())] == [alerts[0].key]  # and it is journaled
                assert _texts(session, "c-1") == [f"{'customer' if i % 2 else 'ai'} turn {i}" for i in range(1, 6)]
            finally:
                await session.stop()
    rows = _rows(path)
    assert [(g, s) for g, s, _, _ in rows] == [(0, s) for s in range(1, 7)] + [(1, s) for s in range(1, 4)]
    assert {c for g, _, c, _ in rows if g == 0} == {"c-1"} and {c for g, _, c, _ in rows if g == 1} == {"c-2"}


async def test_a_jump_far_back_to_seqs_nobody_knows_is_a_restart() -> None:
    """No journal knows the old seqs (the client starts at since=5000): a seq
    1,000 or more below the cursor is the feed numbering again."""
    async with WsFeedServer(make_events(3, conversation="c-2", start_ts=T0)) as server:
        client = FeedClient(WebSocketSource(server.url), name="prod", since=5000)
        collector = Collector()
        async with running(client, collector):
            await collector.wait(lambda: len(server.connections) == 1)
            assert server.connections[0].since == 5000
            server.publish({"type": "message", "conversation_id": "c-2", "role": "customer", "text": "still there?"})
            await collector.wait(lambda: collector.seqs == [1, 2, 3, 4])
            restart = next(o.restart for o in collector.outputs if o.restart is not None)
            assert restart.last_seq == 5000 and restart.seq == 4 and "jumped back from 5000 to 4" in restart.reason
            assert server.connections[-1].since is None
            assert client.status.restarts == 1 and client.status.out_of_order == 0
        # a late event a little below the cursor is still only out of order
        assert client.last_seq == 4


async def test_a_new_epoch_is_a_restart_even_when_the_new_seqs_lie_above_the_cursor(tmp_path: Path) -> None:
    """The platform's new log is longer than the old one: the seqs above the
    console's cursor look like a continuation; only the epoch tells."""
    path = tmp_path / "j.sqlite3"
    first = _with_epoch(make_events(4, conversation="c-1", start_ts=T0), "boot-1")
    again = _with_epoch(make_events(7, conversation="c-5", start_ts=T0 + 200), "boot-2")
    async with WsFeedServer(first) as server:
        with Journal(path) as journal:
            session = await _live(server, journal)
            try:
                await wait_until(lambda: session.hub.clients["prod"].last_seq == 4, 10, "the first numbering")
                server.restart(again)
                await wait_until(lambda: len(_texts(session, "c-5")) == 6 if "c-5" in session.engine.conversations else False, 10, "c-5")
                assert [c.since for c in server.connections] == [None, 4, None]
                alerts = _restart_alerts(list(session.alerts))
                assert len(alerts) == 1 and "epoch changed from 'boot-1' to 'boot-2'" in alerts[0].text
                assert session.statuses()[0].last_seq == 7
            finally:
                await session.stop()
        # a restart of the console: same epoch, resumes in the new numbering, no second alert
        with Journal(path) as journal:
            assert journal.epoch("prod") == "boot-2" and journal.last_seq("prod") == 7
            session = await _live(server, journal)
            try:
                assert session.specs[0].since == 7
                server.publish({"type": "message", "conversation_id": "c-5", "role": "customer", "text": "after", "epoch": "boot-2"})
                await wait_until(lambda: "after" in _texts(session, "c-5"), 10, "a live event after the restart")
                assert server.connections[-1].since == 7
                assert _restart_alerts(list(session.alerts)) == []
                assert len(_texts(session, "c-1")) == 3 and len(_texts(session, "c-5")) == 7
            finally:
                await session.stop()
    rows = _rows(path)
    assert [(g, s) for g, s, _, _ in rows] == [(0, s) for s in range(1, 5)] + [(1, s) for s in range(1, 9)]


async def test_a_new_start_of_an_open_conversation_is_a_restart_and_the_console_restart_rebuilds_it(tmp_path: Path) -> None:
    """No epoch, and the new numbering runs past the cursor: the first event the
    console gets is a ``conversation.started`` for c-1, which is still open.
    Afterwards the console itself restarts: the floor is rebuilt from both
    numberings in the order they came, nothing twice, and it resumes after
    the new numbering's last seq."""
    path = tmp_path / "j.sqlite3"
    again = make_events(5, conversation="c-7", start_ts=T0 + 300) + make_events(3, conversation="c-1", start_seq=6, start_ts=T0 + 400)
    for event in again[5:]:
        if event["type"] == "message":
            event["text"] = "after the restart: " + event["text"]
    async with WsFeedServer(make_events(5, conversation="c-1", start_ts=T0)) as server:
        with Journal(path) as journal:
            session = await _live(server, journal)
            try:
                await wait_until(lambda: session.hub.clients["prod"].last_seq == 5, 10, "the first numbering")
                server.restart(again)
                await wait_until(lambda: session.statuses()[0].last_seq == 8, 10, "the new numbering")
                assert [c.since for c in server.connections] == [None, 5, None]
                alerts = _restart_alerts(list(session.alerts))
                assert len(alerts) == 1 and "conversation.started again for open conversation c-1" in alerts[0].text
                live_c1 = _texts(session, "c-1")
                assert live_c1[:4] == [f"{'customer' if i % 2 else 'ai'} turn {i}" for i in range(1, 5)]
                assert live_c1[4:] == ["after the restart: customer turn 1", "after the restart: ai turn 2"]
                assert len(_texts(session, "c-7")) == 4
                floor = {cid: len(state.turns) for cid, state in session.engine.conversations.items()}
            finally:
                await session.stop()

        with Journal(path) as journal:
            session = await _live(server, journal)
            try:
                assert session.specs[0].since == 8  # the new numbering's cursor, not the old one's
                assert {cid: len(state.turns) for cid, state in session.engine.conversations.items()} == floor
                assert _texts(session, "c-1") == live_c1
                server.publish({"type": "message", "conversation_id": "c-1", "role": "customer", "text": "one more"})
                await wait_until(lambda: _texts(session, "c-1")[-1:] == ["one more"], 10, "seq 9")
                assert server.connections[-1].since == 8
                assert _restart_alerts(list(session.alerts)) == [] and session.statuses()[0].restarts == 0
            finally:
                await session.stop()
    rows = _rows(path)
    assert [(g, s) for g, s, _, _ in rows] == [(0, s) for s in range(1, 6)] + [(1, s) for s in range(1, 10)]
    assert [c for g, _, c, t in rows if t == "conversation.started"] == ["c-1", "c-7", "c-1"]
    with Journal(path) as journal:
        assert len(_restart_alerts(journal.alerts())) == 1


async def test_resends_and_ended_conversations_are_no_restart() -> None:
    """What must not be taken for a restart: a feed re-sending what the client
    has (same seq, same event), and a conversation id started again after it
    ended (the engine treats it as a new conversation)."""
    events = make_events(3, conversation="c-1", start_ts=T0)
    events.append({"v": 1, "type": "conversation.ended", "seq": 4, "ts": T0 + 5, "conversation_id": "c-1", "outcome": "resolved"})
    events += make_events(2, conversation="c-1", start_seq=5, start_ts=T0 + 10)
    async with WsFeedServer(events, drop_after=[3], resend=3) as server:
        client = FeedClient(WebSocketSource(server.url), name="prod", backoff_base=0.01)
        collector = Collector()
        async with running(client, collector):
            await collector.wait(lambda: collector.seqs == [1, 2, 3, 4, 5, 6])
        assert client.status.restarts == 0 and client.status.duplicates == 3
        assert [c.since for c in server.connections] == [None, 3]


async def test_a_feed_that_flips_its_epoch_on_every_frame_is_retried_ever_more_slowly() -> None:
    """Hostile: every other event names another epoch. Each connection shows a
    restart; only the first resynchronisation is immediate, then the backoff
    grows (no connection stays healthy), so there is no reconnect storm."""
    events = [{**event, "epoch": "ab"[i % 2]} for i, event in enumerate(make_events(4, start_ts=T0))]
    async with WsFeedServer(events) as server:
        client = FeedClient(WebSocketSource(server.url), name="prod", backoff_base=0.05, backoff_cap=0.2)
        collector = Collector()
        async with running(client, collector):
            await collector.wait(lambda: len(server.connections) >= 5, timeout=10)
        status = client.status
        assert status.restarts >= 4
        assert status.backoff_attempt >= 4  # never reset: no connection stayed up for healthy_after
        assert all(c.since is None for c in server.connections)


def test_a_version_1_journal_migrates_every_event_into_generation_0(tmp_path: Path) -> None:
    import shutil

    path = tmp_path / "journal.sqlite3"
    shutil.copyfile(Path(__file__).parent / "fixtures" / "journal_reviews_v1.sqlite3", path)
    with sqlite3.connect(path) as db:
        before = db.execute("SELECT id, feed, seq, ts, conversation_id, type, body FROM events ORDER BY id").fetchall()
        cursors = {feed: top for feed, top in db.execute("SELECT feed, MAX(seq) FROM events GROUP BY feed")}
    assert before and "generation" not in [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(events)")]
    with Journal(path, retention_days=1e6) as journal:
        assert journal.schema_version == 2
        assert {feed: journal.last_seq(feed) for feed in cursors} == cursors
        assert all(journal.generation(feed) == 0 for feed in cursors)
    with sqlite3.connect(path) as db:
        after = db.execute("SELECT id, feed, seq, ts, conversation_id, type, body FROM events ORDER BY id").fetchall()
        assert after == before and db.execute("SELECT DISTINCT generation FROM events").fetchall() == [(0,)]
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")}
    assert {"events_ts", "events_received", "events_conversation"} <= indexes


def test_a_new_generation_survives_a_console_restart_before_its_first_event(tmp_path: Path) -> None:
    from hitl_console.protocol.decode import decode_object

    path = tmp_path / "j.sqlite3"
    events = decode_object(make_events(3, start_ts=T0), "prod").events
    with Journal(path) as journal:
        journal.append_events("prod", events)
        assert journal.new_generation("prod") == 1
        assert journal.last_seq("prod") is None  # the new numbering has nothing yet
    with Journal(path) as journal:
        assert journal.generation("prod") == 1 and journal.last_seq("prod") is None
        assert journal.append_events("prod", events[:1]) == 1  # seq 1 again, kept beside the old one
        assert journal.fingerprint("prod", 1) == ("conversation.started", "c-1", T0)
        assert journal.is_open("prod", "c-1") is True and journal.is_open("prod", "c-9") is None
        assert journal.counts()["events"] == 4
