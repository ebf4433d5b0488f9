"""``[ui.keymap]``: rebinding keys by binding id; the confirm chord and escape stay put."""

from __future__ import annotations

from hitl_console.cli import main
from hitl_console.config import Config, UiConfig
from hitl_console.tui.keymap import binding_ids, keymap_problems

from .fixtures import FakeSession, floor_states, make_app, settle


def test_every_rebindable_binding_has_a_unique_dotted_id_and_a_description() -> None:
    ids = binding_ids()
    assert {"floor.take_over", "approvals.approve", "approvals.deny", "conversation.release", "review.verdict_1"} <= set(ids)
    assert all("." in binding_id and description for binding_id, (_, description) in ids.items())


def test_a_typo_and_a_reserved_key_are_refused_with_the_nearest_ids() -> None:
    problems = keymap_problems({"floor.takeover": "T", "approvals.approve": "ctrl+y", "conversation.end": "escape"})
    assert len(problems) == 3
    assert "floor.takeover" in problems[0] and "floor.take_over" in problems[0]
    assert "ctrl+y" in problems[1] and "reserved" in problems[1]
    assert "escape" in problems[2]
    assert keymap_problems({"floor.take_over": "T,f2"}) == []


def test_the_console_refuses_a_bad_keymap_before_it_starts(tmp_path, capsys) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[ui.keymap]\n"floor.takeover" = "T"\n', encoding="utf-8")
    assert main(["--config", str(config), "--no-journal", "demo"]) == 2
    err = capsys.readouterr().err
    assert "floor.takeover" in err and "did you mean floor.take_over" in err


async def test_a_rebound_key_takes_over_and_the_old_one_no_longer_does() -> None:
    session = FakeSession(floor_states())
    session.config = Config(ui=UiConfig(keymap={"floor.take_over": "T"}))
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert type(app.screen).__name__ == "FloorScreen"
        await pilot.press("T")
        await settle(pilot)
        assert type(app.screen).__name__ == "HandoffScreen"
    assert [c for c in session.commands if c[0] == "takeover"] == []  # reading the summary sends nothing


def test_the_documented_ids_are_the_real_ones() -> None:
    """docs/configuration.md's keymap table is the bindings: every id, its default key
    and its name, and no id that no longer exists."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = doc.split("### Keymap", 1)[1].split("\n## ", 1)[0]
    rows = {m[1]: (m[2], m[3]) for m in re.finditer(r"^\| `([a-z_]+\.[a-z0-9_]+)` \| `([^`]*)` \| (.*?) \|$", section, re.M)}
    assert rows == binding_ids()
