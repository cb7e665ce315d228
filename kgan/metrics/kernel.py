"""Kernel Inception Distance (Bińkowski et al., 2018, "Demystifying MMD GANs").

KID is the squared maximum mean discrepancy (MMD) between two sets of features under
the cubic polynomial kernel

    k(x, y) = (x . y / d + 1)^3,    d = number of features,

estimated without bias, so that its expectation is 0 when both sets come from the same
distribution (single estimates are then as often negative as positive). Unlike FID it
assumes no Gaussian shape and its estimator is unbiased for any sample size, but it is
noisier: the reference implementation averages the estimate over random subsets
(100 subsets of 1,000 samples by default) and reports the mean and the standard
deviation over subsets. `kernel_inception_distance()` follows it, including its
`numpy.random.RandomState(seed).choice` draws, so the same features and seed give the
same subsets as torch-fidelity.
"""

import numpy as np

from kgan._validation import check_int
from kgan.metrics.frechet import _check_features, _check_same_width


def _cubic_kernel(x, y):
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2_unbiased(x, y):
    m, n = x.shape[0], y.shape[0]
    k_xx = _cubic_kernel(x, x)
    k_yy = _cubic_kernel(y, y)
    k_xy = _cubic_kernel(x, y)
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float(sum_xx / (m * (m - 1)) + sum_yy / (n * (n - 1)) - 2 * k_xy.sum() / (m * n))


def mmd2_unbiased(features_a, features_b):
    """Unbiased estimate of the squared MMD under the cubic polynomial kernel.

    For `x_1..x_m` of `features_a` and `y_1..y_n` of `features_b`:

        sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
            - 2 sum_{i, j} k(x_i, y_j) / (m n)

    with `k(x, y) = (x . y / d + 1)^3`. This is one subset of
    `kernel_inception_distance()`, which uses `m = n`. The kernel matrices take
    `O(m^2 + n^2)` memory.

    Args:
        features_a: Array-like of shape `(m, d)`, `m >= 2`.
        features_b: Array-like of shape `(n, d)`, `n >= 2`.

    Returns:
        A Python float; it can be negative when both sets come from the same
        distribution.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(200, 4))
    >>> mmd2_unbiased(a, a + 2.0) > 1.0
    True
    """
    x = _check_features("features_a", features_a, min_samples=2)
    y = _check_features("features_b", features_b, min_samples=2)
    _check_same_width("features_a", x.shape, "features_b", y.shape)
    return _mmd2_unbiased(x, y)


def kernel_inception_distance(
    features_a, features_b, num_subsets=100, subset_size=1000, seed=0
):
    """Kernel Inception Distance: the unbiased MMD^2, averaged over random subsets.

    Each of the `num_subsets` subsets draws `subset_size` rows of `features_a` and
    `subset_size` rows of `features_b`, each without replacement, and computes
    `mmd2_unbiased()` on them. Values are usually reported multiplied by 1,000 (or 100);
    this function does not scale them.

    Args:
        features_a: Array-like of shape `(N_a, d)`, for example Inception pool features
            of real images.
        features_b: Array-like of shape `(N_b, d)`, for example of generated images.
        num_subsets: Integer >= 1, the number of random subsets.
        subset_size: Integer >= 2, at most `N_a` and `N_b`. Takes
            `O(subset_size^2)` memory.
        seed: Integer >= 0 seeding `numpy.random.RandomState` for the subsets, or
            `None` for fresh randomness.

    Returns:
        A tuple `(mean, std)` of Python floats: the mean and the standard deviation
        (population, `ddof=0`, as in the reference implementation) of the MMD^2 over
        the subsets. The std describes the spread of one subset's estimate; the
        subsets overlap, so it is not the standard error of the mean. A set compared
        with itself gives a slightly negative mean rather than 0: its two subsets
        share samples, while the estimator assumes independent sets.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(300, 8))
    >>> mean, std = kernel_inception_distance(
    ...     real, real + 1.0, num_subsets=10, subset_size=100)
    >>> mean > 10 * std
    True
    """
    x = _check_features("features_a", features_a, min_samples=2)
    y = _check_features("features_b", features_b, min_samples=2)
    _check_same_width("features_a", x.shape, "features_b", y.shape)
    num_subsets = check_int("num_subsets", num_subsets, 1)
    subset_size = check_int("subset_size", subset_size, 2)
    if seed is not None:
        seed = check_int("seed", seed, 0)
    if subset_size > min(x.shape[0], y.shape[0]):
        raise ValueError(
            "KID subset_size must be <= the number of samples in each set. "
            f"Received: subset_size={subset_size} with {x.shape[0]} and {y.shape[0]} "
            "samples"
        )
    rng = np.random.RandomState(seed)
    values = np.empty(num_subsets)
    for i in range(num_subsets):
        subset_a = x[rng.choice(x.shape[0], subset_size, replace=False)]
        subset_b = y[rng.choice(y.shape[0], subset_size, replace=False)]
        values[i] = _mmd2_unbiased(subset_a, subset_b)
    return float(np.mean(values)), float(np.std(values))
