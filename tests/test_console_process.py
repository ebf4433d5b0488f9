"""The console as an operator runs it: a real process on a real pseudo-terminal.

An on-call operator's SSH session drops: the terminal hangs up and the
console must leave cleanly rather than spin (see the field notes on
dolphie #101). These tests start ``hitl-console demo`` on a pty at 80x24,
wait until it has drawn the floor, then hang up or terminate it and check
that it exits promptly with a clean status and leaves no traceback.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    """Everything the console drew until ``needle`` showed up (bounded)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the pty
            break
        if not chunk:
            break
        seen += chunk
        if needle in seen:
            return seen
    raise AssertionError(f"{needle!r} never appeared; last output: {seen[-400:]!r}")


def _drain(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    """Keep reading the pty (so the child never blocks on a full buffer) until it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return proc.returncode
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                os.read(fd, 65536)
            except OSError:
                pass
    return proc.poll()


def _spawn(args: list[str], data: Path, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    """``hitl-console ARGS`` on a fresh 80x24 pty; returns the process and the pty's master end."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    environ = dict(os.environ, TERM="xterm-256color", HITL_CONSOLE_DATA_DIR=str(data), COLUMNS="80", LINES="24", **env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hitl_console", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=environ,
        start_new_session=True,
    )
    os.close(slave)
    return proc, master


def _stop(proc: subprocess.Popen[bytes], master: int) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        status = _drain(master, proc, timeout=15)
        if status is None:
            proc.kill()
            proc.wait(5)
    os.close(master)
    return proc.returncode


def _events_in(path: Path) -> list[str]:
    """Feed names of the events in a journal (read-only; [] while it does not exist)."""
    if not path.exists():
        return []
    import sqlite3

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return [r[0] for r in db.execute("SELECT feed FROM events")]
        except sqlite3.OperationalError:  # tables not created yet
            return []


def _wait_for_events(path: Path, master: int, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        feeds = _events_in(path)
        if feeds:
            return feeds
        select.select([master], [], [], 0.2)
        try:
            os.read(master, 65536)  # keep the pty drained
        except OSError:
            pass
    raise AssertionError(f"no events journaled in {path} within {timeout} s")


def test_demo_keeps_to_its_own_journal_and_leaves_production_untouched(tmp_path: Path) -> None:
    """Issue 9, item 5: the demo used to journal its simulated conversations (and
    the verdicts given on them) into the production journal."""
    data = tmp_path / "data"
    proc, master = _spawn(["demo", "--agent", "oncall", "--speed", "4"], data)
    try:
        _read_until(master, b"DEMO", timeout=30)
        feeds = _wait_for_events(data / "demo.sqlite3", master)
        assert feeds and all(f.startswith("demo-") for f in feeds)
    finally:
        assert _stop(proc, master) == 0
    assert not (data / "journal.sqlite3").exists()
    assert "journal=" + str(data / "demo.sqlite3") in (data / "hitl-console.log").read_text(encoding="utf-8")
    # ... so a report on the production journal finds none of it.
    report = subprocess.run(
        [sys.executable, "-m", "hitl_console", "report", "--journal"],
        env=dict(os.environ, HITL_CONSOLE_DATA_DIR=str(data)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert report.returncode == 1 and "no journal at" in report.stderr


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_the_console_exits_cleanly_when_its_terminal_goes_away(tmp_path: Path, sig: signal.Signals) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", HITL_CONSOLE_DATA_DIR=str(tmp_path / "data"), COLUMNS="80", LINES="24")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hitl_console", "demo", "--agent", "oncall"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        drawn = _read_until(master, b"DEMO", timeout=30)
        assert b"Traceback" not in drawn
        proc.send_signal(sig)
        status = _drain(master, proc, timeout=15)
        assert status == 0, f"exit status {status}"
        log = (tmp_path / "data" / "hitl-console.log").read_text(encoding="utf-8")
        assert "exiting" in log and "Traceback" not in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        os.close(master)
