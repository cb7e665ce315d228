"""Known answers for the metrics on feature arrays: FID, KID, IS, precision/recall,
density/coverage, and the streaming helpers. numpy only, small arrays."""

import importlib
import math

import numpy as np
import pytest
import tensorflow as tf

from kgan.metrics.frechet import (
    FeatureMoments,
    frechet_distance,
    frechet_distance_from_moments,
)
from kgan.metrics.inception_score import inception_score
from kgan.metrics.kernel import kernel_inception_distance, mmd2_unbiased
from kgan.metrics.precision_recall import density_coverage, precision_recall
from kgan.metrics.streaming import (
    features_from_batches,
    generated_batches,
    moments_from_batches,
)

# The package exports a function of the same name; the module holds the block size.
pr_module = importlib.import_module("kgan.metrics.precision_recall")


def _random_covariance(rng, dim, floor):
    a = rng.normal(size=(dim, dim))
    return a @ a.T / dim + floor * np.eye(dim)


# Fréchet distance.


def test_fid_of_diagonal_gaussians_is_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([0.5, 1.0, 1.0])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    # 0.25 + 9 + (1 + 9 - 6) + (4 + 1 - 4) + 0 = 14.25
    assert expected == pytest.approx(14.25)
    result = frechet_distance_from_moments(mu1, np.diag(s1), mu2, np.diag(s2))
    assert isinstance(result, float)
    assert result == pytest.approx(14.25, rel=1e-12)


def test_fid_of_commuting_covariances_is_the_closed_form():
    # S1 = Q diag(a) Q^T and S2 = Q diag(b) Q^T commute: (S1 S2)^(1/2) = Q diag(sqrt(ab)) Q^T.
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    a, b = rng.uniform(0.1, 3.0, size=5), rng.uniform(0.1, 3.0, size=5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(a + b - 2 * np.sqrt(a * b))
    result = frechet_distance_from_moments(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
    assert result == pytest.approx(expected, rel=1e-10)


def test_fid_of_non_commuting_covariances_matches_independent_computations():
    s1 = np.array([[2.0, 0.8], [0.8, 1.0]])
    s2 = np.array([[0.5, -0.3], [-0.3, 3.0]])
    assert not np.allclose(s1 @ s2, s2 @ s1)
    mu1, mu2 = np.array([1.0, 2.0]), np.array([0.0, -1.0])
    # A 2x2 matrix M with positive eigenvalues: Tr(M^(1/2)) = sqrt(Tr M + 2 sqrt(det M)).
    m = s1 @ s2
    trace_sqrt = math.sqrt(np.trace(m) + 2 * math.sqrt(np.linalg.det(m)))
    expected = 10.0 + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    result = frechet_distance_from_moments(mu1, s1, mu2, s2)
    assert result == pytest.approx(expected, rel=1e-12)

    # And in 6-D with the (real, non-negative) eigenvalues of S1 S2 from np.linalg.eig.
    rng = np.random.default_rng(2)
    s1, s2 = _random_covariance(rng, 6, 0.1), _random_covariance(rng, 6, 0.1)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    eigenvalues = np.linalg.eig(s1 @ s2)[0]
    np.testing.assert_allclose(eigenvalues.imag, 0.0, atol=1e-10)
    expected = (
        np.sum((mu1 - mu2) ** 2)
        + np.trace(s1)
        + np.trace(s2)
        - 2 * np.sum(np.sqrt(eigenvalues.real))
    )
    assert frechet_distance_from_moments(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-10)
    # Symmetric in its two Gaussians.
    assert frechet_distance_from_moments(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-10)


def test_fid_of_samples_approaches_the_closed_form():
    rng = np.random.default_rng(3)
    s1, s2 = _random_covariance(rng, 4, 0.5), _random_covariance(rng, 4, 0.2)
    mu1, mu2 = np.zeros(4), np.array([1.0, 0.5, 0.0, -1.0])
    exact = frechet_distance_from_moments(mu1, s1, mu2, s2)
    x = rng.multivariate_normal(mu1, s1, size=20000)
    y = rng.multivariate_normal(mu2, s2, size=20000)
    assert frechet_distance(x, y) == pytest.approx(exact, rel=0.05)
    # float32 features (as networks give them) are accumulated in float64.
    assert frechet_distance(x.astype("float32"), y.astype("float32")) == pytest.approx(
        exact, rel=0.05
    )


def test_fid_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(500, 16))
    assert abs(frechet_distance(x, x)) < 1e-6
    moments = FeatureMoments()
    moments.update(x)
    assert abs(frechet_distance(moments, x)) < 1e-6
    # A large offset and scale do not break it: the moments are centred batch by batch.
    assert frechet_distance(100 * x + 1000, 100 * x + 1000) < 1e-6 * 16 * 100**2


def test_fid_is_finite_and_non_negative_for_singular_covariances():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(10, 64)), rng.normal(size=(10, 64))  # rank 9 covariances
    result = frechet_distance(x, y)
    assert math.isfinite(result) and result > 0
    assert 0 <= frechet_distance(x, x) < 1e-6
    # Exactly rank-deficient, with exactly zero variance in some features.
    x[:, 32:] = 0.0
    y[:, 32:] = 0.0
    assert math.isfinite(frechet_distance(x, y))
    assert frechet_distance_from_moments(np.zeros(3), np.zeros((3, 3)), np.ones(3), np.zeros((3, 3))) == (
        pytest.approx(3.0)
    )


