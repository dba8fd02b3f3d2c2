"""Counselling-skill labels (AnnoMI's therapist behaviour and client talk type): train and score.

    python -m bench.behaviour train [--corpus PATH]   # writes therapybridge/data/behaviour.npz
    python -m bench.behaviour eval  [--corpus PATH]   # scores the stored weights on the test split

Data: the AnnoMI dataset (Wu et al., ICASSP 2022), 117 conversations with expert labels for every
utterance, loaded with bench.notes_real's loader (one segment per utterance, transcriber notes removed).
The split is by conversation: the ids sorted, shuffled with random.Random(SEED), the first 20 % are the
test split (bench/behaviour_split.json lists them; training never sees them). C (the inverse
regularisation strength) is chosen by 5-fold cross-validation over the training conversations only.
Per-label offsets on the decision values (client: for macro-F1; therapist: for the reflection-to-question
agreement at a cost of at most 0.02 macro-F1) are chosen on the same out-of-fold values and folded into
the stored intercepts.

Scores: per-class precision / recall / F1 and macro-F1 per role, and the share of test conversations whose
reflection-to-question ratio is within 0.3 of the experts' (both undefined counts as agreement).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.notes_real import DEFAULT_CORPUS, load_conversations, to_transcript
from therapybridge.document import Segment
from therapybridge.domain.behaviour import (
    CLIENT_LABELS,
    THERAPIST_LABELS,
    WEIGHTS,
    LinearModel,
    classify,
    load_models,
    role_features,
)
from therapybridge.sentence_encoder import get_encoder

REPO = Path(__file__).resolve().parents[1]
SPLIT_FILE = REPO / "bench" / "behaviour_split.json"
WEIGHTS_PATH = REPO / "therapybridge" / "data" / WEIGHTS
SEED = 17
TEST_SHARE = 0.2
C_GRID = (0.0003, 0.001, 0.003, 0.01)
LABELS = {"therapist": THERAPIST_LABELS, "client": CLIENT_LABELS}


@dataclass
class Labelled:
    id: str
    segments: list[Segment]
    gold: list[str]  # the expert label of each segment (therapist behaviour or client talk type)


def labelled(corpus: Path) -> list[Labelled]:
    out = []
    for cid, row in sorted(load_conversations(corpus).items()):
        conv = to_transcript(row)
        by_index = {u["index"]: u for u in row["utterances"]}
        gold = [
            by_index[i]["therapist_behaviour"] if r == "therapist" else by_index[i]["client_talk_type"]
            for i, r in zip(conv.index, conv.roles, strict=True)
        ]
        out.append(Labelled(cid, conv.segments, gold))
    return out


def make_split(ids: list[str]) -> dict[str, list[str]]:
    order = sorted(ids)
    random.Random(SEED).shuffle(order)
    k = round(len(order) * TEST_SHARE)
    return {"seed": SEED, "test": sorted(order[:k]), "train": sorted(order[k:])}  # type: ignore[dict-item]


def read_split() -> dict[str, list[str]]:
    return json.loads(SPLIT_FILE.read_text())


def embed(texts: list[str], cache: Path | None = None) -> np.ndarray:
    """All texts in one batched call; with `cache`, embeddings are kept in an .npz keyed by text, so that
    refitting does not re-embed the corpus (minutes on two busy cores)."""
    known: dict[str, np.ndarray] = {}
    if cache and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            known = dict(zip(z["texts"].tolist(), z["emb"], strict=True))
    todo = sorted({t for t in texts if t not in known})
    if todo:
        known |= dict(zip(todo, get_encoder().encode(todo), strict=True))
        if cache:
            keys = list(known)
            np.savez(cache, texts=np.array(keys), emb=np.stack([known[k] for k in keys]))
    return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def features(convs: list[Labelled], cache: Path | None = None) -> list[dict[str, np.ndarray]]:
    """Each conversation's feature matrices per role; the embeddings are batched over all conversations."""
    texts = [s.text for c in convs for s in c.segments]
    emb = embed(texts, cache)
    out, k = [], 0
    for c in convs:
        n = len(c.segments)
        out.append(role_features(c.segments, emb[k : k + n]))
        k += n
    return out


def per_class(gold: list[str], pred: list[str], labels: tuple[str, ...]) -> dict[str, dict[str, float]]:
    table = {}
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        table[lab] = {"precision": prec, "recall": rec, "f1": f1, "support": tp + fn}
    return table


def macro_f1(table: dict[str, dict[str, float]]) -> float:
    return sum(r["f1"] for r in table.values()) / len(table)


def ratio(labels: list[str | None], segments: list[Segment]) -> float | None:
    return _counts_ratio([b for s, b in zip(segments, labels, strict=True) if s.role == "therapist"])


