"""``hitl-console`` / ``demo`` / ``replay``: every problem is found before the
app takes the terminal, printed plainly, and exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from hitl_console.cli import build_parser, main
from hitl_console.commands import console


def plan(argv: list[str]):
    args = build_parser().parse_args(argv)
    return console.plan_feeds(args, console.config_or_exit(args))


def test_no_feed_means_demo() -> None:
    assert plan([]).mode == "demo"
    demo = plan(["demo", "--speed", "3", "--seed", "9"])
    assert (demo.mode, demo.speed, demo.seed) == ("demo", 3.0, 9)


def test_feeds_and_tokens(monkeypatch) -> None:
    monkeypatch.setenv("SIM_TOKEN", "s3cret")
    live = plan(["--feed", "ws://127.0.0.1:9/", "--feed", "http://127.0.0.1:8/", "--token-env", "SIM_TOKEN"])
    assert live.mode == "live" and [s.token for s in live.specs] == ["s3cret", "s3cret"]


def test_replay_of_files(tmp_path: Path) -> None:
    recording = tmp_path / "floor.jsonl"
    recording.write_text("")
    replay = plan(["replay", str(recording), "--speed", "4"])
    assert replay.mode == "replay" and replay.specs[0].speed == 4.0
    assert plan(["--feed", str(recording)]).mode == "replay"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--feed", "ftp://example.com/feed"], "unsupported feed scheme"),
        (["--feed", "ws://127.0.0.1:9/", "--token-env", "NOT_SET_ANYWHERE"], "NOT_SET_ANYWHERE is not set"),
        (["replay", "/nonexistent/floor.jsonl"], "no such recording"),
        (["replay", "notes.txt"], "notes.txt"),
        (["demo", "--speed", "0"], "--speed must be positive"),
        (["--config", "/nonexistent/config.toml"], "no such config file"),
    ],
)
def test_problems_exit_2_before_the_app(argv, message, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SystemExit) as raised:
        code = main(argv)
        raise SystemExit(code)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_config_typo_is_named(tmp_path: Path, capsys) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[ui]\nthem = 'hitl-light'\n")
    with pytest.raises(SystemExit) as raised:
        main(["--config", str(config)])
    assert raised.value.code == 2
    assert "ui.them" in capsys.readouterr().err


def test_without_a_terminal_it_says_so(capsys) -> None:
    # pytest's stdin is not a TTY: the console refuses clearly instead of drawing nowhere.
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert "needs a terminal" in err and "hitl-console.log" in err