def test_fid_of_singular_covariances_known_answer():
    # (diag(1, 0) diag(4, 9))^(1/2) = diag(2, 0): FID = 1 + 13 - 4 = 10 (Cholesky fails here).
    result = frechet_distance_from_moments(np.zeros(2), np.diag([1.0, 0.0]), np.zeros(2), np.diag([4.0, 9.0]))
    assert result == pytest.approx(10.0, rel=1e-12)
    # Rotated, so that the zero variance is along no axis.
    q = np.array([[0.6, -0.8], [0.8, 0.6]])
    result = frechet_distance_from_moments(
        np.zeros(2), q @ np.diag([1.0, 0.0]) @ q.T, np.zeros(2), q @ np.diag([4.0, 9.0]) @ q.T
    )
    assert result == pytest.approx(10.0, rel=1e-9)


def test_fid_cholesky_and_eigendecomposition_paths_agree(monkeypatch):
    rng = np.random.default_rng(20)
    s1, s2 = _random_covariance(rng, 30, 0.01), _random_covariance(rng, 30, 0.01)
    mu1, mu2 = rng.normal(size=30), rng.normal(size=30)
    fast = frechet_distance_from_moments(mu1, s1, mu2, s2)

    def no_cholesky(matrix):
        raise np.linalg.LinAlgError("forced")

    monkeypatch.setattr(np.linalg, "cholesky", no_cholesky)
    assert frechet_distance_from_moments(mu1, s1, mu2, s2) == pytest.approx(fast, rel=1e-10)


def test_feature_moments_in_batches_equal_the_one_shot_moments():
    rng = np.random.default_rng(6)
    x = rng.normal(loc=3.0, size=(103, 7))
    streamed = FeatureMoments()
    for start in range(0, 103, 10):
        streamed.update(x[start : start + 10])
    streamed.update(np.zeros((0, 7)))  # an empty batch is a no-op
    assert streamed.count == 103 and streamed.num_features == 7
    np.testing.assert_allclose(streamed.mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(streamed.covariance, np.cov(x, rowvar=False), rtol=1e-10)
    assert streamed.covariance.dtype == np.float64

    first, second = FeatureMoments(), FeatureMoments()
    first.update(x[:50])
    second.update(tf.constant(x[50:]))  # tensors are accepted
    assert first.merge(second) is first
    np.testing.assert_allclose(first.covariance, np.cov(x, rowvar=False), rtol=1e-10)
    assert first.merge(FeatureMoments()).count == 103
    assert frechet_distance(first, x) == pytest.approx(0.0, abs=1e-9)


def test_feature_moments_errors():
    moments = FeatureMoments()
    with pytest.raises(ValueError, match="at least 1 sample"):
        _ = moments.mean
    moments.update(np.ones((1, 3)))
    with pytest.raises(ValueError, match="at least 2 samples. Received: count=1"):
        _ = moments.covariance
    with pytest.raises(ValueError, match=r"Received: batch.shape=\(2, 4\)"):
        moments.update(np.ones((2, 4)))
    with pytest.raises(ValueError, match="Received: batch.shape"):
        moments.update(np.ones(3))
    with pytest.raises(ValueError, match="must be finite"):
        moments.update(np.array([[1.0, np.nan, 0.0]]))
    other = FeatureMoments()
    other.update(np.ones((2, 4)))
    with pytest.raises(ValueError, match="Received: other=FeatureMoments"):
        moments.merge(other)
    with pytest.raises(ValueError, match="Received: num_features=0"):
        FeatureMoments(num_features=0)


def test_fid_errors_name_the_received_values():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(20, 4))
    with pytest.raises(ValueError, match=r"Received: features_a.shape=\(20, 4\) and features_b.shape=\(20, 3\)"):
        frechet_distance(x, x[:, :3])
    with pytest.raises(ValueError, match=r"at least 2 samples .* Received: features_b.shape=\(1, 4\)"):
        frechet_distance(x, x[:1])
    bad = x.copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="features_a` must be finite. Received: 1 NaN or infinite"):
        frechet_distance(bad, x)
    with pytest.raises(ValueError, match=r"Received: features_a.shape=\(20,\)"):
        frechet_distance(x[:, 0], x)
    with pytest.raises(ValueError, match=r"Received: mu1.shape=\(4,\) and sigma2.shape=\(3, 3\)"):
        frechet_distance_from_moments(np.zeros(4), np.eye(4), np.zeros(4), np.eye(3))


