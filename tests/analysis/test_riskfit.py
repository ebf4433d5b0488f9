"""Fitting the risk weights (``analysis.riskfit``) and ``hitl-console calibrate``
end to end: the measures on known cases, the fit on data drawn from a known
model, and the command as a subprocess on real recordings and a real journal,
its pasted ``[risk]`` section read back as the next run's current weights."""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hitl_console.analysis.riskfit import (
    Example,
    Rows,
    auroc,
    brier,
    fit_logistic,
    fit_risk,
    reliability,
    render_risk_fit,
)
from hitl_console.config import RiskConfig, parse_config
from hitl_console.engine.risk import FEATURES

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_feeds" / "calibration.jsonl.gz"


def test_auroc_known_cases() -> None:
    assert auroc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == 0.0
    assert auroc([0.5, 0.5, 0.5, 0.5], [False, True, False, True]) == 0.5
    # one positive above one of two negatives, tied with the other: (1 + 0.5) / 2
    assert auroc([0.3, 0.5, 0.5], [False, False, True]) == pytest.approx(0.75)
    assert auroc([0.1, 0.2], [True, True]) is None


def test_brier_and_reliability_weigh_each_conversation_once() -> None:
    predicted = [0.05, 0.05, 0.95, 0.35]
    outcomes = [0.0, 0.0, 1.0, 1.0]
    weights = [0.5, 0.5, 1.0, 1.0]  # the first conversation has two moments
    assert brier(predicted, outcomes, weights) == pytest.approx((0.5 * 0.0025 * 2 + 0.0025 + 0.4225) / 3)
    bins = reliability(predicted, outcomes, weights)
    assert [round(b.low, 1) for b in bins] == [0.0, 0.3, 0.9]
    assert sum(b.weight for b in bins) == pytest.approx(3.0)
    assert bins[0].observed == 0.0 and bins[1].observed == 1.0 and bins[1].predicted == pytest.approx(0.35)


def _draw(n: int, bias: float, weights: list[float], seed: int) -> tuple[list[list[float]], list[float]]:
    rng = random.Random(seed)
    rows, labels = [], []
    for _ in range(n):
        x = [rng.random() * 2 for _ in weights]
        z = bias + sum(w * v for w, v in zip(weights, x))
        rows.append(x)
        labels.append(1.0 if rng.random() < 1 / (1 + math.exp(-z)) else 0.0)
    return rows, labels


def test_fit_recovers_a_known_model_and_pins_a_negative_weight_at_zero() -> None:
    true = [1.5, 0.5, -1.0]
    rows, labels = _draw(4000, -1.0, true, seed=7)
    bias, fitted, fixed = fit_logistic(rows, labels, [1.0] * len(rows), 0.0, [0.5, 0.5, 0.5], strength=1.0)
    assert fitted[0] == pytest.approx(1.5, abs=0.25)
    assert fitted[1] == pytest.approx(0.5, abs=0.25)
    assert fixed == [2] and fitted[2] == 0.0  # evidence only ever raises the risk
    # the bias takes up the pinned feature's mean effect: -1.0 + (-1.0 * mean x = 1.0)
    assert bias == pytest.approx(-2.0, abs=0.4)
    # without the constraint the negative weight comes out negative
    _, free, none = fit_logistic(rows, labels, [1.0] * len(rows), 0.0, [0.5, 0.5, 0.5], strength=1.0, nonnegative=False)
    assert none == [] and free[2] == pytest.approx(-1.0, abs=0.3)


def test_folded_rows_and_the_warm_start_give_the_same_fit() -> None:
    """Equal vectors are folded into one weighted row (exact: the loss is a sum
    over moments), and a big fit starts from a fit on a sample of its rows:
    neither changes the answer, only the time."""
    rows, labels = _draw(3000, -1.0, [1.5, 0.5, -1.0], seed=3)
    rows = [[round(v, 1) for v in x] for x in rows]  # many equal vectors, as evidence levels give
    args = (rows, labels, [1.0] * len(rows), 0.0, [0.5, 0.5, 0.5])
    plain = fit_logistic(*args, strength=1.0, warm_start_rows=10**9)
    warm = fit_logistic(*args, strength=1.0, warm_start_rows=50)
    doubled = fit_logistic(rows + rows, labels + labels, [0.5] * (2 * len(rows)), 0.0, [0.5, 0.5, 0.5], strength=1.0)
    assert plain[2] == warm[2] == doubled[2] == [2]
    for other in (warm, doubled):
        assert other[0] == pytest.approx(plain[0], abs=1e-9)
        assert other[1] == pytest.approx(plain[1], abs=1e-9)
    folded = Rows()
    for x, y in zip(rows, labels):
        folded.add(x, y, 1.0 - y)
    assert len(folded) < len(rows) and folded.moments == len(rows)
    assert fit_logistic(folded, prior_bias=0.0, prior=[0.5, 0.5, 0.5], strength=1.0)[1] == pytest.approx(plain[1], abs=1e-9)


