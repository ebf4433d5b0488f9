"""The floor screen at 80x24: ranking, live updates, cursor stability, filters, alerts."""

from __future__ import annotations

import pytest

from hitl_console.config import Config, UiConfig
from hitl_console.alerts.model import Alert
from hitl_console.tui.screens.floor import FloorScreen
from hitl_console.tui.widgets.alert_log import AlertLog
from hitl_console.tui.widgets.conversation_table import ConversationTable

from .fixtures import NOW, FakeReplay, FakeSession, floor_states, make_app, make_state, screen_text, settle

pytestmark = pytest.mark.slow


async def test_floor_ranks_by_risk_and_shows_the_figures() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FloorScreen)
        table = app.screen.query_one(ConversationTable)
        assert table.row_ids == ["c-1042", "c-2077", "c-3001", "c-3555", "c-4100", "c-5200"]
        assert table.shown_columns[:3] == ["id", "holder", "risk"]
        text = screen_text(app)
        assert "WAITING 2m14s" in text and "alice" in text and "▶ you" in text
        assert "asked for a person" in text and "going in circles" in text
        assert "Sam Ortiz·platinum" in text  # not cut at 14 characters
        assert "LC" not in text and "HR" not in text  # words, not two-letter badges, at 80 columns
        assert "Active" in text and "14%" in text and "typ 10%-20%" in text
        assert "Approvals" in text


async def test_columns_come_back_on_a_wide_terminal() -> None:
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ConversationTable)
        assert "channel" in table.shown_columns and "queue" in table.shown_columns
        assert "⟳ loop" in screen_text(app)


async def test_cursor_stays_on_its_conversation_when_the_order_changes() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ConversationTable)
        await pilot.press("down", "down")  # c-3001
        assert table.current_id == "c-3001"
        hot = session.engine.conversations["c-5200"]
        hot.risk, hot.holder, hot.waiting_since = 0.99, "waiting", NOW - 600  # now the customer who waited longest
        hot.version += 1
        session.emit({"c-5200"})
        await settle(pilot)
        assert table.row_ids[0] == "c-5200"
        assert table.current_id == "c-3001"
        assert table.cursor_row == 3


async def test_untouched_cursor_stays_on_the_riskiest_row() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ConversationTable)
        hot = session.engine.conversations["c-5200"]
        hot.risk, hot.holder, hot.waiting_since, hot.version = 0.99, "waiting", NOW - 600, hot.version + 1
        session.emit({"c-5200"})
        await settle(pilot)
        assert table.current_id == "c-5200" and table.cursor_row == 0
        await pilot.press("down", "home")  # home: back to "the top, whatever it is"
        warm = session.engine.conversations["c-3555"]
        warm.risk, warm.holder, warm.waiting_since, warm.version = 1.0, "waiting", NOW - 900, warm.version + 1
        session.emit({"c-3555"})
        await settle(pilot)
        assert table.current_id == "c-3555"


async def test_only_changed_cells_are_updated() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ConversationTable)
        calls: list[tuple] = []
        original = table._set_cell

        def spy(cid, key, cell):
            calls.append((cid, key))
            return original(cid, key, cell)

        table._set_cell = spy  # type: ignore[method-assign]
        rows_before = table.rows_rendered
        state = session.engine.conversations["c-3555"]
        state.active |= {"loop"}
        state.version += 1
        unchanged = session.engine.conversations["c-4100"]
        unchanged.version += 1  # a new version whose cells look the same
        session.emit({"c-3555", "c-4100"})
        await settle(pilot)
        assert calls == [("c-3555", "reason")]
        assert table.rows_rendered - rows_before == 1  # only that row was drawn again
        assert table.cell_text("c-3555", "reason") == "going in circles"


async def test_new_and_ended_conversations_come_and_go() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ConversationTable)
        session.engine.conversations["c-7000"] = make_state("c-7000", risk=0.5)
        session.engine.conversations["c-2077"].ended = True
        session.emit({"c-7000", "c-2077"})
        await settle(pilot)
        assert "c-7000" in table.row_ids and "c-2077" not in table.row_ids


async def test_filter_sort_and_queue() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ConversationTable)
        await pilot.press("slash", *"ortiz")
        await settle(pilot)
        assert table.row_ids == ["c-2077"]
        await pilot.press("enter")  # keep the filter, back to the table
        assert app.focused is table
        assert "filter ortiz" in screen_text(app)
        await pilot.press("escape")  # clears
        await settle(pilot)
        assert len(table.row_ids) == 6

        await pilot.press("s")  # age: oldest first
        await settle(pilot)
        assert table.row_ids[0] == "c-3001"
        assert app.screen.sort == "age"

        await pilot.press("f")  # first queue alphabetically: billing
        await settle(pilot)
        assert app.screen.queue == "billing"
        assert set(table.row_ids) == {"c-1042", "c-3555"}