# Kernel Inception Distance.


def test_mmd2_unbiased_matches_a_direct_double_sum():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(6, 3)), rng.normal(loc=0.3, size=(4, 3))

    def k(u, v):
        return (np.dot(u, v) / 3 + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / (6 * 5)
    yy = sum(k(y[i], y[j]) for i in range(4) for j in range(4) if i != j) / (4 * 3)
    xy = sum(k(x[i], y[j]) for i in range(6) for j in range(4)) / (6 * 4)
    assert mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)


def test_kid_of_one_distribution_is_near_zero_and_can_be_negative():
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    mean, std = kernel_inception_distance(a, b, num_subsets=20, subset_size=200)
    assert std > 0 and abs(mean) < 3 * std
    # Unbiased: single estimates fall on both sides of 0.
    estimates = [mmd2_unbiased(rng.normal(size=(50, 4)), rng.normal(size=(50, 4))) for _ in range(10)]
    assert min(estimates) < 0 < max(estimates)
    # Same seed, same subsets; the result is a pair of Python floats.
    again = kernel_inception_distance(a, b, num_subsets=20, subset_size=200)
    assert again == (mean, std) and all(isinstance(v, float) for v in again)


def test_kid_of_shifted_sets_is_clearly_positive_and_self_kid_is_near_zero():
    rng = np.random.default_rng(10)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    shifted_mean, shifted_std = kernel_inception_distance(a, b + 0.5, num_subsets=20, subset_size=200)
    assert shifted_mean > 5 * shifted_std > 0
    # The subsets of a set with itself share samples, so it is slightly below 0.
    self_mean, _ = kernel_inception_distance(a, a, num_subsets=20, subset_size=200)
    assert abs(self_mean) < 0.05 * shifted_mean
    # The whole set against itself (no subsampling): exactly 2 (mean K - mean diag K) / (m - 1).
    kernel = (a @ a.T / 8 + 1) ** 3
    expected = 2 * (kernel.mean() - np.diag(kernel).mean()) / 399
    full_mean, full_std = kernel_inception_distance(a, a, num_subsets=2, subset_size=400)
    assert full_mean == pytest.approx(expected, rel=1e-9) and full_std < 1e-12


def test_kid_errors():
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(500, 4)), rng.normal(size=(800, 4))
    with pytest.raises(
        ValueError,
        match="KID subset_size must be <= the number of samples in each set. "
        "Received: subset_size=1000 with 500 and 800 samples",
    ):
        kernel_inception_distance(a, b)
    with pytest.raises(ValueError, match=r"Received: features_a.shape=\(500, 4\) and features_b.shape=\(800, 3\)"):
        kernel_inception_distance(a, b[:, :3], subset_size=100)
    with pytest.raises(ValueError, match="Received: num_subsets=0"):
        kernel_inception_distance(a, b, num_subsets=0, subset_size=100)
    with pytest.raises(ValueError, match="Received: subset_size=1"):
        kernel_inception_distance(a, b, subset_size=1)
    with pytest.raises(ValueError, match="Received: seed=-1"):
        kernel_inception_distance(a, b, subset_size=100, seed=-1)
    with pytest.raises(ValueError, match=r"features_b.shape=\(1, 4\)"):
        mmd2_unbiased(a, b[:1])


# Inception Score.


def test_inception_score_of_confident_even_predictions_is_the_number_of_classes():
    probabilities = np.eye(10)[np.arange(200) % 10]
    mean, std = inception_score(probabilities, num_splits=10)
    assert mean == pytest.approx(10.0, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)
    assert inception_score(probabilities, num_splits=1)[0] == pytest.approx(10.0, rel=1e-12)
    # One class only: confident but not diverse.
    assert inception_score(np.eye(10)[np.zeros(50, int)], num_splits=5)[0] == pytest.approx(1.0)


