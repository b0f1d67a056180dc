#!/usr/bin/python3
"""Regenerates metric_fixtures.json: AUC and AP from scikit-learn, whose exact definitions torchmetrics'
BinaryAUROC / BinaryAveragePrecision (thresholds=None) copy, and ECE computed the way torchmetrics'
BinaryCalibrationError(n_bins=15, norm="l1") bins. CI does not run this; it needs Debian's python3-sklearn.

    /usr/bin/python3 make_metric_fixtures.py > metric_fixtures.json
"""
import json

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def ece(labels, scores, bins=15):
    bounds = np.linspace(0, 1, bins + 1)
    idx = np.searchsorted(bounds, scores, side="right") - 1  # torch.bucketize(right=True) - 1
    total = 0.0
    for b in range(bins + 1):
        m = idx == b
        if m.any():
            total += abs(labels[m].mean() - scores[m].mean()) * m.mean()
    return float(total)


def case(name, labels, scores):
    labels = np.asarray(labels, dtype=int)
    scores = np.asarray(scores, dtype=float)
    return {
        "name": name,
        "labels": labels.tolist(),
        "scores": scores.tolist(),
        "auc": float(roc_auc_score(labels, scores)),
        "ap": float(average_precision_score(labels, scores)),
        "ece15": ece(labels, scores),
    }


rng = np.random.default_rng(20261127)
cases = [
    case("tiny_with_ties", [0, 1, 1, 0, 1, 0, 1], [0.1, 0.4, 0.4, 0.4, 0.8, 0.8, 0.95]),
    case("all_tied", [0, 1, 0, 1, 1], [0.5] * 5),
]
for n, decimals in [(40, 1), (300, 2), (2000, 3)]:
    labels = rng.integers(0, 2, n)
    scores = np.clip(rng.normal(0.35 + 0.3 * labels, 0.2), 0, 1).round(decimals)
    cases.append(case(f"random_{n}_rounded_{decimals}", labels, scores))
print(json.dumps({"generator": "scikit-learn roc_auc_score / average_precision_score", "cases": cases}))
