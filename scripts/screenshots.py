"""Regenerate the README's pictures of the console, on the demo.

    .venv/bin/python scripts/screenshots.py              # docs/images/*.svg (Textual)
    .venv/bin/python scripts/screenshots.py --browser    # and docs/images/browser-floor.png

The SVGs are Textual's own screenshots (``App.run_test`` and
``save_screenshot``) of the console on the built-in demo (the in-process
simulator, seed 7, run faster than real time, an in-memory journal): the
floor at 120x36 and at 80x24 (the on-call operator's SSH session), the
handoff summary of the conversation at the top of the floor, and that
conversation after joining it and writing to the customer. The browser PNG
is ``hitl-console serve`` in Debian's headless Chromium, taken the way
tests/test_serve_browser.py drives it.

Toasts are cleared just before each shot, so that the picture shows the
screen under them. Times and figures are those of the run: each run differs
a little, so regenerate all the pictures together.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
AGENT = "alice"
MESSAGE = "Hi, I'm Alice, a supervisor. I'm looking at this with you now."


async def _wait(pilot, ready: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.1)


async def _shot(pilot, out: Path, name: str) -> Path:
    app = pilot.app
    app.clear_notifications()
    app.refresh_now()
    await pilot.pause(0.3)
    path = Path(app.save_screenshot(filename=f"{name}.svg", path=str(out)))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


async def textual_shots(out: Path, only: set[str] | None = None, speed: float = 4.0) -> list[Path]:
    """The floor, the handoff and a held conversation, on the demo."""
    from hitl_console.config import Config
    from hitl_console.session import LiveSession
    from hitl_console.store.journal import Journal
    from hitl_console.tui.app import HitlApp
    from hitl_console.tui.widgets.conversation_table import ConversationTable

    wanted = only or {"floor", "floor-80x24", "handoff", "takeover"}
    written: list[Path] = []
    config = Config()

    def new_app() -> tuple[HitlApp, dict]:
        box: dict = {}

        async def connect() -> LiveSession:
            box["session"] = await LiveSession.demo(config, agent=AGENT, journal=Journal(":memory:"), speed=speed, seed=7)
            return box["session"]

        return HitlApp(connect=connect, config=config, watch_terminal=False), box

    def waiting(box: dict, at_least: int) -> bool:
        session = box.get("session")
        return session is not None and sum(s.holder == "waiting" for s in session.engine.active()) >= at_least

    if "floor-80x24" in wanted:
        app, box = new_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await _wait(pilot, lambda: waiting(box, 2), "two waiting customers", 90)
            written.append(await _shot(pilot, out, "floor-80x24"))

    if wanted & {"floor", "handoff", "takeover"}:
        app, box = new_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await _wait(pilot, lambda: waiting(box, 3), "three waiting customers", 90)
            if "floor" in wanted:
                written.append(await _shot(pilot, out, "floor"))
            if wanted & {"handoff", "takeover"}:
                table = app.screen.query_one(ConversationTable)
                cid = table.row_ids[0]  # the customer the floor ranks first
                state = box["session"].engine.conversations[cid]
                app.open_conversation(cid, takeover=True)
                await _wait(pilot, lambda: type(app.screen).__name__ == "HandoffScreen", "the handoff summary", 20)
                if "handoff" in wanted:
                    written.append(await _shot(pilot, out, "handoff"))
                if "takeover" in wanted:
                    await pilot.press("ctrl+y")
                    await _wait(pilot, lambda: state.holder == "human" and state.agent == AGENT, "the join", 20)
                    await _wait(pilot, lambda: type(app.screen).__name__ == "ConversationScreen", "the conversation", 20)
                    await pilot.pause(0.3)
                    await pilot.press(*MESSAGE, "enter")
                    await _wait(pilot, lambda: any(t.role == "human" for t in state.turns), "the message echoed", 20)
                    sent = max(i for i, t in enumerate(state.turns) if t.role == "human")
                    try:
                        await _wait(pilot, lambda: any(t.role == "customer" for t in state.turns[sent + 1 :]), "a reply", 20)
                    except SystemExit:
                        print("screenshots: no reply from the customer in 20 s; taking the picture without one")
                    written.append(await _shot(pilot, out, "takeover"))
                    await pilot.press("escape", "r")  # hand it back, as a supervisor would before leaving
                    await pilot.pause(0.3)
    return written


def browser_shot(out: Path) -> Path:
    """``hitl-console serve`` (the demo) in Debian's headless Chromium, as a PNG."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import WEB_PORTS, Chromium, Served, chromium_path
    from natsserver import free_port

    chromium = chromium_path()
    if not chromium:
        raise SystemExit("screenshots: --browser needs Chromium (bash .ci/install-chromium)")
    with tempfile.TemporaryDirectory(prefix="hitl-shots-") as scratch:
        served = Served(["--no-journal"], free_port(WEB_PORTS), Path(scratch) / "data")
        browser = Chromium(chromium, Path(scratch) / "profile", 1280, 800)
        try:
            browser.open_page(1280, 800)
            served.wait_listening()
            browser.navigate(served.url)
            browser.wait_for_text("Conv.", timeout=60)
            browser.wait_for_text("WAITING", timeout=90)
            time.sleep(1.0)
            path = browser.screenshot(out / "browser-floor.png")
        finally:
            browser.close()
            served.stop()
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="where to write (default docs/images)")
    parser.add_argument("--only", action="append", choices=["floor", "floor-80x24", "handoff", "takeover"], help="one picture; repeatable")
    parser.add_argument("--browser", action="store_true", help="also the browser picture (serve in headless Chromium)")
    parser.add_argument("--speed", type=float, default=4.0, help="demo speed (default 4)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    # Nothing of the user's: a throw-away data directory, no config file.
    with tempfile.TemporaryDirectory(prefix="hitl-shots-data-") as scratch:
        os.environ["HITL_CONSOLE_DATA_DIR"] = scratch
        os.environ["HITL_CONSOLE_CONFIG"] = str(Path(scratch) / "no-config.toml")
        asyncio.run(textual_shots(args.out, set(args.only) if args.only else None, args.speed))
        if args.browser:
            browser_shot(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
