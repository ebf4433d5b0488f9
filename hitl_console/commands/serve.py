"""``hitl-console serve``: the same console as a web page (textual-serve).

Each browser tab gets its own console process, started with the command
line the terminal console would run (``hitl-console [--config F] [--feed URL
... --token-env VAR] [--agent ...]``; the demo when there is no feed), so
everything the console checks is checked here first, before the server
listens: a bad config or feed is one message and exit 2 at the prompt, not
a browser tab that never loads.

The server binds to loopback unless ``--allow-remote`` says otherwise: a
served console has no login of its own, and whoever reaches it acts as the
supervisor. docs/deployment.md (the console in a browser) says how to put it
behind a reverse proxy with login and TLS.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit

from hitl_console.commands.common import fail
from hitl_console.commands.console import UsageError, prepare

EXIT_USAGE = 2
INSTALL_HINT = "serve needs the web extra (textual-serve): pip install 'hitl-console[web]'"


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1); a name that may
    resolve elsewhere, or an empty host (every interface), is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def console_argv(args: argparse.Namespace) -> list[str]:
    """The terminal console's options from ``serve``'s, for each tab's process.

    Paths are made absolute (the server may be started from anywhere). A
    token is passed by the *name* of its variable, which the process
    inherits: the token itself is on no command line and never sent to the
    browser.
    """
    argv: list[str] = []
    if getattr(args, "config", None):
        argv += ["--config", str(Path(args.config).expanduser().resolve())]
    if getattr(args, "agent", None) is not None:
        argv += ["--agent", args.agent]
    if getattr(args, "theme", None):
        argv += ["--theme", args.theme]
    if getattr(args, "no_mouse", False):
        argv.append("--no-mouse")
    if getattr(args, "journal", None):
        argv += ["--journal", str(Path(args.journal).expanduser().resolve())]
    if getattr(args, "no_journal", False):
        argv.append("--no-journal")
    for url in getattr(args, "feed", None) or []:
        argv += ["--feed", url if "://" in url else str(Path(url).expanduser().resolve())]
    if getattr(args, "token_env", None):
        argv += ["--token-env", args.token_env]
    return argv


def console_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve runs for each tab (it uses a shell)."""
    return shlex.join([sys.executable, "-m", "hitl_console", *console_argv(args)])


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def allowed_origins(host: str, port: int, public_url: str | None) -> list[str]:
    """The page origins that may open the console's WebSocket: the public URL's,
    and on loopback every name of this machine's loopback at that port (a
    browser may have been pointed at localhost or 127.0.0.1)."""
    from hitl_console.tui.web import origin_of

    origins = [origin_of(public_url)] if public_url else []
    if is_loopback(host):
        origins += [f"http://{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]", _url_host(host))]
    return sorted(set(origins))


def run(args: argparse.Namespace) -> int:
    """Check the console's command line, then serve it until Ctrl-C."""
    host, port = args.host, int(args.port)
    if not is_loopback(host) and not args.allow_remote:
        return fail(
            f"serve: --host {host or '(every interface)'} is not a loopback address. A served console has no login: "
            "anyone who reaches it acts as you (takes over chats, approves refunds). Put a reverse proxy with "
            "login and TLS in front of a loopback console (docs/deployment.md, the console in a browser), "
            "or pass --allow-remote to bind it anyway.",
            EXIT_USAGE,
        )
    if not 1 <= port <= 65535:
        return fail("serve: --port must be between 1 and 65535", EXIT_USAGE)
    public_url = getattr(args, "public_url", None)
    if public_url and urlsplit(public_url).scheme.lower() not in ("http", "https"):
        return fail(f"serve: --public-url must be an http:// or https:// address, not {public_url!r}", EXIT_USAGE)
    try:
        prepared = prepare(args)
    except UsageError as error:
        return fail(str(error), EXIT_USAGE)
    try:
        from hitl_console.tui.web import ConsoleServer
    except ImportError:
        return fail(INSTALL_HINT, EXIT_USAGE)

    url = (public_url or f"http://{_url_host(host)}:{port}").rstrip("/")
    plan = prepared.plan
    what = "the demo" if plan.mode == "demo" else f"{plan.mode}, {len(plan.specs)} feed(s)"
    banner = (
        f"hitl-console serve: the console ({what}) at {url}/\n"
        "Each browser tab starts its own console; Ctrl-C stops the server and them."
    )
    if not is_loopback(host):
        print(f"hitl-console: warning: serving on {host}, not loopback: only behind a proxy with login and TLS", file=sys.stderr)
    server = ConsoleServer(
        console_command(args),
        host=host,
        port=port,
        public_url=url,
        allowed_origins=allowed_origins(host, port, public_url),
        banner=banner,
    )
    asyncio.set_event_loop(asyncio.new_event_loop())  # textual-serve runs on the current loop
    try:
        server.serve()
    except OSError as error:
        return fail(f"serve: cannot listen on {host}:{port}: {error.strerror or error}")
    return 0
