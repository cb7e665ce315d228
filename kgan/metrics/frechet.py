"""Fréchet distance between two sets of features (FID when they are Inception features).

The Fréchet Inception Distance (Heusel et al., 2017) fits a Gaussian to each set of
features and reports the squared 2-Wasserstein distance between the two Gaussians:

    FID = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))

The trace of the matrix square root is computed without `scipy.linalg.sqrtm`: with
any factor `F F^T = S_a` (`S_a^(1/2)` itself, or a Cholesky factor), the eigenvalues of
`S_a S_b` are those of the symmetric positive semi-definite matrix `F^T S_b F`, so

    Tr((S_a S_b)^(1/2)) = sum_i sqrt(lambda_i(F^T S_b F))

with `np.linalg.eigvalsh`, eigenvalues within rounding of 0 (or negative) set to 0.
`F` is the Cholesky factor when `S_a` is positive definite (for 2048 Inception
features this is several times faster than an eigendecomposition), and `S_a^(1/2)`
from `np.linalg.eigh` otherwise. Unlike `sqrtm`, this leaves no imaginary residue and stays
finite on singular covariances, for example with fewer samples than features.

This module only works on features; extracting them (Inception or another network) is
up to the caller, see `kgan.metrics.streaming`.
"""

import numpy as np

# Rows converted to float64 at a time when moments are computed from an array.
_CHUNK_ROWS = 4096


def _check_features(name, features, min_samples=1, dtype="float64"):
    """Returns `features` as a finite array of shape (N, D) and `dtype`, or raises.

    Shared by the metrics on feature arrays (`frechet`, `kernel`, `precision_recall`).
    `dtype=None` keeps the input's dtype (no copy), after the same checks.
    """
    array = np.asarray(features)
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(
            f"`{name}` must be a 2-D array of shape (num_samples, num_features); flatten "
            f"or pool the feature maps first. Received: {name}.shape={array.shape}"
        )
    if array.shape[0] < min_samples:
        raise ValueError(
            f"`{name}` must have at least {min_samples} samples (rows). "
            f"Received: {name}.shape={array.shape}"
        )
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"`{name}` must hold real numbers. Received: {name}.dtype={array.dtype}"
        )
    _check_finite(name, array)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return array


def _check_finite(name, array):
    if not np.all(np.isfinite(array)):
        count = int(array.size - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"`{name}` must be finite. Received: {count} NaN or infinite values in "
            f"{name} of shape {array.shape}"
        )


def _check_same_width(name_a, shape_a, name_b, shape_b):
    if shape_a[-1] != shape_b[-1]:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same number of features. "
            f"Received: {name_a}.shape={tuple(shape_a)} and {name_b}.shape={tuple(shape_b)}"
        )