async def test_enter_opens_the_conversation() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConversationScreen"
        assert app.screen.conversation_id == "c-2077"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FloorScreen)


async def test_alerts_are_logged_and_notified_literally() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        alert = Alert(ts=NOW, level="critical", kind="trigger", text="c-1042 [billing] customer asked for a person: [URGENT] [/] now", conversation_id="c-1042")
        band = Alert(ts=NOW, level="warning", kind="aggregate", text="escalation rate 34% is over 30%: escalations swamp the humans")
        session.emit({"c-1042"}, alerts=[alert, band])
        await settle(pilot)
        log = app.screen.query_one(AlertLog)
        assert log.written == 2
        rendered = "\n".join(log.lines)
        assert "[billing]" in rendered and "[URGENT] [/]" in rendered
        messages = [n.message for n in app._notifications]
        assert any("[URGENT] [/]" in m for m in messages)
        assert any("escalation rate 34%" in m for m in messages)
        assert all(not n.markup for n in app._notifications)


async def test_alert_storm_is_rate_limited_but_fully_logged() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        storm = [Alert(ts=NOW, level="warning", kind="trigger", text=f"c-{i} looping") for i in range(100)]
        session.emit({"c-1042"}, alerts=storm)
        await settle(pilot)
        assert len(app._notifications) <= 3
        log = app.screen.query_one(AlertLog)
        assert log.written == 100 and "c-99 looping" in log.lines[-1]
        assert "c-99 looping" in screen_text(app)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_no_toast_covers_a_dialog_the_counter_says_how_many(size: tuple[int, int]) -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        session.emit({"c-1042"}, alerts=[Alert(ts=NOW, level="info", kind="trigger", text="c-1 low confidence")])
        await settle(pilot)
        assert not app._notifications
        await pilot.press("t")  # the handoff summary: a dialog
        await settle(pilot)
        session.emit(
            {"c-1042"},
            alerts=[
                Alert(ts=NOW, level="warning", kind="trigger", text="c-2 sentiment falling"),
                Alert(ts=NOW, level="critical", kind="trigger", text="c-3 fraud reported"),
            ],
        )
        await settle(pilot)
        assert not app._notifications  # not even the critical one covers the summary
        assert type(app.screen).__name__ == "HandoffScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert "⚑ 2 new alerts · L lists" in screen_text(app)  # the conversation's header
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FloorScreen)
        status = app.screen.query_one("#floor-status").shown
        assert status is not None and "⚑ 2 new alerts · L lists" in status.plain  # the floor's status line
        assert any("c-3 fraud reported" in line for line in app.screen.query_one(AlertLog).lines)
        await pilot.press("L")
        await settle(pilot)
        assert not app.quiet_alerts


async def test_alerts_toast_on_the_floor_when_nothing_is_covered() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        session.emit({"c-1042"}, alerts=[Alert(ts=NOW, level="warning", kind="trigger", text="c-2 sentiment falling")])
        await settle(pilot)
        assert [n.message for n in app._notifications] == ["c-2 sentiment falling"]
        assert "new alert" not in screen_text(app)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_no_toast_while_in_a_held_chat(size: tuple[int, int]) -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.open_conversation("c-4100")  # held by the tester
        await settle(pilot)
        session.emit({"c-1042"}, alerts=[Alert(ts=NOW, level="critical", kind="trigger", text="c-3 fraud reported")])
        await settle(pilot)
        assert not app._notifications
        assert "⚑ 1 new alert · L lists" in screen_text(app)


async def test_setting_always_toasts_even_over_a_dialog() -> None:
    session = FakeSession(floor_states())
    session.config = Config(ui=UiConfig(alert_toasts="always"))
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        session.emit({"c-1042"}, alerts=[Alert(ts=NOW, level="warning", kind="trigger", text="c-2 sentiment falling")])
        await settle(pilot)
        assert [n.message for n in app._notifications] == ["c-2 sentiment falling"]


async def test_setting_never_counts_instead_of_toasting_on_the_floor() -> None:
    session = FakeSession(floor_states())
    session.config = Config(ui=UiConfig(alert_toasts="never"))
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        session.emit({"c-1042"}, alerts=[Alert(ts=NOW, level="warning", kind="trigger", text="c-2 sentiment falling")])
        await settle(pilot)
        assert not app._notifications
        status = app.screen.query_one("#floor-status").shown
        assert status is not None and "⚑ 1 new alert" in status.plain


