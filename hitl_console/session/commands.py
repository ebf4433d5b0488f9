"""Supervisor commands: takeover, send, release, approve, deny, end.

Every command is built from a protocol model, journaled before it is sent
(so a crash mid-send still shows what the supervisor asked), sent to the
feed its conversation came from, and answered with a
:class:`~hitl_console.feeds.base.CommandResult`, never an exception: the UI
shows the answer to the person who pressed the key.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hitl_console.feeds.base import CommandResult
from hitl_console.feeds.history import command_record
from hitl_console.protocol.events import (
    AnyCommand,
    Approve,
    Deny,
    End,
    Outcome,
    Release,
    Send,
    Takeover,
)

if TYPE_CHECKING:
    from hitl_console.engine.engine import SignalEngine
    from hitl_console.feeds.claims import ClaimKeeper
    from hitl_console.feeds.history import TeamHistory
    from hitl_console.feeds.hub import FeedHub, FeedSpec
    from hitl_console.store.journal import Journal

log = logging.getLogger(__name__)


class SupervisorCommands:
    """The command half of :class:`~hitl_console.session.LiveSession`."""

    agent: str
    engine: SignalEngine
    hub: FeedHub
    journal: Journal
    specs: list[FeedSpec]
    claims: ClaimKeeper | None
    history: TeamHistory | None
    _chat_claimed_at: dict[str, float]

    if TYPE_CHECKING:
        def _journal_call(self, fn: Any, *args: Any) -> Any: ...
        def _chat_claim_id(self, conversation_id: str) -> str: ...
        async def _release_chat(self, conversation_id: str) -> None: ...

    async def takeover(self, conversation_id: str) -> CommandResult:
        """Take the conversation over; refused (with the holder named) if another agent has it.

        With shared claims the chat is claimed in the team's bucket first: a
        claim held by another supervisor refuses the takeover before any
        command is sent (``sent=False``, the holder in ``error``). A takeover
        the platform refuses gives a fresh claim back at once."""
        claims = self.claims
        wire = self._chat_claim_id(conversation_id)
        fresh = False
        if claims is not None:
            fresh = not claims.holds("chat", wire)
            claim = await claims.acquire("chat", wire)
            if not claim.ok:
                error = f"held by {claim.holder} (team claim)" if claim.holder else f"not claimed: {claim.error}"
                log.info("takeover %s by %s: %s", conversation_id, self.agent, error)
                return CommandResult(uuid.uuid4().hex, ok=False, error=error, sent=False)
            self._chat_claimed_at[wire] = time.monotonic()
        result = await self._command(Takeover, conversation_id)
        if claims is not None and fresh and not result.ok and not result.timed_out:
            await claims.release("chat", wire)  # refused or never sent: nobody holds it through us
        return result

    async def send(self, conversation_id: str, text: str) -> CommandResult:
        """Send ``text`` to the customer as this agent."""
        return await self._command(Send, conversation_id, text=text)

    async def release(self, conversation_id: str, note: str | None = None) -> CommandResult:
        """Hand the conversation back to the AI (and its team claim, once acknowledged)."""
        result = await self._command(Release, conversation_id, note=note)
        if result.ok:
            await self._release_chat(conversation_id)
        return result

    async def approve(self, conversation_id: str, approval_id: str, note: str | None = None) -> CommandResult:
        return await self._command(Approve, conversation_id, approval_id=approval_id, note=note)

    async def deny(self, conversation_id: str, approval_id: str, note: str | None = None) -> CommandResult:
        return await self._command(Deny, conversation_id, approval_id=approval_id, note=note)

    async def end(self, conversation_id: str, outcome: Outcome) -> CommandResult:
        result = await self._command(End, conversation_id, outcome=outcome)
        if result.ok:
            await self._release_chat(conversation_id)
        return result

    def feed_of(self, conversation_id: str) -> str | None:
        """The feed a conversation came from (the one its commands go to)."""
        state = self.engine.conversations.get(conversation_id)
        if state is not None and state.feed:
            return state.feed
        if len(self.specs) == 1:
            return self.specs[0].name
        return None

    async def _command(self, cls: type[AnyCommand], conversation_id: str, **fields: Any) -> CommandResult:
        """Build, journal, send and journal the outcome of one command.

        Journaled before sending so that a crash mid-send still shows what the
        supervisor asked; every failure comes back as a CommandResult (never an
        exception) because the UI shows it to the person who pressed the key.
        """
        request_id = uuid.uuid4().hex
        state = self.engine.conversations.get(conversation_id)
        wire_id = state.feed_id if state is not None else conversation_id  # "c-1@b" is "c-1" to feed b
        try:
            command = cls(request_id=request_id, agent=self.agent, conversation_id=wire_id, **fields)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_url=False))
            return CommandResult(request_id, ok=False, error=problems, sent=False)
        feed = self.feed_of(conversation_id)
        if feed is None:
            return CommandResult(request_id, ok=False, error=f"unknown conversation {conversation_id}", sent=False)
        self._journal_call(self.journal.record_command, feed, command)
        try:
            result = await self.hub.send(feed, command)
        except Exception as error:  # the hub should answer with a result; be safe anyway
            log.exception("sending %s to %s", command.op, feed)
            result = CommandResult(request_id, ok=False, error=f"{type(error).__name__}: {error}", sent=False)
        self._journal_call(self.journal.record_result, result)
        if self.history is not None:
            self.history.publish("command", self.agent, time.time(), **command_record(result, command, feed))
        if not result.ok:
            log.info("%s %s by %s: %s", command.op, conversation_id, self.agent, result.describe())
        return result
