"""Fit the two heads of the risk classifier with AdaGrad SGD, in pure Python, reproducibly.

Risk head: binary logistic regression (risk vs none) over all training texts, classes weighted
to balance. Category head: softmax regression over the risk texts only. Both use the hashed
features of `safety.classifier.features`, scaled by 1/sqrt(number of features). A fixed seed
orders the examples; weights are rounded to 3 decimals and zeros dropped, so a rerun writes the
same file byte for byte.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FitSettings", "fit_category", "fit_risk"]


@dataclass(frozen=True)
class FitSettings:
    """Hyper-parameters shared by both heads."""

    epochs: int = 12
    learning_rate: float = 0.1
    l2: float = 1e-4
    seed: int = 20240601
    decimals: int = 3


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def fit_risk(
    rows: Sequence[list[int]], labels: Sequence[int], settings: FitSettings
) -> tuple[float, dict[int, float]]:
    """Fit the binary risk head.

    Args:
        rows: Hashed feature ids per text.
        labels: 1 for a risk text, 0 for none.
        settings: Hyper-parameters.

    Returns:
        The bias and the non-zero weights by bucket, rounded.
    """
    positives = sum(labels)
    weight = {1: len(labels) / (2.0 * positives), 0: len(labels) / (2.0 * (len(labels) - positives))}
    w: dict[int, float] = {}
    acc: dict[int, float] = {}
    bias, bias_acc = 0.0, 1e-8
    order = list(range(len(rows)))
    rng = random.Random(settings.seed)
    lr, l2 = settings.learning_rate, settings.l2
    for _ in range(settings.epochs):
        rng.shuffle(order)
        for n in order:
            ids = rows[n]
            scale = 1.0 / math.sqrt(len(ids)) if ids else 0.0
            z = bias + sum(w.get(i, 0.0) for i in ids) * scale
            g = (_sigmoid(z) - labels[n]) * weight[labels[n]]
            bias_acc += g * g
            bias -= lr * g / math.sqrt(bias_acc)
            for i in ids:
                wi = w.get(i, 0.0)
                gi = g * scale + l2 * wi
                a = acc.get(i, 1e-8) + gi * gi
                acc[i] = a
                w[i] = wi - lr * gi / math.sqrt(a)
    d = settings.decimals
    return round(bias, d), {i: round(v, d) for i, v in sorted(w.items()) if round(v, d) != 0.0}


def fit_category(
    rows: Sequence[list[int]], labels: Sequence[int], classes: int, settings: FitSettings
) -> tuple[list[float], dict[int, list[float]]]:
    """Fit the softmax category head on the risk texts.

    Args:
        rows: Hashed feature ids per risk text.
        labels: The index of each text's category.
        classes: How many categories.
        settings: Hyper-parameters.

    Returns:
        The biases and the weight rows by bucket (rows that round to all zeros are dropped).
    """
    w: dict[int, list[float]] = {}
    acc: dict[int, list[float]] = {}
    bias, bias_acc = [0.0] * classes, [1e-8] * classes
    order = list(range(len(rows)))
    rng = random.Random(settings.seed + 1)
    lr, l2 = settings.learning_rate, settings.l2
    for _ in range(settings.epochs):
        rng.shuffle(order)
        for n in order:
            ids = rows[n]
            scale = 1.0 / math.sqrt(len(ids)) if ids else 0.0
            logits = list(bias)
            for i in ids:
                row = w.get(i)
                if row is not None:
                    for k in range(classes):
                        logits[k] += row[k] * scale
            top = max(logits)
            exps = [math.exp(x - top) for x in logits]
            total = sum(exps)
            grads = [e / total - (1.0 if k == labels[n] else 0.0) for k, e in enumerate(exps)]
            for k in range(classes):
                bias_acc[k] += grads[k] * grads[k]
                bias[k] -= lr * grads[k] / math.sqrt(bias_acc[k])
            for i in ids:
                row = w.setdefault(i, [0.0] * classes)
                racc = acc.setdefault(i, [1e-8] * classes)
                for k in range(classes):
                    gk = grads[k] * scale + l2 * row[k]
                    racc[k] += gk * gk
                    row[k] -= lr * gk / math.sqrt(racc[k])
    d = settings.decimals
    rounded = {i: [round(x, d) for x in row] for i, row in sorted(w.items())}
    return [round(b, d) for b in bias], {i: r for i, r in rounded.items() if any(r)}
