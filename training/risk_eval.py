"""How well the risk score ranks conversations that went wrong above the rest.

    python training/risk_eval.py sample_feeds/calibration.jsonl.gz [--text-only] [--risk FILE.toml]

Replays recordings through the signal engine of whichever ``hitl_console`` is
importable (so the same script measures an older checkout's score with
``PYTHONPATH=OLD_CHECKOUT``), keeps each conversation's peak risk *before a
person joined* (what the floor's order could act on), labels it with
``analysis.calibrate.went_wrong`` (outcome, CSAT, scorecard) and prints the
AUROC, the number of conversations and the number that went wrong.

``--text-only`` drops what a plain transcript lacks (the feed's customer
sentiment, the AI's confidence, voice tone, routing profile), as in public
rated dialogues that carry only the words. ``--risk`` reads a config whose
``[risk]`` section replaces the default weights (current checkout only).

This is a check, not a fit: nothing here changes a weight.
"""

from __future__ import annotations

import argparse
from pathlib import Path



def _strip(event: object) -> object:
    """The event as a plain transcript would have it."""
    updates: dict[str, object] = {}
    for name in ("sentiment", "confidence", "voice"):
        if getattr(event, name, None) is not None:
            updates[name] = None
    return event.model_copy(update=updates) if updates else event  # type: ignore[attr-defined]


def peak_risks(files: list[str], text_only: bool, config: object | None) -> tuple[list[float], list[bool]]:
    from hitl_console.analysis.calibrate import went_wrong
    from hitl_console.config import Config
    from hitl_console.engine.engine import SignalEngine
    from hitl_console.engine.replay import replay_events
    from hitl_console.feeds.recording import read_events

    engine = SignalEngine(config if config is not None else Config())  # type: ignore[arg-type]
    peak: dict[str, float] = {}
    apply = engine.apply

    def keep(state: object) -> None:
        # the engine's own peak (ticks raise it too: an unanswered customer's
        # wait), for as long as no person has joined
        if state is not None and state.holder != "human" and state.agent is None and not state.ended:  # type: ignore[attr-defined]
            peak[state.conversation_id] = state.peak_risk  # type: ignore[attr-defined]

    def watched(event: object, feed: str = "") -> object:
        cid = getattr(event, "conversation_id", None)
        keep(engine.conversations.get(cid) if cid else None)  # what the ticks did since its last event
        update = apply(event if not text_only else _strip(event), feed)  # type: ignore[arg-type]
        keep(engine.conversations.get(update.conversation_id))
        return update

    # the compiled engine's methods cannot be replaced: replay through a view whose apply watches
    replay_events(_Watched(engine, watched), read_events(files))  # type: ignore[arg-type]
    scores: list[float] = []
    labels: list[bool] = []
    for cid, state in engine.conversations.items():
        if not state.ended or cid not in peak:
            continue
        scores.append(peak[cid])
        labels.append(bool(went_wrong(state)))
    return scores, labels


class _Watched:
    """The engine with another ``apply``; every other attribute is the engine's."""

    def __init__(self, engine: object, apply: object) -> None:
        self._engine = engine
        self.apply = apply

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)


def auroc(scores: list[float], labels: list[bool]) -> float | None:
    """Mann-Whitney AUROC, ties counting half."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--text-only", action="store_true")
    parser.add_argument("--risk", metavar="CONFIG.toml")
    args = parser.parse_args(argv)
    config = None
    if args.risk:
        from hitl_console.config import load_config

        config = load_config(Path(args.risk))
    scores, labels = peak_risks(args.files, args.text_only, config)
    value = auroc(scores, labels)
    import hitl_console

    print(
        f"{hitl_console.__file__}: {len(scores)} conversations, {sum(labels)} went wrong, "
        f"AUROC {'-' if value is None else f'{value:.3f}'}{' (text only)' if args.text_only else ''}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
