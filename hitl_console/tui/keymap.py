"""The user's keymap: ``[ui.keymap]`` rebinds keys by binding id, as Posting does.

Every binding a supervisor may want elsewhere has an id (``floor.take_over``,
``approvals.approve``, ``review.verdict_1``, ...); ``hitl-console`` lists
them in ``docs/configuration.md``. What cannot be rebound, on purpose:
``escape`` (always back or cancel) and the confirm chord ``ctrl+y`` (the only
key that approves, denies, joins, hands back or ends: no keymap may give it
to anything else, nor take it away).

A keymap naming an unknown id or a reserved key is refused before the
console starts, with the id and the nearest known ones, so a typo never
silently leaves a key where the supervisor did not expect it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from textual.binding import Binding, BindingType

from hitl_console.tui.bindings import APP_BINDINGS
from hitl_console.tui.screens.alerts import AlertsScreen
from hitl_console.tui.screens.approvals import ApprovalsScreen
from hitl_console.tui.screens.conversation import ConversationScreen
from hitl_console.tui.screens.dialogs import CONFIRM_KEY
from hitl_console.tui.screens.floor import FloorScreen
from hitl_console.tui.screens.metrics import MetricsScreen
from hitl_console.tui.screens.review_item import ReviewItemScreen
from hitl_console.tui.screens.review_queue import ReviewScreen
from hitl_console.tui.screens.verdict import EscalationVerdictDialog
from hitl_console.tui.widgets.conversation_table import ConversationTable

RESERVED_KEYS = frozenset({CONFIRM_KEY, "escape"})
"""Keys a keymap may not assign: the confirm chord and the way back."""


def _bindings() -> Iterable[BindingType]:
    yield from APP_BINDINGS
    for owner in (
        FloorScreen,
        ConversationTable,
        ConversationScreen,
        ApprovalsScreen,
        AlertsScreen,
        MetricsScreen,
        ReviewScreen,
        ReviewItemScreen,
        EscalationVerdictDialog,
    ):
        yield from owner.BINDINGS


def binding_ids() -> dict[str, tuple[str, str]]:
    """``id -> (default keys, description)`` of every rebindable binding."""
    out: dict[str, tuple[str, str]] = {}
    for binding in _bindings():
        if isinstance(binding, Binding) and binding.id:
            out.setdefault(binding.id, (binding.key, binding.description or binding.tooltip))
    return out


def keymap_problems(keymap: Mapping[str, str]) -> list[str]:
    """What is wrong with a ``[ui.keymap]`` table, one sentence per problem (empty: fine)."""
    known = binding_ids()
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            near = difflib.get_close_matches(binding_id, list(known), n=3)
            hint = f" (did you mean {', '.join(near)}?)" if near else " (docs/configuration.md lists the ids)"
            problems.append(f"ui.keymap: no binding has the id {binding_id!r}{hint}")
            continue
        reserved = [k for k in _keys(keys) if k in RESERVED_KEYS]
        if reserved:
            problems.append(
                f"ui.keymap.{binding_id}: {reserved[0]!r} is reserved "
                "(ctrl+y only ever confirms a decision; escape is always back or cancel)"
            )
        if not _keys(keys):
            problems.append(f"ui.keymap.{binding_id}: no key given")
    return problems


def _keys(keys: str) -> list[str]:
    return [k.strip() for k in keys.split(",") if k.strip()]
