"""What the app needs from a session, written down as a ``Protocol``.

The real implementation is :class:`hitl_console.live.LiveSession` (feeds,
engine, journal, alerts; no Textual in it). The app only ever talks to this
surface, so tests can hand it a session on a real simulator or a small fake
with hand-built state, and the benchmark can drive one directly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

from hitl_console.engine.alerts import Alert
from hitl_console.engine.state import ConversationState
from hitl_console.feeds.base import CommandResult

Mode = Literal["live", "demo", "replay"]
OUTCOMES: tuple[str, ...] = ("resolved", "unresolved", "abandoned", "transferred")


class EngineView(Protocol):
    conversations: dict[str, ConversationState]

    def active(self) -> list[ConversationState]: ...


class ReplayView(Protocol):
    speed: float
    progress: float | None
    paused: bool

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def step(self) -> None: ...
    def toggle(self) -> None: ...


@runtime_checkable
class ConsoleSession(Protocol):
    """The duck type of ``LiveSession`` as the console uses it."""

    engine: EngineView
    agent: str
    mode: Mode
    alerts: deque[Alert]

    def add_listener(self, fn: Callable[[Any], None]) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def takeover(self, cid: str) -> CommandResult: ...
    async def send(self, cid: str, text: str) -> CommandResult: ...
    async def release(self, cid: str, note: str | None = None) -> CommandResult: ...
    async def approve(self, cid: str, approval_id: str, note: str | None = None) -> CommandResult: ...
    async def deny(self, cid: str, approval_id: str, note: str | None = None) -> CommandResult: ...
    async def end(self, cid: str, outcome: str) -> CommandResult: ...
    def figures(self, now: float | None = None) -> Any: ...
    def replay(self) -> ReplayView | None: ...
    def record_takeover_verdict(self, cid: str, escalation_needed: bool, note: str | None = None) -> None: ...
