"""Test support for LiveSession: a stand-in hub and event builders.

Only the hub is faked (the engine and the journal are real), so that
timing-sensitive behaviour is deterministic. The ``fake_hub`` fixture that
installs it lives in ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from hitl_console.config import Config
from hitl_console.feeds.base import (
    CommandResult,
    ConnectionState,
    FeedOutput,
    FeedStatus,
)
from hitl_console.feeds.hub import FeedSpec
from hitl_console.session import LiveSession
from hitl_console.protocol.decode import RejectedFrame
from hitl_console.protocol.events import (
    AnyCommand,
    ConversationEnded,
    ConversationStarted,
    Customer,
    Event,
    Message,
)
from hitl_console.store.journal import Journal

NOW = time.time()


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


# ------------------------------------------------------------------ a stand-in hub


class FakeHub:
    """Records what the session asks of a hub; the test plays the feed."""

    instances: list["FakeHub"] = []

    def __init__(self, specs: list[FeedSpec], *, on_output: Any, on_status: Any = None, ack_timeout: float = 5.0, history: Any = None) -> None:
        self.specs = specs
        self.on_output = on_output
        self.on_status = on_status
        self.rewinds: list[tuple[str, int | None]] = []
        """What the session asked to fetch again (feed, since)."""
        self.ack_timeout = ack_timeout
        self.sent: list[tuple[str, AnyCommand]] = []
        self.answer: Callable[[AnyCommand], CommandResult] = lambda c: CommandResult(c.request_id, ok=True, latency_s=0.01)
        self.by_name: dict[str, FeedStatus] = {
            s.name: FeedStatus(name=s.name, url=s.url, state=ConnectionState.LIVE, last_frame_at=time.time()) for s in specs
        }
        self.clients: dict[str, Any] = {}
        self.running = False
        self._stop = asyncio.Event()
        FakeHub.instances.append(self)

    @property
    def statuses(self) -> list[FeedStatus]:
        return list(self.by_name.values())

    async def run(self) -> None:
        self.running = True
        await self._stop.wait()
        self.running = False

    async def stop(self) -> None:
        self._stop.set()

    async def send(self, feed: str, command: AnyCommand) -> CommandResult:
        self.sent.append((feed, command))
        return self.answer(command)

    def emit(self, feed: str, events: list[Event], rejected: list[RejectedFrame] | None = None) -> None:
        self.by_name[feed].last_frame_at = time.time()
        self.on_output(FeedOutput(feed=feed, events=events, rejected=rejected or []))

    def rewind(self, feed: str, since: int | None) -> bool:
        self.rewinds.append((feed, since))
        return True


def started(cid: str, seq: int, ts: float = NOW, tier: str = "gold") -> ConversationStarted:
    return ConversationStarted(
        type="conversation.started",
        seq=seq,
        ts=ts,
        conversation_id=cid,
        channel="chat",
        queue="billing",
        customer=Customer(id=f"u-{cid}", tier=tier),
    )


def say(cid: str, seq: int, role: str, text: str, ts: float = NOW, **extra: Any) -> Message:
    return Message(type="message", seq=seq, ts=ts, conversation_id=cid, role=role, text=text, **extra)  # type: ignore[arg-type]


def ended(cid: str, seq: int, ts: float = NOW, outcome: str = "resolved") -> ConversationEnded:
    return ConversationEnded(type="conversation.ended", seq=seq, ts=ts, conversation_id=cid, outcome=outcome)


def quiet_conversation(cid: str, seq: int, ts: float = NOW) -> list[Event]:
    return [
        started(cid, seq, ts),
        say(cid, seq + 1, "customer", "Where is my parcel?", ts + 1, sentiment=0.1),
        say(cid, seq + 2, "ai", "It arrives tomorrow.", ts + 2, confidence=0.95),
    ]


def session_on(journal: Journal, *, config: Config | None = None, agent: str = "ana", restore: bool = True) -> LiveSession:
    return LiveSession(config or Config(), [FeedSpec("ws://127.0.0.1:1/feed", name="prod")], agent=agent, journal=journal, restore=restore)


# ------------------------------------------------------------------ unit behaviour
