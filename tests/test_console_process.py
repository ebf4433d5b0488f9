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


# ---------------------------------------------------------------- stray keys on a real terminal

MOVES_MONEY_OR_OWNERSHIP = {"approve", "deny", "release", "end", "takeover"}


class _SimulatorThread:
    """A real simulator (WebSocket on 127.0.0.1) on its own event loop, noting every command op it gets."""

    def __init__(self) -> None:
        import asyncio
        import threading

        from hitl_console.sim.server import SimulatorServer

        self.ops: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.server = SimulatorServer("127.0.0.1", 0, None, rate=0.5, seed=5, pace=0.2, initial_conversations=6, mix={"approval": 0.6, "angry": 0.2, "ask_human": 0.2})
        handle = self.server.platform.handle_command

        def recording(command, *, reply=None, now=None):
            if isinstance(command, dict):
                self.ops.append(str(command.get("op")))
            return handle(command, reply=reply, now=now)

        self.server.platform.handle_command = recording  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> "_SimulatorThread":
        import asyncio

        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(15)
        return self

    def __exit__(self, *exc: object) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(15)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _console_on(tmp_path: Path, url: str) -> tuple[int, subprocess.Popen[bytes]]:
    """The live console on ``url`` as agent ``oncall``, no journal, on a fresh 80x24 pty."""
    proc, master = _spawn(["--no-journal", "--agent", "oncall", "--feed", url], tmp_path / "data")
    return master, proc


def _typed_stream(seed: int, count: int) -> list[bytes]:
    """Sentences, random printable characters, enter (CR) and escape, as a terminal sends them."""
    import random
    import string

    rng = random.Random(seed)
    sentences = ["yes approve the refund", "ok deny it and end the chat", "hand back to the AI please", "t", "A", "a d r e y"]
    out: list[bytes] = []
    while len(out) < count:
        roll = rng.random()
        if roll < 0.4:
            out += [c.encode() for c in rng.choice(sentences)]
        elif roll < 0.75:
            out += [rng.choice(string.printable[:95]).encode() for _ in range(rng.randint(1, 10))]
        elif roll < 0.9:
            out.append(b"\r")
        else:
            out.append(b"\x1b")
    return out[:count]


def test_typing_on_a_real_terminal_never_moves_money_or_ownership(tmp_path: Path) -> None:
    """A real console process on a pty at 80x24, on a real simulator: ~300 typed keys at a
    person's pace send none of approve/deny/release/end/takeover; then ``t`` and ``ctrl+y``
    do take over (the keys reach the console, and ctrl+y is what it takes)."""
    with _SimulatorThread() as sim:
        master, proc = _console_on(tmp_path, sim.server.ws_url)
        try:
            _read_until(master, b"Approvals", timeout=30)
            for key in _typed_stream(seed=9, count=300):
                os.write(master, key)
                # about 40 keys a second; escape gets room to be read as a lone escape
                deadline = time.monotonic() + (0.08 if key == b"\x1b" else 0.025)
                while time.monotonic() < deadline:
                    ready, _, _ = select.select([master], [], [], 0.01)
                    if ready:
                        try:
                            os.read(master, 65536)
                        except OSError:
                            break
                assert proc.poll() is None or proc.returncode in (0, None), "the console exited"
                if proc.poll() is not None:
                    break  # 'q' then 'y' quits: fine, nothing may have been sent
            _drain(master, proc, timeout=1.5)
            assert not MOVES_MONEY_OR_OWNERSHIP & set(sim.ops), sim.ops
            if proc.poll() is None:
                # positive control: back to the floor, take over the first row with ctrl+y
                # (bounded retries: on a loaded machine a key can land before its screen is up)
                for _attempt in range(3):
                    for key in (b"\x1b",) * 6:
                        os.write(master, key)
                        _drain(master, proc, timeout=0.15)
                    os.write(master, b"t")
                    try:
                        _read_until(master, b"join", timeout=8)  # the handoff summary's key line
                    except AssertionError:
                        continue
                    _drain(master, proc, timeout=0.3)
                    os.write(master, b"\x19")  # ctrl+y
                    deadline = time.monotonic() + 10
                    while "takeover" not in sim.ops and time.monotonic() < deadline:
                        _drain(master, proc, timeout=0.2)
                    if "takeover" in sim.ops:
                        break
                assert "takeover" in sim.ops, sim.ops
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            os.close(master)


def test_a_terminal_echoing_the_console_back_is_not_read_as_keys(tmp_path: Path) -> None:
    """What ``script`` with a closed stdin did: everything the console draws comes back
    as its input. Nothing may leave, and the console leaves with a message."""
    with _SimulatorThread() as sim:
        master, proc = _console_on(tmp_path, sim.server.ws_url)
        try:
            seen = _read_until(master, b"Approvals", timeout=30)
            os.write(master, seen[-4096:])
            deadline = time.monotonic() + 25
            tail = b""
            while proc.poll() is None and time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.1)
                if not ready:
                    continue
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                tail = (tail + chunk)[-8192:]
                os.write(master, chunk)  # the echo
            status = _drain(master, proc, timeout=10)
            assert not MOVES_MONEY_OR_OWNERSHIP & set(sim.ops), sim.ops
            assert status == 2, f"exit status {status}"
            log = (tmp_path / "data" / "hitl-console.log").read_text(encoding="utf-8")
            assert "key flood" in log
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            os.close(master)


def test_a_shutdown_stuck_after_a_hangup_is_ended(tmp_path: Path) -> None:
    """Seen in tmux: after kill-session the session stopped cleanly but Textual's
    driver blocked writing to the vanished terminal, and the console lived on
    holding the journal lock. The hang-up watchdog ends such a process."""
    code = "from hitl_console.tui.app import _exit_if_stuck; import time; _exit_if_stuck(0.3); time.sleep(30)"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], timeout=20, env=dict(os.environ, HITL_CONSOLE_DATA_DIR=str(tmp_path)))
    assert done.returncode == 0 and time.monotonic() - started < 15