def _counts_ratio(therapist_labels: list[str | None]) -> float | None:
    """Reflections over questions among the therapist's labels (the MITI ratio; None without questions)."""
    q = therapist_labels.count("question")
    return therapist_labels.count("reflection") / q if q else None


def ratio_agrees(pred: float | None, gold: float | None, tol: float = 0.3) -> bool:
    if pred is None or gold is None:
        return pred is None and gold is None
    return abs(pred - gold) <= tol


def evaluate(convs: list[Labelled], models: dict[str, LinearModel] | None = None, cache: Path | None = None) -> dict:
    """The stored (or given) weights on these conversations: per-role tables, macro-F1, ratio agreement."""
    models = models or load_models()
    emb = embed([s.text for c in convs for s in c.segments], cache)
    gold: dict[str, list[str]] = {"therapist": [], "client": []}
    pred: dict[str, list[str]] = {"therapist": [], "client": []}
    agree = []
    k = 0
    for c in convs:
        n = len(c.segments)
        labels = classify(c.segments, emb[k : k + n], models)
        k += n
        for s, g, p in zip(c.segments, c.gold, labels, strict=True):
            gold[s.role].append(g)  # type: ignore[index]
            pred[s.role].append(p)  # type: ignore[index, arg-type]
        agree.append(ratio_agrees(ratio(labels, c.segments), ratio(list(c.gold), c.segments)))
    out: dict = {"conversations": len(convs), "ratio_within_0_3": sum(agree) / len(agree)}
    for role in ("therapist", "client"):
        table = per_class(gold[role], pred[role], LABELS[role])
        out[role] = {"classes": table, "macro_f1": macro_f1(table), "utterances": len(gold[role])}
    return out


def _fit(x: np.ndarray, y: list[str], labels: tuple[str, ...], c: float) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(0)
    scale = x.std(0) + 1e-6
    # balanced class weights: the targets are macro-F1, and sustain talk is 11 % of client turns
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=SEED)
    clf.fit((x - mean) / scale, y)
    order = [list(clf.classes_).index(lab) for lab in labels]
    return LinearModel(
        labels=labels,
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
        coef=clf.coef_[order].astype(np.float32),
        intercept=clf.intercept_[order].astype(np.float32),
    )


def _oof_logits(x: np.ndarray, y: list[str], folds: np.ndarray, labels: tuple[str, ...], c: float) -> np.ndarray:
    """Out-of-fold decision values: each fold scored by a model fitted on the other four."""
    out = np.zeros((len(y), len(labels)), dtype=np.float32)
    for f in range(5):
        m = _fit(x[folds != f], [v for v, k in zip(y, folds, strict=True) if k != f], labels, c)
        out[folds == f] = ((x[folds == f] - m.mean) / m.scale) @ m.coef.T + m.intercept
    return out


def _argmax(logits: np.ndarray, labels: tuple[str, ...]) -> list[str]:
    return [labels[i] for i in logits.argmax(1)]


def _ratio_agreement(pred: list[str], gold: list[str], groups: list[int]) -> float:
    by: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        by.setdefault(g, []).append(i)
    agree = [
        ratio_agrees(_counts_ratio([pred[i] for i in rows]), _counts_ratio([gold[i] for i in rows]))  # type: ignore[misc]
        for rows in by.values()
    ]
    return sum(agree) / len(agree)


def _tune_offsets(role: str, logits: np.ndarray, y: list[str], groups: list[int]) -> np.ndarray:
    """Per-label offsets added to the decision values, chosen on the out-of-fold values of the training
    conversations (never the test split). Client: offsets on neutral and sustain for the best macro-F1
    (balanced weights alone do not put the boundary where macro-F1 is best). Therapist: offsets on
    reflection and question for the best reflection-to-question agreement, among those that cost at most
    0.02 macro-F1 (argmax counts are biased towards questions on short sessions)."""
    labels = LABELS[role]
    grid = np.round(np.arange(-1.5, 1.51, 0.1), 2)
    free = (1, 2) if role == "client" else (0, 1)
    base_f1 = macro_f1(per_class(y, _argmax(logits, labels), labels))
    best_key: tuple[float, float] = (-1.0, -1.0)
    best = np.zeros(len(labels), dtype=np.float32)
    for a in grid:
        for b in grid:
            off = np.zeros(len(labels), dtype=np.float32)
            off[list(free)] = (a, b)
            pred = _argmax(logits + off, labels)
            f1 = macro_f1(per_class(y, pred, labels))
            if role == "client":
                key = (f1, -abs(a) - abs(b))
            elif f1 >= base_f1 - 0.02:
                key = (_ratio_agreement(pred, y, groups), f1)
            else:
                continue
            if key > best_key:
                best_key, best = key, off
    return best