class FeatureMoments:
    """Running mean and covariance of feature batches, in float64.

    Call `update()` with batches of features of shape `(batch_size, num_features)` and
    read `mean` and `covariance` at any time; only `O(num_features^2)` memory is held,
    whatever the number of samples. Partial moments from several workers or datasets
    combine with `merge()`.

    The state is the sample count, the mean and the sum of outer products of the
    centred features, combined batch by batch with the pairwise formula of Chan et al.
    (1979). This equals accumulating the sum and the sum of outer products, without the
    cancellation of `E[x x^T] - mu mu^T` when the mean is large compared with the spread.

    Args:
        num_features: Optional int, the width of the features. `None` (default) takes
            it from the first batch.

    Example:

    >>> moments = FeatureMoments()
    >>> moments.update(np.array([[0.0, 1.0], [2.0, 3.0]]))
    >>> moments.update(np.array([[4.0, 5.0]]))
    >>> moments.count, moments.mean.tolist()
    (3, [2.0, 3.0])
    >>> moments.covariance.tolist()
    [[4.0, 4.0], [4.0, 4.0]]
    """

    def __init__(self, num_features=None):
        if num_features is not None:
            if (
                not isinstance(num_features, (int, np.integer))
                or isinstance(num_features, bool)
                or num_features < 1
            ):
                raise ValueError(
                    "`num_features` must be None or an integer >= 1. "
                    f"Received: num_features={num_features!r}"
                )
            num_features = int(num_features)
        self._num_features = num_features
        self._count = 0
        self._mean = None
        self._centered_outer_sum = None

    @property
    def count(self):
        """The number of feature vectors seen so far, an int."""
        return self._count

    @property
    def num_features(self):
        """The feature width, an int, or `None` before the first non-empty batch."""
        return self._num_features

    def update(self, batch):
        """Adds a batch of features.

        Args:
            batch: Array-like (numpy array or tensor) of shape
                `(batch_size, num_features)`, finite. An empty batch is a no-op.

        Example:

        >>> moments = FeatureMoments()
        >>> moments.update(np.ones((4, 3)))
        >>> moments.count
        4
        """
        array = np.asarray(batch)
        empty = array.ndim == 2 and array.shape[0] == 0
        if not empty:
            array = _check_features("batch", array)
        if self._num_features is not None and array.shape[-1] != self._num_features:
            raise ValueError(
                f"`batch` must have the {self._num_features} features of the previous "
                f"batches (or of `num_features`). Received: batch.shape={array.shape}"
            )
        if empty:
            return
        mean = array.mean(axis=0)
        centered = array - mean
        self._combine(array.shape[0], mean, centered.T @ centered)

    def merge(self, other):
        """Adds the samples summarised by another `FeatureMoments`, in place.

        Args:
            other: A `FeatureMoments` with the same `num_features` (or empty).

        Returns:
            `self`, so that merges chain.

        Example:

        >>> a, b = FeatureMoments(), FeatureMoments()
        >>> a.update(np.zeros((2, 3)))
        >>> b.update(np.ones((2, 3)))
        >>> a.merge(b).mean.tolist()
        [0.5, 0.5, 0.5]
        """
        if not isinstance(other, FeatureMoments):
            raise ValueError(
                f"`other` must be a FeatureMoments. Received: other={other!r}"
            )
        if other._count == 0:
            return self
        if self._num_features is not None and other._num_features != self._num_features:
            raise ValueError(
                "`other` must have the same number of features as these moments "
                f"({self._num_features}). Received: other={other!r}"
            )
        self._combine(other._count, other._mean, other._centered_outer_sum)
        return self

    def _combine(self, count, mean, centered_outer_sum):
        if self._count == 0:
            self._num_features = int(mean.shape[0])
            self._count = int(count)
            self._mean = np.array(mean, dtype="float64")
            self._centered_outer_sum = np.array(centered_outer_sum, dtype="float64")
            return
        total = self._count + count
        delta = mean - self._mean
        self._mean = self._mean + delta * (count / total)
        self._centered_outer_sum = (
            self._centered_outer_sum
            + centered_outer_sum
            + np.outer(delta, delta) * (self._count * count / total)
        )
        self._count = total

    @property
    def mean(self):
        """The mean feature vector, a float64 array of shape `(num_features,)`."""
        if self._count < 1:
            raise ValueError(
                "FeatureMoments.mean needs at least 1 sample. Received: count=0"
            )
        return self._mean.copy()

    @property
    def covariance(self):
        """The unbiased (N - 1) covariance, float64, of shape `(num_features, num_features)`."""
        if self._count < 2:
            raise ValueError(
                "FeatureMoments.covariance needs at least 2 samples. "
                f"Received: count={self._count}"
            )
        return self._centered_outer_sum / (self._count - 1)

    def __repr__(self):
        return f"FeatureMoments(count={self._count}, num_features={self._num_features})"


def _moments_of(name, features):
    """Returns a `FeatureMoments` with at least 2 samples from an array or moments."""
    if isinstance(features, FeatureMoments):
        if features.count < 2:
            raise ValueError(
                f"The Fréchet distance needs at least 2 samples in `{name}` to estimate a "
                f"covariance. Received: {name}={features!r}"
            )
        return features
    array = np.asarray(features)
    if array.ndim == 2 and array.shape[0] < 2:
        raise ValueError(
            f"The Fréchet distance needs at least 2 samples in `{name}` to estimate a "
            f"covariance. Received: {name}.shape={array.shape}"
        )
    # Checked once here, converted to float64 a chunk at a time below.
    array = _check_features(name, array, dtype=None)
    moments = FeatureMoments()
    for start in range(0, array.shape[0], _CHUNK_ROWS):
        moments.update(array[start : start + _CHUNK_ROWS])
    return moments


def _describe(name, features):
    if isinstance(features, FeatureMoments):
        return f"{name}={features!r}"
    return f"{name}.shape={np.shape(features)}"


def frechet_distance(features_a, features_b):
    """Fréchet distance between the Gaussians fitted to two sets of features.

    With Inception-v3 pool features (2048-d) of real and generated images this is the
    FID; published FIDs use 50,000 generated images, and the value is biased upward
    with fewer, so only compare values computed with the same sample sizes.

    Args:
        features_a: Array-like of shape `(N_a, D)` with `N_a >= 2`, or a
            `FeatureMoments` of at least 2 samples (for example precomputed statistics
            of the real data).
        features_b: The same for the other set, with the same `D`.

    Returns:
        A non-negative Python float.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(1000, 8))
    >>> round(frechet_distance(real, real), 6)
    0.0
    >>> frechet_distance(real, real + 1.0) > 7.9
    True
    """
    moments_a = _moments_of("features_a", features_a)
    moments_b = _moments_of("features_b", features_b)
    if moments_a.num_features != moments_b.num_features:
        raise ValueError(
            "`features_a` and `features_b` must have the same number of features. "
            f"Received: {_describe('features_a', features_a)} and "
            f"{_describe('features_b', features_b)}"
        )
    return frechet_distance_from_moments(
        moments_a.mean, moments_a.covariance, moments_b.mean, moments_b.covariance
    )


