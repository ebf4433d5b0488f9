"""The served console in a real browser: Debian's headless Chromium.

``hitl-console serve`` on 127.0.0.1 (the demo), Chromium driven over the
DevTools protocol (tests/browser.py) to the page; the floor must render in
xterm.js (read from the terminal's buffer, as the supervisor sees it), a
screenshot is taken, and keys typed in the page, with no click first, take
over a conversation (``t``, ``ctrl+y``) and write to the customer
(scripts/screenshots.py takes the README's, docs/images/browser-floor.png,
the same way).

Chromium missing is a failure, not a skip: ``.ci/install-chromium`` (run by
the README's test command and so by CI) installs it. On a machine where it
cannot be installed, ``HITL_SKIP_BROWSER=1`` skips this test, except in CI.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser import WEB_PORTS, Chromium, Served, chromium_path
from natsserver import free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def chromium() -> str:
    path = chromium_path()
    if path:
        return path
    message = (
        "Chromium is not installed: this test drives Debian's headless chromium. "
        "Run 'bash .ci/install-chromium' (as root; the README's test command does), or set CHROMIUM=/path/to/chromium"
    )
    if os.environ.get("HITL_SKIP_BROWSER") and not os.environ.get("CI"):
        pytest.skip(message + " (skipped: HITL_SKIP_BROWSER is set)")
    pytest.fail(message + "; HITL_SKIP_BROWSER=1 skips it outside CI")


def test_the_floor_renders_in_chromium(chromium: str, tmp_path: Path) -> None:
    served = Served(["--no-journal", "--agent", "alice"], free_port(WEB_PORTS), tmp_path / "data")
    browser = None
    try:
        browser = Chromium(chromium, tmp_path / "profile")  # both start at once: seconds saved
        browser.open_page(1280, 800)
        served.wait_listening()
        browser.navigate(served.url)
        screen = browser.wait_for_text("Conv.", timeout=40)  # the floor's column headers
        assert "DEMO" in screen and "Risk" in screen and "Holder" in screen, screen
        screen = browser.wait_for_text("c-10", timeout=30)  # and conversations on it
        assert re.search(r"c-1\d{3}\s+(WAITING|AI)", screen), screen
        assert "q Quit" in screen  # the footer, at the bottom of the page's terminal
        shot = browser.screenshot(tmp_path / "browser-floor.png")
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, f"screenshot of {len(data)} bytes"

        # The keyboard is in the console without a click: take over the top
        # conversation, confirm with ctrl+y, write to the customer.
        browser.press("t", text="t")
        browser.wait_for_text("ctrl+y join", timeout=30)  # the handoff summary's key line
        browser.press("y", code="KeyY", key_code=89, ctrl=True)
        held = browser.wait_for_text("held by YOU", timeout=30)
        assert "alice joined" in held, held
        browser.type_text("Hello from the browser")
        browser.press("Enter", text="\r", code="Enter", key_code=13)
        sent = browser.wait_for_text("Agent alice", timeout=30)  # the feed echoed it into the transcript
        assert "Hello from the browser" in sent, sent

        consoles = served.consoles()
        assert consoles, "no console behind the page"
        # SIGTERM to the server with the page still open ends the tab's console too
        assert served.stop() == 0, served.output()[-800:]
        still = [pid for pid in consoles if Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)]
        assert still == [], f"consoles outlived the server: {still}"
    finally:
        if browser is not None:
            browser.close()
        served.stop()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "gone"
