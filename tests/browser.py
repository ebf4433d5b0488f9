"""A real headless Chromium, driven over the DevTools protocol, for the web tests.

Debian's ``chromium`` package (``.ci/install-chromium`` installs it), talked
to over ``--remote-debugging-pipe``: JSON messages on file descriptors 3 and
4, so the browser opens no port of its own. Started with the flags that keep
it off the network (no background fetches, no sync, no component updates),
in a fresh profile, and killed with its process group.

textual-serve draws into xterm.js on a canvas, so the page's text is not in
the DOM: a script injected before the page loads catches the xterm.js
``Terminal`` as textual.js stores it (``this.terminal = new Terminal(...)``
runs through a setter on ``Object.prototype``), and :meth:`Chromium.screen_text`
reads its buffer, line by line, as the supervisor sees it.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

WEB_PORTS = range(19800, 19900)  # the web tests' servers (nats tests: 19400-19499)

FLAGS = [
    "--headless",
    "--no-sandbox",  # root in CI; the profile is a throw-away temp dir
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
]

CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer && value.buffer.active) { window.__hitlTerminal = value; }
  },
});
"""

SCREEN_TEXT = """
(() => {
  const term = window.__hitlTerminal;
  if (!term) { return null; }
  const buffer = term.buffer.active, lines = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
})()
"""


def chromium_path() -> str | None:
    """``$CHROMIUM``, else Debian's ``chromium`` (or ``chromium-browser``) on PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


class BrowserError(RuntimeError):
    """Chromium did not start, died, or did not answer in time."""


class Chromium:
    """One headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, executable: str, profile: Path, width: int = 1280, height: int = 800) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_pipes() -> None:  # in the child: the protocol's fds 3 (commands in) and 4 (replies out)
            commands, replies = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(commands, 3)  # via fds above 10: either pipe end may already be 3 or 4
            os.dup2(replies, 4)

        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(profile / "chromium.log", "wb"),
            preexec_fn=wire_pipes,
            pass_fds=(3, 4),  # kept open through exec (preexec_fn runs before the others are closed)
            start_new_session=True,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.session_id: str | None = None
        self.log_path = profile / "chromium.log"

    # ------------------------------------------------------------ protocol

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 15.0, session: bool = True) -> dict[str, Any]:
        """One command and its reply (events that arrive meanwhile are dropped)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session_id:
            message["sessionId"] = self.session_id
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self._read(deadline)
            if reply is not None and reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
        raise BrowserError(f"{method}: no answer from Chromium in {timeout:g} s ({self._tail()})")

    def _read(self, deadline: float) -> dict[str, Any] | None:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._from_browser], [], [], min(left, 0.5))
            if not ready:
                if self.process.poll() is not None:
                    raise BrowserError(f"Chromium exited with status {self.process.returncode} ({self._tail()})")
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed the DevTools pipe ({self._tail()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def _tail(self) -> str:
        try:
            return "log: " + self.log_path.read_text(errors="replace")[-400:].strip()
        except OSError:
            return "no log"

    # ------------------------------------------------------------ page

    def open_page(self, width: int = 1280, height: int = 800) -> None:
        """Attach to a new blank page and arm the terminal catcher for every document."""
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session_id = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.send("Emulation.setFocusEmulationEnabled", {"enabled": True})  # a headless page never has window focus
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source": CATCH_TERMINAL})

    def navigate(self, url: str) -> None:
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"{url}: {result['errorText']}")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def screen_text(self) -> str | None:
        """The terminal's screen as text, or None while xterm.js has not started."""
        return self.evaluate(SCREEN_TEXT)

    def wait_for_text(self, needle: str, timeout: float) -> str:
        """Poll the screen until ``needle`` shows; the screen as last read otherwise fails."""
        deadline = time.monotonic() + timeout
        text: str | None = None
        while time.monotonic() < deadline:
            text = self.screen_text()
            if text and needle in text:
                return text
            time.sleep(0.2)
        raise BrowserError(f"{needle!r} never appeared on the page in {timeout:g} s; the screen read: {text!r}")

    def press(self, key: str, text: str | None = None, code: str | None = None, key_code: int | None = None, ctrl: bool = False) -> None:
        """A key press as the keyboard makes it (keyDown with its text, then keyUp).

        ``ctrl``: with Control held (xterm.js reads ``keyCode`` for those:
        pass ``key_code``, e.g. 89 for ctrl+y)."""
        down: dict[str, Any] = {"type": "keyDown", "key": key}
        if text is not None and not ctrl:
            down["text"] = text
        if code is not None:
            down["code"] = code
        if key_code is not None:
            down["windowsVirtualKeyCode"] = down["nativeVirtualKeyCode"] = key_code
        if ctrl:
            down["modifiers"] = 2
        self.send("Input.dispatchKeyEvent", down)
        up = {k: v for k, v in down.items() if k != "text"}
        up["type"] = "keyUp"
        self.send("Input.dispatchKeyEvent", up)

    def type_text(self, text: str) -> None:
        """Characters as typed, one key each."""
        for char in text:
            self.press(char, text=char)

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                try:
                    self.send("Browser.close", timeout=3.0, session=False)
                except (BrowserError, OSError):
                    pass
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=5)
        finally:
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass


# ------------------------------------------------------------ the server under test


class Served:
    """``hitl-console serve ARGS`` as a real process on 127.0.0.1, until :meth:`stop`."""

    def __init__(self, args: list[str], port: int, data: Path, env: dict[str, str] | None = None) -> None:
        import sys

        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.out = data / "serve.out"
        data.mkdir(parents=True, exist_ok=True)
        environ = dict(os.environ, HITL_CONSOLE_DATA_DIR=str(data), **(env or {}))
        environ.pop("TEXTUAL_DRIVER", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hitl_console", "serve", "--port", str(port), *args],
            stdin=subprocess.DEVNULL,
            stdout=open(self.out, "wb"),
            stderr=subprocess.STDOUT,
            env=environ,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def wait_listening(self, timeout: float = 20.0) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with status {self.process.returncode}: {self.output()[-800:]}")
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError(f"serve never listened on {self.port}: {self.output()[-800:]}")

    def consoles(self) -> list[int]:
        """The pids of the console processes the server started (its descendants)."""
        found: list[int] = []
        todo = [self.process.pid]
        while todo:
            pid = todo.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                todo.append(child)
        return found

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, as a service manager stops it; SIGKILL the group if it does not go."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
                return None
        return self.process.returncode
