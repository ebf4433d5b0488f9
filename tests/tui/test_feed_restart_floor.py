"""The floor shows a feed's seq restart (issue 9, item 2): the real app on a
real LiveSession on a WebSocket feed on 127.0.0.1 whose platform restarts and
numbers from 1 again. The critical alert reaches the floor's alert log, and
the new numbering's conversation reaches the table."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from feedserver import WsFeedServer, make_events

from hitl_console.config import Config
from hitl_console.feeds.hub import FeedSpec
from hitl_console.session import LiveSession
from hitl_console.store.journal import Journal
from hitl_console.tui.app import HitlApp
from hitl_console.tui.widgets.alert_log import AlertLog
from hitl_console.tui.widgets.conversation_table import ConversationTable

pytestmark = pytest.mark.slow

T0 = 1_763_931_600.0


async def wait_until(pilot, predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await pilot.pause(0.05)


async def test_a_seq_restart_is_a_critical_alert_on_the_floor_and_the_new_events_show(tmp_path: Path) -> None:
    async with WsFeedServer(make_events(4, conversation="c-old", start_ts=T0)) as server:
        with Journal(tmp_path / "j.sqlite3") as journal:
            session = LiveSession(Config(), [FeedSpec(server.url, name="prod")], agent="tester", journal=journal)
            app = HitlApp(session, watch_terminal=False)
            async with app.run_test(size=(80, 24)) as pilot:
                table = app.screen.query_one(ConversationTable)
                await wait_until(pilot, lambda: "c-old" in table.row_ids, "the first numbering on the floor")
                server.restart(make_events(1, conversation="c-new", start_ts=T0 + 60))
                await wait_until(pilot, lambda: len(server.connections) == 2, "the reconnect (since=4: nothing above it)")
                server.publish({"type": "message", "conversation_id": "c-new", "role": "customer", "text": "hello again"})
                await wait_until(pilot, lambda: "c-new" in table.row_ids, "the new numbering on the floor")
                log = app.screen.query_one(AlertLog)
                await wait_until(pilot, lambda: any("restarted its event numbering" in line for line in log.lines), "the alert")
                line = next(line for line in log.lines if "restarted its event numbering" in line)
                assert "prod" in line
                assert [a.level for a in session.alerts if a.key.startswith("feed_restarted:")] == ["critical"]