def _clip_eigenvalues(eigenvalues):
    """Sets eigenvalues indistinguishable from 0 in float64 (or below it) to exactly 0.

    Rounding leaves the zero eigenvalues of a singular matrix at about +-eps times the
    largest one, and their square roots (~1e-8 times) would add up in the trace.
    """
    tolerance = eigenvalues.max(initial=0.0) * len(eigenvalues) * np.finfo("float64").eps
    return np.where(eigenvalues > tolerance, eigenvalues, 0.0)


def _psd_factor(matrix):
    """Returns F with F F^T = matrix, for a symmetric positive semi-definite matrix.

    Cholesky when the matrix is positive definite (fast); otherwise (singular, for
    example fewer samples than features) the eigendecomposition, with eigenvalues
    within rounding of 0 set to 0.
    """
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        eigenvalues, eigenvectors = np.linalg.eigh(matrix)
        return eigenvectors * np.sqrt(_clip_eigenvalues(eigenvalues))


def _trace_sqrt_product(sigma1, sigma2):
    """Tr((sigma1 sigma2)^(1/2)) for symmetric positive semi-definite matrices.

    With F F^T = sigma1, sigma1 sigma2 = F (F^T sigma2) and F^T sigma2 F = (F^T sigma2) F
    are products of the same two square matrices in both orders, so they have the same
    eigenvalues; the latter is symmetric PSD.
    """
    factor = _psd_factor(sigma1)
    product = factor.T @ sigma2 @ factor
    eigenvalues = np.linalg.eigvalsh((product + product.T) / 2)
    return float(np.sum(np.sqrt(_clip_eigenvalues(eigenvalues))))


def frechet_distance_from_moments(mu1, sigma1, mu2, sigma2):
    """Fréchet distance between `N(mu1, sigma1)` and `N(mu2, sigma2)`.

    `||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))`, computed in
    float64 through the eigenvalues of the symmetric matrix `F^T sigma2 F`, where
    `F F^T = sigma1` (see the module docstring), so it is finite for singular
    covariances.

    Args:
        mu1: Array-like of shape `(D,)`, the first mean.
        sigma1: Array-like of shape `(D, D)`, the first covariance: symmetric positive
            semi-definite. Only its symmetric part is used, and eigenvalues within
            rounding of 0 (or below) count as 0.
        mu2: Array-like of shape `(D,)`, the second mean.
        sigma2: Array-like of shape `(D, D)`, the second covariance.

    Returns:
        A non-negative Python float.

    Example:

    >>> round(frechet_distance_from_moments(
    ...     np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)), 6)
    4.0
    """
    arrays = {}
    for name, value, ndim in (
        ("mu1", mu1, 1), ("sigma1", sigma1, 2), ("mu2", mu2, 1), ("sigma2", sigma2, 2)
    ):
        array = np.asarray(value, dtype="float64")
        if array.ndim != ndim or array.shape[0] == 0:
            shape = "(D,)" if ndim == 1 else "(D, D)"
            raise ValueError(
                f"`{name}` must have shape {shape} with D >= 1. "
                f"Received: {name}.shape={array.shape}"
            )
        _check_finite(name, array)
        arrays[name] = array
    mu1, sigma1, mu2, sigma2 = arrays["mu1"], arrays["sigma1"], arrays["mu2"], arrays["sigma2"]
    width = mu1.shape[0]
    for name, array in (("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if array.shape != (width,) * array.ndim:
            raise ValueError(
                f"`mu1`, `sigma1`, `mu2` and `sigma2` must have shapes (D,), (D, D), (D,) "
                f"and (D, D) for one D. Received: mu1.shape={mu1.shape} and "
                f"{name}.shape={array.shape}"
            )

    sigma1 = (sigma1 + sigma1.T) / 2
    sigma2 = (sigma2 + sigma2.T) / 2
    trace_sqrt_product = _trace_sqrt_product(sigma1, sigma2)

    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product
    # It is a squared distance; rounding can make equal Gaussians slightly negative.
    return max(float(distance), 0.0)
