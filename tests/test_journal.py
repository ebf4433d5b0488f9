"""The SQLite journal: durability across reopen, idempotence, commands, retention, errors."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from hitl_console.alerts.model import Alert
from hitl_console.feeds.base import CommandResult
from hitl_console.paths import journal_path
from hitl_console.protocol.decode import RejectedFrame
from hitl_console.protocol.events import (
    ApprovalRequested,
    ConversationEnded,
    ConversationStarted,
    Customer,
    Deny,
    Event,
    HumanJoined,
    Message,
    Send,
    Takeover,
    event_adapter,
)
from hitl_console.store import journal as journal_module
from hitl_console.store.journal import MAX_REJECTED, Journal, JournalError

T0 = 1_763_931_600.0


def conversation(cid: str, first_seq: int, ts: float = T0) -> list[Event]:
    """A small but varied conversation: start, customer, AI, approval, human, end."""
    s = first_seq
    return [
        ConversationStarted(
            type="conversation.started",
            seq=s,
            ts=ts,
            conversation_id=cid,
            channel="chat",
            queue="billing",
            customer=Customer(id="u-" + cid, tier="gold", open_complaints=1),
        ),
        Message(
            type="message",
            seq=s + 1,
            ts=ts + 1,
            conversation_id=cid,
            role="customer",
            text="I was charged twice [/] for order 5531",
            topics=["billing"],
            sentiment=-0.4,
        ),
        Message(type="message", seq=s + 2, ts=ts + 2, conversation_id=cid, role="ai", text="Let me check.", confidence=0.41),
        ApprovalRequested(
            type="approval.requested",
            seq=s + 3,
            ts=ts + 3,
            conversation_id=cid,
            approval_id="ap-" + cid,
            action="refund",
            amount=84.2,
            currency="USD",
        ),
        HumanJoined(type="human.joined", seq=s + 4, ts=ts + 4, conversation_id=cid, agent="ana"),
        ConversationEnded(
            type="conversation.ended", seq=s + 5, ts=ts + 5, conversation_id=cid, outcome="resolved", resolved_by="human"
        ),
    ]


def test_default_path_is_under_the_data_dir(_isolated_dirs: Path) -> None:
    with Journal() as j:
        assert Path(j.path) == journal_path()
        assert Path(j.path).parent == _isolated_dirs
    assert journal_path().exists()


def test_wal_mode_and_synchronous_normal(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as j:
        assert j.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert j.connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert j.schema_version == journal_module.SCHEMA_VERSION


def test_events_survive_reopen_with_identical_models(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    events = conversation("c-1", 1) + conversation("c-2", 7)
    with Journal(path) as j:
        assert j.append_events("prod", events[:4]) == 4
        assert j.append_events("prod", events[4:]) == len(events) - 4
    with Journal(path) as j:
        back = list(j.iter_events())
        assert [feed for feed, _ in back] == ["prod"] * len(events)
        assert [e for _, e in back] == events  # pydantic models compare by value
        assert j.last_seq("prod") == 12
        assert j.last_seq("other") is None
        assert j.conversation_ids() == ["c-1", "c-2"]
        assert j.feeds() == ["prod"]


def test_duplicates_are_ignored_per_feed(tmp_path: Path) -> None:
    events = conversation("c-1", 1)
    with Journal(tmp_path / "j.sqlite3") as j:
        assert j.append_events("a", events) == 6
        assert j.append_events("a", events) == 0
        assert j.append_new("a", events[3:] + conversation("c-9", 100)[:2]) == conversation("c-9", 100)[:2]
        # the same seq on another feed is a different event
        assert j.append_events("b", events[:2]) == 2
        assert j.counts()["events"] == 10
        assert j.append_events("a", []) == 0


def test_iter_events_filters(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as j:
        j.append_events("a", conversation("c-1", 1, ts=T0))
        j.append_events("b", conversation("c-2", 1, ts=T0 + 100))
        assert {e.conversation_id for _, e in j.iter_events(since_ts=T0 + 50)} == {"c-2"}
        assert {f for f, _ in j.iter_events(feeds=["a"])} == {"a"}
        assert list(j.iter_events(feeds=[])) == []
        assert len(list(j.iter_events(conversation_ids=["c-2"]))) == 6
        assert j.conversation_ids(since_ts=T0 + 103) == ["c-2"]


def test_a_row_that_no_longer_validates_is_skipped(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as j:
        j.append_events("a", conversation("c-1", 1))
        with j.transaction() as conn:
            conn.execute("UPDATE events SET body = '{\"type\":\"message\"}' WHERE seq = 2")
        assert [e.seq for _, e in j.iter_events()] == [1, 3, 4, 5, 6]


def test_commands_with_ack_refusal_timeout_and_unanswered(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as j:
        j.record_command("prod", Takeover(request_id="r1", agent="ana", conversation_id="c-1"))
        j.record_result(CommandResult("r1", ok=True, latency_s=0.02))
        j.record_command("prod", Send(request_id="r2", agent="ana", conversation_id="c-1", text="Hello"))
        j.record_result(CommandResult("r2", ok=False, error="held by bob"))
        j.record_command("prod", Deny(request_id="r3", agent="ana", conversation_id="c-2", approval_id="ap-1"))
        j.record_result(CommandResult("r3", ok=False, error="timed out", timed_out=True))
        j.record_command("prod", Takeover(request_id="r4", agent="ana", conversation_id="c-2"))
    with Journal(path) as j:
        records = {r.request_id: r for r in j.commands()}
        assert [r.request_id for r in j.commands()] == ["r1", "r2", "r3", "r4"]
        r1, r2, r3, r4 = (records[k] for k in ("r1", "r2", "r3", "r4"))
        assert (r1.op, r1.agent, r1.conversation_id, r1.feed, r1.ok, r1.error) == ("takeover", "ana", "c-1", "prod", True, None)
        assert r1.ack_ts is not None and r1.ack_ts >= r1.ts
        assert r1.latency_s == pytest.approx(0.02)
        assert r2.payload["text"] == "Hello" and r2.ok is False and r2.error == "held by bob"
        assert r3.timed_out and r3.ok is False and r3.payload["approval_id"] == "ap-1"
        assert r4.ok is None and r4.ack_ts is None  # sent, never answered
        assert [r.request_id for r in j.commands("c-2")] == ["r3", "r4"]


def test_rejected_frames_are_kept_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "MAX_REJECTED", 5)
    with Journal(tmp_path / "j.sqlite3") as j:
        j.record_rejected([RejectedFrame(f"bad {i}", "{...}", "prod", seq=i) for i in range(8)])
        kept = j.rejected()
        assert [r.reason for r in kept] == [f"bad {i}" for i in range(3, 8)]
        assert kept[-1].feed == "prod" and kept[-1].seq == 7
    assert MAX_REJECTED >= 1000  # the real bound is generous


def test_alerts_are_journaled(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as j:
        j.record_alert(Alert(ts=T0, level="warning", kind="trigger", text="low confidence", conversation_id="c-1", key="k"))
        [alert] = j.alerts()
        assert (alert.level, alert.kind, alert.text, alert.conversation_id, alert.key) == (
            "warning",
            "trigger",
            "low confidence",
            "c-1",
            "k",
        )


def test_retention_prunes_old_rows_at_open_and_on_demand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.sqlite3"
    now = time.time()
    clock = [now - 10 * 86_400]
    monkeypatch.setattr(journal_module.time, "time", lambda: clock[0])
    with Journal(path, retention_days=30) as j:
        j.append_events("a", conversation("old", 1))
        j.record_command("a", Takeover(request_id="old-r", agent="ana", conversation_id="old"))
        j.record_alert(Alert(ts=clock[0], level="info", kind="feed", text="x"))
    clock[0] = now
    with Journal(path, retention_days=30) as j:
        j.append_events("a", conversation("new", 10))
        j.record_command("a", Takeover(request_id="new-r", agent="ana", conversation_id="new"))
        assert j.counts()["events"] == 12
        assert j.prune() == 0
    # reopened with a shorter retention: the 10-day-old rows go at open
    with Journal(path, retention_days=5) as j:
        assert j.conversation_ids() == ["new"]
        assert [r.request_id for r in j.commands()] == ["new-r"]
        assert j.alerts() == []
        assert j.last_seq("a") == 15
        # and prune() with a later clock removes the rest
        assert j.prune(now=now + 6 * 86_400) == 7
        assert j.counts() == {"events": 0, "rejected": 0, "commands": 0, "alerts": 0}


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is a text file, not a journal\n" * 200)
    with pytest.raises(JournalError, match=r"notes\.txt is not a hitl-console journal"):
        Journal(path)


def test_a_locked_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("PRAGMA locking_mode=EXCLUSIVE")
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(JournalError, match="locked by another process"):
            Journal(path, timeout=0.1)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as j, j.transaction() as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(JournalError, match="newer hitl-console"):
        Journal(path)


def test_core_migration_hook_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    now = journal_module.SCHEMA_VERSION
    monkeypatch.setattr(journal_module, "SCHEMA_VERSION", now + 1)
    monkeypatch.setattr(journal_module, "MIGRATIONS", {**journal_module.MIGRATIONS, now + 1: "ALTER TABLE events ADD COLUMN note TEXT;"})
    with Journal(path) as j:
        assert j.schema_version == now + 1
        columns = [r[1] for r in j.connection.execute("PRAGMA table_info(events)")]
        assert "note" in columns


def test_extension_tables_register_migrate_and_prune(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    ddl = "CREATE TABLE IF NOT EXISTS reviews (id INTEGER PRIMARY KEY, ts REAL NOT NULL, verdict TEXT);"
    with Journal(path) as j:
        prune = "DELETE FROM reviews WHERE ts < :cutoff"
        j.register_schema("reviews", 1, ddl, prune=prune)
        j.register_schema("reviews", 1, ddl, prune=prune)  # idempotent: call it at every open
        with j.transaction() as conn:
            conn.execute("INSERT INTO reviews (ts, verdict) VALUES (?, ?)", (time.time() - 90 * 86_400, "bad"))
            conn.execute("INSERT INTO reviews (ts, verdict) VALUES (?, ?)", (time.time(), "good"))
        assert j.prune() == 1
        assert j.extension_version("reviews") == 1
    with Journal(path) as j:
        j.register_schema("reviews", 2, ddl, migrations={2: "ALTER TABLE reviews ADD COLUMN reviewer TEXT;"})
        assert j.extension_version("reviews") == 2
        assert j.connection.execute("SELECT verdict, reviewer FROM reviews").fetchall() == [("good", None)]
        with pytest.raises(JournalError, match="newer"):
            j.register_schema("reviews", 1, ddl)
        with pytest.raises(JournalError, match="no migration"):
            j.register_schema("reviews", 3, ddl)
        assert j.extension_version("reviews") == 2  # a failed upgrade changes nothing


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as j:
        with pytest.raises(RuntimeError), j.transaction() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
            raise RuntimeError("boom")
        assert j.connection.execute("SELECT COUNT(*) FROM meta WHERE key = 'x'").fetchone()[0] == 0


def test_memory_journal_and_use_after_close(tmp_path: Path) -> None:
    j = Journal(":memory:")
    assert j.append_events("a", conversation("c-1", 1)) == 6
    assert j.last_seq("a") == 6
    j.close()
    j.close()  # idempotent
    with pytest.raises(JournalError, match="closed"):
        j.last_seq("a")
    assert not (tmp_path / ":memory:").exists()


def test_batch_append_is_fast_enough(tmp_path: Path) -> None:
    """A busy floor: 5,000 events in batches of 50 must take well under a few seconds."""
    events = [e for i in range(1000) for e in conversation(f"c-{i}", i * 6 + 1)][:5000]
    with Journal(tmp_path / "j.sqlite3") as j:
        started = time.perf_counter()
        for i in range(0, len(events), 50):
            j.append_events("a", events[i : i + 50])
        elapsed = time.perf_counter() - started
        assert j.counts()["events"] == 5000
    assert elapsed < 5.0


def test_wire_form_round_trip_keeps_fields(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as j:
        j.append_events("a", conversation("c-1", 1))
        body = j.connection.execute("SELECT body FROM events WHERE seq = 2").fetchone()[0]
    assert event_adapter.validate_json(body).text == "I was charged twice [/] for order 5531"  # type: ignore[union-attr]
    assert "null" not in body  # wire form: no null fields


def _engine_view(engine: object) -> dict[str, tuple[object, ...]]:
    """The parts of live state a supervisor sees, per conversation."""
    return {
        cid: (
            s.feed,
            s.holder,
            s.agent,
            [(t.seq, t.role, t.text, t.sentiment) for t in s.turns],
            sorted((a.approval_id, a.status) for a in s.approvals.values()),
            [(h.kind, h.seq) for h in s.triggers],
            s.escalated,
            s.ended,
            s.outcome,
            s.risk,
        )
        for cid, s in engine.conversations.items()  # type: ignore[attr-defined]
    }


def test_reopen_rebuilds_the_same_engine_state(tmp_path: Path) -> None:
    """The point of the journal: after a restart, replaying it through the
    signal engine gives the floor the supervisor had before."""
    from hitl_console.engine.engine import SignalEngine

    path = tmp_path / "j.sqlite3"
    upset = [
        started_event("c-3", 20),
        Message(type="message", seq=21, ts=T0 + 1, conversation_id="c-3", role="customer", text="This is the third time! Get me a human."),
        Message(type="message", seq=22, ts=T0 + 2, conversation_id="c-3", role="ai", text="I understand.", confidence=0.3),
    ]
    batches = [("prod", conversation("c-1", 1)), ("prod", upset), ("voice", conversation("c-2", 1))]
    live = SignalEngine()
    with Journal(path) as j:
        for feed, events in batches:
            j.append_events(feed, events)
            for event in events:
                live.apply(event, feed=feed)
        j.append_events("prod", upset)  # a resend after a reconnect: ignored
    with Journal(path) as j:
        rebuilt = SignalEngine()
        for feed, event in j.iter_events():
            rebuilt.apply(event, feed=feed)
    assert set(rebuilt.conversations) == {"c-1", "c-2", "c-3"}
    assert _engine_view(rebuilt) == _engine_view(live)
    assert rebuilt.conversations["c-2"].feed == "voice"


def started_event(cid: str, seq: int) -> ConversationStarted:
    return ConversationStarted(
        type="conversation.started",
        seq=seq,
        ts=T0,
        conversation_id=cid,
        channel="chat",
        queue="billing",
        customer=Customer(id="u-" + cid),
    )


def test_iter_events_pages_through_large_journals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "ITER_PAGE", 4)
    events = [e for i in range(5) for e in conversation(f"c-{i}", i * 6 + 1)]
    with Journal(tmp_path / "j.sqlite3") as j:
        j.append_events("a", events)
        assert [e.seq for _, e in j.iter_events()] == list(range(1, 31))
        assert [e.seq for _, e in j.iter_events(conversation_ids=["c-4"])] == list(range(25, 31))


def test_a_restart_reads_the_last_day_and_the_open_conversations_only(tmp_path: Path) -> None:
    """A month of journal must not be replayed to rebuild a floor (issue 11, restart)."""
    from hitl_console.protocol.events import event_adapter

    journal = Journal(tmp_path / "j.sqlite3")
    day = 86400.0
    now = 1_796_400_000.0
    seq = iter(range(1, 1000))

    def conversation(cid: str, start: float, ended: bool) -> list:
        rows = [
            {"v": 1, "type": "conversation.started", "seq": next(seq), "ts": start, "conversation_id": cid, "channel": "chat", "queue": "billing", "customer": {"id": "u-1"}, "handled_by": "ai"},
            {"v": 1, "type": "message", "seq": next(seq), "ts": start + 5, "conversation_id": cid, "role": "customer", "text": "hello"},
        ]
        if ended:
            rows.append({"v": 1, "type": "conversation.ended", "seq": next(seq), "ts": start + 60, "conversation_id": cid, "outcome": "resolved", "resolved_by": "ai"})
        return [event_adapter.validate_python(r) for r in rows]

    events = (
        conversation("old-ended", now - 10 * day, True)
        + conversation("old-open", now - 10 * day, False)  # silent for 10 days: abandoned anyway
        + conversation("recent-open", now - 1800, False)
        + conversation("yesterday-ended", now - 0.5 * day, True)
        + conversation("today", now - 100, True)
    )
    journal.append_events("prod", events)
    long_running = conversation("long-running", now - 2 * day, False)  # started before the day, still talking
    long_running.append(event_adapter.validate_python(
        {"v": 1, "type": "message", "seq": next(seq), "ts": now - 3000, "conversation_id": "long-running", "role": "customer", "text": "still there?"}
    ))
    journal.append_events("prod", long_running)
    pairs = list(journal.restore_events(["prod"], keep_s=day, open_for_s=3600))
    restored = {e.conversation_id for _, e in pairs}
    assert restored == {"recent-open", "yesterday-ended", "today", "long-running"}
    # whole conversations (its start two days back included), in journal order
    assert [e.type for _, e in pairs if e.conversation_id == "long-running"] == ["conversation.started", "message", "message"]
    seqs = [e.seq for _, e in pairs]
    assert seqs == sorted(seqs)
    everything = {e.conversation_id for _, e in journal.restore_events(["prod"], keep_s=day, open_for_s=None)}
    assert everything == restored | {"old-open"}  # no abandonment: open ones of any age come back
    assert list(journal.restore_events(["other"], keep_s=day, open_for_s=None)) == []
    journal.close()
