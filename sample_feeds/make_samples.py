"""Regenerate the sample recordings in this directory, byte for byte.

    /tmp/venv/bin/python sample_feeds/make_samples.py [--check]

Every file comes from ``hitl_console.sim.timeline.generate_events`` with a
fixed seed, so the recordings change only when the scripts do. ``--check``
regenerates in memory and exits 1 if a file on disk differs (for CI).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack

from hitl_console.sim.scenarios import DEFAULT_MIX
from hitl_console.sim.timeline import generate_events

HERE = Path(__file__).resolve().parent

# Richer than a real floor so that a 40-conversation demo shows every pattern.
DEMO_MIX = {name: (0.45 if name == "happy" else 0.55 / (len(DEFAULT_MIX) - 1)) for name in DEFAULT_MIX}
ESCALATION_MIX = {name: 1.0 for name in ("fraud", "legal", "safety", "hacked", "big_refund", "angry", "loop", "ask_human", "ai_escalates", "low_confidence")}


def _jsonl(events: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n" for e in events).encode()


def _msgpack(events: list[dict[str, Any]]) -> bytes:
    return b"".join(msgpack.packb(e, use_bin_type=True) for e in events)


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:  # no timestamp: reproducible
        f.write(data)
    return buf.getvalue()


SAMPLES: dict[str, Callable[[], bytes]] = {
    "demo-floor.jsonl": lambda: _jsonl(generate_events(2, 40, concurrency=12, mix=DEMO_MIX)),
    "escalations.msgpack": lambda: _msgpack(generate_events(23, 12, concurrency=6, mix=ESCALATION_MIX, id_prefix="e-")),
    "calibration.jsonl.gz": lambda: _gzip(_jsonl(generate_events(42, 200, concurrency=30, id_prefix="k-"))),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, make in SAMPLES.items():
        data = make()
        path = HERE / name
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(name)
            continue
        path.write_bytes(data)
        print(f"{name}: {len(data):,} bytes")
    if stale:
        print("stale samples: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