def test_inception_score_of_uniform_predictions_is_one():
    mean, std = inception_score(np.full((100, 7), 1 / 7), num_splits=10)
    assert mean == pytest.approx(1.0, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_known_value():
    # p(y) = (0.75, 0.25); KL of [1, 0] is log(4/3), of [0.5, 0.5] is 0.5 log(2/3) + 0.5 log 2.
    probabilities = np.array([[1.0, 0.0], [0.5, 0.5]], dtype="float32")
    kl = (math.log(4 / 3) + 0.5 * math.log(2 / 3) + 0.5 * math.log(2)) / 2
    assert inception_score(probabilities, num_splits=1) == (pytest.approx(math.exp(kl), rel=1e-12), 0.0)
    # Two splits of one row each: p(y) = p(y|x), so each split scores 1.
    assert inception_score(probabilities, num_splits=2)[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([[0.5, 0.6], [0.5, 0.5]], r"Received: 1 bad rows, the first is probabilities\[0\]"),
        ([[1.5, -0.5], [0.5, 0.5]], "pass softmax outputs, not logits"),
        ([[np.nan, 1.0], [0.5, 0.5]], "finite, non-negative and summing to 1"),
    ],
)
def test_inception_score_rejects_rows_that_are_not_probabilities(rows, message):
    with pytest.raises(ValueError, match=message):
        inception_score(np.array(rows), num_splits=1)


def test_inception_score_argument_errors():
    with pytest.raises(ValueError, match=r"Received: num_splits=10 with 5 samples"):
        inception_score(np.full((5, 2), 0.5))
    with pytest.raises(ValueError, match=r"Received: probabilities.shape=\(4,\)"):
        inception_score(np.full(4, 0.25), num_splits=1)
    with pytest.raises(ValueError, match="Received: num_splits=0"):
        inception_score(np.full((5, 2), 0.5), num_splits=0)


# Precision, recall, density and coverage.


def test_precision_recall_density_coverage_known_answer():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[0.5], [10.0]])
    # k = 1: every real ball has radius 1; both fake balls have radius 9.5.
    assert precision_recall(real, fake, k=1) == {"precision": 0.5, "recall": 1.0}
    # 0.5 is in the balls of 0 and 1, 10 in none: density 2 / (1 * 2); only 0 and 1 are covered.
    assert density_coverage(real, fake, k=1) == {"density": 1.0, "coverage": 0.5}
    # k = 2 excludes the point itself: the radius of 0 is 2 (reaching 2), not 1.
    assert density_coverage(real, np.array([[1.8]]), k=2) == {"density": 2.0, "coverage": 1.0}


def test_precision_recall_of_a_set_with_itself_and_of_far_sets():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(300, 5))
    assert precision_recall(x, x) == {"precision": 1.0, "recall": 1.0}
    assert density_coverage(x, x)["coverage"] == 1.0
    assert precision_recall(x, x + 100.0) == {"precision": 0.0, "recall": 0.0}
    assert density_coverage(x, x + 100.0) == {"density": 0.0, "coverage": 0.0}


def test_density_and_coverage_are_near_one_for_one_distribution():
    rng = np.random.default_rng(13)
    real, fake = rng.normal(size=(1000, 8)), rng.normal(size=(1000, 8))
    result = density_coverage(real, fake)
    # Naeem et al.: E[density] = 1 and E[coverage] = 1 - 2^-k ~ 0.97 for k = 5, M = N.
    assert 0.85 < result["density"] < 1.15
    assert 0.9 < result["coverage"] <= 1.0
    # A generator that covers only half the real distribution (the real balls near the
    # cut are covered too): diversity drops, fidelity does not.
    half = fake[fake[:, 0] > 0]
    result = density_coverage(real, half)
    assert 0.5 < result["coverage"] < 0.85 and 0.85 < result["density"] < 1.15
    full, halved = precision_recall(real, fake), precision_recall(real, half)
    assert halved["recall"] < full["recall"] - 0.15
    assert abs(halved["precision"] - full["precision"]) < 0.05


def test_blocked_distances_give_the_same_results(monkeypatch):
    rng = np.random.default_rng(14)
    real, fake = rng.normal(size=(150, 3)), rng.normal(loc=0.3, size=(130, 3))
    expected = (precision_recall(real, fake), density_coverage(real, fake))
    monkeypatch.setattr(pr_module, "_MAX_BLOCK_ELEMENTS", 7 * 150)  # blocks of 7 rows or so
    assert (precision_recall(real, fake), density_coverage(real, fake)) == expected
    # float32 and tensor inputs give the same as float64.
    assert precision_recall(real.astype("float32"), tf.constant(fake)) == precision_recall(
        real.astype("float32").astype("float64"), fake
    )


