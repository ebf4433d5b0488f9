"""The small pure pieces: glyphs, formatting, ranking, column give-way, themes."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text

from hitl_console.tui import formatting, glyphs, ranking
from hitl_console.tui.palette import Palette
from hitl_console.tui.themes import DEFAULT_THEME, PACKAGE_THEMES, choose_theme, load_themes
from hitl_console.tui.widgets.conversation_table import COLUMN_PRIORITY, columns_for_width

from .fixtures import NOW, floor_states, make_state


def test_sparkline_maps_minus_one_to_lowest_block_and_pads_left() -> None:
    assert glyphs.sparkline([-1.0, 0.0, 1.0], width=5) == "  ▁▅█"
    assert glyphs.sparkline([2.0, -5.0]) == " " * 6 + "█▁"  # clamped
    assert glyphs.sparkline(list(range(20)), width=8).strip() and len(glyphs.sparkline([0.1] * 20)) == 8


def test_gauge_shows_quarters_and_value() -> None:
    assert glyphs.gauge(0.41) == "▰▰▱▱ 0.41"
    assert glyphs.gauge(1.0) == "▰▰▰▰ 1.00"
    assert glyphs.gauge(None).startswith("▱▱▱▱")


def test_badges_have_a_fixed_order() -> None:
    assert glyphs.badge_codes({"ai_request", "low_confidence", "loop"}) == ["LC", "LP", "AI"]
    text = glyphs.badges_text({"sentiment", "high_stakes"}, Palette.plain())
    assert isinstance(text, Text) and text.plain == "HS SE"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(None, "–"), (5, "5s"), (65, "1m05s"), (3700, "1h01m"), (90000, "1d01h")],
)
def test_duration(seconds, expected) -> None:
    assert formatting.duration(seconds) == expected


def test_age_changes_at_most_once_a_minute() -> None:
    assert formatting.age(10) == formatting.age(59) == "<1m"
    assert formatting.age(61) == formatting.age(119) == "1m"
    assert formatting.age(3 * 3600 + 5 * 60) == "3h05"


def test_money_and_time_left() -> None:
    assert formatting.money(1234.5, "USD") == "1,234.50 USD"
    assert formatting.money(None, "USD") == ""
    assert formatting.time_left(-1) == "expired"
    assert formatting.time_left(None) == "no limit"


def test_columns_give_way_from_the_least_important() -> None:
    wide = columns_for_width(400)
    assert wide == list(COLUMN_PRIORITY)
    at_80 = columns_for_width(79)
    assert at_80[:3] == ["id", "holder", "risk"]
    assert at_80 == ["id", "holder", "risk", "reason", "customer"]  # the why in words and the name, at 80
    assert "triggers" not in wide  # badges only where words do not fit
    assert columns_for_width(50) == ["id", "holder", "risk", "triggers"]
    # Narrowing never brings back a column that gave way (the badges stand in for the words).
    previous = wide
    for width in range(400, 10, -1):
        now = columns_for_width(width)
        assert [("reason" if k == "triggers" else k) for k in now] == previous[: len(now)]
        previous = [("reason" if k == "triggers" else k) for k in now]
    assert columns_for_width(5) == ["id", "holder", "risk"]


def test_ranking_sorts_filters_and_cycles_queues() -> None:
    states = floor_states()
    by_risk = [s.conversation_id for s in ranking.select(states, now=NOW)]
    assert by_risk[0] == "c-1042" and by_risk[-1] == "c-5200"
    by_age = ranking.select(states, order="age")
    assert by_age[0].conversation_id == "c-3001"  # started 90 minutes ago
    by_sentiment = ranking.select(states, order="sentiment")
    assert by_sentiment[0].conversation_id == "c-1042"  # -0.70
    assert by_sentiment[-1].conversation_id == "c-5200"  # no sentiment yet goes last
    assert [s.conversation_id for s in ranking.select(states, needle="ORTIZ")] == ["c-2077"]
    assert [s.conversation_id for s in ranking.select(states, needle="third time")] != []  # message text
    assert {s.queue for s in ranking.select(states, queue="returns")} == {"returns"}
    queues = ranking.queues_of(states)
    assert ranking.next_queue(None, queues) == queues[0]
    assert ranking.next_queue(queues[-1], queues) is None
    assert ranking.next_sort("turns").name == "risk"


def test_ended_conversations_are_not_on_the_floor() -> None:
    state = make_state("c-9")
    state.ended = True
    assert ranking.select([state]) == []


# ------------------------------------------------------------------ themes


def test_shipped_themes_load_and_the_ansi_one_uses_terminal_colours() -> None:
    found = load_themes([PACKAGE_THEMES])
    assert found.problems == []
    assert {"hitl-dark", "hitl-light", "hitl-high-contrast", "hitl-ansi"} <= set(found.themes)
    ansi = found.themes["hitl-ansi"]
    assert ansi.ansi is True and ansi.primary.startswith("ansi_")
    assert found.themes["hitl-light"].dark is False


def test_the_package_holds_the_only_copy_of_the_themes() -> None:
    root = Path(__file__).resolve().parents[2]
    assert not (root / "themes").exists()
    doc = (root / "docs" / "themes.md").read_text()
    assert all(f"hitl_console/tui/themes/{p.name}" in doc for p in PACKAGE_THEMES.glob("*.toml"))


def test_broken_theme_files_are_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "typo.toml").write_text('name = "typo"\nprimary = "#4FA3E0"\nprimery = "#000"\n')
    (tmp_path / "badcolour.toml").write_text('name = "bad"\nprimary = "#12345G"\n')
    (tmp_path / "notoml.toml").write_text("name = \n")
    (tmp_path / "ok.json").write_text('{"name": "from-json", "primary": "#336699"}')
    found = load_themes([tmp_path])
    assert set(found.themes) == {"from-json"}
    joined = "\n".join(found.problems)
    assert "typo.toml" in joined and "primery" in joined
    assert "badcolour.toml" in joined and "notoml.toml" in joined


def test_choose_theme_falls_back() -> None:
    assert choose_theme("hitl-light", ["hitl-light", DEFAULT_THEME]) == ("hitl-light", None)
    chosen, problem = choose_theme("nope", [DEFAULT_THEME, "textual-dark"])
    assert chosen == DEFAULT_THEME and problem and "nope" in problem
    assert choose_theme(None, ["textual-dark"]) == ("textual-dark", None)


def test_palette_reads_ansi_colours() -> None:
    palette = Palette.from_variables({"text-error": "ansi_red", "text-warning": "ansi_yellow 80%"})
    assert palette.error.color is not None and palette.error.color.number == 1
    assert palette.warning.color is not None and palette.warning.color.number == 3
    assert NOW > 0


def test_no_color_avoids_the_ansi_theme(monkeypatch) -> None:
    from .fixtures import make_app

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(theme="hitl-ansi")
    assert app.no_color and app.theme == "hitl-dark"


def test_evidence_is_shown_only_when_the_reason_does_not_quote_it() -> None:
    text = "Unbelievable. I've wasted hours on this garbage."
    assert formatting.extra_evidence(f"customer sentiment -0.60 at or below -0.50: “{text}”", text) is None
    assert formatting.extra_evidence("AI confidence 0.41 below 0.55: “I think so”", "0.41") is None
    long = "I have explained this three times already and nothing happened, " * 3 + "let me speak to a real person"
    reason = "customer asked for a person: “" + long[:79] + "…”"
    assert formatting.extra_evidence(reason, "speak to a real person") == "speak to a real person"
    assert formatting.extra_evidence("anything", "") is None


def test_a_reason_does_not_repeat_the_trigger_name_shown_before_it() -> None:
    from hitl_console.engine.attention import reason_after_name

    assert reason_after_name("AI asked for a human", "AI asked for a human: “legal threat”") == "“legal threat”"
    # "person" restates "human"; the certainty stays
    name = "customer asked for a human"
    assert reason_after_name(name, "customer asked for a person (72% sure): “Hi”") == "(72% sure) “Hi”"
    assert reason_after_name(name, "customer asked for a person: “I want a human”") == "“I want a human”"
    assert reason_after_name("sentiment", "customer sentiment -0.61 at or below -0.50: “x”").startswith("customer sentiment")
    assert reason_after_name("sentiment", "customer sentiment -0.60 at or below -0.50") == (
        "customer sentiment -0.60 at or below -0.50"
    )


def test_key_flood_guard_drops_what_no_person_types_and_says_when_to_leave() -> None:
    from hitl_console.tui.keyguard import KeyFloodGuard

    guard = KeyFloodGuard(per_second=150, exit_after_s=5.0)
    # a fast typist with auto-repeat: 40 keys a second for 10 s, all admitted
    assert all(guard.admit(i / 40) for i in range(400))
    assert guard.dropped == 0 and guard.flooding_since is None
    # an echoed screen: 2,000 keys a second
    start = 20.0
    admitted = [guard.admit(start + i / 2000) for i in range(12_000)]  # 6 s
    assert admitted[:150] == [True] * 150 and not any(admitted[200:])
    assert guard.should_exit(start + 5.5)
    # calm again: a person's keys count after the flood has stopped
    later = start + 60
    assert guard.admit(later) and guard.flooding_since is None


def test_the_header_counts_stale_conversations_of_a_feed_that_is_down() -> None:
    from dataclasses import replace

    from hitl_console.tui.widgets.figures import figure_chips

    from .fixtures import FakeSession, floor_states

    figures = FakeSession(floor_states()).figures()
    plain = " ".join(c.plain for c in figure_chips(figures, "live"))
    assert "Stale" not in plain
    down = replace(figures, stale=3, stale_feeds=frozenset({"test"}))
    assert "Stale 3 (feed down)" in " ".join(c.plain for c in figure_chips(down, "live"))


@pytest.mark.parametrize("width", [78, 118, 158])
def test_the_header_keeps_its_height_whatever_the_escalation_reading_says(width: int) -> None:
    """'(warming up)' appearing once grew the header from 2 lines to 3."""
    from dataclasses import replace

    from hitl_console.tui.widgets.figures import figure_chips, lay_out

    from .fixtures import FakeSession, floor_states

    base = FakeSession(floor_states()).figures()
    readings = {
        "too few": replace(base, escalation_sample=3),
        "warming up": replace(base, escalation_sample=40, window_covered=False),
        "typical": replace(base, escalation_sample=40, escalation_rate=0.14),
        "HIGH": replace(base, escalation_sample=40, escalation_rate=0.45),
        "LOW": replace(base, escalation_sample=40, escalation_rate=0.01),
    }
    heights = set()
    for word, figures in readings.items():
        text = lay_out(figure_chips(figures, "live"), width).plain
        assert word in text
        heights.add(text.count("\n"))
    assert len(heights) == 1


def test_reasons_that_do_not_fit_give_way_whole() -> None:
    from hitl_console.tui.widgets.conversation_table import _reason_fit

    text = Text("legal threat · human first: complaint · customer upset")
    assert _reason_fit(text, 60).plain == text.plain
    assert _reason_fit(text.copy(), 40).plain == "legal threat · human first: complaint +1"
    assert _reason_fit(text.copy(), 22).plain == "legal threat +2"
    assert _reason_fit(Text("possible unauthorised charge"), 12).plain == "possible un…"
    cut = _reason_fit(Text("possible unauthorised charge · customer upset"), 14).plain
    assert cut.endswith("… +1") and len(cut) == 14


def test_the_header_and_the_metrics_screen_show_one_escalation_rate() -> None:
    """The floor said "Escal. 2% warming up" while metrics said "2.4% warming up"."""
    from dataclasses import replace

    from hitl_console.analysis.metrics import compute_metrics
    from hitl_console.tui.screens.metrics import figure_contents
    from hitl_console.tui.widgets.figures import figure_chips

    from .fixtures import FakeSession, floor_states

    assert [formatting.escalation_percent(v) for v in (0.024, 0.0996, 0.14, 1.0, None)] == ["2.4%", "10%", "14%", "100%", "–"]
    figures = replace(FakeSession(floor_states()).figures(), escalation_rate=0.024, escalation_sample=40, window_covered=False)
    header = " ".join(c.plain for c in figure_chips(figures, "live"))
    metrics = replace(compute_metrics([]), escalation_rate=0.024)
    card = figure_contents(metrics)["fig-escalation"].plain
    assert "Escal. 2.4% warming up" in header and "2.4%" in card
