"""Linear probes on decompressed representations (scikit-learn).

A probe is fit on the decoded training split and scored on the decoded test split: the
accuracy a linear model reaches from the compressed representation alone. Features are
standardized (fit on the training split) first, since the codes' scales differ per channel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["PROBES", "linear_probe_accuracy"]

PROBES = ("logistic", "linear-svc")


def linear_probe_accuracy(
    train_x: NDArray[Any],
    train_y: NDArray[Any],
    test_x: NDArray[Any],
    test_y: NDArray[Any],
    probe: str = "logistic",
    *,
    C: float = 1.0,
    seed: int = 0,
) -> float:
    """Test accuracy in [0, 1] of a linear classifier fit on ``(train_x, train_y)``.

    Parameters
    ----------
    probe : {"logistic", "linear-svc"}
        :class:`sklearn.linear_model.LogisticRegression` or :class:`sklearn.svm.LinearSVC`.
    C : float
        Inverse regularization strength (> 0).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    if probe not in PROBES:
        raise ValueError(f"`probe` must be one of {', '.join(PROBES)}; got {probe!r}.")
    if not C > 0:
        raise ValueError(f"`C` must be > 0; got {C!r}.")
    model = (
        LogisticRegression(C=C, max_iter=2000)
        if probe == "logistic"
        else LinearSVC(C=C, random_state=seed, max_iter=20_000)
    )
    pipe = make_pipeline(StandardScaler(), model)
    pipe.fit(np.asarray(train_x).reshape(len(train_x), -1), np.asarray(train_y))
    pred = pipe.predict(np.asarray(test_x).reshape(len(test_x), -1))
    return float(np.mean(pred == np.asarray(test_y)))
