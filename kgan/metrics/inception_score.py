"""Inception Score (Salimans et al., 2016) from class probabilities.

    IS = exp(E_x KL(p(y | x) || p(y))),    p(y) = E_x p(y | x)

It is high when each sample is classified confidently (low-entropy `p(y | x)`) and the
classes are used evenly (high-entropy `p(y)`); it ranges from 1 to the number of
classes. As in the reference implementation, the samples are cut into `num_splits`
consecutive splits (10 by default), `p(y)` is the mean over a split, and the mean and
standard deviation of the per-split scores are reported. Published values use the
softmax of the 2015 Inception network on 50,000 samples; scores from other classifiers
or sample sizes are not comparable with them.
"""

import numpy as np

from kgan._validation import check_int

# Allowed |row sum - 1|: softmax outputs in float16 or bfloat16 are off by ~1e-3.
_SUM_TOLERANCE = 1e-2


def inception_score(probabilities, num_splits=10):
    """Inception Score of a set of class-probability vectors.

    The splits are consecutive slices of the rows (`i * N // num_splits` to
    `(i + 1) * N // num_splits`), as in the reference implementation, so rows ordered
    by class (rather than shuffled or generated at random) bias the score.
    `0 log 0` counts as 0, so exact one-hot rows are fine.

    Args:
        probabilities: Array-like of shape `(N, num_classes)`: one probability vector
            per sample (a classifier's softmax output), non-negative, finite, rows
            summing to 1 (within 1e-2; they are used as given, not renormalised).
        num_splits: Integer, `1 <= num_splits <= N`.

    Returns:
        A tuple `(mean, std)` of Python floats: the mean and standard deviation
        (`ddof=0`) of the scores of the splits.

    Example:

    >>> confident_and_even = np.eye(10)[np.arange(100) % 10]
    >>> mean, std = inception_score(confident_and_even, num_splits=10)
    >>> round(mean, 6), round(std, 6)
    (10.0, 0.0)
    >>> round(inception_score(np.full((100, 10), 0.1))[0], 6)
    1.0
    """
    p = np.asarray(probabilities)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(
            "`probabilities` must have shape (num_samples, num_classes) with at least "
            f"one sample and one class. Received: probabilities.shape={p.shape}"
        )
    if p.dtype.kind not in "biuf":
        raise ValueError(
            "`probabilities` must hold real numbers. "
            f"Received: probabilities.dtype={p.dtype}"
        )
    p = p.astype("float64", copy=False)
    num_splits = check_int("num_splits", num_splits, 1)
    if num_splits > p.shape[0]:
        raise ValueError(
            "`num_splits` must be <= the number of samples. "
            f"Received: num_splits={num_splits} with {p.shape[0]} samples"
        )
    bad = ~np.isfinite(p).all(axis=1) | (p < 0).any(axis=1)
    bad |= np.abs(p.sum(axis=1) - 1.0) > _SUM_TOLERANCE
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "Every row of `probabilities` must be a probability vector: finite, "
            f"non-negative and summing to 1 (within {_SUM_TOLERANCE}); pass softmax "
            f"outputs, not logits. Received: {int(bad.sum())} bad rows, the first is "
            f"probabilities[{row}] = {p[row][:10].tolist()}"
            + (" ..." if p.shape[1] > 10 else "")
            + f" (sum {p[row].sum():.6g})"
        )

    n = p.shape[0]
    scores = []
    for i in range(num_splits):
        part = p[i * n // num_splits : (i + 1) * n // num_splits]
        marginal = part.mean(axis=0, keepdims=True)
        # p log(p / p(y)), with 0 log 0 = 0. marginal >= p / len(part) > 0 where p > 0.
        positive = part > 0
        ratio = np.where(positive, part, 1.0) / np.where(positive, marginal, 1.0)
        kl = np.sum(np.where(positive, part * np.log(ratio), 0.0), axis=1)
        scores.append(np.exp(np.mean(kl)))
    return float(np.mean(scores)), float(np.std(scores))
