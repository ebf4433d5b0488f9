"""Large synthetic recordings for the whole-process benchmarks.

``write_recording(path, events, abandoned=...)`` writes ``events`` events of
the simulator's default floor mix (``hitl_console.sim.timeline.generate_events``,
the scripts the bundled samples come from) as JSON lines, optionally gzipped.
The simulator builds a recording in memory, so a large one is made of blocks
of ``BLOCK`` conversations, each starting when the previous block's last event
happened (time never goes back; ``seq`` keeps increasing; ids are unique).

``abandoned`` is the share of conversations that never end: their
``conversation.ended`` and everything after it (the scorecard) are left out,
as for chats whose customer simply went away. Which ones is decided by the
conversation's number, so the same arguments always give the same file.

    python benchmarks/recordings.py OUT.jsonl --events 200000 [--abandoned 0.02]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hitl_console.sim.scenarios import START_TS  # noqa: E402
from hitl_console.sim.timeline import generate_events  # noqa: E402

BLOCK = 5_000
"""Conversations generated at once (about 47,000 events)."""
CONCURRENCY = 50
"""Conversations open at once: the simulator's default floor."""


def _abandons(cid: str, share: float) -> bool:
    return share > 0 and (zlib.crc32(cid.encode()) % 10_000) < share * 10_000


def iter_events(events: int, *, abandoned: float = 0.0, seed: int = 11) -> Iterator[dict[str, Any]]:
    """``events`` wire-form events (dicts), in time order."""
    made = 0
    seq = 0
    start = START_TS
    block = 0
    while made < events:
        batch = generate_events(seed + block, BLOCK, start_ts=start, concurrency=CONCURRENCY, id_prefix=f"b{block}-")
        gone: set[str] = set()
        last_ts = start
        for event in batch:
            cid = event["conversation_id"]
            if cid in gone:
                continue
            if event["type"] == "conversation.ended" and _abandons(cid, abandoned):
                gone.add(cid)
                continue
            seq += 1
            event["seq"] = seq
            last_ts = event["ts"]
            yield event
            made += 1
            if made >= events:
                return
        start = last_ts
        block += 1


def write_recording(path: Path, events: int, *, abandoned: float = 0.0, seed: int = 11) -> Path:
    """Write the recording to ``path`` (``.jsonl`` or ``.jsonl.gz``); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    out: IO[bytes]
    if path.name.endswith(".gz"):
        out = gzip.GzipFile(tmp, "wb", compresslevel=5, mtime=0)  # type: ignore[assignment]
    else:
        out = open(tmp, "wb")
    with out:
        lines: list[bytes] = []
        for event in iter_events(events, abandoned=abandoned, seed=seed):
            lines.append(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
            if len(lines) >= 10_000:
                out.write(b"".join(lines))
                lines.clear()
        out.write(b"".join(lines))
    tmp.replace(path)
    return path


def cached_recording(directory: Path, events: int, abandoned: float, *, suffix: str = ".jsonl") -> Path:
    """The recording for these arguments in ``directory``, written once."""
    kind = f"abandoned{round(abandoned * 100)}" if abandoned else "ended"
    path = directory / f"floor-{events}-{kind}{suffix}"
    if not path.exists():
        write_recording(path, events, abandoned=abandoned)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--abandoned", type=float, default=0.0, help="share of conversations that never end")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    write_recording(args.out, args.events, abandoned=args.abandoned, seed=args.seed)
    print(f"{args.out}: {args.events:,} events, {args.out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
