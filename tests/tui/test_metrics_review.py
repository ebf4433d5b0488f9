"""The metrics screen, the review queue and the takeover-verdict dialog.

The screens are hosted by :class:`Host`, a small app that exposes
``session``, ``config``, ``palette`` and ``clock()`` as ``HitlApp`` does,
so they are tested without the floor. The session is a real
:class:`LiveSession` that is never started (no feed connection): its engine
is filled with a simulated recording (``generate_events``) plus one
conversation whose customer and AI text is hostile markup, and its journal
(and so its review store) is a real SQLite file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable, Input, OptionList, Static, TextArea

import hitl_console.tui as tui_package
from hitl_console.analysis.metrics import Metrics, TopicContainment, compute_metrics
from hitl_console.config import Config
from hitl_console.feeds.hub import FeedSpec
from hitl_console.session import LiveSession
from hitl_console.protocol.events import event_adapter
from hitl_console.sim.timeline import generate_events
from hitl_console.store.journal import Journal
from hitl_console.store.reviews import ReviewItem, ReviewStore, Verdict
from hitl_console.tui.palette import Palette
from hitl_console.tui.screens.dialogs import NoteDialog
from hitl_console.analysis import charts
from hitl_console.analysis.charts import containment_rows, tte_data
from hitl_console.tui.screens.metrics import MetricsScreen
from hitl_console.tui.widgets.metric_chart import MetricChart
from hitl_console.tui.screens.correction import CorrectionDialog
from hitl_console.tui.screens.review_item import ReviewItemScreen
from hitl_console.tui.screens.review_labels import claim_label, refusal, score_why, timeline_options
from hitl_console.tui.screens.review_queue import ReviewScreen
from tests.tui.fixtures import screen_text
from hitl_console.tui.screens.verdict import EscalationAnswer, EscalationVerdictDialog, verdict_recorder

URGENT = "[URGENT] refund [/]"
CLICK = "[@click=app.quit]x[/]"
HOSTILE_ID = "c-hostile"
HOSTILE_ITEM = f"team-lead:sim:{HOSTILE_ID}"
RECORDED = 150
"""Conversations of the simulated recording; they all started 1 to 2 hours ago."""


# ------------------------------------------------------------------ the session and the host app


def _apply(session: LiveSession, events: list[dict[str, Any]]) -> None:
    for event in events:
        session.engine.apply(event_adapter.validate_python(event), feed="sim")


def hostile_events(now: float, seq: int = 900_000) -> list[dict[str, Any]]:
    """One ended conversation, started a minute ago, with markup in customer and AI text."""
    base = {"v": 1, "conversation_id": HOSTILE_ID}
    return [
        {**base, "type": "conversation.started", "seq": seq, "ts": now - 60, "channel": "chat", "queue": "billing",
         "customer": {"id": "u-hostile"}, "handled_by": "ai"},
        {**base, "type": "message", "seq": seq + 1, "ts": now - 55, "role": "customer", "text": URGENT, "topics": ["refund"]},
        {**base, "type": "message", "seq": seq + 2, "ts": now - 50, "role": "ai", "text": CLICK, "confidence": 0.2},
        {**base, "type": "conversation.ended", "seq": seq + 3, "ts": now - 40, "outcome": "unresolved", "resolved_by": "ai"},
    ]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[LiveSession]:
    journal = Journal(tmp_path / "journal.sqlite3")
    live = LiveSession(Config(), [FeedSpec("ws://127.0.0.1:1/feed", name="sim")], agent="ana", journal=journal, restore=False)
    now = time.time()
    _apply(live, generate_events(11, RECORDED, start_ts=now - 2 * 3600, concurrency=15))
    _apply(live, hostile_events(now))
    live.queue_for_review()  # what the session's timer does as conversations end
    assert max(s.started_ts for s in live.engine.conversations.values() if s.conversation_id != HOSTILE_ID) < now - 3600
    yield live
    journal.close()


class Host(App[None]):
    """What the console's screens need of ``HitlApp``: session, config, palette, clock."""

    CSS_PATH = str(Path(tui_package.__file__).parent / "app.tcss")

    def __init__(self, session: LiveSession, screen: Screen[Any] | None = None) -> None:
        super().__init__()
        self.session = session
        self.config = session.config
        self.palette = Palette.plain()
        self._first = screen
        self.results: list[Any] = []

    def clock(self) -> float:
        return self.session.clock()

    async def on_mount(self) -> None:
        if self._first is not None:
            await self.push_screen(self._first)


