"""Scores of a classifier's predictions, shared by every mode (the experiment, the contextual
head, a saved classifier's ``evaluate``); numpy only."""

from __future__ import annotations

import numpy as np

__all__ = ["macro_f1"]


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """The unweighted mean of the per-class F1 scores (a class absent from both counts as 0)."""
    scores = []
    for c in range(n_classes):
        tp = int(np.sum((y_pred == c) & (y_true == c)))
        fp = int(np.sum((y_pred == c) & (y_true != c)))
        fn = int(np.sum((y_pred != c) & (y_true == c)))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))
