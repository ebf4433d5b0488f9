"""The live state machine of the simulated AI-agent platform.

:class:`SimPlatform` plays :mod:`hitl_console.sim.plans` plans in real (or
virtual) time and answers supervisor commands the way a real platform must:
it arbitrates takeovers so that two supervisors never hold one chat, stops
the AI while a human holds a conversation, has the customer answer the human,
resumes the AI on release, and acts on approvals or lets them expire.

It is deliberately free of I/O. ``tick(now)`` and ``execute(command, now)``
take the time as an argument and return events, so tests drive it on a
virtual clock without sleeping; :meth:`SimPlatform.run` is the small asyncio
loop that drives it on the wall clock and hands events (and a heartbeat every
second) to listeners, which is what the WebSocket/HTTP server and the
in-process demo subscribe to.

Every event and ack is validated through the pydantic wire models before it
leaves, so the simulator cannot drift from the protocol.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hitl_console.protocol.events import (
    Ack,
    Heartbeat,
    command_adapter,
    event_adapter,
    event_dict,
)
from hitl_console.sim.plans import ConversationPlan, Step, build_plan, customer_message_fields
from hitl_console.sim.scenarios import GENERIC_REPLIES

__all__ = ["SimPlatform", "SimConversation", "SimApproval", "Listener"]

log = logging.getLogger("hitl_console.sim")

Listener = Callable[[list[dict[str, Any]]], None]
"""Receives each batch of wire-form dicts: events, or a one-item heartbeat batch."""

DEFAULT_RETAIN = 50_000
KEEP_ENDED_S = 900.0
"""Ended conversations are forgotten this long (wall seconds) after they end, so that a simulator left running for days keeps a bounded memory; until then a
command for one gets the clear 'conversation ended' refusal."""
HEARTBEAT_INTERVAL = 1.0
TICK_INTERVAL = 0.05


@dataclass(slots=True)
class SimApproval:
    """An ``approval.requested`` the platform is waiting on."""

    approval_id: str
    action: str
    amount: float | None
    expires_at: float
    branches: dict[str, list[Step]]
    decision: str | None = None
    by: str | None = None


@dataclass(slots=True)
class SimConversation:
    """Live state of one simulated conversation (read it in tests; the platform writes it)."""

    conversation_id: str
    plan: ConversationPlan
    rng: random.Random
    steps: list[Step]
    index: int = 0
    holder: str | None = None
    ended: bool = False
    outcome: str | None = None
    waiting: str | None = None
    """``"human"`` while the AI waits for a person, ``"approval"`` while it waits for a decision."""
    approvals: dict[str, SimApproval] = field(default_factory=dict)
    human_messages: int = 0
    wrap_up_due: bool = False
    """A human did the work (messages, or an approval decided while holding): the AI only wraps up."""
    replies_sent: int = 0
    sentiment: float = -0.3
    timers: dict[str, int] = field(default_factory=dict)

    @property
    def scenario(self) -> str:
        return self.plan.scenario

    @property
    def pending_approvals(self) -> list[SimApproval]:
        return [a for a in self.approvals.values() if a.decision is None]


class CommandError(Exception):
    """A command that is well-formed but not allowed now; the message goes in the ack."""


class SimPlatform:
    """A simulated AI-agent platform: conversations, scripts, arbitration, approvals.

    ``rate`` is new conversations per wall-clock second (exponential gaps, from
    ``seed``); ``pace`` scales every delay inside a conversation (0.1 is ten
    times faster), including approval expiry. ``retain`` events are kept for
    resume (``events_since``). ``feed_sentiment`` adds the platform's own
    ``sentiment`` to customer turns; by default the console has to estimate it.
    """

    def __init__(
        self,
        *,
        rate: float = 2.0,
        seed: int = 7,
        pace: float = 1.0,
        max_conversations: int | None = None,
        initial_conversations: int = 0,
        retain: int = DEFAULT_RETAIN,
        feed_sentiment: bool = False,
        mix: Mapping[str, float] | None = None,
        id_prefix: str = "c-",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if rate < 0:
            raise ValueError("rate must be >= 0")
        if pace <= 0:
            raise ValueError("pace must be > 0")
        self.rate = rate
        self.seed = seed
        self.pace = pace
        self.max_conversations = max_conversations
        self.initial_conversations = initial_conversations
        self.feed_sentiment = feed_sentiment
        self.mix = mix
        self.id_prefix = id_prefix
        self.clock = clock
        self.conversations: dict[str, SimConversation] = {}
        self._ended: deque[tuple[float, str]] = deque()
        self.started_count = 0
        self.last_seq = 0
        self._retained: deque[dict[str, Any]] = deque(maxlen=max(1, retain))
        self._rng = random.Random(seed)
        self._heap: list[tuple[float, int, str, str, int]] = []
        self._tokens = itertools.count(1)
        self._next_start: float | None = None
        self._last_ts = 0.0
        self._listeners: list[Listener] = []
        self._begun = False

    # ------------------------------------------------------------- listeners

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` with every batch the platform publishes from now on."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        try:
            self._listeners.remove(listener)
        except ValueError:
            pass

    def publish(self, batch: list[dict[str, Any]]) -> None:
        """Hand a batch to every listener; a failing listener is logged, never fatal."""
        if not batch:
            return
        for listener in list(self._listeners):
            try:
                listener(batch)
            except Exception:  # a broken subscriber must not stop the floor
                log.exception("simulator listener failed")

    # ------------------------------------------------------------- retention

    def events_since(self, seq: int) -> list[dict[str, Any]]:
        """Retained events with ``seq`` greater than ``seq``, oldest first (for resume)."""
        if not self._retained or seq >= self.last_seq:
            return []
        first = self._retained[0]["seq"]
        skip = max(0, seq - first + 1)
        return list(itertools.islice(self._retained, skip, None))

    def snapshot(self) -> list[dict[str, Any]]:
        """Retained events of the conversations still open, in seq order.

        What a console that connects without a cursor needs to draw the floor
        as it is now (every open conversation from its start), rather than a
        floor of conversations it only half knows.
        """
        open_ids = {cid for cid, conv in self.conversations.items() if not conv.ended}
        return [e for e in self._retained if e["conversation_id"] in open_ids]

    def backlog(self, since: int | None) -> tuple[list[dict[str, Any]], int]:
        """What a new subscriber gets before live events, and the seq it is then at.

        With a cursor: every retained event after it (the protocol's resume).
        Without one, or with a cursor ahead of this feed (a console that saw an
        earlier run of the simulator): the :meth:`snapshot` of open conversations.
        Live events at or below the returned seq are duplicates to drop.
        """
        if since is None or since > self.last_seq:
            return self.snapshot(), self.last_seq
        events = self.events_since(since)
        return events, (events[-1]["seq"] if events else since)

    @property
    def oldest_retained_seq(self) -> int | None:
        return self._retained[0]["seq"] if self._retained else None

    def heartbeat(self, now: float | None = None) -> dict[str, Any]:
        """A heartbeat in wire form (``{"v":1,"type":"heartbeat","ts":...}``): the console's lag gauge."""
        ts = self.clock() if now is None else now
        return Heartbeat(type="heartbeat", ts=round(ts, 3)).model_dump(mode="json", exclude_none=True)

    # ------------------------------------------------------------- time

    def begin(self, now: float | None = None) -> list[dict[str, Any]]:
        """Start the floor: the ``initial_conversations`` at once, then arrivals at ``rate``.

        Called by ``tick`` on first use; call it yourself to choose the moment.
        """
        if self._begun:
            return []
        self._begun = True
        now = self.clock() if now is None else now
        out: list[dict[str, Any]] = []
        for _ in range(self.initial_conversations):
            if not self._may_start():
                break
            self._start(now, out, warm=True)
        self._next_start = now + self._gap() if self.rate > 0 else None
        return out

    def tick(self, now: float | None = None) -> list[dict[str, Any]]:
        """Advance to ``now``: start due conversations and play every due step.

        Returns the new events (already numbered and retained, not published).
        """
        now = self.clock() if now is None else now
        out = self.begin(now)
        horizon = now - KEEP_ENDED_S
        while self._ended and self._ended[0][0] < horizon:
            self.conversations.pop(self._ended.popleft()[1], None)
        while True:
            next_timer = self._heap[0][0] if self._heap else None
            start = self._next_start
            if start is not None and start <= now and (next_timer is None or start <= next_timer):
                if self._may_start():
                    self._start(start, out)
                    self._next_start = start + self._gap()
                else:
                    self._next_start = None
                continue
            if next_timer is None or next_timer > now:
                break
            due, _, cid, kind, token = heapq.heappop(self._heap)
            conv = self.conversations.get(cid)
            if conv is None or conv.timers.get(kind) != token:
                continue  # cancelled or superseded
            del conv.timers[kind]
            self._fire(conv, kind, due, out)
        return out

    async def run(self, stop: asyncio.Event | None = None, *, interval: float = TICK_INTERVAL) -> None:
        """Drive the platform on ``clock`` until cancelled or ``stop`` is set.

        Publishes each tick's events and a heartbeat every second to the
        listeners. Exceptions inside a tick are logged and the floor goes on:
        a simulator that dies mid-demo is worse than one that skips a step.
        """
        next_heartbeat = self.clock()
        while stop is None or not stop.is_set():
            now = self.clock()
            try:
                self.publish(self.tick(now))
            except Exception:
                log.exception("simulator tick failed")
            if now >= next_heartbeat:
                self.publish([self.heartbeat(now)])
                next_heartbeat = now + HEARTBEAT_INTERVAL
            await asyncio.sleep(interval)

    # ------------------------------------------------------------- commands

    def execute(self, command: Mapping[str, Any] | str | bytes, now: float | None = None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """Apply a control command: the ack (None if it has no ``request_id``) and the effect events.

        The events are numbered and retained but not published: the caller
        sends the ack to the requester first, then publishes (the protocol's
        order). :meth:`handle_command` does both.
        """
        now = self.clock() if now is None else now
        self.begin(now)
        raw: Any = command
        if isinstance(command, (str, bytes, bytearray)):
            try:
                raw = json.loads(command)
            except (ValueError, UnicodeDecodeError) as error:
                log.warning("simulator: malformed command ignored: %s", error)
                return None, []
        request_id = raw.get("request_id") if isinstance(raw, Mapping) else None
        if not isinstance(request_id, str):
            log.warning("simulator: command without request_id ignored")
            return None, []
        try:
            cmd = command_adapter.validate_python(raw)
        except ValidationError as error:
            reason = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'command'}: {e['msg']}" for e in error.errors(include_url=False)[:3])
            return self._ack(request_id, False, f"invalid command: {reason}"), []
        out: list[dict[str, Any]] = []
        try:
            self._apply(cmd, now, out)
        except CommandError as error:
            return self._ack(request_id, False, str(error)), []
        return self._ack(request_id, True), out

    def handle_command(
        self,
        command: Mapping[str, Any] | str | bytes,
        *,
        reply: Callable[[dict[str, Any]], None] | None = None,
        now: float | None = None,
    ) -> dict[str, Any] | None:
        """Execute a command, give the ack to ``reply``, then publish the effect events."""
        ack, events = self.execute(command, now)
        if ack is not None and reply is not None:
            reply(ack)
        self.publish(events)
        return ack

    # ------------------------------------------------------------- inspection helpers

    def start_conversation(self, scenario: str | None = None, now: float | None = None) -> tuple[str, list[dict[str, Any]]]:
        """Start one conversation now, optionally of a given scenario (tests, demos).

        Returns its id and the events emitted (numbered, retained, not published).
        """
        now = self.clock() if now is None else now
        self._begun = True
        out: list[dict[str, Any]] = []
        cid = self._start(now, out, scenario=scenario)
        return cid, out

    def open_conversations(self) -> list[SimConversation]:
        return [c for c in self.conversations.values() if not c.ended]

    # ------------------------------------------------------------- internals

    def _ack(self, request_id: str, ok: bool, error: str | None = None) -> dict[str, Any]:
        return Ack(type="ack", request_id=request_id, ok=ok, error=error).model_dump(mode="json", exclude_none=True)

    def _gap(self) -> float:
        return self._rng.expovariate(self.rate) if self.rate > 0 else float("inf")

    def _may_start(self) -> bool:
        return self.max_conversations is None or self.started_count < self.max_conversations

    def _emit(self, conv: SimConversation, type_: str, fields: Mapping[str, Any], ts: float, out: list[dict[str, Any]]) -> dict[str, Any]:
        """Number, validate, retain and collect one event."""
        ts = max(ts, self._last_ts)
        self._last_ts = ts
        self.last_seq += 1
        raw: dict[str, Any] = {"v": 1, "type": type_, "seq": self.last_seq, "ts": round(ts, 3), "conversation_id": conv.conversation_id}
        for key, value in fields.items():
            if key == "sentiment" and not self.feed_sentiment:
                continue
            raw[key] = value
        event = event_dict(event_adapter.validate_python(raw))
        if not event.get("topics", True):
            del event["topics"]
        self._retained.append(event)
        out.append(event)
        return event

    def _schedule(self, conv: SimConversation, kind: str, at: float) -> None:
        token = next(self._tokens)
        conv.timers[kind] = token
        heapq.heappush(self._heap, (at, token, conv.conversation_id, kind, token))

    def _cancel(self, conv: SimConversation, kind: str) -> None:
        conv.timers.pop(kind, None)

    def _start(self, now: float, out: list[dict[str, Any]], *, scenario: str | None = None, warm: bool = False) -> str:
        n = self.started_count
        self.started_count += 1
        cid = f"{self.id_prefix}{1000 + n}"
        rng = random.Random(self.seed * 1_000_003 + n)
        plan = build_plan(rng, cid, scenario, mix=self.mix)
        conv = SimConversation(cid, plan, rng, list(plan.steps))
        self.conversations[cid] = conv
        self._emit(conv, "conversation.started", plan.started, now, out)
        if warm:
            # Demo start: play a few opening turns at once, so the floor looks
            # mid-shift rather than freshly opened.
            for _ in range(rng.randint(0, 3)):
                if conv.index >= len(conv.steps) or conv.steps[conv.index].type not in ("message", "ai.action"):
                    break
                self._play(conv, conv.steps[conv.index], now, out)
                conv.index += 1
        self._schedule_step(conv, now)
        return cid

    def _schedule_step(self, conv: SimConversation, now: float, delay: float | None = None) -> None:
        if conv.index < len(conv.steps):
            wait = conv.steps[conv.index].delay if delay is None else delay
            self._schedule(conv, "step", now + wait * self.pace)

    def _fire(self, conv: SimConversation, kind: str, due: float, out: list[dict[str, Any]]) -> None:
        if kind == "step":
            self._run_step(conv, due, out)
        elif kind == "reply":
            self._customer_reply(conv, due, out)
        elif kind == "wait_human":
            self._wait_timed_out(conv, due, out)
        elif kind.startswith("approval:"):
            approval = conv.approvals.get(kind.partition(":")[2])
            if approval is not None and approval.decision is None:
                self._resolve_approval(conv, approval, "expired", None, None, due, out)

    def _run_step(self, conv: SimConversation, now: float, out: list[dict[str, Any]]) -> None:
        if conv.holder is not None or conv.index >= len(conv.steps):
            return  # paused by a takeover (the timer should already be gone)
        if conv.ended and conv.steps[conv.index].type != "scorecard":
            return
        step = conv.steps[conv.index]
        conv.index += 1
        if step.type == "wait_human":
            conv.waiting = "human"
            self._schedule(conv, "wait_human", now + step.timeout * self.pace)
            return
        if step.type == "approval.requested":
            self._request_approval(conv, step, now, out)
            return
        self._play(conv, step, now, out)
        self._schedule_step(conv, now)

    def _play(self, conv: SimConversation, step: Step, now: float, out: list[dict[str, Any]]) -> None:
        if step.type == "conversation.ended":
            self._end(conv, step.fields, now, out)
            return
        self._emit(conv, step.type, step.fields, now, out)

    def _end(self, conv: SimConversation, fields: Mapping[str, Any], now: float, out: list[dict[str, Any]]) -> None:
        for approval in conv.pending_approvals:  # nothing may stay pending on a closed conversation
            self._resolve_approval(conv, approval, "expired", None, "conversation ended", now, out, act=False)
        conv.ended = True
        conv.outcome = str(fields.get("outcome"))
        self._ended.append((now, conv.conversation_id))
        conv.waiting = None
        for kind in list(conv.timers):
            if kind != "step":
                self._cancel(conv, kind)
        self._emit(conv, "conversation.ended", fields, now, out)

    def _request_approval(self, conv: SimConversation, step: Step, now: float, out: list[dict[str, Any]]) -> None:
        fields = dict(step.fields)
        expires_in = float(fields.pop("expires_in", 180.0))
        approval_id = f"ap-{conv.conversation_id}-{len(conv.approvals) + 1}"
        expires_at = now + expires_in * self.pace
        fields["approval_id"] = approval_id
        fields["expires_ts"] = round(expires_at, 3)
        conv.approvals[approval_id] = SimApproval(approval_id, str(fields["action"]), fields.get("amount"), expires_at, step.branches or {})
        conv.waiting = "approval"
        self._emit(conv, "approval.requested", fields, now, out)
        self._schedule(conv, f"approval:{approval_id}", expires_at)

    def _resolve_approval(
        self,
        conv: SimConversation,
        approval: SimApproval,
        decision: str,
        by: str | None,
        note: str | None,
        now: float,
        out: list[dict[str, Any]],
        *,
        act: bool = True,
    ) -> None:
        approval.decision = decision
        approval.by = by
        self._cancel(conv, f"approval:{approval.approval_id}")
        fields: dict[str, Any] = {"approval_id": approval.approval_id, "decision": decision}
        if by:
            fields["by"] = by
        if note:
            fields["note"] = note
        self._emit(conv, "approval.resolved", fields, now, out)
        if not act:
            return
        if conv.waiting == "approval":
            conv.waiting = None
        branch = list(approval.branches.get(decision, []))
        if conv.holder is None:
            # The AI acts on the decision and carries on with the matching branch.
            conv.steps, conv.index = branch, 0
            self._schedule_step(conv, now, delay=min(branch[0].delay, 2.0) if branch else None)
            return
        # A human holds the conversation: the tool still runs, the AI stays quiet,
        # and a system note tells everyone what happened; the human wraps up.
        if decision == "approved":
            for step in branch:
                if step.type == "ai.action":
                    self._emit(conv, "ai.action", step.fields, now, out)
                    break
        amount = f" of ${approval.amount:,.2f}" if approval.amount is not None else ""
        who = f" by {by}" if by else ""
        self._emit(conv, "message", {"role": "system", "text": f"{approval.action.replace('_', ' ').capitalize()}{amount} {decision}{who}."}, now, out)
        conv.steps, conv.index = [], 0
        conv.wrap_up_due = True

    def _wait_timed_out(self, conv: SimConversation, now: float, out: list[dict[str, Any]]) -> None:
        if conv.holder is not None or conv.waiting != "human":
            return
        conv.waiting = None
        step = conv.steps[conv.index - 1] if conv.index else None
        branch = list((step.branches or {}).get("timeout", [])) if step is not None and step.type == "wait_human" else []
        conv.steps, conv.index = branch, 0
        self._schedule_step(conv, now, delay=0.0)

    def _customer_reply(self, conv: SimConversation, now: float, out: list[dict[str, Any]]) -> None:
        if conv.ended:
            return
        replies = conv.plan.customer_replies
        k = conv.replies_sent
        text = replies[k] if k < len(replies) else conv.rng.choice(GENERIC_REPLIES)
        conv.replies_sent += 1
        conv.sentiment = min(0.7, conv.sentiment + 0.3)  # a person is helping: the customer calms down
        self._emit(conv, "message", customer_message_fields(conv.plan, text, conv.sentiment, conv.rng), now, out)

    # ------------------------------------------------------------- command semantics

    def _conversation(self, cid: str) -> SimConversation:
        conv = self.conversations.get(cid)
        if conv is None:
            raise CommandError(f"unknown conversation {cid!r}")
        if conv.ended:
            raise CommandError(f"conversation {cid} has ended ({conv.outcome})")
        return conv

    @staticmethod
    def _require_holder(conv: SimConversation, agent: str) -> None:
        if conv.holder is None:
            raise CommandError(f"conversation {conv.conversation_id} is not held by {agent}: take it over first")
        if conv.holder != agent:
            raise CommandError(f"held by {conv.holder}")

    def _apply(self, cmd: Any, now: float, out: list[dict[str, Any]]) -> None:
        conv = self._conversation(cmd.conversation_id)
        op = cmd.op
        if op == "takeover":
            if conv.holder == cmd.agent:
                return  # idempotent: a retried takeover changes nothing
            if conv.holder is not None:
                raise CommandError(f"held by {conv.holder}")
            conv.holder = cmd.agent
            self._cancel(conv, "step")  # the AI stops answering
            self._cancel(conv, "wait_human")
            self._emit(conv, "human.joined", {"agent": cmd.agent}, now, out)
        elif op == "send":
            self._require_holder(conv, cmd.agent)
            conv.human_messages += 1
            conv.wrap_up_due = True
            self._emit(conv, "message", {"role": "human", "text": cmd.text, "author": cmd.agent}, now, out)
            self._schedule(conv, "reply", now + conv.rng.uniform(1.5, 4.0) * self.pace)
        elif op == "release":
            self._require_holder(conv, cmd.agent)
            conv.holder = None
            self._cancel(conv, "reply")
            self._emit(conv, "human.left", {"agent": cmd.agent, "back_to_ai": True}, now, out)
            self._resume_ai(conv, now)
        elif op in ("approve", "deny"):
            approval = conv.approvals.get(cmd.approval_id)
            if approval is None:
                raise CommandError(f"unknown approval {cmd.approval_id!r} in {conv.conversation_id}")
            if approval.decision is not None:
                raise CommandError(f"approval {cmd.approval_id} is already {approval.decision}")
            decision = "approved" if op == "approve" else "denied"
            self._resolve_approval(conv, approval, decision, cmd.agent, cmd.note, now, out)
        elif op == "end":
            self._require_holder(conv, cmd.agent)
            fields: dict[str, Any] = {"outcome": cmd.outcome, "resolved_by": "human"}
            if cmd.outcome == "resolved":
                fields["csat"] = conv.rng.choice((4, 4, 5, 5, 5, 3))
            elif cmd.outcome == "unresolved":
                fields["csat"] = conv.rng.choice((1, 2, 3))
            self._cancel(conv, "step")
            self._cancel(conv, "reply")
            conv.steps, conv.index = [], 0
            self._end(conv, fields, now, out)
        else:  # pragma: no cover - the adapter admits only the ops above
            raise CommandError(f"unsupported op {op!r}")

    def _resume_ai(self, conv: SimConversation, now: float) -> None:
        """After a hand-back: wrap up if the human did the work, else carry on where the AI was."""
        if conv.wrap_up_due:
            conv.wrap_up_due = False
            conv.steps, conv.index = list(conv.plan.wrap_up), 0
            conv.waiting = None if conv.waiting == "human" else conv.waiting
            self._schedule_step(conv, now)
            return
        if conv.waiting == "approval":
            return  # the AI goes on when the approval is decided or expires
        if conv.waiting == "human":
            # Nobody actually helped: the AI goes back to waiting for a person.
            step = conv.steps[conv.index - 1] if conv.index else None
            timeout = step.timeout if step is not None and step.type == "wait_human" else 120.0
            self._schedule(conv, "wait_human", now + timeout * self.pace)
            return
        self._schedule_step(conv, now)