def notifications(app: App[Any]) -> list[str]:
    return [n.message for n in app._notifications]


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


# ------------------------------------------------------------------ metrics: plain helpers


def test_tte_histogram_puts_long_escalations_in_the_last_bin() -> None:
    data = tte_data([1, 2, 2, 3, 40], max_turns=5)
    assert data.counts == (1, 2, 1, 0, 1)
    assert data.median == 2 and data.p90 is not None and data.p90 > 3


def test_containment_chart_shows_called_out_topics_first_then_by_volume() -> None:
    m = compute_metrics([])
    m.containment_by_topic = [
        TopicContainment("tiny", 1, 0, 0.0, 0.8, False),
        TopicContainment("refunds", 9, 2, 0.22, 0.58, True),
        TopicContainment("orders", 60, 58, 0.97, -0.17, False),
        TopicContainment("billing", 40, 39, 0.98, -0.18, False),
    ]
    assert [row[0] for row in containment_rows(m.containment_by_topic)] == ["refunds", "orders", "billing", "tiny"]
    assert containment_rows(m.containment_by_topic)[0][3] is True


# ------------------------------------------------------------------ metrics screen


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
async def test_metrics_screen_shows_figures_and_charts_and_window_keys_switch(session: LiveSession, size: tuple[int, int]) -> None:
    app = Host(session, MetricsScreen(window="4"))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MetricsScreen)
        assert screen.metrics is not None and screen.metrics.conversations == RECORDED + 1
        text = str(screen.query_one("#fig-escalation", Static).render())
        assert "Escalation rate" in text and "%" in text
        for fid in ("#fig-accuracy", "#fig-resolution", "#fig-containment", "#fig-tte-turns", "#fig-tte-seconds", "#fig-csat", "#fig-repeat"):
            assert str(screen.query_one(fid, Static).render()).strip()
        if size[0] == 80:  # every card's words fit its half of 80 columns: nothing cut to "…"
            top = "\n".join(screen_text(app).splitlines()[1:9])
            assert "\u2026" not in top, top
        charts = {c.id: c for c in screen.query(MetricChart)}
        assert set(charts) == {"chart-escalation", "chart-containment", "chart-confidence", "chart-sentiment", "chart-tte"}
        assert all(chart.value is not None for chart in charts.values()), "every chart has data for 'all'"
        assert charts["chart-confidence"].value.threshold == session.config.thresholds.low_confidence

        await pilot.press("1")  # last 15 min: only the hostile conversation
        await pilot.pause()
        assert screen.window_key == "1" and screen.metrics.conversations == 1
        assert charts["chart-tte"].value is None  # it was not escalated
        await pilot.press("2")
        await pilot.pause()
        assert screen.metrics.conversations == 1
        await pilot.press("3")
        await pilot.pause()
        assert screen.metrics.conversations == RECORDED + 1

        # The charts follow the widget's size: scroll the sentiment chart into view and compare.
        chart = charts["chart-sentiment"]
        chart.scroll_visible(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert chart._drawn is not None and chart._drawn[2:] == (chart.size.width, chart.size.height)
        before = chart.size.width
        await pilot.resize_terminal(size[0] + 40, size[1])
        await pilot.pause()
        chart.scroll_visible(animate=False)
        await pilot.pause()
        await pilot.pause()
        assert chart.size.width != before and chart._drawn[2:] == (chart.size.width, chart.size.height)
        assert "Metrics" in app.export_screenshot() and app.is_running


@pytest.mark.slow
async def test_the_screen_draws_the_trend_charts_as_the_report_does(session: LiveSession) -> None:
    """One body per chart (issue 12 item 4): the metrics screen's escalation and
    sentiment charts are, character for character, the ones ``report`` prints
    for the same figures at the same size, gaps included (the hour between the
    recording and the last conversation has no data: a break, not a line)."""
    app = Host(session, MetricsScreen(window="4"))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MetricsScreen) and screen.metrics is not None
        m = screen.metrics
        empty = [i for i, b in enumerate(m.escalation_trend) if b.value is None]
        assert empty and 0 < empty[0] < len(m.escalation_trend) - 1, "an empty bucket between two with data"
        assert screen.query_one("#chart-escalation", MetricChart).value.trend.values[empty[0]] is None
        report_charts = {
            "chart-escalation": lambda w, h: charts.escalation_rate_chart(
                m.escalation_trend, m.escalation_band.band, m.escalation_band.typical, width=w, height=h, color=False
            ),
            "chart-sentiment": lambda w, h: charts.sentiment_chart(m.sentiment_trend, width=w, height=h, color=False),
        }
        for chart_id, report_chart in report_charts.items():
            chart = screen.query_one(f"#{chart_id}", MetricChart)
            chart.scroll_visible(animate=False)
            await pilot.pause()
            width, height = chart.size
            drawn = charts.strip_ansi(chart.render().plain)
            assert "Escalation rate" in drawn or "sentiment" in drawn
            assert drawn == report_chart(width, height), chart_id


