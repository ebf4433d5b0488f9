"""Signals benchmark: microseconds per customer message for each built-in model scorer.

Run: ``python benchmarks/signals.py [--messages 20000] [--seed 7] [--repeat 5]``

The messages are the customer turns of the simulator's conversations
(``hitl_console.sim.timeline.generate_events``: everyday requests, fraud
claims, angry and polite turns, requests for a person), in conversation
order, each a fresh string object as a decoded feed frame would be. Every
scorer is asked what the engine asks it about a customer turn:

* ``high_stakes``: ``score(text, lower, words, customer=True)``;
* ``human_request``: ``score(text, lower, words)``;
* ``sentiment``: ``score(text, lower, words)``;
* ``loop``: ``reask``, ``key`` and ``similarity`` against the conversation's
  last ``thresholds.loop_window`` customer keys (the engine's comparison);
* all four together, as the engine calls them on one turn: the model
  scorers share one prediction per turn, so together costs less than the sum;
  and the same with the text model's caches of packed weights per word pair
  emptied before each run (``TextModel.clear_caches``: the run then pays for
  filling them, as a process that just started does).

Each figure is the best of ``--repeat`` runs on one core in CPU time of the
process (``time.process_time``: on a machine shared with other work, wall
time measures the neighbours; the wall-clock figure of the last run is
printed next to it), with the lexicon's
sentiment cache off (every text scored from scratch: the honest case for
unique texts) and, in the last line, with it on as shipped. The lower-casing
and word split the engine does once per turn are outside the timing. No
assertions: the goal (at most 20 us per message for all together) is printed
next to the figure.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hitl_console.config import Config, SignalsConfig  # noqa: E402
from hitl_console.engine import BUILD, sentiment  # noqa: E402
from hitl_console.engine.highstakes import HighStakesDetector, words_of  # noqa: E402
from hitl_console.engine.scorers import SIGNALS, Scorers, build_scorers  # noqa: E402
from hitl_console.engine.textmodel import load_model  # noqa: E402

GOAL_US = 20.0

Turn = tuple[str, str, str, list[str]]
"""(conversation id, text, lower, words)."""


def customer_turns(count: int, seed: int) -> list[Turn]:
    """``count`` customer turns of the simulator, in event order."""
    from hitl_console.sim.timeline import generate_events

    conversations = max(1, count // 3)
    while True:
        events = generate_events(seed, conversations)
        turns = [e for e in events if e.get("type") == "message" and e.get("role") == "customer"]
        if len(turns) >= count:
            break
        conversations = int(conversations * 1.5) + 1
    out: list[Turn] = []
    for e in turns[:count]:
        text = "".join(list(str(e["text"])))  # a fresh object per turn, as decoding gives
        lower = text.lower()
        out.append((str(e["conversation_id"]), text, lower, words_of(lower)))
    return out


def scorers(model: set[str]) -> Scorers:
    """The engine's scorers with ``model`` signals on the model and the rest on the rules."""
    picks = {s: ("model" if s in model else "rules") for s in SIGNALS}
    config = Config(signals=SignalsConfig(**picks))
    return build_scorers(config, HighStakesDetector(config.thresholds, config.topics))


def run(sc: Scorers, turns: list[Turn], which: set[str], window: int) -> None:
    hs, hr, se, lo = sc.high_stakes, sc.human_request, sc.sentiment, sc.loop
    do_hs, do_hr, do_se, do_lo = ("high_stakes" in which, "human_request" in which, "sentiment" in which, "loop" in which)
    memory: dict[str, list[Any]] = {}
    for cid, text, lower, words in turns:
        if do_se:
            se.score(text, lower, words)
        if do_hs:
            hs.score(text, lower, words, True)
        if do_hr:
            hr.score(text, lower, words)
        if do_lo:
            lo.reask(lower, words)
            key = lo.key(text, lower, words)
            if key is not None:
                seen = memory.setdefault(cid, [])
                for old in seen:
                    lo.similarity(key, old)
                seen.append(key)
                if len(seen) > window:
                    del seen[0]


WALL: dict[str, float] = {}
"""Wall-clock us/message of the best CPU run, by name."""


def best_us(fn, n: int, repeat: int, name: str = "", before=None) -> float:
    """Best CPU time per message, in microseconds (``before`` runs untimed before each run)."""
    best = float("inf")
    for _ in range(repeat):
        if before is not None:
            before()
        gc.collect()
        start, wall = time.process_time(), time.perf_counter()
        fn()
        cpu, wall = time.process_time() - start, time.perf_counter() - wall
        if cpu < best:
            best = cpu
            WALL[name] = wall / n * 1e6
    return best / n * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    model = load_model()
    load_s = time.perf_counter() - t0
    turns = customer_turns(args.messages, args.seed)
    n = len(turns)
    distinct = len({t[1] for t in turns})
    words = sum(len(t[3]) for t in turns) / n
    window = Config().thresholds.loop_window
    print(f"engine: {BUILD}; model {model.version!r}, loaded in {load_s * 1000:.0f} ms")
    print(f"{n:,} customer messages ({distinct:,} distinct texts, {words:.1f} words on average), "
          f"best of {args.repeat}, one core")
    sentiment.configure_cache(0)
    rows: list[tuple[str, float]] = []
    for signal in SIGNALS:
        sc = scorers({signal})
        run(sc, turns[:200], {signal}, window)  # warm up
        rows.append((f"{signal} (model)", best_us(lambda: run(sc, turns, {signal}, window), n, args.repeat, f"{signal} (model)")))
    for signal in SIGNALS:
        sc = scorers(set())
        rows.append((f"{signal} (rules)", best_us(lambda: run(sc, turns, {signal}, window), n, args.repeat, f"{signal} (rules)")))
    everything = set(SIGNALS)
    all_model = scorers(everything)
    together = best_us(lambda: run(all_model, turns, everything, window), n, args.repeat, "all")
    cold = best_us(lambda: run(all_model, turns, everything, window), n, args.repeat, "cold", before=model.clear_caches)
    defaults = build_scorers(Config(), HighStakesDetector(Config().thresholds, Config().topics))
    shipped = best_us(lambda: run(defaults, turns, everything, window), n, args.repeat, "defaults")
    sentiment.configure_cache(8192)
    cached = best_us(lambda: run(defaults, turns, everything, window), n, args.repeat, "cached")
    print(f"{'':26s} {'CPU':>7s}               {'wall':>7s}")
    for name, us in rows:
        print(f"{name:26s} {us:7.2f} us/message  {WALL[name]:7.2f}")
    print(f"{'all four models together':26s} {together:7.2f} us/message  {WALL['all']:7.2f}")
    print(f"{'  the same, caches cold':26s} {cold:7.2f} us/message  {WALL['cold']:7.2f}  "
          "(the model's word-pair caches emptied before each run)")
    picks = ", ".join(f"{k}={v}" for k, v in defaults.describe().items())
    print(f"{'the defaults together':26s} {shipped:7.2f} us/message  {WALL['defaults']:7.2f}  ({picks})")
    print(f"{'the defaults, cache on':26s} {cached:7.2f} us/message  {WALL['cached']:7.2f}  "
          "(the lexicon's sentiment cache as shipped)")
    print(f"goal: all models together <= {GOAL_US:g} us/message: {'met' if together <= GOAL_US else 'NOT met'}; "
          f"the defaults: {'met' if shipped <= GOAL_US else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