async def test_alerts_screen_opens_and_acknowledges() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        alerts = [
            Alert(ts=NOW - 5, level="warning", kind="aggregate", text="escalation rate 34% is over 30%"),
            Alert(ts=NOW, level="critical", kind="trigger", text="c-2077 [fraud] high stakes: chargeback", conversation_id="c-2077"),
        ]
        session.emit({"c-2077"}, alerts=alerts)
        await settle(pilot)
        await pilot.press("L")
        await pilot.pause()
        assert type(app.screen).__name__ == "AlertsScreen"
        text = screen_text(app)
        assert "2 not acknowledged" in text and "chargeback" in text
        await pilot.press("x")  # the newest, first row
        await pilot.pause()
        assert alerts[1].acknowledged and not alerts[0].acknowledged
        assert "1 not acknowledged" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConversationScreen" and app.screen.conversation_id == "c-2077"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("X")
        await pilot.pause()
        assert all(a.acknowledged for a in alerts)


async def test_replay_bar_and_keys() -> None:
    replay = FakeReplay(progress=0.4)
    session = FakeSession(floor_states(), mode="replay", replay_controls=replay)
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "REPLAY" in text and "40%" in text and "playing" in text
        await pilot.press("space")
        await settle(pilot)
        assert replay.paused and "paused" in screen_text(app)
        await pilot.press("n")
        assert replay.steps == 1
        await pilot.press("plus")
        assert replay.speed == 2.0
        await pilot.press("minus", "minus")
        assert replay.speed == 0.5


async def test_replay_keys_are_hidden_when_live() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.check_action("replay_toggle", ()) is False
        assert "Pause" not in screen_text(app)