def test_precision_recall_errors():
    rng = np.random.default_rng(15)
    real, fake = rng.normal(size=(20, 4)), rng.normal(size=(10, 4))
    with pytest.raises(ValueError, match=r"Received: real_features.shape=\(20, 4\) and fake_features.shape=\(10, 5\)"):
        precision_recall(real, rng.normal(size=(10, 5)))
    with pytest.raises(ValueError, match=r"Received: real_features.shape=\(20, 4\) and fake_features.shape=\(10, 5\)"):
        density_coverage(real, rng.normal(size=(10, 5)))
    with pytest.raises(ValueError, match="Received: k=10 with 10 fake samples"):
        precision_recall(real, fake, k=10)
    assert density_coverage(real, fake, k=10)["coverage"] >= 0  # fake radii are not needed
    with pytest.raises(ValueError, match="Received: k=20 with 20 real samples"):
        density_coverage(real, fake, k=20)
    with pytest.raises(ValueError, match="Received: k=0"):
        precision_recall(real, fake, k=0)
    with pytest.raises(ValueError, match="fake_features` must be finite"):
        precision_recall(real, np.full((10, 4), np.nan))


# Streaming helpers.


def _flatten(images):
    return tf.reshape(images, (tf.shape(images)[0], -1)) * 2.0


def test_features_and_moments_from_batches_equal_the_one_shot_results():
    rng = np.random.default_rng(16)
    images = rng.normal(size=(23, 2, 3)).astype("float32")
    expected = images.reshape(23, -1) * 2.0
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(5)
    features = features_from_batches(_flatten, dataset)
    assert features.shape == (23, 6) and features.dtype == np.float32
    np.testing.assert_allclose(features, expected, rtol=1e-6)

    moments = moments_from_batches(_flatten, (images[i : i + 4] for i in range(0, 23, 4)))
    assert isinstance(moments, FeatureMoments) and moments.count == 23
    np.testing.assert_allclose(moments.mean, expected.astype("float64").mean(axis=0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(moments.covariance, np.cov(expected.astype("float64"), rowvar=False), rtol=1e-6, atol=1e-6)


def test_num_samples_stops_without_reading_another_batch():
    reads = []

    def endless():
        i = 0
        while True:
            reads.append(i)
            yield np.full((4, 2), float(i))
            i += 1

    features = features_from_batches(lambda x: x, endless(), num_samples=10)
    assert features.shape == (10, 2) and reads == [0, 1, 2]
    assert moments_from_batches(lambda x: x, endless(), num_samples=8).count == 8
    with pytest.raises(ValueError, match="ran out after 6 samples.*Received: num_samples=7"):
        features_from_batches(lambda x: x, [np.ones((3, 2)), np.ones((3, 2))], num_samples=7)


def test_generated_batches():
    calls = []

    def generate(batch_index, n):
        calls.append((batch_index, n))
        return np.full((n, 3), batch_index, dtype="float32")

    batches = generated_batches(generate, 10, 4)
    assert calls == []  # lazy
    features = features_from_batches(lambda x: x, batches)
    assert calls == [(0, 4), (1, 4), (2, 2)]
    np.testing.assert_array_equal(features[:, 0], [0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
    # Tensors are fine too.
    tensors = generated_batches(lambda i, n: tf.zeros((n, 2)), 3, 2)
    assert moments_from_batches(lambda x: x, tensors).count == 3


def test_streaming_errors():
    with pytest.raises(ValueError, match="Received: num_samples=0"):
        generated_batches(lambda i, n: np.zeros((n, 1)), 0, 4)
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        generated_batches(lambda i, n: np.zeros((n, 1)), 4, 0)
    with pytest.raises(ValueError, match="`generate_fn` must be callable"):
        generated_batches(None, 4, 2)
    with pytest.raises(ValueError, match=r"must return 2 images .* Received: shape \(3, 1\)"):
        list(generated_batches(lambda i, n: np.zeros((3, 1)), 4, 2))
    with pytest.raises(ValueError, match=r"Received: features of shape \(2, 1, 3\) for batch 0"):
        features_from_batches(lambda x: x, [np.zeros((2, 1, 3))])
    with pytest.raises(ValueError, match="Received: 3 features for the first batch and 4 for batch 1"):
        moments_from_batches(lambda x: x, [np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="yielded no samples"):
        features_from_batches(lambda x: x, [])
    with pytest.raises(ValueError, match="`extract_fn` must be callable"):
        features_from_batches("inception", [np.zeros((2, 3))])
