"""Train the judgement model and write ``hitl_console/data/judgement-model.json.gz``.

Run (see ``docs/models.md`` for getting the data)::

    nice -n 10 python training/train.py --data /path/to/extracted-data [--out FILE] [--seed 0]

Needs numpy, scipy and scikit-learn at training time only (``pip install -e
'.[train]'``); the console itself reads the artefact with the standard
library. Deterministic for a given data directory and seed: liblinear and
lbfgs have no random state here, the typo augmentation draws from
``random.Random(seed)``, and the dev split is a checksum of each text.

Heads (``hitl_console.engine.textmodel.HEADS``) and the embedding are fitted
on the training part of each source; thresholds are chosen on the first half
of the project's dev split ("tune") and every figure is reported on the
second half ("report"), which no choice saw.
"""

from __future__ import annotations

import os

# one BLAS thread: the embedding's sums then come out in the same order on every run
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import collections
import gzip
import json
import random
import sys
import time
import zlib
from pathlib import Path

import numpy as np
from scipy import optimize, sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

from datasets import (  # noqa: E402
    Example,
    high_stakes_label,
    human_request_label,
    intent_label,
    load_corpus,
    service_sentiment,
)
from seeds import HIGH_STAKES_EXTRA, NOT_HIGH_STAKES, human_request_seeds, sentiment_seeds, with_person  # noqa: E402

from hitl_console.engine.highstakes import words_of  # noqa: E402
from hitl_console.engine.sentiment import estimate_sentiment  # noqa: E402
from hitl_console.engine.textmodel import ARTEFACT, HEADS, features  # noqa: E402

DIM = 32
MIN_INTENT = 5
"""An intent (or NLU++ combination of intents) needs this many training utterances to be a class."""
MIN_COUNT = 2


def tune_half(text: str) -> bool:
    """Dev texts used to choose thresholds; the rest of dev is only reported on."""
    return zlib.crc32(text.strip().lower().encode("utf-8")) % 100 < 7