async def test_idle_floor_does_not_redraw() -> None:
    """Nothing changed: nothing is scheduled, flushed or repainted."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)
        flushes, ticks = app.stats.flushes, app.stats.ticks
        await pilot.pause(1.0)
        assert (app.stats.flushes, app.stats.ticks) == (flushes, ticks)


async def test_a_burst_of_changes_is_one_redraw_per_interval() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)
        flushes = app.stats.flushes
        for _ in range(20):
            session.emit({"c-1042"})
        await pilot.pause(0.1)
        assert app.stats.flushes - flushes <= 1
        await pilot.pause(0.4)
        assert app.stats.flushes - flushes >= 1


async def test_help_lists_keys_and_quit_asks_when_holding() -> None:
    app = make_app()  # "tester" holds c-4100
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        help_text = screen_text(app)
        assert "Take over" in help_text
        await pilot.press("escape")
        await pilot.press("q")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        assert "c-4100" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FloorScreen)
        assert app.is_running


async def test_quit_release_all_hands_back_then_exits() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q", "r", "enter")  # 'r' once handed everything back; now nothing
        await pilot.pause()
        assert session.commands == [] and type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("ctrl+y")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert ("release", "c-4100", {"note": "supervisor quit the console"}) in session.commands


async def test_command_palette_offers_the_screen_actions() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        names = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Take over (t)", "Filter (/)", "Sort (s)", "Queue (f)", "Approvals (A)", "Help (?)", "Theme"):
            assert wanted in names, names


async def test_theme_switch_restyles_and_broken_theme_is_reported(tmp_path) -> None:
    (tmp_path / "broken.toml").write_text('name = "broken"\nprimary = 12\n')
    from hitl_console.tui.themes import PACKAGE_THEMES

    app = make_app(theme="no-such-theme", theme_dirs=[PACKAGE_THEMES, tmp_path])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "hitl-dark"
        messages = "\n".join(n.message for n in app._notifications)
        assert "broken.toml" in messages and "no-such-theme" in messages
        app.theme = "hitl-ansi"
        await settle(pilot)
        assert app.palette.error.color is not None and app.palette.error.color.number == 1
        table = app.screen.query_one(ConversationTable)
        assert len(table.row_ids) == 6


async def test_waiting_customers_come_first_with_their_wait_and_reason_in_words() -> None:
    """A customer waiting for a person ranks above a riskier conversation the AI
    handles; among the waiting, the longer (risk-weighted) wait leads; the wait
    and the reason are on the row, in words, at 80 columns and at 200."""
    states = floor_states()
    by_id = {s.conversation_id: s for s in states}
    calm_wait = make_state("c-6001", name="Grace Larsen", tier="platinum", risk=0.15, holder="waiting", active={"human_request"})
    calm_wait.waiting_since = NOW - 400  # waited longest: 400 + 120 × 0.15 beats c-1042's 134 + 120 × 0.86
    by_id["c-2077"].holder, by_id["c-2077"].agent = "ai", None  # a riskier conversation the AI still handles
    session = FakeSession([*states, calm_wait])
    for size in ((80, 24), (200, 50)):
        app = make_app(session)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            table = app.screen.query_one(ConversationTable)
            assert table.row_ids[:3] == ["c-6001", "c-1042", "c-2077"]
            lines = screen_text(app).splitlines()
            first = next(line for line in lines if "c-6001" in line)
            second = next(line for line in lines if "c-1042" in line)
            assert "WAITING 6m40s" in first and "asked for a person" in first and "Grace Larsen·platinum" in first
            assert "WAITING 2m14s" in second
            assert "Why" in screen_text(app) and "Triggers" not in screen_text(app)


async def test_a_routing_breach_is_flagged_on_the_floor() -> None:
    """The rules send this customer to a person first and the AI still has it: the row says so."""
    states = floor_states()
    breach = make_state("c-7100", name="Mia Costa", tier="vip", risk=0.3, holder="ai", active=set())
    breach.routing_flags = ("vip customer routed to AI (tier goes to a human first)",)
    breach.routing_names = ("vip",)
    app = make_app(FakeSession([*states, breach]))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ConversationTable)
        assert table.row_ids.index("c-7100") == 1  # after the one waiting customer, above riskier AI-held rows
        row = next(line for line in screen_text(app).splitlines() if "c-7100" in line)
        assert "AI ⚠ rules" in row and "human first: vip" in row


async def test_wait_on_the_row_counts_up_by_the_second() -> None:
    clock = {"now": NOW}
    session = FakeSession(floor_states())
    app = make_app(session, clock=lambda: clock["now"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ConversationTable)
        assert table.cell_text("c-1042", "holder") == "WAITING 2m14s"
        clock["now"] = NOW + 2
        app.screen._refresh_waits()
        await settle(pilot)
        assert table.cell_text("c-1042", "holder") == "WAITING 2m16s"
        assert "WAITING 2m16s" in screen_text(app)


async def test_very_narrow_floor_keeps_the_badges() -> None:
    app = make_app()
    async with app.run_test(size=(50, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ConversationTable)
        assert "reason" not in table.shown_columns and "triggers" in table.shown_columns
        assert "LC SE HR" in screen_text(app)


async def test_a_toast_already_up_is_taken_down_when_a_dialog_opens() -> None:
    """In tmux a floor toast stayed over the handoff's "ctrl+y join" line for seconds."""
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        session.emit({"c-1042"}, alerts=[Alert(ts=NOW, level="critical", kind="trigger", text="c-3 fraud reported")])
        await settle(pilot)
        assert app._notifications  # on the floor, with nothing held, it toasts
        await pilot.press("t")
        await settle(pilot)
        assert type(app.screen).__name__ == "HandoffScreen"
        assert not app._notifications
        assert "ctrl+y" in screen_text(app)


async def test_no_toast_covers_the_approvals_queue() -> None:
    """At 80x24 a toast sat over the selected request's amount and rationale."""
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        session.emit({"c-1042"}, alerts=[Alert(ts=NOW, level="critical", kind="trigger", text="c-3 fraud reported")])
        await settle(pilot)
        assert app._notifications
        await pilot.press("A")
        await settle(pilot)
        assert type(app.screen).__name__ == "ApprovalsScreen"
        assert not app._notifications and "c-3 fraud reported" not in screen_text(app)
        session.emit({"c-1042"}, alerts=[Alert(ts=NOW, level="warning", kind="trigger", text="c-2 sentiment falling")])
        await settle(pilot)
        assert not app._notifications and [a.text for a in app.quiet_alerts] == ["c-2 sentiment falling"]


async def test_rows_of_a_feed_that_is_down_say_stale() -> None:
    """Frozen conversations of a lost feed must not look live (issue 9 item 4)."""
    states = floor_states()
    session = FakeSession(states)
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "STALE" not in screen_text(app)
        feed = states[0].feed
        session.stale_feeds = frozenset({feed})
        session.emit({s.conversation_id for s in states if s.feed == feed})
        await settle(pilot)
        text = screen_text(app)
        stale_rows = [line for line in text.splitlines() if "STALE feed" in line]
        assert len(stale_rows) == sum(1 for s in states if s.feed == feed and not s.ended)
