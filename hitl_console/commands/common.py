"""Small things every subcommand needs: the config, loaded with a clear error."""

from __future__ import annotations

import argparse
import sys

from hitl_console.config import Config, ConfigError, load_config
from hitl_console.redaction import redact


def config_or_exit(args: argparse.Namespace) -> Config:
    """The config named by ``--config`` (or the default one); a bad one ends the
    command with the message, which names the key, and exit status 2."""
    try:
        return load_config(getattr(args, "config", None))
    except ConfigError as error:
        print(f"hitl-console: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def fail(message: str, status: int = 1) -> int:
    """One line on stderr, secrets masked: messages often quote a feed's URL."""
    print(f"hitl-console: {redact(message)}", file=sys.stderr)
    return status