def typo(text: str, rng: random.Random) -> str:
    """One or two character edits in longer words: what a hurried customer types."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not long:
        return text
    for _ in range(rng.choice((1, 1, 2))):
        i = rng.choice(long)
        w = words[i]
        k = rng.randrange(1, len(w) - 1)
        op = rng.randrange(4)
        if op == 0:
            w = w[:k] + w[k + 1 :]
        elif op == 1:
            w = w[:k] + w[k] + w[k:]
        elif op == 2:
            w = w[: k - 1] + w[k] + w[k - 1] + w[k + 1 :]
        else:
            w = w[:k] + rng.choice("aeioursnt") + w[k + 1 :]
        words[i] = w
    return " ".join(words)


class Vectoriser:
    def __init__(self, known: frozenset[str]) -> None:
        self.known = known
        self.index: dict[str, int] = {}

    def feats(self, text: str) -> list[str]:
        lower = text.lower()
        return features(text, lower, words_of(lower), self.known)

    def fit(self, texts: list[str]) -> None:
        counts: collections.Counter[str] = collections.Counter()
        for t in texts:
            counts.update(set(self.feats(t)))
        names = sorted(f for f, c in counts.items() if c >= MIN_COUNT)
        self.index = {f: i for i, f in enumerate(names)}

    def matrix(self, texts: list[str]) -> sparse.csr_matrix:
        rows, cols = [], []
        for r, t in enumerate(texts):
            counted: dict[int, int] = {}
            for f in self.feats(t):
                j = self.index.get(f)
                if j is not None:
                    counted[j] = counted.get(j, 0) + 1
            for j, c in counted.items():
                rows.append(r)
                cols.append(j)
        data = np.ones(len(rows), dtype=np.float64)
        m = sparse.csr_matrix((data, (rows, cols)), shape=(len(texts), len(self.index)))
        m.sum_duplicates()
        return m


def pick_threshold(scores: np.ndarray, labels: np.ndarray, max_fpr: float) -> float:
    """The lowest log-odds threshold whose false-positive rate on negatives is at most ``max_fpr``."""
    neg = np.sort(scores[labels == 0])[::-1]
    allowed = int(np.floor(max_fpr * len(neg)))
    if allowed >= len(neg):
        return float(neg[-1])
    return float(neg[allowed]) + 1e-6


def binary_head(name: str, X: sparse.csr_matrix, y: np.ndarray, Xt: sparse.csr_matrix, yt: np.ndarray, grid: list[float]) -> LogisticRegression:
    best = None
    for c in grid:
        model = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=200)
        model.fit(X, y)
        auc = roc_auc_score(yt, model.decision_function(Xt))
        print(f"  {name} C={c}: tune AUROC {auc:.4f}", flush=True)
        if best is None or auc > best[0] + 1e-4:
            best = (auc, model)
    assert best is not None
    return best[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="directory holding banking77/, clinc150/, nlupp/, goemotions/")
    parser.add_argument("--out", type=Path, default=ROOT / "hitl_console" / "data" / ARTEFACT)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    rng = random.Random(args.seed)
    corpus = load_corpus(args.data)
    print(f"intents: {len(corpus.intents_train)} train / {len(corpus.intents_dev)} dev; "
          f"sentiment: {len(corpus.sentiment_train)} train / {len(corpus.sentiment_dev)} dev", flush=True)
    hr_pos, hr_neg = human_request_seeds()

    # ---- training sets per head (texts, labels)
    intents = corpus.intents_train
    hs_texts = [e.text for e in intents] + HIGH_STAKES_EXTRA + NOT_HIGH_STAKES
    hs_y = [high_stakes_label(e) for e in intents] + [1] * len(HIGH_STAKES_EXTRA) + [0] * len(NOT_HIGH_STAKES)
    sent_sample = [e.text for e in corpus.sentiment_train[::4]]
    hr_texts = [e.text for e in intents] + hr_pos + hr_neg + sent_sample
    hr_y = [human_request_label(e) for e in intents] + [1] * len(hr_pos) + [0] * (len(hr_neg) + len(sent_sample))
    # typos: every positive and a tenth of the negatives get a misspelt copy; and every eighth
    # utterance a copy with a name or an account number (unknown names are neither fraud nor a person asked for)
    for texts, ys in ((hs_texts, hs_y), (hr_texts, hr_y)):
        extra = [(typo(t, rng), y) for t, y in zip(texts, ys) if y == 1 or rng.random() < 0.1]
        extra += [(with_person(t, i), y) for i, (t, y) in enumerate(zip(texts, ys)) if i % 8 == 0]
        texts.extend(t for t, _ in extra)
        ys.extend(y for _, y in extra)
    sent_classes = ("neutral", "negative", "positive")
    sent_texts = [e.text for e in corpus.sentiment_train]
    sent_y = [sent_classes.index(e.labels[0]) for e in corpus.sentiment_train]
    # customer requests: a problem report is negative, a thanks positive, the rest neutral
    service = [(e.text, k) for e in intents if (k := service_sentiment(e)) is not None]
    sent_texts += [t for t, _ in service]
    sent_y += [sent_classes.index(k) for _, k in service]
    seed_texts, seed_labels = sentiment_seeds()
    sent_texts += seed_texts * 2  # twice: a handful of turns against 60,000
    sent_y += [sent_classes.index(k) for k in seed_labels] * 2
    para_all = [(e, intent_label(e)) for e in intents]
    para_counts = collections.Counter(k for _, k in para_all if k is not None)
    intent_names = sorted(k for k, c in para_counts.items() if c >= MIN_INTENT)
    intent_index = {k: i for i, k in enumerate(intent_names)}
    para = [(e, intent_index[k]) for e, k in para_all if k in intent_index]
    para_texts = [e.text for e, _ in para] + [typo(e.text, rng) for e, _ in para[::3]]
    para_y = [k for _, k in para] + [k for _, k in para[::3]]

    # ---- vocabulary: known words and features, from every training text
    all_texts = hs_texts + hr_texts + sent_texts + para_texts
    word_counts: collections.Counter[str] = collections.Counter()
    for t in set(all_texts):
        word_counts.update(words_of(t.lower()))
    known = frozenset(w for w, c in word_counts.items() if c >= MIN_COUNT)
    vec = Vectoriser(known)
    vec.fit(sorted(set(all_texts)))
    n_feat = len(vec.index)
    print(f"{len(known)} known words, {n_feat} features ({time.perf_counter() - t0:.0f} s)", flush=True)

    dev = corpus.intents_dev
    tune = [e for e in dev if tune_half(e.text)]
    report = [e for e in dev if not tune_half(e.text)]
    tune_m = vec.matrix([e.text for e in tune])

    weights = np.zeros((n_feat, len(HEADS) + DIM))
    bias = np.zeros(len(HEADS) + DIM)
    thresholds: dict[str, float] = {}

    # ---- high_stakes
    model = binary_head("high_stakes", vec.matrix(hs_texts), np.array(hs_y), tune_m,
                        np.array([high_stakes_label(e) for e in tune]), [1.0, 4.0])
    weights[:, 0] = model.coef_[0]
    bias[0] = model.intercept_[0]
    s = model.decision_function(tune_m)
    thresholds["high_stakes"] = pick_threshold(s, np.array([high_stakes_label(e) for e in tune]), 0.01)

    # ---- human_request
    tune_hr_texts = [e.text for e in tune] + [e.text for e in corpus.sentiment_dev if tune_half(e.text)][::4]
    tune_hr_y = np.array([human_request_label(e) for e in tune] + [0] * (len(tune_hr_texts) - len(tune)))
    tune_hr_m = vec.matrix(tune_hr_texts)
    model = binary_head("human_request", vec.matrix(hr_texts), np.array(hr_y), tune_hr_m, tune_hr_y, [1.0, 4.0])
    weights[:, 1] = model.coef_[0]
    bias[1] = model.intercept_[0]
    thresholds["human_request"] = pick_threshold(model.decision_function(tune_hr_m), tune_hr_y, 0.005)

    # ---- sentiment: multinomial, as log-odds against neutral
    sm = LogisticRegression(C=1.0, solver="lbfgs", max_iter=400)
    sm.fit(vec.matrix(sent_texts), np.array(sent_y))
    order = list(sm.classes_)
    neu, neg, pos = (order.index(k) for k in range(3))
    weights[:, 2] = sm.coef_[neg] - sm.coef_[neu]
    weights[:, 3] = sm.coef_[pos] - sm.coef_[neu]
    bias[2] = sm.intercept_[neg] - sm.intercept_[neu]
    bias[3] = sm.intercept_[pos] - sm.intercept_[neu]
    for name, texts, negative in sentiment_dev_sets(corpus, report):
        est = sm.predict_proba(vec.matrix(texts))
        value = est[:, pos] - est[:, neg]
        vader = np.array([estimate_sentiment(t) for t in texts])
        print(f"  sentiment, {name} ({len(texts)} texts, {int(np.sum(negative))} negative): AUROC negative vs rest "
              f"{roc_auc_score(negative, -value):.4f} (VADER {roc_auc_score(negative, -vader):.4f})", flush=True)

    # ---- embedding: the bottleneck of a cosine-softmax intent classifier
    emb, info = cosine_embedding(vec.matrix(para_texts), np.array(para_y), len(intent_names), DIM, args.seed)
    weights[:, len(HEADS):] = emb
    print(f"  embedding: {len(intent_names)} intents, {DIM} dimensions, {info} ({time.perf_counter() - t0:.0f} s)", flush=True)
    thresholds["loop"] = loop_threshold(vec, emb, tune, report, random.Random(args.seed + 1))

    # ---- quantise to int8 per column and drop features that round to zero everywhere
    scale = np.abs(weights).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(weights / scale), -127, 127).astype(np.int8)
    keep = np.abs(q).max(axis=1) > 0
    names = [f for f, i in sorted(vec.index.items(), key=lambda kv: kv[1]) if keep[i]]
    q = q[keep]
    used_known = sorted(known)
    artefact = {
        "version": f"judgement-3 seed {args.seed}",
        "heads": list(HEADS),
        "dim": DIM,
        "known": used_known,
        "features": names,
        "scale": [float(x) for x in scale],
        "bias": [float(x) for x in bias],
        "weights": q.tobytes().hex(),
        "thresholds": thresholds,
        "meta": {
            "intents": len(intent_names),
            "train_examples": {"high_stakes": len(hs_texts), "human_request": len(hr_texts),
                               "sentiment": len(sent_texts), "embedding": len(para_texts)},
            "sources": ["Banking77 train (CC BY 4.0)", "CLINC150 train+val (CC BY 3.0)", "NLU++ (CC BY 4.0)",
                        "GoEmotions train, sentiment groups (Apache 2.0)", "project seeds (MIT)"],
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(args.out, "wb", compresslevel=9, mtime=0) as fh:
        fh.write(json.dumps(artefact, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {len(names)} features kept); "
          f"thresholds {json.dumps({k: round(v, 3) for k, v in thresholds.items()})}; "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    return 0


SERVICE_WORDS = frozenset(
    """account agent bank bill billing booking call card charge charged company complaint customer delivery
    flight hold luggage manager money order package payment phone refund service shipping store support
    ticket waiting""".split()
)
"""Words that make a GoEmotions comment read like a customer talking about a service."""


def sentiment_dev_sets(corpus, report: list[Example]) -> list[tuple[str, list[str], np.ndarray]]:
    """Held-out sentiment sets (name, texts, negative 0/1), never trained on:
    GoEmotions' report half; the part of it about a service; and the report
    half of the intent data with its weak labels (problem reports negative)."""
    sdev = [e for e in corpus.sentiment_dev if not tune_half(e.text)]
    svc = [e for e in sdev if not SERVICE_WORDS.isdisjoint(words_of(e.text.lower()))]
    req = [(e.text, k) for e in report if (k := service_sentiment(e)) is not None]
    return [
        ("GoEmotions report half", [e.text for e in sdev], np.array([e.labels[0] == "negative" for e in sdev])),
        ("GoEmotions about a service", [e.text for e in svc], np.array([e.labels[0] == "negative" for e in svc])),
        ("customer requests, weak labels", [t for t, _ in req], np.array([k == "negative" for _, k in req])),
    ]


def cosine_embedding(X: sparse.csr_matrix, y: np.ndarray, n_classes: int, dim: int, seed: int,
                     iters: int = 250, scale: float = 16.0, margin: float = 0.2, l2: float = 1e-5) -> tuple[np.ndarray, str]:
    """A linear map of the features to ``dim`` numbers whose *direction* names the intent.

    Trained as an intent classifier whose logits are ``scale`` times the cosine
    between the turn's vector and one learnt vector per intent, with an
    additive margin on the true intent (CosFace): utterances of one intent end
    up in a narrow cone, so the loop scorer can compare two turns by the cosine
    of their vectors alone (no per-intent arithmetic at inference). L-BFGS from
    a seeded start: deterministic on one BLAS thread.
    """
    n, f = X.shape
    c = n_classes
    Y = np.zeros((n, c))
    Y[np.arange(n), y] = 1.0
    start = np.random.RandomState(seed)
    w0 = np.concatenate([start.normal(0, 0.01, f * dim), start.normal(0, 1.0, c * dim)])
    Xt = X.T.tocsr()

    def loss_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        V = w[: f * dim].reshape(f, dim)
        U = w[f * dim :].reshape(c, dim)
        E = X @ V
        en = np.linalg.norm(E, axis=1, keepdims=True) + 1e-6
        Eh = E / en
        un = np.linalg.norm(U, axis=1, keepdims=True) + 1e-6
        Uh = U / un
        Z = scale * (Eh @ Uh.T) - scale * margin * Y
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        loss = -np.log(P[np.arange(n), y] + 1e-12).sum() / n + l2 * float((V ** 2).sum())
        G = (P - Y) / n
        gEh = scale * (G @ Uh)
        gUh = scale * (G.T @ Eh)
        gE = (gEh - (gEh * Eh).sum(axis=1, keepdims=True) * Eh) / en
        gU = (gUh - (gUh * Uh).sum(axis=1, keepdims=True) * Uh) / un
        return loss, np.concatenate([(Xt @ gE + 2 * l2 * V).ravel(), gU.ravel()])

    res = optimize.minimize(loss_grad, w0, jac=True, method="L-BFGS-B", options={"maxiter": iters})
    return res.x[: f * dim].reshape(f, dim), f"cosine-softmax loss {res.fun:.3f} after {res.nit} L-BFGS steps"


def paraphrase_pairs(examples: list[Example], rng: random.Random, n: int = 3000) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Same-intent pairs (re-asks in other words) and different-intent pairs
    that share words (a different question), from one dev part: Banking77,
    CLINC150 (without out-of-scope) and NLU++ (same set of intents)."""
    from rapidfuzz import fuzz

    single = [(e, k) for e in examples if (k := intent_label(e)) is not None]
    by_intent: dict[str, list[str]] = collections.defaultdict(list)
    for e, k in single:
        by_intent[k].append(e.text)
    intents = sorted(k for k, v in by_intent.items() if len(v) >= 2)
    same = []
    for _ in range(n):
        k = rng.choice(intents)
        a, b = rng.sample(by_intent[k], 2)
        same.append((a, b))
    diff: list[tuple[str, str]] = []
    tries = 0
    while len(diff) < n and tries < 400 * n:
        tries += 1
        (a, ka), (b, kb) = rng.sample(single, 2)
        if ka == kb or a.source != b.source:
            continue
        wa, wb = set(words_of(a.text.lower())), set(words_of(b.text.lower()))
        if len(wa & wb) >= 3 or fuzz.ratio(a.text.lower(), b.text.lower()) >= 60:
            diff.append((a.text, b.text))
    return same, diff


