"""Calibrate the loop model's threshold on conversations it never trained on, and decide the default.

Run::

    nice -n 10 python training/loop_calibrate.py DATA_DIR sample_feeds/calibration.jsonl.gz \\
        sample_feeds/demo-floor.jsonl sample_feeds/escalations.msgpack [--model FILE]

Two questions, each on data that no model here fitted on:

1. **Paraphrased re-asks against different questions**, from NatCS
   (``devsets.natcs``: real customer-service utterances with intents, a source
   the embedding never saw). A same-intent pair is a re-ask in other words; a
   different-intent pair sharing at least three words or looking alike is a
   different question. The threshold is *chosen* on the insurance part
   (``development``) and *reported* on the banking and finance parts.
2. **How often the loop fires on whole conversations**: the bundled samples
   replayed through the engine with ``loop = "rules"`` and with the model at
   each candidate threshold; a conversation counts once however often its loop
   fires. The samples' loops are the simulator's; most conversations are not
   loops, so a model that fires far more often than the rules is raising false
   alarms there.

The issue's goals: recall at least 0.70 with at most 10% false alarms on
different questions; the fire rate on the samples close to the rules'. The
model becomes the default only if both hold (``docs/models.md`` says which).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

from devsets import natcs  # noqa: E402
from evaluate import _turn, natcs_pairs  # noqa: E402

from hitl_console.config import Config, SignalsConfig  # noqa: E402
from hitl_console.engine.highstakes import HighStakesDetector  # noqa: E402
from hitl_console.engine.scorers import build_scorers  # noqa: E402

CANDIDATES = (0.30, 0.325, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70)


def similarities(config: Config, pairs: list[tuple[str, str]]) -> np.ndarray:
    """The loop scorer's similarity for each pair (0 where a turn never counts)."""
    loop = build_scorers(config, HighStakesDetector(config.thresholds, config.topics)).loop
    out = []
    for a, b in pairs:
        ka, kb = loop.key(*_turn(a)), loop.key(*_turn(b))
        out.append(0.0 if ka is None or kb is None else loop.similarity(ka, kb))
    return np.array(out)


def conversations_with_loop(config: Config, files: list[str]) -> tuple[int, int]:
    """(conversations in which the loop fired at least once, conversations) over ``files``."""
    from hitl_console.engine.engine import SignalEngine
    from hitl_console.engine.replay import replay_events
    from hitl_console.feeds.recording import read_events

    engine = SignalEngine(config)
    replay_events(engine, read_events(files))
    states = list(engine.conversations.values())
    return sum(any(hit.kind == "loop" for hit in s.triggers) for s in states), len(states)


def model_config(threshold: float | None, model: Path | None) -> Config:
    return Config(signals=SignalsConfig(loop="model", loop_similarity=threshold, model_path=model))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="directory holding natcs/ (see training/devsets.py)")
    parser.add_argument("samples", nargs="+", help="recordings to replay (the bundled samples)")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    utterances = natcs(args.data / "natcs")
    tune = [e for e in utterances if e.source == "natcs-development"]
    report = [e for e in utterances if e.source != "natcs-development"]
    rng = random.Random(args.seed)
    t_same, t_diff = natcs_pairs(tune, rng, 1000)
    r_same, r_diff = natcs_pairs(report, rng, 1000)

    shipped = model_config(None, args.model)
    ts, td = similarities(shipped, t_same), similarities(shipped, t_diff)
    rs, rd = similarities(shipped, r_same), similarities(shipped, r_diff)
    rules = Config()
    rules_fired, n = conversations_with_loop(rules, args.samples)
    print(f"rules: loop fires in {rules_fired} of {n} sample conversations")
    rule_sim = build_scorers(rules, HighStakesDetector(rules.thresholds, rules.topics)).loop.threshold
    rule_r = similarities(rules, r_same) >= rule_sim
    rule_d = similarities(rules, r_diff) >= rule_sim
    print(f"rules on the NatCS report pairs: recall {rule_r.mean():.3f}, false alarms {rule_d.mean():.3f}")
    print("threshold  tune recall  tune FA  report recall  report FA  sample conversations with a loop")
    for t in CANDIDATES:
        fired, _ = conversations_with_loop(model_config(t, args.model), args.samples)
        print(f"{t:9.3f}  {np.mean(ts >= t):11.3f}  {np.mean(td >= t):7.3f}  {np.mean(rs >= t):13.3f}  "
              f"{np.mean(rd >= t):9.3f}  {fired} of {n}")
    # the lowest threshold with at most 10% false alarms on the tune part
    ok = [t for t in np.unique(np.round(np.concatenate([ts, td]), 3)) if np.mean(td >= t) <= 0.10]
    if ok:
        t = float(min(ok))
        fired, _ = conversations_with_loop(model_config(t, args.model), args.samples)
        print(f"chosen on tune (10% FA): cosine {t:.3f}: report recall {np.mean(rs >= t):.3f} at "
              f"{np.mean(rd >= t):.3f} false alarms; fires in {fired} of {n} sample conversations (rules {rules_fired})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