def test_the_fit_ends_at_the_optimum_under_weights_at_or_above_zero() -> None:
    """Whatever got pinned on the way, the end is the constrained optimum: no
    free weight lowers the loss by moving, no pinned one by rising above 0
    (a pinned weight the optimum wants is freed again)."""
    rows, labels = _draw(2000, -0.5, [0.2, 1.2, -0.8, 0.1], seed=9)
    rows = [[x[0], x[1], x[2], x[0] + x[2]] for x in rows]  # correlated evidence: the path pins and may unpin
    prior = [2.0, 0.0, 2.0, 0.0]
    bias, weights, fixed = fit_logistic(rows, labels, [1.0] * len(rows), 0.0, prior, strength=1.0)
    target = [0.0, *prior]
    ridge = [0.01, 1.0, 1.0, 1.0, 1.0]

    def loss(theta: list[float]) -> float:
        total = sum(0.5 * r * (t - g) ** 2 for r, t, g in zip(ridge, theta, target))
        for x, y in zip(rows, labels):
            z = theta[0] + sum(w * v for w, v in zip(theta[1:], x))
            m = -z if y else z  # the log-loss: softplus(m), stable for any m
            total += max(m, 0.0) + math.log1p(math.exp(-abs(m)))
        return total

    theta = [bias, *weights]
    base = loss(theta)
    assert fixed and all(weights[f] == 0.0 for f in fixed)
    for j in range(1, len(theta)):
        for eps in (1e-4, -1e-4):
            if (j - 1) in fixed and eps < 0:
                continue  # a pinned weight may not go below 0
            moved = list(theta)
            moved[j] += eps
            assert loss(moved) >= base - 1e-9


def _example(i: int, bad: bool, level: float) -> Example:
    x = [0.0] * len(FEATURES)
    x[FEATURES.index("negativity")] = level
    return Example(f"c{i}", [list(x), list(x)], bad)


def test_no_recommendation_when_the_fitted_part_all_ended_alike() -> None:
    examples = [_example(i, False, 0.1 * (i % 5)) for i in range(40)]
    fit = fit_risk(examples)
    assert fit.after is None and fit.trained_bad == 0
    assert any("all ended alike" in n for n in fit.notes)
    text = render_risk_fit(fit)
    assert "no [risk] recommendation" in text and "[risk]\n" not in text


def _run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HITL_CONSOLE_DATA_DIR": str(data_dir), "NO_COLOR": "1", "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "hitl_console", "calibrate", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )


def _risk_section(text: str) -> str:
    start = text.index("[risk]\n")
    return text[start:]


def test_calibrate_subprocess_prints_before_after_and_a_config_that_round_trips(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    run = _run(str(SAMPLE), "--config", str(empty), data_dir=tmp_path)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "-0.00" not in out
    auroc_line = re.search(r"AUROC of the peak risk \(higher\)\s+(\d\.\d{3})\s+(\d\.\d{3})", out)
    brier_line = re.search(r"Brier score, every moment \(lower\)\s+(\d\.\d{3})\s+(\d\.\d{3})", out)
    assert auroc_line and brier_line, out
    assert "Reliability (held out" in out
    rows = re.findall(r"^  (\d\.\d-\d\.\d) +(\d+\.\d) +(\d\.\d\d) +(\d\.\d\d)", out, flags=re.M)
    assert rows and rows[0][0] == "0.0-0.1"
    # the section to paste: every feature, and a config the console accepts
    section = _risk_section(out)
    pasted = tomllib.loads(section)["risk"]
    assert set(pasted) == {"bias", *FEATURES}
    parse_config({"risk": pasted})

    # JSON: the same figures, and each held-out conversation weighs one in the table
    js = _run(str(SAMPLE), "--config", str(empty), "--json", data_dir=tmp_path)
    assert js.returncode == 0, js.stderr
    risk = json.loads(js.stdout)["risk"]
    assert risk["conversations"] == 200 and risk["trained"] + risk["held_out"] == 200
    assert risk["bad"] == risk["trained_bad"] + risk["held_out_bad"] > 0
    before, after = risk["before_scores"], risk["after_scores"]
    assert f"{before['auroc']:.3f}" == auroc_line.group(1) and f"{after['auroc']:.3f}" == auroc_line.group(2)
    assert f"{before['brier']:.3f}" == brier_line.group(1) and f"{after['brier']:.3f}" == brier_line.group(2)
    assert sum(b["weight"] for b in before["reliability"]) == pytest.approx(risk["held_out"])
    assert sum(b["weight"] for b in after["reliability"]) == pytest.approx(risk["held_out"])
    assert risk["before"] == RiskConfig().model_dump()

    # pasted into a config, the fitted weights are the next run's current ones,
    # scored on the same held-out part: "current" now is what "fitted" was
    pasted_config = tmp_path / "fitted.toml"
    pasted_config.write_text(section, encoding="utf-8")
    again = _run(str(SAMPLE), "--config", str(pasted_config), "--json", data_dir=tmp_path)
    assert again.returncode == 0, again.stderr
    risk2 = json.loads(again.stdout)["risk"]
    assert risk2["before"] == pytest.approx(risk["after"])
    assert risk2["before_scores"]["auroc"] == pytest.approx(after["auroc"])
    # the moments sampled can differ a little: an escalation by risk puts the
    # conversation in "waiting", and the wait rescoring reports only escalations
    assert risk2["before_scores"]["brier"] == pytest.approx(after["brier"], abs=0.005)


def test_calibrate_subprocess_reads_a_journal(tmp_path: Path) -> None:
    from hitl_console.feeds.recording import read_recording
    from hitl_console.store.journal import Journal

    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        journal.append_events("prod", read_recording(SAMPLE).events)
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    run = _run("--journal", str(path), "--config", str(empty), "--json", data_dir=tmp_path)
    assert run.returncode == 0, run.stderr
    risk = json.loads(run.stdout)["risk"]
    assert risk["conversations"] == 200 and risk["after"] is not None
    assert 0.5 < risk["before_scores"]["auroc"] <= 1.0
    missing = _run("--journal", str(tmp_path / "none.sqlite3"), "--config", str(empty), data_dir=tmp_path)
    assert missing.returncode != 0 and "no journal at" in missing.stderr