def _rows(
    convs: list[Labelled], feats: list[dict[str, np.ndarray]], role: str
) -> tuple[np.ndarray, list[str], list[int]]:
    xs, ys, groups = [], [], []
    for g, (c, x) in enumerate(zip(convs, feats, strict=True)):
        idx = [i for i, s in enumerate(c.segments) if s.role == role]
        xs.append(x[role][idx])
        ys += [c.gold[i] for i in idx]
        groups += [g] * len(idx)
    return np.vstack(xs), ys, groups


def train(corpus: Path, cache: Path | None) -> int:
    convs = labelled(corpus)
    split = make_split([c.id for c in convs])
    SPLIT_FILE.write_text(json.dumps(split, indent=2) + "\n")
    tr = [c for c in convs if c.id in set(split["train"])]
    t0 = time.monotonic()
    feats = features(tr, cache)
    print(f"embedded {sum(len(c.segments) for c in tr)} training utterances in {time.monotonic() - t0:.1f} s")
    arrays: dict[str, np.ndarray] = {}
    cv_tables: dict[str, dict[str, dict[str, float]]] = {}
    cv_ratio = 0.0
    for role in ("therapist", "client"):
        x, y, groups = _rows(tr, feats, role)
        folds = np.array(groups) % 5
        best: tuple[float, float, np.ndarray] = (-1.0, C_GRID[0], np.zeros(0))
        for c in C_GRID:  # 5-fold CV by conversation, training split only
            logits = _oof_logits(x, y, folds, LABELS[role], c)
            score = macro_f1(per_class(y, _argmax(logits, LABELS[role]), LABELS[role]))
            print(f"{role} C={c}: CV macro-F1 {score:.3f}")
            if score > best[0]:
                best = (score, c, logits)
        offset = _tune_offsets(role, best[2], y, groups)
        oof = _argmax(best[2] + offset, LABELS[role])
        print(f"{role}: C={best[1]}, label offsets {dict(zip(LABELS[role], offset.round(2).tolist(), strict=True))}")
        cv_tables[role] = per_class(y, oof, LABELS[role])
        if role == "therapist":  # the ratio per training conversation, from out-of-fold labels
            cv_ratio = _ratio_agreement(oof, y, groups)
        m = _fit(x, y, LABELS[role], best[1])
        m.intercept = (m.intercept + offset).astype(np.float32)
        arrays |= {
            f"{role}_labels": np.array(m.labels),
            f"{role}_mean": m.mean,
            f"{role}_scale": m.scale,
            f"{role}_coef": m.coef,
            f"{role}_intercept": m.intercept,
            f"{role}_C": np.array(best[1]),
            f"{role}_offset": offset.astype(np.float32),
        }
    print("\ncross-validated on the training conversations (out-of-fold labels, best C):")
    print_report(
        {
            "conversations": len(tr),
            "ratio_within_0_3": cv_ratio,
            **{
                r: {"classes": t, "macro_f1": macro_f1(t), "utterances": sum(int(v["support"]) for v in t.values())}
                for r, t in cv_tables.items()
            },
        }
    )
    np.savez_compressed(WEIGHTS_PATH, **arrays)
    print(f"wrote {WEIGHTS_PATH.relative_to(REPO)}")
    return 0


def print_report(res: dict) -> None:
    for role in ("therapist", "client"):
        r = res[role]
        print(f"\n{role} ({r['utterances']} utterances)")
        print(f"  {'class':<16}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}")
        for lab, v in r["classes"].items():
            print(f"  {lab:<16}{v['precision']:7.3f}{v['recall']:7.3f}{v['f1']:7.3f}{v['support']:6d}")
        print(f"  macro-F1 {r['macro_f1']:.3f}")
    print(
        f"\nreflection-to-question ratio within 0.3 of the experts': {res['ratio_within_0_3']:.1%} "
        f"of {res['conversations']} conversations"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("train", "eval"))
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--split", choices=("test", "train"), default="test")
    ap.add_argument("--cache", type=Path, help="keep the embeddings in this .npz between runs")
    ap.add_argument("--embed-all", action="store_true", help="only fill --cache with every utterance")
    args = ap.parse_args(argv)
    if args.embed_all:
        embed([s.text for c in labelled(args.corpus) for s in c.segments], args.cache)
        return 0
    if args.command == "train":
        return train(args.corpus, args.cache)
    ids = set(read_split()[args.split])
    convs = [c for c in labelled(args.corpus) if c.id in ids]
    t0 = time.monotonic()
    res = evaluate(convs, cache=args.cache)
    print(f"{args.split} split: {len(convs)} conversations, scored in {time.monotonic() - t0:.1f} s")
    print_report(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
