"""The console in a browser: textual-serve, with the doors a browser opens closed.

textual-serve starts one console process per browser tab (the command line
the terminal console would run, with Textual's web driver) and relays its
screen and keys over a WebSocket. Whoever drives that WebSocket acts as the
supervisor, so this server adds what a page on loopback still needs:

* **Origin check**: only the console's own page may open the WebSocket. A
  browser lets any site the supervisor visits open ``ws://127.0.0.1:PORT``;
  without the check that site could take over chats and approve refunds.
  It also defeats DNS rebinding (the page's origin is then the attacker's
  name).
* **No framing** (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``), so
  no other page can overlay the console and steer the supervisor's clicks
  and keys; a Content-Security-Policy that lets the page load only from
  itself (textual-serve's page also names a web font on a font CDN: the
  link is taken out, and the browser uses a local monospace font).
* **The keyboard in the console** as soon as the page loads, so that a
  keyboard-only supervisor need not click first.
* **Nothing secret in the page**: the title is ``hitl-console``, not the
  command line (which may name a feed URL), and the feed token stays in the
  server's environment, handed to each console process, never to the browser.

Import only when serving: it needs the ``web`` extra (textual-serve, aiohttp).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, web
from textual_serve.server import Server

log = logging.getLogger("hitl_console.web")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

WEB_FONT = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>\s*", re.S)
FOCUS_TERMINAL = (
    "<script>window.addEventListener('load', () => setTimeout(() => {"
    " const keys = document.querySelector('.xterm-helper-textarea'); if (keys) { keys.focus(); } }, 0));</script>\n"
)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased, as a browser sends it in ``Origin``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class ConsoleServer(Server):
    """textual-serve's server with an Origin check, security headers and a plain banner."""

    def __init__(
        self,
        command: str,
        *,
        host: str,
        port: int,
        public_url: str,
        allowed_origins: Iterable[str],
        banner: str,
    ) -> None:
        super().__init__(command, host=host, port=port, title="hitl-console", public_url=public_url.rstrip("/"))
        self.allowed_origins = frozenset(origin.lower() for origin in allowed_origins)
        self.banner = banner
        self._sockets: set[web.WebSocketResponse] = set()  # the open tabs

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service: Any) -> None:
        # textual-serve 1.1.3 (pinned) relays a tab's keys here for as long as
        # the tab is open: the one place that sees each tab's socket.
        self._sockets.add(websocket)
        try:
            await super()._process_messages(websocket, app_service)
        finally:
            self._sockets.discard(websocket)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.on_response_prepare.append(self._secure_headers)
        return app

    @staticmethod
    async def _secure_headers(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        # textual-serve's page, with the keyboard in the console from the
        # start (xterm.js waits for a click otherwise: an operator who only
        # types would type into nothing) and without its web-font link.
        response = await super().handle_index(request)
        if isinstance(response, web.Response) and response.text:
            page = WEB_FONT.sub("", response.text)
            response.text = page.replace("</body>", FOCUS_TERMINAL + "</body>", 1)
        return response

    async def on_startup(self, app: web.Application) -> None:
        # textual-serve prints the command line here, which may name a feed
        # with credentials in its URL; say where to point the browser instead.
        print(self.banner, flush=True)

    async def on_shutdown(self, app: web.Application) -> None:
        # aiohttp waits for open WebSockets before it stops (60 s by default)
        # and textual-serve closes none: close each tab's socket, which quits
        # its console, so that Ctrl-C or SIGTERM ends the server and every
        # console it started within seconds.
        sockets = list(self._sockets)
        for socket in sockets:
            try:
                await socket.close(code=WSCloseCode.GOING_AWAY, message=b"hitl-console serve is stopping")
            except Exception:
                log.exception("closing a console's WebSocket")

    async def handle_websocket(self, request: web.Request) -> Any:
        origin = (request.headers.get("Origin") or "").rstrip("/").lower()
        if origin not in self.allowed_origins:
            log.warning("refused a console WebSocket from origin %r (allowed: %s)", origin or "none", ", ".join(sorted(self.allowed_origins)))
            raise web.HTTPForbidden(text="hitl-console: this console only accepts its own page (Origin check)\n")
        return await super().handle_websocket(request)
