"""The Textual app: renders a session's state and sends its commands.

There is no engine logic here. The app is handed a session (or a coroutine
that makes one, for the in-process demo whose simulator must start on the
app's own event loop), listens to its coalesced changes, and redraws the
screens that can be seen at most ``config.ui.refresh_hz`` times a second.
There is no polling timer: when nothing changes, nothing runs, nothing is
repainted and no bytes go down the wire.

It also looks after the terminal: a hung-up SSH session (SIGHUP, or stdin /
stderr no longer a TTY) ends the app instead of leaving it spinning, and
the console's own log goes to a file, never to the screen.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.text import Text
from textual import events, work
from textual.app import App, SystemCommand
from textual.screen import ModalScreen, Screen

from hitl_console.config import Config
from hitl_console.alerts.model import Alert
from hitl_console.engine.state import Approval, ConversationState
from hitl_console.text import one_line
from hitl_console.tui import themes
from hitl_console.tui.bindings import APP_BINDINGS
from hitl_console.tui.keyguard import KeyFloodGuard
from hitl_console.tui.palette import Palette
from hitl_console.tui.screens.base import LiveScreen, visible_screens
from hitl_console.tui.screens.dialogs import CONFIRM_KEY, CONFIRM_KEY_DISPLAY, ConfirmDialog
from hitl_console.tui.session import ConsoleSession

log = logging.getLogger(__name__)

TTY_CHECK_S = 5.0
GC_FREEZE_S = 60.0
"""How often long-lived objects are moved out of the garbage collector's way (see
:meth:`HitlApp.settle_memory`)."""
FIGURES_REFRESH_S = 5.0
"""Lag and rates age even when no event arrives; the header is re-checked this often
(and repainted only if its text changed)."""
TOASTS_PER_WINDOW = 2
TOAST_WINDOW_S = 10.0
SUMMARY_AFTER = 5
"""At most this many alert notifications per window; the rest are counted in one
summary toast. Every alert is still written to the alert log."""
REPLAY_SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)

SEVERITY = {"critical": "error", "warning": "warning", "info": "information"}


@dataclass(slots=True)
class RefreshStats:
    """Counters the benchmark and the log read: how busy the UI is."""

    ticks: int = 0
    flushes: int = 0
    changes: int = 0
    last_flush: float = 0.0
    flush_seconds: list[float] = field(default_factory=list)


class HitlApp(App[None]):
    """The supervisor console."""

    CSS_PATH = "app.tcss"
    TITLE = "hitl-console"

    BINDINGS = list(APP_BINDINGS)

    def __init__(
        self,
        session: ConsoleSession | None = None,
        *,
        config: Config | None = None,
        connect: Callable[[], Awaitable[ConsoleSession]] | None = None,
        theme: str | None = None,
        clock: Callable[[], float] | None = None,
        manage_session: bool = True,
        watch_terminal: bool = True,
        key_guard: bool = True,
        theme_dirs: Iterable[Path] | None = None,
    ) -> None:
        """``session`` or ``connect`` (an async factory, awaited at mount).

        ``manage_session``: start the session at mount and stop it at exit.
        ``clock``: "now" for ages and countdowns (tests freeze it); default is
        the session's clock (the recording's time in a replay), else wall time.
        """
        if session is None and connect is None:
            raise ValueError("HitlApp needs a session or a connect() factory")
        super().__init__()
        self.session: ConsoleSession = session  # type: ignore[assignment]
        self._connect = connect
        self.config = config or (session.config if session is not None else None) or Config()
        self._clock = clock
        self._manage = manage_session
        self._watch_terminal = watch_terminal
        self._key_guard: KeyFloodGuard | None = KeyFloodGuard() if key_guard else None
        self._session_started = False
        self.palette = Palette.plain()
        self.stats = RefreshStats()

        self._changed: set[str] = set()
        self._new_alerts: list[Alert] = []
        self._dirty = False
        self._figures_dirty = False
        self._approvals_dirty = False
        self._toast_times: list[float] = []
        self._toasts_suppressed = 0
        self._last_summary = 0.0
        self.quiet_alerts: list[Alert] = []
        """Alerts that arrived while toasts were held back (a chat held, a dialog
        open, or ``ui.alert_toasts = "never"``): the status lines count them."""
        self._hangup = False
        hz = max(0.5, min(30.0, float(self.config.ui.refresh_hz)))
        self._min_interval = 1.0 / hz
        self._last_refresh = 0.0
        self._refresh_pending = False

        found = themes.load_themes(theme_dirs)
        for loaded in found.themes.values():
            self.register_theme(loaded)
        self.theme_problems = list(found.problems)
        chosen, problem = themes.choose_theme(theme or self.config.ui.theme, self.available_themes)
        if problem:
            self.theme_problems.append(problem)
        picked = self.get_theme(chosen)
        if self.no_color and picked is not None and picked.ansi:
            # Textual's NO_COLOR filter turns the terminal's default colours
            # into black on black; a truecolour theme filtered to greys reads fine.
            log.info("NO_COLOR with ANSI theme %s: using %s", chosen, themes.DEFAULT_THEME)
            chosen = themes.DEFAULT_THEME if themes.DEFAULT_THEME in self.available_themes else themes.LAST_RESORT_THEME
        self.theme = chosen

    # ------------------------------------------------------------ time and state

    def clock(self) -> float:
        if self._clock is not None:
            return self._clock()
        return self.session.clock() if self.session is not None else time.time()

    @property
    def me(self) -> str:
        return self.session.agent

    def held_by_me(self) -> list[ConversationState]:
        me = self.session.agent
        return [
            s
            for s in self.session.engine.conversations.values()
            if not s.ended and s.holder == "human" and s.agent == me
        ]

    # ------------------------------------------------------------ lifecycle

    async def on_mount(self) -> None:
        for problem in self.theme_problems:
            log.warning("%s", problem)
            self.notify(problem, title="Theme", severity="warning", timeout=10, markup=False)
        self.theme_changed_signal.subscribe(self, lambda _theme: self.call_after_refresh(self._restyle))
        self._restyle_palette()

        if self.session is None and self._connect is not None:
            try:
                self.session = await self._connect()
            except Exception as error:
                log.exception("could not start the session")
                self.exit(return_code=1, message=Text(f"hitl-console: could not start: {error}"))
                return
        self.session.add_listener(self._on_session_change)
        if self._manage:
            try:
                await self.session.start()
            except Exception as error:
                log.exception("could not start the session")
                self.exit(return_code=1, message=Text(f"hitl-console: could not start the feeds: {error}"))
                return
            self._session_started = True

        from hitl_console.tui.screens.floor import FloorScreen

        if self.config.ui.keymap:
            self.set_keymap(dict(self.config.ui.keymap))  # checked by tui.keymap before the app started
        self.push_screen(FloorScreen())
        self.set_interval(FIGURES_REFRESH_S, self._mark_figures, name="figures")
        self.set_interval(GC_FREEZE_S, self.settle_memory, name="gc-freeze")
        if self._watch_terminal and not self.is_headless and not self.is_web:
            # In a browser (``hitl-console serve``) there is no TTY to lose:
            # the page's WebSocket closing ends the process (textual-serve).
            self.set_interval(TTY_CHECK_S, self._check_terminal, name="tty-watch")
            self._install_hangup_handler()
        for alert in list(self.session.alerts)[-20:]:
            self.floor_alert_log_add([alert])

    async def on_unmount(self) -> None:
        if self._session_started:
            self._session_started = False
            try:
                await asyncio.wait_for(self.session.stop(), timeout=6.0)
            except Exception:
                log.exception("stopping the session")

    def settle_memory(self) -> None:
        """Move every object alive now into the collector's permanent generation.

        A floor keeps thousands of conversations for hours; a full (gen 2)
        collection walks all of them and stalls the event loop for 100-250 ms
        at 2,000 active conversations, which a supervisor feels as a key press
        that does nothing. Conversation state is acyclic and freed by
        reference counting when the engine drops it, so freezing what has
        lived for a minute costs nothing and keeps collections short.
        """
        gc.freeze()

    def _install_hangup_handler(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, self._on_hangup)
            loop.add_signal_handler(signal.SIGTERM, self._on_hangup)
        except (NotImplementedError, RuntimeError, AttributeError, ValueError):  # not on this platform
            log.debug("no signal handlers on this platform")

    def _on_hangup(self) -> None:
        if not self._hangup:
            self._hangup = True
            log.warning("terminal hung up or terminated: exiting")
            self.exit()
            _exit_if_stuck(HANGUP_EXIT_S)

    async def on_event(self, event: events.Event) -> None:
        """Drop keys that come faster than anyone types (:mod:`keyguard`)."""
        guard = self._key_guard
        if guard is not None and isinstance(event, events.Key):
            now = time.monotonic()
            if not guard.admit(now):
                if guard.dropped == 1 or guard.dropped % 1000 == 0:
                    log.warning("key flood: %d keys dropped (input faster than a person types)", guard.dropped)
                if guard.should_exit(now) and not self._hangup:
                    self._hangup = True
                    self.exit(
                        return_code=2,
                        message=Text(
                            "hitl-console: the terminal sends keys faster than anyone types "
                            f"({guard.dropped} dropped): its input is not a person (is stdin closed, "
                            "or echoing the console's own output?). Nothing was sent; exiting."
                        ),
                    )
                return
        await super().on_event(event)

    def _check_terminal(self) -> None:
        """A Textual app whose terminal went away can spin at full CPU; leave instead."""
        try:
            alive = sys.__stdin__ is not None and sys.__stdin__.isatty() and sys.__stderr__ is not None and sys.__stderr__.isatty()
        except (ValueError, OSError):  # closed file
            alive = False
        if not alive:
            self._on_hangup()

    # ------------------------------------------------------------ live updates

    def _on_session_change(self, change) -> None:
        """Called by the session on the event loop (already coalesced); only remembers."""
        self._changed |= change.changed
        if change.new_alerts:
            self._new_alerts.extend(change.new_alerts)
        if change.statuses_changed:
            self._figures_dirty = True
        for update in change.updates:
            if update.approval is not None:
                self._approvals_dirty = True
        self.stats.changes += 1
        self._dirty = True
        self._schedule_refresh()

    def _mark_figures(self) -> None:
        self._figures_dirty = True
        self._dirty = True
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        """Redraw soon, but never more often than ``config.ui.refresh_hz``.

        There is no polling timer: with nothing changing the app sleeps. A
        change right after a redraw waits out the interval, so a burst of
        events costs one redraw per interval however many arrive.
        """
        if self._refresh_pending:
            return
        self._refresh_pending = True
        wait = self._last_refresh + self._min_interval - time.perf_counter()
        if wait <= 0:
            self.call_later(self._scheduled_refresh)
        else:
            self.set_timer(wait, self._scheduled_refresh, name="refresh")

    def _scheduled_refresh(self) -> None:
        self._refresh_pending = False
        if not self.is_running:  # shutting down: the screens' widgets are being removed
            return
        self._refresh()

    def visible_live_screens(self) -> list[LiveScreen]:
        """The live screens a person can see (:func:`~hitl_console.tui.screens.base.visible_screens`)."""
        return [screen for screen in visible_screens(self.screen_stack) if isinstance(screen, LiveScreen)]

    def _refresh(self) -> None:
        self.stats.ticks += 1
        if not self._dirty:
            return
        started = self._last_refresh = time.perf_counter()
        changed, self._changed = self._changed, set()
        alerts, self._new_alerts = self._new_alerts, []
        figures = self._figures_dirty or bool(changed)
        approvals = self._approvals_dirty
        self._dirty = self._figures_dirty = self._approvals_dirty = False
        for screen in self.screen_stack:
            if isinstance(screen, LiveScreen):
                screen.mark_dirty(changed, figures=figures, approvals=approvals)
        with self.batch_update():
            for screen in self.visible_live_screens():
                screen.flush_if_ready()
            if alerts:
                self.floor_alert_log_add(alerts)
        if alerts:
            self._toast(alerts)
        self.stats.flushes += 1
        self.stats.last_flush = time.perf_counter()
        self.stats.flush_seconds.append(self.stats.last_flush - started)
        if len(self.stats.flush_seconds) > 10_000:
            del self.stats.flush_seconds[:5_000]

    def refresh_now(self) -> None:
        """Flush pending changes at once (tests and the benchmark use it)."""
        self._dirty = True
        self._refresh()

    def request_refresh(self) -> None:
        """A screen changed what it shows (filter, sort): redraw at the next chance."""
        self._dirty = True
        self._schedule_refresh()

    def floor_alert_log_add(self, alerts: list[Alert]) -> None:
        from hitl_console.tui.widgets.alert_log import AlertLog

        for screen in self.screen_stack:
            for log_widget in screen.query(AlertLog):
                log_widget.add_alerts(alerts)

    def alerts_quiet(self) -> bool:
        """Whether a toast would cover the supervisor's work right now.

        ``ui.alert_toasts``: ``auto`` keeps toasts back while a dialog is open
        or the supervisor is in a chat they hold (at 80x24 a toast covers the customer's
        reply and the message box); ``always`` / ``never`` force it.
        """
        mode = self.config.ui.alert_toasts
        if mode != "auto":
            return mode == "never"
        from hitl_console.tui.screens.approvals import ApprovalsScreen
        from hitl_console.tui.screens.conversation import ConversationScreen

        chatting = any(isinstance(s, ConversationScreen) and s.held_by_me() for s in self.visible_live_screens())
        # the approvals queue: at 80x24 a toast sits over the selected request's amount and rationale
        return isinstance(self.screen, (ModalScreen, ApprovalsScreen)) or chatting

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        """As Textual's; a dialog (or a chat) opening also takes down the toasts
        already up, which would otherwise sit over its key line for seconds
        (the alerts stay in the alert strip and ``L``)."""
        from hitl_console.tui.screens.approvals import ApprovalsScreen
        from hitl_console.tui.screens.conversation import ConversationScreen

        if self.config.ui.alert_toasts == "auto" and isinstance(screen, (ModalScreen, ConversationScreen, ApprovalsScreen)):
            # before the push: Textual redraws only the current screen's toasts, and a
            # dialog shows the screen beneath it, whose toasts would stay drawn there
            self.clear_notifications()
        return super().push_screen(screen, *args, **kwargs)

    def quiet_alert_chip(self) -> list[tuple[str, str]]:
        """Status-line parts counting held-back alerts ("3 new alerts · L"), or none."""
        count = len(self.quiet_alerts)
        if not count:
            return []
        critical = any(a.level == "critical" for a in self.quiet_alerts)
        style = "$text-error bold" if critical else "$text-warning bold"
        return [("  ", ""), (f"⚑ {count} new alert{'s' if count != 1 else ''}", style), (" · L lists", "dim")]

    def clear_quiet_alerts(self) -> None:
        """The supervisor has looked (opened the alert list): the counter starts again."""
        if self.quiet_alerts:
            self.quiet_alerts = []
            self._show_alert_counters()

    def _show_alert_counters(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, LiveScreen):
                screen.show_alert_counter()

    def _toast(self, alerts: list[Alert]) -> None:
        """Pop up the most severe new alerts, a few at a time, when nothing is covered.

        Info-level alerts only go to the log. While :meth:`alerts_quiet` holds
        (a chat held, a dialog open) nothing pops up: warnings and criticals are
        counted on the status line instead (until ``L`` lists them) and sit in
        the alert strip.
        """
        now = time.monotonic()
        self._toast_times = [t for t in self._toast_times if t > now - TOAST_WINDOW_S]
        quiet = self.alerts_quiet()
        ranked = sorted(alerts, key=lambda a: {"critical": 0, "warning": 1}.get(a.level, 2))
        for alert in ranked:
            if alert.level == "info":
                continue
            if quiet:
                self.quiet_alerts.append(alert)
                self._show_alert_counters()
                continue
            if len(self._toast_times) >= TOASTS_PER_WINDOW:
                self._toasts_suppressed += 1
                continue
            self._toast_times.append(now)
            self.notify(
                one_line(alert.text, 110),
                title=f"Alert: {alert.level}",
                severity=SEVERITY.get(alert.level, "information"),  # type: ignore[arg-type]
                timeout={"critical": 10, "warning": 6}.get(alert.level, 4),
                markup=False,
            )
        if quiet:
            return
        if self._toasts_suppressed >= SUMMARY_AFTER and now - self._last_summary > TOAST_WINDOW_S:
            self.notify(
                f"{self._toasts_suppressed} more alerts: L lists them all.",
                title="Alerts",
                severity="warning",
                timeout=4,
                markup=False,
            )
            self._toasts_suppressed = 0
            self._last_summary = now

    # ------------------------------------------------------------ theme

    def _restyle_palette(self) -> None:
        self.palette = Palette.from_variables(self.theme_variables)

    def _restyle(self) -> None:
        self._restyle_palette()
        from hitl_console.tui.screens.floor import FloorScreen

        for screen in self.screen_stack:
            if isinstance(screen, FloorScreen):
                screen.restyle()

    # ------------------------------------------------------------ navigation

    def open_conversation(self, conversation_id: str, *, takeover: bool = False) -> None:
        from hitl_console.tui.screens.conversation import ConversationScreen

        if conversation_id not in self.session.engine.conversations:
            self.notify(f"{one_line(conversation_id, 40)} is not known here.", severity="warning", markup=False)
            return
        self.push_screen(ConversationScreen(conversation_id, takeover=takeover))

    def action_help(self) -> None:
        from hitl_console.tui.screens.help import HelpScreen

        if not isinstance(self.screen, ModalScreen):
            self.push_screen(HelpScreen())

    def action_approvals(self) -> None:
        self.open_approvals()

    def open_approvals(self, approval_id: str | None = None) -> None:
        """The approvals queue, its cursor on ``approval_id`` if given: the one
        place where a request is approved or denied."""
        from hitl_console.tui.screens.approvals import ApprovalsScreen

        if isinstance(self.screen, ModalScreen):
            return
        if isinstance(self.screen, ApprovalsScreen):
            self.screen.select(approval_id)
            return
        self.push_screen(ApprovalsScreen(select=approval_id))

    def action_alerts(self) -> None:
        from hitl_console.tui.screens.alerts import AlertsScreen

        if isinstance(self.screen, (AlertsScreen, ModalScreen)):
            return
        self.clear_quiet_alerts()
        self.push_screen(AlertsScreen())

    def action_metrics(self) -> None:
        from hitl_console.tui.screens.metrics import MetricsScreen

        if not isinstance(self.screen, (MetricsScreen, ModalScreen)):
            self.push_screen(MetricsScreen())

    def action_review(self) -> None:
        from hitl_console.tui.screens.review_queue import ReviewScreen

        if not isinstance(self.screen, (ReviewScreen, ModalScreen)):
            self.push_screen(ReviewScreen())

    async def action_quit(self) -> None:
        if isinstance(self.screen, ModalScreen) and isinstance(self.screen, ConfirmDialog):
            return
        held = self.held_by_me() if self.session is not None else []
        if not held:
            self.exit()
            return
        names = ", ".join(one_line(s.conversation_id, 24) for s in held[:5]) + (" …" if len(held) > 5 else "")
        dialog = ConfirmDialog(
            "Quit?",
            f"You hold {len(held)} conversation(s): {names}. Customers may be waiting for you.",
            [(CONFIRM_KEY, "hand all back to the AI and quit"), ("y", "quit, keep holding them")],
            displays={CONFIRM_KEY: CONFIRM_KEY_DISPLAY},
        )
        self.push_screen(dialog, self._after_quit_question)

    def _after_quit_question(self, answer: str | None) -> None:
        if answer == "y":
            self.exit()
        elif answer == CONFIRM_KEY:
            self._release_all_and_quit()

    @work(exclusive=True, group="quit")
    async def _release_all_and_quit(self) -> None:
        failed = []
        for state in self.held_by_me():
            result = await self.session.release(state.conversation_id, "supervisor quit the console")
            if not result.ok:
                failed.append(f"{state.conversation_id}: {result.describe()}")
        if failed:
            self.notify("Not handed back: " + "; ".join(failed), severity="error", timeout=15, markup=False)
            return
        self.exit()

    # ------------------------------------------------------------ approvals

    def decide_approval(self, approval: Approval, verb: Literal["approve", "deny"]) -> None:
        """Show the request in a :class:`DecisionDialog`; send ``verb`` only once confirmed.

        The approvals queue is the one caller: no other screen binds approve or deny."""
        from hitl_console.tui.screens.decision import Decision, DecisionDialog

        def answered(decision: Decision | None) -> None:
            if decision is not None:
                self._send_decision(approval, decision.verb, decision.note)

        dialog = DecisionDialog(
            approval,
            verb,
            state=lambda: self.session.engine.conversations.get(approval.conversation_id),
            clock=self.clock,
        )
        self.push_screen(dialog, answered)

    @work(group="approvals")
    async def _send_decision(self, approval: Approval, verb: str, note: str | None) -> None:
        call = self.session.approve if verb == "approve" else self.session.deny
        result = await call(approval.conversation_id, approval.approval_id, note)
        what = f"{one_line(approval.action, 60)} on {one_line(approval.conversation_id, 40)}"
        if result.ok:
            self.notify(f"{'Approved' if verb == 'approve' else 'Denied'}: {what}.", markup=False)
        else:
            noun = "Approval" if verb == "approve" else "Denial"
            self.notify(f"{noun} of {what} {result.describe()}", severity="error", timeout=10, markup=False)
        self._approvals_dirty = True
        self.request_refresh()

    # ------------------------------------------------------------ replay

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action.startswith("replay_"):
            return self.session is not None and self.session.replay() is not None
        return True

    def _replay_changed(self) -> None:
        from hitl_console.tui.screens.floor import FloorScreen

        for screen in self.screen_stack:
            if isinstance(screen, FloorScreen):
                screen.show_replay()

    def action_replay_toggle(self) -> None:
        controls = self.session.replay()
        if controls is not None:
            controls.toggle()
            self._replay_changed()

    def action_replay_step(self) -> None:
        controls = self.session.replay()
        if controls is not None:
            controls.step()
            self._replay_changed()

    def _set_speed(self, direction: int) -> None:
        controls = self.session.replay()
        if controls is None:
            return
        speeds = REPLAY_SPEEDS
        current = controls.speed
        if direction > 0:
            faster = [s for s in speeds if s > current + 1e-9]
            controls.speed = faster[0] if faster else speeds[-1]
        else:
            slower = [s for s in speeds if s < current - 1e-9]
            controls.speed = slower[-1] if slower else speeds[0]
        self._replay_changed()
        self.notify(f"Replay speed {controls.speed:g}×", timeout=2, markup=False)

    def action_replay_faster(self) -> None:
        self._set_speed(+1)

    def action_replay_slower(self) -> None:
        self._set_speed(-1)

    # ------------------------------------------------------------ command palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action bound on the current screen, plus Textual's own (theme, quit, keys)."""
        yield from super().get_system_commands(screen)
        seen: set[str] = {"Quit"}
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system or not active.enabled:
                continue
            if binding.description in seen:
                continue
            seen.add(binding.description)
            node = active.node
            action = binding.action

            async def run(node=node, action=action) -> None:
                await node.run_action(action)

            key = binding.key_display or binding.key
            yield SystemCommand(f"{binding.description} ({key})", binding.tooltip or binding.description, run)


HANGUP_EXIT_S = 12.0
"""After a hang-up, how long the console may take to shut down before it is ended."""


def _exit_if_stuck(after_s: float) -> None:
    """End the process if a shutdown after a hang-up has not finished in ``after_s``.

    Seen in tmux: after ``kill-session`` the session stopped cleanly (journal
    closed, feeds closed), then Textual's driver blocked for good handing its
    last writes to a terminal that no longer exists, and the console lived
    on, holding the journal's writer lock. The timer is a daemon thread: a
    normal exit never waits for it.
    """
    import os
    import threading

    def force() -> None:
        log.error("shutdown still running %.0fs after the terminal hung up: exiting now", after_s)
        logging.shutdown()
        os._exit(0)

    timer = threading.Timer(after_s, force)
    timer.daemon = True
    timer.start()