def embed(vec: Vectoriser, emb: np.ndarray, texts: list[str]) -> np.ndarray:
    """Unit-length embeddings of ``texts`` (rows of zeros for texts with no known feature)."""
    out = vec.matrix(texts) @ emb
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norm > 0, norm, 1.0)


def pair_cosines(vec: Vectoriser, emb: np.ndarray, pairs: list[tuple[str, str]]) -> np.ndarray:
    return (embed(vec, emb, [a for a, _ in pairs]) * embed(vec, emb, [b for _, b in pairs])).sum(axis=1)


def loop_threshold(vec: Vectoriser, emb: np.ndarray, tune: list[Example], report: list[Example], rng: random.Random) -> float:
    """The cosine at which 5% of the tune half's different-question pairs would count
    (10% is the ceiling a supervisor tolerates: half of it is kept for conversations
    unlike the dev pairs), and the recall it gives on the report half."""
    same, diff = paraphrase_pairs(tune, rng, 2000)  # rng: its own, so that the pairs do not depend on training
    s, d = pair_cosines(vec, emb, same), pair_cosines(vec, emb, diff)
    t = pick_threshold(np.concatenate([s, d]), np.array([1] * len(s) + [0] * len(d)), 0.05)
    rs, rd = paraphrase_pairs(report, rng, 2000)
    s2, d2 = pair_cosines(vec, emb, rs), pair_cosines(vec, emb, rd)
    print(f"  loop: tune recall {np.mean(s >= t):.3f} at {np.mean(d >= t):.3f} false alarms (cosine {t:.3f}); "
          f"report recall {np.mean(s2 >= t):.3f} at {np.mean(d2 >= t):.3f}", flush=True)
    return t


if __name__ == "__main__":
    raise SystemExit(main())
