"""Optional POST of alerts to ``alerts.webhook_url`` (a chat channel, a pager bridge).

What goes out, and what never does:

* The payload holds ids, kinds, levels, times and figures only
  (:func:`alert_payload`). ``Alert.text`` is *not* sent: trigger alerts may
  quote what a customer wrote, and a webhook lands in places (chat rooms,
  third-party services) that must not receive customer text.
* No secrets: the console sends no token, and the URL (which for many chat
  webhooks *is* the secret) is never logged; logs name the host only.

Delivery: each alert is one POST with a timeout; a connection error, a
timeout, a 429 or a 5xx answer is retried up to ``alerts.webhook_retries``
times with exponential backoff; other 4xx answers are not retried (the
request will not get better). Sending never raises into the caller: a
broken webhook must not take an alert off a supervisor's screen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from hitl_console import __version__
from hitl_console.config import AlertConfig
from hitl_console.alerts.model import Alert

log = logging.getLogger(__name__)

SAFE_FIGURE_TYPES = (int, float, bool, str)


def safe_host(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what logs may show of it."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def alert_payload(alert: Alert, figures: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body for one alert: no text, only ids, kinds and figures.

    ``figures`` (``Condition.figures``) keep only scalar
    values; strings are cut to 80 characters, as they name topics, trigger
    kinds or feeds, never carry prose.
    """
    clean: dict[str, Any] = {}
    for k, v in (figures or {}).items():
        if isinstance(v, SAFE_FIGURE_TYPES):
            clean[str(k)[:40]] = v[:80] if isinstance(v, str) else v
    return {
        "source": "hitl-console",
        "version": __version__,
        "alert_id": alert.id,
        "ts": alert.ts,
        "level": alert.level,
        "kind": alert.kind,
        "key": alert.key,
        "conversation_id": alert.conversation_id,
        "figures": clean,
    }


class WebhookSender:
    """POSTs alerts with retries; use :meth:`send` to await one, :meth:`spawn` to fire and forget."""

    def __init__(
        self,
        url: str,
        *,
        retries: int = 3,
        timeout_s: float = 5.0,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"webhook URL must be http(s): {safe_host(url)}")
        self.url = url
        self.retries = max(0, int(retries))
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._client = client
        self._owns_client = client is None
        self._tasks: set[asyncio.Task[bool]] = set()
        self.sent = 0
        self.failed = 0

    @classmethod
    def from_config(cls, config: AlertConfig) -> "WebhookSender | None":
        """A sender for ``config.webhook_url``, or None when no webhook is configured."""
        if not config.webhook_url:
            return None
        return cls(config.webhook_url, retries=config.webhook_retries)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s),
                headers={"User-Agent": f"hitl-console/{__version__}"},
                follow_redirects=False,
            )
        return self._client

    def _delay(self, attempt: int) -> float:
        return min(self.max_backoff_s, self.backoff_s * (2**attempt))

    async def send(self, alert: Alert, figures: Mapping[str, Any] | None = None) -> bool:
        """POST one alert; True once a 2xx answer came, False when every attempt failed."""
        body = alert_payload(alert, figures)
        where = safe_host(self.url)
        for attempt in range(self.retries + 1):
            try:
                response = await self._http().post(self.url, json=body)
            except (httpx.TimeoutException, httpx.TransportError) as error:
                log.warning("webhook %s: attempt %d failed: %s", where, attempt + 1, type(error).__name__)
            else:
                if response.is_success:
                    self.sent += 1
                    return True
                status = response.status_code
                log.warning("webhook %s: attempt %d answered HTTP %d", where, attempt + 1, status)
                if status != 429 and status < 500:
                    break
            if attempt < self.retries:
                await asyncio.sleep(self._delay(attempt))
        self.failed += 1
        return False

    def spawn(self, alert: Alert, figures: Mapping[str, Any] | None = None) -> asyncio.Task[bool]:
        """Send in the background (from a running loop); the task is kept until done."""
        task = asyncio.get_running_loop().create_task(self.send(alert, figures))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self, timeout_s: float = 5.0) -> None:
        """Wait up to ``timeout_s`` for background sends, cancel the rest, close the client."""
        if self._tasks:
            pending = list(self._tasks)
            done, still = await asyncio.wait(pending, timeout=timeout_s)
            for task in still:
                task.cancel()
            if still:
                await asyncio.gather(*still, return_exceptions=True)
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    def __repr__(self) -> str:  # never show the URL path or query: it may be the secret
        return f"WebhookSender({safe_host(self.url)}, retries={self.retries})"
