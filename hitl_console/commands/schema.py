"""``hitl-console schema``: the JSON Schema of the wire contract.

Platform teams who build a feed validate their events against this rather
than against prose; it is generated from the same pydantic models the
console validates with, so the two cannot drift apart. Importing this module
loads pydantic and the protocol models only (no Textual), so it is fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pydantic import TypeAdapter

from hitl_console.protocol.events import Command, WireFrame

PARTS = ("all", "events", "commands")


def events_schema() -> dict[str, Any]:
    """Everything a feed may send: conversation events, heartbeats and acks."""
    return TypeAdapter(WireFrame).json_schema()


def commands_schema() -> dict[str, Any]:
    """Everything the console sends on the control channel."""
    return TypeAdapter(Command).json_schema()


def schema_document(part: str = "all") -> dict[str, Any]:
    """The schema of ``part``: one part alone, or ``{"$defs", "events", "commands"}`` for ``all``."""
    if part == "events":
        return events_schema()
    if part == "commands":
        return commands_schema()
    if part != "all":
        raise ValueError(f"unknown part {part!r} (choose from {', '.join(PARTS)})")
    return combined({"events": events_schema(), "commands": commands_schema()})


def combined(parts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One document holding several schemas: their ``$defs`` move to its root, where
    their ``$ref``s (``#/$defs/Name``, relative to the document) point, so every
    reference resolves in the document as printed. A name defined two different
    ways would make one part's references point at the other's definition: refused."""
    defs: dict[str, Any] = {}
    document: dict[str, Any] = {}
    for key, schema in parts.items():
        schema = dict(schema)
        for name, definition in schema.pop("$defs", {}).items():
            if name in defs and defs[name] != definition:
                raise ValueError(f"schema definition {name!r} differs between parts; cannot share one $defs")
            defs[name] = definition
        document[key] = schema
    return {"$defs": defs, **document}


def run(args: argparse.Namespace) -> int:
    """Print the schema as indented JSON on standard output."""
    document = schema_document(getattr(args, "part", "all") or "all")
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False) + "\n")
    return 0
