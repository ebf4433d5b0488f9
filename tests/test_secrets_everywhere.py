"""No token visible, in any URL form, in any output (issue 9 item 6, hostile tester).

The URL forms the issue listed passed; these are the ones a hostile tester
found after it: ``;`` as a query separator, a percent-encoded name
(``%74oken``), an encoded ``=`` (``token%3D...``), quoted values, a bare
fragment or query quoted in prose, ``wss//`` parsed as a *file* whose name
(query and fragment included) was printed, short credential names (``k``,
``t``, ``pw``, ``otp``, ``hmac``, ``ticket``...). Checked by the masking
functions, then through real processes: ``check-feed`` (text and JSON),
``record``, the console on a pty (screen, log file, journal) and config errors.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from feedserver import WsFeedServer, make_events
from hostile_support import FeedThread, Terminal, run_cli

from hitl_console.redaction import redact, safe_url

FORMS = [
    "ws://h/feed?a=1;token=SEC01", "ws://h/feed?%74oken=SEC02", "ws://h/feed?tok%65n=SEC03", "ws://h/feed?token%3DSEC04",
    'ws://h/feed?token="SEC05"', "ws://h/feed?token[]=SEC06", "ws://h/feed#SEC07", "ws://h/feed?SEC08",
    "ws://h/feed?k=SEC09", "ws://h/feed?t=SEC10", "ws://h/feed?pw=SEC11", "ws://h/feed?otp=SEC12", "ws://h/feed?hmac=SEC13",
    "ws://h/feed?ticket=SEC14", "ws://h/feed?passphrase=SEC15", "ws://h/feed?pass_phrase=SEC16", "ws://h/feed?sessionid=SEC17",
    "ws://h/feed?refresh=SEC18", "ws://h/feed;token=SEC19", "ws://h/feed?authorization=Bearer SEC20",
    "ws://h/feed?Authorization=Bearer%20SEC21", "wss//h/feed#SEC22", "wss//h/feed?sig=SEC23", "ws:/h/feed?token=SEC24",
    "ws://h/feed?token=SEC25)", "ws://u:SEC26@h/feed#access_token=SEC27", "ws://h/feed?api%5Fkey=SEC28",
    "ws://h/feed?X-Amz-Signature=SEC29&X-Amz-Credential=SEC30", "nats://u:SEC31@h:4222/S", "ws://h/feed?accessToken=SEC32",
]


@pytest.mark.parametrize("url", FORMS)
def test_every_url_form_is_masked_alone_and_in_prose(url: str) -> None:
    for shown in (safe_url(url), redact(url), redact(f"cannot connect to {url}: refused"), redact(f"url '{url}' failed")):
        assert "SEC" not in shown, shown


def test_masking_changes_nothing_else() -> None:
    for text in ("ws://127.0.0.1:8765/feed?since=3", "ws://h/feed?since=3&x=a%2Fb", "see http://h/x?y=1, then", "/tmp/rec.jsonl",
                 "HTTP 401 on the WebSocket handshake: the bearer token was refused or is missing"):
        assert redact(text) == text
        if "://" in text:
            assert safe_url(text) == text


def _no_secret(where: str, text: str) -> None:
    assert "SEC" not in text, f"{where}: {text[max(0, text.find('SEC') - 200):text.find('SEC') + 40]!r}"


@pytest.mark.slow
def test_check_feed_and_record_never_print_a_token(tmp_path: Path) -> None:
    """Real processes on a real feed, a refused port and typo'd schemes."""
    data = tmp_path / "data"
    with FeedThread(WsFeedServer(make_events(3))) as feed:
        port = feed.port
        urls = [
            f"ws://127.0.0.1:{port}/feed?a=1;token=SEC01",
            f"ws://u:SEC02@127.0.0.1:{port}/feed#access_token=SEC03",
            f"wss//127.0.0.1:{port}/feed?sig=SEC04#SEC05",
            f"ws:/127.0.0.1:{port}/feed?%74oken=SEC06",
            "ws://127.0.0.1:9/feed?k=SEC07",
        ]
        env = {"TOK": "SECTOKEN"}
        for url in urls:
            for args in (
                ["check-feed", url, "--timeout", "1.5"],
                ["check-feed", url, "--timeout", "1.5", "--json", "--token-env", "TOK"],
                ["record", "--feed", url, "-o", str(tmp_path / "r.jsonl"), "--idle-exit", "1", "--token-env", "TOK"],
            ):
                done = run_cli(args, data, env=env)
                _no_secret(f"{args} stdout", done.stdout)
                _no_secret(f"{args} stderr", done.stderr)
                assert "Traceback" not in done.stderr, done.stderr
        typo = run_cli(["check-feed", f"wss//127.0.0.1:{port}/feed?sig=SEC04#SEC05"], data)
        assert typo.returncode == 2 and "typo in the scheme" in typo.stderr, typo.stderr
        # A fragment is never sent: the feed is read (it used to FAIL: "fragment identifier is meaningless").
        fragment = run_cli(["check-feed", urls[1], "--timeout", "1.5"], data)
        assert "accepted 3 events" in fragment.stdout, fragment.stdout + fragment.stderr


@pytest.mark.slow
def test_the_console_never_shows_logs_or_journals_a_token(tmp_path: Path) -> None:
    """The console on a pty with three leaky feeds (one live, one refused, one HTTP on
    a WebSocket port): the screen, the alerts screen, the log file and every text
    column of the journal hold no secret, and the data files are private."""
    data = tmp_path / "data"
    with FeedThread(WsFeedServer(make_events(3))) as feed:
        args = [
            "--agent", "ana",
            "--feed", f"ws://u:SEC01@127.0.0.1:{feed.port}/feed?a=1;token=SEC02#access_token=SEC03",
            "--feed", "ws://127.0.0.1:9/feed?k=SEC04",
            "--feed", f"http://127.0.0.1:{feed.port}/events?%74oken=SEC05",
        ]
        with Terminal(args, data) as term:
            assert term.wait_for(b"unreachable", 40), "no alert for the refused feed"
            term.press("L")
            assert term.alive
            screen = term.raw.decode("utf-8", "replace")
    _no_secret("screen", screen)
    _no_secret("log", (data / "hitl-console.log").read_text(encoding="utf-8"))
    with sqlite3.connect(f"file:{data / 'journal.sqlite3'}?mode=ro", uri=True) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in db.execute(f"SELECT * FROM {table}"):  # noqa: S608 (our own table names)
                _no_secret(f"journal {table}", repr(row))
    assert os.stat(data).st_mode & 0o777 == 0o700
    for name in ("journal.sqlite3", "hitl-console.log"):
        assert os.stat(data / name).st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_config_errors_and_version_never_print_a_token(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "c.toml"
    config.write_text(
        '[[feeds]]\nurl = "ws://u:SEC01@h/feed?token=SEC02"\ntoken = "SEC03"\nspeed = -1\ntokn = "SEC04"\n'
        '[team]\nnats = "wss://u:SEC05@h/?token=SEC06"\n',
        encoding="utf-8",
    )
    for args in (["--config", str(config), "check-feed", "x.jsonl"], ["--version"]):
        done = run_cli(args, data, env={"HITL_CONSOLE_CONFIG": str(config)})
        _no_secret(f"{args}", done.stdout + done.stderr)
        assert "Traceback" not in done.stderr
    bad = run_cli(["--config", str(config), "check-feed", "x.jsonl"], data)
    assert bad.returncode == 2 and "feeds.0.tokn: unknown key" in bad.stderr, bad.stderr
