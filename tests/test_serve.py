"""``hitl-console serve``: the console as a web page (textual-serve).

Unit tests of what is checked before the server listens (loopback, the
console's own command line), and an end-to-end test on real processes: a
token-protected simulator, ``serve`` on 127.0.0.1 with ``--feed`` and
``--token-env``, and a WebSocket client in a browser's place. The page and
the screen stream never carry the token; a foreign page's WebSocket is
refused; closing the tab's socket ends its console. The same thing in a
real Chromium is tests/test_serve_browser.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from browser import WEB_PORTS, Served
from natsserver import free_port
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from hitl_console.cli import build_parser, main
from hitl_console.commands import console, serve

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]")


def _args(argv: list[str]):
    return build_parser().parse_args(argv)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("", False),
        ("::", False),
        ("192.168.1.5", False),
        ("console.example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert serve.is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "console.example.com"])
def test_a_non_loopback_host_is_refused_without_the_flag(host: str, capsys, monkeypatch) -> None:
    started: list[object] = []
    monkeypatch.setattr("hitl_console.tui.web.ConsoleServer.serve", lambda self: started.append(self))
    assert main(["serve", "--host", host, "--port", "19899"]) == 2
    err = capsys.readouterr().err
    assert f"--host {host} is not a loopback address" in err
    assert "reverse proxy" in err and "docs/deployment.md" in err and "--allow-remote" in err
    assert started == []


def test_allow_remote_binds_and_warns(capsys, monkeypatch) -> None:
    started: list[object] = []
    monkeypatch.setattr("hitl_console.tui.web.ConsoleServer.serve", lambda self: started.append(self))
    assert main(["serve", "--host", "0.0.0.0", "--port", "19899", "--allow-remote", "--public-url", "https://console.example.com/"]) == 0
    (server,) = started
    assert server.host == "0.0.0.0" and server.port == 19899
    # behind the proxy only the proxy's page may drive the console
    assert server.allowed_origins == {"https://console.example.com"}
    assert server.public_url == "https://console.example.com"
    assert "not loopback" in capsys.readouterr().err


def test_loopback_origins_cover_its_names() -> None:
    assert serve.allowed_origins("127.0.0.1", 8000, None) == [
        "http://127.0.0.1:8000",
        "http://[::1]:8000",
        "http://localhost:8000",
    ]
    assert "http://[::1]:8000" in serve.allowed_origins("::1", 8000, None)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--feed", "ftp://example.com/feed"], "unsupported feed scheme"),
        (["serve", "--feed", "ws://127.0.0.1:9/", "--token-env", "NOT_SET_ANYWHERE"], "NOT_SET_ANYWHERE is not set"),
        (["serve", "--feed", "/nonexistent/floor.jsonl"], "no such recording"),
        (["serve", "--agent", " "], "--agent must name someone"),
        (["serve", "--port", "0"], "--port must be between 1 and 65535"),
        (["serve", "--public-url", "ftp://x"], "--public-url must be an http"),
        (["serve", "--config", "/nonexistent/config.toml"], "no such config file"),
    ],
)
def test_problems_exit_2_before_listening(argv, message, capsys, monkeypatch) -> None:
    started: list[object] = []
    monkeypatch.setattr("hitl_console.tui.web.ConsoleServer.serve", lambda self: started.append(self))
    with pytest.raises(SystemExit) as raised:
        raise SystemExit(main(argv))
    assert raised.value.code == 2
    assert message in capsys.readouterr().err
    assert started == []


def test_each_tab_runs_the_terminal_consoles_command_line(tmp_path: Path, monkeypatch) -> None:
    """What ``serve`` hands textual-serve parses to the very plan the console
    itself would make from the same options (so the browser shows the same
    floor), with paths made absolute and the token only named."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIM_TOKEN", "s3cret-token-xyz")
    (tmp_path / "floor.jsonl").write_text("")
    (tmp_path / "c.toml").write_text("")
    served = _args(
        ["serve", "--config", "c.toml", "--feed", "ws://127.0.0.1:9/", "--feed", "floor.jsonl", "--token-env", "SIM_TOKEN",
         "--agent", "alice", "--theme", "hitl-light", "--no-mouse", "--no-journal", "--port", "19899"]
    )
    argv = serve.console_argv(served)
    assert "s3cret-token-xyz" not in " ".join(argv)
    assert argv[argv.index("--config") + 1] == str(tmp_path / "c.toml")
    assert str(tmp_path / "floor.jsonl") in argv
    terminal = _args(argv)
    assert terminal.command is None  # the console itself, not a subcommand
    ours, theirs = console.prepare(served), console.prepare(terminal)
    assert (ours.plan.mode, ours.agent, ours.journal_path) == (theirs.plan.mode, theirs.agent, theirs.journal_path) == ("live", "alice", ":memory:")
    def where(plan):  # the same feeds (a recording named relative to here, or absolute)
        return [(s.url if "://" in s.url else str(Path(s.url).resolve()), s.token) for s in plan.specs]

    assert where(ours.plan) == where(theirs.plan)
    assert [s.token for s in ours.plan.specs] == ["s3cret-token-xyz"] * 2
    assert (terminal.theme, terminal.no_mouse) == ("hitl-light", True)
    command = serve.console_command(served)
    assert command.startswith(sys.executable) and "-m hitl_console" in command