@pytest.mark.slow
async def test_metrics_recompute_only_when_visible_and_changed(session: LiveSession) -> None:
    app = Host(session, MetricsScreen(window="4"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MetricsScreen)
        first = screen.recomputes
        screen._poll()
        screen._poll()
        assert screen.recomputes == first, "nothing changed: no recompute"

        now = time.time()
        _apply(session, hostile_events(now, seq=950_000)[:2])  # a new event: versions change
        screen._poll()
        assert screen.recomputes == first + 1

        # An escalation verdict changes escalation accuracy, so it counts as a change.
        escalated = next(s for s in session.engine.conversations.values() if s.escalated)
        session.record_takeover_verdict(escalated.conversation_id, True)
        screen._poll()
        assert screen.recomputes == first + 2
        assert screen.metrics.accuracy_verdicts == 1 and screen.metrics.escalation_accuracy == 1.0
        assert "1 verdict" in str(screen.query_one("#fig-accuracy", Static).render())

        # Under a dialog it is still visible (dimmed) and keeps up, as HitlApp's live screens do.
        app.push_screen(EscalationVerdictDialog("c-1"))
        await pilot.pause()
        _apply(session, hostile_events(now, seq=960_000)[2:3])
        screen._poll()
        assert screen.recomputes == first + 3
        await pilot.press("escape")
        await pilot.pause()

        # Hidden behind another screen: no work, even though data changed...
        app.push_screen(Screen())
        await pilot.pause()
        _apply(session, hostile_events(now, seq=970_000)[3:])
        screen._poll()
        assert screen.recomputes == first + 3
        # ...and it catches up as soon as it is shown again.
        app.pop_screen()
        await pilot.pause()
        assert app.screen is screen and screen.recomputes == first + 4


# ------------------------------------------------------------------ review: plain helpers


def test_review_helpers_describe_claims_and_scores() -> None:
    now = 1_000_000.0
    item = ReviewItem("qa:c-1", "c-1", "qa", "qa", "", "escalated", 0.3, now - 10, "open", "rita", now - 5, now + 600, None)
    assert claim_label(item, "ana", now) == "rita 10m00s"
    assert claim_label(item, "rita", now) == "you"
    assert "rita is reviewing c-1" in refusal(item, now)
    item.status = "done"
    assert "already been reviewed" in refusal(item, now)
    assert refusal(None, now).startswith("That item")
    assert score_why({"score": {"criteria": {"tone": 0.9, "resolution": 0.1}, "notes": []}}) == "resolution 0.10, tone 0.90"
    assert score_why({"score": {"notes": ["[b]loud[/b]"]}}) == "[b]loud[/b]"


def test_transcript_options_keep_markup_literal_and_place_triggers() -> None:
    snap = {
        "turns": [
            {"seq": 1, "ts": 0.0, "role": "customer", "text": URGENT},
            {"seq": 2, "ts": 1.0, "role": "ai", "text": CLICK + "\x1b[31m", "confidence": 0.2},
            {"seq": 4, "ts": 2.0, "role": "customer", "text": "ok"},
        ],
        "triggers": [{"kind": "low_confidence", "seq": 2, "ts": 1.0, "reason": "conf [/] low"}],
    }
    options = timeline_options(snap, low_confidence=0.55, corrections={2: [("rita", "[red]better[/red]")]})
    assert [o.id for o in options] == ["turn:1", "turn:2", "trigger:0", "turn:4"]
    assert options[2].disabled
    plain = [o.prompt.plain for o in options]  # type: ignore[union-attr]
    assert URGENT in plain[0] and CLICK in plain[1] and "\x1b" not in plain[1]
    assert "#2" not in plain[1] and "LOW CONFIDENCE" in plain[2] and "low_confidence" not in plain[2]
    assert "[red]better[/red]" in plain[1] and "conf [/] low" in plain[2]


# ------------------------------------------------------------------ review screen


def _move_to(table: DataTable[Any], key: str) -> None:
    table.move_cursor(row=table.get_row_index(key))


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
async def test_review_queue_claims_refuses_and_records(session: LiveSession, size: tuple[int, int]) -> None:
    app = Host(session, ReviewScreen())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        store = session.reviews
        table = screen.query_one(DataTable)
        keys = [str(row.key.value) for row in table.ordered_rows]
        assert HOSTILE_ITEM in keys and len(keys) == len(store.items())
        scores = [store.item(k).score for k in keys]  # type: ignore[union-attr]
        assert scores == sorted(scores), "lowest score first"

        # c claims the item under the cursor.
        _move_to(table, HOSTILE_ITEM)
        await pilot.press("c")
        await pilot.pause()
        assert store.item(HOSTILE_ITEM).claimed_by == "ana"  # type: ignore[union-attr]

        # Another reviewer (another console on the same journal) holds a different item: refused.
        other = next(k for k in keys if k != HOSTILE_ITEM)
        assert store.claim(other, "rita")
        _move_to(table, other)
        await pilot.press("c")
        await pilot.pause()
        assert store.item(other).claimed_by == "rita"  # type: ignore[union-attr]
        assert any("rita is reviewing" in m for m in notifications(app))
        # A verdict on rita's item is refused too, without asking for a note.
        await pilot.press("3")
        await pilot.pause()
        assert app.screen is screen and not store.verdicts(conversation_id=store.item(other).conversation_id)  # type: ignore[union-attr]

        # 4 on our item: a note dialog, then the verdict is stored and the item leaves the queue.
        _move_to(table, HOSTILE_ITEM)
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        app.screen.query_one(Input).value = "should have offered the refund"
        await pilot.press("enter")
        await pilot.pause()
        verdicts = store.verdicts(conversation_id=HOSTILE_ID)
        assert [(v.verdict, v.reviewer, v.note) for v in verdicts] == [(Verdict.AI_WRONG, "ana", "should have offered the refund")]
        assert store.item(HOSTILE_ITEM).status == "done"  # type: ignore[union-attr]
        assert HOSTILE_ITEM not in [str(row.key.value) for row in table.ordered_rows]

        # Another reviewer's console (its own connection to the same file) claims an item:
        # the next poll shows it, without a reload on polls where nothing changed.
        free = next(k for k in (str(row.key.value) for row in table.ordered_rows) if k != other)
        screen._poll()  # remembers the file's data version
        elsewhere = Journal(session.journal.path)
        try:
            assert ReviewStore(elsewhere).claim(free, "bob")
        finally:
            elsewhere.close()
        screen._poll()
        await pilot.pause()
        assert screen._items[free].claimed_by == "bob"
        assert str(table.get_cell(free, "claim")).startswith("bob")

        # The role selector narrows the queue.
        await pilot.press("r")
        await pilot.pause()
        assert screen.role is not None
        assert all(item.role == screen.role for item in screen._items.values())


@pytest.mark.slow
async def test_review_transcript_is_literal_and_takes_corrections_tags_and_verdicts(session: LiveSession) -> None:
    app = Host(session, ReviewScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        queue = app.screen
        assert isinstance(queue, ReviewScreen)
        _move_to(queue.query_one(DataTable), HOSTILE_ITEM)
        await pilot.pause()
        # Words, not ids, at 80 columns; the selected row's why in full under the table.
        text = screen_text(app)
        assert "low_confidence" not in text and "team_lead" not in text and "ai_request" not in text
        why = score_why(session.reviews.item(HOSTILE_ITEM).snapshot)  # type: ignore[union-attr]
        assert why and ("why " + why)[:76] in text.replace("\n", "")
        await pilot.press("enter")
        await pilot.pause()
        item_screen = app.screen
        assert isinstance(item_screen, ReviewItemScreen) and item_screen.item_id == HOSTILE_ITEM

        # Customer and AI text are shown as they were typed, not interpreted.
        transcript = item_screen.query_one(OptionList)
        prompts = [transcript.get_option_at_index(i).prompt.plain for i in range(transcript.option_count)]  # type: ignore[union-attr]
        assert any(URGENT in p for p in prompts) and any(CLICK in p for p in prompts)
        assert any("LOW CONFIDENCE" in p for p in prompts), "the trigger is shown where it fired"
        assert not any("#900" in p for p in prompts), "times, not the feed's seq numbers"
        header = screen_text(app)
        assert "team lead" in header and "team_lead" not in header and "low_confidence" not in header
        shot = app.export_screenshot()
        assert "[URGENT]" in shot and "click=app.quit" in shot
        assert app.is_running

        # x on a customer turn explains; on the AI turn it opens the correction dialog.
        assert transcript.highlighted == 0
        await pilot.press("x")
        await pilot.pause()
        assert any("Select an AI turn" in m for m in notifications(app))
        await pilot.press("down")
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, CorrectionDialog)
        editor = dialog.query_one(TextArea)
        assert editor.text == CLICK  # starts from the AI's text
        assert "turn 2 (" in screen_text(app) and "#900" not in screen_text(app)  # counted from the start
        editor.text = "I'm sorry: I can refund order 5531 now."
        editor.move_cursor(editor.document.end)
        await pilot.press("enter")  # a new line, not "save"
        await pilot.press(*("space" if c == " " else c for c in "It is on its way."))
        await pilot.pause()
        assert isinstance(app.screen, CorrectionDialog)
        await pilot.press("ctrl+s")
        await pilot.pause()
        corrections = session.reviews.corrections(conversation_id=HOSTILE_ID)
        assert [(c.turn_seq, c.corrected_text, c.original_text, c.reviewer) for c in corrections] == [
            (900_002, "I'm sorry: I can refund order 5531 now.\nIt is on its way.", CLICK, "ana")
        ]
        assert any("corrected by ana" in transcript.get_option_at_index(i).prompt.plain for i in range(transcript.option_count))  # type: ignore[union-attr]

        # g tags the conversation.
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        app.screen.query_one(Input).value = "markup-in-text"
        await pilot.press("enter")
        await pilot.pause()
        assert session.reviews.tags(HOSTILE_ID, feed="sim") == ["markup-in-text"]

        # 1 claims on the way (nobody held it) and records "a human was needed".
        await pilot.press("1")
        await pilot.pause()
        await pilot.press("enter")  # no note
        await pilot.pause()
        assert [(v.verdict, v.note) for v in session.reviews.verdicts(conversation_id=HOSTILE_ID, feed="sim")] == [(Verdict.ESCALATION_NEEDED, None)]
        assert session.metrics().missed_escalations == 1  # not escalated, yet a human was needed

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is queue
        assert HOSTILE_ITEM not in [str(row.key.value) for row in queue.query_one(DataTable).ordered_rows]


@pytest.mark.slow
async def test_cancelled_verdict_gives_back_a_claim_taken_for_it(session: LiveSession) -> None:
    app = Host(session, ReviewScreen())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        _move_to(app.screen.query_one(DataTable), HOSTILE_ITEM)
        await pilot.press("2")
        await pilot.pause()
        assert session.reviews.item(HOSTILE_ITEM).claimed_by == "ana"  # type: ignore[union-attr]
        await pilot.press("escape")
        await pilot.pause()
        item = session.reviews.item(HOSTILE_ITEM)
        assert item is not None and item.claimed_by is None and item.status == "open"


# ------------------------------------------------------------------ the takeover verdict dialog


async def _ask(session: LiveSession, *keys: str, note: str | None = None, ended_by: str = "release") -> list[Any]:
    app = Host(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(EscalationVerdictDialog(HOSTILE_ID, ended_by), app.results.append)  # type: ignore[arg-type]
        await pilot.pause()
        if note is not None:
            await pilot.press("o")
            await pilot.pause()
            dialog = app.screen
            assert dialog.focused is dialog.query_one(Input)
            dialog.query_one(Input).value = note
            await pilot.press("y")  # typed into the note, not an answer
            await pilot.pause()
            assert dialog.query_one(Input).value.endswith("y")
            dialog.query_one(Input).value = note
            await pilot.press("enter")  # leaves the note
            await pilot.pause()
            assert isinstance(app.screen, EscalationVerdictDialog)
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
    return app.results


@pytest.mark.slow
async def test_verdict_dialog_answers_with_one_key(session: LiveSession) -> None:
    assert await _ask(session, "y") == [EscalationAnswer(True, None)]
    assert await _ask(session, "n", ended_by="end") == [EscalationAnswer(False, None)]
    assert await _ask(session, "escape") == [None]


@pytest.mark.slow
async def test_verdict_dialog_takes_an_optional_note(session: LiveSession) -> None:
    assert await _ask(session, "n", note="card was stolen") == [EscalationAnswer(False, "card was stolen")]
    # escape inside the note leaves the note; a second escape skips.
    app = Host(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(EscalationVerdictDialog(HOSTILE_ID), app.results.append)  # type: ignore[arg-type]
        await pilot.pause()
        await pilot.press("o")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, EscalationVerdictDialog) and app.results == []
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


@pytest.mark.slow
async def test_verdict_recorder_stores_the_answer_for_escalation_accuracy(session: LiveSession) -> None:
    app = Host(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        escalated = next(s for s in session.engine.conversations.values() if s.escalated)
        app.push_screen(EscalationVerdictDialog(escalated.conversation_id), verdict_recorder(app, escalated.conversation_id))
        await pilot.pause()
        await pilot.press("o")
        app.screen.query_one(Input).value = "fraud, had to"
        await pilot.press("enter")
        await pilot.press("y")
        await pilot.pause()
        stored = session.reviews.takeover_verdicts()
        assert [(v.conversation_id, v.agent, v.escalation_needed, v.note) for v in stored] == [
            (escalated.conversation_id, "ana", True, "fraud, had to")
        ]
        assert any("Noted: escalation needed" in m for m in notifications(app))
        m: Metrics = session.metrics()
        assert m.accuracy_verdicts == 1 and m.escalation_accuracy == 1.0


async def test_help_lists_every_screen_and_the_review_footer_fits_80_columns(session: LiveSession) -> None:
    from hitl_console.tui.screens.help import help_content

    text = help_content().plain
    for section in ("Floor", "Conversation", "Approvals", "Alerts", "Metrics", "Review queue", "Review item"):
        assert f"\n{section}\n" in f"\n{text}", section
    for key, words in (("1", "a human was needed"), ("4", "the AI got it wrong")):
        assert any(line.strip().startswith(key) and words in line for line in text.splitlines())
    app = Host(session, ReviewScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        footer = ""
        for _ in range(40):  # bounded: the footer is drawn once the screen has settled
            await pilot.pause(0.05)
            footer = app.export_screenshot()
            if "Verdict" in footer:
                break
        # Every footer entry fits: the verdicts are one "1-4 Verdict", the last key is still there.
        assert "1-4" in footer and "Verdict" in footer and "Role" in footer


def test_help_wraps_under_its_descriptions_not_at_column_0() -> None:
    """At 80x24 long help lines wrapped to column 0, under the keys."""
    from hitl_console.tui.screens.help import KEY_INDENT, help_content

    titles = {line for line in help_content().plain.splitlines() if line and not line.startswith(" ")}
    wrapped = help_content(76).plain.splitlines()
    assert len(wrapped) > len(help_content().plain.splitlines())  # something did wrap
    assert all(len(line) <= 76 for line in wrapped)
    assert {line for line in wrapped if line and not line.startswith(" ")} <= titles
    move = wrapped.index(next(line for line in wrapped if line.startswith("  ↑↓ j k")))
    assert wrapped[move + 1].startswith(" " * KEY_INDENT) and wrapped[move + 1].strip()  # under "the cursor stays…"


async def test_the_help_screen_wraps_to_its_width_at_80x24(session: LiveSession) -> None:
    from hitl_console.tui.screens.help import HelpScreen

    app = Host(session, ReviewScreen())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(HelpScreen())
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        lines = text.splitlines()
        line = next(x for x in lines if "ctrl+p" in x and "every action" in x)
        after = lines[lines.index(line) + 1]  # "theme", under "every action", not under "ctrl+p"
        start = line.index("every action")
        box = line.index("│") + 1  # the help box's left edge (the screen behind shows left of it)
        assert after[start:].strip(" │") and not after[box:start].strip(), after
