"""Command line: ``hitl-console [SUBCOMMAND] ...``.

Without a subcommand the console starts: on the configured feeds, on the
``--feed`` URLs, or, when there are none, on the built-in demo. Each
subcommand's work lives in ``hitl_console.commands.<name>``, imported only
when it runs, so that ``hitl-console schema`` does not load Textual.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from hitl_console import __version__
from hitl_console.engine import BUILD as ENGINE_BUILD

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _sub_default(top: bool, default: object) -> object:
    """A subcommand's copy of a global option must not reset what was given
    before the subcommand (``hitl-console --config F analyze``): argparse
    writes a subparser's defaults over the parent's, unless suppressed."""
    return default if top else argparse.SUPPRESS


def _common(parser: argparse.ArgumentParser, top: bool = False) -> None:
    parser.add_argument(
        "--config", metavar="FILE", default=_sub_default(top, None), help="TOML config (default: the XDG config file, if any)"
    )


def _console_options(parser: argparse.ArgumentParser, top: bool = False) -> None:
    parser.add_argument(
        "--agent", metavar="NAME", default=_sub_default(top, None), help="who takes over (default: config, else the login name)"
    )
    parser.add_argument(
        "--theme", metavar="NAME", default=_sub_default(top, None), help="a theme from themes/ or a built-in Textual theme"
    )
    parser.add_argument(
        "--no-mouse", action="store_true", default=_sub_default(top, False), help="keyboard only (no mouse reporting)"
    )
    parser.add_argument(
        "--journal", metavar="FILE", default=_sub_default(top, None), help="SQLite journal (default: under the XDG data directory)"
    )
    parser.add_argument(
        "--no-journal",
        action="store_true",
        default=_sub_default(top, False),
        help="keep nothing on disk (the journal lives in memory)",
    )


def _speed(parser: argparse.ArgumentParser, default: float) -> None:
    parser.add_argument("--speed", type=float, default=default, metavar="X", help=f"replay speed factor (default {default:g})")


class _Version(argparse.Action):
    """``--version``: the version, the engine build and which scorer each signal
    uses under the default config file (the built-in defaults if there is none
    or it does not load: the version always answers)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: str | None = None) -> None:
        from hitl_console.config import Config, load_config
        from hitl_console.engine.scorers import configured, summary

        try:
            config = load_config(None)
        except Exception:  # a bad config file is reported by the commands that use it
            config = Config()
        print(f"hitl-console {__version__} (engine: {ENGINE_BUILD})\nscorers: {summary(configured(config.signals))}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hitl-console",
        description="Supervise AI customer-support agents: live floor, handoff, approvals and review.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version, the engine build and the scorers, and exit")
    _common(parser, top=True)
    _console_options(parser, top=True)
    parser.add_argument(
        "--feed",
        action="append",
        default=[],
        metavar="URL",
        help="ws://, wss://, http(s)://, nats://HOST:4222/STREAM or a recording file; repeatable",
    )
    parser.add_argument("--token-env", metavar="VAR", help="environment variable holding the bearer token for --feed")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="the console on the built-in simulator (no server, no config)")
    _common(p)
    _console_options(p)
    _speed(p, 1.0)
    p.add_argument("--seed", type=int, default=7, help="simulator seed")

    p = sub.add_parser("replay", help="the console on recordings, with progress, pause and step")
    _common(p)
    _console_options(p)
    p.add_argument("files", nargs="+", metavar="FILE")
    _speed(p, 1.0)
    p.add_argument("--fast", action="store_true", help="as fast as possible")

    p = sub.add_parser("serve", help="the console as a web page (textual-serve), on 127.0.0.1 unless told otherwise")
    _common(p)
    _console_options(p)
    p.add_argument(
        "--feed", action="append", default=argparse.SUPPRESS, metavar="URL", help="as for the console; none: the demo (or the config's feeds)"
    )
    p.add_argument("--token-env", metavar="VAR", default=argparse.SUPPRESS, help="as for the console; the token stays on the server")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; others need --allow-remote)")
    p.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, behind a reverse proxy (https://console.example.com): "
        "the page connects there, and only pages from there may drive the console",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="bind a non-loopback --host: anyone who reaches it acts as you; put a reverse proxy with login and TLS in front",
    )

    p = sub.add_parser("schema", help="print the JSON Schema of events and commands")
    p.add_argument("--part", choices=["all", "events", "commands"], default="all")

    p = sub.add_parser("analyze", help="run the signal engine over recordings")
    _common(p)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per conversation, one per line")
    p.add_argument("--no-handoff", action="store_true", help="leave out the handoff summaries (triggers and risk only; faster)")

    p = sub.add_parser("record", help="record a feed to a .jsonl/.msgpack file (optionally .gz)")
    _common(p)
    p.add_argument("--feed", required=True, metavar="URL")
    p.add_argument("--token-env", metavar="VAR", default=argparse.SUPPRESS)
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--max-events", type=int, metavar="N")
    p.add_argument("--idle-exit", type=float, metavar="S", help="stop after S seconds without an event")
    p.add_argument("--since", type=int, metavar="SEQ", help="resume cursor to start from")

    p = sub.add_parser("check-feed", help="validate a feed or a file and list what it rejected")
    _common(p)
    p.add_argument("target", metavar="URL|FILE")
    p.add_argument("--token-env", metavar="VAR", default=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=5.0, metavar="S", help="for live feeds: how long to listen")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("simulate", help="a simulated AI-agent platform on 127.0.0.1 (WebSocket and HTTP)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (loopback by default)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--rate", type=float, default=2.0, metavar="R", help="new conversations per second")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--pace", type=float, default=1.0, help="time factor for turns (0.1 = ten times faster)")
    p.add_argument("--token", metavar="TOKEN", help="require this bearer token (or set HITL_SIM_TOKEN)")
    p.add_argument("--max-conversations", type=int, metavar="N", help="stop starting new ones after N")
    p.add_argument("--nats", metavar="URL", help="publish straight into JetStream (nats://HOST:4222/STREAM) instead of serving")
    p.add_argument("--nats-token-env", metavar="VAR", help="environment variable with the NATS token (default HITL_NATS_TOKEN)")

    p = sub.add_parser("bridge", help="republish feeds into NATS JetStream for a floor of consoles; relay commands back")
    _common(p)
    p.add_argument("--from", dest="sources", action="append", required=True, metavar="URL", help="a feed (ws://, http://, a file, a configured name); repeatable")
    p.add_argument("--to", required=True, metavar="URL", help="nats://HOST:4222[,HOST2:4222]/STREAM[?control=SUBJECT]")
    p.add_argument(
        "--token-env",
        metavar="VAR",
        default=argparse.SUPPRESS,
        help="environment variable with the bearer token of the --from feeds",
    )
    p.add_argument("--nats-token-env", metavar="VAR", help="environment variable with the NATS token (default HITL_NATS_TOKEN)")
    p.add_argument("--replicas", type=int, default=1, metavar="N", help="stream replicas when the bridge creates it (3 on a cluster)")
    p.add_argument("--fast", action="store_true", help="recordings: as fast as possible")

    p = sub.add_parser("report", help="metrics, containment by topic, worst conversations, triggers")
    _common(p)
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("--journal", nargs="?", const="", default=argparse.SUPPRESS, metavar="FILE", help="read the journal (default path if no FILE)")
    p.add_argument("--since", metavar="WHEN", help="ISO date/time or a duration such as 24h, 7d")
    p.add_argument("--format", choices=["text", "md", "json"], default="text")

    p = sub.add_parser("calibrate", help="recommend thresholds and fit the risk weights to past outcomes")
    _common(p)
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("--journal", nargs="?", const="", default=None, metavar="FILE", help="read the journal (default path if no FILE)")
    p.add_argument("--band", default="0.10-0.20", metavar="LO-HI", help="target escalation band")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("review", help="review queues and export of reviewed examples")
    _common(p)
    rsub = p.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    rp = rsub.add_parser("export", help="JSONL of reviewed examples")
    _common(rp)
    rp.add_argument("--journal", metavar="FILE", default=argparse.SUPPRESS)
    rp.add_argument("--since", metavar="WHEN")
    rp.add_argument("-o", "--output", metavar="FILE", help="default: standard output")
    rp = rsub.add_parser("queue", help="list a review queue")
    _common(rp)
    rp.add_argument("--journal", metavar="FILE", default=argparse.SUPPRESS)
    rp.add_argument("--role", metavar="ROLE")
    rp.add_argument("files", nargs="*", metavar="FILE", help="recordings to score (default: the journal)")
    for action, text in (("claim", "claim a review item (in the team's claims too, with a team bus)"),
                         ("release", "give a claimed review item back"),
                         ("verdict", "record the verdict on an item one holds")):
        rp = rsub.add_parser(action, help=text)
        _common(rp)
        rp.add_argument("--journal", metavar="FILE", default=argparse.SUPPRESS)
        rp.add_argument("--agent", metavar="NAME", help="the reviewer (default: config, else the login name)")
        rp.add_argument("item", metavar="ITEM", help="a review item id (see 'review queue')")
        if action == "verdict":
            from hitl_console.store.reviews import Verdict

            rp.add_argument("verdict", choices=[v.value for v in Verdict], metavar="VERDICT",
                            help=", ".join(v.value for v in Verdict))
            rp.add_argument("--note", metavar="TEXT")

    return parser


COMMANDS = {
    None: "console",
    "demo": "console",
    "replay": "console",
    "schema": "schema",
    "analyze": "analyze",
    "record": "record",
    "check-feed": "check_feed",
    "simulate": "simulate",
    "serve": "serve",
    "bridge": "bridge",
    "report": "report",
    "calibrate": "calibrate",
    "review": "review",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    module = importlib.import_module(f"hitl_console.commands.{COMMANDS[args.command]}")
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `hitl-console analyze ... | head`
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