def test_demo_by_default_and_options_before_the_subcommand() -> None:
    assert serve.console_argv(_args(["serve"])) == []
    assert console.prepare(_args(["serve"])).plan.mode == "demo"
    before = _args(["--feed", "ws://127.0.0.1:9/", "--agent", "bob", "serve"])
    assert serve.console_argv(before) == ["--agent", "bob", "--feed", "ws://127.0.0.1:9/"]


def test_without_the_web_extra_it_says_what_to_install(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "hitl_console.tui.web", None)  # import fails as if textual-serve were missing
    assert main(["serve", "--port", "19899"]) == 2
    assert "pip install 'hitl-console[web]'" in capsys.readouterr().err


# ------------------------------------------------------------ real processes


def _screen_text(data: bytes) -> str:
    return ANSI.sub(b"", data).decode("utf-8", "replace")


@pytest.mark.slow
def test_served_console_on_a_token_feed(tmp_path: Path) -> None:
    token = "s3cret-token-4bd1e2"
    sim_port, port = free_port(WEB_PORTS), free_port(WEB_PORTS)
    while sim_port + 1 == port or port == sim_port:
        port = free_port(WEB_PORTS)
    sim = subprocess.Popen(
        [sys.executable, "-m", "hitl_console", "simulate", "--port", str(sim_port), "--token", token, "--rate", "3", "--pace", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    served = None
    try:
        assert sim.stdout is not None
        ws_url = sim.stdout.readline().split()[1]  # "WebSocket: ws://127.0.0.1:P/...  HTTP: ..."
        served = Served(
            ["--feed", ws_url, "--token-env", "SIM_TOKEN", "--no-journal", "--agent", "alice"],
            port,
            tmp_path / "data",
            env={"SIM_TOKEN": token},
        )
        served.wait_listening()

        page = httpx.get(served.url, timeout=10)
        assert page.status_code == 200
        assert token not in page.text and ws_url not in page.text and "hitl-console" in page.text
        assert f"ws://127.0.0.1:{port}/ws" in page.text
        assert "fonts.googleapis.com" not in page.text  # nothing fetched from elsewhere
        assert ".xterm-helper-textarea" in page.text and "focus()" in page.text  # keys go to the console at once
        assert page.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]

        socket_url = f"ws://127.0.0.1:{port}/ws?width=120&height=36"
        for origin in ("http://evil.example", None):  # another site's page; a client that names none
            with pytest.raises(InvalidStatus) as refused:
                connect(socket_url, origin=origin, open_timeout=10).close()  # type: ignore[arg-type]
            assert refused.value.response.status_code == 403

        seen = b""
        with connect(socket_url, origin=f"http://127.0.0.1:{port}", open_timeout=10, max_size=None) as tab:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (re.search(r"c-1\d{3}", _screen_text(seen)) and "live" in _screen_text(seen)):
                try:
                    message = tab.recv(timeout=1)
                except TimeoutError:
                    continue
                seen += message if isinstance(message, bytes) else message.encode()
            text = _screen_text(seen)
            assert "Active" in text and re.search(r"c-1\d{3}", text), f"no floor on the page: {text[-600:]!r}"
            assert "feed" in text and "live" in text
            assert served.consoles(), "no console process behind the tab"
        assert token not in text

        deadline = time.monotonic() + 15
        while served.consoles() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert served.consoles() == [], "the tab's console outlived its closed socket"
        assert served.stop() == 0
        output = served.output()
        assert token not in output and "serve: the console (live, 1 feed(s))" in output
    finally:
        if served is not None:
            served.stop()
        sim.terminate()
        sim.wait(timeout=10)


def _read_until(tab, pattern: str, timeout: float) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not re.search(pattern, _screen_text(seen)):
        try:
            message = tab.recv(timeout=1)
        except TimeoutError:
            continue
        seen += message if isinstance(message, bytes) else message.encode()
    return _screen_text(seen)


@pytest.mark.slow
def test_a_tab_whose_console_cannot_start_says_why(tmp_path: Path) -> None:
    """The second console on a journal (another tab, another terminal) is
    refused; in a browser the reason is shown in the tab, not only in the
    server's log, and ``q`` closes it."""
    import json

    from hitl_console.store.journal import Journal

    journal = tmp_path / "floor.sqlite3"
    holder = Journal(str(journal), lock=True)  # the console already running on this journal
    served = Served(["--journal", str(journal)], free_port(WEB_PORTS), tmp_path / "data")
    try:
        served.wait_listening()
        with connect(f"ws://127.0.0.1:{served.port}/ws?width=100&height=30", origin=served.url.rstrip("/"), open_timeout=10) as tab:
            text = _read_until(tab, r"--no-journal", 30)  # one word: the message wraps where its path length says
            assert "cannot start" in text and "journal" in text and "--no-journal" in text, text[-600:]
            tab.send(json.dumps(["stdin", "q"]))
            deadline = time.monotonic() + 15
            while served.consoles() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert served.consoles() == []
    finally:
        served.stop()
        holder.close()


async def test_notice_shows_the_message_as_text_and_q_closes() -> None:
    from hitl_console.tui.notice import NoticeApp

    app = NoticeApp("journal: [bold]/tmp/x[/bold] is in use")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "[bold]/tmp/x[/bold]" in app.export_screenshot().replace("&#160;", " ")  # never markup
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 2
