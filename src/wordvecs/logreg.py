"""A logistic regression on fixed features, its ``C`` chosen on the validation split.

Shared by the baselines (:mod:`wordvecs.training.baselines`: TF-IDF, mean vectors, sentence
embeddings) and the fine-tuned encoder's linear probe (:mod:`wordvecs.encoders.contextual`),
so that the probe starts exactly where the sentence-embedding baseline ends. scikit-learn (the
``baselines`` extra) is imported only when a model is fitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from wordvecs.errors import require

__all__ = ["MAX_ITER", "SENTENCE_CS", "choose", "choose_c", "logreg"]

#: The inverse regularisation strengths tried on L2-normalised sentence embeddings (no
#: standardisation): the ``sentvec`` baseline's and the linear probe's.
SENTENCE_CS: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0)
#: lbfgs iterations a logistic regression may take (TF-IDF fits converge in well under 100).
MAX_ITER = 1000


def logreg(c: float, seed: int) -> Any:
    """An unfitted scikit-learn ``LogisticRegression`` (lbfgs, multinomial) with this ``C``."""
    lm = require("sklearn.linear_model", "baselines")
    return lm.LogisticRegression(C=c, solver="lbfgs", max_iter=MAX_ITER, random_state=seed)


def choose(candidates: Sequence[tuple[dict[str, Any], Callable[[], tuple[Any, float]]]]
           ) -> tuple[dict[str, Any], Any, float, list[dict[str, Any]]]:
    """Fit each candidate (settings, fit -> (model, validation accuracy)) in order; keep the
    first with the best validation accuracy (so, candidates listed simplest first, ties go to
    the simplest). Returns the settings, the model, its accuracy and every candidate's."""
    best: tuple[dict[str, Any], Any, float] | None = None
    search = []
    for settings, fit in candidates:
        model, acc = fit()
        search.append({**settings, "val_accuracy": acc})
        if best is None or acc > best[2]:
            best = (settings, model, acc)
    assert best is not None
    return best[0], best[1], best[2], search


def choose_c(x_tr: Any, train_y: np.ndarray, x_va: Any, val_y: np.ndarray,
             cs: Sequence[float], seed: int) -> tuple[dict[str, Any], Any, float,
                                                       list[dict[str, Any]]]:
    """A logistic regression on fixed features for each ``C`` of ``cs`` (in increasing order),
    the most accurate on validation kept (:func:`choose`: the smaller ``C`` among equals)."""
    def fitter(c: float) -> Callable[[], tuple[Any, float]]:
        def fit() -> tuple[Any, float]:
            clf = logreg(c, seed).fit(x_tr, train_y)
            return clf, float(np.mean(clf.predict(x_va) == val_y))
        return fit

    return choose([({"C": float(c)}, fitter(c)) for c in sorted(cs)])
