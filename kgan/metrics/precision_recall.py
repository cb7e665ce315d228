"""k-nearest-neighbour fidelity and diversity: precision, recall, density, coverage.

Each set of features is turned into an estimate of its manifold: the union of balls
around its samples, the ball of a sample reaching its k-th nearest neighbour in the
same set (the sample itself excluded).

- Improved precision and recall (Kynkäänniemi et al., 2019, k = 3): *precision* is the
  fraction of fake samples inside the real manifold (fidelity), *recall* the fraction
  of real samples inside the fake manifold (diversity).
- Density and coverage (Naeem et al., 2020, k = 5), more robust to outliers, use only
  the real manifold: *density* counts how many real balls contain each fake sample,
  divided by k (about 1 when the distributions match, and above 1 when fakes crowd
  around real samples); *coverage* is the fraction of real samples whose ball contains
  at least one fake sample.

A point exactly on a ball's boundary counts as inside. Distances are Euclidean,
computed in float64 a block of rows at a time (at most ~64 MB of distances at once),
so memory stays `O(N)` beyond the features themselves while time is `O(N^2 d)`: the
papers use 50,000 (precision, recall) and 10,000 (density, coverage) samples per set.
"""

import numpy as np

from kgan._validation import check_int
from kgan.metrics.frechet import _check_features, _check_same_width

# Distances held at once: a block of rows times all the columns.
_MAX_BLOCK_ELEMENTS = 2**23


def _row_blocks(num_rows, num_cols):
    rows = max(1, min(1024, _MAX_BLOCK_ELEMENTS // max(num_cols, 1)))
    for start in range(0, num_rows, rows):
        yield slice(start, min(start + rows, num_rows))


def _squared_distances(queries, references, reference_norms):
    query_norms = np.einsum("ij,ij->i", queries, queries)
    distances = query_norms[:, None] - 2.0 * (queries @ references.T) + reference_norms[None, :]
    return np.maximum(distances, 0.0)


def _squared_norms(features):
    return np.einsum("ij,ij->i", features, features)


def _squared_knn_radii(features, k):
    """Squared distance from each row to its k-th nearest other row."""
    norms = _squared_norms(features)
    radii = np.empty(features.shape[0])
    for block in _row_blocks(features.shape[0], features.shape[0]):
        distances = _squared_distances(features[block], features, norms)
        # The point itself, at distance 0, is the 0-th order statistic of its row, so
        # the k-th one is the k-th nearest neighbour excluding the point itself.
        rows = np.arange(block.stop - block.start)
        distances[rows, rows + block.start] = 0.0
        radii[block] = np.partition(distances, k, axis=1)[:, k]
    return radii


def _inside_counts(queries, references, squared_radii):
    """For each query row, how many reference balls contain it."""
    norms = _squared_norms(references)
    counts = np.empty(queries.shape[0], dtype="int64")
    for block in _row_blocks(queries.shape[0], references.shape[0]):
        distances = _squared_distances(queries[block], references, norms)
        counts[block] = np.count_nonzero(distances <= squared_radii[None, :], axis=1)
    return counts


def _check_sets(real_features, fake_features, k, fake_needs_radii):
    real = _check_features("real_features", real_features)
    fake = _check_features("fake_features", fake_features)
    _check_same_width("real_features", real.shape, "fake_features", fake.shape)
    k = check_int("k", k, 1)
    sets = [("real", real)] + ([("fake", fake)] if fake_needs_radii else [])
    for name, features in sets:
        if k >= features.shape[0]:
            raise ValueError(
                f"`k` must be < the number of {name} samples: the k-th nearest neighbour "
                f"excludes the sample itself. Received: k={k} with {features.shape[0]} "
                f"{name} samples"
            )
    # Distances do not change, and rounding in |x|^2 - 2 x.y + |y|^2 shrinks.
    offset = real.mean(axis=0)
    return real - offset, fake - offset, k


def precision_recall(real_features, fake_features, k=3):
    """Improved precision and recall of Kynkäänniemi et al. (2019).

    Args:
        real_features: Array-like of shape `(N, d)`, `N > k`, for example VGG-16 fc2
            or Inception pool features of real images.
        fake_features: Array-like of shape `(M, d)`, `M > k`, the same features of
            generated images.
        k: Integer >= 1, the neighbour defining each sample's ball (3 in the paper).

    Returns:
        A dict with Python floats in [0, 1]: `"precision"`, the fraction of fake
        samples within the k-NN ball of some real sample, and `"recall"`, the fraction
        of real samples within the k-NN ball of some fake sample.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(500, 4))
    >>> precision_recall(real, real)
    {'precision': 1.0, 'recall': 1.0}
    >>> precision_recall(real, real + 100.0)
    {'precision': 0.0, 'recall': 0.0}
    """
    real, fake, k = _check_sets(real_features, fake_features, k, fake_needs_radii=True)
    real_radii = _squared_knn_radii(real, k)
    fake_radii = _squared_knn_radii(fake, k)
    precision = np.mean(_inside_counts(fake, real, real_radii) > 0)
    recall = np.mean(_inside_counts(real, fake, fake_radii) > 0)
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real_features, fake_features, k=5):
    """Density and coverage of Naeem et al. (2020).

    Args:
        real_features: Array-like of shape `(N, d)`, `N > k`.
        fake_features: Array-like of shape `(M, d)`, `M >= 1`, with the same `d`.
        k: Integer >= 1, the neighbour defining each real sample's ball (5 in the
            paper).

    Returns:
        A dict with Python floats: `"density"`, in [0, N / k], the number of
        (fake sample, real ball containing it) pairs divided by `k M`; and
        `"coverage"`, in [0, 1], the fraction of real samples whose k-NN ball contains
        at least one fake sample.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(500, 4))
    >>> density_coverage(real, real + 100.0)
    {'density': 0.0, 'coverage': 0.0}
    """
    real, fake, k = _check_sets(real_features, fake_features, k, fake_needs_radii=False)
    real_radii = _squared_knn_radii(real, k)
    density = _inside_counts(fake, real, real_radii).sum() / (k * fake.shape[0])

    fake_norms = _squared_norms(fake)
    covered = np.empty(real.shape[0], dtype=bool)
    for block in _row_blocks(real.shape[0], fake.shape[0]):
        nearest_fake = _squared_distances(real[block], fake, fake_norms).min(axis=1)
        covered[block] = nearest_fake <= real_radii[block]
    return {"density": float(density), "coverage": float(np.mean(covered))}
